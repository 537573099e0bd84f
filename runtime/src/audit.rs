//! Audit records: one JSON line per request, allowed or denied, written by a dedicated thread so
//! that no core ever touches the disk.
//!
//! Cores hand records to the writer over a bounded channel and await a free slot when it is full,
//! so a slow disk slows requests down instead of losing records. A record contains no secret: the
//! access key id is public, signatures and tokens are never copied in.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

use serde::Serialize;
use tokio::sync::mpsc;

/// One audit record. Field names are the log's public schema; change them only with a note in
/// `docs/operations.md`.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    /// RFC 3339 time at which the request head was read.
    pub time: String,
    pub request_id: String,
    pub principal: String,
    pub tenant: String,
    /// Where the identity came from: `access-key`, `anonymous`.
    pub credential: &'static str,
    pub access_key_id: Option<String>,
    /// S3 operation name, e.g. `PutObject`.
    pub operation: &'static str,
    /// IAM action, e.g. `s3:PutObject`.
    pub action: &'static str,
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// `allow`, `deny`, or `none` when the request failed before it was decided.
    pub decision: &'static str,
    /// Why a request was denied: `explicit-deny`, `no-matching-allow`, `tenant-isolation`,
    /// `authentication`, or `none` when nothing denied it.
    pub reason: &'static str,
    pub policies: Vec<String>,
    /// Dry-run policies that matched: evaluated and recorded, never enforced.
    pub dry_run_policies: Vec<String>,
    /// The shadow table's decision, present only when it differs from `decision`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadow_decision: Option<&'static str>,
    /// Digest of the decision table that decided the request.
    pub policy_digest: String,
    pub status: u16,
    /// S3 error code when the response was an error.
    pub error: Option<&'static str>,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub duration_us: u64,
    pub client_addr: String,
    pub user_agent: Option<String>,
    pub core: usize,
}

/// The cores' side of the audit log.
#[derive(Clone)]
pub struct AuditSink {
    sender: mpsc::Sender<AuditRecord>,
    stats: Arc<AuditStats>,
}

/// Counters the writer keeps, for metrics and for the shutdown report.
#[derive(Debug, Default)]
pub struct AuditStats {
    pub written: AtomicU64,
    pub write_errors: AtomicU64,
    /// Records lost because the queue was full when a caller could not wait.
    pub dropped: AtomicU64,
}

/// The writer thread; dropping every [`AuditSink`] and calling [`AuditWriter::join`] flushes
/// the queue to disk.
pub struct AuditWriter {
    thread: JoinHandle<()>,
    pub stats: Arc<AuditStats>,
}

impl AuditSink {
    /// Queues a record, waiting for a free slot when the writer is behind. Returns false only
    /// when the writer has stopped, which the caller logs.
    pub async fn record(&self, record: AuditRecord) -> bool {
        self.sender.send(record).await.is_ok()
    }

    /// Queues a record without waiting, for callers that cannot await. A full queue loses the
    /// record; the caller logs that, and `dropped` counts it.
    pub fn try_record(&self, record: AuditRecord) -> bool {
        let queued = self.sender.try_send(record).is_ok();
        if !queued {
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
        queued
    }

    pub fn stats(&self) -> &AuditStats {
        &self.stats
    }
}

/// Opens the audit destination and starts the writer thread.
pub fn start(path: &Path, queue: usize) -> std::io::Result<(AuditSink, AuditWriter)> {
    let output: Box<dyn Write + Send> = if path.as_os_str() == "-" {
        Box::new(std::io::stdout())
    } else {
        Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?,
        )
    };
    let (sender, receiver) = mpsc::channel(queue);
    let stats = Arc::new(AuditStats::default());
    let thread_stats = stats.clone();
    let thread = std::thread::Builder::new()
        .name("ironbucket-audit".into())
        .spawn(move || write_loop(receiver, output, &thread_stats))?;
    Ok((
        AuditSink {
            sender,
            stats: stats.clone(),
        },
        AuditWriter { thread, stats },
    ))
}

fn write_loop(
    mut receiver: mpsc::Receiver<AuditRecord>,
    output: Box<dyn Write + Send>,
    stats: &AuditStats,
) {
    let mut output = std::io::BufWriter::with_capacity(64 * 1024, output);
    let mut line = Vec::with_capacity(1024);
    while let Some(record) = receiver.blocking_recv() {
        let mut batch = Some(record);
        // Write everything already queued before flushing once, so a burst costs one write.
        while let Some(record) = batch.take().or_else(|| receiver.try_recv().ok()) {
            line.clear();
            if serde_json::to_writer(&mut line, &record).is_err() {
                stats.write_errors.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            line.push(b'\n');
            match output.write_all(&line) {
                Ok(()) => {
                    stats.written.fetch_add(1, Ordering::Relaxed);
                }
                Err(error) => report_write_error(stats, &error),
            }
        }
        if let Err(error) = output.flush() {
            report_write_error(stats, &error);
        }
    }
    if let Err(error) = output.flush() {
        report_write_error(stats, &error);
    }
}

fn report_write_error(stats: &AuditStats, error: &std::io::Error) {
    let errors = stats.write_errors.fetch_add(1, Ordering::Relaxed) + 1;
    // Log the first error and then one in a thousand, so a full disk does not flood the log.
    if errors == 1 || errors.is_multiple_of(1000) {
        tracing::error!(error = %error, audit.write_errors = errors, "audit write failed");
    }
}

impl AuditWriter {
    /// Waits until every queued record is written. Call after dropping every sink.
    ///
    /// The writer ends only when the last sink is gone, so a sink still held somewhere would
    /// block shutdown forever. After `timeout` this returns anyway: the writer drains the
    /// queue continuously, so by then it has written every record queued before the cores
    /// stopped, and the number written so far is logged.
    pub fn join(self, timeout: std::time::Duration) {
        let deadline = std::time::Instant::now() + timeout;
        while !self.thread.is_finished() {
            if std::time::Instant::now() >= deadline {
                tracing::warn!(
                    audit.written = self.stats.written.load(Ordering::Relaxed),
                    "audit writer still open at exit: a sink was not released"
                );
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        if self.thread.join().is_err() {
            tracing::error!("audit writer thread panicked");
        }
    }
}
