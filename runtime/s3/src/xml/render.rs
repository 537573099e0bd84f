//! Rendering of S3 response documents.
//!
//! Each document is a struct of borrowed fields with a `to_xml` method that
//! streams the elements through `quick_xml::Writer` into one pre-sized
//! `Vec<u8>`, so a listing of 1000 keys costs no per-key allocation beyond
//! escaping of keys that need it. Element names and nesting follow the S3 API
//! reference; the order within a document is the one S3 itself sends. Every
//! document carries an XML declaration and the S3 namespace.

use std::fmt::Write as _;
use std::time::SystemTime;

use quick_xml::Writer;

use crate::error::ErrorCode;
use crate::headers::write_iso8601_millis;
use crate::params::EncodingType;
use crate::xml::write::{XmlWriter, write_declaration};

/// The storage class reported when an entry names none.
pub const DEFAULT_STORAGE_CLASS: &str = "STANDARD";

/// The owner of a bucket or object: canonical user id and display name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner<'a> {
    pub id: &'a str,
    pub display_name: &'a str,
}

/// One bucket of a `ListBuckets` response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketEntry<'a> {
    pub name: &'a str,
    pub creation_date: SystemTime,
}

/// One object of a listing response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectEntry<'a> {
    pub key: &'a str,
    pub last_modified: SystemTime,
    /// The ETag with or without its quotes; it is rendered quoted.
    pub etag: &'a str,
    pub size: u64,
    /// `None` renders [`DEFAULT_STORAGE_CLASS`].
    pub storage_class: Option<&'a str>,
}

/// Reusable scratch space for the per-entry values that are formatted
/// rather than copied, so that long listings allocate once.
struct Scratch {
    text: String,
}

impl Scratch {
    fn new() -> Self {
        Self {
            text: String::with_capacity(64),
        }
    }

    fn timestamp(&mut self, time: SystemTime) -> &str {
        self.text.clear();
        write_iso8601_millis(&mut self.text, time);
        &self.text
    }

    fn number(&mut self, value: u64) -> &str {
        self.text.clear();
        // Writing into a String cannot fail.
        let _ = write!(self.text, "{value}");
        &self.text
    }

    fn quoted_etag(&mut self, etag: &str) -> &str {
        self.text.clear();
        if etag.len() >= 2 && etag.starts_with('"') && etag.ends_with('"') {
            self.text.push_str(etag);
        } else {
            self.text.push('"');
            self.text.push_str(etag);
            self.text.push('"');
        }
        &self.text
    }
}

fn new_document(capacity: usize) -> Writer<Vec<u8>> {
    let mut writer = Writer::new(Vec::with_capacity(capacity));
    write_declaration(&mut writer);
    writer
}

fn write_owner(writer: &mut Writer<Vec<u8>>, element: &str, owner: &Owner<'_>) {
    writer.start(element);
    writer.text_element("ID", owner.id);
    writer.text_element("DisplayName", owner.display_name);
    writer.end(element);
}

fn write_bool(writer: &mut Writer<Vec<u8>>, element: &str, value: bool) {
    writer.text_element(element, if value { "true" } else { "false" });
}

fn write_common_prefixes(writer: &mut Writer<Vec<u8>>, prefixes: &[String], url_encode: bool) {
    for prefix in prefixes {
        writer.start("CommonPrefixes");
        writer.listing_element("Prefix", prefix, url_encode);
        writer.end("CommonPrefixes");
    }
}

/// Writes the children of `Contents` or `Version` that follow `Key` (and
/// `VersionId`/`IsLatest` for versions).
fn write_object_body(
    writer: &mut Writer<Vec<u8>>,
    scratch: &mut Scratch,
    entry: &ObjectEntry<'_>,
    owner: Option<&Owner<'_>>,
) {
    writer.text_element("LastModified", scratch.timestamp(entry.last_modified));
    writer.text_element("ETag", scratch.quoted_etag(entry.etag));
    writer.text_element("Size", scratch.number(entry.size));
    if let Some(owner) = owner {
        write_owner(writer, "Owner", owner);
    }
    writer.text_element(
        "StorageClass",
        entry.storage_class.unwrap_or(DEFAULT_STORAGE_CLASS),
    );
}

/// The estimated size of one listing entry, used to pre-size the output.
const ENTRY_CAPACITY: usize = 320;

/// `ListAllMyBucketsResult`, the response of `ListBuckets`.
#[derive(Debug, Clone, Copy)]
pub struct ListAllMyBucketsResult<'a> {
    pub owner: Owner<'a>,
    pub buckets: &'a [BucketEntry<'a>],
    /// Set when the listing was cut short by `max-buckets`.
    pub continuation_token: Option<&'a str>,
    /// The `prefix` the request filtered by, if any.
    pub prefix: Option<&'a str>,
}

impl ListAllMyBucketsResult<'_> {
    /// Renders the document.
    pub fn to_xml(&self) -> Vec<u8> {
        let mut writer = new_document(256 + self.buckets.len() * 128);
        let mut scratch = Scratch::new();
        writer.start_root("ListAllMyBucketsResult");
        write_owner(&mut writer, "Owner", &self.owner);
        writer.start("Buckets");
        for bucket in self.buckets {
            writer.start("Bucket");
            writer.text_element("Name", bucket.name);
            writer.text_element("CreationDate", scratch.timestamp(bucket.creation_date));
            writer.end("Bucket");
        }
        writer.end("Buckets");
        if let Some(token) = self.continuation_token {
            writer.text_element("ContinuationToken", token);
        }
        if let Some(prefix) = self.prefix {
            writer.text_element("Prefix", prefix);
        }
        writer.end("ListAllMyBucketsResult");
        writer.into_inner()
    }
}

/// `ListBucketResult` of `ListObjectsV2`.
#[derive(Debug, Clone, Copy)]
pub struct ListObjectsV2Result<'a> {
    pub bucket: &'a str,
    pub prefix: &'a str,
    pub delimiter: Option<&'a str>,
    pub max_keys: u32,
    pub is_truncated: bool,
    /// The request's `continuation-token`, echoed.
    pub continuation_token: Option<&'a str>,
    /// The token for the next page; set only when truncated.
    pub next_continuation_token: Option<&'a str>,
    /// The request's `start-after`, echoed.
    pub start_after: Option<&'a str>,
    pub encoding_type: Option<EncodingType>,
    pub contents: &'a [ObjectEntry<'a>],
    pub common_prefixes: &'a [String],
    /// Rendered in every `Contents` when the request set `fetch-owner=true`.
    pub owner: Option<Owner<'a>>,
}

impl ListObjectsV2Result<'_> {
    /// Renders the document. `KeyCount` is the number of keys plus common
    /// prefixes, as S3 counts it.
    pub fn to_xml(&self) -> Vec<u8> {
        let url_encode = self.encoding_type == Some(EncodingType::Url);
        let entries = self.contents.len() + self.common_prefixes.len();
        let mut writer = new_document(512 + entries * ENTRY_CAPACITY);
        let mut scratch = Scratch::new();
        writer.start_root("ListBucketResult");
        writer.text_element("Name", self.bucket);
        writer.listing_element("Prefix", self.prefix, url_encode);
        if let Some(token) = self.continuation_token {
            writer.text_element("ContinuationToken", token);
        }
        if let Some(token) = self.next_continuation_token {
            writer.text_element("NextContinuationToken", token);
        }
        if let Some(start_after) = self.start_after {
            writer.listing_element("StartAfter", start_after, url_encode);
        }
        writer.text_element("KeyCount", scratch.number(entries as u64));
        writer.text_element("MaxKeys", scratch.number(u64::from(self.max_keys)));
        if let Some(delimiter) = self.delimiter {
            writer.listing_element("Delimiter", delimiter, url_encode);
        }
        if let Some(encoding) = self.encoding_type {
            writer.text_element("EncodingType", encoding.as_str());
        }
        write_bool(&mut writer, "IsTruncated", self.is_truncated);
        for entry in self.contents {
            writer.start("Contents");
            writer.listing_element("Key", entry.key, url_encode);
            write_object_body(&mut writer, &mut scratch, entry, self.owner.as_ref());
            writer.end("Contents");
        }
        write_common_prefixes(&mut writer, self.common_prefixes, url_encode);
        writer.end("ListBucketResult");
        writer.into_inner()
    }
}

/// `ListBucketResult` of `ListObjects` (version 1).
#[derive(Debug, Clone, Copy)]
pub struct ListObjectsResult<'a> {
    pub bucket: &'a str,
    pub prefix: &'a str,
    /// The request's `marker`, echoed; empty when absent.
    pub marker: &'a str,
    /// Rendered only when the request has a delimiter and the listing is
    /// truncated, as S3 does; without a delimiter clients continue from the
    /// last key.
    pub next_marker: Option<&'a str>,
    pub delimiter: Option<&'a str>,
    pub max_keys: u32,
    pub is_truncated: bool,
    pub encoding_type: Option<EncodingType>,
    pub contents: &'a [ObjectEntry<'a>],
    pub common_prefixes: &'a [String],
    /// Version 1 listings always carry an owner per key.
    pub owner: Owner<'a>,
}

impl ListObjectsResult<'_> {
    /// Renders the document.
    pub fn to_xml(&self) -> Vec<u8> {
        let url_encode = self.encoding_type == Some(EncodingType::Url);
        let entries = self.contents.len() + self.common_prefixes.len();
        let mut writer = new_document(512 + entries * ENTRY_CAPACITY);
        let mut scratch = Scratch::new();
        writer.start_root("ListBucketResult");
        writer.text_element("Name", self.bucket);
        writer.listing_element("Prefix", self.prefix, url_encode);
        writer.listing_element("Marker", self.marker, url_encode);
        if let (Some(next_marker), Some(_), true) =
            (self.next_marker, self.delimiter, self.is_truncated)
        {
            writer.listing_element("NextMarker", next_marker, url_encode);
        }
        writer.text_element("MaxKeys", scratch.number(u64::from(self.max_keys)));
        if let Some(delimiter) = self.delimiter {
            writer.listing_element("Delimiter", delimiter, url_encode);
        }
        if let Some(encoding) = self.encoding_type {
            writer.text_element("EncodingType", encoding.as_str());
        }
        write_bool(&mut writer, "IsTruncated", self.is_truncated);
        for entry in self.contents {
            writer.start("Contents");
            writer.listing_element("Key", entry.key, url_encode);
            write_object_body(&mut writer, &mut scratch, entry, Some(&self.owner));
            writer.end("Contents");
        }
        write_common_prefixes(&mut writer, self.common_prefixes, url_encode);
        writer.end("ListBucketResult");
        writer.into_inner()
    }
}

/// `ListVersionsResult` of `ListObjectVersions` for an unversioned bucket:
/// every object is one version with `VersionId` `null` and `IsLatest` true.
#[derive(Debug, Clone, Copy)]
pub struct ListVersionsResult<'a> {
    pub bucket: &'a str,
    pub prefix: &'a str,
    /// The request's `key-marker`, echoed; empty when absent.
    pub key_marker: &'a str,
    /// The request's `version-id-marker`, echoed; empty when absent.
    pub version_id_marker: &'a str,
    /// Set when truncated: the key to continue after.
    pub next_key_marker: Option<&'a str>,
    /// Set when truncated: the version to continue after, `null` here.
    pub next_version_id_marker: Option<&'a str>,
    pub delimiter: Option<&'a str>,
    pub max_keys: u32,
    pub is_truncated: bool,
    pub encoding_type: Option<EncodingType>,
    pub versions: &'a [ObjectEntry<'a>],
    pub common_prefixes: &'a [String],
    pub owner: Owner<'a>,
}

impl ListVersionsResult<'_> {
    /// Renders the document.
    pub fn to_xml(&self) -> Vec<u8> {
        let url_encode = self.encoding_type == Some(EncodingType::Url);
        let entries = self.versions.len() + self.common_prefixes.len();
        let mut writer = new_document(512 + entries * (ENTRY_CAPACITY + 64));
        let mut scratch = Scratch::new();
        writer.start_root("ListVersionsResult");
        writer.text_element("Name", self.bucket);
        writer.listing_element("Prefix", self.prefix, url_encode);
        writer.listing_element("KeyMarker", self.key_marker, url_encode);
        writer.text_element("VersionIdMarker", self.version_id_marker);
        if let Some(marker) = self.next_key_marker {
            writer.listing_element("NextKeyMarker", marker, url_encode);
        }
        if let Some(marker) = self.next_version_id_marker {
            writer.text_element("NextVersionIdMarker", marker);
        }
        writer.text_element("MaxKeys", scratch.number(u64::from(self.max_keys)));
        if let Some(delimiter) = self.delimiter {
            writer.listing_element("Delimiter", delimiter, url_encode);
        }
        if let Some(encoding) = self.encoding_type {
            writer.text_element("EncodingType", encoding.as_str());
        }
        write_bool(&mut writer, "IsTruncated", self.is_truncated);
        for entry in self.versions {
            writer.start("Version");
            writer.listing_element("Key", entry.key, url_encode);
            writer.text_element("VersionId", "null");
            writer.text_element("IsLatest", "true");
            write_object_body(&mut writer, &mut scratch, entry, Some(&self.owner));
            writer.end("Version");
        }
        write_common_prefixes(&mut writer, self.common_prefixes, url_encode);
        writer.end("ListVersionsResult");
        writer.into_inner()
    }
}

/// `InitiateMultipartUploadResult`, the response of `CreateMultipartUpload`.
#[derive(Debug, Clone, Copy)]
pub struct InitiateMultipartUploadResult<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub upload_id: &'a str,
}

impl InitiateMultipartUploadResult<'_> {
    /// Renders the document.
    pub fn to_xml(&self) -> Vec<u8> {
        let mut writer = new_document(256 + self.key.len());
        writer.start_root("InitiateMultipartUploadResult");
        writer.text_element("Bucket", self.bucket);
        writer.text_element("Key", self.key);
        writer.text_element("UploadId", self.upload_id);
        writer.end("InitiateMultipartUploadResult");
        writer.into_inner()
    }
}

/// `CompleteMultipartUploadResult`.
#[derive(Debug, Clone, Copy)]
pub struct CompleteMultipartUploadResult<'a> {
    /// The object's URL, such as `http://host/bucket/key`.
    pub location: &'a str,
    pub bucket: &'a str,
    pub key: &'a str,
    /// The multipart ETag (`hex-N`), with or without quotes.
    pub etag: &'a str,
}

impl CompleteMultipartUploadResult<'_> {
    /// Renders the document.
    pub fn to_xml(&self) -> Vec<u8> {
        let mut writer = new_document(256 + self.location.len() + self.key.len());
        let mut scratch = Scratch::new();
        writer.start_root("CompleteMultipartUploadResult");
        writer.text_element("Location", self.location);
        writer.text_element("Bucket", self.bucket);
        writer.text_element("Key", self.key);
        writer.text_element("ETag", scratch.quoted_etag(self.etag));
        writer.end("CompleteMultipartUploadResult");
        writer.into_inner()
    }
}

/// One part of a `ListParts` response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartEntry<'a> {
    pub part_number: u16,
    pub last_modified: SystemTime,
    pub etag: &'a str,
    pub size: u64,
}

/// `ListPartsResult`.
#[derive(Debug, Clone, Copy)]
pub struct ListPartsResult<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub upload_id: &'a str,
    /// The upload's initiator and owner (the same principal here).
    pub owner: Owner<'a>,
    /// `None` renders [`DEFAULT_STORAGE_CLASS`].
    pub storage_class: Option<&'a str>,
    /// The request's `part-number-marker`, echoed; 0 when absent.
    pub part_number_marker: u16,
    /// The part number to continue after; S3 sends the last listed part.
    pub next_part_number_marker: u16,
    pub max_parts: u32,
    pub is_truncated: bool,
    pub parts: &'a [PartEntry<'a>],
}

impl ListPartsResult<'_> {
    /// Renders the document.
    pub fn to_xml(&self) -> Vec<u8> {
        let mut writer = new_document(512 + self.key.len() + self.parts.len() * 192);
        let mut scratch = Scratch::new();
        writer.start_root("ListPartsResult");
        writer.text_element("Bucket", self.bucket);
        writer.text_element("Key", self.key);
        writer.text_element("UploadId", self.upload_id);
        write_owner(&mut writer, "Initiator", &self.owner);
        write_owner(&mut writer, "Owner", &self.owner);
        writer.text_element(
            "StorageClass",
            self.storage_class.unwrap_or(DEFAULT_STORAGE_CLASS),
        );
        writer.text_element(
            "PartNumberMarker",
            scratch.number(u64::from(self.part_number_marker)),
        );
        writer.text_element(
            "NextPartNumberMarker",
            scratch.number(u64::from(self.next_part_number_marker)),
        );
        writer.text_element("MaxParts", scratch.number(u64::from(self.max_parts)));
        write_bool(&mut writer, "IsTruncated", self.is_truncated);
        for part in self.parts {
            writer.start("Part");
            writer.text_element("PartNumber", scratch.number(u64::from(part.part_number)));
            writer.text_element("LastModified", scratch.timestamp(part.last_modified));
            writer.text_element("ETag", scratch.quoted_etag(part.etag));
            writer.text_element("Size", scratch.number(part.size));
            writer.end("Part");
        }
        writer.end("ListPartsResult");
        writer.into_inner()
    }
}

/// One in-progress upload of a `ListMultipartUploads` response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadEntry<'a> {
    pub key: &'a str,
    pub upload_id: &'a str,
    pub initiated: SystemTime,
}

/// `ListMultipartUploadsResult`.
#[derive(Debug, Clone, Copy)]
pub struct ListMultipartUploadsResult<'a> {
    pub bucket: &'a str,
    /// The request's `key-marker`, echoed; empty when absent.
    pub key_marker: &'a str,
    /// The request's `upload-id-marker`, echoed; empty when absent.
    pub upload_id_marker: &'a str,
    /// The key to continue after; empty when not truncated.
    pub next_key_marker: &'a str,
    /// The upload to continue after; empty when not truncated.
    pub next_upload_id_marker: &'a str,
    pub prefix: &'a str,
    pub delimiter: Option<&'a str>,
    pub max_uploads: u32,
    pub is_truncated: bool,
    pub encoding_type: Option<EncodingType>,
    pub uploads: &'a [UploadEntry<'a>],
    pub common_prefixes: &'a [String],
    /// Initiator and owner of every upload.
    pub owner: Owner<'a>,
}

impl ListMultipartUploadsResult<'_> {
    /// Renders the document.
    pub fn to_xml(&self) -> Vec<u8> {
        let url_encode = self.encoding_type == Some(EncodingType::Url);
        let entries = self.uploads.len() + self.common_prefixes.len();
        let mut writer = new_document(512 + entries * (ENTRY_CAPACITY + 128));
        let mut scratch = Scratch::new();
        writer.start_root("ListMultipartUploadsResult");
        writer.text_element("Bucket", self.bucket);
        writer.listing_element("KeyMarker", self.key_marker, url_encode);
        writer.text_element("UploadIdMarker", self.upload_id_marker);
        writer.listing_element("NextKeyMarker", self.next_key_marker, url_encode);
        writer.text_element("NextUploadIdMarker", self.next_upload_id_marker);
        if let Some(delimiter) = self.delimiter {
            writer.listing_element("Delimiter", delimiter, url_encode);
        }
        writer.listing_element("Prefix", self.prefix, url_encode);
        writer.text_element("MaxUploads", scratch.number(u64::from(self.max_uploads)));
        if let Some(encoding) = self.encoding_type {
            writer.text_element("EncodingType", encoding.as_str());
        }
        write_bool(&mut writer, "IsTruncated", self.is_truncated);
        for upload in self.uploads {
            writer.start("Upload");
            writer.listing_element("Key", upload.key, url_encode);
            writer.text_element("UploadId", upload.upload_id);
            write_owner(&mut writer, "Initiator", &self.owner);
            write_owner(&mut writer, "Owner", &self.owner);
            writer.text_element("StorageClass", DEFAULT_STORAGE_CLASS);
            writer.text_element("Initiated", scratch.timestamp(upload.initiated));
            writer.end("Upload");
        }
        write_common_prefixes(&mut writer, self.common_prefixes, url_encode);
        writer.end("ListMultipartUploadsResult");
        writer.into_inner()
    }
}

/// `CopyObjectResult` of `CopyObject`, or `CopyPartResult` of `UploadPartCopy`.
#[derive(Debug, Clone, Copy)]
pub struct CopyResult<'a> {
    pub etag: &'a str,
    pub last_modified: SystemTime,
}

impl CopyResult<'_> {
    /// Renders `CopyObjectResult`.
    pub fn to_copy_object_xml(&self) -> Vec<u8> {
        self.render("CopyObjectResult")
    }

    /// Renders `CopyPartResult`.
    pub fn to_copy_part_xml(&self) -> Vec<u8> {
        self.render("CopyPartResult")
    }

    fn render(&self, root: &str) -> Vec<u8> {
        let mut writer = new_document(192);
        let mut scratch = Scratch::new();
        writer.start_root(root);
        writer.text_element("LastModified", scratch.timestamp(self.last_modified));
        writer.text_element("ETag", scratch.quoted_etag(self.etag));
        writer.end(root);
        writer.into_inner()
    }
}

/// A key that `DeleteObjects` deleted (or that did not exist, which S3 also
/// reports as deleted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeletedEntry<'a> {
    pub key: &'a str,
    /// Echoed when the request named a version.
    pub version_id: Option<&'a str>,
}

/// A key that `DeleteObjects` failed to delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeleteErrorEntry<'a> {
    pub key: &'a str,
    pub version_id: Option<&'a str>,
    pub code: ErrorCode,
    pub message: &'a str,
}

/// `DeleteResult`, the response of `DeleteObjects`.
#[derive(Debug, Clone, Copy)]
pub struct DeleteResult<'a> {
    /// In quiet mode only errors are listed.
    pub quiet: bool,
    pub deleted: &'a [DeletedEntry<'a>],
    pub errors: &'a [DeleteErrorEntry<'a>],
}

impl DeleteResult<'_> {
    /// Renders the document.
    pub fn to_xml(&self) -> Vec<u8> {
        let listed = if self.quiet { 0 } else { self.deleted.len() };
        let mut writer = new_document(256 + (listed + self.errors.len()) * 192);
        writer.start_root("DeleteResult");
        if !self.quiet {
            for entry in self.deleted {
                writer.start("Deleted");
                writer.text_element("Key", entry.key);
                if let Some(version) = entry.version_id {
                    writer.text_element("VersionId", version);
                }
                writer.end("Deleted");
            }
        }
        for entry in self.errors {
            writer.start("Error");
            writer.text_element("Key", entry.key);
            if let Some(version) = entry.version_id {
                writer.text_element("VersionId", version);
            }
            writer.text_element("Code", entry.code.as_str());
            writer.text_element("Message", entry.message);
            writer.end("Error");
        }
        writer.end("DeleteResult");
        writer.into_inner()
    }
}

/// Renders the `LocationConstraint` document of `GetBucketLocation`. S3
/// returns an empty element for us-east-1, and the region name otherwise.
pub fn location_constraint_xml(region: &str) -> Vec<u8> {
    let mut writer = new_document(128);
    if region.is_empty() || region == "us-east-1" {
        writer.empty_root("LocationConstraint");
    } else {
        writer.start_root("LocationConstraint");
        writer.text(region);
        writer.end("LocationConstraint");
    }
    writer.into_inner()
}

/// Renders the `AccessControlPolicy` of `GetBucketAcl` and `GetObjectAcl`:
/// the owner has `FULL_CONTROL` and there is no other grant, which is the
/// only ACL this gateway supports.
pub fn access_control_policy_xml(owner: &Owner<'_>) -> Vec<u8> {
    let mut writer = new_document(512);
    writer.start_root("AccessControlPolicy");
    write_owner(&mut writer, "Owner", owner);
    writer.start("AccessControlList");
    writer.start("Grant");
    writer.start_with_attributes(
        "Grantee",
        &[
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            ("xsi:type", "CanonicalUser"),
        ],
    );
    writer.text_element("ID", owner.id);
    writer.text_element("DisplayName", owner.display_name);
    writer.end("Grantee");
    writer.text_element("Permission", "FULL_CONTROL");
    writer.end("Grant");
    writer.end("AccessControlList");
    writer.end("AccessControlPolicy");
    writer.into_inner()
}

/// Renders the empty `VersioningConfiguration` of `GetBucketVersioning`,
/// which means versioning was never enabled on the bucket.
pub fn versioning_configuration_xml() -> Vec<u8> {
    let mut writer = new_document(128);
    writer.empty_root("VersioningConfiguration");
    writer.into_inner()
}
