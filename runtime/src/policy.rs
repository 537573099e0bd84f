//! The live policies: the decision table every core reads through `ArcSwap`, an optional
//! shadow table evaluated beside it, and the reloader thread that recompiles them when the
//! policy directory changes, on SIGHUP and on request from the admin listener.
//!
//! A reload that fails keeps the last good table and reports the error in the log, in the
//! metrics and on the admin listener. Cores never wait for a reload: they load whichever table
//! is current once per request, so no request sees half of two versions.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, bail};
use arc_swap::{ArcSwap, ArcSwapOption};
use ironbucket_policy::{DecisionTable, Severity, SourceFile};
use tokio::sync::oneshot;

use crate::metrics::Metrics;

/// The outcome of the latest reload attempt, shown by the admin listener.
#[derive(Debug, Clone)]
pub struct ReloadStatus {
    pub digest: String,
    pub policy_count: usize,
    pub loaded_at: SystemTime,
    pub last_attempt: SystemTime,
    /// The trigger of the latest attempt: `startup`, `file-change`, `sighup` or `admin`.
    pub trigger: &'static str,
    /// The error of the latest attempt, when it failed.
    pub last_error: Option<String>,
}

/// The origin of the live policies.
#[derive(Debug, Clone)]
pub enum PolicySource {
    /// A directory of policy documents, compiled at each load.
    Dir(PathBuf),
    /// A table file from `ironbucket-policy compile`, verified against `public_key` if set.
    Table {
        path: PathBuf,
        public_key: Option<PathBuf>,
    },
}

impl PolicySource {
    /// Loads and compiles (or verifies) the source into a decision table.
    pub fn load(&self) -> anyhow::Result<DecisionTable> {
        match self {
            PolicySource::Dir(dir) => compile_dir(dir),
            PolicySource::Table { path, public_key } => {
                load_table_file(path, public_key.as_deref())
            }
        }
    }

    /// Returns the files whose change triggers a reload.
    fn watched_files(&self) -> Vec<PathBuf> {
        match self {
            PolicySource::Dir(dir) => policy_files(dir).unwrap_or_default(),
            PolicySource::Table { path, public_key } => {
                let mut files = vec![path.clone()];
                files.extend(public_key.clone());
                files
            }
        }
    }
}

/// The tables the cores read.
pub struct PolicyStore {
    pub live: ArcSwap<DecisionTable>,
    /// A candidate table evaluated beside the live one; disagreements are audited.
    pub shadow: ArcSwapOption<DecisionTable>,
    pub status: ArcSwap<ReloadStatus>,
    source: PolicySource,
    shadow_source: Option<PolicySource>,
}

impl PolicyStore {
    /// Loads the policies at start-up. Any error here stops the start.
    pub fn load(source: PolicySource, shadow_dir: Option<&Path>) -> anyhow::Result<PolicyStore> {
        let shadow_source = shadow_dir.map(|dir| PolicySource::Dir(dir.to_owned()));
        let table = source.load()?;
        let shadow = shadow_source.as_ref().map(PolicySource::load).transpose()?;
        let now = SystemTime::now();
        let status = ReloadStatus {
            digest: table.digest().to_owned(),
            policy_count: table.policy_count(),
            loaded_at: now,
            last_attempt: now,
            trigger: "startup",
            last_error: None,
        };
        Ok(PolicyStore {
            live: ArcSwap::from_pointee(table),
            shadow: ArcSwapOption::new(shadow.map(Arc::new)),
            status: ArcSwap::from_pointee(status),
            source,
            shadow_source,
        })
    }

    /// Recompiles both directories and swaps the new tables in whole. On any error the
    /// current tables stay, and the error is recorded.
    pub fn reload(&self, trigger: &'static str, metrics: &Metrics) -> Result<ReloadStatus, String> {
        let result = self.source.load().and_then(|table| {
            let shadow = self
                .shadow_source
                .as_ref()
                .map(PolicySource::load)
                .transpose()?;
            Ok((table, shadow))
        });
        let previous = self.status.load_full();
        let now = SystemTime::now();
        match result {
            Ok((table, shadow)) => {
                let status = ReloadStatus {
                    digest: table.digest().to_owned(),
                    policy_count: table.policy_count(),
                    loaded_at: now,
                    last_attempt: now,
                    trigger,
                    last_error: None,
                };
                self.live.store(Arc::new(table));
                self.shadow.store(shadow.map(Arc::new));
                self.status.store(Arc::new(status.clone()));
                metrics.policy_reloads.fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    policy.digest = %status.digest,
                    policy.count = status.policy_count,
                    trigger,
                    "policies reloaded"
                );
                Ok(status)
            }
            Err(error) => {
                let message = format!("{error:#}");
                metrics
                    .policy_reload_failures
                    .fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    error = %message,
                    trigger,
                    policy.digest = %previous.digest,
                    "policy reload failed; keeping the last good table"
                );
                let status = ReloadStatus {
                    last_attempt: now,
                    trigger,
                    last_error: Some(message.clone()),
                    ..(*previous).clone()
                };
                self.status.store(Arc::new(status));
                Err(message)
            }
        }
    }

    pub fn source(&self) -> &PolicySource {
        &self.source
    }
}

/// Reads a compiled table file, verifying its signature when a public key is configured.
pub fn load_table_file(path: &Path, public_key: Option<&Path>) -> anyhow::Result<DecisionTable> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read policy table {}", path.display()))?;
    let key = public_key
        .map(|key| {
            std::fs::read(key)
                .with_context(|| format!("cannot read policy public key {}", key.display()))
        })
        .transpose()?;
    let table = ironbucket_policy::load_table(&bytes, key.as_deref())
        .with_context(|| format!("policy table {} was rejected", path.display()))?;
    tracing::info!(
        policy.table = %path.display(),
        policy.count = table.policy_count(),
        policy.digest = table.digest(),
        signature_checked = public_key.is_some(),
        "policy table loaded"
    );
    Ok(table)
}

/// Reads every `.yaml`, `.yml` and `.json` file of `dir` and compiles them. Warnings are
/// logged; any error fails with the first diagnostic. An empty directory denies everything.
pub fn compile_dir(dir: &Path) -> anyhow::Result<DecisionTable> {
    let sources = read_sources(dir)?;
    let compilation = ironbucket_policy::compile(&sources);
    for diagnostic in &compilation.diagnostics {
        match diagnostic.severity {
            Severity::Error => tracing::error!("{diagnostic}"),
            Severity::Warning => tracing::warn!("{diagnostic}"),
            _ => tracing::info!("{diagnostic}"),
        }
    }
    let Some(table) = compilation.table else {
        let errors = compilation
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .count();
        let first = compilation
            .diagnostics
            .iter()
            .find(|d| d.is_error())
            .map(ToString::to_string)
            .unwrap_or_default();
        bail!(
            "{errors} error(s) in the policies of {}; the first: {first}",
            dir.display()
        );
    };
    if table.policy_count() == 0 {
        tracing::warn!(policy.dir = %dir.display(), "no policies loaded: every request will be denied");
    }
    tracing::info!(
        policy.dir = %dir.display(),
        policy.count = table.policy_count(),
        policy.digest = table.digest(),
        "policies compiled"
    );
    Ok(table)
}

fn policy_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read policy directory {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        let is_policy = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"));
        if is_policy && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

fn read_sources(dir: &Path) -> anyhow::Result<Vec<SourceFile>> {
    let mut sources = Vec::new();
    for path in policy_files(dir)? {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read policy file {}", path.display()))?;
        sources.push(SourceFile {
            path: path.display().to_string(),
            text,
        });
    }
    Ok(sources)
}

/// Lists what changes when a policy file is edited, added or removed: names, sizes and times.
fn fingerprint(sources: &[&PolicySource]) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut entries = Vec::new();
    for source in sources {
        for path in source.watched_files() {
            let meta = std::fs::metadata(&path).ok();
            let size = meta.as_ref().map_or(0, std::fs::Metadata::len);
            let modified = meta.and_then(|m| m.modified().ok());
            entries.push((path, size, modified));
        }
    }
    entries
}

/// A request to the reloader thread; the reply carries the new status or the error.
pub struct ReloadRequest {
    pub trigger: &'static str,
    pub reply: Option<oneshot::Sender<Result<ReloadStatus, String>>>,
}

/// Starts the thread that performs every reload, so that file I/O and compilation never run
/// on a core. It also polls the policy directories every `watch_interval` (if set) and
/// reloads when a file changed.
pub fn start_reloader(
    store: Arc<PolicyStore>,
    metrics: Arc<Metrics>,
    watch_interval: Option<Duration>,
) -> std::io::Result<mpsc::Sender<ReloadRequest>> {
    let (sender, receiver) = mpsc::channel::<ReloadRequest>();
    std::thread::Builder::new()
        .name("ironbucket-policy".into())
        .spawn(move || {
            let mut sources = vec![&store.source];
            sources.extend(store.shadow_source.as_ref());
            let watched_refs = sources;
            let mut last_seen = fingerprint(&watched_refs);
            loop {
                let request = match watch_interval {
                    Some(interval) => match receiver.recv_timeout(interval) {
                        Ok(request) => Some(request),
                        Err(mpsc::RecvTimeoutError::Timeout) => None,
                        Err(mpsc::RecvTimeoutError::Disconnected) => return,
                    },
                    None => match receiver.recv() {
                        Ok(request) => Some(request),
                        Err(_) => return,
                    },
                };
                let current = fingerprint(&watched_refs);
                match request {
                    Some(request) => {
                        let result = store.reload(request.trigger, &metrics);
                        if let Some(reply) = request.reply {
                            let _ = reply.send(result);
                        }
                    }
                    None if current != last_seen => {
                        let _ = store.reload("file-change", &metrics);
                    }
                    None => {}
                }
                last_seen = current;
            }
        })?;
    Ok(sender)
}
