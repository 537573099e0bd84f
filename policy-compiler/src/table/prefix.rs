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

use super::bitset::PolicySet;

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
    Glob(Box<str>),
    /// Text that contains policy variables, resolved from the request's principal.
    Template(Template),
}

impl RemainderPattern {
    fn new(rest: &str) -> RemainderPattern {
        if template::has_variables(rest) {
            let pieces =
                template::parse(rest, TextMode::Glob).expect("the parser validated every variable");
            return RemainderPattern::Template(Template::new(pieces));
        }
        RemainderPattern::Glob(Box::from(rest))
    }

    fn matches(&self, rest: &str, principal: &Principal) -> bool {
        match self {
            RemainderPattern::Glob(pattern) if pattern.is_empty() => rest.is_empty(),
            RemainderPattern::Glob(pattern) => wildcard_match(pattern, rest),
            RemainderPattern::Template(template) => template.matches(rest, principal),
        }
    }
}

/// Returns the part of `pattern` before its first wildcard or policy variable.
fn literal_prefix(pattern: &str) -> &str {
    let wildcard = pattern.find(['*', '?']).unwrap_or(pattern.len());
    let variable = pattern.find("${").unwrap_or(pattern.len());
    &pattern[..wildcard.min(variable)]
}

#[derive(Clone, Debug)]
struct PrefixEntry {
    prefix: Box<str>,
    /// Index of the longest stored proper prefix of `prefix`.
    parent: Option<usize>,
    remainders: Vec<Remainder>,
}

/// Patterns of many policies, indexed by literal prefix.
#[derive(Clone, Debug, Default)]
pub(crate) struct PrefixIndex {
    entries: Vec<PrefixEntry>,
}

impl PrefixIndex {
    /// Builds the index from `(policy index, pattern)` pairs.
    pub(crate) fn build<'p>(patterns: impl IntoIterator<Item = (u32, &'p str)>) -> PrefixIndex {
        let mut split: Vec<(&str, Remainder)> = patterns
            .into_iter()
            .map(|(policy, pattern)| {
                let prefix = literal_prefix(pattern);
                let remainder = Remainder {
                    policy,
                    pattern: RemainderPattern::new(&pattern[prefix.len()..]),
                };
                (prefix, remainder)
            })
            .collect();
        split.sort_by(|left, right| left.0.cmp(right.0).then(left.1.policy.cmp(&right.1.policy)));

        let mut entries: Vec<PrefixEntry> = Vec::new();
        // Indices of the entries that are prefixes of the one being added, shortest first.
        let mut ancestors: Vec<usize> = Vec::new();
        for (prefix, remainder) in split {
            if let Some(last) = entries.last_mut()
                && *last.prefix == *prefix
            {
                last.remainders.push(remainder);
                continue;
            }
            while let Some(&top) = ancestors.last() {
                if prefix.starts_with(&*entries[top].prefix) {
                    break;
                }
                ancestors.pop();
            }
            entries.push(PrefixEntry {
                prefix: Box::from(prefix),
                parent: ancestors.last().copied(),
                remainders: vec![remainder],
            });
            ancestors.push(entries.len() - 1);
        }
        PrefixIndex { entries }
    }

    /// Appends to `matched` every policy in `candidates` that has a pattern matching `text`. A
    /// policy may be appended more than once.
    pub(crate) fn collect_matches(
        &self,
        text: &str,
        principal: &Principal,
        candidates: &PolicySet,
        matched: &mut Vec<u32>,
    ) {
        let after = self
            .entries
            .partition_point(|entry| entry.prefix.as_bytes() <= text.as_bytes());
        let Some(start) = after.checked_sub(1) else {
            return;
        };
        let shared = common_prefix_len(&self.entries[start].prefix, text);

        let mut next = Some(start);
        while let Some(index) = next {
            let entry = &self.entries[index];
            next = entry.parent;
            if entry.prefix.len() > shared {
                continue;
            }
            let rest = &text[entry.prefix.len()..];
            for remainder in &entry.remainders {
                if candidates.contains(remainder.policy)
                    && remainder.pattern.matches(rest, principal)
                {
                    matched.push(remainder.policy);
                }
            }
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
        let mut candidates = PolicySet::with_capacity(policies);
        for policy in 0..policies {
            candidates.insert(policy as u32);
        }
        let mut matched = Vec::new();
        index.collect_matches(text, &Principal::default(), &candidates, &mut matched);
        matched.sort_unstable();
        matched.dedup();
        matched
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
        let mut candidates = PolicySet::with_capacity(2);
        candidates.insert(1);
        let mut matched = Vec::new();
        index.collect_matches("anything", &Principal::default(), &candidates, &mut matched);
        assert_eq!(matched, vec![1]);
    }
}
