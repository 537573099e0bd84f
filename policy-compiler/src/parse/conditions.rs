//! Parsing of `conditions`: the operator, the key, the values checked for the operator's
//! type, the quantifier and the `TimeOfDay` time zone.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::clock::{parse_clock_range, parse_date_seconds, parse_time_zone};
use crate::diagnostic::Reporter;
use crate::document::{Condition, ConditionKey, ConditionOperator, OperatorFamily, Quantifier};
use crate::key::CREDENTIAL_KINDS;
use crate::suggest::did_you_mean;
use crate::template::{self, TextMode};
use crate::yaml::{Node, NodeKind};

use super::fields::{
    Fields, Item, expect_string, expect_string_list, report_wrong_type, scalar_text,
};

const CONDITION_FIELDS: &[&str] = &["type", "key", "values", "value", "operator", "timezone"];

/// Operators that AWS defines but IronBucket does not implement. They are rejected with their
/// own message, because ignoring a condition would widen an Allow.
const UNIMPLEMENTED_OPERATORS: &[&str] = &[
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "BinaryEquals",
];

/// Parses `conditions`: a list of condition mappings.
pub(super) fn conditions(
    reporter: &mut Reporter<'_>,
    node: &Node,
    context: &str,
) -> Option<Vec<Condition>> {
    let NodeKind::Sequence(items) = &node.kind else {
        report_wrong_type(
            reporter,
            node,
            "field \"conditions\"",
            "a list of conditions",
        );
        return None;
    };
    let parsed: Vec<Option<Condition>> = items
        .iter()
        .map(|item| condition(reporter, item, context))
        .collect();
    parsed.into_iter().collect()
}

fn condition(reporter: &mut Reporter<'_>, node: &Node, context: &str) -> Option<Condition> {
    let subject = &format!("a condition of {context}");
    let fields = Fields::read(reporter, node, CONDITION_FIELDS, subject)?;
    let operator_node = fields.require(reporter, "type", subject, "type: StringEquals");
    let key_node = fields.require(reporter, "key", subject, "key: aws:username");
    let operator = operator_node.and_then(|node| condition_operator(reporter, node));
    let key = key_node.and_then(|node| condition_key(reporter, node));
    let quantifier = match fields.get("operator") {
        Some(node) => quantifier(reporter, node),
        None => Some(Quantifier::Any),
    };
    let values_node = match (fields.get("values"), fields.get("value")) {
        (Some(values), None) => Some(values),
        (None, Some(value)) => Some(value),
        (Some(_), Some(value)) => {
            reporter.error(
                value.position,
                "a condition has either \"value\" or \"values\", not both; merge them into \
                 \"values\"",
            );
            None
        }
        (None, None) => {
            fields.require(reporter, "values", subject, "values: [alice]");
            None
        }
    };

    let (operator, key, quantifier) = (operator?, key?, quantifier?);
    let time_zone = time_zone(reporter, fields.get("timezone"), operator)?;
    if !key.accepts(operator.family()) {
        reporter.error(
            operator_node.map_or(fields.position, |node| node.position),
            family_mismatch(operator, &key),
        );
        return None;
    }
    let values = condition_values(reporter, values_node?, operator, &key)?;
    Some(Condition {
        operator,
        key,
        values,
        quantifier,
        time_zone,
        position: fields.position,
    })
}

fn family_mismatch(operator: ConditionOperator, key: &ConditionKey) -> String {
    let families = [
        OperatorFamily::String,
        OperatorFamily::Numeric,
        OperatorFamily::Date,
        OperatorFamily::TimeOfDay,
        OperatorFamily::IpAddress,
        OperatorFamily::Bool,
        OperatorFamily::Null,
    ];
    let suitable: Vec<&str> = families
        .into_iter()
        .filter(|family| key.accepts(*family))
        .flat_map(ConditionOperator::of_family)
        .map(ConditionOperator::as_str)
        .collect();
    format!(
        "condition type {} compares {}, which key {key} does not hold; use one of {} with \
         this key",
        operator.as_str(),
        operator.family().noun(),
        suitable.join(", ")
    )
}

fn time_zone(
    reporter: &mut Reporter<'_>,
    node: Option<&Node>,
    operator: ConditionOperator,
) -> Option<Option<String>> {
    let Some(node) = node else {
        return Some(None);
    };
    let name = expect_string(reporter, node, "timezone")?;
    if operator != ConditionOperator::TimeOfDay {
        reporter.error(
            node.position,
            format!(
                "field \"timezone\" applies to TimeOfDay conditions only, not to {}; remove it",
                operator.as_str()
            ),
        );
        return None;
    }
    if parse_time_zone(name).is_none() {
        reporter.error(
            node.position,
            format!(
                "unknown time zone \"{name}\"; use an IANA time zone name such as \
                 Europe/Berlin, America/New_York or UTC"
            ),
        );
        return None;
    }
    Some(Some(name.to_owned()))
}

fn condition_operator(reporter: &mut Reporter<'_>, node: &Node) -> Option<ConditionOperator> {
    // YAML reads a plain `Null` as the null value, so `type: Null` arrives as null; the word
    // written is what the author meant.
    if let NodeKind::Scalar(scalar) = &node.kind
        && scalar.value.eq_ignore_ascii_case("null")
    {
        return Some(ConditionOperator::Null);
    }
    let text = expect_string(reporter, node, "type")?;
    if let Some(found) = ConditionOperator::from_name(text) {
        return Some(found);
    }
    let message = if UNIMPLEMENTED_OPERATORS
        .iter()
        .any(|name| text.eq_ignore_ascii_case(name))
    {
        format!(
            "condition type \"{text}\" is not implemented; use StringEquals, StringLike or \
             another implemented type from docs/policies.md"
        )
    } else {
        let names = ConditionOperator::ALL
            .iter()
            .map(|operator| operator.as_str())
            .chain(UNIMPLEMENTED_OPERATORS.iter().copied());
        format!(
            "unknown condition type \"{text}\"; {}the types are the String, Numeric and Date \
             families, TimeOfDay, IpAddress, NotIpAddress, Bool and Null",
            did_you_mean(text, names)
        )
    };
    reporter.error(node.position, message);
    None
}

fn condition_key(reporter: &mut Reporter<'_>, node: &Node) -> Option<ConditionKey> {
    let text = expect_string(reporter, node, "key")?;
    match ConditionKey::parse(text) {
        Ok(key) => Some(key),
        Err(message) => {
            reporter.error(node.position, message);
            None
        }
    }
}

fn quantifier(reporter: &mut Reporter<'_>, node: &Node) -> Option<Quantifier> {
    let text = expect_string(reporter, node, "operator")?;
    if text.eq_ignore_ascii_case("any") {
        return Some(Quantifier::Any);
    }
    if text.eq_ignore_ascii_case("all") {
        return Some(Quantifier::All);
    }
    reporter.error(
        node.position,
        format!(
            "invalid condition operator \"{text}\"; use Any (at least one value matches) or All \
             (every value matches)"
        ),
    );
    None
}

fn condition_values(
    reporter: &mut Reporter<'_>,
    node: &Node,
    operator: ConditionOperator,
    key: &ConditionKey,
) -> Option<Vec<String>> {
    let items = condition_value_items(reporter, node)?;
    if items.is_empty() {
        reporter.error(
            node.position,
            "a condition needs at least one value; list the values to compare against",
        );
        return None;
    }
    if operator == ConditionOperator::Null && items.len() > 1 {
        reporter.error(
            node.position,
            "a Null condition takes one value, true (the key is absent) or false (the key is \
             present)",
        );
        return None;
    }
    let mut values = Vec::with_capacity(items.len());
    let mut valid = true;
    for item in &items {
        match normalize_condition_value(item.text, operator, key) {
            Ok(value) => values.push(value),
            Err(problem) => {
                reporter.error(item.position, problem);
                valid = false;
            }
        }
    }
    valid.then_some(values)
}

/// Reads condition values, which may be a single scalar or a list of scalars, including plain
/// booleans for `Bool` and plain numbers for the `Numeric` operators.
fn condition_value_items<'n>(reporter: &mut Reporter<'_>, node: &'n Node) -> Option<Vec<Item<'n>>> {
    if scalar_text(node).is_some() || matches!(node.kind, NodeKind::Sequence(_)) {
        return expect_string_list(reporter, node, "values");
    }
    report_wrong_type(
        reporter,
        node,
        "condition values",
        "a string or a list of strings",
    );
    None
}

fn normalize_condition_value(
    text: &str,
    operator: ConditionOperator,
    key: &ConditionKey,
) -> Result<String, String> {
    match operator.family() {
        OperatorFamily::String => string_value(text, operator, key),
        OperatorFamily::Bool | OperatorFamily::Null => {
            if text.eq_ignore_ascii_case("true") {
                Ok("true".to_owned())
            } else if text.eq_ignore_ascii_case("false") {
                Ok("false".to_owned())
            } else {
                Err(format!(
                    "invalid {} value \"{text}\"; use true or false",
                    operator.as_str()
                ))
            }
        }
        OperatorFamily::Numeric => match text.trim().parse::<f64>() {
            Ok(number) if number.is_finite() => Ok(text.trim().to_owned()),
            _ => Err(format!(
                "invalid number \"{text}\" for {}; write a decimal number such as 1000 or 2.5",
                operator.as_str()
            )),
        },
        OperatorFamily::Date => match parse_date_seconds(text) {
            Some(_) => Ok(text.trim().to_owned()),
            None => Err(format!(
                "invalid date \"{text}\" for {}; write an RFC 3339 time such as \
                 2026-01-31T18:00:00Z, a date such as 2026-01-31, or seconds since 1970",
                operator.as_str()
            )),
        },
        OperatorFamily::TimeOfDay => match parse_clock_range(text) {
            Some(_) => Ok(text.trim().to_owned()),
            None => Err(format!(
                "invalid time range \"{text}\" for TimeOfDay; write HH:MM-HH:MM with two-digit \
                 hours and minutes, such as 07:00-19:00 (22:00-06:00 wraps past midnight)"
            )),
        },
        OperatorFamily::IpAddress => {
            if text.parse::<IpNet>().is_ok() || text.parse::<IpAddr>().is_ok() {
                Ok(text.to_owned())
            } else {
                Err(format!(
                    "invalid IP address or CIDR block \"{text}\" for {}; write an address such \
                     as 192.0.2.7 or a block such as 10.0.0.0/8 or 2001:db8::/32",
                    operator.as_str()
                ))
            }
        }
    }
}

fn string_value(
    text: &str,
    operator: ConditionOperator,
    key: &ConditionKey,
) -> Result<String, String> {
    if template::has_variables(text) {
        let mode = match operator {
            ConditionOperator::StringLike | ConditionOperator::StringNotLike => TextMode::Glob,
            _ => TextMode::Literal,
        };
        template::parse(text, mode)?;
        return Ok(text.to_owned());
    }
    let exact = matches!(
        operator,
        ConditionOperator::StringEquals | ConditionOperator::StringNotEquals
    );
    if *key == ConditionKey::Credential && exact && !CREDENTIAL_KINDS.contains(&text) {
        return Err(format!(
            "invalid ib:credential value \"{text}\"; {}use one of {}",
            did_you_mean(text, CREDENTIAL_KINDS.iter().copied()),
            CREDENTIAL_KINDS.join(", ")
        ));
    }
    Ok(text.to_owned())
}
