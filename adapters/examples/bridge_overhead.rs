//! Measures the per-request and per-chunk cost of the storage runtime bridge on the memory
//! backend, and small-object latency on the fs backend in a temporary directory, awaited from
//! a plain thread as a monoio core would.
//!
//! Run with `cargo run --release -p ironbucket-adapters --example bridge_overhead`.

use std::time::{Duration, Instant};

use bytes::Bytes;
use ironbucket_adapters::{Backend, NewObject, StorageConfig, StorageRuntime};

fn main() {
    let config = StorageConfig::new(Backend::Memory);
    let chunk_size = config.chunk_size;
    let (runtime, client) = StorageRuntime::start(config).expect("start the storage runtime");
    futures::executor::block_on(async {
        client
            .create_bucket("bench", "tenant")
            .await
            .expect("create bucket");

        let rounds = 20_000u32;
        let started = Instant::now();
        for _ in 0..rounds {
            client.head_bucket("bench").await.expect("head bucket");
        }
        let head = started.elapsed() / rounds;

        let size = 256 * 1024 * 1024;
        let chunk = Bytes::from(vec![0x5a; chunk_size]);
        let started = Instant::now();
        let mut handle = client
            .put_object("bench", "large", NewObject::default())
            .await
            .expect("start put");
        for _ in 0..size / chunk_size {
            handle.send(chunk.clone()).await.expect("send");
        }
        handle.commit(None).await.expect("commit");
        let put = started.elapsed();

        let started = Instant::now();
        let (_, mut body) = client
            .get_object("bench", "large", None)
            .await
            .expect("get");
        let mut chunks = 0u32;
        let mut bytes = 0usize;
        while let Some(piece) = body.next().await {
            bytes += piece.expect("chunk").len();
            chunks += 1;
        }
        let get = started.elapsed();
        assert_eq!(bytes, size);

        println!("head_bucket round trip: {head:?} per call ({rounds} calls)");
        println!(
            "put of {} MiB: {put:?} ({:?} per {} KiB chunk, includes MD5)",
            size >> 20,
            put / chunks,
            chunk_size >> 10
        );
        println!(
            "get of {} MiB: {get:?} ({:?} per {} KiB chunk)",
            size >> 20,
            get / chunks,
            chunk_size >> 10
        );
    });
    runtime.shutdown(Duration::from_secs(5));

    measure_fs_small_objects();
}

/// Prints the mean latency of 4 KiB PUTs and GETs on the fs backend. Each PUT syncs two files
/// (blob and record), so the disk's sync latency dominates it.
fn measure_fs_small_objects() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = StorageConfig::new(Backend::Fs {
        root: dir.path().to_path_buf(),
    });
    let (runtime, client) = StorageRuntime::start(config).expect("start the storage runtime");
    futures::executor::block_on(async {
        client
            .create_bucket("bench", "tenant")
            .await
            .expect("create bucket");
        let body = Bytes::from(vec![0x33; 4096]);
        let rounds = 200u32;
        let started = Instant::now();
        for index in 0..rounds {
            let mut handle = client
                .put_object("bench", &format!("small-{index}"), NewObject::default())
                .await
                .expect("start put");
            handle.send(body.clone()).await.expect("send");
            handle.commit(None).await.expect("commit");
        }
        let put = started.elapsed() / rounds;
        let started = Instant::now();
        for index in 0..rounds {
            let (_, mut object) = client
                .get_object("bench", &format!("small-{index}"), None)
                .await
                .expect("get");
            while let Some(piece) = object.next().await {
                piece.expect("chunk");
            }
        }
        let get = started.elapsed() / rounds;
        println!("fs backend, 4 KiB objects: put {put:?}, get {get:?} per request");
    });
    runtime.shutdown(Duration::from_secs(5));
}
