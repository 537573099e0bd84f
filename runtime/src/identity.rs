//! Identities: the one normalized principal every credential resolves to, and the store of
//! static SigV4 access keys from the configuration.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use ironbucket_policy::Principal;

use crate::config::CredentialEntry;

/// How the caller proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    AccessKey,
    Anonymous,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::AccessKey => "access-key",
            CredentialKind::Anonymous => "anonymous",
        }
    }
}

/// A resolved caller: the principal that policies see, plus where it came from.
#[derive(Debug)]
pub struct Identity {
    pub principal: Principal,
    pub display_name: String,
    pub credential: CredentialKind,
    pub access_key_id: Option<String>,
}

impl Identity {
    /// The identity of an unsigned request. It belongs to no tenant, so tenant isolation lets it
    /// reach a bucket only where a policy allows the user `anonymous` (or `*`) explicitly.
    pub fn anonymous() -> Identity {
        Identity {
            principal: Principal {
                user_id: "anonymous".to_owned(),
                username: "anonymous".to_owned(),
                tenant: String::new(),
                roles: Vec::new(),
                groups: Vec::new(),
                service_account: false,
                ..Principal::default()
            },
            display_name: "anonymous".to_owned(),
            credential: CredentialKind::Anonymous,
            access_key_id: None,
        }
    }

    pub fn is_anonymous(&self) -> bool {
        self.credential == CredentialKind::Anonymous
    }
}

/// A secret key. Its `Debug` output is redacted so it cannot leak through a log line.
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A static access key and the identity it authenticates as.
#[derive(Debug)]
pub struct AccessKey {
    pub secret: Secret,
    pub identity: Arc<Identity>,
}

/// Access keys by id. Built once at start-up; read by every core through an `Arc`.
#[derive(Debug, Default)]
pub struct CredentialStore {
    keys: HashMap<String, AccessKey>,
}

impl CredentialStore {
    /// Builds the store, reading each secret from where its entry says it lives.
    pub fn from_config(entries: &[CredentialEntry]) -> Result<CredentialStore, String> {
        let mut keys = HashMap::with_capacity(entries.len());
        for entry in entries {
            let secret = Secret(entry.load_secret()?);
            if secret.expose().is_empty() {
                return Err(format!(
                    "credential {}: the secret is empty",
                    entry.access_key_id
                ));
            }
            let identity = Identity {
                principal: Principal {
                    user_id: entry.user_id.clone(),
                    username: entry.user_id.clone(),
                    tenant: entry.tenant.clone(),
                    roles: entry.roles.clone(),
                    groups: entry.groups.clone(),
                    service_account: entry.service_account,
                    credential: ironbucket_policy::CredentialKind::AccessKey,
                    tags: entry
                        .tags
                        .iter()
                        .map(|(name, value)| (name.clone(), value.clone()))
                        .collect(),
                    ..Principal::default()
                },
                display_name: entry
                    .display_name
                    .clone()
                    .unwrap_or_else(|| entry.user_id.clone()),
                credential: CredentialKind::AccessKey,
                access_key_id: Some(entry.access_key_id.clone()),
            };
            keys.insert(
                entry.access_key_id.clone(),
                AccessKey {
                    secret,
                    identity: Arc::new(identity),
                },
            );
        }
        Ok(CredentialStore { keys })
    }

    pub fn get(&self, access_key_id: &str) -> Option<&AccessKey> {
        self.keys.get(access_key_id)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}
