//! Calls: Jingle sessions (XEP-0166 version 1.1.2, with XEP-0167 RTP and
//! XEP-0176 ICE-UDP trickle) and Jingle Message Initiation (XEP-0353
//! version 0.6) around them, as GATEWAY.md describes.
//!
//! A call of ours goes `Proposed` (JMI propose sent to a bare JID) ->
//! `Initiated` (session-initiate sent, or received) -> `Active`
//! (session-accept sent or received) -> gone. Every Jingle action is
//! accepted only from the session's peer (full JID) to the session's local
//! JID; anything else for the sid is `unknown-session`.

use std::time::{Duration, Instant};

use super::errors::{self, IqError};
use super::jid::{self, Jid};
use super::reason::{browser_reason, jingle_reason};
use super::{CallId, Component, DialError, Event, LinkState, NS_COMPONENT};
use crate::convert::{self, ConvertError, Options, Role};
use crate::jingle::{Action, Jingle, JingleError, Reason, ReasonCondition};
use crate::jmi::{Jmi, JmiKind};
use crate::rtp::SessionInfo;
use crate::xml::Element;

/// How long a transport-info waits for its session-initiate before it gets `unknown-session`.
const EARLY_WINDOW: Duration = Duration::from_secs(10);
/// Most (sid, sender) keys of early transport-info.
const MAX_EARLY_KEYS: usize = 256;
/// Most early transport-info IQs per key.
const MAX_EARLY_PER_KEY: usize = 64;
/// Most browser candidates kept before our description is sent.
const MAX_PENDING_CANDIDATES: usize = 256;
/// Most JMI proposals waiting for their session-initiate.
const MAX_PROPOSALS: usize = 1024;
/// How often the peers of calls are pinged to see that they are still there.
pub const PEER_CHECK: Duration = Duration::from_secs(10);

/// Most calls at once: more incoming session-initiates get `service-unavailable`.
const MAX_CALLS: usize = 16 * 1024;

/// Who started the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dir {
    /// The browser called out.
    Out,
    /// The XMPP party called in.
    In,
}

/// Where a call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// JMI propose sent, waiting for proceed (outgoing only).
    Proposed,
    /// session-initiate sent or received, not accepted.
    Initiated,
    /// session-accept sent or received.
    Active,
}

/// One call.
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) dir: Dir,
    pub(crate) state: State,
    pub(crate) sid: String,
    /// Our JID in the session (full).
    pub(crate) local: String,
    /// The other party: bare while `Proposed`, full after.
    pub(crate) peer: String,
    /// The initiator's full JID.
    pub(crate) initiator: String,
    /// Whether JMI went before the session (finish is sent when it ends after being accepted).
    jmi: bool,
    /// The session-initiate to send once the proposal is accepted.
    offer: Option<Jingle>,
    pub(crate) ring_deadline: Option<Instant>,
    /// Browser candidates waiting for our description to be sent.
    pending: Vec<(String, Option<String>)>,
    /// Our ICE credentials per content: (name, ufrag, pwd).
    pub(crate) creds: Vec<(String, Option<String>, Option<String>)>,
    /// The other leg's description as last given (its offer or answer).
    pub(crate) local_sdp: Option<String>,
    /// The peer's description as last passed on, as SDP.
    pub(crate) remote_sdp: Option<String>,
    /// A change of the session under way ([`super::renegotiate`]).
    pub(crate) reneg: Renegotiation,
    /// We told the peer `<hold/>`.
    pub(crate) held: bool,
    /// The peer told us `<hold/>`.
    pub(crate) peer_held: bool,
    /// The peer's contents with `<rtcp-mux/>`: their RTCP candidates are not passed on.
    muxed: Vec<String>,
    /// Content names the browser knows under another `mid` (longer than browsers take): (name, mid).
    pub(crate) mids: Vec<(String, String)>,
    ringing_sent: bool,
}

/// A change of an active session under way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Renegotiation {
    /// None.
    Idle,
    /// We sent new ICE credentials; the peer's come back as the answer.
    OurRestart,
    /// The peer's `<hold/>`/`<active/>` went to the other leg as an offer; its answer stays here.
    TheirOffer,
    /// The peer's ICE restart went to the other leg as an offer; its answer's credentials go back.
    TheirRestart,
}

impl Call {
    /// Whether our description (session-initiate or session-accept) went out.
    fn local_sent(&self) -> bool {
        match self.dir {
            Dir::Out => self.state != State::Proposed,
            Dir::In => self.state == State::Active,
        }
    }
}

/// A JMI proposal we answered with proceed.
#[derive(Debug)]
pub(crate) struct Proposal {
    pub(crate) expires: Instant,
}

/// transport-info IQs waiting for their session-initiate.
#[derive(Debug)]
pub(crate) struct Early {
    iqs: Vec<Element>,
    pub(crate) expires: Instant,
}

/// One of our IQ requests, waiting for its result.
#[derive(Debug)]
pub(crate) struct PendingIq {
    call: CallId,
    action: Action,
    to: String,
}

/// Why a command for a call was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallError {
    /// No such call (it ended, or never was).
    UnknownCall,
    /// The call is not in a state where this makes sense (answering our own call, twice ...).
    WrongState,
    /// The description cannot be expressed in Jingle.
    Sdp(String),
    /// A change of the session Jingle clients do not take (what it is).
    Unsupported(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::UnknownCall => f.write_str("no such XMPP call"),
            CallError::WrongState => f.write_str("the XMPP call is not waiting for that"),
            CallError::Sdp(e) => write!(f, "the description cannot be sent as Jingle: {e}"),
            CallError::Unsupported(what) => write!(f, "{what} is not bridged to Jingle"),
        }
    }
}

impl std::error::Error for CallError {}

/// Our ICE credentials per content of `j`.
fn creds_of(j: &Jingle) -> Vec<(String, Option<String>, Option<String>)> {
    j.contents
        .iter()
        .filter_map(|c| Some((c.name.clone(), c.ice()?.ufrag.clone(), c.ice()?.pwd.clone())))
        .collect()
}

/// The contents of `j` whose description has `<rtcp-mux/>`.
fn muxed_of(j: &Jingle) -> Vec<String> {
    j.contents.iter().filter(|c| c.rtp().is_some_and(|d| d.rtcp_mux)).map(|c| c.name.clone()).collect()
}

/// How many clients' parameter forms are remembered (the set is cleared when full).
const MAX_DIALECTS: usize = 4096;

/// How a `<jingle/>` writes a format parameter without a name, if it has one:
/// `Some(true)` for `<parameter name='0-15'/>` (no `value`), `Some(false)` for
/// `<parameter name='' value='0-15'/>` or `<parameter value='0-15'/>`.
fn param_form(jingle: &Element) -> Option<bool> {
    for content in jingle.children_named("content", crate::ns::JINGLE) {
        for d in content.children_named("description", crate::ns::RTP) {
            for pt in d.children_named("payload-type", crate::ns::RTP) {
                for p in pt.children_named("parameter", crate::ns::RTP) {
                    match (p.attr("name"), p.attr("value")) {
                        (Some(n), None) if !n.is_empty() => return Some(true),
                        (Some(""), Some(_)) | (None, Some(_)) => return Some(false),
                        _ => {}
                    }
                }
            }
        }
    }
    None
}

/// Rewrites `<parameter name='' value='X'/>` of payload types as `<parameter name='X'/>`.
fn write_name_only_params(jingle: &mut Element) {
    for content in jingle.elements_mut().filter(|e| e.is("content", crate::ns::JINGLE)) {
        for d in content.elements_mut().filter(|e| e.is("description", crate::ns::RTP)) {
            for pt in d.elements_mut().filter(|e| e.is("payload-type", crate::ns::RTP)) {
                for p in pt.elements_mut().filter(|e| e.is("parameter", crate::ns::RTP)) {
                    if p.attr("name") == Some("")
                        && let Some(v) = p.remove_attr("value")
                    {
                        p.set_attr("name", v);
                    }
                }
            }
        }
    }
}

/// Whether a `candidate:...` line is for component 2 (RTCP).
fn is_rtcp(candidate: &str) -> bool {
    candidate.split_whitespace().nth(1) == Some("2")
}

/// The SDP of a Jingle description (component-2 candidates left out where
/// rtcp-mux is offered: browsers always multiplex).
fn to_sdp(j: &Jingle, role: Role) -> Result<convert::Converted<String>, ConvertError> {
    convert::jingle_to_sdp_with(j, role, &Options { drop_rtcp_candidates: true })
}

/// The Jingle of a browser description, without component-2 candidates where it multiplexes.
fn to_jingle(sdp: &str, role: Role) -> Result<convert::Converted<Jingle>, ConvertError> {
    let mut converted = convert::sdp_to_jingle(sdp, role)?;
    convert::drop_rtcp_candidates(&mut converted.value);
    Ok(converted)
}

/// A `<reason/>` for a condition name (`success` for names we do not know).
fn reason_of(condition: &str, text: Option<&str>) -> Reason {
    let r = Reason::new(ReasonCondition::from_name(condition).unwrap_or(ReasonCondition::Success));
    match text {
        Some(t) => r.with_text(t),
        None => r,
    }
}

impl Component {
    /// Calls `to` (`user@domain`: JMI propose first; `user@domain/res`:
    /// session-initiate now) from the browser holding (or identified by)
    /// `from_name`, offering `sdp`. It rings for the ring timeout at most.
    pub fn dial(&mut self, from_name: &str, to: &str, sdp: &str, now: Instant) -> Result<CallId, DialError> {
        if self.state != LinkState::Up {
            return Err(DialError::NotConnected);
        }
        if !jid::valid_local(from_name) {
            return Err(DialError::InvalidName(from_name.to_owned()));
        }
        let target = Jid::parse(to).ok_or_else(|| DialError::InvalidAddress(to.to_owned()))?;
        if self.is_ours(target.domain) {
            return Err(DialError::InvalidAddress(format!("{to} is the gateway's own domain")));
        }
        let converted = to_jingle(sdp, Role::Initiator).map_err(|e| DialError::Sdp(e.to_string()))?;
        let local = self.full_jid(from_name);
        let sid = self.fresh_id("sb");
        for loss in &converted.losses {
            self.log(format!("session {sid}: offer to {to} loses {loss}"));
        }
        let mut offer = converted.value;
        offer.action = Action::SessionInitiate;
        offer.sid.clone_from(&sid);
        offer.initiator = Some(local.clone());
        offer.responder = None;
        let media: Vec<String> =
            offer.contents.iter().filter_map(|c| Some(c.rtp()?.media.to_string())).collect();
        let direct = target.resource.is_some();
        let id = CallId(self.next_call);
        self.next_call += 1;
        self.calls.insert(
            id,
            Call {
                dir: Dir::Out,
                state: if direct { State::Initiated } else { State::Proposed },
                sid: sid.clone(),
                local: local.clone(),
                peer: to.to_owned(),
                initiator: local.clone(),
                jmi: !direct,
                creds: creds_of(&offer),
                offer: Some(offer),
                ring_deadline: Some(now + self.config.ring_timeout),
                pending: Vec::new(),
                muxed: Vec::new(),
                mids: Vec::new(),
                ringing_sent: false,
                local_sdp: None,
                remote_sdp: None,
                reneg: Renegotiation::Idle,
                held: false,
                peer_held: false,
            },
        );
        if let Some(c) = self.calls.get_mut(&id) {
            c.local_sdp = Some(sdp.to_owned());
        }
        if direct {
            self.send_offer(id);
        } else {
            let media: Vec<&str> = media.iter().map(String::as_str).collect();
            self.send(&Jmi::propose(&sid, &media).to_message(NS_COMPONENT, &local, to));
        }
        Ok(id)
    }

    /// The browser rings: session-info `<ringing/>` for an incoming call (once).
    pub fn ringing(&mut self, call: CallId, _now: Instant) {
        let Some(c) = self.calls.get_mut(&call) else { return };
        if c.dir != Dir::In || c.state != State::Initiated || c.ringing_sent {
            return;
        }
        c.ringing_sent = true;
        let mut j = Jingle::new(Action::SessionInfo, &c.sid);
        j.initiator = Some(c.initiator.clone());
        j.info.push(SessionInfo::Ringing);
        self.send_jingle(call, j);
    }

    /// The browser answers an incoming call with `sdp`: session-accept.
    pub fn answer(&mut self, call: CallId, sdp: &str, _now: Instant) -> Result<(), CallError> {
        let c = self.calls.get(&call).ok_or(CallError::UnknownCall)?;
        if c.state == State::Active {
            // The answer to an offer made from the peer's hold or ICE restart.
            return match self.renegotiation_answer(call, sdp)? {
                true => Ok(()),
                false => Err(CallError::WrongState),
            };
        }
        if c.dir != Dir::In || c.state != State::Initiated {
            return Err(CallError::WrongState);
        }
        let converted = to_jingle(sdp, Role::Responder).map_err(|e| CallError::Sdp(e.to_string()))?;
        let sid = c.sid.clone();
        for loss in &converted.losses {
            self.log(format!("session {sid}: answer loses {loss}"));
        }
        let Some(c) = self.calls.get_mut(&call) else { return Err(CallError::UnknownCall) };
        let mut j = converted.value;
        convert::rename_contents(&mut j, c.mids.iter().map(|(name, mid)| (mid.as_str(), name.as_str())));
        j.action = Action::SessionAccept;
        j.sid.clone_from(&c.sid);
        j.initiator = Some(c.initiator.clone());
        j.responder = Some(c.local.clone());
        c.creds = creds_of(&j);
        c.state = State::Active;
        c.ring_deadline = None;
        c.local_sdp = Some(sdp.to_owned());
        self.send_jingle(call, j);
        self.flush_candidates(call);
        Ok(())
    }

    /// A trickled candidate of the browser (`None`: end of candidates):
    /// transport-info, kept until our description has been sent.
    pub fn candidate(&mut self, call: CallId, mid: &str, candidate: Option<&str>, _now: Instant) {
        let Some(c) = self.calls.get_mut(&call) else { return };
        if !c.local_sent() {
            if c.pending.len() < MAX_PENDING_CANDIDATES {
                c.pending.push((mid.to_owned(), candidate.map(str::to_owned)));
            }
            return;
        }
        self.send_candidate(call, mid, candidate);
    }

    /// The browser hangs up with `reason` (a browser reason word): JMI
    /// retract before proceed, else session-terminate with the mapped
    /// reason (for our unanswered call `<cancel/>` when the caller simply
    /// gave up, `<timeout/>` at the ring timeout; `<decline/>` for a
    /// normal refusal of theirs), and JMI finish once an accepted JMI call ends.
    pub fn hangup(&mut self, call: CallId, reason: &str, _now: Instant) {
        let Some(c) = self.calls.remove(&call) else { return };
        self.pending.retain(|_, p| p.call != call);
        // Our own unanswered call: giving up is a cancel; other causes (the ring timeout) say so.
        let withdrawn = || match reason {
            "normal" | "" | "cancel" => ("cancel", None),
            _ => jingle_reason(reason),
        };
        match (c.dir, c.state) {
            (Dir::Out, State::Proposed) => {
                let (condition, text) = withdrawn();
                let retract = Jmi::new(JmiKind::Retract, &c.sid).with_reason(reason_of(condition, text));
                self.send(&retract.to_message(NS_COMPONENT, &c.local, &c.peer));
            }
            (Dir::Out, State::Initiated) => {
                let (condition, text) = withdrawn();
                self.send_terminate(&c, condition, text);
            }
            (Dir::In, State::Initiated) => {
                let (condition, text) = match reason {
                    "normal" | "" => ("decline", None),
                    _ => jingle_reason(reason),
                };
                self.send_terminate(&c, condition, text);
            }
            (_, State::Active) => {
                let (condition, text) = jingle_reason(reason);
                self.send_terminate(&c, condition, text);
                if c.jmi {
                    self.send_finish(&c, condition, text);
                }
            }
            (Dir::In, State::Proposed) => {}
        }
    }

    /// Time passes: calls ringing too long end with `timeout` (JMI retract
    /// or session-terminate `<timeout/>`); stale proposals are forgotten;
    /// early transport-info whose session never came gets `unknown-session`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.check_peers(now);
        let mut expired: Vec<CallId> = self
            .calls
            .iter()
            .filter(|(_, c)| c.ring_deadline.is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect();
        expired.sort();
        for id in expired {
            let Some(c) = self.calls.remove(&id) else { continue };
            self.pending.retain(|_, p| p.call != id);
            if c.state == State::Proposed {
                let retract = Jmi::new(JmiKind::Retract, &c.sid).with_reason(reason_of("timeout", None));
                self.send(&retract.to_message(NS_COMPONENT, &c.local, &c.peer));
            } else {
                self.send_terminate(&c, "timeout", None);
            }
            self.events.push_back(Event::Ended { call: id, reason: "timeout".into() });
        }
        self.proposals.retain(|_, p| p.expires > now);
        let stale: Vec<(String, String)> =
            self.early.iter().filter(|(_, e)| e.expires <= now).map(|(k, _)| k.clone()).collect();
        for key in stale {
            let Some(e) = self.early.remove(&key) else { continue };
            for iq in e.iqs {
                self.log(format!(
                    "transport-info for {} from {} never got its session-initiate",
                    key.0, key.1
                ));
                self.reply_error(&iq, IqError::UnknownSession, None);
            }
        }
    }

    // ---- sending ----

    /// Sends `j` to the call's peer as an IQ set and remembers it.
    pub(super) fn send_jingle(&mut self, call: CallId, j: Jingle) {
        let Some(c) = self.calls.get(&call) else { return };
        let (from, to) = (c.local.clone(), c.peer.clone());
        let id = self.fresh_id("jg");
        self.pending.insert(id.clone(), PendingIq { call, action: j.action, to: to.clone() });
        let mut payload = j.to_element();
        if self.name_only_params.contains(&jid::bare(&to).to_ascii_lowercase()) {
            write_name_only_params(&mut payload);
        }
        let iq = Element::new("iq", NS_COMPONENT)
            .with_attr("type", "set")
            .with_attr("id", id)
            .with_attr("from", from)
            .with_attr("to", to)
            .with_child(payload);
        self.send(&iq);
    }

    /// Remembers how `from` writes format parameters without a name (see
    /// [`Component::name_only_params`]), from a `<jingle/>` it sent.
    fn learn_param_form(&mut self, from: &str, payload: &Element) {
        let Some(name_only) = param_form(payload) else { return };
        let bare = jid::bare(from).to_ascii_lowercase();
        if name_only {
            if self.name_only_params.len() >= MAX_DIALECTS {
                self.name_only_params.clear();
            }
            self.name_only_params.insert(bare);
        } else {
            self.name_only_params.remove(&bare);
        }
    }

    /// Sends the session-initiate kept for `call`, then the candidates that waited for it.
    fn send_offer(&mut self, call: CallId) {
        let Some(offer) = self.calls.get_mut(&call).and_then(|c| c.offer.take()) else { return };
        self.send_jingle(call, offer);
        self.flush_candidates(call);
    }

    fn flush_candidates(&mut self, call: CallId) {
        let Some(c) = self.calls.get_mut(&call) else { return };
        for (mid, cand) in std::mem::take(&mut c.pending) {
            self.send_candidate(call, &mid, cand.as_deref());
        }
    }

    fn send_candidate(&mut self, call: CallId, mid: &str, candidate: Option<&str>) {
        let Some(c) = self.calls.get(&call) else { return };
        let mid = c.mids.iter().find(|(_, m)| m == mid).map_or(mid, |(name, _)| name.as_str());
        if mid.is_empty() && candidate.is_none() {
            // The browser's end of candidates names no section: it ends every content's.
            let mut j = Jingle::new(Action::TransportInfo, &c.sid);
            j.initiator = Some(c.initiator.clone());
            for (name, ufrag, pwd) in &c.creds {
                if let Ok(content) = convert::candidate_to_jingle(name, "", ufrag.as_deref(), pwd.as_deref())
                {
                    j.contents.push(content);
                }
            }
            if !j.contents.is_empty() {
                self.send_jingle(call, j);
            }
            return;
        }
        let Some((_, ufrag, pwd)) = c.creds.iter().find(|(name, _, _)| name == mid) else {
            let sid = c.sid.clone();
            self.log(format!("session {sid}: a candidate for unknown content '{mid}' dropped"));
            return;
        };
        let content = match convert::candidate_to_jingle(
            mid,
            candidate.unwrap_or(""),
            ufrag.as_deref(),
            pwd.as_deref(),
        ) {
            Ok(content) => content,
            Err(e) => {
                let sid = c.sid.clone();
                self.log(format!("session {sid}: candidate '{}' dropped: {e}", candidate.unwrap_or("")));
                return;
            }
        };
        let mut j = Jingle::new(Action::TransportInfo, &c.sid);
        j.initiator = Some(c.initiator.clone());
        j.contents.push(content);
        self.send_jingle(call, j);
    }

    fn send_terminate(&mut self, c: &Call, condition: &str, text: Option<&str>) {
        self.terminate(&c.sid, Some(&c.initiator), &c.local, &c.peer, reason_of(condition, text));
    }

    /// Sends session-terminate for `sid` from `from` to `to`.
    fn terminate(&mut self, sid: &str, initiator: Option<&str>, from: &str, to: &str, reason: Reason) {
        let mut j = Jingle::new(Action::SessionTerminate, sid);
        j.initiator = initiator.map(str::to_owned);
        j.reason = Some(reason);
        let id = self.fresh_id("jg");
        let iq = Element::new("iq", NS_COMPONENT)
            .with_attr("type", "set")
            .with_attr("id", id)
            .with_attr("from", from)
            .with_attr("to", to)
            .with_child(j.to_element());
        self.send(&iq);
    }

    fn send_finish(&mut self, c: &Call, condition: &str, text: Option<&str>) {
        let finish = Jmi::new(JmiKind::Finish, &c.sid).with_reason(reason_of(condition, text));
        self.send(&finish.to_message(NS_COMPONENT, &c.local, &c.peer));
    }

    /// Replies to IQ request `iq` with `error`.
    fn reply_error(&mut self, iq: &Element, error: IqError, text: Option<&str>) {
        let (Some(id), Some(from)) = (iq.attr("id"), iq.attr("from")) else { return };
        let to = iq.attr("to").unwrap_or(&self.config.domain);
        let e = errors::iq_error(id, to, from, error, text);
        self.send(&e);
    }

    /// Replies to IQ request `iq` with an empty result.
    fn ack(&mut self, iq: &Element) {
        let (Some(id), Some(from)) = (iq.attr("id"), iq.attr("from")) else { return };
        let to = iq.attr("to").unwrap_or(&self.config.domain);
        let r = errors::iq_result(id, to, from);
        self.send(&r);
    }

    /// Ends `call` for a reason from the XMPP side.
    fn end(&mut self, call: CallId, reason: &str) {
        if self.calls.remove(&call).is_some() {
            self.pending.retain(|_, p| p.call != call);
            self.events.push_back(Event::Ended { call, reason: reason.to_owned() });
        }
    }

    // ---- receiving ----

    /// The call whose session is `sid` with `from`, addressed to `to`.
    fn find_session(&self, sid: &str, from: &str, to: &str) -> Option<CallId> {
        self.calls
            .iter()
            .find(|(_, c)| {
                c.sid == sid
                    && jid::same_bare(to, &c.local)
                    && match c.state {
                        State::Proposed => jid::same_bare(from, &c.peer),
                        _ => jid::same_full(from, &c.peer),
                    }
            })
            .map(|(id, _)| *id)
    }

    /// A `<jingle/>` IQ set.
    pub(super) fn on_jingle(&mut self, iq: &Element, payload: &Element, now: Instant) {
        let from = iq.attr("from").unwrap_or("").to_owned();
        self.learn_param_form(&from, payload);
        let to = iq.attr("to").unwrap_or(&self.config.domain).to_owned();
        let j = match Jingle::parse(payload) {
            Ok(j) => j,
            Err(JingleError::UnknownAction(a)) => {
                self.reply_error(
                    iq,
                    IqError::NotImplemented,
                    Some(&format!("action {a} is not implemented")),
                );
                return;
            }
            Err(e) => {
                self.log(format!("bad-request to {from}: {e}"));
                self.reply_error(iq, IqError::BadRequest, Some(&e.to_string()));
                return;
            }
        };
        if j.action == Action::SessionInitiate {
            self.on_initiate(iq, j, &from, &to, now);
            return;
        }
        let Some(call) = self.find_session(&j.sid, &from, &to) else {
            if j.action == Action::TransportInfo && self.keep_early(iq, &j.sid, &from, &to, now) {
                return;
            }
            self.reply_error(iq, IqError::UnknownSession, None);
            return;
        };
        let Some(c) = self.calls.get(&call) else { return };
        let (dir, state) = (c.dir, c.state);
        if state == State::Proposed {
            self.reply_error(iq, IqError::OutOfOrder, Some("no session-initiate was sent yet"));
            return;
        }
        match j.action {
            Action::SessionAccept => {
                if dir != Dir::Out || state != State::Initiated {
                    self.reply_error(iq, IqError::OutOfOrder, None);
                    return;
                }
                self.ack(iq);
                match to_sdp(&j, Role::Responder) {
                    Ok(converted) => {
                        for loss in &converted.losses {
                            self.log(format!("session {}: answer from {from} loses {loss}", j.sid));
                        }
                        if let Some(c) = self.calls.get_mut(&call) {
                            c.state = State::Active;
                            c.ring_deadline = None;
                            c.muxed = muxed_of(&j);
                            c.remote_sdp = Some(converted.value.clone());
                        }
                        self.events.push_back(Event::Answer { call, sdp: converted.value });
                    }
                    Err(e) => {
                        self.log(format!("session {}: the answer from {from} cannot be used: {e}", j.sid));
                        if let Some(c) = self.calls.remove(&call) {
                            self.send_terminate(&c, "incompatible-parameters", Some(&e.to_string()));
                            self.calls.insert(call, c);
                        }
                        self.end(call, "incompatible");
                    }
                }
            }
            Action::SessionTerminate => {
                self.ack(iq);
                let condition = j.reason.as_ref().map(|r| r.condition.as_str());
                let word = browser_reason(condition);
                if let Some(c) = self.calls.remove(&call) {
                    self.pending.retain(|_, p| p.call != call);
                    if c.jmi && state == State::Active {
                        self.send_finish(&c, condition.unwrap_or("success"), None);
                    }
                }
                self.events.push_back(Event::Ended { call, reason: word.to_owned() });
            }
            Action::SessionInfo => {
                if j.info.is_empty() && !j.extra.is_empty() {
                    self.reply_error(iq, IqError::UnsupportedInfo, None);
                    return;
                }
                self.ack(iq);
                for info in &j.info {
                    match info {
                        SessionInfo::Ringing if dir == Dir::Out && state == State::Initiated => {
                            self.events.push_back(Event::Ringing { call });
                        }
                        SessionInfo::Hold if state == State::Active => self.peer_hold(call, true),
                        SessionInfo::Active | SessionInfo::Unhold if state == State::Active => {
                            self.peer_hold(call, false);
                        }
                        other => self.log(format!("session {}: {} from {from}", j.sid, other.as_str())),
                    }
                }
            }
            Action::TransportInfo => {
                self.ack(iq);
                let (muxed, mids, remote) = self
                    .calls
                    .get(&call)
                    .map(|c| (c.muxed.clone(), c.mids.clone(), c.remote_sdp.clone()))
                    .unwrap_or_default();
                let browser_mid = |name: &str| {
                    mids.iter().find(|(n, _)| n == name).map_or(name.to_owned(), |(_, m)| m.clone())
                };
                // New credentials for a content: an ICE restart (XEP-0176 §2.4), ours answered or the peer's.
                let mut restarted: Vec<(String, String, String)> = Vec::new();
                if state == State::Active
                    && let Some(remote) = &remote
                {
                    let (known_mids, known) =
                        (super::renegotiate::mids(remote), super::renegotiate::ufrags(remote));
                    for content in &j.contents {
                        let Some(ice) = content.ice() else { continue };
                        let (Some(ufrag), Some(pwd)) = (&ice.ufrag, &ice.pwd) else { continue };
                        let mid = browser_mid(&content.name);
                        let at = known_mids.iter().position(|m| m.as_deref() == Some(mid.as_str()));
                        if at.is_some_and(|i| known[i].as_deref() != Some(ufrag.as_str())) {
                            restarted.push((mid, ufrag.to_string(), pwd.to_string()));
                        }
                    }
                }
                let mut restart_candidates = Vec::new();
                for t in convert::candidates_of(&j) {
                    if muxed.contains(&t.mid) && is_rtcp(&t.candidate) {
                        continue;
                    }
                    let mid = browser_mid(&t.mid);
                    if restarted.iter().any(|(m, _, _)| *m == mid) {
                        if !t.candidate.is_empty() {
                            restart_candidates.push((mid, t.candidate));
                        }
                        continue;
                    }
                    let candidate = (!t.candidate.is_empty()).then_some(t.candidate);
                    self.events.push_back(Event::Candidate { call, mid, candidate });
                }
                if !restarted.is_empty() {
                    self.peer_restart(call, &restarted, &restart_candidates);
                }
            }
            other => {
                self.reply_error(iq, IqError::NotImplemented, Some(&format!("{other} is not implemented")));
            }
        }
    }

    /// Keeps a transport-info for a session not seen yet, if it may be
    /// one: to a held name, with a sid no session with someone else uses.
    fn keep_early(&mut self, iq: &Element, sid: &str, from: &str, to: &str, now: Instant) -> bool {
        let held = Jid::parse(to).and_then(|j| j.local).is_some_and(|n| self.takes_calls(n));
        if !held || self.calls.values().any(|c| c.sid == sid) {
            return false;
        }
        let key = (sid.to_owned(), from.to_owned());
        let room = self.early.len() < MAX_EARLY_KEYS;
        match self.early.get_mut(&key) {
            Some(e) if e.iqs.len() < MAX_EARLY_PER_KEY => e.iqs.push(iq.clone()),
            Some(_) => return false,
            None if room => {
                self.early.insert(key, Early { iqs: vec![iq.clone()], expires: now + EARLY_WINDOW });
            }
            None => return false,
        }
        true
    }

    fn on_initiate(&mut self, iq: &Element, mut j: Jingle, from: &str, to: &str, now: Instant) {
        let name = Jid::parse(to).and_then(|t| t.local).map(str::to_owned);
        let Some(name) = name.filter(|n| self.takes_calls(n)) else {
            self.reply_error(iq, IqError::ServiceUnavailable, Some("nobody takes calls at this address"));
            return;
        };
        if self.find_session(&j.sid, from, to).is_some() {
            self.reply_error(iq, IqError::OutOfOrder, Some("the session exists"));
            return;
        }
        if self.calls.len() >= MAX_CALLS {
            self.reply_error(iq, IqError::ServiceUnavailable, Some("too many calls"));
            return;
        }
        // Our end of the session is a full JID (the browsers' resource when
        // the caller addressed the bare JID).
        let local = match Jid::parse(to).and_then(|t| t.resource) {
            Some(_) => to.to_owned(),
            None => self.full_jid(&name),
        };
        let proposed = self.proposals.remove(&(j.sid.clone(), jid::bare(from).to_owned())).is_some();
        self.ack(iq);
        let muxed = muxed_of(&j);
        let mids = convert::browser_mids(&mut j);
        let sdp = match to_sdp(&j, Role::Initiator) {
            Ok(converted) => {
                for loss in &converted.losses {
                    self.log(format!("session {}: offer from {from} loses {loss}", j.sid));
                }
                converted.value
            }
            Err(e) => {
                self.log(format!("session {}: the offer from {from} cannot be used: {e}", j.sid));
                let condition =
                    if e == ConvertError::Empty { "unsupported-applications" } else { "failed-application" };
                let reason = reason_of(condition, Some(&e.to_string()));
                self.terminate(&j.sid, j.initiator.as_deref(), to, from, reason);
                return;
            }
        };
        let call = CallId(self.next_call);
        self.next_call += 1;
        self.calls.insert(
            call,
            Call {
                dir: Dir::In,
                state: State::Initiated,
                sid: j.sid.clone(),
                local,
                peer: from.to_owned(),
                initiator: j.initiator.clone().unwrap_or_else(|| from.to_owned()),
                jmi: proposed,
                offer: None,
                ring_deadline: Some(now + self.config.ring_timeout),
                pending: Vec::new(),
                creds: Vec::new(),
                muxed,
                mids,
                ringing_sent: false,
                local_sdp: None,
                remote_sdp: Some(sdp.clone()),
                reneg: Renegotiation::Idle,
                held: false,
                peer_held: false,
            },
        );
        self.events.push_back(Event::Incoming { call, to_name: name, from: from.to_owned(), sdp });
        if let Some(early) = self.early.remove(&(j.sid.clone(), from.to_owned())) {
            for iq in early.iqs {
                self.on_iq(&iq, now);
            }
        }
    }

    /// Pings the peer of every call (XEP-0199 §4.3, client to client) every
    /// [`PEER_CHECK`]: a client whose network died sends no session-terminate,
    /// and its server answers the ping with an error (§5: a full JID that
    /// is not online), which ends the call with `peer-disconnected`.
    fn check_peers(&mut self, now: Instant) {
        if self.calls.is_empty() {
            self.next_peer_check = None;
            return;
        }
        let due = *self.next_peer_check.get_or_insert(now + PEER_CHECK);
        if now < due {
            return;
        }
        self.next_peer_check = Some(now + PEER_CHECK);
        // A ping still unanswered from the last round counts as an answer: a slow server is not a dead peer.
        self.pings.clear();
        let mut targets: Vec<(CallId, String, String)> = self
            .calls
            .iter()
            .filter(|(_, c)| {
                c.state != State::Proposed && Jid::parse(&c.peer).is_some_and(|j| j.resource.is_some())
            })
            .map(|(id, c)| (*id, c.local.clone(), c.peer.clone()))
            .collect();
        targets.sort();
        for (call, local, peer) in targets {
            let id = self.fresh_id("pc");
            self.pings.insert(id.clone(), call);
            let ping = Element::new("iq", NS_COMPONENT)
                .with_attr("type", "get")
                .with_attr("id", id)
                .with_attr("from", local)
                .with_attr("to", peer)
                .with_child(Element::new("ping", "urn:xmpp:ping"));
            self.send(&ping);
        }
    }

    /// A result or error for one of our IQ requests.
    pub(super) fn on_iq_response(&mut self, iq: &Element, _now: Instant) {
        let Some(id) = iq.attr("id") else { return };
        if let Some(call) = self.pings.remove(id) {
            let condition = errors::condition_of(iq);
            let gone = iq.attr("type") == Some("error")
                && matches!(
                    condition.as_str(),
                    "service-unavailable"
                        | "recipient-unavailable"
                        | "item-not-found"
                        | "remote-server-not-found"
                );
            if gone && let Some(c) = self.calls.get(&call) {
                self.log(format!("session {}: {} is gone ({condition}): ending the call", c.sid, c.peer));
                self.end(call, "peer-disconnected");
            }
            return;
        }
        let Some(p) = self.pending.remove(id) else { return };
        let from = iq.attr("from").unwrap_or("");
        if !jid::same_bare(from, &p.to) {
            self.log(format!("a reply to {id} came from {from}, not from {}", p.to));
            self.pending.insert(id.to_owned(), p);
            return;
        }
        if iq.attr("type") != Some("error") {
            return;
        }
        let condition = errors::condition_of(iq);
        self.log(format!("{} to {} failed: {condition}", p.action, p.to));
        let unavailable = matches!(
            condition.as_str(),
            "service-unavailable" | "recipient-unavailable" | "item-not-found" | "remote-server-not-found"
        );
        match p.action {
            Action::SessionInitiate => self.end(p.call, if unavailable { "unavailable" } else { "failed" }),
            Action::SessionAccept => self.end(p.call, "failed"),
            _ if condition == "item-not-found" => self.end(p.call, "failed"),
            _ => {}
        }
    }

    /// A message: JMI (XEP-0353) or an error bouncing our propose.
    pub(super) fn on_message(&mut self, msg: &Element, now: Instant) {
        let (Some(from), Some(to)) = (msg.attr("from"), msg.attr("to")) else { return };
        let (from, to) = (from.to_owned(), to.to_owned());
        let Some(target) = Jid::parse(&to).filter(|t| self.is_ours(t.domain)) else { return };
        let name = target.local.map(str::to_owned);
        let m = match Jmi::from_message(msg) {
            None => return,
            Some(Ok(m)) => m,
            Some(Err(e)) => {
                self.log(format!("ignored an invalid JMI message from {from}: {e}"));
                return;
            }
        };
        let reason = m.reason.as_ref().map(|r| r.condition.as_str());
        // Our proposal (outgoing call) this message is about.
        let proposed = self
            .calls
            .iter()
            .find(|(_, c)| {
                c.dir == Dir::Out
                    && c.sid == m.id
                    && c.state == State::Proposed
                    && jid::same_bare(&from, &c.peer)
                    && jid::same_bare(&to, &c.local)
            })
            .map(|(id, _)| *id);
        if msg.attr("type") == Some("error") {
            if let Some(call) = proposed {
                self.log(format!("the proposal {} to {from} bounced: {}", m.id, errors::condition_of(msg)));
                self.end(call, "unavailable");
            }
            return;
        }
        match m.kind {
            JmiKind::Propose { .. } => {
                let local = match &name {
                    Some(n) => self.full_jid(n),
                    None => self.config.domain.clone(),
                };
                let held = name.as_ref().is_some_and(|n| self.takes_calls(n));
                let key = (m.id.clone(), jid::bare(&from).to_owned());
                if held && (self.proposals.len() < MAX_PROPOSALS || self.proposals.contains_key(&key)) {
                    self.proposals.insert(key, Proposal { expires: now + self.config.ring_timeout });
                    self.send(&Jmi::new(JmiKind::Proceed, &m.id).to_message(NS_COMPONENT, &local, &from));
                } else {
                    let condition = if held { "busy" } else { "gone" };
                    let reject = Jmi::new(JmiKind::Reject, &m.id).with_reason(reason_of(condition, None));
                    self.send(&reject.to_message(NS_COMPONENT, &local, &from));
                }
            }
            JmiKind::Retract => {
                self.proposals.remove(&(m.id.clone(), jid::bare(&from).to_owned()));
                let ringing = self
                    .calls
                    .iter()
                    .find(|(_, c)| {
                        c.dir == Dir::In
                            && c.state == State::Initiated
                            && c.sid == m.id
                            && jid::same_bare(&from, &c.peer)
                    })
                    .map(|(id, _)| *id);
                if let Some(call) = ringing {
                    self.end(call, browser_reason(Some(reason.unwrap_or("cancel"))));
                }
            }
            JmiKind::Ringing => {
                if let Some(call) = proposed {
                    if Jid::parse(&from).and_then(|j| j.resource).is_some() {
                        self.events.push_back(Event::Peer { call, jid: from.clone() });
                    }
                    self.events.push_back(Event::Ringing { call });
                }
            }
            JmiKind::Proceed => {
                let Some(call) = proposed else { return };
                if Jid::parse(&from).and_then(|j| j.resource).is_none() {
                    self.log(format!("proceed for {} from {from}, a bare JID: ignored", m.id));
                    return;
                }
                if let Some(c) = self.calls.get_mut(&call) {
                    c.peer.clone_from(&from);
                    c.state = State::Initiated;
                }
                self.events.push_back(Event::Peer { call, jid: from.clone() });
                self.send_offer(call);
            }
            JmiKind::Reject => {
                if let Some(call) = proposed {
                    // A reject without a reason (or with <success/>) is a plain decline.
                    let word = match reason {
                        None | Some("success") => "decline",
                        condition => browser_reason(condition),
                    };
                    self.end(call, word);
                }
            }
            JmiKind::Accept | JmiKind::Finish => {}
        }
    }
}
