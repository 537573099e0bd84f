//! Diagnostics: the errors, warnings and notes that parsing and compiling report, each tied to
//! a file, a 1-based line and a 1-based column.

use std::fmt;

/// The seriousness of a diagnostic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The policy set is invalid and compiles to no table.
    Error,
    /// The policy set is valid but contains a risky pattern.
    Warning,
    /// Extra context for another diagnostic, such as the first definition of a duplicate id.
    Note,
}

impl Severity {
    /// Returns the lowercase word used in the rendered diagnostic.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A position in a source file. Lines and columns start at 1, and columns count characters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// Line number, starting at 1.
    pub line: u32,
    /// Column number in characters, starting at 1.
    pub column: u32,
}

impl fmt::Display for Position {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}:{}", self.line, self.column)
    }
}

/// One finding about a policy source, rendered as `file:line:column: severity: message`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    /// Error, warning or note.
    pub severity: Severity,
    /// Path of the source file, exactly as the caller passed it in.
    pub file: String,
    /// Line number, starting at 1.
    pub line: u32,
    /// Column number in characters, starting at 1.
    pub column: u32,
    /// A description of the problem that names the offending value and the fix.
    pub message: String,
}

impl Diagnostic {
    pub(crate) fn new(
        severity: Severity,
        file: &str,
        position: Position,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity,
            file: file.to_owned(),
            line: position.line,
            column: position.column,
            message: message.into(),
        }
    }

    /// Returns true for error-severity diagnostics, which prevent a table from being built.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.column, self.severity, self.message
        )
    }
}

/// A sink that stamps every diagnostic with the file being processed.
pub(crate) struct Reporter<'a> {
    file: &'a str,
    diagnostics: &'a mut Vec<Diagnostic>,
    error_count: usize,
}

impl<'a> Reporter<'a> {
    pub(crate) fn new(file: &'a str, diagnostics: &'a mut Vec<Diagnostic>) -> Reporter<'a> {
        Reporter {
            file,
            diagnostics,
            error_count: 0,
        }
    }

    /// Returns how many errors this reporter has recorded, so that a caller can tell whether
    /// a step added any.
    pub(crate) fn error_count(&self) -> usize {
        self.error_count
    }

    pub(crate) fn error(&mut self, position: Position, message: impl Into<String>) {
        self.error_count += 1;
        self.push(Severity::Error, position, message);
    }

    pub(crate) fn warning(&mut self, position: Position, message: impl Into<String>) {
        self.push(Severity::Warning, position, message);
    }

    fn push(&mut self, severity: Severity, position: Position, message: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::new(severity, self.file, position, message));
    }
}
