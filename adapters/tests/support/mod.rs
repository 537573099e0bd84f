//! Helpers shared by the integration tests: starting a storage runtime on either backend,
//! writing and reading whole objects through a client, and inspecting the fs root.

#![allow(dead_code)]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ironbucket_adapters::{
    Backend, ByteRange, ErrorKind, NewObject, ObjectMeta, StorageClient, StorageConfig,
    StorageResult, StorageRuntime,
};

/// Which backend a test runs against.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Memory,
    Fs,
}

/// What a test case gets: a client and, for the fs backend, the root directory.
pub struct Context {
    pub client: StorageClient,
    pub root: Option<PathBuf>,
}

/// Minimum part size the suite configures, so multipart tests stay small.
pub const TEST_MIN_PART: u64 = 64 * 1024;

/// Chunk size the suite configures.
pub const TEST_CHUNK: usize = 64 * 1024;

/// Returns the configuration the suite uses for `kind`, rooted at `root` for fs.
pub fn test_config(kind: Kind, root: &Path) -> StorageConfig {
    let backend = match kind {
        Kind::Memory => Backend::Memory,
        Kind::Fs => Backend::Fs {
            root: root.to_path_buf(),
        },
    };
    StorageConfig {
        min_part_size: TEST_MIN_PART,
        chunk_size: TEST_CHUNK,
        ..StorageConfig::new(backend)
    }
}

/// Starts a runtime for `kind`, runs `case` on a plain `futures` executor (not tokio), and
/// shuts the runtime down.
pub fn run_case<F, Fut>(kind: Kind, case: F)
where
    F: FnOnce(Context) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let root = dir.path().join("root");
    let (runtime, client) =
        StorageRuntime::start(test_config(kind, &root)).expect("start the storage runtime");
    let context = Context {
        client,
        root: matches!(kind, Kind::Fs).then_some(root),
    };
    futures::executor::block_on(case(context));
    runtime.shutdown(Duration::from_secs(10));
}

/// Returns the kind of a failed result, or `None` for success.
pub fn kind_of<T>(result: StorageResult<T>) -> Option<ErrorKind> {
    result.err().map(|error| error.kind())
}

/// Writes `data` as one object, in pieces of `piece` bytes.
pub async fn put_pieces(
    client: &StorageClient,
    bucket: &str,
    key: &str,
    data: &[u8],
    object: NewObject,
    piece: usize,
) -> StorageResult<ObjectMeta> {
    let mut handle = client.put_object(bucket, key, object).await?;
    for chunk in data.chunks(piece.max(1)) {
        handle.send(Bytes::copy_from_slice(chunk)).await?;
    }
    handle.commit(None).await
}

/// Writes `data` as one object with default metadata.
pub async fn put(
    client: &StorageClient,
    bucket: &str,
    key: &str,
    data: &[u8],
) -> StorageResult<ObjectMeta> {
    put_pieces(client, bucket, key, data, NewObject::default(), 100_000).await
}

/// Reads an object, or a range of it, into memory.
pub async fn get(
    client: &StorageClient,
    bucket: &str,
    key: &str,
    range: Option<ByteRange>,
) -> StorageResult<(ObjectMeta, Vec<u8>)> {
    let (meta, mut body) = client.get_object(bucket, key, range).await?;
    let mut data = Vec::new();
    while let Some(chunk) = body.next().await {
        data.extend_from_slice(&chunk?);
    }
    Ok((meta, data))
}

/// Uploads `data` as part `number`.
pub async fn upload_part(
    client: &StorageClient,
    bucket: &str,
    key: &str,
    upload_id: &str,
    number: u32,
    data: &[u8],
) -> StorageResult<ObjectMeta> {
    let mut handle = client
        .upload_part(bucket, key, upload_id, number, Some(data.len() as u64))
        .await?;
    for chunk in data.chunks(50_000) {
        handle.send(Bytes::copy_from_slice(chunk)).await?;
    }
    handle.commit(None).await
}

/// Returns the lower-case hex MD5 of `data`.
pub fn md5_hex(data: &[u8]) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(data))
}

/// Returns `len` bytes of a pattern that differs per `seed`, so that mixed-up bytes show.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|index| {
            (index as u32)
                .wrapping_mul(31)
                .wrapping_add(seed as u32 * 7) as u8
        })
        .collect()
}

/// Counts the regular files below `dir`; a missing directory has none.
pub fn count_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| {
            let path = entry.path();
            if path.is_dir() { count_files(&path) } else { 1 }
        })
        .sum()
}

/// Waits up to five seconds for `condition`, because deletions run in the background.
pub fn eventually(condition: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    condition()
}

/// Waits for the fs root to hold no blobs and no temporary files; always true for memory.
pub fn storage_is_clean(context: &Context) -> bool {
    match &context.root {
        None => true,
        Some(root) => eventually(|| {
            count_files(&root.join("_blobs")) == 0 && count_files(&root.join("_tmp")) == 0
        }),
    }
}

/// Waits for the fs root to hold exactly `expected` blobs; always true for memory.
pub fn blob_count_is(context: &Context, expected: usize) -> bool {
    match &context.root {
        None => true,
        Some(root) => eventually(|| count_files(&root.join("_blobs")) == expected),
    }
}
