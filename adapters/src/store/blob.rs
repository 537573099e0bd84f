//! Reading and writing blobs: a stream over a byte range of the blobs of an object, and the
//! writer behind PUT and part uploads, which hashes the body while it streams it into a new
//! blob.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::TryStreamExt;
use futures_util::future::BoxFuture;
use md5::{Digest, Md5};
use opendal::{BufferStream, Writer};

use super::Inner;
use super::records::BlobRef;
use super::sync::PinGuard;
use crate::error::{ErrorKind, StorageError};
use crate::layout;
use crate::storage::{ObjectStream, ObjectWrite, StorageResult};
use crate::types::{NewObject, ObjectMeta};

/// A byte range of one blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment {
    pub(crate) id: String,
    pub(crate) offset: u64,
    pub(crate) len: u64,
}

/// Maps the object range `start..end` onto the blobs that hold it, skipping empty pieces.
pub(crate) fn plan_segments(blobs: &[BlobRef], start: u64, end: u64) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut blob_start = 0u64;
    for blob in blobs {
        let blob_end = blob_start + blob.size;
        let from = start.max(blob_start);
        let to = end.min(blob_end);
        if from < to {
            segments.push(Segment {
                id: blob.id.clone(),
                offset: from - blob_start,
                len: to - from,
            });
        }
        blob_start = blob_end;
        if blob_start >= end {
            break;
        }
    }
    segments
}

/// Reads segments one after another, opening each blob when the previous one is done.
pub(crate) struct SegmentReader {
    inner: Arc<Inner>,
    operation: &'static str,
    segments: VecDeque<Segment>,
    current: Option<(BufferStream, u64)>,
    ready: VecDeque<Bytes>,
    _pin: Option<PinGuard>,
}

/// Outcome of reading the first bytes of a segment reader.
pub(crate) enum Prefetch {
    /// The first blob is open; the reader streams from this snapshot.
    Open,
    /// The first blob was deleted before it could be opened, so the record changed.
    Vanished,
}

impl SegmentReader {
    pub(crate) fn new(
        inner: Arc<Inner>,
        operation: &'static str,
        segments: Vec<Segment>,
        pin: Option<PinGuard>,
    ) -> Self {
        SegmentReader {
            inner,
            operation,
            segments: segments.into(),
            current: None,
            ready: VecDeque::new(),
            _pin: pin,
        }
    }

    /// Opens the first blob and reads its first buffer.
    ///
    /// Once a blob is open, the fs service keeps its file descriptor and the memory service a
    /// snapshot of its bytes, so a later deletion cannot change what this reader returns.
    pub(crate) async fn prefetch(&mut self) -> StorageResult<Prefetch> {
        match self.fill().await {
            Ok(()) => Ok(Prefetch::Open),
            Err(ReadError::Vanished) => Ok(Prefetch::Vanished),
            Err(ReadError::Failed(error)) => Err(error),
        }
    }

    /// Returns the next chunk, or `None` after the last requested byte.
    pub(crate) async fn next(&mut self) -> Option<StorageResult<Bytes>> {
        if self.ready.is_empty() {
            match self.fill().await {
                Ok(()) => {}
                Err(ReadError::Vanished) => {
                    return Some(Err(StorageError::new(
                        ErrorKind::Internal,
                        self.operation,
                        "a blob of the object was deleted while it was read",
                    )));
                }
                Err(ReadError::Failed(error)) => return Some(Err(error)),
            }
        }
        self.ready.pop_front().map(Ok)
    }

    /// Converts this reader into a stream.
    pub(crate) fn into_stream(self) -> ObjectStream {
        Box::pin(futures_util::stream::unfold(
            self,
            |mut reader| async move {
                let item = reader.next().await?;
                if item.is_err() {
                    // One error ends the stream.
                    reader.segments.clear();
                    reader.current = None;
                    reader.ready.clear();
                }
                Some((item, reader))
            },
        ))
    }

    /// Reads until `ready` contains a chunk or every segment is done.
    async fn fill(&mut self) -> Result<(), ReadError> {
        while self.ready.is_empty() {
            if self.current.is_none() {
                let Some(segment) = self.segments.pop_front() else {
                    return Ok(());
                };
                let stream = open_segment(
                    &self.inner.op,
                    self.operation,
                    &segment,
                    self.inner.chunk_size,
                )
                .await?;
                self.current = Some((stream, segment.len));
            }
            let Some((stream, remaining)) = self.current.as_mut() else {
                continue;
            };
            match stream.try_next().await {
                Ok(Some(buffer)) => {
                    let len = buffer.len() as u64;
                    if len > *remaining {
                        return Err(ReadError::Failed(self.corrupt("longer")));
                    }
                    *remaining -= len;
                    self.ready.extend(buffer.filter(|bytes| !bytes.is_empty()));
                }
                Ok(None) => {
                    if *remaining != 0 {
                        return Err(ReadError::Failed(self.corrupt("shorter")));
                    }
                    self.current = None;
                }
                Err(error) if error.kind() == opendal::ErrorKind::NotFound => {
                    return Err(ReadError::Vanished);
                }
                Err(error) => {
                    return Err(ReadError::Failed(StorageError::backend(
                        self.operation,
                        error,
                    )));
                }
            }
        }
        Ok(())
    }

    fn corrupt(&self, comparison: &str) -> StorageError {
        StorageError::new(
            ErrorKind::Internal,
            self.operation,
            format!("a blob is {comparison} than its record says"),
        )
    }
}

/// Creates the stream of one segment. The backend opens the blob at the first read.
///
/// This takes the operator rather than the reader, because a future that holds a shared
/// reference to the reader across an await would need the reader to be `Sync`, and OpenDAL's
/// streams are not.
async fn open_segment(
    op: &opendal::Operator,
    operation: &'static str,
    segment: &Segment,
    chunk_size: usize,
) -> Result<BufferStream, ReadError> {
    let read_error = |error: opendal::Error| {
        if error.kind() == opendal::ErrorKind::NotFound {
            ReadError::Vanished
        } else {
            ReadError::Failed(StorageError::backend(operation, error))
        }
    };
    // Reads of `chunk_size` keep each buffer OpenDAL hands back small; its fs service would
    // otherwise read 2 MiB at a time, and the body window holds slices of those buffers.
    let reader = op
        .reader_with(&layout::blob(&segment.id))
        .chunk(chunk_size)
        .await
        .map_err(read_error)?;
    reader
        .into_stream(segment.offset..segment.offset + segment.len)
        .await
        .map_err(read_error)
}

enum ReadError {
    Vanished,
    Failed(StorageError),
}

/// The destination of a committed blob.
pub(crate) enum WriteTarget {
    Object {
        bucket: String,
        key: String,
        object: NewObject,
    },
    Part {
        bucket: String,
        key: String,
        upload_id: String,
        part_number: u32,
    },
}

/// Streams a body into a new blob and commits it to its target.
pub(crate) struct BlobWriter {
    inner: Arc<Inner>,
    operation: &'static str,
    writer: Option<Writer>,
    blob_id: String,
    md5: Md5,
    written: u64,
    expected_len: Option<u64>,
    target: Option<WriteTarget>,
}

impl BlobWriter {
    /// Opens a writer for a new blob. On the fs service this creates a temporary file.
    pub(crate) async fn create(
        inner: &Arc<Inner>,
        operation: &'static str,
        expected_len: Option<u64>,
        target: WriteTarget,
    ) -> StorageResult<Self> {
        let blob_id = layout::new_id();
        let writer = inner.open_blob_writer(operation, &blob_id).await?;
        Ok(BlobWriter {
            inner: Arc::clone(inner),
            operation,
            writer: Some(writer),
            blob_id,
            md5: Md5::new(),
            written: 0,
            expected_len,
            target: Some(target),
        })
    }

    async fn write_chunk(&mut self, chunk: Bytes) -> StorageResult<()> {
        let Some(writer) = self.writer.as_mut() else {
            return Err(StorageError::new(
                ErrorKind::Internal,
                self.operation,
                "write after the writer finished",
            ));
        };
        let len = chunk.len() as u64;
        if let Some(expected) = self.expected_len
            && self.written + len > expected
        {
            return Err(StorageError::new(
                ErrorKind::InvalidArgument,
                self.operation,
                format!("the body is longer than the declared {expected} bytes"),
            ));
        }
        self.md5.update(&chunk);
        writer
            .write(chunk)
            .await
            .map_err(|error| StorageError::backend(self.operation, error))?;
        self.written += len;
        Ok(())
    }

    async fn finish(mut self, expected_md5: Option<[u8; 16]>) -> StorageResult<ObjectMeta> {
        let operation = self.operation;
        let Some(mut writer) = self.writer.take() else {
            return Err(StorageError::new(
                ErrorKind::Internal,
                operation,
                "commit after the writer finished",
            ));
        };

        if let Some(expected) = self.expected_len
            && self.written != expected
        {
            abort_writer(operation, &mut writer).await;
            return Err(StorageError::new(
                ErrorKind::IncompleteBody,
                operation,
                format!(
                    "the body has {} bytes, the declared length is {expected}",
                    self.written
                ),
            ));
        }

        let digest: [u8; 16] = std::mem::take(&mut self.md5).finalize().into();
        if let Some(expected) = expected_md5
            && expected != digest
        {
            abort_writer(operation, &mut writer).await;
            return Err(StorageError::new(
                ErrorKind::BadDigest,
                operation,
                "the Content-MD5 does not match the body",
            ));
        }

        if let Err(error) = writer.close().await {
            abort_writer(operation, &mut writer).await;
            return Err(StorageError::backend(operation, error));
        }
        let blob = BlobRef {
            id: std::mem::take(&mut self.blob_id),
            size: self.written,
        };
        let Some(target) = self.target.take() else {
            return Err(StorageError::new(
                ErrorKind::Internal,
                operation,
                "commit without a target",
            ));
        };

        let inner = Arc::clone(&self.inner);
        let result = match target {
            WriteTarget::Object {
                bucket,
                key,
                object,
            } => {
                inner
                    .commit_put(&bucket, &key, object, blob.clone(), digest)
                    .await
            }
            WriteTarget::Part {
                bucket,
                key,
                upload_id,
                part_number,
            } => {
                inner
                    .commit_part(&bucket, &key, &upload_id, part_number, blob.clone(), digest)
                    .await
            }
        };
        if result.is_err() {
            // No record ever referenced the blob, so no reader can have it open.
            inner.delete_blob(&blob.id).await;
        }
        result
    }

    async fn cancel(mut self) -> StorageResult<()> {
        if let Some(mut writer) = self.writer.take() {
            writer
                .abort()
                .await
                .map_err(|error| StorageError::backend(self.operation, error))?;
        }
        Ok(())
    }
}

/// Aborts a writer after a failed check and logs a failure to clean up, because the caller
/// returns the check's error either way.
async fn abort_writer(operation: &'static str, writer: &mut Writer) {
    if let Err(error) = writer.abort().await {
        tracing::warn!(operation, %error, "failed to remove the data of an aborted write");
    }
}

impl ObjectWrite for BlobWriter {
    fn write(&mut self, chunk: Bytes) -> BoxFuture<'_, StorageResult<()>> {
        Box::pin(self.write_chunk(chunk))
    }

    fn commit(
        self: Box<Self>,
        expected_md5: Option<[u8; 16]>,
    ) -> BoxFuture<'static, StorageResult<ObjectMeta>> {
        Box::pin(self.finish(expected_md5))
    }

    fn abort(self: Box<Self>) -> BoxFuture<'static, StorageResult<()>> {
        Box::pin(self.cancel())
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        let Some(mut writer) = self.writer.take() else {
            return;
        };
        let operation = self.operation;
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move { abort_writer(operation, &mut writer).await });
            }
            Err(_) => {
                tracing::warn!(
                    operation,
                    "a writer dropped outside the storage runtime left temporary data behind"
                );
            }
        }
    }
}

impl Inner {
    /// Opens an OpenDAL writer for blob `id`, buffering writes to the configured chunk size.
    pub(crate) async fn open_blob_writer(
        &self,
        operation: &'static str,
        id: &str,
    ) -> StorageResult<Writer> {
        self.op
            .writer_with(&layout::blob(id))
            .chunk(self.chunk_size)
            .await
            .map_err(|error| StorageError::backend(operation, error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs(sizes: &[u64]) -> Vec<BlobRef> {
        sizes
            .iter()
            .enumerate()
            .map(|(index, size)| BlobRef {
                id: format!("{index:032x}"),
                size: *size,
            })
            .collect()
    }

    #[test]
    fn whole_object_covers_every_blob() {
        let segments = plan_segments(&blobs(&[5, 3, 4]), 0, 12);
        let lens: Vec<u64> = segments.iter().map(|segment| segment.len).collect();
        assert_eq!(lens, vec![5, 3, 4]);
    }

    #[test]
    fn range_inside_one_blob() {
        let segments = plan_segments(&blobs(&[5, 3, 4]), 6, 7);
        assert_eq!(segments.len(), 1);
        assert_eq!(segments[0].offset, 1);
        assert_eq!(segments[0].len, 1);
    }

    #[test]
    fn range_across_blob_boundary() {
        let segments = plan_segments(&blobs(&[5, 3, 4]), 4, 9);
        let shape: Vec<(u64, u64)> = segments
            .iter()
            .map(|segment| (segment.offset, segment.len))
            .collect();
        assert_eq!(shape, vec![(4, 1), (0, 3), (0, 1)]);
    }

    #[test]
    fn empty_blobs_are_skipped() {
        let segments = plan_segments(&blobs(&[0, 2, 0]), 0, 2);
        assert_eq!(segments.len(), 1);
    }
}
