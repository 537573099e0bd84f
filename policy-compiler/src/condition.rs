//! Conditions lowered to typed predicates for the decision table: strings interned once,
//! numbers, times, CIDR blocks and time zones parsed once, claim paths split once, so that
//! evaluating a condition does no parsing of policy values and, on the common path, no
//! allocation.

use std::borrow::Cow;
use std::net::IpAddr;

use ipnet::IpNet;
use jiff::tz::TimeZone;

use crate::clock::{ClockRange, parse_clock_range, parse_date_seconds, second_of_day};
use crate::document::{Comparison, Condition, ConditionKey, ConditionOperator, Quantifier};
use crate::glob::wildcard_match;
use crate::operator::OperatorFamily;
use crate::request::Request;
use crate::template::{self, Piece, Template, TextMode};

/// A compiled condition.
#[derive(Clone, Debug)]
pub(crate) struct Predicate {
    key: KeyReader,
    test: Test,
    quantifier: Quantifier,
    /// True for the `Not` operators, whose result is the negation of the positive test.
    negated: bool,
}

/// Where a key's value comes from, resolved at compile time.
#[derive(Clone, Debug)]
enum KeyReader {
    SourceIp,
    SecureTransport,
    CurrentTime,
    Mfa,
    Username,
    UserId,
    Tenant,
    Credential,
    UserAgent,
    Prefix,
    Delimiter,
    MaxKeys,
    Header(&'static str),
    Tag(Box<str>),
    Claim(Box<str>),
}

/// A request's value for a key.
enum Actual<'r> {
    Missing,
    Str(&'r str),
    Bool(bool),
    Ip(IpAddr),
    Seconds(i64),
    Json(&'r serde_json::Value),
}

/// One value of a possibly multi-valued [`Actual`].
#[derive(Clone, Copy)]
enum Scalar<'r> {
    Str(&'r str),
    Bool(bool),
    Ip(IpAddr),
    Seconds(i64),
    Number(&'r serde_json::Number),
}

#[derive(Clone, Debug)]
enum Test {
    String(Box<[StringMatcher]>),
    Number(Comparison, Box<[f64]>),
    Date(Comparison, Box<[i64]>),
    TimeOfDay(Box<[ClockRange]>, TimeZone),
    Ip(Box<[Network]>),
    Bool(Box<[bool]>),
    /// `Null`: holds when the key's absence equals the flag.
    Null(bool),
}

/// One listed value of a string operator.
#[derive(Clone, Debug)]
enum StringMatcher {
    Exact(Box<str>),
    Like(Box<str>),
    Contains(Box<str>),
    /// A value with policy variables; the template encodes the operator.
    Template(Template),
}

impl StringMatcher {
    fn compile(operator: ConditionOperator, value: &str) -> StringMatcher {
        if template::has_variables(value) {
            let mode = match operator {
                ConditionOperator::StringLike | ConditionOperator::StringNotLike => TextMode::Glob,
                _ => TextMode::Literal,
            };
            let mut pieces =
                template::parse(value, mode).expect("the parser validated every variable");
            if operator == ConditionOperator::StringContains {
                pieces.insert(0, Piece::Glob(Box::from("*")));
                pieces.push(Piece::Glob(Box::from("*")));
            }
            return StringMatcher::Template(Template::new(pieces));
        }
        let value = Box::from(value);
        match operator {
            ConditionOperator::StringLike | ConditionOperator::StringNotLike => {
                StringMatcher::Like(value)
            }
            ConditionOperator::StringContains => StringMatcher::Contains(value),
            _ => StringMatcher::Exact(value),
        }
    }

    fn matches(&self, actual: &str, request: &Request<'_>) -> bool {
        match self {
            StringMatcher::Exact(value) => **value == *actual,
            StringMatcher::Like(pattern) => wildcard_match(pattern, actual),
            StringMatcher::Contains(value) => actual.contains(&**value),
            StringMatcher::Template(template) => template.matches(actual, request.principal),
        }
    }
}

impl KeyReader {
    fn new(key: &ConditionKey) -> KeyReader {
        match key {
            ConditionKey::SourceIp => KeyReader::SourceIp,
            ConditionKey::SecureTransport => KeyReader::SecureTransport,
            ConditionKey::CurrentTime | ConditionKey::EpochTime => KeyReader::CurrentTime,
            ConditionKey::MultiFactorAuthPresent | ConditionKey::Mfa => KeyReader::Mfa,
            ConditionKey::Username => KeyReader::Username,
            ConditionKey::UserId => KeyReader::UserId,
            ConditionKey::Tenant => KeyReader::Tenant,
            ConditionKey::Credential => KeyReader::Credential,
            ConditionKey::UserAgent => KeyReader::UserAgent,
            ConditionKey::S3Prefix => KeyReader::Prefix,
            ConditionKey::S3Delimiter => KeyReader::Delimiter,
            ConditionKey::S3MaxKeys => KeyReader::MaxKeys,
            ConditionKey::S3Header(header) => KeyReader::Header(header.header),
            ConditionKey::PrincipalTag(name) => KeyReader::Tag(Box::from(name.as_str())),
            ConditionKey::Jwt(path) | ConditionKey::Custom(path) => {
                KeyReader::Claim(Box::from(path.as_str()))
            }
        }
    }

    fn read<'r>(&self, request: &Request<'r>) -> Actual<'r> {
        let principal = request.principal;
        let context = request.context;
        let optional = |value: Option<&'r str>| value.map_or(Actual::Missing, Actual::Str);
        match self {
            KeyReader::SourceIp => context.source_ip.map_or(Actual::Missing, |address| {
                Actual::Ip(address.to_canonical())
            }),
            KeyReader::SecureTransport => Actual::Bool(context.secure_transport),
            KeyReader::CurrentTime => Actual::Seconds(context.current_time_unix),
            KeyReader::Mfa => Actual::Bool(principal.mfa),
            KeyReader::Username => Actual::Str(&principal.username),
            KeyReader::UserId => Actual::Str(&principal.user_id),
            KeyReader::Tenant => Actual::Str(&principal.tenant),
            KeyReader::Credential => Actual::Str(principal.credential.as_str()),
            KeyReader::UserAgent => optional(context.user_agent),
            KeyReader::Prefix => optional(context.prefix),
            KeyReader::Delimiter => optional(context.delimiter),
            KeyReader::MaxKeys => optional(context.max_keys),
            KeyReader::Header(name) => optional(context.header(name)),
            KeyReader::Tag(name) => optional(principal.tag(name)),
            KeyReader::Claim(path) => match claim_at(&principal.claims, path) {
                None | Some(serde_json::Value::Null) => Actual::Missing,
                Some(value) => Actual::Json(value),
            },
        }
    }
}

/// Finds a claim by path: the whole path as one claim name first, for namespaced claims whose
/// names contain dots, then claim names separated by dots, through nested objects.
pub(crate) fn claim_at<'c>(
    claims: &'c serde_json::Value,
    path: &str,
) -> Option<&'c serde_json::Value> {
    let object = claims.as_object()?;
    if let Some(value) = object.get(path) {
        return Some(value);
    }
    let mut current = claims;
    for segment in path.split('.') {
        current = current.as_object()?.get(segment)?;
    }
    Some(current)
}

impl<'r> Actual<'r> {
    /// Returns true when `test` holds for at least one of the values. A JSON list counts as
    /// its items, and JSON objects and nulls inside it as no value.
    fn any(&self, mut test: impl FnMut(Scalar<'r>) -> bool) -> bool {
        match *self {
            Actual::Missing => false,
            Actual::Str(text) => test(Scalar::Str(text)),
            Actual::Bool(value) => test(Scalar::Bool(value)),
            Actual::Ip(address) => test(Scalar::Ip(address)),
            Actual::Seconds(seconds) => test(Scalar::Seconds(seconds)),
            Actual::Json(serde_json::Value::Array(items)) => {
                items.iter().filter_map(json_scalar).any(test)
            }
            Actual::Json(value) => json_scalar(value).is_some_and(test),
        }
    }
}

fn json_scalar(value: &serde_json::Value) -> Option<Scalar<'_>> {
    match value {
        serde_json::Value::String(text) => Some(Scalar::Str(text)),
        serde_json::Value::Bool(flag) => Some(Scalar::Bool(*flag)),
        serde_json::Value::Number(number) => Some(Scalar::Number(number)),
        _ => None,
    }
}

impl<'r> Scalar<'r> {
    fn as_text(self) -> Cow<'r, str> {
        match self {
            Scalar::Str(text) => Cow::Borrowed(text),
            Scalar::Bool(true) => Cow::Borrowed("true"),
            Scalar::Bool(false) => Cow::Borrowed("false"),
            Scalar::Ip(address) => Cow::Owned(address.to_string()),
            Scalar::Seconds(seconds) => Cow::Owned(seconds.to_string()),
            Scalar::Number(number) => Cow::Owned(number.to_string()),
        }
    }

    fn as_number(self) -> Option<f64> {
        match self {
            Scalar::Str(text) => text.trim().parse().ok(),
            Scalar::Number(number) => number.as_f64(),
            Scalar::Seconds(seconds) => Some(seconds as f64),
            Scalar::Bool(_) | Scalar::Ip(_) => None,
        }
    }

    fn as_seconds(self) -> Option<i64> {
        match self {
            Scalar::Seconds(seconds) => Some(seconds),
            Scalar::Number(number) => number
                .as_i64()
                .or_else(|| number.as_f64().map(|value| value.floor() as i64)),
            Scalar::Str(text) => parse_date_seconds(text),
            Scalar::Bool(_) | Scalar::Ip(_) => None,
        }
    }

    fn as_bool(self) -> Option<bool> {
        match self {
            Scalar::Bool(value) => Some(value),
            Scalar::Str(text) if text.eq_ignore_ascii_case("true") => Some(true),
            Scalar::Str(text) if text.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    fn as_ip(self) -> Option<IpAddr> {
        match self {
            Scalar::Ip(address) => Some(address),
            Scalar::Str(text) => text
                .trim()
                .parse::<IpAddr>()
                .ok()
                .map(|address| address.to_canonical()),
            _ => None,
        }
    }
}

impl Predicate {
    /// Compiles a validated condition.
    ///
    /// Returns `None` only if the condition was not validated by the parser, which checks that
    /// the key suits the operator and that every value parses.
    pub(crate) fn compile(condition: &Condition) -> Option<Predicate> {
        let operator = condition.operator;
        let values = &condition.values;
        let test = match operator.family() {
            OperatorFamily::String => Test::String(
                values
                    .iter()
                    .map(|value| StringMatcher::compile(operator, value))
                    .collect(),
            ),
            OperatorFamily::Numeric => Test::Number(
                operator.comparison()?,
                values
                    .iter()
                    .map(|value| value.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
                    .collect::<Option<_>>()?,
            ),
            OperatorFamily::Date => Test::Date(
                operator.comparison()?,
                values
                    .iter()
                    .map(|value| parse_date_seconds(value))
                    .collect::<Option<_>>()?,
            ),
            OperatorFamily::TimeOfDay => {
                let zone = match &condition.time_zone {
                    Some(name) => crate::clock::parse_time_zone(name)?,
                    None => TimeZone::UTC,
                };
                let ranges = values
                    .iter()
                    .map(|value| parse_clock_range(value))
                    .collect::<Option<_>>()?;
                Test::TimeOfDay(ranges, zone)
            }
            OperatorFamily::IpAddress => Test::Ip(
                values
                    .iter()
                    .map(|value| parse_network(value).map(Network::from))
                    .collect::<Option<_>>()?,
            ),
            OperatorFamily::Bool => Test::Bool(
                values
                    .iter()
                    .map(|value| value.parse::<bool>().ok())
                    .collect::<Option<_>>()?,
            ),
            OperatorFamily::Null => Test::Null(values.first()?.parse::<bool>().ok()?),
        };
        Some(Predicate {
            key: KeyReader::new(&condition.key),
            test,
            quantifier: condition.quantifier,
            negated: operator.is_negated(),
        })
    }

    /// Returns true when the condition holds for `request`.
    ///
    /// A missing key makes the positive test false, so a negated operator then holds, as IAM
    /// evaluates a missing key.
    pub(crate) fn holds(&self, request: &Request<'_>) -> bool {
        let actual = self.key.read(request);
        let positive = match &self.test {
            Test::Null(absent) => return matches!(actual, Actual::Missing) == *absent,
            Test::String(matchers) => self.quantify(matchers, |matcher| {
                actual.any(|scalar| matcher.matches(&scalar.as_text(), request))
            }),
            Test::Number(comparison, expected) => self.quantify(expected, |expected| {
                actual.any(|scalar| {
                    scalar
                        .as_number()
                        .is_some_and(|value| comparison.holds(value, *expected))
                })
            }),
            Test::Date(comparison, expected) => self.quantify(expected, |expected| {
                actual.any(|scalar| {
                    scalar
                        .as_seconds()
                        .is_some_and(|value| comparison.holds(value, *expected))
                })
            }),
            Test::TimeOfDay(ranges, zone) => self.quantify(ranges, |range| {
                actual.any(|scalar| {
                    scalar
                        .as_seconds()
                        .and_then(|seconds| second_of_day(zone, seconds))
                        .is_some_and(|second| range.contains(second))
                })
            }),
            Test::Ip(networks) => self.quantify(networks, |network| {
                actual.any(|scalar| scalar.as_ip().is_some_and(|ip| network.contains(ip)))
            }),
            Test::Bool(expected) => self.quantify(expected, |expected| {
                actual.any(|scalar| scalar.as_bool() == Some(*expected))
            }),
        };
        positive != self.negated
    }

    fn quantify<T>(&self, values: &[T], mut matches: impl FnMut(&T) -> bool) -> bool {
        match self.quantifier {
            Quantifier::Any => values.iter().any(&mut matches),
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
