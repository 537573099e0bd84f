//! The execute phase: one function per S3 operation, run after the request was authenticated,
//! kept inside its tenant and allowed by policy.

mod bucket;
mod list;
mod multipart;
mod object;

use ironbucket_adapters::NewObject;
use ironbucket_http::{Body, Response};
use ironbucket_s3::headers::{StoredHeaders, collect_user_metadata};
use ironbucket_s3::xml::render::Owner;
use ironbucket_s3::{ErrorCode, Operation, S3Request};

use crate::gateway::{Authenticated, BucketLookup, Exchange, Gateway, RequestError};

/// Runs the operation the request was routed to.
pub(crate) async fn execute(
    gateway: &Gateway,
    exchange: &mut Exchange<'_>,
    request: &S3Request,
    authenticated: Authenticated,
    bucket: BucketLookup,
    body: &mut Body<'_>,
) -> Result<Response, RequestError> {
    use Operation::*;
    match request.operation {
        ListBuckets => bucket::list_buckets(gateway, exchange, &authenticated).await,
        CreateBucket => {
            bucket::create_bucket(gateway, exchange, request, authenticated, bucket, body).await
        }
        HeadBucket => bucket::head_bucket(gateway, exchange),
        DeleteBucket => bucket::delete_bucket(gateway, exchange, request).await,
        GetBucketLocation => bucket::get_bucket_location(gateway, exchange),
        GetBucketVersioning => bucket::get_bucket_versioning(exchange),
        GetBucketAcl => bucket::get_acl(exchange, &bucket),
        PutBucketAcl => bucket::put_acl(exchange, authenticated, body).await,
        ListObjects => list::list_objects_v1(gateway, exchange, request, &bucket).await,
        ListObjectsV2 => list::list_objects_v2(gateway, exchange, request, &bucket).await,
        ListObjectVersions => list::list_object_versions(gateway, exchange, request, &bucket).await,
        ListMultipartUploads => multipart::list_uploads(gateway, exchange, request, &bucket).await,
        PutObject => object::put_object(gateway, exchange, request, authenticated, body).await,
        CopyObject => object::copy_object(gateway, exchange, request, &authenticated).await,
        GetObject => object::get_object(gateway, exchange, request, &authenticated, false).await,
        HeadObject => object::get_object(gateway, exchange, request, &authenticated, true).await,
        DeleteObject => object::delete_object(gateway, exchange, request).await,
        DeleteObjects => {
            object::delete_objects(gateway, exchange, request, authenticated, body).await
        }
        GetObjectAcl => object::get_object_acl(gateway, exchange, request, &bucket).await,
        PutObjectAcl => {
            object::put_object_acl(gateway, exchange, request, authenticated, body).await
        }
        CreateMultipartUpload => multipart::create(gateway, exchange, request).await,
        UploadPart => multipart::upload_part(gateway, exchange, request, authenticated, body).await,
        CompleteMultipartUpload => {
            multipart::complete(gateway, exchange, request, authenticated, body).await
        }
        AbortMultipartUpload => multipart::abort(gateway, exchange, request).await,
        ListParts => multipart::list_parts(gateway, exchange, request, &bucket).await,
        UploadPartCopy => {
            multipart::upload_part_copy(gateway, exchange, request, authenticated).await
        }
        NotImplemented { .. } => Err(RequestError::message(
            ErrorCode::NotImplemented,
            format!(
                "{} is not implemented by this gateway.",
                request.operation.name()
            ),
        )),
    }
}

/// The bucket name of a bucket or object request; the router guarantees one.
fn bucket_name(request: &S3Request) -> &str {
    request.bucket.as_deref().unwrap_or_default()
}

/// The key of an object request; the router guarantees one.
fn key_name(request: &S3Request) -> &str {
    request.key.as_deref().unwrap_or_default()
}

/// The owner shown in listings and ACLs: the tenant, which owns every bucket it created.
fn owner_of(tenant: &str) -> Owner<'_> {
    Owner {
        id: tenant,
        display_name: tenant,
    }
}

fn bucket_tenant(bucket: &BucketLookup) -> &str {
    match bucket {
        BucketLookup::Found(info) => &info.tenant,
        _ => "",
    }
}

/// The metadata a PUT, a REPLACE copy or a multipart upload stores: Content-Type, the other
/// standard headers and the `x-amz-meta-*` user metadata.
fn new_object_from_headers(exchange: &Exchange<'_>) -> Result<NewObject, RequestError> {
    let stored = StoredHeaders::from_headers(exchange.headers.iter().copied());
    let user_metadata = collect_user_metadata(exchange.headers.iter().copied())?;
    Ok(NewObject {
        content_type: stored.content_type,
        user_metadata,
        headers: ironbucket_adapters::StandardHeaders {
            cache_control: stored.cache_control,
            content_disposition: stored.content_disposition,
            content_encoding: stored.content_encoding,
            content_language: stored.content_language,
            expires: stored.expires,
        },
        content_length: None,
    })
}
