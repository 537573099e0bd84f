//! IronBucket's HTTP/1.1 server: one thread per core, each with its own monoio
//! runtime (io_uring, or epoll where io_uring is unavailable) and its own
//! `SO_REUSEPORT` listening socket per address, so the kernel spreads connections
//! across cores and no request ever crosses threads.
//!
//! The crate knows nothing about S3. The gateway implements [`Service`] and starts
//! the server with [`Server::start`]; this crate owns framing (Content-Length,
//! chunked, `Expect: 100-continue`, pipelining, keep-alive), limits, timeouts,
//! TLS and graceful shutdown.
//!
//! ```no_run
//! use std::time::Duration;
//! use ironbucket_http::{
//!     Body, ConnectionInfo, ListenerConfig, ProtocolError, RequestHead, Response, Server,
//!     ServerConfig, Service,
//! };
//!
//! struct Hello;
//!
//! impl Service for Hello {
//!     async fn call(&self, _: &RequestHead, _: &mut Body<'_>, _: &ConnectionInfo) -> Response {
//!         Response::full(200, "hello\n")
//!     }
//!     fn protocol_error(&self, error: &ProtocolError, _: &ConnectionInfo) -> Response {
//!         Response::full(error.status(), error.to_string())
//!     }
//! }
//!
//! let config = ServerConfig::new(vec![ListenerConfig::plain("127.0.0.1:9000".parse().unwrap())]);
//! let server = Server::start(config, |_| Hello).unwrap();
//! let stop = server.shutdown_handle();
//! // A signal handler calls `stop.shutdown()`.
//! let report = server.wait(Duration::from_secs(30));
//! ```
//!
//! Core pinning is optional (`ServerConfig::pin_cores`), off by default.

#![forbid(unsafe_code)]

mod body;
mod chunked;
mod config;
mod conn;
mod error;
mod parse;
mod request;
mod response;
mod rt;
mod server;
mod service;
mod stall;
pub mod tls;

pub use body::Body;
pub use config::{Limits, ListenerConfig, ServerConfig, Timeouts};
pub use error::{BodyError, ProtocolError, ServerError};
pub use request::{Header, Method, RequestHead};
pub use response::{HeaderName, HeaderValue, Response, ResponseBody};
pub use rt::Driver;
pub use server::{RunningServer, Server, ShutdownHandle, ShutdownReport};
pub use service::{ConnectionInfo, CoreContext, Service};
