//! Criterion micro-benchmarks of the gateway's per-request hot path, one stage at a time:
//! request-head parsing, S3 routing, SigV4 verification with and without a cached signing
//! key, payload hashing, ListObjectsV2 rendering, and a round trip through the storage
//! runtime bridge.
//!
//! Run with `cargo bench -p ironbucket-benches --bench hot_path`.

#![forbid(unsafe_code)]

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ironbucket_adapters::{Backend, StorageConfig, StorageRuntime};
use ironbucket_s3::xml::render::{ListObjectsV2Result, ObjectEntry};
use ironbucket_s3::{RouteInput, route};
use ironbucket_sigv4::signer::{SigningParams, sign_headers};
use ironbucket_sigv4::{EMPTY_SHA256, SignedRequest, SigningKeyCache, VerifyContext};
use time::OffsetDateTime;

const ACCESS_KEY: &str = "AKIAACMEALICE0000001";
const SECRET: &str = "alice-demo-secret-key-do-not-use-0000001";

/// A GET request head as aws-cli 2 sends it for `aws s3api get-object` over plain HTTP.
const AWS_CLI_GET_HEAD: &[u8] = b"GET /loadgen/obj/00000042 HTTP/1.1\r\n\
Host: 127.0.0.1:9000\r\n\
Accept-Encoding: identity\r\n\
User-Agent: aws-cli/2.15.0 md/awscrt#0.19.18 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#debian.12 md/prompt#off md/command#s3api.get-object\r\n\
X-Amz-Date: 20260101T000000Z\r\n\
X-Amz-Content-SHA256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\r\n\
Authorization: AWS4-HMAC-SHA256 Credential=AKIAACMEALICE0000001/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=4a6e0fbb1a5a0b8e5a1c8f1a2f2d9c1b0e7a9d3c5b6f7e8d9c0b1a2f3e4d5c6b\r\n\
amz-sdk-invocation-id: 2d1a7c5e-6b0f-4f7e-9a51-3c8e2b9d4f10\r\n\
amz-sdk-request: attempt=1\r\n\
\r\n";

fn bench_request_head(c: &mut Criterion) {
    c.bench_function("http/parse_aws_cli_get_head", |b| {
        b.iter(|| {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut request = httparse::Request::new(&mut headers);
            let status = request
                .parse(black_box(AWS_CLI_GET_HEAD))
                .expect("valid head");
            black_box((status.is_complete(), request.headers.len()))
        });
    });
}

fn bench_route(c: &mut Criterion) {
    let domains = vec!["s3.localhost".to_owned()];
    let mut group = c.benchmark_group("s3/route");
    let cases = [
        (
            "get_object_path_style",
            "GET",
            "/loadgen/obj/00000042",
            "127.0.0.1:9000",
        ),
        (
            "list_objects_v2",
            "GET",
            "/loadgen?list-type=2&prefix=obj%2F&max-keys=100",
            "127.0.0.1:9000",
        ),
        (
            "get_object_virtual_host",
            "GET",
            "/obj/00000042",
            "loadgen.s3.localhost:9000",
        ),
    ];
    for (name, method, target, host) in cases {
        group.bench_function(name, |b| {
            b.iter(|| {
                let input = RouteInput {
                    method,
                    target: black_box(target),
                    host: Some(host),
                    virtual_host_domains: &domains,
                    copy_source: None,
                };
                black_box(route(&input).expect("routable request"))
            });
        });
    }
    group.finish();
}

fn bench_sigv4(c: &mut Criterion) {
    let now = OffsetDateTime::now_utc();
    let params = SigningParams {
        access_key_id: ACCESS_KEY,
        secret_access_key: SECRET,
        session_token: None,
        region: "us-east-1",
        service: "s3",
        time: now,
    };
    let target = "/loadgen/obj/00000042";
    let mut headers = vec![("host".to_owned(), "127.0.0.1:9000".to_owned())];
    sign_headers(&params, "GET", target, &mut headers, EMPTY_SHA256);
    let borrowed: Vec<(&str, &str)> = headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let request = SignedRequest::from_target("GET", target, &borrowed);
    let context = VerifyContext::s3(now, "us-east-1");

    let mut group = c.benchmark_group("sigv4/verify_get");
    // The server parses the Authorization header and verifies it on every request; only the
    // derivation of the signing key is saved by the cache.
    for (name, capacity) in [
        ("cached_key", SigningKeyCache::DEFAULT_CAPACITY),
        ("uncached_key", 0),
    ] {
        let mut cache = SigningKeyCache::new(capacity);
        group.bench_function(name, |b| {
            b.iter(|| {
                let parsed = ironbucket_sigv4::parse(black_box(&request))
                    .expect("valid header")
                    .expect("signed request");
                black_box(
                    ironbucket_sigv4::verify(&parsed, &request, SECRET, &context, &mut cache)
                        .expect("valid signature"),
                )
            });
        });
    }
    group.finish();
}

fn bench_payload_hash(c: &mut Criterion) {
    let payload = vec![0x5a_u8; 1 << 20];
    let mut group = c.benchmark_group("payload");
    group.throughput(Throughput::Bytes(payload.len() as u64));
    group.bench_function("sha256_1mib", |b| {
        b.iter(|| {
            black_box(aws_lc_rs::digest::digest(
                &aws_lc_rs::digest::SHA256,
                black_box(&payload),
            ))
        });
    });
    group.finish();
}

fn bench_list_render(c: &mut Criterion) {
    let keys: Vec<String> = (0..1000).map(|index| format!("obj/{index:08}")).collect();
    let modified = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
    let contents: Vec<ObjectEntry<'_>> = keys
        .iter()
        .map(|key| ObjectEntry {
            key,
            last_modified: modified,
            etag: "\"d41d8cd98f00b204e9800998ecf8427e\"",
            size: 4096,
            storage_class: None,
        })
        .collect();
    let result = ListObjectsV2Result {
        bucket: "loadgen",
        prefix: "obj/",
        delimiter: None,
        max_keys: 1000,
        is_truncated: false,
        continuation_token: None,
        next_continuation_token: None,
        start_after: None,
        encoding_type: None,
        contents: &contents,
        common_prefixes: &[],
        owner: None,
    };
    let mut group = c.benchmark_group("s3/xml");
    group.throughput(Throughput::Elements(contents.len() as u64));
    group.bench_with_input(
        BenchmarkId::new("list_objects_v2", 1000),
        &result,
        |b, result| {
            b.iter(|| black_box(result.to_xml()));
        },
    );
    group.finish();
}

fn bench_storage_bridge(c: &mut Criterion) {
    let (runtime, client) = StorageRuntime::start(StorageConfig::new(Backend::Memory))
        .expect("start the storage runtime");
    futures::executor::block_on(client.create_bucket("bench", "tenant")).expect("create bucket");
    // A monoio core awaits the bridge the way this plain-thread executor does: the request
    // crosses a tokio mpsc queue to the storage runtime and the result returns on a oneshot.
    c.bench_function("adapters/head_bucket_round_trip", |b| {
        b.iter(|| {
            black_box(
                futures::executor::block_on(client.head_bucket("bench")).expect("head bucket"),
            )
        });
    });
    drop(client);
    runtime.shutdown(Duration::from_secs(5));
}

criterion_group!(
    hot_path,
    bench_request_head,
    bench_route,
    bench_sigv4,
    bench_payload_hash,
    bench_list_render,
    bench_storage_bridge
);
criterion_main!(hot_path);
