//! Values exchanged with the storage layer: bucket and object metadata, listing queries and
//! pages, multipart parts and uploads, and backend capabilities.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// A bucket as the storage layer keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketInfo {
    /// Bucket name.
    pub name: String,
    /// Creation time.
    pub created: SystemTime,
    /// Tenant that owns the bucket.
    pub tenant: String,
}

/// The standard HTTP headers S3 stores with an object and returns on GET and HEAD.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandardHeaders {
    /// `Cache-Control`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    /// `Content-Disposition`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    /// `Content-Encoding`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    /// `Content-Language`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    /// `Expires`, kept as the HTTP date text the client sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

impl StandardHeaders {
    /// Returns the total length in bytes of all header values.
    pub(crate) fn byte_len(&self) -> usize {
        [
            &self.cache_control,
            &self.content_disposition,
            &self.content_encoding,
            &self.content_language,
            &self.expires,
        ]
        .iter()
        .map(|value| value.as_ref().map_or(0, String::len))
        .sum()
    }
}

/// Metadata of an object to be written by a PUT, a copy with the REPLACE directive, or a
/// multipart upload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewObject {
    /// `Content-Type`; `None` lets the front end apply its default.
    pub content_type: Option<String>,
    /// User metadata (`x-amz-meta-*`) as name and value pairs, names without the prefix.
    pub user_metadata: Vec<(String, String)>,
    /// Standard headers stored with the object.
    pub headers: StandardHeaders,
    /// Declared body length. When present, commit fails with `IncompleteBody` on a shorter body.
    /// Ignored by copies and multipart uploads.
    pub content_length: Option<u64>,
}

/// Metadata of a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// Object key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// ETag without quotes: lower-case hex MD5, or `hex-N` for an object of N parts.
    pub etag: String,
    /// Time the object was committed.
    pub last_modified: SystemTime,
    /// `Content-Type`, if one was stored.
    pub content_type: Option<String>,
    /// User metadata in the order it was stored.
    pub user_metadata: Vec<(String, String)>,
    /// Standard headers.
    pub headers: StandardHeaders,
    /// Number of parts for an object completed from a multipart upload.
    pub parts_count: Option<u32>,
}

/// Parameters of a ListObjects request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Only keys that start with this string.
    pub prefix: String,
    /// Groups keys that contain this string after the prefix into common prefixes. Any
    /// non-empty string works; an empty string means no grouping.
    pub delimiter: Option<String>,
    /// Only entries after this key or common prefix, exclusive.
    pub start_after: Option<String>,
    /// Maximum number of entries (objects plus common prefixes), capped at
    /// [`MAX_LIST_KEYS`].
    pub max_keys: usize,
}

/// S3's cap on `max-keys`. The store lowers larger values of [`ListQuery::max_keys`] to it.
pub const MAX_LIST_KEYS: usize = 1000;

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            prefix: String::new(),
            delimiter: None,
            start_after: None,
            max_keys: MAX_LIST_KEYS,
        }
    }
}

/// One object in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEntry {
    /// Object key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// ETag without quotes.
    pub etag: String,
    /// Time the object was committed.
    pub last_modified: SystemTime,
}

/// One page of a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPage {
    /// Objects in UTF-8 byte order of their keys.
    pub objects: Vec<ObjectEntry>,
    /// Common prefixes in byte order, each ending with the delimiter.
    pub common_prefixes: Vec<String>,
    /// Whether entries after this page match the query.
    pub is_truncated: bool,
    /// The last key or common prefix of this page when truncated; pass it as `start_after` to
    /// read the next page.
    pub next_start_after: Option<String>,
}

/// One uploaded part of a multipart upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartInfo {
    /// Part number, 1 to 10000.
    pub part_number: u32,
    /// ETag without quotes: lower-case hex MD5 of the part.
    pub etag: String,
    /// Size in bytes.
    pub size: u64,
    /// Time the part was committed.
    pub last_modified: SystemTime,
}

/// One page of a ListParts request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartsPage {
    /// Parts in ascending part-number order.
    pub parts: Vec<PartInfo>,
    /// Whether parts after this page exist.
    pub is_truncated: bool,
    /// The last part number of this page when truncated.
    pub next_part_number_marker: Option<u32>,
}

/// One multipart upload in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadInfo {
    /// Key the upload will create.
    pub key: String,
    /// Upload id.
    pub upload_id: String,
    /// Time the upload was created.
    pub initiated: SystemTime,
}

/// One page of a ListMultipartUploads request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadsPage {
    /// Uploads ordered by key, then by initiation time.
    pub uploads: Vec<UploadInfo>,
    /// Whether uploads after this page exist.
    pub is_truncated: bool,
    /// Key of the last upload of this page when truncated.
    pub next_key_marker: Option<String>,
    /// Upload id of the last upload of this page when truncated.
    pub next_upload_id_marker: Option<String>,
}

/// What a backend supports. The gateway answers `NotImplemented` for the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Multipart uploads.
    pub multipart: bool,
    /// Server-side copy.
    pub copy: bool,
    /// Ranged GET.
    pub ranged_get: bool,
    /// Listing with a delimiter of any length.
    pub delimiter: bool,
    /// User metadata and standard headers kept with objects.
    pub user_metadata: bool,
    /// Object versioning.
    pub versioning: bool,
}
