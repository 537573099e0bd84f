//! Differential test: the decision table and the reference interpreter must return the same
//! decision for every generated policy set and request.
//!
//! Policies and requests draw from small vocabularies, so that generated principals, actions,
//! resources and conditions often overlap and every index path (principal lists, the `*`
//! list, action bit sets, nested resource prefixes, wildcard remainders, predicates) is used.

use std::net::IpAddr;

use ironbucket_policy::{
    Action, Principal, Request, RequestContext, SourceFile, compile, reference,
};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

const ROLES: &[&str] = &["r1", "r2", "r3"];
const GROUPS: &[&str] = &["g1", "g2"];
const USERS: &[&str] = &["u1", "u2", "sa1"];
const TENANTS: &[&str] = &["t1", "t2"];
const USERNAMES: &[&str] = &["alice", "bob", "u1"];
const ACTION_PATTERNS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:DeleteObject",
    "s3:Get*",
    "s3:*Object*",
    "s3:List*",
    "s3:?etObject",
    "s3:*",
    "*",
];
const REQUEST_ACTIONS: &[Action] = &[
    Action::GetObject,
    Action::PutObject,
    Action::ListBucket,
    Action::DeleteObject,
    Action::GetObjectAcl,
    Action::GetBucketLocation,
    Action::ListAllMyBuckets,
];
const PATTERN_BUCKETS: &[&str] = &["aaa", "aab", "bbb", "a*", "?ab", "*", "aa?"];
const REQUEST_BUCKETS: &[&str] = &["aaa", "aab", "bbb", "aaab"];
const IP_BLOCKS: &[&str] = &["10.0.0.0/8", "10.1.0.0/16", "192.168.1.1", "2001:db8::/32"];
const SOURCE_IPS: &[Option<&str>] = &[
    None,
    Some("10.1.2.3"),
    Some("10.2.0.1"),
    Some("192.168.1.1"),
    Some("2001:db8::1"),
    Some("::ffff:10.1.0.5"),
    Some("8.8.8.8"),
];

fn quoted(values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|value| format!("\"{value}\"")).collect();
    format!("[{}]", items.join(", "))
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| (*value).to_owned()).collect()
}

fn non_empty_subset(values: &'static [&'static str]) -> impl Strategy<Value = Vec<String>> {
    subsequence(values, 1..=values.len()).prop_map(|chosen| strings(&chosen))
}

fn selector() -> impl Strategy<Value = String> {
    prop_oneof![
        non_empty_subset(ROLES).prop_map(|v| format!("{{type: role, values: {}}}", quoted(&v))),
        non_empty_subset(USERS).prop_map(|v| format!("{{type: user, values: {}}}", quoted(&v))),
        non_empty_subset(GROUPS).prop_map(|v| format!("{{type: group, values: {}}}", quoted(&v))),
        non_empty_subset(USERS)
            .prop_map(|v| format!("{{type: service-account, values: {}}}", quoted(&v))),
        non_empty_subset(TENANTS).prop_map(|v| format!("{{type: tenant, values: {}}}", quoted(&v))),
        Just("{type: \"*\"}".to_owned()),
    ]
}

fn key_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(select(&["a", "b", "/", "*", "?"][..]), 0..5)
        .prop_map(|parts| parts.concat())
}

fn resource_pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just("*".to_owned()),
        6 => (select(PATTERN_BUCKETS), proptest::option::of(key_text())).prop_map(
            |(bucket, key)| match key {
                Some(key) => format!("arn:aws:s3:::{bucket}/{key}"),
                None => format!("arn:aws:s3:::{bucket}"),
            }
        ),
    ]
}

fn condition() -> impl Strategy<Value = String> {
    let quantifier = select(&["Any", "All"][..]);
    let string_condition = (
        select(&["StringEquals", "StringNotEquals", "StringLike"][..]),
        select(&["aws:username", "aws:userid", "ib:tenant"][..]),
        subsequence(&["alice", "u1", "u*", "?2", "t1", "t*", "bob"][..], 1..=3),
        quantifier.clone(),
    )
        .prop_map(|(operator, key, values, quantifier)| {
            format!(
                "{{type: {operator}, key: \"{key}\", values: {}, operator: {quantifier}}}",
                quoted(&strings(&values))
            )
        });
    let ip_condition = (
        select(&["IpAddress", "NotIpAddress"][..]),
        subsequence(IP_BLOCKS, 1..=2),
        quantifier.clone(),
    )
        .prop_map(|(operator, values, quantifier)| {
            format!(
                "{{type: {operator}, key: \"aws:SourceIp\", values: {}, operator: {quantifier}}}",
                quoted(&strings(&values))
            )
        });
    let bool_condition = (any::<bool>(), quantifier).prop_map(|(value, quantifier)| {
        format!(
            "{{type: Bool, key: \"aws:SecureTransport\", value: {value}, operator: {quantifier}}}"
        )
    });
    prop_oneof![string_condition, ip_condition, bool_condition]
}

fn policy(index: usize) -> impl Strategy<Value = String> {
    (
        prop::bool::weighted(0.7),
        proptest::collection::vec(selector(), 1..=2),
        subsequence(ACTION_PATTERNS, 1..=3),
        proptest::collection::vec(resource_pattern(), 1..=3),
        proptest::collection::vec(condition(), 0..=2),
        any::<bool>(),
        prop::bool::weighted(0.15),
    )
        .prop_map(
            move |(allow, selectors, actions, resources, conditions, audit, dry_run)| {
                format!(
                    "  - id: p{index}\n    description: generated\n    effect: {}\n    \
                     mode: {}\n    principals: [{}]\n    actions: {}\n    resources: {}\n    \
                     conditions: [{}]\n    audit: {audit}\n",
                    if allow { "Allow" } else { "Deny" },
                    if dry_run { "dry-run" } else { "enforce" },
                    selectors.join(", "),
                    quoted(&strings(&actions)),
                    quoted(&resources),
                    conditions.join(", "),
                )
            },
        )
}

fn policy_set() -> impl Strategy<Value = Vec<SourceFile>> {
    (1usize..=40, 1usize..=3)
        .prop_flat_map(|(count, files)| {
            let policies: Vec<_> = (0..count).map(policy).collect();
            (policies, Just(files))
        })
        .prop_map(|(policies, files)| {
            let mut texts = vec![String::from("version: \"1.0\"\npolicies:\n"); files];
            for (index, policy) in policies.iter().enumerate() {
                texts[index % files].push_str(policy);
            }
            texts
                .into_iter()
                .enumerate()
                .map(|(index, text)| SourceFile::new(format!("set-{index}.yaml"), text))
                .collect()
        })
}

#[derive(Debug, Clone)]
struct GeneratedRequest {
    principal: Principal,
    action: Action,
    resource: String,
    source_ip: Option<IpAddr>,
    secure_transport: bool,
}

fn request() -> impl Strategy<Value = GeneratedRequest> {
    let principal = (
        select(USERS),
        select(USERNAMES),
        select(TENANTS),
        subsequence(ROLES, 0..=ROLES.len()),
        subsequence(GROUPS, 0..=GROUPS.len()),
        any::<bool>(),
    )
        .prop_map(
            |(user_id, username, tenant, roles, groups, service_account)| Principal {
                user_id: user_id.to_owned(),
                username: username.to_owned(),
                tenant: tenant.to_owned(),
                roles: strings(&roles),
                groups: strings(&groups),
                service_account,
            },
        );
    let resource = prop_oneof![
        1 => Just("*".to_owned()),
        8 => (
            select(REQUEST_BUCKETS),
            proptest::option::of(proptest::collection::vec(select(&["a", "b", "/"][..]), 0..6)),
        )
            .prop_map(|(bucket, key)| match key {
                Some(key) => format!("arn:aws:s3:::{bucket}/{}", key.concat()),
                None => format!("arn:aws:s3:::{bucket}"),
            }),
    ];
    (
        principal,
        select(REQUEST_ACTIONS),
        resource,
        select(SOURCE_IPS),
        any::<bool>(),
    )
        .prop_map(
            |(principal, action, resource, source_ip, secure_transport)| GeneratedRequest {
                principal,
                action,
                resource,
                source_ip: source_ip.map(|text| text.parse().expect("valid test address")),
                secure_transport,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn table_agrees_with_reference(
        sources in policy_set(),
        requests in proptest::collection::vec(request(), 64),
    ) {
        let compilation = compile(&sources);
        let errors: Vec<String> = compilation
            .diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.is_error())
            .map(ToString::to_string)
            .collect();
        prop_assert!(errors.is_empty(), "generated policies are invalid: {errors:#?}");
        let table = compilation.table.as_ref().expect("no errors, so a table");

        for generated in &requests {
            let context = RequestContext {
                source_ip: generated.source_ip,
                secure_transport: generated.secure_transport,
                ..RequestContext::default()
            };
            let request = Request {
                principal: &generated.principal,
                action: generated.action,
                resource: &generated.resource,
                context: &context,
            };
            let from_table = table.evaluate(&request);
            let from_reference = reference::evaluate(&compilation.documents, &request);
            prop_assert_eq!(from_table, from_reference, "request {:?}", generated);
        }
    }
}
