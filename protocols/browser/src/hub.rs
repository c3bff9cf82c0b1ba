//! The signaling hub: peers, names, rooms and call sessions.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;
use switchboard_sdp::{IceCandidateInit, SdpOffer, SessionDescription};

use crate::calls::CallRecord;
use crate::gather::Gather;
use crate::messages::{ErrorCode, ErrorMessage, IceServer, Notice, RawMessage, Relayed, Welcome};
use crate::rate::TokenBucket;
use crate::token::Permissions;

/// A connection's id, chosen by the runtime (random, so that ids cannot be guessed).
/// Written as 16 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(pub u64);

impl PeerId {
    /// Parses the 16-hex-digit form.
    pub fn parse(s: &str) -> Option<PeerId> {
        (s.len() == 16 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
            .then(|| u64::from_str_radix(s, 16).ok().map(PeerId))
            .flatten()
    }
}

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Limits of the hub.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// Largest accepted message, in bytes of JSON text.
    pub max_message_bytes: usize,
    /// Most peers in one room.
    pub max_room_peers: usize,
    /// Messages a connection may send at once.
    pub rate_burst: u32,
    /// Messages a connection may send per second on average.
    pub rate_per_second: u32,
    /// How long a browser's candidates are collected for a leg that does not
    /// trickle, when its end-of-candidates does not come first.
    pub gather_timeout: Duration,
    /// Drop host candidates on private, loopback, link-local, CGNAT and ULA
    /// addresses and mDNS `.local` host candidates from everything relayed
    /// to another party (trickled candidates and the candidates inside
    /// offers and answers), keeping srflx, relay, prflx and public host
    /// candidates; defaults that named a dropped candidate are rewritten
    /// (`--hide-host-candidates`, see `PROTOCOL.md`).
    pub hide_host_candidates: bool,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            max_message_bytes: 64 * 1024,
            max_room_peers: 100,
            rate_burst: 200,
            rate_per_second: 100,
            gather_timeout: Duration::from_secs(2),
            hide_host_candidates: false,
        }
    }
}

/// Something for the runtime to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send `text` as one WebSocket text frame to peer `to`.
    Send {
        /// The receiving connection.
        to: PeerId,
        /// One JSON object.
        text: String,
    },
    /// Something for an external call leg (a SIP or XMPP call).
    Leg {
        /// The leg.
        leg: LegId,
        /// What to do.
        event: LegEvent,
    },
    /// A browser registered `name` (`registered`), or released it (by
    /// registering another, or by leaving): XMPP presence follows it.
    Name {
        /// The name.
        name: String,
        /// Whether a browser holds it now.
        registered: bool,
    },
    /// A call ended: its record, to be logged and counted.
    CallEnded(CallRecord),
}

/// An external call leg (a SIP call; later an XMPP one), numbered by [`Hub::new_leg`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LegId(pub u64);

/// What the browser side asks of an external leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegEvent {
    /// Start a call to `target` (a `sip:` URI, or a name that only the leg side knows)
    /// with this offer, candidates included.
    Dial {
        /// The address the browser called.
        target: String,
        /// The caller's peer id.
        from: String,
        /// The caller's registered name, if any.
        from_name: Option<String>,
        /// The offer.
        sdp: String,
    },
    /// A new offer in the call (renegotiation, or the offer a late-offer caller asked for).
    Offer {
        /// The offer, candidates included.
        sdp: String,
    },
    /// The answer to the leg's offer.
    Answer {
        /// The answer, candidates included.
        sdp: String,
    },
    /// A candidate the browser trickled (`None`: its end of candidates), for
    /// a leg that trickles (XMPP); legs that do not get them inside the SDP.
    Candidate {
        /// The media section's `mid` (`sdpMid`), when the browser gave one.
        mid: Option<String>,
        /// The media section's index (`sdpMLineIndex`), when given.
        mline_index: Option<u16>,
        /// `candidate:...`, the attribute's value; `None` at the end.
        candidate: Option<String>,
    },
    /// The browser is ringing.
    Ringing,
    /// The browser sent a DTMF digit (one event per digit).
    Dtmf {
        /// `0`-`9`, `*`, `#` or `A`-`D`.
        digit: char,
        /// Milliseconds.
        duration_ms: u32,
    },
    /// The browser ended the call (or went away) with this reason.
    Hangup {
        /// `busy`, `decline`, `normal`, `peer-disconnected`, ...
        reason: String,
    },
}

/// Most digits in one `dtmf` message.
const MAX_DTMF_DIGITS: usize = 32;
/// Tone length when a `dtmf` message gives none (ms, W3C `insertDTMF`'s default).
const DEFAULT_DTMF_MS: u32 = 100;
/// Shortest tone (ms, W3C `insertDTMF`).
const MIN_DTMF_MS: u32 = 40;
/// Longest tone (ms, W3C `insertDTMF`).
const MAX_DTMF_MS: u32 = 6000;

/// Whether `c` is a DTMF digit (RFC 4733 §3.2 events 0-15).
pub fn is_dtmf_digit(c: char) -> bool {
    c.is_ascii_digit() || matches!(c.to_ascii_uppercase(), '*' | '#' | 'A' | 'B' | 'C' | 'D')
}

/// What an external leg tells the browser side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegInput<'a> {
    /// The called party rings.
    Ringing,
    /// The answer to the browser's offer (`early`: provisional, early media).
    Answer {
        /// The answer.
        sdp: &'a str,
        /// Provisional.
        early: bool,
    },
    /// A new offer from the leg.
    Offer {
        /// The offer.
        sdp: &'a str,
    },
    /// A candidate the leg trickled (`None`: its end of candidates).
    Candidate {
        /// The media section's `mid`.
        mid: &'a str,
        /// `candidate:...`; `None` at the end of candidates.
        candidate: Option<&'a str>,
    },
    /// The leg's party cannot take the browser's new offer (the call goes on).
    OfferRefused {
        /// Why, for the browser's `error` message.
        why: &'a str,
    },
    /// The leg's party sent a DTMF digit (SIP INFO).
    Dtmf {
        /// `0`-`9`, `*`, `#` or `A`-`D`.
        digit: char,
        /// Milliseconds.
        duration_ms: u32,
    },
    /// The leg ended.
    Hangup {
        /// A cause word (`normal`, `busy`, `cancel`, ...).
        reason: &'a str,
        /// The SIP status code behind it, if any.
        sip_code: Option<u16>,
        /// Its reason phrase.
        sip_reason: Option<&'a str>,
    },
}

/// Why an incoming leg's call cannot reach a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LegRefusal {
    /// No browser has registered that name.
    NotFound,
    /// The leg's SDP does not parse.
    BadSdp(String),
}

/// Counters for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HubStats {
    /// Peers connected now.
    pub peers: usize,
    /// Rooms with at least one peer.
    pub rooms: usize,
    /// Call sessions in progress.
    pub sessions: usize,
    /// Messages received from peers.
    pub messages_received: u64,
    /// Offers, answers, candidates and hangups relayed to another peer.
    pub messages_relayed: u64,
    /// `error` replies sent.
    pub errors: u64,
}

struct Peer {
    id: String,
    permissions: Permissions,
    name: Option<String>,
    rooms: Vec<String>,
    sessions: Vec<String>,
    bucket: TokenBucket,
}

/// One side of a call session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Party {
    /// A browser connection.
    Peer(PeerId),
    /// An external leg.
    Leg(LegId),
}

/// What the hub knows of a session's external leg.
pub(crate) struct LegSide {
    /// The leg's address, shown to the browser as `from` (a SIP URI).
    pub uri: String,
    /// Its display name.
    pub name: Option<String>,
    /// A description waiting for the browser's candidates.
    pub gather: Option<Gather>,
    /// The leg has not been dialled yet (the first offer is being gathered).
    pub undialled: bool,
    /// The leg takes trickled candidates (XMPP): descriptions go at once.
    pub trickle: bool,
}

pub(crate) struct Session {
    pub offerer: Party,
    pub answerer: Party,
    /// Who sent the offer awaiting an answer, and its media types in order.
    pub pending: Option<(Party, Vec<String>)>,
    /// The external leg, when one party is one.
    pub leg: Option<LegSide>,
    /// When the call began (its first offer).
    pub started: Instant,
    /// When the first offer got its final answer.
    pub answered: Option<Instant>,
}

impl Session {
    pub(crate) fn other(&self, p: Party) -> Option<Party> {
        if p == self.offerer {
            Some(self.answerer)
        } else if p == self.answerer {
            Some(self.offerer)
        } else {
            None
        }
    }
}

/// The state machine behind `/ws` (see the crate documentation).
pub struct Hub {
    pub(crate) config: HubConfig,
    peers: HashMap<PeerId, Peer>,
    pub(crate) names: HashMap<String, PeerId>,
    rooms: HashMap<String, Vec<PeerId>>,
    pub(crate) sessions: HashMap<String, Session>,
    pub(crate) out: VecDeque<Output>,
    stats: HubStats,
    /// Session of each external leg.
    pub(crate) legs: HashMap<LegId, String>,
    /// Names reachable through legs (SIP registrations).
    pub(crate) external_names: HashSet<String>,
    next_leg: u64,
    /// The time of the input being handled.
    pub(crate) now: Option<Instant>,
}

/// A refused request: its code and a sentence for people.
pub(crate) struct Refusal(pub ErrorCode, pub String);

pub(crate) fn refuse<T>(code: ErrorCode, message: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal(code, message.into()))
}

fn required<'v, T: ?Sized>(v: Option<&'v T>, field: &str, kind: &str) -> Result<&'v T, Refusal> {
    v.ok_or_else(|| Refusal(ErrorCode::MissingField, format!("`{kind}` needs a `{field}` field")))
}

/// Names are addresses: letters, digits and `._-`, 1 to 64 of them.
fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// Rooms: 1 to 128 bytes without control characters.
fn valid_room(room: &str) -> bool {
    (1..=128).contains(&room.len()) && !room.chars().any(char::is_control)
}

/// Session ids: 1 to 128 bytes without control characters.
fn valid_session(sid: &str) -> bool {
    (1..=128).contains(&sid.len()) && !sid.chars().any(char::is_control)
}

/// The media types of a description's sections, in order.
pub(crate) fn media_kinds(desc: &SessionDescription<'_>) -> Vec<String> {
    desc.media.iter().map(|m| m.line.media.to_string()).collect()
}

impl Hub {
    /// A hub with no peers.
    pub fn new(config: HubConfig) -> Self {
        Hub {
            config,
            peers: HashMap::new(),
            names: HashMap::new(),
            rooms: HashMap::new(),
            sessions: HashMap::new(),
            out: VecDeque::new(),
            stats: HubStats::default(),
            legs: HashMap::new(),
            external_names: HashSet::new(),
            next_leg: 1,
            now: None,
        }
    }

    /// The limits in force.
    pub fn config(&self) -> &HubConfig {
        &self.config
    }

    /// Counters and gauges.
    pub fn stats(&self) -> HubStats {
        HubStats {
            peers: self.peers.len(),
            rooms: self.rooms.len(),
            sessions: self.sessions.len(),
            ..self.stats
        }
    }

    /// A peer's id text and registered name.
    pub(crate) fn peer_texts(&self, p: PeerId) -> (String, Option<String>) {
        match self.peers.get(&p) {
            Some(peer) => (peer.id.clone(), peer.name.clone()),
            None => (p.to_string(), None),
        }
    }

    /// The session list of a connected peer.
    pub(crate) fn peers_mut(&mut self, p: PeerId) -> Option<&mut Vec<String>> {
        self.peers.get_mut(&p).map(|peer| &mut peer.sessions)
    }

    pub(crate) fn stats_relayed(&mut self) {
        self.stats.messages_relayed += 1;
    }

    /// `sdp` as it may go to another party: with `hide_host_candidates`,
    /// without its local host candidates ([`crate::privacy::filter_sdp`]).
    pub(crate) fn outgoing_sdp<'s>(&self, sdp: &'s str) -> Cow<'s, str> {
        if self.config.hide_host_candidates { crate::privacy::filter_sdp(sdp) } else { Cow::Borrowed(sdp) }
    }

    /// A trickled candidate as it may go to another party: `None` when hidden.
    pub(crate) fn outgoing_candidate<'s>(&self, candidate: &'s str) -> Option<Cow<'s, str>> {
        if self.config.hide_host_candidates {
            crate::privacy::filter_candidate(candidate)
        } else {
            Some(Cow::Borrowed(candidate))
        }
    }

    /// The next thing to send, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// A fresh leg id.
    pub fn new_leg(&mut self) -> LegId {
        let id = LegId(self.next_leg);
        self.next_leg += 1;
        id
    }

    pub(crate) fn send(&mut self, to: PeerId, message: &impl Serialize) {
        // Serializing these plain structs cannot fail.
        if let Ok(text) = serde_json::to_string(message) {
            self.out.push_back(Output::Send { to, text });
        }
    }

    fn error(&mut self, to: PeerId, code: ErrorCode, message: &str, reference: Option<&Value>) {
        self.stats.errors += 1;
        self.send(
            to,
            &ErrorMessage { kind: "error", code: code.as_str(), message, reference, session: None },
        );
    }

    /// A new connection `id` allowed `permissions`; queues its `welcome` with `ice_servers`.
    /// An id already connected is replaced (its old connection is forgotten first).
    pub fn connect(&mut self, id: PeerId, now: Instant, ice_servers: &[IceServer], permissions: Permissions) {
        if self.peers.contains_key(&id) {
            self.disconnect(id);
        }
        let text = id.to_string();
        self.send(id, &Welcome { kind: "welcome", id: &text, ice_servers });
        let bucket = TokenBucket::new(self.config.rate_burst, now);
        self.peers.insert(
            id,
            Peer { id: text, permissions, name: None, rooms: Vec::new(), sessions: Vec::new(), bucket },
        );
    }

    /// [`disconnect`](Self::disconnect) at `now` (the time its call records end at).
    pub fn disconnect_at(&mut self, id: PeerId, now: Instant) {
        self.now = Some(now);
        self.disconnect(id);
    }

    /// The connection `id` is gone: its rooms, sessions and name are released,
    /// and the peers that shared them are told. Its calls end at the time of
    /// the last input ([`disconnect_at`](Self::disconnect_at) gives one).
    pub fn disconnect(&mut self, id: PeerId) {
        let Some(peer) = self.peers.get(&id) else { return };
        let (sessions, name) = (peer.sessions.clone(), peer.name.clone());
        if let Some(name) = name {
            self.names.remove(&name);
            self.out.push_back(Output::Name { name, registered: false });
        }
        // Ended while the peer is still known, so that its records name it.
        for sid in &sessions {
            self.end_session(sid, Party::Peer(id), "peer-disconnected", None, None);
        }
        let Some(peer) = self.peers.remove(&id) else { return };
        for room in &peer.rooms {
            self.remove_from_room(room, id, &peer.id);
        }
    }

    /// Ends session `sid` because party `by` left it: the other party is told.
    pub(crate) fn end_session(
        &mut self,
        sid: &str,
        by: Party,
        reason: &str,
        sip_code: Option<u16>,
        sip_reason: Option<&str>,
    ) {
        let Some(session) = self.sessions.remove(sid) else { return };
        let Some(other) = session.other(by) else { return };
        let record = self.call_record(sid, &session, by, reason, sip_code);
        self.out.push_back(Output::CallEnded(record));
        for party in [by, other] {
            match party {
                Party::Peer(p) => {
                    if let Some(peer) = self.peers.get_mut(&p) {
                        peer.sessions.retain(|s| s != sid);
                    }
                }
                Party::Leg(l) => {
                    self.legs.remove(&l);
                }
            }
        }
        self.stats.messages_relayed += 1;
        match other {
            Party::Peer(to) => {
                let from = self.party_text(by, &session);
                let relayed = Relayed {
                    reason: Some(reason),
                    sip_code,
                    sip_reason,
                    ..Relayed::new("hangup", &from, sid)
                };
                self.send(to, &relayed);
            }
            Party::Leg(leg) => {
                self.out
                    .push_back(Output::Leg { leg, event: LegEvent::Hangup { reason: reason.to_owned() } });
            }
        }
    }

    /// The `from` text of a party: a peer's id, or the leg's address.
    pub(crate) fn party_text(&self, party: Party, session: &Session) -> String {
        match party {
            Party::Peer(p) => self.peers.get(&p).map(|p| p.id.clone()).unwrap_or_else(|| p.to_string()),
            Party::Leg(_) => session.leg.as_ref().map(|l| l.uri.clone()).unwrap_or_default(),
        }
    }

    fn remove_from_room(&mut self, room: &str, id: PeerId, id_text: &str) {
        let Some(members) = self.rooms.get_mut(room) else { return };
        members.retain(|p| *p != id);
        let members = members.clone();
        if members.is_empty() {
            self.rooms.remove(room);
        }
        for member in members {
            let notice = Notice { room: Some(room), peer: Some(id_text), ..Notice::new("peer-left") };
            self.send(member, &notice);
        }
    }

    /// A binary frame from peer `from`: the protocol is text only.
    pub fn handle_binary(&mut self, from: PeerId) {
        if self.peers.contains_key(&from) {
            self.stats.messages_received += 1;
            self.error(
                from,
                ErrorCode::BadJson,
                "binary frames are not part of the protocol: send JSON text",
                None,
            );
        }
    }

    /// One text frame from peer `from`.
    pub fn handle_text(&mut self, from: PeerId, text: &str, now: Instant) {
        self.now = Some(now);
        let Some(peer) = self.peers.get_mut(&from) else { return };
        self.stats.messages_received += 1;
        let (burst, rate) = (self.config.rate_burst, self.config.rate_per_second);
        if !peer.bucket.take(now, burst, rate) {
            let msg = format!("more than {rate} messages per second; this one was dropped");
            return self.error(from, ErrorCode::RateLimited, &msg, None);
        }
        if text.len() > self.config.max_message_bytes {
            let msg = format!(
                "message of {} bytes is over the limit of {}",
                text.len(),
                self.config.max_message_bytes
            );
            return self.error(from, ErrorCode::TooLarge, &msg, None);
        }
        // Serde would also read a struct from a JSON array, positionally: refuse anything but an object.
        if !text.trim_start().starts_with('{') {
            return self.error(from, ErrorCode::BadJson, "a message is one JSON object", None);
        }
        let raw: RawMessage<'_> = match serde_json::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                // Tell a well-formed object with a mistyped field from text that is not JSON.
                let code = match serde_json::from_str::<serde_json::Map<String, Value>>(text) {
                    Ok(_) => ErrorCode::MissingField,
                    Err(_) => ErrorCode::BadJson,
                };
                return self.error(from, code, &format!("not a valid message: {e}"), None);
            }
        };
        if let Err(Refusal(code, message)) = self.dispatch(from, &raw) {
            self.error(from, code, &message, raw.reference.as_ref());
        }
    }

    fn dispatch(&mut self, from: PeerId, m: &RawMessage<'_>) -> Result<(), Refusal> {
        let kind = required(m.kind.as_deref(), "type", "message")?;
        let reference = m.reference.as_ref();
        match kind {
            "register" => self.register(from, required(m.name.as_deref(), "name", kind)?, reference),
            "join" => self.join(from, required(m.room.as_deref(), "room", kind)?, reference),
            "leave" => self.leave(from, required(m.room.as_deref(), "room", kind)?, reference),
            "offer" => {
                let to = required(m.to.as_deref(), "to", kind)?;
                let sid = required(m.session.as_deref(), "session", kind)?;
                self.offer(from, to, sid, required(m.sdp.as_deref(), "sdp", kind)?)
            }
            "answer" => {
                let sid = required(m.session.as_deref(), "session", kind)?;
                self.answer(from, sid, required(m.sdp.as_deref(), "sdp", kind)?)
            }
            "candidate" => {
                let sid = required(m.session.as_deref(), "session", kind)?;
                self.candidate(from, sid, required(m.candidate.as_ref(), "candidate", kind)?)
            }
            "hangup" => {
                let sid = required(m.session.as_deref(), "session", kind)?;
                self.party_session(from, sid)?;
                self.end_session(sid, Party::Peer(from), m.reason.as_deref().unwrap_or("normal"), None, None);
                Ok(())
            }
            "ringing" => {
                let sid = required(m.session.as_deref(), "session", kind)?;
                self.ringing(from, sid)
            }
            "dtmf" => {
                let sid = required(m.session.as_deref(), "session", kind)?;
                let digits = required(m.digits.as_deref(), "digits", kind)?;
                self.dtmf(from, sid, digits, m.duration)
            }
            "ping" => {
                self.send(from, &Notice { reference, ..Notice::new("pong") });
                Ok(())
            }
            other => refuse(ErrorCode::UnknownType, format!("unknown message type `{other}`")),
        }
    }

    fn register(&mut self, from: PeerId, name: &str, reference: Option<&Value>) -> Result<(), Refusal> {
        if !valid_name(name) {
            return refuse(ErrorCode::BadValue, "a name is 1 to 64 letters, digits, `.`, `_` or `-`");
        }
        if !self.peers[&from].permissions.may_register(name) {
            return refuse(ErrorCode::Forbidden, format!("your token does not allow the name `{name}`"));
        }
        match self.names.get(name) {
            Some(owner) if *owner != from => {
                return refuse(ErrorCode::NameTaken, format!("`{name}` is registered by another peer"));
            }
            _ => {}
        }
        let peer = self.peers.get_mut(&from).expect("dispatch runs for connected peers");
        if let Some(old) = peer.name.replace(name.to_owned())
            && old != name
        {
            self.names.remove(&old);
            self.out.push_back(Output::Name { name: old, registered: false });
        }
        if self.names.insert(name.to_owned(), from).is_none() {
            self.out.push_back(Output::Name { name: name.to_owned(), registered: true });
        }
        self.send(from, &Notice { name: Some(name), reference, ..Notice::new("registered") });
        Ok(())
    }

    fn join(&mut self, from: PeerId, room: &str, reference: Option<&Value>) -> Result<(), Refusal> {
        if !valid_room(room) {
            return refuse(ErrorCode::BadValue, "a room name is 1 to 128 bytes without control characters");
        }
        if !self.peers[&from].permissions.may_join(room) {
            return refuse(ErrorCode::Forbidden, format!("your token does not allow room `{room}`"));
        }
        let members = self.rooms.get(room).map(Vec::as_slice).unwrap_or_default();
        let already = members.contains(&from);
        if !already && members.len() >= self.config.max_room_peers {
            return refuse(ErrorCode::RoomFull, format!("room `{room}` has {} peers", members.len()));
        }
        let others: Vec<PeerId> = members.iter().copied().filter(|p| *p != from).collect();
        let id_text = self.peers[&from].id.clone();
        if !already {
            self.rooms.entry(room.to_owned()).or_default().push(from);
            self.peers.get_mut(&from).expect("connected").rooms.push(room.to_owned());
        }
        let names: Vec<String> = others.iter().map(|p| p.to_string()).collect();
        let peers = names.iter().map(String::as_str).collect();
        self.send(from, &Notice { room: Some(room), peers: Some(peers), reference, ..Notice::new("joined") });
        if !already {
            for other in others {
                self.send(
                    other,
                    &Notice { room: Some(room), peer: Some(&id_text), ..Notice::new("peer-joined") },
                );
            }
        }
        Ok(())
    }

    fn leave(&mut self, from: PeerId, room: &str, reference: Option<&Value>) -> Result<(), Refusal> {
        let peer = self.peers.get_mut(&from).expect("connected");
        let Some(at) = peer.rooms.iter().position(|r| r == room) else {
            return refuse(ErrorCode::NotInRoom, format!("not in room `{room}`"));
        };
        peer.rooms.swap_remove(at);
        let id_text = peer.id.clone();
        self.remove_from_room(room, from, &id_text);
        self.send(from, &Notice { room: Some(room), reference, ..Notice::new("left") });
        Ok(())
    }

    /// Resolves `to`: a peer id, else a registered name.
    pub(crate) fn resolve(&self, to: &str) -> Option<PeerId> {
        PeerId::parse(to).filter(|p| self.peers.contains_key(p)).or_else(|| self.names.get(to).copied())
    }

    pub(crate) fn party_session(&self, from: PeerId, sid: &str) -> Result<&Session, Refusal> {
        match self.sessions.get(sid) {
            Some(s) if s.other(Party::Peer(from)).is_some() => Ok(s),
            _ => refuse(ErrorCode::UnknownSession, format!("no session `{sid}` of yours")),
        }
    }

    fn ringing(&mut self, from: PeerId, sid: &str) -> Result<(), Refusal> {
        let other = self.party_session(from, sid)?.other(Party::Peer(from)).expect("a party");
        match other {
            Party::Peer(to) => self.relay(from, to, "ringing", sid, None, None),
            Party::Leg(leg) => self.out.push_back(Output::Leg { leg, event: LegEvent::Ringing }),
        }
        Ok(())
    }

    /// `dtmf`: digits for the other party of a session (relayed to a browser
    /// as they are; one [`LegEvent::Dtmf`] per digit to a leg).
    fn dtmf(&mut self, from: PeerId, sid: &str, digits: &str, duration: Option<u32>) -> Result<(), Refusal> {
        if digits.is_empty() || digits.len() > MAX_DTMF_DIGITS || !digits.chars().all(is_dtmf_digit) {
            return refuse(ErrorCode::BadValue, "digits are 1 to 32 of 0-9, *, #, A-D");
        }
        let duration_ms = duration.unwrap_or(DEFAULT_DTMF_MS);
        if !(MIN_DTMF_MS..=MAX_DTMF_MS).contains(&duration_ms) {
            return refuse(ErrorCode::BadValue, "duration is 40 to 6000 milliseconds");
        }
        let other = self.party_session(from, sid)?.other(Party::Peer(from)).expect("a party");
        match other {
            Party::Peer(to) => {
                let sender = &self.peers[&from];
                let (id, name) = (sender.id.clone(), sender.name.clone());
                self.stats.messages_relayed += 1;
                let relayed = Relayed {
                    from_name: name.as_deref(),
                    digits: Some(digits),
                    duration: Some(duration_ms),
                    ..Relayed::new("dtmf", &id, sid)
                };
                self.send(to, &relayed);
            }
            Party::Leg(leg) => {
                for digit in digits.chars() {
                    let event = LegEvent::Dtmf { digit: digit.to_ascii_uppercase(), duration_ms };
                    self.out.push_back(Output::Leg { leg, event });
                }
            }
        }
        Ok(())
    }

    fn relay(
        &mut self,
        from: PeerId,
        to: PeerId,
        kind: &'static str,
        sid: &str,
        sdp: Option<&str>,
        candidate: Option<&Value>,
    ) {
        let sender = &self.peers[&from];
        let (id, name) = (sender.id.clone(), sender.name.clone());
        self.stats.messages_relayed += 1;
        let sdp = sdp.map(|s| self.outgoing_sdp(s));
        let relayed = Relayed {
            from_name: name.as_deref(),
            sdp: sdp.as_deref(),
            candidate,
            ..Relayed::new(kind, &id, sid)
        };
        self.send(to, &relayed);
    }

    fn offer(&mut self, from: PeerId, to: &str, sid: &str, sdp: &str) -> Result<(), Refusal> {
        if !valid_session(sid) {
            return refuse(ErrorCode::BadValue, "a session id is 1 to 128 bytes without control characters");
        }
        let offer =
            SdpOffer::parse(sdp).map_err(|e| Refusal(ErrorCode::InvalidSdp, format!("offer SDP: {e}")))?;
        let kinds = media_kinds(offer.description());
        let me = Party::Peer(from);
        let target = match self.sessions.get(sid) {
            // A new offer in a session of this peer: renegotiation, to the other party.
            Some(session) => match session.other(me) {
                Some(other) => other,
                None => return refuse(ErrorCode::SessionExists, format!("session `{sid}` is in use")),
            },
            None => {
                let target = match self.resolve(to) {
                    Some(t) if t == from => {
                        return refuse(ErrorCode::NotAllowed, "a peer cannot call itself");
                    }
                    Some(t) => Party::Peer(t),
                    None if crate::legs::is_external(to) || self.external_names.contains(to) => {
                        Party::Leg(self.new_leg())
                    }
                    None => {
                        return refuse(
                            ErrorCode::UnknownTarget,
                            format!("no peer or registered name `{to}`"),
                        );
                    }
                };
                let leg = matches!(target, Party::Leg(_)).then(|| crate::hub::LegSide {
                    uri: to.to_owned(),
                    name: None,
                    gather: None,
                    undialled: true,
                    trickle: crate::legs::is_xmpp_address(to),
                });
                let started = self.now.unwrap_or_else(Instant::now);
                let session =
                    Session { offerer: me, answerer: target, pending: None, leg, started, answered: None };
                self.sessions.insert(sid.to_owned(), session);
                self.peers.get_mut(&from).expect("connected").sessions.push(sid.to_owned());
                match target {
                    Party::Peer(p) => {
                        self.peers.get_mut(&p).expect("connected").sessions.push(sid.to_owned())
                    }
                    Party::Leg(l) => {
                        self.legs.insert(l, sid.to_owned());
                    }
                }
                target
            }
        };
        self.sessions.get_mut(sid).expect("inserted").pending = Some((me, kinds));
        match target {
            Party::Peer(to) => self.relay(from, to, "offer", sid, Some(sdp), None),
            Party::Leg(leg) => self.gather_for_leg(leg, sid, crate::legs::GatherFor::Offer, sdp),
        }
        Ok(())
    }

    fn answer(&mut self, from: PeerId, sid: &str, sdp: &str) -> Result<(), Refusal> {
        let session = self.party_session(from, sid)?;
        let other = session.other(Party::Peer(from)).expect("a party");
        let Some((offerer, kinds)) = &session.pending else {
            return refuse(ErrorCode::NotAllowed, format!("session `{sid}` has no offer to answer"));
        };
        if *offerer == Party::Peer(from) {
            return refuse(ErrorCode::NotAllowed, "a peer cannot answer its own offer");
        }
        let desc = SessionDescription::parse(sdp)
            .map_err(|e| Refusal(ErrorCode::InvalidSdp, format!("answer SDP: {e}")))?;
        let answered = media_kinds(&desc);
        if &answered != kinds {
            let msg = format!(
                "the answer's media sections {answered:?} do not match the offer's {kinds:?} (RFC 3264 §6)"
            );
            return refuse(ErrorCode::InvalidSdp, msg);
        }
        let now = self.now.unwrap_or_else(Instant::now);
        let session = self.sessions.get_mut(sid).expect("exists");
        session.pending = None;
        session.answered.get_or_insert(now);
        match other {
            Party::Peer(to) => self.relay(from, to, "answer", sid, Some(sdp), None),
            Party::Leg(leg) => self.gather_for_leg(leg, sid, crate::legs::GatherFor::Answer, sdp),
        }
        Ok(())
    }

    fn candidate(&mut self, from: PeerId, sid: &str, candidate: &Value) -> Result<(), Refusal> {
        let other = self.party_session(from, sid)?.other(Party::Peer(from)).expect("a party");
        let mut parsed = None;
        if !candidate.is_null() {
            let init: IceCandidateInit = serde_json::from_value(candidate.clone())
                .map_err(|e| Refusal(ErrorCode::InvalidCandidate, format!("candidate: {e}")))?;
            if init.sdp_mid.is_none() && init.sdp_m_line_index.is_none() {
                return refuse(ErrorCode::InvalidCandidate, "a candidate needs `sdpMid` or `sdpMLineIndex`");
            }
            init.parse_candidate()
                .map_err(|e| Refusal(ErrorCode::InvalidCandidate, format!("candidate: {e}")))?;
            parsed = Some(init);
        }
        let mut candidate = Cow::Borrowed(candidate);
        if let Some(init) = parsed.as_mut() {
            // With `hide_host_candidates`, a hidden candidate is simply not relayed (no error),
            // and a kept one may have its related address masked.
            let Some(text) = self.outgoing_candidate(&init.candidate) else { return Ok(()) };
            if let Cow::Owned(text) = text {
                let mut value = candidate.into_owned();
                value["candidate"] = Value::String(text.clone());
                candidate = Cow::Owned(value);
                init.candidate = text;
            }
        }
        match other {
            Party::Peer(to) => self.relay(from, to, "candidate", sid, None, Some(&candidate)),
            Party::Leg(_) => self.leg_candidate(sid, parsed),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn drain(hub: &mut Hub) -> Vec<(PeerId, Value)> {
        std::iter::from_fn(|| hub.poll_output())
            .filter_map(|o| match o {
                Output::Send { to, text } => Some((to, serde_json::from_str(&text).unwrap())),
                Output::Leg { .. } | Output::Name { .. } | Output::CallEnded(_) => None,
            })
            .collect()
    }

    fn hub_with(n: u64) -> (Hub, Instant) {
        let mut hub = Hub::new(HubConfig::default());
        let now = Instant::now();
        for id in 1..=n {
            hub.connect(PeerId(id), now, &[], Permissions::all());
        }
        drain(&mut hub);
        (hub, now)
    }

    const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n";

    #[test]
    fn welcome_carries_the_id_and_ice_servers() {
        let mut hub = Hub::new(HubConfig::default());
        let ice = [IceServer { urls: vec!["stun:example.net".into()], username: None, credential: None }];
        hub.connect(PeerId(0xabc), Instant::now(), &ice, Permissions::all());
        let out = drain(&mut hub);
        assert_eq!(
            out,
            [(
                PeerId(0xabc),
                json!({"type": "welcome", "id": "0000000000000abc", "iceServers": [{"urls": ["stun:example.net"]}]})
            )]
        );
        assert_eq!(PeerId::parse("0000000000000abc"), Some(PeerId(0xabc)));
        assert_eq!(PeerId::parse("0000000000000ABC"), None);
    }

    #[test]
    fn offer_is_validated_then_relayed_and_a_disconnect_hangs_up() {
        let (mut hub, now) = hub_with(2);
        let offer =
            json!({"type": "offer", "to": "0000000000000002", "session": "s", "sdp": OFFER}).to_string();
        hub.handle_text(PeerId(1), &offer, now);
        let out = drain(&mut hub);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0, PeerId(2));
        assert_eq!(out[0].1["from"], "0000000000000001");
        assert_eq!(hub.stats().sessions, 1);
        let bad =
            json!({"type": "offer", "to": "0000000000000002", "session": "t", "sdp": "v=0\r\n"}).to_string();
        hub.handle_text(PeerId(1), &bad, now);
        let out = drain(&mut hub);
        assert_eq!((out[0].0, out[0].1["code"].as_str()), (PeerId(1), Some("invalid-sdp")));
        hub.disconnect(PeerId(2));
        let out = drain(&mut hub);
        assert_eq!(
            out[0].1,
            json!({"type": "hangup", "from": "0000000000000002", "session": "s", "reason": "peer-disconnected"})
        );
        assert_eq!(hub.stats().sessions, 0);
    }

    #[test]
    fn no_state_is_left_behind_after_everyone_leaves() {
        let (mut hub, now) = hub_with(3);
        for id in 1..=3 {
            hub.handle_text(PeerId(id), &json!({"type": "join", "room": "r"}).to_string(), now);
            hub.handle_text(
                PeerId(id),
                &json!({"type": "register", "name": format!("n{id}")}).to_string(),
                now,
            );
        }
        let offer = json!({"type": "offer", "to": "n2", "session": "s", "sdp": OFFER}).to_string();
        hub.handle_text(PeerId(1), &offer, now);
        for id in 1..=3 {
            hub.disconnect(PeerId(id));
        }
        drain(&mut hub);
        assert_eq!(
            hub.stats(),
            HubStats { messages_received: 7, messages_relayed: 2, ..HubStats::default() }
        );
        assert!(hub.names.is_empty() && hub.rooms.is_empty() && hub.sessions.is_empty());
    }

    const HOST: &str = "candidate:1 1 udp 2122260223 192.168.1.5 50000 typ host generation 0";
    const SRFLX: &str =
        "candidate:2 1 udp 1686052607 192.0.2.7 50001 typ srflx raddr 192.168.1.5 rport 50000";
    const SRFLX_MASKED: &str = "candidate:2 1 udp 1686052607 192.0.2.7 50001 typ srflx raddr 0.0.0.0 rport 0";

    fn hiding_hub() -> (Hub, Instant) {
        let mut hub = Hub::new(HubConfig { hide_host_candidates: true, ..HubConfig::default() });
        let now = Instant::now();
        for id in 1..=2 {
            hub.connect(PeerId(id), now, &[], Permissions::all());
        }
        drain(&mut hub);
        (hub, now)
    }

    #[test]
    fn hidden_host_candidates_are_not_relayed_between_browsers() {
        let (mut hub, now) = hiding_hub();
        let offer = format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 50000 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 192.168.1.5\r\na=mid:0\r\na={HOST}\r\na={SRFLX}\r\nm=video 50002 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 192.0.2.9\r\na=mid:1\r\na=candidate:3 1 udp 2122260223 192.0.2.9 50002 typ host\r\n"
        );
        let msg = json!({"type": "offer", "to": "0000000000000002", "session": "s", "sdp": offer});
        hub.handle_text(PeerId(1), &msg.to_string(), now);
        let out = drain(&mut hub);
        assert_eq!(
            out[0].1["sdp"],
            format!(
                "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 50001 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 192.0.2.7\r\na=mid:0\r\na={SRFLX_MASKED}\r\nm=video 50002 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 192.0.2.9\r\na=mid:1\r\na=candidate:3 1 udp 2122260223 192.0.2.9 50002 typ host\r\n"
            ),
            "the default moves to the srflx candidate; the public host candidate stays"
        );
        let cand = |line: &str| {
            json!({"type": "candidate", "session": "s", "candidate": {"candidate": line, "sdpMid": "0"}})
                .to_string()
        };
        hub.handle_text(PeerId(1), &cand(HOST), now);
        hub.handle_text(
            PeerId(1),
            &cand("candidate:1 1 udp 2122262783 0a1b2c3d-1111-2222-3333-444455556666.local 50000 typ host"),
            now,
        );
        hub.handle_text(PeerId(1), &cand("candidate:1 1 udp 2122262783 fd12:3456::1 50004 typ host"), now);
        assert_eq!(drain(&mut hub), [], "dropped quietly: no relay, no error to the sender");
        hub.handle_text(PeerId(1), &cand(SRFLX), now);
        let public = "candidate:3 1 udp 2122260223 192.0.2.9 50002 typ host";
        hub.handle_text(PeerId(1), &cand(public), now);
        hub.handle_text(
            PeerId(1),
            &json!({"type": "candidate", "session": "s", "candidate": null}).to_string(),
            now,
        );
        let out = drain(&mut hub);
        assert!(out.iter().all(|(to, _)| *to == PeerId(2)));
        let relayed: Vec<&Value> = out.iter().map(|(_, m)| &m["candidate"]).collect();
        assert_eq!(
            relayed,
            [
                &json!({"candidate": SRFLX_MASKED, "sdpMid": "0"}),
                &json!({"candidate": public, "sdpMid": "0"}),
                &Value::Null
            ]
        );
    }

    #[test]
    fn without_the_option_host_candidates_are_relayed() {
        let (mut hub, now) = hub_with(2);
        let offer = format!("{OFFER}c=IN IP4 192.168.1.5\r\na={HOST}\r\n");
        let msg = json!({"type": "offer", "to": "0000000000000002", "session": "s", "sdp": offer});
        hub.handle_text(PeerId(1), &msg.to_string(), now);
        assert_eq!(drain(&mut hub)[0].1["sdp"], offer);
        let cand =
            json!({"type": "candidate", "session": "s", "candidate": {"candidate": HOST, "sdpMid": "0"}});
        hub.handle_text(PeerId(1), &cand.to_string(), now);
        assert_eq!(drain(&mut hub)[0].1["candidate"]["candidate"], HOST);
    }
}
