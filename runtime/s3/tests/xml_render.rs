//! Golden-output tests for every rendered S3 document, including escaping of
//! markup and control characters and `encoding-type=url`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ironbucket_s3::ErrorCode;
use ironbucket_s3::params::EncodingType;
use ironbucket_s3::xml::render::{
    BucketEntry, CompleteMultipartUploadResult, CopyResult, DeleteErrorEntry, DeleteResult,
    DeletedEntry, InitiateMultipartUploadResult, ListAllMyBucketsResult,
    ListMultipartUploadsResult, ListObjectsResult, ListObjectsV2Result, ListPartsResult,
    ListVersionsResult, ObjectEntry, Owner, PartEntry, UploadEntry, access_control_policy_xml,
    location_constraint_xml, versioning_configuration_xml,
};

const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
const NS: &str = "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"";

/// 2024-01-02T03:04:05.678Z.
fn sample_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(1_704_164_645_678)
}

fn owner() -> Owner<'static> {
    Owner {
        id: "tenant-a",
        display_name: "Tenant A",
    }
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("rendered XML is UTF-8")
}

fn object(key: &str) -> ObjectEntry<'_> {
    ObjectEntry {
        key,
        last_modified: sample_time(),
        etag: "9b2cf535f27731c974343645a3985328",
        size: 1234,
        storage_class: None,
    }
}

#[test]
fn list_buckets_golden() {
    let buckets = [
        BucketEntry {
            name: "alpha",
            creation_date: UNIX_EPOCH + Duration::from_secs(1_704_164_645),
        },
        BucketEntry {
            name: "beta",
            creation_date: sample_time(),
        },
    ];
    let document = ListAllMyBucketsResult {
        owner: owner(),
        buckets: &buckets,
        continuation_token: None,
        prefix: None,
    };
    let expected = format!(
        "{DECLARATION}<ListAllMyBucketsResult {NS}><Owner><ID>tenant-a</ID><DisplayName>Tenant A</DisplayName></Owner>\
<Buckets><Bucket><Name>alpha</Name><CreationDate>2024-01-02T03:04:05.000Z</CreationDate></Bucket>\
<Bucket><Name>beta</Name><CreationDate>2024-01-02T03:04:05.678Z</CreationDate></Bucket></Buckets>\
</ListAllMyBucketsResult>"
    );
    assert_eq!(text(document.to_xml()), expected);
}

#[test]
fn list_objects_v2_golden() {
    let contents = [object("photos/a.jpg")];
    let prefixes = ["photos/2024/".to_owned()];
    let document = ListObjectsV2Result {
        bucket: "media",
        prefix: "photos/",
        delimiter: Some("/"),
        max_keys: 2,
        is_truncated: true,
        continuation_token: Some("token-1"),
        next_continuation_token: Some("token-2"),
        start_after: Some("photos/0"),
        encoding_type: None,
        contents: &contents,
        common_prefixes: &prefixes,
        owner: None,
    };
    let expected = format!(
        "{DECLARATION}<ListBucketResult {NS}><Name>media</Name><Prefix>photos/</Prefix>\
<ContinuationToken>token-1</ContinuationToken><NextContinuationToken>token-2</NextContinuationToken>\
<StartAfter>photos/0</StartAfter><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><Delimiter>/</Delimiter>\
<IsTruncated>true</IsTruncated><Contents><Key>photos/a.jpg</Key>\
<LastModified>2024-01-02T03:04:05.678Z</LastModified>\
<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>1234</Size>\
<StorageClass>STANDARD</StorageClass></Contents>\
<CommonPrefixes><Prefix>photos/2024/</Prefix></CommonPrefixes></ListBucketResult>"
    );
    assert_eq!(text(document.to_xml()), expected);
}

#[test]
fn list_objects_v2_minimal_golden() {
    let document = ListObjectsV2Result {
        bucket: "empty",
        prefix: "",
        delimiter: None,
        max_keys: 1000,
        is_truncated: false,
        continuation_token: None,
        next_continuation_token: None,
        start_after: None,
        encoding_type: None,
        contents: &[],
        common_prefixes: &[],
        owner: None,
    };
    let expected = format!(
        "{DECLARATION}<ListBucketResult {NS}><Name>empty</Name><Prefix></Prefix><KeyCount>0</KeyCount>\
<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>"
    );
    assert_eq!(text(document.to_xml()), expected);
}

#[test]
fn list_objects_v2_fetch_owner() {
    let contents = [object("k")];
    let document = ListObjectsV2Result {
        bucket: "b",
        prefix: "",
        delimiter: None,
        max_keys: 1000,
        is_truncated: false,
        continuation_token: None,
        next_continuation_token: None,
        start_after: None,
        encoding_type: None,
        contents: &contents,
        common_prefixes: &[],
        owner: Some(owner()),
    };
    let rendered = text(document.to_xml());
    let expected = "<Size>1234</Size><Owner><ID>tenant-a</ID><DisplayName>Tenant A</DisplayName></Owner>\
<StorageClass>STANDARD</StorageClass>";
    assert!(rendered.contains(expected), "{rendered}");
}

#[test]
fn list_objects_v2_url_encoding() {
    let contents = [object("a b+c/ä&<x>.txt")];
    let prefixes = ["dir one/".to_owned()];
    let document = ListObjectsV2Result {
        bucket: "b",
        prefix: "a b",
        delimiter: Some("/"),
        max_keys: 1000,
        is_truncated: false,
        continuation_token: Some("opaque+token"),
        next_continuation_token: None,
        start_after: Some("a b"),
        encoding_type: Some(EncodingType::Url),
        contents: &contents,
        common_prefixes: &prefixes,
        owner: None,
    };
    let rendered = text(document.to_xml());
    assert!(rendered.contains("<Prefix>a%20b</Prefix>"), "{rendered}");
    assert!(
        rendered.contains("<Key>a%20b%2Bc/%C3%A4%26%3Cx%3E.txt</Key>"),
        "{rendered}"
    );
    assert!(
        rendered.contains("<StartAfter>a%20b</StartAfter>"),
        "{rendered}"
    );
    assert!(rendered.contains("<Delimiter>/</Delimiter>"), "{rendered}");
    assert!(
        rendered.contains("<EncodingType>url</EncodingType>"),
        "{rendered}"
    );
    assert!(
        rendered.contains("<CommonPrefixes><Prefix>dir%20one/</Prefix>"),
        "{rendered}"
    );
    // Continuation tokens are opaque and never URL-encoded.
    assert!(
        rendered.contains("<ContinuationToken>opaque+token</ContinuationToken>"),
        "{rendered}"
    );
}

#[test]
fn url_encoding_removes_control_characters() {
    let contents = [object("line\nbreak\u{1}")];
    let document = ListObjectsV2Result {
        bucket: "b",
        prefix: "",
        delimiter: None,
        max_keys: 1000,
        is_truncated: false,
        continuation_token: None,
        next_continuation_token: None,
        start_after: None,
        encoding_type: Some(EncodingType::Url),
        contents: &contents,
        common_prefixes: &[],
        owner: None,
    };
    let rendered = text(document.to_xml());
    assert!(
        rendered.contains("<Key>line%0Abreak%01</Key>"),
        "{rendered}"
    );
}

#[test]
fn keys_escape_markup_and_controls() {
    let contents = [object("<a&b>\"c'\r\n\t\u{1f}\u{0}é")];
    let document = ListObjectsV2Result {
        bucket: "b",
        prefix: "",
        delimiter: None,
        max_keys: 1000,
        is_truncated: false,
        continuation_token: None,
        next_continuation_token: None,
        start_after: None,
        encoding_type: None,
        contents: &contents,
        common_prefixes: &[],
        owner: None,
    };
    let rendered = text(document.to_xml());
    let expected = "<Key>&lt;a&amp;b&gt;&quot;c&apos;&#xD;&#xA;&#x9;&#x1F;&#x0;é</Key>";
    assert!(rendered.contains(expected), "{rendered}");
}

#[test]
fn escaped_key_round_trips_through_reader() {
    let key = "<a&b>\"c'\r\n\tend";
    let contents = [object(key)];
    let document = ListObjectsV2Result {
        bucket: "b",
        prefix: "",
        delimiter: None,
        max_keys: 1000,
        is_truncated: false,
        continuation_token: None,
        next_continuation_token: None,
        start_after: None,
        encoding_type: None,
        contents: &contents,
        common_prefixes: &[],
        owner: None,
    };
    let rendered = document.to_xml();
    // A Delete document reuses the same escaping, and its parser must read
    // the key back byte for byte.
    let start = rendered
        .windows(5)
        .position(|w| w == b"<Key>")
        .expect("has a key")
        + 5;
    let end = rendered
        .windows(6)
        .position(|w| w == b"</Key>")
        .expect("has a key end");
    let body = [
        b"<Delete><Object><Key>".as_slice(),
        &rendered[start..end],
        b"</Key></Object></Delete>",
    ]
    .concat();
    let parsed = ironbucket_s3::xml::parse::parse_delete(&body).expect("parses");
    assert_eq!(parsed.objects[0].key, key);
}

#[test]
fn list_objects_v1_golden() {
    let contents = [object("a")];
    let prefixes = ["p/".to_owned()];
    let document = ListObjectsResult {
        bucket: "b",
        prefix: "",
        marker: "",
        next_marker: Some("p/"),
        delimiter: Some("/"),
        max_keys: 2,
        is_truncated: true,
        encoding_type: None,
        contents: &contents,
        common_prefixes: &prefixes,
        owner: owner(),
    };
    let expected = format!(
        "{DECLARATION}<ListBucketResult {NS}><Name>b</Name><Prefix></Prefix><Marker></Marker>\
<NextMarker>p/</NextMarker><MaxKeys>2</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>\
<Contents><Key>a</Key><LastModified>2024-01-02T03:04:05.678Z</LastModified>\
<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>1234</Size>\
<Owner><ID>tenant-a</ID><DisplayName>Tenant A</DisplayName></Owner><StorageClass>STANDARD</StorageClass>\
</Contents><CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes></ListBucketResult>"
    );
    assert_eq!(text(document.to_xml()), expected);
}

#[test]
fn v1_next_marker_needs_delimiter() {
    let document = ListObjectsResult {
        bucket: "b",
        prefix: "",
        marker: "m",
        next_marker: Some("z"),
        delimiter: None,
        max_keys: 1,
        is_truncated: true,
        encoding_type: None,
        contents: &[],
        common_prefixes: &[],
        owner: owner(),
    };
    let rendered = text(document.to_xml());
    assert!(!rendered.contains("NextMarker"), "{rendered}");
}

#[test]
fn list_versions_golden() {
    let versions = [ObjectEntry {
        storage_class: Some("STANDARD_IA"),
        ..object("k")
    }];
    let document = ListVersionsResult {
        bucket: "b",
        prefix: "",
        key_marker: "",
        version_id_marker: "",
        next_key_marker: Some("k"),
        next_version_id_marker: Some("null"),
        delimiter: None,
        max_keys: 1,
        is_truncated: true,
        encoding_type: None,
        versions: &versions,
        common_prefixes: &[],
        owner: owner(),
    };
    let expected = format!(
        "{DECLARATION}<ListVersionsResult {NS}><Name>b</Name><Prefix></Prefix><KeyMarker></KeyMarker>\
<VersionIdMarker></VersionIdMarker><NextKeyMarker>k</NextKeyMarker><NextVersionIdMarker>null</NextVersionIdMarker>\
<MaxKeys>1</MaxKeys><IsTruncated>true</IsTruncated><Version><Key>k</Key><VersionId>null</VersionId>\
<IsLatest>true</IsLatest><LastModified>2024-01-02T03:04:05.678Z</LastModified>\
<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>1234</Size>\
<Owner><ID>tenant-a</ID><DisplayName>Tenant A</DisplayName></Owner><StorageClass>STANDARD_IA</StorageClass>\
</Version></ListVersionsResult>"
    );
    assert_eq!(text(document.to_xml()), expected);
}

#[test]
fn initiate_multipart_golden() {
    let document = InitiateMultipartUploadResult {
        bucket: "b",
        key: "big & large",
        upload_id: "upload-1",
    };
    let expected = format!(
        "{DECLARATION}<InitiateMultipartUploadResult {NS}><Bucket>b</Bucket><Key>big &amp; large</Key>\
<UploadId>upload-1</UploadId></InitiateMultipartUploadResult>"
    );
    assert_eq!(text(document.to_xml()), expected);
}

#[test]
fn complete_multipart_golden() {
    let document = CompleteMultipartUploadResult {
        location: "http://s3.local/b/k",
        bucket: "b",
        key: "k",
        etag: "\"3858f62230ac3c915f300c664312c11f-9\"",
    };
    let expected = format!(
        "{DECLARATION}<CompleteMultipartUploadResult {NS}><Location>http://s3.local/b/k</Location>\
<Bucket>b</Bucket><Key>k</Key><ETag>&quot;3858f62230ac3c915f300c664312c11f-9&quot;</ETag>\
</CompleteMultipartUploadResult>"
    );
    assert_eq!(text(document.to_xml()), expected);
}

#[test]
fn list_parts_golden() {
    let parts = [PartEntry {
        part_number: 1,
        last_modified: sample_time(),
        etag: "aa",
        size: 5_242_880,
    }];
    let document = ListPartsResult {
        bucket: "b",
        key: "k",
        upload_id: "u",
        owner: owner(),
        storage_class: None,
        part_number_marker: 0,
        next_part_number_marker: 1,
        max_parts: 1000,
        is_truncated: false,
        parts: &parts,
    };
    let expected = format!(
        "{DECLARATION}<ListPartsResult {NS}><Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId>\
<Initiator><ID>tenant-a</ID><DisplayName>Tenant A</DisplayName></Initiator>\
<Owner><ID>tenant-a</ID><DisplayName>Tenant A</DisplayName></Owner><StorageClass>STANDARD</StorageClass>\
<PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>1</NextPartNumberMarker><MaxParts>1000</MaxParts>\
<IsTruncated>false</IsTruncated><Part><PartNumber>1</PartNumber>\
<LastModified>2024-01-02T03:04:05.678Z</LastModified><ETag>&quot;aa&quot;</ETag><Size>5242880</Size></Part>\
</ListPartsResult>"
    );
    assert_eq!(text(document.to_xml()), expected);
}

#[test]
fn list_multipart_uploads_golden() {
    let uploads = [UploadEntry {
        key: "k",
        upload_id: "u1",
        initiated: sample_time(),
    }];
    let document = ListMultipartUploadsResult {
        bucket: "b",
        key_marker: "",
        upload_id_marker: "",
        next_key_marker: "",
        next_upload_id_marker: "",
        prefix: "",
        delimiter: None,
        max_uploads: 1000,
        is_truncated: false,
        encoding_type: None,
        uploads: &uploads,
        common_prefixes: &[],
        owner: owner(),
    };
    let expected = format!(
        "{DECLARATION}<ListMultipartUploadsResult {NS}><Bucket>b</Bucket><KeyMarker></KeyMarker>\
<UploadIdMarker></UploadIdMarker><NextKeyMarker></NextKeyMarker><NextUploadIdMarker></NextUploadIdMarker>\
<Prefix></Prefix><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated><Upload><Key>k</Key>\
<UploadId>u1</UploadId><Initiator><ID>tenant-a</ID><DisplayName>Tenant A</DisplayName></Initiator>\
<Owner><ID>tenant-a</ID><DisplayName>Tenant A</DisplayName></Owner><StorageClass>STANDARD</StorageClass>\
<Initiated>2024-01-02T03:04:05.678Z</Initiated></Upload></ListMultipartUploadsResult>"
    );
    assert_eq!(text(document.to_xml()), expected);
}

#[test]
fn copy_object_result_golden() {
    let document = CopyResult {
        etag: "abc",
        last_modified: sample_time(),
    };
    let expected = format!(
        "{DECLARATION}<CopyObjectResult {NS}><LastModified>2024-01-02T03:04:05.678Z</LastModified>\
<ETag>&quot;abc&quot;</ETag></CopyObjectResult>"
    );
    assert_eq!(text(document.to_copy_object_xml()), expected);
}

#[test]
fn copy_part_result_golden() {
    let document = CopyResult {
        etag: "\"abc\"",
        last_modified: sample_time(),
    };
    let expected = format!(
        "{DECLARATION}<CopyPartResult {NS}><LastModified>2024-01-02T03:04:05.678Z</LastModified>\
<ETag>&quot;abc&quot;</ETag></CopyPartResult>"
    );
    assert_eq!(text(document.to_copy_part_xml()), expected);
}

fn delete_document(quiet: bool) -> String {
    let deleted = [
        DeletedEntry {
            key: "a",
            version_id: None,
        },
        DeletedEntry {
            key: "b",
            version_id: Some("null"),
        },
    ];
    let errors = [DeleteErrorEntry {
        key: "c<",
        version_id: None,
        code: ErrorCode::AccessDenied,
        message: "Access Denied",
    }];
    text(
        DeleteResult {
            quiet,
            deleted: &deleted,
            errors: &errors,
        }
        .to_xml(),
    )
}

#[test]
fn delete_result_golden() {
    let expected = format!(
        "{DECLARATION}<DeleteResult {NS}><Deleted><Key>a</Key></Deleted>\
<Deleted><Key>b</Key><VersionId>null</VersionId></Deleted>\
<Error><Key>c&lt;</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error></DeleteResult>"
    );
    assert_eq!(delete_document(false), expected);
}

#[test]
fn delete_result_quiet_lists_errors() {
    let expected = format!(
        "{DECLARATION}<DeleteResult {NS}>\
<Error><Key>c&lt;</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error></DeleteResult>"
    );
    assert_eq!(delete_document(true), expected);
}

#[test]
fn location_constraint_us_east_empty() {
    let expected = format!("{DECLARATION}<LocationConstraint {NS}/>");
    assert_eq!(text(location_constraint_xml("us-east-1")), expected);
}

#[test]
fn location_constraint_other_region() {
    let expected = format!("{DECLARATION}<LocationConstraint {NS}>eu-west-1</LocationConstraint>");
    assert_eq!(text(location_constraint_xml("eu-west-1")), expected);
}

#[test]
fn access_control_policy_golden() {
    let expected = format!(
        "{DECLARATION}<AccessControlPolicy {NS}><Owner><ID>tenant-a</ID><DisplayName>Tenant A</DisplayName></Owner>\
<AccessControlList><Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\">\
<ID>tenant-a</ID><DisplayName>Tenant A</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant>\
</AccessControlList></AccessControlPolicy>"
    );
    assert_eq!(text(access_control_policy_xml(&owner())), expected);
}

#[test]
fn owner_values_are_escaped() {
    let rendered = text(access_control_policy_xml(&Owner {
        id: "a\"b",
        display_name: "<x & y>",
    }));
    assert!(
        rendered.contains("<DisplayName>&lt;x &amp; y&gt;</DisplayName>"),
        "{rendered}"
    );
    assert!(rendered.contains("<ID>a&quot;b</ID>"), "{rendered}");
}

#[test]
fn versioning_configuration_empty() {
    let expected = format!("{DECLARATION}<VersioningConfiguration {NS}/>");
    assert_eq!(text(versioning_configuration_xml()), expected);
}

#[test]
fn thousand_key_listing_is_well_formed() {
    let keys: Vec<String> = (0..1000)
        .map(|index| format!("dir/key-{index:04} & more"))
        .collect();
    let contents: Vec<ObjectEntry<'_>> = keys.iter().map(|key| object(key)).collect();
    let document = ListObjectsV2Result {
        bucket: "b",
        prefix: "dir/",
        delimiter: None,
        max_keys: 1000,
        is_truncated: false,
        continuation_token: None,
        next_continuation_token: None,
        start_after: None,
        encoding_type: None,
        contents: &contents,
        common_prefixes: &[],
        owner: None,
    };
    let rendered = text(document.to_xml());
    assert_eq!(rendered.matches("<Contents>").count(), 1000);
    assert!(rendered.contains("<KeyCount>1000</KeyCount>"));
    assert!(rendered.contains("<Key>dir/key-0999 &amp; more</Key>"));
}
