//! Object operations: PutObject, GetObject and HeadObject (ranges, conditions, response header
//! overrides), CopyObject, DeleteObject, DeleteObjects and the object ACL calls.

use futures_util::StreamExt as _;
use ironbucket_adapters::{ErrorKind as StorageKind, ObjectMeta};
use ironbucket_http::{Body, Response, ResponseBody};
use ironbucket_s3::headers::{ResponseOverrides, StoredHeaders, format_etag, format_http_date};
use ironbucket_s3::params::{
    CopySource, MetadataDirective, check_acl_headers, check_version_id, parse_copy_source,
    parse_metadata_directive,
};
use ironbucket_s3::xml::parse::parse_delete;
use ironbucket_s3::xml::render::{
    CopyResult, DeleteErrorEntry, DeleteResult, DeletedEntry, access_control_policy_xml,
};
use ironbucket_s3::{
    ConditionalHeaders, ErrorCode, Method, S3Error, S3Request, evaluate_conditions,
    evaluate_copy_source_conditions, parse_range,
};
use ironbucket_sigv4::PayloadSummary;

use super::{bucket_name, bucket_tenant, key_name, new_object_from_headers, owner_of};
use crate::gateway::{
    Authenticated, BucketLookup, Exchange, Gateway, RequestError, ResponseBuilder, read_xml_body,
    stream_upload, xml_response,
};

pub(super) async fn put_object(
    gateway: &Gateway,
    exchange: &mut Exchange<'_>,
    request: &S3Request,
    authenticated: Authenticated,
    body: &mut Body<'_>,
) -> Result<Response, RequestError> {
    check_acl_headers(exchange.headers.iter().copied())?;
    let (bucket, key) = (bucket_name(request), key_name(request));
    let mut object = new_object_from_headers(exchange)?;
    let length = upload_length(gateway, exchange, body)?;
    object.content_length = Some(length);
    check_write_conditions(gateway, exchange, request).await?;

    let handle = gateway.storage().put_object(bucket, key, object).await?;
    let max = gateway.config().limits.max_object_bytes;
    let (meta, summary) = stream_upload(exchange, body, authenticated.payload, handle, max).await?;

    Ok(upload_response(exchange, &meta, &summary))
}

/// The response to a PutObject or UploadPart: the ETag, and the checksum the body was
/// verified against, which SDKs compare with their own.
pub(super) fn upload_response(
    exchange: &Exchange<'_>,
    meta: &ObjectMeta,
    summary: &PayloadSummary,
) -> Response {
    let mut response = ResponseBuilder::new(exchange, 200).header("etag", format_etag(&meta.etag));
    if let Some(checksum) = &summary.checksum {
        response = response.header(checksum.algorithm.header_name(), checksum.to_base64());
    }
    response.build()
}

/// The decoded length of an upload body, checked against the size limit before any byte of
/// it is read, so that an oversized upload is refused before `100 Continue`.
pub(super) fn upload_length(
    gateway: &Gateway,
    exchange: &Exchange<'_>,
    body: &Body<'_>,
) -> Result<u64, RequestError> {
    let decoded = exchange.head.header("x-amz-decoded-content-length");
    let length = match (decoded, body.declared_length()) {
        (Some(value), _) => value.trim().parse::<u64>().map_err(|_| {
            RequestError::client(S3Error::invalid_argument(
                "x-amz-decoded-content-length must be a non-negative integer.",
                "x-amz-decoded-content-length",
                value,
            ))
        })?,
        (None, Some(length)) => length,
        (None, None) if body.is_chunked() => {
            return Err(RequestError::message(
                ErrorCode::MissingContentLength,
                "You must provide the Content-Length HTTP header.",
            ));
        }
        (None, None) => 0,
    };
    let max = gateway.config().limits.max_object_bytes;
    if length > max {
        return Err(crate::gateway::entity_too_large(max));
    }
    Ok(length)
}

/// Conditional writes: `If-None-Match: *` refuses to overwrite, `If-Match` requires the
/// current ETag. NOTE: the check and the commit are two steps, so two racing writers can both
/// pass; S3 makes them atomic.
async fn check_write_conditions(
    gateway: &Gateway,
    exchange: &Exchange<'_>,
    request: &S3Request,
) -> Result<(), RequestError> {
    let conditions = ConditionalHeaders::from_headers(exchange.headers.iter().copied());
    if conditions.if_match.is_none() && conditions.if_none_match.is_none() {
        return Ok(());
    }
    match stat(gateway, request).await {
        Ok(meta) => Ok(evaluate_conditions(
            &conditions,
            &meta.etag,
            meta.last_modified,
            Method::Put,
        )?),
        Err(error) if error.s3.code == ErrorCode::NoSuchKey => {
            if conditions.if_match.is_some() {
                Err(RequestError::code(ErrorCode::NoSuchKey))
            } else {
                Ok(())
            }
        }
        Err(error) => Err(error),
    }
}

async fn stat(gateway: &Gateway, request: &S3Request) -> Result<ObjectMeta, RequestError> {
    let (bucket, key) = (bucket_name(request), key_name(request));
    gateway
        .storage()
        .stat_object(bucket, key)
        .await
        .map_err(|error| no_such_key(error, key))
}

fn no_such_key(error: ironbucket_adapters::StorageError, key: &str) -> RequestError {
    if error.kind() == StorageKind::NoSuchKey {
        RequestError::client(S3Error::new(ErrorCode::NoSuchKey).extra("Key", key.to_owned()))
    } else {
        error.into()
    }
}

pub(super) async fn get_object(
    gateway: &Gateway,
    exchange: &Exchange<'_>,
    request: &S3Request,
    authenticated: &Authenticated,
    head_only: bool,
) -> Result<Response, RequestError> {
    check_version_id(request.query.get("versionId"))?;
    if request.query.contains("partNumber") {
        // NOTE: per-part reads of multipart objects are not implemented yet.
        return Err(RequestError::message(
            ErrorCode::NotImplemented,
            "GetObject and HeadObject with partNumber are not implemented by this gateway.",
        ));
    }
    let overrides = ResponseOverrides::from_query(&request.query)?;
    if !overrides.is_empty() && authenticated.identity.is_anonymous() {
        return Err(RequestError::message(
            ErrorCode::InvalidRequest,
            "Request specific response headers cannot be used for anonymous GET requests.",
        ));
    }

    let conditions = ConditionalHeaders::from_headers(exchange.headers.iter().copied());
    let range_header = exchange.head.header("range");
    if !head_only && conditions.is_empty() && range_header.is_none() {
        // A plain GET needs nothing from a separate stat: one storage round trip.
        let (bucket, key) = (bucket_name(request), key_name(request));
        let (meta, object_body) = gateway
            .storage()
            .get_object(bucket, key, None)
            .await
            .map_err(|error| no_such_key(error, key))?;
        return Ok(stream_object(
            exchange,
            &meta,
            None,
            &overrides,
            object_body,
        ));
    }

    let meta = stat(gateway, request).await?;
    let method = if head_only { Method::Head } else { Method::Get };
    if let Err(error) = evaluate_conditions(&conditions, &meta.etag, meta.last_modified, method) {
        if error.code == ErrorCode::NotModified {
            return Ok(ResponseBuilder::new(exchange, 304)
                .header("etag", format_etag(&meta.etag))
                .header("last-modified", format_http_date(meta.last_modified))
                .build());
        }
        return Err(error.into());
    }
    let range = match range_header {
        Some(header) => parse_range(header, meta.size)?,
        None => None,
    };

    if head_only {
        let length = range.map_or(meta.size, |(start, end)| end - start + 1);
        return Ok(object_headers(exchange, &meta, range, &overrides)
            .header("content-length", length.to_string())
            .build());
    }

    let (bucket, key) = (bucket_name(request), key_name(request));
    let (meta, object_body) = gateway
        .storage()
        .get_object(bucket, key, range)
        .await
        .map_err(|error| no_such_key(error, key))?;
    Ok(stream_object(
        exchange,
        &meta,
        range,
        &overrides,
        object_body,
    ))
}

fn stream_object(
    exchange: &Exchange<'_>,
    meta: &ObjectMeta,
    range: Option<(u64, u64)>,
    overrides: &ResponseOverrides,
    object_body: ironbucket_adapters::ObjectBody,
) -> Response {
    let length = object_body.remaining();
    let chunks = object_body
        .map(|chunk| chunk.map_err(std::io::Error::other))
        .boxed_local();
    object_headers(exchange, meta, range, overrides)
        .body(ResponseBody::Stream { length, chunks })
        .build()
}

/// The headers of a GET or HEAD response: the stored metadata, the range, the overrides.
fn object_headers(
    exchange: &Exchange<'_>,
    meta: &ObjectMeta,
    range: Option<(u64, u64)>,
    overrides: &ResponseOverrides,
) -> ResponseBuilder {
    let status = if range.is_some() { 206 } else { 200 };
    let mut stored = StoredHeaders {
        content_type: Some(
            meta.content_type
                .clone()
                .unwrap_or_else(|| "binary/octet-stream".to_owned()),
        ),
        content_encoding: meta.headers.content_encoding.clone(),
        content_disposition: meta.headers.content_disposition.clone(),
        content_language: meta.headers.content_language.clone(),
        cache_control: meta.headers.cache_control.clone(),
        expires: meta.headers.expires.clone(),
    };
    stored.apply_overrides(overrides);
    let mut response = ResponseBuilder::new(exchange, status)
        .header("etag", format_etag(&meta.etag))
        .header("last-modified", format_http_date(meta.last_modified))
        .header("accept-ranges", "bytes");
    for (name, value) in stored.iter() {
        response = response.header(name, value.to_owned());
    }
    for (name, value) in &meta.user_metadata {
        response = response.header(format!("x-amz-meta-{name}"), value.clone());
    }
    if let Some((start, end)) = range {
        response = response.header(
            "content-range",
            format!("bytes {start}-{end}/{}", meta.size),
        );
    }
    response
}

pub(super) async fn delete_object(
    gateway: &Gateway,
    exchange: &Exchange<'_>,
    request: &S3Request,
) -> Result<Response, RequestError> {
    check_version_id(request.query.get("versionId"))?;
    let (bucket, key) = (bucket_name(request), key_name(request));
    gateway.storage().delete_object(bucket, key).await?;
    let mut response = ResponseBuilder::new(exchange, 204);
    if request.query.get("versionId").is_some() {
        response = response.header("x-amz-version-id", "null");
    }
    Ok(response.build())
}

pub(super) async fn delete_objects(
    gateway: &Gateway,
    exchange: &mut Exchange<'_>,
    request: &S3Request,
    authenticated: Authenticated,
    body: &mut Body<'_>,
) -> Result<Response, RequestError> {
    let limit = gateway.config().limits.max_xml_body_bytes;
    let document = read_xml_body(exchange, body, authenticated.payload, limit).await?;
    let delete = parse_delete(&document)?;
    let bucket = bucket_name(request);
    let identity = authenticated.identity;

    let mut deleted = Vec::new();
    let mut errors = Vec::new();
    for object in &delete.objects {
        let version_id = object.version_id.as_deref();
        let outcome = match check_version_id(version_id) {
            Err(error) => Err(RequestError::client(error)),
            Ok(()) => {
                let arn = format!("arn:aws:s3:::{bucket}/{}", object.key);
                match gateway.authorize_action(exchange, &identity, "s3:DeleteObject", &arn) {
                    Err(error) => Err(error),
                    Ok(()) => gateway
                        .storage()
                        .delete_object(bucket, &object.key)
                        .await
                        .map_err(RequestError::from),
                }
            }
        };
        match outcome {
            Ok(()) => deleted.push(object),
            Err(error) => errors.push((object, error.s3)),
        }
    }
    // A denied key must not mark the whole request as denied in the audit log.
    exchange.deny_reason = "none";

    let deleted: Vec<DeletedEntry<'_>> = deleted
        .iter()
        .map(|object| DeletedEntry {
            key: &object.key,
            version_id: object.version_id.as_deref(),
        })
        .collect();
    let errors: Vec<DeleteErrorEntry<'_>> = errors
        .iter()
        .map(|(object, error)| DeleteErrorEntry {
            key: &object.key,
            version_id: object.version_id.as_deref(),
            code: error.code,
            message: &error.message,
        })
        .collect();
    let xml = DeleteResult {
        quiet: delete.quiet,
        deleted: &deleted,
        errors: &errors,
    }
    .to_xml();
    Ok(xml_response(exchange, xml))
}

pub(super) async fn copy_object(
    gateway: &Gateway,
    exchange: &mut Exchange<'_>,
    request: &S3Request,
    authenticated: &Authenticated,
) -> Result<Response, RequestError> {
    let directive = parse_metadata_directive(exchange.head.header("x-amz-metadata-directive"))?;
    check_acl_headers(exchange.headers.iter().copied())?;
    let (source, _) = open_copy_source(gateway, exchange, authenticated).await?;
    let (bucket, key) = (bucket_name(request), key_name(request));

    let metadata = match directive {
        MetadataDirective::Copy => {
            if source.bucket == bucket && source.key == key {
                return Err(RequestError::message(
                    ErrorCode::InvalidRequest,
                    "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
                ));
            }
            None
        }
        MetadataDirective::Replace => Some(new_object_from_headers(exchange)?),
    };
    let meta = gateway
        .storage()
        .copy_object(&source.bucket, &source.key, bucket, key, metadata)
        .await
        .map_err(|error| no_such_key(error, &source.key))?;
    let xml = CopyResult {
        etag: &meta.etag,
        last_modified: meta.last_modified,
    }
    .to_copy_object_xml();
    Ok(xml_response(exchange, xml))
}

/// Checks the `x-amz-copy-source` of a copy as a GetObject of it would be checked (tenant
/// isolation, then policy), then its `x-amz-copy-source-if-*` conditions, and returns it.
pub(super) async fn open_copy_source(
    gateway: &Gateway,
    exchange: &mut Exchange<'_>,
    authenticated: &Authenticated,
) -> Result<(CopySource, ObjectMeta), RequestError> {
    let header = exchange
        .head
        .header("x-amz-copy-source")
        .unwrap_or_default();
    let source = parse_copy_source(header)?;
    let identity = &authenticated.identity;
    match gateway.lookup_bucket(&source.bucket).await? {
        BucketLookup::Found(info)
            if !identity.is_anonymous() && info.tenant != identity.principal.tenant =>
        {
            exchange.deny_reason = "tenant-isolation";
            return Err(RequestError::message(
                ErrorCode::AccessDenied,
                "Access Denied: the copy source belongs to another tenant.",
            ));
        }
        BucketLookup::Found(_) => {}
        _ => {
            return Err(RequestError::client(
                S3Error::new(ErrorCode::NoSuchBucket).extra("BucketName", source.bucket.clone()),
            ));
        }
    }
    let source_arn = format!("arn:aws:s3:::{}/{}", source.bucket, source.key);
    gateway.authorize_action(exchange, identity, "s3:GetObject", &source_arn)?;
    let source_meta = gateway
        .storage()
        .stat_object(&source.bucket, &source.key)
        .await
        .map_err(|error| no_such_key(error, &source.key))?;
    let conditions = ConditionalHeaders::copy_source_from_headers(exchange.headers.iter().copied());
    evaluate_copy_source_conditions(&conditions, &source_meta.etag, source_meta.last_modified)?;
    Ok((source, source_meta))
}

pub(super) async fn get_object_acl(
    gateway: &Gateway,
    exchange: &Exchange<'_>,
    request: &S3Request,
    bucket: &BucketLookup,
) -> Result<Response, RequestError> {
    check_version_id(request.query.get("versionId"))?;
    stat(gateway, request).await?;
    let xml = access_control_policy_xml(&owner_of(bucket_tenant(bucket)));
    Ok(xml_response(exchange, xml))
}

pub(super) async fn put_object_acl(
    gateway: &Gateway,
    exchange: &mut Exchange<'_>,
    request: &S3Request,
    authenticated: Authenticated,
    body: &mut Body<'_>,
) -> Result<Response, RequestError> {
    stat(gateway, request).await?;
    super::bucket::put_acl(exchange, authenticated, body).await
}
