//! The bridge core: calls made of two legs, whatever their protocols.
//!
//! Each adapter (the browser hub, the SIP agent, the XMPP component) turns
//! its protocol into the same [`CallEvent`]s, carrying SDP (the common
//! model of `switchboard-sdp`) and ICE candidates. A call starts when an
//! adapter reports a new incoming call ([`Bridge::incoming`]); the
//! [`DialPlan`] says where it goes, and the bridge asks the target's adapter
//! to dial ([`Output::Dial`]). From then on it passes each leg's events to
//! the other leg ([`Output::Event`]), translating what the two legs can do:
//!
//! * **Trickle or not.** Jingle and browsers trickle candidates; most SIP
//!   peers need them in the SDP. An SDP from a leg that trickles, going to
//!   one that does not, waits for its candidates (end of candidates; or a
//!   quiet [`BridgeConfig::settle`] once it has some; at most
//!   [`BridgeConfig::gather_timeout`]), which are then merged in
//!   ([`crate::gather::merge`]). Candidates the caller sent before a dial
//!   are replayed to a leg that trickles.
//! * **Late offer** (SIP INVITE without SDP) can only go to a browser (it
//!   is asked for an offer); XMPP targets are skipped as incompatible, and
//!   the SIP adapter refuses it for phones (488) once it knows they exist.
//! * **Early media**: a provisional answer (SIP 183 with SDP) goes to the
//!   caller as an `early` answer; adapters that cannot carry one ignore it.
//! * **Fallback**: a route may list several targets; the next is dialled
//!   when one is not found or unavailable before it rang.
//! * **Ring timeout**: a call unanswered after [`BridgeConfig::ring_timeout`]
//!   ends on both legs with [`HangupCause::NoAnswer`].
//!
//! When one leg ends, the other is told with the mapped cause
//! ([`HangupCause`]) and the call is over: nothing of it (legs, pending
//! descriptions, timers) stays. Each call ends with one [`CallRecord`].

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use switchboard_sdp::IceCandidateInit;

use crate::address::{jid_local_of_sip, sip_user_of_jid};
use crate::cause::HangupCause;
use crate::dialplan::{DialPlan, LegKind, Target};
use crate::gather::merge;
use crate::media::{AnchorPolicy, Mismatch, Profile, decide};
use crate::record::{CallInfo, CallParty, CallRecord, millis, outcome_by};

/// One leg of a call, numbered by whoever created it (an adapter for a leg
/// that called in, the bridge for one it dials: from [`Bridge::FIRST_DIALLED_LEG`] up).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LegId(pub u64);

/// One call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u64);

/// What a leg says happened, and what a leg is told: the same events in both directions.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallEvent {
    /// The called party is ringing.
    Ringing,
    /// The answer to the other leg's offer; `early` for a provisional one (early media).
    Answer {
        /// The SDP.
        sdp: String,
        /// Provisional (SIP 183 with SDP).
        early: bool,
    },
    /// A new offer: a late offer's, or a renegotiation (hold, ICE restart, new media).
    Offer {
        /// The SDP.
        sdp: String,
    },
    /// A trickled candidate; `None` is the end of candidates.
    Candidate(Option<IceCandidateInit>),
    /// The new offer (a renegotiation) cannot be taken: the call goes on
    /// with the media it has (SIP 488 to the re-INVITE, browser `error`
    /// `offer-refused`).
    OfferRefused {
        /// Why.
        text: String,
    },
    /// A DTMF digit sent out of band (SIP INFO `application/dtmf-relay`,
    /// browser `dtmf`); RFC 4733 telephone-events stay in the media.
    Dtmf {
        /// `0`-`9`, `*`, `#` or `A`-`D`.
        digit: char,
        /// Milliseconds.
        duration_ms: u32,
    },
    /// The leg ended (told to a leg: end it).
    Hangup {
        /// Why.
        cause: HangupCause,
        /// The SIP status code behind it, when a SIP leg ended it with one.
        sip_code: Option<u16>,
        /// What the ending side said (a SIP reason phrase or Reason header), if anything.
        text: Option<String>,
    },
}

/// Who placed a call, as each kind of leg can name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The kind of leg they called from.
    pub kind: LegKind,
    /// Their address there: a SIP URI, `xmpp:JID`, or a browser's peer id.
    pub address: String,
    /// A display name, if any.
    pub name: Option<String>,
    /// The name under which they can be called back through this gateway
    /// (a browser's registered name, a SIP phone's registration), if any.
    pub local_name: Option<String>,
}

impl Caller {
    /// The caller as a SIP From user part: the local name, else the JID as
    /// `user%40domain`, else the SIP user.
    pub fn sip_user(&self) -> String {
        if let Some(n) = &self.local_name {
            return n.clone();
        }
        match self.kind {
            LegKind::Xmpp => sip_user_of_jid(&self.address),
            LegKind::Sip => {
                let rest = self.address.split_once(':').map_or(self.address.as_str(), |(_, r)| r);
                rest.split_once('@').map_or("anonymous", |(u, _)| u).to_owned()
            }
            LegKind::Browser => self.address.clone(),
        }
    }

    /// The caller as a JID localpart at the component: the local name,
    /// else the SIP address escaped (`carol\40192.0.2.4`), else the address.
    pub fn xmpp_local(&self) -> String {
        if let Some(n) = &self.local_name {
            return n.clone();
        }
        match self.kind {
            LegKind::Sip => jid_local_of_sip(&self.address),
            _ => self.address.clone(),
        }
    }
}

/// A new leg to open: the adapter of `target.kind()` calls `target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dial {
    /// The new leg's id: events for it use it, and its adapter reports with it.
    pub leg: LegId,
    /// The call.
    pub call: CallId,
    /// Whom to call.
    pub target: Target,
    /// Who calls.
    pub caller: Caller,
    /// The caller's offer, candidates merged in for a leg that does not
    /// trickle; `None` for a late offer (only to browsers).
    pub sdp: Option<String>,
    /// Whether the caller's leg trickles: a browser leg answering it may
    /// trickle too.
    pub caller_trickles: bool,
    /// The offer's media cannot reach this target as it is and no media
    /// relay is configured: once the adapter knows the target exists, it
    /// refuses the leg as [`HangupCause::Incompatible`] with this reason
    /// (a target that does not exist is still `not-found`).
    pub mismatch: Option<Mismatch>,
}

/// What the bridge wants done.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Output {
    /// Open a leg.
    Dial(Dial),
    /// Tell a leg's adapter something for that leg.
    Event {
        /// The leg.
        leg: LegId,
        /// Its kind (which adapter).
        kind: LegKind,
        /// What.
        event: CallEvent,
    },
    /// A call is over.
    Ended(CallRecord),
    /// Ask the media relay (rtpengine) to rewrite an SDP; answer with
    /// [`Bridge::handle_relay_reply`] (not needed for [`RelayOp::Delete`]).
    Relay(RelayRequest),
}

/// One request to the media relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayRequest {
    /// Identifies the reply.
    pub id: u64,
    /// The call (the relay's call id is made from it).
    pub call: CallId,
    /// What to do.
    pub op: RelayOp,
}

/// What the media relay is asked to do (rtpengine's ng `offer`, `answer`, `delete`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RelayOp {
    /// An offer from the `from_tag` side, rewritten for a party speaking `towards`.
    Offer {
        /// The offer.
        sdp: String,
        /// `caller` or `callee`: who offers.
        from_tag: &'static str,
        /// What the other party speaks.
        towards: Profile,
    },
    /// The answer of the `to_tag` side to the `from_tag` side's offer, rewritten for the offerer.
    Answer {
        /// The answer.
        sdp: String,
        /// The offerer's tag.
        from_tag: &'static str,
        /// The answerer's tag.
        to_tag: &'static str,
        /// What the offerer speaks.
        towards: Profile,
    },
    /// The call is over: release its media.
    Delete,
}

/// Settings of the bridge.
#[derive(Debug, Clone)]
pub struct BridgeConfig {
    /// How long a call may ring unanswered (default 60 s).
    pub ring_timeout: Duration,
    /// The longest wait for trickled candidates before an SDP goes to a leg
    /// that does not trickle (default 2 s).
    pub gather_timeout: Duration,
    /// Once some candidates are known, how long without a new one ends the
    /// wait early (default 300 ms).
    pub settle: Duration,
    /// Where calls go.
    pub dial_plan: DialPlan,
    /// When calls are anchored in a media relay ([`crate::media`]).
    pub anchor: AnchorPolicy,
    /// Whether a media relay (rtpengine) is configured. Without one, a call
    /// that must be anchored is refused as incompatible, never connected
    /// without audio; with one, such calls are anchored ([`Output::Relay`]).
    pub relay: bool,
}

impl Default for BridgeConfig {
    fn default() -> Self {
        BridgeConfig {
            ring_timeout: Duration::from_secs(60),
            gather_timeout: Duration::from_secs(2),
            settle: Duration::from_millis(300),
            dial_plan: DialPlan::default(),
            anchor: AnchorPolicy::Auto,
            relay: false,
        }
    }
}

/// Most candidates kept per leg (a browser gathers a few dozen at most).
const MAX_CANDIDATES: usize = 128;

#[derive(Debug)]
struct Leg {
    call: CallId,
    kind: LegKind,
    trickle: bool,
    /// Whether its adapter knows it (a dial waiting for candidates is not yet).
    opened: bool,
    address: String,
    name: Option<String>,
    /// Candidates it trickled, for merging and for replay to a later dial.
    candidates: Vec<IceCandidateInit>,
    end_of_candidates: bool,
    last_candidate: Option<Instant>,
}

impl Leg {
    /// A leg of call `call` its adapter does not know yet (see [`Leg::opened`]).
    fn new(call: CallId, kind: LegKind, trickle: bool, address: String, name: Option<String>) -> Leg {
        Leg {
            call,
            kind,
            trickle,
            opened: false,
            address,
            name,
            candidates: Vec::new(),
            end_of_candidates: false,
            last_candidate: None,
        }
    }
}

/// The media of a call anchored in the relay.
#[derive(Debug, Clone, Copy)]
struct Anchor {
    caller: Profile,
    callee: Profile,
    /// The leg whose offer the relay saw last (its answer comes from the other).
    offerer: LegId,
}

/// What waits for the relay.
#[derive(Debug)]
enum RelayWait {
    Dial(Dial),
    Event { to: LegId, event: CallEvent },
}

/// An SDP held for the trickled candidates of the leg it came from.
#[derive(Debug)]
enum Held {
    Dial(Dial),
    Event(CallEvent),
}

#[derive(Debug)]
struct Pending {
    from: LegId,
    to: LegId,
    held: Held,
    since: Instant,
}

#[derive(Debug)]
struct Call {
    /// Media anchored in the relay: what each side speaks, and who offered last.
    anchor: Option<Anchor>,
    /// The anchoring the next dial needs (set when it was decided, used when it goes out).
    anchor_next: Option<Mismatch>,
    /// A dial or SDP waiting for the relay's rewrite: (request id, what).
    relay_wait: Option<(u64, RelayWait)>,
    caller: LegId,
    callee: Option<LegId>,
    caller_info: Caller,
    offer: Option<String>,
    route: VecDeque<Target>,
    /// The cause of the last target that failed (the call's cause if none is left).
    failed: Option<(HangupCause, Option<u16>, Option<String>)>,
    started: Instant,
    answered: Option<Instant>,
    rang: bool,
    pending: Option<Pending>,
    /// The session id a browser party knows the call by, if one does.
    label: Option<String>,
    /// The callee's target, for records.
    callee_address: String,
    /// The kind of the last leg dialled; `None` while none was (a call refused by the dial plan).
    callee_kind: Option<LegKind>,
}

/// The bridge between legs (see the module documentation).
#[derive(Debug)]
pub struct Bridge {
    config: BridgeConfig,
    calls: BTreeMap<CallId, Call>,
    legs: HashMap<LegId, Leg>,
    out: VecDeque<Output>,
    next_call: u64,
    next_leg: u64,
    /// Whether the relay answers (its health; meaningful with [`BridgeConfig::relay`]).
    relay_up: bool,
    next_relay: u64,
    /// Names of SIP phones registered over WebSocket (JsSIP, SIP.js): they speak WebRTC media.
    webrtc_phones: std::collections::HashSet<String>,
}

impl Bridge {
    /// The first id the bridge gives to a leg it dials (adapters number the
    /// legs that call in below it).
    pub const FIRST_DIALLED_LEG: u64 = 1 << 48;

    /// A bridge with no calls.
    pub fn new(config: BridgeConfig) -> Bridge {
        Bridge {
            config,
            calls: BTreeMap::new(),
            legs: HashMap::new(),
            out: VecDeque::new(),
            next_call: 1,
            next_leg: Self::FIRST_DIALLED_LEG,
            relay_up: true,
            next_relay: 1,
            webrtc_phones: std::collections::HashSet::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &BridgeConfig {
        &self.config
    }

    /// Calls in progress.
    pub fn call_count(&self) -> usize {
        self.calls.len()
    }

    /// Whether `leg` belongs to a call in progress.
    pub fn has_leg(&self, leg: LegId) -> bool {
        self.legs.contains_key(&leg)
    }

    /// The party of `leg` is now known as `address` (the XMPP client that
    /// took a call placed to a bare JID). Returns the other leg of the call
    /// (its adapter may show the new address), if there is one.
    pub fn set_address(&mut self, leg: LegId, address: &str) -> Option<(LegId, LegKind)> {
        let l = self.legs.get_mut(&leg)?;
        address.clone_into(&mut l.address);
        let call = self.calls.get(&l.call)?;
        let other = if call.caller == leg { call.callee? } else { call.caller };
        Some((other, self.legs.get(&other)?.kind))
    }

    /// The relay answers (`true`) or stopped answering: while it does not,
    /// calls that need it are refused as `unavailable`.
    pub fn set_relay_up(&mut self, up: bool) {
        self.relay_up = up;
    }

    /// The SIP phone registered as `name` does (or no longer does) so over
    /// WebSocket: it speaks WebRTC media, so calls to it need no anchoring.
    pub fn set_webrtc_phone(&mut self, name: &str, webrtc: bool) {
        if webrtc {
            self.webrtc_phones.insert(name.to_owned());
        } else {
            self.webrtc_phones.remove(name);
        }
    }

    /// The relay's answer to request `id`: the rewritten SDP, or why it failed.
    /// A dial waiting for it goes out (or the target fails as `unavailable`);
    /// an SDP waiting for it goes to its leg (or the call ends).
    pub fn handle_relay_reply(&mut self, id: u64, result: Result<String, String>, now: Instant) {
        let found = self.calls.iter().find(|(_, c)| c.relay_wait.as_ref().is_some_and(|(rid, _)| *rid == id));
        let Some((&call_id, _)) = found else { return };
        let Some((_, wait)) = self.calls.get_mut(&call_id).and_then(|c| c.relay_wait.take()) else { return };
        match (wait, result) {
            (RelayWait::Dial(mut dial), Ok(sdp)) => {
                dial.sdp = Some(sdp);
                self.out.push_back(Output::Dial(dial));
            }
            (RelayWait::Dial(dial), Err(why)) => {
                if let Some(c) = self.calls.get_mut(&call_id) {
                    c.anchor = None;
                }
                let text = Some(format!("media relay: {why}"));
                self.leg_ended(call_id, dial.leg, HangupCause::Unavailable, None, text, now);
            }
            (RelayWait::Event { to, event }, Ok(sdp)) => {
                let event = match event {
                    CallEvent::Answer { early, .. } => CallEvent::Answer { sdp, early },
                    _ => CallEvent::Offer { sdp },
                };
                self.send(Some(to), event);
            }
            (RelayWait::Event { .. }, Err(why)) => {
                let text = Some(format!("media relay: {why}"));
                self.end_call(call_id, None, HangupCause::ConnectivityError, None, text, now);
            }
        }
    }

    /// What a call to `target` with `offer` needs from the relay, under the
    /// policy: `None` when its media can go end to end.
    fn anchoring(&self, offer: &str, target: &Target) -> Option<Mismatch> {
        let needed = match target {
            Target::Browser(_) | Target::Xmpp(_) => Some(Profile::WebRtc),
            // With a relay, SIP phones not on WebSocket, trunks and PBXs get plain RTP (as WebRTC-to-SIP
            // gateways do); without one nothing is known before their answer.
            _ if !self.config.relay => None,
            Target::Phone(name) if self.webrtc_phones.contains(name) => Some(Profile::WebRtc),
            Target::Sip(uri) if uri.to_ascii_lowercase().contains(";transport=ws") => Some(Profile::WebRtc),
            _ => Some(Profile::PlainRtp),
        };
        decide(self.config.anchor, Profile::of(offer)?, needed)
    }

    /// Sends an SDP-carrying `event` from `from` to `to`, through the relay
    /// when the call is anchored.
    fn deliver(&mut self, id: CallId, from: LegId, to: LegId, event: CallEvent) {
        let Some(call) = self.calls.get_mut(&id) else { return };
        let Some(anchor) = call.anchor.as_mut() else {
            self.send(Some(to), event);
            return;
        };
        let tag = |leg: LegId, caller: LegId| if leg == caller { "caller" } else { "callee" };
        let profile = |leg: LegId, a: &Anchor, caller: LegId| if leg == caller { a.caller } else { a.callee };
        let caller = call.caller;
        let op = match &event {
            CallEvent::Offer { sdp } => {
                anchor.offerer = from;
                RelayOp::Offer {
                    sdp: sdp.clone(),
                    from_tag: tag(from, caller),
                    towards: profile(to, anchor, caller),
                }
            }
            CallEvent::Answer { sdp, .. } => RelayOp::Answer {
                sdp: sdp.clone(),
                from_tag: tag(anchor.offerer, caller),
                to_tag: tag(from, caller),
                towards: profile(anchor.offerer, anchor, caller),
            },
            _ => {
                self.send(Some(to), event);
                return;
            }
        };
        let rid = self.next_relay;
        self.next_relay += 1;
        call.relay_wait = Some((rid, RelayWait::Event { to, event }));
        self.out.push_back(Output::Relay(RelayRequest { id: rid, call: id, op }));
    }

    /// Names the call of `leg` in lists and records by `session`, the id a
    /// browser party knows it by (instead of `call-N`).
    pub fn set_session(&mut self, leg: LegId, session: &str) {
        if let Some(call) = self.legs.get(&leg).and_then(|l| self.calls.get_mut(&l.call)) {
            call.label = Some(session.to_owned());
        }
    }

    /// The kind of `leg`, while its call lasts.
    pub fn leg_kind(&self, leg: LegId) -> Option<LegKind> {
        self.legs.get(&leg).map(|l| l.kind)
    }

    /// A new call from `leg` (a `caller.kind` leg that `trickle`s or not)
    /// to `target`, with the caller's offer (`None`: late offer). The call
    /// is routed at once: a [`Output::Dial`] follows (perhaps after the
    /// caller's candidates), or the caller's leg is told to hang up.
    pub fn incoming(
        &mut self,
        leg: LegId,
        caller: Caller,
        target: &str,
        sdp: Option<String>,
        trickle: bool,
        now: Instant,
    ) -> CallId {
        let id = CallId(self.next_call);
        self.next_call += 1;
        let kind = caller.kind;
        let mut l = Leg::new(id, kind, trickle, caller.address.clone(), caller.name.clone());
        l.opened = true;
        self.legs.insert(leg, l);
        let (route, failed) = match self.config.dial_plan.route(kind, target) {
            Ok(r) => (r.into(), None),
            Err(cause) => (VecDeque::new(), Some((cause, None, None))),
        };
        self.calls.insert(
            id,
            Call {
                anchor: None,
                anchor_next: None,
                relay_wait: None,
                caller: leg,
                callee: None,
                caller_info: caller,
                offer: sdp,
                route,
                failed,
                started: now,
                answered: None,
                rang: false,
                pending: None,
                label: None,
                callee_address: target.to_owned(),
                callee_kind: None,
            },
        );
        self.dial_next(id, now);
        id
    }

    /// Something leg `leg` did. Events for legs the bridge does not know
    /// (a call already over) are ignored.
    pub fn handle_event(&mut self, leg: LegId, event: CallEvent, now: Instant) {
        let Some(l) = self.legs.get(&leg) else { return };
        let id = l.call;
        let Some(call) = self.calls.get(&id) else { return };
        let from_caller = call.caller == leg;
        let other = if from_caller { call.callee } else { Some(call.caller) };
        match event {
            CallEvent::Hangup { cause, sip_code, text } => {
                self.leg_ended(id, leg, cause, sip_code, text, now)
            }
            CallEvent::Candidate(c) => self.candidate(id, leg, c, now),
            CallEvent::Ringing => {
                if from_caller {
                    return;
                }
                if let Some(c) = self.calls.get_mut(&id) {
                    c.rang = true;
                }
                self.send(Some(self.calls[&id].caller), CallEvent::Ringing);
            }
            CallEvent::Answer { sdp, early } => {
                if !from_caller
                    && !early
                    && let Some(why) = self.answer_mismatch(id, &sdp)
                {
                    // Connected, it would have no audio: end it with the reason instead.
                    self.end_call(id, None, HangupCause::Incompatible, None, Some(why), now);
                    return;
                }
                if !from_caller && !early {
                    self.answered(id, now);
                }
                if !from_caller
                    && early
                    && let Some(c) = self.calls.get_mut(&id)
                {
                    c.rang = true;
                }
                self.forward_sdp(id, leg, other, CallEvent::Answer { sdp, early }, now);
            }
            CallEvent::Dtmf { digit, duration_ms } => {
                self.send(other, CallEvent::Dtmf { digit, duration_ms });
            }
            CallEvent::OfferRefused { text } => self.send(other, CallEvent::OfferRefused { text }),
            CallEvent::Offer { sdp } => {
                // The callee's offer answers a late-offer call.
                if !from_caller {
                    self.answered(id, now);
                }
                self.forward_sdp(id, leg, other, CallEvent::Offer { sdp }, now);
            }
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) should run next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.calls
            .values()
            .flat_map(|c| {
                let ring = c.answered.is_none().then(|| c.started + self.config.ring_timeout);
                let gather = c.pending.as_ref().map(|p| self.flush_at(p));
                [ring, gather]
            })
            .flatten()
            .min()
    }

    /// Runs the timers due at `now`: held SDPs go out, unanswered calls end.
    pub fn handle_timeout(&mut self, now: Instant) {
        let ids: Vec<CallId> = self.calls.keys().copied().collect();
        for id in ids {
            let Some(call) = self.calls.get(&id) else { continue };
            if call.answered.is_none() && now >= call.started + self.config.ring_timeout {
                self.end_call(id, None, HangupCause::NoAnswer, None, None, now);
                continue;
            }
            if call.pending.as_ref().is_some_and(|p| now >= self.flush_at(p)) {
                self.flush(id);
            }
        }
    }

    /// The next thing to do.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// The calls in progress at `now`.
    pub fn active_calls(&self, now: Instant) -> Vec<CallInfo> {
        self.calls
            .iter()
            .map(|(id, c)| {
                let (caller, callee, pair) = self.parties(c);
                CallInfo {
                    session: c.label.clone().unwrap_or_else(|| format!("call-{}", id.0)),
                    caller,
                    callee,
                    pair,
                    state: if c.answered.is_some() { "answered" } else { "ringing" },
                    age_seconds: now.saturating_duration_since(c.started).as_secs(),
                }
            })
            .collect()
    }

    /// Whether any leg of the call is a browser's.
    pub fn call_has_browser(&self, id: CallId) -> bool {
        self.calls.get(&id).is_some_and(|c| {
            c.caller_info.kind == LegKind::Browser
                || (c.callee.is_some() && c.callee_kind == Some(LegKind::Browser))
        })
    }

    fn parties(&self, c: &Call) -> (CallParty, CallParty, String) {
        let caller = CallParty {
            kind: c.caller_info.kind.word(),
            address: c.caller_info.address.clone(),
            name: c.caller_info.local_name.clone().or_else(|| c.caller_info.name.clone()),
        };
        let callee_leg = c.callee.and_then(|l| self.legs.get(&l));
        let callee = CallParty {
            // `none`: the call was refused before any leg was dialled.
            kind: c.callee_kind.map_or("none", LegKind::word),
            address: callee_leg.map_or_else(|| c.callee_address.clone(), |l| l.address.clone()),
            name: callee_leg.and_then(|l| l.name.clone()),
        };
        let mut kinds = [caller.kind, callee.kind];
        kinds.sort_unstable();
        (caller, callee, kinds.join("-"))
    }

    /// Why the callee's first answer cannot work with the caller's offer
    /// (their media profiles differ and no relay is configured), if so.
    fn answer_mismatch(&self, id: CallId, answer: &str) -> Option<String> {
        let call = self.calls.get(&id)?;
        if call.answered.is_some() || self.config.relay || self.config.anchor != AnchorPolicy::Auto {
            return None;
        }
        let offered = Profile::of(call.offer.as_deref()?)?;
        let answered = Profile::of(answer)?;
        (offered != answered).then(|| {
            format!(
                "the caller offers {offered} and the callee answers {answered}; no media relay is configured (--rtpengine)"
            )
        })
    }

    fn answered(&mut self, id: CallId, now: Instant) {
        if let Some(c) = self.calls.get_mut(&id) {
            c.answered.get_or_insert(now);
        }
    }

    /// Tells `leg` (if its adapter knows it) about `event`.
    fn send(&mut self, leg: Option<LegId>, event: CallEvent) {
        let Some(leg) = leg else { return };
        let Some(l) = self.legs.get(&leg) else { return };
        if l.opened {
            self.out.push_back(Output::Event { leg, kind: l.kind, event });
        }
    }

    /// Dials the call's next target, or ends the call when none is left.
    fn dial_next(&mut self, id: CallId, now: Instant) {
        loop {
            let Some(call) = self.calls.get_mut(&id) else { return };
            let Some(target) = call.route.pop_front() else {
                let (cause, code, text) = call.failed.take().unwrap_or((HangupCause::NotFound, None, None));
                self.end_call(id, None, cause, code, text, now);
                return;
            };
            // A late offer cannot start a Jingle session (the initiator offers). SIP
            // adapters refuse it themselves once they know whether the target exists.
            if call.offer.is_none() && target.kind() == LegKind::Xmpp {
                call.failed = Some((HangupCause::Incompatible, None, None));
                continue;
            }
            let leg = LegId(self.next_leg);
            self.next_leg += 1;
            let kind = target.kind();
            let caller = call.caller;
            let caller_trickles = self.legs.get(&caller).is_some_and(|l| l.trickle);
            let trickle = match kind {
                LegKind::Browser => caller_trickles,
                LegKind::Sip => false,
                LegKind::Xmpp => true,
            };
            let offer = call.offer.clone();
            let needs = offer.as_deref().and_then(|sdp| self.anchoring(sdp, &target));
            let Some(call) = self.calls.get_mut(&id) else { return };
            let mut mismatch = None;
            match needs {
                Some(m) if !self.config.relay => mismatch = Some(m),
                Some(_) if !self.relay_up => {
                    let text = "the media relay (rtpengine) is not answering".to_owned();
                    call.failed = Some((HangupCause::Unavailable, None, Some(text)));
                    continue;
                }
                Some(m) => call.anchor_next = Some(m),
                None => call.anchor_next = None,
            }
            let anchored = call.anchor_next.is_some();
            call.callee = Some(leg);
            call.callee_kind = Some(kind);
            call.callee_address = target.address();
            call.rang = false;
            let dial = Dial {
                leg,
                call: id,
                target: target.clone(),
                caller: call.caller_info.clone(),
                sdp: call.offer.clone(),
                caller_trickles,
                mismatch,
            };
            let name = match &target {
                Target::Browser(n) | Target::Phone(n) => Some(n.clone()),
                _ => None,
            };
            self.legs.insert(leg, Leg::new(id, kind, trickle, target.address(), name));
            if caller_trickles && (!trickle || anchored) && dial.sdp.is_some() {
                let pending = Pending { from: caller, to: leg, held: Held::Dial(dial), since: now };
                if let Some(c) = self.calls.get_mut(&id) {
                    c.pending = Some(pending);
                }
                self.maybe_flush(id, now);
            } else {
                self.open(dial);
                // What the caller trickled so far goes to a leg that trickles.
                if trickle && caller_trickles && !anchored {
                    let (cands, eoc) = self
                        .legs
                        .get(&caller)
                        .map(|l| (l.candidates.clone(), l.end_of_candidates))
                        .unwrap_or_default();
                    for c in cands {
                        self.send(Some(leg), CallEvent::Candidate(Some(c)));
                    }
                    if eoc {
                        self.send(Some(leg), CallEvent::Candidate(None));
                    }
                }
            }
            return;
        }
    }

    fn open(&mut self, mut dial: Dial) {
        if let Some(l) = self.legs.get_mut(&dial.leg) {
            l.opened = true;
        }
        let anchored = self.calls.get(&dial.call).is_some_and(|c| c.anchor_next.is_some());
        // The relay needs every candidate in the offer, as a leg that does not trickle does.
        if dial.sdp.is_some()
            && (anchored || !self.legs.get(&dial.leg).is_some_and(|l| l.trickle))
            && let Some(caller) = self.calls.get(&dial.call).and_then(|c| self.legs.get(&c.caller))
            && caller.trickle
        {
            dial.sdp = dial.sdp.map(|s| merge_candidates(&s, caller));
        }
        let Some(call) = self.calls.get_mut(&dial.call) else { return };
        if let (Some(m), Some(sdp)) = (call.anchor_next.take(), dial.sdp.clone()) {
            call.anchor = Some(Anchor { caller: m.offered, callee: m.needed, offerer: call.caller });
            let rid = self.next_relay;
            self.next_relay += 1;
            let request = RelayRequest {
                id: rid,
                call: dial.call,
                op: RelayOp::Offer { sdp, from_tag: "caller", towards: m.needed },
            };
            call.relay_wait = Some((rid, RelayWait::Dial(dial)));
            self.out.push_back(Output::Relay(request));
            return;
        }
        self.out.push_back(Output::Dial(dial));
    }

    /// An SDP from `leg` for `to`: at once, or held for `leg`'s candidates
    /// when `leg` trickles and `to` does not.
    fn forward_sdp(&mut self, id: CallId, leg: LegId, to: Option<LegId>, event: CallEvent, now: Instant) {
        let Some(to) = to else { return };
        let from_trickles = self.legs.get(&leg).is_some_and(|l| l.trickle);
        let to_trickles = self.legs.get(&to).is_some_and(|l| l.trickle);
        if from_trickles && !to_trickles {
            // A newer SDP from the same leg replaces one still held.
            if let Some(c) = self.calls.get_mut(&id) {
                c.pending = Some(Pending { from: leg, to, held: Held::Event(event), since: now });
            }
            self.maybe_flush(id, now);
        } else {
            self.deliver(id, leg, to, event);
        }
    }

    fn candidate(&mut self, id: CallId, leg: LegId, c: Option<IceCandidateInit>, now: Instant) {
        let Some(l) = self.legs.get_mut(&leg) else { return };
        match &c {
            Some(cand) if l.candidates.len() < MAX_CANDIDATES => {
                l.candidates.push(cand.clone());
                l.last_candidate = Some(now);
            }
            Some(_) => return,
            None => l.end_of_candidates = true,
        }
        let Some(call) = self.calls.get(&id) else { return };
        let other = if call.caller == leg { call.callee } else { Some(call.caller) };
        if call.pending.as_ref().is_some_and(|p| p.from == leg) {
            self.maybe_flush(id, now);
            return;
        }
        // Straight through to a leg that trickles; a leg that does not has had its SDP; in an
        // anchored call each side does ICE with the relay, from the candidates in its SDP.
        if call.anchor.is_none()
            && let Some(o) = other
            && self.legs.get(&o).is_some_and(|l| l.trickle)
        {
            self.send(Some(o), CallEvent::Candidate(c));
        }
    }

    /// When the held SDP goes out at the latest: the gather timeout, or a
    /// quiet settle time once candidates are known.
    fn flush_at(&self, p: &Pending) -> Instant {
        let deadline = p.since + self.config.gather_timeout;
        let Some(from) = self.legs.get(&p.from) else { return p.since };
        if from.end_of_candidates {
            return p.since;
        }
        let has_some =
            !from.candidates.is_empty() || held_sdp(&p.held).is_some_and(|s| s.contains("a=candidate:"));
        if has_some {
            let last = from.last_candidate.map_or(p.since, |t| t.max(p.since));
            return (last + self.config.settle).min(deadline);
        }
        deadline
    }

    fn maybe_flush(&mut self, id: CallId, now: Instant) {
        let due =
            self.calls.get(&id).and_then(|c| c.pending.as_ref()).is_some_and(|p| now >= self.flush_at(p));
        if due {
            self.flush(id);
        }
    }

    fn flush(&mut self, id: CallId) {
        let Some(p) = self.calls.get_mut(&id).and_then(|c| c.pending.take()) else { return };
        match p.held {
            Held::Dial(dial) => self.open(dial),
            Held::Event(event) => {
                let event = match (event, self.legs.get(&p.from)) {
                    (CallEvent::Answer { sdp, early }, Some(from)) => {
                        CallEvent::Answer { sdp: merge_candidates(&sdp, from), early }
                    }
                    (CallEvent::Offer { sdp }, Some(from)) => {
                        CallEvent::Offer { sdp: merge_candidates(&sdp, from) }
                    }
                    (e, _) => e,
                };
                self.deliver(id, p.from, p.to, event);
            }
        }
    }

    fn leg_ended(
        &mut self,
        id: CallId,
        leg: LegId,
        cause: HangupCause,
        sip_code: Option<u16>,
        text: Option<String>,
        now: Instant,
    ) {
        let Some(call) = self.calls.get_mut(&id) else { return };
        let is_callee = call.callee == Some(leg);
        // Not there before it rang: the route's next target, if any.
        let skippable =
            matches!(cause, HangupCause::NotFound | HangupCause::Unavailable | HangupCause::Incompatible);
        if is_callee && call.answered.is_none() && !call.rang && skippable {
            // A target that exists but cannot take the media says more than the ones after it that do not exist.
            // A later target that does not exist says less than any earlier failure.
            let keep = match &call.failed {
                Some((HangupCause::Incompatible, ..)) => cause != HangupCause::Incompatible,
                Some(_) => cause == HangupCause::NotFound,
                None => false,
            };
            let failure = if keep { call.failed.take() } else { Some((cause, sip_code, text)) };
            if !call.route.is_empty() {
                call.failed = failure;
                call.callee = None;
                call.pending = None;
                call.relay_wait = None;
                // The relay's half-made call for this target is dropped; the next one starts afresh.
                if call.anchor.take().is_some() {
                    let rid = self.next_relay;
                    self.next_relay += 1;
                    self.out.push_back(Output::Relay(RelayRequest {
                        id: rid,
                        call: id,
                        op: RelayOp::Delete,
                    }));
                }
                self.legs.remove(&leg);
                self.dial_next(id, now);
                return;
            }
            // The last target: the call ends with the failure that says most.
            let (cause, sip_code, text) = failure.expect("set above");
            self.end_call(id, Some(leg), cause, sip_code, text, now);
            return;
        }
        // A caller giving up before the answer cancels.
        let cause = if !is_callee && call.answered.is_none() && cause == HangupCause::Normal {
            HangupCause::Cancel
        } else {
            cause
        };
        self.end_call(id, Some(leg), cause, sip_code, text, now);
    }

    /// Ends call `id`: every leg but `by` (the leg that ended it, if one did) is told.
    fn end_call(
        &mut self,
        id: CallId,
        by: Option<LegId>,
        cause: HangupCause,
        sip_code: Option<u16>,
        text: Option<String>,
        now: Instant,
    ) {
        if self.calls.get(&id).is_some_and(|c| c.anchor.is_some()) {
            let rid = self.next_relay;
            self.next_relay += 1;
            self.out.push_back(Output::Relay(RelayRequest { id: rid, call: id, op: RelayOp::Delete }));
        }
        let Some(call) = self.calls.get(&id) else { return };
        let legs = [Some(call.caller), call.callee];
        for leg in legs.into_iter().flatten() {
            if Some(leg) != by {
                self.send(Some(leg), CallEvent::Hangup { cause, sip_code, text: text.clone() });
            }
        }
        let Some(call) = self.calls.get(&id) else { return };
        let (caller, callee, pair) = self.parties(call);
        let ended_by = match by {
            Some(l) if l == call.caller => "caller",
            Some(_) => "callee",
            None => "bridge",
        };
        let reason = cause.browser_word();
        let record = CallRecord {
            session: call.label.clone().unwrap_or_else(|| format!("call-{}", id.0)),
            caller,
            callee,
            pair,
            outcome: outcome_by(call.answered.is_some(), reason, ended_by),
            ended_by,
            reason: reason.to_owned(),
            sip_code,
            setup_ms: call.answered.map(|a| millis(a.saturating_duration_since(call.started))),
            talk_ms: call.answered.map_or(0, |a| millis(now.saturating_duration_since(a))),
            duration_ms: millis(now.saturating_duration_since(call.started)),
        };
        for leg in legs.into_iter().flatten() {
            self.legs.remove(&leg);
        }
        self.calls.remove(&id);
        self.out.push_back(Output::Ended(record));
    }
}

fn held_sdp(h: &Held) -> Option<&str> {
    match h {
        Held::Dial(d) => d.sdp.as_deref(),
        Held::Event(CallEvent::Answer { sdp, .. } | CallEvent::Offer { sdp }) => Some(sdp),
        Held::Event(_) => None,
    }
}

fn merge_candidates(sdp: &str, from: &Leg) -> String {
    merge(sdp, &from.candidates)
}
