//! Tests for the request body parsers: `Delete`, `CompleteMultipartUpload`
//! and `CreateBucketConfiguration`, their limits and their errors.

use ironbucket_s3::ErrorCode;
use ironbucket_s3::xml::parse::{
    CompletedPart, check_location_constraint, parse_complete_multipart_upload,
    parse_create_bucket_configuration, parse_delete,
};

fn delete_error(body: &str) -> ErrorCode {
    parse_delete(body.as_bytes())
        .expect_err("the body is rejected")
        .code
}

fn complete_error(body: &str) -> ErrorCode {
    parse_complete_multipart_upload(body.as_bytes())
        .expect_err("the body is rejected")
        .code
}

#[test]
fn delete_parses_keys_and_versions() {
    let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Object><Key>a.txt</Key></Object>
  <Object><Key>b.txt</Key><VersionId>null</VersionId></Object>
</Delete>"#;
    let request = parse_delete(body.as_bytes()).expect("parses");
    assert!(!request.quiet);
    assert_eq!(request.objects.len(), 2);
    assert_eq!(request.objects[0].key, "a.txt");
    assert_eq!(request.objects[0].version_id, None);
    assert_eq!(request.objects[1].version_id.as_deref(), Some("null"));
}

#[test]
fn delete_reads_quiet_flag() {
    let body = "<Delete><Quiet>true</Quiet><Object><Key>k</Key></Object></Delete>";
    assert!(parse_delete(body.as_bytes()).expect("parses").quiet);
}

#[test]
fn delete_keeps_key_whitespace() {
    let body = "<Delete><Object><Key>  spaced key \t</Key></Object></Delete>";
    let request = parse_delete(body.as_bytes()).expect("parses");
    assert_eq!(request.objects[0].key, "  spaced key \t");
}

#[test]
fn delete_unescapes_entities_and_cdata() {
    let body = "<Delete><Object><Key>a&amp;b&lt;c&#x41;&#66;&quot;<![CDATA[<raw>]]></Key></Object></Delete>";
    let request = parse_delete(body.as_bytes()).expect("parses");
    assert_eq!(request.objects[0].key, "a&b<cAB\"<raw>");
}

#[test]
fn delete_ignores_namespace_prefixes() {
    let body = r#"<s3:Delete xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:Object><s3:Key>k</s3:Key></s3:Object></s3:Delete>"#;
    let request = parse_delete(body.as_bytes()).expect("parses");
    assert_eq!(request.objects[0].key, "k");
}

#[test]
fn delete_ignores_unknown_elements() {
    let body = "<Delete><Object><Key>k</Key><ETag>x</ETag><Size>1</Size></Object><Extra/></Delete>";
    let request = parse_delete(body.as_bytes()).expect("parses");
    assert_eq!(request.objects.len(), 1);
}

#[test]
fn delete_accepts_thousand_objects() {
    let objects: String = (0..1000)
        .map(|index| format!("<Object><Key>k{index}</Key></Object>"))
        .collect();
    let body = format!("<Delete>{objects}</Delete>");
    assert_eq!(
        parse_delete(body.as_bytes()).expect("parses").objects.len(),
        1000
    );
}

#[test]
fn delete_rejects_thousand_and_one() {
    let objects: String = (0..1001)
        .map(|index| format!("<Object><Key>k{index}</Key></Object>"))
        .collect();
    assert_eq!(
        delete_error(&format!("<Delete>{objects}</Delete>")),
        ErrorCode::MalformedXML
    );
}

#[test]
fn delete_malformed_inputs_rejected() {
    let cases = [
        "",
        "not xml",
        "<Delete></Delete>",
        "<Delete><Object></Object></Delete>",
        "<Delete><Object><Key></Key></Object></Delete>",
        "<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>",
        "<Delete><Quiet>yes</Quiet><Object><Key>k</Key></Object></Delete>",
        "<Remove><Object><Key>k</Key></Object></Remove>",
        "<Delete><Object><Key>k</Key></Object>",
        "<Delete><Object><Key>k</Object></Key></Delete>",
        "<Delete><Object><Key>k</Key></Object></Delete><Delete/>",
        "<Delete><Object><Key>&unknown;</Key></Object></Delete>",
        "<Delete><Object><Key>&#0;</Key></Object></Delete>",
        "<Delete>text<Object><Key>k</Key></Object></Delete>trailing",
    ];
    for body in cases {
        assert_eq!(delete_error(body), ErrorCode::MalformedXML, "{body:?}");
    }
}

#[test]
fn delete_rejects_doctype_entities() {
    let body = r#"<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "expanded">]><Delete><Object><Key>&x;</Key></Object></Delete>"#;
    assert_eq!(delete_error(body), ErrorCode::MalformedXML);
}

#[test]
fn delete_rejects_deep_nesting() {
    let body = format!(
        "<Delete><Object><Key>k</Key></Object>{}{}</Delete>",
        "<a>".repeat(20),
        "</a>".repeat(20)
    );
    assert_eq!(delete_error(&body), ErrorCode::MalformedXML);
}

#[test]
fn delete_rejects_invalid_utf8() {
    let body = b"<Delete><Object><Key>\xff\xfe</Key></Object></Delete>";
    let error = parse_delete(body).expect_err("rejected");
    assert_eq!(error.code, ErrorCode::MalformedXML);
}

#[test]
fn complete_parses_parts() {
    let body = r#"<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Part><PartNumber>1</PartNumber><ETag>"a54357aff0632cce46d942af68356b38"</ETag></Part>
  <Part><ETag>&quot;0c78aef83f66abc1fa1e8477f296d394&quot;</ETag><PartNumber>2</PartNumber></Part>
  <Part><PartNumber>5</PartNumber><ETag>acbd18db4cc2f85cedef654fccc4a4d8</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>
</CompleteMultipartUpload>"#;
    let parts = parse_complete_multipart_upload(body.as_bytes()).expect("parses");
    let expected = vec![
        CompletedPart {
            part_number: 1,
            etag: "a54357aff0632cce46d942af68356b38".to_owned(),
        },
        CompletedPart {
            part_number: 2,
            etag: "0c78aef83f66abc1fa1e8477f296d394".to_owned(),
        },
        CompletedPart {
            part_number: 5,
            etag: "acbd18db4cc2f85cedef654fccc4a4d8".to_owned(),
        },
    ];
    assert_eq!(parts, expected);
}

#[test]
fn complete_rejects_descending_parts() {
    let body = "<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>a</ETag></Part>\
<Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>";
    assert_eq!(complete_error(body), ErrorCode::InvalidPartOrder);
}

#[test]
fn complete_rejects_duplicate_parts() {
    let body = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part>\
<Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>";
    assert_eq!(complete_error(body), ErrorCode::InvalidPartOrder);
}

#[test]
fn complete_rejects_out_of_range_numbers() {
    for number in ["0", "10001", "99999999999"] {
        let body = format!(
            "<CompleteMultipartUpload><Part><PartNumber>{number}</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>"
        );
        assert_eq!(
            complete_error(&body),
            ErrorCode::InvalidArgument,
            "{number}"
        );
    }
}

#[test]
fn complete_malformed_inputs_rejected() {
    let cases = [
        "<CompleteMultipartUpload></CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><ETag>a</ETag></Part></CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>-1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
        "<Complete><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></Complete>",
    ];
    for body in cases {
        assert_eq!(complete_error(body), ErrorCode::MalformedXML, "{body}");
    }
}

#[test]
fn complete_accepts_ten_thousand_parts() {
    let parts: String = (1..=10_000)
        .map(|number| format!("<Part><PartNumber>{number}</PartNumber><ETag>e</ETag></Part>"))
        .collect();
    let body = format!("<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>");
    let parsed = parse_complete_multipart_upload(body.as_bytes()).expect("parses");
    assert_eq!(parsed.len(), 10_000);
}

#[test]
fn create_bucket_empty_body_none() {
    assert_eq!(
        parse_create_bucket_configuration(b"").expect("parses"),
        None
    );
    assert_eq!(
        parse_create_bucket_configuration(b" \r\n").expect("parses"),
        None
    );
}

#[test]
fn create_bucket_reads_constraint() {
    let body = br#"<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>"#;
    let constraint = parse_create_bucket_configuration(body).expect("parses");
    assert_eq!(constraint.as_deref(), Some("eu-west-1"));
}

#[test]
fn create_bucket_empty_constraint_none() {
    let body = b"<CreateBucketConfiguration><LocationConstraint/></CreateBucketConfiguration>";
    assert_eq!(
        parse_create_bucket_configuration(body).expect("parses"),
        None
    );
}

#[test]
fn create_bucket_malformed_rejected() {
    let error = parse_create_bucket_configuration(b"<Wrong/>").expect_err("rejected");
    assert_eq!(error.code, ErrorCode::MalformedXML);
}

#[test]
fn location_constraint_checks() {
    assert!(check_location_constraint(None, "eu-central-1").is_ok());
    assert!(check_location_constraint(Some("eu-central-1"), "eu-central-1").is_ok());
    assert!(check_location_constraint(Some("EU"), "eu-west-1").is_ok());
    let mismatch =
        check_location_constraint(Some("us-west-2"), "eu-central-1").expect_err("rejected");
    assert_eq!(mismatch.code, ErrorCode::IllegalLocationConstraintException);
    let garbage =
        check_location_constraint(Some("Not A Region"), "eu-central-1").expect_err("rejected");
    assert_eq!(garbage.code, ErrorCode::InvalidLocationConstraint);
}
