//! XEP-0166 Jingle, version 1.1.2 (2018-09-19): the `<jingle/>` element,
//! its actions, contents (creator, name, senders, disposition), reasons,
//! and the Jingle error conditions (`urn:xmpp:jingle:errors:1`).
//!
//! Application and transport payloads are typed where Switchboard speaks
//! them ([`Description::Rtp`], [`Transport::IceUdp`]) and kept as
//! [`Element`]s otherwise, so nothing a peer sent is dropped on the way
//! through the model. Unknown children of `<jingle/>` and `<content/>` are
//! kept the same way (`extra`).

use std::fmt;
use std::str::FromStr;

use crate::dom::{self, XmlNode};
use crate::grouping::Group;
use crate::ice_udp;
use crate::ns;
use crate::parse;
use crate::rtp;
use crate::sink::{self, Sink};
use crate::xml::Element;

/// Jingle actions (XEP-0166 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `content-accept`.
    ContentAccept,
    /// `content-add`.
    ContentAdd,
    /// `content-modify`.
    ContentModify,
    /// `content-reject`.
    ContentReject,
    /// `content-remove`.
    ContentRemove,
    /// `description-info`.
    DescriptionInfo,
    /// `security-info`.
    SecurityInfo,
    /// `session-accept`.
    SessionAccept,
    /// `session-info`.
    SessionInfo,
    /// `session-initiate`.
    SessionInitiate,
    /// `session-terminate`.
    SessionTerminate,
    /// `transport-accept`.
    TransportAccept,
    /// `transport-info`.
    TransportInfo,
    /// `transport-reject`.
    TransportReject,
    /// `transport-replace`.
    TransportReplace,
}

impl Action {
    /// Every action, in XEP-0166 order.
    pub const ALL: [Action; 15] = [
        Action::ContentAccept,
        Action::ContentAdd,
        Action::ContentModify,
        Action::ContentReject,
        Action::ContentRemove,
        Action::DescriptionInfo,
        Action::SecurityInfo,
        Action::SessionAccept,
        Action::SessionInfo,
        Action::SessionInitiate,
        Action::SessionTerminate,
        Action::TransportAccept,
        Action::TransportInfo,
        Action::TransportReject,
        Action::TransportReplace,
    ];

    /// The action as written in the `action` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::ContentAccept => "content-accept",
            Action::ContentAdd => "content-add",
            Action::ContentModify => "content-modify",
            Action::ContentReject => "content-reject",
            Action::ContentRemove => "content-remove",
            Action::DescriptionInfo => "description-info",
            Action::SecurityInfo => "security-info",
            Action::SessionAccept => "session-accept",
            Action::SessionInfo => "session-info",
            Action::SessionInitiate => "session-initiate",
            Action::SessionTerminate => "session-terminate",
            Action::TransportAccept => "transport-accept",
            Action::TransportInfo => "transport-info",
            Action::TransportReject => "transport-reject",
            Action::TransportReplace => "transport-replace",
        }
    }
}

impl FromStr for Action {
    type Err = JingleError;

    fn from_str(s: &str) -> Result<Self, JingleError> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| JingleError::UnknownAction(s.to_owned()))
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which party created a content (XEP-0166 §7.3 `creator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Creator {
    /// `initiator` (every content of a `session-initiate`).
    #[default]
    Initiator,
    /// `responder`.
    Responder,
}

impl Creator {
    /// The value as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Creator::Initiator => "initiator",
            Creator::Responder => "responder",
        }
    }

    fn parse(s: &str) -> Result<Self, JingleError> {
        match s {
            "initiator" => Ok(Creator::Initiator),
            "responder" => Ok(Creator::Responder),
            _ => Err(bad("content", "creator", s)),
        }
    }
}

/// Which parties send media in a content (XEP-0166 §7.3 `senders`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Senders {
    /// `both` (the default).
    #[default]
    Both,
    /// `initiator`: only the session's initiator sends.
    Initiator,
    /// `responder`: only the session's responder sends.
    Responder,
    /// `none`.
    None,
}

impl Senders {
    /// The value as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Senders::Both => "both",
            Senders::Initiator => "initiator",
            Senders::Responder => "responder",
            Senders::None => "none",
        }
    }

    /// Parses the attribute value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "both" => Some(Senders::Both),
            "initiator" => Some(Senders::Initiator),
            "responder" => Some(Senders::Responder),
            "none" => Some(Senders::None),
            _ => None,
        }
    }
}

/// The application payload of a content.
#[derive(Debug, Clone, PartialEq, Eq)]
// A content holds one; boxing would only add an allocation and a deref to every use.
#[allow(clippy::large_enum_variant)]
pub enum Description {
    /// XEP-0167 RTP (`urn:xmpp:jingle:apps:rtp:1`).
    Rtp(rtp::Description),
    /// Any other application, kept as received.
    Other(Element),
}

/// The transport of a content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// XEP-0176 ICE-UDP (`urn:xmpp:jingle:transports:ice-udp:1`), with the
    /// XEP-0320 fingerprints and the XEP-0343 SCTP parameters it carries.
    IceUdp(ice_udp::Transport),
    /// Any other transport, kept as received.
    Other(Element),
}

/// One `<content/>` (XEP-0166 §7.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Content {
    /// Who created the content. Missing on input means `initiator`.
    pub creator: Creator,
    /// The content's name, unique within the session (SDP `a=mid`).
    pub name: String,
    /// Who sends (absent means both).
    pub senders: Senders,
    /// `disposition` (`session` when absent).
    pub disposition: Option<String>,
    /// The application.
    pub description: Option<Description>,
    /// The transport.
    pub transport: Option<Transport>,
    /// Other children (security, vendor elements), kept as received.
    pub extra: Vec<Element>,
}

impl Content {
    /// A content with `creator` and `name`, no payloads.
    pub fn new(creator: Creator, name: &str) -> Self {
        Content { creator, name: name.to_owned(), ..Content::default() }
    }

    /// The RTP description, if that is the application.
    pub fn rtp(&self) -> Option<&rtp::Description> {
        match &self.description {
            Some(Description::Rtp(d)) => Some(d),
            _ => None,
        }
    }

    /// The RTP description, mutable.
    pub fn rtp_mut(&mut self) -> Option<&mut rtp::Description> {
        match &mut self.description {
            Some(Description::Rtp(d)) => Some(d),
            _ => None,
        }
    }

    /// The ICE-UDP transport, if that is the transport.
    pub fn ice(&self) -> Option<&ice_udp::Transport> {
        match &self.transport {
            Some(Transport::IceUdp(t)) => Some(t),
            _ => None,
        }
    }

    /// The ICE-UDP transport, mutable.
    pub fn ice_mut(&mut self) -> Option<&mut ice_udp::Transport> {
        match &mut self.transport {
            Some(Transport::IceUdp(t)) => Some(t),
            _ => None,
        }
    }

    /// Parses a `<content/>` element (in the Jingle namespace or, as some
    /// XEP examples show it, any other).
    pub fn parse(el: &Element) -> Result<Content, JingleError> {
        Self::parse_node(el)
    }

    pub(crate) fn parse_node<'d, N: XmlNode<'d>>(el: N) -> Result<Content, JingleError> {
        if el.name() != "content" {
            return Err(JingleError::UnexpectedElement { expected: "content", found: el.name().to_owned() });
        }
        let creator = match el.attr("creator") {
            Some(c) => Creator::parse(c)?,
            None => Creator::Initiator,
        };
        let name = parse::req(el, "content", "name")?.to_owned();
        let senders = match el.attr("senders") {
            Some(s) => Senders::parse(s).ok_or_else(|| bad("content", "senders", s))?,
            None => Senders::Both,
        };
        let mut content = Content {
            creator,
            name,
            senders,
            disposition: parse::opt(el, "disposition"),
            ..Content::default()
        };
        for child in el.elements() {
            match child.name() {
                "description" if content.description.is_none() => {
                    content.description = Some(if child.ns() == ns::RTP {
                        Description::Rtp(rtp::Description::parse_node(child)?)
                    } else {
                        Description::Other(child.to_element())
                    });
                }
                "transport" if content.transport.is_none() => {
                    content.transport = Some(match child.ns() {
                        ns::ICE_UDP | ns::WEBRTC_DATACHANNEL_1 => {
                            Transport::IceUdp(ice_udp::Transport::parse_node(child)?)
                        }
                        _ => Transport::Other(child.to_element()),
                    });
                }
                _ => content.extra.push(child.to_element()),
            }
        }
        Ok(content)
    }

    /// The `<content/>` element.
    pub fn to_element(&self) -> Element {
        sink::to_element(|s| self.write(s))
    }

    pub(crate) fn write<S: Sink>(&self, s: &mut S) {
        s.start("content", ns::JINGLE);
        s.attr("creator", self.creator.as_str());
        s.attr("name", &self.name);
        if self.senders != Senders::Both {
            s.attr("senders", self.senders.as_str());
        }
        s.opt_attr("disposition", self.disposition.as_deref());
        match &self.description {
            Some(Description::Rtp(d)) => d.write(s),
            Some(Description::Other(e)) => s.element(e),
            None => {}
        }
        match &self.transport {
            Some(Transport::IceUdp(t)) => t.write(s),
            Some(Transport::Other(e)) => s.element(e),
            None => {}
        }
        for e in &self.extra {
            s.element(e);
        }
        s.end();
    }
}

/// The defined reason conditions (XEP-0166 §7.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReasonCondition {
    /// `alternative-session`, with the other session's id (`<sid/>`).
    AlternativeSession(Option<String>),
    /// `busy`.
    Busy,
    /// `cancel`.
    Cancel,
    /// `connectivity-error`.
    ConnectivityError,
    /// `decline`.
    Decline,
    /// `expired`.
    Expired,
    /// `failed-application`.
    FailedApplication,
    /// `failed-transport`.
    FailedTransport,
    /// `general-error`.
    GeneralError,
    /// `gone`.
    Gone,
    /// `incompatible-parameters`.
    IncompatibleParameters,
    /// `media-error`.
    MediaError,
    /// `security-error`.
    SecurityError,
    /// `success`.
    Success,
    /// `timeout`.
    Timeout,
    /// `unsupported-applications`.
    UnsupportedApplications,
    /// `unsupported-transports`.
    UnsupportedTransports,
}

impl ReasonCondition {
    /// The element name of the condition.
    pub fn as_str(&self) -> &'static str {
        match self {
            ReasonCondition::AlternativeSession(_) => "alternative-session",
            ReasonCondition::Busy => "busy",
            ReasonCondition::Cancel => "cancel",
            ReasonCondition::ConnectivityError => "connectivity-error",
            ReasonCondition::Decline => "decline",
            ReasonCondition::Expired => "expired",
            ReasonCondition::FailedApplication => "failed-application",
            ReasonCondition::FailedTransport => "failed-transport",
            ReasonCondition::GeneralError => "general-error",
            ReasonCondition::Gone => "gone",
            ReasonCondition::IncompatibleParameters => "incompatible-parameters",
            ReasonCondition::MediaError => "media-error",
            ReasonCondition::SecurityError => "security-error",
            ReasonCondition::Success => "success",
            ReasonCondition::Timeout => "timeout",
            ReasonCondition::UnsupportedApplications => "unsupported-applications",
            ReasonCondition::UnsupportedTransports => "unsupported-transports",
        }
    }

    /// The condition named `name` (`alternative-session` without its sid).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "alternative-session" => ReasonCondition::AlternativeSession(None),
            "busy" => ReasonCondition::Busy,
            "cancel" => ReasonCondition::Cancel,
            "connectivity-error" => ReasonCondition::ConnectivityError,
            "decline" => ReasonCondition::Decline,
            "expired" => ReasonCondition::Expired,
            "failed-application" => ReasonCondition::FailedApplication,
            "failed-transport" => ReasonCondition::FailedTransport,
            "general-error" => ReasonCondition::GeneralError,
            "gone" => ReasonCondition::Gone,
            "incompatible-parameters" => ReasonCondition::IncompatibleParameters,
            "media-error" => ReasonCondition::MediaError,
            "security-error" => ReasonCondition::SecurityError,
            "success" => ReasonCondition::Success,
            "timeout" => ReasonCondition::Timeout,
            "unsupported-applications" => ReasonCondition::UnsupportedApplications,
            "unsupported-transports" => ReasonCondition::UnsupportedTransports,
            _ => return None,
        })
    }
}

/// A `<reason/>` (XEP-0166 §7.4), in `session-terminate`, `content-reject`
/// and JMI messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// The condition.
    pub condition: ReasonCondition,
    /// Human-readable text.
    pub text: Option<String>,
    /// Application-specific conditions (e.g. XEP-0167 `<invalid-crypto/>`), kept as received.
    pub extra: Vec<Element>,
}

impl Reason {
    /// A reason without text.
    pub fn new(condition: ReasonCondition) -> Self {
        Reason { condition, text: None, extra: Vec::new() }
    }

    /// Builder: sets the text.
    #[must_use]
    pub fn with_text(mut self, text: &str) -> Self {
        self.text = Some(text.to_owned());
        self
    }

    /// Parses a `<reason/>` element (its children are in its own namespace).
    pub fn parse(el: &Element) -> Result<Reason, JingleError> {
        Self::parse_node(el)
    }

    pub(crate) fn parse_node<'d, N: XmlNode<'d>>(el: N) -> Result<Reason, JingleError> {
        let mut condition = None;
        let mut text = None;
        let mut extra = Vec::new();
        for child in el.elements() {
            if child.ns() == el.ns() {
                if child.name() == "text" {
                    text = Some(child.text().into_owned());
                    continue;
                }
                if condition.is_none()
                    && let Some(mut c) = ReasonCondition::from_name(child.name())
                {
                    if let ReasonCondition::AlternativeSession(sid) = &mut c {
                        *sid = child.child("sid", el.ns()).map(|s| s.text().into_owned());
                    }
                    condition = Some(c);
                    continue;
                }
            }
            extra.push(child.to_element());
        }
        let condition = condition.ok_or(JingleError::MissingReasonCondition)?;
        Ok(Reason { condition, text, extra })
    }

    /// The `<reason/>` element in the Jingle namespace.
    pub fn to_element(&self) -> Element {
        sink::to_element(|s| self.write(s))
    }

    pub(crate) fn write<S: Sink>(&self, s: &mut S) {
        s.start("reason", ns::JINGLE);
        s.start(self.condition.as_str(), ns::JINGLE);
        if let ReasonCondition::AlternativeSession(Some(sid)) = &self.condition {
            s.start("sid", ns::JINGLE);
            s.text(sid);
            s.end();
        }
        s.end();
        if let Some(t) = &self.text {
            s.start("text", ns::JINGLE);
            s.text(t);
            s.end();
        }
        for e in &self.extra {
            s.element(e);
        }
        s.end();
    }
}

/// Jingle-specific error conditions (XEP-0166 §8, `urn:xmpp:jingle:errors:1`),
/// sent inside an IQ `<error/>` next to a stanza error condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCondition {
    /// `<out-of-order/>`, with `<unexpected-request/>`.
    OutOfOrder,
    /// `<tie-break/>`, with `<conflict/>`.
    TieBreak,
    /// `<unknown-session/>`, with `<item-not-found/>`.
    UnknownSession,
    /// `<unsupported-info/>`, with `<feature-not-implemented/>`.
    UnsupportedInfo,
}

impl ErrorCondition {
    /// The element name.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCondition::OutOfOrder => "out-of-order",
            ErrorCondition::TieBreak => "tie-break",
            ErrorCondition::UnknownSession => "unknown-session",
            ErrorCondition::UnsupportedInfo => "unsupported-info",
        }
    }

    /// The RFC 6120 stanza error condition that goes with it (XEP-0166 §8).
    pub fn stanza_condition(self) -> &'static str {
        match self {
            ErrorCondition::OutOfOrder => "unexpected-request",
            ErrorCondition::TieBreak => "conflict",
            ErrorCondition::UnknownSession => "item-not-found",
            ErrorCondition::UnsupportedInfo => "feature-not-implemented",
        }
    }

    /// The IQ error `type` that goes with it (`cancel`, or `wait` for out-of-order).
    pub fn error_type(self) -> &'static str {
        match self {
            ErrorCondition::OutOfOrder => "wait",
            _ => "cancel",
        }
    }

    /// The condition element (`<unknown-session xmlns='urn:xmpp:jingle:errors:1'/>`).
    pub fn to_element(self) -> Element {
        Element::new(self.as_str(), ns::JINGLE_ERRORS)
    }

    /// The whole `<error/>` child of an IQ error (in `stanza_ns`, e.g. `jabber:component:accept`):
    /// type, stanza condition and this condition.
    pub fn error_element(self, stanza_ns: &str) -> Element {
        Element::new("error", stanza_ns)
            .with_attr("type", self.error_type())
            .with_child(Element::new(self.stanza_condition(), ns::STANZAS))
            .with_child(self.to_element())
    }

    /// Finds the Jingle condition in an IQ `<error/>` element (or in an IQ holding one).
    pub fn from_error(el: &Element) -> Option<Self> {
        let error = if el.name() == "error" { el } else { el.elements().find(|e| e.name == "error")? };
        error.children_in(ns::JINGLE_ERRORS).find_map(|c| match c.name.as_str() {
            "out-of-order" => Some(ErrorCondition::OutOfOrder),
            "tie-break" => Some(ErrorCondition::TieBreak),
            "unknown-session" => Some(ErrorCondition::UnknownSession),
            "unsupported-info" => Some(ErrorCondition::UnsupportedInfo),
            _ => None,
        })
    }
}

/// Why a Jingle element was refused. The component answers `bad-request`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JingleError {
    /// The element is not `<jingle xmlns='urn:xmpp:jingle:1'/>`.
    NotJingle {
        /// The element's name.
        name: String,
        /// The element's namespace.
        ns: String,
    },
    /// `<jingle/>` has no `action`.
    MissingAction,
    /// `action` is not one of XEP-0166 §7.2.
    UnknownAction(String),
    /// `<jingle/>` has no `sid`.
    MissingSid,
    /// A required attribute is missing.
    MissingAttribute {
        /// The element.
        element: &'static str,
        /// The attribute.
        attribute: &'static str,
    },
    /// An attribute has a value outside its type.
    BadAttribute {
        /// The element.
        element: &'static str,
        /// The attribute.
        attribute: &'static str,
        /// The value found.
        value: String,
    },
    /// A different element was expected.
    UnexpectedElement {
        /// The expected element name.
        expected: &'static str,
        /// The element name found.
        found: String,
    },
    /// A `<reason/>` without a defined condition.
    MissingReasonCondition,
    /// Two contents with the same creator and name.
    DuplicateContent(String),
    /// Element text that must be a value is not (e.g. `<bandwidth/>`).
    BadText {
        /// The element.
        element: &'static str,
        /// The text found.
        value: String,
    },
}

pub(crate) fn bad(element: &'static str, attribute: &'static str, value: &str) -> JingleError {
    JingleError::BadAttribute { element, attribute, value: value.to_owned() }
}

impl fmt::Display for JingleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JingleError::NotJingle { name, ns } => {
                write!(f, "expected <jingle xmlns='{}'/>, found <{name}> in namespace '{ns}'", ns::JINGLE)
            }
            JingleError::MissingAction => f.write_str("<jingle/> has no action attribute"),
            JingleError::UnknownAction(a) => write!(f, "unknown Jingle action '{a}'"),
            JingleError::MissingSid => f.write_str("<jingle/> has no sid attribute"),
            JingleError::MissingAttribute { element, attribute } => {
                write!(f, "<{element}/> has no {attribute} attribute")
            }
            JingleError::BadAttribute { element, attribute, value } => {
                write!(f, "<{element}/> has an invalid {attribute} attribute: '{value}'")
            }
            JingleError::UnexpectedElement { expected, found } => {
                write!(f, "expected <{expected}/>, found <{found}/>")
            }
            JingleError::MissingReasonCondition => f.write_str("<reason/> has no defined condition"),
            JingleError::DuplicateContent(n) => write!(f, "two contents are named '{n}'"),
            JingleError::BadText { element, value } => write!(f, "<{element}/> has invalid text: '{value}'"),
        }
    }
}

impl std::error::Error for JingleError {}

/// A `<jingle/>` element (XEP-0166 §7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jingle {
    /// The action.
    pub action: Action,
    /// The session id.
    pub sid: String,
    /// The initiator's full JID (`initiator`, optional since XEP-0166 1.1).
    pub initiator: Option<String>,
    /// The responder's full JID.
    pub responder: Option<String>,
    /// The contents, in order.
    pub contents: Vec<Content>,
    /// The reason (session-terminate, content-reject, ...).
    pub reason: Option<Reason>,
    /// XEP-0338 groups (BUNDLE).
    pub groups: Vec<Group>,
    /// XEP-0167 session-info payloads (ringing, hold, mute ...).
    pub info: Vec<rtp::SessionInfo>,
    /// Other children, kept as received.
    pub extra: Vec<Element>,
}

impl Jingle {
    /// An empty `<jingle/>` with `action` and `sid`.
    pub fn new(action: Action, sid: &str) -> Self {
        Jingle {
            action,
            sid: sid.to_owned(),
            initiator: None,
            responder: None,
            contents: Vec::new(),
            reason: None,
            groups: Vec::new(),
            info: Vec::new(),
            extra: Vec::new(),
        }
    }

    /// Parses a `<jingle xmlns='urn:xmpp:jingle:1'/>` element: `action` and
    /// `sid` are required, contents must have distinct (creator, name).
    pub fn parse(el: &Element) -> Result<Jingle, JingleError> {
        Self::parse_node(el)
    }

    pub(crate) fn parse_node<'d, N: XmlNode<'d>>(el: N) -> Result<Jingle, JingleError> {
        Self::parse_with(el, true)
    }

    /// Parses the children of a `<jingle/>` element whose `action` and
    /// `sid` may be missing (lib-jitsi-meet passes such containers for
    /// source-add and the like): a missing action reads as
    /// `session-initiate`, a missing sid as `""`.
    pub fn parse_payload(el: &Element) -> Result<Jingle, JingleError> {
        Self::parse_with(el, false)
    }

    fn parse_with<'d, N: XmlNode<'d>>(el: N, strict: bool) -> Result<Jingle, JingleError> {
        if !el.is("jingle", ns::JINGLE) {
            return Err(JingleError::NotJingle { name: el.name().to_owned(), ns: el.ns().to_owned() });
        }
        let action = match el.attr("action") {
            Some(a) => a.parse()?,
            None if strict => return Err(JingleError::MissingAction),
            None => Action::SessionInitiate,
        };
        let sid = match el.attr("sid") {
            Some(s) => s.to_owned(),
            None if strict => return Err(JingleError::MissingSid),
            None => String::new(),
        };
        let mut j = Jingle::new(action, &sid);
        j.initiator = parse::opt(el, "initiator");
        j.responder = parse::opt(el, "responder");
        for child in el.elements() {
            match (child.ns(), child.name()) {
                (ns::JINGLE, "content") => {
                    let c = Content::parse_node(child)?;
                    if j.contents.iter().any(|o| o.name == c.name && o.creator == c.creator) {
                        return Err(JingleError::DuplicateContent(c.name));
                    }
                    j.contents.push(c);
                }
                (ns::JINGLE, "reason") if j.reason.is_none() => j.reason = Some(Reason::parse_node(child)?),
                (ns::GROUPING | ns::GROUPING_RFC5888, "group") => j.groups.push(Group::parse_node(child)?),
                (ns::RTP_INFO, _) => match rtp::SessionInfo::parse_node(child)? {
                    Some(info) => j.info.push(info),
                    None => j.extra.push(child.to_element()),
                },
                _ => j.extra.push(child.to_element()),
            }
        }
        Ok(j)
    }

    /// Parses XML text holding a `<jingle/>` element.
    ///
    /// The text is read with Switchboard's own borrowing XML reader, straight
    /// into the model, without building an [`Element`] tree: several times
    /// faster than [`Element::parse`] followed by [`Jingle::parse`], with the
    /// same result.
    pub fn parse_xml(xml: &str) -> Result<Jingle, ParseXmlError> {
        let doc = dom::parse(xml).map_err(ParseXmlError::Xml)?;
        Jingle::parse_node(doc.root()).map_err(ParseXmlError::Jingle)
    }

    /// The `<jingle/>` element.
    pub fn to_element(&self) -> Element {
        sink::to_element(|s| self.write(s))
    }

    /// The `<jingle/>` element as XML text (written directly, without building a tree).
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(self.xml_size_hint());
        self.write_xml(&mut out, "");
        out
    }

    /// A generous estimate of the length of [`Jingle::to_xml`], so that the
    /// text is written into one allocation.
    fn xml_size_hint(&self) -> usize {
        let mut n = 256 + 128 * self.groups.len();
        for c in &self.contents {
            n += 256;
            if let Some(d) = c.rtp() {
                n += 512 + 144 * d.hdrexts.len() + 96 * d.rtcp_fb.len();
                n += 320 * d.sources.len() + 96 * d.ssrc_groups.len() + 128 * d.streams.len();
                for pt in &d.payload_types {
                    n += 96 + 80 * pt.parameters.len() + 96 * pt.rtcp_fb.len();
                }
            }
            if let Some(t) = c.ice() {
                n += 256 + 224 * t.fingerprints.len() + 320 * t.candidates.len();
            }
        }
        n
    }

    /// Appends the `<jingle/>` element as XML text to `out`, where
    /// `outer_ns` is the default namespace in scope (e.g. `jabber:client`).
    pub fn write_xml(&self, out: &mut String, outer_ns: &str) {
        let mut s = sink::TextSink::new(out, outer_ns);
        self.write(&mut s);
    }

    pub(crate) fn write<S: Sink>(&self, s: &mut S) {
        s.start("jingle", ns::JINGLE);
        s.attr("action", self.action.as_str());
        s.opt_attr("initiator", self.initiator.as_deref());
        s.opt_attr("responder", self.responder.as_deref());
        s.attr("sid", &self.sid);
        for c in &self.contents {
            c.write(s);
        }
        for g in &self.groups {
            g.write(s);
        }
        if let Some(r) = &self.reason {
            r.write(s);
        }
        for i in &self.info {
            i.write(s);
        }
        for e in &self.extra {
            s.element(e);
        }
        s.end();
    }

    /// The content named `name`.
    pub fn content(&self, name: &str) -> Option<&Content> {
        self.contents.iter().find(|c| c.name == name)
    }

    /// The content named `name`, mutable.
    pub fn content_mut(&mut self, name: &str) -> Option<&mut Content> {
        self.contents.iter_mut().find(|c| c.name == name)
    }

    /// The content names of the first BUNDLE group.
    pub fn bundle(&self) -> Option<&[String]> {
        self.groups.iter().find(|g| g.semantics.eq_ignore_ascii_case("BUNDLE")).map(|g| g.contents.as_slice())
    }
}

/// Why XML text did not give a Jingle element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseXmlError {
    /// The text is not well-formed XML.
    Xml(crate::xml::XmlError),
    /// The element is not valid Jingle.
    Jingle(JingleError),
}

impl fmt::Display for ParseXmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseXmlError::Xml(e) => e.fmt(f),
            ParseXmlError::Jingle(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ParseXmlError {}
