//! A prefix index: patterns split into a literal prefix and a wildcard remainder, with the
//! distinct prefixes kept sorted so that one binary search finds every prefix of a text.
//!
//! Why one search suffices: let `p` be the greatest stored prefix that sorts at or before the
//! text `r`. Every stored prefix `q` of `r` sorts at or before `r`, so `q <= p`, and every
//! string between `q` and `r` in sorted order starts with `q`, so `q` is a prefix of `p` too.
//! The prefixes of `r` are therefore the prefixes of `p` that are no longer than the common
//! prefix of `p` and `r`, and a parent link from each stored prefix to its longest stored
//! proper prefix enumerates them.

use crate::glob::wildcard_match;
use crate::request::Principal;
use crate::template::{self, Template, TextMode};

use super::Matches;
use super::candidates::Candidates;

/// A range of bytes in [`PrefixIndex::text`].
#[derive(Clone, Copy, Debug, Default)]
struct Span {
    start: usize,
    end: usize,
}

/// A pattern of one policy, after its literal prefix.
#[derive(Clone, Debug)]
struct Remainder {
    policy: u32,
    pattern: RemainderPattern,
}

/// The rest of a pattern after its literal prefix.
#[derive(Clone, Debug)]
enum RemainderPattern {
    /// Text that starts with a wildcard, or is empty when the pattern has none and must equal
    /// the text exactly.
    Glob(Span),
    /// Text that contains policy variables, resolved from the request's principal.
    Template(Box<Template>),
}

/// Returns the part of `pattern` before its first wildcard or policy variable.
fn literal_prefix(pattern: &str) -> &str {
    let wildcard = pattern.find(['*', '?']).unwrap_or(pattern.len());
    let variable = pattern.find("${").unwrap_or(pattern.len());
    &pattern[..wildcard.min(variable)]
}

#[derive(Clone, Debug)]
struct PrefixEntry {
    prefix: Span,
    /// Index of the longest stored proper prefix of `prefix`.
    parent: Option<usize>,
    /// The entry's range in [`PrefixIndex::remainders`].
    remainders: Span,
}

/// Patterns of many policies, indexed by literal prefix.
///
/// Prefixes and wildcard remainders live in one string, and remainders in one list, so that a
/// search touches a few adjacent cache lines instead of one heap allocation per step. In a
/// table of thousands of policies, those cache misses are most of a decision's cost.
#[derive(Clone, Debug, Default)]
pub(crate) struct PrefixIndex {
    text: Box<str>,
    entries: Box<[PrefixEntry]>,
    remainders: Box<[Remainder]>,
}

impl PrefixIndex {
    /// Builds the index from `(policy index, pattern)` pairs.
    pub(crate) fn build<'p>(patterns: impl IntoIterator<Item = (u32, &'p str)>) -> PrefixIndex {
        let mut split: Vec<(&str, u32, &str)> = patterns
            .into_iter()
            .map(|(policy, pattern)| {
                let prefix = literal_prefix(pattern);
                (prefix, policy, &pattern[prefix.len()..])
            })
            .collect();
        split.sort_by(|left, right| left.0.cmp(right.0).then(left.1.cmp(&right.1)));

        let mut text = String::new();
        let mut append = |piece: &str| {
            let start = text.len();
            text.push_str(piece);
            Span {
                start,
                end: text.len(),
            }
        };
        let mut entries: Vec<PrefixEntry> = Vec::new();
        let mut remainders: Vec<Remainder> = Vec::with_capacity(split.len());
        // Prefixes of the entries that are prefixes of the one being added, shortest first,
        // with their entry indices.
        let mut ancestors: Vec<(&str, usize)> = Vec::new();
        let mut last_prefix: Option<&str> = None;
        for (prefix, policy, rest) in split {
            let pattern = if template::has_variables(rest) {
                let pieces = template::parse(rest, TextMode::Glob)
                    .expect("the parser validated every variable");
                RemainderPattern::Template(Box::new(Template::new(pieces)))
            } else {
                RemainderPattern::Glob(append(rest))
            };
            remainders.push(Remainder { policy, pattern });
            if last_prefix == Some(prefix) {
                if let Some(last) = entries.last_mut() {
                    last.remainders.end = remainders.len();
                }
                continue;
            }
            while let Some((top, _)) = ancestors.last() {
                if prefix.starts_with(top) {
                    break;
                }
                ancestors.pop();
            }
            entries.push(PrefixEntry {
                prefix: append(prefix),
                parent: ancestors.last().map(|(_, index)| *index),
                remainders: Span {
                    start: remainders.len() - 1,
                    end: remainders.len(),
                },
            });
            ancestors.push((prefix, entries.len() - 1));
            last_prefix = Some(prefix);
        }
        PrefixIndex {
            text: text.into_boxed_str(),
            entries: entries.into_boxed_slice(),
            remainders: remainders.into_boxed_slice(),
        }
    }

    fn slice(&self, span: Span) -> &str {
        &self.text[span.start..span.end]
    }

    /// Appends to `matched` every policy in `candidates` that has a pattern matching `text`. A
    /// policy may be appended more than once.
    pub(crate) fn collect_matches(
        &self,
        text: &str,
        principal: &Principal,
        candidates: &Candidates,
        matched: &mut Matches,
    ) {
        let after = self
            .entries
            .partition_point(|entry| self.slice(entry.prefix).as_bytes() <= text.as_bytes());
        let Some(start) = after.checked_sub(1) else {
            return;
        };
        let shared = common_prefix_len(self.slice(self.entries[start].prefix), text);

        let mut next = Some(start);
        while let Some(index) = next {
            let entry = &self.entries[index];
            next = entry.parent;
            let prefix_len = entry.prefix.end - entry.prefix.start;
            if prefix_len > shared {
                continue;
            }
            let rest = &text[prefix_len..];
            let remainders = &self.remainders[entry.remainders.start..entry.remainders.end];
            for remainder in remainders {
                if candidates.contains(remainder.policy)
                    && self.remainder_matches(&remainder.pattern, rest, principal)
                {
                    matched.push(remainder.policy);
                }
            }
        }
    }

    fn remainder_matches(
        &self,
        pattern: &RemainderPattern,
        rest: &str,
        principal: &Principal,
    ) -> bool {
        match pattern {
            RemainderPattern::Glob(span) if span.start == span.end => rest.is_empty(),
            RemainderPattern::Glob(span) => wildcard_match(self.slice(*span), rest),
            RemainderPattern::Template(template) => template.matches(rest, principal),
        }
    }
}

/// Returns the length in bytes of the longest common prefix that ends on a character boundary
/// of both strings.
fn common_prefix_len(left: &str, right: &str) -> usize {
    let mut length = 0;
    for ((index, left_char), right_char) in left.char_indices().zip(right.chars()) {
        if left_char != right_char {
            break;
        }
        length = index + left_char.len_utf8();
    }
    length
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(index: &PrefixIndex, text: &str, policies: usize) -> Vec<u32> {
        let candidates: Candidates = (0..policies as u32).collect();
        let mut matched = Matches::new();
        index.collect_matches(text, &Principal::default(), &candidates, &mut matched);
        matched.sort_unstable();
        matched.dedup();
        matched.to_vec()
    }

    #[test]
    fn nested_prefixes_all_found() {
        let index = PrefixIndex::build([
            (0, "*"),
            (1, "arn:aws:s3:::b*"),
            (2, "arn:aws:s3:::bucket/*"),
            (3, "arn:aws:s3:::bucket/key"),
            (4, "arn:aws:s3:::other/*"),
        ]);
        assert_eq!(
            matches(&index, "arn:aws:s3:::bucket/key", 5),
            vec![0, 1, 2, 3]
        );
    }

    #[test]
    fn sibling_between_prefix_and_text() {
        // "arn:aws:s3:::a/b" sorts between the prefix "arn:aws:s3:::a/" and the text
        // "arn:aws:s3:::a/c", so the search lands on it and must walk up to its parent.
        let index = PrefixIndex::build([(0, "arn:aws:s3:::a/*"), (1, "arn:aws:s3:::a/b*")]);
        assert_eq!(matches(&index, "arn:aws:s3:::a/c", 2), vec![0]);
    }

    #[test]
    fn exact_pattern_needs_full_match() {
        let index = PrefixIndex::build([(0, "arn:aws:s3:::bucket")]);
        assert_eq!(
            matches(&index, "arn:aws:s3:::bucket/key", 1),
            Vec::<u32>::new()
        );
        assert_eq!(matches(&index, "arn:aws:s3:::bucket", 1), vec![0]);
    }

    #[test]
    fn text_before_every_prefix() {
        let index = PrefixIndex::build([(0, "arn:aws:s3:::m*")]);
        assert_eq!(matches(&index, "arn:aws:s3:::a", 1), Vec::<u32>::new());
    }

    #[test]
    fn question_mark_remainder_checked() {
        let index = PrefixIndex::build([(0, "arn:aws:s3:::logs-20??/*")]);
        assert_eq!(matches(&index, "arn:aws:s3:::logs-2024/x", 1), vec![0]);
        assert_eq!(
            matches(&index, "arn:aws:s3:::logs-202/x", 1),
            Vec::<u32>::new()
        );
    }

    #[test]
    fn non_candidates_are_skipped() {
        let index = PrefixIndex::build([(0, "*"), (1, "*")]);
        let candidates: Candidates = [1].into_iter().collect();
        let mut matched = Matches::new();
        index.collect_matches("anything", &Principal::default(), &candidates, &mut matched);
        assert_eq!(matched.to_vec(), vec![1]);
    }
}
