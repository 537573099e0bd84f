//! Condition keys: the request and principal attributes that conditions and policy variables
//! read, with their spellings and the operator families each accepts.

use std::fmt;

use crate::operator::OperatorFamily;
use crate::suggest::did_you_mean;

/// Maximum length of a JWT claim path or a principal tag name, in bytes.
pub const MAX_KEY_NAME_BYTES: usize = 256;

/// Maximum number of dot-separated segments in a JWT claim path.
pub const MAX_CLAIM_SEGMENTS: usize = 16;

/// An S3 condition key that reads a request header, such as `s3:x-amz-acl`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct S3HeaderKey {
    /// The condition key, such as `s3:x-amz-acl`.
    pub key: &'static str,
    /// The lowercase header name it reads, such as `x-amz-acl`.
    pub header: &'static str,
}

/// The S3 condition keys that read a request header, from the AWS Service Authorization
/// Reference page for Amazon S3.
pub const S3_HEADER_KEYS: &[S3HeaderKey] = &[
    header_key("s3:x-amz-acl", "x-amz-acl"),
    header_key("s3:x-amz-content-sha256", "x-amz-content-sha256"),
    header_key("s3:x-amz-copy-source", "x-amz-copy-source"),
    header_key("s3:x-amz-grant-full-control", "x-amz-grant-full-control"),
    header_key("s3:x-amz-grant-read", "x-amz-grant-read"),
    header_key("s3:x-amz-grant-read-acp", "x-amz-grant-read-acp"),
    header_key("s3:x-amz-grant-write", "x-amz-grant-write"),
    header_key("s3:x-amz-grant-write-acp", "x-amz-grant-write-acp"),
    header_key("s3:x-amz-metadata-directive", "x-amz-metadata-directive"),
    header_key("s3:x-amz-object-ownership", "x-amz-object-ownership"),
    header_key(
        "s3:x-amz-server-side-encryption",
        "x-amz-server-side-encryption",
    ),
    header_key(
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
        "x-amz-server-side-encryption-aws-kms-key-id",
    ),
    header_key(
        "s3:x-amz-server-side-encryption-customer-algorithm",
        "x-amz-server-side-encryption-customer-algorithm",
    ),
    header_key("s3:x-amz-storage-class", "x-amz-storage-class"),
    header_key(
        "s3:x-amz-website-redirect-location",
        "x-amz-website-redirect-location",
    ),
    header_key("s3:object-lock-mode", "x-amz-object-lock-mode"),
    header_key(
        "s3:object-lock-retain-until-date",
        "x-amz-object-lock-retain-until-date",
    ),
    header_key("s3:object-lock-legal-hold", "x-amz-object-lock-legal-hold"),
    header_key("s3:if-match", "if-match"),
    header_key("s3:if-none-match", "if-none-match"),
];

const fn header_key(key: &'static str, header: &'static str) -> S3HeaderKey {
    S3HeaderKey { key, header }
}

/// A path into the JWT claims, such as `realm_access.roles`: claim names separated by dots.
///
/// A claim whose own name contains dots, such as a namespaced `https://example.com/roles`, is
/// found too, because lookup tries the whole path as one top-level claim name first.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClaimPath(String);

impl ClaimPath {
    /// Validates a claim path: 1 to 256 bytes, at most 16 non-empty segments.
    pub fn new(path: &str) -> Result<ClaimPath, String> {
        if path.is_empty() {
            return Err("the claim path is empty; name a claim, such as jwt:sub".to_owned());
        }
        if path.len() > MAX_KEY_NAME_BYTES {
            return Err(format!(
                "the claim path is longer than {MAX_KEY_NAME_BYTES} bytes"
            ));
        }
        if path.split('.').any(str::is_empty) {
            return Err(format!(
                "the claim path \"{path}\" has an empty segment; separate claim names with \
                 single dots, such as realm_access.roles"
            ));
        }
        if path.split('.').count() > MAX_CLAIM_SEGMENTS {
            return Err(format!(
                "the claim path \"{path}\" has more than {MAX_CLAIM_SEGMENTS} segments"
            ));
        }
        Ok(ClaimPath(path.to_owned()))
    }

    /// Returns the path as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns the claim names along the path.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('.')
    }
}

/// A condition key: which attribute of the request or the principal a condition reads.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ConditionKey {
    /// `aws:SourceIp`: the client's IP address. Absent when the gateway does not know it.
    SourceIp,
    /// `aws:SecureTransport`: whether the request arrived over TLS.
    SecureTransport,
    /// `aws:CurrentTime`: the time the request was received.
    CurrentTime,
    /// `aws:EpochTime`: the same time, as seconds since the Unix epoch.
    EpochTime,
    /// `aws:MultiFactorAuthPresent`: whether the principal authenticated with a second factor.
    MultiFactorAuthPresent,
    /// `aws:username`: the principal's display name.
    Username,
    /// `aws:userid`: the principal's user id.
    UserId,
    /// `aws:UserAgent`: the client's User-Agent header. Absent when the request has none.
    UserAgent,
    /// `aws:PrincipalTag/<name>`: a tag of the principal. Tag names compare ignoring ASCII
    /// case, as in IAM.
    PrincipalTag(String),
    /// `s3:prefix`: the `prefix` query parameter of a listing.
    S3Prefix,
    /// `s3:delimiter`: the `delimiter` query parameter of a listing.
    S3Delimiter,
    /// `s3:max-keys`: the `max-keys` query parameter of a listing.
    S3MaxKeys,
    /// A request header with an S3 condition key, such as `s3:x-amz-acl`.
    S3Header(S3HeaderKey),
    /// `jwt:<claim path>`: a claim of the bearer token the principal came from.
    Jwt(ClaimPath),
    /// `custom:<claim path>`: the original schema's name for a JWT claim, read like `jwt:`.
    Custom(ClaimPath),
    /// `ib:tenant`: the principal's tenant.
    Tenant,
    /// `ib:mfa`: IronBucket's name for [`ConditionKey::MultiFactorAuthPresent`].
    Mfa,
    /// `ib:credential`: the kind of credential, `access-key`, `sts-session`, `bearer` or
    /// `anonymous`.
    Credential,
}

/// The keys with a fixed name, for lookups and suggestions.
const FIXED_KEYS: &[(&str, ConditionKey)] = &[
    ("aws:SourceIp", ConditionKey::SourceIp),
    ("aws:SecureTransport", ConditionKey::SecureTransport),
    ("aws:CurrentTime", ConditionKey::CurrentTime),
    ("aws:EpochTime", ConditionKey::EpochTime),
    (
        "aws:MultiFactorAuthPresent",
        ConditionKey::MultiFactorAuthPresent,
    ),
    ("aws:username", ConditionKey::Username),
    ("aws:userid", ConditionKey::UserId),
    ("aws:UserAgent", ConditionKey::UserAgent),
    ("s3:prefix", ConditionKey::S3Prefix),
    ("s3:delimiter", ConditionKey::S3Delimiter),
    ("s3:max-keys", ConditionKey::S3MaxKeys),
    ("ib:tenant", ConditionKey::Tenant),
    ("ib:mfa", ConditionKey::Mfa),
    ("ib:credential", ConditionKey::Credential),
];

const PRINCIPAL_TAG_PREFIX: &str = "aws:PrincipalTag/";
const JWT_PREFIX: &str = "jwt:";
const CUSTOM_PREFIX: &str = "custom:";

/// Keys that AWS defines but IronBucket does not implement. They are rejected with their own
/// message, because ignoring a condition would widen an Allow.
const UNIMPLEMENTED_KEYS: &[&str] = &["aws:Referer", "aws:PrincipalType", "aws:PrincipalArn"];
const UNIMPLEMENTED_KEY_PREFIXES: &[&str] = &["aws:ResourceTag/", "aws:RequestTag/", "s3:"];

/// The values `ib:credential` takes.
pub const CREDENTIAL_KINDS: &[&str] = &["access-key", "sts-session", "bearer", "anonymous"];

/// Strips `prefix` from `text`, comparing the prefix ignoring ASCII case.
fn strip_prefix_ignore_case<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

impl ConditionKey {
    /// Parses a key as written in a policy. Key names compare ignoring ASCII case, as in IAM,
    /// but claim paths and tag names keep their case.
    ///
    /// The error message names the problem and the fix, ready for a diagnostic.
    pub fn parse(text: &str) -> Result<ConditionKey, String> {
        if let Some((_, key)) = FIXED_KEYS
            .iter()
            .find(|(name, _)| text.eq_ignore_ascii_case(name))
        {
            return Ok(key.clone());
        }
        if let Some(header) = S3_HEADER_KEYS
            .iter()
            .find(|header| text.eq_ignore_ascii_case(header.key))
        {
            return Ok(ConditionKey::S3Header(*header));
        }
        if let Some(tag) = strip_prefix_ignore_case(text, PRINCIPAL_TAG_PREFIX) {
            if tag.is_empty() || tag.len() > MAX_KEY_NAME_BYTES {
                return Err(format!(
                    "invalid condition key \"{text}\": the tag name must have 1 to \
                     {MAX_KEY_NAME_BYTES} bytes, such as aws:PrincipalTag/team"
                ));
            }
            return Ok(ConditionKey::PrincipalTag(tag.to_owned()));
        }
        if let Some(path) = strip_prefix_ignore_case(text, JWT_PREFIX) {
            return ClaimPath::new(path)
                .map(ConditionKey::Jwt)
                .map_err(|problem| format!("invalid condition key \"{text}\": {problem}"));
        }
        if let Some(path) = strip_prefix_ignore_case(text, CUSTOM_PREFIX) {
            return ClaimPath::new(path)
                .map(ConditionKey::Custom)
                .map_err(|problem| format!("invalid condition key \"{text}\": {problem}"));
        }

        let unimplemented = UNIMPLEMENTED_KEYS
            .iter()
            .any(|name| text.eq_ignore_ascii_case(name))
            || UNIMPLEMENTED_KEY_PREFIXES
                .iter()
                .any(|prefix| strip_prefix_ignore_case(text, prefix).is_some());
        if unimplemented {
            return Err(format!(
                "condition key \"{text}\" is not implemented; {}",
                Self::key_list()
            ));
        }
        let names = FIXED_KEYS
            .iter()
            .map(|(name, _)| *name)
            .chain(S3_HEADER_KEYS.iter().map(|header| header.key));
        Err(format!(
            "unknown condition key \"{text}\"; {}{}",
            did_you_mean(text, names),
            Self::key_list()
        ))
    }

    fn key_list() -> String {
        let fixed: Vec<&str> = FIXED_KEYS.iter().map(|(name, _)| *name).collect();
        format!(
            "the implemented keys are {}, aws:PrincipalTag/<name>, jwt:<claim path>, \
             custom:<claim path> and the S3 header keys such as s3:x-amz-acl",
            fixed.join(", ")
        )
    }

    /// Returns true when operators of `family` may compare this key.
    pub fn accepts(&self, family: OperatorFamily) -> bool {
        use OperatorFamily as F;
        match self {
            ConditionKey::SourceIp => matches!(family, F::IpAddress | F::Null),
            ConditionKey::SecureTransport
            | ConditionKey::MultiFactorAuthPresent
            | ConditionKey::Mfa => matches!(family, F::Bool | F::Null),
            ConditionKey::CurrentTime => matches!(family, F::Date | F::TimeOfDay),
            ConditionKey::EpochTime => matches!(family, F::Date | F::Numeric),
            ConditionKey::Username
            | ConditionKey::UserId
            | ConditionKey::Tenant
            | ConditionKey::Credential => family == F::String,
            ConditionKey::UserAgent
            | ConditionKey::PrincipalTag(_)
            | ConditionKey::S3Prefix
            | ConditionKey::S3Delimiter
            | ConditionKey::S3Header(_) => matches!(family, F::String | F::Null),
            ConditionKey::S3MaxKeys => matches!(family, F::Numeric | F::String | F::Null),
            ConditionKey::Jwt(_) | ConditionKey::Custom(_) => family != F::TimeOfDay,
        }
    }

    /// Returns true for keys that may stand in a policy variable, `${...}`: the principal's
    /// string attributes.
    pub fn is_variable(&self) -> bool {
        matches!(
            self,
            ConditionKey::Username
                | ConditionKey::UserId
                | ConditionKey::Tenant
                | ConditionKey::PrincipalTag(_)
                | ConditionKey::Jwt(_)
                | ConditionKey::Custom(_)
        )
    }
}

impl fmt::Display for ConditionKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConditionKey::PrincipalTag(tag) => write!(formatter, "{PRINCIPAL_TAG_PREFIX}{tag}"),
            ConditionKey::S3Header(header) => formatter.write_str(header.key),
            ConditionKey::Jwt(path) => write!(formatter, "{JWT_PREFIX}{}", path.as_str()),
            ConditionKey::Custom(path) => write!(formatter, "{CUSTOM_PREFIX}{}", path.as_str()),
            fixed => {
                let name = FIXED_KEYS
                    .iter()
                    .find(|(_, key)| key == fixed)
                    .map_or("?", |(name, _)| *name);
                formatter.write_str(name)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_key_ignores_case() {
        assert_eq!(
            ConditionKey::parse("AWS:SOURCEIP"),
            Ok(ConditionKey::SourceIp)
        );
    }

    #[test]
    fn claim_path_keeps_case() {
        let key = ConditionKey::parse("JWT:realm_Access.roles").unwrap();
        assert_eq!(key.to_string(), "jwt:realm_Access.roles");
    }

    #[test]
    fn empty_claim_segment_rejected() {
        let error = ConditionKey::parse("jwt:a..b").unwrap_err();
        assert!(error.contains("empty segment"), "{error}");
    }

    #[test]
    fn unknown_s3_key_unimplemented() {
        let error = ConditionKey::parse("s3:VersionId").unwrap_err();
        assert!(error.contains("not implemented"), "{error}");
    }

    #[test]
    fn header_key_found() {
        let key = ConditionKey::parse("s3:x-amz-acl").unwrap();
        assert_eq!(key.to_string(), "s3:x-amz-acl");
    }

    #[test]
    fn display_round_trips_fixed_keys() {
        for (name, key) in FIXED_KEYS {
            assert_eq!(key.to_string(), *name);
        }
    }
}
