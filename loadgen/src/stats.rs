//! Recording: per-operation HdrHistograms of response time (from the intended send time),
//! service time (from the actual send) and time to first byte, error counts by kind, send
//! lateness, one-second interval histograms, and the serializable results built from them.
//!
//! All histogram values are microseconds. A failed request is recorded in the response and
//! service histograms at the request timeout (or its real duration, if longer), so an error
//! can only make the percentiles worse, never better.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};

use crate::workload::Op;

/// A send more than this many nanoseconds after its intended time (or after its connection
/// became free, whichever is later) is late.
pub const LATE_THRESHOLD_NS: u64 = 100_000;
/// Maximum fraction of late sends in a valid run.
pub const MAX_LATE_FRACTION: f64 = 0.001;

/// One finished request, with times in nanoseconds after the start of its phase.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Operation.
    pub op: Op,
    /// Intended send time (equal to `sent_ns` in closed loop).
    pub due_ns: u64,
    /// When the request could have been sent: its intended time, or when its connection
    /// became free if that was later.
    pub ready_ns: u64,
    /// When its first byte was written.
    pub sent_ns: u64,
    /// When the first response byte arrived.
    pub first_byte_ns: Option<u64>,
    /// When it ended.
    pub done_ns: u64,
    /// Whether every connection was busy at its intended time.
    pub queued: bool,
    /// Error kind, `None` on success.
    pub error: Option<String>,
    /// Body bytes moved.
    pub bytes: u64,
}

fn new_histogram() -> Histogram<u64> {
    // Three significant digits, auto-resizing, so any latency up to u64::MAX µs fits.
    Histogram::new(3).expect("3 significant digits are valid")
}

fn record(histogram: &mut Histogram<u64>, value_us: u64) {
    // `record` grows an auto-resizing histogram, while `saturating_record` would clamp to
    // its current range; the fallback only runs for values beyond what any histogram holds.
    if histogram.record(value_us.max(1)).is_err() {
        histogram.saturating_record(value_us.max(1));
    }
}

/// Histograms and counters of one operation.
#[derive(Debug, Clone)]
pub struct OpHistograms {
    /// Response time: intended send to last response byte.
    pub response: Histogram<u64>,
    /// Service time: actual send to last response byte.
    pub service: Histogram<u64>,
    /// Time to first byte: actual send to first response byte, successes only.
    pub ttfb: Histogram<u64>,
    /// Successful requests.
    pub ok: u64,
    /// Failed requests by kind.
    pub errors: BTreeMap<String, u64>,
    /// Body bytes of successful requests.
    pub bytes: u64,
}

impl Default for OpHistograms {
    fn default() -> Self {
        Self {
            response: new_histogram(),
            service: new_histogram(),
            ttfb: new_histogram(),
            ok: 0,
            errors: BTreeMap::new(),
            bytes: 0,
        }
    }
}

impl OpHistograms {
    /// Adds the counts of `other`.
    pub fn merge(&mut self, other: &Self) {
        // Every histogram here auto-resizes, so `add` never runs out of range.
        let _ = self.response.add(&other.response);
        let _ = self.service.add(&other.service);
        let _ = self.ttfb.add(&other.ttfb);
        self.ok += other.ok;
        for (kind, count) in &other.errors {
            *self.errors.entry(kind.clone()).or_default() += count;
        }
        self.bytes += other.bytes;
    }

    fn failed(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Builds the result of this operation over `elapsed_s` seconds.
    pub fn result(&self, op: Option<Op>, elapsed_s: f64) -> OpResult {
        let failed = self.failed();
        let requests = self.ok + failed;
        let per_second = |count: f64| {
            if elapsed_s > 0.0 {
                count / elapsed_s
            } else {
                0.0
            }
        };
        OpResult {
            op: op.map_or("all", Op::name).to_owned(),
            requests,
            ok: self.ok,
            errors: self.errors.clone(),
            error_rate: if requests == 0 {
                0.0
            } else {
                failed as f64 / requests as f64
            },
            rate: per_second(self.ok as f64),
            throughput_bytes_per_s: per_second(self.bytes as f64),
            response: Percentiles::of(&self.response),
            service: Percentiles::of(&self.service),
            ttfb: Percentiles::of(&self.ttfb),
        }
    }
}

/// Summary of a histogram, in microseconds.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Percentiles {
    /// Values recorded.
    pub count: u64,
    /// Mean.
    pub mean_us: f64,
    /// Median.
    pub p50_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// 99.9th percentile.
    pub p999_us: f64,
    /// Maximum.
    pub max_us: f64,
}

impl Percentiles {
    /// Summarizes `histogram`.
    pub fn of(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return Self::default();
        }
        let at = |quantile: f64| histogram.value_at_quantile(quantile) as f64;
        Self {
            count: histogram.len(),
            mean_us: histogram.mean(),
            p50_us: at(0.5),
            p90_us: at(0.9),
            p99_us: at(0.99),
            p999_us: at(0.999),
            max_us: histogram.max() as f64,
        }
    }
}

/// Results of one operation (or of all together).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct OpResult {
    /// Operation name, or `all`.
    pub op: String,
    /// Requests that ended.
    pub requests: u64,
    /// Successful requests.
    pub ok: u64,
    /// Failed requests by kind.
    pub errors: BTreeMap<String, u64>,
    /// Failed over all requests, between 0 and 1.
    pub error_rate: f64,
    /// Successful requests per second.
    pub rate: f64,
    /// Body bytes of successful requests per second.
    pub throughput_bytes_per_s: f64,
    /// Response time, from the intended send time.
    pub response: Percentiles,
    /// Service time, from the actual send time.
    pub service: Percentiles,
    /// Time to first byte, from the actual send time.
    pub ttfb: Percentiles,
}

/// Everything recorded in one phase (one target, one repetition).
pub struct PhaseRecorder {
    /// Histograms per operation.
    pub ops: BTreeMap<Op, OpHistograms>,
    /// Send lag: actual send minus the time the request could have been sent.
    pub send_lag: Histogram<u64>,
    /// Requests sent more than [`LATE_THRESHOLD_NS`] late.
    pub late: u64,
    /// Requests whose intended time came while every connection was busy.
    pub queued: u64,
    /// Requests recorded after the warm-up.
    pub recorded: u64,
    /// Requests that ended, warm-up included.
    pub finished: u64,
    /// Requests that failed, warm-up included.
    pub finished_errors: u64,
    /// Last completion time seen, in nanoseconds after the phase start.
    pub last_done_ns: u64,
    warmup_ns: u64,
    timeout_us: u64,
    intervals: BTreeMap<u64, BTreeMap<Op, Histogram<u64>>>,
    interval_log: Option<IntervalLog>,
}

/// Interval log lines of one phase, serialized as intervals complete.
struct IntervalLog {
    text: Vec<u8>,
    tag_prefix: String,
    phase_offset: Duration,
}

impl PhaseRecorder {
    /// Creates a recorder that drops requests intended before `warmup` and records failures
    /// at `timeout`. With `interval_log`, one-second histograms are serialized with tags
    /// `PREFIX.OP`, time-stamped `phase_offset` after the log's start time.
    pub fn new(
        warmup: Duration,
        timeout: Duration,
        interval_log: Option<(String, Duration)>,
    ) -> Self {
        Self {
            ops: BTreeMap::new(),
            send_lag: new_histogram(),
            late: 0,
            queued: 0,
            recorded: 0,
            finished: 0,
            finished_errors: 0,
            last_done_ns: 0,
            warmup_ns: warmup.as_nanos() as u64,
            timeout_us: timeout.as_micros() as u64,
            intervals: BTreeMap::new(),
            interval_log: interval_log.map(|(tag_prefix, phase_offset)| IntervalLog {
                text: Vec::new(),
                tag_prefix,
                phase_offset,
            }),
        }
    }

    /// Records one request.
    pub fn record(&mut self, sample: &Sample) {
        self.finished += 1;
        if sample.error.is_some() {
            self.finished_errors += 1;
        }
        if sample.due_ns < self.warmup_ns {
            return;
        }

        self.recorded += 1;
        self.last_done_ns = self.last_done_ns.max(sample.done_ns);
        let lag_ns = sample.sent_ns.saturating_sub(sample.ready_ns);
        record(&mut self.send_lag, lag_ns / 1000);
        if lag_ns > LATE_THRESHOLD_NS {
            self.late += 1;
        }
        if sample.queued {
            self.queued += 1;
        }

        let mut response_us = sample.done_ns.saturating_sub(sample.due_ns) / 1000;
        let mut service_us = sample.done_ns.saturating_sub(sample.sent_ns) / 1000;
        let entry = self.ops.entry(sample.op).or_default();
        match &sample.error {
            None => {
                entry.ok += 1;
                entry.bytes += sample.bytes;
                if let Some(first_byte_ns) = sample.first_byte_ns {
                    record(
                        &mut entry.ttfb,
                        first_byte_ns.saturating_sub(sample.sent_ns) / 1000,
                    );
                }
            }
            Some(kind) => {
                *entry.errors.entry(kind.clone()).or_default() += 1;
                let queueing_us = sample.sent_ns.saturating_sub(sample.due_ns) / 1000;
                service_us = service_us.max(self.timeout_us);
                response_us = response_us.max(queueing_us + self.timeout_us);
            }
        }

        record(&mut entry.response, response_us);
        record(&mut entry.service, service_us);

        if self.interval_log.is_some() {
            let second = sample.done_ns / 1_000_000_000;
            let interval = self.intervals.entry(second).or_default();
            record(
                interval.entry(sample.op).or_insert_with(new_histogram),
                response_us,
            );
            // Samples reach the recorder slightly out of order, so an interval is written
            // once a sample two seconds later has arrived.
            self.flush_intervals(second.saturating_sub(2));
        }
    }

    /// Writes every interval that started before second `before`.
    fn flush_intervals(&mut self, before: u64) {
        let Some(log) = self.interval_log.as_mut() else {
            return;
        };
        while let Some(entry) = self.intervals.first_entry() {
            if *entry.key() >= before {
                break;
            }
            let (second, histograms) = entry.remove_entry();
            for (op, histogram) in histograms {
                let tag = format!("{}.{}", log.tag_prefix, op.name());
                let mut serializer = V2DeflateSerializer::new();
                let start = log.phase_offset + Duration::from_secs(second);
                let mut writer = IntervalLogWriterBuilder::new()
                    .begin_log_with(&mut log.text, &mut serializer)
                    .expect("writing to a Vec cannot fail");
                writer
                    .write_histogram(&histogram, start, Duration::from_secs(1), Tag::new(&tag))
                    .expect("serializing to a Vec cannot fail");
            }
        }
    }

    /// Writes the remaining intervals and returns the log lines of this phase.
    pub fn take_interval_log(&mut self) -> Vec<u8> {
        self.flush_intervals(u64::MAX);
        self.interval_log
            .as_mut()
            .map(|log| std::mem::take(&mut log.text))
            .unwrap_or_default()
    }

    /// Returns the histograms of every operation merged.
    pub fn all(&self) -> OpHistograms {
        let mut all = OpHistograms::default();
        for histograms in self.ops.values() {
            all.merge(histograms);
        }
        all
    }

    /// Returns the measured time: from the end of the warm-up to the last completion.
    pub fn elapsed_s(&self) -> f64 {
        self.last_done_ns.saturating_sub(self.warmup_ns) as f64 / 1e9
    }

    /// Returns the response-time p99 of every operation so far, for the progress line.
    pub fn progress_p99_us(&self) -> u64 {
        let mut all = new_histogram();
        for histograms in self.ops.values() {
            let _ = all.add(&histograms.response);
        }
        if all.is_empty() {
            0
        } else {
            all.value_at_quantile(0.99)
        }
    }
}

/// Returns the header of an interval log file: a comment naming the tool and the unit, and
/// the start time that interval timestamps count from.
pub fn interval_log_header(start: std::time::SystemTime) -> Vec<u8> {
    let mut out = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    IntervalLogWriterBuilder::new()
        .add_comment("ironbucket-loadgen response-time interval histograms in microseconds")
        .add_comment("tags are TARGET.rREPETITION.OP")
        .with_start_time(start)
        .with_max_value_divisor(1000.0)
        .begin_log_with(&mut out, &mut serializer)
        .expect("writing to a Vec cannot fail");
    out.extend_from_slice(b"\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(due_ns: u64, sent_ns: u64, done_ns: u64, error: Option<&str>) -> Sample {
        Sample {
            op: Op::Get,
            due_ns,
            ready_ns: due_ns,
            sent_ns,
            first_byte_ns: Some(done_ns),
            done_ns,
            queued: false,
            error: error.map(str::to_owned),
            bytes: 10,
        }
    }

    #[test]
    fn response_counts_from_intended_time() {
        let mut recorder = PhaseRecorder::new(Duration::ZERO, Duration::from_secs(1), None);
        recorder.record(&sample(0, 5_000_000, 6_000_000, None));
        let histograms = &recorder.ops[&Op::Get];
        assert_eq!(
            histograms.response.max(),
            histograms.response.highest_equivalent(6000)
        );
        assert_eq!(
            histograms.service.max(),
            histograms.service.highest_equivalent(1000)
        );
    }

    #[test]
    fn failure_recorded_at_timeout() {
        let mut recorder = PhaseRecorder::new(Duration::ZERO, Duration::from_secs(2), None);
        recorder.record(&sample(0, 0, 1_000, Some("status_500")));
        let histograms = &recorder.ops[&Op::Get];
        assert!(histograms.response.min() >= 1_999_000);
        assert_eq!(histograms.errors["status_500"], 1);
        assert_eq!(histograms.ok, 0);
    }

    #[test]
    fn late_send_counted() {
        let mut recorder = PhaseRecorder::new(Duration::ZERO, Duration::from_secs(1), None);
        recorder.record(&sample(0, 50_000, 100_000, None));
        recorder.record(&sample(0, 150_000, 200_000, None));
        assert_eq!(recorder.late, 1);
    }

    #[test]
    fn warmup_samples_dropped() {
        let mut recorder = PhaseRecorder::new(Duration::from_secs(1), Duration::from_secs(1), None);
        recorder.record(&sample(500_000_000, 500_000_000, 600_000_000, None));
        assert_eq!(recorder.recorded, 0);
        assert_eq!(recorder.finished, 1);
    }
}
