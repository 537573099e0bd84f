//! Data-driven tests: each file under `tests/fixtures/decisions` contains policy sources and
//! requests with their expected decisions, and each file under `tests/fixtures/diagnostics`
//! contains policy sources with the exact diagnostics they must produce.
//!
//! Every decision case runs against both the decision table and the reference interpreter.

use std::collections::BTreeMap;
use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ironbucket_policy::input::{ContextInput, PrincipalSpec};
use ironbucket_policy::{
    Action, Decision, DenyReason, Effect, Request, Severity, SourceFile, compile, reference,
};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureFile {
    path: String,
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionFixture {
    #[allow(dead_code, reason = "documents the fixture for its readers")]
    description: String,
    files: Vec<FixtureFile>,
    #[serde(default)]
    principals: BTreeMap<String, PrincipalSpec>,
    cases: Vec<DecisionCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionCase {
    name: String,
    principal: String,
    action: String,
    resource: String,
    #[serde(default)]
    source_ip: Option<IpAddr>,
    #[serde(default)]
    secure_transport: bool,
    /// Further request values by condition key name, as `ContextInput::set` takes them.
    #[serde(default)]
    context: BTreeMap<String, serde_json::Value>,
    expect: ExpectedDecision,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedDecision {
    effect: String,
    reason: String,
    /// The Deny policy an ExplicitDeny names.
    #[serde(default)]
    policy: Option<String>,
    #[serde(default)]
    matched: Option<Vec<String>>,
    #[serde(default)]
    dry_run_matched: Option<Vec<String>>,
    #[serde(default)]
    audit: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DiagnosticFixture {
    #[allow(dead_code, reason = "documents the fixture for its readers")]
    description: String,
    files: Vec<FixtureFile>,
    diagnostics: Vec<ExpectedDiagnostic>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedDiagnostic {
    severity: String,
    file: String,
    line: u32,
    column: u32,
    message: String,
}

fn fixture_paths(kind: &str) -> Vec<PathBuf> {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind);
    let mut paths: Vec<PathBuf> = fs::read_dir(&directory)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", directory.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "yaml")
        })
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no fixtures in {}", directory.display());
    paths
}

fn read_fixture<T: for<'de> Deserialize<'de>>(path: &Path) -> T {
    let text = fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_norway::from_str(&text)
        .unwrap_or_else(|error| panic!("invalid fixture {}: {error}", path.display()))
}

fn sources(files: &[FixtureFile]) -> Vec<SourceFile> {
    files
        .iter()
        .map(|file| SourceFile::new(&file.path, &file.text))
        .collect()
}

fn effect_name(effect: Effect) -> &'static str {
    effect.as_str()
}

fn reason_parts(reason: &DenyReason) -> (&'static str, Option<String>) {
    match reason {
        DenyReason::Allowed => ("Allowed", None),
        DenyReason::NoMatchingAllow => ("NoMatchingAllow", None),
        DenyReason::ExplicitDeny { policy_id } => ("ExplicitDeny", Some(policy_id.to_string())),
    }
}

fn ids(list: &[std::sync::Arc<str>]) -> Vec<String> {
    list.iter().map(|id| id.to_string()).collect()
}

fn check_decision(label: &str, decision: &Decision, expected: &ExpectedDecision) {
    assert_eq!(
        effect_name(decision.effect),
        expected.effect,
        "{label}: effect"
    );
    let (reason, policy) = reason_parts(&decision.reason);
    assert_eq!(reason, expected.reason, "{label}: reason");
    assert_eq!(
        policy, expected.policy,
        "{label}: policy named by the reason"
    );
    if let Some(matched) = &expected.matched {
        assert_eq!(
            &ids(&decision.matched_policies),
            matched,
            "{label}: matched policies"
        );
    }
    if let Some(dry_run_matched) = &expected.dry_run_matched {
        assert_eq!(
            &ids(&decision.dry_run_matched),
            dry_run_matched,
            "{label}: dry-run matches"
        );
    }
    if let Some(audit) = expected.audit {
        assert_eq!(decision.audit, audit, "{label}: audit");
    }
}

#[test]
fn decision_fixtures_match_expectations() {
    let mut case_count = 0;
    for path in fixture_paths("decisions") {
        let fixture: DecisionFixture = read_fixture(&path);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let compilation = compile(&sources(&fixture.files));
        let errors: Vec<String> = compilation
            .diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.severity == Severity::Error)
            .map(ToString::to_string)
            .collect();
        assert!(errors.is_empty(), "{name}: unexpected errors {errors:#?}");
        let table = compilation.table.as_ref().expect("a table without errors");

        for case in &fixture.cases {
            let label = format!("{name}: {}", case.name);
            let principal = fixture
                .principals
                .get(&case.principal)
                .unwrap_or_else(|| panic!("{label}: unknown principal {}", case.principal));
            let principal = principal
                .to_principal()
                .unwrap_or_else(|error| panic!("{label}: {error}"));
            let action = Action::from_name(&case.action)
                .unwrap_or_else(|| panic!("{label}: unknown action {}", case.action));
            let mut input = ContextInput {
                source_ip: case.source_ip,
                secure_transport: case.secure_transport,
                ..ContextInput::default()
            };
            for (key, value) in &case.context {
                let text = match value {
                    serde_json::Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                input
                    .set(key, &text)
                    .unwrap_or_else(|error| panic!("{label}: {error}"));
            }
            let headers = input.header_pairs();
            let context = input.context(&headers);
            let request = Request {
                principal: &principal,
                action,
                resource: &case.resource,
                context: &context,
            };

            let from_table = table.evaluate(&request);
            check_decision(&format!("{label} (table)"), &from_table, &case.expect);
            let from_reference = reference::evaluate(&compilation.documents, &request);
            check_decision(
                &format!("{label} (reference)"),
                &from_reference,
                &case.expect,
            );
            case_count += 1;
        }
    }
    assert!(case_count > 0, "no decision cases ran");
}

#[test]
fn diagnostic_fixtures_match_expectations() {
    for path in fixture_paths("diagnostics") {
        let fixture: DiagnosticFixture = read_fixture(&path);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let compilation = compile(&sources(&fixture.files));
        let rendered: Vec<String> = compilation
            .diagnostics
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            compilation.diagnostics.len(),
            fixture.diagnostics.len(),
            "{name}: diagnostic count; actual diagnostics: {rendered:#?}"
        );
        for (index, (actual, expected)) in compilation
            .diagnostics
            .iter()
            .zip(&fixture.diagnostics)
            .enumerate()
        {
            let label = format!("{name}: diagnostic {index} ({actual})");
            assert_eq!(
                actual.severity.as_str(),
                expected.severity,
                "{label}: severity"
            );
            assert_eq!(actual.file, expected.file, "{label}: file");
            assert_eq!(actual.line, expected.line, "{label}: line");
            assert_eq!(actual.column, expected.column, "{label}: column");
            assert_eq!(actual.message, expected.message, "{label}: message");
        }
        let has_errors = fixture
            .diagnostics
            .iter()
            .any(|diagnostic| diagnostic.severity == "error");
        assert_eq!(
            compilation.table.is_none(),
            has_errors,
            "{name}: a table exists exactly when there is no error"
        );
    }
}
