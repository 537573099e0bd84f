//! Conditions lowered to typed predicates for the decision table: strings interned once, CIDR
//! blocks parsed once, booleans resolved, so that evaluating a condition does no parsing.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::document::{Condition, ConditionKey, ConditionOperator, Quantifier};
use crate::glob::wildcard_match;
use crate::request::Request;

/// A compiled condition.
#[derive(Clone, Debug)]
pub(crate) struct Predicate {
    test: Test,
    quantifier: Quantifier,
    /// True for the `Not` operators, whose result is the negation of the positive test.
    negated: bool,
}

#[derive(Clone, Debug)]
enum Test {
    StringEquals(StringKey, Box<[Box<str>]>),
    StringLike(StringKey, Box<[Box<str>]>),
    IpInNetwork(Box<[Network]>),
    SecureTransportIs(Box<[bool]>),
}

#[derive(Clone, Copy, Debug)]
enum StringKey {
    Username,
    UserId,
    Tenant,
}

impl StringKey {
    fn read<'r>(self, request: &'r Request<'_>) -> &'r str {
        match self {
            StringKey::Username => &request.principal.username,
            StringKey::UserId => &request.principal.user_id,
            StringKey::Tenant => &request.principal.tenant,
        }
    }
}

impl Predicate {
    /// Compiles a validated condition.
    ///
    /// Returns `None` only if the condition was not validated by the parser, which checks that
    /// the key suits the operator and that every value parses.
    pub(crate) fn compile(condition: &Condition) -> Option<Predicate> {
        let strings = || {
            condition
                .values
                .iter()
                .map(|value| Box::from(value.as_str()))
                .collect::<Box<[Box<str>]>>()
        };
        let string_key = match condition.key {
            ConditionKey::Username => Some(StringKey::Username),
            ConditionKey::UserId => Some(StringKey::UserId),
            ConditionKey::Tenant => Some(StringKey::Tenant),
            ConditionKey::SourceIp | ConditionKey::SecureTransport => None,
        };
        let test = match condition.operator {
            ConditionOperator::StringEquals | ConditionOperator::StringNotEquals => {
                Test::StringEquals(string_key?, strings())
            }
            ConditionOperator::StringLike => Test::StringLike(string_key?, strings()),
            ConditionOperator::IpAddress | ConditionOperator::NotIpAddress => {
                if condition.key != ConditionKey::SourceIp {
                    return None;
                }
                let networks: Option<Box<[Network]>> = condition
                    .values
                    .iter()
                    .map(|value| parse_network(value).map(Network::from))
                    .collect();
                Test::IpInNetwork(networks?)
            }
            ConditionOperator::Bool => {
                if condition.key != ConditionKey::SecureTransport {
                    return None;
                }
                let expected: Option<Box<[bool]>> = condition
                    .values
                    .iter()
                    .map(|value| value.parse::<bool>().ok())
                    .collect();
                Test::SecureTransportIs(expected?)
            }
        };
        Some(Predicate {
            test,
            quantifier: condition.quantifier,
            negated: condition.operator.is_negated(),
        })
    }

    /// Returns true when the condition holds for `request`.
    ///
    /// A missing key makes the positive test false, so a negated operator then holds, as IAM
    /// evaluates a missing key.
    pub(crate) fn holds(&self, request: &Request<'_>) -> bool {
        let positive = match &self.test {
            Test::StringEquals(key, values) => {
                let actual = key.read(request);
                self.quantify(values, |value| **value == *actual)
            }
            Test::StringLike(key, patterns) => {
                let actual = key.read(request);
                self.quantify(patterns, |pattern| wildcard_match(pattern, actual))
            }
            Test::IpInNetwork(networks) => match request.context.source_ip {
                Some(address) => {
                    let address = address.to_canonical();
                    self.quantify(networks, |network| network.contains(address))
                }
                None => false,
            },
            Test::SecureTransportIs(expected) => {
                let actual = request.context.secure_transport;
                self.quantify(expected, |value| *value == actual)
            }
        };
        positive != self.negated
    }

    fn quantify<T>(&self, values: &[T], matches: impl Fn(&T) -> bool) -> bool {
        match self.quantifier {
            Quantifier::Any => values.iter().any(matches),
            Quantifier::All => values.iter().all(matches),
        }
    }
}

/// A CIDR block as a masked base address, so that a membership test is one AND and one
/// comparison.
#[derive(Clone, Copy, Debug)]
enum Network {
    V4 { base: u32, mask: u32 },
    V6 { base: u128, mask: u128 },
}

impl From<IpNet> for Network {
    fn from(network: IpNet) -> Network {
        match network {
            IpNet::V4(network) => {
                let mask = network.netmask().to_bits();
                Network::V4 {
                    base: network.addr().to_bits() & mask,
                    mask,
                }
            }
            IpNet::V6(network) => {
                let mask = network.netmask().to_bits();
                Network::V6 {
                    base: network.addr().to_bits() & mask,
                    mask,
                }
            }
        }
    }
}

impl Network {
    fn contains(self, address: IpAddr) -> bool {
        match (self, address) {
            (Network::V4 { base, mask }, IpAddr::V4(address)) => address.to_bits() & mask == base,
            (Network::V6 { base, mask }, IpAddr::V6(address)) => address.to_bits() & mask == base,
            _ => false,
        }
    }
}

/// Parses a CIDR block, or a single address as a block of one address.
pub(crate) fn parse_network(text: &str) -> Option<IpNet> {
    if let Ok(network) = text.parse::<IpNet>() {
        return Some(network);
    }
    text.parse::<IpAddr>().ok().map(IpNet::from)
}
