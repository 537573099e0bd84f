//! IronBucket's policy language: parsing YAML policy documents, compiling a set of them into a
//! decision table, and deciding S3 requests against it.
//!
//! The crate does no I/O and has no async code. Callers pass file paths and texts in as
//! [`SourceFile`]s and get back a [`Compilation`]: a [`DecisionTable`] when the set is valid,
//! and every [`Diagnostic`] found across all files either way.
//!
//! ```
//! use ironbucket_policy::{compile, Action, Principal, Request, RequestContext, SourceFile};
//!
//! let source = SourceFile::new(
//!     "read.yaml",
//!     r#"
//! version: "1.0"
//! policies:
//!   - id: analysts-read
//!     effect: Allow
//!     principals: {type: role, values: [analyst]}
//!     actions: ["s3:Get*"]
//!     resources: ["arn:aws:s3:::curated/*"]
//!     audit: true
//! "#,
//! );
//! let compilation = compile(&[source]);
//! let table = compilation.table.expect("valid policies");
//!
//! let principal = Principal {
//!     user_id: "u-17".into(),
//!     roles: vec!["analyst".into()],
//!     ..Principal::default()
//! };
//! let context = RequestContext::default();
//! let request = Request {
//!     principal: &principal,
//!     action: Action::GetObject,
//!     resource: "arn:aws:s3:::curated/2024/sales.csv",
//!     context: &context,
//! };
//! assert!(table.evaluate(&request).is_allowed());
//! ```
//!
//! # Semantics
//!
//! A request is allowed only when at least one enforced Allow policy matches it and no
//! enforced Deny policy does. An explicit Deny overrides every Allow, no match at all denies,
//! and an empty table denies everything. Dry-run policies are matched and reported but never
//! change the effect.
//!
//! # Decision table design
//!
//! Compilation turns each policy's patterns into indices, so that a decision looks only at
//! the policies that can match instead of matching one glob per policy:
//!
//! - Strings are interned: principal values and bucket names become inline keys of hash maps,
//!   and policy ids are shared `Arc<str>`s that decisions clone without copying.
//! - Actions are bit sets. Action wildcards such as `s3:Get*` are expanded against the closed
//!   list of S3 actions at compile time, so an [`ActionSet`] has one bit per [`Action`].
//! - Principals are indexed. The principal's user id, tenant, roles and groups are looked up
//!   in one hash map per principal type. Each map lists the policies naming a value, together
//!   with their action bits. Policies with principal type `*` are in a list of their own.
//!   The entries whose actions include the request's become the candidates, a short sorted
//!   list whose length depends on the caller rather than on the size of the set.
//! - Resource patterns with a literal bucket name are grouped by bucket, so the request's
//!   bucket selects its group with one hash lookup. Within a group, and among the patterns
//!   whose bucket has a wildcard or a variable, each pattern is split into a literal prefix
//!   (up to the first `*`, `?` or `${`) and a remainder. The distinct prefixes are kept sorted
//!   with a link from each prefix to its longest stored proper prefix, so one binary search
//!   finds every prefix that starts the resource. The remainder runs only for candidates.
//! - Conditions are lowered to typed predicates: numbers, times, CIDR blocks and time zones
//!   parsed once, claim paths and header names resolved, booleans fixed.
//! - Policy variables (`${aws:username}` and others) are matched piece by piece against the
//!   principal's own strings, so substituting them allocates nothing.
//!
//! [`reference::evaluate`] is a plain interpreter of the same semantics over the parsed
//! documents. Tests compare it with the table on generated policy sets.
//!
//! The crate's binary, `ironbucket-policy`, validates, tests, diffs, explains and compiles
//! policy directories; [`load_table`] reads the table files it writes. `docs/policies.md` is
//! the language and tool reference, and `docs/performance.md` has the measurements, made with
//! `cargo run --release -p ironbucket-benches --example policy_latency`.

#![forbid(unsafe_code)]

mod action;
mod artifact;
mod clock;
mod condition;
mod decision;
mod diagnostic;
pub mod diff;
mod document;
mod glob;
pub mod input;
mod key;
mod lint;
mod operator;
mod parse;
pub mod reference;
mod request;
mod suggest;
mod table;
mod template;
mod yaml;

pub use action::{ACTION_COUNT, Action, ActionSet, UnknownActionError};
pub use artifact::{
    ED25519_PUBLIC_KEY_BYTES, LoadedTable, MAX_TABLE_FILE_BYTES, Provenance, SigningKey,
    TABLE_FORMAT_VERSION, TableFileError, TableMetadata, load_table, parse_public_key,
    read_table_file, write_table_file,
};
pub use clock::parse_date_seconds;
pub use decision::{Decision, DenyReason, Effect};
pub use diagnostic::{Diagnostic, Position, Severity};
pub use document::{
    ActionPattern, ClaimPath, Comparison, Condition, ConditionKey, ConditionOperator, Mode,
    OperatorFamily, Policy, PolicyDocument, PrincipalSelector, PrincipalType, Quantifier,
    ResourcePattern, S3_ARN_PREFIX, S3_HEADER_KEYS, S3HeaderKey,
};
pub use key::CREDENTIAL_KINDS;
pub use parse::{
    MAX_POLICIES, MAX_POLICY_ID_BYTES, MAX_SOURCE_BYTES, ParsedPolicies, SourceFile, parse,
};
pub use request::{CredentialKind, Principal, Request, RequestContext};
pub use table::DecisionTable;

/// The result of [`compile`].
#[derive(Clone, Debug)]
pub struct Compilation {
    /// The compiled table, or `None` when any diagnostic is an error.
    pub table: Option<DecisionTable>,
    /// The valid documents, in file path order, for tools such as the reference interpreter.
    pub documents: Vec<PolicyDocument>,
    /// Every error, warning and note, sorted by file, line and column.
    pub diagnostics: Vec<Diagnostic>,
}

impl Compilation {
    /// Returns true when any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses, validates and compiles a set of policy sources.
///
/// The table is built only when no diagnostic is an error. Its digest covers the sources as
/// given, including files that define no policy.
pub fn compile(sources: &[SourceFile]) -> Compilation {
    let parsed = parse(sources);
    let table = if parsed.has_errors() {
        None
    } else {
        Some(DecisionTable::build(&parsed.documents, sources))
    };
    Compilation {
        table,
        documents: parsed.documents,
        diagnostics: parsed.diagnostics,
    }
}
