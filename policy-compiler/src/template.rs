//! Policy variables: patterns such as `arn:aws:s3:::home/${aws:username}/*`, whose `${...}`
//! parts are replaced per request by an attribute of the principal.
//!
//! A substituted value is always literal text: a user name containing `*` does not become a
//! wildcard. A pattern is therefore kept as pieces (wildcard text, literal text, variables)
//! and matched piece by piece, so that a decision resolves variables by borrowing the
//! principal's strings instead of building a new pattern string.

use crate::glob::char_len_at;
use crate::key::ConditionKey;
use crate::request::Principal;

/// Maximum number of pieces in one pattern with variables. Each variable and each run of text
/// between them is one piece.
pub const MAX_TEMPLATE_PIECES: usize = 32;

/// One part of a pattern.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Piece {
    /// Text in which `*` and `?` are wildcards.
    Glob(Box<str>),
    /// Text compared exactly, such as an escaped `${*}` or the text of a `StringEquals` value.
    Literal(Box<str>),
    /// A variable, resolved from the principal for each request.
    Variable(ConditionKey),
}

/// How the text between variables is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TextMode {
    /// `*` and `?` are wildcards, as in resources and `StringLike`.
    Glob,
    /// Text is literal, as in `StringEquals`.
    Literal,
}

/// Returns true when `text` contains a `${` variable or escape.
pub(crate) fn has_variables(text: &str) -> bool {
    text.contains("${")
}

/// Splits `text` into pieces. The escapes `${*}`, `${?}` and `${$}` stand for a literal `*`,
/// `?` and `$`, as in IAM.
///
/// The error message names the problem, ready for a diagnostic.
pub(crate) fn parse(text: &str, mode: TextMode) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let text_piece = |run: &str| match mode {
        TextMode::Glob => Piece::Glob(Box::from(run)),
        TextMode::Literal => Piece::Literal(Box::from(run)),
    };
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        if start > 0 {
            pieces.push(text_piece(&rest[..start]));
        }
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!(
                "unclosed policy variable in \"{text}\"; close it with }}, as in \
                 ${{aws:username}}"
            ));
        };
        let name = &after[..end];
        pieces.push(match name {
            "*" | "?" | "$" => Piece::Literal(Box::from(name)),
            _ => Piece::Variable(variable(name)?),
        });
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        pieces.push(text_piece(rest));
    }
    if pieces.len() > MAX_TEMPLATE_PIECES {
        return Err(format!(
            "\"{text}\" has more than {MAX_TEMPLATE_PIECES} variables and text runs; split it \
             into several values"
        ));
    }
    Ok(pieces)
}

fn variable(name: &str) -> Result<ConditionKey, String> {
    let hint = "the variables are ${aws:username}, ${aws:userid}, ${ib:tenant}, \
                ${aws:PrincipalTag/<name>}, ${jwt:<claim path>} and ${custom:<claim path>}, \
                and ${*}, ${?} and ${$} stand for those characters";
    match ConditionKey::parse(name) {
        Ok(key) if key.is_variable() => Ok(key),
        Ok(key) => Err(format!("${{{key}}} cannot be a policy variable; {hint}")),
        Err(_) => Err(format!("unknown policy variable ${{{name}}}; {hint}")),
    }
}

/// Returns the principal's value for a variable, or `None` when it has none. A JWT claim is a
/// value only when it is a string.
pub(crate) fn resolve<'p>(key: &ConditionKey, principal: &'p Principal) -> Option<&'p str> {
    match key {
        ConditionKey::Username => Some(&principal.username),
        ConditionKey::UserId => Some(&principal.user_id),
        ConditionKey::Tenant => Some(&principal.tenant),
        ConditionKey::PrincipalTag(name) => principal.tag(name),
        ConditionKey::Jwt(path) | ConditionKey::Custom(path) => {
            crate::condition::claim_at(&principal.claims, path.as_str())?.as_str()
        }
        _ => None,
    }
}

/// A pattern with variables, compiled for matching.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Template {
    pieces: Box<[Piece]>,
}

/// One symbol of a pattern during matching.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Token {
    /// `*`: any run of characters.
    Star,
    /// `?`: exactly one character.
    One,
    /// A byte compared exactly.
    Byte(u8),
    /// The end of the pattern.
    End,
}

/// A position in a template: a piece and a byte offset within its text.
#[derive(Clone, Copy)]
struct Cursor {
    piece: usize,
    offset: usize,
}

impl Template {
    /// Compiles parsed pieces.
    pub(crate) fn new(pieces: Vec<Piece>) -> Template {
        Template {
            pieces: pieces.into_boxed_slice(),
        }
    }

    /// Returns true when `text` matches the pattern with the variables resolved from
    /// `principal`. A variable the principal has no value for makes the pattern match nothing.
    pub(crate) fn matches(&self, text: &str, principal: &Principal) -> bool {
        let mut values: [&str; MAX_TEMPLATE_PIECES] = [""; MAX_TEMPLATE_PIECES];
        for (slot, piece) in values.iter_mut().zip(self.pieces.iter()) {
            *slot = match piece {
                Piece::Glob(text) | Piece::Literal(text) => text,
                Piece::Variable(key) => match resolve(key, principal) {
                    Some(value) => value,
                    None => return false,
                },
            };
        }
        self.match_resolved(text, &values)
    }

    fn token(&self, values: &[&str], mut cursor: Cursor) -> (Token, Cursor) {
        loop {
            let Some(piece) = self.pieces.get(cursor.piece) else {
                return (Token::End, cursor);
            };
            let bytes = values[cursor.piece].as_bytes();
            let Some(&byte) = bytes.get(cursor.offset) else {
                cursor = Cursor {
                    piece: cursor.piece + 1,
                    offset: 0,
                };
                continue;
            };
            let next = Cursor {
                piece: cursor.piece,
                offset: cursor.offset + 1,
            };
            let wildcards = matches!(piece, Piece::Glob(_));
            let token = match byte {
                b'*' if wildcards => Token::Star,
                b'?' if wildcards => Token::One,
                _ => Token::Byte(byte),
            };
            return (token, next);
        }
    }

    fn rest_is_stars(&self, values: &[&str], mut cursor: Cursor) -> bool {
        loop {
            match self.token(values, cursor) {
                (Token::End, _) => return true,
                (Token::Star, next) => cursor = next,
                _ => return false,
            }
        }
    }

    /// The greedy wildcard match of [`crate::glob::wildcard_match`], over pieces.
    fn match_resolved(&self, text: &str, values: &[&str]) -> bool {
        let bytes = text.as_bytes();
        let mut cursor = Cursor {
            piece: 0,
            offset: 0,
        };
        let mut position = 0;
        let mut backtrack: Option<(Cursor, usize)> = None;

        while position < bytes.len() {
            let (token, next) = self.token(values, cursor);
            match token {
                Token::Star => {
                    if self.rest_is_stars(values, next) {
                        return true;
                    }
                    backtrack = Some((next, position));
                    cursor = next;
                    continue;
                }
                Token::One => {
                    cursor = next;
                    position += char_len_at(text, position);
                    continue;
                }
                Token::Byte(byte) if byte == bytes[position] => {
                    cursor = next;
                    position += 1;
                    continue;
                }
                _ => {}
            }
            let Some((star_cursor, star_position)) = backtrack else {
                return false;
            };
            let next_position = star_position + char_len_at(text, star_position);
            backtrack = Some((star_cursor, next_position));
            cursor = star_cursor;
            position = next_position;
        }
        self.rest_is_stars(values, cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(username: &str) -> Principal {
        Principal {
            username: username.to_owned(),
            user_id: "u-1".to_owned(),
            tenant: "acme".to_owned(),
            ..Principal::default()
        }
    }

    fn glob(text: &str) -> Template {
        Template::new(parse(text, TextMode::Glob).unwrap())
    }

    #[test]
    fn variable_substituted_literally() {
        let template = glob("home/${aws:username}/*");
        assert!(template.matches("home/a*b/x", &principal("a*b")));
        assert!(!template.matches("home/axxb/x", &principal("a*b")));
    }

    #[test]
    fn escapes_are_literal() {
        let template = glob("a${*}b");
        assert!(template.matches("a*b", &principal("x")));
        assert!(!template.matches("axb", &principal("x")));
    }

    #[test]
    fn missing_claim_matches_nothing() {
        let template = glob("${jwt:sub}/*");
        assert!(!template.matches("/x", &principal("x")));
    }

    #[test]
    fn string_claim_resolves() {
        let mut principal = principal("x");
        principal.claims = serde_json::json!({"sub": "s-9"});
        assert!(glob("${jwt:sub}/*").matches("s-9/k", &principal));
    }

    #[test]
    fn star_backtracks_across_pieces() {
        let template = glob("*${ib:tenant}?");
        assert!(template.matches("xxacmeacmeZ", &principal("x")));
        assert!(!template.matches("xxacme", &principal("x")));
    }

    #[test]
    fn unclosed_variable_rejected() {
        assert!(parse("a${aws:username", TextMode::Glob).is_err());
    }

    #[test]
    fn non_variable_key_rejected() {
        let error = parse("${aws:SourceIp}", TextMode::Glob).unwrap_err();
        assert!(error.contains("cannot be a policy variable"), "{error}");
    }

    #[test]
    fn literal_mode_has_no_wildcards() {
        let template = Template::new(parse("a*${aws:userid}", TextMode::Literal).unwrap());
        assert!(template.matches("a*u-1", &principal("x")));
        assert!(!template.matches("abu-1", &principal("x")));
    }
}
