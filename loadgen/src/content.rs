//! Object content derived from the object key, so that a GET can be checked byte for byte
//! without a table of what the prepare phase wrote.
//!
//! Byte `i` of the object named `key` is byte `i % 8` (little-endian) of
//! `splitmix64(seed(key) + i / 8)`, where `seed` is the 64-bit FNV-1a hash of the key. The
//! content of a shorter object is a prefix of a longer one with the same key, and writing the
//! same key twice writes the same bytes, so PUTs in a mix never break later GETs.

/// Returns the 64-bit FNV-1a hash of `key`, the seed of its content.
pub fn content_seed(key: &str) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    key.bytes().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

/// Returns word `index` of the content with seed `seed`.
fn content_word(seed: u64, index: u64) -> u64 {
    // SplitMix64's output function; consecutive inputs give unrelated outputs.
    let mut z = seed.wrapping_add(index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Writes the content bytes `offset .. offset + out.len()` of the object with seed `seed`.
pub fn fill_content(seed: u64, offset: u64, out: &mut [u8]) {
    let mut position = offset;
    let mut written = 0;
    while written < out.len() {
        let word = content_word(seed, position / 8).to_le_bytes();
        let start = (position % 8) as usize;
        let take = (8 - start).min(out.len() - written);
        out[written..written + take].copy_from_slice(&word[start..start + take]);
        written += take;
        position += take as u64;
    }
}

/// Returns the whole content of an object, for bodies small enough to hold in memory.
pub fn content_bytes(key: &str, size: usize) -> Vec<u8> {
    let mut out = vec![0; size];
    fill_content(content_seed(key), 0, &mut out);
    out
}

/// Compares a streamed body against the expected content as it arrives.
#[derive(Debug, Clone)]
pub struct ContentCheck {
    seed: u64,
    position: u64,
    expected_length: u64,
    mismatch_at: Option<u64>,
    scratch: Vec<u8>,
}

impl ContentCheck {
    /// Starts checking the body of the object named `key`, expected to be `expected_length`
    /// bytes long.
    pub fn new(key: &str, expected_length: u64) -> Self {
        Self {
            seed: content_seed(key),
            position: 0,
            expected_length,
            mismatch_at: None,
            scratch: Vec::new(),
        }
    }

    /// Checks the next `data` bytes of the body.
    pub fn update(&mut self, data: &[u8]) {
        if self.mismatch_at.is_none() && self.position + data.len() as u64 <= self.expected_length {
            self.scratch.resize(data.len(), 0);
            fill_content(self.seed, self.position, &mut self.scratch);
            if let Some(index) = self.scratch.iter().zip(data).position(|(a, b)| a != b) {
                self.mismatch_at = Some(self.position + index as u64);
            }
        }
        self.position += data.len() as u64;
    }

    /// Returns the number of body bytes seen so far.
    pub fn received(&self) -> u64 {
        self.position
    }

    /// Returns the offset of the first wrong byte, if any byte within the expected length
    /// differed.
    pub fn mismatch_at(&self) -> Option<u64> {
        self.mismatch_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_depends_on_key() {
        assert_ne!(content_bytes("a", 64), content_bytes("b", 64));
    }

    #[test]
    fn shorter_content_is_prefix() {
        let long = content_bytes("key", 1000);
        let short = content_bytes("key", 333);
        assert_eq!(&long[..333], &short[..]);
    }

    #[test]
    fn unaligned_fill_matches_whole() {
        let whole = content_bytes("key", 100);
        let mut part = vec![0; 37];
        fill_content(content_seed("key"), 13, &mut part);
        assert_eq!(&whole[13..50], &part[..]);
    }

    #[test]
    fn check_accepts_split_body() {
        let body = content_bytes("object-7", 4096);
        let mut check = ContentCheck::new("object-7", 4096);
        for piece in body.chunks(1000) {
            check.update(piece);
        }
        assert_eq!(check.mismatch_at(), None);
        assert_eq!(check.received(), 4096);
    }

    #[test]
    fn check_finds_flipped_byte() {
        let mut body = content_bytes("object-7", 4096);
        body[2049] ^= 1;
        let mut check = ContentCheck::new("object-7", 4096);
        check.update(&body);
        assert_eq!(check.mismatch_at(), Some(2049));
    }
}
