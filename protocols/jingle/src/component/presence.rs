//! Presence of the gateway's names (RFC 6121 §3-§4): subscription
//! requests answered (`subscribed`, and a `subscribe` back), probes and
//! directed presence answered with the current presence, and the JIDs to
//! tell when a name comes and goes. Available presence carries entity
//! capabilities (XEP-0115, see [`super::disco`]).

use std::collections::{BTreeSet, HashMap};

use super::disco::{self, Identity};
use super::stream::NS_COMPONENT;
use crate::xml::Element;

/// Most JIDs remembered per name (more are answered but not remembered).
const MAX_WATCHERS: usize = 1024;
/// Most names with remembered JIDs.
const MAX_NAMES: usize = 16 * 1024;

/// Who is told about each name's presence. The key `""` is the domain itself.
#[derive(Debug, Default)]
pub(crate) struct Watchers {
    /// Bare JIDs that subscribed.
    subscribed: HashMap<String, BTreeSet<String>>,
    /// JIDs that probed or sent directed presence (until they send unavailable).
    directed: HashMap<String, BTreeSet<String>>,
}

impl Watchers {
    fn add(map: &mut HashMap<String, BTreeSet<String>>, name: &str, jid: &str) {
        if !map.contains_key(name) && map.len() >= MAX_NAMES {
            return;
        }
        let set = map.entry(name.to_owned()).or_default();
        if set.len() < MAX_WATCHERS {
            set.insert(jid.to_owned());
        }
    }

    /// `jid` (bare) subscribed to `name`.
    pub(crate) fn subscribe(&mut self, name: &str, jid: &str) {
        Self::add(&mut self.subscribed, name, jid);
    }

    /// `jid` (bare) unsubscribed from `name`.
    pub(crate) fn unsubscribe(&mut self, name: &str, jid: &str) {
        if let Some(s) = self.subscribed.get_mut(name) {
            s.remove(jid);
            if s.is_empty() {
                self.subscribed.remove(name);
            }
        }
    }

    /// `jid` probed `name` or sent it directed presence.
    pub(crate) fn directed(&mut self, name: &str, jid: &str) {
        Self::add(&mut self.directed, name, jid);
    }

    /// `jid` sent `name` unavailable presence.
    pub(crate) fn gone(&mut self, name: &str, jid: &str) {
        if let Some(s) = self.directed.get_mut(name) {
            s.remove(jid);
            if s.is_empty() {
                self.directed.remove(name);
            }
        }
    }

    /// Everyone to tell about `name`, each once.
    pub(crate) fn of(&self, name: &str) -> BTreeSet<String> {
        let mut all = BTreeSet::new();
        for map in [&self.subscribed, &self.directed] {
            if let Some(s) = map.get(name) {
                all.extend(s.iter().cloned());
            }
        }
        all
    }

    /// Every name with someone to tell.
    pub(crate) fn names(&self) -> BTreeSet<String> {
        self.subscribed.keys().chain(self.directed.keys()).cloned().collect()
    }
}

/// Presence from `from` to `to`: available with caps of `identity`, or unavailable.
pub(crate) fn presence(from: &str, to: &str, available: Option<Identity>) -> Element {
    let p = Element::new("presence", NS_COMPONENT).with_attr("from", from).with_attr("to", to);
    match available {
        Some(identity) => p.with_child(disco::caps_element(identity)),
        None => p.with_attr("type", "unavailable"),
    }
}

/// A subscription stanza (`subscribed`, `subscribe`, `unsubscribed`) from `from` to `to`.
pub(crate) fn subscription(from: &str, to: &str, kind: &str) -> Element {
    Element::new("presence", NS_COMPONENT).with_attr("from", from).with_attr("to", to).with_attr("type", kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchers_are_remembered_once_and_forgotten() {
        let mut w = Watchers::default();
        w.subscribe("alice", "bob@example");
        w.directed("alice", "bob@example");
        w.directed("alice", "carol@example/phone");
        assert_eq!(w.of("alice").len(), 2);
        w.gone("alice", "carol@example/phone");
        w.gone("alice", "bob@example");
        assert_eq!(w.of("alice").into_iter().collect::<Vec<_>>(), ["bob@example"]);
        w.unsubscribe("alice", "bob@example");
        assert!(w.of("alice").is_empty());
        assert!(w.names().is_empty());
    }

    #[test]
    fn available_presence_has_caps() {
        let p = presence("a@gw/switchboard", "b@example", Some(disco::NAME_IDENTITY));
        let c = p.child("c", disco::NS_CAPS).unwrap();
        assert_eq!(c.attr("hash"), Some("sha-1"));
        assert_eq!(p.attr("type"), None);
        assert_eq!(presence("a@gw/switchboard", "b@example", None).attr("type"), Some("unavailable"));
    }
}
