//! S3 XML: rendering of response documents and parsing of request bodies.

pub mod parse;
pub mod render;
pub(crate) mod write;

pub use write::{S3_NAMESPACE, escape_text};
