//! A YAML node tree that keeps the position of every node, built from `saphyr-parser` events.
//!
//! The policy parser walks this tree by hand instead of deserializing with serde. It can
//! therefore report every unknown field, wrong type and missing field of a file with its line
//! and column, where serde would stop at the first one.

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError};

use crate::diagnostic::{Position, Reporter};

/// Maximum nesting of sequences and mappings. A policy document needs about six levels.
pub(crate) const MAX_NESTING_DEPTH: usize = 64;

/// One YAML node and where it starts in the source.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub(crate) kind: NodeKind,
    pub(crate) position: Position,
}

#[derive(Clone, Debug)]
pub(crate) enum NodeKind {
    Scalar(Scalar),
    Sequence(Vec<Node>),
    Mapping(Vec<(Node, Node)>),
    /// A node that was already reported as an error (an alias), which later passes skip so that
    /// one mistake produces one diagnostic.
    Invalid,
}

#[derive(Clone, Debug)]
pub(crate) struct Scalar {
    pub(crate) value: String,
    /// True for unquoted scalars, the only ones that YAML resolves to null, booleans or numbers.
    pub(crate) plain: bool,
}

impl Scalar {
    /// Returns true when YAML 1.2's core schema reads this scalar as null.
    pub(crate) fn is_null(&self) -> bool {
        self.plain && matches!(self.value.as_str(), "" | "~" | "null" | "Null" | "NULL")
    }

    /// Returns the boolean that YAML 1.2's core schema reads this scalar as, if any.
    pub(crate) fn as_bool(&self) -> Option<bool> {
        if !self.plain {
            return None;
        }
        match self.value.as_str() {
            "true" | "True" | "TRUE" => Some(true),
            "false" | "False" | "FALSE" => Some(false),
            _ => None,
        }
    }
}

impl Node {
    /// Returns true for a null scalar, such as an empty value or `~`.
    pub(crate) fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar(scalar) if scalar.is_null())
    }

    /// Describes the node's type for "expected X, found Y" messages.
    pub(crate) fn type_name(&self) -> String {
        match &self.kind {
            NodeKind::Scalar(scalar) if scalar.is_null() => "null".to_owned(),
            NodeKind::Scalar(scalar) if scalar.as_bool().is_some() => {
                format!("boolean {}", scalar.value)
            }
            NodeKind::Scalar(scalar) => format!("string \"{}\"", scalar.value),
            NodeKind::Sequence(_) => "a list".to_owned(),
            NodeKind::Mapping(_) => "a mapping".to_owned(),
            NodeKind::Invalid => "an invalid value".to_owned(),
        }
    }
}

fn position_of(marker: &Marker) -> Position {
    Position {
        line: u32::try_from(marker.line()).unwrap_or(u32::MAX),
        column: u32::try_from(marker.col().saturating_add(1)).unwrap_or(u32::MAX),
    }
}

enum Frame {
    Sequence(Vec<Node>, Position),
    Mapping {
        entries: Vec<(Node, Node)>,
        pending_key: Option<Node>,
        position: Position,
    },
}

/// Parses every document of a YAML stream into node trees.
///
/// A syntax error stops the file, because the parser cannot resynchronize, and then no
/// document of that file is returned, so that half-read documents cause no follow-up errors.
pub(crate) fn load_documents(text: &str, reporter: &mut Reporter<'_>) -> Vec<Node> {
    match load(text, reporter) {
        Ok(documents) => documents,
        Err(LoadError::Syntax(error)) => {
            reporter.error(
                TextEnd::new(text).clamp(position_of(error.marker())),
                format!(
                    "invalid YAML: {}; fix the syntax at this position",
                    error.info()
                ),
            );
            Vec::new()
        }
        Err(LoadError::TooDeep(position)) => {
            reporter.error(
                position,
                format!(
                    "YAML nesting is deeper than {MAX_NESTING_DEPTH} levels; \
                     policy documents need far fewer, so flatten this value"
                ),
            );
            Vec::new()
        }
    }
}

/// The position just after the last character of a text. The parser places errors and empty
/// nodes at the end of input one line further down, and [`TextEnd::clamp`] moves them back so
/// that editors can jump to them.
struct TextEnd {
    end: Position,
}

impl TextEnd {
    fn new(text: &str) -> TextEnd {
        let line_count = text.split('\n').count();
        let last_line = text.rsplit('\n').next().unwrap_or_default();
        TextEnd {
            end: Position {
                line: u32::try_from(line_count).unwrap_or(u32::MAX),
                column: u32::try_from(last_line.chars().count() + 1).unwrap_or(u32::MAX),
            },
        }
    }

    fn clamp(&self, position: Position) -> Position {
        if position.line > self.end.line {
            self.end
        } else {
            position
        }
    }
}

enum LoadError {
    Syntax(ScanError),
    TooDeep(Position),
}

fn load(text: &str, reporter: &mut Reporter<'_>) -> Result<Vec<Node>, LoadError> {
    let text_end = TextEnd::new(text);
    let mut parser = Parser::new_from_str(text);
    let mut documents = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Node> = None;

    while let Some(result) = parser.next_event() {
        let (event, span) = result.map_err(LoadError::Syntax)?;
        let position = text_end.clamp(position_of(&span.start));
        let finished = match event {
            Event::StreamEnd => break,
            Event::Nothing | Event::StreamStart | Event::DocumentStart(_) => None,
            Event::DocumentEnd => {
                if let Some(document) = root.take() {
                    documents.push(document);
                }
                None
            }
            Event::Alias(_) => {
                reporter.error(
                    position,
                    "YAML aliases are not supported in policy documents; \
                     write the value out in full so that reviewers see it",
                );
                Some(Node {
                    kind: NodeKind::Invalid,
                    position,
                })
            }
            Event::Scalar(value, style, _, _) => Some(Node {
                kind: NodeKind::Scalar(Scalar {
                    value: value.into_owned(),
                    plain: style == ScalarStyle::Plain,
                }),
                position,
            }),
            Event::SequenceStart(_, _) => {
                if stack.len() >= MAX_NESTING_DEPTH {
                    return Err(LoadError::TooDeep(position));
                }
                stack.push(Frame::Sequence(Vec::new(), position));
                None
            }
            Event::MappingStart(_, _) => {
                if stack.len() >= MAX_NESTING_DEPTH {
                    return Err(LoadError::TooDeep(position));
                }
                stack.push(Frame::Mapping {
                    entries: Vec::new(),
                    pending_key: None,
                    position,
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => stack.pop().map(close_frame),
        };

        if let Some(node) = finished {
            match stack.last_mut() {
                None => root = Some(node),
                Some(Frame::Sequence(items, _)) => items.push(node),
                Some(Frame::Mapping {
                    entries,
                    pending_key,
                    ..
                }) => match pending_key.take() {
                    None => *pending_key = Some(node),
                    Some(key) => entries.push((key, node)),
                },
            }
        }
    }
    Ok(documents)
}

fn close_frame(frame: Frame) -> Node {
    match frame {
        Frame::Sequence(items, position) => Node {
            kind: NodeKind::Sequence(items),
            position,
        },
        Frame::Mapping {
            entries, position, ..
        } => Node {
            kind: NodeKind::Mapping(entries),
            position,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Diagnostic;

    fn load_ok(text: &str) -> Vec<Node> {
        let mut diagnostics: Vec<Diagnostic> = Vec::new();
        let documents = load_documents(text, &mut Reporter::new("t.yaml", &mut diagnostics));
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        documents
    }

    #[test]
    fn block_mapping_key_positions() {
        let documents = load_ok("a: 1\nlist:\n  - x\n  - y: z\n");
        let NodeKind::Mapping(entries) = &documents[0].kind else {
            panic!("expected a mapping");
        };
        assert_eq!(entries[1].0.position, Position { line: 2, column: 1 });
        let NodeKind::Sequence(items) = &entries[1].1.kind else {
            panic!("expected a sequence");
        };
        assert_eq!(items[0].position, Position { line: 3, column: 5 });
        assert_eq!(items[1].position, Position { line: 4, column: 5 });
    }

    #[test]
    fn multiple_documents_all_loaded() {
        let documents = load_ok("a: 1\n---\nb: 2\n");
        assert_eq!(documents.len(), 2);
    }

    #[test]
    fn syntax_error_has_position() {
        let mut diagnostics = Vec::new();
        let documents = load_documents(
            "a: [1, 2\nb: 3\n",
            &mut Reporter::new("t.yaml", &mut diagnostics),
        );
        assert!(documents.is_empty());
        assert_eq!(diagnostics.len(), 1);
        assert!(diagnostics[0].message.starts_with("invalid YAML"));
    }

    #[test]
    fn end_of_input_error_stays_inside() {
        let mut diagnostics = Vec::new();
        load_documents("a: {", &mut Reporter::new("t.yaml", &mut diagnostics));
        assert_eq!(diagnostics[0].line, 1);
        assert_eq!(diagnostics[0].column, 5);
    }

    #[test]
    fn deep_nesting_is_rejected() {
        let text = format!(
            "{}{}",
            "[".repeat(MAX_NESTING_DEPTH + 1),
            "]".repeat(MAX_NESTING_DEPTH + 1)
        );
        let mut diagnostics = Vec::new();
        let documents = load_documents(&text, &mut Reporter::new("t.yaml", &mut diagnostics));
        assert!(documents.is_empty());
        assert!(diagnostics[0].message.contains("nesting is deeper"));
    }

    #[test]
    fn alias_is_reported_once() {
        let mut diagnostics = Vec::new();
        let documents = load_documents(
            "a: &x [1]\nb: *x\n",
            &mut Reporter::new("t.yaml", &mut diagnostics),
        );
        assert_eq!(documents.len(), 1);
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].line, 2);
    }
}
