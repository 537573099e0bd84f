//! Robustness: arbitrary and corrupted inputs never panic, and every diagnostic points inside
//! the file it names.

use ironbucket_policy::{SourceFile, compile};
use proptest::prelude::*;

const VALID: &str = r#"version: "1.0"
policies:
  - id: read
    description: readers read
    effect: Allow
    principals: [{type: role, values: [reader]}, {type: "*"}]
    actions: ["s3:Get*", s3:ListBucket]
    resources: ["arn:aws:s3:::data", "arn:aws:s3:::data/*"]
    conditions:
      - {type: IpAddress, key: aws:SourceIp, values: [10.0.0.0/8]}
      - {type: Bool, key: aws:SecureTransport, value: true}
    audit: true
"#;

/// Checks that every diagnostic's line and column lie within `text`.
fn assert_positions_inside(text: &str, sources: &[SourceFile]) -> Result<(), TestCaseError> {
    let compilation = compile(sources);
    let line_count = text.split('\n').count() as u32;
    for diagnostic in &compilation.diagnostics {
        prop_assert!(diagnostic.line >= 1, "line below 1: {diagnostic}");
        prop_assert!(
            diagnostic.line <= line_count,
            "line past the end: {diagnostic}"
        );
        prop_assert!(diagnostic.column >= 1, "column below 1: {diagnostic}");
    }
    prop_assert_eq!(compilation.table.is_none(), compilation.has_errors());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in "[ -~\n\t\u{e9}]{0,200}") {
        let sources = [SourceFile::new("random.yaml", text.clone())];
        assert_positions_inside(&text, &sources)?;
    }

    #[test]
    fn yaml_punctuation_never_panics(
        text in proptest::collection::vec(
            prop::sample::select(&[
                "version: ", "\"1.0\"", "policies:", "\n", "  ", "- ", "id: ", "x", "{", "}",
                "[", "]", ", ", ": ", "&a ", "*a", "---\n", "#", "'", "\"", "!!str ", "? ",
            ][..]),
            0..60,
        ).prop_map(|parts| parts.concat())
    ) {
        let sources = [SourceFile::new("punctuation.yaml", text.clone())];
        assert_positions_inside(&text, &sources)?;
    }

    #[test]
    fn corrupted_policy_never_panics(
        cut in 0..VALID.len(),
        length in 0usize..12,
        insert in "[ -~\n]{0,4}",
    ) {
        let start = cut;
        let end = (cut + length).min(VALID.len());
        let text = format!("{}{insert}{}", &VALID[..start], &VALID[end..]);
        let sources = [SourceFile::new("corrupted.yaml", text.clone())];
        assert_positions_inside(&text, &sources)?;
    }
}

#[test]
fn valid_base_document_compiles() {
    let compilation = compile(&[SourceFile::new("valid.yaml", VALID)]);
    assert!(!compilation.has_errors(), "{:?}", compilation.diagnostics);
}
