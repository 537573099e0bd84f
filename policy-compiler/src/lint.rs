//! Checks across policies: duplicate ids, which are errors, and valid but risky patterns, which
//! are warnings.

use std::collections::HashMap;

use crate::action::Action;
use crate::diagnostic::{Diagnostic, Severity};
use crate::document::{Effect, Policy, PolicyDocument, PrincipalType, S3_ARN_PREFIX};
use crate::parse::IdDefinition;

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
