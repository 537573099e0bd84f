//! Multipart uploads: create, upload part, complete, abort and the two listings.
//!
//! Each part is a blob with a part record. Completion writes an object record that lists the
//! chosen part blobs in order, so no data is copied: the object becomes visible at the
//! atomic write of that record, and reads stream the part blobs one after another.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::SystemTime;

use futures_util::{StreamExt, TryStreamExt};
use md5::{Digest, Md5};

use super::blob::{BlobWriter, WriteTarget};
use super::objects::validate_object_name;
use super::records::{BlobRef, ObjectRecord, PartRecord, UploadRecord};
use super::{Inner, LIST_READ_CONCURRENCY, validate_new_object};
use crate::error::{ErrorKind, StorageError};
use crate::layout::{self, MAX_PART_NUMBER};
use crate::storage::StorageResult;
use crate::types::{NewObject, ObjectMeta, PartInfo, PartsPage, UploadInfo, UploadsPage};

/// S3's cap on `max-parts` and `max-uploads`.
const MAX_LIST_PARTS: usize = 1000;

impl Inner {
    /// Reads the record of an upload.
    pub(crate) async fn read_upload(
        &self,
        operation: &'static str,
        bucket: &str,
        upload_id: &str,
    ) -> StorageResult<Option<UploadRecord>> {
        let record: Option<UploadRecord> = self
            .read_record(operation, &layout::upload_record(bucket, upload_id))
            .await
            .map_err(|error| error.with_bucket(bucket))?;
        Ok(record.filter(|record| record.upload_id == upload_id))
    }

    /// Reads the record of upload `upload_id` for `key`. A malformed id, a missing upload and
    /// an upload of another key are all `NoSuchUpload`, as in S3.
    async fn load_upload(
        &self,
        operation: &'static str,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> StorageResult<UploadRecord> {
        let no_such_upload = || {
            StorageError::new(
                ErrorKind::NoSuchUpload,
                operation,
                "the upload does not exist; it may have been completed or aborted",
            )
            .with_bucket(bucket)
            .with_key(key)
        };
        if !layout::is_valid_id(upload_id) {
            return Err(no_such_upload());
        }
        match self.read_upload(operation, bucket, upload_id).await? {
            Some(upload) if upload.key == key => Ok(upload),
            Some(_) => Err(no_such_upload()),
            None => {
                self.require_bucket(operation, bucket).await?;
                Err(no_such_upload())
            }
        }
    }

    /// Reads the record of one part, treating a corrupt record as missing.
    async fn read_part(
        &self,
        operation: &'static str,
        bucket: &str,
        upload_id: &str,
        part_number: u32,
    ) -> StorageResult<Option<PartRecord>> {
        let path = layout::part_record(bucket, upload_id, part_number);
        let record: Option<PartRecord> = self
            .read_record(operation, &path)
            .await
            .map_err(|error| error.with_bucket(bucket))?;
        Ok(record.filter(|record| record.is_valid(part_number)))
    }

    /// Returns the part numbers of an upload in ascending order.
    async fn part_numbers(
        &self,
        operation: &'static str,
        bucket: &str,
        upload_id: &str,
    ) -> StorageResult<Vec<u32>> {
        let names = self
            .list_file_names(operation, &layout::part_dir(bucket, upload_id))
            .await?;
        let mut numbers: Vec<u32> = names
            .iter()
            .filter_map(|name| layout::parse_part_name(name))
            .collect();
        numbers.sort_unstable();
        Ok(numbers)
    }

    pub(crate) async fn create_multipart(
        &self,
        bucket: &str,
        key: &str,
        object: NewObject,
    ) -> StorageResult<String> {
        const OPERATION: &str = "create_multipart";
        validate_object_name(OPERATION, bucket, key)?;
        validate_new_object(OPERATION, &object)?;
        let _bucket_guard = self.locks.bucket(bucket).read().await;
        self.require_bucket(OPERATION, bucket).await?;
        let upload_id = layout::new_id();
        let record = UploadRecord {
            upload_id: upload_id.clone(),
            key: key.to_owned(),
            initiated: SystemTime::now(),
            metadata: object.into(),
        };
        self.write_record(
            OPERATION,
            &layout::upload_record(bucket, &upload_id),
            &record,
        )
        .await
        .map_err(|error| error.with_bucket(bucket).with_key(key))?;
        Ok(upload_id)
    }

    pub(crate) async fn upload_part(
        self: &Arc<Self>,
        bucket: String,
        key: String,
        upload_id: String,
        part_number: u32,
        content_length: Option<u64>,
    ) -> StorageResult<BlobWriter> {
        const OPERATION: &str = "upload_part";
        validate_object_name(OPERATION, &bucket, &key)?;
        if !(1..=MAX_PART_NUMBER).contains(&part_number) {
            return Err(StorageError::new(
                ErrorKind::InvalidArgument,
                OPERATION,
                format!("part number {part_number} is outside 1 to {MAX_PART_NUMBER}"),
            ));
        }
        self.load_upload(OPERATION, &bucket, &key, &upload_id)
            .await?;
        BlobWriter::create(
            self,
            OPERATION,
            content_length,
            WriteTarget::Part {
                bucket,
                key,
                upload_id,
                part_number,
            },
        )
        .await
    }

    /// Commits the blob of an uploaded part, replacing an earlier part with that number.
    pub(crate) async fn commit_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: u32,
        blob: BlobRef,
        digest: [u8; 16],
    ) -> StorageResult<ObjectMeta> {
        const OPERATION: &str = "upload_part";
        let _bucket_guard = self.locks.bucket(bucket).read().await;
        let _upload_guard = self.locks.upload(bucket, upload_id).lock().await;
        // The upload may have been completed or aborted while the body streamed.
        self.load_upload(OPERATION, bucket, key, upload_id).await?;
        let old = self
            .read_part(OPERATION, bucket, upload_id, part_number)
            .await?;
        let record = PartRecord {
            part_number,
            md5: hex::encode(digest),
            last_modified: SystemTime::now(),
            blob,
        };
        self.write_record(
            OPERATION,
            &layout::part_record(bucket, upload_id, part_number),
            &record,
        )
        .await
        .map_err(|error| error.with_bucket(bucket).with_key(key))?;
        if let Some(old) = old {
            self.retire_part_blobs(OPERATION, bucket, key, [&old.blob])
                .await;
        }
        Ok(ObjectMeta {
            key: key.to_owned(),
            size: record.blob.size,
            etag: record.md5,
            last_modified: record.last_modified,
            content_type: None,
            user_metadata: Vec::new(),
            headers: Default::default(),
            parts_count: None,
        })
    }

    /// Retires part blobs, except those the current object record of `key` uses. A
    /// completion that failed after writing the object record leaves part records that point
    /// at the object's blobs, and those must survive.
    async fn retire_part_blobs<'a>(
        &self,
        operation: &'static str,
        bucket: &str,
        key: &str,
        blobs: impl IntoIterator<Item = &'a BlobRef>,
    ) {
        let in_use: HashSet<String> = match self.read_object_record(operation, bucket, key).await {
            Ok(record) => record
                .map(|record| record.blobs.into_iter().map(|blob| blob.id).collect())
                .unwrap_or_default(),
            Err(error) => {
                // Without the object record, deleting could break the object, so keep all.
                tracing::warn!(%error, "kept part blobs because the object record is unreadable");
                return;
            }
        };
        self.retire(blobs.into_iter().filter(|blob| !in_use.contains(&blob.id)))
            .await;
    }

    pub(crate) async fn complete_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[(u32, String)],
    ) -> StorageResult<ObjectMeta> {
        const OPERATION: &str = "complete_multipart";
        validate_object_name(OPERATION, bucket, key)?;
        let _bucket_guard = self.locks.bucket(bucket).read().await;
        let _upload_guard = self.locks.upload(bucket, upload_id).lock().await;
        let upload = self.load_upload(OPERATION, bucket, key, upload_id).await?;
        let with_context = |error: StorageError| error.with_bucket(bucket).with_key(key);

        if parts.is_empty() {
            return Err(with_context(StorageError::new(
                ErrorKind::InvalidArgument,
                OPERATION,
                "a completion lists at least one part",
            )));
        }
        if parts.windows(2).any(|pair| pair[0].0 >= pair[1].0) {
            return Err(with_context(StorageError::new(
                ErrorKind::InvalidPartOrder,
                OPERATION,
                "the parts are not listed in strictly ascending order",
            )));
        }

        let mut chosen = Vec::with_capacity(parts.len());
        for (part_number, etag) in parts {
            let record = self
                .read_part(OPERATION, bucket, upload_id, *part_number)
                .await?
                .filter(|record| record.md5.eq_ignore_ascii_case(normalize_etag(etag)));
            let Some(record) = record else {
                return Err(with_context(StorageError::new(
                    ErrorKind::InvalidPart,
                    OPERATION,
                    format!("part {part_number} does not exist or has another ETag"),
                )));
            };
            chosen.push(record);
        }

        if let Some(small) = chosen[..chosen.len() - 1]
            .iter()
            .find(|record| record.blob.size < self.min_part_size)
        {
            return Err(with_context(StorageError::new(
                ErrorKind::EntityTooSmall,
                OPERATION,
                format!(
                    "part {} has {} bytes, every part but the last needs at least {}",
                    small.part_number, small.blob.size, self.min_part_size
                ),
            )));
        }

        let record =
            multipart_record(key, upload.metadata.clone(), &chosen).map_err(&with_context)?;
        let meta = self.commit_object_locked(OPERATION, bucket, record).await?;

        // The object is committed, so a failure to clean up must not fail the request.
        if let Err(error) = self
            .remove_completed_upload(bucket, upload_id, &chosen)
            .await
        {
            tracing::warn!(
                bucket,
                upload_id,
                %error,
                "completed an upload but failed to remove its records"
            );
        }
        Ok(meta)
    }

    /// Removes the records of a completed upload and retires the blobs of parts the object
    /// does not use.
    async fn remove_completed_upload(
        &self,
        bucket: &str,
        upload_id: &str,
        chosen: &[PartRecord],
    ) -> StorageResult<()> {
        const OPERATION: &str = "complete_multipart";
        // The upload record goes first, so that a failure below leaves no upload that a
        // client could still use.
        self.delete_path(OPERATION, &layout::upload_record(bucket, upload_id))
            .await?;

        let chosen_numbers: HashSet<u32> = chosen.iter().map(|part| part.part_number).collect();
        let mut unused = Vec::new();
        for part_number in self.part_numbers(OPERATION, bucket, upload_id).await? {
            if !chosen_numbers.contains(&part_number)
                && let Some(part) = self
                    .read_part(OPERATION, bucket, upload_id, part_number)
                    .await?
            {
                unused.push(part.blob);
            }
            self.delete_path(
                OPERATION,
                &layout::part_record(bucket, upload_id, part_number),
            )
            .await?;
        }
        self.retire(&unused).await;
        self.remove_empty_dir(&layout::part_dir(bucket, upload_id))
            .await;
        Ok(())
    }

    pub(crate) async fn abort_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> StorageResult<()> {
        const OPERATION: &str = "abort_multipart";
        validate_object_name(OPERATION, bucket, key)?;
        let _bucket_guard = self.locks.bucket(bucket).read().await;
        let _upload_guard = self.locks.upload(bucket, upload_id).lock().await;
        let upload = self.load_upload(OPERATION, bucket, key, upload_id).await?;
        self.discard_upload(OPERATION, bucket, &upload).await
    }

    /// Removes an upload with its parts. The caller holds the locks that keep part commits
    /// away.
    pub(crate) async fn discard_upload(
        &self,
        operation: &'static str,
        bucket: &str,
        upload: &UploadRecord,
    ) -> StorageResult<()> {
        let upload_id = upload.upload_id.as_str();
        self.delete_path(operation, &layout::upload_record(bucket, upload_id))
            .await?;
        let mut blobs = Vec::new();
        for part_number in self.part_numbers(operation, bucket, upload_id).await? {
            if let Some(part) = self
                .read_part(operation, bucket, upload_id, part_number)
                .await?
            {
                blobs.push(part.blob);
            }
            self.delete_path(
                operation,
                &layout::part_record(bucket, upload_id, part_number),
            )
            .await?;
        }
        self.retire_part_blobs(operation, bucket, &upload.key, &blobs)
            .await;
        self.remove_empty_dir(&layout::part_dir(bucket, upload_id))
            .await;
        Ok(())
    }

    pub(crate) async fn list_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number_marker: Option<u32>,
        max_parts: usize,
    ) -> StorageResult<PartsPage> {
        const OPERATION: &str = "list_parts";
        validate_object_name(OPERATION, bucket, key)?;
        self.load_upload(OPERATION, bucket, key, upload_id).await?;
        let marker = part_number_marker.unwrap_or(0);
        let max_parts = max_parts.min(MAX_LIST_PARTS);
        let numbers: Vec<u32> = self
            .part_numbers(OPERATION, bucket, upload_id)
            .await?
            .into_iter()
            .filter(|number| *number > marker)
            .collect();
        let records: Vec<Option<PartRecord>> =
            futures_util::stream::iter(numbers.iter().take(max_parts).copied())
                .map(|number| self.read_part(OPERATION, bucket, upload_id, number))
                .buffered(LIST_READ_CONCURRENCY)
                .try_collect()
                .await?;
        let parts: Vec<PartInfo> = records.iter().flatten().map(PartRecord::info).collect();
        let is_truncated = numbers.len() > max_parts;
        Ok(PartsPage {
            next_part_number_marker: if is_truncated {
                parts.last().map(|part| part.part_number)
            } else {
                None
            },
            parts,
            is_truncated,
        })
    }

    pub(crate) async fn list_multipart_uploads(
        &self,
        bucket: &str,
        prefix: &str,
        key_marker: Option<&str>,
        upload_id_marker: Option<&str>,
        max_uploads: usize,
    ) -> StorageResult<UploadsPage> {
        const OPERATION: &str = "list_multipart_uploads";
        layout::validate_bucket_name(OPERATION, bucket)?;
        self.require_bucket(OPERATION, bucket).await?;
        // NOTE: this reads the record of every upload of the bucket, so a page costs
        // O(uploads in the bucket).
        let ids: Vec<String> = self
            .list_file_names(OPERATION, &layout::upload_dir(bucket))
            .await?
            .into_iter()
            .filter(|name| layout::is_valid_id(name))
            .collect();
        let records: Vec<Option<UploadRecord>> = futures_util::stream::iter(ids)
            .map(|id| async move { self.read_upload(OPERATION, bucket, &id).await })
            .buffered(LIST_READ_CONCURRENCY)
            .try_collect()
            .await?;
        let mut uploads: Vec<UploadInfo> = records
            .into_iter()
            .flatten()
            .filter(|record| record.key.starts_with(prefix))
            .map(|record| UploadInfo {
                key: record.key,
                upload_id: record.upload_id,
                initiated: record.initiated,
            })
            .collect();
        uploads.sort_by(|left, right| {
            (&left.key, left.initiated, &left.upload_id).cmp(&(
                &right.key,
                right.initiated,
                &right.upload_id,
            ))
        });
        Ok(page_uploads(
            uploads,
            key_marker,
            upload_id_marker,
            max_uploads.min(MAX_LIST_PARTS),
        ))
    }
}

/// Builds the record of an object completed from `parts`, whose ETag is the hex MD5 of the
/// concatenated binary part MD5s, a dash and the part count.
fn multipart_record(
    key: &str,
    metadata: super::records::StoredMetadata,
    parts: &[PartRecord],
) -> StorageResult<ObjectRecord> {
    let mut md5 = Md5::new();
    let mut size = 0u64;
    for part in parts {
        let digest = hex::decode(&part.md5).map_err(|_| {
            StorageError::new(
                ErrorKind::Internal,
                "complete_multipart",
                format!("part {} has a corrupt MD5", part.part_number),
            )
        })?;
        md5.update(&digest);
        size += part.blob.size;
    }
    Ok(ObjectRecord {
        key: key.to_owned(),
        size,
        etag: format!("{}-{}", hex::encode(md5.finalize()), parts.len()),
        last_modified: SystemTime::now(),
        parts_count: Some(parts.len() as u32),
        metadata,
        blobs: parts.iter().map(|part| part.blob.clone()).collect(),
    })
}

/// Removes the quotes clients send around an ETag.
fn normalize_etag(etag: &str) -> &str {
    let etag = etag.trim();
    etag.strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or(etag)
}

/// Cuts one page from uploads sorted by key and initiation.
///
/// Without `upload_id_marker`, the page starts after every upload of `key_marker`. With it,
/// the page starts after that upload. An unknown upload id marker falls back to S3's rule:
/// uploads of the marker's key whose ids sort after the marker.
fn page_uploads(
    uploads: Vec<UploadInfo>,
    key_marker: Option<&str>,
    upload_id_marker: Option<&str>,
    max_uploads: usize,
) -> UploadsPage {
    let start = match key_marker {
        None => 0,
        Some(key_marker) => {
            let after_key = uploads.partition_point(|upload| upload.key.as_str() <= key_marker);
            match upload_id_marker {
                None => after_key,
                Some(id_marker) => {
                    let first_of_key =
                        uploads.partition_point(|upload| upload.key.as_str() < key_marker);
                    let same_key = &uploads[first_of_key..after_key];
                    match same_key
                        .iter()
                        .position(|upload| upload.upload_id == id_marker)
                    {
                        Some(position) => first_of_key + position + 1,
                        None => {
                            first_of_key
                                + same_key
                                    .iter()
                                    .position(|upload| upload.upload_id.as_str() > id_marker)
                                    .unwrap_or(same_key.len())
                        }
                    }
                }
            }
        }
    };
    let remaining = uploads.len().saturating_sub(start);
    let page: Vec<UploadInfo> = uploads.into_iter().skip(start).take(max_uploads).collect();
    let is_truncated = remaining > page.len();
    let last = page.last().filter(|_| is_truncated);
    UploadsPage {
        next_key_marker: last.map(|upload| upload.key.clone()),
        next_upload_id_marker: last.map(|upload| upload.upload_id.clone()),
        is_truncated,
        uploads: page,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn upload(key: &str, id: &str, second: u64) -> UploadInfo {
        UploadInfo {
            key: key.to_owned(),
            upload_id: id.to_owned(),
            initiated: SystemTime::UNIX_EPOCH + Duration::from_secs(second),
        }
    }

    fn ids(page: &UploadsPage) -> Vec<&str> {
        page.uploads
            .iter()
            .map(|upload| upload.upload_id.as_str())
            .collect()
    }

    fn sample() -> Vec<UploadInfo> {
        vec![
            upload("a", "u3", 1),
            upload("a", "u1", 2),
            upload("b", "u2", 3),
        ]
    }

    #[test]
    fn uploads_page_truncates() {
        let page = page_uploads(sample(), None, None, 2);
        assert_eq!(ids(&page), vec!["u3", "u1"]);
        assert!(page.is_truncated);
        assert_eq!(page.next_upload_id_marker.as_deref(), Some("u1"));
    }

    #[test]
    fn key_marker_skips_whole_key() {
        let page = page_uploads(sample(), Some("a"), None, 10);
        assert_eq!(ids(&page), vec!["u2"]);
    }

    #[test]
    fn upload_id_marker_continues_key() {
        let page = page_uploads(sample(), Some("a"), Some("u3"), 10);
        assert_eq!(ids(&page), vec!["u1", "u2"]);
        assert!(!page.is_truncated);
    }

    #[test]
    fn etag_quotes_are_removed() {
        assert_eq!(normalize_etag("\"abc\""), "abc");
        assert_eq!(normalize_etag("abc"), "abc");
    }

    #[test]
    fn multipart_etag_hashes_part_digests() {
        let part = |number: u32, md5: &str| PartRecord {
            part_number: number,
            md5: md5.to_owned(),
            last_modified: SystemTime::UNIX_EPOCH,
            blob: BlobRef {
                id: format!("{number:032x}"),
                size: 1,
            },
        };
        let first = hex::encode(Md5::digest(b"a"));
        let second = hex::encode(Md5::digest(b"b"));
        let record = multipart_record(
            "k",
            Default::default(),
            &[part(1, &first), part(2, &second)],
        )
        .map(|record| record.etag);
        let mut expected = Md5::new();
        expected.update(Md5::digest(b"a"));
        expected.update(Md5::digest(b"b"));
        let expected = format!("{}-2", hex::encode(expected.finalize()));
        assert_eq!(record.ok(), Some(expected));
    }
}
