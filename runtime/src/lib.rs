//! IronBucket, the identity-aware S3 gateway: configuration, identities, the per-core S3
//! request path, the operations, the audit log and the server's start-up and shutdown.
//! `docs/architecture.md` maps the code.

#![forbid(unsafe_code)]

pub mod admin;
pub mod audit;
pub mod config;
mod gateway;
pub mod identity;
pub mod metrics;
mod ops;
pub mod policy;
pub mod server;
