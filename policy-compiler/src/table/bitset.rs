//! A fixed-size bit set over policy indices.

/// A set of policy indices below a fixed capacity, one bit per policy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PolicySet {
    words: Box<[u64]>,
}

impl PolicySet {
    /// Creates an empty set able to hold indices below `capacity`.
    pub(crate) fn with_capacity(capacity: usize) -> PolicySet {
        PolicySet {
            words: vec![0; capacity.div_ceil(64)].into_boxed_slice(),
        }
    }

    pub(crate) fn insert(&mut self, index: u32) {
        let index = index as usize;
        self.words[index / 64] |= 1 << (index % 64);
    }

    pub(crate) fn contains(&self, index: u32) -> bool {
        let index = index as usize;
        self.words
            .get(index / 64)
            .is_some_and(|word| word & (1 << (index % 64)) != 0)
    }

    /// Keeps only the members that `other` also contains.
    pub(crate) fn intersect_with(&mut self, other: &PolicySet) {
        for (word, other_word) in self.words.iter_mut().zip(other.words.iter()) {
            *word &= *other_word;
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.words.iter().all(|word| *word == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_and_contains() {
        let mut set = PolicySet::with_capacity(130);
        set.insert(0);
        set.insert(129);
        assert!(set.contains(0));
        assert!(set.contains(129));
        assert!(!set.contains(64));
    }

    #[test]
    fn out_of_range_is_absent() {
        let set = PolicySet::with_capacity(10);
        assert!(!set.contains(1_000));
    }

    #[test]
    fn intersection_keeps_common_members() {
        let mut left = PolicySet::with_capacity(100);
        let mut right = PolicySet::with_capacity(100);
        left.insert(3);
        left.insert(70);
        right.insert(70);
        left.intersect_with(&right);
        assert!(!left.contains(3));
        assert!(left.contains(70));
    }

    #[test]
    fn empty_after_disjoint_intersection() {
        let mut left = PolicySet::with_capacity(100);
        let mut right = PolicySet::with_capacity(100);
        left.insert(1);
        right.insert(2);
        left.intersect_with(&right);
        assert!(left.is_empty());
    }
}
