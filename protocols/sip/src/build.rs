//! Writing SIP messages: responses built from the request they answer
//! (RFC 3261 §8.2.6), requests of a user agent (§8.1.1, §12.2.1.1), and the
//! small pieces of header values this needs (URIs, tags, parameters).

use std::fmt::Write;

use crate::flow::Flow;
use crate::message::Message;

/// The URI of a name-addr or addr-spec header value (`"Bob" <sip:b@h>;tag=1` -> `sip:b@h`).
pub fn uri_of(value: &str) -> &str {
    match value.split_once('<') {
        Some((_, rest)) => rest.split('>').next().unwrap_or(rest).trim(),
        // addr-spec: header parameters follow the first `;` (§20.10).
        None => value.split(';').next().unwrap_or(value).trim(),
    }
}

/// The display name of a name-addr value, unquoted, if any.
pub fn display_of(value: &str) -> Option<String> {
    let (display, _) = value.split_once('<')?;
    let d = display.trim();
    let d = d.strip_prefix('"').and_then(|d| d.strip_suffix('"')).unwrap_or(d);
    (!d.is_empty()).then(|| d.replace("\\\"", "\"").replace("\\\\", "\\"))
}

/// A header parameter (after the URI) of a name-addr or addr-spec value.
pub fn header_param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    let after = match value.split_once('<') {
        Some((_, rest)) => rest.split_once('>').map_or("", |(_, a)| a),
        None => value.split_once(';').map_or("", |(_, a)| a),
    };
    after.split(';').find_map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        k.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

/// The `tag` parameter of a From or To value.
pub fn tag_of(value: &str) -> Option<&str> {
    header_param(value, "tag").filter(|t| !t.is_empty())
}

/// The user part of a SIP URI (`sip:alice@host` -> `alice`), unescaped as far as `%XX` goes.
pub fn user_of(uri: &str) -> Option<String> {
    let rest = uri.split_once(':')?.1;
    let (user, _) = rest.split_once('@')?;
    let user = user.split([';', ':']).next().unwrap_or(user);
    Some(unescape(user))
}

fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A URI parameter (`;transport=tcp`) of a SIP URI.
pub fn uri_param<'a>(uri: &'a str, name: &str) -> Option<&'a str> {
    let no_headers = uri.split('?').next().unwrap_or(uri);
    no_headers.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        k.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

/// Host and port of a SIP URI (`sip:u@[::1]:5070;x` -> (`::1`, Some(5070))).
pub fn host_port_of(uri: &str) -> Option<(&str, Option<u16>)> {
    let rest = uri.split_once(':')?.1;
    let rest = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let hostport = rest.split([';', '?']).next()?;
    if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
        return Some((host, port));
    }
    match hostport.rsplit_once(':') {
        Some((h, p)) => Some((h, Some(p.parse().ok()?))),
        None => Some((hostport, None)),
    }
}

/// Host part for a Via or URI: IPv6 addresses in brackets.
pub(crate) fn host_text(addr: &std::net::SocketAddr) -> String {
    match addr {
        std::net::SocketAddr::V4(a) => format!("{}:{}", a.ip(), a.port()),
        std::net::SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
    }
}

/// The Contact URI of this element on `flow` (§8.1.1.8), with `user`.
pub fn contact_uri(user: &str, flow: &Flow) -> String {
    let mut uri = format!("sip:{user}@{}", host_text(&flow.local));
    if let Some(t) = flow.transport.uri_param() {
        let _ = write!(uri, ";transport={t}");
    }
    uri
}

/// Starts a request of this element (§8.1.1): the Request-Line, a Via for
/// `flow` with `branch` and `rport` (RFC 3581), and Max-Forwards.
pub(crate) fn request_head(method: &str, uri: &str, flow: &Flow, branch: &str) -> String {
    let mut out = String::with_capacity(600);
    let _ = write!(
        out,
        "{method} {uri} SIP/2.0\r\nVia: SIP/2.0/{} {};branch={branch};rport\r\nMax-Forwards: 70\r\n",
        flow.transport.via_name(),
        host_text(&flow.local)
    );
    out
}

/// The top Via as received, with `received` and `rport` filled in (RFC 3261
/// §18.2.1, RFC 3581 §4), so that the response finds its way back.
fn stamped_via(via: &str, flow: &Flow) -> String {
    if matches!(flow.transport, crate::flow::Transport::Ws | crate::flow::Transport::Wss) {
        // RFC 7118 §5.4: the connection, not an address, carries responses back.
        return via.to_owned();
    }
    let mut params: Vec<String> = Vec::new();
    let mut parts = via.split(';');
    let sent = parts.next().unwrap_or_default().trim().to_owned();
    let mut has_rport = false;
    for p in parts {
        let p = p.trim();
        let name = p.split('=').next().unwrap_or_default();
        if name.eq_ignore_ascii_case("rport") {
            has_rport = true;
            params.push(format!("rport={}", flow.remote.port()));
        } else if name.eq_ignore_ascii_case("received") {
            continue;
        } else {
            params.push(p.to_owned());
        }
    }
    let sent_host = sent.split_whitespace().nth(1).unwrap_or_default();
    let source_ip = flow.remote.ip().to_string();
    let host_only = sent_host
        .strip_prefix('[')
        .and_then(|h| h.split(']').next())
        .unwrap_or_else(|| sent_host.split(':').next().unwrap_or_default());
    if has_rport || host_only != source_ip {
        params.push(format!("received={source_ip}"));
    }
    let mut out = sent;
    for p in params {
        out.push(';');
        out.push_str(&p);
    }
    out
}

/// A response to `request` (§8.2.6): every Via (the top one stamped for
/// `flow`), From, To (with `to_tag` when it has none and the code is over
/// 100), Call-ID and CSeq copied; Record-Route copied in responses that
/// create dialogs (§12.1.1); then `headers`, and `body` as `application/sdp`.
pub fn response(
    request: &Message<'_>,
    code: u16,
    reason: &str,
    to_tag: Option<&str>,
    flow: &Flow,
    headers: &[(&str, String)],
    body: Option<&str>,
) -> Vec<u8> {
    let mut out = String::with_capacity(512 + body.map_or(0, str::len));
    let _ = write!(out, "SIP/2.0 {code} {reason}\r\n");
    let mut first_via = true;
    for via in request.values("Via") {
        if first_via {
            let _ = write!(out, "Via: {}\r\n", stamped_via(via, flow));
            first_via = false;
        } else {
            let _ = write!(out, "Via: {via}\r\n");
        }
    }
    if let Some(from) = request.header("From") {
        let _ = write!(out, "From: {from}\r\n");
    }
    if let Some(to) = request.header("To") {
        match to_tag {
            Some(tag) if code > 100 && tag_of(to).is_none() => {
                let _ = write!(out, "To: {to};tag={tag}\r\n");
            }
            _ => {
                let _ = write!(out, "To: {to}\r\n");
            }
        }
    }
    for name in ["Call-ID", "CSeq"] {
        if let Some(v) = request.header(name) {
            let _ = write!(out, "{name}: {v}\r\n");
        }
    }
    if (101..300).contains(&code) && request.method() == Some("INVITE") {
        for rr in request.values("Record-Route") {
            let _ = write!(out, "Record-Route: {rr}\r\n");
        }
    }
    for (name, value) in headers {
        let _ = write!(out, "{name}: {value}\r\n");
    }
    finish(&mut out, body);
    out.into_bytes()
}

/// Ends a message: Server/User-Agent is the caller's business; this writes
/// Content-Type (for a body), Content-Length and the body.
/// Ends a message with a body of `content_type` (or none).
pub(crate) fn finish_typed(out: &mut String, content_type: &str, body: Option<&str>) {
    match body {
        Some(b) => {
            let _ = write!(out, "Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{b}", b.len());
        }
        None => out.push_str("Content-Length: 0\r\n\r\n"),
    }
}

pub(crate) fn finish(out: &mut String, body: Option<&str>) {
    match body {
        Some(b) => {
            let _ = write!(out, "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{b}", b.len());
        }
        None => out.push_str("Content-Length: 0\r\n\r\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_pieces() {
        let v = r#""Bob \"B\"" <sip:bob%40x@example.com:5070;transport=tcp>;tag=abc;x"#;
        assert_eq!(uri_of(v), "sip:bob%40x@example.com:5070;transport=tcp");
        assert_eq!(display_of(v).as_deref(), Some("Bob \"B\""));
        assert_eq!(tag_of(v), Some("abc"));
        assert_eq!(user_of(uri_of(v)).as_deref(), Some("bob@x"));
        assert_eq!(uri_param(uri_of(v), "transport"), Some("tcp"));
        assert_eq!(host_port_of(uri_of(v)), Some(("example.com", Some(5070))));
        assert_eq!(tag_of("sip:a@b;tag=1"), Some("1"));
        assert_eq!(uri_of("sip:a@b;tag=1"), "sip:a@b");
        assert_eq!(host_port_of("sip:[::1]:5062"), Some(("::1", Some(5062))));
        assert_eq!(host_port_of("sip:host"), Some(("host", None)));
    }

    #[test]
    fn via_gets_received_and_rport() {
        let flow = Flow {
            transport: crate::flow::Transport::Udp,
            remote: "192.0.2.1:40000".parse().unwrap(),
            local: "127.0.0.1:5060".parse().unwrap(),
            conn: None,
        };
        assert_eq!(
            stamped_via("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport", &flow),
            "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport=40000;received=192.0.2.1"
        );
        assert_eq!(
            stamped_via("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1", &flow),
            "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1"
        );
    }
}
