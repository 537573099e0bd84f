//! Tables swapped through arc-swap while threads evaluate, as the gateway reloads policies.
//! Every evaluation must see one whole table, so its decision must be the one of either the
//! old or the new policy set, never a mix. No evaluation may fail.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use ironbucket_policy::{
    Action, DecisionTable, DenyReason, Principal, Request, RequestContext, SourceFile, compile,
};

/// Two policy sets that decide the probe request differently: the first allows it, the
/// second denies it explicitly. The digest of each table identifies it.
fn table(allow: bool) -> DecisionTable {
    let effect = if allow { "Allow" } else { "Deny" };
    let text = format!(
        "version: \"1.0\"\npolicies:\n  - id: {id}\n    description: swap test\n    \
         effect: {effect}\n    principals: {{type: role, values: [reader]}}\n    \
         actions: [\"s3:Get*\"]\n    resources: [\"arn:aws:s3:::data/*\"]\n    audit: true\n",
        id = if allow { "allow-read" } else { "deny-read" }
    );
    compile(&[SourceFile::new("swap.yaml", text)])
        .table
        .expect("the swap test policies are valid")
}

#[test]
fn swapped_tables_never_mix() {
    let allowing = Arc::new(table(true));
    let denying = Arc::new(table(false));
    let current = Arc::new(ArcSwap::from(Arc::clone(&allowing)));
    let stop = Arc::new(AtomicBool::new(false));
    let evaluations = Arc::new(AtomicU64::new(0));

    let readers: Vec<_> = (0..2)
        .map(|_| {
            let current = Arc::clone(&current);
            let stop = Arc::clone(&stop);
            let evaluations = Arc::clone(&evaluations);
            let (allow_digest, deny_digest) =
                (allowing.digest().to_owned(), denying.digest().to_owned());
            thread::spawn(move || {
                let principal = Principal {
                    user_id: "u-1".to_owned(),
                    roles: vec!["reader".to_owned()],
                    ..Principal::default()
                };
                let context = RequestContext::default();
                let request = Request {
                    principal: &principal,
                    action: Action::GetObject,
                    resource: "arn:aws:s3:::data/report.csv",
                    context: &context,
                };
                let mut mismatches = 0_u64;
                while !stop.load(Ordering::Relaxed) {
                    let table = current.load();
                    let decision = table.evaluate(&request);
                    let consistent = if table.digest() == allow_digest {
                        decision.is_allowed() && decision.reason == DenyReason::Allowed
                    } else if table.digest() == deny_digest {
                        matches!(decision.reason, DenyReason::ExplicitDeny { .. })
                    } else {
                        false
                    };
                    if !consistent {
                        mismatches += 1;
                    }
                    evaluations.fetch_add(1, Ordering::Relaxed);
                }
                mismatches
            })
        })
        .collect();

    // Swap for a bounded time and count, so the test ends on its own on a loaded machine.
    let deadline = Instant::now() + Duration::from_millis(500);
    let mut swaps = 0_u32;
    while Instant::now() < deadline && swaps < 20_000 {
        let next = if swaps.is_multiple_of(2) {
            &denying
        } else {
            &allowing
        };
        current.store(Arc::clone(next));
        swaps += 1;
        thread::yield_now();
    }
    stop.store(true, Ordering::Relaxed);

    let mismatches: u64 = readers
        .into_iter()
        .map(|reader| reader.join().expect("no evaluation panicked"))
        .sum();
    assert_eq!(mismatches, 0, "decisions that match neither table");
    assert!(swaps > 100, "only {swaps} swaps happened");
    assert!(
        evaluations.load(Ordering::Relaxed) > 1_000,
        "too few evaluations ran during the swaps"
    );
}
