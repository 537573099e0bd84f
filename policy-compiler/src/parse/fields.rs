//! Helpers that read typed values out of YAML nodes, reporting wrong types, unknown fields,
//! duplicate fields and missing fields with their positions.

use crate::diagnostic::{Position, Reporter};
use crate::suggest::did_you_mean;
use crate::yaml::{Node, NodeKind};

/// The fields of one YAML mapping, checked against the names a context allows.
pub(super) struct Fields<'n> {
    entries: Vec<(&'static str, &'n Node)>,
    /// Position of the mapping, where "missing field" errors point.
    pub(super) position: Position,
}

impl<'n> Fields<'n> {
    /// Collects the fields of `node`, which must be a mapping.
    ///
    /// Reports keys that are not strings, keys outside `known` (with a suggestion) and keys that
    /// appear twice. `context` names the mapping in messages, such as `policy "read-all"`.
    pub(super) fn read(
        reporter: &mut Reporter<'_>,
        node: &'n Node,
        known: &[&'static str],
        context: &str,
    ) -> Option<Fields<'n>> {
        let NodeKind::Mapping(pairs) = &node.kind else {
            if !matches!(node.kind, NodeKind::Invalid) {
                reporter.error(
                    node.position,
                    format!(
                        "{context} must be a mapping with the fields {}, found {}",
                        known.join(", "),
                        node.type_name()
                    ),
                );
            }
            return None;
        };

        let mut fields = Fields {
            entries: Vec::with_capacity(pairs.len()),
            position: node.position,
        };
        for (key, value) in pairs {
            let Some(name) = scalar_text(key) else {
                reporter.error(
                    key.position,
                    format!(
                        "field names in {context} must be strings, found {}",
                        key.type_name()
                    ),
                );
                continue;
            };
            let Some(known_name) = known.iter().copied().find(|candidate| *candidate == name)
            else {
                reporter.error(
                    key.position,
                    format!(
                        "unknown field \"{name}\" in {context}; {}the known fields are {}",
                        did_you_mean(name, known.iter().copied()),
                        known.join(", ")
                    ),
                );
                continue;
            };
            if fields.get(known_name).is_some() {
                reporter.error(
                    key.position,
                    format!("duplicate field \"{name}\" in {context}; remove one of them"),
                );
                continue;
            }
            fields.entries.push((known_name, value));
        }
        Some(fields)
    }

    /// Returns the value of a field, if present.
    pub(super) fn get(&self, name: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(field, _)| *field == name)
            .map(|(_, value)| *value)
    }

    /// Returns the value of a required field, reporting it as missing when absent.
    pub(super) fn require(
        &self,
        reporter: &mut Reporter<'_>,
        name: &str,
        context: &str,
        example: &str,
    ) -> Option<&'n Node> {
        let value = self.get(name);
        if value.is_none() {
            reporter.error(
                self.position,
                format!(
                    "{context} is missing the required field \"{name}\"; add it, for example \
                     {example}"
                ),
            );
        }
        value
    }
}

/// Returns the text of a non-null scalar.
pub(super) fn scalar_text(node: &Node) -> Option<&str> {
    match &node.kind {
        NodeKind::Scalar(scalar) if !scalar.is_null() => Some(&scalar.value),
        _ => None,
    }
}

/// Reads a string field, reporting any other type.
pub(super) fn expect_string<'n>(
    reporter: &mut Reporter<'_>,
    node: &'n Node,
    field: &str,
) -> Option<&'n str> {
    if let Some(text) = scalar_text(node) {
        return Some(text);
    }
    report_wrong_type(reporter, node, &format!("field \"{field}\""), "a string");
    None
}

/// Reads a boolean field, reporting any other type, including the strings "true" and "yes".
pub(super) fn expect_bool(reporter: &mut Reporter<'_>, node: &Node, field: &str) -> Option<bool> {
    if let NodeKind::Scalar(scalar) = &node.kind
        && let Some(value) = scalar.as_bool()
    {
        return Some(value);
    }
    report_wrong_type(
        reporter,
        node,
        &format!("field \"{field}\""),
        "true or false",
    );
    None
}

/// One string item of a list, with its position.
pub(super) struct Item<'n> {
    pub(super) text: &'n str,
    pub(super) position: Position,
}

/// Reads a list of strings, accepting a single string as a list of one.
///
/// Returns `None` when the node has the wrong type, and otherwise the items that are strings,
/// after reporting each item that is not.
pub(super) fn expect_string_list<'n>(
    reporter: &mut Reporter<'_>,
    node: &'n Node,
    field: &str,
) -> Option<Vec<Item<'n>>> {
    match &node.kind {
        NodeKind::Sequence(items) => {
            let mut strings = Vec::with_capacity(items.len());
            for item in items {
                match &item.kind {
                    NodeKind::Scalar(scalar) if !scalar.is_null() => strings.push(Item {
                        text: &scalar.value,
                        position: item.position,
                    }),
                    _ => {
                        let subject = format!("each item of \"{field}\"");
                        report_wrong_type(reporter, item, &subject, "a string");
                    }
                }
            }
            Some(strings)
        }
        NodeKind::Scalar(scalar) if !scalar.is_null() => Some(vec![Item {
            text: &scalar.value,
            position: node.position,
        }]),
        _ => {
            let subject = format!("field \"{field}\"");
            report_wrong_type(reporter, node, &subject, "a list of strings");
            None
        }
    }
}

/// Reports that `node` has the wrong type, unless it was already reported. `subject` names
/// the value, such as `field "audit"`.
pub(super) fn report_wrong_type(
    reporter: &mut Reporter<'_>,
    node: &Node,
    subject: &str,
    expected: &str,
) {
    if matches!(node.kind, NodeKind::Invalid) {
        return;
    }
    reporter.error(
        node.position,
        format!(
            "wrong type: {subject} must be {expected}, found {}",
            node.type_name()
        ),
    );
}
