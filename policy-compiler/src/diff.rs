//! Policy diffs: which combinations of principal selector, action and resource pattern a
//! change to a policy set newly allows or newly denies.
//!
//! Both sets are probed at the same points:
//!
//! - principals: each selector value of either set, as a principal that has only that
//!   attribute, and one principal with no attribute at all;
//! - actions: each action that an action pattern of either set covers;
//! - resources: one sample per resource pattern of either set, its wildcards replaced by `x`
//!   and its variables by the probing principal's values.
//!
//! A combination of attributes that no single selector names, such as a user who is also in
//! a denied group, is not probed.
//!
//! Conditions depend on the request, so a policy with conditions is treated as "may match":
//! a point whose decision depends on conditions is reported as [`Outcome::Conditional`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use rustc_hash::FxHashMap;

use crate::action::{Action, ActionSet};
use crate::document::{Effect, Mode, PolicyDocument, PrincipalType};
use crate::request::{Principal, Request, RequestContext};
use crate::table::DecisionTable;
use crate::template::{self, Piece, TextMode};

/// The decision at one probe point, with conditions unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// Denied whatever the conditions decide.
    Deny,
    /// Allowed or denied depending on conditions.
    Conditional,
    /// Allowed whatever the conditions decide.
    Allow,
}

impl Outcome {
    /// Returns a lowercase word for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Deny => "deny",
            Outcome::Conditional => "conditional",
            Outcome::Allow => "allow",
        }
    }
}

/// The principal a probe stands for: one selector value, or no attribute at all.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProbePrincipal {
    /// The selector type; [`PrincipalType::Any`] for the principal with no attribute.
    pub principal_type: PrincipalType,
    /// The selector value; empty for [`PrincipalType::Any`].
    pub value: String,
}

impl fmt::Display for ProbePrincipal {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.principal_type {
            PrincipalType::Any => formatter.write_str("any other principal"),
            other => write!(formatter, "{} {}", other.as_str(), self.value),
        }
    }
}

/// One changed decision, grouped over actions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Who.
    pub principal: ProbePrincipal,
    /// The actions whose decision changed the same way on this resource.
    pub actions: Vec<Action>,
    /// The resource pattern the sample came from.
    pub resource_pattern: String,
    /// The resource probed.
    pub sample: String,
    /// The decision before the change.
    pub before: Outcome,
    /// The decision after it.
    pub after: Outcome,
}

impl Change {
    /// Returns true when the change allows more: Deny to Conditional or Allow, or Conditional
    /// to Allow.
    pub fn widens(&self) -> bool {
        self.after > self.before
    }
}

impl fmt::Display for Change {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = match (self.widens(), self.after) {
            (true, Outcome::Allow) => "grants",
            (true, _) => "grants, under conditions,",
            (false, Outcome::Deny) => "revokes from",
            (false, _) => "makes conditional, for",
        };
        let actions: Vec<&str> = self.actions.iter().map(|action| action.name()).collect();
        write!(
            formatter,
            "this change {verb} {} {} on {} (was {}, now {}; probed {})",
            self.principal,
            actions.join(", "),
            self.resource_pattern,
            self.before.as_str(),
            self.after.as_str(),
            self.sample
        )
    }
}

/// The grouping key of probe results that form one [`Change`]: principal, resource pattern,
/// and the outcomes before and after.
type ChangeKey = (ProbePrincipal, String, Outcome, Outcome);

/// The facts about one policy that classification needs.
struct PolicyFacts {
    effect: Effect,
    conditional: bool,
}

/// A policy set with its conditions stripped, compiled, and the facts to classify matches.
struct ProbeTable {
    table: DecisionTable,
    facts: FxHashMap<String, PolicyFacts>,
}

impl ProbeTable {
    fn new(documents: &[PolicyDocument]) -> ProbeTable {
        let mut facts = FxHashMap::default();
        let stripped: Vec<PolicyDocument> = documents
            .iter()
            .map(|document| {
                let mut document = document.clone();
                document
                    .policies
                    .retain(|policy| policy.mode == Mode::Enforce);
                for policy in &mut document.policies {
                    facts.insert(
                        policy.id.to_string(),
                        PolicyFacts {
                            effect: policy.effect,
                            conditional: !policy.conditions.is_empty(),
                        },
                    );
                    policy.conditions.clear();
                }
                document
            })
            .collect();
        ProbeTable {
            table: DecisionTable::build(&stripped, &[]),
            facts,
        }
    }

    fn outcome(&self, request: &Request<'_>) -> Outcome {
        let decision = self.table.evaluate(request);
        let (mut deny, mut conditional_deny, mut allow, mut conditional_allow) =
            (false, false, false, false);
        for id in &decision.matched_policies {
            let Some(facts) = self.facts.get(&**id) else {
                continue;
            };
            match (facts.effect, facts.conditional) {
                (Effect::Deny, false) => deny = true,
                (Effect::Deny, true) => conditional_deny = true,
                (Effect::Allow, false) => allow = true,
                (Effect::Allow, true) => conditional_allow = true,
            }
        }
        if deny || !(allow || conditional_allow) {
            Outcome::Deny
        } else if allow && !conditional_deny {
            Outcome::Allow
        } else {
            Outcome::Conditional
        }
    }
}

/// Compares two policy sets at the probe points described in the module documentation and
/// returns every changed decision, grouped by principal, resource pattern and outcome.
pub fn diff_policies(old: &[PolicyDocument], new: &[PolicyDocument]) -> Vec<Change> {
    let before = ProbeTable::new(old);
    let after = ProbeTable::new(new);
    let all = || {
        old.iter()
            .chain(new)
            .flat_map(|document| &document.policies)
    };

    let mut probes: BTreeSet<ProbePrincipal> = BTreeSet::new();
    probes.insert(ProbePrincipal {
        principal_type: PrincipalType::Any,
        value: String::new(),
    });
    let mut actions = ActionSet::empty();
    let mut patterns: BTreeSet<&str> = BTreeSet::new();
    for policy in all() {
        for selector in &policy.principals {
            for value in &selector.values {
                probes.insert(ProbePrincipal {
                    principal_type: selector.principal_type,
                    value: value.clone(),
                });
            }
        }
        for pattern in &policy.actions {
            actions.union_with(&pattern.actions);
        }
        for resource in &policy.resources {
            patterns.insert(&resource.pattern);
        }
    }

    let context = RequestContext::default();
    // Keyed so that the report lists changes in a stable order.
    let mut grouped: BTreeMap<ChangeKey, (String, Vec<Action>)> = BTreeMap::new();
    for probe in &probes {
        let principal = probe_principal(probe);
        let mut seen_samples = BTreeSet::new();
        for pattern in &patterns {
            let Some(sample) = sample_resource(pattern, &principal) else {
                continue;
            };
            if !seen_samples.insert(sample.clone()) {
                continue;
            }
            for action in actions.iter() {
                let request = Request {
                    principal: &principal,
                    action,
                    resource: &sample,
                    context: &context,
                };
                let (was, now) = (before.outcome(&request), after.outcome(&request));
                if was == now {
                    continue;
                }
                grouped
                    .entry((probe.clone(), (*pattern).to_owned(), was, now))
                    .or_insert_with(|| (sample.clone(), Vec::new()))
                    .1
                    .push(action);
            }
        }
    }
    grouped
        .into_iter()
        .map(
            |((principal, resource_pattern, before, after), (sample, actions))| Change {
                principal,
                actions,
                resource_pattern,
                sample,
                before,
                after,
            },
        )
        .collect()
}

fn probe_principal(probe: &ProbePrincipal) -> Principal {
    let value = probe.value.clone();
    match probe.principal_type {
        PrincipalType::Any => Principal::default(),
        PrincipalType::User => Principal {
            username: value.clone(),
            user_id: value,
            ..Principal::default()
        },
        PrincipalType::ServiceAccount => Principal {
            username: value.clone(),
            user_id: value,
            service_account: true,
            ..Principal::default()
        },
        PrincipalType::Role => Principal {
            roles: vec![value],
            ..Principal::default()
        },
        PrincipalType::Group => Principal {
            groups: vec![value],
            ..Principal::default()
        },
        PrincipalType::Tenant => Principal {
            tenant: value,
            ..Principal::default()
        },
    }
}

/// Returns a resource that `pattern` matches: wildcards become `x` and variables the
/// principal's values. Returns `None` when a variable has no value, or when it resolves to an
/// empty string inside the bucket name.
fn sample_resource(pattern: &str, principal: &Principal) -> Option<String> {
    if pattern == "*" {
        return Some("*".to_owned());
    }
    let pieces = template::parse(pattern, TextMode::Glob).ok()?;
    let mut sample = String::with_capacity(pattern.len());
    for piece in pieces {
        match piece {
            Piece::Glob(text) => {
                sample.extend(
                    text.chars()
                        .map(|c| if matches!(c, '*' | '?') { 'x' } else { c }),
                );
            }
            Piece::Literal(text) => sample.push_str(&text),
            Piece::Variable(key) => sample.push_str(template::resolve(&key, principal)?),
        }
    }
    Some(sample)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_replaces_wildcards() {
        let sample = sample_resource("arn:aws:s3:::prod-*/?", &Principal::default());
        assert_eq!(sample.as_deref(), Some("arn:aws:s3:::prod-x/x"));
    }

    #[test]
    fn sample_resolves_variables() {
        let principal = Principal {
            username: "alice".to_owned(),
            ..Principal::default()
        };
        let sample = sample_resource("arn:aws:s3:::home/${aws:username}/*", &principal);
        assert_eq!(sample.as_deref(), Some("arn:aws:s3:::home/alice/x"));
    }

    #[test]
    fn outcome_order_allows_widening() {
        assert!(Outcome::Allow > Outcome::Conditional);
        assert!(Outcome::Conditional > Outcome::Deny);
    }
}
