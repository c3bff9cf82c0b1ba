//! The core of Switchboard's XMPP external component (XEP-0114), sans-IO:
//! bytes from the server and the time come in, text to write and call
//! events come out. GATEWAY.md is the contract this implements.
//!
//! * Stream ([`stream`]): [`Component::connected`] queues the stream
//!   header; the server's header gives the stream id, answered with the
//!   `<handshake/>`; `<handshake/>` back is [`Event::Connected`]; a stream
//!   error, a closed or malformed stream is [`Event::StreamError`] (the
//!   runtime closes the socket, reconnects, and calls
//!   [`Component::link_lost`] in between, which ends every call).
//!   Stanzas are cut out of the byte stream whatever the chunking; one
//!   malformed stanza gets `bad-request` (when it is an IQ request with an
//!   id and a sender) or is dropped and logged, never a stream error.
//! * Addresses: the browser registered as NAME is `NAME@domain`; it calls
//!   from and takes calls at `NAME@domain/<resource>`.
//! * Disco#info ([`disco`]) on the domain and on held names, XEP-0115 caps
//!   in presence ([`presence`]), subscriptions, probes, `urn:xmpp:ping`;
//!   other IQ requests get `service-unavailable`.
//! * Calls (the `calls` module): Jingle (XEP-0166/0167/0176/0320) sessions
//!   both ways, Jingle Message Initiation (XEP-0353, [`crate::jmi`]) before
//!   session-initiate to bare JIDs and when called, trickle ICE in
//!   transport-info (early transport-info kept until its session-initiate),
//!   ringing, reasons both ways ([`reason`]), the ring timeout.
//!
//! Everything is driven by the runtime: [`Component::handle_input`],
//! [`Component::handle_timeout`] and the browser side's commands in;
//! [`Component::poll_transmit`], [`Component::poll_event`],
//! [`Component::poll_timeout`] and [`Component::poll_log`] out.

mod calls;
pub mod disco;
mod errors;
mod jid;
pub mod presence;
pub mod reason;
mod renegotiate;
pub mod stream;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use crate::xml::Element;
use errors::IqError;
use jid::Jid;
use stream::{Frame, Framer, Header, NS_COMPONENT, NS_STREAM, NS_STREAM_ERRORS};

pub use calls::CallError;

/// Most log lines kept for [`Component::poll_log`] (older ones are dropped).
const MAX_LOG: usize = 1024;

/// Settings of the component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentConfig {
    /// The component's domain (`gw.example.org`).
    pub domain: String,
    /// The shared secret of the handshake.
    pub secret: String,
    /// The resource of the browsers' full JIDs (`switchboard`).
    pub resource: String,
    /// How long a call may ring before it ends with `timeout` (60 s).
    pub ring_timeout: Duration,
}

/// One call of the component (a Jingle session, or a JMI proposal before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u64);

/// What happened, for the runtime and the browser side.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The server accepted the handshake: the component is online.
    Connected,
    /// A stream error, a refused handshake, a closed or malformed stream:
    /// close the socket and reconnect (calling [`Component::link_lost`]).
    StreamError(String),
    /// A session-initiate for `to_name@domain`: offer `sdp` to the browser
    /// holding `to_name`; answer with [`Component::ringing`],
    /// [`Component::answer`] or [`Component::hangup`].
    Incoming {
        /// The call.
        call: CallId,
        /// The name called.
        to_name: String,
        /// The caller's full JID.
        from: String,
        /// The offer.
        sdp: String,
    },
    /// The other party's full JID became known (the client that rang or
    /// took a call placed to a bare JID): messages to the browser come from it.
    Peer {
        /// The call.
        call: CallId,
        /// The full JID.
        jid: String,
    },
    /// The called party rings (JMI `ringing`, session-info `<ringing/>`).
    Ringing {
        /// The call.
        call: CallId,
    },
    /// The answer to our offer (session-accept).
    Answer {
        /// The call.
        call: CallId,
        /// The answer.
        sdp: String,
    },
    /// A new offer inside a call for the other leg: the peer's `<hold/>` or
    /// `<active/>`, or its ICE restart ([`renegotiate`]). Answer with
    /// [`Component::answer`].
    Offer {
        /// The call.
        call: CallId,
        /// The offer.
        sdp: String,
    },
    /// A trickled ICE candidate of the XMPP party (transport-info).
    Candidate {
        /// The call.
        call: CallId,
        /// The media section (content name).
        mid: String,
        /// The `candidate:...` attribute value; `None`: end of candidates.
        candidate: Option<String>,
    },
    /// The call is over on the XMPP side.
    Ended {
        /// The call.
        call: CallId,
        /// The browser reason word (GATEWAY.md table).
        reason: String,
    },
}

/// Why [`Component::dial`] refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DialError {
    /// The component is not connected to the server.
    NotConnected,
    /// The target is not a JID we can call.
    InvalidAddress(String),
    /// The caller's name cannot be a JID localpart.
    InvalidName(String),
    /// The offer cannot be expressed in Jingle.
    Sdp(String),
}

impl fmt::Display for DialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DialError::NotConnected => f.write_str("the XMPP component is not connected"),
            DialError::InvalidAddress(a) => write!(f, "not a JID to call: {a}"),
            DialError::InvalidName(n) => write!(f, "not usable as a JID localpart: {n}"),
            DialError::Sdp(e) => write!(f, "the offer cannot be sent as Jingle: {e}"),
        }
    }
}

impl std::error::Error for DialError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkState {
    /// No TCP connection (or not told about it yet).
    Down,
    /// Our header is queued; waiting for the server's.
    AwaitHeader,
    /// The handshake is sent.
    AwaitHandshake,
    /// Handshake accepted.
    Up,
    /// A stream error happened; waiting for [`Component::link_lost`].
    Failed,
}

/// The component (see the module documentation).
#[derive(Debug)]
pub struct Component {
    config: ComponentConfig,
    state: LinkState,
    framer: Framer,
    header: Option<Header>,
    /// Names a browser holds.
    names: HashSet<String>,
    watchers: presence::Watchers,
    calls: HashMap<CallId, calls::Call>,
    /// JMI proposals we answered with `proceed`, waiting for their session-initiate.
    proposals: HashMap<(String, String), calls::Proposal>,
    /// transport-info IQs that came before their session-initiate, by (sid, sender).
    early: HashMap<(String, String), calls::Early>,
    /// Our IQ requests waiting for their result: id -> what it was.
    pending: HashMap<String, calls::PendingIq>,
    /// Our liveness pings to the peers of calls: id -> the call.
    pub(crate) pings: HashMap<String, CallId>,
    /// When the peers of calls are pinged next.
    pub(crate) next_peer_check: Option<Instant>,
    /// Whether every name takes calls (the bridge's dial plan routes them).
    open: bool,
    /// Bare JIDs whose clients write a format parameter without a name as
    /// `<parameter name='0-15'/>` (stanza.js) rather than `name='' value='0-15'`
    /// (Conversations, lib-jitsi-meet): what we send them is written their way.
    pub(crate) name_only_params: HashSet<String>,
    next_call: u64,
    next_id: u64,
    /// Random prefix of session and stanza ids.
    nonce: u64,
    transmit: VecDeque<String>,
    events: VecDeque<Event>,
    log: VecDeque<String>,
}

impl Component {
    /// A component, not connected.
    pub fn new(config: ComponentConfig) -> Self {
        let nonce = std::collections::hash_map::RandomState::new().build_hasher().finish();
        Component {
            config,
            state: LinkState::Down,
            framer: Framer::new(),
            header: None,
            names: HashSet::new(),
            watchers: presence::Watchers::default(),
            calls: HashMap::new(),
            proposals: HashMap::new(),
            early: HashMap::new(),
            pending: HashMap::new(),
            pings: HashMap::new(),
            next_peer_check: None,
            open: false,
            name_only_params: HashSet::new(),
            next_call: 1,
            next_id: 1,
            nonce,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            log: VecDeque::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &ComponentConfig {
        &self.config
    }

    /// The TCP connection is up: queues our stream header. A link that
    /// was still up is dropped first (as [`Component::link_lost`]).
    pub fn connected(&mut self, now: Instant) {
        if self.state != LinkState::Down {
            self.link_lost(now);
        }
        self.state = LinkState::AwaitHeader;
        self.transmit.push_back(stream::stream_header(&self.config.domain));
    }

    /// Whether the handshake was accepted and the link is up.
    pub fn is_connected(&self) -> bool {
        self.state == LinkState::Up
    }

    /// The number of calls (JMI proposals we sent included).
    pub fn calls(&self) -> usize {
        self.calls.len()
    }

    /// Bytes from the server, in any chunking.
    pub fn handle_input(&mut self, bytes: &[u8], now: Instant) {
        if matches!(self.state, LinkState::Down | LinkState::Failed) {
            return;
        }
        let mut frames = Vec::new();
        let result = self.framer.push(bytes, &mut frames);
        for frame in frames {
            if matches!(self.state, LinkState::Failed) {
                return;
            }
            match frame {
                Frame::Header(raw) => self.on_header(&raw),
                Frame::Stanza(raw) => self.on_stanza(raw, now),
                Frame::Close => self.fail("the server closed the stream".into()),
            }
        }
        if let Err(e) = result
            && self.state != LinkState::Failed
        {
            self.fail(format!("malformed stream: {e}"));
        }
    }

    /// The next text to write to the socket.
    pub fn poll_transmit(&mut self) -> Option<String> {
        self.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The next line to log (protocol trouble, SDP <-> Jingle losses).
    pub fn poll_log(&mut self) -> Option<String> {
        self.log.pop_front()
    }

    /// When to call [`Component::handle_timeout`].
    pub fn poll_timeout(&self) -> Option<Instant> {
        let calls = self.calls.values().filter_map(|c| c.ring_deadline);
        let proposals = self.proposals.values().map(|p| p.expires);
        let early = self.early.values().map(|e| e.expires);
        let check = self.next_peer_check.filter(|_| !self.calls.is_empty());
        calls.chain(proposals).chain(early).chain(check).min()
    }

    /// Whether a call to `name` at the component is taken: a name a browser
    /// holds (or a SIP phone registered under), a SIP address escaped in the
    /// localpart (XEP-0106, `alice\\40pbx.example`), or any name when the
    /// component is [open](Self::set_open).
    pub fn takes_calls(&self, name: &str) -> bool {
        self.open
            || self.names.contains(name)
            || switchboard_bridge::address::sip_of_jid_local(name).is_some()
    }

    /// Whether every name takes calls (a dial plan decides where they go).
    pub fn set_open(&mut self, open: bool) {
        self.open = open;
    }

    /// The link to the server is gone: every call ends with `unavailable`;
    /// names and presence subscribers are kept for the next link.
    pub fn link_lost(&mut self, _now: Instant) {
        let mut ids: Vec<CallId> = self.calls.keys().copied().collect();
        ids.sort();
        for call in ids {
            self.calls.remove(&call);
            self.events.push_back(Event::Ended { call, reason: "unavailable".into() });
        }
        self.proposals.clear();
        self.early.clear();
        self.pending.clear();
        self.transmit.clear();
        self.framer = Framer::new();
        self.header = None;
        self.state = LinkState::Down;
    }

    /// A browser registered (`online`) or released NAME: its presence goes
    /// to everyone who subscribed or probed; calls and disco follow it.
    pub fn set_name(&mut self, name: &str, online: bool) {
        let changed = if online { self.names.insert(name.to_owned()) } else { self.names.remove(name) };
        if changed && self.state == LinkState::Up {
            self.broadcast_presence(name);
        }
    }

    // ---- internals shared by the modules ----

    fn log(&mut self, line: String) {
        if self.log.len() >= MAX_LOG {
            self.log.pop_front();
        }
        self.log.push_back(line);
    }

    fn send(&mut self, stanza: &Element) {
        let mut out = String::with_capacity(256);
        stanza.write_to(&mut out, NS_COMPONENT);
        self.transmit.push_back(out);
    }

    fn fail(&mut self, why: String) {
        self.state = LinkState::Failed;
        self.events.push_back(Event::StreamError(why));
    }

    /// A fresh stanza or session id.
    fn fresh_id(&mut self, prefix: &str) -> String {
        let n = self.next_id;
        self.next_id += 1;
        format!("{prefix}{:012x}{n:x}", self.nonce & 0xffff_ffff_ffff)
    }

    /// Whether `domain` is ours.
    fn is_ours(&self, domain: &str) -> bool {
        domain.eq_ignore_ascii_case(&self.config.domain)
    }

    /// The full JID a name calls from.
    fn full_jid(&self, name: &str) -> String {
        format!("{name}@{}/{}", self.config.domain, self.config.resource)
    }

    fn on_header(&mut self, raw: &[u8]) {
        if self.state != LinkState::AwaitHeader {
            self.fail("a second stream header".into());
            return;
        }
        match Header::parse(raw) {
            Ok(h) => {
                let Some(id) = h.id.clone() else {
                    self.fail("the stream header has no id".into());
                    return;
                };
                self.header = Some(h);
                self.transmit.push_back(stream::handshake(&id, &self.config.secret));
                self.state = LinkState::AwaitHandshake;
            }
            Err(e) => self.fail(e),
        }
    }

    fn on_stanza(&mut self, raw: Vec<u8>, now: Instant) {
        let Some(header) = self.header.as_ref() else {
            self.fail("a stanza before the stream header".into());
            return;
        };
        let text = match String::from_utf8(raw) {
            Ok(t) => t,
            Err(_) => {
                self.log("dropped a stanza that is not UTF-8".into());
                return;
            }
        };
        let el = match header.parse_stanza(&text) {
            Ok(el) => el,
            Err(e) => {
                let start = header.parse_start_tag(&text);
                self.bad_stanza(start, &e);
                return;
            }
        };
        if el.is("error", NS_STREAM) {
            let condition =
                el.children_in(NS_STREAM_ERRORS).find(|c| c.name != "text").map(|c| c.name.clone());
            let text = el.child("text", NS_STREAM_ERRORS).map(Element::text).unwrap_or_default();
            let mut why = format!("stream error: {}", condition.as_deref().unwrap_or("undefined-condition"));
            if !text.is_empty() {
                why.push_str(": ");
                why.push_str(&text);
            }
            if self.state == LinkState::AwaitHandshake {
                why.insert_str(0, "handshake refused: ");
            }
            self.fail(why);
            return;
        }
        match self.state {
            LinkState::AwaitHandshake => {
                if el.name == "handshake" {
                    self.state = LinkState::Up;
                    self.events.push_back(Event::Connected);
                    for name in self.watchers.names() {
                        if name.is_empty() || self.names.contains(&name) {
                            self.broadcast_presence(&name);
                        }
                    }
                } else {
                    self.log(format!("ignored <{}/> before the handshake was accepted", el.name));
                }
            }
            LinkState::Up => match el.name.as_str() {
                "iq" => self.on_iq(&el, now),
                "message" => self.on_message(&el, now),
                "presence" => self.on_presence(&el),
                "handshake" => {}
                other => self.log(format!("ignored a top-level <{other}/>")),
            },
            _ => {}
        }
    }

    /// A stanza that is not well-formed: `bad-request` for an IQ request
    /// we can answer, else dropped and logged.
    fn bad_stanza(&mut self, start: Option<Element>, why: &str) {
        let answerable = start.as_ref().and_then(|s| {
            let kind = s.attr("type")?;
            (s.name == "iq" && (kind == "get" || kind == "set")).then_some(())?;
            Some((s.attr("id")?.to_owned(), s.attr("from")?.to_owned(), s.attr("to")))
        });
        match answerable {
            Some((id, from, to)) => {
                let to = to.map_or_else(|| self.config.domain.clone(), str::to_owned);
                self.log(format!("bad-request to {from} for a malformed stanza: {why}"));
                self.send(&errors::iq_error(&id, &to, &from, IqError::BadRequest, Some("malformed XML")));
            }
            None => self.log(format!("dropped a malformed stanza: {why}")),
        }
    }

    fn on_iq(&mut self, iq: &Element, now: Instant) {
        let kind = iq.attr("type").unwrap_or("");
        let id = iq.attr("id").unwrap_or("");
        let from = iq.attr("from").unwrap_or("");
        let to = iq.attr("to").unwrap_or(&self.config.domain).to_owned();
        match kind {
            "get" | "set" => {}
            "result" | "error" => {
                self.on_iq_response(iq, now);
                return;
            }
            _ => {
                self.log(format!("dropped an IQ of type '{kind}' from {from}"));
                return;
            }
        }
        if id.is_empty() || from.is_empty() {
            self.log("dropped an IQ request without id or from".into());
            return;
        }
        let Some(target) = Jid::parse(&to).filter(|j| self.is_ours(j.domain)) else {
            self.log(format!("dropped an IQ to {to}, not our domain"));
            return;
        };
        let local = target.local.map(str::to_owned);
        let mut payloads = iq.elements();
        let (Some(payload), None) = (payloads.next(), payloads.next()) else {
            self.send(&errors::iq_error(
                id,
                &to,
                from,
                IqError::BadRequest,
                Some("an IQ request has one payload"),
            ));
            return;
        };
        match (kind, payload.ns.as_str(), payload.name.as_str()) {
            ("get", "urn:xmpp:ping", "ping") => self.send(&errors::iq_result(id, &to, from)),
            ("get", disco::NS_DISCO_INFO, "query") => {
                let identity = match &local {
                    None => Some(disco::GATEWAY_IDENTITY),
                    Some(name) if self.names.contains(name) => Some(disco::NAME_IDENTITY),
                    Some(_) => None,
                };
                let node = payload.attr("node");
                match identity.filter(|i| disco::node_ok(*i, node)) {
                    Some(i) => {
                        let reply = errors::iq_result(id, &to, from).with_child(disco::info_query(i, node));
                        self.send(&reply);
                    }
                    None => self.send(&errors::iq_error(id, &to, from, IqError::ItemNotFound, None)),
                }
            }
            ("set", "urn:xmpp:jingle:1", "jingle") => {
                let (iq, payload) = (iq.clone(), payload.clone());
                self.on_jingle(&iq, &payload, now);
            }
            _ => self.send(&errors::iq_error(id, &to, from, IqError::ServiceUnavailable, None)),
        }
    }

    fn on_presence(&mut self, p: &Element) {
        let (Some(from), Some(to)) = (p.attr("from"), p.attr("to")) else { return };
        let Some(target) = Jid::parse(to).filter(|j| self.is_ours(j.domain)) else { return };
        let name = target.local.unwrap_or("").to_owned();
        let from = from.to_owned();
        let bare_from = jid::bare(&from).to_owned();
        let bare_to = match target.local {
            Some(l) => format!("{l}@{}", self.config.domain),
            None => self.config.domain.clone(),
        };
        match p.attr("type") {
            Some("subscribe") => {
                self.watchers.subscribe(&name, &bare_from);
                self.send(&presence::subscription(&bare_to, &bare_from, "subscribed"));
                self.send(&presence::subscription(&bare_to, &bare_from, "subscribe"));
                self.send_presence(&name, &bare_from);
            }
            Some("unsubscribe") => {
                self.watchers.unsubscribe(&name, &bare_from);
                self.send(&presence::subscription(&bare_to, &bare_from, "unsubscribed"));
            }
            Some("probe") | None => {
                self.watchers.directed(&name, &from);
                self.send_presence(&name, &from);
            }
            Some("unavailable") => self.watchers.gone(&name, &from),
            _ => {}
        }
    }

    /// Sends the current presence of `name` (`""`: the domain) to `to`.
    fn send_presence(&mut self, name: &str, to: &str) {
        let p = if name.is_empty() {
            presence::presence(&self.config.domain, to, Some(disco::GATEWAY_IDENTITY))
        } else {
            let online = self.names.contains(name).then_some(disco::NAME_IDENTITY);
            presence::presence(&self.full_jid(name), to, online)
        };
        self.send(&p);
    }

    fn broadcast_presence(&mut self, name: &str) {
        for to in self.watchers.of(name) {
            self.send_presence(name, &to);
        }
    }
}
