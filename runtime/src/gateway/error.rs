//! The request path's one error type: an S3 error for the client, plus where the fault lies
//! (client, backend or gateway), which decides the log level and the metric it counts in.

use ironbucket_adapters::{ErrorKind as StorageKind, StorageError};
use ironbucket_s3::{ErrorCode, S3Error};

/// Who caused a failed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorSource {
    /// The request was invalid or not allowed; logged at debug.
    Client,
    /// The storage backend failed; logged at warn.
    Backend,
    /// The gateway itself failed; logged at error.
    Internal,
}

/// A failed request: what the client is told, and what the log is told.
#[derive(Debug)]
pub struct RequestError {
    pub s3: S3Error,
    pub source: ErrorSource,
    /// Detail for the log only (backend paths, OpenDAL errors). Never holds a secret.
    pub detail: Option<String>,
}

impl RequestError {
    pub fn client(s3: S3Error) -> RequestError {
        RequestError {
            s3,
            source: ErrorSource::Client,
            detail: None,
        }
    }

    pub fn code(code: ErrorCode) -> RequestError {
        RequestError::client(S3Error::new(code))
    }

    pub fn message(code: ErrorCode, message: impl Into<String>) -> RequestError {
        RequestError::client(S3Error::with_message(code, message))
    }

    pub fn internal(detail: impl Into<String>) -> RequestError {
        RequestError {
            s3: S3Error::new(ErrorCode::InternalError),
            source: ErrorSource::Internal,
            detail: Some(detail.into()),
        }
    }
}

impl From<S3Error> for RequestError {
    fn from(s3: S3Error) -> RequestError {
        RequestError::client(s3)
    }
}

impl From<StorageError> for RequestError {
    fn from(error: StorageError) -> RequestError {
        let code = match error.kind() {
            StorageKind::NoSuchBucket => ErrorCode::NoSuchBucket,
            StorageKind::NoSuchKey => ErrorCode::NoSuchKey,
            StorageKind::NoSuchUpload => ErrorCode::NoSuchUpload,
            StorageKind::BucketAlreadyExists => ErrorCode::BucketAlreadyExists,
            StorageKind::BucketNotEmpty => ErrorCode::BucketNotEmpty,
            StorageKind::InvalidPart => ErrorCode::InvalidPart,
            StorageKind::InvalidPartOrder => ErrorCode::InvalidPartOrder,
            StorageKind::EntityTooSmall => ErrorCode::EntityTooSmall,
            StorageKind::BadDigest => ErrorCode::BadDigest,
            StorageKind::IncompleteBody => ErrorCode::IncompleteBody,
            StorageKind::InvalidArgument => ErrorCode::InvalidArgument,
            StorageKind::InvalidBucketName => ErrorCode::InvalidBucketName,
            StorageKind::InvalidRange => ErrorCode::InvalidRange,
            StorageKind::KeyTooLong => ErrorCode::KeyTooLongError,
            StorageKind::MetadataTooLarge => ErrorCode::MetadataTooLarge,
            StorageKind::NotImplemented => ErrorCode::NotImplemented,
            StorageKind::Unavailable => ErrorCode::ServiceUnavailable,
            _ => ErrorCode::InternalError,
        };
        let source = match code {
            ErrorCode::InternalError | ErrorCode::ServiceUnavailable => ErrorSource::Backend,
            _ => ErrorSource::Client,
        };
        // Backend failures keep their detail (paths, OpenDAL's message) out of the response.
        let s3 = if source == ErrorSource::Backend {
            S3Error::new(code)
        } else {
            S3Error::with_message(code, error.message().to_owned())
        };
        RequestError {
            s3,
            source,
            detail: Some(error_chain(&error)),
        }
    }
}

/// The error and each of its sources, joined with ": ", so a backend failure names its cause
/// (`No space left on device`) in the log.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
