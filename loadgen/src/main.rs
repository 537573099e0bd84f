//! Entry point of `ironbucket-loadgen`; see the library documentation for what it does.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = ironbucket_loadgen::cli::Cli::parse();
    match ironbucket_loadgen::run(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
