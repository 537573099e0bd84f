//! The error type of the load generator and the process exit codes it maps to.

use std::io;
use std::path::PathBuf;

/// Exit code of a run whose `--assert` gates failed.
pub const EXIT_GATE_FAILED: u8 = 1;
/// Exit code of invalid options; clap uses the same code for its own usage errors.
pub const EXIT_USAGE: u8 = 2;
/// Exit code of a run made invalid by late sends (see `--allow-late`).
pub const EXIT_INVALID_RUN: u8 = 3;
/// Exit code of a run that could not be carried out (target unreachable, prepare failed, I/O).
pub const EXIT_FAILED: u8 = 4;

/// Everything that can stop the load generator before or during a run.
#[derive(Debug, thiserror::Error)]
pub enum LoadgenError {
    /// An option value that cannot be used.
    #[error("invalid {option}: {message}")]
    InvalidOption {
        /// The option as written on the command line, such as `--mix`.
        option: &'static str,
        /// What is wrong and what is accepted.
        message: String,
    },
    /// A target whose host is not a loopback address, without `--allow-remote`.
    #[error(
        "target {name} resolves to {address}, which is not a loopback address; \
         pass --allow-remote to load a remote host"
    )]
    RemoteTarget {
        /// Target name.
        name: String,
        /// The first non-loopback address the host resolved to.
        address: String,
    },
    /// The prepare phase could not create the bucket or an object.
    #[error("prepare phase failed on target {target}: {message}")]
    Prepare {
        /// Target name.
        target: String,
        /// The request that failed and how.
        message: String,
    },
    /// Reading or writing a local file failed.
    #[error("cannot access {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// TLS configuration failed, for example an unreadable CA file.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// Any other I/O failure, such as a thread that could not be started.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl LoadgenError {
    /// Builds an [`LoadgenError::InvalidOption`].
    pub fn invalid(option: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidOption {
            option,
            message: message.into(),
        }
    }

    /// Returns the process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::InvalidOption { .. } | Self::RemoteTarget { .. } => EXIT_USAGE,
            _ => EXIT_FAILED,
        }
    }
}
