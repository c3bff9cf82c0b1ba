//! XEP-0353 Jingle Message Initiation, version 0.8.0 (2026-02-19):
//! `<propose/>`, `<ringing/>`, `<proceed/>`, `<reject/>`, `<retract/>` and
//! `<finish/>` in `urn:xmpp:jingle-message:0`, carried in `<message/>`
//! stanzas with a `<store xmlns='urn:xmpp:hints'/>` hint (XEP-0334) so
//! that offline and archived devices see them. The pre-0.3 `<accept/>`
//! is read (as [`JmiKind::Accept`]) for old clients.

use crate::jingle::{JingleError, Reason};
use crate::ns;
use crate::parse;
use crate::rtp;
use crate::xml::Element;

/// Which JMI message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JmiKind {
    /// `<propose/>` with the media the call will have (each an RTP `<description media/>`).
    Propose {
        /// The proposed media (`audio`, `video`), in order.
        media: Vec<String>,
        /// Other children of `<propose/>` (e.g. non-RTP descriptions), kept.
        extra: Vec<Element>,
    },
    /// `<ringing/>`.
    Ringing,
    /// `<proceed/>`.
    Proceed,
    /// `<accept/>` (before XEP-0353 0.3).
    Accept,
    /// `<reject/>`.
    Reject,
    /// `<retract/>`.
    Retract,
    /// `<finish/>` (XEP-0353 0.4): an accepted call ended.
    Finish,
}

impl JmiKind {
    /// The element name.
    pub fn as_str(&self) -> &'static str {
        match self {
            JmiKind::Propose { .. } => "propose",
            JmiKind::Ringing => "ringing",
            JmiKind::Proceed => "proceed",
            JmiKind::Accept => "accept",
            JmiKind::Reject => "reject",
            JmiKind::Retract => "retract",
            JmiKind::Finish => "finish",
        }
    }
}

/// One JMI element: kind, session id, reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jmi {
    /// The message.
    pub kind: JmiKind,
    /// The session id (the Jingle `sid` that follows).
    pub id: String,
    /// `<reason/>` (reject, retract, finish).
    pub reason: Option<Reason>,
    /// XEP-0353 0.5 `<tie-breaker/>` ... and other children, kept (not for propose).
    pub extra: Vec<Element>,
}

impl Jmi {
    /// A JMI element without reason.
    pub fn new(kind: JmiKind, id: &str) -> Self {
        Jmi { kind, id: id.to_owned(), reason: None, extra: Vec::new() }
    }

    /// A `<propose/>` for `media` (`audio`, `video`).
    pub fn propose(id: &str, media: &[&str]) -> Self {
        Jmi::new(
            JmiKind::Propose { media: media.iter().map(|m| (*m).to_owned()).collect(), extra: Vec::new() },
            id,
        )
    }

    /// Builder: sets the reason.
    #[must_use]
    pub fn with_reason(mut self, reason: Reason) -> Self {
        self.reason = Some(reason);
        self
    }

    /// Parses a JMI element (`<propose xmlns='urn:xmpp:jingle-message:0'/>` ...).
    pub fn parse(el: &Element) -> Result<Jmi, JingleError> {
        if el.ns != ns::JMI {
            return Err(JingleError::UnexpectedElement { expected: "propose", found: el.name.clone() });
        }
        let id = parse::req(el, "propose", "id")?.to_owned();
        let mut reason = None;
        let mut extra = Vec::new();
        let mut media = Vec::new();
        for child in el.elements() {
            if child.is("reason", ns::JINGLE) && reason.is_none() {
                reason = Some(Reason::parse(child)?);
            } else if el.name == "propose" && child.is("description", ns::RTP) {
                media.push(parse::req(child, "description", "media")?.to_owned());
            } else {
                extra.push(child.clone());
            }
        }
        let kind = match el.name.as_str() {
            "propose" => JmiKind::Propose { media, extra: std::mem::take(&mut extra) },
            "ringing" => JmiKind::Ringing,
            "proceed" => JmiKind::Proceed,
            "accept" => JmiKind::Accept,
            "reject" => JmiKind::Reject,
            "retract" => JmiKind::Retract,
            "finish" => JmiKind::Finish,
            _ => return Err(JingleError::UnexpectedElement { expected: "propose", found: el.name.clone() }),
        };
        Ok(Jmi { kind, id, reason, extra })
    }

    /// Finds and parses the JMI element of a `<message/>`; `None` when there is none.
    pub fn from_message(message: &Element) -> Option<Result<Jmi, JingleError>> {
        message.children_in(ns::JMI).next().map(Jmi::parse)
    }

    /// The JMI element.
    pub fn to_element(&self) -> Element {
        let mut el = Element::new(self.kind.as_str(), ns::JMI).with_attr("id", self.id.clone());
        if let JmiKind::Propose { media, extra } = &self.kind {
            for m in media {
                el.push(rtp::Description::new(m).to_element());
            }
            for e in extra {
                el.push(e.clone());
            }
        }
        if let Some(r) = &self.reason {
            el.push(r.to_element());
        }
        for e in &self.extra {
            el.push(e.clone());
        }
        el
    }

    /// A whole `<message type='chat'/>` (in `stanza_ns`, e.g. `jabber:component:accept`)
    /// carrying this element and the `<store/>` hint.
    pub fn to_message(&self, stanza_ns: &str, from: &str, to: &str) -> Element {
        Element::new("message", stanza_ns)
            .with_attr("from", from)
            .with_attr("to", to)
            .with_attr("type", "chat")
            .with_attr("id", format!("jmi-{}-{}", self.kind.as_str(), self.id))
            .with_child(self.to_element())
            .with_child(store_hint())
    }
}

/// `<store xmlns='urn:xmpp:hints'/>` (XEP-0334).
pub fn store_hint() -> Element {
    Element::new("store", ns::HINTS)
}

/// Whether a `<message/>` carries the `<store/>` hint.
pub fn has_store_hint(message: &Element) -> bool {
    message.child("store", ns::HINTS).is_some()
}
