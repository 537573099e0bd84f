//! The `self-test` command: runs the generator against a null server in a child process and
//! reports the generator's own ceiling (requests per second per core of its CPU time) and
//! how closely it keeps an open-loop schedule.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::cli::SelfTestArgs;
use crate::engine::{self, Discipline, Phase};
use crate::error::LoadgenError;
use crate::http::Connector;
use crate::report::{self, PhaseResult};
use crate::runner::{Machine, write_file};
use crate::schedule::{Arrival, KeyDistribution, Mix, OpPicker, Schedule};
use crate::sign::{Credentials, Secret};
use crate::target::Target;
use crate::workload::{PayloadSigning, Workload};

/// The JSON record of a self-test.
#[derive(Debug, serde::Serialize)]
pub struct SelfTestRecord {
    /// Machine.
    pub machine: Machine,
    /// Closed-loop phase against the null server.
    pub ceiling: PhaseResult,
    /// Successful requests per second of the closed-loop phase.
    pub ceiling_rate: f64,
    /// Requests per second per core of load-generator CPU time.
    pub requests_per_core_second: Option<f64>,
    /// Open-loop phase that measures schedule accuracy.
    pub accuracy: PhaseResult,
}

/// A child process killed when dropped.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `ironbucket-loadgen null-server` on a free loopback port and returns it with the
/// address it printed.
fn start_null_server() -> Result<(ChildGuard, String), LoadgenError> {
    let io_error = |context: &str| {
        let context = context.to_owned();
        move |source| LoadgenError::Io { context, source }
    };
    let executable = std::env::current_exe().map_err(io_error("cannot find this executable"))?;
    let mut child = Command::new(executable)
        .args(["null-server", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(io_error("cannot start the null server"))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let guard = ChildGuard(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(io_error("cannot read the null server's address"))?;
    let address = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| LoadgenError::Io {
            context: format!("unexpected null server output {line:?}"),
            source: std::io::Error::other("no address"),
        })?
        .to_owned();
    Ok((guard, address))
}

/// Runs the self-test and returns the exit code.
pub fn run(args: &SelfTestArgs) -> Result<u8, LoadgenError> {
    if args.connections == 0 || args.connections > engine::MAX_CONNECTIONS {
        return Err(LoadgenError::invalid(
            "--connections",
            "must be between 1 and 1024",
        ));
    }
    let (server, address) = start_null_server()?;
    let mut target = Target::parse(&format!("name=null,url=http://{address}"), 1)?;
    target.pid = Some(server.0.id());
    target.resolve(false)?;
    let timeout = Duration::from_secs(5);
    let connector = Connector::new(target.addresses.clone(), None, timeout);
    // Signing is part of the generator's work on every real target, so the self-test signs
    // too, with a made-up key that the null server never checks.
    let workload = Workload {
        bucket: "selftest".to_owned(),
        prefix: "obj/".to_owned(),
        object_size: 0,
        keys: 100,
        delete_keys: 0,
        part_size: 1,
        parts: 1,
        list_max_keys: 100,
        payload: PayloadSigning::Sha256,
        credentials: Credentials::SigV4 {
            access_key_id: "AKIDLOADGENSELFTEST0".to_owned(),
            secret_access_key: Secret::new("self-test-secret-not-checked".to_owned()),
            region: "us-east-1".to_owned(),
        },
    };
    let mix = Mix::parse("get")?;
    let ceiling = engine::run_phase(&Phase {
        target: &target,
        connector: &connector,
        workload: &workload,
        discipline: Discipline::Closed {
            duration: args.duration,
            mix: &mix,
            distribution: KeyDistribution::Uniform,
            seed: 1,
        },
        connections: args.connections,
        timeout,
        warmup: Duration::ZERO,
        label: "self-test ceiling".to_owned(),
        progress: true,
        interval_log: None,
        spin_margin: args.spin_margin,
    })?;
    let ceiling_result = report::phase_result("null", 1, None, &ceiling);
    report::print_phase(&ceiling_result, 1);
    let ceiling_rate = ceiling_result.all.rate;
    let requests_per_core_second = ceiling
        .loadgen_cpu_s
        .filter(|cpu_s| *cpu_s > 0.0)
        .map(|cpu_s| ceiling.recorder.finished as f64 / cpu_s);

    let rate = args
        .rate
        .unwrap_or((ceiling_rate / 2.0).clamp(100.0, 10_000.0));
    let mut picker = OpPicker::new(&mix, workload.keys, 1, KeyDistribution::Uniform, 1)?;
    let schedule = Schedule::build(
        rate,
        args.duration.as_secs_f64(),
        Arrival::Poisson,
        &mut picker,
        1,
    )?;
    let accuracy = engine::run_phase(&Phase {
        target: &target,
        connector: &connector,
        workload: &workload,
        discipline: Discipline::Open(&schedule),
        connections: args.connections.max(4),
        timeout,
        warmup: Duration::ZERO,
        label: "self-test accuracy".to_owned(),
        progress: true,
        interval_log: None,
        spin_margin: args.spin_margin,
    })?;
    let accuracy_result = report::phase_result("null", 1, Some(rate), &accuracy);
    report::print_phase(&accuracy_result, 1);
    drop(server);

    println!("\nself-test summary:");
    println!(
        "  closed-loop ceiling: {ceiling_rate:.0} requests/s over {} connections",
        args.connections
    );
    if let Some(per_core) = requests_per_core_second {
        println!("  generator ceiling: {per_core:.0} requests/s per core of its own CPU time");
    }
    if let Some(cpu) = ceiling_result.loadgen_cpu_us_per_request {
        println!(
            "  generator CPU: {cpu:.1} us per request (null server: {:.1} us)",
            ceiling_result.target_cpu_us_per_request.unwrap_or(f64::NAN)
        );
    }
    println!(
        "  schedule accuracy at {rate:.0}/s (Poisson): send lag p50 {} p99 {} max {}, late {:.3} %",
        report::format_us(accuracy_result.send_lag.p50_us),
        report::format_us(accuracy_result.send_lag.p99_us),
        report::format_us(accuracy_result.send_lag.max_us),
        accuracy_result.late_fraction * 100.0
    );
    let valid = accuracy_result.valid;
    let record = SelfTestRecord {
        machine: Machine::current(),
        ceiling: ceiling_result,
        ceiling_rate,
        requests_per_core_second,
        accuracy: accuracy_result,
    };
    if let Some(path) = &args.json {
        write_file(
            path,
            &serde_json::to_vec_pretty(&record).expect("the record serializes"),
        )?;
    }
    Ok(if valid {
        0
    } else {
        crate::error::EXIT_INVALID_RUN
    })
}
