//! Re-chunking of body bytes into chunks of one fixed size, so that each hop over a bounded
//! channel carries a full chunk and the window bounds memory in bytes, not only in messages.

use bytes::{Bytes, BytesMut};

/// Splits and joins byte chunks into chunks of exactly `chunk_size` bytes, except the last.
///
/// Input that arrives in whole chunks passes through without copying. Only the bytes that
/// straddle a chunk boundary are copied, into a buffer of at most `chunk_size` bytes.
#[derive(Debug)]
pub(crate) struct Rechunker {
    chunk_size: usize,
    pending: BytesMut,
}

impl Rechunker {
    pub(crate) fn new(chunk_size: usize) -> Self {
        Rechunker {
            chunk_size,
            pending: BytesMut::new(),
        }
    }

    /// Adds `input` and returns the chunks that are now full.
    pub(crate) fn push(&mut self, mut input: Bytes) -> Vec<Bytes> {
        let mut full = Vec::new();
        if !self.pending.is_empty() {
            let missing = self.chunk_size - self.pending.len();
            let take = missing.min(input.len());
            self.pending.extend_from_slice(&input.split_to(take));
            if self.pending.len() < self.chunk_size {
                return full;
            }
            full.push(self.pending.split().freeze());
        }
        while input.len() >= self.chunk_size {
            full.push(input.split_to(self.chunk_size));
        }
        if !input.is_empty() {
            self.pending.reserve(self.chunk_size);
            self.pending.extend_from_slice(&input);
        }
        full
    }

    /// Returns the bytes left over after the last full chunk, if any.
    pub(crate) fn finish(&mut self) -> Option<Bytes> {
        (!self.pending.is_empty()).then(|| self.pending.split().freeze())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lengths(chunks: &[Bytes]) -> Vec<usize> {
        chunks.iter().map(Bytes::len).collect()
    }

    #[test]
    fn small_inputs_are_joined() {
        let mut rechunker = Rechunker::new(4);
        let mut chunks = rechunker.push(Bytes::from_static(b"ab"));
        chunks.extend(rechunker.push(Bytes::from_static(b"cde")));
        assert_eq!(chunks, vec![Bytes::from_static(b"abcd")]);
        assert_eq!(rechunker.finish(), Some(Bytes::from_static(b"e")));
    }

    #[test]
    fn large_input_is_split() {
        let mut rechunker = Rechunker::new(4);
        let chunks = rechunker.push(Bytes::from_static(b"0123456789"));
        assert_eq!(lengths(&chunks), vec![4, 4]);
        assert_eq!(rechunker.finish(), Some(Bytes::from_static(b"89")));
    }

    #[test]
    fn aligned_input_is_not_copied() {
        let input = Bytes::from(vec![7u8; 8]);
        let start = input.as_ptr();
        let mut rechunker = Rechunker::new(4);
        let chunks = rechunker.push(input);
        assert_eq!(chunks[0].as_ptr(), start);
    }

    #[test]
    fn empty_finish_returns_none() {
        let mut rechunker = Rechunker::new(4);
        assert!(rechunker.push(Bytes::from_static(b"abcd")).len() == 1);
        assert_eq!(rechunker.finish(), None);
    }

    #[test]
    fn bytes_survive_in_order() {
        let mut rechunker = Rechunker::new(5);
        let mut output = Vec::new();
        for piece in [&b"a"[..], b"bcdefg", b"", b"hijklmnopq", b"r"] {
            for chunk in rechunker.push(Bytes::copy_from_slice(piece)) {
                output.extend_from_slice(&chunk);
            }
        }
        output.extend_from_slice(&rechunker.finish().unwrap_or_default());
        assert_eq!(output, b"abcdefghijklmnopqr");
    }
}
