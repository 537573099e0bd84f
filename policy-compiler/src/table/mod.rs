//! The decision table: policies compiled into indices so that a decision touches only the
//! policies that can match, instead of testing every pattern of every policy.
//!
//! A decision runs four steps:
//!
//! 1. Principal: the principal's user id, tenant, roles and groups are looked up in one hash
//!    map per principal type, each value mapping to the policies that name it. Those lists
//!    and the list of policies with principal type `*` are the possible candidates.
//! 2. Action: each entry of those lists carries the bit set of its policy's actions, so the
//!    action check reads memory the lookup already brought into the cache, and the entries
//!    that pass become [`candidates::Candidates`], a short sorted list. Action wildcards were
//!    expanded at compile time, so no action pattern is matched per request.
//! 3. Resource: patterns whose bucket name has no wildcard are grouped by bucket, and the
//!    request's bucket selects one group by hash lookup. Within a group, and among the other
//!    patterns, a [`prefix::PrefixIndex`] finds with one binary search every pattern whose
//!    literal prefix starts the resource, and runs the wildcard remainder only for candidates.
//! 4. Conditions: the typed predicates of the surviving policies are evaluated, and the
//!    matches are combined: an enforced Deny wins, then an enforced Allow, else deny.

mod candidates;
mod prefix;
mod resource;

use std::sync::Arc;

use compact_str::CompactString;
use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};

use crate::action::{Action, ActionSet};
use crate::condition::Predicate;
use crate::decision::{Decision, Match, combine};
use crate::document::{Effect, Mode, PolicyDocument, PrincipalType};
use crate::parse::SourceFile;
use crate::request::{Principal, Request};

use candidates::Candidates;
use resource::ResourceIndex;

/// Matched policy indices of one decision; a typical decision matches a few, inline.
pub(crate) type Matches = smallvec::SmallVec<[u32; 16]>;

/// A compiled, immutable policy set that decides authorization requests.
#[derive(Clone, Debug)]
pub struct DecisionTable {
    policies: Vec<CompiledPolicy>,
    principals: PrincipalIndex,
    resources: ResourceIndex,
    digest: String,
}

/// The data of one policy that a decision reads after the indices have selected it.
#[derive(Clone, Debug)]
struct CompiledPolicy {
    id: Arc<str>,
    effect: Effect,
    mode: Mode,
    audit: bool,
    conditions: Box<[Predicate]>,
}

/// One policy in a principal list, with the actions it covers.
#[derive(Clone, Copy, Debug)]
struct Posting {
    policy: u32,
    actions: ActionSet,
}

type Postings = FxHashMap<CompactString, Vec<Posting>>;

/// Policy lists keyed by principal attribute value, one map per principal type. The keys are
/// the interned values of the policy set.
#[derive(Clone, Debug, Default)]
struct PrincipalIndex {
    any: Vec<Posting>,
    roles: Postings,
    users: Postings,
    groups: Postings,
    service_accounts: Postings,
    tenants: Postings,
}

impl PrincipalIndex {
    fn map_mut(&mut self, principal_type: PrincipalType) -> Option<&mut Postings> {
        match principal_type {
            PrincipalType::Role => Some(&mut self.roles),
            PrincipalType::User => Some(&mut self.users),
            PrincipalType::Group => Some(&mut self.groups),
            PrincipalType::ServiceAccount => Some(&mut self.service_accounts),
            PrincipalType::Tenant => Some(&mut self.tenants),
            PrincipalType::Any => None,
        }
    }

    /// Returns the policies whose principal selectors match `principal` and whose actions
    /// include `action`.
    fn candidates(&self, principal: &Principal, action: Action) -> Candidates {
        let mut candidates = Candidates::default();
        let mut add_list = |postings: &[Posting]| {
            for posting in postings {
                if posting.actions.contains(action) {
                    candidates.push(posting.policy);
                }
            }
        };
        add_list(&self.any);
        let mut add = |map: &Postings, value: &str| {
            if let Some(policies) = map.get(value) {
                add_list(policies);
            }
        };
        add(&self.users, &principal.user_id);
        add(&self.tenants, &principal.tenant);
        if principal.service_account {
            add(&self.service_accounts, &principal.user_id);
        }
        for role in &principal.roles {
            add(&self.roles, role);
        }
        for group in &principal.groups {
            add(&self.groups, group);
        }
        candidates.finish();
        candidates
    }
}

impl DecisionTable {
    /// Returns a table with no policies, which denies every request.
    pub fn empty() -> DecisionTable {
        DecisionTable::build(&[], &[])
    }

    /// Builds the table from validated documents. `sources` are the texts they were parsed
    /// from, hashed into [`DecisionTable::digest`].
    ///
    /// Policies keep the order of the documents, which [`crate::parse`] sorts by file path, and
    /// that order decides which Deny a decision names.
    pub(crate) fn build(documents: &[PolicyDocument], sources: &[SourceFile]) -> DecisionTable {
        let policy_count = documents
            .iter()
            .map(|document| document.policies.len())
            .sum::<usize>();
        let mut policies = Vec::with_capacity(policy_count);
        let mut principals = PrincipalIndex::default();
        let mut resource_patterns: Vec<(u32, &str)> = Vec::new();

        for policy in documents.iter().flat_map(|document| &document.policies) {
            let index = u32::try_from(policies.len())
                .expect("the parser rejects sets with more than MAX_POLICIES policies");

            let mut actions = ActionSet::empty();
            for pattern in &policy.actions {
                actions.union_with(&pattern.actions);
            }
            let posting = Posting {
                policy: index,
                actions,
            };
            let push = |list: &mut Vec<Posting>| {
                if list.last().is_none_or(|last| last.policy != index) {
                    list.push(posting);
                }
            };
            for selector in &policy.principals {
                match principals.map_mut(selector.principal_type) {
                    None => push(&mut principals.any),
                    Some(map) => {
                        for value in &selector.values {
                            push(map.entry(CompactString::from(value.as_str())).or_default());
                        }
                    }
                }
            }
            for resource in &policy.resources {
                resource_patterns.push((index, resource.pattern.as_str()));
            }

            let conditions = policy
                .conditions
                .iter()
                .map(|condition| {
                    Predicate::compile(condition).expect("the parser validated every condition")
                })
                .collect();
            policies.push(CompiledPolicy {
                id: Arc::clone(&policy.id),
                effect: policy.effect,
                mode: policy.mode,
                audit: policy.audit,
                conditions,
            });
        }

        DecisionTable {
            policies,
            principals,
            resources: ResourceIndex::build(resource_patterns),
            digest: digest_sources(sources),
        }
    }

    /// Decides one request.
    pub fn evaluate(&self, request: &Request<'_>) -> Decision {
        if self.policies.is_empty() {
            return Decision::no_match();
        }
        let candidates = self
            .principals
            .candidates(request.principal, request.action);
        if candidates.is_empty() {
            return Decision::no_match();
        }

        let mut matched = Matches::new();
        self.resources.collect_matches(
            request.resource,
            request.principal,
            &candidates,
            &mut matched,
        );
        matched.sort_unstable();
        matched.dedup();

        combine(
            matched
                .iter()
                .map(|index| &self.policies[*index as usize])
                .filter(|policy| {
                    policy
                        .conditions
                        .iter()
                        .all(|predicate| predicate.holds(request))
                })
                .map(|policy| Match {
                    id: &policy.id,
                    effect: policy.effect,
                    dry_run: policy.mode == Mode::DryRun,
                    audit: policy.audit,
                }),
        )
    }

    /// Returns the number of policies in the table.
    pub fn policy_count(&self) -> usize {
        self.policies.len()
    }

    /// Returns the lowercase hex SHA-256 digest of the sources the table was compiled from.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Returns the ids of the table's policies, in table order.
    pub fn policy_ids(&self) -> impl Iterator<Item = &Arc<str>> {
        self.policies.iter().map(|policy| &policy.id)
    }

    /// Returns the mode of the policy with `id`, if the table has one.
    pub fn policy_mode(&self, id: &str) -> Option<Mode> {
        self.policies
            .iter()
            .find(|policy| &*policy.id == id)
            .map(|policy| policy.mode)
    }
}

/// Hashes sources in path order. Each path and text is preceded by its length as a 64-bit
/// little-endian number, so that no two different source sets hash the same bytes.
fn digest_sources(sources: &[SourceFile]) -> String {
    let mut ordered: Vec<&SourceFile> = sources.iter().collect();
    ordered.sort_by(|left, right| left.path.cmp(&right.path).then(left.text.cmp(&right.text)));
    let mut hasher = Sha256::new();
    hasher.update(b"ironbucket-policy-sources-v1\n");
    for source in ordered {
        for part in [source.path.as_bytes(), source.text.as_bytes()] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
    }
    format!("{:x}", hasher.finalize())
}
