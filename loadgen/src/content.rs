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
    let mut rest = out;
    // Bytes up to the next word boundary, one at a time.
    while !position.is_multiple_of(8) && !rest.is_empty() {
        rest[0] = content_word(seed, position / 8).to_le_bytes()[(position % 8) as usize];
        rest = &mut rest[1..];
        position += 1;
    }
    // Whole words: the fast path, which large bodies spend nearly all their time in.
    let mut words = rest.chunks_exact_mut(8);
    let mut index = position / 8;
    for word in &mut words {
        word.copy_from_slice(&content_word(seed, index).to_le_bytes());
        index += 1;
    }
    let tail = words.into_remainder();
    if !tail.is_empty() {
        let last = content_word(seed, index).to_le_bytes();
        tail.copy_from_slice(&last[..tail.len()]);
    }
}

/// Returns the offset (relative to `data`) of the first byte of `data` that differs from
/// the content at `offset`, comparing whole words without building the expected bytes.
fn first_difference(seed: u64, offset: u64, data: &[u8]) -> Option<usize> {
    let mut position = offset;
    let mut checked = 0;
    while !position.is_multiple_of(8) && checked < data.len() {
        let expected = content_word(seed, position / 8).to_le_bytes()[(position % 8) as usize];
        if data[checked] != expected {
            return Some(checked);
        }
        checked += 1;
        position += 1;
    }
    let mut index = position / 8;
    let mut words = data[checked..].chunks_exact(8);
    for word in &mut words {
        let expected = content_word(seed, index).to_le_bytes();
        if word != expected {
            let within = word.iter().zip(expected).position(|(a, b)| *a != b);
            return within.map(|within| checked + within);
        }
        checked += 8;
        index += 1;
    }
    let tail = words.remainder();
    let expected = content_word(seed, index).to_le_bytes();
    tail.iter()
        .zip(expected)
        .position(|(a, b)| *a != b)
        .map(|within| checked + within)
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
        }
    }

    /// Checks the next `data` bytes of the body.
    pub fn update(&mut self, data: &[u8]) {
        // Bytes past the expected length are not compared; the caller rejects the length.
        let within_length = self.position + data.len() as u64 <= self.expected_length;
        if self.mismatch_at.is_none() && within_length {
            self.mismatch_at = first_difference(self.seed, self.position, data)
                .map(|index| self.position + index as u64);
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
    fn check_finds_unaligned_flip() {
        let mut body = content_bytes("object-7", 100);
        body[45] ^= 0x80;
        let mut check = ContentCheck::new("object-7", 100);
        check.update(&body[..3]);
        check.update(&body[3..100]);
        assert_eq!(check.mismatch_at(), Some(45));
    }

    #[test]
    fn check_finds_flipped_tail_byte() {
        let mut body = content_bytes("object-7", 13);
        body[12] ^= 1;
        let mut check = ContentCheck::new("object-7", 13);
        check.update(&body);
        assert_eq!(check.mismatch_at(), Some(12));
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
