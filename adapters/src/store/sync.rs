//! In-process coordination of the store: striped async locks that order commits, and blob pins
//! that keep the blobs of an object alive while a reader streams them.
//!
//! Both work inside one process only. Two gateway processes sharing one fs root would need a
//! lock shared between processes, which this crate does not have.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Mutex as AsyncMutex, RwLock};

use super::Inner;
use super::records::BlobRef;
use crate::layout;

/// Number of stripes per lock table. Unrelated names that share a stripe only wait for each
/// other's commit step, never for a body transfer.
const STRIPES: usize = 256;

/// Lock tables, acquired in this order: bucket, then upload, then object. Each table is a
/// separate array, so one task never locks the same stripe twice.
pub(crate) struct Locks {
    hasher: RandomState,
    buckets: Box<[RwLock<()>]>,
    uploads: Box<[AsyncMutex<()>]>,
    objects: Box<[AsyncMutex<()>]>,
}

impl Locks {
    pub(crate) fn new() -> Self {
        Locks {
            // A random hash seed keeps clients from choosing names that share one stripe.
            hasher: RandomState::new(),
            buckets: (0..STRIPES).map(|_| RwLock::new(())).collect(),
            uploads: (0..STRIPES).map(|_| AsyncMutex::new(())).collect(),
            objects: (0..STRIPES).map(|_| AsyncMutex::new(())).collect(),
        }
    }

    fn stripe(&self, parts: (&str, &str)) -> usize {
        (self.hasher.hash_one(parts) % STRIPES as u64) as usize
    }

    /// Returns the lock of a bucket. Object and upload commits take it shared, and bucket
    /// creation and deletion take it exclusive, so a bucket cannot vanish under a commit.
    pub(crate) fn bucket(&self, bucket: &str) -> &RwLock<()> {
        &self.buckets[self.stripe((bucket, ""))]
    }

    /// Returns the lock of an upload, which part commits, completion and abort take.
    pub(crate) fn upload(&self, bucket: &str, upload_id: &str) -> &AsyncMutex<()> {
        &self.uploads[self.stripe((bucket, upload_id))]
    }

    /// Returns the lock of an object key, which every change of its record takes.
    pub(crate) fn object(&self, bucket: &str, key: &str) -> &AsyncMutex<()> {
        &self.objects[self.stripe((bucket, key))]
    }
}

/// Pin counts of blobs that readers are streaming.
#[derive(Default)]
pub(crate) struct Pins {
    entries: Mutex<HashMap<String, PinEntry>>,
}

#[derive(Default)]
struct PinEntry {
    readers: usize,
    /// Set when the blob's last record was replaced while readers held it; the last reader
    /// to unpin deletes it.
    retired: bool,
}

/// Keeps blobs from being deleted until dropped.
pub(crate) struct PinGuard {
    inner: Arc<Inner>,
    ids: Vec<String>,
}

impl Inner {
    /// Pins `blobs` for a reader.
    ///
    /// A pin protects only blobs that are still referenced: the caller must read the record
    /// again after pinning and give up if it changed, because a writer may have replaced the
    /// record and deleted the blobs in between.
    pub(crate) fn pin(self: &Arc<Self>, blobs: &[BlobRef]) -> PinGuard {
        let mut entries = self.pins.lock();
        for blob in blobs {
            entries.entry(blob.id.clone()).or_default().readers += 1;
        }
        PinGuard {
            inner: Arc::clone(self),
            ids: blobs.iter().map(|blob| blob.id.clone()).collect(),
        }
    }

    /// Deletes blobs that no record references any more, or leaves it to the last reader that
    /// still streams one of them.
    pub(crate) async fn retire(&self, blobs: impl IntoIterator<Item = &BlobRef>) {
        let unpinned: Vec<String> = {
            let mut entries = self.pins.lock();
            blobs
                .into_iter()
                .filter(|blob| match entries.get_mut(&blob.id) {
                    Some(entry) => {
                        entry.retired = true;
                        false
                    }
                    None => true,
                })
                .map(|blob| blob.id.clone())
                .collect()
        };
        for id in unpinned {
            self.delete_blob(&id).await;
        }
    }

    /// Deletes one blob and logs a failure, because the caller has already committed and a
    /// leftover blob only costs space.
    pub(crate) async fn delete_blob(&self, id: &str) {
        if let Err(error) = self.op.delete(&layout::blob(id)).await {
            tracing::warn!(blob = id, %error, "failed to delete an unreferenced blob");
        }
    }
}

impl Pins {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, PinEntry>> {
        // The map stays consistent even if a holder panicked, because every update is a
        // single insert, increment or removal.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for PinGuard {
    fn drop(&mut self) {
        let retired: Vec<String> = {
            let mut entries = self.inner.pins.lock();
            let mut retired = Vec::new();
            for id in &self.ids {
                let Some(entry) = entries.get_mut(id) else {
                    continue;
                };
                entry.readers -= 1;
                if entry.readers == 0 {
                    if entry.retired {
                        retired.push(id.clone());
                    }
                    entries.remove(id);
                }
            }
            retired
        };
        if retired.is_empty() {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                let inner = Arc::clone(&self.inner);
                handle.spawn(async move {
                    for id in retired {
                        inner.delete_blob(&id).await;
                    }
                });
            }
            Err(_) => {
                tracing::warn!(
                    count = retired.len(),
                    "a reader outside the storage runtime left retired blobs behind"
                );
            }
        }
    }
}
