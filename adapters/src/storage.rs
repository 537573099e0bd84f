//! The storage adapter trait: everything the S3 front end needs from a backend, as async
//! methods that run on the storage runtime. [`crate::StorageClient`] is the executor-neutral
//! handle the gateway's cores use; it forwards each call to a [`Storage`] inside that runtime.

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;

use crate::error::StorageError;
use crate::types::{
    BucketInfo, Capabilities, ListPage, ListQuery, NewObject, ObjectMeta, PartsPage, UploadsPage,
};

/// Result type of the storage layer.
pub type StorageResult<T> = Result<T, StorageError>;

/// The bytes of an object or of a range of it, in order, ending after the last requested byte.
pub type ObjectStream = BoxStream<'static, StorageResult<Bytes>>;

/// A byte range `start..=end_inclusive` of an object.
pub type ByteRange = (u64, u64);

/// A write in progress: a PUT, a part upload, or any other body that becomes visible only at
/// [`ObjectWrite::commit`].
///
/// Dropping a writer without calling `commit` or `abort` starts an abort in the background,
/// so that nothing becomes visible and temporary data is removed.
pub trait ObjectWrite: Send {
    /// Appends `chunk` to the body.
    fn write(&mut self, chunk: Bytes) -> BoxFuture<'_, StorageResult<()>>;

    /// Checks the body against the declared length and `expected_md5`, then makes it visible
    /// atomically. Nothing is stored when a check fails.
    fn commit(
        self: Box<Self>,
        expected_md5: Option<[u8; 16]>,
    ) -> BoxFuture<'static, StorageResult<ObjectMeta>>;

    /// Discards the body and removes temporary data.
    fn abort(self: Box<Self>) -> BoxFuture<'static, StorageResult<()>>;
}

/// A storage backend with S3 semantics.
///
/// Implementations may call tokio APIs, because [`crate::StorageRuntime`] runs every call on
/// its own tokio runtime. Every argument is owned so that calls can move into jobs.
pub trait Storage: Send + Sync + 'static {
    /// Returns what this backend supports.
    fn capabilities(&self) -> Capabilities;

    /// Lists all buckets, sorted by name.
    fn list_buckets(&self) -> BoxFuture<'_, StorageResult<Vec<BucketInfo>>>;

    /// Creates bucket `name` owned by `tenant`. Fails with `BucketAlreadyExists` if any tenant
    /// owns a bucket of that name.
    fn create_bucket(
        &self,
        name: String,
        tenant: String,
    ) -> BoxFuture<'_, StorageResult<BucketInfo>>;

    /// Returns bucket `name`, or `NoSuchBucket`.
    fn head_bucket(&self, name: String) -> BoxFuture<'_, StorageResult<BucketInfo>>;

    /// Deletes an empty bucket and discards its unfinished multipart uploads. Fails with
    /// `BucketNotEmpty` while it contains an object.
    fn delete_bucket(&self, name: String) -> BoxFuture<'_, StorageResult<()>>;

    /// Returns the metadata of an object.
    fn stat_object(&self, bucket: String, key: String) -> BoxFuture<'_, StorageResult<ObjectMeta>>;

    /// Opens an object, or the inclusive byte range of it, for reading. The stream yields
    /// exactly the requested bytes of one committed version of the object.
    fn get_object(
        &self,
        bucket: String,
        key: String,
        range: Option<ByteRange>,
    ) -> BoxFuture<'_, StorageResult<(ObjectMeta, ObjectStream)>>;

    /// Starts writing an object. It becomes visible when the writer commits.
    fn put_object(
        &self,
        bucket: String,
        key: String,
        object: NewObject,
    ) -> BoxFuture<'_, StorageResult<Box<dyn ObjectWrite>>>;

    /// Deletes an object. Deleting a missing key succeeds, and a missing bucket is
    /// `NoSuchBucket`.
    fn delete_object(&self, bucket: String, key: String) -> BoxFuture<'_, StorageResult<()>>;

    /// Copies an object. `metadata` of `None` keeps the source metadata (S3's COPY directive);
    /// `Some` replaces it (REPLACE).
    fn copy_object(
        &self,
        source_bucket: String,
        source_key: String,
        bucket: String,
        key: String,
        metadata: Option<NewObject>,
    ) -> BoxFuture<'_, StorageResult<ObjectMeta>>;

    /// Lists objects and common prefixes.
    fn list_objects(
        &self,
        bucket: String,
        query: ListQuery,
    ) -> BoxFuture<'_, StorageResult<ListPage>>;

    /// Starts a multipart upload and returns its upload id.
    fn create_multipart(
        &self,
        bucket: String,
        key: String,
        object: NewObject,
    ) -> BoxFuture<'_, StorageResult<String>>;

    /// Starts writing part `part_number` of an upload. Committing replaces an earlier part
    /// with the same number.
    fn upload_part(
        &self,
        bucket: String,
        key: String,
        upload_id: String,
        part_number: u32,
        content_length: Option<u64>,
    ) -> BoxFuture<'_, StorageResult<Box<dyn ObjectWrite>>>;

    /// Completes an upload from `parts` (part number and ETag, ascending) and makes the object
    /// visible atomically.
    fn complete_multipart(
        &self,
        bucket: String,
        key: String,
        upload_id: String,
        parts: Vec<(u32, String)>,
    ) -> BoxFuture<'_, StorageResult<ObjectMeta>>;

    /// Aborts an upload and removes its parts.
    fn abort_multipart(
        &self,
        bucket: String,
        key: String,
        upload_id: String,
    ) -> BoxFuture<'_, StorageResult<()>>;

    /// Lists the parts of an upload with a number above `part_number_marker`.
    fn list_parts(
        &self,
        bucket: String,
        key: String,
        upload_id: String,
        part_number_marker: Option<u32>,
        max_parts: usize,
    ) -> BoxFuture<'_, StorageResult<PartsPage>>;

    /// Lists the uploads in progress of a bucket, ordered by key and then initiation time.
    fn list_multipart_uploads(
        &self,
        bucket: String,
        prefix: String,
        key_marker: Option<String>,
        upload_id_marker: Option<String>,
        max_uploads: usize,
    ) -> BoxFuture<'_, StorageResult<UploadsPage>>;
}
