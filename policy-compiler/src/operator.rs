//! Condition operators: the comparisons a condition can make, grouped into families by the
//! type of value they compare.

/// A condition operator, named `type` in policy documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConditionOperator {
    /// The key's value equals a listed string exactly.
    StringEquals,
    /// The negation of [`ConditionOperator::StringEquals`].
    StringNotEquals,
    /// The key's value matches a listed wildcard pattern (`*` and `?`), case-sensitively.
    StringLike,
    /// The negation of [`ConditionOperator::StringLike`].
    StringNotLike,
    /// The key's value contains a listed string.
    StringContains,
    /// The key's number equals a listed number.
    NumericEquals,
    /// The negation of [`ConditionOperator::NumericEquals`].
    NumericNotEquals,
    /// The key's number is less than a listed number.
    NumericLessThan,
    /// The key's number is less than or equal to a listed number.
    NumericLessThanEquals,
    /// The key's number is greater than a listed number.
    NumericGreaterThan,
    /// The key's number is greater than or equal to a listed number.
    NumericGreaterThanEquals,
    /// The key's time equals a listed time, to the second.
    DateEquals,
    /// The negation of [`ConditionOperator::DateEquals`].
    DateNotEquals,
    /// The key's time is before a listed time.
    DateLessThan,
    /// The key's time is before or at a listed time.
    DateLessThanEquals,
    /// The key's time is after a listed time.
    DateGreaterThan,
    /// The key's time is at or after a listed time.
    DateGreaterThanEquals,
    /// The key's time, read on the clock of the condition's time zone, lies in a listed range
    /// such as `07:00-19:00`.
    TimeOfDay,
    /// The key's IP address lies in a listed CIDR block.
    IpAddress,
    /// The negation of [`ConditionOperator::IpAddress`].
    NotIpAddress,
    /// The key's boolean equals the listed `true` or `false`.
    Bool,
    /// With `true`, the request has no value for the key; with `false`, it has one.
    Null,
}

/// The type of value an operator compares, which decides the keys it accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OperatorFamily {
    /// Strings.
    String,
    /// Numbers.
    Numeric,
    /// Points in time.
    Date,
    /// Clock times within a day.
    TimeOfDay,
    /// IP addresses.
    IpAddress,
    /// Booleans.
    Bool,
    /// The presence of a value, whatever its type.
    Null,
}

impl OperatorFamily {
    /// Returns a noun phrase for messages, such as "a number".
    pub fn noun(self) -> &'static str {
        match self {
            OperatorFamily::String => "a string",
            OperatorFamily::Numeric => "a number",
            OperatorFamily::Date => "a date and time",
            OperatorFamily::TimeOfDay => "a time of day",
            OperatorFamily::IpAddress => "an IP address",
            OperatorFamily::Bool => "a boolean",
            OperatorFamily::Null => "the presence of a value",
        }
    }
}

/// The ordering test of a `Numeric` or `Date` operator. The `NotEquals` operators are the
/// negation of [`Comparison::Equals`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Comparison {
    /// The key's value equals the listed value.
    Equals,
    /// The key's value is less than the listed value.
    LessThan,
    /// The key's value is less than or equal to the listed value.
    LessThanEquals,
    /// The key's value is greater than the listed value.
    GreaterThan,
    /// The key's value is greater than or equal to the listed value.
    GreaterThanEquals,
}

impl Comparison {
    /// Applies the comparison to `actual` (the request's value) and `expected` (the listed
    /// value).
    pub fn holds<T: PartialOrd>(self, actual: T, expected: T) -> bool {
        match self {
            Comparison::Equals => actual == expected,
            Comparison::LessThan => actual < expected,
            Comparison::LessThanEquals => actual <= expected,
            Comparison::GreaterThan => actual > expected,
            Comparison::GreaterThanEquals => actual >= expected,
        }
    }
}

/// Spellings accepted besides the canonical names: the original IronBucket schema wrote
/// `NumericLessThanOrEquals`, and the same form is accepted across both families.
const ALIASES: &[(&str, ConditionOperator)] = &[
    (
        "NumericLessThanOrEquals",
        ConditionOperator::NumericLessThanEquals,
    ),
    (
        "NumericGreaterThanOrEquals",
        ConditionOperator::NumericGreaterThanEquals,
    ),
    (
        "DateLessThanOrEquals",
        ConditionOperator::DateLessThanEquals,
    ),
    (
        "DateGreaterThanOrEquals",
        ConditionOperator::DateGreaterThanEquals,
    ),
];

impl ConditionOperator {
    /// Every implemented operator.
    pub const ALL: &'static [ConditionOperator] = &[
        ConditionOperator::StringEquals,
        ConditionOperator::StringNotEquals,
        ConditionOperator::StringLike,
        ConditionOperator::StringNotLike,
        ConditionOperator::StringContains,
        ConditionOperator::NumericEquals,
        ConditionOperator::NumericNotEquals,
        ConditionOperator::NumericLessThan,
        ConditionOperator::NumericLessThanEquals,
        ConditionOperator::NumericGreaterThan,
        ConditionOperator::NumericGreaterThanEquals,
        ConditionOperator::DateEquals,
        ConditionOperator::DateNotEquals,
        ConditionOperator::DateLessThan,
        ConditionOperator::DateLessThanEquals,
        ConditionOperator::DateGreaterThan,
        ConditionOperator::DateGreaterThanEquals,
        ConditionOperator::TimeOfDay,
        ConditionOperator::IpAddress,
        ConditionOperator::NotIpAddress,
        ConditionOperator::Bool,
        ConditionOperator::Null,
    ];

    /// Finds an operator by name, in any ASCII case, including the `OrEquals` spellings.
    pub fn from_name(name: &str) -> Option<ConditionOperator> {
        ConditionOperator::ALL
            .iter()
            .copied()
            .find(|operator| name.eq_ignore_ascii_case(operator.as_str()))
            .or_else(|| {
                ALIASES
                    .iter()
                    .find(|(alias, _)| name.eq_ignore_ascii_case(alias))
                    .map(|(_, operator)| *operator)
            })
    }

    /// Returns the canonical spelling used in policy documents.
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionOperator::StringEquals => "StringEquals",
            ConditionOperator::StringNotEquals => "StringNotEquals",
            ConditionOperator::StringLike => "StringLike",
            ConditionOperator::StringNotLike => "StringNotLike",
            ConditionOperator::StringContains => "StringContains",
            ConditionOperator::NumericEquals => "NumericEquals",
            ConditionOperator::NumericNotEquals => "NumericNotEquals",
            ConditionOperator::NumericLessThan => "NumericLessThan",
            ConditionOperator::NumericLessThanEquals => "NumericLessThanEquals",
            ConditionOperator::NumericGreaterThan => "NumericGreaterThan",
            ConditionOperator::NumericGreaterThanEquals => "NumericGreaterThanEquals",
            ConditionOperator::DateEquals => "DateEquals",
            ConditionOperator::DateNotEquals => "DateNotEquals",
            ConditionOperator::DateLessThan => "DateLessThan",
            ConditionOperator::DateLessThanEquals => "DateLessThanEquals",
            ConditionOperator::DateGreaterThan => "DateGreaterThan",
            ConditionOperator::DateGreaterThanEquals => "DateGreaterThanEquals",
            ConditionOperator::TimeOfDay => "TimeOfDay",
            ConditionOperator::IpAddress => "IpAddress",
            ConditionOperator::NotIpAddress => "NotIpAddress",
            ConditionOperator::Bool => "Bool",
            ConditionOperator::Null => "Null",
        }
    }

    /// Returns true for operators that hold exactly when their positive form does not.
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            ConditionOperator::StringNotEquals
                | ConditionOperator::StringNotLike
                | ConditionOperator::NumericNotEquals
                | ConditionOperator::DateNotEquals
                | ConditionOperator::NotIpAddress
        )
    }

    /// Returns the type of value the operator compares.
    pub fn family(self) -> OperatorFamily {
        use ConditionOperator as O;
        match self {
            O::StringEquals | O::StringNotEquals | O::StringLike | O::StringNotLike => {
                OperatorFamily::String
            }
            O::StringContains => OperatorFamily::String,
            O::NumericEquals
            | O::NumericNotEquals
            | O::NumericLessThan
            | O::NumericLessThanEquals
            | O::NumericGreaterThan
            | O::NumericGreaterThanEquals => OperatorFamily::Numeric,
            O::DateEquals
            | O::DateNotEquals
            | O::DateLessThan
            | O::DateLessThanEquals
            | O::DateGreaterThan
            | O::DateGreaterThanEquals => OperatorFamily::Date,
            O::TimeOfDay => OperatorFamily::TimeOfDay,
            O::IpAddress | O::NotIpAddress => OperatorFamily::IpAddress,
            O::Bool => OperatorFamily::Bool,
            O::Null => OperatorFamily::Null,
        }
    }

    /// Returns the ordering test of a `Numeric` or `Date` operator, and `None` for the other
    /// families.
    pub fn comparison(self) -> Option<Comparison> {
        use ConditionOperator as O;
        match self {
            O::NumericEquals | O::NumericNotEquals | O::DateEquals | O::DateNotEquals => {
                Some(Comparison::Equals)
            }
            O::NumericLessThan | O::DateLessThan => Some(Comparison::LessThan),
            O::NumericLessThanEquals | O::DateLessThanEquals => Some(Comparison::LessThanEquals),
            O::NumericGreaterThan | O::DateGreaterThan => Some(Comparison::GreaterThan),
            O::NumericGreaterThanEquals | O::DateGreaterThanEquals => {
                Some(Comparison::GreaterThanEquals)
            }
            _ => None,
        }
    }

    /// Returns the operators of one family, for messages that suggest a suitable one.
    pub fn of_family(family: OperatorFamily) -> impl Iterator<Item = ConditionOperator> {
        ConditionOperator::ALL
            .iter()
            .copied()
            .filter(move |operator| operator.family() == family)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn or_equals_alias_resolves() {
        assert_eq!(
            ConditionOperator::from_name("NumericLessThanOrEquals"),
            Some(ConditionOperator::NumericLessThanEquals)
        );
    }

    #[test]
    fn names_round_trip() {
        for operator in ConditionOperator::ALL {
            assert_eq!(
                ConditionOperator::from_name(operator.as_str()),
                Some(*operator)
            );
        }
    }

    #[test]
    fn lowercase_name_accepted() {
        assert_eq!(
            ConditionOperator::from_name("stringlike"),
            Some(ConditionOperator::StringLike)
        );
    }
}
