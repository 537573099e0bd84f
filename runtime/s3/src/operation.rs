//! The S3 operations the router recognises, their IAM action names and the
//! kind of resource each one addresses.
//!
//! Sub-resources that the gateway does not implement (`tagging`, `cors`,
//! `lifecycle`, ...) are still recognised, so that `PUT /bucket/key?tagging`
//! becomes `NotImplemented { name: "PutObjectTagging" }` and never a
//! `PutObject` that would overwrite the object with a tagging document.

use crate::route::Method;

/// What an operation addresses, which decides the shape of its resource ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// The whole service, as `ListBuckets` does.
    Service,
    /// A bucket (`arn:aws:s3:::bucket`).
    Bucket,
    /// An object (`arn:aws:s3:::bucket/key`).
    Object,
}

/// An S3 operation, named as in the S3 API reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    ListBuckets,
    CreateBucket,
    HeadBucket,
    DeleteBucket,
    GetBucketLocation,
    GetBucketAcl,
    PutBucketAcl,
    /// The gateway reports every bucket as unversioned.
    GetBucketVersioning,
    ListObjects,
    ListObjectsV2,
    ListObjectVersions,
    ListMultipartUploads,
    DeleteObjects,
    PutObject,
    CopyObject,
    GetObject,
    HeadObject,
    DeleteObject,
    GetObjectAcl,
    PutObjectAcl,
    CreateMultipartUpload,
    UploadPart,
    UploadPartCopy,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListParts,
    /// A recognised S3 operation that this gateway does not implement, so the
    /// gateway returns 501 `NotImplemented` for it.
    NotImplemented {
        /// The operation name from the S3 API reference, such as `PutObjectTagging`.
        name: &'static str,
    },
}

impl Operation {
    /// Returns the operation name from the S3 API reference, as used in audit records.
    pub fn name(self) -> &'static str {
        use Operation::*;
        match self {
            ListBuckets => "ListBuckets",
            CreateBucket => "CreateBucket",
            HeadBucket => "HeadBucket",
            DeleteBucket => "DeleteBucket",
            GetBucketLocation => "GetBucketLocation",
            GetBucketAcl => "GetBucketAcl",
            PutBucketAcl => "PutBucketAcl",
            GetBucketVersioning => "GetBucketVersioning",
            ListObjects => "ListObjects",
            ListObjectsV2 => "ListObjectsV2",
            ListObjectVersions => "ListObjectVersions",
            ListMultipartUploads => "ListMultipartUploads",
            DeleteObjects => "DeleteObjects",
            PutObject => "PutObject",
            CopyObject => "CopyObject",
            GetObject => "GetObject",
            HeadObject => "HeadObject",
            DeleteObject => "DeleteObject",
            GetObjectAcl => "GetObjectAcl",
            PutObjectAcl => "PutObjectAcl",
            CreateMultipartUpload => "CreateMultipartUpload",
            UploadPart => "UploadPart",
            UploadPartCopy => "UploadPartCopy",
            CompleteMultipartUpload => "CompleteMultipartUpload",
            AbortMultipartUpload => "AbortMultipartUpload",
            ListParts => "ListParts",
            NotImplemented { name } => name,
        }
    }

    /// Returns the IAM action that authorises this operation, such as `s3:GetObject`.
    ///
    /// Several operations share an action, as in AWS IAM: `HeadObject` needs
    /// `s3:GetObject`, `HeadBucket` and both list versions need
    /// `s3:ListBucket`, and the multipart steps and both copies need
    /// `s3:PutObject` on the destination. A copy also needs `s3:GetObject` on
    /// its source, which the caller checks separately.
    pub fn iam_action_name(self) -> &'static str {
        use Operation::*;
        match self {
            ListBuckets => "s3:ListAllMyBuckets",
            CreateBucket => "s3:CreateBucket",
            HeadBucket | ListObjects | ListObjectsV2 => "s3:ListBucket",
            DeleteBucket => "s3:DeleteBucket",
            GetBucketLocation => "s3:GetBucketLocation",
            GetBucketAcl => "s3:GetBucketAcl",
            PutBucketAcl => "s3:PutBucketAcl",
            GetBucketVersioning => "s3:GetBucketVersioning",
            ListObjectVersions => "s3:ListBucketVersions",
            ListMultipartUploads => "s3:ListBucketMultipartUploads",
            DeleteObjects | DeleteObject => "s3:DeleteObject",
            PutObject
            | CopyObject
            | CreateMultipartUpload
            | UploadPart
            | UploadPartCopy
            | CompleteMultipartUpload => "s3:PutObject",
            GetObject | HeadObject => "s3:GetObject",
            GetObjectAcl => "s3:GetObjectAcl",
            PutObjectAcl => "s3:PutObjectAcl",
            AbortMultipartUpload => "s3:AbortMultipartUpload",
            ListParts => "s3:ListMultipartUploadParts",
            NotImplemented { name } => {
                find_unsupported_by_name(name).map_or("s3:*", |operation| operation.iam_action)
            }
        }
    }

    /// Returns what the operation addresses: the service, a bucket or an object.
    pub fn resource_kind(self) -> ResourceKind {
        use Operation::*;
        match self {
            ListBuckets => ResourceKind::Service,
            CreateBucket | HeadBucket | DeleteBucket | GetBucketLocation | GetBucketAcl
            | PutBucketAcl | GetBucketVersioning | ListObjects | ListObjectsV2
            | ListObjectVersions | ListMultipartUploads | DeleteObjects => ResourceKind::Bucket,
            PutObject
            | CopyObject
            | GetObject
            | HeadObject
            | DeleteObject
            | GetObjectAcl
            | PutObjectAcl
            | CreateMultipartUpload
            | UploadPart
            | UploadPartCopy
            | CompleteMultipartUpload
            | AbortMultipartUpload
            | ListParts => ResourceKind::Object,
            NotImplemented { name } => find_unsupported_by_name(name)
                .map_or(ResourceKind::Bucket, |operation| operation.kind),
        }
    }

    /// Returns whether the operation only reads state, which lets the caller
    /// skip work such as body verification.
    pub fn is_read_only(self) -> bool {
        use Operation::*;
        match self {
            ListBuckets | HeadBucket | GetBucketLocation | GetBucketAcl | GetBucketVersioning
            | ListObjects | ListObjectsV2 | ListObjectVersions | ListMultipartUploads
            | GetObject | HeadObject | GetObjectAcl | ListParts => true,
            NotImplemented { name } => name.starts_with("Get") || name.starts_with("List"),
            _ => false,
        }
    }
}

/// A recognised but unimplemented operation: which sub-resource, method and
/// resource kind select it, and the IAM action AWS documents for it.
#[derive(Debug)]
pub(crate) struct UnsupportedOperation {
    pub(crate) subresource: &'static str,
    pub(crate) method: Method,
    pub(crate) kind: ResourceKind,
    pub(crate) name: &'static str,
    pub(crate) iam_action: &'static str,
}

const fn unsupported(
    subresource: &'static str,
    method: Method,
    kind: ResourceKind,
    name: &'static str,
    iam_action: &'static str,
) -> UnsupportedOperation {
    UnsupportedOperation {
        subresource,
        method,
        kind,
        name,
        iam_action,
    }
}

use Method::{Delete, Get, Post, Put};
use ResourceKind::{Bucket, Object};

/// Every unimplemented sub-resource operation, with the IAM action names from
/// the "Actions, resources, and condition keys for Amazon S3" page of the AWS
/// Service Authorization Reference. Several deletes are authorised by the
/// matching put action there (for example `DeleteBucketCors` by `s3:PutBucketCORS`).
pub(crate) static UNSUPPORTED_OPERATIONS: &[UnsupportedOperation] = &[
    unsupported(
        "tagging",
        Get,
        Bucket,
        "GetBucketTagging",
        "s3:GetBucketTagging",
    ),
    unsupported(
        "tagging",
        Put,
        Bucket,
        "PutBucketTagging",
        "s3:PutBucketTagging",
    ),
    unsupported(
        "tagging",
        Delete,
        Bucket,
        "DeleteBucketTagging",
        "s3:PutBucketTagging",
    ),
    unsupported(
        "tagging",
        Get,
        Object,
        "GetObjectTagging",
        "s3:GetObjectTagging",
    ),
    unsupported(
        "tagging",
        Put,
        Object,
        "PutObjectTagging",
        "s3:PutObjectTagging",
    ),
    unsupported(
        "tagging",
        Delete,
        Object,
        "DeleteObjectTagging",
        "s3:DeleteObjectTagging",
    ),
    unsupported(
        "policy",
        Get,
        Bucket,
        "GetBucketPolicy",
        "s3:GetBucketPolicy",
    ),
    unsupported(
        "policy",
        Put,
        Bucket,
        "PutBucketPolicy",
        "s3:PutBucketPolicy",
    ),
    unsupported(
        "policy",
        Delete,
        Bucket,
        "DeleteBucketPolicy",
        "s3:DeleteBucketPolicy",
    ),
    unsupported(
        "policyStatus",
        Get,
        Bucket,
        "GetBucketPolicyStatus",
        "s3:GetBucketPolicyStatus",
    ),
    unsupported("cors", Get, Bucket, "GetBucketCors", "s3:GetBucketCORS"),
    unsupported("cors", Put, Bucket, "PutBucketCors", "s3:PutBucketCORS"),
    unsupported(
        "cors",
        Delete,
        Bucket,
        "DeleteBucketCors",
        "s3:PutBucketCORS",
    ),
    unsupported(
        "lifecycle",
        Get,
        Bucket,
        "GetBucketLifecycleConfiguration",
        "s3:GetLifecycleConfiguration",
    ),
    unsupported(
        "lifecycle",
        Put,
        Bucket,
        "PutBucketLifecycleConfiguration",
        "s3:PutLifecycleConfiguration",
    ),
    unsupported(
        "lifecycle",
        Delete,
        Bucket,
        "DeleteBucketLifecycle",
        "s3:PutLifecycleConfiguration",
    ),
    unsupported(
        "website",
        Get,
        Bucket,
        "GetBucketWebsite",
        "s3:GetBucketWebsite",
    ),
    unsupported(
        "website",
        Put,
        Bucket,
        "PutBucketWebsite",
        "s3:PutBucketWebsite",
    ),
    unsupported(
        "website",
        Delete,
        Bucket,
        "DeleteBucketWebsite",
        "s3:DeleteBucketWebsite",
    ),
    unsupported(
        "encryption",
        Get,
        Bucket,
        "GetBucketEncryption",
        "s3:GetEncryptionConfiguration",
    ),
    unsupported(
        "encryption",
        Put,
        Bucket,
        "PutBucketEncryption",
        "s3:PutEncryptionConfiguration",
    ),
    unsupported(
        "encryption",
        Delete,
        Bucket,
        "DeleteBucketEncryption",
        "s3:PutEncryptionConfiguration",
    ),
    unsupported(
        "replication",
        Get,
        Bucket,
        "GetBucketReplication",
        "s3:GetReplicationConfiguration",
    ),
    unsupported(
        "replication",
        Put,
        Bucket,
        "PutBucketReplication",
        "s3:PutReplicationConfiguration",
    ),
    unsupported(
        "replication",
        Delete,
        Bucket,
        "DeleteBucketReplication",
        "s3:PutReplicationConfiguration",
    ),
    unsupported(
        "notification",
        Get,
        Bucket,
        "GetBucketNotificationConfiguration",
        "s3:GetBucketNotification",
    ),
    unsupported(
        "notification",
        Put,
        Bucket,
        "PutBucketNotificationConfiguration",
        "s3:PutBucketNotification",
    ),
    unsupported(
        "logging",
        Get,
        Bucket,
        "GetBucketLogging",
        "s3:GetBucketLogging",
    ),
    unsupported(
        "logging",
        Put,
        Bucket,
        "PutBucketLogging",
        "s3:PutBucketLogging",
    ),
    unsupported(
        "object-lock",
        Get,
        Bucket,
        "GetObjectLockConfiguration",
        "s3:GetBucketObjectLockConfiguration",
    ),
    unsupported(
        "object-lock",
        Put,
        Bucket,
        "PutObjectLockConfiguration",
        "s3:PutBucketObjectLockConfiguration",
    ),
    unsupported(
        "accelerate",
        Get,
        Bucket,
        "GetBucketAccelerateConfiguration",
        "s3:GetAccelerateConfiguration",
    ),
    unsupported(
        "accelerate",
        Put,
        Bucket,
        "PutBucketAccelerateConfiguration",
        "s3:PutAccelerateConfiguration",
    ),
    unsupported(
        "analytics",
        Get,
        Bucket,
        "GetBucketAnalyticsConfiguration",
        "s3:GetAnalyticsConfiguration",
    ),
    unsupported(
        "analytics",
        Put,
        Bucket,
        "PutBucketAnalyticsConfiguration",
        "s3:PutAnalyticsConfiguration",
    ),
    unsupported(
        "analytics",
        Delete,
        Bucket,
        "DeleteBucketAnalyticsConfiguration",
        "s3:PutAnalyticsConfiguration",
    ),
    unsupported(
        "inventory",
        Get,
        Bucket,
        "GetBucketInventoryConfiguration",
        "s3:GetInventoryConfiguration",
    ),
    unsupported(
        "inventory",
        Put,
        Bucket,
        "PutBucketInventoryConfiguration",
        "s3:PutInventoryConfiguration",
    ),
    unsupported(
        "inventory",
        Delete,
        Bucket,
        "DeleteBucketInventoryConfiguration",
        "s3:PutInventoryConfiguration",
    ),
    unsupported(
        "metrics",
        Get,
        Bucket,
        "GetBucketMetricsConfiguration",
        "s3:GetMetricsConfiguration",
    ),
    unsupported(
        "metrics",
        Put,
        Bucket,
        "PutBucketMetricsConfiguration",
        "s3:PutMetricsConfiguration",
    ),
    unsupported(
        "metrics",
        Delete,
        Bucket,
        "DeleteBucketMetricsConfiguration",
        "s3:PutMetricsConfiguration",
    ),
    unsupported(
        "intelligent-tiering",
        Get,
        Bucket,
        "GetBucketIntelligentTieringConfiguration",
        "s3:GetIntelligentTieringConfiguration",
    ),
    unsupported(
        "intelligent-tiering",
        Put,
        Bucket,
        "PutBucketIntelligentTieringConfiguration",
        "s3:PutIntelligentTieringConfiguration",
    ),
    unsupported(
        "intelligent-tiering",
        Delete,
        Bucket,
        "DeleteBucketIntelligentTieringConfiguration",
        "s3:PutIntelligentTieringConfiguration",
    ),
    unsupported(
        "ownershipControls",
        Get,
        Bucket,
        "GetBucketOwnershipControls",
        "s3:GetBucketOwnershipControls",
    ),
    unsupported(
        "ownershipControls",
        Put,
        Bucket,
        "PutBucketOwnershipControls",
        "s3:PutBucketOwnershipControls",
    ),
    unsupported(
        "ownershipControls",
        Delete,
        Bucket,
        "DeleteBucketOwnershipControls",
        "s3:PutBucketOwnershipControls",
    ),
    unsupported(
        "publicAccessBlock",
        Get,
        Bucket,
        "GetPublicAccessBlock",
        "s3:GetBucketPublicAccessBlock",
    ),
    unsupported(
        "publicAccessBlock",
        Put,
        Bucket,
        "PutPublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
    ),
    unsupported(
        "publicAccessBlock",
        Delete,
        Bucket,
        "DeletePublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
    ),
    unsupported(
        "requestPayment",
        Get,
        Bucket,
        "GetBucketRequestPayment",
        "s3:GetBucketRequestPayment",
    ),
    unsupported(
        "requestPayment",
        Put,
        Bucket,
        "PutBucketRequestPayment",
        "s3:PutBucketRequestPayment",
    ),
    unsupported(
        "versioning",
        Put,
        Bucket,
        "PutBucketVersioning",
        "s3:PutBucketVersioning",
    ),
    unsupported(
        "session",
        Get,
        Bucket,
        "CreateSession",
        "s3express:CreateSession",
    ),
    unsupported(
        "metadataTable",
        Get,
        Bucket,
        "GetBucketMetadataTableConfiguration",
        "s3:GetBucketMetadataTableConfiguration",
    ),
    unsupported(
        "metadataTable",
        Post,
        Bucket,
        "CreateBucketMetadataTableConfiguration",
        "s3:CreateBucketMetadataTableConfiguration",
    ),
    unsupported(
        "metadataTable",
        Delete,
        Bucket,
        "DeleteBucketMetadataTableConfiguration",
        "s3:DeleteBucketMetadataTableConfiguration",
    ),
    unsupported(
        "retention",
        Get,
        Object,
        "GetObjectRetention",
        "s3:GetObjectRetention",
    ),
    unsupported(
        "retention",
        Put,
        Object,
        "PutObjectRetention",
        "s3:PutObjectRetention",
    ),
    unsupported(
        "legal-hold",
        Get,
        Object,
        "GetObjectLegalHold",
        "s3:GetObjectLegalHold",
    ),
    unsupported(
        "legal-hold",
        Put,
        Object,
        "PutObjectLegalHold",
        "s3:PutObjectLegalHold",
    ),
    unsupported(
        "torrent",
        Get,
        Object,
        "GetObjectTorrent",
        "s3:GetObjectTorrent",
    ),
    unsupported(
        "attributes",
        Get,
        Object,
        "GetObjectAttributes",
        "s3:GetObjectAttributes",
    ),
    unsupported("restore", Post, Object, "RestoreObject", "s3:RestoreObject"),
    unsupported(
        "select",
        Post,
        Object,
        "SelectObjectContent",
        "s3:GetObject",
    ),
];

/// Operations that no sub-resource selects but that the router still names.
static OTHER_UNSUPPORTED_OPERATIONS: &[UnsupportedOperation] = &[
    // HTML form uploads (POST to a bucket with a multipart/form-data body).
    unsupported("", Post, Bucket, "PostObject", "s3:PutObject"),
    // CORS preflight requests.
    unsupported("", Method::Options, Object, "OptionsObject", "s3:GetObject"),
    unsupported(
        "",
        Method::Options,
        Bucket,
        "OptionsBucket",
        "s3:ListBucket",
    ),
];

/// Returns whether `name` is a sub-resource query parameter that selects an
/// operation the gateway recognises but does not implement.
pub(crate) fn is_unsupported_subresource(name: &str) -> bool {
    UNSUPPORTED_OPERATIONS
        .iter()
        .any(|operation| operation.subresource == name)
}

/// Finds the unimplemented operation that `subresource`, `method` and `kind` select.
pub(crate) fn find_unsupported(
    subresource: &str,
    method: Method,
    kind: ResourceKind,
) -> Option<&'static UnsupportedOperation> {
    UNSUPPORTED_OPERATIONS
        .iter()
        .chain(OTHER_UNSUPPORTED_OPERATIONS)
        .find(|operation| {
            operation.subresource == subresource
                && operation.method == method
                && operation.kind == kind
        })
}

fn find_unsupported_by_name(name: &str) -> Option<&'static UnsupportedOperation> {
    UNSUPPORTED_OPERATIONS
        .iter()
        .chain(OTHER_UNSUPPORTED_OPERATIONS)
        .find(|operation| operation.name == name)
}
