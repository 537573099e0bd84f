//! The reference interpreter: a direct reading of the policy semantics over parsed documents,
//! with no index and no precomputation.
//!
//! It is slow on purpose. Tests compare it with [`crate::DecisionTable::evaluate`] on many
//! generated policy sets and requests, so it shares no matching code with the table: it
//! matches wildcards with its own dynamic-programming matcher and parses condition values on
//! every call.

use std::net::IpAddr;

use crate::decision::{Decision, Match, combine};
use crate::document::{
    Condition, ConditionKey, ConditionOperator, Mode, Policy, PolicyDocument, PrincipalSelector,
    PrincipalType, Quantifier,
};
use crate::request::Request;

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
    let principal_matches = policy
        .principals
        .iter()
        .any(|selector| selector_matches(selector, request));
    let action_name = request.action.name().to_ascii_lowercase();
    let action_matches = policy
        .actions
        .iter()
        .any(|pattern| wildcard_matches(&pattern.pattern.to_ascii_lowercase(), &action_name));
    let resource_matches = policy
        .resources
        .iter()
        .any(|pattern| wildcard_matches(&pattern.pattern, request.resource));
    let conditions_hold = policy
        .conditions
        .iter()
        .all(|condition| condition_holds(condition, request));
    principal_matches && action_matches && resource_matches && conditions_hold
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

fn condition_holds(condition: &Condition, request: &Request<'_>) -> bool {
    let principal = request.principal;
    let matches_value = |value: &String| -> bool {
        match condition.key {
            ConditionKey::Username => string_test(condition.operator, value, &principal.username),
            ConditionKey::UserId => string_test(condition.operator, value, &principal.user_id),
            ConditionKey::Tenant => string_test(condition.operator, value, &principal.tenant),
            ConditionKey::SourceIp => match request.context.source_ip {
                Some(address) => address_in_block(address, value),
                None => false,
            },
            ConditionKey::SecureTransport => {
                value.parse::<bool>().ok() == Some(request.context.secure_transport)
            }
        }
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

/// Applies the positive form of a string operator.
fn string_test(operator: ConditionOperator, expected: &str, actual: &str) -> bool {
    match operator {
        ConditionOperator::StringLike => wildcard_matches(expected, actual),
        _ => expected == actual,
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

/// Matches IAM wildcards by dynamic programming over characters: `matched[j]` is true when the
/// pattern read so far matches the first `j` characters of the text.
fn wildcard_matches(pattern: &str, text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let mut matched = vec![false; text.len() + 1];
    matched[0] = true;
    for symbol in pattern.chars() {
        let mut next = vec![false; text.len() + 1];
        for j in 0..=text.len() {
            next[j] = match symbol {
                '*' => matched[j] || (j > 0 && next[j - 1]),
                '?' => j > 0 && matched[j - 1],
                literal => j > 0 && matched[j - 1] && text[j - 1] == literal,
            };
        }
        matched = next;
    }
    matched[text.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
