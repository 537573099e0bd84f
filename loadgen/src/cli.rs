//! Command-line interface.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::schedule::Arrival;
use crate::workload::PayloadSigning;

/// Open-loop S3 load generator: measures response time from each request's intended send
/// time, so queueing delay is never left out of the percentiles.
#[derive(Debug, Parser)]
#[command(name = "ironbucket-loadgen", version)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load one or more targets and report per-operation latency.
    Run(RunArgs),
    /// Find saturation in closed loop, then measure latency at fractions of it and plot them.
    Sweep(SweepArgs),
    /// Serve a fixed small S3-looking response to every request, as a null target.
    NullServer(NullServerArgs),
    /// Measure the generator's own ceiling and accuracy against a null server it starts.
    SelfTest(SelfTestArgs),
    /// Write the workload's objects as files under a directory, for a static file server.
    WriteFiles(WriteFilesArgs),
}

/// The workload: operations, objects and credentials.
#[derive(Debug, Clone, Args)]
pub struct WorkloadArgs {
    /// Operation mix as OP=WEIGHT pairs; operations: get, put, head, list, delete,
    /// multipart.
    #[arg(long, default_value = "get=100")]
    pub mix: String,
    /// Object size for GET, HEAD and PUT (such as 4KiB, 64MiB).
    #[arg(long, default_value = "4KiB", value_parser = crate::units::parse_size)]
    pub size: u64,
    /// Number of prepared objects that GET, HEAD and PUT address.
    #[arg(long, default_value_t = 100)]
    pub keys: u32,
    /// Key popularity: uniform, zipf (exponent 1) or zipf:EXPONENT.
    #[arg(long, default_value = "uniform")]
    pub key_dist: String,
    /// Bucket name.
    #[arg(long, default_value = "loadgen")]
    pub bucket: String,
    /// Prefix of every key (letters, digits, and - _ . /).
    #[arg(long, default_value = "obj/")]
    pub prefix: String,
    /// Part size of a multipart upload.
    #[arg(long, default_value = "5MiB", value_parser = crate::units::parse_size)]
    pub part_size: u64,
    /// Number of parts of a multipart upload.
    #[arg(long, default_value_t = 2)]
    pub parts: u32,
    /// `max-keys` of a LIST request.
    #[arg(long, default_value_t = 100)]
    pub list_max_keys: u32,
    /// Payload hash declared for uploads.
    #[arg(long, value_enum, default_value_t = PayloadSigning::Sha256)]
    pub payload: PayloadSigning,
    /// Access key id for SigV4.
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    pub access_key: Option<String>,
    /// Secret access key for SigV4.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Region of the SigV4 credential scope.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Send `Authorization: Bearer TOKEN` instead of signing with SigV4.
    #[arg(long, env = "IRONBUCKET_LOADGEN_BEARER", hide_env_values = true)]
    pub bearer: Option<String>,
    /// Send requests without any authentication.
    #[arg(long)]
    pub anonymous: bool,
    /// Seed of the schedule and of the operation and key choices.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Targets and connections.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// A target as name=NAME,url=URL[,pid=PID][,prepare=no], or a bare URL. Repeat for
    /// several targets, which are run in turn (A B A B ...).
    #[arg(long = "target", required = true)]
    pub targets: Vec<String>,
    /// Process id of the (single) target, whose CPU time per request and peak memory are
    /// reported; the same as pid= in --target.
    #[arg(long)]
    pub target_pid: Option<u32>,
    /// Allow targets outside 127.0.0.0/8 and ::1.
    #[arg(long)]
    pub allow_remote: bool,
    /// PEM file of CA certificates trusted for HTTPS targets.
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// Connections (one thread each) per target.
    #[arg(long, default_value_t = 16)]
    pub connections: usize,
    /// Per-request timeout; failed requests are recorded at this value.
    #[arg(long, default_value = "5s", value_parser = crate::units::parse_duration)]
    pub timeout: std::time::Duration,
    /// Skip the prepare phase (bucket and object creation) on every target.
    #[arg(long)]
    pub no_prepare: bool,
    /// In open loop, wake this long before each intended send time and spin the rest,
    /// because sleeps overshoot by the timer wake-up latency; 0s only sleeps.
    #[arg(long, default_value = "50us", value_parser = crate::units::parse_duration)]
    pub spin_margin: std::time::Duration,
}

/// Reports and gates.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// Write the full results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write one-second response-time histograms in the HdrHistogram interval log format.
    #[arg(long)]
    pub histogram_log: Option<PathBuf>,
    /// A gate such as get.p99<2ms or all.error_rate<1%, optionally prefixed by TARGET:.
    /// Stats: p50 p90 p99 p999 max error_rate rate. A failed gate exits with code 1.
    #[arg(long = "assert")]
    pub asserts: Vec<String>,
    /// Exit with code 0 even when more than 0.1 % of requests were sent over 100 µs late.
    #[arg(long)]
    pub allow_late: bool,
    /// Do not print the progress line on stderr.
    #[arg(long)]
    pub quiet: bool,
}

/// Options of `run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Targets and connections.
    #[command(flatten)]
    pub targets: TargetArgs,
    /// Workload.
    #[command(flatten)]
    pub workload: WorkloadArgs,
    /// Reports.
    #[command(flatten)]
    pub report: ReportArgs,
    /// Requests per second in open loop; without it the run is closed loop, each connection
    /// sending as fast as responses return.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Spacing of intended send times in open loop.
    #[arg(long, value_enum, default_value_t = Arrival::Constant)]
    pub arrival: Arrival,
    /// Measured length of each phase.
    #[arg(long, default_value = "10s", value_parser = crate::units::parse_duration)]
    pub duration: std::time::Duration,
    /// Extra time at the start of each phase whose requests are sent but not recorded.
    #[arg(long, default_value = "0s", value_parser = crate::units::parse_duration)]
    pub warmup: std::time::Duration,
    /// How many times every target is run.
    #[arg(long, default_value_t = 1)]
    pub repetitions: u32,
}

/// Options of `sweep`.
#[derive(Debug, Clone, Args)]
pub struct SweepArgs {
    /// Targets and connections.
    #[command(flatten)]
    pub targets: TargetArgs,
    /// Workload.
    #[command(flatten)]
    pub workload: WorkloadArgs,
    /// Reports; gates apply to the highest load level.
    #[command(flatten)]
    pub report: ReportArgs,
    /// Length of the closed-loop saturation phase.
    #[arg(long, default_value = "10s", value_parser = crate::units::parse_duration)]
    pub saturation_duration: std::time::Duration,
    /// Measured length of each open-loop level.
    #[arg(long, default_value = "10s", value_parser = crate::units::parse_duration)]
    pub duration: std::time::Duration,
    /// Warm-up of each level.
    #[arg(long, default_value = "1s", value_parser = crate::units::parse_duration)]
    pub warmup: std::time::Duration,
    /// Load levels in percent of saturation.
    #[arg(long, value_delimiter = ',', default_value = "10,25,50,75,90")]
    pub levels: Vec<f64>,
    /// Spacing of intended send times.
    #[arg(long, value_enum, default_value_t = Arrival::Poisson)]
    pub arrival: Arrival,
    /// Write the latency-versus-rate plot as SVG to this file.
    #[arg(long)]
    pub svg: Option<PathBuf>,
}

/// Options of `null-server`.
#[derive(Debug, Clone, Args)]
pub struct NullServerArgs {
    /// Address to listen on; port 0 picks a free port. Only loopback addresses are accepted.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// Sleep this long before each response, to simulate a slow server.
    #[arg(long, default_value = "0s", value_parser = crate::units::parse_duration)]
    pub delay: std::time::Duration,
}

/// Options of `self-test`.
#[derive(Debug, Clone, Args)]
pub struct SelfTestArgs {
    /// Length of the closed-loop ceiling phase and of the open-loop accuracy phase.
    #[arg(long, default_value = "5s", value_parser = crate::units::parse_duration)]
    pub duration: std::time::Duration,
    /// Connections of the ceiling phase.
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Rate of the accuracy phase; the default is half the measured ceiling, at most 10000.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// In open loop, wake this long before each intended send time and spin the rest,
    /// because sleeps overshoot by the timer wake-up latency; 0s only sleeps.
    #[arg(long, default_value = "50us", value_parser = crate::units::parse_duration)]
    pub spin_margin: std::time::Duration,
}

/// Options of `write-files`.
#[derive(Debug, Clone, Args)]
pub struct WriteFilesArgs {
    /// Directory under which BUCKET/KEY files are written.
    #[arg(long)]
    pub root: PathBuf,
    /// Workload whose objects are written.
    #[command(flatten)]
    pub workload: WorkloadArgs,
}
