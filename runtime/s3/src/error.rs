//! S3 error codes, their HTTP status codes and default messages, and the
//! `Error` XML document that S3 returns in the body of a failed request.
//!
//! Messages and extra fields end up in response bodies, so callers must never
//! put a secret key, signature, session token or bearer token into them.

use std::fmt;

use quick_xml::Writer;

use crate::xml::write::{XmlWriter, write_declaration};

/// An S3 error code, spelled exactly as S3 spells it in the `<Code>` element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    AccessControlListNotSupported,
    AccessDenied,
    AccountProblem,
    AllAccessDisabled,
    AuthorizationHeaderMalformed,
    AuthorizationQueryParametersError,
    BadDigest,
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    CredentialsNotSupported,
    EntityTooLarge,
    EntityTooSmall,
    ExpiredToken,
    IllegalLocationConstraintException,
    IllegalVersioningConfigurationException,
    IncompleteBody,
    InternalError,
    InvalidAccessKeyId,
    InvalidArgument,
    InvalidBucketName,
    InvalidBucketState,
    InvalidDigest,
    InvalidLocationConstraint,
    InvalidObjectState,
    InvalidPart,
    InvalidPartOrder,
    InvalidPolicyDocument,
    InvalidRange,
    InvalidRequest,
    InvalidSecurity,
    InvalidStorageClass,
    InvalidTag,
    InvalidToken,
    InvalidURI,
    KeyTooLongError,
    MalformedACLError,
    MalformedPOSTRequest,
    MalformedTrailerError,
    MalformedXML,
    MaxMessageLengthExceeded,
    MetadataTooLarge,
    MethodNotAllowed,
    MissingContentLength,
    MissingRequestBodyError,
    MissingSecurityHeader,
    NoSuchBucket,
    NoSuchBucketPolicy,
    NoSuchCORSConfiguration,
    NoSuchKey,
    NoSuchLifecycleConfiguration,
    NoSuchTagSet,
    NoSuchUpload,
    NoSuchVersion,
    NoSuchWebsiteConfiguration,
    NotImplemented,
    NotModified,
    OperationAborted,
    PermanentRedirect,
    PreconditionFailed,
    Redirect,
    RequestHeaderSectionTooLarge,
    RequestIsNotMultiPartContent,
    RequestTimeTooSkewed,
    RequestTimeout,
    ServiceUnavailable,
    SignatureDoesNotMatch,
    SlowDown,
    TemporaryRedirect,
    TokenRefreshRequired,
    TooManyBuckets,
    UnexpectedContent,
    UserKeyMustBeSpecified,
    XAmzContentSHA256Mismatch,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::AccessControlListNotSupported,
        ErrorCode::AccessDenied,
        ErrorCode::AccountProblem,
        ErrorCode::AllAccessDisabled,
        ErrorCode::AuthorizationHeaderMalformed,
        ErrorCode::AuthorizationQueryParametersError,
        ErrorCode::BadDigest,
        ErrorCode::BucketAlreadyExists,
        ErrorCode::BucketAlreadyOwnedByYou,
        ErrorCode::BucketNotEmpty,
        ErrorCode::CredentialsNotSupported,
        ErrorCode::EntityTooLarge,
        ErrorCode::EntityTooSmall,
        ErrorCode::ExpiredToken,
        ErrorCode::IllegalLocationConstraintException,
        ErrorCode::IllegalVersioningConfigurationException,
        ErrorCode::IncompleteBody,
        ErrorCode::InternalError,
        ErrorCode::InvalidAccessKeyId,
        ErrorCode::InvalidArgument,
        ErrorCode::InvalidBucketName,
        ErrorCode::InvalidBucketState,
        ErrorCode::InvalidDigest,
        ErrorCode::InvalidLocationConstraint,
        ErrorCode::InvalidObjectState,
        ErrorCode::InvalidPart,
        ErrorCode::InvalidPartOrder,
        ErrorCode::InvalidPolicyDocument,
        ErrorCode::InvalidRange,
        ErrorCode::InvalidRequest,
        ErrorCode::InvalidSecurity,
        ErrorCode::InvalidStorageClass,
        ErrorCode::InvalidTag,
        ErrorCode::InvalidToken,
        ErrorCode::InvalidURI,
        ErrorCode::KeyTooLongError,
        ErrorCode::MalformedACLError,
        ErrorCode::MalformedPOSTRequest,
        ErrorCode::MalformedTrailerError,
        ErrorCode::MalformedXML,
        ErrorCode::MaxMessageLengthExceeded,
        ErrorCode::MetadataTooLarge,
        ErrorCode::MethodNotAllowed,
        ErrorCode::MissingContentLength,
        ErrorCode::MissingRequestBodyError,
        ErrorCode::MissingSecurityHeader,
        ErrorCode::NoSuchBucket,
        ErrorCode::NoSuchBucketPolicy,
        ErrorCode::NoSuchCORSConfiguration,
        ErrorCode::NoSuchKey,
        ErrorCode::NoSuchLifecycleConfiguration,
        ErrorCode::NoSuchTagSet,
        ErrorCode::NoSuchUpload,
        ErrorCode::NoSuchVersion,
        ErrorCode::NoSuchWebsiteConfiguration,
        ErrorCode::NotImplemented,
        ErrorCode::NotModified,
        ErrorCode::OperationAborted,
        ErrorCode::PermanentRedirect,
        ErrorCode::PreconditionFailed,
        ErrorCode::Redirect,
        ErrorCode::RequestHeaderSectionTooLarge,
        ErrorCode::RequestIsNotMultiPartContent,
        ErrorCode::RequestTimeTooSkewed,
        ErrorCode::RequestTimeout,
        ErrorCode::ServiceUnavailable,
        ErrorCode::SignatureDoesNotMatch,
        ErrorCode::SlowDown,
        ErrorCode::TemporaryRedirect,
        ErrorCode::TokenRefreshRequired,
        ErrorCode::TooManyBuckets,
        ErrorCode::UnexpectedContent,
        ErrorCode::UserKeyMustBeSpecified,
        ErrorCode::XAmzContentSHA256Mismatch,
    ];

    /// Parses a code from its `<Code>` spelling, as other crates name S3 codes by string.
    pub fn from_code(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL
            .iter()
            .copied()
            .find(|candidate| candidate.as_str() == code)
    }

    /// Returns the code as it appears in the `<Code>` element.
    pub const fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            AccessControlListNotSupported => "AccessControlListNotSupported",
            AccessDenied => "AccessDenied",
            AccountProblem => "AccountProblem",
            AllAccessDisabled => "AllAccessDisabled",
            AuthorizationHeaderMalformed => "AuthorizationHeaderMalformed",
            AuthorizationQueryParametersError => "AuthorizationQueryParametersError",
            BadDigest => "BadDigest",
            BucketAlreadyExists => "BucketAlreadyExists",
            BucketAlreadyOwnedByYou => "BucketAlreadyOwnedByYou",
            BucketNotEmpty => "BucketNotEmpty",
            CredentialsNotSupported => "CredentialsNotSupported",
            EntityTooLarge => "EntityTooLarge",
            EntityTooSmall => "EntityTooSmall",
            ExpiredToken => "ExpiredToken",
            IllegalLocationConstraintException => "IllegalLocationConstraintException",
            IllegalVersioningConfigurationException => "IllegalVersioningConfigurationException",
            IncompleteBody => "IncompleteBody",
            InternalError => "InternalError",
            InvalidAccessKeyId => "InvalidAccessKeyId",
            InvalidArgument => "InvalidArgument",
            InvalidBucketName => "InvalidBucketName",
            InvalidBucketState => "InvalidBucketState",
            InvalidDigest => "InvalidDigest",
            InvalidLocationConstraint => "InvalidLocationConstraint",
            InvalidObjectState => "InvalidObjectState",
            InvalidPart => "InvalidPart",
            InvalidPartOrder => "InvalidPartOrder",
            InvalidPolicyDocument => "InvalidPolicyDocument",
            InvalidRange => "InvalidRange",
            InvalidRequest => "InvalidRequest",
            InvalidSecurity => "InvalidSecurity",
            InvalidStorageClass => "InvalidStorageClass",
            InvalidTag => "InvalidTag",
            InvalidToken => "InvalidToken",
            InvalidURI => "InvalidURI",
            KeyTooLongError => "KeyTooLongError",
            MalformedACLError => "MalformedACLError",
            MalformedPOSTRequest => "MalformedPOSTRequest",
            MalformedTrailerError => "MalformedTrailerError",
            MalformedXML => "MalformedXML",
            MaxMessageLengthExceeded => "MaxMessageLengthExceeded",
            MetadataTooLarge => "MetadataTooLarge",
            MethodNotAllowed => "MethodNotAllowed",
            MissingContentLength => "MissingContentLength",
            MissingRequestBodyError => "MissingRequestBodyError",
            MissingSecurityHeader => "MissingSecurityHeader",
            NoSuchBucket => "NoSuchBucket",
            NoSuchBucketPolicy => "NoSuchBucketPolicy",
            NoSuchCORSConfiguration => "NoSuchCORSConfiguration",
            NoSuchKey => "NoSuchKey",
            NoSuchLifecycleConfiguration => "NoSuchLifecycleConfiguration",
            NoSuchTagSet => "NoSuchTagSet",
            NoSuchUpload => "NoSuchUpload",
            NoSuchVersion => "NoSuchVersion",
            NoSuchWebsiteConfiguration => "NoSuchWebsiteConfiguration",
            NotImplemented => "NotImplemented",
            NotModified => "NotModified",
            OperationAborted => "OperationAborted",
            PermanentRedirect => "PermanentRedirect",
            PreconditionFailed => "PreconditionFailed",
            Redirect => "Redirect",
            RequestHeaderSectionTooLarge => "RequestHeaderSectionTooLarge",
            RequestIsNotMultiPartContent => "RequestIsNotMultiPartContent",
            RequestTimeTooSkewed => "RequestTimeTooSkewed",
            RequestTimeout => "RequestTimeout",
            ServiceUnavailable => "ServiceUnavailable",
            SignatureDoesNotMatch => "SignatureDoesNotMatch",
            SlowDown => "SlowDown",
            TemporaryRedirect => "TemporaryRedirect",
            TokenRefreshRequired => "TokenRefreshRequired",
            TooManyBuckets => "TooManyBuckets",
            UnexpectedContent => "UnexpectedContent",
            UserKeyMustBeSpecified => "UserKeyMustBeSpecified",
            XAmzContentSHA256Mismatch => "XAmzContentSHA256Mismatch",
        }
    }

    /// Returns the HTTP status code S3 sends with this error.
    pub const fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            NotModified => 304,
            PermanentRedirect => 301,
            Redirect | TemporaryRedirect => 307,
            AccessDenied
            | AccountProblem
            | AllAccessDisabled
            | InvalidAccessKeyId
            | InvalidObjectState
            | InvalidSecurity
            | RequestTimeTooSkewed
            | SignatureDoesNotMatch => 403,
            NoSuchBucket
            | NoSuchBucketPolicy
            | NoSuchCORSConfiguration
            | NoSuchKey
            | NoSuchLifecycleConfiguration
            | NoSuchTagSet
            | NoSuchUpload
            | NoSuchVersion
            | NoSuchWebsiteConfiguration => 404,
            MethodNotAllowed => 405,
            BucketAlreadyExists
            | BucketAlreadyOwnedByYou
            | BucketNotEmpty
            | InvalidBucketState
            | OperationAborted => 409,
            MissingContentLength => 411,
            PreconditionFailed => 412,
            InvalidRange => 416,
            InternalError => 500,
            NotImplemented => 501,
            ServiceUnavailable | SlowDown => 503,
            AccessControlListNotSupported
            | AuthorizationHeaderMalformed
            | AuthorizationQueryParametersError
            | BadDigest
            | CredentialsNotSupported
            | EntityTooLarge
            | EntityTooSmall
            | ExpiredToken
            | IllegalLocationConstraintException
            | IllegalVersioningConfigurationException
            | IncompleteBody
            | InvalidArgument
            | InvalidBucketName
            | InvalidDigest
            | InvalidLocationConstraint
            | InvalidPart
            | InvalidPartOrder
            | InvalidPolicyDocument
            | InvalidRequest
            | InvalidStorageClass
            | InvalidTag
            | InvalidToken
            | InvalidURI
            | KeyTooLongError
            | MalformedACLError
            | MalformedPOSTRequest
            | MalformedTrailerError
            | MalformedXML
            | MaxMessageLengthExceeded
            | MetadataTooLarge
            | MissingRequestBodyError
            | MissingSecurityHeader
            | RequestHeaderSectionTooLarge
            | RequestIsNotMultiPartContent
            | RequestTimeout
            | TokenRefreshRequired
            | TooManyBuckets
            | UnexpectedContent
            | UserKeyMustBeSpecified
            | XAmzContentSHA256Mismatch => 400,
        }
    }

    /// Returns whether a response with this code carries an `Error` body.
    ///
    /// A 304 Not Modified response never has a body (RFC 9110, section 15.4.5).
    pub const fn has_body(self) -> bool {
        !matches!(self, ErrorCode::NotModified)
    }

    /// Returns the message S3 sends for this code when nothing more specific is known.
    pub const fn default_message(self) -> &'static str {
        use ErrorCode::*;
        match self {
            AccessControlListNotSupported => "The bucket does not allow ACLs.",
            AccessDenied => "Access Denied",
            AccountProblem => {
                "There is a problem with your account that prevents the operation from completing successfully."
            }
            AllAccessDisabled => "All access to this resource has been disabled.",
            AuthorizationHeaderMalformed => {
                "The authorization header that you provided is not valid."
            }
            AuthorizationQueryParametersError => {
                "The authorization query parameters that you provided are not valid."
            }
            BadDigest => {
                "The Content-MD5 or checksum value that you specified did not match what the server received."
            }
            BucketAlreadyExists => {
                "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Select a different name and try again."
            }
            BucketAlreadyOwnedByYou => {
                "The bucket that you tried to create already exists, and you own it."
            }
            BucketNotEmpty => "The bucket that you tried to delete is not empty.",
            CredentialsNotSupported => "This request does not support credentials.",
            EntityTooLarge => "Your proposed upload exceeds the maximum allowed object size.",
            EntityTooSmall => {
                "Your proposed upload is smaller than the minimum allowed object size."
            }
            ExpiredToken => "The provided token has expired.",
            IllegalLocationConstraintException => {
                "The location constraint is incompatible with the region of this endpoint."
            }
            IllegalVersioningConfigurationException => {
                "The versioning configuration specified in the request is not valid."
            }
            IncompleteBody => {
                "You did not provide the number of bytes specified by the Content-Length HTTP header."
            }
            InternalError => "We encountered an internal error. Please try again.",
            InvalidAccessKeyId => {
                "The AWS access key ID that you provided does not exist in our records."
            }
            InvalidArgument => "Invalid Argument",
            InvalidBucketName => "The specified bucket is not valid.",
            InvalidBucketState => "The request is not valid for the current state of the bucket.",
            InvalidDigest => "The Content-MD5 or checksum value that you specified is not valid.",
            InvalidLocationConstraint => "The specified location-constraint is not valid.",
            InvalidObjectState => "The operation is not valid for the current state of the object.",
            InvalidPart => {
                "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified ETag might not have matched the uploaded part's ETag."
            }
            InvalidPartOrder => {
                "The list of parts was not in ascending order. The parts list must be specified in order by part number."
            }
            InvalidPolicyDocument => {
                "The content of the form does not meet the conditions specified in the policy document."
            }
            InvalidRange => "The requested range is not satisfiable",
            InvalidRequest => "Invalid Request",
            InvalidSecurity => "The provided security credentials are not valid.",
            InvalidStorageClass => "The storage class that you specified is not valid.",
            InvalidTag => "The tag provided was not a valid tag.",
            InvalidToken => "The provided token is malformed or otherwise not valid.",
            InvalidURI => "Couldn't parse the specified URI.",
            KeyTooLongError => "Your key is too long.",
            MalformedACLError => {
                "The ACL that you provided was not well formed or did not validate against our published schema."
            }
            MalformedPOSTRequest => {
                "The body of your POST request is not well-formed multipart/form-data."
            }
            MalformedTrailerError => {
                "The request contained trailing data that was not well-formed."
            }
            MalformedXML => {
                "The XML you provided was not well-formed or did not validate against our published schema."
            }
            MaxMessageLengthExceeded => "Your request was too big.",
            MetadataTooLarge => "Your metadata headers exceed the maximum allowed metadata size.",
            MethodNotAllowed => "The specified method is not allowed against this resource.",
            MissingContentLength => "You must provide the Content-Length HTTP header.",
            MissingRequestBodyError => "Request Body is empty",
            MissingSecurityHeader => "Your request is missing a required header.",
            NoSuchBucket => "The specified bucket does not exist",
            NoSuchBucketPolicy => "The specified bucket does not have a bucket policy.",
            NoSuchCORSConfiguration => "The CORS configuration does not exist",
            NoSuchKey => "The specified key does not exist.",
            NoSuchLifecycleConfiguration => "The lifecycle configuration does not exist.",
            NoSuchTagSet => "The TagSet does not exist",
            NoSuchUpload => {
                "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
            }
            NoSuchVersion => "The specified version does not exist.",
            NoSuchWebsiteConfiguration => {
                "The specified bucket does not have a website configuration"
            }
            NotImplemented => {
                "A header or query you provided implies functionality that is not implemented."
            }
            NotModified => "Not Modified",
            OperationAborted => {
                "A conflicting conditional operation is currently in progress against this resource. Try again."
            }
            PermanentRedirect => {
                "The bucket you are attempting to access must be addressed using the specified endpoint."
            }
            PreconditionFailed => "At least one of the preconditions you specified did not hold.",
            Redirect | TemporaryRedirect => {
                "Please re-send this request to the specified temporary endpoint."
            }
            RequestHeaderSectionTooLarge => {
                "Your request header section exceeds the maximum allowed size."
            }
            RequestIsNotMultiPartContent => {
                "Bucket POST must be of the enclosure-type multipart/form-data."
            }
            RequestTimeTooSkewed => {
                "The difference between the request time and the server's time is too large."
            }
            RequestTimeout => {
                "Your socket connection to the server was not read from or written to within the timeout period."
            }
            ServiceUnavailable => "Service is unable to handle request.",
            SignatureDoesNotMatch => {
                "The request signature we calculated does not match the signature you provided. Check your key and signing method."
            }
            SlowDown => "Please reduce your request rate.",
            TokenRefreshRequired => "The provided token must be refreshed.",
            TooManyBuckets => "You have attempted to create more buckets than allowed.",
            UnexpectedContent => "This request does not support content.",
            UserKeyMustBeSpecified => "The request must contain at least one object key.",
            XAmzContentSHA256Mismatch => {
                "The provided 'x-amz-content-sha256' header does not match what was computed."
            }
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// An S3 error as returned to the client: code, message, the resource it
/// concerns and optional extra elements such as `BucketName` or `Condition`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct S3Error {
    /// The S3 error code, which also fixes the HTTP status.
    pub code: ErrorCode,
    /// A human-readable message. It must never contain a secret.
    pub message: String,
    /// The bucket or object the request addressed, as `/bucket/key`.
    pub resource: Option<String>,
    /// Extra child elements of `<Error>`, rendered in order after `Resource`.
    pub extra: Vec<(&'static str, String)>,
}

impl S3Error {
    /// Creates an error with the default message of `code`.
    pub fn new(code: ErrorCode) -> Self {
        Self::with_message(code, code.default_message())
    }

    /// Creates an error with a specific message.
    pub fn with_message(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            resource: None,
            extra: Vec::new(),
        }
    }

    /// Creates an `InvalidArgument` error naming the argument and its value, as S3
    /// does with `ArgumentName` and `ArgumentValue`.
    pub fn invalid_argument(message: impl Into<String>, name: &str, value: &str) -> Self {
        Self::with_message(ErrorCode::InvalidArgument, message)
            .extra("ArgumentName", name)
            .extra("ArgumentValue", value)
    }

    /// Sets the resource (for example `/bucket/key`) and returns the error.
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// Appends an extra child element of `<Error>` and returns the error.
    pub fn extra(mut self, element: &'static str, value: impl Into<String>) -> Self {
        self.extra.push((element, value.into()));
        self
    }

    /// Returns the HTTP status code of the response.
    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }

    /// Renders the `Error` document with the given request id.
    ///
    /// The element order is `Code`, `Message`, `Resource`, the extra elements,
    /// then `RequestId`, and the root element has no namespace, as in the
    /// error bodies S3 sends. Returns an empty body for `NotModified`, because
    /// a 304 response must not have one.
    pub fn to_xml(&self, request_id: &str) -> Vec<u8> {
        if !self.code.has_body() {
            return Vec::new();
        }
        let capacity = 160 + self.message.len() + self.resource.as_ref().map_or(0, String::len);
        let mut writer = Writer::new(Vec::with_capacity(capacity));
        write_declaration(&mut writer);
        writer.start("Error");
        writer.text_element("Code", self.code.as_str());
        writer.text_element("Message", &self.message);
        if let Some(resource) = &self.resource {
            writer.text_element("Resource", resource);
        }
        for (element, value) in &self.extra {
            writer.text_element(element, value);
        }
        writer.text_element("RequestId", request_id);
        writer.end("Error");
        writer.into_inner()
    }
}

#[cfg(test)]
mod code_tests {
    use super::ErrorCode;

    #[test]
    fn from_code_round_trips_every_code() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_code(code.as_str()), Some(*code), "{code}");
        }
    }

    #[test]
    fn from_code_rejects_unknown() {
        assert_eq!(ErrorCode::from_code("NoSuchThing"), None);
    }
}
