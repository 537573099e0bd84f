//! Bucket listings: ListObjectsV2, ListObjects (v1) and ListObjectVersions. Buckets are
//! unversioned, so ListObjectVersions lists each object once with version id `null`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ironbucket_adapters::{ListPage, ListQuery};
use ironbucket_http::Response;
use ironbucket_s3::params::{ListParams, parse_list_params};
use ironbucket_s3::xml::render::{
    ListObjectsResult, ListObjectsV2Result, ListVersionsResult, ObjectEntry,
};
use ironbucket_s3::{S3Error, S3Request};

use super::{bucket_name, bucket_tenant, owner_of};
use crate::gateway::{BucketLookup, Exchange, Gateway, RequestError, xml_response};

/// Prefix that marks a continuation token as ours, so a foreign or truncated one is rejected.
const TOKEN_PREFIX: &str = "ib1:";

pub(super) async fn list_objects_v2(
    gateway: &Gateway,
    exchange: &Exchange<'_>,
    request: &S3Request,
    bucket: &BucketLookup,
) -> Result<Response, RequestError> {
    let params = parse_list_params(&request.query)?;
    let start_after = match &params.continuation_token {
        Some(token) => Some(decode_token(token)?),
        None => params.start_after.clone(),
    };
    let page = list_page(gateway, request, &params, start_after).await?;
    let entries = object_entries(&page);
    let next_token = page
        .is_truncated
        .then(|| page.next_start_after.as_deref().map(encode_token))
        .flatten();
    let owner = owner_of(bucket_tenant(bucket));
    let xml = ListObjectsV2Result {
        bucket: bucket_name(request),
        prefix: &params.prefix,
        delimiter: params.delimiter.as_deref(),
        max_keys: params.max_keys,
        is_truncated: page.is_truncated,
        continuation_token: params.continuation_token.as_deref(),
        next_continuation_token: next_token.as_deref(),
        start_after: params.start_after.as_deref(),
        encoding_type: params.encoding_type,
        contents: &entries,
        common_prefixes: &page.common_prefixes,
        owner: params.fetch_owner.then_some(owner),
    }
    .to_xml();
    Ok(xml_response(exchange, xml))
}

pub(super) async fn list_objects_v1(
    gateway: &Gateway,
    exchange: &Exchange<'_>,
    request: &S3Request,
    bucket: &BucketLookup,
) -> Result<Response, RequestError> {
    let params = parse_list_params(&request.query)?;
    let page = list_page(gateway, request, &params, params.marker.clone()).await?;
    let entries = object_entries(&page);
    // S3 returns NextMarker only when a delimiter was given; clients otherwise continue
    // from the last key of the page.
    let next_marker = match (&params.delimiter, page.is_truncated) {
        (Some(_), true) => page.next_start_after.as_deref(),
        _ => None,
    };
    let xml = ListObjectsResult {
        bucket: bucket_name(request),
        prefix: &params.prefix,
        marker: params.marker.as_deref().unwrap_or(""),
        next_marker,
        delimiter: params.delimiter.as_deref(),
        max_keys: params.max_keys,
        is_truncated: page.is_truncated,
        encoding_type: params.encoding_type,
        contents: &entries,
        common_prefixes: &page.common_prefixes,
        owner: owner_of(bucket_tenant(bucket)),
    }
    .to_xml();
    Ok(xml_response(exchange, xml))
}

pub(super) async fn list_object_versions(
    gateway: &Gateway,
    exchange: &Exchange<'_>,
    request: &S3Request,
    bucket: &BucketLookup,
) -> Result<Response, RequestError> {
    let params = parse_list_params(&request.query)?;
    if let Some(marker) = params.version_id_marker.as_deref() {
        if params.key_marker.is_none() {
            return Err(S3Error::invalid_argument(
                "A version-id marker cannot be specified without a key marker.",
                "version-id-marker",
                marker,
            )
            .into());
        }
        if marker != "null" {
            return Err(S3Error::invalid_argument(
                "Invalid version id specified",
                "version-id-marker",
                marker,
            )
            .into());
        }
    }
    // Each key has exactly one version, so "after key K (version null)" and "after key K"
    // select the same entries.
    let page = list_page(gateway, request, &params, params.key_marker.clone()).await?;
    let entries = object_entries(&page);
    let next_key_marker = page
        .is_truncated
        .then_some(page.next_start_after.as_deref())
        .flatten();
    let xml = ListVersionsResult {
        bucket: bucket_name(request),
        prefix: &params.prefix,
        key_marker: params.key_marker.as_deref().unwrap_or(""),
        version_id_marker: params.version_id_marker.as_deref().unwrap_or(""),
        next_key_marker,
        next_version_id_marker: next_key_marker.map(|_| "null"),
        delimiter: params.delimiter.as_deref(),
        max_keys: params.max_keys,
        is_truncated: page.is_truncated,
        encoding_type: params.encoding_type,
        versions: &entries,
        common_prefixes: &page.common_prefixes,
        owner: owner_of(bucket_tenant(bucket)),
    }
    .to_xml();
    Ok(xml_response(exchange, xml))
}

async fn list_page(
    gateway: &Gateway,
    request: &S3Request,
    params: &ListParams,
    start_after: Option<String>,
) -> Result<ListPage, RequestError> {
    let query = ListQuery {
        prefix: params.prefix.clone(),
        delimiter: params.delimiter.clone(),
        start_after,
        max_keys: params.max_keys as usize,
    };
    Ok(gateway
        .storage()
        .list_objects(bucket_name(request), query)
        .await?)
}

fn object_entries(page: &ListPage) -> Vec<ObjectEntry<'_>> {
    page.objects
        .iter()
        .map(|object| ObjectEntry {
            key: &object.key,
            last_modified: object.last_modified,
            etag: &object.etag,
            size: object.size,
            storage_class: Some("STANDARD"),
        })
        .collect()
}

/// Continuation tokens are opaque to clients: the key to continue after, base64url-encoded.
fn encode_token(start_after: &str) -> String {
    format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(start_after))
}

fn decode_token(token: &str) -> Result<String, RequestError> {
    let invalid = || {
        RequestError::client(S3Error::invalid_argument(
            "The continuation token provided is incorrect",
            "continuation-token",
            token,
        ))
    };
    let encoded = token.strip_prefix(TOKEN_PREFIX).ok_or_else(invalid)?;
    let bytes = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| invalid())?;
    String::from_utf8(bytes).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trips_unicode_key() {
        let key = "photos/2024/été/ä b+c";
        assert_eq!(decode_token(&encode_token(key)).unwrap(), key);
    }

    #[test]
    fn foreign_token_rejected() {
        assert!(decode_token("not-a-token").is_err());
        assert!(decode_token("ib1:!!!").is_err());
    }
}
