//! The input of a decision: who is asking, for which action, on which resource, in which
//! context.

use std::net::IpAddr;

use crate::action::Action;

/// The normalized identity behind a request, whatever credential it came from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Principal {
    /// Stable user id. Selectors of type `user` and `service-account` compare against it.
    pub user_id: String,
    /// Display name, read by the `aws:username` condition key only.
    pub username: String,
    /// Tenant the principal belongs to.
    pub tenant: String,
    /// Roles, compared by selectors of type `role`.
    pub roles: Vec<String>,
    /// Groups, compared by selectors of type `group`.
    pub groups: Vec<String>,
    /// Whether the principal is a service account rather than a person.
    pub service_account: bool,
}

/// Facts about the request that conditions read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestContext<'a> {
    /// The client's address, when the gateway knows it. IPv4-mapped IPv6 addresses are compared
    /// as the IPv4 address they carry.
    pub source_ip: Option<IpAddr>,
    /// Whether the request arrived over TLS.
    pub secure_transport: bool,
    /// Request time in seconds since the Unix epoch.
    // NOTE: no implemented condition reads the time yet; the date and time-of-day operators
    // will.
    pub current_time_unix: i64,
    /// The client's User-Agent header, when present. No implemented condition reads it yet.
    pub user_agent: Option<&'a str>,
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
