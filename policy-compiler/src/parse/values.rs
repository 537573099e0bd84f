//! Parsing of the list-valued policy fields: principals, actions, resources and conditions.

use std::borrow::Cow;

use crate::action::{Action, ActionSet};
use crate::diagnostic::Reporter;
use crate::document::{ActionPattern, PrincipalSelector, PrincipalType, ResourcePattern};
use crate::glob::{has_wildcard, wildcard_match};
use crate::suggest::did_you_mean;
use crate::template::{self, TextMode};
use crate::yaml::{Node, NodeKind};

use super::fields::{Fields, Item, expect_string, expect_string_list, report_wrong_type};

const SELECTOR_FIELDS: &[&str] = &["type", "values"];
const PRINCIPAL_TYPES: &[PrincipalType] = &[
    PrincipalType::Role,
    PrincipalType::User,
    PrincipalType::Group,
    PrincipalType::ServiceAccount,
    PrincipalType::Tenant,
    PrincipalType::Any,
];

/// Parses `principals`: one selector mapping, or a list of them.
pub(super) fn principals(
    reporter: &mut Reporter<'_>,
    node: &Node,
    context: &str,
) -> Option<Vec<PrincipalSelector>> {
    let selectors: Vec<Option<PrincipalSelector>> = match &node.kind {
        NodeKind::Mapping(_) => vec![selector(reporter, node, context)],
        NodeKind::Sequence(items) => {
            if items.is_empty() {
                reporter.error(
                    node.position,
                    format!(
                        "empty principals in {context}, so it would match nobody; add a \
                         selector such as {{type: role, values: [analyst]}}"
                    ),
                );
                return None;
            }
            items
                .iter()
                .map(|item| selector(reporter, item, context))
                .collect()
        }
        _ => {
            report_wrong_type(
                reporter,
                node,
                "field \"principals\"",
                "a mapping with type and values, or a list of such mappings",
            );
            return None;
        }
    };
    selectors.into_iter().collect()
}

fn selector(reporter: &mut Reporter<'_>, node: &Node, context: &str) -> Option<PrincipalSelector> {
    let subject = format!("a principal selector of {context}");
    let fields = Fields::read(reporter, node, SELECTOR_FIELDS, &subject)?;
    let type_node = fields.require(reporter, "type", &subject, "type: role")?;
    let principal_type = principal_type(reporter, type_node)?;

    let values = match (principal_type, fields.get("values")) {
        (PrincipalType::Any, None) => Vec::new(),
        (PrincipalType::Any, Some(values_node)) => {
            let items = expect_string_list(reporter, values_node, "values")?;
            if items.iter().any(|item| item.text != "*") || items.is_empty() {
                reporter.error(
                    values_node.position,
                    "principal type \"*\" matches every principal and takes no values; remove \
                     \"values\", or choose another type",
                );
                return None;
            }
            Vec::new()
        }
        (_, None) => {
            fields.require(reporter, "values", &subject, "values: [analyst]");
            return None;
        }
        (_, Some(values_node)) => selector_values(reporter, values_node, principal_type, context)?,
    };
    Some(PrincipalSelector {
        principal_type,
        values,
        position: fields.position,
    })
}

fn principal_type(reporter: &mut Reporter<'_>, node: &Node) -> Option<PrincipalType> {
    let text = expect_string(reporter, node, "type")?;
    if let Some(found) = PRINCIPAL_TYPES
        .iter()
        .copied()
        .find(|candidate| text.eq_ignore_ascii_case(candidate.as_str()))
    {
        return Some(found);
    }
    reporter.error(
        node.position,
        format!(
            "unknown principal type \"{text}\"; {}use one of role, user, group, \
             service-account, tenant or \"*\"",
            did_you_mean(text, PRINCIPAL_TYPES.iter().map(|kind| kind.as_str()))
        ),
    );
    None
}

fn selector_values(
    reporter: &mut Reporter<'_>,
    node: &Node,
    principal_type: PrincipalType,
    context: &str,
) -> Option<Vec<String>> {
    let items = expect_string_list(reporter, node, "values")?;
    if items.is_empty() {
        reporter.error(
            node.position,
            format!(
                "empty principals in {context}: the {} selector lists no values, so it would \
                 match nobody; list at least one value, or use type \"*\" for every principal",
                principal_type.as_str()
            ),
        );
        return None;
    }
    let mut valid = true;
    for item in &items {
        if item.text.is_empty() {
            reporter.error(
                item.position,
                "empty principal value; write the role, user, group or tenant name",
            );
            valid = false;
        } else if has_wildcard(item.text) {
            reporter.error(
                item.position,
                format!(
                    "principal value \"{}\" contains a wildcard, but principal values are \
                     compared exactly; list each value, or use type \"*\" for every principal",
                    item.text
                ),
            );
            valid = false;
        }
    }
    valid.then(|| items.iter().map(|item| item.text.to_owned()).collect())
}

/// Parses `actions` and expands each pattern to the set of actions it matches.
pub(super) fn actions(
    reporter: &mut Reporter<'_>,
    node: &Node,
    context: &str,
) -> Option<Vec<ActionPattern>> {
    let items = expect_string_list(reporter, node, "actions")?;
    if items.is_empty() {
        reporter.error(
            node.position,
            format!(
                "empty actions in {context}, so it would match no request; list at least one \
                 action such as s3:GetObject"
            ),
        );
        return None;
    }
    let patterns: Vec<Option<ActionPattern>> = items
        .iter()
        .map(|item| action_pattern(reporter, item))
        .collect();
    patterns.into_iter().collect()
}

fn action_pattern(reporter: &mut Reporter<'_>, item: &Item<'_>) -> Option<ActionPattern> {
    let pattern = item.text;
    if let Some((service, _)) = pattern.split_once(':')
        && !service.eq_ignore_ascii_case("s3")
        && !has_wildcard(service)
    {
        reporter.error(
            item.position,
            format!(
                "unknown action \"{pattern}\": it is not an S3 action; IronBucket policies \
                 cover the s3 service only, so use a name that starts with \"s3:\""
            ),
        );
        return None;
    }

    let actions: ActionSet = if has_wildcard(pattern) {
        let lowercase = pattern.to_ascii_lowercase();
        Action::ALL
            .iter()
            .copied()
            .filter(|action| wildcard_match(&lowercase, &action.name().to_ascii_lowercase()))
            .collect()
    } else {
        Action::from_name(pattern).into_iter().collect()
    };

    if actions.is_empty() {
        let message = if has_wildcard(pattern) {
            format!(
                "unknown action: the pattern \"{pattern}\" matches no S3 action; write it as \
                 s3: followed by a name with * or ?, such as s3:Get*"
            )
        } else {
            format!(
                "unknown action \"{pattern}\"; {}use an action name from the AWS list of \
                 Amazon S3 actions, such as s3:GetObject",
                did_you_mean(pattern, Action::ALL.iter().map(|action| action.name()))
            )
        };
        reporter.error(item.position, message);
        return None;
    }
    Some(ActionPattern {
        pattern: pattern.to_owned(),
        actions,
        position: item.position,
    })
}

/// Parses `resources`, checking that each is `*` or a well-formed S3 ARN pattern.
pub(super) fn resources(
    reporter: &mut Reporter<'_>,
    node: &Node,
    context: &str,
) -> Option<Vec<ResourcePattern>> {
    let items = expect_string_list(reporter, node, "resources")?;
    if items.is_empty() {
        reporter.error(
            node.position,
            format!(
                "empty resources in {context}, so it would match no request; list at least one \
                 ARN such as \"arn:aws:s3:::bucket/*\""
            ),
        );
        return None;
    }
    let mut patterns = Vec::with_capacity(items.len());
    let mut valid = true;
    for item in &items {
        match arn_problem(item.text) {
            None => patterns.push(ResourcePattern {
                pattern: item.text.to_owned(),
                position: item.position,
            }),
            Some(problem) => {
                reporter.error(
                    item.position,
                    format!(
                        "malformed ARN \"{}\": {problem}; write arn:aws:s3:::BUCKET or \
                         arn:aws:s3:::BUCKET/KEY (with * or ? wildcards), or \"*\" for every \
                         resource",
                        item.text
                    ),
                );
                valid = false;
            }
        }
    }
    valid.then_some(patterns)
}

/// Describes what is wrong with a resource pattern, or returns `None` when it is valid.
fn arn_problem(pattern: &str) -> Option<String> {
    if pattern == "*" {
        return None;
    }
    let pattern = match variables_as_wildcards(pattern) {
        Ok(shape) => shape,
        Err(problem) => return Some(problem),
    };
    let parts: Vec<&str> = pattern.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" {
        return Some("an ARN has six fields separated by colons, starting with arn".to_owned());
    }
    if parts[1] != "aws" {
        return Some(format!("the partition must be aws, found \"{}\"", parts[1]));
    }
    if parts[2] != "s3" {
        return Some(format!("the service must be s3, found \"{}\"", parts[2]));
    }
    if !parts[3].is_empty() || !parts[4].is_empty() {
        return Some("S3 bucket and object ARNs have empty region and account fields".to_owned());
    }
    let resource = parts[5];
    let bucket = resource.split('/').next().unwrap_or_default();
    bucket_problem(bucket)
}

/// Validates the policy variables of a pattern and returns the pattern with each `${...}`
/// replaced by `*`, which has the same effect on the checks of the ARN's form.
fn variables_as_wildcards(pattern: &str) -> Result<Cow<'_, str>, String> {
    if !template::has_variables(pattern) {
        return Ok(Cow::Borrowed(pattern));
    }
    template::parse(pattern, TextMode::Glob)?;
    let mut shape = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        shape.push_str(&rest[..start]);
        shape.push('*');
        let end = rest[start..]
            .find('}')
            .map_or(rest.len(), |end| start + end + 1);
        rest = &rest[end..];
    }
    shape.push_str(rest);
    Ok(Cow::Owned(shape))
}

/// Checks a bucket name, or a bucket pattern with wildcards, against the S3 naming rules:
/// 3 to 63 characters of lowercase letters, digits, dots and hyphens, starting and ending with
/// a letter or digit.
fn bucket_problem(bucket: &str) -> Option<String> {
    if bucket.is_empty() {
        return Some("the bucket name is missing".to_owned());
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-');
    if let Some(bad) = bucket
        .chars()
        .find(|c| !allowed(*c) && !matches!(c, '*' | '?'))
    {
        return Some(format!(
            "bucket name \"{bucket}\" contains '{}', but bucket names contain only lowercase \
             letters, digits, dots and hyphens",
            bad.escape_debug()
        ));
    }
    if has_wildcard(bucket) {
        return None;
    }
    if !(3..=63).contains(&bucket.len()) {
        return Some(format!(
            "bucket name \"{bucket}\" has {} characters, but bucket names have 3 to 63",
            bucket.len()
        ));
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !edge_ok(bucket.chars().next()) || !edge_ok(bucket.chars().last()) {
        return Some(format!(
            "bucket name \"{bucket}\" must start and end with a lowercase letter or digit"
        ));
    }
    None
}
