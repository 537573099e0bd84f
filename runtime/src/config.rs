//! The gateway's configuration file: a TOML document parsed into typed sections, with every
//! relative path resolved against the file's own directory and every value checked before the
//! server starts. `docs/configuration.md` documents each key.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// The parsed and validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerSection,
    pub limits: LimitsSection,
    pub storage: StorageSection,
    pub policy: PolicySection,
    pub audit: AuditSection,
    pub admin: Option<AdminSection>,
    pub credentials: Vec<CredentialEntry>,
    pub buckets: Vec<BucketEntry>,
    /// The directory of the configuration file, against which relative paths were resolved.
    pub base_dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// Plain-HTTP listener address; `None` when only TLS is served.
    pub listen: Option<SocketAddr>,
    /// Number of core threads; 0 means one per available CPU.
    #[serde(default)]
    pub cores: usize,
    /// Build every core on the epoll driver even where io_uring is available.
    #[serde(default)]
    pub force_epoll: bool,
    /// Seconds that in-flight requests get to finish after SIGTERM or SIGINT.
    #[serde(default = "default_shutdown_deadline_secs")]
    pub shutdown_deadline_secs: u64,
    #[serde(default = "default_region")]
    pub region: String,
    /// Base domains for virtual-hosted-style requests (`bucket.<domain>`).
    #[serde(default)]
    pub virtual_host_domains: Vec<String>,
    pub tls: Option<TlsSection>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// TLS listener address; it may equal `server.listen` only when that key is absent.
    pub listen: SocketAddr,
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsSection {
    pub max_head_bytes: usize,
    pub max_headers: usize,
    pub max_uri_bytes: usize,
    pub head_timeout_ms: u64,
    pub idle_timeout_ms: u64,
    pub body_timeout_ms: u64,
    pub write_timeout_ms: u64,
    pub max_connections_per_core: usize,
    /// Largest request body the gateway reads into memory (DeleteObjects, CompleteMultipartUpload).
    pub max_xml_body_bytes: usize,
    /// Largest single PUT body; S3's own limit is 5 GiB.
    pub max_object_bytes: u64,
}

impl Default for LimitsSection {
    fn default() -> Self {
        LimitsSection {
            max_head_bytes: 16 * 1024,
            max_headers: 100,
            max_uri_bytes: 8 * 1024,
            head_timeout_ms: 30_000,
            idle_timeout_ms: 60_000,
            body_timeout_ms: 30_000,
            write_timeout_ms: 30_000,
            max_connections_per_core: 4096,
            max_xml_body_bytes: 2 * 1024 * 1024,
            max_object_bytes: 5 * 1024 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Fs,
    Memory,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSection {
    pub backend: BackendKind,
    /// Root directory of the `fs` backend.
    pub root: Option<PathBuf>,
    /// Worker threads of the storage runtime.
    #[serde(default = "default_storage_workers")]
    pub workers: usize,
    /// Minimum size of every multipart part but the last, in bytes (S3: 5 MiB).
    #[serde(default = "default_min_part_size")]
    pub min_part_size: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySection {
    /// Directory of YAML policy documents, compiled at load. Set this or `table`.
    pub dir: Option<PathBuf>,
    /// Compiled decision-table file written by `ironbucket-policy compile`. Set this or `dir`.
    pub table: Option<PathBuf>,
    /// Ed25519 public key file (32 raw bytes, hex or base64); with it, `table` must carry a
    /// signature that verifies.
    pub public_key: Option<PathBuf>,
    /// Name the matching deny policy in AccessDenied messages.
    #[serde(default = "default_true")]
    pub deny_detail: bool,
    /// A candidate policy directory evaluated beside the live one; disagreements are audited.
    pub shadow_dir: Option<PathBuf>,
    /// Seconds between checks of the policy directories for changes; 0 turns watching off.
    #[serde(default = "default_watch_interval_secs")]
    pub watch_interval_secs: u64,
}

/// The admin listener: probes, metrics, policy status, reload and simulation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSection {
    pub listen: SocketAddr,
    /// Environment variable holding a bearer token that every endpoint but the probes requires.
    pub token_env: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSection {
    /// File that audit records are appended to, one JSON object a line; `-` means stdout.
    pub path: PathBuf,
    /// Records queued between the cores and the writer thread before cores wait.
    #[serde(default = "default_audit_queue")]
    pub queue: usize,
}

/// One static SigV4 access key and the principal it authenticates as.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialEntry {
    pub access_key_id: String,
    /// The secret itself; prefer `secret_env` or `secret_file` outside demos.
    pub secret: Option<String>,
    /// Name of an environment variable that contains the secret.
    pub secret_env: Option<String>,
    /// File whose contents (trailing newline removed) are the secret.
    pub secret_file: Option<PathBuf>,
    pub user_id: String,
    pub display_name: Option<String>,
    pub tenant: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub service_account: bool,
    /// Principal tags, read by the policy key `aws:PrincipalTag/<name>`.
    #[serde(default)]
    pub tags: std::collections::BTreeMap<String, String>,
}

impl fmt::Debug for CredentialEntry {
    // Written by hand so that the secret never reaches a log through `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialEntry")
            .field("access_key_id", &self.access_key_id)
            .field("user_id", &self.user_id)
            .field("tenant", &self.tenant)
            .field("roles", &self.roles)
            .field("groups", &self.groups)
            .finish_non_exhaustive()
    }
}

/// A bucket whose tenant the configuration fixes; it is created at start-up when missing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketEntry {
    pub name: String,
    pub tenant: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    server: ServerSection,
    #[serde(default)]
    limits: LimitsSection,
    storage: StorageSection,
    policy: PolicySection,
    audit: AuditSection,
    admin: Option<AdminSection>,
    #[serde(default)]
    credentials: Vec<CredentialEntry>,
    #[serde(default)]
    buckets: Vec<BucketEntry>,
}

fn default_shutdown_deadline_secs() -> u64 {
    30
}
fn default_region() -> String {
    "us-east-1".to_owned()
}
fn default_storage_workers() -> usize {
    2
}
fn default_min_part_size() -> u64 {
    5 * 1024 * 1024
}
fn default_true() -> bool {
    true
}
fn default_watch_interval_secs() -> u64 {
    2
}
fn default_audit_queue() -> usize {
    8192
}

/// A configuration error, with the file and, for syntax and type errors, the line and column.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read configuration: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Config {
    /// Reads, parses and validates the configuration file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Config::parse(&text, path, &base_dir)
    }

    /// Parses configuration text; `path` only labels diagnostics.
    pub fn parse(text: &str, path: &Path, base_dir: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|error| {
            let (line, column) = error
                .span()
                .map(|span| line_and_column(text, span.start))
                .unwrap_or((1, 1));
            ConfigError::Parse {
                path: path.to_owned(),
                line,
                column,
                message: error.message().to_owned(),
            }
        })?;
        let mut config = Config {
            server: raw.server,
            limits: raw.limits,
            storage: raw.storage,
            policy: raw.policy,
            audit: raw.audit,
            admin: raw.admin,
            credentials: raw.credentials,
            buckets: raw.buckets,
            base_dir: base_dir.to_owned(),
        };
        config.resolve_paths();
        config.validate().map_err(|message| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        })?;
        Ok(config)
    }

    fn resolve_paths(&mut self) {
        let base = self.base_dir.clone();
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() && p.as_os_str() != "-" {
                *p = base.join(&*p);
            }
        };
        if let Some(root) = self.storage.root.as_mut() {
            resolve(root);
        }
        for path in [
            self.policy.dir.as_mut(),
            self.policy.table.as_mut(),
            self.policy.public_key.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            resolve(path);
        }
        if let Some(shadow) = self.policy.shadow_dir.as_mut() {
            resolve(shadow);
        }
        resolve(&mut self.audit.path);
        if let Some(tls) = self.server.tls.as_mut() {
            resolve(&mut tls.cert);
            resolve(&mut tls.key);
        }
        for credential in &mut self.credentials {
            if let Some(file) = credential.secret_file.as_mut() {
                resolve(file);
            }
        }
    }

    fn validate(&self) -> Result<(), String> {
        if self.server.listen.is_none() && self.server.tls.is_none() {
            return Err(
                "server.listen or server.tls must be set: there is nothing to serve".into(),
            );
        }
        if let (Some(plain), Some(tls)) = (self.server.listen, &self.server.tls)
            && plain == tls.listen
        {
            return Err(format!(
                "server.listen and server.tls.listen are both {plain}; remove server.listen to serve only TLS on that address"
            ));
        }
        if self.server.region.is_empty() {
            return Err("server.region must not be empty".into());
        }
        match (&self.policy.dir, &self.policy.table) {
            (Some(_), Some(_)) => {
                return Err("set policy.dir or policy.table, not both".into());
            }
            (None, None) => {
                return Err("policy.dir or policy.table is required".into());
            }
            _ => {}
        }
        if self.policy.public_key.is_some() && self.policy.table.is_none() {
            return Err(
                "policy.public_key verifies a compiled policy.table; set policy.table".into(),
            );
        }
        if self.storage.backend == BackendKind::Fs && self.storage.root.is_none() {
            return Err("storage.root is required when storage.backend = \"fs\"".into());
        }
        if self.storage.workers == 0 {
            return Err("storage.workers must be at least 1".into());
        }
        if let (Some(admin), Some(plain)) = (&self.admin, self.server.listen)
            && admin.listen == plain
        {
            return Err(format!(
                "admin.listen and server.listen are both {plain}; give the admin listener its own port"
            ));
        }
        if self.audit.queue == 0 {
            return Err("audit.queue must be at least 1".into());
        }
        let limits = &self.limits;
        for (name, value) in [
            ("limits.max_head_bytes", limits.max_head_bytes as u64),
            ("limits.max_headers", limits.max_headers as u64),
            ("limits.max_uri_bytes", limits.max_uri_bytes as u64),
            ("limits.head_timeout_ms", limits.head_timeout_ms),
            ("limits.idle_timeout_ms", limits.idle_timeout_ms),
            ("limits.body_timeout_ms", limits.body_timeout_ms),
            ("limits.write_timeout_ms", limits.write_timeout_ms),
            (
                "limits.max_connections_per_core",
                limits.max_connections_per_core as u64,
            ),
            (
                "limits.max_xml_body_bytes",
                limits.max_xml_body_bytes as u64,
            ),
            ("limits.max_object_bytes", limits.max_object_bytes),
        ] {
            if value == 0 {
                return Err(format!("{name} must be greater than 0"));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (index, credential) in self.credentials.iter().enumerate() {
            let label = format!("credentials[{index}] ({})", credential.access_key_id);
            if credential.access_key_id.is_empty() {
                return Err(format!(
                    "credentials[{index}].access_key_id must not be empty"
                ));
            }
            if !seen.insert(credential.access_key_id.as_str()) {
                return Err(format!("{label}: access_key_id is listed twice"));
            }
            let sources = [
                credential.secret.is_some(),
                credential.secret_env.is_some(),
                credential.secret_file.is_some(),
            ];
            if sources.iter().filter(|set| **set).count() != 1 {
                return Err(format!(
                    "{label}: set exactly one of secret, secret_env and secret_file"
                ));
            }
            if credential.user_id.is_empty() || credential.tenant.is_empty() {
                return Err(format!("{label}: user_id and tenant must not be empty"));
            }
        }
        for bucket in &self.buckets {
            if bucket.tenant.is_empty() {
                return Err(format!(
                    "buckets: bucket {} has an empty tenant",
                    bucket.name
                ));
            }
        }
        Ok(())
    }

    pub fn shutdown_deadline(&self) -> Duration {
        Duration::from_secs(self.server.shutdown_deadline_secs)
    }
}

impl CredentialEntry {
    /// Reads the secret from the source the entry names: inline, environment or file.
    pub fn load_secret(&self) -> Result<String, String> {
        if let Some(secret) = &self.secret {
            return Ok(secret.clone());
        }
        if let Some(name) = &self.secret_env {
            return std::env::var(name).map_err(|_| {
                format!(
                    "credential {}: environment variable {name} is not set",
                    self.access_key_id
                )
            });
        }
        if let Some(file) = &self.secret_file {
            let text = std::fs::read_to_string(file).map_err(|error| {
                format!(
                    "credential {}: cannot read secret_file {}: {error}",
                    self.access_key_id,
                    file.display()
                )
            })?;
            return Ok(text.trim_end_matches(['\r', '\n']).to_owned());
        }
        Err(format!("credential {} has no secret", self.access_key_id))
    }
}

/// Converts a byte offset into a 1-based line and column.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[server]
listen = "127.0.0.1:9000"

[storage]
backend = "memory"

[policy]
dir = "policies"

[audit]
path = "audit.log"
"#;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("test.toml"), Path::new("/etc/ib"))
    }

    #[test]
    fn minimal_config_parses() {
        let config = parse(MINIMAL).unwrap();
        assert_eq!(config.server.region, "us-east-1");
        assert_eq!(config.policy.dir, Some(PathBuf::from("/etc/ib/policies")));
        assert_eq!(config.limits.max_headers, 100);
    }

    #[test]
    fn unknown_key_reports_line() {
        let text = MINIMAL.replace("[audit]", "[audit]\nbogus = 1");
        let error = parse(&text).unwrap_err().to_string();
        assert!(error.starts_with("test.toml:12:"), "{error}");
        assert!(error.contains("bogus"), "{error}");
    }

    #[test]
    fn fs_backend_needs_root() {
        let text = MINIMAL.replace("\"memory\"", "\"fs\"");
        let error = parse(&text).unwrap_err().to_string();
        assert!(error.contains("storage.root"), "{error}");
    }

    #[test]
    fn credential_needs_one_secret() {
        let text = format!(
            "{MINIMAL}\n[[credentials]]\naccess_key_id = \"AK\"\nuser_id = \"u\"\ntenant = \"t\"\n"
        );
        let error = parse(&text).unwrap_err().to_string();
        assert!(error.contains("exactly one of secret"), "{error}");
    }

    #[test]
    fn credential_debug_hides_secret() {
        let text = format!(
            "{MINIMAL}\n[[credentials]]\naccess_key_id = \"AK\"\nsecret = \"hunter2\"\nuser_id = \"u\"\ntenant = \"t\"\n"
        );
        let config = parse(&text).unwrap();
        let shown = format!("{:?}", config.credentials[0]);
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn policy_dir_and_table_exclusive() {
        let text = MINIMAL.replace(
            "dir = \"policies\"",
            "dir = \"policies\"\ntable = \"t.ibt\"",
        );
        let error = parse(&text).unwrap_err().to_string();
        assert!(error.contains("not both"), "{error}");
    }

    #[test]
    fn public_key_needs_table() {
        let text = MINIMAL.replace(
            "dir = \"policies\"",
            "dir = \"policies\"\npublic_key = \"k.pub\"",
        );
        let error = parse(&text).unwrap_err().to_string();
        assert!(error.contains("policy.table"), "{error}");
    }

    #[test]
    fn zero_limit_rejected() {
        let text = format!("{MINIMAL}\n[limits]\nmax_headers = 0\n");
        let error = parse(&text).unwrap_err().to_string();
        assert!(error.contains("limits.max_headers"), "{error}");
    }
}
