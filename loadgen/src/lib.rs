//! `ironbucket-loadgen`: an open-loop S3 load generator that measures response time from each
//! request's intended send time, as wrk2 does, so queueing delay (coordinated omission) is
//! never left out of the percentiles.
//!
//! The `run` command loads one or more targets with a fixed schedule (constant or Poisson)
//! or in closed loop, checks every response (status, length, and for GET the body against
//! content derived from the key), and reports HdrHistogram percentiles per operation.
//! `sweep` measures latency against load, `null-server` and `self-test` measure the tool
//! itself, and `write-files` lays out the same objects for a static file server.

#![forbid(unsafe_code)]

pub mod cli;
pub mod content;
pub mod engine;
pub mod error;
pub mod files;
pub mod gate;
pub mod http;
pub mod null_server;
pub mod procstat;
pub mod report;
pub mod runner;
pub mod schedule;
pub mod selftest;
pub mod settings;
pub mod sign;
pub mod stats;
pub mod sweep;
pub mod target;
pub mod units;
pub mod workload;

use std::io::Write as _;

use cli::{Cli, Command};
use error::LoadgenError;

/// Runs a parsed command line and returns the process exit code.
pub fn run(cli: &Cli) -> Result<u8, LoadgenError> {
    match &cli.command {
        Command::Run(args) => runner::run(args),
        Command::Sweep(args) => sweep::run(args),
        Command::SelfTest(args) => selftest::run(args),
        Command::WriteFiles(args) => files::run(args),
        Command::NullServer(args) => {
            let listener = null_server::bind(&args.listen)?;
            let address = listener.local_addr().map_err(|source| LoadgenError::Io {
                context: "cannot read the listening address".to_owned(),
                source,
            })?;
            // The first line of output is the address, which self-test and scripts read.
            println!("listening on {address}");
            let _ = std::io::stdout().flush();
            null_server::serve(listener, args.delay)?;
            Ok(0)
        }
    }
}
