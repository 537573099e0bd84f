//! [`LayoutStore`]: the [`Storage`] implementation for OpenDAL services that keep plain files
//! and no S3 metadata (fs and memory). It stores records and blobs as described in the crate
//! documentation, and keeps the in-process locks and blob pins that make concurrent requests
//! safe.

mod blob;
mod buckets;
mod listing;
mod multipart;
mod objects;
mod records;
mod sync;

use std::path::Path;
use std::sync::Arc;

use futures_util::TryStreamExt;
use futures_util::future::BoxFuture;
use opendal::{EntryMode, Operator};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::{Backend, StorageConfig};
use crate::error::{ErrorKind, StorageError};
use crate::layout;
use crate::storage::{ByteRange, ObjectStream, ObjectWrite, Storage, StorageResult};
use crate::types::{
    BucketInfo, Capabilities, ListPage, ListQuery, NewObject, ObjectMeta, PartsPage, UploadsPage,
};

use self::sync::{Locks, Pins};

/// Largest record file the store reads or writes. Records hold a key (1 KiB), user metadata
/// (2 KiB), headers and, for objects completed from 10000 parts, 10000 blob references of
/// about 60 bytes each.
const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// How many record reads a listing runs at once.
const LIST_READ_CONCURRENCY: usize = 16;

/// A [`Storage`] over an OpenDAL operator, using this crate's file layout.
#[derive(Clone)]
pub(crate) struct LayoutStore {
    inner: Arc<Inner>,
}

/// State shared by every request and by the streams and writers they return.
pub(crate) struct Inner {
    op: Operator,
    chunk_size: usize,
    min_part_size: u64,
    conditional_create: bool,
    locks: Locks,
    pins: Pins,
}

impl LayoutStore {
    /// Builds the OpenDAL operator for `config.backend`. The fs service creates its root and
    /// temporary directory here.
    pub(crate) fn open(config: &StorageConfig) -> StorageResult<Self> {
        let op = match &config.backend {
            Backend::Fs { root } => fs_operator(root)?,
            Backend::Memory => Operator::new(opendal::services::Memory::default())
                .map_err(|error| StorageError::backend("start", error))?
                .finish(),
        };
        let capability = op.info().full_capability();
        Ok(LayoutStore {
            inner: Arc::new(Inner {
                chunk_size: config.chunk_size,
                min_part_size: config.min_part_size,
                conditional_create: capability.write_with_if_not_exists,
                locks: Locks::new(),
                pins: Pins::default(),
                op,
            }),
        })
    }
}

/// Builds an fs operator whose writes go to a temporary file under the root and are renamed
/// into place, so that every file appears complete or not at all.
fn fs_operator(root: &Path) -> StorageResult<Operator> {
    let root_text = root.to_str().ok_or_else(|| {
        StorageError::new(
            ErrorKind::InvalidArgument,
            "start",
            format!("the fs root {} is not valid UTF-8", root.display()),
        )
    })?;
    let tmp_text = format!("{}/{}", root_text.trim_end_matches('/'), layout::TMP_DIR);
    sweep_temporary_files(Path::new(&tmp_text))?;
    let builder = opendal::services::Fs::default()
        .root(root_text)
        .atomic_write_dir(&tmp_text);
    Ok(Operator::new(builder)
        .map_err(|error| StorageError::backend("start", error))?
        .finish())
}

/// Removes what writes cut by a crash left in the temporary directory. One process owns a root
/// (see the crate docs), so at start-up no write of its own is in flight there.
fn sweep_temporary_files(tmp: &Path) -> StorageResult<()> {
    let entries = match std::fs::read_dir(tmp) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(sweep_error(tmp, &error)),
    };
    let mut removed = 0usize;
    for entry in entries {
        let path = entry.map_err(|error| sweep_error(tmp, &error))?.path();
        let result = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        result.map_err(|error| sweep_error(&path, &error))?;
        removed += 1;
    }
    if removed > 0 {
        tracing::info!(storage.tmp = %tmp.display(), removed, "removed temporary files left by an earlier run");
    }
    Ok(())
}

fn sweep_error(path: &Path, error: &std::io::Error) -> StorageError {
    StorageError::new(
        ErrorKind::Internal,
        "start",
        format!(
            "cannot clear temporary files in {}: {error}",
            path.display()
        ),
    )
}

impl Inner {
    /// Reads and parses the record at `path`, or returns `None` when it does not exist.
    async fn read_record<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        path: &str,
    ) -> StorageResult<Option<T>> {
        let reader = match self.op.reader(path).await {
            Ok(reader) => reader,
            Err(error) if error.kind() == opendal::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(StorageError::backend(operation, error)),
        };
        let mut stream = match reader.into_stream(0..).await {
            Ok(stream) => stream,
            Err(error) if error.kind() == opendal::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(StorageError::backend(operation, error)),
        };
        let mut data = Vec::new();
        loop {
            match stream.try_next().await {
                Ok(Some(buffer)) => {
                    if data.len() + buffer.len() > MAX_RECORD_BYTES {
                        return Err(StorageError::new(
                            ErrorKind::Internal,
                            operation,
                            format!("record {path} is larger than {MAX_RECORD_BYTES} bytes"),
                        ));
                    }
                    for bytes in buffer {
                        data.extend_from_slice(&bytes);
                    }
                }
                Ok(None) => break,
                Err(error) if error.kind() == opendal::ErrorKind::NotFound => return Ok(None),
                Err(error) => return Err(StorageError::backend(operation, error)),
            }
        }
        serde_json::from_slice(&data).map(Some).map_err(|error| {
            StorageError::new(
                ErrorKind::Internal,
                operation,
                format!("record {path} is corrupt: {error}"),
            )
        })
    }

    /// Serializes `record` and writes it to `path`, replacing any earlier record atomically.
    async fn write_record<T: Serialize>(
        &self,
        operation: &'static str,
        path: &str,
        record: &T,
    ) -> StorageResult<()> {
        let data = encode_record(operation, record)?;
        self.op
            .write(path, data)
            .await
            .map(drop)
            .map_err(|error| StorageError::backend(operation, error))
    }

    /// Deletes the file at `path`; a missing file is not an error.
    async fn delete_path(&self, operation: &'static str, path: &str) -> StorageResult<()> {
        self.op
            .delete(path)
            .await
            .map_err(|error| StorageError::backend(operation, error))
    }

    /// Removes an empty directory and ignores failures, because a directory that still has
    /// entries, or a backend without directories, is fine to leave.
    async fn remove_empty_dir(&self, path: &str) {
        if let Err(error) = self.op.delete(path).await {
            tracing::debug!(path, %error, "left a storage directory in place");
        }
    }

    /// Returns the names of the files directly inside `dir`.
    async fn list_file_names(
        &self,
        operation: &'static str,
        dir: &str,
    ) -> StorageResult<Vec<String>> {
        // NOTE: every listing reads the whole directory, so a page costs O(entries in the
        // directory), not O(page size).
        let entries = self
            .op
            .list(dir)
            .await
            .map_err(|error| StorageError::backend(operation, error))?;
        Ok(entries
            .into_iter()
            .filter(|entry| entry.metadata().mode() == EntryMode::FILE)
            .map(|entry| entry.name().to_owned())
            .collect())
    }

    /// Returns whether `dir` contains at least one file, reading no further than the first.
    async fn has_file(&self, operation: &'static str, dir: &str) -> StorageResult<bool> {
        let mut lister = self
            .op
            .lister(dir)
            .await
            .map_err(|error| StorageError::backend(operation, error))?;
        while let Some(entry) = lister
            .try_next()
            .await
            .map_err(|error| StorageError::backend(operation, error))?
        {
            if entry.metadata().mode() == EntryMode::FILE {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Serializes a record and checks its size.
fn encode_record<T: Serialize>(operation: &'static str, record: &T) -> StorageResult<Vec<u8>> {
    let data = serde_json::to_vec(record).map_err(|error| {
        StorageError::new(
            ErrorKind::Internal,
            operation,
            format!("cannot serialize a record: {error}"),
        )
    })?;
    if data.len() > MAX_RECORD_BYTES {
        return Err(StorageError::new(
            ErrorKind::InvalidArgument,
            operation,
            format!(
                "the metadata record is {} bytes, the maximum is {MAX_RECORD_BYTES}",
                data.len()
            ),
        ));
    }
    Ok(data)
}

/// S3's limit on user metadata: names and values together at most 2 KiB.
const MAX_USER_METADATA_BYTES: usize = 2048;

/// S3's limit on a request's headers, used here for the stored standard headers together.
const MAX_HEADER_BYTES: usize = 8192;

/// Checks the sizes of the metadata of a new object.
fn validate_new_object(operation: &'static str, object: &NewObject) -> StorageResult<()> {
    let user_bytes: usize = object
        .user_metadata
        .iter()
        .map(|(name, value)| name.len() + value.len())
        .sum();
    if user_bytes > MAX_USER_METADATA_BYTES {
        return Err(StorageError::new(
            ErrorKind::MetadataTooLarge,
            operation,
            format!(
                "user metadata is {user_bytes} bytes, the maximum is {MAX_USER_METADATA_BYTES}"
            ),
        ));
    }
    let header_bytes =
        object.headers.byte_len() + object.content_type.as_ref().map_or(0, String::len);
    if header_bytes > MAX_HEADER_BYTES {
        return Err(StorageError::new(
            ErrorKind::InvalidArgument,
            operation,
            format!("stored headers are {header_bytes} bytes, the maximum is {MAX_HEADER_BYTES}"),
        ));
    }
    Ok(())
}

impl Storage for LayoutStore {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            multipart: true,
            copy: true,
            ranged_get: true,
            delimiter: true,
            user_metadata: true,
            versioning: false,
        }
    }

    fn list_buckets(&self) -> BoxFuture<'_, StorageResult<Vec<BucketInfo>>> {
        Box::pin(self.inner.list_buckets())
    }

    fn create_bucket(
        &self,
        name: String,
        tenant: String,
    ) -> BoxFuture<'_, StorageResult<BucketInfo>> {
        Box::pin(async move { self.inner.create_bucket(&name, &tenant).await })
    }

    fn head_bucket(&self, name: String) -> BoxFuture<'_, StorageResult<BucketInfo>> {
        Box::pin(async move { self.inner.head_bucket(&name).await })
    }

    fn delete_bucket(&self, name: String) -> BoxFuture<'_, StorageResult<()>> {
        Box::pin(async move { self.inner.delete_bucket(&name).await })
    }

    fn stat_object(&self, bucket: String, key: String) -> BoxFuture<'_, StorageResult<ObjectMeta>> {
        Box::pin(async move { self.inner.stat_object(&bucket, &key).await })
    }

    fn get_object(
        &self,
        bucket: String,
        key: String,
        range: Option<ByteRange>,
    ) -> BoxFuture<'_, StorageResult<(ObjectMeta, ObjectStream)>> {
        Box::pin(async move { self.inner.get_object(&bucket, &key, range).await })
    }

    fn put_object(
        &self,
        bucket: String,
        key: String,
        object: NewObject,
    ) -> BoxFuture<'_, StorageResult<Box<dyn ObjectWrite>>> {
        Box::pin(async move {
            let writer = Inner::put_object(&self.inner, bucket, key, object).await?;
            Ok(Box::new(writer) as Box<dyn ObjectWrite>)
        })
    }

    fn delete_object(&self, bucket: String, key: String) -> BoxFuture<'_, StorageResult<()>> {
        Box::pin(async move { self.inner.delete_object(&bucket, &key).await })
    }

    fn copy_object(
        &self,
        source_bucket: String,
        source_key: String,
        bucket: String,
        key: String,
        metadata: Option<NewObject>,
    ) -> BoxFuture<'_, StorageResult<ObjectMeta>> {
        Box::pin(async move {
            Inner::copy_object(
                &self.inner,
                &source_bucket,
                &source_key,
                &bucket,
                &key,
                metadata,
            )
            .await
        })
    }

    fn list_objects(
        &self,
        bucket: String,
        query: ListQuery,
    ) -> BoxFuture<'_, StorageResult<ListPage>> {
        Box::pin(async move { self.inner.list_objects(&bucket, &query).await })
    }

    fn create_multipart(
        &self,
        bucket: String,
        key: String,
        object: NewObject,
    ) -> BoxFuture<'_, StorageResult<String>> {
        Box::pin(async move { self.inner.create_multipart(&bucket, &key, object).await })
    }

    fn upload_part(
        &self,
        bucket: String,
        key: String,
        upload_id: String,
        part_number: u32,
        content_length: Option<u64>,
    ) -> BoxFuture<'_, StorageResult<Box<dyn ObjectWrite>>> {
        Box::pin(async move {
            let writer = Inner::upload_part(
                &self.inner,
                bucket,
                key,
                upload_id,
                part_number,
                content_length,
            )
            .await?;
            Ok(Box::new(writer) as Box<dyn ObjectWrite>)
        })
    }

    fn complete_multipart(
        &self,
        bucket: String,
        key: String,
        upload_id: String,
        parts: Vec<(u32, String)>,
    ) -> BoxFuture<'_, StorageResult<ObjectMeta>> {
        Box::pin(async move {
            self.inner
                .complete_multipart(&bucket, &key, &upload_id, &parts)
                .await
        })
    }

    fn abort_multipart(
        &self,
        bucket: String,
        key: String,
        upload_id: String,
    ) -> BoxFuture<'_, StorageResult<()>> {
        Box::pin(async move { self.inner.abort_multipart(&bucket, &key, &upload_id).await })
    }

    fn list_parts(
        &self,
        bucket: String,
        key: String,
        upload_id: String,
        part_number_marker: Option<u32>,
        max_parts: usize,
    ) -> BoxFuture<'_, StorageResult<PartsPage>> {
        Box::pin(async move {
            self.inner
                .list_parts(&bucket, &key, &upload_id, part_number_marker, max_parts)
                .await
        })
    }

    fn list_multipart_uploads(
        &self,
        bucket: String,
        prefix: String,
        key_marker: Option<String>,
        upload_id_marker: Option<String>,
        max_uploads: usize,
    ) -> BoxFuture<'_, StorageResult<UploadsPage>> {
        Box::pin(async move {
            self.inner
                .list_multipart_uploads(
                    &bucket,
                    &prefix,
                    key_marker.as_deref(),
                    upload_id_marker.as_deref(),
                    max_uploads,
                )
                .await
        })
    }
}
