//! Tests of the `ironbucket-policy` binary, run as a process on the fixture directories under
//! `tests/fixtures/cli`: exit codes, report formats, diffs, audit replay, and the compiled
//! table file from compile to load.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ironbucket_policy::{
    Action, Principal, Request, RequestContext, TableFileError, load_table, read_table_file,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cli")
}

/// Runs the binary in the fixture directory, so that reported paths are relative to it.
fn run(arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ironbucket-policy"))
        .args(arguments)
        .current_dir(fixtures())
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn exit_code(output: &Output) -> i32 {
    output.status.code().expect("the binary exits normally")
}

#[test]
fn validate_clean_directory_succeeds() {
    let output = run(&["validate", "clean"]);
    assert_eq!(exit_code(&output), 0, "{}", stdout(&output));
    assert!(
        stdout(&output).contains("0 errors, 0 warnings in 2 files (4 valid policies)"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn validate_warnings_exit_one() {
    let output = run(&["validate", "warnings"]);
    assert_eq!(exit_code(&output), 1);
    assert!(
        stdout(&output).contains("warnings/open.yaml:5:17: warning: Allow policy \"public-read\""),
        "{}",
        stdout(&output)
    );
}

#[test]
fn allow_warnings_exits_zero() {
    let output = run(&["validate", "warnings", "--allow-warnings"]);
    assert_eq!(exit_code(&output), 0);
}

#[test]
fn validate_errors_exit_two() {
    let output = run(&["validate", "errors"]);
    assert_eq!(exit_code(&output), 2);
    assert!(
        stdout(&output).contains("errors/broken.yaml:6:15: error: unknown action \"s3:GetObjekt\""),
        "{}",
        stdout(&output)
    );
}

#[test]
fn validate_json_lists_diagnostics() {
    let output = run(&["validate", "errors", "--format", "json"]);
    assert_eq!(exit_code(&output), 2);
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("validate prints JSON");
    assert_eq!(report["errors"], 2);
    assert_eq!(report["warnings"], 0);
    let first = &report["diagnostics"][0];
    assert_eq!(first["severity"], "error");
    assert_eq!(first["file"], "errors/broken.yaml");
    assert_eq!(first["line"], 6);
    assert_eq!(first["column"], 15);
    let second = &report["diagnostics"][1];
    assert!(
        second["message"]
            .as_str()
            .is_some_and(|message| message.starts_with("malformed ARN")),
        "{second}"
    );
}

#[test]
fn github_format_emits_annotations() {
    let output = run(&["validate", "errors", "--format", "github"]);
    let text = stdout(&output);
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("::error file=errors/broken.yaml,line=6,col=15::unknown action"),
        "{text}"
    );
}

#[test]
fn unknown_subcommand_exits_three() {
    let output = run(&["frobnicate"]);
    assert_eq!(exit_code(&output), 3);
}

#[test]
fn missing_directory_exits_two() {
    let output = run(&["validate", "no-such-directory"]);
    assert_eq!(exit_code(&output), 2);
    assert!(
        stderr(&output).contains("cannot read policy directory no-such-directory"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn passing_cases_exit_zero() {
    let output = run(&["test", "clean", "--cases", "cases.yaml"]);
    assert_eq!(exit_code(&output), 0, "{}", stdout(&output));
    assert!(stdout(&output).contains("4 passed, 0 failed"));
}

#[test]
fn failing_cases_are_reported() {
    let output = run(&["test", "clean", "--cases", "failing-cases.yaml"]);
    let text = stdout(&output);
    assert_eq!(exit_code(&output), 1, "{text}");
    assert!(
        text.contains("FAIL case 1 \"dev writes from home\""),
        "{text}"
    );
    assert!(
        text.contains("actual:   Deny (no enforced Allow policy matches)"),
        "{text}"
    );
    assert!(
        text.contains("FAIL case 2 \"dev reads dev data\""),
        "{text}"
    );
    assert!(
        text.contains("expected policies: [office-writes]"),
        "{text}"
    );
    assert!(text.contains("0 passed, 2 failed"), "{text}");
}

#[test]
fn diff_reports_new_grant() {
    let output = run(&["diff", "old", "new"]);
    let text = stdout(&output);
    assert_eq!(exit_code(&output), 1, "{text}");
    assert!(
        text.contains(
            "this change grants, under conditions, role dev s3:DeleteObject on \
             arn:aws:s3:::prod-*/*"
        ),
        "{text}"
    );
}

#[test]
fn diff_reports_revoked_access() {
    let output = run(&["diff", "new", "old"]);
    let text = stdout(&output);
    assert!(text.contains("newly denied:"), "{text}");
    assert!(
        text.contains(
            "role dev s3:DeleteObject on arn:aws:s3:::prod-*/* (was conditional, now deny"
        ),
        "{text}"
    );
}

#[test]
fn identical_sets_exit_zero() {
    let output = run(&["diff", "clean", "clean"]);
    assert_eq!(exit_code(&output), 0);
    assert!(stdout(&output).contains("no decision changes"));
}

#[test]
fn audit_replay_lists_flip() {
    let output = run(&[
        "diff",
        "old",
        "new",
        "--audit-log",
        "audit.jsonl",
        "--principals",
        "principals.yaml",
    ]);
    let text = stdout(&output);
    assert!(
        text.contains("audit log: 3 requests replayed, 1 would flip"),
        "{text}"
    );
    assert!(
        text.contains(
            "line 2: 2026-03-02T09:16:00Z u-3 s3:GetObject on arn:aws:s3:::dev-data/b.csv: \
             allow -> deny"
        ),
        "{text}"
    );
    assert!(text.contains("1 lines skipped"), "{text}");
    assert!(!text.contains("warning:"), "{text}");
}

#[test]
fn replay_without_roles_warns() {
    let output = run(&[
        "diff",
        "old",
        "new",
        "--audit-log",
        "audit.jsonl",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["audit_replay"]["disagreements"], 2);
    assert_eq!(
        report["audit_replay"]["flips"].as_array().map(Vec::len),
        Some(0)
    );
    assert_eq!(report["changes"][0]["principal"], "dev");
    assert_eq!(report["changes"][0]["after"], "conditional");
}

#[test]
fn explain_shows_each_part() {
    let output = run(&[
        "explain",
        "clean",
        "--principal",
        "{user_id: u-1, roles: [dev]}",
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::dev-data/x",
        "--context",
        "aws:SourceIp=192.0.2.1",
    ]);
    let text = stdout(&output);
    assert_eq!(exit_code(&output), 0, "{text}{}", stderr(&output));
    assert!(
        text.starts_with("decision: Deny (no enforced Allow policy matches)"),
        "{text}"
    );
    assert!(
        text.contains("condition IpAddress aws:SourceIp (line 18) does not hold"),
        "{text}"
    );
    assert!(
        text.contains("other policies name another principal or action"),
        "{text}"
    );
}

#[test]
fn explain_names_principal_from_file() {
    let output = run(&[
        "explain",
        "clean",
        "--principal",
        "u-1",
        "--principals",
        "principals.yaml",
        "--action",
        "s3:DeleteObject",
        "--resource",
        "arn:aws:s3:::prod-data/x",
    ]);
    let text = stdout(&output);
    assert!(
        text.starts_with("decision: Deny (explicitly denied by policy no-prod-delete)"),
        "{text}{}",
        stderr(&output)
    );
}

/// Generates a key pair and compiles `clean` into a signed table, returning the table file
/// and the public key path.
fn signed_table(directory: &Path) -> (PathBuf, PathBuf) {
    let prefix = directory.join("signing");
    let keygen = run(&["keygen", "--out", prefix.to_str().expect("UTF-8 path")]);
    assert_eq!(exit_code(&keygen), 0, "{}", stderr(&keygen));
    let table = directory.join("policies.table");
    let compile = run(&[
        "compile",
        "clean",
        "-o",
        table.to_str().expect("UTF-8 path"),
        "--sign",
        prefix.with_extension("pk8").to_str().expect("UTF-8 path"),
    ]);
    assert_eq!(exit_code(&compile), 0, "{}", stderr(&compile));
    assert!(stdout(&compile).contains("compiled 4 policies from 2 files"));
    (table, prefix.with_extension("pub"))
}

#[test]
fn compile_load_round_trip() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let (table_path, public_key_path) = signed_table(directory.path());
    let bytes = fs::read(&table_path).expect("table file");
    let public_key = fs::read(&public_key_path).expect("public key");

    let loaded = read_table_file(&bytes, Some(&public_key)).expect("the signed table loads");
    assert!(loaded.metadata.signed);
    assert!(loaded.metadata.verified);
    assert_eq!(loaded.table.policy_count(), 4);
    assert_eq!(loaded.metadata.source_digest, loaded.table.digest());

    let principal = Principal {
        user_id: "u-1".to_owned(),
        roles: vec!["dev".to_owned()],
        ..Principal::default()
    };
    let context = RequestContext::default();
    let decision = loaded.table.evaluate(&Request {
        principal: &principal,
        action: Action::GetObject,
        resource: "arn:aws:s3:::dev-data/x",
        context: &context,
    });
    assert!(decision.is_allowed());
}

#[test]
fn inspect_verifies_signature() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let (table_path, public_key_path) = signed_table(directory.path());
    let output = run(&[
        "inspect",
        table_path.to_str().expect("UTF-8 path"),
        "--public-key",
        public_key_path.to_str().expect("UTF-8 path"),
    ]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    assert!(stdout(&output).contains("signature: ed25519, verified"));
    assert!(stdout(&output).contains("policies: 4 from 2 files"));
}

#[test]
fn tampered_signed_file_rejected() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let (table_path, public_key_path) = signed_table(directory.path());
    let public_key = fs::read(&public_key_path).expect("public key");
    let original = fs::read_to_string(&table_path).expect("table file");
    // Widen a policy, as an attacker without the signing key might.
    let tampered = original.replace("dev-*/*", "*/*");
    assert_ne!(tampered, original);
    fs::write(&table_path, &tampered).expect("write tampered file");

    let error = load_table(tampered.as_bytes(), Some(&public_key)).unwrap_err();
    assert!(matches!(error, TableFileError::BadSignature), "{error}");
    let output = run(&[
        "inspect",
        table_path.to_str().expect("UTF-8 path"),
        "--public-key",
        public_key_path.to_str().expect("UTF-8 path"),
    ]);
    assert_eq!(exit_code(&output), 2);
    assert!(
        stderr(&output).contains("does not verify"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn tampered_unsigned_file_fails_digest() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let table_path = directory.path().join("unsigned.table");
    let compile = run(&[
        "compile",
        "clean",
        "-o",
        table_path.to_str().expect("UTF-8 path"),
    ]);
    assert_eq!(exit_code(&compile), 0, "{}", stderr(&compile));
    let original = fs::read_to_string(&table_path).expect("table file");
    let tampered = original.replace("dev-*/*", "*/*");
    let error = load_table(tampered.as_bytes(), None).unwrap_err();
    assert!(
        matches!(error, TableFileError::DigestMismatch { .. }),
        "{error}"
    );
}

#[test]
fn unsigned_file_rejected_with_key() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let (_, public_key_path) = signed_table(directory.path());
    let public_key = fs::read(&public_key_path).expect("public key");
    let table_path = directory.path().join("unsigned.table");
    let compile = run(&[
        "compile",
        "clean",
        "-o",
        table_path.to_str().expect("UTF-8 path"),
    ]);
    assert_eq!(exit_code(&compile), 0);
    let bytes = fs::read(&table_path).expect("table file");
    let error = load_table(&bytes, Some(&public_key)).unwrap_err();
    assert!(matches!(error, TableFileError::Unsigned), "{error}");
    assert!(load_table(&bytes, None).is_ok());
}

#[test]
fn compile_rejects_invalid_policies() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let table_path = directory.path().join("broken.table");
    let output = run(&[
        "compile",
        "errors",
        "-o",
        table_path.to_str().expect("UTF-8 path"),
    ]);
    assert_eq!(exit_code(&output), 2);
    assert!(!table_path.exists());
}

#[test]
fn keygen_refuses_overwrite() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let prefix = directory.path().join("key");
    let prefix = prefix.to_str().expect("UTF-8 path");
    assert_eq!(exit_code(&run(&["keygen", "--out", prefix])), 0);
    let again = run(&["keygen", "--out", prefix]);
    assert_eq!(exit_code(&again), 2);
    assert!(
        stderr(&again).contains("never overwrites a key"),
        "{}",
        stderr(&again)
    );
}
