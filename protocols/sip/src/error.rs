//! Why a message could not be parsed. All are faults of the sender.

use std::fmt;

/// A malformed SIP message (answer a request with 400, drop a response).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SipError {
    /// No empty line ends the headers.
    Incomplete,
    /// The first line is neither a Request-Line nor a Status-Line.
    StartLine(String),
    /// The SIP version is not 2.0 (answer 505).
    Version(String),
    /// A header line is not `name: value`.
    Header(String),
    /// Content-Length is missing (on a stream), not a number, repeated with different values,
    /// or larger than what arrived.
    ContentLength(String),
    /// A header that must appear once is missing or repeated.
    Required(&'static str),
    /// A typed header value is malformed.
    Value {
        /// The header.
        header: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The message is larger than the limit.
    TooLarge(usize),
}

impl fmt::Display for SipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SipError::Incomplete => f.write_str("no empty line after the headers"),
            SipError::StartLine(s) => write!(f, "malformed start line `{s}`"),
            SipError::Version(v) => write!(f, "unsupported SIP version `{v}`"),
            SipError::Header(s) => write!(f, "malformed header line `{s}`"),
            SipError::ContentLength(s) => write!(f, "bad Content-Length: {s}"),
            SipError::Required(h) => write!(f, "missing or repeated {h} header"),
            SipError::Value { header, problem } => write!(f, "bad {header}: {problem}"),
            SipError::TooLarge(n) => write!(f, "message of {n} bytes is too large"),
        }
    }
}

impl std::error::Error for SipError {}

/// Shortens text quoted in an error.
pub(crate) fn excerpt(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(&b[..b.len().min(60)]);
    s.chars().map(|c| if c.is_control() { '.' } else { c }).collect()
}
