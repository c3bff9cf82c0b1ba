//! Typed values of the headers every transaction needs: CSeq (§20.16) and Via (§20.42).

use crate::error::SipError;

/// `CSeq: <number> <method>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CSeq<'a> {
    /// Sequence number, below 2**31 (§8.1.1.5).
    pub number: u32,
    /// Method.
    pub method: &'a str,
}

impl<'a> CSeq<'a> {
    pub(crate) fn parse(value: &'a str) -> Result<Self, SipError> {
        let bad =
            |problem: &str| SipError::Value { header: "CSeq", problem: format!("{problem} in `{value}`") };
        let mut parts = value.split_ascii_whitespace();
        let (Some(number), Some(method), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected `<number> <method>`"));
        };
        let number: u32 = number.parse().map_err(|_| bad("the number is not an integer"))?;
        if number >= 1 << 31 {
            return Err(bad("the number is not below 2**31"));
        }
        Ok(CSeq { number, method })
    }
}

/// One Via value: `SIP/2.0/<transport> <host>[:<port>];params`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via<'a> {
    /// Transport: `UDP`, `TCP`, `TLS`, `WS`, `WSS`, `SCTP` or an extension, as written.
    pub transport: &'a str,
    /// Host of sent-by (an IPv6 reference keeps its brackets).
    pub host: &'a str,
    /// Port of sent-by, if given.
    pub port: Option<u16>,
    /// Parameters in order: (name, value), e.g. `("branch", Some("z9hG4bK..."))`, `("rport", None)`.
    pub params: Vec<(&'a str, Option<&'a str>)>,
}

impl<'a> Via<'a> {
    pub(crate) fn parse(value: &'a str) -> Result<Self, SipError> {
        let bad =
            |problem: &str| SipError::Value { header: "Via", problem: format!("{problem} in `{value}`") };
        let mut pieces = value.split(';');
        let head = pieces.next().unwrap_or_default();
        // sent-protocol = name SLASH version SLASH transport, LWS allowed around the slashes.
        let mut proto = head.splitn(3, '/');
        let (Some(name), Some(version), Some(rest)) = (proto.next(), proto.next(), proto.next()) else {
            return Err(bad("expected SIP/2.0/<transport>"));
        };
        if !name.trim().eq_ignore_ascii_case("SIP") || version.trim() != "2.0" {
            return Err(bad("expected SIP/2.0"));
        }
        let mut words = rest.split_ascii_whitespace();
        let (Some(transport), Some(sent_by), None) = (words.next(), words.next(), words.next()) else {
            return Err(bad("expected `<transport> <host>[:<port>]`"));
        };
        let (host, port) = if let Some(v6) = sent_by.strip_prefix('[') {
            let end = v6.find(']').ok_or_else(|| bad("unterminated IPv6 reference"))?;
            let after = &v6[end + 1..];
            (&sent_by[..end + 2], after.strip_prefix(':'))
        } else {
            match sent_by.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (sent_by, None),
            }
        };
        let port = port.map(|p| p.parse::<u16>().map_err(|_| bad("bad port"))).transpose()?;
        if host.is_empty() {
            return Err(bad("empty host"));
        }
        let params = pieces
            .map(|p| {
                let (k, v) = match p.split_once('=') {
                    Some((k, v)) => (k.trim(), Some(v.trim())),
                    None => (p.trim(), None),
                };
                (k, v)
            })
            .filter(|(k, _)| !k.is_empty())
            .collect();
        Ok(Via { transport, host, port, params })
    }

    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&'a str> {
        self.params.iter().find(|(k, _)| k.eq_ignore_ascii_case("branch")).and_then(|(_, v)| *v)
    }
}
