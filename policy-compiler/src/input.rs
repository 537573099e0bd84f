//! Owned descriptions of a principal and a request context, for tools that build requests
//! from text: test case files, `explain --context key=value`, and audit log replay.
//!
//! Conditions read borrowed [`RequestContext`]s; [`ContextInput`] owns the strings and lends
//! them out, keyed by the same condition key names that policies use.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Deserialize;

use crate::clock::parse_date_seconds;
use crate::document::ConditionKey;
use crate::request::{CredentialKind, Principal, RequestContext};

/// Maximum number of headers a [`ContextInput`] takes.
pub const MAX_INPUT_HEADERS: usize = 64;

/// A request value that could not be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The key is not one a request context carries.
    #[error(
        "context key \"{0}\" is not a request value; use aws:SourceIp, aws:SecureTransport, \
         aws:CurrentTime, aws:UserAgent, s3:prefix, s3:delimiter, s3:max-keys, an S3 header \
         key such as s3:x-amz-acl, or header:<name>; principal attributes belong to the \
         principal"
    )]
    UnknownKey(String),
    /// The value does not parse for the key.
    #[error("invalid value \"{value}\" for {key}: expected {expected}")]
    InvalidValue {
        /// The key being set.
        key: String,
        /// The value as given.
        value: String,
        /// What the key takes.
        expected: &'static str,
    },
    /// The credential kind is not one of the four.
    #[error("invalid credential \"{0}\"; use access-key, sts-session, bearer or anonymous")]
    InvalidCredential(String),
    /// Too many headers.
    #[error("more than {MAX_INPUT_HEADERS} headers; pass only the headers conditions read")]
    TooManyHeaders,
}

/// The values a request context carries, owned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContextInput {
    /// `aws:SourceIp`.
    pub source_ip: Option<IpAddr>,
    /// `aws:SecureTransport`.
    pub secure_transport: bool,
    /// `aws:CurrentTime`, in seconds since the Unix epoch.
    pub current_time_unix: i64,
    /// `aws:UserAgent`.
    pub user_agent: Option<String>,
    /// `s3:prefix`.
    pub prefix: Option<String>,
    /// `s3:delimiter`.
    pub delimiter: Option<String>,
    /// `s3:max-keys`.
    pub max_keys: Option<String>,
    /// Headers as lowercase name and value pairs.
    pub headers: Vec<(String, String)>,
}

impl ContextInput {
    /// Sets one value by condition key name, such as `aws:SourceIp` or `s3:x-amz-acl`, or by
    /// `header:<name>` for any header. Time takes the forms of the `Date` operators.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), InputError> {
        let invalid = |expected| InputError::InvalidValue {
            key: key.to_owned(),
            value: value.to_owned(),
            expected,
        };
        if let Some(name) = key.strip_prefix("header:") {
            return self.push_header(name, value);
        }
        let parsed =
            ConditionKey::parse(key).map_err(|_| InputError::UnknownKey(key.to_owned()))?;
        match parsed {
            ConditionKey::SourceIp => {
                let address = value
                    .parse()
                    .map_err(|_| invalid("an IPv4 or IPv6 address"))?;
                self.source_ip = Some(address);
            }
            ConditionKey::SecureTransport => {
                self.secure_transport =
                    parse_bool(value).ok_or_else(|| invalid("true or false"))?;
            }
            ConditionKey::CurrentTime | ConditionKey::EpochTime => {
                self.current_time_unix = parse_date_seconds(value)
                    .ok_or_else(|| invalid("an RFC 3339 time, a date, or seconds since 1970"))?;
            }
            ConditionKey::UserAgent => self.user_agent = Some(value.to_owned()),
            ConditionKey::S3Prefix => self.prefix = Some(value.to_owned()),
            ConditionKey::S3Delimiter => self.delimiter = Some(value.to_owned()),
            ConditionKey::S3MaxKeys => self.max_keys = Some(value.to_owned()),
            ConditionKey::S3Header(header) => return self.push_header(header.header, value),
            _ => return Err(InputError::UnknownKey(key.to_owned())),
        }
        Ok(())
    }

    fn push_header(&mut self, name: &str, value: &str) -> Result<(), InputError> {
        if self.headers.len() >= MAX_INPUT_HEADERS {
            return Err(InputError::TooManyHeaders);
        }
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        Ok(())
    }

    /// Returns the headers as borrowed pairs, for [`ContextInput::context`].
    pub fn header_pairs(&self) -> Vec<(&str, &str)> {
        self.headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect()
    }

    /// Lends the values out as a request context; `headers` comes from
    /// [`ContextInput::header_pairs`].
    pub fn context<'a>(&'a self, headers: &'a [(&'a str, &'a str)]) -> RequestContext<'a> {
        RequestContext {
            source_ip: self.source_ip,
            secure_transport: self.secure_transport,
            current_time_unix: self.current_time_unix,
            user_agent: self.user_agent.as_deref(),
            prefix: self.prefix.as_deref(),
            delimiter: self.delimiter.as_deref(),
            max_keys: self.max_keys.as_deref(),
            headers,
        }
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// A principal as written in test case and principal mapping files.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PrincipalSpec {
    /// User id.
    #[serde(default)]
    pub user_id: String,
    /// Display name; the user id when absent.
    #[serde(default)]
    pub username: Option<String>,
    /// Tenant.
    #[serde(default)]
    pub tenant: String,
    /// Roles.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Whether the principal is a service account.
    #[serde(default)]
    pub service_account: bool,
    /// Principal tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Whether a second factor was used.
    #[serde(default)]
    pub mfa: bool,
    /// `access-key`, `sts-session`, `bearer` or `anonymous`; `access-key` when absent.
    #[serde(default)]
    pub credential: Option<String>,
    /// JWT claims.
    #[serde(default)]
    pub claims: serde_json::Value,
}

impl PrincipalSpec {
    /// Builds the principal.
    pub fn to_principal(&self) -> Result<Principal, InputError> {
        let credential = match &self.credential {
            None => CredentialKind::AccessKey,
            Some(name) => CredentialKind::from_name(name)
                .ok_or_else(|| InputError::InvalidCredential(name.clone()))?,
        };
        Ok(Principal {
            user_id: self.user_id.clone(),
            username: self
                .username
                .clone()
                .unwrap_or_else(|| self.user_id.clone()),
            tenant: self.tenant.clone(),
            roles: self.roles.clone(),
            groups: self.groups.clone(),
            service_account: self.service_account,
            tags: self
                .tags
                .iter()
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
            mfa: self.mfa,
            credential,
            claims: self.claims.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_key_sets_header() {
        let mut input = ContextInput::default();
        input.set("s3:x-amz-acl", "private").unwrap();
        assert_eq!(
            input.headers,
            vec![("x-amz-acl".to_owned(), "private".to_owned())]
        );
    }

    #[test]
    fn principal_key_rejected() {
        let mut input = ContextInput::default();
        let error = input.set("aws:username", "alice").unwrap_err();
        assert!(matches!(error, InputError::UnknownKey(_)));
    }

    #[test]
    fn invalid_address_rejected() {
        let mut input = ContextInput::default();
        assert!(input.set("aws:SourceIp", "office").is_err());
    }

    #[test]
    fn time_accepts_rfc3339() {
        let mut input = ContextInput::default();
        input
            .set("aws:CurrentTime", "2026-01-01T00:00:00Z")
            .unwrap();
        assert_eq!(input.current_time_unix, 1_767_225_600);
    }

    #[test]
    fn username_defaults_to_user_id() {
        let spec = PrincipalSpec {
            user_id: "u-1".to_owned(),
            ..PrincipalSpec::default()
        };
        assert_eq!(spec.to_principal().unwrap().username, "u-1");
    }
}
