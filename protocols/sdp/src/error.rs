//! Parse errors.
//!
//! Every error produced while parsing comes from the peer that sent the
//! description (the input is malformed); none of them is an API misuse.
//! Errors carry the 1-based line number and say what was expected.

use std::fmt;

/// Longest excerpt of offending input quoted in an error message.
const MAX_FOUND: usize = 48;

/// A description could not be parsed: which line, and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number of the offending line (1 for an empty input).
    pub line: usize,
    /// What was wrong.
    pub kind: ErrorKind,
}

impl ParseError {
    pub(crate) fn new(line: usize, kind: ErrorKind) -> Self {
        ParseError { line, kind }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.kind)
    }
}

impl std::error::Error for ParseError {}

/// What was wrong with a line. Every variant is a fault of the peer that sent the input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input is not UTF-8 (RFC 8866 §5: SDP text is ISO 10646 in UTF-8).
    InvalidUtf8,
    /// The input holds no lines at all.
    Empty,
    /// A line is not of the form `<letter>=<value>`.
    MalformedLine {
        /// An excerpt of the line.
        found: String,
    },
    /// A required line is missing, or the first lines are not `v=`, `o=`, `s=` in that order.
    Expected {
        /// The line that was expected, e.g. `"v= line"`.
        expected: &'static str,
        /// An excerpt of what stood there instead (empty at end of input).
        found: String,
    },
    /// A line type that may appear only once (per level) appeared again.
    Duplicate {
        /// The repeated line type, e.g. `"v="`.
        line: &'static str,
    },
    /// A session-level-only line (`t=`, `r=`, `z=`, `u=`, `e=`, `p=`) inside a media section.
    SessionLineInMedia {
        /// The line's type letter.
        letter: char,
    },
    /// A field of a known line or attribute is missing or malformed.
    InvalidField(FieldError),
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::InvalidUtf8 => f.write_str("invalid UTF-8"),
            ErrorKind::Empty => f.write_str("empty description: expected a v= line"),
            ErrorKind::MalformedLine { found } => {
                write!(f, "malformed line: expected `<letter>=<value>`, found `{found}`")
            }
            ErrorKind::Expected { expected, found } if found.is_empty() => {
                write!(f, "expected {expected}, found end of input")
            }
            ErrorKind::Expected { expected, found } => {
                write!(f, "expected {expected}, found `{found}`")
            }
            ErrorKind::Duplicate { line } => write!(f, "duplicate {line} line"),
            ErrorKind::SessionLineInMedia { letter } => {
                write!(f, "{letter}= line is only allowed at session level")
            }
            ErrorKind::InvalidField(e) => e.fmt(f),
        }
    }
}

/// A malformed field inside one line, independent of where the line stood.
///
/// Returned on its own by parsers of single values such as
/// [`Candidate::parse`](crate::Candidate::parse); wrapped in a [`ParseError`]
/// with a line number when it comes from a whole description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field, e.g. `"candidate port"`.
    pub field: &'static str,
    /// What the grammar expects there, e.g. `"an integer 0..=65535"`.
    pub expected: &'static str,
    /// An excerpt of what was found (empty when the field was missing).
    pub found: String,
}

impl FieldError {
    pub(crate) fn new(field: &'static str, expected: &'static str, found: &str) -> Self {
        FieldError { field, expected, found: excerpt(found) }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.found.is_empty() {
            write!(f, "missing {}: expected {}", self.field, self.expected)
        } else {
            write!(f, "invalid {}: expected {}, found `{}`", self.field, self.expected, self.found)
        }
    }
}

impl std::error::Error for FieldError {}

/// Shortens `s` for quoting in an error message, on a char boundary, with control characters escaped.
pub(crate) fn excerpt(s: &str) -> String {
    let mut out = String::new();
    for (count, c) in s.chars().enumerate() {
        if count == MAX_FOUND {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}
