//! The subcommands other than `test`: validate, diff, explain, compile, inspect and keygen.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use ironbucket_policy::diff::{Change, diff_policies};
use ironbucket_policy::input::{ContextInput, PrincipalSpec};
use ironbucket_policy::reference::{self, PolicyTrace};
use ironbucket_policy::{
    Action, Compilation, Decision, DenyReason, Diagnostic, Provenance, Request, Severity,
    SigningKey, compile as compile_sources, read_table_file, write_table_file,
};

use crate::sources::{read_policy_dir, read_principals, read_small_file, with_display_paths};
use crate::{DiffFormat, ExitCode, Format};

/// Reads and compiles a policy directory, with paths shown relative to the current directory.
fn compile_dir(dir: &Path) -> Result<Compilation> {
    let sources = read_policy_dir(dir)?;
    Ok(compile_sources(&with_display_paths(dir, &sources)))
}

/// Compiles a directory that must be valid, printing its errors otherwise.
pub fn compile_valid_dir(dir: &Path) -> Result<Compilation> {
    let compilation = compile_dir(dir)?;
    if compilation.has_errors() {
        for diagnostic in compilation.diagnostics.iter().filter(|d| d.is_error()) {
            eprintln!("{diagnostic}");
        }
        bail!(
            "the policies in {} have errors; run ironbucket-policy validate {}",
            dir.display(),
            dir.display()
        );
    }
    Ok(compilation)
}

pub fn validate(dir: &Path, format: Format, allow_warnings: bool) -> Result<ExitCode> {
    let compilation = compile_dir(dir)?;
    let count = |severity| {
        compilation
            .diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.severity == severity)
            .count()
    };
    let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
    let mut out = std::io::stdout().lock();
    match format {
        Format::Text => {
            for diagnostic in &compilation.diagnostics {
                writeln!(out, "{diagnostic}")?;
            }
            let policies: usize = compilation
                .documents
                .iter()
                .map(|document| document.policies.len())
                .sum();
            writeln!(
                out,
                "{errors} errors, {warnings} warnings in {} files ({policies} valid policies)",
                compilation.documents.len()
            )?;
        }
        Format::Json => {
            let report = serde_json::json!({
                "errors": errors,
                "warnings": warnings,
                "diagnostics": compilation
                    .diagnostics
                    .iter()
                    .map(diagnostic_json)
                    .collect::<Vec<_>>(),
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
        }
        Format::Github => {
            for diagnostic in &compilation.diagnostics {
                writeln!(out, "{}", github_annotation(diagnostic))?;
            }
        }
    }
    Ok(if errors > 0 {
        ExitCode::Error
    } else if warnings > 0 && !allow_warnings {
        ExitCode::Findings
    } else {
        ExitCode::Clean
    })
}

fn diagnostic_json(diagnostic: &Diagnostic) -> serde_json::Value {
    serde_json::json!({
        "severity": diagnostic.severity.as_str(),
        "file": diagnostic.file,
        "line": diagnostic.line,
        "column": diagnostic.column,
        "message": diagnostic.message,
    })
}

/// Formats a GitHub Actions workflow command, escaping as the runner expects: `%`, CR and LF
/// everywhere, and also `:` and `,` inside properties.
fn github_annotation(diagnostic: &Diagnostic) -> String {
    let escape_data = |text: &str| {
        text.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let escape_property = |text: &str| escape_data(text).replace(':', "%3A").replace(',', "%2C");
    let command = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    };
    format!(
        "::{command} file={},line={},col={}::{}",
        escape_property(&diagnostic.file),
        diagnostic.line,
        diagnostic.column,
        escape_data(&diagnostic.message)
    )
}

pub fn diff(
    old: &Path,
    new: &Path,
    audit_log: Option<&Path>,
    principals: Option<&Path>,
    format: DiffFormat,
) -> Result<ExitCode> {
    let before = compile_valid_dir(old)?;
    let after = compile_valid_dir(new)?;
    let changes = diff_policies(&before.documents, &after.documents);

    let replay = match audit_log {
        Some(path) => {
            let principals = principals
                .map(read_principals)
                .transpose()?
                .unwrap_or_default();
            let old_table = before
                .table
                .as_ref()
                .expect("a valid compilation has a table");
            let new_table = after
                .table
                .as_ref()
                .expect("a valid compilation has a table");
            Some(crate::audit::replay(
                path,
                &principals,
                old_table,
                new_table,
            )?)
        }
        None => None,
    };

    let mut out = std::io::stdout().lock();
    match format {
        DiffFormat::Text => {
            print_changes(&mut out, &changes)?;
            if let Some(replay) = &replay {
                replay.print(&mut out)?;
            }
        }
        DiffFormat::Json => {
            let report = serde_json::json!({
                "changes": changes.iter().map(change_json).collect::<Vec<_>>(),
                "audit_replay": replay.as_ref().map(crate::audit::Replay::to_json),
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
        }
    }
    let flipped = replay
        .as_ref()
        .is_some_and(|replay| !replay.flips.is_empty());
    Ok(if changes.is_empty() && !flipped {
        ExitCode::Clean
    } else {
        ExitCode::Findings
    })
}

fn print_changes(out: &mut impl Write, changes: &[Change]) -> Result<()> {
    if changes.is_empty() {
        writeln!(out, "no decision changes")?;
        return Ok(());
    }
    let (widened, narrowed): (Vec<&Change>, Vec<&Change>) =
        changes.iter().partition(|change| change.widens());
    if !widened.is_empty() {
        writeln!(out, "newly allowed:")?;
        for change in &widened {
            writeln!(out, "  + {change}")?;
        }
    }
    if !narrowed.is_empty() {
        writeln!(out, "newly denied:")?;
        for change in &narrowed {
            writeln!(out, "  - {change}")?;
        }
    }
    writeln!(
        out,
        "{} newly allowed, {} newly denied",
        widened.len(),
        narrowed.len()
    )?;
    Ok(())
}

fn change_json(change: &Change) -> serde_json::Value {
    serde_json::json!({
        "principal_type": change.principal.principal_type.as_str(),
        "principal": change.principal.value,
        "actions": change.actions.iter().map(|action| action.name()).collect::<Vec<_>>(),
        "resource_pattern": change.resource_pattern,
        "sample": change.sample,
        "before": change.before.as_str(),
        "after": change.after.as_str(),
        "widens": change.widens(),
        "summary": change.to_string(),
    })
}

/// The arguments of `explain`.
pub struct ExplainArgs<'a> {
    pub dir: &'a Path,
    pub principal: &'a str,
    pub action: &'a str,
    pub resource: &'a str,
    pub context: &'a [String],
    pub principals: Option<&'a Path>,
    pub all: bool,
}

/// Reads a principal given inline as a YAML flow mapping, or by name from a principal file.
pub fn principal_from_argument(
    argument: &str,
    principals: Option<&Path>,
) -> Result<ironbucket_policy::Principal> {
    let spec: PrincipalSpec = if argument.trim_start().starts_with('{') {
        serde_norway::from_str(argument).with_context(|| {
            format!("invalid --principal {argument}: expected a mapping such as {{user_id: alice, roles: [dev]}}")
        })?
    } else {
        let Some(path) = principals else {
            bail!(
                "--principal {argument} names a principal, but no --principals file is given; \
                 pass one, or write the principal inline as {{user_id: alice, roles: [dev]}}"
            );
        };
        read_principals(path)?
            .remove(argument)
            .with_context(|| format!("principal {argument} is not in {}", path.display()))?
    };
    Ok(spec.to_principal()?)
}

/// Parses `KEY=VALUE` context arguments.
pub fn context_from_arguments(arguments: &[String]) -> Result<ContextInput> {
    let mut input = ContextInput::default();
    for argument in arguments {
        let Some((key, value)) = argument.split_once('=') else {
            bail!("invalid --context {argument}: write KEY=VALUE, such as aws:SourceIp=10.0.0.1");
        };
        input.set(key, value)?;
    }
    Ok(input)
}

pub fn explain(args: &ExplainArgs<'_>) -> Result<ExitCode> {
    let compilation = compile_valid_dir(args.dir)?;
    let principal = principal_from_argument(args.principal, args.principals)?;
    let action = Action::from_name(args.action).with_context(|| {
        format!(
            "unknown action {}; use an S3 action such as s3:GetObject",
            args.action
        )
    })?;
    let input = context_from_arguments(args.context)?;
    let headers = input.header_pairs();
    let context = input.context(&headers);
    let request = Request {
        principal: &principal,
        action,
        resource: args.resource,
        context: &context,
    };
    let table = compilation
        .table
        .as_ref()
        .expect("a valid compilation has a table");
    let decision = table.evaluate(&request);
    let traces = reference::explain(&compilation.documents, &request);

    let mut out = std::io::stdout().lock();
    writeln!(out, "decision: {}", describe_decision(&decision))?;
    writeln!(out, "matched: {}", id_list(&decision.matched_policies))?;
    if !decision.dry_run_matched.is_empty() {
        writeln!(
            out,
            "dry-run matched: {}",
            id_list(&decision.dry_run_matched)
        )?;
    }
    writeln!(out)?;
    let mut hidden = 0;
    for trace in &traces {
        let relevant = trace.principal && trace.action;
        if !(args.all || relevant) {
            hidden += 1;
            continue;
        }
        print_trace(&mut out, trace)?;
    }
    if hidden > 0 {
        writeln!(
            out,
            "{hidden} other policies name another principal or action; --all lists them"
        )?;
    }
    Ok(ExitCode::Clean)
}

fn describe_decision(decision: &Decision) -> String {
    match &decision.reason {
        DenyReason::Allowed => "Allow".to_owned(),
        DenyReason::NoMatchingAllow => "Deny (no enforced Allow policy matches)".to_owned(),
        DenyReason::ExplicitDeny { policy_id } => {
            format!("Deny (explicitly denied by policy {policy_id})")
        }
    }
}

fn id_list(ids: &[std::sync::Arc<str>]) -> String {
    if ids.is_empty() {
        return "none".to_owned();
    }
    ids.iter().map(|id| &**id).collect::<Vec<_>>().join(", ")
}

fn print_trace(out: &mut impl Write, trace: &PolicyTrace) -> Result<()> {
    let mark = |matched: bool| if matched { "matches" } else { "does not match" };
    let mode = match trace.mode {
        ironbucket_policy::Mode::Enforce => "",
        ironbucket_policy::Mode::DryRun => ", dry-run",
    };
    writeln!(
        out,
        "{} ({}{mode}, {}:{}): {}",
        trace.id,
        trace.effect.as_str(),
        trace.file,
        trace.position,
        if trace.matched() {
            "MATCHES"
        } else {
            "no match"
        }
    )?;
    writeln!(out, "  principal {}", mark(trace.principal))?;
    writeln!(out, "  action {}", mark(trace.action))?;
    writeln!(out, "  resource {}", mark(trace.resource))?;
    for condition in &trace.conditions {
        writeln!(
            out,
            "  condition {} (line {}) {}",
            condition.summary,
            condition.position.line,
            if condition.holds {
                "holds"
            } else {
                "does not hold"
            }
        )?;
    }
    Ok(())
}

/// Reads the Git commit of the repository that contains `dir`, and whether files under `dir`
/// have uncommitted changes. Returns empty provenance outside a repository or without git.
fn git_provenance(dir: &Path) -> Provenance {
    let run = |arguments: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(arguments)
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    let Some(commit) = run(&["rev-parse", "--verify", "HEAD"]) else {
        return Provenance::default();
    };
    let dirty = run(&["status", "--porcelain", "--", "."]).map(|status| !status.is_empty());
    Provenance {
        git_commit: Some(commit),
        git_dirty: dirty,
    }
}

pub fn compile(dir: &Path, output: &Path, sign: Option<&Path>) -> Result<ExitCode> {
    let sources = read_policy_dir(dir)?;
    let display = compile_sources(&with_display_paths(dir, &sources));
    for diagnostic in &display.diagnostics {
        eprintln!("{diagnostic}");
    }
    if display.has_errors() {
        return Ok(ExitCode::Error);
    }
    let key = match sign {
        Some(path) => {
            let bytes = read_key_file(path, "signing key")?;
            Some(SigningKey::from_pkcs8(&bytes).with_context(|| path.display().to_string())?)
        }
        None => None,
    };
    let provenance = git_provenance(dir);
    let file = write_table_file(&sources, &provenance, key.as_ref())?;
    write_atomically(output, &file)?;

    let table = display.table.expect("no errors, so a table");
    println!(
        "compiled {} policies from {} files into {} ({} bytes, {}); git commit {}{}",
        table.policy_count(),
        sources.len(),
        output.display(),
        file.len(),
        if key.is_some() { "signed" } else { "unsigned" },
        provenance.git_commit.as_deref().unwrap_or("unknown"),
        if provenance.git_dirty == Some(true) {
            " with uncommitted changes"
        } else {
            ""
        }
    );
    Ok(ExitCode::Clean)
}

/// Writes through a temporary file in the same directory and renames it into place, so that
/// a gateway watching `path` never reads half a table.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let directory = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty());
    let directory = directory.unwrap_or_else(|| Path::new("."));
    let file_name = path
        .file_name()
        .with_context(|| format!("output path {} has no file name", path.display()))?;
    let temporary = directory.join(format!(".{}.tmp", file_name.to_string_lossy()));
    fs::write(&temporary, bytes)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    fs::rename(&temporary, path).with_context(|| format!("cannot write {}", path.display()))
}

pub fn inspect(file: &Path, public_key: Option<&Path>) -> Result<ExitCode> {
    let size = fs::metadata(file)
        .with_context(|| format!("cannot read table file {}", file.display()))?
        .len();
    if size > ironbucket_policy::MAX_TABLE_FILE_BYTES as u64 {
        bail!(
            "table file {} is {size} bytes, more than the maximum of {}",
            file.display(),
            ironbucket_policy::MAX_TABLE_FILE_BYTES
        );
    }
    let bytes = fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let key = public_key
        .map(|path| read_key_file(path, "public key"))
        .transpose()?;

    let loaded = read_table_file(&bytes, key.as_deref())
        .with_context(|| format!("cannot load table file {}", file.display()))?;

    let metadata = &loaded.metadata;
    println!("format version: {}", metadata.format_version);
    println!("source digest: {}", metadata.source_digest);
    println!(
        "git commit: {}{}",
        metadata.git_commit.as_deref().unwrap_or("unknown"),
        if metadata.git_dirty == Some(true) {
            " (with uncommitted changes)"
        } else {
            ""
        }
    );
    println!("compiler version: {}", metadata.compiler_version);
    println!(
        "signature: {}",
        match (metadata.signed, metadata.verified) {
            (true, true) => "ed25519, verified",
            (true, false) => "ed25519, not checked (no --public-key)",
            (false, _) => "none",
        }
    );
    println!(
        "policies: {} from {} files",
        loaded.table.policy_count(),
        loaded.sources.len()
    );
    Ok(ExitCode::Clean)
}

/// Maximum size of a key file. Ed25519 keys take 32 bytes raw and under 100 bytes as PKCS#8,
/// so anything larger is the wrong file.
const MAX_KEY_FILE_BYTES: u64 = 4096;

fn read_key_file(path: &Path, description: &str) -> Result<Vec<u8>> {
    let size = fs::metadata(path)
        .with_context(|| format!("cannot read {description} {}", path.display()))?
        .len();
    if size > MAX_KEY_FILE_BYTES {
        bail!(
            "{description} {} is {size} bytes, more than the maximum of {MAX_KEY_FILE_BYTES} \
             for a key file; pass the .pk8 or .pub file that keygen wrote",
            path.display()
        );
    }
    fs::read(path).with_context(|| format!("cannot read {description} {}", path.display()))
}

pub fn keygen(out: &Path) -> Result<ExitCode> {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};

    let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .map_err(|_| anyhow::anyhow!("Ed25519 key generation failed in the crypto library"))?;
    let pair = Ed25519KeyPair::from_pkcs8(document.as_ref())
        .map_err(|_| anyhow::anyhow!("the generated Ed25519 key does not parse"))?;
    let private_path = out.with_extension("pk8");
    let public_path = out.with_extension("pub");
    write_new_file(&private_path, document.as_ref(), true)?;
    write_new_file(&public_path, pair.public_key().as_ref(), false)?;
    println!(
        "wrote the private key to {} and the public key to {}; public key (hex): {}",
        private_path.display(),
        public_path.display(),
        hex::encode(pair.public_key().as_ref())
    );
    Ok(ExitCode::Clean)
}

/// Creates a file that must not exist yet; `private` makes it readable by its owner only.
fn write_new_file(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).with_context(|| {
        format!(
            "cannot create {}; keygen never overwrites a key, so remove it or choose another \
             --out",
            path.display()
        )
    })?;
    file.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Returns the text of a file checked for size, for the modules that read case files.
pub fn read_cases_text(path: &Path) -> Result<String> {
    read_small_file(path, "case file")
}
