//! The reference interpreter: a direct reading of the policy semantics over parsed documents,
//! with no index and no precomputation, and the per-policy trace that `explain` prints.
//!
//! It is slow on purpose. Tests compare it with [`crate::DecisionTable::evaluate`] on many
//! generated policy sets and requests, so it shares no matching code with the table: it reads
//! every request value as text, parses policy values on every call, substitutes policy
//! variables into a token list, and matches wildcards with its own dynamic-programming
//! matcher.

use std::net::IpAddr;
use std::sync::Arc;

use jiff::Timestamp;

use crate::clock::{parse_clock_range, parse_date_seconds, parse_time_zone};
use crate::decision::{Decision, Match, combine};
use crate::diagnostic::Position;
use crate::document::{
    Condition, ConditionKey, ConditionOperator, Effect, Mode, OperatorFamily, Policy,
    PolicyDocument, PrincipalSelector, PrincipalType, Quantifier,
};
use crate::request::{Principal, Request};

/// Decides `request` against every policy of `documents`, in document order.
pub fn evaluate(documents: &[PolicyDocument], request: &Request<'_>) -> Decision {
    combine(
        documents
            .iter()
            .flat_map(|document| &document.policies)
            .filter(|policy| policy_matches(policy, request))
            .map(|policy| Match {
                id: &policy.id,
                effect: policy.effect,
                dry_run: policy.mode == Mode::DryRun,
                audit: policy.audit,
            }),
    )
}

/// Returns true when every part of `policy` matches `request`.
pub fn policy_matches(policy: &Policy, request: &Request<'_>) -> bool {
    trace_policy(policy, request).matched()
}

/// How one policy fared against a request, part by part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyTrace {
    /// The policy's id.
    pub id: Arc<str>,
    /// The file that defines it.
    pub file: Arc<str>,
    /// Where it starts in that file.
    pub position: Position,
    /// Allow or Deny.
    pub effect: Effect,
    /// Enforce or dry-run.
    pub mode: Mode,
    /// Whether a principal selector matches the caller.
    pub principal: bool,
    /// Whether an action pattern matches the action.
    pub action: bool,
    /// Whether a resource pattern matches the resource.
    pub resource: bool,
    /// Each condition, in policy order, and whether it holds.
    pub conditions: Vec<ConditionTrace>,
}

/// One condition of a [`PolicyTrace`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionTrace {
    /// Where the condition is written.
    pub position: Position,
    /// The operator and key, such as `StringEquals aws:username`.
    pub summary: String,
    /// Whether it holds for the request.
    pub holds: bool,
}

impl PolicyTrace {
    /// Returns true when every part matched and every condition holds.
    pub fn matched(&self) -> bool {
        self.principal
            && self.action
            && self.resource
            && self.conditions.iter().all(|condition| condition.holds)
    }
}

/// Traces every policy of `documents` against `request`, in document order.
pub fn explain(documents: &[PolicyDocument], request: &Request<'_>) -> Vec<PolicyTrace> {
    documents
        .iter()
        .flat_map(|document| {
            document.policies.iter().map(move |policy| PolicyTrace {
                file: Arc::clone(&document.file),
                ..trace_policy(policy, request)
            })
        })
        .collect()
}

fn trace_policy(policy: &Policy, request: &Request<'_>) -> PolicyTrace {
    let principal = policy
        .principals
        .iter()
        .any(|selector| selector_matches(selector, request));
    let action_name = request.action.name().to_ascii_lowercase();
    let action = policy.actions.iter().any(|pattern| {
        let tokens = literal_tokens(&pattern.pattern.to_ascii_lowercase(), true);
        tokens_match(&tokens, &action_name)
    });
    let resource = policy.resources.iter().any(|pattern| {
        expand(&pattern.pattern, true, request.principal)
            .is_some_and(|tokens| tokens_match(&tokens, request.resource))
    });
    let conditions = policy
        .conditions
        .iter()
        .map(|condition| ConditionTrace {
            position: condition.position,
            summary: format!("{} {}", condition.operator.as_str(), condition.key),
            holds: condition_holds(condition, request),
        })
        .collect();
    PolicyTrace {
        id: Arc::clone(&policy.id),
        file: Arc::from(""),
        position: policy.position,
        effect: policy.effect,
        mode: policy.mode,
        principal,
        action,
        resource,
        conditions,
    }
}

fn selector_matches(selector: &PrincipalSelector, request: &Request<'_>) -> bool {
    let principal = request.principal;
    let named = |value: &str| selector.values.iter().any(|listed| listed == value);
    match selector.principal_type {
        PrincipalType::Any => true,
        PrincipalType::User => named(&principal.user_id),
        PrincipalType::ServiceAccount => principal.service_account && named(&principal.user_id),
        PrincipalType::Tenant => named(&principal.tenant),
        PrincipalType::Role => principal.roles.iter().any(|role| named(role)),
        PrincipalType::Group => principal.groups.iter().any(|group| named(group)),
    }
}

/// One request value as text, with whether it was a JSON number, which the `Date` operators
/// read as seconds even with a fraction.
struct Text {
    text: String,
    json_number: bool,
}

fn text(value: impl ToString) -> Text {
    Text {
        text: value.to_string(),
        json_number: false,
    }
}

/// Returns the request's values for `key`, or `None` when the request has none.
fn request_values(key: &ConditionKey, request: &Request<'_>) -> Option<Vec<Text>> {
    let principal = request.principal;
    let context = request.context;
    let one = |value: Option<&str>| value.map(|value| vec![text(value)]);
    match key {
        ConditionKey::SourceIp => context
            .source_ip
            .map(|address| vec![text(address.to_canonical())]),
        ConditionKey::SecureTransport => Some(vec![text(context.secure_transport)]),
        ConditionKey::CurrentTime | ConditionKey::EpochTime => {
            Some(vec![text(context.current_time_unix)])
        }
        ConditionKey::MultiFactorAuthPresent | ConditionKey::Mfa => Some(vec![text(principal.mfa)]),
        ConditionKey::Username => Some(vec![text(&principal.username)]),
        ConditionKey::UserId => Some(vec![text(&principal.user_id)]),
        ConditionKey::Tenant => Some(vec![text(&principal.tenant)]),
        ConditionKey::Credential => Some(vec![text(principal.credential.as_str())]),
        ConditionKey::UserAgent => one(context.user_agent),
        ConditionKey::S3Prefix => one(context.prefix),
        ConditionKey::S3Delimiter => one(context.delimiter),
        ConditionKey::S3MaxKeys => one(context.max_keys),
        ConditionKey::S3Header(header) => one(context
            .headers
            .iter()
            .find(|(name, _)| name.to_ascii_lowercase() == header.header)
            .map(|(_, value)| *value)),
        ConditionKey::PrincipalTag(name) => one(tag_value(principal, name)),
        ConditionKey::Jwt(path) | ConditionKey::Custom(path) => {
            claim_texts(lookup_claim(&principal.claims, path.as_str())?)
        }
    }
}

fn tag_value<'p>(principal: &'p Principal, name: &str) -> Option<&'p str> {
    let name = name.to_ascii_lowercase();
    principal
        .tags
        .iter()
        .find(|(tag, _)| tag.to_ascii_lowercase() == name)
        .map(|(_, value)| value.as_str())
}

fn lookup_claim<'c>(claims: &'c serde_json::Value, path: &str) -> Option<&'c serde_json::Value> {
    let serde_json::Value::Object(top) = claims else {
        return None;
    };
    if let Some(whole) = top.get(path) {
        return Some(whole);
    }
    let segments: Vec<&str> = path.split('.').collect();
    let mut current = claims;
    for segment in segments {
        let serde_json::Value::Object(object) = current else {
            return None;
        };
        current = object.get(segment)?;
    }
    Some(current)
}

/// Turns a claim into request values: a list into its scalar items, a scalar into itself, an
/// object into no values (but present), and null into absent.
fn claim_texts(claim: &serde_json::Value) -> Option<Vec<Text>> {
    let scalar = |value: &serde_json::Value| match value {
        serde_json::Value::String(string) => Some(text(string)),
        serde_json::Value::Bool(flag) => Some(text(flag)),
        serde_json::Value::Number(number) => Some(Text {
            text: number.to_string(),
            json_number: true,
        }),
        _ => None,
    };
    match claim {
        serde_json::Value::Null => None,
        serde_json::Value::Array(items) => Some(items.iter().filter_map(scalar).collect()),
        other => Some(scalar(other).into_iter().collect()),
    }
}

fn condition_holds(condition: &Condition, request: &Request<'_>) -> bool {
    let actual = request_values(&condition.key, request);
    if condition.operator == ConditionOperator::Null {
        let expect_absent = condition.values[0] == "true";
        return actual.is_none() == expect_absent;
    }
    let actual = actual.unwrap_or_default();
    let matches_value = |expected: &String| -> bool {
        actual
            .iter()
            .any(|value| value_matches(condition, expected, value, request.principal))
    };
    let positive = match condition.quantifier {
        Quantifier::Any => condition.values.iter().any(matches_value),
        Quantifier::All => condition.values.iter().all(matches_value),
    };
    if condition.operator.is_negated() {
        !positive
    } else {
        positive
    }
}

/// Applies the positive form of the condition's operator to one listed value and one request
/// value.
fn value_matches(
    condition: &Condition,
    expected: &str,
    actual: &Text,
    principal: &Principal,
) -> bool {
    let operator = condition.operator;
    match operator.family() {
        OperatorFamily::String => string_matches(operator, expected, &actual.text, principal),
        OperatorFamily::Numeric => {
            let (Ok(actual), Ok(expected)) = (
                actual.text.trim().parse::<f64>(),
                expected.trim().parse::<f64>(),
            ) else {
                return false;
            };
            ordered(operator, actual, expected)
        }
        OperatorFamily::Date => {
            let (Some(actual), Some(expected)) = (seconds_of(actual), parse_date_seconds(expected))
            else {
                return false;
            };
            ordered(operator, actual, expected)
        }
        OperatorFamily::TimeOfDay => {
            time_of_day_matches(condition.time_zone.as_deref(), expected, actual)
        }
        OperatorFamily::IpAddress => actual
            .text
            .trim()
            .parse::<IpAddr>()
            .is_ok_and(|address| address_in_block(address, expected)),
        OperatorFamily::Bool => actual.text.eq_ignore_ascii_case(expected),
        OperatorFamily::Null => false,
    }
}

fn seconds_of(actual: &Text) -> Option<i64> {
    if actual.json_number {
        if let Ok(whole) = actual.text.parse::<i64>() {
            return Some(whole);
        }
        return actual
            .text
            .parse::<f64>()
            .ok()
            .map(|value| value.floor() as i64);
    }
    parse_date_seconds(&actual.text)
}

fn ordered<T: PartialOrd>(operator: ConditionOperator, actual: T, expected: T) -> bool {
    use ConditionOperator as O;
    match operator {
        O::NumericEquals | O::NumericNotEquals | O::DateEquals | O::DateNotEquals => {
            actual == expected
        }
        O::NumericLessThan | O::DateLessThan => actual < expected,
        O::NumericLessThanEquals | O::DateLessThanEquals => actual <= expected,
        O::NumericGreaterThan | O::DateGreaterThan => actual > expected,
        O::NumericGreaterThanEquals | O::DateGreaterThanEquals => actual >= expected,
        _ => false,
    }
}

fn time_of_day_matches(zone: Option<&str>, expected: &str, actual: &Text) -> bool {
    let (Some(seconds), Some(range)) = (seconds_of(actual), parse_clock_range(expected)) else {
        return false;
    };
    let Some(zone) = parse_time_zone(zone.unwrap_or("UTC")) else {
        return false;
    };
    let Ok(timestamp) = Timestamp::from_second(seconds) else {
        return false;
    };
    let clock = timestamp.to_zoned(zone).time();
    let second = i64::from(clock.hour()) * 3_600
        + i64::from(clock.minute()) * 60
        + i64::from(clock.second());
    let (start, end) = (i64::from(range.start), i64::from(range.end));
    if start < end {
        start <= second && second < end
    } else {
        !(end <= second && second < start)
    }
}

fn string_matches(
    operator: ConditionOperator,
    expected: &str,
    actual: &str,
    principal: &Principal,
) -> bool {
    let like = matches!(
        operator,
        ConditionOperator::StringLike | ConditionOperator::StringNotLike
    );
    let Some(tokens) = expand(expected, like, principal) else {
        return false;
    };
    if like {
        return tokens_match(&tokens, actual);
    }
    let literal: String = tokens
        .iter()
        .map(|token| match token {
            Token::Char(c) => *c,
            Token::AnyRun => '*',
            Token::OneChar => '?',
        })
        .collect();
    match operator {
        ConditionOperator::StringContains => actual.contains(&literal),
        _ => actual == literal,
    }
}

/// One symbol of a pattern after variable substitution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    AnyRun,
    OneChar,
    Char(char),
}

fn literal_tokens(text: &str, wildcards: bool) -> Vec<Token> {
    text.chars()
        .map(|c| match c {
            '*' if wildcards => Token::AnyRun,
            '?' if wildcards => Token::OneChar,
            other => Token::Char(other),
        })
        .collect()
}

/// Substitutes the policy variables of `pattern`, returning `None` when the principal has no
/// value for one of them. Substituted text is literal, whatever characters it contains.
fn expand(pattern: &str, wildcards: bool, principal: &Principal) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        tokens.extend(literal_tokens(&rest[..start], wildcards));
        let close = rest[start..].find('}')? + start;
        let name = &rest[start + 2..close];
        let value = match name {
            "*" | "?" | "$" => name.to_owned(),
            _ => variable_value(&ConditionKey::parse(name).ok()?, principal)?,
        };
        tokens.extend(value.chars().map(Token::Char));
        rest = &rest[close + 1..];
    }
    tokens.extend(literal_tokens(rest, wildcards));
    Some(tokens)
}

fn variable_value(key: &ConditionKey, principal: &Principal) -> Option<String> {
    match key {
        ConditionKey::Username => Some(principal.username.clone()),
        ConditionKey::UserId => Some(principal.user_id.clone()),
        ConditionKey::Tenant => Some(principal.tenant.clone()),
        ConditionKey::PrincipalTag(name) => tag_value(principal, name).map(str::to_owned),
        ConditionKey::Jwt(path) | ConditionKey::Custom(path) => {
            match lookup_claim(&principal.claims, path.as_str())? {
                serde_json::Value::String(value) => Some(value.clone()),
                _ => None,
            }
        }
        _ => None,
    }
}

fn address_in_block(address: IpAddr, block: &str) -> bool {
    let address = address.to_canonical();
    let (network, prefix_len) = match block.split_once('/') {
        Some((network, prefix_len)) => (network, prefix_len.parse::<u32>().ok()),
        None => (block, None),
    };
    let Ok(network) = network.parse::<IpAddr>() else {
        return false;
    };
    match (address, network) {
        (IpAddr::V4(address), IpAddr::V4(network)) => {
            let bits = prefix_len.unwrap_or(32).min(32);
            masked(u128::from(address.to_bits()), bits, 32)
                == masked(u128::from(network.to_bits()), bits, 32)
        }
        (IpAddr::V6(address), IpAddr::V6(network)) => {
            let bits = prefix_len.unwrap_or(128).min(128);
            masked(address.to_bits(), bits, 128) == masked(network.to_bits(), bits, 128)
        }
        _ => false,
    }
}

/// Keeps the top `bits` bits of a `width`-bit address.
fn masked(value: u128, bits: u32, width: u32) -> u128 {
    if bits == 0 {
        return 0;
    }
    value >> (width - bits)
}

/// Matches tokens by dynamic programming over characters: `matched[j]` is true when the
/// pattern read so far matches the first `j` characters of the text.
fn tokens_match(tokens: &[Token], text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let mut matched = vec![false; text.len() + 1];
    matched[0] = true;
    for token in tokens {
        let mut next = vec![false; text.len() + 1];
        for j in 0..=text.len() {
            next[j] = match token {
                Token::AnyRun => matched[j] || (j > 0 && next[j - 1]),
                Token::OneChar => j > 0 && matched[j - 1],
                Token::Char(literal) => j > 0 && matched[j - 1] && text[j - 1] == *literal,
            };
        }
        matched = next;
    }
    matched[text.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wildcard_matches(pattern: &str, text: &str) -> bool {
        tokens_match(&literal_tokens(pattern, true), text)
    }

    #[test]
    fn dynamic_wildcard_basics() {
        assert!(wildcard_matches("a*c", "abbbc"));
        assert!(wildcard_matches("*", ""));
        assert!(!wildcard_matches("a?c", "ac"));
        assert!(wildcard_matches("a/*/c", "a/x/y/c"));
    }

    #[test]
    fn ipv4_block_membership() {
        let address: IpAddr = "10.20.30.40".parse().unwrap();
        assert!(address_in_block(address, "10.20.0.0/16"));
        assert!(!address_in_block(address, "10.21.0.0/16"));
        assert!(address_in_block(address, "0.0.0.0/0"));
        assert!(address_in_block(address, "10.20.30.40"));
    }

    #[test]
    fn mapped_ipv6_compared_as_ipv4() {
        let address: IpAddr = "::ffff:10.20.30.40".parse().unwrap();
        assert!(address_in_block(address, "10.20.0.0/16"));
    }

    #[test]
    fn ipv6_block_membership() {
        let address: IpAddr = "2001:db8::1".parse().unwrap();
        assert!(address_in_block(address, "2001:db8::/32"));
        assert!(!address_in_block(address, "2001:db9::/32"));
    }

    #[test]
    fn expanded_variable_is_literal() {
        let principal = Principal {
            username: "*".to_owned(),
            ..Principal::default()
        };
        let tokens = expand("home/${aws:username}", true, &principal).unwrap();
        assert!(tokens_match(&tokens, "home/*"));
        assert!(!tokens_match(&tokens, "home/x"));
    }

    #[test]
    fn nested_claim_found() {
        let claims = serde_json::json!({"realm_access": {"roles": ["a", "b"]}});
        let found = lookup_claim(&claims, "realm_access.roles").unwrap();
        assert_eq!(found, &serde_json::json!(["a", "b"]));
    }
}
