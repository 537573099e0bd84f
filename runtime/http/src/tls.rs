//! Loading a rustls server configuration (aws-lc-rs provider, ALPN `http/1.1`)
//! from PEM files, with errors that name the file at fault.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A failure to build a TLS server configuration.
#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    /// A PEM file could not be read.
    #[error("failed to read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The certificate file contains no `CERTIFICATE` section.
    #[error(
        "no certificate found in {}; expected a PEM file with a CERTIFICATE section",
        path.display()
    )]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The key file contains no private key section.
    #[error(
        "no private key found in {}; expected a PEM file with a PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY section",
        path.display()
    )]
    NoPrivateKey {
        /// The file.
        path: PathBuf,
    },
    /// A PEM file is malformed.
    #[error("invalid PEM in {}: {source}", path.display())]
    InvalidPem {
        /// The file.
        path: PathBuf,
        /// The PEM parser's error.
        source: pem::Error,
    },
    /// rustls rejected the certificate chain or key (for example a key that does
    /// not match the certificate).
    #[error(
        "invalid certificate or key ({} and {}): {source}",
        cert.display(),
        key.display()
    )]
    Rustls {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// rustls's error.
        source: rustls::Error,
    },
}

/// Builds a TLS server configuration from a PEM certificate chain (leaf first)
/// and a PEM private key (PKCS#8, PKCS#1 or SEC1), offering ALPN `http/1.1` only.
///
/// It reads files, so call it at startup or on a reload thread, never on a core.
pub fn load_server_config(
    cert_pem_path: impl AsRef<Path>,
    key_pem_path: impl AsRef<Path>,
) -> Result<Arc<rustls::ServerConfig>, TlsConfigError> {
    let cert_path = cert_pem_path.as_ref();
    let key_path = key_pem_path.as_ref();
    let cert_pem = read(cert_path)?;
    let key_pem = read(key_path)?;
    let certs = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsConfigError::InvalidPem {
            path: cert_path.to_owned(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsConfigError::NoCertificate {
            path: cert_path.to_owned(),
        });
    }

    let key = match PrivateKeyDer::from_pem_slice(&key_pem) {
        Ok(key) => key,
        Err(pem::Error::NoItemsFound) => {
            return Err(TlsConfigError::NoPrivateKey {
                path: key_path.to_owned(),
            });
        }
        Err(source) => {
            return Err(TlsConfigError::InvalidPem {
                path: key_path.to_owned(),
                source,
            });
        }
    };

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let rustls_error = |source| TlsConfigError::Rustls {
        cert: cert_path.to_owned(),
        key: key_path.to_owned(),
        source,
    };
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(rustls_error)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(rustls_error)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read(path: &Path) -> Result<Vec<u8>, TlsConfigError> {
    std::fs::read(path).map_err(|source| TlsConfigError::Read {
        path: path.to_owned(),
        source,
    })
}
