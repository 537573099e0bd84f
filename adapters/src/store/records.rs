//! The JSON records the store keeps: one per bucket, object, upload and part. Data lives in
//! separate immutable blobs that the object and part records point to.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::error::{ErrorKind, StorageError};
use crate::layout;
use crate::types::{BucketInfo, NewObject, ObjectEntry, ObjectMeta, PartInfo, StandardHeaders};

/// The record of a bucket.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BucketRecord {
    pub(crate) name: String,
    pub(crate) tenant: String,
    pub(crate) created: SystemTime,
}

impl BucketRecord {
    pub(crate) fn info(&self) -> BucketInfo {
        BucketInfo {
            name: self.name.clone(),
            created: self.created,
            tenant: self.tenant.clone(),
        }
    }
}

/// A reference to an immutable data blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BlobRef {
    pub(crate) id: String,
    pub(crate) size: u64,
}

/// Metadata an object or upload carries from creation to the committed object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) user_metadata: Vec<(String, String)>,
    #[serde(default)]
    pub(crate) headers: StandardHeaders,
}

impl From<NewObject> for StoredMetadata {
    fn from(object: NewObject) -> Self {
        StoredMetadata {
            content_type: object.content_type,
            user_metadata: object.user_metadata,
            headers: object.headers,
        }
    }
}

/// The record of an object: its metadata and the blobs whose concatenation is its data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ObjectRecord {
    pub(crate) key: String,
    pub(crate) size: u64,
    pub(crate) etag: String,
    pub(crate) last_modified: SystemTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) parts_count: Option<u32>,
    #[serde(flatten)]
    pub(crate) metadata: StoredMetadata,
    pub(crate) blobs: Vec<BlobRef>,
}

impl ObjectRecord {
    /// Checks what a corrupt or foreign file could get wrong before the store trusts it: blob
    /// ids name paths, and blob sizes must add up to the object size.
    pub(crate) fn validate(&self, operation: &'static str, key: &str) -> Result<(), StorageError> {
        let corrupt = |reason: &str| {
            Err(StorageError::new(
                ErrorKind::Internal,
                operation,
                format!("the object record is corrupt: {reason}"),
            )
            .with_key(key))
        };
        if self.key != key {
            return corrupt("it names another key");
        }
        if !self.blobs.iter().all(|blob| layout::is_valid_id(&blob.id)) {
            return corrupt("a blob id is malformed");
        }
        let total = self
            .blobs
            .iter()
            .try_fold(0u64, |total, blob| total.checked_add(blob.size));
        if total != Some(self.size) {
            return corrupt("the blob sizes do not add up to the object size");
        }
        Ok(())
    }

    pub(crate) fn meta(&self) -> ObjectMeta {
        ObjectMeta {
            key: self.key.clone(),
            size: self.size,
            etag: self.etag.clone(),
            last_modified: self.last_modified,
            content_type: self.metadata.content_type.clone(),
            user_metadata: self.metadata.user_metadata.clone(),
            headers: self.metadata.headers.clone(),
            parts_count: self.parts_count,
        }
    }

    pub(crate) fn entry(&self) -> ObjectEntry {
        ObjectEntry {
            key: self.key.clone(),
            size: self.size,
            etag: self.etag.clone(),
            last_modified: self.last_modified,
        }
    }
}

/// The record of a multipart upload in progress.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct UploadRecord {
    pub(crate) upload_id: String,
    pub(crate) key: String,
    pub(crate) initiated: SystemTime,
    #[serde(flatten)]
    pub(crate) metadata: StoredMetadata,
}

/// The record of one uploaded part.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PartRecord {
    pub(crate) part_number: u32,
    /// Lower-case hex MD5 of the part, which is also its ETag.
    pub(crate) md5: String,
    pub(crate) last_modified: SystemTime,
    pub(crate) blob: BlobRef,
}

impl PartRecord {
    /// Checks the fields a corrupt file could get wrong.
    pub(crate) fn is_valid(&self, part_number: u32) -> bool {
        self.part_number == part_number
            && layout::is_valid_id(&self.blob.id)
            && self.md5.len() == 32
            && self.md5.bytes().all(|byte| byte.is_ascii_hexdigit())
    }

    pub(crate) fn info(&self) -> PartInfo {
        PartInfo {
            part_number: self.part_number,
            etag: self.md5.clone(),
            size: self.blob.size,
            last_modified: self.last_modified,
        }
    }
}
