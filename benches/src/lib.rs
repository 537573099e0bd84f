//! Shared helpers for the IronBucket benchmarks: generated policy sets and request lists, and
//! their translation to Cedar, so that the criterion benchmark and the latency example
//! decide the same requests against the same policies in both engines.
//!
//! A generated set is shaped like a multi-tenant deployment. Each tenant has reader and
//! writer roles, an auditors group, named users and tenant-wide listings over a few bucket
//! prefixes. About one policy in ten is a Deny, and about one in five is conditional on the
//! client's network. Sets grow by adding tenants, so a larger set is more of the same kind of
//! policy, as in a real deployment, rather than longer policies. Each tenant's policies are in
//! a file of their own.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::str::FromStr;

use ironbucket_policy::{Action, Principal, Request, RequestContext, SourceFile};

/// Policies per tenant in a generated set.
const POLICIES_PER_TENANT: usize = 50;

/// Buckets per tenant.
const BUCKETS_PER_TENANT: usize = 5;

/// One generated policy, in a form both engines' syntax is written from.
#[derive(Clone, Debug)]
struct GeneratedPolicy {
    id: String,
    allow: bool,
    selector: Selector,
    actions: Vec<Action>,
    resources: Vec<String>,
    /// A CIDR block the client address must lie in.
    network: Option<&'static str>,
}

#[derive(Clone, Debug)]
enum Selector {
    Role(String),
    Group(String),
    User(String),
    Tenant(String),
}

/// A request, with owned data, that both engines decide.
#[derive(Clone, Debug)]
pub struct GeneratedRequest {
    /// The caller.
    pub principal: Principal,
    /// The S3 action.
    pub action: Action,
    /// The resource ARN.
    pub resource: String,
    /// The client's address.
    pub source_ip: IpAddr,
}

impl GeneratedRequest {
    /// Returns the request context the policy engine reads.
    pub fn context(&self) -> RequestContext<'static> {
        RequestContext {
            source_ip: Some(self.source_ip),
            ..RequestContext::default()
        }
    }

    /// Borrows the request for [`ironbucket_policy::DecisionTable::evaluate`].
    pub fn request<'a>(&'a self, context: &'a RequestContext<'a>) -> Request<'a> {
        Request {
            principal: &self.principal,
            action: self.action,
            resource: &self.resource,
            context,
        }
    }
}

/// A generated policy set in both languages, with requests to decide.
pub struct Workload {
    /// The policy set as IronBucket YAML.
    pub sources: Vec<SourceFile>,
    /// The same set as Cedar policy text.
    pub cedar_text: String,
    /// Requests, about one in five of them allowed. The rest are denied by default or by an
    /// explicit Deny, so that both the missing and the matching paths are timed.
    pub requests: Vec<GeneratedRequest>,
}

/// A small deterministic generator, so that every run decides the same requests.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

fn tenant_count(policy_count: usize) -> usize {
    policy_count.div_ceil(POLICIES_PER_TENANT).max(1)
}

fn bucket(tenant: usize, index: usize) -> String {
    format!("t{tenant}-data-{}", index % BUCKETS_PER_TENANT)
}

/// Returns policy `index`. A tenant's policies are consecutive, as they are when each tenant
/// or team keeps its own file in the policy repository.
fn generate_policy(index: usize) -> GeneratedPolicy {
    let tenant = index / POLICIES_PER_TENANT;
    let slot = index % POLICIES_PER_TENANT;
    let bucket = bucket(tenant, slot);
    let arn = |rest: &str| format!("arn:aws:s3:::{bucket}{rest}");
    let id = format!("p{index}");
    match slot % 10 {
        0..=3 => GeneratedPolicy {
            id,
            allow: true,
            selector: Selector::Role(format!("t{tenant}-reader")),
            actions: vec![Action::GetObject, Action::ListBucket],
            resources: vec![arn(""), arn(&format!("/shared-{}/*", slot % 7))],
            network: None,
        },
        4 | 5 => GeneratedPolicy {
            id,
            allow: true,
            selector: Selector::Role(format!("t{tenant}-writer")),
            actions: vec![Action::PutObject, Action::DeleteObject, Action::GetObject],
            resources: vec![arn(&format!("/team-{}/*", slot % 7))],
            network: Some("10.0.0.0/8"),
        },
        6 => GeneratedPolicy {
            id,
            allow: true,
            selector: Selector::Group(format!("t{tenant}-auditors")),
            actions: vec![Action::GetObject, Action::GetObjectTagging],
            resources: vec![arn("/*")],
            network: None,
        },
        7 => GeneratedPolicy {
            id,
            allow: true,
            selector: Selector::User(format!("t{tenant}-u{}", slot % 13)),
            actions: vec![Action::GetObject, Action::PutObject, Action::DeleteObject],
            resources: vec![arn(&format!("/home/t{tenant}-u{}/*", slot % 13))],
            network: None,
        },
        8 => GeneratedPolicy {
            id,
            allow: true,
            selector: Selector::Tenant(format!("t{tenant}")),
            actions: vec![Action::ListBucket],
            resources: vec![arn("")],
            network: None,
        },
        _ => GeneratedPolicy {
            id,
            allow: false,
            selector: Selector::Role(format!("t{tenant}-writer")),
            actions: vec![Action::DeleteObject],
            resources: vec![arn("/team-*/audit/*")],
            network: None,
        },
    }
}

fn yaml_policy(policy: &GeneratedPolicy, out: &mut String) {
    let (kind, value) = match &policy.selector {
        Selector::Role(value) => ("role", value),
        Selector::Group(value) => ("group", value),
        Selector::User(value) => ("user", value),
        Selector::Tenant(value) => ("tenant", value),
    };
    let actions: Vec<&str> = policy.actions.iter().map(|action| action.name()).collect();
    let resources: Vec<String> = policy
        .resources
        .iter()
        .map(|resource| format!("\"{resource}\""))
        .collect();
    let _ = write!(
        out,
        "  - id: {}\n    description: generated\n    effect: {}\n    \
         principals: {{type: {kind}, values: [{value}]}}\n    actions: [{}]\n    \
         resources: [{}]\n    audit: true\n",
        policy.id,
        if policy.allow { "Allow" } else { "Deny" },
        actions.join(", "),
        resources.join(", "),
    );
    if let Some(network) = policy.network {
        let _ = writeln!(
            out,
            "    conditions:\n      - {{type: IpAddress, key: aws:SourceIp, values: [{network}]}}"
        );
    }
}

fn cedar_policy(policy: &GeneratedPolicy, out: &mut String) {
    let principal = match &policy.selector {
        Selector::Role(value) => format!("principal in Role::\"{value}\""),
        Selector::Group(value) => format!("principal in Group::\"{value}\""),
        Selector::User(value) => format!("principal == User::\"{value}\""),
        Selector::Tenant(value) => format!("principal in Tenant::\"{value}\""),
    };
    let actions: Vec<String> = policy
        .actions
        .iter()
        .map(|action| format!("Action::\"{}\"", action.name()))
        .collect();
    let resources: Vec<String> = policy
        .resources
        .iter()
        .map(|pattern| format!("context.arn like \"{pattern}\""))
        .collect();
    let _ = write!(
        out,
        "@id(\"{}\")\n{}(\n  {principal},\n  action in [{}],\n  resource\n) when {{ {} }}",
        policy.id,
        if policy.allow { "permit" } else { "forbid" },
        actions.join(", "),
        resources.join(" || "),
    );
    if let Some(network) = policy.network {
        let _ = write!(
            out,
            " when {{ context.source_ip.isInRange(ip(\"{network}\")) }}"
        );
    }
    out.push_str(";\n");
}

fn generate_request(rng: &mut SplitMix, tenants: usize) -> GeneratedRequest {
    let tenant = rng.below(tenants);
    let user = rng.below(13);
    let mut roles = Vec::new();
    match rng.below(3) {
        0 => roles.push(format!("t{tenant}-reader")),
        1 => roles.push(format!("t{tenant}-writer")),
        _ => {
            roles.push(format!("t{tenant}-reader"));
            roles.push(format!("t{tenant}-writer"));
        }
    }
    let groups = if rng.below(4) == 0 {
        vec![format!("t{tenant}-auditors")]
    } else {
        Vec::new()
    };
    // One request in eight goes to another tenant's bucket, which only a mistake would allow.
    let bucket_tenant = if rng.below(8) == 0 {
        rng.below(tenants)
    } else {
        tenant
    };
    let bucket = bucket(bucket_tenant, rng.below(BUCKETS_PER_TENANT));
    let (action, resource) = match rng.below(6) {
        0 => (Action::ListBucket, format!("arn:aws:s3:::{bucket}")),
        1 => (
            Action::GetObject,
            format!("arn:aws:s3:::{bucket}/shared-{}/report.csv", rng.below(9)),
        ),
        2 => (
            Action::PutObject,
            format!(
                "arn:aws:s3:::{bucket}/team-{}/2026/data.parquet",
                rng.below(9)
            ),
        ),
        3 => (
            Action::DeleteObject,
            format!("arn:aws:s3:::{bucket}/team-{}/audit/log-1", rng.below(9)),
        ),
        4 => (
            Action::GetObject,
            format!("arn:aws:s3:::{bucket}/home/t{tenant}-u{user}/notes.txt"),
        ),
        _ => (
            Action::GetObjectTagging,
            format!("arn:aws:s3:::{bucket}/raw/{}.json", rng.below(100)),
        ),
    };
    let source_ip = if rng.below(3) == 0 {
        IpAddr::from([192, 0, 2, 10])
    } else {
        IpAddr::from([10, 1, rng.below(256) as u8, 7])
    };
    GeneratedRequest {
        principal: Principal {
            user_id: format!("t{tenant}-u{user}"),
            username: format!("t{tenant}-u{user}"),
            tenant: format!("t{tenant}"),
            roles,
            groups,
            ..Principal::default()
        },
        action,
        resource,
        source_ip,
    }
}

/// Generates `policy_count` policies and `request_count` requests, the same for the same
/// arguments.
pub fn generate(policy_count: usize, request_count: usize) -> Workload {
    let tenants = tenant_count(policy_count);
    let mut files: Vec<String> = vec![String::from("version: \"1.0\"\npolicies:\n"); tenants];
    let mut cedar_text = String::new();
    for index in 0..policy_count {
        let policy = generate_policy(index);
        yaml_policy(&policy, &mut files[index / POLICIES_PER_TENANT]);
        cedar_policy(&policy, &mut cedar_text);
    }
    let mut rng = SplitMix(policy_count as u64);
    let requests = (0..request_count)
        .map(|_| generate_request(&mut rng, tenants))
        .collect();
    Workload {
        sources: files
            .into_iter()
            .enumerate()
            .map(|(tenant, text)| SourceFile::new(format!("tenants/t{tenant:05}.yaml"), text))
            .collect(),
        cedar_text,
        requests,
    }
}

/// The Cedar side of a workload: the parsed policy set and, per request, the Cedar request
/// and entity store, built before timing so that only authorization is measured.
pub struct CedarWorkload {
    /// The policy set.
    pub policies: cedar_policy::PolicySet,
    /// Requests with their entities, in the order of [`Workload::requests`].
    pub requests: Vec<(cedar_policy::Request, cedar_policy::Entities)>,
}

fn uid(type_name: &str, id: &str) -> cedar_policy::EntityUid {
    cedar_policy::EntityUid::from_type_name_and_id(
        cedar_policy::EntityTypeName::from_str(type_name).expect("a valid Cedar type name"),
        cedar_policy::EntityId::new(id),
    )
}

impl CedarWorkload {
    /// Parses the Cedar text and builds one request and entity store per generated request.
    pub fn new(workload: &Workload) -> CedarWorkload {
        let policies = cedar_policy::PolicySet::from_str(&workload.cedar_text)
            .expect("the generated Cedar policies parse");
        let requests = workload
            .requests
            .iter()
            .map(|request| {
                let principal = &request.principal;
                let principal_uid = uid("User", &principal.user_id);
                let mut parents = HashSet::new();
                let mut entities = Vec::new();
                let mut add_parent = |type_name: &str, id: &str| {
                    let parent = uid(type_name, id);
                    parents.insert(parent.clone());
                    entities.push(cedar_policy::Entity::new_no_attrs(parent, HashSet::new()));
                };
                for role in &principal.roles {
                    add_parent("Role", role);
                }
                for group in &principal.groups {
                    add_parent("Group", group);
                }
                add_parent("Tenant", &principal.tenant);
                entities.push(cedar_policy::Entity::new_no_attrs(
                    principal_uid.clone(),
                    parents,
                ));
                let context = cedar_policy::Context::from_pairs([
                    (
                        "arn".to_owned(),
                        cedar_policy::RestrictedExpression::new_string(request.resource.clone()),
                    ),
                    (
                        "source_ip".to_owned(),
                        cedar_policy::RestrictedExpression::new_ip(request.source_ip.to_string()),
                    ),
                ])
                .expect("a valid Cedar context");
                let cedar_request = cedar_policy::Request::new(
                    principal_uid,
                    uid("Action", request.action.name()),
                    uid("Object", &request.resource),
                    context,
                    None,
                )
                .expect("a valid Cedar request");
                let entities = cedar_policy::Entities::from_entities(entities, None)
                    .expect("a valid Cedar entity store");
                (cedar_request, entities)
            })
            .collect();
        CedarWorkload { policies, requests }
    }

    /// Decides request `index` with Cedar and returns true when it is allowed.
    pub fn is_allowed(&self, authorizer: &cedar_policy::Authorizer, index: usize) -> bool {
        let (request, entities) = &self.requests[index];
        authorizer
            .is_authorized(request, &self.policies, entities)
            .decision()
            == cedar_policy::Decision::Allow
    }
}

/// Compiles the workload, decides every request with both engines, and panics at the first
/// request on which they disagree. Returns the IronBucket table, the Cedar side and the
/// number of allowed requests.
pub fn prepare_checked(
    workload: &Workload,
) -> (ironbucket_policy::DecisionTable, CedarWorkload, usize) {
    let compilation = ironbucket_policy::compile(&workload.sources);
    let errors: Vec<String> = compilation
        .diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.is_error())
        .map(ToString::to_string)
        .collect();
    assert!(
        errors.is_empty(),
        "generated policies are invalid: {errors:?}"
    );
    let table = compilation.table.expect("no errors, so a table");
    let cedar = CedarWorkload::new(workload);
    let authorizer = cedar_policy::Authorizer::new();
    let mut allowed = 0;
    for (index, request) in workload.requests.iter().enumerate() {
        let context = request.context();
        let ours = table.evaluate(&request.request(&context)).is_allowed();
        let theirs = cedar.is_allowed(&authorizer, index);
        assert_eq!(
            ours, theirs,
            "the engines disagree on request {index}: {request:?}"
        );
        allowed += usize::from(ours);
    }
    (table, cedar, allowed)
}

/// Returns the 50th, 90th, 99th and 99.9th percentiles and the maximum of sorted samples,
/// as name and value pairs in that order.
pub fn percentiles(sorted: &[u64]) -> Vec<(&'static str, u64)> {
    assert!(!sorted.is_empty(), "percentiles of no samples");
    let at = |fraction: f64| {
        let rank = (sorted.len() as f64 * fraction).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    };
    vec![
        ("p50", at(0.50)),
        ("p90", at(0.90)),
        ("p99", at(0.99)),
        ("p99.9", at(0.999)),
        ("max", sorted[sorted.len() - 1]),
    ]
}
