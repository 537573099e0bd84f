//! Server lifecycle: binding one `SO_REUSEPORT` socket per core and listener,
//! starting one thread with its own runtime per core, accepting connections, and
//! graceful shutdown with a deadline.

use std::cell::Cell;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::sync::{Notify, watch};
use tracing::{debug, error, info, warn};

use crate::config::ServerConfig;
use crate::conn::{self, Settings, Transport};
use crate::error::ServerError;
use crate::rt::{self, CoreRuntime, Driver, Io, Listener, TlsAcceptor};
use crate::service::{ConnectionInfo, CoreContext, Service};
use crate::stall;

/// Connections accepted beyond the limit that may wait for their 503 at once;
/// beyond this they are closed without a response.
const MAX_REJECTING: usize = 64;
/// Time the cores get to close their connections after a forced stop.
const FORCE_GRACE: Duration = Duration::from_secs(5);
/// Pause after an accept error such as running out of file descriptors, so the
/// loop does not spin while the condition lasts.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(100);

/// Server-wide lifecycle phase, broadcast to every core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Phase {
    Running,
    /// Stop accepting, finish requests in flight, close idle connections.
    Draining,
    /// Close every connection now.
    Force,
}

enum Event {
    Ready { core: usize, driver: Driver },
    StartFailed { core: usize, error: std::io::Error },
    Exited { core: usize, cut: u64 },
}

/// Entry point for starting a server.
pub struct Server;

impl Server {
    /// Binds every listener on every core and starts the cores. Returns once each
    /// core has its runtime and listeners, or the first error.
    ///
    /// `factory` runs once on each core's thread to build that core's service.
    pub fn start<S, F>(config: ServerConfig, factory: F) -> Result<RunningServer, ServerError>
    where
        S: Service,
        F: Fn(CoreContext) -> S + Send + Sync + 'static,
    {
        config.validate()?;
        let (addrs, sockets) = bind_all(&config)?;
        let (phase_tx, phase_rx) = watch::channel(Phase::Running);
        let (events_tx, events) = mpsc::channel();

        let threads = match spawn_cores(&config, sockets, factory, &phase_rx, &events_tx) {
            Ok(threads) => threads,
            Err(error) => {
                phase_tx.send_replace(Phase::Force);
                return Err(error);
            }
        };
        drop(events_tx);

        let drivers = match wait_until_ready(&events, config.cores) {
            Ok(drivers) => drivers,
            Err(error) => {
                phase_tx.send_replace(Phase::Force);
                for thread in threads {
                    let _ = thread.join();
                }
                return Err(error);
            }
        };
        info!(cores = config.cores, listeners = ?addrs, "server started");
        Ok(RunningServer {
            addrs,
            drivers,
            shared: Arc::new(Shared {
                phase: phase_tx,
                shutdown_at: Mutex::new(None),
            }),
            events,
            threads,
            cores: config.cores,
            finished: false,
        })
    }
}

/// Starts one thread per core, handing each its own socket for every listener.
fn spawn_cores<S, F>(
    config: &ServerConfig,
    mut sockets: Vec<Vec<std::net::TcpListener>>,
    factory: F,
    phase: &watch::Receiver<Phase>,
    events: &mpsc::Sender<Event>,
) -> Result<Vec<JoinHandle<()>>, ServerError>
where
    S: Service,
    F: Fn(CoreContext) -> S + Send + Sync + 'static,
{
    let factory = Arc::new(factory);
    let cpus = if config.pin_cores {
        allowed_cpus()
    } else {
        Vec::new()
    };
    let mut threads = Vec::with_capacity(config.cores);
    for core in 0..config.cores {
        let core_sockets: Vec<std::net::TcpListener> = sockets
            .iter_mut()
            .map(|per_core| per_core.remove(0))
            .collect();
        let thread = CoreThread {
            core,
            cores: config.cores,
            force_epoll: config.force_epoll,
            pin_cpu: cpus.get(core % cpus.len().max(1)).copied(),
            listeners: config
                .listeners
                .iter()
                .zip(core_sockets)
                .map(|(listener, socket)| (socket, listener.tls.clone()))
                .collect(),
            config: config.clone(),
            phase: phase.clone(),
            events: events.clone(),
            factory: Arc::clone(&factory),
        };
        let spawned = std::thread::Builder::new()
            .name(format!("ironbucket-core-{core}"))
            .spawn(move || thread.run());
        match spawned {
            Ok(handle) => threads.push(handle),
            Err(source) => return Err(ServerError::CoreStart { core, source }),
        }
    }
    Ok(threads)
}

/// Waits until every core reports its driver, or returns the first start failure.
fn wait_until_ready(
    events: &mpsc::Receiver<Event>,
    cores: usize,
) -> Result<Vec<Driver>, ServerError> {
    let mut drivers = vec![Driver::Epoll; cores];
    let mut ready = 0;
    while ready < cores {
        match events.recv() {
            Ok(Event::Ready { core, driver }) => {
                drivers[core] = driver;
                ready += 1;
            }
            Ok(Event::StartFailed { core, error }) => {
                return Err(ServerError::CoreStart {
                    core,
                    source: error,
                });
            }
            Ok(Event::Exited { core, .. }) => {
                return Err(ServerError::CoreStart {
                    core,
                    source: std::io::Error::other("core thread exited during startup"),
                });
            }
            Err(_) => {
                return Err(ServerError::CoreStart {
                    core: ready,
                    source: std::io::Error::other("core threads exited during startup"),
                });
            }
        }
    }
    Ok(drivers)
}

/// State shared by a running server and its shutdown handles.
struct Shared {
    phase: watch::Sender<Phase>,
    shutdown_at: Mutex<Option<Instant>>,
}

impl Shared {
    fn shutdown(&self) {
        let started = self.phase.send_if_modified(|phase| {
            if *phase == Phase::Running {
                *phase = Phase::Draining;
                true
            } else {
                false
            }
        });
        if started {
            if let Ok(mut at) = self.shutdown_at.lock() {
                at.get_or_insert_with(Instant::now);
            }
            info!("graceful shutdown started");
        }
    }

    fn shutdown_started(&self) -> Option<Instant> {
        self.shutdown_at.lock().ok().and_then(|at| *at)
    }
}

/// A cloneable, thread-safe handle that starts a graceful shutdown, for signal
/// handlers while another thread sits in [`RunningServer::wait`].
#[derive(Clone)]
pub struct ShutdownHandle {
    shared: Arc<Shared>,
}

impl ShutdownHandle {
    /// Starts a graceful shutdown; calling it again has no effect.
    pub fn shutdown(&self) {
        self.shared.shutdown();
    }
}

/// Outcome of a shutdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Whether every core drained before the deadline.
    pub drained: bool,
    /// Connections closed by force at the deadline, with requests possibly in flight.
    pub connections_cut: u64,
    /// Cores that did not stop even after the forced close (a service that blocks
    /// its thread); their threads are left running.
    pub cores_unresponsive: usize,
    /// Time from the start of the shutdown until `wait` returned.
    pub elapsed: Duration,
}

/// A started server.
pub struct RunningServer {
    addrs: Vec<SocketAddr>,
    drivers: Vec<Driver>,
    shared: Arc<Shared>,
    events: mpsc::Receiver<Event>,
    threads: Vec<JoinHandle<()>>,
    cores: usize,
    finished: bool,
}

impl RunningServer {
    /// Returns the bound address of each listener, in configuration order, with the
    /// port the kernel picked where the configuration gave port 0.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Returns the driver each core's runtime got, indexed by core.
    pub fn drivers(&self) -> &[Driver] {
        &self.drivers
    }

    /// Starts a graceful shutdown: every core stops accepting at once, requests in
    /// flight finish, and idle keep-alive connections close. Closing the listening
    /// sockets resets connections still waiting in the kernel's accept queue.
    pub fn shutdown(&self) {
        self.shared.shutdown();
    }

    /// Returns a handle that can start the shutdown from another thread.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Blocks until a shutdown has been requested (by [`RunningServer::shutdown`] or a
    /// [`ShutdownHandle`]) and every core has drained, or until `deadline` after the
    /// request, when the remaining connections are closed by force. Also returns if
    /// every core stops on its own (a panic in a core thread).
    pub fn wait(mut self, deadline: Duration) -> ShutdownReport {
        let mut exited = 0;
        let mut cut = 0;
        let mut forced_at: Option<Instant> = None;
        while exited < self.cores {
            let timeout = match (self.shared.shutdown_started(), forced_at) {
                (None, _) => Duration::from_millis(50),
                (Some(started), None) => {
                    let left = (started + deadline).saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        warn!("shutdown deadline passed, closing remaining connections");
                        self.shared.phase.send_replace(Phase::Force);
                        forced_at = Some(Instant::now());
                        continue;
                    }
                    left.min(Duration::from_millis(50))
                }
                (Some(_), Some(forced)) => {
                    let left = (forced + FORCE_GRACE).saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    left
                }
            };
            match self.events.recv_timeout(timeout) {
                Ok(Event::Exited { cut: core_cut, .. }) => {
                    exited += 1;
                    cut += core_cut;
                }
                Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        let unresponsive = self.cores - exited;
        for thread in std::mem::take(&mut self.threads) {
            if unresponsive == 0 {
                let _ = thread.join();
            }
        }
        self.finished = true;
        let elapsed = self
            .shared
            .shutdown_started()
            .map_or(Duration::ZERO, |started| started.elapsed());
        let report = ShutdownReport {
            drained: forced_at.is_none() && unresponsive == 0,
            connections_cut: cut,
            cores_unresponsive: unresponsive,
            elapsed,
        };
        info!(
            drained = report.drained,
            connections_cut = cut,
            cores_unresponsive = unresponsive,
            "server stopped"
        );
        report
    }
}

impl Drop for RunningServer {
    /// Dropping a server that was never waited for closes every connection at once.
    fn drop(&mut self) {
        if !self.finished {
            self.shared.phase.send_replace(Phase::Force);
        }
    }
}

/// Binds every listener once per core. A probe socket without `SO_REUSEPORT` is
/// bound first: `SO_REUSEPORT` would otherwise let this server silently share the
/// address with another one that is already listening.
fn bind_all(
    config: &ServerConfig,
) -> Result<(Vec<SocketAddr>, Vec<Vec<std::net::TcpListener>>), ServerError> {
    let mut addrs = Vec::with_capacity(config.listeners.len());
    let mut sockets = Vec::with_capacity(config.listeners.len());
    for listener in &config.listeners {
        let addr = probe(listener.addr)?;
        let mut per_core = Vec::with_capacity(config.cores);
        for _ in 0..config.cores {
            per_core.push(bind_reuse_port(addr, config.backlog)?);
        }
        addrs.push(addr);
        sockets.push(per_core);
    }
    Ok((addrs, sockets))
}

fn new_socket(addr: SocketAddr) -> std::io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // SO_REUSEADDR lets a restarted server bind while old connections sit in
    // TIME_WAIT; on Linux it never allows two listening sockets on one address.
    socket.set_reuse_address(true)?;
    Ok(socket)
}

/// Binds `addr` without `SO_REUSEPORT` and returns the bound address.
fn probe(addr: SocketAddr) -> Result<SocketAddr, ServerError> {
    let listen_error = |source| ServerError::Listen { addr, source };
    let socket = new_socket(addr).map_err(listen_error)?;
    if let Err(source) = socket.bind(&addr.into()) {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            return Err(ServerError::AddressInUse { addr });
        }
        return Err(listen_error(source));
    }
    let bound = socket.local_addr().map_err(listen_error)?;
    bound
        .as_socket()
        .ok_or_else(|| listen_error(std::io::Error::other("bound address is not an IP address")))
}

fn bind_reuse_port(addr: SocketAddr, backlog: u32) -> Result<std::net::TcpListener, ServerError> {
    let listen_error = |source| ServerError::Listen { addr, source };
    let socket = new_socket(addr).map_err(listen_error)?;
    socket.set_reuse_port(true).map_err(listen_error)?;
    if let Err(source) = socket.bind(&addr.into()) {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            return Err(ServerError::AddressInUse { addr });
        }
        return Err(listen_error(source));
    }
    // The backlog was checked to fit an i32 by validation.
    let backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
    socket.listen(backlog).map_err(listen_error)?;
    Ok(socket.into())
}

/// Returns the CPUs this process may run on, from `Cpus_allowed_list` in
/// `/proc/self/status` (for example `0-3,8`).
fn allowed_cpus() -> Vec<usize> {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return Vec::new();
    };
    let Some(list) = status
        .lines()
        .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
    else {
        return Vec::new();
    };
    let mut cpus = Vec::new();
    for range in list.trim().split(',') {
        let parsed = match range.split_once('-') {
            Some((first, last)) => first.parse::<usize>().ok().zip(last.parse::<usize>().ok()),
            None => range.parse::<usize>().ok().map(|cpu| (cpu, cpu)),
        };
        if let Some((first, last)) = parsed {
            cpus.extend(first..=last.min(first + 4096));
        }
    }
    cpus
}

/// Everything one core thread needs.
struct CoreThread<F> {
    core: usize,
    cores: usize,
    force_epoll: bool,
    pin_cpu: Option<usize>,
    listeners: Vec<(std::net::TcpListener, Option<Arc<rustls::ServerConfig>>)>,
    config: ServerConfig,
    phase: watch::Receiver<Phase>,
    events: mpsc::Sender<Event>,
    factory: Arc<F>,
}

/// Sends the exit event when the core thread ends, even by a panic.
struct ExitGuard {
    core: usize,
    cut: Rc<Cell<u64>>,
    events: mpsc::Sender<Event>,
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            error!(core = self.core, "core thread panicked");
        }
        let _ = self.events.send(Event::Exited {
            core: self.core,
            cut: self.cut.get(),
        });
    }
}

impl<F> CoreThread<F> {
    fn run<S>(self)
    where
        S: Service,
        F: Fn(CoreContext) -> S,
    {
        let core = self.core;
        let guard = ExitGuard {
            core,
            cut: Rc::new(Cell::new(0)),
            events: self.events.clone(),
        };
        if let Some(cpu) = self.pin_cpu {
            match monoio::utils::bind_to_cpu_set([cpu]) {
                Ok(()) => debug!(core, cpu, "core pinned"),
                Err(error) => warn!(core, cpu, error = %error, "failed to pin core to CPU"),
            }
        }
        let (mut runtime, driver) = match CoreRuntime::build(self.force_epoll) {
            Ok(built) => built,
            Err(error) => {
                let _ = self.events.send(Event::StartFailed { core, error });
                return;
            }
        };
        info!(core, driver = driver.as_str(), "core runtime started");
        let cut = Rc::clone(&guard.cut);
        runtime.block_on(self.serve(driver, cut));
        drop(guard);
    }

    async fn serve<S>(self, driver: Driver, cut: Rc<Cell<u64>>)
    where
        S: Service,
        F: Fn(CoreContext) -> S,
    {
        let core = self.core;
        let mut listeners = Vec::with_capacity(self.listeners.len());
        for (socket, tls) in self.listeners {
            match Listener::from_std(socket) {
                Ok(listener) => listeners.push((listener, tls)),
                Err(error) => {
                    let _ = self.events.send(Event::StartFailed { core, error });
                    return;
                }
            }
        }
        let context = CoreContext {
            core,
            cores: self.cores,
            driver,
        };
        let service = Rc::new((self.factory)(context));
        let state = Rc::new(CoreState {
            core,
            settings: Rc::new(Settings {
                limits: self.config.limits.clone(),
                timeouts: self.config.timeouts.clone(),
            }),
            max_connections: self.config.max_connections_per_core,
            phase: self.phase.clone(),
            active: Cell::new(0),
            serving: Cell::new(0),
            rejecting: Cell::new(0),
            next_id: Cell::new(0),
            cut,
            idle: Notify::new(),
            stopping: Cell::new(false),
        });
        for (listener, tls) in listeners {
            rt::spawn(accept_loop(
                listener,
                tls.map(TlsAcceptor::new),
                Rc::clone(&state),
                Rc::clone(&service),
            ));
        }
        let stall = rt::spawn_joinable(stall::detect(
            core,
            self.config.stall_threshold,
            Rc::clone(&state),
        ));
        let _ = self.events.send(Event::Ready { core, driver });

        let mut phase = self.phase;
        let _ = phase.wait_for(|phase| *phase != Phase::Running).await;
        debug!(core, open = state.active.get(), "core draining");
        while state.active.get() > 0 {
            state.idle.notified().await;
        }
        state.stopping.set(true);
        stall.await;
        debug!(core, "core stopped");
    }
}

/// Per-core counters and signals shared by the core's tasks.
pub(crate) struct CoreState {
    core: usize,
    settings: Rc<Settings>,
    max_connections: usize,
    phase: watch::Receiver<Phase>,
    /// Connection tasks alive, including those sending a 503.
    active: Cell<usize>,
    /// Connections being served (counted against the limit).
    serving: Cell<usize>,
    /// Connections over the limit waiting for their 503 to go out.
    rejecting: Cell<usize>,
    next_id: Cell<u64>,
    cut: Rc<Cell<u64>>,
    /// Notified when `active` drops to zero.
    idle: Notify,
    /// Set when the core is about to stop, so background tasks end.
    pub(crate) stopping: Cell<bool>,
}

/// Decrements a counter when a connection task ends, even by a panic.
struct CountGuard<'a> {
    counter: &'a Cell<usize>,
}

impl Drop for CountGuard<'_> {
    fn drop(&mut self) {
        self.counter.set(self.counter.get() - 1);
    }
}

/// Takes over a count that `accept_loop` already added, to give it back when the task ends.
fn counted(counter: &Cell<usize>) -> CountGuard<'_> {
    CountGuard { counter }
}

fn increment(counter: &Cell<usize>) {
    counter.set(counter.get() + 1);
}

async fn accept_loop<S: Service>(
    listener: Listener,
    tls: Option<TlsAcceptor>,
    state: Rc<CoreState>,
    service: Rc<S>,
) {
    let core = state.core;
    let mut phase = state.phase.clone();
    loop {
        let accepted = monoio::select! {
            _ = phase.wait_for(|phase| *phase != Phase::Running) => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                let id = state.next_id.get();
                state.next_id.set(id + 1);
                let info = ConnectionInfo {
                    peer,
                    local: stream.local_addr(),
                    tls: tls.is_some(),
                    core,
                    connection_id: ((core as u64) << 48) | (id & ((1 << 48) - 1)),
                };
                let busy = state.serving.get() >= state.max_connections;
                if busy && (tls.is_some() || state.rejecting.get() >= MAX_REJECTING) {
                    debug!(core, client.addr = %peer, "connection limit reached, closing new connection");
                    continue;
                }
                // Counted here, before the task first runs: a driver that accepts a whole
                // backlog without yielding (epoll) would otherwise see no connection as open
                // and admit the burst past the limit.
                increment(&state.active);
                increment(if busy {
                    &state.rejecting
                } else {
                    &state.serving
                });
                rt::spawn(connection_task(
                    stream,
                    tls.clone(),
                    info,
                    busy,
                    Rc::clone(&state),
                    Rc::clone(&service),
                ));
            }
            Err(error) => {
                use std::io::ErrorKind;
                if matches!(
                    error.kind(),
                    ErrorKind::ConnectionAborted
                        | ErrorKind::ConnectionReset
                        | ErrorKind::Interrupted
                ) {
                    continue;
                }
                warn!(core, error = %error, "accept failed, pausing");
                rt::sleep(ACCEPT_ERROR_BACKOFF).await;
            }
        }
    }
    debug!(core, "listener closed");
}

async fn connection_task<S: Service>(
    stream: rt::TcpStream,
    tls: Option<TlsAcceptor>,
    info: ConnectionInfo,
    busy: bool,
    state: Rc<CoreState>,
    service: Rc<S>,
) {
    let _active = counted(&state.active);
    let _slot = counted(if busy {
        &state.rejecting
    } else {
        &state.serving
    });
    let mut force = state.phase.clone();
    let core = state.core;
    let peer = info.peer;
    let connection = async {
        debug!(core, client.addr = %peer, connection = info.connection_id, tls = info.tls, "connection accepted");
        let io = match tls {
            None => Io::plain(stream),
            Some(acceptor) => match acceptor
                .accept(stream, state.settings.timeouts.tls_handshake)
                .await
            {
                Ok(io) => io,
                Err(error) => {
                    debug!(core, client.addr = %peer, error = %error, "TLS handshake failed");
                    return;
                }
            },
        };
        let transport = Transport::new(io, Rc::clone(&state.settings));
        if busy {
            conn::reject_busy(service, transport, info).await;
        } else {
            conn::serve(service, transport, info, state.phase.clone()).await;
        }
    };
    let guarded = AssertUnwindSafe(connection).catch_unwind();
    monoio::select! {
        finished = guarded => {
            if finished.is_err() {
                error!(core, client.addr = %peer, "connection task panicked, connection closed");
            }
        }
        _ = force.wait_for(|phase| *phase == Phase::Force) => {
            state.cut.set(state.cut.get() + 1);
            debug!(core, client.addr = %peer, "connection cut at shutdown deadline");
        }
    }
    drop(_slot);
    drop(_active);
    if state.active.get() == 0 {
        state.idle.notify_one();
    }
}
