//! Start-up and shutdown: compile the policies, open the storage runtime and the audit writer,
//! start one core per CPU, and on SIGTERM or SIGINT drain them within the configured deadline.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use arc_swap::ArcSwap;
use ironbucket_adapters::{
    Backend, ErrorKind as StorageKind, StorageClient, StorageConfig, StorageRuntime,
};
use ironbucket_http::{CoreContext, ListenerConfig, Server, ServerConfig};
use ironbucket_policy::{DecisionTable, Severity, SourceFile};

use crate::config::{BackendKind, Config};
use crate::gateway::{Gateway, Shared};
use crate::identity::CredentialStore;

/// Runs the gateway until SIGTERM or SIGINT, then drains it. Returns once every core stopped.
pub fn serve(config: Config, cores: Option<usize>) -> anyhow::Result<()> {
    let config = Arc::new(config);
    let table = load_policies(&config.policy.dir)?;
    let credentials =
        CredentialStore::from_config(&config.credentials).map_err(anyhow::Error::msg)?;

    let (storage_runtime, storage) = StorageRuntime::start(storage_config(&config))
        .context("cannot open the storage backend")?;
    let bucket_tenants = ensure_configured_buckets(&config, &storage)?;

    let (audit, audit_writer) = crate::audit::start(&config.audit.path, config.audit.queue)
        .with_context(|| format!("cannot open audit log {}", config.audit.path.display()))?;

    let shared = Arc::new(Shared {
        config: config.clone(),
        credentials,
        policy: ArcSwap::from_pointee(table),
        storage,
        audit,
        bucket_tenants,
    });

    let server_config = server_config(&config, cores)?;
    let factory_shared = shared.clone();
    let server = Server::start(server_config, move |core: CoreContext| {
        Gateway::new(factory_shared.clone(), core.core)
    })?;
    for address in server.local_addrs() {
        tracing::info!(listen.addr = %address, "listening");
    }
    tracing::info!(
        cores = server.drivers().len(),
        region = %config.server.region,
        credentials = shared.credentials.len(),
        "ironbucket started"
    );

    wait_for_signal()?;
    tracing::info!(
        deadline_secs = config.server.shutdown_deadline_secs,
        "shutting down"
    );
    server.shutdown();
    let report = server.wait(config.shutdown_deadline());
    tracing::info!(
        drained = report.drained,
        connections_cut = report.connections_cut,
        elapsed_ms = report.elapsed.as_millis() as u64,
        "cores stopped"
    );

    // Every core has stopped, so the last audit sink goes with `shared`, and the writer
    // flushes what is queued before it exits.
    drop(shared);
    audit_writer.join();
    storage_runtime.shutdown(Duration::from_secs(5));
    tracing::info!("ironbucket stopped");
    Ok(())
}

/// Reads every `.yaml`, `.yml` and `.json` file of the policy directory and compiles them.
/// Any error stops the start; warnings are logged. An empty directory denies everything.
pub fn load_policies(dir: &Path) -> anyhow::Result<DecisionTable> {
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
    let mut sources = Vec::with_capacity(paths.len());
    for path in &paths {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read policy file {}", path.display()))?;
        sources.push(SourceFile {
            path: path.display().to_string(),
            text,
        });
    }

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
        "policies loaded"
    );
    Ok(table)
}

fn storage_config(config: &Config) -> StorageConfig {
    let backend = match config.storage.backend {
        BackendKind::Fs => Backend::Fs {
            root: config.storage.root.clone().unwrap_or_default(),
        },
        BackendKind::Memory => Backend::Memory,
    };
    let mut storage = StorageConfig::new(backend);
    storage.workers = config.storage.workers;
    storage.min_part_size = config.storage.min_part_size;
    storage
}

/// Creates the buckets the configuration names when they are missing, and returns the tenant
/// of each, which overrides whatever tenant the backend stored for it.
fn ensure_configured_buckets(
    config: &Config,
    storage: &StorageClient,
) -> anyhow::Result<HashMap<String, String>> {
    let mut tenants = HashMap::new();
    for bucket in &config.buckets {
        if !ironbucket_s3::names::is_valid_bucket_name(&bucket.name) {
            bail!("buckets: {:?} is not a valid S3 bucket name", bucket.name);
        }
        let created =
            futures_executor_block_on(storage.create_bucket(&bucket.name, &bucket.tenant));
        match created {
            Ok(_) => {
                tracing::info!(s3.bucket = %bucket.name, tenant = %bucket.tenant, "configured bucket created")
            }
            Err(error) if error.kind() == StorageKind::BucketAlreadyExists => {}
            Err(error) => {
                return Err(anyhow::Error::new(error)
                    .context(format!("cannot create configured bucket {}", bucket.name)));
            }
        }
        tenants.insert(bucket.name.clone(), bucket.tenant.clone());
    }
    Ok(tenants)
}

/// Runs a storage call to completion on the start-up thread. The storage client's futures
/// need no particular executor, so a minimal one that parks the thread is enough.
fn futures_executor_block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};

    struct ThreadWaker(std::thread::Thread);
    impl Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut context) {
            Poll::Ready(output) => return output,
            Poll::Pending => std::thread::park(),
        }
    }
}

fn server_config(config: &Config, cores: Option<usize>) -> anyhow::Result<ServerConfig> {
    let mut listeners = Vec::new();
    if let Some(address) = config.server.listen {
        listeners.push(ListenerConfig::plain(address));
    }
    if let Some(tls) = &config.server.tls {
        let tls_config = ironbucket_http::tls::load_server_config(&tls.cert, &tls.key)
            .context("cannot load the TLS certificate")?;
        listeners.push(ListenerConfig::tls(tls.listen, tls_config));
    }
    let mut server = ServerConfig::new(listeners);
    let configured = cores.unwrap_or(config.server.cores);
    if configured > 0 {
        server.cores = configured;
    }
    server.force_epoll = config.server.force_epoll;
    let limits = &config.limits;
    server.max_connections_per_core = limits.max_connections_per_core;
    server.limits.max_head_bytes = limits.max_head_bytes;
    server.limits.max_headers = limits.max_headers;
    server.limits.max_uri_bytes = limits.max_uri_bytes;
    server.timeouts.head = Duration::from_millis(limits.head_timeout_ms);
    server.timeouts.idle = Duration::from_millis(limits.idle_timeout_ms);
    server.timeouts.body_read = Duration::from_millis(limits.body_timeout_ms);
    server.timeouts.write = Duration::from_millis(limits.write_timeout_ms);
    Ok(server)
}

/// Blocks until SIGTERM or SIGINT arrives.
fn wait_for_signal() -> anyhow::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])
        .context("cannot install signal handlers")?;
    if let Some(signal) = signals.forever().next() {
        tracing::info!(signal, "signal received");
    }
    Ok(())
}
