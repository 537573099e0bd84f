//! Configuration of the storage runtime: which backend, how many worker threads, and the sizes
//! that bound memory per stream.

use std::path::PathBuf;

use crate::error::{ErrorKind, StorageError};

/// Smallest body chunk the bridge sends, because smaller chunks make the per-chunk channel cost
/// dominate the copy cost.
pub const MIN_CHUNK_SIZE: usize = 64 * 1024;

/// Largest body chunk the bridge accepts as configuration, so that one chunk never pins more
/// than a few MiB per stream.
pub const MAX_CHUNK_SIZE: usize = 8 * 1024 * 1024;

/// S3's minimum size for every part of a multipart upload except the last one.
pub const S3_MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

/// The OpenDAL service that stores the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// A directory on a local file system. It is created if missing.
    Fs {
        /// Root directory; everything the adapter writes lives below it.
        root: PathBuf,
    },
    /// Process memory; contents are lost when the runtime stops.
    Memory,
}

/// Settings for [`crate::StorageRuntime::start`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageConfig {
    /// The storage service.
    pub backend: Backend,
    /// Worker threads of the storage runtime's tokio scheduler.
    pub workers: usize,
    /// Bounded capacity, in chunks, of each body channel between a core and the runtime.
    pub body_window: usize,
    /// Size in bytes of the body chunks the bridge sends, at least [`MIN_CHUNK_SIZE`].
    pub chunk_size: usize,
    /// Minimum size in bytes of every part but the last at multipart completion. S3 uses
    /// [`S3_MIN_PART_SIZE`]; tests lower it.
    pub min_part_size: u64,
    /// Capacity of the job queue from the cores to the dispatcher. A full queue makes callers
    /// wait.
    pub queue_depth: usize,
    /// Maximum number of jobs running at once. When reached, the dispatcher stops taking jobs,
    /// the queue fills and callers wait.
    pub max_jobs: usize,
}

impl StorageConfig {
    /// Creates a configuration for `backend` with the default sizes.
    pub fn new(backend: Backend) -> Self {
        StorageConfig {
            backend,
            workers: 2,
            body_window: 16,
            // 128 KiB halves the per-chunk channel cost of the 64 KiB minimum, and 16 of them
            // keep a stream's window at 2 MiB.
            chunk_size: 128 * 1024,
            min_part_size: S3_MIN_PART_SIZE,
            queue_depth: 1024,
            max_jobs: 4096,
        }
    }

    /// Checks every value against its allowed range.
    pub fn validate(&self) -> Result<(), StorageError> {
        let invalid = |message: String| {
            Err(StorageError::new(
                ErrorKind::InvalidArgument,
                "start",
                message,
            ))
        };
        if self.workers == 0 || self.workers > 1024 {
            return invalid(format!("workers is {}, expected 1 to 1024", self.workers));
        }
        if self.body_window == 0 || self.body_window > 4096 {
            return invalid(format!(
                "body_window is {}, expected 1 to 4096 chunks",
                self.body_window
            ));
        }
        if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&self.chunk_size) {
            return invalid(format!(
                "chunk_size is {} bytes, expected {MIN_CHUNK_SIZE} to {MAX_CHUNK_SIZE}",
                self.chunk_size
            ));
        }
        if self.min_part_size == 0 {
            return invalid("min_part_size is 0, expected at least 1 byte".to_owned());
        }
        if self.queue_depth == 0 || self.queue_depth > 1 << 20 {
            return invalid(format!(
                "queue_depth is {}, expected 1 to {}",
                self.queue_depth,
                1 << 20
            ));
        }
        // Tokio's semaphore caps permits at `usize::MAX >> 3`; far below that is plenty.
        if self.max_jobs == 0 || self.max_jobs > 1 << 20 {
            return invalid(format!(
                "max_jobs is {}, expected 1 to {}",
                self.max_jobs,
                1 << 20
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid() {
        assert!(StorageConfig::new(Backend::Memory).validate().is_ok());
    }

    #[test]
    fn small_chunk_size_is_rejected() {
        let config = StorageConfig {
            chunk_size: 4096,
            ..StorageConfig::new(Backend::Memory)
        };
        let error = config.validate().err().map(|error| error.kind());
        assert_eq!(error, Some(ErrorKind::InvalidArgument));
    }

    #[test]
    fn zero_workers_is_rejected() {
        let config = StorageConfig {
            workers: 0,
            ..StorageConfig::new(Backend::Memory)
        };
        assert!(config.validate().is_err());
    }
}
