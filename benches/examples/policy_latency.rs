//! Per-call decision latency percentiles, IronBucket against Cedar, on the generated policy
//! sets of the criterion benchmark, with the targets checked at the end.
//!
//! Run with `cargo run --release -p ironbucket-benches --example policy_latency`. Each call
//! is timed on its own with `Instant`, whose own cost is measured and printed first. The
//! samples go into a buffer allocated before timing, and are sorted afterwards. Criterion
//! reports means and medians; this reports the tail. Policy set sizes given as arguments
//! replace the default list, for profiling one size.

use std::hint::black_box;
use std::time::Instant;

use ironbucket_benches::{generate, percentiles, prepare_checked};

const SIZES: [usize; 4] = [10, 100, 1_000, 10_000];
const REQUESTS: usize = 1_000;
/// Timed calls per size for IronBucket.
const OUR_CALLS: usize = 300_000;
/// Cedar takes up to milliseconds per call on the largest set, so it gets a time budget.
const CEDAR_BUDGET_NANOS: u128 = 3_000_000_000;
const CEDAR_MAX_CALLS: usize = 50_000;

fn timer_overhead() -> u64 {
    let mut samples = Vec::with_capacity(100_000);
    for _ in 0..100_000 {
        let start = Instant::now();
        samples.push(start.elapsed().as_nanos() as u64);
    }
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn main() {
    println!(
        "timer overhead (median of an empty timed region): {} ns",
        timer_overhead()
    );
    println!();
    println!(
        "{:>7} {:>10} {:>10} {:>10} {:>10} {:>12} {:>12} {:>12} {:>9}",
        "policies",
        "ours p50",
        "ours p90",
        "ours p99",
        "ours p99.9",
        "cedar p50",
        "cedar p99",
        "cedar calls",
        "p50 ratio"
    );
    let authorizer = cedar_policy::Authorizer::new();
    let mut our_medians = Vec::new();
    let mut failures = Vec::new();
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .map(|argument| argument.parse().expect("sizes are whole numbers"))
        .collect();
    let sizes = if sizes.is_empty() {
        SIZES.to_vec()
    } else {
        sizes
    };
    for size in sizes {
        let workload = generate(size, REQUESTS);
        let (table, cedar, _) = prepare_checked(&workload);
        let contexts: Vec<_> = workload
            .requests
            .iter()
            .map(|request| request.context())
            .collect();

        // Warm the caches and the branch predictors on the whole request list first.
        for (request, context) in workload.requests.iter().zip(&contexts) {
            black_box(table.evaluate(&request.request(context)));
        }
        let mut ours = Vec::with_capacity(OUR_CALLS);
        for call in 0..OUR_CALLS {
            let index = call % REQUESTS;
            let request = workload.requests[index].request(&contexts[index]);
            let start = Instant::now();
            black_box(table.evaluate(black_box(&request)));
            ours.push(start.elapsed().as_nanos() as u64);
        }
        ours.sort_unstable();

        let mut theirs = Vec::with_capacity(CEDAR_MAX_CALLS);
        let cedar_start = Instant::now();
        while theirs.len() < CEDAR_MAX_CALLS
            && cedar_start.elapsed().as_nanos() < CEDAR_BUDGET_NANOS
        {
            let index = theirs.len() % REQUESTS;
            let start = Instant::now();
            black_box(cedar.is_allowed(&authorizer, black_box(index)));
            theirs.push(start.elapsed().as_nanos() as u64);
        }
        theirs.sort_unstable();

        let ours = percentiles(&ours);
        let theirs_percentiles = percentiles(&theirs);
        let value = |list: &[(&str, u64)], name: &str| {
            list.iter()
                .find(|(label, _)| *label == name)
                .map_or(0, |(_, value)| *value)
        };
        let (our_p50, our_p99) = (value(&ours, "p50"), value(&ours, "p99"));
        let (cedar_p50, cedar_p99) = (
            value(&theirs_percentiles, "p50"),
            value(&theirs_percentiles, "p99"),
        );
        let ratio = cedar_p50 as f64 / our_p50.max(1) as f64;
        println!(
            "{size:>7} {:>8} ns {:>8} ns {:>8} ns {:>8} ns {:>10} ns {:>10} ns {:>12} {:>8.0}x",
            our_p50,
            value(&ours, "p90"),
            our_p99,
            value(&ours, "p99.9"),
            cedar_p50,
            cedar_p99,
            theirs.len(),
            ratio
        );
        if size == 1_000 && our_p99 > 1_000 {
            failures.push(format!(
                "p99 at 1,000 policies is {our_p99} ns, above 1,000 ns"
            ));
        }
        if ratio < 10.0 {
            failures.push(format!(
                "at {size} policies Cedar's median is only {ratio:.1}x ours"
            ));
        }
        our_medians.push((size, our_p50));
    }
    let smallest = our_medians.first().map_or(1, |(_, p50)| (*p50).max(1));
    let largest = our_medians.last().map_or(0, |(_, p50)| *p50);
    let growth = largest as f64 / smallest as f64;
    println!();
    println!("median at 10,000 policies / median at 10 policies: {growth:.2}");
    if growth > 2.0 {
        failures.push(format!(
            "the median grows {growth:.2}x from 10 to 10,000 policies"
        ));
    }
    if failures.is_empty() {
        println!("all targets met");
    } else {
        for failure in &failures {
            println!("target missed: {failure}");
        }
    }
}
