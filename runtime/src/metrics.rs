//! Request metrics, counted per core without contention and summed when `/metrics` is scraped,
//! in the Prometheus text exposition format.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds, in seconds, of the request duration histogram's buckets.
const DURATION_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

/// Response status classes counted separately: 1xx..5xx.
const STATUS_CLASSES: usize = 5;

/// Counters of one core. Aligned to a cache line so cores never write the same line.
#[repr(align(128))]
#[derive(Default)]
pub struct CoreMetrics {
    requests_by_class: [AtomicU64; STATUS_CLASSES],
    denied: AtomicU64,
    backend_errors: AtomicU64,
    internal_errors: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    duration_buckets: [AtomicU64; DURATION_BUCKETS.len()],
    duration_count: AtomicU64,
    duration_sum_us: AtomicU64,
}

/// What went wrong with a request, for the error counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Denied by authentication, tenant isolation or policy.
    Denied,
    ClientError,
    BackendError,
    InternalError,
}

impl CoreMetrics {
    /// Counts one finished request. Only the owning core writes, so relaxed ordering suffices.
    pub fn record(
        &self,
        status: u16,
        outcome: Outcome,
        bytes_in: u64,
        bytes_out: u64,
        elapsed: Duration,
    ) {
        let class = usize::from(status / 100).clamp(1, STATUS_CLASSES) - 1;
        self.requests_by_class[class].fetch_add(1, Ordering::Relaxed);
        match outcome {
            Outcome::Denied => self.denied.fetch_add(1, Ordering::Relaxed),
            Outcome::BackendError => self.backend_errors.fetch_add(1, Ordering::Relaxed),
            Outcome::InternalError => self.internal_errors.fetch_add(1, Ordering::Relaxed),
            Outcome::Ok | Outcome::ClientError => 0,
        };
        self.bytes_in.fetch_add(bytes_in, Ordering::Relaxed);
        self.bytes_out.fetch_add(bytes_out, Ordering::Relaxed);
        let seconds = elapsed.as_secs_f64();
        if let Some(bucket) = DURATION_BUCKETS.iter().position(|bound| seconds <= *bound) {
            self.duration_buckets[bucket].fetch_add(1, Ordering::Relaxed);
        }
        self.duration_count.fetch_add(1, Ordering::Relaxed);
        self.duration_sum_us
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }
}

/// Counters of the whole process.
#[derive(Default)]
pub struct Metrics {
    cores: Vec<CoreMetrics>,
    pub policy_reloads: AtomicU64,
    pub policy_reload_failures: AtomicU64,
}

/// Values that live elsewhere and are read at scrape time.
pub struct Gauges<'a> {
    pub policy_digest: &'a str,
    pub policy_count: usize,
    pub policy_last_reload_ok: bool,
    pub audit_written: u64,
    pub audit_write_errors: u64,
    pub drivers: &'a [&'static str],
}

impl Metrics {
    pub fn new(cores: usize) -> Metrics {
        Metrics {
            cores: (0..cores).map(|_| CoreMetrics::default()).collect(),
            ..Metrics::default()
        }
    }

    /// The counters of `core`; a core index past the end shares the last slot.
    pub fn core(&self, core: usize) -> &CoreMetrics {
        &self.cores[core.min(self.cores.len().saturating_sub(1))]
    }

    /// Renders every metric in the Prometheus text format, version 0.0.4.
    pub fn render(&self, gauges: &Gauges<'_>) -> String {
        let mut out = String::with_capacity(4096);
        let sum = |read: &dyn Fn(&CoreMetrics) -> u64| -> u64 { self.cores.iter().map(read).sum() };

        out.push_str("# HELP ironbucket_requests_total S3 requests answered, by status class.\n");
        out.push_str("# TYPE ironbucket_requests_total counter\n");
        for class in 0..STATUS_CLASSES {
            let count = sum(&|core| core.requests_by_class[class].load(Ordering::Relaxed));
            let _ = writeln!(
                out,
                "ironbucket_requests_total{{class=\"{}xx\"}} {count}",
                class + 1
            );
        }
        counter(
            &mut out,
            "ironbucket_requests_denied_total",
            "Requests denied by authentication, tenant isolation or policy.",
            sum(&|core| core.denied.load(Ordering::Relaxed)),
        );
        out.push_str("# HELP ironbucket_request_errors_total Requests that failed on the server side, by source.\n");
        out.push_str("# TYPE ironbucket_request_errors_total counter\n");
        let backend = sum(&|core| core.backend_errors.load(Ordering::Relaxed));
        let internal = sum(&|core| core.internal_errors.load(Ordering::Relaxed));
        let _ = writeln!(
            out,
            "ironbucket_request_errors_total{{source=\"backend\"}} {backend}"
        );
        let _ = writeln!(
            out,
            "ironbucket_request_errors_total{{source=\"internal\"}} {internal}"
        );
        counter(
            &mut out,
            "ironbucket_received_bytes_total",
            "Request body bytes received.",
            sum(&|core| core.bytes_in.load(Ordering::Relaxed)),
        );
        counter(
            &mut out,
            "ironbucket_sent_bytes_total",
            "Response body bytes announced.",
            sum(&|core| core.bytes_out.load(Ordering::Relaxed)),
        );

        out.push_str(
            "# HELP ironbucket_request_duration_seconds Time from request head to response.\n",
        );
        out.push_str("# TYPE ironbucket_request_duration_seconds histogram\n");
        let mut cumulative = 0;
        for (index, bound) in DURATION_BUCKETS.iter().enumerate() {
            cumulative += sum(&|core| core.duration_buckets[index].load(Ordering::Relaxed));
            let _ = writeln!(
                out,
                "ironbucket_request_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = sum(&|core| core.duration_count.load(Ordering::Relaxed));
        let _ = writeln!(
            out,
            "ironbucket_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let sum_us = sum(&|core| core.duration_sum_us.load(Ordering::Relaxed));
        let _ = writeln!(
            out,
            "ironbucket_request_duration_seconds_sum {}",
            sum_us as f64 / 1e6
        );
        let _ = writeln!(out, "ironbucket_request_duration_seconds_count {count}");

        counter(
            &mut out,
            "ironbucket_policy_reloads_total",
            "Successful policy reloads.",
            self.policy_reloads.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "ironbucket_policy_reload_failures_total",
            "Policy reloads that failed and kept the last good table.",
            self.policy_reload_failures.load(Ordering::Relaxed),
        );
        out.push_str("# HELP ironbucket_policy_info The live decision table.\n");
        out.push_str("# TYPE ironbucket_policy_info gauge\n");
        let _ = writeln!(
            out,
            "ironbucket_policy_info{{digest=\"{}\",policies=\"{}\"}} 1",
            gauges.policy_digest, gauges.policy_count
        );
        out.push_str(
            "# HELP ironbucket_policy_last_reload_ok Whether the last policy reload succeeded.\n",
        );
        out.push_str("# TYPE ironbucket_policy_last_reload_ok gauge\n");
        let _ = writeln!(
            out,
            "ironbucket_policy_last_reload_ok {}",
            u8::from(gauges.policy_last_reload_ok)
        );
        counter(
            &mut out,
            "ironbucket_audit_records_written_total",
            "Audit records written.",
            gauges.audit_written,
        );
        counter(
            &mut out,
            "ironbucket_audit_write_errors_total",
            "Audit records that failed to write.",
            gauges.audit_write_errors,
        );
        out.push_str("# HELP ironbucket_core_driver The I/O driver of each core.\n");
        out.push_str("# TYPE ironbucket_core_driver gauge\n");
        for (core, driver) in gauges.drivers.iter().enumerate() {
            let _ = writeln!(
                out,
                "ironbucket_core_driver{{core=\"{core}\",driver=\"{driver}\"}} 1"
            );
        }
        out
    }
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} counter");
    let _ = writeln!(out, "{name} {value}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gauges() -> Gauges<'static> {
        Gauges {
            policy_digest: "abc",
            policy_count: 3,
            policy_last_reload_ok: true,
            audit_written: 7,
            audit_write_errors: 0,
            drivers: &["io_uring", "epoll"],
        }
    }

    #[test]
    fn cores_are_summed() {
        let metrics = Metrics::new(2);
        metrics
            .core(0)
            .record(200, Outcome::Ok, 10, 20, Duration::from_micros(300));
        metrics
            .core(1)
            .record(403, Outcome::Denied, 0, 100, Duration::from_millis(1));
        let text = metrics.render(&gauges());
        assert!(
            text.contains("ironbucket_requests_total{class=\"2xx\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("ironbucket_requests_total{class=\"4xx\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("ironbucket_requests_denied_total 1\n"),
            "{text}"
        );
        assert!(text.contains("ironbucket_sent_bytes_total 120\n"), "{text}");
    }

    #[test]
    fn histogram_is_cumulative() {
        let metrics = Metrics::new(1);
        metrics
            .core(0)
            .record(200, Outcome::Ok, 0, 0, Duration::from_micros(50));
        metrics
            .core(0)
            .record(200, Outcome::Ok, 0, 0, Duration::from_secs(10));
        let text = metrics.render(&gauges());
        assert!(text.contains("_bucket{le=\"0.0001\"} 1\n"), "{text}");
        assert!(text.contains("_bucket{le=\"2.5\"} 1\n"), "{text}");
        assert!(text.contains("_bucket{le=\"+Inf\"} 2\n"), "{text}");
    }

    #[test]
    fn drivers_are_listed() {
        let text = Metrics::new(1).render(&gauges());
        assert!(
            text.contains("ironbucket_core_driver{core=\"1\",driver=\"epoll\"} 1"),
            "{text}"
        );
    }
}
