//! The interface between the HTTP layer and the application: the [`Service`]
//! trait a gateway implements, and the per-core and per-connection context it gets.

use std::future::Future;
use std::net::SocketAddr;

use crate::body::Body;
use crate::error::ProtocolError;
use crate::request::RequestHead;
use crate::response::Response;
use crate::rt::Driver;

/// The application behind the server. One instance is built on each core by the
/// factory given to [`crate::Server::start`], and shared by that core's connections,
/// so it need not be `Send` and its futures need not be either.
pub trait Service: 'static {
    /// Handles one request. The body is streamed through `body`; a service that
    /// responds without reading it (or all of it) may cost the connection, see
    /// [`Body`].
    fn call(
        &self,
        request: &RequestHead,
        body: &mut Body<'_>,
        conn: &ConnectionInfo,
    ) -> impl Future<Output = Response>;

    /// Renders the response to a request that broke the protocol or a limit. The
    /// connection closes after it. Use [`ProtocolError::status`] as the status code.
    fn protocol_error(&self, error: &ProtocolError, conn: &ConnectionInfo) -> Response;
}

/// Facts about the connection a request arrived on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// The client's address.
    pub peer: SocketAddr,
    /// The local address the connection was accepted on.
    pub local: SocketAddr,
    /// Whether the connection uses TLS.
    pub tls: bool,
    /// Index of the core serving the connection.
    pub core: usize,
    /// Identifier unique within this server: the core index in the top 16 bits and
    /// a per-core counter below.
    pub connection_id: u64,
}

/// Facts about the core a service factory builds for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreContext {
    /// Index of this core, from 0.
    pub core: usize,
    /// Total number of cores.
    pub cores: usize,
    /// The I/O driver this core's runtime got.
    pub driver: Driver,
}
