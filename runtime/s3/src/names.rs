//! Bucket name and object key validation.

use crate::error::{ErrorCode, S3Error};

/// The maximum length of an object key, in bytes of UTF-8, as S3 enforces it.
pub const MAX_KEY_LEN: usize = 1024;

/// Returns whether `name` follows S3's naming rules for general purpose buckets.
///
/// A valid name has 3 to 63 characters of lowercase letters, digits, `.` and
/// `-`, and starts and ends with a letter or digit. It has no two adjacent
/// periods and is not shaped like an IPv4 address. It carries none of the
/// prefixes (`xn--`, `sthree-`, `amzn-s3-demo-`) or suffixes (`-s3alias`,
/// `--ol-s3`, `.mrap`, `--x-s3`, `--table-s3`) that S3 reserves. Legacy names
/// with capitals or underscores, which old us-east-1 buckets may have, are
/// rejected.
pub fn is_valid_bucket_name(name: &str) -> bool {
    const RESERVED_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
    const RESERVED_SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

    let bytes = name.as_bytes();
    if !(3..=63).contains(&bytes.len()) {
        return false;
    }
    let allowed = |byte: &u8| {
        byte.is_ascii_lowercase() || byte.is_ascii_digit() || *byte == b'.' || *byte == b'-'
    };
    if !bytes.iter().all(allowed) {
        return false;
    }
    let alphanumeric = |byte: u8| byte.is_ascii_lowercase() || byte.is_ascii_digit();
    if !alphanumeric(bytes[0]) || !alphanumeric(bytes[bytes.len() - 1]) {
        return false;
    }
    if name.contains("..") || looks_like_ipv4(name) {
        return false;
    }
    if RESERVED_PREFIXES
        .iter()
        .any(|prefix| name.starts_with(prefix))
    {
        return false;
    }
    !RESERVED_SUFFIXES
        .iter()
        .any(|suffix| name.ends_with(suffix))
}

fn looks_like_ipv4(name: &str) -> bool {
    let mut groups = 0;
    for group in name.split('.') {
        groups += 1;
        let digits_only =
            !group.is_empty() && group.len() <= 3 && group.bytes().all(|b| b.is_ascii_digit());
        if !digits_only {
            return false;
        }
    }
    groups == 4
}

/// Checks an object key: at most [`MAX_KEY_LEN`] bytes, else `KeyTooLongError`.
///
/// Keys are otherwise opaque. Empty keys, repeated slashes and `.`/`..`
/// segments are the caller's or S3's business, not this check's.
pub fn validate_key(key: &str) -> Result<(), S3Error> {
    if key.len() > MAX_KEY_LEN {
        return Err(S3Error::with_message(
            ErrorCode::KeyTooLongError,
            format!(
                "Your key is too long: it is {} bytes and the maximum is {MAX_KEY_LEN}.",
                key.len()
            ),
        )
        .extra("Size", key.len().to_string())
        .extra("MaxSizeAllowed", MAX_KEY_LEN.to_string()));
    }
    Ok(())
}
