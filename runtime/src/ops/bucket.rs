//! Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation,
//! GetBucketVersioning and the bucket ACL calls. ACLs are disabled as on new AWS buckets
//! (object ownership BucketOwnerEnforced): policies are the authority.

use bytes::Bytes;
use ironbucket_adapters::ErrorKind as StorageKind;
use ironbucket_http::{Body, Response};
use ironbucket_s3::params::check_acl_headers;
use ironbucket_s3::xml::parse::{check_location_constraint, parse_create_bucket_configuration};
use ironbucket_s3::xml::render::{
    BucketEntry, ListAllMyBucketsResult, access_control_policy_xml, location_constraint_xml,
    versioning_configuration_xml,
};
use ironbucket_s3::{ErrorCode, S3Error, S3Request};

use super::{bucket_name, bucket_tenant, owner_of};
use crate::gateway::{
    Authenticated, BucketLookup, Exchange, Gateway, RequestError, ResponseBuilder, read_xml_body,
    xml_response,
};

pub(super) async fn list_buckets(
    gateway: &Gateway,
    exchange: &mut Exchange<'_>,
    authenticated: &Authenticated,
) -> Result<Response, RequestError> {
    let identity = &authenticated.identity;
    if identity.is_anonymous() {
        return Err(RequestError::code(ErrorCode::AccessDenied));
    }
    let tenant = identity.principal.tenant.as_str();
    let buckets = gateway.storage().list_buckets().await?;
    let overrides = &gateway.shared.bucket_tenants;
    let entries: Vec<BucketEntry<'_>> = buckets
        .iter()
        .filter(|bucket| overrides.get(&bucket.name).unwrap_or(&bucket.tenant) == tenant)
        .map(|bucket| BucketEntry {
            name: &bucket.name,
            creation_date: bucket.created,
        })
        .collect();
    let xml = ListAllMyBucketsResult {
        owner: owner_of(tenant),
        buckets: &entries,
        continuation_token: None,
        prefix: None,
    }
    .to_xml();
    Ok(xml_response(exchange, xml))
}

pub(super) async fn create_bucket(
    gateway: &Gateway,
    exchange: &mut Exchange<'_>,
    request: &S3Request,
    authenticated: Authenticated,
    bucket: BucketLookup,
    body: &mut Body<'_>,
) -> Result<Response, RequestError> {
    let identity = authenticated.identity.clone();
    if identity.is_anonymous() {
        // A bucket needs an owning tenant, and the anonymous identity has none.
        return Err(RequestError::code(ErrorCode::AccessDenied));
    }
    check_acl_headers(exchange.headers.iter().copied())?;
    let name = bucket_name(request);
    let limit = gateway.config().limits.max_xml_body_bytes;
    let document = read_xml_body(exchange, body, authenticated.payload, limit).await?;
    if !document.iter().all(u8::is_ascii_whitespace) {
        let constraint = parse_create_bucket_configuration(&document)?;
        check_location_constraint(constraint.as_deref(), &gateway.config().server.region)?;
    }

    let tenant = identity.principal.tenant.as_str();
    if let BucketLookup::Found(existing) = &bucket {
        return Err(already_exists(name, existing.tenant == tenant));
    }
    if let Some(owner) = gateway.shared.bucket_tenants.get(name)
        && owner != tenant
    {
        // The configuration reserves this name for another tenant.
        return Err(already_exists(name, false));
    }
    let created = gateway.storage().create_bucket(name, tenant).await;
    gateway.buckets_changed();
    match created {
        Ok(_) => {}
        Err(error) if error.kind() == StorageKind::BucketAlreadyExists => {
            // Another request created it between the lookup and now.
            let owned = matches!(
                gateway.lookup_bucket(name).await?,
                BucketLookup::Found(info) if info.tenant == tenant
            );
            return Err(already_exists(name, owned));
        }
        Err(error) => return Err(error.into()),
    }
    tracing::info!(s3.bucket = name, tenant, principal = %identity.principal.user_id, "bucket created");
    Ok(ResponseBuilder::new(exchange, 200)
        .header("location", format!("/{name}"))
        .build())
}

fn already_exists(name: &str, owned_by_caller: bool) -> RequestError {
    let code = if owned_by_caller {
        ErrorCode::BucketAlreadyOwnedByYou
    } else {
        ErrorCode::BucketAlreadyExists
    };
    RequestError::client(S3Error::new(code).extra("BucketName", name.to_owned()))
}

pub(super) fn head_bucket(
    gateway: &Gateway,
    exchange: &Exchange<'_>,
) -> Result<Response, RequestError> {
    Ok(ResponseBuilder::new(exchange, 200)
        .header(
            "x-amz-bucket-region",
            gateway.config().server.region.clone(),
        )
        .build())
}

pub(super) async fn delete_bucket(
    gateway: &Gateway,
    exchange: &Exchange<'_>,
    request: &S3Request,
) -> Result<Response, RequestError> {
    let name = bucket_name(request);
    let deleted = gateway.storage().delete_bucket(name).await;
    gateway.buckets_changed();
    deleted?;
    tracing::info!(s3.bucket = name, "bucket deleted");
    Ok(ResponseBuilder::new(exchange, 204).build())
}

pub(super) fn get_bucket_location(
    gateway: &Gateway,
    exchange: &Exchange<'_>,
) -> Result<Response, RequestError> {
    let xml = location_constraint_xml(&gateway.config().server.region);
    Ok(xml_response(exchange, xml))
}

pub(super) fn get_bucket_versioning(exchange: &Exchange<'_>) -> Result<Response, RequestError> {
    Ok(xml_response(exchange, versioning_configuration_xml()))
}

pub(super) fn get_acl(
    exchange: &Exchange<'_>,
    bucket: &BucketLookup,
) -> Result<Response, RequestError> {
    let xml = access_control_policy_xml(&owner_of(bucket_tenant(bucket)));
    Ok(xml_response(exchange, xml))
}

/// PutBucketAcl and PutObjectAcl: only the canned ACLs that grant nothing beyond the owner are
/// accepted, as on a bucket whose ACLs are disabled.
pub(super) async fn put_acl(
    exchange: &mut Exchange<'_>,
    authenticated: Authenticated,
    body: &mut Body<'_>,
) -> Result<Response, RequestError> {
    check_acl_headers(exchange.headers.iter().copied())?;
    let document: Bytes = read_xml_body(exchange, body, authenticated.payload, 64 * 1024).await?;
    if !document.iter().all(u8::is_ascii_whitespace) {
        return Err(RequestError::message(
            ErrorCode::AccessControlListNotSupported,
            "The bucket does not allow ACLs",
        ));
    }
    Ok(ResponseBuilder::new(exchange, 200).build())
}
