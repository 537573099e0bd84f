//! The S3 protocol layer of IronBucket, with no I/O and no async code.
//!
//! The gateway's request path calls into this crate to route an HTTP request
//! to an S3 operation ([`route()`]) and to read shared request parameters
//! ([`params`]). It also evaluates `Range` and conditional headers
//! ([`range`], [`conditions`]), parses request bodies and renders response
//! documents ([`xml`]), builds response headers ([`headers`]), and maps
//! failures to S3 error documents ([`S3Error`]).

#![forbid(unsafe_code)]

pub mod conditions;
pub mod encoding;
pub mod error;
pub mod headers;
pub mod names;
pub mod operation;
pub mod params;
pub mod range;
pub mod route;
pub mod xml;

pub use conditions::{ConditionalHeaders, evaluate_conditions, evaluate_copy_source_conditions};
pub use error::{ErrorCode, S3Error};
pub use operation::{Operation, ResourceKind};
pub use range::{parse_copy_source_range, parse_range};
pub use route::{Addressing, Method, Query, RouteInput, S3Request, route};
