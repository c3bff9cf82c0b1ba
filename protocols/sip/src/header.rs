//! Header names (§7.3, §20) and values.

use std::borrow::Cow;

/// One header field: its canonical name and its value with folding undone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header<'a> {
    /// Canonical name (`Call-ID` for `i`, `call-id`, `CALL-ID`), or the name as written if unknown.
    pub name: Cow<'a, str>,
    /// The value, trimmed, continuation lines joined with one space.
    pub value: Cow<'a, str>,
}

/// Compact forms (RFC 3261 §7.3.3, and the IANA registry) and canonical spellings.
const NAMES: &[(&str, &str)] = &[
    ("i", "Call-ID"),
    ("m", "Contact"),
    ("e", "Content-Encoding"),
    ("l", "Content-Length"),
    ("c", "Content-Type"),
    ("f", "From"),
    ("s", "Subject"),
    ("k", "Supported"),
    ("t", "To"),
    ("v", "Via"),
    ("o", "Event"),
    ("r", "Refer-To"),
    ("b", "Referred-By"),
    ("u", "Allow-Events"),
    ("x", "Session-Expires"),
    ("call-id", "Call-ID"),
    ("contact", "Contact"),
    ("content-encoding", "Content-Encoding"),
    ("content-length", "Content-Length"),
    ("content-type", "Content-Type"),
    ("from", "From"),
    ("subject", "Subject"),
    ("supported", "Supported"),
    ("to", "To"),
    ("via", "Via"),
    ("cseq", "CSeq"),
    ("max-forwards", "Max-Forwards"),
    ("expires", "Expires"),
    ("route", "Route"),
    ("record-route", "Record-Route"),
    ("require", "Require"),
    ("proxy-require", "Proxy-Require"),
    ("authorization", "Authorization"),
    ("proxy-authorization", "Proxy-Authorization"),
    ("www-authenticate", "WWW-Authenticate"),
    ("proxy-authenticate", "Proxy-Authenticate"),
    ("accept", "Accept"),
    ("allow", "Allow"),
    ("unsupported", "Unsupported"),
    ("user-agent", "User-Agent"),
];

/// The canonical name for `name`, if it is a known header (compact forms expanded).
pub fn canonical_name(name: &str) -> Option<&'static str> {
    NAMES.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
}

/// Splits a header value at commas that are outside quotes and `<...>`
/// (§7.3.1: several values of one header in one line).
pub(crate) fn split_commas(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut quoted, mut angle, mut escaped, mut start) = (false, false, false, 0);
    for (i, b) in value.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b'<' if !quoted => angle = true,
            b'>' if !quoted => angle = false,
            b',' if !quoted && !angle => {
                out.push(value[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(value[start..].trim());
    out.retain(|v| !v.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_and_case_insensitive_names() {
        assert_eq!(canonical_name("I"), Some("Call-ID"));
        assert_eq!(canonical_name("MaX-fOrWaRdS"), Some("Max-Forwards"));
        assert_eq!(canonical_name("NewFangledHeader"), None);
    }

    #[test]
    fn commas_inside_quotes_and_brackets_do_not_split() {
        assert_eq!(
            split_commas(r#""a, b" <sip:x@y;p=1,2>, <sip:z>"#),
            [r#""a, b" <sip:x@y;p=1,2>"#, "<sip:z>"]
        );
        assert_eq!(split_commas(";;,,;;,;"), [";;", ";;", ";"]);
    }
}
