//! SigV4 signing keys and a small per-core cache of them.
//!
//! Deriving a signing key takes four HMAC-SHA256 calls over `"AWS4" + secret`, the scope date,
//! the region and the service. The key changes once a day per credential, so a server keeps
//! the derived keys and saves that chain on most requests.

use std::collections::{HashMap, VecDeque};

use aws_lc_rs::{digest, hmac};

/// A derived SigV4 signing key (`kSigning`), ready to sign strings.
///
/// Its `Debug` output does not show the key.
#[derive(Clone)]
pub struct SigningKey {
    key: hmac::Key,
}

impl SigningKey {
    /// Derives the key for `secret` on `date` (`YYYYMMDD`) in `region` for `service`.
    pub fn derive(secret: &str, date: &str, region: &str, service: &str) -> Self {
        let mut initial = Vec::with_capacity(4 + secret.len());
        initial.extend_from_slice(b"AWS4");
        initial.extend_from_slice(secret.as_bytes());
        let date_key = hmac_sign(&initial, date.as_bytes());
        let region_key = hmac_sign(date_key.as_ref(), region.as_bytes());
        let service_key = hmac_sign(region_key.as_ref(), service.as_bytes());
        let signing_key = hmac_sign(service_key.as_ref(), b"aws4_request");
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, signing_key.as_ref()),
        }
    }

    /// Computes HMAC-SHA256 of `message` with this key.
    pub fn sign(&self, message: &[u8]) -> [u8; 32] {
        let tag = hmac::sign(&self.key, message);
        let mut out = [0_u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    /// Computes HMAC-SHA256 of `message` with this key, as lower-case hex.
    pub fn sign_hex(&self, message: &[u8]) -> String {
        hex::encode(self.sign(message))
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SigningKey(..)")
    }
}

fn hmac_sign(key: &[u8], message: &[u8]) -> hmac::Tag {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), message)
}

/// A bounded cache of derived signing keys, meant to be owned by one core (it is not `Sync`
/// by design, and needs no lock).
///
/// An entry is keyed by the SHA-256 of the secret, date, region and service, each prefixed
/// with its length. Two different secrets therefore never share an entry, a rotated secret
/// misses instead of reusing the old key, and the raw secret is never stored. When the cache
/// is full, the oldest entry is evicted.
pub struct SigningKeyCache {
    entries: HashMap<[u8; 32], SigningKey>,
    order: VecDeque<[u8; 32]>,
    capacity: usize,
    hits: u64,
    misses: u64,
}

impl SigningKeyCache {
    /// Capacity of [`SigningKeyCache::default`]: enough for every active access key of a
    /// typical deployment on one day, and about 40 KiB of memory.
    pub const DEFAULT_CAPACITY: usize = 256;

    /// Creates an empty cache holding at most `capacity` keys; a capacity of 0 disables it.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::with_capacity(capacity.min(Self::DEFAULT_CAPACITY)),
            order: VecDeque::with_capacity(capacity.min(Self::DEFAULT_CAPACITY)),
            capacity,
            hits: 0,
            misses: 0,
        }
    }

    /// Returns the signing key for the scope, deriving and storing it on a miss.
    pub fn signing_key(
        &mut self,
        secret: &str,
        date: &str,
        region: &str,
        service: &str,
    ) -> SigningKey {
        let fingerprint = fingerprint(secret, date, region, service);
        if let Some(key) = self.entries.get(&fingerprint) {
            self.hits += 1;
            return key.clone();
        }
        self.misses += 1;
        let key = SigningKey::derive(secret, date, region, service);
        if self.capacity == 0 {
            return key;
        }
        while self.entries.len() >= self.capacity {
            match self.order.pop_front() {
                Some(oldest) => {
                    self.entries.remove(&oldest);
                }
                None => break,
            }
        }
        self.entries.insert(fingerprint, key.clone());
        self.order.push_back(fingerprint);
        key
    }

    /// Returns the number of cached keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Returns whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Returns how many lookups found a cached key.
    pub fn hits(&self) -> u64 {
        self.hits
    }

    /// Returns how many lookups had to derive a key.
    pub fn misses(&self) -> u64 {
        self.misses
    }

    /// Removes every cached key, for example after the credential set was reloaded.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
    }
}

impl Default for SigningKeyCache {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

impl std::fmt::Debug for SigningKeyCache {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SigningKeyCache")
            .field("len", &self.entries.len())
            .field("capacity", &self.capacity)
            .field("hits", &self.hits)
            .field("misses", &self.misses)
            .finish()
    }
}

/// Hashes the inputs of a key derivation. Each part is prefixed with its length, so that no
/// two different tuples encode to the same bytes.
fn fingerprint(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let mut context = digest::Context::new(&digest::SHA256);
    for part in [secret, date, region, service] {
        context.update(&(part.len() as u64).to_be_bytes());
        context.update(part.as_bytes());
    }
    let mut out = [0_u8; 32];
    out.copy_from_slice(context.finish().as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    #[test]
    fn derived_key_matches_aws_example() {
        // The example "derive a signing key for Signature Version 4" of the AWS General
        // Reference uses this secret (with a `+`), 20120215, us-east-1 and iam.
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let expected = "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d";
        let key = SigningKey::derive(secret, "20120215", "us-east-1", "iam");
        let reference = hmac::Key::new(hmac::HMAC_SHA256, &hex::decode(expected).unwrap());
        let probe = hmac::sign(&reference, b"probe");
        assert_eq!(key.sign(b"probe"), probe.as_ref());
    }

    #[test]
    fn cache_hits_on_same_scope() {
        let mut cache = SigningKeyCache::new(4);
        let first = cache.signing_key(SECRET, "20130524", "us-east-1", "s3");
        let second = cache.signing_key(SECRET, "20130524", "us-east-1", "s3");
        assert_eq!(first.sign(b"x"), second.sign(b"x"));
        assert_eq!(cache.hits(), 1);
        assert_eq!(cache.misses(), 1);
    }

    #[test]
    fn cache_separates_secrets() {
        let mut cache = SigningKeyCache::new(4);
        let first = cache.signing_key("secret-a", "20130524", "us-east-1", "s3");
        let second = cache.signing_key("secret-b", "20130524", "us-east-1", "s3");
        assert_ne!(first.sign(b"x"), second.sign(b"x"));
        assert_eq!(cache.misses(), 2);
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn cache_fingerprint_is_unambiguous() {
        // Without length prefixes these two tuples would hash the same concatenation.
        assert_ne!(
            fingerprint("ab", "c", "r", "s"),
            fingerprint("a", "bc", "r", "s")
        );
    }

    #[test]
    fn cache_evicts_oldest_entry() {
        let mut cache = SigningKeyCache::new(2);
        cache.signing_key(SECRET, "20130524", "r1", "s3");
        cache.signing_key(SECRET, "20130524", "r2", "s3");
        cache.signing_key(SECRET, "20130524", "r3", "s3");
        assert_eq!(cache.len(), 2);
        cache.signing_key(SECRET, "20130524", "r3", "s3");
        assert_eq!(cache.hits(), 1);
        cache.signing_key(SECRET, "20130524", "r1", "s3");
        assert_eq!(cache.misses(), 4);
    }

    #[test]
    fn zero_capacity_disables_cache() {
        let mut cache = SigningKeyCache::new(0);
        cache.signing_key(SECRET, "20130524", "us-east-1", "s3");
        cache.signing_key(SECRET, "20130524", "us-east-1", "s3");
        assert!(cache.is_empty());
        assert_eq!(cache.misses(), 2);
    }

    #[test]
    fn debug_output_hides_key() {
        let key = SigningKey::derive(SECRET, "20130524", "us-east-1", "s3");
        assert_eq!(format!("{key:?}"), "SigningKey(..)");
    }
}
