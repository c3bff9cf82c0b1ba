//! Just enough of JIDs (RFC 7622) for routing: `[local@]domain[/resource]`
//! split into parts. The server has already normalized what it routes to
//! us; domains compare without regard to ASCII case.

/// A JID split into its parts (borrowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Jid<'a> {
    /// The localpart, if any.
    pub(crate) local: Option<&'a str>,
    /// The domainpart.
    pub(crate) domain: &'a str,
    /// The resourcepart, if any.
    pub(crate) resource: Option<&'a str>,
}

impl<'a> Jid<'a> {
    /// Splits `s`; `None` when a part is empty or the text cannot be a JID.
    pub(crate) fn parse(s: &'a str) -> Option<Jid<'a>> {
        let (bare, resource) = match s.split_once('/') {
            Some((b, r)) => (b, Some(r)),
            None => (s, None),
        };
        let (local, domain) = match bare.split_once('@') {
            Some((l, d)) => (Some(l), d),
            None => (None, bare),
        };
        if domain.is_empty()
            || domain.contains('@')
            || domain.chars().any(char::is_whitespace)
            || local.is_some_and(|l| !valid_local(l))
            || resource.is_some_and(str::is_empty)
        {
            return None;
        }
        Some(Jid { local, domain, resource })
    }
}

/// Whether `s` can be a JID localpart (RFC 7622 §3.3.1 forbidden characters, 1023 bytes).
pub(crate) fn valid_local(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 1023
        && !s.chars().any(|c| c.is_whitespace() || c.is_control() || "\"&'/:<>@".contains(c))
}

/// The bare JID of `s` (without `/resource`).
pub(crate) fn bare(s: &str) -> &str {
    s.split_once('/').map_or(s, |(b, _)| b)
}

/// Whether two localparts are the same after case mapping (RFC 7622 §3.3:
/// the server lowercases what it routes, a browser may not have).
fn same_local(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => x == y || x.to_lowercase() == y.to_lowercase(),
        (None, None) => true,
        _ => false,
    }
}

/// Whether two JIDs have the same bare JID (localparts and domains without regard to case).
pub(crate) fn same_bare(a: &str, b: &str) -> bool {
    match (Jid::parse(a), Jid::parse(b)) {
        (Some(x), Some(y)) => same_local(x.local, y.local) && x.domain.eq_ignore_ascii_case(y.domain),
        _ => bare(a) == bare(b),
    }
}

/// Whether two full JIDs are the same (resources compared exactly).
pub(crate) fn same_full(a: &str, b: &str) -> bool {
    match (Jid::parse(a), Jid::parse(b)) {
        (Some(x), Some(y)) => {
            same_local(x.local, y.local)
                && x.resource == y.resource
                && x.domain.eq_ignore_ascii_case(y.domain)
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_compares() {
        let j = Jid::parse("alice@gw.example/switchboard").unwrap();
        assert_eq!((j.local, j.domain, j.resource), (Some("alice"), "gw.example", Some("switchboard")));
        let j = Jid::parse("gw.example").unwrap();
        assert_eq!((j.local, j.resource), (None, None));
        let j = Jid::parse("a@b/c/d@e").unwrap();
        assert_eq!(j.resource, Some("c/d@e"));
        for bad in ["", "@b", "a@", "a@b/", "a b@c", "a@b@c", "/r"] {
            assert_eq!(Jid::parse(bad), None, "{bad}");
        }
        assert_eq!(bare("a@b/c"), "a@b");
        assert!(same_bare("a@B.example/x", "a@b.example"));
        assert!(same_bare("Bob@b", "bob@b/x"));
        assert!(!same_bare("a@b", "b@b"));
        assert!(!same_bare("a@b", "b"));
        assert!(same_full("a@B/x", "a@b/x"));
        assert!(!same_full("a@b/x", "a@b/y"));
        assert!(!same_full("a@b/x", "a@b/X"));
    }
}
