//! The decision table: policies compiled into indices so that a decision touches only the
//! policies that can match, instead of testing every pattern of every policy.
//!
//! A decision runs four steps:
//!
//! 1. Principal: the principal's user id, tenant, roles and groups are looked up in one hash
//!    map per principal type, each value mapping to the policies that name it. The union of
//!    those lists and of the policies with principal type `*` is a bit set of candidates.
//! 2. Action: each action has a bit set of the policies whose action patterns cover it, and
//!    the candidates are intersected with it. Action wildcards were expanded at compile time,
//!    so no action pattern is matched per request.
//! 3. Resource: patterns whose bucket name has no wildcard are grouped by bucket, and the
//!    request's bucket selects one group by hash lookup. Within a group, and among the other
//!    patterns, a [`prefix::PrefixIndex`] finds with one binary search every pattern whose
//!    literal prefix starts the resource, and runs the wildcard remainder only for candidates.
//! 4. Conditions: the typed predicates of the surviving policies are evaluated, and the
//!    matches are combined: an enforced Deny wins, then an enforced Allow, else deny.

mod bitset;
mod prefix;
mod resource;

use std::sync::Arc;

use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};

use crate::action::ACTION_COUNT;
use crate::condition::Predicate;
use crate::decision::{Decision, Match, combine};
use crate::document::{Effect, Mode, PolicyDocument, PrincipalType};
use crate::parse::SourceFile;
use crate::request::{Principal, Request};

use bitset::PolicySet;
use resource::ResourceIndex;

/// A compiled, immutable policy set that decides authorization requests.
#[derive(Clone, Debug)]
pub struct DecisionTable {
    policies: Vec<CompiledPolicy>,
    by_action: Vec<PolicySet>,
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

/// Policy lists keyed by principal attribute value, one map per principal type. The keys are
/// the interned values of the policy set.
#[derive(Clone, Debug, Default)]
struct PrincipalIndex {
    any: PolicySet,
    roles: FxHashMap<Box<str>, Vec<u32>>,
    users: FxHashMap<Box<str>, Vec<u32>>,
    groups: FxHashMap<Box<str>, Vec<u32>>,
    service_accounts: FxHashMap<Box<str>, Vec<u32>>,
    tenants: FxHashMap<Box<str>, Vec<u32>>,
}

impl PrincipalIndex {
    fn map_mut(
        &mut self,
        principal_type: PrincipalType,
    ) -> Option<&mut FxHashMap<Box<str>, Vec<u32>>> {
        match principal_type {
            PrincipalType::Role => Some(&mut self.roles),
            PrincipalType::User => Some(&mut self.users),
            PrincipalType::Group => Some(&mut self.groups),
            PrincipalType::ServiceAccount => Some(&mut self.service_accounts),
            PrincipalType::Tenant => Some(&mut self.tenants),
            PrincipalType::Any => None,
        }
    }

    /// Returns the policies whose principal selectors match `principal`.
    fn candidates(&self, principal: &Principal) -> PolicySet {
        let mut candidates = self.any.clone();
        let mut add = |map: &FxHashMap<Box<str>, Vec<u32>>, value: &str| {
            if let Some(policies) = map.get(value) {
                for policy in policies {
                    candidates.insert(*policy);
                }
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
        let mut by_action = vec![PolicySet::with_capacity(policy_count); ACTION_COUNT];
        let mut principals = PrincipalIndex {
            any: PolicySet::with_capacity(policy_count),
            ..PrincipalIndex::default()
        };
        let mut resource_patterns: Vec<(u32, &str)> = Vec::new();

        for policy in documents.iter().flat_map(|document| &document.policies) {
            let index = u32::try_from(policies.len())
                .expect("the parser rejects sets with more than MAX_POLICIES policies");

            for pattern in &policy.actions {
                for action in pattern.actions.iter() {
                    by_action[action.index()].insert(index);
                }
            }
            for selector in &policy.principals {
                match principals.map_mut(selector.principal_type) {
                    None => principals.any.insert(index),
                    Some(map) => {
                        for value in &selector.values {
                            let list = map.entry(Box::from(value.as_str())).or_default();
                            if list.last() != Some(&index) {
                                list.push(index);
                            }
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
            by_action,
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
        let mut candidates = self.principals.candidates(request.principal);
        candidates.intersect_with(&self.by_action[request.action.index()]);
        if candidates.is_empty() {
            return Decision::no_match();
        }

        let mut matched = Vec::new();
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
