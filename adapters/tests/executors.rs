//! Executor independence and runtime behaviour of the bridge: clients awaited from monoio and
//! from a hand-written executor, backpressure through a tiny queue, shutdown, and a printed
//! measurement of the per-request overhead.

mod support;

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::join_all;
use ironbucket_adapters::{
    Backend, ErrorKind, NewObject, StorageClient, StorageConfig, StorageRuntime,
};
use support::{Kind, get, kind_of, pattern, put, test_config};

/// Wakes a parked thread.
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion on the current thread with nothing but park and unpark.
fn park_block_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut context = TaskContext::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        thread::park();
    }
}

/// Creates a bucket, writes, reads back and lists through `client`.
async fn exercise(client: StorageClient, bucket: &str) {
    client
        .create_bucket(bucket, "tenant")
        .await
        .expect("create bucket");
    let data = pattern(500_000, 3);
    put(&client, bucket, "k", &data).await.expect("put");
    let (_, read) = get(&client, bucket, "k", None).await.expect("get");
    assert!(read == data, "the object read back differs");
    let page = client
        .list_objects(bucket, Default::default())
        .await
        .expect("list");
    assert_eq!(page.objects.len(), 1);
}

#[test]
fn monoio_core_uses_client() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (runtime, client) =
        StorageRuntime::start(test_config(Kind::Fs, dir.path())).expect("start");
    let core = thread::spawn(move || {
        let mut monoio = monoio::RuntimeBuilder::<monoio::FusionDriver>::new()
            .build()
            .expect("build a monoio runtime");
        monoio.block_on(exercise(client, "monoio"));
    });
    assert!(core.join().is_ok(), "the monoio thread panicked");
    runtime.shutdown(Duration::from_secs(5));
}

#[test]
fn hand_rolled_executor_uses_client() {
    let (runtime, client) =
        StorageRuntime::start(test_config(Kind::Memory, "".as_ref())).expect("start");
    let worker = thread::spawn(move || park_block_on(exercise(client, "parked")));
    assert!(worker.join().is_ok(), "the parked thread panicked");
    runtime.shutdown(Duration::from_secs(5));
}

#[test]
fn full_queue_makes_callers_wait() {
    let config = StorageConfig {
        queue_depth: 1,
        max_jobs: 1,
        body_window: 1,
        ..StorageConfig::new(Backend::Memory)
    };
    let (runtime, client) = StorageRuntime::start(config).expect("start");
    futures::executor::block_on(async {
        client
            .create_bucket("queue", "tenant")
            .await
            .expect("bucket");
        let puts = (0..32).map(|index| {
            let client = client.clone();
            async move { put(&client, "queue", &format!("k{index}"), &[index as u8; 10]).await }
        });
        let results = join_all(puts).await;
        assert!(results.iter().all(Result::is_ok));
        let page = client
            .list_objects("queue", Default::default())
            .await
            .expect("list");
        assert_eq!(page.objects.len(), 32);
    });
    runtime.shutdown(Duration::from_secs(5));
}

#[test]
fn calls_after_shutdown_are_unavailable() {
    let (runtime, client) =
        StorageRuntime::start(StorageConfig::new(Backend::Memory)).expect("start");
    runtime.shutdown(Duration::from_secs(5));
    let result = futures::executor::block_on(client.list_buckets());
    assert_eq!(kind_of(result), Some(ErrorKind::Unavailable));
}

#[test]
fn shutdown_mid_body_reports_error() {
    let config = StorageConfig {
        body_window: 1,
        ..StorageConfig::new(Backend::Memory)
    };
    let (runtime, client) = StorageRuntime::start(config).expect("start");
    let mut body = futures::executor::block_on(async {
        client
            .create_bucket("stop", "tenant")
            .await
            .expect("bucket");
        put(&client, "stop", "k", &pattern(4 * 1024 * 1024, 1))
            .await
            .expect("put");
        let (_, mut body) = client.get_object("stop", "k", None).await.expect("get");
        body.next().await.expect("first chunk").expect("chunk");
        body
    });
    runtime.shutdown(Duration::from_millis(100));
    let outcome = futures::executor::block_on(async {
        loop {
            match body.next().await {
                Some(Ok(_)) => continue,
                Some(Err(error)) => return Some(error.kind()),
                None => return None,
            }
        }
    });
    assert_eq!(outcome, Some(ErrorKind::Unavailable));
}

#[test]
fn dropped_put_after_shutdown_is_harmless() {
    let (runtime, client) =
        StorageRuntime::start(StorageConfig::new(Backend::Memory)).expect("start");
    let handle = futures::executor::block_on(async {
        client
            .create_bucket("late", "tenant")
            .await
            .expect("bucket");
        let mut handle = client
            .put_object("late", "k", NewObject::default())
            .await
            .expect("start put");
        handle.send(Bytes::from_static(b"abc")).await.expect("send");
        handle
    });
    runtime.shutdown(Duration::from_millis(100));
    let result = futures::executor::block_on(handle.commit(None));
    assert_eq!(kind_of(result), Some(ErrorKind::Unavailable));
}

/// Prints the round-trip cost of small requests and of body chunks. It asserts nothing,
/// because the numbers depend on the machine and the build profile; run with `--nocapture`
/// to see them, or run the `bridge_overhead` example in release mode.
#[test]
fn report_bridge_overhead() {
    let (runtime, client) =
        StorageRuntime::start(StorageConfig::new(Backend::Memory)).expect("start");
    futures::executor::block_on(async {
        client
            .create_bucket("bench", "tenant")
            .await
            .expect("bucket");
        let rounds = 2000;
        let started = Instant::now();
        for _ in 0..rounds {
            client.head_bucket("bench").await.expect("head");
        }
        let head = started.elapsed() / rounds;

        let size = 16 * 1024 * 1024;
        put(&client, "bench", "large", &pattern(size, 2))
            .await
            .expect("put large");
        let started = Instant::now();
        let (_, mut body) = client
            .get_object("bench", "large", None)
            .await
            .expect("get large");
        let mut chunks = 0u32;
        while let Some(chunk) = body.next().await {
            chunk.expect("chunk");
            chunks += 1;
        }
        let elapsed = started.elapsed();
        println!(
            "bridge overhead (memory backend): head_bucket {head:?} per call, \
             {:?} per body chunk of 128 KiB",
            elapsed / chunks
        );
    });
    runtime.shutdown(Duration::from_secs(5));
}
