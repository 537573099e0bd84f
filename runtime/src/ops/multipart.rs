//! Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
//! AbortMultipartUpload, ListParts and ListMultipartUploads.

use ironbucket_http::{Body, Response};
use ironbucket_s3::params::{
    check_acl_headers, parse_list_params, parse_list_parts_params, parse_part_number,
};
use ironbucket_s3::parse_copy_source_range;
use ironbucket_s3::xml::parse::parse_complete_multipart_upload;
use ironbucket_s3::xml::render::{
    CompleteMultipartUploadResult, CopyResult, InitiateMultipartUploadResult,
    ListMultipartUploadsResult, ListPartsResult, PartEntry, UploadEntry,
};
use ironbucket_s3::{ErrorCode, S3Error, S3Request};

use super::object::{open_copy_source, upload_length, upload_response};
use super::{bucket_name, bucket_tenant, key_name, new_object_from_headers, owner_of};
use crate::gateway::entity_too_large;
use crate::gateway::{
    Authenticated, BucketLookup, Exchange, Gateway, RequestError, ResponseBuilder, read_xml_body,
    stream_upload, xml_response,
};

/// The `uploadId` query parameter; the router only routes here when it is present.
fn upload_id(request: &S3Request) -> Result<&str, RequestError> {
    match request.query.get("uploadId") {
        Some(id) if !id.is_empty() => Ok(id),
        _ => Err(RequestError::client(
            S3Error::new(ErrorCode::NoSuchUpload).extra("UploadId", String::new()),
        )),
    }
}

pub(super) async fn create(
    gateway: &Gateway,
    exchange: &Exchange<'_>,
    request: &S3Request,
) -> Result<Response, RequestError> {
    check_acl_headers(exchange.headers.iter().copied())?;
    let (bucket, key) = (bucket_name(request), key_name(request));
    let object = new_object_from_headers(exchange)?;
    let upload_id = gateway
        .storage()
        .create_multipart(bucket, key, object)
        .await?;
    let xml = InitiateMultipartUploadResult {
        bucket,
        key,
        upload_id: &upload_id,
    }
    .to_xml();
    Ok(xml_response(exchange, xml))
}

pub(super) async fn upload_part(
    gateway: &Gateway,
    exchange: &mut Exchange<'_>,
    request: &S3Request,
    authenticated: Authenticated,
    body: &mut Body<'_>,
) -> Result<Response, RequestError> {
    let (bucket, key) = (bucket_name(request), key_name(request));
    let upload_id = upload_id(request)?;
    let part_number = parse_part_number(request.query.get("partNumber").unwrap_or(""))?;
    let length = upload_length(gateway, exchange, body)?;
    let handle = gateway
        .storage()
        .upload_part(bucket, key, upload_id, u32::from(part_number), Some(length))
        .await?;
    let max = gateway.config().limits.max_object_bytes;
    let (meta, summary) = stream_upload(exchange, body, authenticated.payload, handle, max).await?;
    Ok(upload_response(exchange, &meta, &summary))
}

/// UploadPartCopy: a byte range of an existing object becomes a part. The bytes stream through
/// this core, from the source's reader into the part's writer.
pub(super) async fn upload_part_copy(
    gateway: &Gateway,
    exchange: &mut Exchange<'_>,
    request: &S3Request,
    authenticated: Authenticated,
) -> Result<Response, RequestError> {
    let (bucket, key) = (bucket_name(request), key_name(request));
    let upload_id = upload_id(request)?.to_owned();
    let part_number = parse_part_number(request.query.get("partNumber").unwrap_or(""))?;
    let (source, source_meta) = open_copy_source(gateway, exchange, &authenticated).await?;
    let range = match exchange.head.header("x-amz-copy-source-range") {
        Some(header) => Some(parse_copy_source_range(header, source_meta.size)?),
        None => None,
    };
    let length = range.map_or(source_meta.size, |(start, end)| end - start + 1);
    let max = gateway.config().limits.max_object_bytes;
    if length > max {
        return Err(entity_too_large(max));
    }
    let (_, mut reader) = gateway
        .storage()
        .get_object(&source.bucket, &source.key, range)
        .await?;
    let mut handle = gateway
        .storage()
        .upload_part(
            bucket,
            key,
            &upload_id,
            u32::from(part_number),
            Some(length),
        )
        .await?;
    while let Some(chunk) = reader.next().await {
        handle.send(chunk?).await?;
    }
    let meta = handle.commit(None).await?;
    let xml = CopyResult {
        etag: &meta.etag,
        last_modified: meta.last_modified,
    }
    .to_copy_part_xml();
    Ok(xml_response(exchange, xml))
}

pub(super) async fn complete(
    gateway: &Gateway,
    exchange: &mut Exchange<'_>,
    request: &S3Request,
    authenticated: Authenticated,
    body: &mut Body<'_>,
) -> Result<Response, RequestError> {
    let (bucket, key) = (bucket_name(request), key_name(request));
    let upload_id = upload_id(request)?.to_owned();
    let limit = gateway.config().limits.max_xml_body_bytes;
    let document = read_xml_body(exchange, body, authenticated.payload, limit).await?;
    let parts = parse_complete_multipart_upload(&document)?
        .into_iter()
        .map(|part| (u32::from(part.part_number), part.etag))
        .collect();
    let meta = gateway
        .storage()
        .complete_multipart(bucket, key, &upload_id, parts)
        .await?;
    let location = format!("/{bucket}/{key}");
    let xml = CompleteMultipartUploadResult {
        location: &location,
        bucket,
        key,
        etag: &meta.etag,
    }
    .to_xml();
    Ok(xml_response(exchange, xml))
}

pub(super) async fn abort(
    gateway: &Gateway,
    exchange: &Exchange<'_>,
    request: &S3Request,
) -> Result<Response, RequestError> {
    let (bucket, key) = (bucket_name(request), key_name(request));
    gateway
        .storage()
        .abort_multipart(bucket, key, upload_id(request)?)
        .await?;
    Ok(ResponseBuilder::new(exchange, 204).build())
}

pub(super) async fn list_parts(
    gateway: &Gateway,
    exchange: &Exchange<'_>,
    request: &S3Request,
    bucket_lookup: &BucketLookup,
) -> Result<Response, RequestError> {
    let (bucket, key) = (bucket_name(request), key_name(request));
    let upload_id = upload_id(request)?;
    let params = parse_list_parts_params(&request.query)?;
    let marker = (params.part_number_marker > 0).then_some(u32::from(params.part_number_marker));
    let page = gateway
        .storage()
        .list_parts(bucket, key, upload_id, marker, params.max_parts as usize)
        .await?;
    let parts: Vec<PartEntry<'_>> = page
        .parts
        .iter()
        .map(|part| PartEntry {
            part_number: part.part_number as u16,
            last_modified: part.last_modified,
            etag: &part.etag,
            size: part.size,
        })
        .collect();
    let next_marker = page
        .next_part_number_marker
        .or(page.parts.last().map(|part| part.part_number))
        .unwrap_or(0) as u16;
    let xml = ListPartsResult {
        bucket,
        key,
        upload_id,
        owner: owner_of(bucket_tenant(bucket_lookup)),
        storage_class: Some("STANDARD"),
        part_number_marker: params.part_number_marker,
        next_part_number_marker: next_marker,
        max_parts: params.max_parts,
        is_truncated: page.is_truncated,
        parts: &parts,
    }
    .to_xml();
    Ok(xml_response(exchange, xml))
}

pub(super) async fn list_uploads(
    gateway: &Gateway,
    exchange: &Exchange<'_>,
    request: &S3Request,
    bucket_lookup: &BucketLookup,
) -> Result<Response, RequestError> {
    let bucket = bucket_name(request);
    let params = parse_list_params(&request.query)?;
    // NOTE: a delimiter is echoed but does not group uploads into common prefixes yet.
    let page = gateway
        .storage()
        .list_multipart_uploads(
            bucket,
            &params.prefix,
            params.key_marker.as_deref(),
            params.upload_id_marker.as_deref(),
            params.max_keys as usize,
        )
        .await?;
    let uploads: Vec<UploadEntry<'_>> = page
        .uploads
        .iter()
        .map(|upload| UploadEntry {
            key: &upload.key,
            upload_id: &upload.upload_id,
            initiated: upload.initiated,
        })
        .collect();
    let xml = ListMultipartUploadsResult {
        bucket,
        key_marker: params.key_marker.as_deref().unwrap_or(""),
        upload_id_marker: params.upload_id_marker.as_deref().unwrap_or(""),
        next_key_marker: page.next_key_marker.as_deref().unwrap_or(""),
        next_upload_id_marker: page.next_upload_id_marker.as_deref().unwrap_or(""),
        prefix: &params.prefix,
        delimiter: params.delimiter.as_deref(),
        max_uploads: params.max_keys,
        is_truncated: page.is_truncated,
        encoding_type: params.encoding_type,
        uploads: &uploads,
        common_prefixes: &[],
        owner: owner_of(bucket_tenant(bucket_lookup)),
    }
    .to_xml();
    Ok(xml_response(exchange, xml))
}
