//! Runtime glue: every use of monoio (runtime building, listeners, TCP and TLS
//! streams, task spawning, timers and owned-buffer I/O) lives in this module, so
//! that moving the server to another thread-per-core runtime such as compio
//! changes this file and leaves the HTTP code alone.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRent};
use monoio::time::TimeDriver;
use monoio::{FusionRuntime, IoUringDriver, LegacyDriver, Runtime, RuntimeBuilder};

pub(crate) use monoio::time::Instant;

/// The I/O driver a core's runtime runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Driver {
    /// Linux io_uring, used whenever the kernel offers it and `force_epoll` is off.
    IoUring,
    /// The readiness-based fallback driver (epoll on Linux).
    Epoll,
}

impl Driver {
    /// Returns the name used in logs: `io_uring` or `epoll`.
    pub fn as_str(self) -> &'static str {
        match self {
            Driver::IoUring => "io_uring",
            Driver::Epoll => "epoll",
        }
    }
}

impl fmt::Display for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A monoio runtime with a timer, on whichever driver it was built with.
pub(crate) enum CoreRuntime {
    Fusion(FusionRuntime<TimeDriver<IoUringDriver>, TimeDriver<LegacyDriver>>),
    Legacy(Runtime<TimeDriver<LegacyDriver>>),
}

impl CoreRuntime {
    /// Builds the runtime for the calling thread. `FusionDriver` probes io_uring and
    /// falls back to epoll when the kernel or a seccomp profile forbids it.
    pub(crate) fn build(force_epoll: bool) -> io::Result<(CoreRuntime, Driver)> {
        if force_epoll {
            let runtime = RuntimeBuilder::<LegacyDriver>::new()
                .enable_timer()
                .build()?;
            return Ok((CoreRuntime::Legacy(runtime), Driver::Epoll));
        }
        let runtime = RuntimeBuilder::<monoio::FusionDriver>::new()
            .enable_timer()
            .build()?;
        let driver = match runtime {
            FusionRuntime::Uring(_) => Driver::IoUring,
            FusionRuntime::Legacy(_) => Driver::Epoll,
        };
        Ok((CoreRuntime::Fusion(runtime), driver))
    }

    /// Runs `future` to completion on this thread, driving every spawned task.
    pub(crate) fn block_on<F: Future>(&mut self, future: F) -> F::Output {
        match self {
            CoreRuntime::Fusion(runtime) => runtime.block_on(future),
            CoreRuntime::Legacy(runtime) => runtime.block_on(future),
        }
    }
}

/// Spawns a task on the current core and detaches it.
pub(crate) fn spawn<F>(future: F)
where
    F: Future + 'static,
    F::Output: 'static,
{
    drop(monoio::spawn(future));
}

/// Spawns a task on the current core and returns a handle that resolves to its output.
pub(crate) fn spawn_joinable<F>(future: F) -> impl Future<Output = F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    monoio::spawn(future)
}

/// Sleeps on the current core's timer.
pub(crate) async fn sleep(duration: Duration) {
    monoio::time::sleep(duration).await;
}

/// Outcome of racing `future` against a deadline and a cancellation signal.
pub(crate) enum Race<T> {
    Done(T),
    TimedOut,
    Cancelled,
}

/// Runs `future` until it finishes, `deadline` passes or `cancel` resolves,
/// whichever comes first; the losers are dropped.
pub(crate) async fn race<T>(
    future: impl Future<Output = T>,
    deadline: Instant,
    cancel: impl Future,
) -> Race<T> {
    monoio::select! {
        biased;
        value = future => Race::Done(value),
        _ = cancel => Race::Cancelled,
        _ = monoio::time::sleep_until(deadline) => Race::TimedOut,
    }
}

/// Returns the instant `duration` from now, saturating far in the future.
pub(crate) fn deadline_after(duration: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(duration)
        .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365))
}

/// A listening socket registered with the current core's driver.
pub(crate) struct Listener {
    inner: monoio::net::TcpListener,
}

impl Listener {
    /// Registers a bound and listening std socket with the current core's driver.
    /// Must be called inside [`CoreRuntime::block_on`].
    pub(crate) fn from_std(listener: std::net::TcpListener) -> io::Result<Listener> {
        // The epoll driver needs a non-blocking socket; io_uring does not mind one.
        listener.set_nonblocking(true)?;
        Ok(Listener {
            inner: monoio::net::TcpListener::from_std(listener)?,
        })
    }

    /// Accepts one connection, with Nagle's algorithm turned off because the
    /// connection code coalesces its writes itself.
    pub(crate) async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) = self.inner.accept().await?;
        stream.set_nodelay(true)?;
        let local = stream.local_addr()?;
        Ok((
            TcpStream {
                inner: stream,
                local,
            },
            peer,
        ))
    }
}

/// An accepted TCP connection that has not been wrapped in TLS yet.
pub(crate) struct TcpStream {
    inner: monoio::net::TcpStream,
    local: SocketAddr,
}

impl TcpStream {
    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local
    }
}

/// A TLS acceptor for one listener.
#[derive(Clone)]
pub(crate) struct TlsAcceptor {
    inner: monoio_rustls::TlsAcceptor,
}

impl TlsAcceptor {
    pub(crate) fn new(config: Arc<rustls::ServerConfig>) -> TlsAcceptor {
        TlsAcceptor {
            inner: monoio_rustls::TlsAcceptor::from(config),
        }
    }

    /// Runs the TLS handshake on `stream`, giving up after `timeout`.
    pub(crate) async fn accept(&self, stream: TcpStream, timeout: Duration) -> io::Result<Io> {
        let handshake = self.inner.accept(stream.inner);
        match monoio::time::timeout(timeout, handshake).await {
            Ok(Ok(tls)) => Ok(Io::new(Stream::Tls(Box::new(tls)))),
            Ok(Err(error)) => Err(io::Error::from(error)),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "TLS handshake timed out",
            )),
        }
    }
}

enum Stream {
    Plain(monoio::net::TcpStream),
    Tls(Box<monoio_rustls::ServerTlsStream<monoio::net::TcpStream>>),
}

/// Failure of a read on an [`Io`].
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The deadline passed first.
    TimedOut,
    /// The cancellation signal resolved first.
    Cancelled,
    /// The socket or the TLS layer failed.
    Io(io::Error),
    /// An earlier read was cancelled, so the stream's read side is in an unknown state.
    Unusable,
}

/// Failure of a write on an [`Io`].
#[derive(Debug)]
pub(crate) enum WriteError {
    /// One write call made no progress for the whole write timeout.
    TimedOut,
    /// The socket or the TLS layer failed.
    Io(io::Error),
    /// An earlier write was cancelled, so the stream's write side is in an unknown state.
    Unusable,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::TimedOut => f.write_str("write timed out"),
            WriteError::Io(error) => write!(f, "write failed: {error}"),
            WriteError::Unusable => f.write_str("stream unusable after a cancelled write"),
        }
    }
}

/// A plain or TLS connection with owned-buffer reads and writes.
///
/// monoio's I/O takes buffers by value; a read or write future dropped before it
/// finishes (timeout, cancellation) keeps its buffer inside the driver. For TLS
/// streams monoio-rustls 0.4 then panics on the next operation of the same
/// direction, so each direction is marked unusable after a cancelled operation and
/// later calls return an error instead.
pub(crate) struct Io {
    stream: Stream,
    read_unusable: bool,
    write_unusable: bool,
}

impl Io {
    fn new(stream: Stream) -> Io {
        Io {
            stream,
            read_unusable: false,
            write_unusable: false,
        }
    }

    /// Wraps an accepted TCP connection without TLS.
    pub(crate) fn plain(stream: TcpStream) -> Io {
        Io::new(Stream::Plain(stream.inner))
    }

    /// Returns whether reads are still possible on this stream.
    pub(crate) fn can_read(&self) -> bool {
        !self.read_unusable
    }

    /// Reads once into the spare capacity of `buf`, appending at most `max_new`
    /// bytes, and returns how many arrived (0 means end of stream).
    ///
    /// The caller must leave spare capacity in `buf`. If the deadline passes or
    /// `cancel` resolves first, `buf` is left empty and the read side unusable.
    pub(crate) async fn read_into(
        &mut self,
        buf: &mut BytesMut,
        max_new: usize,
        deadline: Instant,
        cancel: impl Future,
    ) -> Result<usize, ReadError> {
        if self.read_unusable {
            return Err(ReadError::Unusable);
        }
        let owned = std::mem::take(buf);
        let start = owned.len();
        let end = owned.capacity().min(start.saturating_add(max_new));
        debug_assert!(end > start, "read_into needs spare capacity");
        let slice = owned.slice_mut(start..end);
        let read = async {
            match &mut self.stream {
                Stream::Plain(stream) => stream.read(slice).await,
                Stream::Tls(stream) => stream.read(slice).await,
            }
        };
        let outcome = race(read, deadline, cancel).await;
        match outcome {
            Race::Done((result, slice)) => {
                *buf = slice.into_inner();
                result.map_err(ReadError::Io)
            }
            Race::TimedOut => {
                self.read_unusable = true;
                Err(ReadError::TimedOut)
            }
            Race::Cancelled => {
                self.read_unusable = true;
                Err(ReadError::Cancelled)
            }
        }
    }

    /// Writes all of `data`, allowing each write call `timeout` to make progress,
    /// so a client that reads slowly but steadily is never cut off.
    pub(crate) async fn write_all(
        &mut self,
        mut data: Bytes,
        timeout: Duration,
    ) -> Result<(), WriteError> {
        if self.write_unusable {
            return Err(WriteError::Unusable);
        }
        while !data.is_empty() {
            let write = async {
                match &mut self.stream {
                    Stream::Plain(stream) => stream.write(data).await,
                    Stream::Tls(stream) => stream.write(data).await,
                }
            };
            let outcome = monoio::time::timeout(timeout, write).await;
            let (result, returned) = match outcome {
                Ok(done) => done,
                Err(_) => {
                    self.write_unusable = true;
                    return Err(WriteError::TimedOut);
                }
            };
            data = returned;
            match result {
                Ok(0) => {
                    return Err(WriteError::Io(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "connection accepted no more bytes",
                    )));
                }
                Ok(written) => data.advance(written),
                Err(error) => return Err(WriteError::Io(error)),
            }
        }
        Ok(())
    }

    /// Shuts down the write side (TLS sends close_notify first), bounded by `timeout`.
    pub(crate) async fn shutdown_write(&mut self, timeout: Duration) -> Result<(), WriteError> {
        if self.write_unusable {
            return Err(WriteError::Unusable);
        }
        let shutdown = async {
            match &mut self.stream {
                Stream::Plain(stream) => stream.shutdown().await,
                Stream::Tls(stream) => stream.shutdown().await,
            }
        };
        match monoio::time::timeout(timeout, shutdown).await {
            Ok(result) => result.map_err(WriteError::Io),
            Err(_) => {
                self.write_unusable = true;
                Err(WriteError::TimedOut)
            }
        }
    }
}
