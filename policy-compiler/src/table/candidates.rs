//! The candidate policies of one decision: those whose principal selectors name the caller
//! and whose actions include the request's action, as a short sorted list.
//!
//! A list sized by the candidates, not a bit set sized by the policy set, keeps a decision's
//! cost independent of how many policies other principals have: a caller typically has a few
//! dozen candidates whether the set contains ten policies or ten thousand.

use smallvec::SmallVec;

/// Candidates of a typical decision fit inline, so that building the list does not allocate.
const INLINE_CANDIDATES: usize = 64;

/// Policy indices in increasing order, without duplicates.
#[derive(Clone, Debug, Default)]
pub(crate) struct Candidates {
    indices: SmallVec<[u32; INLINE_CANDIDATES]>,
}

impl Candidates {
    /// Appends `policy`; [`Candidates::finish`] restores order afterwards.
    pub(crate) fn push(&mut self, policy: u32) {
        self.indices.push(policy);
    }

    /// Sorts the pushed indices and removes duplicates.
    pub(crate) fn finish(&mut self) {
        self.indices.sort_unstable();
        self.indices.dedup();
    }

    pub(crate) fn contains(&self, policy: u32) -> bool {
        self.indices.binary_search(&policy).is_ok()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
}

impl FromIterator<u32> for Candidates {
    fn from_iter<I: IntoIterator<Item = u32>>(policies: I) -> Candidates {
        let mut candidates = Candidates {
            indices: policies.into_iter().collect(),
        };
        candidates.finish();
        candidates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_sorts_and_dedups() {
        let candidates: Candidates = [5, 1, 5, 3].into_iter().collect();
        assert!(candidates.contains(1));
        assert!(candidates.contains(5));
        assert!(!candidates.contains(4));
    }

    #[test]
    fn empty_contains_nothing() {
        let candidates = Candidates::default();
        assert!(candidates.is_empty());
        assert!(!candidates.contains(0));
    }
}
