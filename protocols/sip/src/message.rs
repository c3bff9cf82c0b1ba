//! A SIP message: start line, headers, body (RFC 3261 §7).

use std::borrow::Cow;

use crate::error::{SipError, excerpt};
use crate::header::{Header, canonical_name, split_commas};
use crate::typed::{CSeq, Via};

/// The first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine<'a> {
    /// `Method SP Request-URI SP SIP/2.0`.
    Request {
        /// The method, as written (extension methods included, §27.4).
        method: &'a str,
        /// The Request-URI, as written.
        uri: &'a str,
    },
    /// `SIP/2.0 SP Status-Code SP Reason-Phrase`.
    Response {
        /// The status code, 100..=699.
        code: u16,
        /// The reason phrase (may be empty).
        reason: &'a str,
    },
}

/// A parsed message; text borrows from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    /// Request-Line or Status-Line.
    pub start: StartLine<'a>,
    /// Header fields in order, folding undone, compact names expanded.
    pub headers: Vec<Header<'a>>,
    /// Exactly Content-Length octets (or everything after the headers when there is no Content-Length).
    pub body: &'a [u8],
}

pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
}

/// Where the headers end: (end of the header block, start of the body).
pub(crate) fn header_end(bytes: &[u8]) -> Option<(usize, usize)> {
    if let Some(i) = memchr::memmem::find(bytes, b"\r\n\r\n") {
        return Some((i, i + 4));
    }
    memchr::memmem::find(bytes, b"\n\n").map(|i| (i, i + 2))
}

impl<'a> Message<'a> {
    /// Parses one datagram (UDP): the body is cut to Content-Length, extra octets are dropped.
    pub fn parse_datagram(bytes: &'a [u8]) -> Result<Self, SipError> {
        Self::parse(bytes, false)
    }

    /// Parses one message cut from a stream by [`Framer`](crate::Framer) (Content-Length required).
    pub fn parse_framed(bytes: &'a [u8]) -> Result<Self, SipError> {
        Self::parse(bytes, true)
    }

    fn parse(bytes: &'a [u8], stream: bool) -> Result<Self, SipError> {
        let (head_end, body_start) = header_end(bytes).ok_or(SipError::Incomplete)?;
        let head = std::str::from_utf8(&bytes[..head_end])
            .map_err(|e| SipError::Header(excerpt(&bytes[e.valid_up_to()..head_end])))?;
        let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
        let first = lines.next().unwrap_or_default();
        let start = parse_start_line(first)?;
        let mut headers: Vec<Header<'a>> = Vec::with_capacity(16);
        for line in lines {
            if line.starts_with([' ', '\t']) {
                // Continuation of the previous header's value (§7.3.1).
                let Some(last) = headers.last_mut() else {
                    return Err(SipError::Header(excerpt(line.as_bytes())));
                };
                let more = line.trim();
                if !more.is_empty() {
                    let joined = if last.value.is_empty() {
                        more.to_owned()
                    } else {
                        format!("{} {more}", last.value)
                    };
                    last.value = Cow::Owned(joined);
                }
                continue;
            }
            let (name, value) =
                line.split_once(':').ok_or_else(|| SipError::Header(excerpt(line.as_bytes())))?;
            let name = name.trim_end_matches([' ', '\t']);
            if !is_token(name) {
                return Err(SipError::Header(excerpt(line.as_bytes())));
            }
            let name = canonical_name(name).map_or(Cow::Borrowed(name), Cow::Borrowed);
            headers.push(Header { name, value: Cow::Borrowed(value.trim()) });
        }
        let available = &bytes[body_start..];
        let mut lengths =
            headers.iter().filter(|h| h.name == "Content-Length").flat_map(|h| split_commas(&h.value));
        let length = match (lengths.next(), lengths.next()) {
            (None, _) if stream => return Err(SipError::ContentLength("missing on a stream".into())),
            (None, _) => None,
            (Some(_), Some(_)) => return Err(SipError::ContentLength("more than one value".into())),
            (Some(v), None) => Some(
                v.parse::<usize>().map_err(|_| SipError::ContentLength(format!("`{v}` is not a length")))?,
            ),
        };
        let body = match length {
            None => available,
            Some(n) if n <= available.len() => &available[..n],
            Some(n) => {
                return Err(SipError::ContentLength(format!(
                    "{n} octets announced, {} arrived",
                    available.len()
                )));
            }
        };
        Ok(Message { start, headers, body })
    }

    /// The request method, or `None` for a response.
    pub fn method(&self) -> Option<&'a str> {
        match self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The first value of header `name` (canonical name, e.g. `Call-ID`).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value.as_ref())
    }

    /// Every line of header `name`, whole (for headers whose values hold commas,
    /// like `WWW-Authenticate`, §20.44).
    pub fn lines(&self, name: &str) -> impl Iterator<Item = &str> {
        self.headers.iter().filter(move |h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value.as_ref())
    }

    /// Every value of header `name`, across lines and comma-separated lists.
    pub fn values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .flat_map(|h| split_commas(&h.value))
            .collect()
    }

    /// Call-ID; exactly one is required.
    pub fn call_id(&self) -> Result<&str, SipError> {
        self.single("Call-ID")
    }

    /// CSeq; exactly one is required.
    pub fn cseq(&self) -> Result<CSeq<'_>, SipError> {
        CSeq::parse(self.single("CSeq")?)
    }

    /// The Via values, topmost first.
    pub fn vias(&self) -> Result<Vec<Via<'_>>, SipError> {
        self.values("Via").into_iter().map(Via::parse).collect()
    }

    fn single(&self, name: &'static str) -> Result<&str, SipError> {
        let mut found = self.headers.iter().filter(|h| h.name == name);
        match (found.next(), found.next()) {
            (Some(h), None) if !h.value.is_empty() => Ok(&h.value),
            _ => Err(SipError::Required(name)),
        }
    }
}

fn parse_start_line(line: &str) -> Result<StartLine<'_>, SipError> {
    let bad = || SipError::StartLine(excerpt(line.as_bytes()));
    if let Some(rest) = line.strip_prefix("SIP/") {
        // Status-Line: SIP-Version SP Status-Code SP Reason-Phrase
        let (version, rest) = rest.split_once(' ').ok_or_else(bad)?;
        if version != "2.0" {
            return Err(SipError::Version(format!("SIP/{version}")));
        }
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let code: u16 = code.parse().map_err(|_| bad())?;
        if !(100..=699).contains(&code) {
            return Err(bad());
        }
        return Ok(StartLine::Response { code, reason });
    }
    // Request-Line: Method SP Request-URI SP SIP-Version, single spaces (§7.1).
    let mut parts = line.split(' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    if !is_token(method)
        || uri.is_empty()
        || !uri.contains(':')
        || uri.bytes().any(|b| b <= b' ' || b == b'<' || b == b'>')
    {
        return Err(bad());
    }
    if !version.starts_with("SIP/") || version.len() < 5 {
        return Err(bad());
    }
    if version != "SIP/2.0" {
        return Err(SipError::Version(version.to_owned()));
    }
    Ok(StartLine::Request { method, uri })
}
