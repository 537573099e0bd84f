//! Routing: turns an HTTP method, request target and `Host` header into an
//! S3 operation with its bucket, key and decoded query parameters.
//!
//! Both addressing styles are supported. A `Host` of `bucket.<domain>[:port]`
//! for one of the configured virtual-host domains selects virtual-hosted
//! style, where the whole path is the key. Any other host selects path style,
//! `/bucket/key`. Keys are percent-decoded exactly once and never normalised:
//! `a//b`, `./x` and `../y` stay as they are, as S3 stores them.
//!
//! Invalid bucket names: `CreateBucket` gets `InvalidBucketName`, every other
//! operation gets `NoSuchBucket`, because no bucket with that name can exist.

use crate::encoding::{decode_path, decode_query_component};
use crate::error::{ErrorCode, S3Error};
use crate::names::{is_valid_bucket_name, validate_key};
use crate::operation::{Operation, ResourceKind, find_unsupported, is_unsupported_subresource};

/// The maximum number of query parameters in a request. S3 documents no limit,
/// so this one only bounds allocation and is far above what SDKs and
/// presigned URLs send.
pub const MAX_QUERY_PARAMS: usize = 1000;

/// An HTTP request method that S3 defines operations for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Head,
    Put,
    Post,
    Delete,
    Options,
}

impl Method {
    /// Parses a method token. Methods are case-sensitive (RFC 9110, section 9.1).
    pub fn parse(token: &str) -> Option<Self> {
        match token {
            "GET" => Some(Self::Get),
            "HEAD" => Some(Self::Head),
            "PUT" => Some(Self::Put),
            "POST" => Some(Self::Post),
            "DELETE" => Some(Self::Delete),
            "OPTIONS" => Some(Self::Options),
            _ => None,
        }
    }

    /// Returns the method token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Put => "PUT",
            Self::Post => "POST",
            Self::Delete => "DELETE",
            Self::Options => "OPTIONS",
        }
    }
}

/// The parts of a request that routing reads.
#[derive(Debug, Clone, Copy)]
pub struct RouteInput<'a> {
    /// The method token, such as `GET`.
    pub method: &'a str,
    /// The request target exactly as received: path and optional `?query`
    /// (origin form), or `http://authority/path?query` (absolute form).
    pub target: &'a str,
    /// The `Host` header value, if any.
    pub host: Option<&'a str>,
    /// Domains under which `bucket.<domain>` selects virtual-hosted style,
    /// such as `s3.local`. Compared without case.
    pub virtual_host_domains: &'a [String],
    /// The `x-amz-copy-source` header value, if any. Its presence turns a PUT
    /// into `CopyObject` or `UploadPartCopy`.
    pub copy_source: Option<&'a str>,
}

/// The addressing style in which the request named its bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// `/bucket/key`.
    PathStyle,
    /// `Host: bucket.<domain>` with the path as the key.
    VirtualHosted,
}

/// The decoded query string of a request, in order, with the raw text kept
/// for signature verification.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    raw: String,
    params: Vec<(String, String)>,
}

impl Query {
    /// Parses a raw query string (without the leading `?`).
    ///
    /// Names and values are percent-decoded with `+` read as a space. A
    /// parameter without `=` (`?uploads`) has an empty value. Empty pairs
    /// (`a=1&&b=2`) are skipped.
    pub fn parse(raw: &str) -> Result<Self, S3Error> {
        let pair_count = raw.split('&').filter(|pair| !pair.is_empty()).count();
        if pair_count > MAX_QUERY_PARAMS {
            return Err(S3Error::with_message(
                ErrorCode::InvalidArgument,
                format!(
                    "The request has {pair_count} query parameters and the maximum is {MAX_QUERY_PARAMS}."
                ),
            ));
        }
        let mut params = Vec::with_capacity(pair_count);
        for pair in raw.split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = decode_query_component(name)?.into_owned();
            let value = decode_query_component(value)?.into_owned();
            params.push((name, value));
        }
        Ok(Self {
            raw: raw.to_owned(),
            params,
        })
    }

    /// Returns the raw query string as received, without the leading `?`.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// Returns the decoded value of the first parameter called `name`.
    /// Names are case-sensitive, as S3 treats them (`uploadId`, `versionId`).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(candidate, _)| candidate == name)
            .map(|(_, value)| value.as_str())
    }

    /// Returns whether a parameter called `name` is present, with or without a value.
    pub fn contains(&self, name: &str) -> bool {
        self.params.iter().any(|(candidate, _)| candidate == name)
    }

    /// Returns the decoded parameters in request order.
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }
}

/// A routed S3 request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Request {
    pub method: Method,
    pub operation: Operation,
    /// The bucket, absent for service-level operations such as `ListBuckets`.
    pub bucket: Option<String>,
    /// The decoded object key, absent for bucket and service operations.
    pub key: Option<String>,
    pub query: Query,
    /// The path exactly as received, before percent-decoding.
    pub raw_path: String,
    pub addressing: Addressing,
}

impl S3Request {
    /// Returns the resource as S3 names it in error documents: `/bucket/key`,
    /// `/bucket` or `/`.
    pub fn resource(&self) -> String {
        resource_path(self.bucket.as_deref(), self.key.as_deref())
    }

    /// Returns the ARN that policies match: `arn:aws:s3:::bucket/key` for
    /// object operations, `arn:aws:s3:::bucket` for bucket operations and
    /// `*` for service operations, as IAM does for `s3:ListAllMyBuckets`.
    pub fn arn(&self) -> String {
        match (self.operation.resource_kind(), &self.bucket, &self.key) {
            (ResourceKind::Object, Some(bucket), Some(key)) => {
                format!("arn:aws:s3:::{bucket}/{key}")
            }
            (_, Some(bucket), _) => format!("arn:aws:s3:::{bucket}"),
            _ => "*".to_owned(),
        }
    }
}

fn resource_path(bucket: Option<&str>, key: Option<&str>) -> String {
    match (bucket, key) {
        (Some(bucket), Some(key)) => format!("/{bucket}/{key}"),
        (Some(bucket), None) => format!("/{bucket}"),
        _ => "/".to_owned(),
    }
}

/// Routes a request to an S3 operation.
///
/// An unknown method is `MethodNotAllowed`. A target that is not a path, a
/// malformed percent-escape or non-UTF-8 text is `InvalidURI`. A key over
/// 1024 bytes is `KeyTooLongError`. An invalid bucket name is
/// `InvalidBucketName` for `CreateBucket` and `NoSuchBucket` otherwise. A
/// recognised sub-resource with a method S3 does not define for it is
/// `NotImplemented`. `partNumber` without `uploadId` (or the reverse) on a
/// PUT, and a `list-type` other than 2, are `InvalidArgument`.
pub fn route(input: &RouteInput<'_>) -> Result<S3Request, S3Error> {
    let (authority, origin) = split_absolute_form(input.target)?;
    let (raw_path, raw_query) = origin.split_once('?').unwrap_or((origin, ""));
    let method = Method::parse(input.method).ok_or_else(|| {
        S3Error::with_message(
            ErrorCode::MethodNotAllowed,
            format!(
                "The method {} is not allowed against this resource.",
                input.method
            ),
        )
        .extra("Method", input.method)
    })?;
    let query = Query::parse(raw_query)?;

    let host = authority.or(input.host);
    let virtual_bucket =
        host.and_then(|host| virtual_host_bucket(host, input.virtual_host_domains));
    let path = &raw_path[1..];
    let (addressing, bucket, raw_key) = match virtual_bucket {
        Some(bucket) => (Addressing::VirtualHosted, Some(bucket), path),
        None => {
            let (raw_bucket, raw_key) = path.split_once('/').unwrap_or((path, ""));
            let bucket = if raw_bucket.is_empty() && raw_key.is_empty() {
                None
            } else {
                Some(decode_path(raw_bucket)?.into_owned())
            };
            (Addressing::PathStyle, bucket, raw_key)
        }
    };
    let key = if raw_key.is_empty() {
        None
    } else {
        let key = decode_path(raw_key)?.into_owned();
        validate_key(&key)
            .map_err(|error| error.resource(resource_path(bucket.as_deref(), Some(&key))))?;
        Some(key)
    };

    let operation = select_operation(
        method,
        bucket.is_some(),
        key.is_some(),
        &query,
        input.copy_source,
    )
    .map_err(|error| error.resource(resource_path(bucket.as_deref(), key.as_deref())))?;

    if let Some(name) = &bucket
        && !is_valid_bucket_name(name)
    {
        let error = if operation == Operation::CreateBucket {
            S3Error::new(ErrorCode::InvalidBucketName)
        } else {
            S3Error::new(ErrorCode::NoSuchBucket)
        };
        return Err(error
            .extra("BucketName", name.as_str())
            .resource(format!("/{name}")));
    }

    Ok(S3Request {
        method,
        operation,
        bucket,
        key,
        query,
        raw_path: raw_path.to_owned(),
        addressing,
    })
}

/// Splits an absolute-form target (`http://host/path?query`, RFC 9112,
/// section 3.2.2) into its authority and origin-form remainder. An
/// origin-form target is returned unchanged with no authority.
fn split_absolute_form(target: &str) -> Result<(Option<&str>, &str), S3Error> {
    if target.starts_with('/') {
        return Ok((None, target));
    }
    let invalid = || {
        S3Error::with_message(
            ErrorCode::InvalidURI,
            "Couldn't parse the specified URI: the request target is neither a path nor an absolute URI.",
        )
    };
    let scheme_length = if target.len() >= 7 && target[..7].eq_ignore_ascii_case("http://") {
        7
    } else if target.len() >= 8 && target[..8].eq_ignore_ascii_case("https://") {
        8
    } else {
        return Err(invalid());
    };
    let rest = &target[scheme_length..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    if authority.is_empty() {
        return Err(invalid());
    }
    let origin = &rest[authority_end..];
    // An absolute URI without a path (`http://host?x`) names the root path, but
    // the origin form must start with `/`, so such targets are rejected.
    if !origin.starts_with('/') {
        return Err(invalid());
    }
    Ok((Some(authority), origin))
}

/// Returns the bucket named by a virtual-hosted-style `Host`, or `None` when
/// the host is not `<bucket>.<domain>` for a configured domain.
fn virtual_host_bucket(host: &str, domains: &[String]) -> Option<String> {
    let host = strip_port(host.trim());
    // A trailing dot marks a fully qualified name and does not change it.
    let host = host.strip_suffix('.').unwrap_or(host);
    for domain in domains {
        let domain = domain.strip_suffix('.').unwrap_or(domain);
        if domain.is_empty() || host.len() <= domain.len() + 1 {
            continue;
        }
        let split = host.len() - domain.len();
        if !host.is_char_boundary(split) {
            continue;
        }
        let (label, suffix) = host.split_at(split);
        if suffix.eq_ignore_ascii_case(domain)
            && let Some(bucket) = label.strip_suffix('.')
        {
            // Host names are case-insensitive (RFC 4343), and bucket names
            // are lowercase, so the label is lowercased.
            return Some(bucket.to_ascii_lowercase());
        }
    }
    None
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        // An IPv6 literal such as `[::1]:9000` is never a virtual host, but
        // stripping the port keeps the comparison honest.
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Picks the operation from the method, whether a bucket and key are present,
/// and the sub-resource query parameters.
fn select_operation(
    method: Method,
    has_bucket: bool,
    has_key: bool,
    query: &Query,
    copy_source: Option<&str>,
) -> Result<Operation, S3Error> {
    if !has_bucket {
        return match method {
            Method::Get => Ok(Operation::ListBuckets),
            _ => Err(method_not_allowed(method)),
        };
    }
    if has_key {
        select_object_operation(method, query, copy_source)
    } else {
        select_bucket_operation(method, query)
    }
}

fn select_bucket_operation(method: Method, query: &Query) -> Result<Operation, S3Error> {
    use Operation::*;
    let supported = match method {
        Method::Get if query.contains("acl") => Some(GetBucketAcl),
        Method::Get if query.contains("location") => Some(GetBucketLocation),
        Method::Get if query.contains("versioning") => Some(GetBucketVersioning),
        Method::Get if query.contains("versions") => Some(ListObjectVersions),
        Method::Get if query.contains("uploads") => Some(ListMultipartUploads),
        Method::Put if query.contains("acl") => Some(PutBucketAcl),
        Method::Post if query.contains("delete") => Some(DeleteObjects),
        _ => None,
    };
    if let Some(operation) = supported {
        return Ok(operation);
    }
    if let Some(operation) = select_unsupported(method, ResourceKind::Bucket, query)? {
        return Ok(operation);
    }
    match method {
        Method::Get => match query.get("list-type") {
            None => Ok(ListObjects),
            Some("2") => Ok(ListObjectsV2),
            Some(other) => Err(S3Error::invalid_argument(
                "Invalid List Type specified in Request",
                "list-type",
                other,
            )),
        },
        Method::Head => Ok(HeadBucket),
        Method::Put => Ok(CreateBucket),
        Method::Delete => Ok(DeleteBucket),
        Method::Post => Ok(unsupported_without_subresource(
            method,
            ResourceKind::Bucket,
        )),
        Method::Options => Ok(unsupported_without_subresource(
            method,
            ResourceKind::Bucket,
        )),
    }
}

fn select_object_operation(
    method: Method,
    query: &Query,
    copy_source: Option<&str>,
) -> Result<Operation, S3Error> {
    use Operation::*;
    let has_upload_id = query.contains("uploadId");
    let supported = match method {
        Method::Get if query.contains("acl") => Some(GetObjectAcl),
        Method::Get if has_upload_id => Some(ListParts),
        Method::Put if query.contains("acl") => Some(PutObjectAcl),
        Method::Post if query.contains("uploads") => Some(CreateMultipartUpload),
        Method::Post if has_upload_id => Some(CompleteMultipartUpload),
        Method::Delete if has_upload_id => Some(AbortMultipartUpload),
        _ => None,
    };
    if let Some(operation) = supported {
        return Ok(operation);
    }
    if let Some(operation) = select_unsupported(method, ResourceKind::Object, query)? {
        return Ok(operation);
    }
    match method {
        Method::Get => Ok(GetObject),
        Method::Head => Ok(HeadObject),
        Method::Delete => Ok(DeleteObject),
        Method::Put => {
            let has_part_number = query.contains("partNumber");
            match (has_part_number, has_upload_id, copy_source.is_some()) {
                (true, true, false) => Ok(UploadPart),
                (true, true, true) => Ok(UploadPartCopy),
                (false, false, false) => Ok(PutObject),
                (false, false, true) => Ok(CopyObject),
                (true, false, _) => Err(S3Error::with_message(
                    ErrorCode::InvalidArgument,
                    "A part upload needs both partNumber and uploadId; uploadId is missing.",
                )
                .extra("ArgumentName", "uploadId")),
                (false, true, _) => Err(S3Error::with_message(
                    ErrorCode::InvalidArgument,
                    "A part upload needs both partNumber and uploadId; partNumber is missing.",
                )
                .extra("ArgumentName", "partNumber")),
            }
        }
        Method::Post => Err(method_not_allowed(method)),
        Method::Options => Ok(unsupported_without_subresource(
            method,
            ResourceKind::Object,
        )),
    }
}

/// Finds the first unimplemented sub-resource in the query. A recognised
/// sub-resource that S3 defines no operation for with this method and
/// resource kind (for example `POST /bucket?tagging` or `PUT /bucket/key?cors`)
/// is a `NotImplemented` error, so that it never falls through to a data
/// operation such as `PutObject`.
fn select_unsupported(
    method: Method,
    kind: ResourceKind,
    query: &Query,
) -> Result<Option<Operation>, S3Error> {
    for (name, _) in query.params() {
        if !is_unsupported_subresource(name) {
            continue;
        }
        return match find_unsupported(name, method, kind) {
            Some(operation) => Ok(Some(Operation::NotImplemented {
                name: operation.name,
            })),
            None => Err(S3Error::with_message(
                ErrorCode::NotImplemented,
                format!(
                    "The sub-resource '{name}' is not implemented for {} on a {}.",
                    method.as_str(),
                    if kind == ResourceKind::Object {
                        "object"
                    } else {
                        "bucket"
                    }
                ),
            )),
        };
    }
    Ok(None)
}

fn unsupported_without_subresource(method: Method, kind: ResourceKind) -> Operation {
    let name = find_unsupported("", method, kind).map_or("Unknown", |operation| operation.name);
    Operation::NotImplemented { name }
}

fn method_not_allowed(method: Method) -> S3Error {
    S3Error::with_message(
        ErrorCode::MethodNotAllowed,
        format!(
            "The method {} is not allowed against this resource.",
            method.as_str()
        ),
    )
    .extra("Method", method.as_str())
}
