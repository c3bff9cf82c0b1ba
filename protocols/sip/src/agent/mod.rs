//! The SIP user agent of the gateway, sans-IO (RFC 3261 §8, §12-§17): one
//! leg of a back-to-back user agent per call, towards SIP phones, PBXs and
//! trunks. Messages come in with [`Agent::handle_message`] and the time with
//! [`Agent::handle_timeout`]; what to send comes out of
//! [`Agent::poll_transmit`], what happened to calls out of
//! [`Agent::poll_event`], and when to call back out of
//! [`Agent::poll_timeout`]. The bridge drives calls with [`Agent::dial`],
//! [`Agent::ringing`], [`Agent::answer`], [`Agent::offer`] and
//! [`Agent::hangup`].
//!
//! * Server side: 100 Trying at once for INVITE; 180/200/4xx-6xx when the
//!   bridge says; the 2xx retransmitted until the ACK (§13.3.1.4); CANCEL
//!   answered 200 with 487 for the INVITE (§9.2); BYE; re-INVITE and UPDATE
//!   offers handed to the bridge and answered with its answer; a second offer
//!   while one is pending gets 491 (§14.2); unknown dialogs 481 (§12.2.2);
//!   late offer (INVITE without SDP: the offer goes in the 2xx, the answer
//!   comes in the ACK, §13.3.1.1).
//! * Client side: INVITE and non-INVITE client transactions with Timers A-F
//!   and K (§17.1); ACK for non-2xx inside the transaction, ACK for 2xx end
//!   to end; CANCEL only after a provisional response (§9.1); digest
//!   answers to 401/407 with configured credentials (RFC 8760).
//! * Registrar: REGISTER goes to [`Registrar`](crate::registrar::Registrar);
//!   the flow each user registered from is kept, so that calls to it reuse the
//!   phone's own connection (RFC 5626), which for WebSocket phones is the only way.

mod client;
mod server;
mod trunk;

pub use trunk::{TrunkConfig, TrunkStatus};

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use switchboard_bridge::HangupCause;

use crate::build::{self, contact_uri, host_text};
use crate::flow::Flow;
use crate::message::Message;
use crate::transaction::{ServerTransactions, Timers};
use crate::uas::Uas;

/// One call of this agent (a dialog, or the attempt at one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallRef(pub u64);

/// Credentials for digest challenges to outgoing requests (RFC 8760).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The host of the Request-URI they are for; `None` for any.
    pub host: Option<String>,
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

/// Settings of the agent.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// RFC 3261 timer values.
    pub timers: Timers,
    /// How long an outgoing INVITE may ring before it is cancelled.
    pub ring_timeout: Duration,
    /// Credentials for outgoing requests.
    pub credentials: Vec<Credential>,
    /// Seed of tags, branches and Call-IDs (give it randomness).
    pub seed: u64,
    /// How often an established call over UDP is checked with an in-dialog
    /// OPTIONS (a phone that died sends no BYE, and UDP has no connection
    /// to lose); a call whose check is still unanswered at the next one, or
    /// answered 408/481, ends. `None`: no checks.
    pub keepalive: Option<Duration>,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            timers: Timers::default(),
            ring_timeout: Duration::from_secs(60),
            credentials: Vec::new(),
            seed: 0x5eed,
            keepalive: Some(Duration::from_secs(30)),
        }
    }
}

/// Bytes to send on a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Where.
    pub flow: Flow,
    /// One SIP message.
    pub bytes: Vec<u8>,
}

/// Why a call ended, as the SIP side saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndCause {
    /// The status code that ended it (a final response), `None` for a BYE.
    pub code: Option<u16>,
    /// Its reason phrase, or the Reason header's text, or `BYE`/`CANCEL`.
    pub phrase: String,
    /// The cause as one word for the other leg (see [`cause_of`]).
    pub reason: &'static str,
}

/// The cause word of a SIP status code: `busy`, `decline`, `not-found`,
/// `unavailable`, `timeout`, `cancel`, `incompatible`, `redirected` or `failed`.
pub fn cause_of(code: u16) -> &'static str {
    HangupCause::from_sip(code).browser_word()
}

/// The status code and phrase for ending an unanswered incoming call with
/// `reason` (the cause table of protocols/bridge/MAPPING.md; unknown words: 603).
pub fn code_for(reason: &str) -> (u16, &'static str) {
    HangupCause::from_browser_sip(reason).sip_response()
}

/// What happened to a call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A new incoming call to `user`: answer with [`Agent::ringing`],
    /// [`Agent::answer`] (or [`Agent::offer`] when `sdp` is `None`, a late
    /// offer) or [`Agent::hangup`].
    Incoming {
        /// The call.
        call: CallRef,
        /// The caller's URI (From).
        from: String,
        /// The caller's display name, if any.
        from_name: Option<String>,
        /// The user part of the Request-URI.
        user: String,
        /// The Request-URI.
        uri: String,
        /// The offer; `None` for a late offer.
        sdp: Option<String>,
    },
    /// The peer sent a new offer in the call (re-INVITE, UPDATE): answer with [`Agent::answer`].
    Offer {
        /// The call.
        call: CallRef,
        /// The offer.
        sdp: String,
    },
    /// The called party is ringing (180, or 183 without SDP).
    Ringing {
        /// The call.
        call: CallRef,
    },
    /// The answer to our offer (`early` for 18x with SDP).
    Answer {
        /// The call.
        call: CallRef,
        /// The answer.
        sdp: String,
        /// A provisional answer (early media).
        early: bool,
    },
    /// The peer sent a DTMF digit in an INFO (`application/dtmf-relay` or `application/dtmf`).
    Dtmf {
        /// The call.
        call: CallRef,
        /// `0`-`9`, `*`, `#` or `A`-`D`.
        digit: char,
        /// Milliseconds (250 when the INFO gave none).
        duration_ms: u32,
    },
    /// An upstream registration (trunk) changed state.
    Trunk {
        /// The trunk's name.
        name: String,
        /// Its state now.
        status: TrunkStatus,
        /// The status code of the registrar's answer (408 when none came).
        code: u16,
    },
    /// A user registered (`bound`) or removed its last binding.
    Registration {
        /// The user.
        user: String,
        /// Whether it has a binding now.
        bound: bool,
    },
    /// The call is over on the SIP side (BYE, CANCEL, a final error, a timeout).
    Ended {
        /// The call.
        call: CallRef,
        /// Why.
        cause: EndCause,
    },
}

/// The digit and duration of a DTMF INFO body: `application/dtmf-relay`
/// (`Signal=5` and `Duration=160` lines, the de facto format) or
/// `application/dtmf` (the digit alone). `None` for anything else.
pub fn parse_dtmf_info(content_type: &str, body: &[u8]) -> Option<(char, u32)> {
    let ctype = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let body = std::str::from_utf8(body).ok()?;
    let digit_of = |v: &str| {
        let v = v.trim();
        let mut chars = v.chars();
        let c = chars.next()?.to_ascii_uppercase();
        let ok = chars.next().is_none() && (c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D'));
        // `Signal=10`/`11` are `*`/`#` in some phones' bodies (RFC 4733 event numbers).
        match v {
            "10" => Some('*'),
            "11" => Some('#'),
            _ => ok.then_some(c),
        }
    };
    match ctype.as_str() {
        "application/dtmf-relay" => {
            let mut digit = None;
            let mut duration = 250;
            for line in body.lines() {
                let Some((k, v)) = line.split_once('=') else { continue };
                match k.trim().to_ascii_lowercase().as_str() {
                    "signal" => digit = digit_of(v),
                    "duration" => duration = v.trim().parse().unwrap_or(250),
                    _ => {}
                }
            }
            Some((digit?, duration.clamp(40, 6000)))
        }
        "application/dtmf" => Some((digit_of(body)?, 250)),
        _ => None,
    }
}

/// Who started the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// They called us: we are the UAS of the initial INVITE.
    Uas,
    /// We called them.
    Uac,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// INVITE sent or received, no final response yet.
    Early,
    /// 2xx sent or received.
    Confirmed,
}

/// A 2xx to INVITE being retransmitted until its ACK (§13.3.1.4).
#[derive(Debug)]
struct PendingAck {
    cseq: u32,
    bytes: Vec<u8>,
    next: Option<(Instant, Duration)>,
    give_up: Instant,
    /// The 2xx carried our offer: the ACK brings the answer.
    answer_in_ack: bool,
}

/// A request of the peer waiting for the bridge (the initial INVITE, or an offer in the dialog).
#[derive(Debug)]
struct Waiting {
    key: crate::transaction::Key,
    request: Vec<u8>,
    flow: Flow,
}

#[derive(Debug)]
struct Call {
    role: Role,
    state: State,
    call_id: String,
    local_tag: String,
    remote_tag: Option<String>,
    /// Our From/To value without tag.
    local_addr: String,
    /// Their From/To value without tag.
    remote_addr: String,
    /// Request-URI of requests in the dialog.
    remote_target: String,
    route_set: Vec<String>,
    local_cseq: u32,
    remote_cseq: u32,
    flow: Flow,
    local_sdp: Option<String>,
    /// UAS: the initial INVITE until its final response.
    invite: Option<Waiting>,
    /// UAS: the INVITE had no SDP.
    late_offer: bool,
    /// A re-INVITE/UPDATE offer of the peer waiting for the bridge's answer.
    reoffer: Option<Waiting>,
    pending_ack: Option<PendingAck>,
    /// UAC: the initial INVITE's branch, Request-URI, CSeq and bytes (for CANCEL).
    uac_invite: Option<(String, String, u32, Vec<u8>)>,
    /// UAC: a provisional response arrived (CANCEL may be sent).
    provisional: bool,
    /// UAC: hang up as soon as CANCEL is allowed.
    cancel_wanted: bool,
    /// UAC: the ACK for the 2xx, resent on a retransmitted 2xx.
    ack: Option<Vec<u8>>,
    /// Our re-INVITE waits for its answer.
    reinvite_pending: bool,
    /// UAC: credentials already sent once for this request.
    auth_tried: bool,
    /// UAC: when ringing gives up.
    ring_deadline: Option<Instant>,
    /// When the next in-dialog OPTIONS check is due (established calls over UDP).
    next_check: Option<Instant>,
    /// The last check is unanswered.
    check_pending: bool,
}

impl Call {
    /// A call in its early state with nothing pending; the caller sets what its role needs.
    fn new(role: Role, call_id: String, local_tag: String, flow: Flow) -> Self {
        Call {
            role,
            state: State::Early,
            call_id,
            local_tag,
            remote_tag: None,
            local_addr: String::new(),
            remote_addr: String::new(),
            remote_target: String::new(),
            route_set: Vec::new(),
            local_cseq: 0,
            remote_cseq: 0,
            flow,
            local_sdp: None,
            invite: None,
            late_offer: false,
            reoffer: None,
            pending_ack: None,
            uac_invite: None,
            provisional: false,
            cancel_wanted: false,
            ack: None,
            reinvite_pending: false,
            auth_tried: false,
            ring_deadline: None,
            next_check: None,
            check_pending: false,
        }
    }
}

/// The agent: every call, transaction and binding.
pub struct Agent {
    config: AgentConfig,
    uas: Uas,
    server: ServerTransactions,
    clients: HashMap<String, client::ClientTx>,
    calls: HashMap<CallRef, Call>,
    /// (Call-ID, local tag) -> call.
    dialogs: HashMap<(String, String), CallRef>,
    /// Where each registered user registered from.
    binding_flows: HashMap<String, Flow>,
    /// Upstream registrations.
    trunks: Vec<trunk::Trunk>,
    next_call: u64,
    rng: u64,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
}

/// Counters for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgentStats {
    /// Calls in progress.
    pub calls: usize,
    /// Server transactions alive.
    pub server_transactions: usize,
    /// Client transactions alive.
    pub client_transactions: usize,
}

impl Agent {
    /// An agent with the registrar and screening of `uas`.
    pub fn new(config: AgentConfig, uas: Uas) -> Self {
        let rng = config.seed | 1;
        Agent {
            server: ServerTransactions::new(config.timers),
            config,
            uas,
            clients: HashMap::new(),
            calls: HashMap::new(),
            dialogs: HashMap::new(),
            binding_flows: HashMap::new(),
            trunks: Vec::new(),
            next_call: 1,
            rng,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// The registrar and screening layer.
    pub fn uas(&mut self) -> &mut Uas {
        &mut self.uas
    }

    /// Gauges.
    pub fn stats(&self) -> AgentStats {
        AgentStats {
            calls: self.calls.len(),
            server_transactions: self.server.len(),
            client_transactions: self.clients.len(),
        }
    }

    /// The next message to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next thing that happened to a call.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Whether `user` is a configured SIP user (known, even when not registered).
    pub fn is_user(&self, user: &str) -> bool {
        self.uas.registrar.is_user(user)
    }

    /// Where to reach `user` if it registered and its binding is alive at
    /// `now_secs`: the contact URI and the flow it registered from.
    pub fn binding(&self, user: &str, now_secs: u64) -> Option<(String, Flow)> {
        let uri = self.uas.registrar.lookup(user, now_secs).last()?.uri.clone();
        Some((uri, *self.binding_flows.get(user)?))
    }

    fn random(&mut self) -> u64 {
        // splitmix64
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn token(&mut self) -> String {
        format!("{:x}", self.random())
    }

    fn branch(&mut self) -> String {
        format!("z9hG4bK{:x}", self.random())
    }

    fn send(&mut self, flow: Flow, bytes: Vec<u8>) {
        self.transmits.push_back(Transmit { flow, bytes });
    }

    fn end(&mut self, call: CallRef, code: Option<u16>, phrase: &str, emit: bool) {
        if let Some(c) = self.calls.remove(&call) {
            self.dialogs.remove(&(c.call_id, c.local_tag));
        }
        if emit {
            let reason = code.map_or("normal", cause_of);
            let cause = EndCause { code, phrase: phrase.to_owned(), reason };
            self.events.push_back(Event::Ended { call, cause });
        }
    }

    /// The runtime's connection `conn` closed: the calls that used it end
    /// (their peer cannot be reached any more), and the registrations made
    /// over it no longer route calls (RFC 5626 §4.4.1: the flow failed).
    pub fn connection_closed(&mut self, conn: u64) {
        let lost: Vec<CallRef> =
            self.calls.iter().filter(|(_, c)| c.flow.conn == Some(conn)).map(|(id, _)| *id).collect();
        for id in lost {
            if let Some(c) = self.calls.get_mut(&id) {
                c.invite = None;
                c.reoffer = None;
            }
            self.end(id, None, "connection lost", false);
            // The party is gone, as when a browser disconnects or an XMPP client vanishes.
            let cause = EndCause { code: None, phrase: "connection lost".into(), reason: "unavailable" };
            self.events.push_back(Event::Ended { call: id, cause });
        }
        let gone: Vec<String> =
            self.binding_flows.iter().filter(|(_, f)| f.conn == Some(conn)).map(|(u, _)| u.clone()).collect();
        for user in gone {
            self.binding_flows.remove(&user);
            self.events.push_back(Event::Registration { user, bound: false });
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let server = self.server.poll_timeout();
        let clients = self.clients.values().filter_map(client::ClientTx::next_timer).min();
        let calls = self
            .calls
            .values()
            .flat_map(|c| {
                let ack =
                    c.pending_ack.as_ref().map(|p| p.next.map_or(p.give_up, |(at, _)| at.min(p.give_up)));
                [ack, c.ring_deadline, c.next_check]
            })
            .flatten()
            .min();
        [server, clients, calls, self.trunk_timers()].into_iter().flatten().min()
    }

    /// Fires what is due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        for (flow, bytes) in self.server.handle_timeout(now) {
            self.send(flow, bytes);
        }
        self.client_timeouts(now);
        self.trunk_timeouts(now);
        let t2 = self.config.timers.t2;
        let mut lost = Vec::new();
        let mut resend = Vec::new();
        let mut ring_over = Vec::new();
        for (id, c) in &mut self.calls {
            if let Some(p) = &mut c.pending_ack {
                if now >= p.give_up {
                    lost.push(*id);
                } else if let Some((at, interval)) = p.next
                    && now >= at
                {
                    resend.push((c.flow, p.bytes.clone()));
                    let next = (interval * 2).min(t2);
                    p.next = Some((now + next, next));
                }
            }
            if c.ring_deadline.is_some_and(|d| now >= d) {
                c.ring_deadline = None;
                ring_over.push(*id);
            }
        }
        for (flow, bytes) in resend {
            self.send(flow, bytes);
        }
        for id in lost {
            // No ACK for our 2xx: the dialog is confirmed then ended with BYE (§13.3.1.4).
            if let Some(c) = self.calls.get_mut(&id) {
                c.pending_ack = None;
            }
            self.send_bye(id, now);
            self.end(id, Some(408), "no ACK for the 2xx", true);
        }
        self.check_calls(now);
        for id in ring_over {
            self.hangup(id, "timeout", now);
            self.events.push_back(Event::Ended {
                call: id,
                cause: EndCause { code: Some(408), phrase: "no answer".into(), reason: "timeout" },
            });
        }
    }

    /// One message received on `flow` at `now` (`now_secs`: seconds since the epoch, for the registrar).
    pub fn handle_message(&mut self, flow: Flow, bytes: &[u8], now: Instant, now_secs: u64) {
        if bytes.starts_with(b"SIP/") {
            if let Ok(m) = Message::parse_datagram(bytes) {
                self.handle_response(flow, &m, bytes, now);
            }
            return;
        }
        self.handle_request(flow, bytes, now, now_secs);
    }

    /// Headers of a request of ours in a dialog.
    fn dialog_request(
        &mut self,
        id: CallRef,
        method: &str,
        cseq: Option<u32>,
        extra: &str,
        body: Option<&str>,
    ) -> Option<(Flow, String, Vec<u8>)> {
        let branch = self.branch();
        let c = self.calls.get_mut(&id)?;
        let cseq = cseq.unwrap_or_else(|| {
            c.local_cseq += 1;
            c.local_cseq
        });
        let flow = c.flow;
        let mut out = build::request_head(method, &c.remote_target, &flow, &branch);
        use std::fmt::Write as _;
        for r in &c.route_set {
            let _ = write!(out, "Route: {r}\r\n");
        }
        let _ = write!(out, "From: {};tag={}\r\n", c.local_addr, c.local_tag);
        match &c.remote_tag {
            Some(t) => {
                let _ = write!(out, "To: {};tag={t}\r\n", c.remote_addr);
            }
            None => {
                let _ = write!(out, "To: {}\r\n", c.remote_addr);
            }
        }
        let _ = write!(out, "Call-ID: {}\r\nCSeq: {cseq} {method}\r\n", c.call_id);
        out.push_str(extra);
        out.push_str("User-Agent: switchboard\r\n");
        // Every body this agent sends in a dialog is SDP, but for INFO's DTMF.
        let content_type = if method == "INFO" { "application/dtmf-relay" } else { "application/sdp" };
        build::finish_typed(&mut out, content_type, body);
        Some((flow, branch, out.into_bytes()))
    }

    /// Sends DTMF `digit` lasting `duration_ms` to the peer of an established
    /// call: an INFO with `application/dtmf-relay` (the body SIP phones and
    /// PBXs take: `Signal=5`, `Duration=160`).
    pub fn dtmf(&mut self, id: CallRef, digit: char, duration_ms: u32, now: Instant) {
        if self.calls.get(&id).is_none_or(|c| c.state != State::Confirmed) {
            return;
        }
        let body = format!("Signal={digit}\r\nDuration={duration_ms}\r\n");
        if let Some((flow, branch, bytes)) = self.dialog_request(id, "INFO", None, "", Some(&body)) {
            self.start_client(branch, None, "INFO", flow, bytes, now);
        }
    }

    /// Sends the in-dialog OPTIONS checks that are due; a call whose last
    /// check is still unanswered ends (its peer is gone: BYE is sent anyway).
    fn check_calls(&mut self, now: Instant) {
        let Some(every) = self.config.keepalive else { return };
        let due: Vec<(CallRef, bool)> = self
            .calls
            .iter()
            .filter(|(_, c)| c.state == State::Confirmed && c.next_check.is_some_and(|t| now >= t))
            .map(|(id, c)| (*id, c.check_pending))
            .collect();
        for (id, unanswered) in due {
            if unanswered {
                self.peer_gone(id, "no answer to in-dialog OPTIONS", now);
                continue;
            }
            if let Some(c) = self.calls.get_mut(&id) {
                c.check_pending = true;
                c.next_check = Some(now + every);
            }
            if let Some((flow, branch, bytes)) = self.dialog_request(id, "OPTIONS", None, "", None) {
                self.start_client(branch, Some(id), "OPTIONS", flow, bytes, now);
            }
        }
    }

    /// The final response to an in-dialog OPTIONS check of call `id`: 408
    /// and 481 say the dialog is gone (RFC 5057 §5.1), anything else that the
    /// peer is there.
    pub(super) fn check_answered(&mut self, id: CallRef, code: Option<u16>, now: Instant) {
        match code {
            Some(408 | 481) | None => {
                if self.calls.get(&id).is_some_and(|c| c.check_pending) {
                    self.peer_gone(id, "in-dialog OPTIONS failed", now);
                }
            }
            Some(_) => {
                if let Some(c) = self.calls.get_mut(&id) {
                    c.check_pending = false;
                }
            }
        }
    }

    /// Call `id`'s peer is gone: BYE (in case it is not), and the call ends as `unavailable`.
    fn peer_gone(&mut self, id: CallRef, why: &str, now: Instant) {
        self.send_bye(id, now);
        self.end(id, None, why, false);
        let cause = EndCause { code: None, phrase: why.to_owned(), reason: "unavailable" };
        self.events.push_back(Event::Ended { call: id, cause });
    }

    fn send_bye(&mut self, id: CallRef, now: Instant) {
        if let Some((flow, branch, bytes)) = self.dialog_request(id, "BYE", None, "", None) {
            self.start_client(branch, None, "BYE", flow, bytes, now);
        }
    }

    fn contact_header(flow: &Flow) -> String {
        format!("Contact: <{}>\r\n", contact_uri("switchboard", flow))
    }

    /// Sends the pending final or provisional response `code` to the waiting request of `id`.
    fn respond_waiting(
        &mut self,
        w: &Waiting,
        local_tag: &str,
        code: u16,
        reason: &str,
        body: Option<&str>,
        now: Instant,
    ) -> Option<Vec<u8>> {
        let m = Message::parse_datagram(&w.request).ok()?;
        let mut headers: Vec<(&str, String)> = Vec::new();
        if (101..300).contains(&code) {
            headers.push(("Contact", format!("<{}>", contact_uri("switchboard", &w.flow))));
        }
        if code < 300 {
            headers.push(("Allow", crate::uas::ALLOWED.into()));
        }
        headers.push(("Server", "switchboard".into()));
        let bytes = build::response(&m, code, reason, Some(local_tag), &w.flow, &headers, body);
        if let Some((flow, b)) = self.server.respond(&w.key, code, bytes.clone(), now) {
            self.send(flow, b);
        }
        Some(bytes)
    }

    /// The call is ringing (incoming calls): 180 Ringing.
    pub fn ringing(&mut self, id: CallRef, now: Instant) {
        let Some(c) = self.calls.get_mut(&id) else { return };
        let Some(w) = c.invite.take() else { return };
        let tag = c.local_tag.clone();
        self.respond_waiting(&w, &tag, 180, "Ringing", None, now);
        if let Some(c) = self.calls.get_mut(&id) {
            c.invite = Some(w);
        }
    }

    /// Early media (incoming calls with an offer): 183 Session Progress with
    /// `sdp`, the answer the final 2xx will repeat (RFC 3261 §13.2.1; the
    /// 183 is not sent reliably, RFC 3262 is not in use).
    pub fn early(&mut self, id: CallRef, sdp: &str, now: Instant) {
        let Some(c) = self.calls.get_mut(&id) else { return };
        if c.late_offer {
            return;
        }
        let Some(w) = c.invite.take() else { return };
        let tag = c.local_tag.clone();
        self.respond_waiting(&w, &tag, 183, "Session Progress", Some(sdp), now);
        if let Some(c) = self.calls.get_mut(&id) {
            c.invite = Some(w);
        }
    }

    /// The bridge's answer to the peer's offer (the initial INVITE's, or a
    /// re-INVITE's/UPDATE's): a 2xx with `sdp`.
    pub fn answer(&mut self, id: CallRef, sdp: &str, now: Instant) {
        let Some(c) = self.calls.get_mut(&id) else { return };
        let waiting = if c.invite.is_some() && !c.late_offer {
            c.invite.take().map(|w| (w, true))
        } else {
            c.reoffer.take().map(|w| (w, false))
        };
        // Nothing waits for an answer: the bridge's state machine does not send one then.
        let Some((w, initial)) = waiting else { return };
        self.send_ok(id, w, sdp, initial, false, now);
    }

    /// A new offer from the bridge: the 2xx of a late-offer INVITE, or a re-INVITE in the call.
    pub fn offer(&mut self, id: CallRef, sdp: &str, now: Instant) {
        let Some(c) = self.calls.get_mut(&id) else { return };
        if c.late_offer && c.invite.is_some() {
            let w = c.invite.take().expect("checked");
            self.send_ok(id, w, sdp, true, true, now);
            return;
        }
        if c.state != State::Confirmed || c.reinvite_pending || c.reoffer.is_some() {
            return;
        }
        c.reinvite_pending = true;
        c.local_sdp = Some(sdp.to_owned());
        let contact = Self::contact_header(&c.flow);
        if let Some((flow, branch, bytes)) = self.dialog_request(id, "INVITE", None, &contact, Some(sdp)) {
            self.start_client(branch, Some(id), "INVITE", flow, bytes, now);
        }
    }

    /// The bridge cannot take the peer's new offer (re-INVITE, UPDATE): 488
    /// Not Acceptable Here to it; the call goes on as it was (RFC 3261 §14.2).
    pub fn refuse_offer(&mut self, id: CallRef, now: Instant) {
        let Some(c) = self.calls.get_mut(&id) else { return };
        let Some(w) = c.reoffer.take() else { return };
        let tag = c.local_tag.clone();
        self.respond_waiting(&w, &tag, 488, "Not Acceptable Here", None, now);
    }

    fn send_ok(
        &mut self,
        id: CallRef,
        w: Waiting,
        sdp: &str,
        initial: bool,
        answer_in_ack: bool,
        now: Instant,
    ) {
        let Some(c) = self.calls.get(&id) else { return };
        let tag = c.local_tag.clone();
        // The waiting request parsed when it arrived, so it parses again.
        let Ok(request) = Message::parse_datagram(&w.request) else { return };
        let invite = request.method() == Some("INVITE");
        let cseq = request.cseq().map_or(0, |c| c.number);
        let reliable = w.flow.is_reliable();
        let Some(bytes) = self.respond_waiting(&w, &tag, 200, "OK", Some(sdp), now) else { return };
        let t1 = self.config.timers.t1;
        let c = self.calls.get_mut(&id).expect("present");
        c.local_sdp = Some(sdp.to_owned());
        if initial {
            c.state = State::Confirmed;
            c.next_check = (!c.flow.is_reliable()).then_some(()).and(self.config.keepalive).map(|k| now + k);
        }
        if invite {
            c.pending_ack = Some(PendingAck {
                cseq,
                bytes,
                next: (!reliable).then_some((now + t1, t1)),
                give_up: now + 64 * t1,
                answer_in_ack,
            });
        }
    }

    /// Ends the call from the bridge's side, with `reason` (a cause word)
    /// for an unanswered incoming call: CANCEL, BYE or a final response as
    /// the state requires. No [`Event::Ended`] follows.
    pub fn hangup(&mut self, id: CallRef, reason: &str, now: Instant) {
        let Some(c) = self.calls.get_mut(&id) else { return };
        match (c.role, c.state) {
            (Role::Uas, State::Early) => {
                if let Some(w) = c.invite.take() {
                    let tag = c.local_tag.clone();
                    let (code, phrase) = code_for(reason);
                    self.respond_waiting(&w, &tag, code, phrase, None, now);
                }
                self.end(id, None, "", false);
            }
            (Role::Uac, State::Early) => {
                if c.provisional {
                    self.send_cancel(id, now);
                    // The call ends when the 487 (or a 2xx, then BYE) arrives.
                    if let Some(c) = self.calls.get_mut(&id) {
                        c.cancel_wanted = true;
                        c.ring_deadline = None;
                    }
                } else {
                    c.cancel_wanted = true;
                    c.ring_deadline = None;
                }
            }
            (_, State::Confirmed) => {
                if let Some(w) = c.reoffer.take() {
                    let tag = c.local_tag.clone();
                    self.respond_waiting(&w, &tag, 487, "Request Terminated", None, now);
                }
                self.send_bye(id, now);
                self.end(id, None, "", false);
            }
        }
    }

    /// Calls `target` (a SIP URI) over `flow` from `from_user` (with display
    /// name `from_name`), offering `sdp`.
    pub fn dial(
        &mut self,
        target: &str,
        flow: Flow,
        from_user: &str,
        from_name: Option<&str>,
        sdp: Option<&str>,
        now: Instant,
    ) -> CallRef {
        self.dial_to(target, target, flow, from_user, from_name, sdp, now)
    }

    /// Like [`dial`](Self::dial), with a To address (`to`, the address of record called)
    /// other than the Request-URI (`request_uri`, e.g. a registered phone's contact, §8.1.1.2).
    #[allow(clippy::too_many_arguments)]
    pub fn dial_to(
        &mut self,
        to: &str,
        request_uri: &str,
        flow: Flow,
        from_user: &str,
        from_name: Option<&str>,
        sdp: Option<&str>,
        now: Instant,
    ) -> CallRef {
        let target = request_uri;
        let id = CallRef(self.next_call);
        self.next_call += 1;
        let call_id = format!("{}@switchboard", self.token());
        let local_tag = self.token();
        let local_host = host_text(&flow.local);
        let display = from_name.map(|n| format!("\"{}\" ", n.replace(['"', '\\'], ""))).unwrap_or_default();
        let local_addr = format!("{display}<sip:{from_user}@{local_host}>");
        let remote_addr = format!("<{to}>");
        let call = Call {
            local_addr,
            remote_addr,
            remote_target: target.to_owned(),
            local_sdp: sdp.map(str::to_owned),
            ring_deadline: Some(now + self.config.ring_timeout),
            ..Call::new(Role::Uac, call_id.clone(), local_tag.clone(), flow)
        };
        self.calls.insert(id, call);
        self.dialogs.insert((call_id, local_tag), id);
        self.send_invite(id, None, now);
        id
    }

    /// Sends (or re-sends with credentials) the initial INVITE of a UAC call.
    fn send_invite(&mut self, id: CallRef, authorization: Option<String>, now: Instant) {
        let Some(c) = self.calls.get(&id) else { return };
        let mut extra = Self::contact_header(&c.flow);
        extra.push_str("Allow: ");
        extra.push_str(crate::uas::ALLOWED);
        extra.push_str("\r\nSupported: replaces\r\n");
        if let Some(a) = authorization {
            extra.push_str(&a);
        }
        let body = c.local_sdp.clone();
        let target = c.remote_target.clone();
        if let Some((flow, branch, bytes)) = self.dialog_request(id, "INVITE", None, &extra, body.as_deref())
        {
            let cseq = self.calls[&id].local_cseq;
            self.calls.get_mut(&id).expect("present").uac_invite =
                Some((branch.clone(), target, cseq, bytes.clone()));
            self.start_client(branch, Some(id), "INVITE", flow, bytes, now);
        }
    }

    fn send_cancel(&mut self, id: CallRef, now: Instant) {
        let Some(c) = self.calls.get(&id) else { return };
        let Some((branch, uri, cseq, _)) = &c.uac_invite else { return };
        // Same Request-URI, branch, Call-ID, From, To and CSeq number as the INVITE (§9.1).
        let mut out = build::request_head("CANCEL", uri, &c.flow, branch);
        use std::fmt::Write as _;
        for r in &c.route_set {
            let _ = write!(out, "Route: {r}\r\n");
        }
        let _ = write!(
            out,
            "From: {};tag={}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {cseq} CANCEL\r\nUser-Agent: switchboard\r\n",
            c.local_addr, c.local_tag, c.remote_addr, c.call_id
        );
        build::finish(&mut out, None);
        let (flow, branch) = (c.flow, branch.clone());
        self.start_client(branch, None, "CANCEL", flow, out.into_bytes(), now);
    }

    /// Builds and sends the ACK for a 2xx to our INVITE (§13.2.2.4).
    fn send_ack_2xx(&mut self, id: CallRef, cseq: u32, body: Option<&str>) {
        if let Some((flow, _, bytes)) = self.dialog_request(id, "ACK", Some(cseq), "", body) {
            if let Some(c) = self.calls.get_mut(&id) {
                c.ack = Some(bytes.clone());
            }
            self.send(flow, bytes);
        }
    }

    /// The header line answering the digest challenge of a 401/407 `response` to our
    /// `method` for `uri` (RFC 3261 §22.2, §22.3), if one of its challenges can be answered.
    fn answer_challenge(
        &mut self,
        response: &Message<'_>,
        code: u16,
        method: &str,
        uri: &str,
        user: &str,
        password: &str,
    ) -> Option<String> {
        let (challenge, answer) = match code {
            401 => ("WWW-Authenticate", "Authorization"),
            407 => ("Proxy-Authenticate", "Proxy-Authorization"),
            _ => return None,
        };
        let cnonce = self.token();
        let value = response
            .lines(challenge)
            .find_map(|ch| crate::digest::authorization(ch, method, uri, user, password, &cnonce))?;
        Some(format!("{answer}: {value}\r\n"))
    }

    fn credential_for(&self, uri: &str) -> Option<Credential> {
        let host = build::host_port_of(uri).map(|(h, _)| h.to_ascii_lowercase());
        self.config
            .credentials
            .iter()
            .find(|c| c.host.as_ref().is_none_or(|h| Some(h.to_ascii_lowercase()) == host))
            .cloned()
    }
}

#[cfg(test)]
mod tests;
