//! The output of a decision: the effect, the reason, and the policies behind it.

use std::sync::Arc;

pub use crate::document::Effect;

/// Why a request was allowed or denied.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DenyReason {
    /// An enforced Deny policy matched. It names the first such policy in table order.
    ExplicitDeny {
        /// Id of the first matching Deny policy.
        policy_id: Arc<str>,
    },
    /// No enforced Allow policy matched, so the request is denied by default.
    NoMatchingAllow,
    /// At least one enforced Allow policy matched and no enforced Deny did.
    Allowed,
}

/// The answer to one [`crate::Request`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Allow or Deny.
    pub effect: Effect,
    /// Why.
    pub reason: DenyReason,
    /// Ids of every enforced policy that matched, Allow and Deny alike, in table order.
    pub matched_policies: Vec<Arc<str>>,
    /// Ids of every dry-run policy that matched, in table order. They never change `effect`.
    pub dry_run_matched: Vec<Arc<str>>,
    /// True when any policy in `matched_policies` has `audit: true`.
    pub audit: bool,
}

impl Decision {
    /// Returns true when the request is allowed.
    pub fn is_allowed(&self) -> bool {
        self.effect == Effect::Allow
    }

    /// Builds the decision for a request that no policy matched.
    pub(crate) fn no_match() -> Decision {
        Decision {
            effect: Effect::Deny,
            reason: DenyReason::NoMatchingAllow,
            matched_policies: Vec::new(),
            dry_run_matched: Vec::new(),
            audit: false,
        }
    }
}

/// One matched policy, as the evaluators see it when combining matches into a decision.
pub(crate) struct Match<'a> {
    pub(crate) id: &'a Arc<str>,
    pub(crate) effect: Effect,
    pub(crate) dry_run: bool,
    pub(crate) audit: bool,
}

/// Combines matched policies, given in table order, into a decision: an enforced Deny wins,
/// then an enforced Allow, and otherwise the request is denied by default.
///
/// The matches' size hint reserves the id list once, instead of growing it match by match.
pub(crate) fn combine<'a>(matches: impl IntoIterator<Item = Match<'a>>) -> Decision {
    let matches = matches.into_iter();
    let mut decision = Decision::no_match();
    decision
        .matched_policies
        .reserve(matches.size_hint().1.unwrap_or(0));
    let mut first_deny: Option<&Arc<str>> = None;
    let mut any_allow = false;

    for matched in matches {
        if matched.dry_run {
            decision.dry_run_matched.push(Arc::clone(matched.id));
            continue;
        }
        decision.matched_policies.push(Arc::clone(matched.id));
        decision.audit |= matched.audit;
        match matched.effect {
            Effect::Deny => {
                first_deny.get_or_insert(matched.id);
            }
            Effect::Allow => any_allow = true,
        }
    }

    if let Some(policy_id) = first_deny {
        decision.reason = DenyReason::ExplicitDeny {
            policy_id: Arc::clone(policy_id),
        };
    } else if any_allow {
        decision.effect = Effect::Allow;
        decision.reason = DenyReason::Allowed;
    }
    decision
}
