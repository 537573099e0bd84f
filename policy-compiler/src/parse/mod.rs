//! Parsing: YAML or JSON source files to validated [`PolicyDocument`]s, with every problem
//! reported as a [`Diagnostic`] instead of stopping at the first.
//!
//! A policy with any error is left out of the result, but its id still takes part in the
//! duplicate check, so that fixing one error does not reveal another one later.

mod conditions;
mod fields;
mod values;

use std::sync::Arc;

use crate::diagnostic::{Diagnostic, Position, Reporter, Severity};
use crate::document::{Effect, Mode, Policy, PolicyDocument};
use crate::lint;
use crate::suggest::did_you_mean;
use crate::yaml::{self, Node, NodeKind};

use fields::{Fields, expect_bool, expect_string, report_wrong_type, scalar_text};

/// Maximum size of one source file. Policy files are hand-written, so a larger one is almost
/// certainly the wrong file.
pub const MAX_SOURCE_BYTES: usize = 8 * 1024 * 1024;

/// Maximum number of policies in one policy set. The decision table keeps one bit per policy
/// for each of the 180 actions, so this bounds that index at about 21 MiB.
pub const MAX_POLICIES: usize = 1_000_000;

/// Maximum length of a policy id, in bytes.
pub const MAX_POLICY_ID_BYTES: usize = 256;

/// One policy source file: its path, used in diagnostics, and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// Path as the caller wants it shown, such as `policies/analytics.yaml`.
    pub path: String,
    /// The file's YAML or JSON text.
    pub text: String,
}

impl SourceFile {
    /// Creates a source file from a path and its text.
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> SourceFile {
        SourceFile {
            path: path.into(),
            text: text.into(),
        }
    }
}

/// The result of [`parse`]: the valid documents and every diagnostic.
#[derive(Clone, Debug)]
pub struct ParsedPolicies {
    /// Documents in file path order, each holding only its valid policies.
    pub documents: Vec<PolicyDocument>,
    /// Errors, warnings and notes, sorted by file, line and column.
    pub diagnostics: Vec<Diagnostic>,
}

impl ParsedPolicies {
    /// Returns true when any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// The location of one policy id definition, for the duplicate check.
pub(crate) struct IdDefinition {
    pub(crate) id: String,
    pub(crate) file: Arc<str>,
    pub(crate) position: Position,
}

const DOCUMENT_FIELDS: &[&str] = &["version", "description", "policies"];
const POLICY_FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "effect",
    "principals",
    "actions",
    "resources",
    "conditions",
    "audit",
    "mode",
];
const SUPPORTED_VERSION: &str = "1.0";

/// Parses and validates policy sources, in path order, and reports problems and risky patterns.
pub fn parse(sources: &[SourceFile]) -> ParsedPolicies {
    let mut ordered: Vec<&SourceFile> = sources.iter().collect();
    ordered.sort_by(|left, right| left.path.cmp(&right.path));

    let mut diagnostics = Vec::new();
    let mut documents = Vec::new();
    let mut id_definitions = Vec::new();

    for source in ordered {
        let file: Arc<str> = Arc::from(source.path.as_str());
        let mut reporter = Reporter::new(&source.path, &mut diagnostics);
        if source.text.len() > MAX_SOURCE_BYTES {
            reporter.error(
                Position { line: 1, column: 1 },
                format!(
                    "file is {} bytes, more than the maximum of {MAX_SOURCE_BYTES}; \
                     split it into several policy files",
                    source.text.len()
                ),
            );
            continue;
        }
        let mut nodes = yaml::load_documents(&source.text, &mut reporter);
        // Empty documents, such as the one after a trailing `---`, define nothing and are
        // skipped.
        nodes.retain(|node| !node.is_null());
        if nodes.is_empty() && reporter.error_count() == 0 {
            reporter.warning(
                Position { line: 1, column: 1 },
                "file contains no YAML document, so it defines no policy",
            );
        }
        for node in &nodes {
            let mut parser = DocumentParser {
                reporter: &mut reporter,
                file: &file,
                id_definitions: &mut id_definitions,
            };
            if let Some(document) = parser.document(node) {
                documents.push(document);
            }
        }
    }

    report_policy_limit(&documents, &mut diagnostics);
    lint::report_duplicate_ids(&id_definitions, &mut diagnostics);
    lint::report_risky_patterns(&documents, &mut diagnostics);
    lint::report_shadowed_allows(&documents, &mut diagnostics);
    diagnostics.sort_by(|left, right| {
        (&left.file, left.line, left.column, left.severity).cmp(&(
            &right.file,
            right.line,
            right.column,
            right.severity,
        ))
    });
    ParsedPolicies {
        documents,
        diagnostics,
    }
}

/// Reports an error at the first policy beyond [`MAX_POLICIES`], if any.
fn report_policy_limit(documents: &[PolicyDocument], diagnostics: &mut Vec<Diagnostic>) {
    let excess = documents
        .iter()
        .flat_map(|document| {
            document
                .policies
                .iter()
                .map(move |policy| (document, policy))
        })
        .nth(MAX_POLICIES);
    if let Some((document, policy)) = excess {
        diagnostics.push(Diagnostic::new(
            Severity::Error,
            &document.file,
            policy.position,
            format!(
                "the policy set has more than {MAX_POLICIES} policies, starting with \"{}\" \
                 here; merge policies that share principals and resources",
                policy.id
            ),
        ));
    }
}

struct DocumentParser<'r, 'd> {
    reporter: &'r mut Reporter<'d>,
    file: &'r Arc<str>,
    id_definitions: &'r mut Vec<IdDefinition>,
}

impl DocumentParser<'_, '_> {
    fn document(&mut self, node: &Node) -> Option<PolicyDocument> {
        let context = "a policy document";
        let fields = Fields::read(self.reporter, node, DOCUMENT_FIELDS, context)?;

        let version = fields
            .require(self.reporter, "version", context, "version: \"1.0\"")
            .and_then(|node| self.version(node));
        let description = fields
            .get("description")
            .and_then(|node| expect_string(self.reporter, node, "description"))
            .map(str::to_owned);
        let policy_nodes = fields
            .require(self.reporter, "policies", context, "policies: [ ... ]")
            .and_then(|node| self.policy_list(node));

        let mut policies = Vec::new();
        for (index, policy_node) in policy_nodes.unwrap_or_default().iter().enumerate() {
            if let Some(policy) = self.policy(policy_node, index + 1) {
                policies.push(policy);
            }
        }
        Some(PolicyDocument {
            file: Arc::clone(self.file),
            version: version?,
            description,
            policies,
        })
    }

    fn version(&mut self, node: &Node) -> Option<String> {
        let text = expect_string(self.reporter, node, "version")?;
        if text != SUPPORTED_VERSION {
            self.reporter.error(
                node.position,
                format!(
                    "unsupported document version \"{text}\"; the only supported version is \
                     \"{SUPPORTED_VERSION}\""
                ),
            );
            return None;
        }
        Some(text.to_owned())
    }

    /// Returns the policy nodes. A null value, as in `policies:` with nothing after it, counts
    /// as an empty list.
    fn policy_list<'n>(&mut self, node: &'n Node) -> Option<&'n [Node]> {
        let items: &[Node] = match &node.kind {
            NodeKind::Sequence(items) => items,
            NodeKind::Scalar(scalar) if scalar.is_null() => &[],
            _ => {
                report_wrong_type(
                    self.reporter,
                    node,
                    "field \"policies\"",
                    "a list of policies",
                );
                return None;
            }
        };
        if items.is_empty() {
            self.reporter.warning(
                node.position,
                "the document's policy list is empty, so it defines no policy",
            );
        }
        Some(items)
    }

    /// Parses one policy; `ordinal` is its 1-based place in the document, used to name it in
    /// messages when it has no usable id.
    fn policy(&mut self, node: &Node, ordinal: usize) -> Option<Policy> {
        let errors_before = self.reporter.error_count();
        let context = policy_context(node, ordinal);
        let fields = Fields::read(self.reporter, node, POLICY_FIELDS, &context)?;

        let id = fields
            .require(self.reporter, "id", &context, "id: read-curated-data")
            .and_then(|node| self.policy_id(node));
        let name = self.optional_string(&fields, "name");
        let description = self.optional_string(&fields, "description");
        let effect = fields
            .require(self.reporter, "effect", &context, "effect: Allow")
            .and_then(|node| self.effect(node));
        let principals = fields
            .require(
                self.reporter,
                "principals",
                &context,
                "principals: {type: role, values: [analyst]}",
            )
            .and_then(|node| values::principals(self.reporter, node, &context));
        let actions = fields
            .require(
                self.reporter,
                "actions",
                &context,
                "actions: [s3:GetObject]",
            )
            .and_then(|node| values::actions(self.reporter, node, &context));
        let resources = fields
            .require(
                self.reporter,
                "resources",
                &context,
                "resources: [\"arn:aws:s3:::bucket/*\"]",
            )
            .and_then(|node| values::resources(self.reporter, node, &context));
        let conditions = match fields.get("conditions") {
            Some(node) if !node.is_null() => conditions::conditions(self.reporter, node, &context),
            _ => Some(Vec::new()),
        };
        let audit = match fields.get("audit") {
            Some(node) => expect_bool(self.reporter, node, "audit"),
            None => Some(false),
        };
        let mode = match fields.get("mode") {
            Some(node) => self.mode(node),
            None => Some(Mode::Enforce),
        };

        if self.reporter.error_count() != errors_before {
            return None;
        }
        Some(Policy {
            id: Arc::from(id?),
            name,
            description,
            effect: effect?,
            principals: principals?,
            actions: actions?,
            resources: resources?,
            conditions: conditions?,
            audit: audit?,
            mode: mode?,
            position: fields.position,
        })
    }

    fn optional_string(&mut self, fields: &Fields<'_>, name: &str) -> Option<String> {
        let node = fields.get(name)?;
        expect_string(self.reporter, node, name).map(str::to_owned)
    }

    fn policy_id<'n>(&mut self, node: &'n Node) -> Option<&'n str> {
        let id = expect_string(self.reporter, node, "id")?;
        let problem = if id.len() > MAX_POLICY_ID_BYTES {
            Some(format!("is longer than {MAX_POLICY_ID_BYTES} bytes"))
        } else if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
            Some("contains white space or control characters".to_owned())
        } else {
            None
        };
        if let Some(problem) = problem {
            self.reporter.error(
                node.position,
                format!(
                    "invalid policy id \"{}\": it {problem}; use a short name of letters, \
                     digits and dashes",
                    id.escape_debug()
                ),
            );
            return None;
        }
        self.id_definitions.push(IdDefinition {
            id: id.to_owned(),
            file: Arc::clone(self.file),
            position: node.position,
        });
        Some(id)
    }

    fn effect(&mut self, node: &Node) -> Option<Effect> {
        let text = expect_string(self.reporter, node, "effect")?;
        if text.eq_ignore_ascii_case("allow") {
            return Some(Effect::Allow);
        }
        if text.eq_ignore_ascii_case("deny") {
            return Some(Effect::Deny);
        }
        self.reporter.error(
            node.position,
            format!("invalid effect \"{text}\"; use Allow or Deny"),
        );
        None
    }

    fn mode(&mut self, node: &Node) -> Option<Mode> {
        let text = expect_string(self.reporter, node, "mode")?;
        let modes = [Mode::Enforce, Mode::DryRun];
        if let Some(mode) = modes
            .into_iter()
            .find(|mode| text.eq_ignore_ascii_case(mode.as_str()))
        {
            return Some(mode);
        }
        self.reporter.error(
            node.position,
            format!(
                "invalid mode \"{text}\"; {}use enforce or dry-run",
                did_you_mean(text, modes.iter().map(|mode| mode.as_str()))
            ),
        );
        None
    }
}

/// Names a policy in messages: by its id when it has a string id, else by its place.
fn policy_context(node: &Node, ordinal: usize) -> String {
    if let NodeKind::Mapping(pairs) = &node.kind
        && let Some((_, value)) = pairs.iter().find(|(key, _)| scalar_text(key) == Some("id"))
        && let Some(id) = scalar_text(value)
    {
        return format!("policy \"{id}\"");
    }
    format!("policy #{ordinal} of the document")
}
