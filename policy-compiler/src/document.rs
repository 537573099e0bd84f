//! Parsed policy documents: the policy language as data, after validation and before
//! compilation into a decision table.
//!
//! Every value here passed validation, so [`crate::reference::evaluate`] can interpret it
//! directly. Positions are kept for diagnostics and for tools that explain a decision.

use std::sync::Arc;

use crate::action::ActionSet;
use crate::diagnostic::Position;

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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

/// A condition operator, named `type` in policy documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConditionOperator {
    /// The key's value equals a listed string exactly.
    StringEquals,
    /// The negation of [`ConditionOperator::StringEquals`].
    StringNotEquals,
    /// The key's value matches a listed wildcard pattern (`*` and `?`), case-sensitively.
    StringLike,
    /// The key's IP address lies in a listed CIDR block.
    IpAddress,
    /// The negation of [`ConditionOperator::IpAddress`].
    NotIpAddress,
    /// The key's boolean equals the listed `true` or `false`.
    Bool,
}

impl ConditionOperator {
    /// Every implemented operator.
    pub const ALL: &'static [ConditionOperator] = &[
        ConditionOperator::StringEquals,
        ConditionOperator::StringNotEquals,
        ConditionOperator::StringLike,
        ConditionOperator::IpAddress,
        ConditionOperator::NotIpAddress,
        ConditionOperator::Bool,
    ];

    /// Returns the spelling used in policy documents.
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionOperator::StringEquals => "StringEquals",
            ConditionOperator::StringNotEquals => "StringNotEquals",
            ConditionOperator::StringLike => "StringLike",
            ConditionOperator::IpAddress => "IpAddress",
            ConditionOperator::NotIpAddress => "NotIpAddress",
            ConditionOperator::Bool => "Bool",
        }
    }

    /// Returns true for operators that hold when their positive form does not.
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            ConditionOperator::StringNotEquals | ConditionOperator::NotIpAddress
        )
    }

    /// Returns the type of key the operator compares.
    pub fn value_kind(self) -> ValueKind {
        match self {
            ConditionOperator::StringEquals
            | ConditionOperator::StringNotEquals
            | ConditionOperator::StringLike => ValueKind::String,
            ConditionOperator::IpAddress | ConditionOperator::NotIpAddress => ValueKind::IpAddress,
            ConditionOperator::Bool => ValueKind::Bool,
        }
    }
}

/// The type of a condition key's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// A string.
    String,
    /// An IP address.
    IpAddress,
    /// A boolean.
    Bool,
}

/// A condition key: which attribute of the request a condition reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConditionKey {
    /// `aws:SourceIp`: the client's IP address. Absent when the gateway does not know it.
    SourceIp,
    /// `aws:username`: the principal's display name.
    Username,
    /// `aws:userid`: the principal's user id.
    UserId,
    /// `aws:SecureTransport`: whether the request arrived over TLS.
    SecureTransport,
    /// `ib:tenant`: the principal's tenant.
    Tenant,
}

impl ConditionKey {
    /// Every implemented key.
    pub const ALL: &'static [ConditionKey] = &[
        ConditionKey::SourceIp,
        ConditionKey::Username,
        ConditionKey::UserId,
        ConditionKey::SecureTransport,
        ConditionKey::Tenant,
    ];

    /// Returns the canonical spelling. Documents may use any ASCII case, as IAM allows.
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionKey::SourceIp => "aws:SourceIp",
            ConditionKey::Username => "aws:username",
            ConditionKey::UserId => "aws:userid",
            ConditionKey::SecureTransport => "aws:SecureTransport",
            ConditionKey::Tenant => "ib:tenant",
        }
    }

    /// Returns the type of the key's value.
    pub fn value_kind(self) -> ValueKind {
        match self {
            ConditionKey::SourceIp => ValueKind::IpAddress,
            ConditionKey::Username | ConditionKey::UserId | ConditionKey::Tenant => {
                ValueKind::String
            }
            ConditionKey::SecureTransport => ValueKind::Bool,
        }
    }
}

/// The rule combining a condition's several values, named `operator` in policy documents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Quantifier {
    /// The positive operator holds when the key matches at least one value.
    #[default]
    Any,
    /// The positive operator holds when the key matches every value.
    All,
}

/// One condition of a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    /// The comparison, such as `StringEquals`.
    pub operator: ConditionOperator,
    /// The request attribute compared.
    pub key: ConditionKey,
    /// The values compared against, already validated for the operator: CIDR blocks or IP
    /// addresses for the IP operators, `true` or `false` for `Bool`.
    pub values: Vec<String>,
    /// The rule combining several values.
    pub quantifier: Quantifier,
    /// Position of the condition.
    pub position: Position,
}
