//! Decision latency of IronBucket's decision table against Cedar on the same generated
//! policy sets of 10, 100, 1,000 and 10,000 policies.
//!
//! Before timing, every request is decided by both engines and the decisions must agree.
//! Each iteration decides one request, cycling through 1,000 requests of which about one in
//! five is allowed (the benchmark prints the count per set). Run with
//! `cargo bench -p ironbucket-benches --bench policy`; the p99 figures come from
//! `cargo run --release -p ironbucket-benches --example policy_latency`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ironbucket_benches::{generate, prepare_checked};

const SIZES: [usize; 4] = [10, 100, 1_000, 10_000];
const REQUESTS: usize = 1_000;

fn decisions(criterion: &mut Criterion) {
    let authorizer = cedar_policy::Authorizer::new();
    for size in SIZES {
        let workload = generate(size, REQUESTS);
        let (table, cedar, allowed) = prepare_checked(&workload);
        println!("{size} policies: {allowed} of {REQUESTS} requests allowed by both engines");
        let contexts: Vec<_> = workload
            .requests
            .iter()
            .map(|request| request.context())
            .collect();

        let mut group = criterion.benchmark_group(format!("decision/{size}"));
        group.throughput(Throughput::Elements(1));
        group.measurement_time(Duration::from_secs(3));
        group.warm_up_time(Duration::from_secs(1));
        group.bench_function("ironbucket", |bencher| {
            let mut index = 0;
            bencher.iter(|| {
                index = (index + 1) % REQUESTS;
                let request = workload.requests[index].request(&contexts[index]);
                black_box(table.evaluate(black_box(&request)))
            });
        });
        // Cedar evaluates every policy per request, so large sets need fewer samples to stay
        // within the measurement time.
        if size >= 1_000 {
            group.sample_size(10);
        }
        group.bench_function("cedar", |bencher| {
            let mut index = 0;
            bencher.iter(|| {
                index = (index + 1) % REQUESTS;
                black_box(cedar.is_allowed(&authorizer, black_box(index)))
            });
        });
        group.finish();
    }
}

criterion_group!(benches, decisions);
criterion_main!(benches);
