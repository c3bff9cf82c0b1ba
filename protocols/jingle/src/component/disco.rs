//! Service discovery (XEP-0030 disco#info, version 2.5) of the gateway and
//! its names, and the entity capabilities hash (XEP-0115, version 1.6,
//! §5.1) announced in their presence.

use base64::Engine as _;
use sha1::{Digest, Sha1};

use crate::xml::Element;

/// `http://jabber.org/protocol/disco#info`.
pub const NS_DISCO_INFO: &str = "http://jabber.org/protocol/disco#info";
/// `http://jabber.org/protocol/caps` (XEP-0115).
pub const NS_CAPS: &str = "http://jabber.org/protocol/caps";
/// The caps `node`: the URI naming this software (XEP-0115 §4).
pub const CAPS_NODE: &str = "urn:switchboard:gateway";

/// The features announced on the domain and on every name (GATEWAY.md).
pub const FEATURES: &[&str] = &[
    NS_DISCO_INFO,
    NS_CAPS,
    "urn:xmpp:ping",
    "urn:xmpp:jingle:1",
    "urn:xmpp:jingle:apps:rtp:1",
    "urn:xmpp:jingle:apps:rtp:audio",
    "urn:xmpp:jingle:apps:rtp:video",
    "urn:xmpp:jingle:apps:rtp:info:1",
    "urn:xmpp:jingle:transports:ice-udp:1",
    "urn:xmpp:jingle:apps:dtls:0",
    "urn:xmpp:jingle:apps:rtp:rtcp-fb:0",
    "urn:xmpp:jingle:apps:rtp:rtp-hdrext:0",
    "urn:xmpp:jingle:apps:grouping:0",
    "urn:ietf:rfc:5888",
    "urn:xmpp:jingle:apps:rtp:ssma:0",
    "urn:ietf:rfc:5761",
    "urn:xmpp:jingle:transports:webrtc-datachannel:1",
    "urn:xmpp:jingle-message:0",
];

/// A disco identity (XEP-0030 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// `category`.
    pub category: &'static str,
    /// `type`.
    pub kind: &'static str,
    /// `name`.
    pub name: &'static str,
}

/// The identity of the component's domain.
pub const GATEWAY_IDENTITY: Identity = Identity { category: "gateway", kind: "webrtc", name: "Switchboard" };
/// The identity of every `NAME@domain`.
pub const NAME_IDENTITY: Identity = Identity { category: "client", kind: "phone", name: "Switchboard" };

/// The XEP-0115 §5.1 verification string of one identity and `features`,
/// hashed with SHA-1 and encoded in base64 (no extended information).
pub fn caps_ver(identities: &[Identity], features: &[&str]) -> String {
    let mut ids: Vec<String> =
        identities.iter().map(|i| format!("{}/{}//{}<", i.category, i.kind, i.name)).collect();
    ids.sort();
    let mut feats: Vec<&str> = features.to_vec();
    feats.sort_unstable();
    feats.dedup();
    let mut s = ids.concat();
    for f in feats {
        s.push_str(f);
        s.push('<');
    }
    base64::engine::general_purpose::STANDARD.encode(Sha1::digest(s.as_bytes()))
}

/// The `<query xmlns='disco#info'/>` payload for `identity`, echoing `node`.
pub(crate) fn info_query(identity: Identity, node: Option<&str>) -> Element {
    let mut q = Element::new("query", NS_DISCO_INFO).with_opt_attr("node", node);
    q.push(
        Element::new("identity", NS_DISCO_INFO)
            .with_attr("category", identity.category)
            .with_attr("type", identity.kind)
            .with_attr("name", identity.name),
    );
    for f in FEATURES {
        q.push(Element::new("feature", NS_DISCO_INFO).with_attr("var", *f));
    }
    q
}

/// The `<c/>` element of presence from an entity with `identity`.
pub(crate) fn caps_element(identity: Identity) -> Element {
    Element::new("c", NS_CAPS)
        .with_attr("hash", "sha-1")
        .with_attr("node", CAPS_NODE)
        .with_attr("ver", caps_ver(&[identity], FEATURES))
}

/// Whether a disco#info `node` is one we answer: none, or our caps node
/// (`CAPS_NODE#ver` with the right ver for `identity`).
pub(crate) fn node_ok(identity: Identity, node: Option<&str>) -> bool {
    match node {
        None => true,
        Some(n) => n
            .strip_prefix(CAPS_NODE)
            .and_then(|r| r.strip_prefix('#'))
            .is_some_and(|v| v == caps_ver(&[identity], FEATURES)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_ver_matches_the_xep_0115_simple_example() {
        // XEP-0115 §5.2: Exodus 0.9.1 -> QgayPKawpkPSDYmwT/WM94uAlu0=
        let exodus = Identity { category: "client", kind: "pc", name: "Exodus 0.9.1" };
        let features = [
            "http://jabber.org/protocol/muc",
            "http://jabber.org/protocol/disco#info",
            "http://jabber.org/protocol/caps",
            "http://jabber.org/protocol/disco#items",
        ];
        assert_eq!(caps_ver(&[exodus], &features), "QgayPKawpkPSDYmwT/WM94uAlu0=");
    }

    #[test]
    fn info_query_lists_identity_and_every_feature() {
        let q = info_query(GATEWAY_IDENTITY, None);
        let id = q.child("identity", NS_DISCO_INFO).unwrap();
        assert_eq!((id.attr("category"), id.attr("type")), (Some("gateway"), Some("webrtc")));
        assert_eq!(q.children_named("feature", NS_DISCO_INFO).count(), FEATURES.len());
        let ver = caps_ver(&[NAME_IDENTITY], FEATURES);
        assert!(node_ok(NAME_IDENTITY, Some(&format!("{CAPS_NODE}#{ver}"))));
        assert!(!node_ok(NAME_IDENTITY, Some("other#x")));
    }
}
