//! Object operations of the store: stat, ranged get, put, delete and copy, and the commit step
//! that swaps an object record and retires the blobs it replaced.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::SystemTime;

use md5::{Digest, Md5};

use super::Inner;
use super::blob::{BlobWriter, Prefetch, SegmentReader, WriteTarget, plan_segments};
use super::records::{BlobRef, ObjectRecord, StoredMetadata};
use super::validate_new_object;
use crate::error::{ErrorKind, StorageError};
use crate::layout;
use crate::storage::{ByteRange, ObjectStream, StorageResult};
use crate::types::{NewObject, ObjectMeta};

/// How often a read starts over because a writer replaced the object between reading its
/// record and opening its data. Each retry needs a new commit to the same key in that window.
const MAX_READ_ATTEMPTS: usize = 8;

impl Inner {
    /// Reads the record of `key`, distinguishing a missing key from a missing bucket.
    pub(crate) async fn load_object(
        &self,
        operation: &'static str,
        bucket: &str,
        key: &str,
    ) -> StorageResult<ObjectRecord> {
        match self.read_object_record(operation, bucket, key).await? {
            Some(record) => Ok(record),
            None => {
                self.require_bucket(operation, bucket).await?;
                Err(
                    StorageError::new(ErrorKind::NoSuchKey, operation, "the object does not exist")
                        .with_bucket(bucket)
                        .with_key(key),
                )
            }
        }
    }

    /// Reads and checks the record of `key`, or returns `None` when it does not exist.
    pub(crate) async fn read_object_record(
        &self,
        operation: &'static str,
        bucket: &str,
        key: &str,
    ) -> StorageResult<Option<ObjectRecord>> {
        let path = layout::object_record(bucket, key);
        let record: Option<ObjectRecord> = self
            .read_record(operation, &path)
            .await
            .map_err(|error| error.with_bucket(bucket).with_key(key))?;
        if let Some(record) = &record {
            record
                .validate(operation, key)
                .map_err(|error| error.with_bucket(bucket))?;
        }
        Ok(record)
    }

    pub(crate) async fn stat_object(&self, bucket: &str, key: &str) -> StorageResult<ObjectMeta> {
        const OPERATION: &str = "stat_object";
        validate_object_name(OPERATION, bucket, key)?;
        Ok(self.load_object(OPERATION, bucket, key).await?.meta())
    }

    pub(crate) async fn get_object(
        self: &Arc<Self>,
        bucket: &str,
        key: &str,
        range: Option<ByteRange>,
    ) -> StorageResult<(ObjectMeta, ObjectStream)> {
        const OPERATION: &str = "get_object";
        validate_object_name(OPERATION, bucket, key)?;
        let (record, reader) = self.open_reader(OPERATION, bucket, key, range).await?;
        Ok((record.meta(), reader.into_stream()))
    }

    /// Reads the record of an object and opens the blobs of `range`, starting over when a
    /// writer replaces the object in between.
    pub(crate) async fn open_reader(
        self: &Arc<Self>,
        operation: &'static str,
        bucket: &str,
        key: &str,
        range: Option<ByteRange>,
    ) -> StorageResult<(ObjectRecord, SegmentReader)> {
        for _ in 0..MAX_READ_ATTEMPTS {
            let record = self.load_object(operation, bucket, key).await?;
            let (start, end) = match range {
                None => (0, record.size),
                Some((start, end)) if start <= end && end < record.size => (start, end + 1),
                Some((start, end)) => {
                    return Err(StorageError::new(
                        ErrorKind::InvalidRange,
                        operation,
                        format!(
                            "the range {start}-{end} is outside the object of {} bytes",
                            record.size
                        ),
                    )
                    .with_bucket(bucket)
                    .with_key(key));
                }
            };
            let segments = plan_segments(&record.blobs, start, end);
            // A reader of one blob keeps it open from the first read on. A reader of several
            // blobs opens them one by one, so it pins them and checks that the record still
            // names them, which means no writer has retired them yet.
            let pin = if segments.len() > 1 {
                let pin = self.pin(&record.blobs);
                let current = self.read_object_record(operation, bucket, key).await?;
                if current.map(|current| current.blobs) != Some(record.blobs.clone()) {
                    continue;
                }
                Some(pin)
            } else {
                None
            };
            let mut reader = SegmentReader::new(Arc::clone(self), operation, segments, pin);
            match reader.prefetch().await? {
                Prefetch::Open => return Ok((record, reader)),
                Prefetch::Vanished => continue,
            }
        }
        Err(StorageError::new(
            ErrorKind::Internal,
            operation,
            format!("the object changed {MAX_READ_ATTEMPTS} times while it was opened"),
        )
        .with_bucket(bucket)
        .with_key(key))
    }

    pub(crate) async fn put_object(
        self: &Arc<Self>,
        bucket: String,
        key: String,
        object: NewObject,
    ) -> StorageResult<BlobWriter> {
        const OPERATION: &str = "put_object";
        validate_object_name(OPERATION, &bucket, &key)?;
        validate_new_object(OPERATION, &object)?;
        // Checking the bucket before the body arrives lets the client stop early. The commit
        // checks it again under the bucket lock.
        self.require_bucket(OPERATION, &bucket).await?;
        let expected_len = object.content_length;
        BlobWriter::create(
            self,
            OPERATION,
            expected_len,
            WriteTarget::Object {
                bucket,
                key,
                object,
            },
        )
        .await
    }

    /// Commits the blob of a single PUT as the new version of `key`.
    pub(crate) async fn commit_put(
        &self,
        bucket: &str,
        key: &str,
        object: NewObject,
        blob: BlobRef,
        digest: [u8; 16],
    ) -> StorageResult<ObjectMeta> {
        let record = ObjectRecord {
            key: key.to_owned(),
            size: blob.size,
            etag: hex::encode(digest),
            last_modified: SystemTime::now(),
            parts_count: None,
            metadata: StoredMetadata::from(object),
            blobs: vec![blob],
        };
        self.commit_object("put_object", bucket, record).await
    }

    /// Replaces the record of `record.key` and retires the blobs only the old record used.
    ///
    /// The bucket lock, taken shared, keeps the bucket from being deleted in between. The
    /// object lock orders commits to one key, so the last commit to take it wins.
    pub(crate) async fn commit_object(
        &self,
        operation: &'static str,
        bucket: &str,
        record: ObjectRecord,
    ) -> StorageResult<ObjectMeta> {
        let _bucket_guard = self.locks.bucket(bucket).read().await;
        self.require_bucket(operation, bucket).await?;
        self.commit_object_locked(operation, bucket, record).await
    }

    /// Does the work of [`Inner::commit_object`] for a caller that already holds the bucket
    /// lock. Taking a tokio read lock twice in one task deadlocks once a writer waits between
    /// the two acquisitions.
    pub(crate) async fn commit_object_locked(
        &self,
        operation: &'static str,
        bucket: &str,
        mut record: ObjectRecord,
    ) -> StorageResult<ObjectMeta> {
        let _object_guard = self.locks.object(bucket, &record.key).lock().await;
        // Taking the time under the lock makes the commit order and the time order agree.
        record.last_modified = SystemTime::now();
        let old = match self
            .read_object_record(operation, bucket, &record.key)
            .await
        {
            Ok(old) => old,
            Err(error) => {
                // An unreadable old record must not block the new version; its blobs stay
                // behind.
                tracing::warn!(%error, "replacing an unreadable object record");
                None
            }
        };
        let path = layout::object_record(bucket, &record.key);
        self.write_record(operation, &path, &record)
            .await
            .map_err(|error| error.with_bucket(bucket).with_key(&record.key))?;
        if let Some(old) = old {
            let kept: HashSet<&str> = record.blobs.iter().map(|blob| blob.id.as_str()).collect();
            self.retire(
                old.blobs
                    .iter()
                    .filter(|blob| !kept.contains(blob.id.as_str())),
            )
            .await;
        }
        Ok(record.meta())
    }

    pub(crate) async fn delete_object(&self, bucket: &str, key: &str) -> StorageResult<()> {
        const OPERATION: &str = "delete_object";
        validate_object_name(OPERATION, bucket, key)?;
        let _bucket_guard = self.locks.bucket(bucket).read().await;
        self.require_bucket(OPERATION, bucket).await?;
        let _object_guard = self.locks.object(bucket, key).lock().await;
        let Some(old) = self.read_object_record(OPERATION, bucket, key).await? else {
            return Ok(());
        };
        self.delete_path(OPERATION, &layout::object_record(bucket, key))
            .await
            .map_err(|error| error.with_bucket(bucket).with_key(key))?;
        self.retire(&old.blobs).await;
        Ok(())
    }

    pub(crate) async fn copy_object(
        self: &Arc<Self>,
        source_bucket: &str,
        source_key: &str,
        bucket: &str,
        key: &str,
        metadata: Option<NewObject>,
    ) -> StorageResult<ObjectMeta> {
        const OPERATION: &str = "copy_object";
        validate_object_name(OPERATION, source_bucket, source_key)?;
        validate_object_name(OPERATION, bucket, key)?;
        if let Some(object) = &metadata {
            validate_new_object(OPERATION, object)?;
        }
        self.require_bucket(OPERATION, bucket).await?;
        let (source, blob, digest) = self.copy_data(OPERATION, source_bucket, source_key).await?;
        let record = ObjectRecord {
            key: key.to_owned(),
            size: blob.size,
            etag: digest,
            last_modified: SystemTime::now(),
            parts_count: None,
            metadata: match metadata {
                Some(object) => StoredMetadata::from(object),
                None => source.metadata,
            },
            blobs: vec![blob.clone()],
        };
        let result = self.commit_object(OPERATION, bucket, record).await;
        if result.is_err() {
            self.delete_blob(&blob.id).await;
        }
        result
    }

    /// Copies the data of an object into a new blob and returns the source record, the blob
    /// and the hex MD5 of the data.
    async fn copy_data(
        self: &Arc<Self>,
        operation: &'static str,
        bucket: &str,
        key: &str,
    ) -> StorageResult<(ObjectRecord, BlobRef, String)> {
        // The copy streams through a writer rather than using the fs service's native copy,
        // because only the writer syncs the new file to disk before the record points at it.
        let (source, mut reader) = self.open_reader(operation, bucket, key, None).await?;
        let id = layout::new_id();
        let mut writer = self.open_blob_writer(operation, &id).await?;
        let mut md5 = Md5::new();
        let mut written = 0u64;
        let copied: StorageResult<()> = async {
            while let Some(chunk) = reader.next().await {
                let chunk = chunk?;
                md5.update(&chunk);
                written += chunk.len() as u64;
                writer
                    .write(chunk)
                    .await
                    .map_err(|error| StorageError::backend(operation, error))?;
            }
            writer
                .close()
                .await
                .map(drop)
                .map_err(|error| StorageError::backend(operation, error))
        }
        .await;
        if let Err(error) = copied {
            if let Err(abort_error) = writer.abort().await {
                tracing::warn!(%abort_error, "failed to remove the data of a failed copy");
            }
            return Err(error.with_bucket(bucket).with_key(key));
        }
        let blob = BlobRef { id, size: written };
        Ok((source, blob, hex::encode(md5.finalize())))
    }
}

/// Checks a bucket name and a key.
pub(crate) fn validate_object_name(
    operation: &'static str,
    bucket: &str,
    key: &str,
) -> StorageResult<()> {
    layout::validate_bucket_name(operation, bucket)?;
    layout::validate_key(operation, key).map_err(|error| error.with_bucket(bucket))
}
