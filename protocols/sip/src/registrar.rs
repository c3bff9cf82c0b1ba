//! A registrar (RFC 3261 §10.3), sans-IO: REGISTER with digest auth against
//! configured users, bindings with expiry, and the lookup that routes calls.

use std::collections::HashMap;

use crate::digest::{Authenticator, Refused};
use crate::message::Message;
use crate::uas::Verdict;

/// One registered contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The Contact URI (without `<>` and header parameters).
    pub uri: String,
    /// When it expires, in seconds since the epoch.
    pub expires_at: u64,
}

/// Users, their bindings, and the authenticator.
pub struct Registrar {
    auth: Authenticator,
    users: HashMap<String, String>,
    bindings: HashMap<String, Vec<Binding>>,
    /// Expiry when the request gives none (§10.2.1.1), seconds.
    pub default_expires: u64,
    /// Longest accepted expiry, seconds.
    pub max_expires: u64,
}

/// The user part of a `sip:user@host` URI inside a header value.
fn user_of(value: &str) -> Option<&str> {
    let uri = value.split_once('<').map_or(value, |(_, rest)| rest.split('>').next().unwrap_or(rest));
    let after_scheme = uri.split_once(':')?.1;
    let (user, _) = after_scheme.split_once('@')?;
    Some(user.split(';').next().unwrap_or(user))
}

/// The URI of a Contact value and its `expires` parameter.
fn contact_parts(value: &str) -> (String, Option<u64>) {
    let (uri, params) = match value.split_once('<') {
        Some((_, rest)) => {
            let (uri, after) = rest.split_once('>').unwrap_or((rest, ""));
            (uri.trim(), after)
        }
        None => value.split_once(';').map_or((value.trim(), ""), |(u, p)| (u.trim(), p)),
    };
    let expires = params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("expires").then(|| v.trim().parse().ok()).flatten()
    });
    (uri.to_owned(), expires)
}

impl Registrar {
    /// A registrar for `realm` whose users are `(name, password)`; nonces signed with `secret`.
    pub fn new(realm: &str, secret: &[u8], users: impl IntoIterator<Item = (String, String)>) -> Self {
        Registrar {
            auth: Authenticator::new(realm, secret),
            users: users.into_iter().collect(),
            bindings: HashMap::new(),
            default_expires: 3600,
            max_expires: 7200,
        }
    }

    /// The digest algorithms to challenge with, in order.
    pub fn set_algorithms(&mut self, algorithms: Vec<crate::digest::Algorithm>) {
        self.auth.algorithms = algorithms;
    }

    /// Whether `user` is configured.
    pub fn is_user(&self, user: &str) -> bool {
        self.users.contains_key(user)
    }

    /// Live bindings of `user` at `now`.
    pub fn lookup(&self, user: &str, now: u64) -> Vec<&Binding> {
        self.bindings.get(user).map(|b| b.iter().filter(|b| b.expires_at > now).collect()).unwrap_or_default()
    }

    /// Number of live bindings of every user (for `/metrics`).
    pub fn binding_count(&self, now: u64) -> usize {
        self.bindings.values().flatten().filter(|b| b.expires_at > now).count()
    }

    /// Handles a REGISTER that passed the checks of [`uas::screen`](crate::uas::screen).
    pub fn handle(&mut self, m: &Message<'_>, now: u64) -> Verdict {
        let users = &self.users;
        let user =
            match self.auth.check(m.header("Authorization"), "REGISTER", now, |u| users.get(u).cloned()) {
                Ok(user) => user,
                Err(Refused::Challenge) => {
                    let headers =
                        self.auth.challenges(now).into_iter().map(|c| ("WWW-Authenticate", c)).collect();
                    return Verdict::Respond { code: 401, reason: "Unauthorized".into(), headers };
                }
                Err(Refused::Forbidden) => {
                    return Verdict::Respond { code: 403, reason: "Forbidden".into(), headers: Vec::new() };
                }
            };
        // The address of record must be the authenticated user's (§10.3 step 3/6).
        if m.header("To").and_then(user_of) != Some(user.as_str()) {
            return Verdict::Respond {
                code: 403,
                reason: "Forbidden (To is not yours)".into(),
                headers: Vec::new(),
            };
        }
        self.bindings.retain(|_, list| {
            list.retain(|b| b.expires_at > now);
            !list.is_empty()
        });
        let header_expires = m.header("Expires").and_then(|e| e.parse::<u64>().ok());
        let contacts: Vec<&str> = m.values("Contact");
        let list = self.bindings.entry(user.clone()).or_default();
        if contacts == ["*"] {
            if header_expires != Some(0) {
                return Verdict::Respond {
                    code: 400,
                    reason: "Bad Request (* needs Expires: 0)".into(),
                    headers: Vec::new(),
                };
            }
            list.clear();
        }
        for contact in contacts.iter().filter(|c| **c != "*") {
            let (uri, expires) = contact_parts(contact);
            let expires = expires.or(header_expires).unwrap_or(self.default_expires).min(self.max_expires);
            list.retain(|b| b.uri != uri);
            if expires > 0 {
                list.push(Binding { uri, expires_at: now + expires });
            }
        }
        let headers = list
            .iter()
            .map(|b| ("Contact", format!("<{}>;expires={}", b.uri, b.expires_at.saturating_sub(now))))
            .collect();
        Verdict::Respond { code: 200, reason: "OK".into(), headers }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::{Algorithm, response};

    fn register(auth: Option<String>, contact: &str, expires: &str) -> Vec<u8> {
        let auth = auth.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
        format!("REGISTER sip:gw SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKr\r\nFrom: <sip:alice@gw>;tag=1\r\nTo: <sip:alice@gw>\r\nCall-ID: r1\r\nCSeq: 1 REGISTER\r\nContact: {contact}\r\nExpires: {expires}\r\n{auth}Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").into_bytes()
    }

    #[test]
    fn challenge_register_expire() {
        let mut r = Registrar::new("sb", b"k", [("alice".to_owned(), "pw".to_owned())]);
        let req = register(None, "<sip:alice@127.0.0.1:5062>", "60");
        let Verdict::Respond { code: 401, headers, .. } =
            r.handle(&Message::parse_datagram(&req).unwrap(), 1000)
        else {
            panic!()
        };
        assert_eq!(headers.len(), 1);
        let nonce = headers[0].1.split("nonce=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let resp = response(Algorithm::Md5, "alice", "sb", "pw", "REGISTER", "sip:gw", &nonce, None);
        let auth = format!(
            r#"Digest username="alice", realm="sb", nonce="{nonce}", uri="sip:gw", response="{resp}""#
        );
        let req = register(Some(auth.clone()), "<sip:alice@127.0.0.1:5062>", "60");
        let v = r.handle(&Message::parse_datagram(&req).unwrap(), 1001);
        assert_eq!(
            v,
            Verdict::Respond {
                code: 200,
                reason: "OK".into(),
                headers: vec![("Contact", "<sip:alice@127.0.0.1:5062>;expires=60".into())]
            }
        );
        assert_eq!(r.lookup("alice", 1050).len(), 1);
        assert!(r.lookup("alice", 1062).is_empty(), "expired");
        let req = register(Some(auth), "*", "0");
        assert!(matches!(
            r.handle(&Message::parse_datagram(&req).unwrap(), 1002),
            Verdict::Respond { code: 200, .. }
        ));
        assert_eq!(r.binding_count(1003), 0);
    }
}
