//! The input of a decision: who is asking, for which action, on which resource, in which
//! context.

use std::net::IpAddr;

use crate::action::Action;

/// The kind of credential a principal authenticated with, read by the `ib:credential` key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    /// A static SigV4 access key from the configuration.
    AccessKey,
    /// Temporary SigV4 credentials from IronBucket's STS endpoint.
    StsSession,
    /// An OIDC bearer token.
    Bearer,
    /// No credential at all.
    #[default]
    Anonymous,
}

impl CredentialKind {
    /// Returns the spelling that `ib:credential` conditions compare against.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::AccessKey => "access-key",
            CredentialKind::StsSession => "sts-session",
            CredentialKind::Bearer => "bearer",
            CredentialKind::Anonymous => "anonymous",
        }
    }

    /// Parses the spelling of [`CredentialKind::as_str`].
    pub fn from_name(name: &str) -> Option<CredentialKind> {
        [
            CredentialKind::AccessKey,
            CredentialKind::StsSession,
            CredentialKind::Bearer,
            CredentialKind::Anonymous,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == name)
    }
}

/// The normalized identity behind a request, whatever credential it came from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Principal {
    /// Stable user id. Selectors of type `user` and `service-account` compare against it.
    pub user_id: String,
    /// Display name, read by the `aws:username` condition key and variable.
    pub username: String,
    /// Tenant the principal belongs to.
    pub tenant: String,
    /// Roles, compared by selectors of type `role`.
    pub roles: Vec<String>,
    /// Groups, compared by selectors of type `group`.
    pub groups: Vec<String>,
    /// Whether the principal is a service account rather than a person.
    pub service_account: bool,
    /// Tags as name and value pairs, read by `aws:PrincipalTag/<name>`. Names compare
    /// ignoring ASCII case; with duplicate names the first pair wins.
    pub tags: Vec<(String, String)>,
    /// Whether the principal authenticated with a second factor, read by
    /// `aws:MultiFactorAuthPresent` and `ib:mfa`.
    pub mfa: bool,
    /// The kind of credential, read by `ib:credential`.
    pub credential: CredentialKind,
    /// The verified claims of the bearer token, read by `jwt:` and `custom:` keys. Null for
    /// principals that did not come from a token.
    pub claims: serde_json::Value,
}

/// Facts about the request that conditions read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestContext<'a> {
    /// The client's address, when the gateway knows it. IPv4-mapped IPv6 addresses are compared
    /// as the IPv4 address they carry.
    pub source_ip: Option<IpAddr>,
    /// Whether the request arrived over TLS.
    pub secure_transport: bool,
    /// Request time in seconds since the Unix epoch, read by `aws:CurrentTime` and
    /// `aws:EpochTime`.
    pub current_time_unix: i64,
    /// The client's User-Agent header, when present, read by `aws:UserAgent`.
    pub user_agent: Option<&'a str>,
    /// The `prefix` query parameter of a listing, read by `s3:prefix`.
    pub prefix: Option<&'a str>,
    /// The `delimiter` query parameter of a listing, read by `s3:delimiter`.
    pub delimiter: Option<&'a str>,
    /// The `max-keys` query parameter of a listing as sent, read by `s3:max-keys`. It is
    /// parsed as a number only when a condition compares it.
    pub max_keys: Option<&'a str>,
    /// Request headers as name and value pairs, read by the S3 header keys such as
    /// `s3:x-amz-acl`. Names compare ignoring ASCII case, and the first pair with a name wins.
    /// The gateway may pass only the headers that have a condition key.
    pub headers: &'a [(&'a str, &'a str)],
}

impl RequestContext<'_> {
    /// Returns the value of the first header named `name`, ignoring ASCII case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| *value)
    }
}

impl Principal {
    /// Returns the value of the first tag named `name`, ignoring ASCII case.
    pub fn tag(&self, name: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(tag, _)| tag.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// One authorization question.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// Who is asking.
    pub principal: &'a Principal,
    /// The S3 IAM action the operation needs.
    pub action: Action,
    /// The resource ARN: `arn:aws:s3:::bucket` for bucket operations, `arn:aws:s3:::bucket/key`
    /// for object operations, and `*` for operations on no resource, such as
    /// `s3:ListAllMyBuckets`. The key is the decoded object key, not its percent-encoded form.
    pub resource: &'a str,
    /// Facts for conditions.
    pub context: &'a RequestContext<'a>,
}
