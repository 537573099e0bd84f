//! The storage runtime bridge: a tokio runtime that owns every OpenDAL call, and the
//! [`StorageClient`] handle through which code on any executor (the gateway's monoio cores,
//! a plain thread, tokio) sends it work.
//!
//! A call becomes a job on a bounded `tokio::sync::mpsc` queue. A dispatcher task on the
//! storage runtime spawns each job, and the job returns its result on a `tokio::sync::oneshot`
//! channel. Bodies flow as [`Bytes`] chunks of the configured chunk size over bounded mpsc
//! channels. tokio's channels need no reactor, so awaiting them works on any executor, and a
//! full queue or window makes the caller wait rather than block its thread.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::chunking::Rechunker;
use crate::config::StorageConfig;
use crate::error::{ErrorKind, StorageError};
use crate::storage::{ByteRange, ObjectStream, ObjectWrite, Storage, StorageResult};
use crate::store::LayoutStore;
use crate::types::{
    BucketInfo, Capabilities, ListPage, ListQuery, NewObject, ObjectMeta, PartsPage, UploadsPage,
};

/// A unit of work for the storage runtime.
type Job = Box<dyn FnOnce(Arc<dyn Storage>) -> BoxFuture<'static, ()> + Send>;

/// The storage runtime: a multi-thread tokio runtime and the dispatcher task that runs jobs
/// from [`StorageClient`]s on it.
pub struct StorageRuntime {
    runtime: tokio::runtime::Runtime,
    stop: oneshot::Sender<()>,
    dispatcher: JoinHandle<()>,
    jobs: Arc<Semaphore>,
    max_jobs: u32,
}

impl StorageRuntime {
    /// Starts the runtime and opens the backend in `config`.
    ///
    /// Returns the runtime, which the owner keeps until [`StorageRuntime::shutdown`], and a
    /// client to clone for every core.
    pub fn start(config: StorageConfig) -> StorageResult<(StorageRuntime, StorageClient)> {
        config.validate()?;
        let storage: Arc<dyn Storage> = Arc::new(LayoutStore::open(&config)?);
        Self::start_with(config, storage)
    }

    /// Starts the runtime with a [`Storage`] implementation other than the built-in one.
    /// `config.backend` and `config.min_part_size` are not used, because they configure the
    /// built-in store.
    pub fn start_with(
        config: StorageConfig,
        storage: Arc<dyn Storage>,
    ) -> StorageResult<(StorageRuntime, StorageClient)> {
        config.validate()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.workers)
            .thread_name("ironbucket-storage")
            .enable_all()
            .build()
            .map_err(|error| {
                StorageError::new(
                    ErrorKind::Internal,
                    "start",
                    format!("cannot start the storage runtime: {error}"),
                )
            })?;
        // `validate` caps max_jobs far below u32::MAX.
        let max_jobs = u32::try_from(config.max_jobs).unwrap_or(u32::MAX);
        let jobs = Arc::new(Semaphore::new(max_jobs as usize));
        let (queue, receiver) = mpsc::channel(config.queue_depth);
        let (stop, stopped) = oneshot::channel();
        let capabilities = storage.capabilities();
        let dispatcher = runtime.spawn(dispatch(receiver, storage, Arc::clone(&jobs), stopped));
        tracing::info!(
            workers = config.workers,
            queue_depth = config.queue_depth,
            max_jobs = config.max_jobs,
            "storage runtime started"
        );
        let client = StorageClient {
            queue,
            settings: Arc::new(Settings {
                chunk_size: config.chunk_size,
                body_window: config.body_window,
                capabilities,
            }),
        };
        Ok((
            StorageRuntime {
                runtime,
                stop,
                dispatcher,
                jobs,
                max_jobs,
            },
            client,
        ))
    }

    /// Stops taking jobs, waits up to `deadline` for running jobs, then stops the runtime.
    ///
    /// Jobs still queued fail with `Unavailable`. Jobs still running after the deadline are
    /// dropped, so their writes never commit, though on fs their temporary files may remain
    /// under `_tmp/`. This blocks the calling thread, so call it from a
    /// thread that runs no async tasks.
    pub fn shutdown(self, deadline: Duration) {
        let started = Instant::now();
        let _ = self.stop.send(());
        let (done, finished) = std::sync::mpsc::channel();
        let dispatcher = self.dispatcher;
        let jobs = self.jobs;
        let max_jobs = self.max_jobs;
        self.runtime.spawn(async move {
            let _ = dispatcher.await;
            // Every permit back means that no job runs any more.
            let _ = jobs.acquire_many(max_jobs).await;
            let _ = done.send(());
        });
        if finished.recv_timeout(deadline).is_err() {
            tracing::warn!(
                deadline_ms = deadline.as_millis() as u64,
                "storage jobs still running at the shutdown deadline are dropped"
            );
        }
        let remaining = deadline.saturating_sub(started.elapsed());
        if tokio::runtime::Handle::try_current().is_ok() {
            // Blocking inside a tokio task would panic.
            self.runtime.shutdown_background();
        } else {
            self.runtime.shutdown_timeout(remaining);
        }
        tracing::info!("storage runtime stopped");
    }
}

/// Spawns queued jobs, at most `jobs` permits at a time, until the stop signal arrives or
/// every client is gone.
async fn dispatch(
    mut queue: mpsc::Receiver<Job>,
    storage: Arc<dyn Storage>,
    jobs: Arc<Semaphore>,
    mut stop: oneshot::Receiver<()>,
) {
    loop {
        let permit = tokio::select! {
            biased;
            _ = &mut stop => break,
            permit = Arc::clone(&jobs).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let job = tokio::select! {
            biased;
            _ = &mut stop => break,
            job = queue.recv() => match job {
                Some(job) => job,
                None => break,
            },
        };
        let storage = Arc::clone(&storage);
        tokio::spawn(async move {
            job(storage).await;
            drop(permit);
        });
    }
    // Dropping the jobs still queued drops their reply channels, so their callers get
    // `Unavailable`.
    queue.close();
    while queue.recv().await.is_some() {}
}

/// Settings every clone of a client shares.
struct Settings {
    chunk_size: usize,
    body_window: usize,
    capabilities: Capabilities,
}

/// The handle cores use to reach the storage runtime. Clone one per core; a clone costs a
/// few atomic increments.
///
/// Every method may be awaited from any executor. Each returns `Unavailable` once the
/// runtime has shut down.
#[derive(Clone)]
pub struct StorageClient {
    queue: mpsc::Sender<Job>,
    settings: Arc<Settings>,
}

impl StorageClient {
    /// Sends `job` to the runtime, waiting while the queue is full.
    async fn submit(&self, operation: &'static str, job: Job) -> StorageResult<()> {
        self.queue
            .send(job)
            .await
            .map_err(|_| StorageError::unavailable(operation))
    }

    /// Runs `work` on the storage runtime and returns its result.
    async fn call<T, F, Fut>(&self, operation: &'static str, work: F) -> StorageResult<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<dyn Storage>) -> Fut + Send + 'static,
        Fut: Future<Output = StorageResult<T>> + Send + 'static,
    {
        let (reply, result) = oneshot::channel();
        let job: Job = Box::new(move |storage| {
            Box::pin(async move {
                let _ = reply.send(work(storage).await);
            })
        });
        self.submit(operation, job).await?;
        result
            .await
            .map_err(|_| StorageError::unavailable(operation))?
    }

    /// Returns what the backend supports. This needs no round trip.
    pub fn capabilities(&self) -> Capabilities {
        self.settings.capabilities
    }

    /// Lists all buckets, sorted by name.
    pub async fn list_buckets(&self) -> StorageResult<Vec<BucketInfo>> {
        self.call("list_buckets", |storage| async move {
            storage.list_buckets().await
        })
        .await
    }

    /// Creates bucket `name` for `tenant`; `BucketAlreadyExists` if any tenant has it.
    pub async fn create_bucket(&self, name: &str, tenant: &str) -> StorageResult<BucketInfo> {
        let (name, tenant) = (name.to_owned(), tenant.to_owned());
        self.call("create_bucket", move |storage| async move {
            storage.create_bucket(name, tenant).await
        })
        .await
    }

    /// Returns bucket `name`, or `NoSuchBucket`.
    pub async fn head_bucket(&self, name: &str) -> StorageResult<BucketInfo> {
        let name = name.to_owned();
        self.call("head_bucket", move |storage| async move {
            storage.head_bucket(name).await
        })
        .await
    }

    /// Deletes an empty bucket and discards its unfinished multipart uploads.
    pub async fn delete_bucket(&self, name: &str) -> StorageResult<()> {
        let name = name.to_owned();
        self.call("delete_bucket", move |storage| async move {
            storage.delete_bucket(name).await
        })
        .await
    }

    /// Returns the metadata of an object.
    pub async fn stat_object(&self, bucket: &str, key: &str) -> StorageResult<ObjectMeta> {
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        self.call("stat_object", move |storage| async move {
            storage.stat_object(bucket, key).await
        })
        .await
    }

    /// Opens an object, or the inclusive byte `range` of it, for reading.
    ///
    /// The returned metadata is that of the version the body streams. The range is checked
    /// again against that version, so `InvalidRange` means the object changed size since the
    /// caller's stat.
    pub async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        range: Option<ByteRange>,
    ) -> StorageResult<(ObjectMeta, ObjectBody)> {
        const OPERATION: &str = "get_object";
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        let (head, head_result) = oneshot::channel();
        let (body, body_receiver) = mpsc::channel(self.settings.body_window);
        let chunk_size = self.settings.chunk_size;
        let job: Job = Box::new(move |storage| {
            Box::pin(async move {
                match storage.get_object(bucket, key, range).await {
                    Ok((meta, stream)) => {
                        if head.send(Ok(meta)).is_ok() {
                            pump_body(stream, body, chunk_size).await;
                        }
                    }
                    Err(error) => {
                        let _ = head.send(Err(error));
                    }
                }
            })
        });
        self.submit(OPERATION, job).await?;
        let meta = head_result
            .await
            .map_err(|_| StorageError::unavailable(OPERATION))??;
        let expected = match range {
            Some((start, end)) => end - start + 1,
            None => meta.size,
        };
        Ok((meta, ObjectBody::new(body_receiver, expected)))
    }

    /// Starts a PUT. The object becomes visible when the handle commits; dropping the handle
    /// first aborts the write.
    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        object: NewObject,
    ) -> StorageResult<PutHandle> {
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        self.start_write("put_object", move |storage| {
            Box::pin(async move { storage.put_object(bucket, key, object).await })
        })
        .await
    }

    /// Deletes an object; a missing key succeeds, a missing bucket is `NoSuchBucket`.
    pub async fn delete_object(&self, bucket: &str, key: &str) -> StorageResult<()> {
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        self.call("delete_object", move |storage| async move {
            storage.delete_object(bucket, key).await
        })
        .await
    }

    /// Copies an object inside the storage runtime. `metadata` of `None` keeps the source
    /// metadata (COPY directive), `Some` replaces it (REPLACE). Copying an object onto itself
    /// works with either.
    pub async fn copy_object(
        &self,
        source_bucket: &str,
        source_key: &str,
        bucket: &str,
        key: &str,
        metadata: Option<NewObject>,
    ) -> StorageResult<ObjectMeta> {
        let (source_bucket, source_key) = (source_bucket.to_owned(), source_key.to_owned());
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        self.call("copy_object", move |storage| async move {
            storage
                .copy_object(source_bucket, source_key, bucket, key, metadata)
                .await
        })
        .await
    }

    /// Lists objects and common prefixes of a bucket.
    pub async fn list_objects(&self, bucket: &str, query: ListQuery) -> StorageResult<ListPage> {
        let bucket = bucket.to_owned();
        self.call("list_objects", move |storage| async move {
            storage.list_objects(bucket, query).await
        })
        .await
    }

    /// Starts a multipart upload and returns its upload id.
    pub async fn create_multipart(
        &self,
        bucket: &str,
        key: &str,
        object: NewObject,
    ) -> StorageResult<String> {
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        self.call("create_multipart", move |storage| async move {
            storage.create_multipart(bucket, key, object).await
        })
        .await
    }

    /// Starts uploading part `part_number` (1 to 10000) of an upload. Its ETag is the hex MD5
    /// of the part; committing replaces an earlier part with that number.
    pub async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: u32,
        content_length: Option<u64>,
    ) -> StorageResult<PutHandle> {
        let (bucket, key, upload_id) = (bucket.to_owned(), key.to_owned(), upload_id.to_owned());
        self.start_write("upload_part", move |storage| {
            Box::pin(async move {
                storage
                    .upload_part(bucket, key, upload_id, part_number, content_length)
                    .await
            })
        })
        .await
    }

    /// Completes an upload from `parts` (part number and ETag, in ascending order).
    pub async fn complete_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: Vec<(u32, String)>,
    ) -> StorageResult<ObjectMeta> {
        let (bucket, key, upload_id) = (bucket.to_owned(), key.to_owned(), upload_id.to_owned());
        self.call("complete_multipart", move |storage| async move {
            storage
                .complete_multipart(bucket, key, upload_id, parts)
                .await
        })
        .await
    }

    /// Aborts an upload and removes its parts.
    pub async fn abort_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> StorageResult<()> {
        let (bucket, key, upload_id) = (bucket.to_owned(), key.to_owned(), upload_id.to_owned());
        self.call("abort_multipart", move |storage| async move {
            storage.abort_multipart(bucket, key, upload_id).await
        })
        .await
    }

    /// Lists the parts of an upload numbered above `part_number_marker`, at most
    /// `max_parts` (capped at 1000).
    pub async fn list_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number_marker: Option<u32>,
        max_parts: usize,
    ) -> StorageResult<PartsPage> {
        let (bucket, key, upload_id) = (bucket.to_owned(), key.to_owned(), upload_id.to_owned());
        self.call("list_parts", move |storage| async move {
            storage
                .list_parts(bucket, key, upload_id, part_number_marker, max_parts)
                .await
        })
        .await
    }

    /// Lists the uploads in progress of a bucket whose key starts with `prefix`, ordered by
    /// key and then initiation time, at most `max_uploads` (capped at 1000).
    pub async fn list_multipart_uploads(
        &self,
        bucket: &str,
        prefix: &str,
        key_marker: Option<&str>,
        upload_id_marker: Option<&str>,
        max_uploads: usize,
    ) -> StorageResult<UploadsPage> {
        let (bucket, prefix) = (bucket.to_owned(), prefix.to_owned());
        let key_marker = key_marker.map(str::to_owned);
        let upload_id_marker = upload_id_marker.map(str::to_owned);
        self.call("list_multipart_uploads", move |storage| async move {
            storage
                .list_multipart_uploads(bucket, prefix, key_marker, upload_id_marker, max_uploads)
                .await
        })
        .await
    }

    /// Starts a job that opens a writer with `open` and then feeds it from a [`PutHandle`].
    async fn start_write<F>(&self, operation: &'static str, open: F) -> StorageResult<PutHandle>
    where
        F: FnOnce(Arc<dyn Storage>) -> BoxFuture<'static, StorageResult<Box<dyn ObjectWrite>>>
            + Send
            + 'static,
    {
        let (head, head_result) = oneshot::channel();
        let (messages, message_receiver) = mpsc::channel(self.settings.body_window);
        let (outcome, outcome_receiver) = oneshot::channel();
        let job: Job = Box::new(move |storage| {
            Box::pin(async move {
                match open(storage).await {
                    Ok(writer) => {
                        if head.send(Ok(())).is_ok() {
                            feed_writer(operation, writer, message_receiver, outcome).await;
                        } else if let Err(error) = writer.abort().await {
                            tracing::warn!(operation, %error, "failed to abort an unused write");
                        }
                    }
                    Err(error) => {
                        let _ = head.send(Err(error));
                    }
                }
            })
        });
        self.submit(operation, job).await?;
        head_result
            .await
            .map_err(|_| StorageError::unavailable(operation))??;
        Ok(PutHandle {
            operation,
            messages,
            outcome: Some(outcome_receiver),
            rechunker: Rechunker::new(self.settings.chunk_size),
        })
    }
}

/// Streams `stream` into the body channel in chunks of `chunk_size`, until the stream ends,
/// fails, or the receiver goes away.
async fn pump_body(
    mut stream: ObjectStream,
    body: mpsc::Sender<StorageResult<Bytes>>,
    chunk_size: usize,
) {
    let mut rechunker = Rechunker::new(chunk_size);
    while let Some(item) = stream.next().await {
        match item {
            Ok(bytes) => {
                // Each chunk gets an allocation of its own: a slice would keep the backend's
                // whole read buffer (a pooled allocation of up to 2 MiB for fs) alive for as
                // long as a slow client leaves it in the window. The copy costs far less than
                // the hops around it.
                let chunks: Vec<Bytes> = rechunker
                    .push(bytes)
                    .iter()
                    .map(|chunk| Bytes::copy_from_slice(chunk))
                    .collect();
                for chunk in chunks {
                    if body.send(Ok(chunk)).await.is_err() {
                        return;
                    }
                }
            }
            Err(error) => {
                let _ = body.send(Err(error)).await;
                return;
            }
        }
    }
    if let Some(rest) = rechunker.finish() {
        let _ = body.send(Ok(rest)).await;
    }
}

/// A message from a [`PutHandle`] to the job that owns the writer.
enum PutMessage {
    Data(Bytes),
    Commit(Option<[u8; 16]>),
}

/// Writes the chunks of a [`PutHandle`] until it commits, and aborts when the handle is
/// dropped first or a write fails.
async fn feed_writer(
    operation: &'static str,
    mut writer: Box<dyn ObjectWrite>,
    mut messages: mpsc::Receiver<PutMessage>,
    outcome: oneshot::Sender<StorageResult<ObjectMeta>>,
) {
    loop {
        match messages.recv().await {
            Some(PutMessage::Data(chunk)) => {
                if let Err(error) = writer.write(chunk).await {
                    if let Err(abort_error) = writer.abort().await {
                        tracing::warn!(operation, %abort_error, "failed to abort a failed write");
                    }
                    let _ = outcome.send(Err(error));
                    return;
                }
            }
            Some(PutMessage::Commit(expected_md5)) => {
                let _ = outcome.send(writer.commit(expected_md5).await);
                return;
            }
            None => {
                if let Err(error) = writer.abort().await {
                    tracing::warn!(operation, %error, "failed to abort a dropped write");
                }
                return;
            }
        }
    }
}

/// A write in progress on the storage runtime: a PUT or a part upload.
///
/// Chunks are re-chunked to the configured size and sent over a bounded window, so
/// [`PutHandle::send`] waits while the backend is behind. Dropping the handle without
/// [`PutHandle::commit`] aborts the write: nothing becomes visible and temporary data is
/// removed in the background.
pub struct PutHandle {
    operation: &'static str,
    messages: mpsc::Sender<PutMessage>,
    outcome: Option<oneshot::Receiver<StorageResult<ObjectMeta>>>,
    rechunker: Rechunker,
}

impl PutHandle {
    /// Appends `chunk` to the body.
    pub async fn send(&mut self, chunk: Bytes) -> StorageResult<()> {
        for full in self.rechunker.push(chunk) {
            self.deliver(PutMessage::Data(full)).await?;
        }
        Ok(())
    }

    /// Ends the body and commits it. The MD5 of the body is compared with `expected_md5`
    /// (`BadDigest`) and its length with the declared length (`IncompleteBody`); on either
    /// failure nothing is stored. On success the object is visible to every later read.
    pub async fn commit(mut self, expected_md5: Option<[u8; 16]>) -> StorageResult<ObjectMeta> {
        if let Some(rest) = self.rechunker.finish() {
            self.deliver(PutMessage::Data(rest)).await?;
        }
        self.deliver(PutMessage::Commit(expected_md5)).await?;
        self.outcome().await
    }

    async fn deliver(&mut self, message: PutMessage) -> StorageResult<()> {
        if self.messages.send(message).await.is_ok() {
            return Ok(());
        }
        // The job stopped reading because it failed, and its outcome contains the error.
        Err(match self.outcome().await {
            Err(error) => error,
            Ok(_) => StorageError::new(
                ErrorKind::Internal,
                self.operation,
                "the write finished before its body was sent",
            ),
        })
    }

    async fn outcome(&mut self) -> StorageResult<ObjectMeta> {
        let operation = self.operation;
        match self.outcome.take() {
            Some(receiver) => receiver
                .await
                .map_err(|_| StorageError::unavailable(operation))?,
            None => Err(StorageError::new(
                ErrorKind::Internal,
                operation,
                "the write has already failed",
            )),
        }
    }
}

/// The body of a GET: chunks of the requested bytes, in order.
///
/// The body ends after exactly the requested number of bytes. If the storage runtime stops
/// sending earlier, the last item is an error, never a silent short body.
pub struct ObjectBody {
    chunks: mpsc::Receiver<StorageResult<Bytes>>,
    remaining: u64,
    failed: bool,
}

impl ObjectBody {
    fn new(chunks: mpsc::Receiver<StorageResult<Bytes>>, expected: u64) -> Self {
        ObjectBody {
            chunks,
            remaining: expected,
            failed: false,
        }
    }

    /// Returns the number of bytes not yet received.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    /// Returns the next chunk, `None` after the last byte, or an error once.
    pub async fn next(&mut self) -> Option<StorageResult<Bytes>> {
        if self.failed {
            return None;
        }
        let item = self.chunks.recv().await;
        self.check(item)
    }

    fn check(&mut self, item: Option<StorageResult<Bytes>>) -> Option<StorageResult<Bytes>> {
        let fail = |body: &mut ObjectBody, error: StorageError| {
            body.failed = true;
            Some(Err(error))
        };
        match item {
            Some(Ok(chunk)) if chunk.len() as u64 <= self.remaining => {
                self.remaining -= chunk.len() as u64;
                Some(Ok(chunk))
            }
            Some(Ok(_)) => fail(
                self,
                StorageError::new(
                    ErrorKind::Internal,
                    "get_object",
                    "the body is longer than requested",
                ),
            ),
            Some(Err(error)) => fail(self, error),
            None if self.remaining == 0 => None,
            None => fail(
                self,
                StorageError::new(
                    ErrorKind::Unavailable,
                    "get_object",
                    format!(
                        "the body ended {} bytes early because the storage runtime stopped",
                        self.remaining
                    ),
                ),
            ),
        }
    }
}

impl futures_util::Stream for ObjectBody {
    type Item = StorageResult<Bytes>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        context: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        if self.failed {
            return std::task::Poll::Ready(None);
        }
        let item = std::task::ready!(self.chunks.poll_recv(context));
        std::task::Poll::Ready(self.check(item))
    }
}
