//! `ironbucket-policy`: the command-line tool that security teams run on a policy repository,
//! locally and in CI: validate, test, diff, explain, compile and sign.
//!
//! The library does no I/O; this binary reads the policy files, case files, audit logs and
//! keys, and writes reports and table files. Exit codes are part of its interface (see
//! [`ExitCode`] and `docs/policies.md`).

mod audit;
mod cases;
mod commands;
mod sources;

use std::path::PathBuf;
use std::process;

use clap::{Parser, Subcommand, ValueEnum};

/// Exit codes shared by every subcommand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// Success: no problem found, every case passed, no decision changed.
    Clean = 0,
    /// Findings that are not errors: warnings, failed cases, changed decisions.
    Findings = 1,
    /// Errors: invalid policies, unreadable files, a table file that fails to load.
    Error = 2,
    /// The command line itself is wrong.
    Usage = 3,
}

#[derive(Parser)]
#[command(
    name = "ironbucket-policy",
    version,
    about = "Validate, test, diff, explain and compile IronBucket policies"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Output formats of `validate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `file:line:column: severity: message`, one per line.
    Text,
    /// One JSON document with every diagnostic and the counts.
    Json,
    /// GitHub Actions workflow commands (`::error file=...`), which become annotations.
    Github,
}

#[derive(Subcommand)]
enum Command {
    /// Check every policy file under DIR and report errors and warnings.
    Validate {
        /// Directory of YAML (.yaml, .yml) and JSON policy files, searched recursively.
        dir: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Exit 0 instead of 1 when there are warnings but no errors.
        #[arg(long)]
        allow_warnings: bool,
    },
    /// Run the cases of a YAML case file against the policies under DIR.
    Test {
        /// Directory of policy files.
        dir: PathBuf,
        /// The YAML file of cases (see docs/policies.md for its format).
        #[arg(long)]
        cases: PathBuf,
    },
    /// Show which decisions change between two policy directories.
    Diff {
        /// The policy directory before the change.
        old: PathBuf,
        /// The policy directory after the change.
        new: PathBuf,
        /// Replay the gateway's audit log (JSON lines) and list the requests whose decision
        /// would flip.
        #[arg(long)]
        audit_log: Option<PathBuf>,
        /// YAML or JSON mapping of user id to principal attributes (roles, groups, tags, ...),
        /// which audit records do not carry.
        #[arg(long)]
        principals: Option<PathBuf>,
        /// Output format for the decision changes.
        #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
        format: DiffFormat,
    },
    /// Decide one request and show, for each policy, which part matched or failed.
    Explain {
        /// Directory of policy files.
        dir: PathBuf,
        /// The principal: a flow mapping such as '{user_id: alice, roles: [dev]}', or a name
        /// from --principals.
        #[arg(long)]
        principal: String,
        /// The S3 action, such as s3:GetObject.
        #[arg(long)]
        action: String,
        /// The resource ARN, such as arn:aws:s3:::bucket/key, or * for none.
        #[arg(long)]
        resource: String,
        /// A request value as KEY=VALUE, such as aws:SourceIp=10.0.0.1; repeatable.
        #[arg(long = "context", value_name = "KEY=VALUE")]
        context: Vec<String>,
        /// YAML or JSON mapping of principal names to principal attributes.
        #[arg(long)]
        principals: Option<PathBuf>,
        /// List every policy, not only those whose principal and action match.
        #[arg(long)]
        all: bool,
    },
    /// Compile the policies under DIR into a table file, optionally signed.
    Compile {
        /// Directory of policy files.
        dir: PathBuf,
        /// The path of the table file to write.
        #[arg(short, long)]
        output: PathBuf,
        /// Ed25519 private key (PKCS#8 DER, as written by keygen) to sign the table with.
        #[arg(long)]
        sign: Option<PathBuf>,
    },
    /// Load a table file, verify it, and print its metadata.
    Inspect {
        /// The table file.
        file: PathBuf,
        /// Ed25519 public key (32 raw bytes, hex or base64) the signature must verify with.
        #[arg(long)]
        public_key: Option<PathBuf>,
    },
    /// Generate an Ed25519 key pair for signing table files.
    Keygen {
        /// Path prefix: writes PREFIX.pk8 (private, PKCS#8 DER, mode 0600) and PREFIX.pub
        /// (raw 32-byte public key). Existing files are not overwritten.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Output formats of `diff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// One sentence per change.
    Text,
    /// One JSON document.
    Json,
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() {
                ExitCode::Usage
            } else {
                ExitCode::Clean
            };
            // Printing help or the version to a closed pipe is not worth a second error.
            let _ = error.print();
            process::exit(code as i32);
        }
    };
    let result = match cli.command {
        Command::Validate {
            dir,
            format,
            allow_warnings,
        } => commands::validate(&dir, format, allow_warnings),
        Command::Test { dir, cases } => cases::run(&dir, &cases),
        Command::Diff {
            old,
            new,
            audit_log,
            principals,
            format,
        } => commands::diff(
            &old,
            &new,
            audit_log.as_deref(),
            principals.as_deref(),
            format,
        ),
        Command::Explain {
            dir,
            principal,
            action,
            resource,
            context,
            principals,
            all,
        } => commands::explain(&commands::ExplainArgs {
            dir: &dir,
            principal: &principal,
            action: &action,
            resource: &resource,
            context: &context,
            principals: principals.as_deref(),
            all,
        }),
        Command::Compile { dir, output, sign } => commands::compile(&dir, &output, sign.as_deref()),
        Command::Inspect { file, public_key } => commands::inspect(&file, public_key.as_deref()),
        Command::Keygen { out } => commands::keygen(&out),
    };
    let code = match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::Error
        }
    };
    process::exit(code as i32);
}
