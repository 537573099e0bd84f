//! `--assert` gates such as `get.p99<2ms`, `all.error_rate<1%` or `ironbucket:get.rate>=900`,
//! which set the exit code of a run.

use crate::error::LoadgenError;
use crate::stats::OpResult;
use crate::workload::Op;

/// A statistic that a gate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stat {
    /// Median response time.
    P50,
    /// 90th percentile response time.
    P90,
    /// 99th percentile response time.
    P99,
    /// 99.9th percentile response time.
    P999,
    /// Maximum response time.
    Max,
    /// Failed requests over all requests.
    ErrorRate,
    /// Successful requests per second.
    Rate,
}

impl Stat {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "p50" => Self::P50,
            "p90" => Self::P90,
            "p99" => Self::P99,
            "p999" => Self::P999,
            "max" => Self::Max,
            "error_rate" => Self::ErrorRate,
            "rate" => Self::Rate,
            _ => return None,
        })
    }

    fn is_latency(self) -> bool {
        matches!(
            self,
            Self::P50 | Self::P90 | Self::P99 | Self::P999 | Self::Max
        )
    }

    /// Reads the statistic from a result: microseconds for latencies, a fraction for the
    /// error rate and requests per second for the rate.
    pub fn read(self, result: &OpResult) -> f64 {
        let response = &result.response;
        match self {
            Self::P50 => response.p50_us,
            Self::P90 => response.p90_us,
            Self::P99 => response.p99_us,
            Self::P999 => response.p999_us,
            Self::Max => response.max_us,
            Self::ErrorRate => result.error_rate,
            Self::Rate => result.rate,
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Comparison {
    /// `<`
    #[serde(rename = "<")]
    Less,
    /// `<=`
    #[serde(rename = "<=")]
    LessOrEqual,
    /// `>`
    #[serde(rename = ">")]
    Greater,
    /// `>=`
    #[serde(rename = ">=")]
    GreaterOrEqual,
}

impl Comparison {
    fn holds(self, value: f64, limit: f64) -> bool {
        match self {
            Self::Less => value < limit,
            Self::LessOrEqual => value <= limit,
            Self::Greater => value > limit,
            Self::GreaterOrEqual => value >= limit,
        }
    }
}

/// One parsed `--assert` expression.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Gate {
    /// The expression as written.
    pub expression: String,
    /// Target the gate applies to; `None` applies it to every target.
    pub target: Option<String>,
    /// Operation, or `None` for `all`.
    pub op: Option<Op>,
    /// Statistic.
    pub stat: Stat,
    /// Operator.
    pub comparison: Comparison,
    /// Limit in the statistic's base unit (microseconds, fraction, or requests per second).
    pub limit: f64,
}

impl Gate {
    /// Parses `[TARGET:]OP.STAT<OP>VALUE[UNIT]`.
    pub fn parse(expression: &str) -> Result<Self, LoadgenError> {
        let invalid = |message: String| {
            LoadgenError::invalid("--assert", format!("{expression:?}: {message}"))
        };
        let text: String = expression.chars().filter(|c| !c.is_whitespace()).collect();
        let operator_at = text
            .find(['<', '>'])
            .ok_or_else(|| invalid("no comparison; write for example get.p99<2ms".to_owned()))?;
        let (subject, rest) = text.split_at(operator_at);
        let (comparison, value) = if let Some(value) = rest.strip_prefix("<=") {
            (Comparison::LessOrEqual, value)
        } else if let Some(value) = rest.strip_prefix(">=") {
            (Comparison::GreaterOrEqual, value)
        } else if let Some(value) = rest.strip_prefix('<') {
            (Comparison::Less, value)
        } else {
            (Comparison::Greater, &rest[1..])
        };
        let (target, subject) = match subject.split_once(':') {
            Some((target, subject)) => (Some(target.to_owned()), subject),
            None => (None, subject),
        };
        let (op_name, stat_name) = subject
            .split_once('.')
            .ok_or_else(|| invalid("subject must be OP.STAT, such as get.p99".to_owned()))?;
        let op = match op_name {
            "all" => None,
            name => Some(Op::parse(name).ok_or_else(|| {
                invalid(format!(
                    "unknown operation {name:?}; use get, put, head, list, delete, multipart or all"
                ))
            })?),
        };
        let stat = Stat::parse(stat_name).ok_or_else(|| {
            invalid(format!(
                "unknown statistic {stat_name:?}; use p50, p90, p99, p999, max, error_rate or rate"
            ))
        })?;
        let limit = parse_limit(stat, value).map_err(invalid)?;
        Ok(Self {
            expression: expression.to_owned(),
            target,
            op,
            stat,
            comparison,
            limit,
        })
    }

    /// Returns whether `value` (in the statistic's base unit) passes the gate.
    pub fn passes(&self, value: f64) -> bool {
        self.comparison.holds(value, self.limit)
    }
}

/// Converts the value of a gate to the base unit of its statistic.
fn parse_limit(stat: Stat, value: &str) -> Result<f64, String> {
    let split = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{value:?} does not start with a number"))?;
    let scale = if stat.is_latency() {
        match unit {
            "us" | "µs" => 1.0,
            "ms" => 1e3,
            "s" => 1e6,
            "" => return Err("a latency limit needs a unit: us, ms or s".to_owned()),
            other => return Err(format!("unknown time unit {other:?}; use us, ms or s")),
        }
    } else if stat == Stat::ErrorRate {
        match unit {
            "%" => 0.01,
            "" => 1.0,
            other => {
                return Err(format!(
                    "unknown unit {other:?} for error_rate; use % or a fraction"
                ));
            }
        }
    } else {
        match unit {
            "" | "/s" => 1.0,
            other => {
                return Err(format!(
                    "unknown unit {other:?} for rate; write requests per second"
                ));
            }
        }
    };
    Ok(number * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_gate_in_milliseconds() {
        let gate = Gate::parse("get.p99<2ms").expect("valid gate");
        assert_eq!(gate.op, Some(Op::Get));
        assert_eq!(gate.stat, Stat::P99);
        assert_eq!(gate.comparison, Comparison::Less);
        assert_eq!(gate.limit, 2000.0);
    }

    #[test]
    fn error_rate_gate_in_percent() {
        let gate = Gate::parse("all.error_rate <= 1%").expect("valid gate");
        assert_eq!(gate.op, None);
        assert_eq!(gate.comparison, Comparison::LessOrEqual);
        assert!((gate.limit - 0.01).abs() < 1e-12);
    }

    #[test]
    fn target_prefix_and_rate() {
        let gate = Gate::parse("ironbucket:put.rate>=900").expect("valid gate");
        assert_eq!(gate.target.as_deref(), Some("ironbucket"));
        assert_eq!(gate.comparison, Comparison::GreaterOrEqual);
        assert_eq!(gate.limit, 900.0);
    }

    #[test]
    fn seconds_and_microseconds() {
        assert_eq!(Gate::parse("head.max<1s").expect("valid").limit, 1e6);
        assert_eq!(Gate::parse("list.p999<250us").expect("valid").limit, 250.0);
    }

    #[test]
    fn latency_without_unit_rejected() {
        assert!(Gate::parse("get.p99<2").is_err());
    }

    #[test]
    fn unknown_stat_rejected() {
        assert!(Gate::parse("get.p75<2ms").is_err());
    }

    #[test]
    fn missing_comparison_rejected() {
        assert!(Gate::parse("get.p99=2ms").is_err());
    }

    #[test]
    fn comparison_holds_strictly() {
        let gate = Gate::parse("get.p99<2ms").expect("valid gate");
        assert!(gate.passes(1999.0));
        assert!(!gate.passes(2000.0));
    }
}
