//! The resource index: resource patterns grouped by bucket name where the bucket is written
//! without wildcards, so that a decision searches only the patterns of the request's bucket
//! and the few patterns whose bucket part has a wildcard.

use compact_str::CompactString;
use rustc_hash::FxHashMap;

use crate::document::S3_ARN_PREFIX;
use crate::glob::has_wildcard;
use crate::request::Principal;
use crate::template::has_variables;

use super::Matches;
use super::candidates::Candidates;
use super::prefix::PrefixIndex;

/// Resource patterns of every policy.
#[derive(Clone, Debug, Default)]
pub(crate) struct ResourceIndex {
    /// Patterns with a literal bucket, keyed by bucket name. Each index contains the part of the
    /// pattern after the bucket name: empty for the bucket itself, `/...` for its objects.
    by_bucket: FxHashMap<CompactString, PrefixIndex>,
    /// Every other pattern, in full: `*`, and patterns with a wildcard in the bucket name.
    other: PrefixIndex,
}

impl ResourceIndex {
    /// Builds the index from `(policy index, resource pattern)` pairs.
    pub(crate) fn build<'p>(patterns: impl IntoIterator<Item = (u32, &'p str)>) -> ResourceIndex {
        let mut by_bucket: FxHashMap<&str, Vec<(u32, &str)>> = FxHashMap::default();
        let mut other = Vec::new();
        for (policy, pattern) in patterns {
            match split_bucket(pattern) {
                Some((bucket, rest)) if !has_wildcard(bucket) && !has_variables(bucket) => {
                    by_bucket.entry(bucket).or_default().push((policy, rest));
                }
                _ => other.push((policy, pattern)),
            }
        }
        ResourceIndex {
            by_bucket: by_bucket
                .into_iter()
                .map(|(bucket, patterns)| {
                    (CompactString::from(bucket), PrefixIndex::build(patterns))
                })
                .collect(),
            other: PrefixIndex::build(other),
        }
    }

    /// Appends to `matched` every policy in `candidates` that has a resource pattern matching
    /// `resource`. A policy may be appended more than once.
    pub(crate) fn collect_matches(
        &self,
        resource: &str,
        principal: &Principal,
        candidates: &Candidates,
        matched: &mut Matches,
    ) {
        if let Some((bucket, rest)) = split_bucket(resource)
            && let Some(index) = self.by_bucket.get(bucket)
        {
            index.collect_matches(rest, principal, candidates, matched);
        }
        self.other
            .collect_matches(resource, principal, candidates, matched);
    }
}

/// Splits an S3 ARN or ARN pattern into its bucket part and the rest, which is empty or starts
/// with `/`.
fn split_bucket(arn: &str) -> Option<(&str, &str)> {
    let resource = arn.strip_prefix(S3_ARN_PREFIX)?;
    let end = resource.find('/').unwrap_or(resource.len());
    Some(resource.split_at(end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(index: &ResourceIndex, resource: &str, policies: usize) -> Vec<u32> {
        let candidates: Candidates = (0..policies as u32).collect();
        let mut matched = Matches::new();
        index.collect_matches(resource, &Principal::default(), &candidates, &mut matched);
        matched.sort_unstable();
        matched.dedup();
        matched.to_vec()
    }

    #[test]
    fn literal_and_wildcard_buckets_combine() {
        let index = ResourceIndex::build([
            (0, "arn:aws:s3:::data"),
            (1, "arn:aws:s3:::data/*"),
            (2, "arn:aws:s3:::da*"),
            (3, "*"),
            (4, "arn:aws:s3:::other/*"),
        ]);
        assert_eq!(matches(&index, "arn:aws:s3:::data/k", 5), vec![1, 2, 3]);
        assert_eq!(matches(&index, "arn:aws:s3:::data", 5), vec![0, 2, 3]);
    }

    #[test]
    fn longer_bucket_is_another_bucket() {
        let index = ResourceIndex::build([(0, "arn:aws:s3:::data"), (1, "arn:aws:s3:::data/*")]);
        assert_eq!(
            matches(&index, "arn:aws:s3:::database/k", 2),
            Vec::<u32>::new()
        );
    }

    #[test]
    fn non_arn_resource_checks_other_patterns() {
        let index = ResourceIndex::build([(0, "arn:aws:s3:::data/*"), (1, "*")]);
        assert_eq!(matches(&index, "*", 2), vec![1]);
    }

    #[test]
    fn split_bucket_at_first_slash() {
        assert_eq!(split_bucket("arn:aws:s3:::b/k/x"), Some(("b", "/k/x")));
        assert_eq!(split_bucket("arn:aws:s3:::b"), Some(("b", "")));
        assert_eq!(split_bucket("*"), None);
    }
}
