//! Differential test: the decision table and the reference interpreter must return the same
//! decision for every generated policy set and request.
//!
//! Policies and requests draw from small vocabularies, so that generated principals, actions,
//! resources and conditions often overlap and every index path (principal lists, the `*`
//! list, action bit sets, nested resource prefixes, wildcard remainders, policy variables,
//! predicates of every operator family) is used.

use std::net::IpAddr;

use ironbucket_policy::{
    Action, CredentialKind, Principal, Request, RequestContext, SourceFile, compile, reference,
};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

const ROLES: &[&str] = &["r1", "r2", "r3"];
const GROUPS: &[&str] = &["g1", "g2"];
const USERS: &[&str] = &["u1", "u2", "sa1"];
const TENANTS: &[&str] = &["t1", "aab"];
// "a*" checks that a substituted variable is literal text, not a wildcard.
const USERNAMES: &[&str] = &["alice", "bob", "u1", "a*"];
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
const PATTERN_BUCKETS: &[&str] = &["aaa", "aab", "bbb", "a*", "?ab", "*", "aa?", "${ib:tenant}"];
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
    let parts = &[
        "a",
        "b",
        "/",
        "*",
        "?",
        "${aws:username}",
        "${ib:tenant}",
        "${jwt:sub}",
        "${*}",
    ][..];
    proptest::collection::vec(select(parts), 0..5).prop_map(|parts| parts.concat())
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

fn values_list(values: &[&str]) -> String {
    quoted(&strings(values))
}

fn string_condition() -> impl Strategy<Value = String> {
    (
        select(
            &[
                "StringEquals",
                "StringNotEquals",
                "StringLike",
                "StringNotLike",
                "StringContains",
            ][..],
        ),
        select(
            &[
                "aws:username",
                "aws:userid",
                "ib:tenant",
                "jwt:sub",
                "custom:sub",
                "jwt:realm_access.roles",
                "aws:PrincipalTag/team",
                "s3:prefix",
                "s3:x-amz-acl",
                "aws:UserAgent",
            ][..],
        ),
        subsequence(
            &[
                "alice",
                "u1",
                "u*",
                "?2",
                "t1",
                "t*",
                "bob",
                "r1",
                "home/",
                "private",
                "a*",
                "${aws:username}",
                "home/${aws:userid}*",
                "${jwt:sub}",
                "l",
            ][..],
            1..=3,
        ),
        select(&["Any", "All"][..]),
    )
        .prop_map(|(operator, key, values, quantifier)| {
            format!(
                "{{type: {operator}, key: \"{key}\", values: {}, operator: {quantifier}}}",
                values_list(&values)
            )
        })
}

fn typed_condition() -> impl Strategy<Value = String> {
    let quantifier = || select(&["Any", "All"][..]);
    let numeric = (
        select(
            &[
                "NumericEquals",
                "NumericNotEquals",
                "NumericLessThan",
                "NumericLessThanEquals",
                "NumericLessThanOrEquals",
                "NumericGreaterThan",
                "NumericGreaterThanEquals",
            ][..],
        ),
        select(&["s3:max-keys", "jwt:level", "aws:EpochTime"][..]),
        subsequence(&["10", "100", "1000.5", "1767225600"][..], 1..=2),
        quantifier(),
    )
        .prop_map(|(operator, key, values, quantifier)| {
            format!(
                "{{type: {operator}, key: \"{key}\", values: {}, operator: {quantifier}}}",
                values_list(&values)
            )
        });
    let date = (
        select(
            &[
                "DateEquals",
                "DateNotEquals",
                "DateLessThan",
                "DateLessThanEquals",
                "DateGreaterThan",
                "DateGreaterThanEquals",
            ][..],
        ),
        select(&["aws:CurrentTime", "jwt:exp", "aws:EpochTime"][..]),
        subsequence(
            &[
                "2026-01-01",
                "2026-01-01T12:00:00Z",
                "1767225600",
                "2026-01-02T00:00:00+02:00",
            ][..],
            1..=2,
        ),
        quantifier(),
    )
        .prop_map(|(operator, key, values, quantifier)| {
            format!(
                "{{type: {operator}, key: \"{key}\", values: {}, operator: {quantifier}}}",
                values_list(&values)
            )
        });
    let time_of_day = (
        subsequence(&["07:00-19:00", "22:00-06:00", "11:30:00-12:15"][..], 1..=2),
        select(&["UTC", "Europe/Berlin", "America/New_York"][..]),
        quantifier(),
    )
        .prop_map(|(values, zone, quantifier)| {
            format!(
                "{{type: TimeOfDay, key: aws:CurrentTime, values: {}, timezone: {zone}, \
                 operator: {quantifier}}}",
                values_list(&values)
            )
        });
    let ip = (
        select(&["IpAddress", "NotIpAddress"][..]),
        subsequence(IP_BLOCKS, 1..=2),
        quantifier(),
    )
        .prop_map(|(operator, values, quantifier)| {
            format!(
                "{{type: {operator}, key: \"aws:SourceIp\", values: {}, operator: {quantifier}}}",
                values_list(&values)
            )
        });
    let boolean = (
        select(
            &[
                "aws:SecureTransport",
                "aws:MultiFactorAuthPresent",
                "ib:mfa",
                "jwt:verified",
            ][..],
        ),
        any::<bool>(),
        quantifier(),
    )
        .prop_map(|(key, value, quantifier)| {
            format!("{{type: Bool, key: \"{key}\", value: {value}, operator: {quantifier}}}")
        });
    let null = (
        select(
            &[
                "s3:prefix",
                "jwt:sub",
                "aws:SourceIp",
                "s3:x-amz-acl",
                "jwt:realm_access",
            ][..],
        ),
        any::<bool>(),
    )
        .prop_map(|(key, value)| format!("{{type: Null, key: \"{key}\", value: {value}}}"));
    let credential = (
        select(&["StringEquals", "StringNotEquals"][..]),
        subsequence(&["access-key", "bearer", "anonymous"][..], 1..=2),
    )
        .prop_map(|(operator, values)| {
            format!(
                "{{type: {operator}, key: ib:credential, values: {}}}",
                values_list(&values)
            )
        });
    prop_oneof![numeric, date, time_of_day, ip, boolean, null, credential]
}

fn condition() -> impl Strategy<Value = String> {
    prop_oneof![string_condition(), typed_condition()]
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
    current_time_unix: i64,
    prefix: Option<&'static str>,
    max_keys: Option<&'static str>,
    user_agent: Option<&'static str>,
    acl: Option<&'static str>,
}

fn claims() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        1 => Just(serde_json::Value::Null),
        4 => (
            proptest::option::of(select(&["alice", "u1", "a*", "home"][..])),
            subsequence(ROLES, 0..=ROLES.len()),
            proptest::option::of(select(&[5.0, 100.0, 1000.5, 1e12][..])),
            proptest::option::of(select(&[1_767_225_600_i64, 1_767_200_000, 1_767_300_000][..])),
            proptest::option::of(any::<bool>()),
        )
            .prop_map(|(sub, roles, level, exp, verified)| {
                let mut claims = serde_json::json!({"realm_access": {"roles": roles}});
                if let Some(sub) = sub {
                    claims["sub"] = serde_json::json!(sub);
                }
                if let Some(level) = level {
                    claims["level"] = serde_json::json!(level);
                }
                if let Some(exp) = exp {
                    claims["exp"] = serde_json::json!(exp);
                }
                if let Some(verified) = verified {
                    claims["verified"] = serde_json::json!(verified);
                }
                claims
            }),
    ]
}

fn principal() -> impl Strategy<Value = Principal> {
    (
        (
            select(USERS),
            select(USERNAMES),
            select(TENANTS),
            subsequence(ROLES, 0..=ROLES.len()),
            subsequence(GROUPS, 0..=GROUPS.len()),
            any::<bool>(),
        ),
        (
            proptest::option::of(select(&["a", "l", "home"][..])),
            any::<bool>(),
            select(
                &[
                    CredentialKind::AccessKey,
                    CredentialKind::StsSession,
                    CredentialKind::Bearer,
                    CredentialKind::Anonymous,
                ][..],
            ),
            claims(),
        ),
    )
        .prop_map(
            |(
                (user_id, username, tenant, roles, groups, service_account),
                (team, mfa, credential, claims),
            )| Principal {
                user_id: user_id.to_owned(),
                username: username.to_owned(),
                tenant: tenant.to_owned(),
                roles: strings(&roles),
                groups: strings(&groups),
                service_account,
                tags: team
                    .map(|team| vec![("Team".to_owned(), team.to_owned())])
                    .unwrap_or_default(),
                mfa,
                credential,
                claims,
            },
        )
}

fn request() -> impl Strategy<Value = GeneratedRequest> {
    let resource = prop_oneof![
        1 => Just("*".to_owned()),
        8 => (
            select(REQUEST_BUCKETS),
            proptest::option::of(proptest::collection::vec(
                select(&["a", "b", "/", "alice", "a*", "aab", "t1"][..]),
                0..6,
            )),
        )
            .prop_map(|(bucket, key)| match key {
                Some(key) => format!("arn:aws:s3:::{bucket}/{}", key.concat()),
                None => format!("arn:aws:s3:::{bucket}"),
            }),
    ];
    let context = (
        select(SOURCE_IPS),
        any::<bool>(),
        select(
            &[
                1_767_225_600_i64,
                1_767_268_800,
                1_767_247_200,
                1_767_310_000,
            ][..],
        ),
        proptest::option::of(select(&["home/", "a", "alice"][..])),
        proptest::option::of(select(&["5", "100", "abc", "1000.5"][..])),
        proptest::option::of(select(&["aws-cli/2", "lib/a*"][..])),
        proptest::option::of(select(&["private", "public-read"][..])),
    );
    (principal(), select(REQUEST_ACTIONS), resource, context).prop_map(
        |(principal, action, resource, context)| {
            let (source_ip, secure_transport, current_time_unix, prefix, max_keys, user_agent, acl) =
                context;
            GeneratedRequest {
                principal,
                action,
                resource,
                source_ip: source_ip.map(|text| text.parse().expect("valid test address")),
                secure_transport,
                current_time_unix,
                prefix,
                max_keys,
                user_agent,
                acl,
            }
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
            let headers: Vec<(&str, &str)> = generated
                .acl
                .map(|acl| ("X-Amz-Acl", acl))
                .into_iter()
                .collect();
            let context = RequestContext {
                source_ip: generated.source_ip,
                secure_transport: generated.secure_transport,
                current_time_unix: generated.current_time_unix,
                user_agent: generated.user_agent,
                prefix: generated.prefix,
                delimiter: None,
                max_keys: generated.max_keys,
                headers: &headers,
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
