//! Measures decision latency against a generated set of 1,000 policies.
//!
//! Run with `cargo run --release -p ironbucket-policy --example decision_timing`. The policy
//! set mixes role, group, tenant, user and `*` principals, action wildcards, bucket and prefix
//! patterns, and IP conditions. Half of the requests are allowed, so that the timing covers
//! both matching and missing paths.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use ironbucket_policy::{Action, Principal, Request, RequestContext, SourceFile, compile};

const POLICY_COUNT: usize = 1_000;
const REQUEST_COUNT: usize = 10_000;
const ROUNDS: usize = 50;

fn policy_text(index: usize) -> String {
    let bucket = format!("bucket-{:03}", index % 200);
    let (principals, actions, resource) = match index % 5 {
        0 => (
            format!("{{type: role, values: [role-{}]}}", index % 100),
            "[\"s3:Get*\", \"s3:List*\"]",
            format!("arn:aws:s3:::{bucket}/*"),
        ),
        1 => (
            format!("{{type: group, values: [group-{}]}}", index % 50),
            "[s3:PutObject, s3:DeleteObject]",
            format!("arn:aws:s3:::{bucket}/team-{}/*", index % 7),
        ),
        2 => (
            format!("{{type: tenant, values: [tenant-{}]}}", index % 20),
            "[\"s3:*Object*\"]",
            format!("arn:aws:s3:::{bucket}/*/shared/*"),
        ),
        3 => (
            format!("{{type: user, values: [user-{}]}}", index % 300),
            "[\"s3:*\"]",
            format!("arn:aws:s3:::{bucket}"),
        ),
        _ => (
            "{type: \"*\"}".to_owned(),
            "[s3:GetObject]",
            format!("arn:aws:s3:::public-{}/*", index % 10),
        ),
    };
    let effect = if index % 10 == 9 { "Deny" } else { "Allow" };
    let conditions = if index.is_multiple_of(3) {
        "[{type: IpAddress, key: aws:SourceIp, values: [10.0.0.0/8]}]"
    } else {
        "[]"
    };
    format!(
        "  - id: policy-{index}\n    description: generated\n    effect: {effect}\n    \
         principals: {principals}\n    actions: {actions}\n    resources: [\"{resource}\"]\n    \
         conditions: {conditions}\n    audit: true\n"
    )
}

fn request_for_policy(policy: usize, request_index: usize) -> (Principal, Action, String) {
    let bucket = if request_index.is_multiple_of(2) {
        format!("bucket-{:03}", policy % 200)
    } else {
        format!("missing-{:03}", policy % 200)
    };
    let mut principal = Principal {
        user_id: format!("caller-{request_index}"),
        username: format!("name-{request_index}"),
        tenant: format!("tenant-{}", (policy + 3) % 20),
        roles: vec![format!("role-{}", (policy + 1) % 100), "reader".to_owned()],
        groups: vec![format!("group-{}", (policy + 1) % 50)],
        service_account: false,
        ..Principal::default()
    };
    let (action, resource) = match policy % 5 {
        0 => {
            principal.roles[0] = format!("role-{}", policy % 100);
            (
                Action::GetObject,
                format!("arn:aws:s3:::{bucket}/reports/q1.csv"),
            )
        }
        1 => {
            principal.groups[0] = format!("group-{}", policy % 50);
            let team = policy % 7;
            (
                Action::PutObject,
                format!("arn:aws:s3:::{bucket}/team-{team}/upload.bin"),
            )
        }
        2 => {
            principal.tenant = format!("tenant-{}", policy % 20);
            (
                Action::GetObject,
                format!("arn:aws:s3:::{bucket}/x/shared/data.parquet"),
            )
        }
        3 => {
            principal.user_id = format!("user-{}", policy % 300);
            (Action::ListBucket, format!("arn:aws:s3:::{bucket}"))
        }
        _ => {
            let public = if request_index.is_multiple_of(2) {
                "public"
            } else {
                "private"
            };
            (
                Action::GetObject,
                format!("arn:aws:s3:::{public}-{}/index.html", policy % 10),
            )
        }
    };
    (principal, action, resource)
}

fn main() {
    let mut text = String::from("version: \"1.0\"\npolicies:\n");
    for index in 0..POLICY_COUNT {
        text.push_str(&policy_text(index));
    }
    let started = Instant::now();
    let compilation = compile(&[SourceFile::new("generated.yaml", text)]);
    let compile_time = started.elapsed();
    let table = compilation.table.expect("generated policies are valid");

    // Request `j` targets policy `(7 j) mod 1000`: even requests satisfy it, odd ones name a
    // bucket no policy covers, so both the matching and the missing paths are timed.
    let targets: Vec<(Principal, Action, String)> = (0..REQUEST_COUNT)
        .map(|request_index| request_for_policy((request_index * 7) % POLICY_COUNT, request_index))
        .collect();
    let context = RequestContext {
        source_ip: Some(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))),
        secure_transport: true,
        ..RequestContext::default()
    };
    let requests: Vec<Request<'_>> = targets
        .iter()
        .map(|(principal, action, resource)| Request {
            principal,
            action: *action,
            resource,
            context: &context,
        })
        .collect();

    let mut allowed = 0;
    for request in &requests {
        allowed += usize::from(table.evaluate(request).is_allowed());
    }

    // Each round times every request once. The best and median rounds are reported, because
    // other processes on the machine slow some rounds down.
    let mut round_means: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let started = Instant::now();
            for request in &requests {
                black_box(table.evaluate(black_box(request)));
            }
            started.elapsed().as_nanos() as f64 / REQUEST_COUNT as f64
        })
        .collect();
    round_means.sort_by(f64::total_cmp);
    println!(
        "policies: {}, compile: {:.1} ms, requests: {REQUEST_COUNT} ({allowed} allowed), \
         rounds: {ROUNDS}, ns per decision: best round {:.0}, median round {:.0}",
        table.policy_count(),
        compile_time.as_secs_f64() * 1e3,
        round_means[0],
        round_means[ROUNDS / 2]
    );
}
