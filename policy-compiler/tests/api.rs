//! Tests of the public API around compilation: table lifecycle, digests, limits and the
//! rendering of diagnostics.

use ironbucket_policy::{
    Action, DecisionTable, DenyReason, Effect, MAX_SOURCE_BYTES, Mode, Principal, Request,
    RequestContext, Severity, SourceFile, compile,
};

const READ_POLICY: &str = r#"version: "1.0"
policies:
  - id: read
    effect: Allow
    principals: {type: role, values: [reader]}
    actions: [s3:GetObject]
    resources: ["arn:aws:s3:::data/*"]
    audit: true
"#;

fn reader() -> Principal {
    Principal {
        user_id: "u-1".to_owned(),
        roles: vec!["reader".to_owned()],
        ..Principal::default()
    }
}

fn get_object<'a>(principal: &'a Principal, context: &'a RequestContext<'a>) -> Request<'a> {
    Request {
        principal,
        action: Action::GetObject,
        resource: "arn:aws:s3:::data/file",
        context,
    }
}

#[test]
fn empty_table_denies_everything() {
    let table = DecisionTable::empty();
    let principal = reader();
    let context = RequestContext::default();
    let decision = table.evaluate(&get_object(&principal, &context));
    assert_eq!(decision.effect, Effect::Deny);
    assert_eq!(decision.reason, DenyReason::NoMatchingAllow);
    assert_eq!(table.policy_count(), 0);
}

#[test]
fn no_sources_compile_to_empty_table() {
    let compilation = compile(&[]);
    assert!(compilation.diagnostics.is_empty());
    let table = compilation.table.expect("no errors");
    assert_eq!(table.policy_count(), 0);
    assert_eq!(table.digest(), DecisionTable::empty().digest());
}

#[test]
fn digest_is_lowercase_sha256_hex() {
    let digest = DecisionTable::empty().digest().to_owned();
    assert_eq!(digest.len(), 64);
    assert!(
        digest
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
}

#[test]
fn digest_ignores_source_order() {
    let first = SourceFile::new("a.yaml", READ_POLICY);
    let second = SourceFile::new("b.yaml", "# empty\n");
    let forward = compile(&[first.clone(), second.clone()]);
    let backward = compile(&[second, first]);
    assert_eq!(
        forward.table.expect("valid").digest(),
        backward.table.expect("valid").digest()
    );
}

#[test]
fn digest_changes_with_text() {
    let original = compile(&[SourceFile::new("a.yaml", READ_POLICY)]);
    let edited = compile(&[SourceFile::new(
        "a.yaml",
        READ_POLICY.replace("data", "logs"),
    )]);
    assert_ne!(
        original.table.expect("valid").digest(),
        edited.table.expect("valid").digest()
    );
}

#[test]
fn digest_changes_with_path() {
    let original = compile(&[SourceFile::new("a.yaml", READ_POLICY)]);
    let renamed = compile(&[SourceFile::new("b.yaml", READ_POLICY)]);
    assert_ne!(
        original.table.expect("valid").digest(),
        renamed.table.expect("valid").digest()
    );
}

#[test]
fn compiled_table_allows_reader() {
    let compilation = compile(&[SourceFile::new("a.yaml", READ_POLICY)]);
    let table = compilation.table.expect("valid");
    let principal = reader();
    let context = RequestContext::default();
    let decision = table.evaluate(&get_object(&principal, &context));
    assert!(decision.is_allowed());
    assert_eq!(table.policy_count(), 1);
    assert_eq!(table.policy_mode("read"), Some(Mode::Enforce));
    assert_eq!(table.policy_mode("missing"), None);
}

#[test]
fn errors_leave_no_table() {
    let broken = READ_POLICY.replace("s3:GetObject", "s3:GetObjekt");
    let compilation = compile(&[SourceFile::new("a.yaml", broken)]);
    assert!(compilation.table.is_none());
    assert!(compilation.has_errors());
}

#[test]
fn errors_collected_across_files() {
    let bad_action = READ_POLICY.replace("s3:GetObject", "s3:GetObjekt");
    let bad_effect = READ_POLICY
        .replace("id: read", "id: other")
        .replace("Allow", "Permit");
    let compilation = compile(&[
        SourceFile::new("one.yaml", bad_action),
        SourceFile::new("two.yaml", bad_effect),
    ]);
    let files: Vec<&str> = compilation
        .diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.is_error())
        .map(|diagnostic| diagnostic.file.as_str())
        .collect();
    assert_eq!(files, vec!["one.yaml", "two.yaml"]);
}

#[test]
fn diagnostic_renders_file_line_column() {
    let broken = READ_POLICY.replace("s3:GetObject", "s3:GetObjekt");
    let compilation = compile(&[SourceFile::new("dir/a.yaml", broken)]);
    let rendered = compilation.diagnostics[0].to_string();
    assert!(
        rendered.starts_with("dir/a.yaml:6:15: error: unknown action \"s3:GetObjekt\""),
        "{rendered}"
    );
}

#[test]
fn oversized_source_is_rejected() {
    let text = format!("{READ_POLICY}#{}\n", "x".repeat(MAX_SOURCE_BYTES));
    let compilation = compile(&[SourceFile::new("huge.yaml", text)]);
    assert_eq!(compilation.diagnostics.len(), 1);
    assert_eq!(compilation.diagnostics[0].severity, Severity::Error);
    assert!(
        compilation.diagnostics[0]
            .message
            .contains("more than the maximum")
    );
}

#[test]
fn trailing_document_separator_is_ignored() {
    let text = format!("{READ_POLICY}---\n");
    let compilation = compile(&[SourceFile::new("a.yaml", text)]);
    assert!(
        compilation.diagnostics.is_empty(),
        "{:?}",
        compilation.diagnostics
    );
}

#[test]
fn null_conditions_mean_none() {
    let text = READ_POLICY.replace("    audit: true\n", "    audit: true\n    conditions:\n");
    let compilation = compile(&[SourceFile::new("a.yaml", text)]);
    assert!(
        compilation.diagnostics.is_empty(),
        "{:?}",
        compilation.diagnostics
    );
}

#[test]
fn action_parse_error_names_value() {
    let error = "s3:Nope".parse::<Action>().unwrap_err();
    assert!(error.to_string().contains("\"s3:Nope\""));
}

#[test]
fn multiple_documents_in_one_file() {
    let second = READ_POLICY.replace("id: read", "id: read-two");
    let text = format!("{READ_POLICY}---\n{second}");
    let compilation = compile(&[SourceFile::new("a.yaml", text)]);
    assert!(
        compilation.diagnostics.is_empty(),
        "{:?}",
        compilation.diagnostics
    );
    assert_eq!(compilation.table.expect("valid").policy_count(), 2);
}
