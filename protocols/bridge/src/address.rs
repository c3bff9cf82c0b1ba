//! Addresses across the gateway: how a SIP address is written as an XMPP
//! JID and back, and how a call's target is read.
//!
//! * XMPP -> SIP: the JID localpart holds the SIP address escaped as
//!   XEP-0106 (JID Escaping, version 1.1) says: `alice\40pbx.example\3a5070`
//!   is `sip:alice@pbx.example:5070`. The percent form (`alice%40pbx.example`)
//!   that some gateways and users write is read too.
//! * SIP -> XMPP: the Request-URI's user part holds the JID with its `@`
//!   percent-escaped (RFC 3261 §19.1.2: `@` is not allowed unescaped in the
//!   user part): `sip:bob%40example.org@gateway` calls `bob@example.org`, and
//!   `sip:bob%40example.org%2Fphone@gateway` the full JID `bob@example.org/phone`.

/// The ten characters XEP-0106 §3.2 escapes in a localpart, with their escapes.
const JID_ESCAPES: [(char, &str); 10] = [
    (' ', "\\20"),
    ('"', "\\22"),
    ('&', "\\26"),
    ('\'', "\\27"),
    ('/', "\\2f"),
    (':', "\\3a"),
    ('<', "\\3c"),
    ('>', "\\3e"),
    ('@', "\\40"),
    ('\\', "\\5c"),
];

/// `text` escaped for a JID localpart (XEP-0106 §4.2). A backslash is
/// escaped only where it would otherwise start one of the escapes.
pub fn jid_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for (i, c) in text.char_indices() {
        let starts_escape = || {
            text.get(i + 1..i + 3)
                .is_some_and(|code| JID_ESCAPES.iter().any(|(_, esc)| esc[1..].eq_ignore_ascii_case(code)))
        };
        match JID_ESCAPES.iter().find(|(ch, _)| *ch == c) {
            Some(('\\', _)) if !starts_escape() => out.push(c),
            Some((_, esc)) => out.push_str(esc),
            None => out.push(c),
        }
    }
    out
}

/// A localpart with its XEP-0106 escapes (§4.3) and its `%XX` escapes undone.
/// A backslash that does not start one of the ten escapes stays.
pub fn jid_unescape(local: &str) -> String {
    let mut out = String::with_capacity(local.len());
    let mut rest = local;
    while let Some(c) = rest.chars().next() {
        if c == '\\'
            && let Some(code) = rest.get(1..3)
            && let Some((ch, _)) = JID_ESCAPES.iter().find(|(_, esc)| esc[1..].eq_ignore_ascii_case(code))
        {
            out.push(*ch);
            rest = &rest[3..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    percent_decode(&out)
}

/// `%XX` escapes decoded (RFC 3986 §2.1); a malformed escape stays as written,
/// and so does a result that is not UTF-8.
pub fn percent_decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_owned();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

/// `text` as a SIP URI user part (RFC 3261 §25.1: `unreserved` and
/// `user-unreserved` stay, everything else, `@` and `:` included, is `%XX`).
pub fn sip_user_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for b in text.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-_.!~*'()&=+$,;?/".contains(&b);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The JID a SIP Request-URI user part names, when it holds an escaped
/// `@` (`bob%40example.org` -> `bob@example.org`).
pub fn jid_of_sip_user(user: &str) -> Option<String> {
    if !user.to_ascii_lowercase().contains("%40") {
        return None;
    }
    let jid = percent_decode(user);
    let (local, rest) = jid.split_once('@')?;
    let domain = rest.split('/').next().unwrap_or(rest);
    // RFC 7622 §3.3.1: these may not appear in a localpart.
    let local_ok = !local.is_empty() && !local.chars().any(|c| "\"&'/:<>@ ".contains(c) || c.is_control());
    let domain_ok = !domain.is_empty() && domain.chars().all(|c| c.is_alphanumeric() || ".-_[]:".contains(c));
    (local_ok && domain_ok).then_some(jid)
}

/// The SIP URI a JID localpart names, when it holds an escaped `@`
/// (`alice\40pbx.example\3a5070` -> `sip:alice@pbx.example:5070`).
pub fn sip_of_jid_local(local: &str) -> Option<String> {
    let lower = local.to_ascii_lowercase();
    if !lower.contains("\\40") && !lower.contains("%40") {
        return None;
    }
    let address = jid_unescape(local);
    let address = address
        .strip_prefix("sip:")
        .or_else(|| address.strip_prefix("sips:"))
        .map_or(address.as_str(), |a| a)
        .to_owned();
    let (user, host) = address.rsplit_once('@')?;
    let host_ok = !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
    (!user.is_empty() && host_ok).then(|| format!("sip:{}@{host}", sip_user_escape(user)))
}

/// The localpart under which an address is known on the XMPP side: a SIP
/// URI `sip:user@host[:port]` is `user\40host[\3aport]` (parameters dropped).
pub fn jid_local_of_sip(uri: &str) -> String {
    let rest = uri.split_once(':').map_or(uri, |(_, r)| r);
    let rest = rest.split([';', '?']).next().unwrap_or(rest);
    jid_escape(&percent_decode(rest))
}

/// The SIP user part under which an XMPP address (`xmpp:user@domain/res`
/// or `user@domain`) is known on the SIP side: `user%40domain` (the resource dropped).
pub fn sip_user_of_jid(jid: &str) -> String {
    let jid = jid.strip_prefix("xmpp:").unwrap_or(jid);
    let bare = jid.split('/').next().unwrap_or(jid);
    sip_user_escape(bare)
}

/// The parts of a call's target: `scheme:user@domain` for `sip:`,
/// `sips:` and `xmpp:` addresses, a bare name otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// `sip`, `sips`, `xmpp`, or empty for a bare name.
    pub scheme: String,
    /// The user part (localpart, SIP user), or the name.
    pub user: String,
    /// The host part (domain, host[:port]), empty for a bare name.
    pub domain: String,
}

impl Subject {
    /// A target as a browser or a dial-plan rule writes it.
    pub fn parse(target: &str) -> Subject {
        let lower = target.get(..5).map(str::to_ascii_lowercase).unwrap_or_default();
        let scheme = ["sips:", "sip:", "xmpp:"].into_iter().find(|s| lower.starts_with(s));
        let Some(scheme) = scheme else {
            return Subject { scheme: String::new(), user: target.to_owned(), domain: String::new() };
        };
        let rest = &target[scheme.len()..];
        let rest = rest.split(['?']).next().unwrap_or(rest);
        let (user, domain) = match rest.split_once('@') {
            Some((u, d)) => (u, d),
            None => ("", rest),
        };
        let domain = if scheme == "xmpp:" { domain } else { domain.split(';').next().unwrap_or(domain) };
        Subject {
            scheme: scheme.trim_end_matches(':').to_owned(),
            user: user.to_owned(),
            domain: domain.to_owned(),
        }
    }

    /// The text dial-plan patterns match: `scheme:user@domain`, or the name.
    pub fn text(&self) -> String {
        if self.scheme.is_empty() {
            return self.user.clone();
        }
        if self.user.is_empty() {
            return format!("{}:{}", self.scheme, self.domain);
        }
        format!("{}:{}@{}", self.scheme, self.user, self.domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xep_0106_examples_round_trip() {
        // XEP-0106 §5 (examples of escaping).
        for (raw, escaped) in [
            ("space cadet", "space\\20cadet"),
            ("call me \"ishmael\"", "call\\20me\\20\\22ishmael\\22"),
            ("at&t guy", "at\\26t\\20guy"),
            ("d'artagnan", "d\\27artagnan"),
            ("/.fanboy", "\\2f.fanboy"),
            ("::foo::", "\\3a\\3afoo\\3a\\3a"),
            ("<foo>", "\\3cfoo\\3e"),
            ("user@host", "user\\40host"),
            ("c:\\net", "c\\3a\\net"),
            ("c:\\cool stuff", "c\\3a\\cool\\20stuff"),
            ("c:\\5commas", "c\\3a\\5c5commas"),
        ] {
            assert_eq!(jid_escape(raw), escaped);
            assert_eq!(jid_unescape(escaped), raw);
        }
        assert_eq!(jid_unescape("a\\zz"), "a\\zz", "not an escape");
    }

    #[test]
    fn sip_addresses_in_jids_and_back() {
        assert_eq!(
            sip_of_jid_local("alice\\40pbx.example\\3a5070").as_deref(),
            Some("sip:alice@pbx.example:5070")
        );
        assert_eq!(sip_of_jid_local("alice%40127.0.0.1").as_deref(), Some("sip:alice@127.0.0.1"));
        assert_eq!(
            sip_of_jid_local("+15551234\\40sip.example").as_deref(),
            Some("sip:+15551234@sip.example")
        );
        assert_eq!(sip_of_jid_local("alice"), None);
        assert_eq!(sip_of_jid_local("\\40host"), None, "no user");
        assert_eq!(sip_of_jid_local("a\\40b\\2fc"), None, "a slash is no host");
        assert_eq!(jid_local_of_sip("sip:carol@127.0.0.1:5061;transport=udp"), "carol\\40127.0.0.1\\3a5061");
        assert_eq!(
            sip_of_jid_local(&jid_local_of_sip("sip:carol@127.0.0.1:5061")).as_deref(),
            Some("sip:carol@127.0.0.1:5061")
        );
    }

    #[test]
    fn jids_in_sip_users_and_back() {
        assert_eq!(jid_of_sip_user("bob%40example.org").as_deref(), Some("bob@example.org"));
        assert_eq!(jid_of_sip_user("bob%40example.org%2Fphone").as_deref(), Some("bob@example.org/phone"));
        assert_eq!(jid_of_sip_user("bob"), None);
        assert_eq!(jid_of_sip_user("%40example.org"), None);
        // RFC 4475 esc01: a percent-escaped `sips:` URI, not a JID.
        assert_eq!(jid_of_sip_user("sips%3Auser%40example.com"), None);
        assert_eq!(sip_user_of_jid("xmpp:alice@localhost/web"), "alice%40localhost");
        assert_eq!(jid_of_sip_user(&sip_user_of_jid("alice@localhost")).as_deref(), Some("alice@localhost"));
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }

    #[test]
    fn subjects() {
        let s = Subject::parse("sip:+15551234@trunk.example;user=phone");
        assert_eq!(
            (s.scheme.as_str(), s.user.as_str(), s.domain.as_str()),
            ("sip", "+15551234", "trunk.example")
        );
        assert_eq!(s.text(), "sip:+15551234@trunk.example");
        assert_eq!(Subject::parse("XMPP:bob@example.org/phone").text(), "xmpp:bob@example.org/phone");
        assert_eq!(Subject::parse("bob").text(), "bob");
        assert_eq!(Subject::parse("sip:127.0.0.1:5090").text(), "sip:127.0.0.1:5090");
    }
}
