//! Parsing of request parameters that several operations share: listing
//! parameters, part numbers, `x-amz-copy-source`, the metadata directive,
//! canned ACLs and `versionId`.

use crate::encoding::decode_path;
use crate::error::{ErrorCode, S3Error};
use crate::names::{is_valid_bucket_name, validate_key};
use crate::route::Query;

/// The maximum number of keys, uploads or parts in one listing response, and
/// the default when the request sets none.
pub const MAX_LIST_ENTRIES: u32 = 1000;

/// The highest part number of a multipart upload.
pub const MAX_PART_NUMBER: u16 = 10_000;

/// The value of `encoding-type`. S3 defines only `url`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodingType {
    Url,
}

impl EncodingType {
    /// Returns the value as S3 echoes it in `<EncodingType>`.
    pub fn as_str(self) -> &'static str {
        "url"
    }
}

/// Query parameters of `ListObjects`, `ListObjectsV2`, `ListObjectVersions`
/// and `ListMultipartUploads`. Each operation reads the fields it defines and
/// ignores the others, as S3 does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListParams {
    /// `prefix`; empty when absent.
    pub prefix: String,
    /// `delimiter`; `None` when absent or empty.
    pub delimiter: Option<String>,
    /// `max-keys`, or `max-uploads` for `ListMultipartUploads`: 0 to 1000.
    /// Larger requests are lowered to 1000, as S3 does.
    pub max_keys: u32,
    pub continuation_token: Option<String>,
    pub start_after: Option<String>,
    pub marker: Option<String>,
    pub key_marker: Option<String>,
    pub version_id_marker: Option<String>,
    pub upload_id_marker: Option<String>,
    pub encoding_type: Option<EncodingType>,
    /// `fetch-owner` of `ListObjectsV2`; `ListObjects` always returns owners.
    pub fetch_owner: bool,
}

impl ListParams {
    /// Returns whether values in the response must be URL-encoded.
    pub fn url_encode(&self) -> bool {
        self.encoding_type == Some(EncodingType::Url)
    }
}

/// Parses the listing parameters of a bucket listing.
///
/// `max-keys` and `max-uploads` must be non-negative integers. An empty
/// `continuation-token`, an `encoding-type` other than `url` and a
/// `fetch-owner` other than `true` or `false` are `InvalidArgument` errors.
pub fn parse_list_params(query: &Query) -> Result<ListParams, S3Error> {
    let non_empty = |name: &str| {
        query
            .get(name)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    };
    let max_keys = match (query.get("max-keys"), query.get("max-uploads")) {
        (Some(value), _) => parse_max_entries("max-keys", value)?,
        (None, Some(value)) => parse_max_entries("max-uploads", value)?,
        (None, None) => MAX_LIST_ENTRIES,
    };
    if query.get("continuation-token") == Some("") {
        return Err(S3Error::invalid_argument(
            "The continuation token provided is incorrect",
            "continuation-token",
            "",
        ));
    }
    let encoding_type = match query.get("encoding-type") {
        None => None,
        Some(value) if value.eq_ignore_ascii_case("url") => Some(EncodingType::Url),
        Some(value) => {
            return Err(S3Error::invalid_argument(
                "Invalid Encoding Method specified in Request",
                "encoding-type",
                value,
            ));
        }
    };
    let fetch_owner = match query.get("fetch-owner") {
        None => false,
        Some(value) => parse_bool("fetch-owner", value)?,
    };
    Ok(ListParams {
        prefix: query.get("prefix").unwrap_or("").to_owned(),
        delimiter: non_empty("delimiter"),
        max_keys,
        continuation_token: non_empty("continuation-token"),
        start_after: non_empty("start-after"),
        marker: non_empty("marker"),
        key_marker: non_empty("key-marker"),
        version_id_marker: non_empty("version-id-marker"),
        upload_id_marker: non_empty("upload-id-marker"),
        encoding_type,
        fetch_owner,
    })
}

/// The highest `max-buckets` that `ListBuckets` accepts.
pub const MAX_LIST_BUCKETS: u32 = 10_000;

/// Query parameters of `ListBuckets`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListBucketsParams {
    /// `prefix`: only buckets whose names start with it.
    pub prefix: Option<String>,
    /// `continuation-token` from the previous page.
    pub continuation_token: Option<String>,
    /// `max-buckets`: 1 to 10000. When absent, S3 returns every bucket in one page.
    pub max_buckets: Option<u32>,
}

/// Parses the query parameters of `ListBuckets`. A `max-buckets` that is not
/// an integer from 1 to 10000, or an empty `continuation-token`, is
/// `InvalidArgument`.
pub fn parse_list_buckets_params(query: &Query) -> Result<ListBucketsParams, S3Error> {
    let max_buckets = match query.get("max-buckets") {
        None => None,
        Some(value) => match value.parse::<u32>() {
            Ok(number)
                if (1..=MAX_LIST_BUCKETS).contains(&number)
                    && value.bytes().all(|b| b.is_ascii_digit()) =>
            {
                Some(number)
            }
            _ => {
                return Err(S3Error::invalid_argument(
                    "max-buckets must be an integer between 1 and 10000",
                    "max-buckets",
                    value,
                ));
            }
        },
    };
    if query.get("continuation-token") == Some("") {
        return Err(S3Error::invalid_argument(
            "The continuation token provided is incorrect",
            "continuation-token",
            "",
        ));
    }
    Ok(ListBucketsParams {
        prefix: query
            .get("prefix")
            .filter(|prefix| !prefix.is_empty())
            .map(str::to_owned),
        continuation_token: query.get("continuation-token").map(str::to_owned),
        max_buckets,
    })
}

/// Query parameters of `ListParts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListPartsParams {
    /// `max-parts`: 0 to 1000, default 1000; larger requests are lowered to 1000.
    pub max_parts: u32,
    /// `part-number-marker`: list parts after this number; 0 when absent.
    pub part_number_marker: u16,
}

/// Parses `max-parts` and `part-number-marker`.
pub fn parse_list_parts_params(query: &Query) -> Result<ListPartsParams, S3Error> {
    let max_parts = match query.get("max-parts") {
        Some(value) => parse_max_entries("max-parts", value)?,
        None => MAX_LIST_ENTRIES,
    };
    let part_number_marker = match query.get("part-number-marker") {
        None | Some("") => 0,
        Some(value) => match value.parse::<u16>() {
            Ok(number) if number <= MAX_PART_NUMBER => number,
            _ => {
                return Err(S3Error::invalid_argument(
                    "Provided part-number-marker not an integer or within integer range",
                    "part-number-marker",
                    value,
                ));
            }
        },
    };
    Ok(ListPartsParams {
        max_parts,
        part_number_marker,
    })
}

fn parse_max_entries(name: &str, value: &str) -> Result<u32, S3Error> {
    // Only ASCII digits are accepted; `u64` leaves room for values far above
    // 1000, which are lowered rather than rejected.
    if value.is_empty() || value.len() > 19 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(S3Error::invalid_argument(
            format!("Provided {name} not an integer or within integer range"),
            name,
            value,
        ));
    }
    let requested: u64 = value.parse().unwrap_or(u64::MAX);
    Ok(requested.min(u64::from(MAX_LIST_ENTRIES)) as u32)
}

fn parse_bool(name: &str, value: &str) -> Result<bool, S3Error> {
    if value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(S3Error::invalid_argument(
            format!("Invalid value for {name}: expected true or false."),
            name,
            value,
        ))
    }
}

/// Parses a `partNumber` value: an integer from 1 to 10000.
pub fn parse_part_number(value: &str) -> Result<u16, S3Error> {
    match value.parse::<u16>() {
        Ok(number)
            if (1..=MAX_PART_NUMBER).contains(&number)
                && value.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Ok(number)
        }
        _ => Err(S3Error::invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive",
            "partNumber",
            value,
        )),
    }
}

/// The source object of `CopyObject` and `UploadPartCopy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySource {
    pub bucket: String,
    /// The decoded key.
    pub key: String,
}

/// Parses `x-amz-copy-source`: `bucket/key` or `/bucket/key`, URL-encoded,
/// optionally followed by `?versionId=null`.
///
/// The version is split off before decoding, so a `?` inside a key must be
/// sent as `%3F`, as the SDKs do. A missing bucket or key, or a query other
/// than `versionId`, is `InvalidArgument`. An invalid bucket name is
/// `NoSuchBucket`, as in routing. A version other than `null` is
/// `NoSuchVersion`, because this gateway keeps no versions. A key over 1024
/// bytes is `KeyTooLongError`.
pub fn parse_copy_source(header: &str) -> Result<CopySource, S3Error> {
    let invalid = || {
        S3Error::invalid_argument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            "x-amz-copy-source",
            header,
        )
    };
    let header = header.trim();
    let (path, version_query) = match header.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (header, None),
    };
    if let Some(version_query) = version_query {
        let Some(version) = version_query.strip_prefix("versionId=") else {
            return Err(invalid());
        };
        check_version_id(Some(version))?;
    }
    let path = path.strip_prefix('/').unwrap_or(path);
    let (raw_bucket, raw_key) = path.split_once('/').ok_or_else(invalid)?;
    if raw_bucket.is_empty() || raw_key.is_empty() {
        return Err(invalid());
    }
    let bucket = decode_path(raw_bucket)?.into_owned();
    if !is_valid_bucket_name(&bucket) {
        return Err(S3Error::new(ErrorCode::NoSuchBucket).extra("BucketName", bucket));
    }
    let key = decode_path(raw_key)?.into_owned();
    validate_key(&key)?;
    Ok(CopySource { bucket, key })
}

/// `x-amz-metadata-directive` of `CopyObject`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MetadataDirective {
    /// Keep the source's metadata (the default).
    #[default]
    Copy,
    /// Take the metadata from the copy request.
    Replace,
}

/// Parses `x-amz-metadata-directive`: `COPY` (also when absent) or `REPLACE`.
pub fn parse_metadata_directive(header: Option<&str>) -> Result<MetadataDirective, S3Error> {
    match header.map(str::trim) {
        None | Some("COPY") => Ok(MetadataDirective::Copy),
        Some("REPLACE") => Ok(MetadataDirective::Replace),
        Some(other) => Err(S3Error::invalid_argument(
            "Unknown metadata directive.",
            "x-amz-metadata-directive",
            other,
        )),
    }
}

/// Checks the ACL headers of a request against this gateway's ACL model:
/// buckets and objects belong to their owner and have no other grants.
///
/// `x-amz-acl: private` and `x-amz-acl: bucket-owner-full-control` are
/// accepted because they grant nothing beyond that. Any other canned ACL and
/// any `x-amz-grant-*` header are `AccessControlListNotSupported`, which is
/// what S3 returns for a bucket whose object ownership is "bucket owner
/// enforced". Header names are compared without case.
pub fn check_acl_headers<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(), S3Error> {
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("x-amz-acl") {
            let value = value.trim();
            if value != "private" && value != "bucket-owner-full-control" {
                return Err(S3Error::new(ErrorCode::AccessControlListNotSupported)
                    .extra("ArgumentName", "x-amz-acl")
                    .extra("ArgumentValue", value));
            }
        } else if name.len() > 12 && name[..12].eq_ignore_ascii_case("x-amz-grant-") {
            return Err(S3Error::new(ErrorCode::AccessControlListNotSupported)
                .extra("ArgumentName", name.to_ascii_lowercase()));
        }
    }
    Ok(())
}

/// Checks a `versionId` value on an object request. Absent and `null` (the
/// version id of every object in an unversioned bucket) are accepted; an
/// empty value is `InvalidArgument`; any other value is `NoSuchVersion`.
pub fn check_version_id(version_id: Option<&str>) -> Result<(), S3Error> {
    match version_id {
        None | Some("null") => Ok(()),
        Some("") => Err(S3Error::invalid_argument(
            "Version id cannot be the empty string",
            "versionId",
            "",
        )),
        Some(other) => Err(S3Error::new(ErrorCode::NoSuchVersion).extra("VersionId", other)),
    }
}
