//! Results: the serializable record of a run, the human tables, the ratios between targets
//! and the evaluation of `--assert` gates.

use std::collections::BTreeMap;

use crate::engine::PhaseMeasurement;
use crate::gate::Gate;
use crate::stats::{MAX_LATE_FRACTION, OpHistograms, OpResult, Percentiles};
use crate::workload::Op;

/// Results of one phase: one target, one repetition.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PhaseResult {
    /// Target name.
    pub target: String,
    /// Repetition, from 1.
    pub repetition: u32,
    /// Requests per second that were scheduled, in open loop.
    pub offered_rate: Option<f64>,
    /// Measured time in seconds, warm-up excluded.
    pub elapsed_s: f64,
    /// Recorded requests.
    pub requests: u64,
    /// Requests sent more than 100 µs after they could have been.
    pub late: u64,
    /// `late` over `requests`.
    pub late_fraction: f64,
    /// Requests whose intended time came while every connection was busy.
    pub queued: u64,
    /// Actual send time minus the time each request could have been sent.
    pub send_lag: Percentiles,
    /// Per-operation results.
    pub ops: Vec<OpResult>,
    /// All operations together.
    pub all: OpResult,
    /// CPU seconds of the target process during the phase.
    pub target_cpu_s: Option<f64>,
    /// Target CPU microseconds per recorded request.
    pub target_cpu_us_per_request: Option<f64>,
    /// CPU seconds of the load generator during the phase.
    pub loadgen_cpu_s: Option<f64>,
    /// Load generator CPU microseconds per request.
    pub loadgen_cpu_us_per_request: Option<f64>,
    /// Peak resident memory of the target process (VmHWM) after the phase, in KiB.
    pub target_peak_rss_kib: Option<u64>,
    /// Whether at most 0.1 % of requests were late.
    pub valid: bool,
}

/// Builds the result of a phase.
pub fn phase_result(
    target: &str,
    repetition: u32,
    offered_rate: Option<f64>,
    measurement: &PhaseMeasurement,
) -> PhaseResult {
    let recorder = &measurement.recorder;
    let elapsed_s = recorder.elapsed_s();
    let requests = recorder.recorded;
    let ops = recorder
        .ops
        .iter()
        .map(|(op, histograms)| histograms.result(Some(*op), elapsed_s))
        .collect();
    let late_fraction = if requests == 0 {
        0.0
    } else {
        recorder.late as f64 / requests as f64
    };
    // CPU is measured over the whole phase, warm-up included, so it is divided by every
    // request that finished.
    let per_request = |cpu_s: Option<f64>| {
        cpu_s
            .filter(|_| recorder.finished > 0)
            .map(|cpu_s| cpu_s * 1e6 / recorder.finished as f64)
    };
    PhaseResult {
        target: target.to_owned(),
        repetition,
        offered_rate,
        elapsed_s,
        requests,
        late: recorder.late,
        late_fraction,
        queued: recorder.queued,
        send_lag: Percentiles::of(&recorder.send_lag),
        ops,
        all: recorder.all().result(None, elapsed_s),
        target_cpu_s: measurement.target_cpu_s,
        target_cpu_us_per_request: per_request(measurement.target_cpu_s),
        loadgen_cpu_s: measurement.loadgen_cpu_s,
        loadgen_cpu_us_per_request: per_request(measurement.loadgen_cpu_s),
        target_peak_rss_kib: measurement.target_peak_rss_kib,
        valid: late_fraction <= MAX_LATE_FRACTION,
    }
}

/// Results of one target over every repetition.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TargetResult {
    /// Target name.
    pub name: String,
    /// URL.
    pub url: String,
    /// One result per repetition.
    pub repetitions: Vec<PhaseResult>,
    /// Per-operation results with every repetition's histograms merged.
    pub total: Vec<OpResult>,
    /// All operations of every repetition.
    pub total_all: OpResult,
    /// Median over repetitions of the target CPU microseconds per request.
    pub median_target_cpu_us_per_request: Option<f64>,
}

/// Merged histograms of one target, kept while repetitions run.
#[derive(Default)]
pub struct TargetTotals {
    ops: BTreeMap<Op, OpHistograms>,
    elapsed_s: f64,
}

impl TargetTotals {
    /// Adds one phase.
    pub fn add(&mut self, measurement: &PhaseMeasurement) {
        for (op, histograms) in &measurement.recorder.ops {
            self.ops.entry(*op).or_default().merge(histograms);
        }
        self.elapsed_s += measurement.recorder.elapsed_s();
    }

    /// Builds the target's result from its phases.
    pub fn finish(&self, name: &str, url: &str, repetitions: Vec<PhaseResult>) -> TargetResult {
        let total = self
            .ops
            .iter()
            .map(|(op, histograms)| histograms.result(Some(*op), self.elapsed_s))
            .collect();
        let mut all = OpHistograms::default();
        for histograms in self.ops.values() {
            all.merge(histograms);
        }
        let cpu: Vec<f64> = repetitions
            .iter()
            .filter_map(|phase| phase.target_cpu_us_per_request)
            .collect();
        TargetResult {
            name: name.to_owned(),
            url: url.to_owned(),
            total,
            total_all: all.result(None, self.elapsed_s),
            median_target_cpu_us_per_request: median(&cpu),
            repetitions,
        }
    }
}

/// Ratios of one statistic between a target and the baseline (the first target).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Ratio {
    /// The target divided.
    pub target: String,
    /// The baseline it is divided by.
    pub baseline: String,
    /// Operation, or `all`.
    pub op: String,
    /// Statistic: p50, p90, p99, p999 or cpu_us_per_request.
    pub stat: String,
    /// One ratio per repetition.
    pub per_repetition: Vec<f64>,
    /// Median of `per_repetition`.
    pub median: Option<f64>,
}

/// Returns the median of `values`, or `None` when there are none.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values
        .iter()
        .copied()
        .filter(|value| value.is_finite())
        .collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    } else {
        sorted[middle]
    })
}

/// Compares every target after the first with the first, per repetition.
pub fn ratios(targets: &[TargetResult]) -> Vec<Ratio> {
    let Some((baseline, others)) = targets.split_first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for other in others {
        let ops: Vec<String> = other.total.iter().map(|result| result.op.clone()).collect();
        for op in ops {
            for stat in ["p50", "p90", "p99", "p999"] {
                let per_repetition: Vec<f64> = baseline
                    .repetitions
                    .iter()
                    .zip(&other.repetitions)
                    .filter_map(|(base, phase)| {
                        let base = latency_stat(base.ops.iter().find(|r| r.op == op)?, stat);
                        let value = latency_stat(phase.ops.iter().find(|r| r.op == op)?, stat);
                        (base > 0.0).then(|| value / base)
                    })
                    .collect();
                out.push(Ratio {
                    target: other.name.clone(),
                    baseline: baseline.name.clone(),
                    op: op.clone(),
                    stat: stat.to_owned(),
                    median: median(&per_repetition),
                    per_repetition,
                });
            }
        }
        let cpu: Vec<f64> = baseline
            .repetitions
            .iter()
            .zip(&other.repetitions)
            .filter_map(|(base, phase)| {
                let base = base
                    .target_cpu_us_per_request
                    .filter(|value| *value > 0.0)?;
                Some(phase.target_cpu_us_per_request? / base)
            })
            .collect();
        if !cpu.is_empty() {
            out.push(Ratio {
                target: other.name.clone(),
                baseline: baseline.name.clone(),
                op: "all".to_owned(),
                stat: "cpu_us_per_request".to_owned(),
                median: median(&cpu),
                per_repetition: cpu,
            });
        }
    }
    out
}

fn latency_stat(result: &OpResult, stat: &str) -> f64 {
    match stat {
        "p50" => result.response.p50_us,
        "p90" => result.response.p90_us,
        "p99" => result.response.p99_us,
        _ => result.response.p999_us,
    }
}

/// The outcome of one gate on one target.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct GateResult {
    /// The expression as written.
    pub expression: String,
    /// Target it was evaluated on.
    pub target: String,
    /// Measured value in the statistic's base unit, `None` when the operation did not run.
    pub value: Option<f64>,
    /// Whether the gate passed.
    pub passed: bool,
}

/// Evaluates every gate on every target it names, using the results merged over
/// repetitions. A gate on an operation that did not run fails.
pub fn evaluate_gates(gates: &[Gate], targets: &[TargetResult]) -> Vec<GateResult> {
    let mut out = Vec::new();
    for gate in gates {
        let mut matched = false;
        for target in targets {
            if gate
                .target
                .as_ref()
                .is_some_and(|name| *name != target.name)
            {
                continue;
            }
            matched = true;
            let result = match gate.op {
                None => Some(&target.total_all),
                Some(op) => target.total.iter().find(|result| result.op == op.name()),
            };
            let value = result.map(|result| gate.stat.read(result));
            out.push(GateResult {
                expression: gate.expression.clone(),
                target: target.name.clone(),
                value,
                passed: value.is_some_and(|value| gate.passes(value)),
            });
        }
        if !matched {
            out.push(GateResult {
                expression: gate.expression.clone(),
                target: gate.target.clone().unwrap_or_default(),
                value: None,
                passed: false,
            });
        }
    }
    out
}

/// Formats microseconds with a unit that keeps three or four significant digits.
pub fn format_us(value_us: f64) -> String {
    if value_us >= 1e6 {
        format!("{:.2}s", value_us / 1e6)
    } else if value_us >= 1e3 {
        format!("{:.2}ms", value_us / 1e3)
    } else {
        format!("{value_us:.0}us")
    }
}

/// Prints the table of one phase.
pub fn print_phase(phase: &PhaseResult, repetitions: u32) {
    let offered = phase.offered_rate.map_or("closed loop".to_owned(), |rate| {
        format!("open loop at {rate:.0}/s")
    });
    println!(
        "\n{} (repetition {}/{repetitions}): {offered}, {:.1} s measured, {} requests, \
         late {} ({:.3} %), queued {}, send lag p99 {}",
        phase.target,
        phase.repetition,
        phase.elapsed_s,
        phase.requests,
        phase.late,
        phase.late_fraction * 100.0,
        phase.queued,
        format_us(phase.send_lag.p99_us),
    );
    let mut cpu = Vec::new();
    if let Some(value) = phase.target_cpu_us_per_request {
        cpu.push(format!("target CPU {value:.1} us/request"));
    }
    if let Some(value) = phase.loadgen_cpu_us_per_request {
        cpu.push(format!("loadgen CPU {value:.1} us/request"));
    }
    if let Some(kib) = phase.target_peak_rss_kib {
        cpu.push(format!("target VmHWM {:.1} MiB", kib as f64 / 1024.0));
    }
    if !cpu.is_empty() {
        println!("  {}", cpu.join(", "));
    }
    if !phase.valid {
        println!(
            "  INVALID: more than {:.1} % of requests were sent over 100 us late, so the load \
             offered was below the schedule; check the host for other load, or lower the rate",
            MAX_LATE_FRACTION * 100.0
        );
    }
    print_table(&phase.ops, &phase.all);
}

/// Prints the per-operation table: count, rate, percentiles of response time and errors.
pub fn print_table(ops: &[OpResult], all: &OpResult) {
    println!(
        "  {:<10} {:>9} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8}",
        "op", "count", "rate/s", "p50", "p90", "p99", "p99.9", "max", "errors"
    );
    let rows = ops.iter().chain((ops.len() > 1).then_some(all));
    for result in rows {
        let response = &result.response;
        println!(
            "  {:<10} {:>9} {:>10.1} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8}",
            result.op,
            result.requests,
            result.rate,
            format_us(response.p50_us),
            format_us(response.p90_us),
            format_us(response.p99_us),
            format_us(response.p999_us),
            format_us(response.max_us),
            result.requests - result.ok,
        );
        for (kind, count) in &result.errors {
            println!("    error {kind}: {count}");
        }
    }
}

/// Prints the ratios between targets.
pub fn print_ratios(ratios: &[Ratio]) {
    if ratios.is_empty() {
        return;
    }
    println!("\nratios to the first target (per repetition, then median):");
    for ratio in ratios {
        let values: Vec<String> = ratio
            .per_repetition
            .iter()
            .map(|value| format!("{value:.2}"))
            .collect();
        println!(
            "  {}/{} {} {}: [{}] median {}",
            ratio.target,
            ratio.baseline,
            ratio.op,
            ratio.stat,
            values.join(", "),
            ratio
                .median
                .map_or("-".to_owned(), |median| format!("{median:.2}")),
        );
    }
}

/// Prints the gate outcomes.
pub fn print_gates(gates: &[GateResult]) {
    for gate in gates {
        let value = gate
            .value
            .map_or("not measured".to_owned(), |value| format!("{value:.3}"));
        println!(
            "{} {} on {} (measured {value})",
            if gate.passed { "PASS" } else { "FAIL" },
            gate.expression,
            gate.target,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn microseconds_formatted_with_unit() {
        assert_eq!(format_us(850.0), "850us");
        assert_eq!(format_us(1500.0), "1.50ms");
        assert_eq!(format_us(2_500_000.0), "2.50s");
    }
}
