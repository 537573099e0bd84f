//! The storage layout: the path of each piece of state in the backend, the encoding of S3
//! keys as file names, and the validation of every name that reaches a path (bucket names,
//! keys, upload and blob ids).
//!
//! All paths are relative to the OpenDAL operator root. Internal directories start with `_`,
//! which no valid bucket name can, so they never collide with a bucket directory.

use aws_lc_rs::digest;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, percent_encode};

use crate::error::{ErrorKind, StorageError};

/// S3's maximum key length in bytes.
pub const MAX_KEY_LEN: usize = 1024;

/// Encoded names longer than this use the hashed form. Linux allows 255 bytes per file name,
/// and OpenDAL's fs service appends `.` and 8 random characters for its temporary file.
const MAX_PLAIN_NAME_LEN: usize = 200;

/// Bytes of the encoded key kept readable at the start of a hashed name.
const HASHED_PREFIX_LEN: usize = 120;

/// Marks a hashed name. `~` is always percent-encoded in plain names, so it cannot start one.
const HASHED_MARKER: char = '~';

/// Key bytes that stay as they are in a file name: ASCII letters, digits, `-` and `_`.
/// Everything else, including `.`, `/`, `%`, `~` and all non-ASCII bytes, is percent-encoded,
/// so a name is never `.` or `..` and never contains a path separator.
const NAME_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_');

/// Directory of bucket records, one file per bucket.
pub(crate) const BUCKETS_DIR: &str = "_buckets/";

/// Directory that OpenDAL's fs service writes temporary files to before renaming them into
/// place. It lives under the root so that the rename stays on one file system.
pub(crate) const TMP_DIR: &str = "_tmp";

/// Path of the record of `bucket`.
pub(crate) fn bucket_record(bucket: &str) -> String {
    format!("{BUCKETS_DIR}{bucket}")
}

/// Directory that contains the object records of `bucket`.
pub(crate) fn object_dir(bucket: &str) -> String {
    format!("{bucket}/")
}

/// Path of the record of `key` in `bucket`.
pub(crate) fn object_record(bucket: &str, key: &str) -> String {
    format!("{bucket}/{}", encode_key(key))
}

/// Path of the data blob `id`. Blobs are spread over 256 directories by their first two hex
/// digits so that no directory grows too large.
pub(crate) fn blob(id: &str) -> String {
    format!("_blobs/{}/{id}", &id[..2])
}

/// Directory of the upload records of `bucket`.
pub(crate) fn upload_dir(bucket: &str) -> String {
    format!("_uploads/{bucket}/")
}

/// Path of the record of upload `upload_id` in `bucket`.
pub(crate) fn upload_record(bucket: &str, upload_id: &str) -> String {
    format!("_uploads/{bucket}/{upload_id}")
}

/// Directory of the part directories of all uploads of `bucket`.
pub(crate) fn part_bucket_dir(bucket: &str) -> String {
    format!("_parts/{bucket}/")
}

/// Directory of the part records of upload `upload_id`.
pub(crate) fn part_dir(bucket: &str, upload_id: &str) -> String {
    format!("_parts/{bucket}/{upload_id}/")
}

/// Path of the record of part `part_number`. Five digits keep the names in numeric order.
pub(crate) fn part_record(bucket: &str, upload_id: &str, part_number: u32) -> String {
    format!("_parts/{bucket}/{upload_id}/{part_number:05}")
}

/// Parses a part record name written by [`part_record`].
pub(crate) fn parse_part_name(name: &str) -> Option<u32> {
    if name.len() != 5 || !name.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let number = name.parse().ok()?;
    (1..=MAX_PART_NUMBER).contains(&number).then_some(number)
}

/// S3's highest part number.
pub const MAX_PART_NUMBER: u32 = 10_000;

/// Encodes `key` as a file name.
///
/// Short keys are percent-encoded and can be decoded back. Keys whose encoding is longer than
/// 200 bytes become `~`, the encoding of the key's first characters (at most 120 bytes), `~`
/// and the hex SHA-256 of the key. The full key is then read from the record.
pub(crate) fn encode_key(key: &str) -> String {
    let encoded = percent_encode(key.as_bytes(), NAME_ENCODE_SET).to_string();
    if encoded.len() <= MAX_PLAIN_NAME_LEN {
        return encoded;
    }
    // The readable prefix is cut at a character boundary of the key, so that it decodes.
    let mut prefix_len = 0;
    let mut encoded_len = 0;
    for character in key.chars() {
        let piece_len = if character.is_ascii_alphanumeric() || character == '-' || character == '_'
        {
            1
        } else {
            3 * character.len_utf8()
        };
        if encoded_len + piece_len > HASHED_PREFIX_LEN {
            break;
        }
        encoded_len += piece_len;
        prefix_len += character.len_utf8();
    }
    let hash = digest::digest(&digest::SHA256, key.as_bytes());
    format!(
        "{HASHED_MARKER}{}{HASHED_MARKER}{}",
        percent_encode(&key.as_bytes()[..prefix_len], NAME_ENCODE_SET),
        hex::encode(hash.as_ref())
    )
}

/// The key information that a file name in a bucket directory contains.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DecodedName {
    /// The name encodes the whole key.
    Key(String),
    /// The name is hashed; the key starts with this prefix and the record has the rest.
    Hashed { prefix: String },
}

/// Decodes a file name written by [`encode_key`]. Returns `None` for names this adapter never
/// writes, such as files placed in the directory by hand.
pub(crate) fn decode_name(name: &str) -> Option<DecodedName> {
    if let Some(rest) = name.strip_prefix(HASHED_MARKER) {
        let (prefix, hash) = rest.split_once(HASHED_MARKER)?;
        if hash.len() != 64 || !hash.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return None;
        }
        let prefix = decode_exact(prefix)?;
        return Some(DecodedName::Hashed { prefix });
    }
    let key = decode_exact(name)?;
    (!key.is_empty() && encode_key(&key) == name).then_some(DecodedName::Key(key))
}

/// Percent-decodes `text`, accepting only the exact encoding this module produces, so that
/// every key has exactly one file name.
fn decode_exact(text: &str) -> Option<String> {
    let decoded = percent_decode_str(text).decode_utf8().ok()?.into_owned();
    let reencoded = percent_encode(decoded.as_bytes(), NAME_ENCODE_SET).to_string();
    (reencoded == text).then_some(decoded)
}

/// Checks `name` against the S3 bucket naming rules: 3 to 63 characters of lower-case
/// letters, digits, `.` and `-`, starting and ending with a letter or digit, no `..`, and not
/// shaped like an IPv4 address.
pub(crate) fn validate_bucket_name(
    operation: &'static str,
    name: &str,
) -> Result<(), StorageError> {
    let invalid = |reason: &'static str| {
        Err(StorageError::new(ErrorKind::InvalidBucketName, operation, reason).with_bucket(name))
    };
    if !(3..=63).contains(&name.len()) {
        return invalid("bucket names are 3 to 63 characters long");
    }
    let allowed = |byte: u8| byte.is_ascii_lowercase() || byte.is_ascii_digit();
    if !name
        .bytes()
        .all(|byte| allowed(byte) || byte == b'.' || byte == b'-')
    {
        return invalid("bucket names contain only lower-case letters, digits, '.' and '-'");
    }
    let bytes = name.as_bytes();
    if !allowed(bytes[0]) || !allowed(bytes[bytes.len() - 1]) {
        return invalid("bucket names start and end with a letter or digit");
    }
    if name.contains("..") {
        return invalid("bucket names do not contain two adjacent periods");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return invalid("bucket names are not formatted as IP addresses");
    }
    Ok(())
}

/// Checks that `key` is a non-empty S3 key of at most 1024 bytes.
pub(crate) fn validate_key(operation: &'static str, key: &str) -> Result<(), StorageError> {
    if key.is_empty() {
        return Err(StorageError::new(
            ErrorKind::InvalidArgument,
            operation,
            "the object key is empty",
        ));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(StorageError::new(
            ErrorKind::KeyTooLong,
            operation,
            format!(
                "the object key is {} bytes, the maximum is {MAX_KEY_LEN}",
                key.len()
            ),
        ));
    }
    Ok(())
}

/// Creates a random 128-bit id as 32 lower-case hex digits, used for upload ids and blob
/// names. UUID v4 takes its bits from the operating system's random generator.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Checks that `id` has the form [`new_id`] creates, so a client-supplied id can never name a
/// path outside its upload directory.
pub(crate) fn is_valid_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_key_round_trips() {
        let key = "photos/2024/../a b%c~d.jpg";
        let name = encode_key(key);
        assert_eq!(decode_name(&name), Some(DecodedName::Key(key.to_owned())));
    }

    #[test]
    fn encoded_name_has_no_separator() {
        let name = encode_key("../../etc/passwd");
        assert!(!name.contains('/'));
    }

    #[test]
    fn dot_keys_never_become_dot_names() {
        assert_eq!(encode_key("."), "%2E");
        assert_eq!(encode_key(".."), "%2E%2E");
    }

    #[test]
    fn unicode_key_round_trips() {
        let key = "日本語/ファイル-✓";
        let name = encode_key(key);
        assert_eq!(decode_name(&name), Some(DecodedName::Key(key.to_owned())));
    }

    #[test]
    fn long_key_uses_hashed_name() {
        let key = "k/".repeat(512);
        let name = encode_key(&key);
        assert!(name.len() <= MAX_PLAIN_NAME_LEN);
        assert!(name.starts_with(HASHED_MARKER));
    }

    #[test]
    fn hashed_name_keeps_key_prefix() {
        let key = "é".repeat(500);
        let name = encode_key(&key);
        let Some(DecodedName::Hashed { prefix }) = decode_name(&name) else {
            panic!("expected a hashed name, got {name}");
        };
        assert!(key.starts_with(&prefix));
    }

    #[test]
    fn distinct_long_keys_differ() {
        let first = format!("{}a", "x".repeat(1000));
        let second = format!("{}b", "x".repeat(1000));
        assert_ne!(encode_key(&first), encode_key(&second));
    }

    #[test]
    fn foreign_names_are_ignored() {
        assert_eq!(decode_name("a.b"), None);
        assert_eq!(decode_name("%2e"), None);
        assert_eq!(decode_name("~abc~123"), None);
        assert_eq!(decode_name("%FF"), None);
    }

    #[test]
    fn bucket_names_follow_s3_rules() {
        assert!(validate_bucket_name("test", "my-bucket.1").is_ok());
        assert!(validate_bucket_name("test", "ab").is_err());
        assert!(validate_bucket_name("test", "_uploads").is_err());
        assert!(validate_bucket_name("test", "Upper").is_err());
        assert!(validate_bucket_name("test", "a..b").is_err());
        assert!(validate_bucket_name("test", "192.168.1.1").is_err());
        assert!(validate_bucket_name("test", "-abc").is_err());
        assert!(validate_bucket_name("test", "a/b/c").is_err());
    }

    #[test]
    fn ids_reject_path_characters() {
        assert!(is_valid_id(&new_id()));
        assert!(!is_valid_id("../../../../../../../../../../etc"));
        assert!(!is_valid_id("0123456789abcdef0123456789abcde/"));
        assert!(!is_valid_id("0123456789ABCDEF0123456789ABCDEF"));
    }

    #[test]
    fn part_names_parse_in_range() {
        assert_eq!(parse_part_name("00001"), Some(1));
        assert_eq!(parse_part_name("10000"), Some(10_000));
        assert_eq!(parse_part_name("00000"), None);
        assert_eq!(parse_part_name("1"), None);
    }

    #[test]
    fn key_length_is_limited() {
        let error = validate_key("test", &"k".repeat(1025)).err();
        assert_eq!(error.map(|e| e.kind()), Some(ErrorKind::KeyTooLong));
    }
}
