//! Typed storage errors: an [`ErrorKind`] that maps one to one to an S3 error code, plus the
//! operation, bucket and key that failed and, for backend failures, the OpenDAL error as source.

use std::borrow::Cow;
use std::fmt;

/// The kind of a storage error in S3 terms. Each kind maps to exactly one S3 error code and
/// HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bucket does not exist.
    NoSuchBucket,
    /// The object does not exist.
    NoSuchKey,
    /// The multipart upload does not exist, was completed or aborted, or belongs to another key.
    NoSuchUpload,
    /// A bucket with this name already exists (owned by anyone).
    BucketAlreadyExists,
    /// The bucket still contains objects.
    BucketNotEmpty,
    /// A listed part does not exist or its ETag does not match.
    InvalidPart,
    /// The parts of a completion request are not in strictly ascending order.
    InvalidPartOrder,
    /// A part other than the last one is smaller than the minimum part size.
    EntityTooSmall,
    /// The body does not match the expected MD5 digest.
    BadDigest,
    /// The body is shorter than the declared content length.
    IncompleteBody,
    /// An argument is invalid (part number, upload id, body longer than declared, ...).
    InvalidArgument,
    /// The bucket name breaks the S3 naming rules.
    InvalidBucketName,
    /// The requested range does not lie inside the object.
    InvalidRange,
    /// The key is longer than 1024 bytes.
    KeyTooLong,
    /// The user metadata is larger than 2 KiB.
    MetadataTooLarge,
    /// The backend cannot perform this operation.
    NotImplemented,
    /// The backend failed, and the source error describes the failure.
    Internal,
    /// The storage runtime is shut down or the job was dropped before it finished.
    Unavailable,
}

impl ErrorKind {
    /// Returns the S3 error code for this kind, as used in the `<Code>` element.
    pub fn s3_code(self) -> &'static str {
        match self {
            ErrorKind::NoSuchBucket => "NoSuchBucket",
            ErrorKind::NoSuchKey => "NoSuchKey",
            ErrorKind::NoSuchUpload => "NoSuchUpload",
            ErrorKind::BucketAlreadyExists => "BucketAlreadyExists",
            ErrorKind::BucketNotEmpty => "BucketNotEmpty",
            ErrorKind::InvalidPart => "InvalidPart",
            ErrorKind::InvalidPartOrder => "InvalidPartOrder",
            ErrorKind::EntityTooSmall => "EntityTooSmall",
            ErrorKind::BadDigest => "BadDigest",
            ErrorKind::IncompleteBody => "IncompleteBody",
            ErrorKind::InvalidArgument => "InvalidArgument",
            ErrorKind::InvalidBucketName => "InvalidBucketName",
            ErrorKind::InvalidRange => "InvalidRange",
            ErrorKind::KeyTooLong => "KeyTooLongError",
            ErrorKind::MetadataTooLarge => "MetadataTooLarge",
            ErrorKind::NotImplemented => "NotImplemented",
            ErrorKind::Internal => "InternalError",
            ErrorKind::Unavailable => "ServiceUnavailable",
        }
    }

    /// Returns the HTTP status S3 sends with this error code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::NoSuchBucket | ErrorKind::NoSuchKey | ErrorKind::NoSuchUpload => 404,
            ErrorKind::BucketAlreadyExists | ErrorKind::BucketNotEmpty => 409,
            ErrorKind::InvalidRange => 416,
            ErrorKind::NotImplemented => 501,
            ErrorKind::Internal => 500,
            ErrorKind::Unavailable => 503,
            ErrorKind::InvalidPart
            | ErrorKind::InvalidPartOrder
            | ErrorKind::EntityTooSmall
            | ErrorKind::BadDigest
            | ErrorKind::IncompleteBody
            | ErrorKind::InvalidArgument
            | ErrorKind::InvalidBucketName
            | ErrorKind::KeyTooLong
            | ErrorKind::MetadataTooLarge => 400,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.s3_code())
    }
}

/// A failed storage operation with its S3 kind and context.
///
/// The message never contains object data or credentials. It may contain the bucket name,
/// the key and backend paths, which the gateway treats as request data. The fields are boxed
/// so that results stay one pointer wide.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct StorageError(Box<Details>);

/// The fields of a [`StorageError`].
#[derive(Debug, thiserror::Error)]
#[error("{operation} failed ({kind}){}: {message}", Context { bucket: bucket.as_deref(), key: key.as_deref() })]
struct Details {
    kind: ErrorKind,
    operation: &'static str,
    bucket: Option<String>,
    key: Option<String>,
    message: Cow<'static, str>,
    #[source]
    source: Option<opendal::Error>,
}

/// Formats the optional bucket and key of an error message.
struct Context<'a> {
    bucket: Option<&'a str>,
    key: Option<&'a str>,
}

impl fmt::Display for Context<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(bucket) = self.bucket {
            write!(f, " on bucket {bucket:?}")?;
        }
        if let Some(key) = self.key {
            write!(f, " key {key:?}")?;
        }
        Ok(())
    }
}

impl StorageError {
    /// Creates an error of `kind` for `operation` with a human-readable message.
    pub fn new(
        kind: ErrorKind,
        operation: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        StorageError(Box::new(Details {
            kind,
            operation,
            bucket: None,
            key: None,
            message: message.into(),
            source: None,
        }))
    }

    /// Creates an [`ErrorKind::Internal`] error that carries the OpenDAL error as its source.
    pub fn backend(operation: &'static str, source: opendal::Error) -> Self {
        let mut error = StorageError::new(ErrorKind::Internal, operation, "storage backend failed");
        error.0.source = Some(source);
        error
    }

    /// Creates an [`ErrorKind::Unavailable`] error for a job the storage runtime did not run.
    pub fn unavailable(operation: &'static str) -> Self {
        StorageError::new(
            ErrorKind::Unavailable,
            operation,
            "the storage runtime is shut down or dropped the job",
        )
    }

    /// Adds the bucket name to the context.
    #[must_use]
    pub fn with_bucket(mut self, bucket: impl Into<String>) -> Self {
        self.0.bucket = Some(bucket.into());
        self
    }

    /// Adds the object key to the context.
    #[must_use]
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.0.key = Some(key.into());
        self
    }

    /// Returns the S3 kind of this error.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// Returns the operation that failed, for example `put_object`.
    pub fn operation(&self) -> &'static str {
        self.0.operation
    }

    /// Returns the bucket the operation worked on, if known.
    pub fn bucket(&self) -> Option<&str> {
        self.0.bucket.as_deref()
    }

    /// Returns the key the operation worked on, if known.
    pub fn key(&self) -> Option<&str> {
        self.0.key.as_deref()
    }

    /// Returns the message without the context.
    pub fn message(&self) -> &str {
        &self.0.message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_operation_and_context() {
        let error = StorageError::new(ErrorKind::NoSuchKey, "get_object", "object not found")
            .with_bucket("photos")
            .with_key("a/b");
        assert_eq!(
            error.to_string(),
            r#"get_object failed (NoSuchKey) on bucket "photos" key "a/b": object not found"#
        );
    }

    #[test]
    fn kinds_map_to_s3_codes() {
        assert_eq!(ErrorKind::KeyTooLong.s3_code(), "KeyTooLongError");
        assert_eq!(ErrorKind::Internal.s3_code(), "InternalError");
        assert_eq!(ErrorKind::Unavailable.http_status(), 503);
        assert_eq!(ErrorKind::InvalidRange.http_status(), 416);
    }

    #[test]
    fn backend_error_keeps_source() {
        let source = opendal::Error::new(opendal::ErrorKind::Unexpected, "disk on fire");
        let error = StorageError::backend("stat_object", source);
        let source = std::error::Error::source(&error).map(ToString::to_string);
        assert!(source.is_some_and(|text| text.contains("disk on fire")));
    }
}
