//! What Switchboard's SIP side answers to a request it receives outside any
//! transaction or dialog it knows, following the order of RFC 3261 §8.2:
//! syntax (400, 505), method (501, 405), Request-URI scheme (416),
//! extensions (420), content (415, 406), then the method itself. Responses
//! that match no transaction are dropped (§8.1.3.1 has no place for them).
//!
//! This is the first, stateless layer; transactions, dialogs and routing to
//! browsers (issue #4) sit on top of it.

use crate::error::SipError;
use crate::message::{Message, StartLine};

/// Methods this element knows (RFC 3261 and the usual extensions).
const KNOWN: &[&str] = &[
    "INVITE",
    "ACK",
    "BYE",
    "CANCEL",
    "OPTIONS",
    "REGISTER",
    "INFO",
    "UPDATE",
    "PRACK",
    "MESSAGE",
    "NOTIFY",
    "SUBSCRIBE",
    "REFER",
    "PUBLISH",
];
/// Methods it accepts (the others known ones get 405).
pub(crate) const ALLOWED: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, INFO, UPDATE";
/// Option tags it supports (RFC 3261 §19.2).
const SUPPORTED: &[&str] = &["outbound", "path", "gruu", "replaces", "timer"];
/// Headers that may appear only once (§7.3.1, §20).
const SINGLE: &[&str] =
    &["Call-ID", "CSeq", "From", "To", "Max-Forwards", "Content-Type", "Content-Length", "Expires"];

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Send nothing (a stray response, an ACK).
    Drop,
    /// A well-formed REGISTER: for the registrar ([`Uas::handle`] does that).
    Register,
    /// Send this final response.
    Respond {
        /// Status code.
        code: u16,
        /// Reason phrase (for 400, says what was wrong).
        reason: String,
        /// Extra headers, e.g. `Unsupported`, `Accept`, `Allow`, `WWW-Authenticate`.
        headers: Vec<(&'static str, String)>,
    },
}

fn respond(code: u16, reason: impl Into<String>) -> Verdict {
    Verdict::Respond { code, reason: reason.into(), headers: Vec::new() }
}

/// Checks `name-addr` / `addr-spec` forms of From, To and Contact (§20.10, §25.1).
fn valid_address(value: &str) -> Result<(), String> {
    let v = value.trim();
    if v == "*" {
        return Ok(());
    }
    if let Some(open) = v.find('<') {
        let display = v[..open].trim();
        if let Some(inner) = display.strip_prefix('"') {
            let mut escaped = false;
            let mut closed = None;
            for (i, c) in inner.char_indices() {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => {
                        closed = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            match closed {
                Some(i) if inner[i + 1..].trim().is_empty() => {}
                _ => return Err("unbalanced quotes in the display name".into()),
            }
        } else if !display.split_ascii_whitespace().all(crate::message::is_token) {
            return Err("an unquoted display name must be tokens".into());
        }
        let close = v[open..].find('>').ok_or("no `>` after `<`")? + open;
        let uri = &v[open + 1..close];
        if uri.is_empty()
            || uri.starts_with([' ', '\t'])
            || uri.ends_with([' ', '\t'])
            || uri.contains(char::is_whitespace)
        {
            return Err("whitespace inside `<...>`".into());
        }
        if !uri.contains(':') {
            return Err("no URI scheme".into());
        }
        valid_params(&v[close + 1..])
    } else {
        if v.contains('"') {
            return Err("unbalanced quotes".into());
        }
        // addr-spec form: the URI may not contain `,`, `;` or `?` of its own (§20.10),
        // so everything after the first `;` is header parameters.
        let (uri, params) = v.split_once(';').map_or((v, ""), |(u, p)| (u.trim_end(), p));
        if uri.contains('?') || uri.contains(',') {
            return Err("a URI with headers or commas needs `<...>`".into());
        }
        if !uri.contains(':') || uri.contains(char::is_whitespace) {
            return Err("not a URI".into());
        }
        if params.is_empty() { Ok(()) } else { valid_params(&format!(";{params}")) }
    }
}

fn valid_params(rest: &str) -> Result<(), String> {
    let rest = rest.trim();
    if rest.is_empty() {
        return Ok(());
    }
    let rest = rest.strip_prefix(';').ok_or("junk after the address")?;
    for p in rest.split(';') {
        let name = p.split('=').next().unwrap_or_default().trim();
        if name.is_empty() {
            return Err("empty parameter".into());
        }
    }
    Ok(())
}

fn valid_escapes(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

/// Syntax checks beyond the parser (§8.2, §20): a reason for a 400, if any.
fn syntax(m: &Message<'_>, method: &str, uri: &str) -> Result<(), String> {
    for name in SINGLE {
        if m.headers.iter().filter(|h| h.name == *name).count() > 1 {
            return Err(format!("more than one {name}"));
        }
    }
    for name in ["To", "From", "Call-ID", "CSeq", "Via"] {
        if m.header(name).is_none_or(str::is_empty) {
            return Err(format!("missing {name}"));
        }
    }
    let cseq = m.cseq().map_err(|e| e.to_string())?;
    if !cseq.method.eq_ignore_ascii_case(method) {
        return Err(format!("CSeq method {} differs from {method}", cseq.method));
    }
    for via in m.values("Via") {
        if via.split(';').skip(1).any(|p| p.trim().is_empty()) {
            return Err("empty Via parameter".into());
        }
    }
    m.vias().map_err(|e| e.to_string())?;
    if let Some(mf) = m.header("Max-Forwards") {
        mf.parse::<u8>().map_err(|_| format!("Max-Forwards `{mf}` is not 0..=255"))?;
    }
    if let Some(exp) = m.header("Expires") {
        exp.parse::<u32>().map_err(|_| format!("Expires `{exp}` is not a 32-bit number"))?;
    }
    for name in ["From", "To"] {
        let v = m.header(name).unwrap_or_default();
        valid_address(v).map_err(|e| format!("{name}: {e}"))?;
    }
    for contact in m.values("Contact") {
        valid_address(contact).map_err(|e| format!("Contact: {e}"))?;
        if method == "REGISTER" && contact.contains('?') {
            return Err("Contact with escaped headers in a REGISTER".into());
        }
    }
    // `?` may appear in the user part (§25.1 user-unreserved); after the host it starts headers,
    // which a Request-URI may not carry (§19.1.1).
    let host_part = uri.rsplit_once('@').map_or(uri, |(_, host)| host);
    if host_part.contains('?') {
        return Err("headers in the Request-URI".into());
    }
    if !valid_escapes(uri) {
        return Err("bad %-escape in the Request-URI".into());
    }
    Ok(())
}

/// Decides the answer to `bytes`, one datagram or one framed stream message,
/// when no transaction, dialog or call takes it.
pub fn screen(bytes: &[u8]) -> Verdict {
    let m = match check(bytes) {
        Ok(m) => m,
        Err(verdict) => return verdict,
    };
    match m.method().unwrap_or_default() {
        "OPTIONS" => options_ok(),
        "REGISTER" => Verdict::Register,
        "CANCEL" | "BYE" => respond(481, "Call/Transaction Does Not Exist"),
        _ => respond(404, "Not Found"),
    }
}

/// The 200 OK to OPTIONS (§11.2): what this element allows, accepts and supports.
pub fn options_ok() -> Verdict {
    Verdict::Respond {
        code: 200,
        reason: "OK".into(),
        headers: vec![
            ("Allow", ALLOWED.into()),
            ("Accept", "application/sdp".into()),
            ("Supported", SUPPORTED.join(", ")),
        ],
    }
}

/// The checks of §8.2 that every request passes before its method is
/// handled: `Ok` with the parsed request, or `Err` with the answer (a
/// response, or [`Verdict::Drop`] for responses and ACKs that fail).
pub fn check(bytes: &[u8]) -> Result<Message<'_>, Verdict> {
    let m = match Message::parse_datagram(bytes) {
        Ok(m) => m,
        // A response we cannot even parse: drop; a request: 400 or 505 (built from what can be salvaged).
        Err(_) if bytes.starts_with(b"SIP/") => return Err(Verdict::Drop),
        Err(SipError::Version(v)) => return Err(respond(505, format!("Version Not Supported ({v})"))),
        Err(e) => return Err(respond(400, format!("Bad Request ({e})"))),
    };
    let StartLine::Request { method, uri } = m.start else { return Err(Verdict::Drop) };
    if let Err(e) = syntax(&m, method, uri) {
        return Err(respond(400, format!("Bad Request ({e})")));
    }
    if method == "ACK" {
        // An ACK is never answered; the caller decides whether a dialog takes it.
        return Ok(m);
    }
    if !KNOWN.contains(&method) {
        return Err(Verdict::Respond {
            code: 501,
            reason: "Not Implemented".into(),
            headers: vec![("Allow", ALLOWED.into())],
        });
    }
    if !ALLOWED.split(", ").any(|a| a == method) {
        return Err(Verdict::Respond {
            code: 405,
            reason: "Method Not Allowed".into(),
            headers: vec![("Allow", ALLOWED.into())],
        });
    }
    let scheme = uri.split(':').next().unwrap_or_default();
    if !["sip", "sips", "tel"].iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
        return Err(respond(416, "Unsupported URI Scheme"));
    }
    let unsupported: Vec<&str> = m
        .values("Require")
        .into_iter()
        .filter(|t| !SUPPORTED.iter().any(|s| s.eq_ignore_ascii_case(t)))
        .collect();
    if !unsupported.is_empty() {
        return Err(Verdict::Respond {
            code: 420,
            reason: "Bad Extension".into(),
            headers: vec![("Unsupported", unsupported.join(", "))],
        });
    }
    if !m.body.is_empty() {
        let ctype = m.header("Content-Type").unwrap_or_default();
        let media = ctype.split(';').next().unwrap_or_default().trim();
        // INFO carries out-of-band DTMF (application/dtmf-relay, application/dtmf).
        let dtmf = m.method() == Some("INFO")
            && (media.eq_ignore_ascii_case("application/dtmf-relay")
                || media.eq_ignore_ascii_case("application/dtmf"));
        if !dtmf
            && !media.eq_ignore_ascii_case("application/sdp")
            && !media.eq_ignore_ascii_case("multipart/mixed")
        {
            return Err(Verdict::Respond {
                code: 415,
                reason: "Unsupported Media Type".into(),
                headers: vec![("Accept", "application/sdp".into())],
            });
        }
    }
    if matches!(method, "INVITE" | "OPTIONS") && m.header("Accept").is_some() {
        let accepts = m.values("Accept");
        let ok = accepts.iter().any(|a| {
            let media = a.split(';').next().unwrap_or_default().trim();
            ["application/sdp", "application/*", "*/*"].iter().any(|x| x.eq_ignore_ascii_case(media))
        });
        if !ok {
            return Err(respond(406, "Not Acceptable"));
        }
    }
    Ok(m)
}

/// The stateful part: the registrar (and, later, dialogs and calls).
pub struct Uas {
    /// Bindings and digest auth.
    pub registrar: crate::registrar::Registrar,
}

impl Uas {
    /// A UAS whose registrar knows `users` in `realm`.
    pub fn new(realm: &str, secret: &[u8], users: impl IntoIterator<Item = (String, String)>) -> Self {
        Uas { registrar: crate::registrar::Registrar::new(realm, secret, users) }
    }

    /// The answer to one message at `now` (seconds since the epoch).
    pub fn handle(&mut self, bytes: &[u8], now: u64) -> Verdict {
        match screen(bytes) {
            Verdict::Register => match Message::parse_datagram(bytes) {
                Ok(m) => self.registrar.handle(&m, now),
                Err(_) => respond(400, "Bad Request"),
            },
            other => other,
        }
    }
}

/// Builds the response text for `verdict` to `request` (§8.2.6): Via, From,
/// To (with `to_tag` added when missing), Call-ID and CSeq copied.
pub fn response_bytes(request: &[u8], verdict: &Verdict, to_tag: &str) -> Option<Vec<u8>> {
    let Verdict::Respond { code, reason, headers } = verdict else { return None };
    // Salvage the headers to copy even from a request that did not parse.
    let text = String::from_utf8_lossy(request);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    let mut copied: Vec<(String, String)> = Vec::new();
    // Whether the header line before a continuation line was one we copy.
    let mut copying = false;
    for line in head.split('\n').skip(1) {
        let line = line.trim_end_matches('\r');
        if line.starts_with([' ', '\t']) {
            if copying && let Some(last) = copied.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
            continue;
        }
        copying = false;
        if let Some((name, value)) = line.split_once(':')
            && let Some(canon) = crate::header::canonical_name(name.trim())
            && matches!(canon, "Via" | "From" | "To" | "Call-ID" | "CSeq")
        {
            copied.push((canon.to_owned(), value.trim().to_owned()));
            copying = true;
        }
    }
    let mut out = format!("SIP/2.0 {code} {reason}\r\n");
    for (name, value) in &copied {
        if name == "To" && !value.contains(";tag=") && *code > 100 {
            out.push_str(&format!("To: {value};tag={to_tag}\r\n"));
        } else {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("Server: switchboard\r\nContent-Length: 0\r\n\r\n");
    Some(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert!(valid_escapes("sip:a%41b@c"));
        assert!(!valid_escapes("sip:a%4@c"));
        assert!(!valid_escapes("sip:a%zz@c"));
        assert!(!valid_escapes("sip:a@c%"));
    }

    #[test]
    fn addresses() {
        assert!(
            valid_address(r#""J Rosenberg \\\""       <sip:jdrosen@example.com> ; tag = 98asjd8"#).is_ok()
        );
        assert!(valid_address("sip:j.user@example.com;tag=1").is_ok());
        assert!(valid_address(r#""Mr. J. User <sip:j.user@example.com>"#).is_err());
        assert!(valid_address("< sip:t.watson@example.org >").is_err());
        assert!(valid_address("Bell, Alexander <sip:a.g.bell@example.com>;tag=43").is_err());
        assert!(valid_address("sip:user@example.com?Route=%3Csip:sip.example.com%3E").is_err());
        assert!(valid_address(r#""Joe" <sip:joe@example.org>;;;;"#).is_err());
    }
}
