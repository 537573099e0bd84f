//! The aws-chunked decoder: chunk framing, the chunk-signature chain and the trailer section.
//!
//! A body is a series of chunks `hex-size[;chunk-signature=sig]\r\n data \r\n`, a final chunk
//! of size zero, an optional trailer section of `name:value\r\n` lines, and an empty line.
//! Each chunk signature is the HMAC of a string that includes the previous signature, with the
//! request's own signature (the seed) before the first chunk, so that chunks cannot be
//! reordered, dropped or replaced. The trailer signature continues the chain from the final
//! chunk's signature.
//!
//! The decoder is a state machine over bytes, so it accepts input split at any point.

use aws_lc_rs::digest;
use bytes::Bytes;
use subtle::ConstantTimeEq as _;

use crate::error::{PayloadError, excerpt};
use crate::key::SigningKey;
use crate::payload::EMPTY_SHA256;

/// Maximum length of a chunk-size line, extensions and CRLF included, in bytes. A signed line
/// is under 100 bytes, so 4 KiB leaves room for extensions without letting a client make the
/// server buffer an endless line.
pub const MAX_CHUNK_LINE_LEN: usize = 4 * 1024;

/// Maximum data size of one chunk, in bytes. SDKs send 8 KiB to 1 MiB chunks. Chunk data is
/// never buffered, so the limit only rejects absurd sizes early.
pub const MAX_CHUNK_SIZE: u64 = 16 * 1024 * 1024;

/// Maximum length of the trailer section after the final chunk, every line and CRLF
/// included, in bytes.
pub const MAX_TRAILER_SECTION_LEN: usize = 16 * 1024;

const TRAILER_SIGNATURE: &str = "x-amz-trailer-signature";

/// Key, scope and chain state for checking chunk signatures.
pub(crate) struct ChunkSigning {
    pub(crate) key: SigningKey,
    pub(crate) amz_date: String,
    pub(crate) scope: String,
    /// Hex signature the next chunk is chained to: the seed, then each chunk's signature.
    pub(crate) previous_signature: String,
}

impl ChunkSigning {
    pub(crate) fn chunk_signature(&self, data_hash: &[u8]) -> [u8; 32] {
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{EMPTY_SHA256}\n{}",
            self.amz_date,
            self.scope,
            self.previous_signature,
            hex::encode(data_hash)
        );
        self.key.sign(string_to_sign.as_bytes())
    }

    pub(crate) fn trailer_signature(&self, canonical_trailers: &[u8]) -> [u8; 32] {
        let hash = digest::digest(&digest::SHA256, canonical_trailers);
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{}\n{}",
            self.amz_date,
            self.scope,
            self.previous_signature,
            hex::encode(hash.as_ref())
        );
        self.key.sign(string_to_sign.as_bytes())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a chunk-size line into `line`.
    SizeLine,
    /// Forwarding chunk data.
    Data { remaining: u64 },
    /// Expecting the CR after chunk data.
    DataCr,
    /// Expecting the LF after chunk data.
    DataLf,
    /// Reading trailer lines into `line`, after the final chunk.
    Trailers,
    /// The empty line after the trailers was read; nothing may follow.
    Done,
}

pub(crate) struct ChunkedDecoder {
    signing: Option<ChunkSigning>,
    has_trailer: bool,
    declared_trailer: Option<&'static str>,
    declared_length: Option<u64>,
    state: State,
    line: Vec<u8>,
    chunk_index: u64,
    chunk_hash: Option<digest::Context>,
    chunk_signature: [u8; 32],
    decoded: u64,
    trailers: Vec<(String, String)>,
    trailer_signature: Option<[u8; 32]>,
    trailer_bytes: usize,
    skipped_blank_line: bool,
}

impl ChunkedDecoder {
    /// Creates a decoder. `signing` is `None` for unsigned chunks, `has_trailer` is set when
    /// a trailer section follows the final chunk, and `declared_trailer` is the header name
    /// from `x-amz-trailer`.
    pub(crate) fn new(
        signing: Option<ChunkSigning>,
        has_trailer: bool,
        declared_trailer: Option<&'static str>,
        declared_length: Option<u64>,
    ) -> Self {
        Self {
            signing,
            has_trailer,
            declared_trailer,
            declared_length,
            state: State::SizeLine,
            line: Vec::new(),
            chunk_index: 0,
            chunk_hash: None,
            chunk_signature: [0; 32],
            decoded: 0,
            trailers: Vec::new(),
            trailer_signature: None,
            trailer_bytes: 0,
            skipped_blank_line: false,
        }
    }

    pub(crate) fn push(
        &mut self,
        input: Bytes,
        output: &mut Vec<Bytes>,
    ) -> Result<(), PayloadError> {
        let mut position = 0;
        while position < input.len() {
            match self.state {
                State::SizeLine => {
                    if self.take_line(&input, &mut position, MAX_CHUNK_LINE_LEN)? {
                        self.finish_size_line()?;
                    }
                }
                State::Data { remaining } => {
                    let available = (input.len() - position) as u64;
                    let taken = remaining.min(available);
                    // `taken` is at most the input length, so it fits in usize.
                    let end = position + usize::try_from(taken).unwrap_or(usize::MAX);
                    let data = input.slice(position..end);
                    if let Some(hash) = &mut self.chunk_hash {
                        hash.update(&data);
                    }
                    output.push(data);
                    position = end;
                    let remaining = remaining - taken;
                    self.state = State::Data { remaining };
                    if remaining == 0 {
                        self.verify_chunk()?;
                        self.state = State::DataCr;
                    }
                }
                State::DataCr => {
                    self.expect_byte(input[position], b'\r')?;
                    position += 1;
                    self.state = State::DataLf;
                }
                State::DataLf => {
                    self.expect_byte(input[position], b'\n')?;
                    position += 1;
                    self.state = State::SizeLine;
                }
                State::Trailers => {
                    let budget = MAX_TRAILER_SECTION_LEN - self.trailer_bytes;
                    let complete = self.take_line(&input, &mut position, budget).map_err(|_| {
                        PayloadError::TrailerTooLarge {
                            limit: MAX_TRAILER_SECTION_LEN,
                        }
                    })?;
                    if complete {
                        self.trailer_bytes += self.line.len();
                        self.finish_trailer_line()?;
                    }
                }
                State::Done => {
                    return Err(PayloadError::MalformedChunk {
                        reason: "data follows the end of the aws-chunked body",
                    });
                }
            }
        }
        Ok(())
    }

    /// Appends input up to and including the next LF to `line`, and returns whether the line
    /// is complete. `limit` bounds the length of `line`.
    fn take_line(
        &mut self,
        input: &[u8],
        position: &mut usize,
        limit: usize,
    ) -> Result<bool, PayloadError> {
        let rest = &input[*position..];
        let (piece, complete) = match rest.iter().position(|&byte| byte == b'\n') {
            Some(index) => (&rest[..=index], true),
            None => (rest, false),
        };
        if self.line.len() + piece.len() > limit {
            return Err(PayloadError::ChunkLineTooLong {
                limit: MAX_CHUNK_LINE_LEN,
            });
        }
        self.line.extend_from_slice(piece);
        *position += piece.len();
        Ok(complete)
    }

    fn expect_byte(&self, actual: u8, expected: u8) -> Result<(), PayloadError> {
        if actual == expected {
            Ok(())
        } else {
            Err(PayloadError::MalformedChunk {
                reason: "chunk data is not followed by CRLF, so the chunk size is wrong",
            })
        }
    }

    /// Returns the line without its CRLF, rejecting a bare LF.
    fn line_content(&self) -> Result<&[u8], &'static str> {
        self.line
            .strip_suffix(b"\r\n")
            .ok_or("a line ends with LF instead of CRLF")
    }

    fn finish_size_line(&mut self) -> Result<(), PayloadError> {
        let content = self
            .line_content()
            .map_err(|reason| PayloadError::MalformedChunk { reason })?;
        let content = std::str::from_utf8(content).map_err(|_| PayloadError::MalformedChunk {
            reason: "a chunk-size line is not ASCII",
        })?;
        let mut parts = content.split(';');
        let size_hex = parts.next().unwrap_or_default();
        if size_hex.is_empty()
            || size_hex.len() > 16
            || !size_hex.bytes().all(|byte| byte.is_ascii_hexdigit())
        {
            return Err(PayloadError::MalformedChunk {
                reason: "a chunk size is not a hexadecimal number",
            });
        }
        let size = u64::from_str_radix(size_hex, 16).map_err(|_| PayloadError::MalformedChunk {
            reason: "a chunk size is not a hexadecimal number",
        })?;
        if size > MAX_CHUNK_SIZE {
            return Err(PayloadError::ChunkTooLarge {
                size,
                limit: MAX_CHUNK_SIZE,
            });
        }

        let mut signature = None;
        for extension in parts {
            let (name, value) = extension.split_once('=').unwrap_or((extension, ""));
            if name.trim_matches(' ') != "chunk-signature" {
                // Unsigned chunks may carry extensions, which S3 ignores, and so do we.
                continue;
            }
            let mut decoded = [0_u8; 32];
            let value = value.trim_matches(' ');
            if value.len() != 64 || hex::decode_to_slice(value, &mut decoded).is_err() {
                return Err(PayloadError::MalformedChunk {
                    reason: "a chunk-signature is not 64 hexadecimal digits",
                });
            }
            if signature.replace(decoded).is_some() {
                return Err(PayloadError::MalformedChunk {
                    reason: "a chunk has two chunk-signature extensions",
                });
            }
        }
        if self.signing.is_some() {
            self.chunk_signature = signature.ok_or(PayloadError::MalformedChunk {
                reason: "a chunk of a signed payload has no chunk-signature",
            })?;
            self.chunk_hash = Some(digest::Context::new(&digest::SHA256));
        }
        self.line.clear();

        if let Some(declared) = self.declared_length
            && self.decoded + size > declared
        {
            return Err(PayloadError::BodyTooLong { declared });
        }
        self.decoded += size;
        if size == 0 {
            self.verify_chunk()?;
            self.state = State::Trailers;
        } else {
            self.state = State::Data { remaining: size };
        }
        Ok(())
    }

    /// Checks the signature of the chunk just read and advances the chain.
    fn verify_chunk(&mut self) -> Result<(), PayloadError> {
        let index = self.chunk_index;
        self.chunk_index += 1;
        let Some(signing) = &mut self.signing else {
            return Ok(());
        };
        let hash = self
            .chunk_hash
            .take()
            .map(digest::Context::finish)
            .unwrap_or_else(|| digest::digest(&digest::SHA256, b""));
        let computed = signing.chunk_signature(hash.as_ref());
        if !bool::from(computed.ct_eq(&self.chunk_signature)) {
            return Err(PayloadError::ChunkSignatureDoesNotMatch { chunk: index });
        }
        signing.previous_signature = hex::encode(computed);
        Ok(())
    }

    fn finish_trailer_line(&mut self) -> Result<(), PayloadError> {
        let content = self
            .line_content()
            .map_err(|reason| PayloadError::MalformedTrailer {
                reason: reason.to_owned(),
            })?
            .to_vec();
        self.line.clear();

        if content.is_empty() {
            // The AWS documentation's trailer example puts an empty line between the final
            // chunk and the trailers. Skip one such line when trailers are declared and none
            // was read yet; otherwise the empty line ends the body.
            let nothing_read = self.trailers.is_empty() && self.trailer_signature.is_none();
            if self.declared_trailer.is_some() && nothing_read && !self.skipped_blank_line {
                self.skipped_blank_line = true;
                return Ok(());
            }
            self.complete_trailers()?;
            self.state = State::Done;
            return Ok(());
        }

        if !self.has_trailer {
            return Err(PayloadError::MalformedTrailer {
                reason: "a trailer follows the final chunk, but the payload mode has no trailer"
                    .to_owned(),
            });
        }
        let content = String::from_utf8(content).map_err(|_| PayloadError::MalformedTrailer {
            reason: "a trailer line is not valid UTF-8".to_owned(),
        })?;
        let Some((name, value)) = content.split_once(':') else {
            return Err(PayloadError::MalformedTrailer {
                reason: format!("the trailer line '{}' has no ':'", excerpt(&content)),
            });
        };
        let name = name.trim_matches([' ', '\t']).to_ascii_lowercase();
        let value = value.trim_matches([' ', '\t']).to_owned();

        if name == TRAILER_SIGNATURE {
            if self.signing.is_none() {
                // An unsigned payload has no chain to check a trailer signature against.
                return Ok(());
            }
            let mut signature = [0_u8; 32];
            if value.len() != 64 || hex::decode_to_slice(&value, &mut signature).is_err() {
                return Err(PayloadError::MalformedTrailer {
                    reason: "x-amz-trailer-signature is not 64 hexadecimal digits".to_owned(),
                });
            }
            if self.trailer_signature.replace(signature).is_some() {
                return Err(PayloadError::MalformedTrailer {
                    reason: "x-amz-trailer-signature appears twice".to_owned(),
                });
            }
            return Ok(());
        }

        if self.declared_trailer != Some(name.as_str()) {
            return Err(PayloadError::MalformedTrailer {
                reason: format!(
                    "the trailer '{}' was not declared in x-amz-trailer",
                    excerpt(&name)
                ),
            });
        }
        if self.trailers.iter().any(|(existing, _)| *existing == name) {
            return Err(PayloadError::MalformedTrailer {
                reason: format!("the trailer '{name}' appears twice"),
            });
        }
        self.trailers.push((name, value));
        Ok(())
    }

    /// Checks that every declared trailer arrived and, for a signed payload, the trailer
    /// signature over the trailers in the order received.
    fn complete_trailers(&mut self) -> Result<(), PayloadError> {
        if let Some(declared) = self.declared_trailer
            && !self.trailers.iter().any(|(name, _)| name == declared)
        {
            return Err(PayloadError::MalformedTrailer {
                reason: format!("the declared trailer {declared} is missing"),
            });
        }
        if !self.has_trailer {
            return Ok(());
        }
        let Some(signing) = &self.signing else {
            return Ok(());
        };
        let Some(provided) = self.trailer_signature else {
            return Err(PayloadError::MissingTrailerSignature);
        };
        let mut canonical = Vec::with_capacity(self.trailer_bytes);
        for (name, value) in &self.trailers {
            canonical.extend_from_slice(name.as_bytes());
            canonical.push(b':');
            canonical.extend_from_slice(value.as_bytes());
            canonical.push(b'\n');
        }
        let computed = signing.trailer_signature(&canonical);
        if !bool::from(computed.ct_eq(&provided)) {
            return Err(PayloadError::TrailerSignatureDoesNotMatch);
        }
        Ok(())
    }

    /// Ends the input and returns the trailers.
    ///
    /// A trailer section whose lines are all complete is accepted without its closing empty
    /// line, because the AWS documentation's signed-trailer example ends that way. It must
    /// still contain the declared trailer and, when signed, a matching trailer signature.
    pub(crate) fn finish(mut self) -> Result<Vec<(String, String)>, PayloadError> {
        match self.state {
            State::Done => return Ok(self.trailers),
            State::Trailers if self.line.is_empty() && self.has_trailer => {
                self.complete_trailers()?;
                return Ok(self.trailers);
            }
            _ => {}
        }
        let open_chunk = match self.state {
            State::Data { remaining } => remaining,
            _ => 0,
        };
        let received = self.decoded - open_chunk;
        Err(PayloadError::IncompleteBody {
            declared: self.declared_length.unwrap_or(self.decoded).max(received),
            received,
        })
    }
}
