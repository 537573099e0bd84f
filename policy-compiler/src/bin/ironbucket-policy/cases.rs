//! `ironbucket-policy test`: runs the cases of a YAML file against a policy directory and
//! reports each failure with the request, the expected and the actual decision.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result, bail};
use ironbucket_policy::input::{ContextInput, PrincipalSpec};
use ironbucket_policy::{Action, Decision, DenyReason, Effect, Request};
use serde::Deserialize;

use crate::ExitCode;
use crate::commands::{compile_valid_dir, read_cases_text};

/// Maximum number of cases in one file.
const MAX_CASES: usize = 100_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    /// Principals that cases name.
    #[serde(default)]
    principals: BTreeMap<String, PrincipalSpec>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    principal: PrincipalRef,
    action: String,
    resource: String,
    /// Request values by condition key name.
    #[serde(default)]
    context: BTreeMap<String, serde_json::Value>,
    /// `Allow` or `Deny`.
    expect: String,
    /// The exact enforced policy ids that must match, in table order.
    #[serde(default)]
    policies: Option<Vec<String>>,
}

/// A principal given by name or written inline.
#[derive(Deserialize)]
#[serde(untagged)]
enum PrincipalRef {
    Name(String),
    Inline(Box<PrincipalSpec>),
}

pub fn run(dir: &Path, cases_path: &Path) -> Result<ExitCode> {
    let compilation = compile_valid_dir(dir)?;
    let table = compilation
        .table
        .as_ref()
        .expect("a valid compilation has a table");
    let text = read_cases_text(cases_path)?;
    let file: CaseFile = serde_norway::from_str(&text)
        .with_context(|| format!("invalid case file {}", cases_path.display()))?;
    if file.cases.len() > MAX_CASES {
        bail!(
            "{} has {} cases, more than the maximum of {MAX_CASES}",
            cases_path.display(),
            file.cases.len()
        );
    }

    let mut failures = 0;
    for (index, case) in file.cases.iter().enumerate() {
        let label = format!("case {} \"{}\"", index + 1, case.name);
        let prepared = prepare(&file, case).with_context(|| format!("{label} is invalid"))?;
        let headers = prepared.context.header_pairs();
        let context = prepared.context.context(&headers);
        let request = Request {
            principal: &prepared.principal,
            action: prepared.action,
            resource: &case.resource,
            context: &context,
        };
        let decision = table.evaluate(&request);
        if let Some(report) = failure_report(case, &prepared, &decision) {
            failures += 1;
            println!("FAIL {label}\n{report}");
        }
    }
    let passed = file.cases.len() - failures;
    println!("{passed} passed, {failures} failed");
    Ok(if failures == 0 {
        ExitCode::Clean
    } else {
        ExitCode::Findings
    })
}

struct Prepared {
    principal: ironbucket_policy::Principal,
    action: Action,
    context: ContextInput,
    expected: Effect,
}

fn prepare(file: &CaseFile, case: &Case) -> Result<Prepared> {
    let spec = match &case.principal {
        PrincipalRef::Inline(spec) => spec.as_ref(),
        PrincipalRef::Name(name) => file
            .principals
            .get(name)
            .with_context(|| format!("principal {name} is not defined under principals"))?,
    };
    let action = Action::from_name(&case.action).with_context(|| {
        format!(
            "unknown action {}; use an S3 action such as s3:GetObject",
            case.action
        )
    })?;
    let mut context = ContextInput::default();
    for (key, value) in &case.context {
        let text = match value {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        context.set(key, &text)?;
    }
    let expected = if case.expect.eq_ignore_ascii_case("allow") {
        Effect::Allow
    } else if case.expect.eq_ignore_ascii_case("deny") {
        Effect::Deny
    } else {
        bail!("invalid expect {}; use Allow or Deny", case.expect);
    };
    Ok(Prepared {
        principal: spec.to_principal()?,
        action,
        context,
        expected,
    })
}

/// Returns the report of a failed case, or `None` when it passed.
fn failure_report(case: &Case, prepared: &Prepared, decision: &Decision) -> Option<String> {
    let matched: Vec<String> = decision
        .matched_policies
        .iter()
        .map(|id| id.to_string())
        .collect();
    let effect_ok = decision.effect == prepared.expected;
    let policies_ok = case
        .policies
        .as_ref()
        .is_none_or(|expected| *expected == matched);
    if effect_ok && policies_ok {
        return None;
    }

    let principal = &prepared.principal;
    let mut report = String::new();
    let _ = writeln!(
        report,
        "  request:  {} on {} by user {:?}, tenant {:?}, roles {:?}, groups {:?}",
        prepared.action.name(),
        case.resource,
        principal.user_id,
        principal.tenant,
        principal.roles,
        principal.groups
    );
    let _ = writeln!(report, "  expected: {}", prepared.expected.as_str());

    let reason = match &decision.reason {
        DenyReason::Allowed => "allowed".to_owned(),
        DenyReason::NoMatchingAllow => "no enforced Allow policy matches".to_owned(),
        DenyReason::ExplicitDeny { policy_id } => format!("denied by policy {policy_id}"),
    };
    let _ = writeln!(
        report,
        "  actual:   {} ({reason})",
        decision.effect.as_str()
    );
    if let Some(expected) = &case.policies
        && !policies_ok
    {
        let _ = writeln!(report, "  expected policies: [{}]", expected.join(", "));
    }
    let _ = writeln!(report, "  matched policies:  [{}]", matched.join(", "));
    Some(report)
}
