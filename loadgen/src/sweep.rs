//! The `sweep` command: finds each target's saturation rate in closed loop, then measures
//! latency in open loop at fractions of it (10, 25, 50, 75 and 90 % by default). It plots
//! the percentiles against the achieved rate as an SVG file.

use std::fmt::Write as _;

use crate::cli::SweepArgs;
use crate::engine::{self, Discipline, Phase};
use crate::error::LoadgenError;
use crate::gate::Gate;
use crate::report::{self, GateResult, PhaseResult, TargetResult, TargetTotals};
use crate::runner::{Machine, exit_code, write_file};
use crate::schedule::{OpPicker, Schedule};
use crate::settings;
use crate::workload::Op;

/// One load level of a sweep.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Level {
    /// Percent of the saturation rate.
    pub percent: f64,
    /// Offered requests per second.
    pub rate: f64,
    /// Result of the level.
    pub result: PhaseResult,
}

/// The sweep of one target.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TargetSweep {
    /// Target name.
    pub name: String,
    /// Closed-loop phase.
    pub saturation: PhaseResult,
    /// Successful requests per second in closed loop.
    pub saturation_rate: f64,
    /// Open-loop levels.
    pub levels: Vec<Level>,
}

/// The JSON record of a sweep.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SweepRecord {
    /// Command line.
    pub command: Vec<String>,
    /// Machine.
    pub machine: Machine,
    /// Per-target sweeps.
    pub targets: Vec<TargetSweep>,
    /// Gates, evaluated on the highest level.
    pub gates: Vec<GateResult>,
}

/// Runs the sweep and returns the exit code.
pub fn run(args: &SweepArgs) -> Result<u8, LoadgenError> {
    let gates = args
        .report
        .asserts
        .iter()
        .map(|expression| Gate::parse(expression))
        .collect::<Result<Vec<_>, _>>()?;
    if args.levels.is_empty()
        || args
            .levels
            .iter()
            .any(|level| !(*level > 0.0 && *level <= 100.0))
    {
        return Err(LoadgenError::invalid(
            "--levels",
            "each level must be a percentage in (0, 100]",
        ));
    }

    let mut settings = settings::workload(&args.workload)?;
    if settings.mix.contains(Op::Delete) {
        return Err(LoadgenError::invalid(
            "--mix",
            "a sweep cannot include delete, because every level would need its own prepared objects",
        ));
    }
    settings.workload.delete_keys = 0;

    let targets = settings::targets(&args.targets)?;
    for (target, connector) in &targets {
        if target.prepare {
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

    let phase_length = args.duration + args.warmup;
    let mut sweeps = Vec::new();
    let mut top_levels = Vec::new();
    for (target, connector) in &targets {
        let saturation = engine::run_phase(&sweep_phase(
            args,
            &settings.workload,
            target,
            connector,
            Discipline::Closed {
                duration: args.saturation_duration + args.warmup,
                mix: &settings.mix,
                distribution: settings.distribution,
                seed: args.workload.seed,
            },
            format!("{} saturation", target.name),
        ))?;

        let saturation = report::phase_result(&target.name, 0, None, &saturation);
        report::print_phase(&saturation, 1);
        let saturation_rate = saturation.all.rate;
        if saturation_rate <= 0.0 {
            return Err(LoadgenError::Prepare {
                target: target.name.clone(),
                message: "no request succeeded in the saturation phase".to_owned(),
            });
        }

        let mut levels = Vec::new();
        let mut top = None;
        for (index, percent) in args.levels.iter().enumerate() {
            let rate = saturation_rate * percent / 100.0;
            let mut picker = OpPicker::new(
                &settings.mix,
                settings.workload.keys,
                1,
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
            let measurement = engine::run_phase(&sweep_phase(
                args,
                &settings.workload,
                target,
                connector,
                Discipline::Open(&schedule),
                format!("{} {percent}%", target.name),
            ))?;
            let result =
                report::phase_result(&target.name, index as u32 + 1, Some(rate), &measurement);
            report::print_phase(&result, args.levels.len() as u32);
            if top
                .as_ref()
                .is_none_or(|(top_percent, _, _)| percent >= top_percent)
            {
                let mut totals = TargetTotals::default();
                totals.add(&measurement);
                top = Some((*percent, totals, result.clone()));
            }
            levels.push(Level {
                percent: *percent,
                rate,
                result,
            });
        }

        if let Some((_, totals, result)) = top {
            top_levels.push(totals.finish(&target.name, &target.url, vec![result]));
        }
        sweeps.push(TargetSweep {
            name: target.name.clone(),
            saturation,
            saturation_rate,
            levels,
        });
    }

    print_sweep(&sweeps);
    let gate_results = report::evaluate_gates(&gates, &top_levels);
    report::print_gates(&gate_results);
    if let Some(path) = &args.svg {
        write_file(path, render_svg(&sweeps).as_bytes())?;
    }

    let valid = top_levels
        .iter()
        .all(|target: &TargetResult| target.repetitions.iter().all(|phase| phase.valid));
    let record = SweepRecord {
        command: crate::runner::redacted_command_line(),
        machine: Machine::current(),
        targets: sweeps,
        gates: gate_results.clone(),
    };
    if let Some(path) = &args.report.json {
        write_file(
            path,
            &serde_json::to_vec_pretty(&record).expect("the record serializes"),
        )?;
    }
    Ok(exit_code(valid, args.report.allow_late, &gate_results))
}

fn sweep_phase<'a>(
    args: &SweepArgs,
    workload: &'a crate::workload::Workload,
    target: &'a crate::target::Target,
    connector: &'a crate::http::Connector,
    discipline: Discipline<'a>,
    label: String,
) -> Phase<'a> {
    Phase {
        target,
        connector,
        workload,
        discipline,
        connections: args.targets.connections,
        timeout: args.targets.timeout,
        warmup: args.warmup,
        label,
        progress: !args.report.quiet,
        interval_log: None,
        spin_margin: args.targets.spin_margin,
    }
}

fn print_sweep(sweeps: &[TargetSweep]) {
    println!("\nlatency versus rate (response time of all operations):");
    println!(
        "  {:<12} {:>6} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "target", "level", "offered/s", "achieved/s", "p50", "p90", "p99", "p99.9", "late %"
    );
    for sweep in sweeps {
        println!(
            "  {:<12} {:>6} {:>10} {:>10.0} {:>9} {:>9} {:>9} {:>9} {:>7}",
            sweep.name,
            "closed",
            "-",
            sweep.saturation_rate,
            report::format_us(sweep.saturation.all.response.p50_us),
            report::format_us(sweep.saturation.all.response.p90_us),
            report::format_us(sweep.saturation.all.response.p99_us),
            report::format_us(sweep.saturation.all.response.p999_us),
            "-",
        );
        for level in &sweep.levels {
            let response = &level.result.all.response;
            println!(
                "  {:<12} {:>5}% {:>10.0} {:>10.0} {:>9} {:>9} {:>9} {:>9} {:>7.3}",
                sweep.name,
                level.percent,
                level.rate,
                level.result.all.rate,
                report::format_us(response.p50_us),
                report::format_us(response.p90_us),
                report::format_us(response.p99_us),
                report::format_us(response.p999_us),
                level.result.late_fraction * 100.0,
            );
        }
    }
}

/// A plotted percentile: label, colour, and how to read it from a summary.
type PercentileLine = (
    &'static str,
    &'static str,
    fn(&crate::stats::Percentiles) -> f64,
);

/// Renders percentiles (log-scale milliseconds) against achieved rate, one colour per
/// percentile and one dash pattern per target.
pub fn render_svg(sweeps: &[TargetSweep]) -> String {
    const WIDTH: f64 = 800.0;
    const HEIGHT: f64 = 500.0;
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = 170.0;
    const TOP: f64 = 40.0;
    const BOTTOM: f64 = 60.0;
    let percentiles: [PercentileLine; 4] = [
        ("p50", "#1f77b4", |p| p.p50_us),
        ("p90", "#2ca02c", |p| p.p90_us),
        ("p99", "#ff7f0e", |p| p.p99_us),
        ("p99.9", "#d62728", |p| p.p999_us),
    ];
    let dashes = ["", "8,4", "2,3", "12,3,3,3"];
    let points = sweeps.iter().flat_map(|sweep| sweep.levels.iter());
    let max_rate = points
        .clone()
        .map(|level| level.result.all.rate)
        .fold(1.0, f64::max);
    let latencies: Vec<f64> = points
        .flat_map(|level| {
            percentiles
                .iter()
                .map(|(_, _, read)| read(&level.result.all.response))
        })
        .filter(|value| *value > 0.0)
        .collect();
    let min_ms = latencies.iter().copied().fold(f64::INFINITY, f64::min) / 1000.0;
    let max_ms = latencies.iter().copied().fold(0.0, f64::max) / 1000.0;
    let low = if min_ms.is_finite() {
        min_ms.log10().floor()
    } else {
        -2.0
    };
    let high = if max_ms > 0.0 {
        max_ms.log10().ceil().max(low + 1.0)
    } else {
        low + 1.0
    };
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let x = |rate: f64| LEFT + rate / (max_rate * 1.05) * plot_width;
    let y = |us: f64| {
        let ms = (us / 1000.0).max(10f64.powf(low));
        TOP + (high - ms.log10()) / (high - low) * plot_height
    };

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         font-family=\"sans-serif\" font-size=\"12\">"
    );
    let _ = writeln!(svg, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">Response time versus \
         achieved rate (open loop)</text>",
        LEFT + plot_width / 2.0
    );
    let mut decade = low;
    while decade <= high {
        let value_ms = 10f64.powf(decade);
        let position = y(value_ms * 1000.0);
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{position:.1}\" x2=\"{:.1}\" y2=\"{position:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LEFT + plot_width,
            LEFT - 6.0,
            position + 4.0,
            format_milliseconds(value_ms)
        );
        decade += 1.0;
    }
    let step = tick_step(max_rate * 1.05);
    let mut rate = 0.0;
    while rate <= max_rate * 1.05 {
        let position = x(rate);
        let _ = writeln!(
            svg,
            "<line x1=\"{position:.1}\" y1=\"{TOP}\" x2=\"{position:.1}\" y2=\"{:.1}\" stroke=\"#eee\"/>\
             <text x=\"{position:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{rate:.0}</text>",
            TOP + plot_height,
            TOP + plot_height + 18.0
        );
        rate += step;
    }
    let _ = writeln!(
        svg,
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{plot_width}\" height=\"{plot_height}\" fill=\"none\" stroke=\"black\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">achieved requests per second</text>\
         <text x=\"18\" y=\"{:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {:.1})\">response time (log scale)</text>",
        LEFT + plot_width / 2.0,
        HEIGHT - 15.0,
        TOP + plot_height / 2.0,
        TOP + plot_height / 2.0
    );
    let mut legend_y = TOP + 10.0;
    for (target_index, sweep) in sweeps.iter().enumerate() {
        let dash = dashes[target_index % dashes.len()];
        for (label, colour, read) in &percentiles {
            let path: Vec<String> = sweep
                .levels
                .iter()
                .map(|level| {
                    format!(
                        "{:.1},{:.1}",
                        x(level.result.all.rate),
                        y(read(&level.result.all.response))
                    )
                })
                .collect();
            let _ = writeln!(
                svg,
                "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\" points=\"{}\"/>",
                path.join(" ")
            );
            for point in &path {
                let (px, py) = point.split_once(',').unwrap_or(("0", "0"));
                let _ = writeln!(
                    svg,
                    "<circle cx=\"{px}\" cy=\"{py}\" r=\"3\" fill=\"{colour}\"/>"
                );
            }
            let legend_x = LEFT + plot_width + 12.0;
            let _ = writeln!(
                svg,
                "<line x1=\"{legend_x}\" y1=\"{legend_y:.1}\" x2=\"{:.1}\" y2=\"{legend_y:.1}\" stroke=\"{colour}\" \
                 stroke-width=\"2\" stroke-dasharray=\"{dash}\"/><text x=\"{:.1}\" y=\"{:.1}\">{} {label}</text>",
                legend_x + 28.0,
                legend_x + 34.0,
                legend_y + 4.0,
                escape(&sweep.name)
            );
            legend_y += 18.0;
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// Returns a tick spacing of 1, 2 or 5 times a power of ten that gives 4 to 10 ticks up to
/// `range`.
fn tick_step(range: f64) -> f64 {
    let magnitude = 10f64.powf((range / 5.0).log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|factor| factor * magnitude)
        .find(|step| range / step <= 10.0)
        .unwrap_or(10.0 * magnitude)
}

fn format_milliseconds(value_ms: f64) -> String {
    if value_ms >= 1000.0 {
        format!("{:.0} s", value_ms / 1000.0)
    } else if value_ms >= 1.0 {
        format!("{value_ms:.0} ms")
    } else {
        format!("{:.0} us", value_ms * 1000.0)
    }
}

fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_step_is_round() {
        assert_eq!(tick_step(14_981.0), 2_000.0);
        assert_eq!(tick_step(950.0), 100.0);
        assert_eq!(tick_step(30.0), 5.0);
    }
}
