//! The `ironbucket` command: `ironbucket serve --config FILE`.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ironbucket::config::Config;

#[derive(Parser)]
#[command(
    name = "ironbucket",
    version,
    about = "Identity-aware, policy-enforcing S3 gateway"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve S3 with the given configuration until SIGTERM or SIGINT.
    Serve {
        /// Path of the TOML configuration file.
        #[arg(long, short)]
        config: PathBuf,
        /// Number of core threads; overrides `server.cores` (0 or absent: one per CPU).
        #[arg(long)]
        cores: Option<usize>,
    },
    /// Load and check the configuration and policies, then exit.
    Check {
        /// Path of the TOML configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let result =
        match cli.command {
            Command::Serve { config, cores } => Config::load(&config)
                .map_err(anyhow::Error::new)
                .and_then(|config| ironbucket::server::serve(config, cores.filter(|n| *n > 0))),
            Command::Check { config } => Config::load(&config)
                .map_err(anyhow::Error::new)
                .and_then(|config| {
                    ironbucket::server::policy_source(&config).load()?;
                    println!(
                        "{}: configuration and policies are valid",
                        config_display(&config)
                    );
                    Ok(())
                }),
        };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("ironbucket: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn config_display(config: &Config) -> String {
    config.base_dir.display().to_string()
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
