//! Checksums of S3's flexible-checksum feature (`x-amz-checksum-crc32`, `-crc32c`,
//! `-crc64nvme`, `-sha1`, `-sha256`), computed incrementally over a body.
//!
//! S3 transfers each value as the base64 form of the big-endian digest bytes, so a CRC32 is
//! 4 bytes (8 base64 characters) and a SHA-256 is 32 bytes (44 characters).

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// A checksum algorithm that S3 accepts in `x-amz-checksum-*` headers and trailers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumAlgorithm {
    /// CRC-32 (ISO-HDLC, the zlib polynomial).
    Crc32,
    /// CRC-32C (Castagnoli).
    Crc32c,
    /// CRC-64/NVME.
    Crc64Nvme,
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
}

impl ChecksumAlgorithm {
    /// Every algorithm, in the order S3 documents them.
    pub const ALL: [ChecksumAlgorithm; 5] = [
        Self::Crc32,
        Self::Crc32c,
        Self::Crc64Nvme,
        Self::Sha1,
        Self::Sha256,
    ];

    /// Returns the lower-case header name, such as `x-amz-checksum-crc32`.
    pub fn header_name(self) -> &'static str {
        match self {
            Self::Crc32 => "x-amz-checksum-crc32",
            Self::Crc32c => "x-amz-checksum-crc32c",
            Self::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Self::Sha1 => "x-amz-checksum-sha1",
            Self::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// Returns the name S3 uses in messages and in `x-amz-sdk-checksum-algorithm`, such as `CRC32`.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Crc32 => "CRC32",
            Self::Crc32c => "CRC32C",
            Self::Crc64Nvme => "CRC64NVME",
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
        }
    }

    /// Looks up an algorithm by its header name, ignoring ASCII case.
    pub fn from_header_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|algorithm| algorithm.header_name().eq_ignore_ascii_case(name))
    }

    /// Returns the digest size in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Crc32 | Self::Crc32c => 4,
            Self::Crc64Nvme => 8,
            Self::Sha1 => 20,
            Self::Sha256 => 32,
        }
    }

    /// Computes the digest of `data` in one call.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        let mut checksummer = Checksummer::new(self);
        checksummer.update(data);
        checksummer.finish()
    }

    /// Computes the base64 value S3 expects in the header or trailer for `data`.
    pub fn digest_base64(self, data: &[u8]) -> String {
        BASE64.encode(self.digest(data))
    }

    /// Decodes a header or trailer value, returning `None` unless it is base64 of exactly
    /// [`Self::digest_len`] bytes.
    pub fn decode_value(self, value: &str) -> Option<Vec<u8>> {
        // Base64 of n bytes is 4 * ceil(n / 3) characters, so longer input is rejected before
        // the decoder allocates for it.
        if value.len() != self.digest_len().div_ceil(3) * 4 {
            return None;
        }
        let decoded = BASE64.decode(value).ok()?;
        (decoded.len() == self.digest_len()).then_some(decoded)
    }
}

/// An incremental checksum over data fed in pieces.
pub struct Checksummer {
    algorithm: ChecksumAlgorithm,
    state: State,
}

enum State {
    Crc32(crc32fast::Hasher),
    Crc32c(u32),
    Crc64Nvme(crc64fast_nvme::Digest),
    Digest(digest::Context),
}

impl Checksummer {
    /// Starts a checksum of empty data.
    pub fn new(algorithm: ChecksumAlgorithm) -> Self {
        let state = match algorithm {
            ChecksumAlgorithm::Crc32 => State::Crc32(crc32fast::Hasher::new()),
            ChecksumAlgorithm::Crc32c => State::Crc32c(0),
            ChecksumAlgorithm::Crc64Nvme => State::Crc64Nvme(crc64fast_nvme::Digest::new()),
            ChecksumAlgorithm::Sha1 => {
                State::Digest(digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY))
            }
            ChecksumAlgorithm::Sha256 => State::Digest(digest::Context::new(&digest::SHA256)),
        };
        Self { algorithm, state }
    }

    /// Returns the algorithm.
    pub fn algorithm(&self) -> ChecksumAlgorithm {
        self.algorithm
    }

    /// Feeds the next piece of data.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.state {
            State::Crc32(hasher) => hasher.update(data),
            State::Crc32c(crc) => *crc = crc32c::crc32c_append(*crc, data),
            State::Crc64Nvme(digest) => digest.write(data),
            State::Digest(context) => context.update(data),
        }
    }

    /// Returns the big-endian digest bytes.
    pub fn finish(self) -> Vec<u8> {
        match self.state {
            State::Crc32(hasher) => hasher.finalize().to_be_bytes().to_vec(),
            State::Crc32c(crc) => crc.to_be_bytes().to_vec(),
            State::Crc64Nvme(digest) => digest.sum64().to_be_bytes().to_vec(),
            State::Digest(context) => context.finish().as_ref().to_vec(),
        }
    }
}

impl std::fmt::Debug for Checksummer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Checksummer")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// A checksum that matched the body, for the caller to store with the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedChecksum {
    /// Algorithm of the checksum.
    pub algorithm: ChecksumAlgorithm,
    /// Big-endian digest bytes.
    pub digest: Vec<u8>,
}

impl VerifiedChecksum {
    /// Returns the base64 value, as S3 returns it in `x-amz-checksum-*` response headers.
    pub fn to_base64(&self) -> String {
        BASE64.encode(&self.digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check value of each CRC (the digest of the ASCII digits "123456789"), as listed in
    /// the CRC catalogue that the algorithms are named after.
    #[test]
    fn crc_check_values_match() {
        let cases = [
            (ChecksumAlgorithm::Crc32, 0xCBF4_3926_u64),
            (ChecksumAlgorithm::Crc32c, 0xE306_9283),
            (ChecksumAlgorithm::Crc64Nvme, 0xAE8B_1486_0A79_9888),
        ];
        for (algorithm, expected) in cases {
            let digest = algorithm.digest(b"123456789");
            let mut value = 0_u64;
            for byte in &digest {
                value = (value << 8) | u64::from(*byte);
            }
            assert_eq!(value, expected, "{algorithm:?}");
        }
    }

    #[test]
    fn sha_digests_of_abc() {
        assert_eq!(
            hex::encode(ChecksumAlgorithm::Sha1.digest(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex::encode(ChecksumAlgorithm::Sha256.digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn incremental_equals_one_shot() {
        let data: Vec<u8> = (0..=255).cycle().take(10_000).collect();
        for algorithm in ChecksumAlgorithm::ALL {
            let mut checksummer = Checksummer::new(algorithm);
            for piece in data.chunks(7) {
                checksummer.update(piece);
            }
            assert_eq!(
                checksummer.finish(),
                algorithm.digest(&data),
                "{algorithm:?}"
            );
        }
    }

    #[test]
    fn decode_value_checks_length() {
        let value = ChecksumAlgorithm::Crc32.digest_base64(b"hello");
        assert!(ChecksumAlgorithm::Crc32.decode_value(&value).is_some());
        assert!(ChecksumAlgorithm::Crc64Nvme.decode_value(&value).is_none());
        assert!(ChecksumAlgorithm::Crc32.decode_value("AAAA").is_none());
        assert!(ChecksumAlgorithm::Crc32.decode_value("!!!!!!==").is_none());
    }

    #[test]
    fn header_names_round_trip() {
        for algorithm in ChecksumAlgorithm::ALL {
            let upper = algorithm.header_name().to_ascii_uppercase();
            assert_eq!(ChecksumAlgorithm::from_header_name(&upper), Some(algorithm));
        }
        assert_eq!(
            ChecksumAlgorithm::from_header_name("x-amz-checksum-md5"),
            None
        );
    }
}
