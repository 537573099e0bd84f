//! Start-up and shutdown: compile the policies, open the storage runtime and the audit writer,
//! start one core per CPU, and on SIGTERM or SIGINT drain them within the configured deadline.

use std::collections::HashMap;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use anyhow::{Context as _, bail};
use ironbucket_adapters::{
    Backend, ErrorKind as StorageKind, StorageClient, StorageConfig, StorageRuntime,
};
use ironbucket_http::{CoreContext, ListenerConfig, RunningServer, Server, ServerConfig};

use crate::admin::{AdminService, AdminState};
use crate::config::{BackendKind, Config};
use crate::gateway::{Gateway, Shared};
use crate::identity::CredentialStore;
use crate::metrics::Metrics;
use crate::policy::{PolicySource, PolicyStore, ReloadRequest, start_reloader};

/// Runs the gateway until SIGTERM or SIGINT, then drains it. Returns once every core stopped.
pub fn serve(config: Config, cores: Option<usize>) -> anyhow::Result<()> {
    let config = Arc::new(config);
    let policy = Arc::new(PolicyStore::load(
        policy_source(&config),
        config.policy.shadow_dir.as_deref(),
    )?);
    let credentials =
        CredentialStore::from_config(&config.credentials).map_err(anyhow::Error::msg)?;

    let server_config = server_config(&config, cores)?;
    let (storage_runtime, storage) =
        StorageRuntime::start(storage_config(&config, server_config.cores))
            .context("cannot open the storage backend")?;
    let bucket_tenants = ensure_configured_buckets(&config, &storage)?;

    let (audit, audit_writer) = crate::audit::start(&config.audit.path, config.audit.queue)
        .with_context(|| format!("cannot open audit log {}", config.audit.path.display()))?;

    let metrics = Arc::new(Metrics::new(server_config.cores));
    let watch = (config.policy.watch_interval_secs > 0)
        .then(|| Duration::from_secs(config.policy.watch_interval_secs));
    let reloader = start_reloader(policy.clone(), metrics.clone(), watch)
        .context("cannot start the policy reloader thread")?;

    let shared = Arc::new(Shared {
        config: config.clone(),
        credentials,
        policy: policy.clone(),
        metrics: metrics.clone(),
        storage,
        audit: audit.clone(),
        bucket_tenants,
        bucket_epoch: std::sync::atomic::AtomicU64::new(0),
    });
    let admin_state = Arc::new(AdminState {
        policy,
        metrics,
        audit,
        reloader: reloader.clone(),
        drivers: std::sync::OnceLock::new(),
        token: admin_token(&config)?,
    });

    let factory_shared = shared.clone();
    let server = Server::start(server_config, move |core: CoreContext| {
        Gateway::new(factory_shared.clone(), core.core)
    })?;
    let _ = admin_state.drivers.set(
        server
            .drivers()
            .iter()
            .map(|driver| driver.as_str())
            .collect(),
    );
    let admin = start_admin(&config, admin_state.clone())?;
    for address in server.local_addrs() {
        tracing::info!(listen.addr = %address, "listening");
    }
    tracing::info!(
        cores = server.drivers().len(),
        region = %config.server.region,
        credentials = shared.credentials.len(),
        "ironbucket started"
    );

    wait_for_stop_signal(&reloader)?;
    tracing::info!(
        deadline_secs = config.server.shutdown_deadline_secs,
        "shutting down"
    );
    if let Some(admin) = &admin {
        admin.shutdown();
    }
    server.shutdown();
    let report = server.wait(config.shutdown_deadline());
    tracing::info!(
        drained = report.drained,
        connections_cut = report.connections_cut,
        elapsed_ms = report.elapsed.as_millis() as u64,
        "cores stopped"
    );

    if let Some(admin) = admin {
        admin.wait(Duration::from_secs(1));
    }

    // Every core has stopped, so the last audit sinks go with `shared` and `admin_state`, and
    // the writer flushes what is queued before it exits.
    drop(shared);
    drop(admin_state);
    audit_writer.join(Duration::from_secs(5));
    storage_runtime.shutdown(Duration::from_secs(5));
    tracing::info!("ironbucket stopped");
    Ok(())
}

/// The policy source the configuration names; validation guarantees one of the two.
pub fn policy_source(config: &Config) -> PolicySource {
    match (&config.policy.dir, &config.policy.table) {
        (_, Some(table)) => PolicySource::Table {
            path: table.clone(),
            public_key: config.policy.public_key.clone(),
        },
        (Some(dir), None) => PolicySource::Dir(dir.clone()),
        (None, None) => PolicySource::Dir(config.base_dir.join("policies")),
    }
}

fn storage_config(config: &Config, cores: usize) -> StorageConfig {
    let backend = match config.storage.backend {
        BackendKind::Fs => Backend::Fs {
            root: config.storage.root.clone().unwrap_or_default(),
        },
        BackendKind::Memory => Backend::Memory,
    };
    let mut storage = StorageConfig::new(backend);
    storage.workers = config.storage.workers;
    // Every open upload or download occupies a storage job for its whole life, so the job limit
    // must exceed what the connection limits admit, or idle uploads would starve other requests.
    storage.max_jobs = storage
        .max_jobs
        .max(config.limits.max_connections_per_core * cores + 1024);
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

/// Starts the admin listener on a core thread of its own, when one is configured.
fn start_admin(config: &Config, state: Arc<AdminState>) -> anyhow::Result<Option<RunningServer>> {
    let Some(admin) = &config.admin else {
        return Ok(None);
    };
    let mut server_config = ServerConfig::new(vec![ListenerConfig::plain(admin.listen)]);
    server_config.cores = 1;
    server_config.force_epoll = config.server.force_epoll;
    server_config.max_connections_per_core = 256;
    let server = Server::start(server_config, move |_core: CoreContext| {
        AdminService::new(state.clone())
    })
    .context("cannot start the admin listener")?;
    for address in server.local_addrs() {
        tracing::info!(admin.addr = %address, "admin listening");
    }
    Ok(Some(server))
}

fn admin_token(config: &Config) -> anyhow::Result<Option<String>> {
    let Some(name) = config
        .admin
        .as_ref()
        .and_then(|admin| admin.token_env.as_ref())
    else {
        return Ok(None);
    };
    match std::env::var(name) {
        Ok(token) if !token.is_empty() => Ok(Some(token)),
        _ => bail!("admin.token_env names {name}, which is not set or empty"),
    }
}

/// Blocks until SIGTERM or SIGINT arrives. SIGHUP reloads the policies and keeps waiting.
fn wait_for_stop_signal(reloader: &mpsc::Sender<ReloadRequest>) -> anyhow::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])
        .context("cannot install signal handlers")?;
    for signal in signals.forever() {
        if signal == SIGHUP {
            tracing::info!("SIGHUP received: reloading policies");
            let request = ReloadRequest {
                trigger: "sighup",
                reply: None,
            };
            if reloader.send(request).is_err() {
                tracing::error!("policy reloader stopped; SIGHUP ignored");
            }
            continue;
        }
        tracing::info!(signal, "signal received");
        break;
    }
    // A second SIGTERM or SIGINT during the drain means "stop now": the operator gave up on
    // the requests still in flight, so the process exits without waiting for them.
    std::thread::Builder::new()
        .name("ironbucket-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().find(|signal| *signal != SIGHUP) {
                tracing::warn!(
                    signal,
                    "second signal received: exiting without finishing requests in flight"
                );
                std::process::exit(1);
            }
        })
        .context("cannot start the signal thread")?;
    Ok(())
}
