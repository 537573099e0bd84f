//! Checks across policies: duplicate ids, which are errors, and valid but risky patterns, which
//! are warnings.

use std::collections::HashMap;

use crate::action::{Action, ActionSet};
use crate::diagnostic::{Diagnostic, Severity};
use crate::document::{
    Effect, Mode, Policy, PolicyDocument, PrincipalSelector, PrincipalType, S3_ARN_PREFIX,
};
use crate::parse::IdDefinition;
use crate::template::has_variables;

/// Reports every policy id defined more than once: an error at each later definition, and a
/// note at the first.
pub(crate) fn report_duplicate_ids(
    definitions: &[IdDefinition],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut first_by_id: HashMap<&str, &IdDefinition> = HashMap::new();
    for definition in definitions {
        let Some(first) = first_by_id.get(definition.id.as_str()).copied() else {
            first_by_id.insert(&definition.id, definition);
            continue;
        };
        diagnostics.push(Diagnostic::new(
            Severity::Error,
            &definition.file,
            definition.position,
            format!(
                "duplicate policy id \"{}\": it is also defined at {}:{}; policy ids must be \
                 unique across all files, so rename one of them",
                definition.id, first.file, first.position
            ),
        ));
        diagnostics.push(Diagnostic::new(
            Severity::Note,
            &first.file,
            first.position,
            format!(
                "policy id \"{}\" is first defined here, and again at {}:{}",
                definition.id, definition.file, definition.position
            ),
        ));
    }
}

/// Reports valid policies whose patterns are risky.
pub(crate) fn report_risky_patterns(
    documents: &[PolicyDocument],
    diagnostics: &mut Vec<Diagnostic>,
) {
    for document in documents {
        for policy in &document.policies {
            let mut warn = |position, message: String| {
                diagnostics.push(Diagnostic::new(
                    Severity::Warning,
                    &document.file,
                    position,
                    message,
                ));
            };
            match policy.effect {
                Effect::Allow => {
                    for resource in &policy.resources {
                        if matches_every_resource(&resource.pattern) {
                            warn(
                                resource.position,
                                format!(
                                    "resource \"{}\" in Allow policy \"{}\" matches every bucket \
                                     and object; name the buckets the policy is for",
                                    resource.pattern, policy.id
                                ),
                            );
                        }
                    }
                    for selector in &policy.principals {
                        if selector.principal_type == PrincipalType::Any {
                            warn(
                                selector.position,
                                format!(
                                    "Allow policy \"{}\" applies to every principal (type \
                                     \"*\"), including anonymous requests; name the roles, \
                                     users, groups or tenants it is for",
                                    policy.id
                                ),
                            );
                        }
                    }
                    if !policy.audit {
                        warn(
                            policy.position,
                            format!(
                                "Allow policy \"{}\" has no audit: true, so the requests it \
                                 allows are not marked for the audit log; add audit: true",
                                policy.id
                            ),
                        );
                    }
                    if let Some(delete) = unconditional_delete(policy) {
                        warn(
                            policy.position,
                            format!(
                                "Allow policy \"{}\" grants {delete} without conditions; add a \
                                 condition, or narrow the actions",
                                policy.id
                            ),
                        );
                    }
                }
                Effect::Deny => {
                    if policy.description.as_deref().is_none_or(str::is_empty) {
                        warn(
                            policy.position,
                            format!(
                                "Deny policy \"{}\" has no description; add one saying why \
                                 these requests are denied, for whoever is denied next",
                                policy.id
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// Returns true for `*` and for S3 ARN patterns made only of wildcards and slashes, such as
/// `arn:aws:s3:::*` and `arn:aws:s3:::*/*`, which match every bucket and object.
fn matches_every_resource(pattern: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    pattern
        .strip_prefix(S3_ARN_PREFIX)
        .is_some_and(|rest| rest.starts_with('*') && rest.chars().all(|c| c == '*' || c == '/'))
}

/// Returns the first delete action an unconditional policy grants, if any.
fn unconditional_delete(policy: &Policy) -> Option<Action> {
    if !policy.conditions.is_empty() {
        return None;
    }
    policy
        .actions
        .iter()
        .flat_map(|pattern| pattern.actions.iter())
        .find(|action| action.name().starts_with("s3:Delete"))
}

/// Reports each Allow policy that an enforced, unconditional Deny matches on every request the
/// Allow could match, so that the Allow can never allow anything.
///
/// The check is conservative, so it reports only certain shadows. The Deny's selectors must
/// include every selector value of the Allow, and its actions every action of the Allow.
/// Each resource pattern of the Allow must be covered by one pattern of the Deny.
pub(crate) fn report_shadowed_allows(
    documents: &[PolicyDocument],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let policies: Vec<(&PolicyDocument, &Policy)> = documents
        .iter()
        .flat_map(|document| {
            document
                .policies
                .iter()
                .map(move |policy| (document, policy))
        })
        .collect();
    let denies: Vec<Shadow<'_>> = policies
        .iter()
        .filter(|(_, policy)| {
            policy.effect == Effect::Deny
                && policy.mode == Mode::Enforce
                && policy.conditions.is_empty()
        })
        .map(|(document, policy)| Shadow {
            document,
            policy,
            actions: action_union(policy),
        })
        .collect();
    if denies.is_empty() {
        return;
    }
    // Denies by the selector values they name, so that each Allow is compared only with the
    // denies that can cover its first selector, not with every Deny of a large set.
    let mut by_selector: HashMap<(PrincipalType, &str), Vec<usize>> = HashMap::new();
    let mut for_everyone = Vec::new();
    for (index, deny) in denies.iter().enumerate() {
        for selector in &deny.policy.principals {
            if selector.principal_type == PrincipalType::Any {
                for_everyone.push(index);
            }
            for value in &selector.values {
                by_selector
                    .entry((selector.principal_type, value.as_str()))
                    .or_default()
                    .push(index);
            }
        }
    }

    for (document, allow) in policies
        .iter()
        .filter(|(_, policy)| policy.effect == Effect::Allow)
    {
        let Some(first) = allow.principals.first() else {
            continue;
        };
        let named = first
            .values
            .first()
            .and_then(|value| by_selector.get(&(first.principal_type, value.as_str())));
        let allow_actions = action_union(allow);
        let shadow = for_everyone
            .iter()
            .chain(named.into_iter().flatten())
            .map(|index| &denies[*index])
            .find(|deny| shadows(deny, allow, &allow_actions));
        let Some(deny) = shadow else {
            continue;
        };
        diagnostics.push(Diagnostic::new(
            Severity::Warning,
            &document.file,
            allow.position,
            format!(
                "Allow policy \"{}\" can never allow a request: Deny policy \"{}\" at {}:{} \
                 matches every request it matches; remove the Allow, or narrow the Deny",
                allow.id, deny.policy.id, deny.document.file, deny.policy.position
            ),
        ));
    }
}

/// An enforced, unconditional Deny that may shadow Allow policies.
struct Shadow<'d> {
    document: &'d PolicyDocument,
    policy: &'d Policy,
    actions: ActionSet,
}

fn shadows(deny: &Shadow<'_>, allow: &Policy, allow_actions: &ActionSet) -> bool {
    let actions = allow_actions
        .iter()
        .all(|action| deny.actions.contains(action));
    let principals = || {
        allow.principals.iter().all(|selector| {
            deny.policy
                .principals
                .iter()
                .any(|cover| selector_covers(cover, selector))
        })
    };
    let resources = || {
        allow.resources.iter().all(|resource| {
            deny.policy
                .resources
                .iter()
                .any(|cover| pattern_covers(&cover.pattern, &resource.pattern))
        })
    };
    actions && principals() && resources()
}

fn selector_covers(cover: &PrincipalSelector, selector: &PrincipalSelector) -> bool {
    if cover.principal_type == PrincipalType::Any {
        return true;
    }
    cover.principal_type == selector.principal_type
        && selector
            .values
            .iter()
            .all(|value| cover.values.contains(value))
}

fn action_union(policy: &Policy) -> ActionSet {
    let mut actions = ActionSet::empty();
    for pattern in &policy.actions {
        actions.union_with(&pattern.actions);
    }
    actions
}

/// Returns true when every text that `pattern` matches is also matched by `cover`. A
/// wildcard of `pattern` can only be absorbed by a `*` of `cover`, and patterns with policy
/// variables are never covered or covering, since their values change per request.
fn pattern_covers(cover: &str, pattern: &str) -> bool {
    if has_variables(cover) || has_variables(pattern) {
        return false;
    }
    let cover: Vec<char> = cover.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    // covered[j]: the cover read so far absorbs the first j characters of the pattern.
    let mut covered = vec![false; pattern.len() + 1];
    covered[0] = true;
    for symbol in &cover {
        let mut next = vec![false; pattern.len() + 1];
        for j in 0..=pattern.len() {
            next[j] = match symbol {
                '*' => covered[j] || (j > 0 && next[j - 1]),
                '?' => j > 0 && covered[j - 1] && !matches!(pattern[j - 1], '*' | '?'),
                literal => j > 0 && covered[j - 1] && pattern[j - 1] == *literal,
            };
        }
        covered = next;
    }
    covered[pattern.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_covers_longer_pattern() {
        assert!(pattern_covers(
            "arn:aws:s3:::prod-*",
            "arn:aws:s3:::prod-a/*"
        ));
    }

    #[test]
    fn question_mark_cannot_absorb_star() {
        assert!(!pattern_covers("arn:aws:s3:::a/?", "arn:aws:s3:::a/*"));
    }

    #[test]
    fn literal_does_not_cover_wildcard() {
        assert!(!pattern_covers("arn:aws:s3:::a/b", "arn:aws:s3:::a/*"));
    }

    #[test]
    fn everything_covers_everything() {
        assert!(pattern_covers("*", "*"));
        assert!(pattern_covers("*", "arn:aws:s3:::x"));
    }
}
