//! Parsed policy documents: the policy language as data, after validation and before
//! compilation into a decision table.
//!
//! Every value here passed validation, so [`crate::reference::evaluate`] can interpret it
//! directly. Positions are kept for diagnostics and for tools that explain a decision.

use std::sync::Arc;

use crate::action::ActionSet;
use crate::diagnostic::Position;
pub use crate::key::{ClaimPath, ConditionKey, S3_HEADER_KEYS, S3HeaderKey};
pub use crate::operator::{Comparison, ConditionOperator, OperatorFamily};

/// The prefix of every S3 bucket and object ARN: partition `aws`, service `s3`, and empty
/// region and account fields.
pub const S3_ARN_PREFIX: &str = "arn:aws:s3:::";

/// One YAML or JSON document: a version, an optional description and its policies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyDocument {
    /// Path of the source file, as the caller passed it in.
    pub file: Arc<str>,
    /// Document format version. Only "1.0" exists.
    pub version: String,
    /// Free text about the document.
    pub description: Option<String>,
    /// The valid policies of the document, in source order.
    pub policies: Vec<Policy>,
}

/// Whether a matching policy allows or denies the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Grants the request unless a Deny also matches.
    Allow,
    /// Refuses the request, overriding every Allow.
    Deny,
}

impl Effect {
    /// Returns the spelling used in policy documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// Whether a policy takes part in decisions or is only observed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// The policy decides requests.
    #[default]
    Enforce,
    /// The policy is evaluated and reported in [`crate::Decision::dry_run_matched`] but never
    /// changes the effect, so a new policy can be watched before it is enforced.
    DryRun,
}

impl Mode {
    /// Returns the spelling used in policy documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::DryRun => "dry-run",
        }
    }
}

/// One policy: who, which actions, on which resources, under which conditions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Identifier, unique across every file of the policy set.
    pub id: Arc<str>,
    /// Short human-readable name.
    pub name: Option<String>,
    /// Free text explaining why the policy exists.
    pub description: Option<String>,
    /// Allow or Deny.
    pub effect: Effect,
    /// The policy applies when any selector matches the principal.
    pub principals: Vec<PrincipalSelector>,
    /// The policy applies when any pattern matches the action.
    pub actions: Vec<ActionPattern>,
    /// The policy applies when any pattern matches the resource ARN.
    pub resources: Vec<ResourcePattern>,
    /// The policy applies only when every condition holds.
    pub conditions: Vec<Condition>,
    /// Whether the gateway writes an audit record for requests this policy matches.
    pub audit: bool,
    /// Enforce or dry-run.
    pub mode: Mode,
    /// Position of the policy's first field.
    pub position: Position,
}

/// The kind of principal attribute a selector compares against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PrincipalType {
    /// One of the principal's roles.
    Role,
    /// The principal's user id.
    User,
    /// One of the principal's groups.
    Group,
    /// The user id of a principal that is a service account.
    ServiceAccount,
    /// The principal's tenant.
    Tenant,
    /// Every principal, authenticated or not.
    Any,
}

impl PrincipalType {
    /// Returns the spelling used in policy documents.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::Role => "role",
            PrincipalType::User => "user",
            PrincipalType::Group => "group",
            PrincipalType::ServiceAccount => "service-account",
            PrincipalType::Tenant => "tenant",
            PrincipalType::Any => "*",
        }
    }
}

/// A principal selector: a type and the exact values it accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrincipalSelector {
    /// The principal attribute the values are compared with.
    pub principal_type: PrincipalType,
    /// Accepted values, compared exactly and case-sensitively. Empty for [`PrincipalType::Any`].
    pub values: Vec<String>,
    /// Position of the selector.
    pub position: Position,
}

/// An action pattern as written, with the actions it expands to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionPattern {
    /// The pattern, such as `s3:Get*`.
    pub pattern: String,
    /// Every known action the pattern matches.
    pub actions: ActionSet,
    /// Position of the pattern.
    pub position: Position,
}

/// A resource ARN pattern, such as `arn:aws:s3:::bucket/prefix/*`, or `*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourcePattern {
    /// The pattern as written.
    pub pattern: String,
    /// Position of the pattern.
    pub position: Position,
}

/// The rule combining a condition's several values, named `operator` in policy documents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Quantifier {
    /// The positive operator holds when at least one listed value matches the key.
    #[default]
    Any,
    /// The positive operator holds when every listed value matches the key. For a key with
    /// several values, such as a list claim, each listed value must match at least one of them.
    All,
}

/// One condition of a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    /// The comparison, such as `StringEquals`.
    pub operator: ConditionOperator,
    /// The request attribute compared.
    pub key: ConditionKey,
    /// The values compared against, already validated for the operator. They are numbers
    /// for `Numeric`, timestamps for `Date`, ranges such as `07:00-19:00` for `TimeOfDay`,
    /// CIDR blocks or addresses for the IP operators, and `true` or `false` for `Bool` and
    /// `Null`.
    pub values: Vec<String>,
    /// The rule combining several values.
    pub quantifier: Quantifier,
    /// The IANA time zone that `TimeOfDay` reads the clock in, such as `Europe/Berlin`.
    /// `None` means UTC, and other operators have none.
    pub time_zone: Option<String>,
    /// Position of the condition.
    pub position: Position,
}
