//! The compiled table file: what `ironbucket-policy compile` writes and gateways load.
//!
//! The file carries the policy sources themselves, and loading compiles them again. That
//! keeps the format independent of the table's in-memory layout, which changes as the
//! indices improve, at the cost of a compile on load (milliseconds for thousands of policies).
//!
//! Layout, all UTF-8:
//!
//! ```text
//! ironbucket-policy-table 1
//! signature: ed25519 <base64 of 64 bytes>        (or "signature: none")
//! {"format":"ironbucket-policy-table","format_version":1,"source_digest":"...", ...}
//! ```
//!
//! The first line names the format version. The Ed25519 signature covers the first line
//! followed by the JSON payload (everything after the signature line), so neither the version
//! nor any byte of the payload can change without breaking it. The payload's source digest is
//! recomputed on load from the carried sources, so a payload edited consistently still fails
//! unless it is signed again.

use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

use crate::parse::SourceFile;
use crate::table::DecisionTable;

/// The version of the table file format that this crate writes and reads.
pub const TABLE_FORMAT_VERSION: u32 = 1;

/// Maximum size of a table file. It carries the policy sources, and policy repositories are
/// far smaller; a larger file is almost certainly not a table file.
pub const MAX_TABLE_FILE_BYTES: usize = 64 * 1024 * 1024;

/// The length of an Ed25519 public key in bytes.
pub const ED25519_PUBLIC_KEY_BYTES: usize = 32;

const MAGIC: &str = "ironbucket-policy-table";
const FORMAT_NAME: &str = "ironbucket-policy-table";
const SIGNATURE_PREFIX: &str = "signature: ";
const ED25519_SIGNATURE_BYTES: usize = 64;

/// An error writing or loading a table file. Messages name the problem and the fix and never
/// contain key material.
#[derive(Debug, thiserror::Error)]
pub enum TableFileError {
    /// The file is larger than [`MAX_TABLE_FILE_BYTES`].
    #[error("the table file is {0} bytes, more than the maximum of {MAX_TABLE_FILE_BYTES}")]
    TooLarge(usize),
    /// The first line is not a table file header.
    #[error("not an IronBucket policy table file: the first line must be \"{MAGIC} <version>\"")]
    NotATableFile,
    /// The format version is not the one this build reads.
    #[error(
        "unsupported table format version {found}; this build reads version \
         {TABLE_FORMAT_VERSION}, so compile the policies again with a matching \
         ironbucket-policy"
    )]
    UnsupportedVersion {
        /// The version the file names.
        found: String,
    },
    /// The signature line is malformed.
    #[error("malformed signature line: {0}")]
    MalformedSignature(&'static str),
    /// A public key is configured but the file carries no signature.
    #[error(
        "the table file is unsigned, but a public key is configured; sign it with \
         ironbucket-policy compile --sign KEY, or remove the key to accept unsigned tables"
    )]
    Unsigned,
    /// The signature does not verify with the configured public key.
    #[error(
        "the table file's signature does not verify with the configured public key; the file \
         was changed after signing or signed with another key"
    )]
    BadSignature,
    /// The public key is not 32 bytes.
    #[error(
        "invalid Ed25519 public key: expected 32 raw bytes, 64 hex digits or base64 of 32 \
         bytes, found {0} bytes"
    )]
    InvalidPublicKey(usize),
    /// The signing key does not parse.
    #[error("invalid Ed25519 signing key: expected a PKCS#8 v1 or v2 DER file from keygen")]
    InvalidSigningKey,
    /// The payload is not the expected JSON.
    #[error("invalid table payload: {0}")]
    InvalidPayload(String),
    /// The carried sources do not hash to the digest the payload names.
    #[error(
        "the table's sources hash to {actual}, but the file names digest {expected}; the file \
         is corrupt or was edited"
    )]
    DigestMismatch {
        /// The digest the payload names.
        expected: String,
        /// The digest of the carried sources.
        actual: String,
    },
    /// The carried sources do not compile.
    #[error(
        "the table's policies have {errors} errors, the first: {first}; run \
         ironbucket-policy validate on the policy directory"
    )]
    InvalidPolicies {
        /// Number of error diagnostics.
        errors: usize,
        /// The first error, rendered.
        first: String,
    },
}

/// Facts about a table file, from its payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableMetadata {
    /// The file's format version.
    pub format_version: u32,
    /// The SHA-256 digest of the sources, as [`DecisionTable::digest`] computes it.
    pub source_digest: String,
    /// The Git commit of the policy repository at compile time, when known.
    pub git_commit: Option<String>,
    /// Whether the repository had uncommitted changes under the policy directory.
    pub git_dirty: Option<bool>,
    /// The `ironbucket-policy` version that wrote the file.
    pub compiler_version: String,
    /// Whether the file carries a signature.
    pub signed: bool,
    /// Whether the signature was checked against a configured key and verified.
    pub verified: bool,
}

/// A loaded table with its metadata.
#[derive(Clone, Debug)]
pub struct LoadedTable {
    /// The compiled table.
    pub table: DecisionTable,
    /// The file's metadata.
    pub metadata: TableMetadata,
    /// The sources the table was compiled from.
    pub sources: Vec<SourceFile>,
}

/// The origin of the compiled policies, recorded in the file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Provenance {
    /// The Git commit of the policy repository, when known.
    pub git_commit: Option<String>,
    /// Whether the repository had uncommitted changes under the policy directory.
    pub git_dirty: Option<bool>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    format: String,
    format_version: u32,
    source_digest: String,
    git_commit: Option<String>,
    git_dirty: Option<bool>,
    compiler_version: String,
    sources: Vec<PayloadSource>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PayloadSource {
    path: String,
    text: String,
}

/// An Ed25519 key that signs table files.
pub struct SigningKey {
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    /// Reads a PKCS#8 (v1 or v2) DER private key.
    pub fn from_pkcs8(bytes: &[u8]) -> Result<SigningKey, TableFileError> {
        Ed25519KeyPair::from_pkcs8_maybe_unchecked(bytes)
            .map(|pair| SigningKey { pair })
            .map_err(|_| TableFileError::InvalidSigningKey)
    }

    /// Returns the raw public key.
    pub fn public_key(&self) -> [u8; ED25519_PUBLIC_KEY_BYTES] {
        let mut key = [0; ED25519_PUBLIC_KEY_BYTES];
        key.copy_from_slice(self.pair.public_key().as_ref());
        key
    }
}

/// Reads a public key given as 32 raw bytes, 64 hex digits, or base64 of 32 bytes, with
/// surrounding white space ignored for the text forms.
pub fn parse_public_key(bytes: &[u8]) -> Result<[u8; ED25519_PUBLIC_KEY_BYTES], TableFileError> {
    let mut key = [0; ED25519_PUBLIC_KEY_BYTES];
    if bytes.len() == ED25519_PUBLIC_KEY_BYTES {
        key.copy_from_slice(bytes);
        return Ok(key);
    }
    let text = std::str::from_utf8(bytes)
        .map(str::trim)
        .map_err(|_| TableFileError::InvalidPublicKey(bytes.len()))?;
    let decoded = if text.len() == 2 * ED25519_PUBLIC_KEY_BYTES {
        hex::decode(text).ok()
    } else {
        BASE64.decode(text).ok()
    };
    match decoded {
        Some(decoded) if decoded.len() == ED25519_PUBLIC_KEY_BYTES => {
            key.copy_from_slice(&decoded);
            Ok(key)
        }
        Some(decoded) => Err(TableFileError::InvalidPublicKey(decoded.len())),
        None => Err(TableFileError::InvalidPublicKey(bytes.len())),
    }
}

fn header_line() -> String {
    format!("{MAGIC} {TABLE_FORMAT_VERSION}\n")
}

fn signed_message(header: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(header.len() + payload.len());
    message.extend_from_slice(header);
    message.extend_from_slice(payload);
    message
}

/// Compiles `sources` and writes a table file, signed when `signing_key` is given.
///
/// Fails when the sources have errors, so that no file contains a table that would not load.
pub fn write_table_file(
    sources: &[SourceFile],
    provenance: &Provenance,
    signing_key: Option<&SigningKey>,
) -> Result<Vec<u8>, TableFileError> {
    let table = compile_sources(sources)?;
    let mut ordered: Vec<&SourceFile> = sources.iter().collect();
    ordered.sort_by(|left, right| left.path.cmp(&right.path));
    let payload = Payload {
        format: FORMAT_NAME.to_owned(),
        format_version: TABLE_FORMAT_VERSION,
        source_digest: table.digest().to_owned(),
        git_commit: provenance.git_commit.clone(),
        git_dirty: provenance.git_dirty,
        compiler_version: env!("CARGO_PKG_VERSION").to_owned(),
        sources: ordered
            .into_iter()
            .map(|source| PayloadSource {
                path: source.path.clone(),
                text: source.text.clone(),
            })
            .collect(),
    };
    let mut payload_bytes = serde_json::to_vec(&payload)
        .map_err(|error| TableFileError::InvalidPayload(error.to_string()))?;
    payload_bytes.push(b'\n');

    let header = header_line();
    let signature_line = match signing_key {
        None => format!("{SIGNATURE_PREFIX}none\n"),
        Some(key) => {
            let signature = key
                .pair
                .sign(&signed_message(header.as_bytes(), &payload_bytes));
            format!(
                "{SIGNATURE_PREFIX}ed25519 {}\n",
                BASE64.encode(signature.as_ref())
            )
        }
    };
    let mut file = Vec::with_capacity(header.len() + signature_line.len() + payload_bytes.len());
    file.extend_from_slice(header.as_bytes());
    file.extend_from_slice(signature_line.as_bytes());
    file.extend_from_slice(&payload_bytes);
    Ok(file)
}

fn compile_sources(sources: &[SourceFile]) -> Result<DecisionTable, TableFileError> {
    let compilation = crate::compile(sources);
    match compilation.table {
        Some(table) => Ok(table),
        None => {
            let errors: Vec<_> = compilation
                .diagnostics
                .iter()
                .filter(|diagnostic| diagnostic.is_error())
                .collect();
            Err(TableFileError::InvalidPolicies {
                errors: errors.len(),
                first: errors.first().map(ToString::to_string).unwrap_or_default(),
            })
        }
    }
}

/// Loads a table file. With a public key the file must carry a signature that verifies with
/// it; without one, any signature is left unchecked.
pub fn load_table(
    bytes: &[u8],
    public_key: Option<&[u8]>,
) -> Result<DecisionTable, TableFileError> {
    read_table_file(bytes, public_key).map(|loaded| loaded.table)
}

/// Loads a table file like [`load_table`] and returns its metadata and sources too.
pub fn read_table_file(
    bytes: &[u8],
    public_key: Option<&[u8]>,
) -> Result<LoadedTable, TableFileError> {
    if bytes.len() > MAX_TABLE_FILE_BYTES {
        return Err(TableFileError::TooLarge(bytes.len()));
    }
    let public_key = public_key.map(parse_public_key).transpose()?;

    let (header, rest) = split_line(bytes).ok_or(TableFileError::NotATableFile)?;
    let header_text = std::str::from_utf8(header).map_err(|_| TableFileError::NotATableFile)?;
    let version = header_text
        .trim_end_matches('\n')
        .strip_prefix(MAGIC)
        .and_then(|rest| rest.strip_prefix(' '))
        .ok_or(TableFileError::NotATableFile)?;
    if version != TABLE_FORMAT_VERSION.to_string() {
        return Err(TableFileError::UnsupportedVersion {
            found: version.chars().take(32).collect(),
        });
    }

    let (signature_line, payload) =
        split_line(rest).ok_or(TableFileError::MalformedSignature("the line is missing"))?;
    let signature = parse_signature_line(signature_line)?;
    let verified = match (public_key, &signature) {
        (None, _) => false,
        (Some(_), None) => return Err(TableFileError::Unsigned),
        (Some(key), Some(signature)) => {
            UnparsedPublicKey::new(&ED25519, key)
                .verify(&signed_message(header, payload), signature)
                .map_err(|_| TableFileError::BadSignature)?;
            true
        }
    };

    let payload: Payload = serde_json::from_slice(payload)
        .map_err(|error| TableFileError::InvalidPayload(error.to_string()))?;
    if payload.format != FORMAT_NAME {
        return Err(TableFileError::InvalidPayload(format!(
            "the format field is \"{}\", expected \"{FORMAT_NAME}\"",
            payload.format.chars().take(64).collect::<String>()
        )));
    }
    if payload.format_version != TABLE_FORMAT_VERSION {
        return Err(TableFileError::InvalidPayload(format!(
            "the payload names format version {}, but the header names {TABLE_FORMAT_VERSION}",
            payload.format_version
        )));
    }
    let sources: Vec<SourceFile> = payload
        .sources
        .into_iter()
        .map(|source| SourceFile::new(source.path, source.text))
        .collect();
    let table = compile_sources(&sources)?;
    if table.digest() != payload.source_digest {
        return Err(TableFileError::DigestMismatch {
            expected: payload.source_digest.chars().take(64).collect(),
            actual: table.digest().to_owned(),
        });
    }
    Ok(LoadedTable {
        table,
        metadata: TableMetadata {
            format_version: payload.format_version,
            source_digest: payload.source_digest,
            git_commit: payload.git_commit,
            git_dirty: payload.git_dirty,
            compiler_version: payload.compiler_version,
            signed: signature.is_some(),
            verified,
        },
        sources,
    })
}

/// Splits off the first line, including its `\n`.
fn split_line(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = bytes.iter().position(|byte| *byte == b'\n')?;
    Some(bytes.split_at(end + 1))
}

fn parse_signature_line(line: &[u8]) -> Result<Option<Vec<u8>>, TableFileError> {
    let text = std::str::from_utf8(line)
        .map_err(|_| TableFileError::MalformedSignature("the line is not UTF-8"))?
        .trim_end_matches('\n');
    let value = text
        .strip_prefix(SIGNATURE_PREFIX)
        .ok_or(TableFileError::MalformedSignature(
            "the second line must start with \"signature: \"",
        ))?;
    if value == "none" {
        return Ok(None);
    }
    let encoded = value
        .strip_prefix("ed25519 ")
        .ok_or(TableFileError::MalformedSignature(
            "the only signature algorithm is ed25519",
        ))?;
    let signature = BASE64
        .decode(encoded)
        .map_err(|_| TableFileError::MalformedSignature("the signature is not valid base64"))?;
    if signature.len() != ED25519_SIGNATURE_BYTES {
        return Err(TableFileError::MalformedSignature(
            "an Ed25519 signature has 64 bytes",
        ));
    }
    Ok(Some(signature))
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::rand::SystemRandom;

    use super::*;

    const POLICY: &str = "version: \"1.0\"\npolicies:\n  - id: read\n    effect: Allow\n    \
                          principals: {type: role, values: [reader]}\n    actions: [s3:GetObject]\n    \
                          resources: [\"arn:aws:s3:::data/*\"]\n    audit: true\n";

    fn new_key() -> SigningKey {
        let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        SigningKey::from_pkcs8(document.as_ref()).unwrap()
    }

    fn signed_file(key: &SigningKey) -> Vec<u8> {
        let sources = [SourceFile::new("read.yaml", POLICY)];
        write_table_file(&sources, &Provenance::default(), Some(key)).unwrap()
    }

    #[test]
    fn other_key_rejected() {
        let file = signed_file(&new_key());
        let other = new_key().public_key();
        let error = load_table(&file, Some(&other)).unwrap_err();
        assert!(matches!(error, TableFileError::BadSignature), "{error}");
    }

    #[test]
    fn changed_version_line_rejected() {
        let file = signed_file(&new_key());
        let text = String::from_utf8(file).unwrap();
        let changed = text.replacen("ironbucket-policy-table 1", "ironbucket-policy-table 2", 1);
        let error = load_table(changed.as_bytes(), None).unwrap_err();
        assert!(
            matches!(error, TableFileError::UnsupportedVersion { .. }),
            "{error}"
        );
    }

    #[test]
    fn other_file_is_not_table() {
        let error = load_table(b"version: \"1.0\"\n", None).unwrap_err();
        assert!(matches!(error, TableFileError::NotATableFile), "{error}");
    }

    #[test]
    fn oversized_file_rejected_before_parsing() {
        let file = vec![b'x'; MAX_TABLE_FILE_BYTES + 1];
        let error = load_table(&file, None).unwrap_err();
        assert!(matches!(error, TableFileError::TooLarge(_)), "{error}");
    }

    #[test]
    fn public_key_text_forms_accepted() {
        let key = new_key().public_key();
        assert_eq!(parse_public_key(hex::encode(key).as_bytes()).unwrap(), key);
        let base64 = format!("{}\n", BASE64.encode(key));
        assert_eq!(parse_public_key(base64.as_bytes()).unwrap(), key);
    }

    #[test]
    fn short_public_key_rejected() {
        let error = parse_public_key(&[1, 2, 3]).unwrap_err();
        assert!(
            matches!(error, TableFileError::InvalidPublicKey(_)),
            "{error}"
        );
    }

    #[test]
    fn signed_file_loads_with_key() {
        let key = new_key();
        let file = signed_file(&key);
        let loaded = read_table_file(&file, Some(&key.public_key())).unwrap();
        assert!(loaded.metadata.verified);
        assert_eq!(loaded.table.policy_count(), 1);
    }
}
