//! Turns command-line options into a validated workload, targets and connectors, checking
//! every size and count before anything is allocated or connected.

use std::sync::Arc;

use rustls::pki_types::ServerName;

use crate::cli::{TargetArgs, WorkloadArgs};
use crate::engine::MAX_CONNECTIONS;
use crate::error::LoadgenError;
use crate::http::Connector;
use crate::schedule::{KeyDistribution, Mix};
use crate::sign::{Credentials, Secret};
use crate::target::{Scheme, Target};
use crate::workload::{Op, Workload};

/// Maximum prepared objects.
pub const MAX_KEYS: u32 = 10_000_000;
/// Maximum object, part or multipart upload size. S3 allows 5 TiB, but a load generator
/// request that moves more than this is almost certainly a typing mistake.
pub const MAX_OBJECT_SIZE: u64 = 64 << 30;
/// Maximum parts of a multipart upload, as in S3.
pub const MAX_PARTS: u32 = 10_000;
/// Maximum targets in one run.
pub const MAX_TARGETS: usize = 16;

/// A validated workload with its mix and key distribution.
pub struct WorkloadSettings {
    /// Workload (its `delete_keys` is set later from the schedule).
    pub workload: Workload,
    /// Operation mix.
    pub mix: Mix,
    /// Key distribution.
    pub distribution: KeyDistribution,
}

/// Validates the workload options.
pub fn workload(args: &WorkloadArgs) -> Result<WorkloadSettings, LoadgenError> {
    let mix = Mix::parse(&args.mix)?;
    let distribution = KeyDistribution::parse(&args.key_dist)?;
    if args.keys == 0 || args.keys > MAX_KEYS {
        return Err(LoadgenError::invalid(
            "--keys",
            format!("{} must be between 1 and {MAX_KEYS}", args.keys),
        ));
    }
    if args.size > MAX_OBJECT_SIZE {
        return Err(LoadgenError::invalid(
            "--size",
            format!("{} bytes is above {MAX_OBJECT_SIZE}", args.size),
        ));
    }
    if args.parts == 0 || args.parts > MAX_PARTS {
        return Err(LoadgenError::invalid(
            "--parts",
            format!("{} must be between 1 and {MAX_PARTS}", args.parts),
        ));
    }
    if args.part_size == 0 || args.part_size.saturating_mul(u64::from(args.parts)) > MAX_OBJECT_SIZE
    {
        return Err(LoadgenError::invalid(
            "--part-size",
            format!(
                "{} bytes times {} parts must be between 1 byte and {MAX_OBJECT_SIZE}",
                args.part_size, args.parts
            ),
        ));
    }
    if args.list_max_keys == 0 || args.list_max_keys > 1000 {
        return Err(LoadgenError::invalid(
            "--list-max-keys",
            "must be between 1 and 1000, as in S3",
        ));
    }
    let bucket_valid = (3..=63).contains(&args.bucket.len())
        && args
            .bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    if !bucket_valid {
        return Err(LoadgenError::invalid(
            "--bucket",
            format!(
                "{:?} must be 3 to 63 lower-case letters, digits, '-' or '.'",
                args.bucket
            ),
        ));
    }
    if args.prefix.len() > 512
        || !args
            .prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
    {
        return Err(LoadgenError::invalid(
            "--prefix",
            format!(
                "{:?} must be at most 512 letters, digits, '-', '_', '.' or '/'",
                args.prefix
            ),
        ));
    }
    let credentials = credentials(args)?;
    Ok(WorkloadSettings {
        workload: Workload {
            bucket: args.bucket.clone(),
            prefix: args.prefix.clone(),
            object_size: args.size,
            keys: args.keys,
            delete_keys: if mix.contains(Op::Delete) {
                args.keys
            } else {
                0
            },
            part_size: args.part_size,
            parts: args.parts,
            list_max_keys: args.list_max_keys,
            payload: args.payload,
            credentials,
        },
        mix,
        distribution,
    })
}

fn credentials(args: &WorkloadArgs) -> Result<Credentials, LoadgenError> {
    if args.anonymous {
        return Ok(Credentials::Anonymous);
    }
    if let Some(token) = &args.bearer {
        if token.is_empty() || token.contains(['\r', '\n']) {
            return Err(LoadgenError::invalid(
                "--bearer",
                "the token must be non-empty and on one line",
            ));
        }
        return Ok(Credentials::Bearer(Secret::new(token.clone())));
    }
    match (&args.access_key, &args.secret_key) {
        (Some(access_key_id), Some(secret)) => Ok(Credentials::SigV4 {
            access_key_id: access_key_id.clone(),
            secret_access_key: Secret::new(secret.clone()),
            region: args.region.clone(),
        }),
        _ => Err(LoadgenError::invalid(
            "--access-key",
            "SigV4 needs --access-key and --secret-key (or AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY); use --bearer or --anonymous otherwise",
        )),
    }
}

/// Parses, resolves and checks the targets, and builds a connector for each.
pub fn targets(args: &TargetArgs) -> Result<Vec<(Target, Connector)>, LoadgenError> {
    if args.targets.len() > MAX_TARGETS {
        return Err(LoadgenError::invalid(
            "--target",
            format!("at most {MAX_TARGETS} targets"),
        ));
    }
    if args.connections == 0 || args.connections > MAX_CONNECTIONS {
        return Err(LoadgenError::invalid(
            "--connections",
            format!(
                "{} must be between 1 and {MAX_CONNECTIONS}",
                args.connections
            ),
        ));
    }
    if args.timeout.is_zero() {
        return Err(LoadgenError::invalid("--timeout", "must be above 0"));
    }
    let mut parsed = Vec::new();
    for (index, spec) in args.targets.iter().enumerate() {
        let mut target = Target::parse(spec, index + 1)?;
        if parsed
            .iter()
            .any(|(existing, _): &(Target, Connector)| existing.name == target.name)
        {
            return Err(LoadgenError::invalid(
                "--target",
                format!("name {} is used twice", target.name),
            ));
        }
        if args.target_pid.is_some() {
            if args.targets.len() > 1 {
                return Err(LoadgenError::invalid(
                    "--target-pid",
                    "with several targets, give each its pid= in --target",
                ));
            }
            target.pid = args.target_pid;
        }
        if args.no_prepare {
            target.prepare = false;
        }
        target.resolve(args.allow_remote)?;
        let tls = match target.scheme {
            Scheme::Http => None,
            Scheme::Https => Some((tls_config(args)?, server_name(&target)?)),
        };
        let connector = Connector::new(target.addresses.clone(), tls, args.timeout);
        parsed.push((target, connector));
    }
    Ok(parsed)
}

fn server_name(target: &Target) -> Result<ServerName<'static>, LoadgenError> {
    ServerName::try_from(target.host.clone()).map_err(|error| {
        LoadgenError::Tls(format!(
            "host {:?} is not a valid TLS server name: {error}",
            target.host
        ))
    })
}

fn tls_config(args: &TargetArgs) -> Result<Arc<rustls::ClientConfig>, LoadgenError> {
    let path = args.ca_file.as_ref().ok_or_else(|| {
        LoadgenError::invalid(
            "--ca-file",
            "an https target needs --ca-file with the CA that signed its certificate",
        )
    })?;
    let pem = std::fs::read(path).map_err(|source| LoadgenError::File {
        path: path.clone(),
        source,
    })?;
    let mut roots = rustls::RootCertStore::empty();
    for certificate in rustls_pemfile::certs(&mut pem.as_slice()) {
        let certificate = certificate.map_err(|source| LoadgenError::File {
            path: path.clone(),
            source,
        })?;
        roots
            .add(certificate)
            .map_err(|error| LoadgenError::Tls(format!("{}: {error}", path.display())))?;
    }
    if roots.is_empty() {
        return Err(LoadgenError::Tls(format!(
            "{} contains no certificate",
            path.display()
        )));
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| LoadgenError::Tls(error.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
