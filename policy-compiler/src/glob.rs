//! IAM wildcard matching: `*` matches any run of characters, including none and including `/`,
//! and `?` matches exactly one character. Every other character matches itself.

/// Returns true when `text` matches the wildcard `pattern` exactly, comparing case-sensitively.
///
/// The greedy algorithm remembers only the most recent `*`, which is enough because a later
/// `*` can absorb anything an earlier one could. Its worst case is
/// O(pattern length x text length) without recursion or allocation.
pub(crate) fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern = pattern.as_bytes();
    let text_bytes = text.as_bytes();
    let mut pattern_index = 0;
    let mut text_index = 0;
    // After the last `*` seen: the pattern index just past it, and the text index it was
    // tried against.
    let mut backtrack: Option<(usize, usize)> = None;

    while text_index < text_bytes.len() {
        match pattern.get(pattern_index) {
            Some(b'*') => {
                pattern_index += 1;
                if pattern[pattern_index..].iter().all(|byte| *byte == b'*') {
                    // Trailing stars match whatever text is left.
                    return true;
                }
                backtrack = Some((pattern_index, text_index));
                continue;
            }
            Some(b'?') => {
                pattern_index += 1;
                text_index += char_len_at(text, text_index);
                continue;
            }
            Some(byte) if *byte == text_bytes[text_index] => {
                pattern_index += 1;
                text_index += 1;
                continue;
            }
            _ => {}
        }
        // Mismatch: let the last `*` absorb one more character, or fail if there is none.
        let Some((star_pattern_index, star_text_index)) = backtrack else {
            return false;
        };
        let next_text_index = star_text_index + char_len_at(text, star_text_index);
        backtrack = Some((star_pattern_index, next_text_index));
        pattern_index = star_pattern_index;
        text_index = next_text_index;
    }

    pattern[pattern_index..].iter().all(|byte| *byte == b'*')
}

/// Returns the length in bytes of the character that starts at `index`.
pub(crate) fn char_len_at(text: &str, index: usize) -> usize {
    if text.as_bytes().get(index).is_some_and(u8::is_ascii) {
        return 1;
    }
    text.get(index..)
        .and_then(|rest| rest.chars().next())
        .map_or(1, char::len_utf8)
}

/// Returns true when `pattern` contains `*` or `?`.
pub(crate) fn has_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_crosses_slashes() {
        assert!(wildcard_match("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y/z"));
    }

    #[test]
    fn star_matches_empty_run() {
        assert!(wildcard_match("a*b", "ab"));
    }

    #[test]
    fn question_mark_needs_one_character() {
        assert!(!wildcard_match("a?b", "ab"));
        assert!(wildcard_match("a?b", "axb"));
    }

    #[test]
    fn question_mark_matches_multibyte_character() {
        assert!(wildcard_match("a?b", "a\u{e9}b"));
        assert!(!wildcard_match("a??b", "a\u{e9}b"));
    }

    #[test]
    fn star_backtracks_past_false_start() {
        assert!(wildcard_match("*ab", "aab"));
        assert!(wildcard_match("*a*b?c", "xaxxbyc"));
        assert!(!wildcard_match("*a*b?c", "xaxxbc"));
    }

    #[test]
    fn literal_requires_full_match() {
        assert!(wildcard_match("abc", "abc"));
        assert!(!wildcard_match("abc", "abcd"));
        assert!(!wildcard_match("abcd", "abc"));
    }

    #[test]
    fn comparison_is_case_sensitive() {
        assert!(!wildcard_match("ABC", "abc"));
    }

    #[test]
    fn trailing_stars_match_empty() {
        assert!(wildcard_match("abc**", "abc"));
    }

    #[test]
    fn empty_pattern_matches_empty_text() {
        assert!(wildcard_match("", ""));
        assert!(!wildcard_match("", "a"));
    }
}
