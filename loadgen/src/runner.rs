//! The `run` command: prepare every target, run the phases (targets interleaved, repeated),
//! and report, compare and gate the results.

use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::cli::RunArgs;
use crate::engine::{self, Discipline, Phase};
use crate::error::{EXIT_GATE_FAILED, EXIT_INVALID_RUN, LoadgenError};
use crate::gate::Gate;
use crate::report::{self, GateResult, PhaseResult, Ratio, TargetResult, TargetTotals};
use crate::schedule::{OpPicker, Schedule};
use crate::settings;
use crate::stats;
use crate::target::Target;
use crate::workload::{Op, Workload};

/// Maximum objects created for DELETE in one run.
const MAX_DELETE_KEYS: u64 = 1_000_000;

/// The machine a run was made on.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Machine {
    /// Logical CPUs available to this process.
    pub cpus: usize,
    /// CPU model from `/proc/cpuinfo`.
    pub cpu_model: Option<String>,
    /// Kernel release.
    pub kernel: Option<String>,
}

impl Machine {
    /// Describes this machine.
    pub fn current() -> Self {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find_map(|line| line.strip_prefix("model name"))
                    .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
            });
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .ok()
            .map(|text| text.trim().to_owned());
        Self {
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            cpu_model,
            kernel,
        }
    }
}

/// The JSON record of a `run`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunRecord {
    /// Tool name and version.
    pub tool: String,
    /// Command line.
    pub command: Vec<String>,
    /// Start time in seconds since the Unix epoch.
    pub started_unix_s: u64,
    /// Machine.
    pub machine: Machine,
    /// Requests per second in open loop, `None` in closed loop.
    pub rate: Option<f64>,
    /// Arrival process in open loop.
    pub arrival: Option<crate::schedule::Arrival>,
    /// Measured seconds per phase.
    pub duration_s: f64,
    /// Warm-up seconds per phase.
    pub warmup_s: f64,
    /// Connections per target.
    pub connections: usize,
    /// Repetitions.
    pub repetitions: u32,
    /// Operation mix.
    pub mix: crate::schedule::Mix,
    /// Key distribution.
    pub key_distribution: crate::schedule::KeyDistribution,
    /// Workload.
    pub workload: Workload,
    /// Targets.
    pub targets: Vec<Target>,
    /// Results per target.
    pub results: Vec<TargetResult>,
    /// Ratios to the first target.
    pub ratios: Vec<Ratio>,
    /// Gate outcomes.
    pub gates: Vec<GateResult>,
    /// Whether every phase kept its schedule.
    pub valid: bool,
}

/// Runs the `run` command and returns the exit code.
pub fn run(args: &RunArgs) -> Result<u8, LoadgenError> {
    let gates = args
        .report
        .asserts
        .iter()
        .map(|expression| Gate::parse(expression))
        .collect::<Result<Vec<_>, _>>()?;
    if args.repetitions == 0 || args.repetitions > 1000 {
        return Err(LoadgenError::invalid(
            "--repetitions",
            "must be between 1 and 1000",
        ));
    }
    if args.duration.is_zero() {
        return Err(LoadgenError::invalid("--duration", "must be above 0"));
    }
    let mut settings = settings::workload(&args.workload)?;
    let targets = settings::targets(&args.targets)?;
    let phase_length = args.duration + args.warmup;

    let schedule = match args.rate {
        Some(rate) => {
            let slots = Schedule::slot_count(rate, phase_length.as_secs_f64())?;
            if slots == 0 {
                return Err(LoadgenError::invalid(
                    "--rate",
                    "rate times duration is less than one request",
                ));
            }
            let mut picker = OpPicker::new(
                &settings.mix,
                settings.workload.keys,
                u32::try_from(slots).unwrap_or(u32::MAX),
                settings.distribution,
                args.workload.seed,
            )?;
            let schedule = Schedule::build(
                rate,
                phase_length.as_secs_f64(),
                args.arrival,
                &mut picker,
                args.workload.seed,
            )?;
            let deletes = schedule.count(Op::Delete);
            if deletes > MAX_DELETE_KEYS {
                return Err(LoadgenError::invalid(
                    "--mix",
                    format!(
                        "{deletes} DELETEs need as many prepared objects; the limit is {MAX_DELETE_KEYS}"
                    ),
                ));
            }
            if settings.mix.contains(Op::Delete) {
                settings.workload.delete_keys = deletes as u32;
            }
            Some(schedule)
        }
        None => None,
    };

    let log_start = SystemTime::now();
    let log_clock = Instant::now();
    let mut interval_log = args
        .report
        .histogram_log
        .as_ref()
        .map(|_| stats::interval_log_header(log_start));

    for (target, connector) in &targets {
        if target.prepare {
            if !args.report.quiet {
                eprintln!(
                    "preparing {}: bucket {} and {} objects",
                    target.name,
                    settings.workload.bucket,
                    settings.workload.keys + settings.workload.delete_keys
                );
            }
            engine::prepare(
                target,
                connector,
                &settings.workload,
                args.targets.connections,
                args.targets.timeout,
                false,
            )?;
        }
    }

    let mut phases: Vec<Vec<PhaseResult>> = vec![Vec::new(); targets.len()];
    let mut totals: Vec<TargetTotals> = targets.iter().map(|_| TargetTotals::default()).collect();
    for repetition in 1..=args.repetitions {
        for (index, (target, connector)) in targets.iter().enumerate() {
            if repetition > 1 && target.prepare && settings.workload.delete_keys > 0 {
                engine::prepare(
                    target,
                    connector,
                    &settings.workload,
                    args.targets.connections,
                    args.targets.timeout,
                    true,
                )?;
            }
            let discipline = match &schedule {
                Some(schedule) => Discipline::Open(schedule),
                None => Discipline::Closed {
                    duration: phase_length,
                    mix: &settings.mix,
                    distribution: settings.distribution,
                    seed: args.workload.seed,
                },
            };
            let phase = Phase {
                target,
                connector,
                workload: &settings.workload,
                discipline,
                connections: args.targets.connections,
                timeout: args.targets.timeout,
                warmup: args.warmup,
                label: format!("{} {repetition}/{}", target.name, args.repetitions),
                progress: !args.report.quiet,
                spin_margin: args.targets.spin_margin,
                interval_log: interval_log.as_ref().map(|_| {
                    (
                        format!("{}.r{repetition}", target.name),
                        log_clock.elapsed(),
                    )
                }),
            };
            let mut measurement = engine::run_phase(&phase)?;
            if let Some(log) = interval_log.as_mut() {
                log.extend_from_slice(&measurement.recorder.take_interval_log());
            }
            let result = report::phase_result(&target.name, repetition, args.rate, &measurement);
            report::print_phase(&result, args.repetitions);
            totals[index].add(&measurement);
            phases[index].push(result);
        }
    }

    let results: Vec<TargetResult> = targets
        .iter()
        .zip(totals.iter())
        .zip(phases)
        .map(|(((target, _), totals), phases)| totals.finish(&target.name, &target.url, phases))
        .collect();
    if args.repetitions > 1 {
        for result in &results {
            println!("\n{} over {} repetitions:", result.name, args.repetitions);
            report::print_table(&result.total, &result.total_all);
        }
    }
    let ratios = report::ratios(&results);
    report::print_ratios(&ratios);
    let gate_results = report::evaluate_gates(&gates, &results);
    report::print_gates(&gate_results);
    let valid = results
        .iter()
        .all(|result| result.repetitions.iter().all(|phase| phase.valid));

    if let (Some(path), Some(log)) = (&args.report.histogram_log, &interval_log) {
        write_file(path, log)?;
    }
    let record = RunRecord {
        tool: format!("ironbucket-loadgen {}", env!("CARGO_PKG_VERSION")),
        command: redacted_command_line(),
        started_unix_s: log_start
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs()),
        machine: Machine::current(),
        rate: args.rate,
        arrival: args.rate.map(|_| args.arrival),
        duration_s: args.duration.as_secs_f64(),
        warmup_s: args.warmup.as_secs_f64(),
        connections: args.targets.connections,
        repetitions: args.repetitions,
        mix: settings.mix.clone(),
        key_distribution: settings.distribution,
        workload: settings.workload.clone(),
        targets: targets.iter().map(|(target, _)| target.clone()).collect(),
        results,
        ratios,
        gates: gate_results.clone(),
        valid,
    };
    if let Some(path) = &args.report.json {
        let text = serde_json::to_vec_pretty(&record).expect("the run record serializes");
        write_file(path, &text)?;
    }
    Ok(exit_code(valid, args.report.allow_late, &gate_results))
}

/// Returns the exit code: an invalid run comes first, because its gates are not trustworthy.
pub fn exit_code(valid: bool, allow_late: bool, gates: &[GateResult]) -> u8 {
    if !valid && !allow_late {
        EXIT_INVALID_RUN
    } else if gates.iter().any(|gate| !gate.passed) {
        EXIT_GATE_FAILED
    } else {
        0
    }
}

/// Options whose values are secrets, left out of the command line in records.
const SECRET_OPTIONS: [&str; 2] = ["--secret-key", "--bearer"];

/// Returns this process's command line with the values of [`SECRET_OPTIONS`] replaced by
/// `REDACTED`, for the JSON records.
pub fn redacted_command_line() -> Vec<String> {
    redact(std::env::args())
}

fn redact(arguments: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut hide_next = false;
    for argument in arguments {
        if hide_next {
            out.push("REDACTED".to_owned());
            hide_next = false;
            continue;
        }
        let secret_with_value = SECRET_OPTIONS
            .iter()
            .find(|option| argument.starts_with(&format!("{option}=")));
        if let Some(option) = secret_with_value {
            out.push(format!("{option}=REDACTED"));
            continue;
        }
        hide_next = SECRET_OPTIONS.contains(&argument.as_str());
        out.push(argument);
    }
    out
}

/// Writes `bytes` to `path`.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), LoadgenError> {
    std::fs::write(path, bytes).map_err(|source| LoadgenError::File {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| (*item).to_owned()).collect()
    }

    #[test]
    fn secret_values_redacted() {
        let redacted = redact(strings(&[
            "run",
            "--secret-key",
            "s3cr3t",
            "--bearer=tok",
            "--rate",
            "5",
        ]));
        assert_eq!(
            redacted,
            strings(&[
                "run",
                "--secret-key",
                "REDACTED",
                "--bearer=REDACTED",
                "--rate",
                "5"
            ])
        );
    }
}
