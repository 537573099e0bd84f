//! A per-core cache of bucket records (name, tenant, creation time), so that the tenant check
//! of a request costs no storage round trip in the common case.
//!
//! Bucket creation and deletion on any core bump a shared epoch, and a core that sees a new
//! epoch drops its whole cache, so a bucket deleted and re-created by another tenant is never
//! judged by its old owner once the deletion has returned. Entries also expire after
//! [`MAX_AGE`], which bounds how long a change made behind the gateway's back (by another
//! process on the same backend) can go unseen.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use ironbucket_adapters::BucketInfo;

/// How long a cached record is trusted.
const MAX_AGE: Duration = Duration::from_secs(2);

/// Records kept per core; the cache is cleared when it fills.
const MAX_ENTRIES: usize = 4096;

#[derive(Default)]
pub(crate) struct BucketCache {
    entries: RefCell<HashMap<String, (Rc<BucketInfo>, Instant)>>,
    epoch: Cell<u64>,
}

impl BucketCache {
    /// Returns the cached record of `bucket` if it is fresh and no bucket changed since.
    pub(crate) fn get(&self, bucket: &str, epoch: u64) -> Option<Rc<BucketInfo>> {
        let mut entries = self.entries.borrow_mut();
        if self.epoch.get() != epoch {
            entries.clear();
            self.epoch.set(epoch);
            return None;
        }
        match entries.get(bucket) {
            Some((info, stored)) if stored.elapsed() < MAX_AGE => Some(info.clone()),
            Some(_) => {
                entries.remove(bucket);
                None
            }
            None => None,
        }
    }

    /// Stores a record read from storage under the epoch read before the read started.
    pub(crate) fn insert(&self, info: BucketInfo, epoch: u64) -> Rc<BucketInfo> {
        let info = Rc::new(info);
        // A record read while a bucket changed may already be stale: do not keep it.
        if self.epoch.get() != epoch {
            return info;
        }
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(info.name.clone(), (info.clone(), Instant::now()));
        info
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn record(name: &str, tenant: &str) -> BucketInfo {
        BucketInfo {
            name: name.to_owned(),
            created: SystemTime::now(),
            tenant: tenant.to_owned(),
        }
    }

    #[test]
    fn fresh_record_is_served() {
        let cache = BucketCache::default();
        cache.insert(record("b", "acme"), 0);
        assert_eq!(
            cache.get("b", 0).map(|info| info.tenant.clone()),
            Some("acme".into())
        );
    }

    #[test]
    fn new_epoch_drops_records() {
        let cache = BucketCache::default();
        cache.insert(record("b", "acme"), 0);
        assert!(cache.get("b", 1).is_none());
        assert!(cache.get("b", 1).is_none());
    }

    #[test]
    fn record_from_older_epoch_not_kept() {
        let cache = BucketCache::default();
        assert!(cache.get("x", 5).is_none());
        cache.insert(record("b", "acme"), 4);
        assert!(cache.get("b", 5).is_none());
    }
}
