//! Client transactions (RFC 3261 §17.1) and what responses do to calls.
//!
//! * INVITE (§17.1.1): Timer A retransmits over UDP (T1, doubling) until a
//!   response; Timer B (64*T1) gives up; a 3xx-6xx is ACKed in the
//!   transaction and re-ACKed on retransmission until Timer D (32 s, 0 on
//!   reliable transports); a 2xx hands over to the call (its ACK is end to
//!   end) and retransmitted 2xx are re-ACKed while the transaction lingers
//!   for 64*T1 (RFC 6026 "Accepted").
//! * Non-INVITE (§17.1.2): Timer E retransmits over UDP (T1 doubling to
//!   T2) until a final response, Timer F (64*T1) gives up, Timer K (T4, 0 on
//!   reliable transports) absorbs retransmitted responses.

use std::time::{Duration, Instant};

use super::server::literal_addr;
use super::{Agent, CallRef, Event, Role, State, Transmit};
use crate::build::{self, tag_of, uri_of};
use crate::flow::Flow;
use crate::message::{Message, StartLine};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxState {
    Trying,
    Proceeding,
    Completed,
    Accepted,
}

/// One client transaction.
#[derive(Debug)]
pub(super) struct ClientTx {
    call: Option<CallRef>,
    /// The trunk whose REGISTER this is.
    trunk: Option<usize>,
    invite: bool,
    state: TxState,
    flow: Flow,
    request: Vec<u8>,
    retransmit: Option<(Instant, Duration)>,
    /// Timer B/F while waiting, D/K/Accepted linger once done.
    deadline: Instant,
    /// The ACK of a non-2xx final response, resent on its retransmission.
    ack: Option<Vec<u8>>,
    /// An in-dialog OPTIONS check of its call.
    check: bool,
}

impl ClientTx {
    pub(super) fn next_timer(&self) -> Option<Instant> {
        Some(self.retransmit.map_or(self.deadline, |(at, _)| at.min(self.deadline)))
    }
}

impl Agent {
    pub(super) fn start_client(
        &mut self,
        branch: String,
        call: Option<CallRef>,
        method: &str,
        flow: Flow,
        request: Vec<u8>,
        now: Instant,
    ) {
        let t1 = self.config.timers.t1;
        let tx = ClientTx {
            call,
            trunk: None,
            invite: method == "INVITE",
            state: TxState::Trying,
            flow,
            request: request.clone(),
            retransmit: (!flow.is_reliable()).then_some((now + t1, t1)),
            deadline: now + 64 * t1,
            ack: None,
            check: method == "OPTIONS" && call.is_some(),
        };
        // A CANCEL shares its INVITE's branch (§9.1): the method keeps them apart.
        self.clients.insert(format!("{branch} {method}"), tx);
        self.transmits.push_back(Transmit { flow, bytes: request });
    }

    /// Sends a trunk's REGISTER in a non-INVITE client transaction.
    pub(super) fn start_trunk_client(
        &mut self,
        branch: String,
        trunk: usize,
        flow: Flow,
        request: Vec<u8>,
        now: Instant,
    ) {
        self.start_client(branch.clone(), None, "REGISTER", flow, request, now);
        if let Some(tx) = self.clients.get_mut(&format!("{branch} REGISTER")) {
            tx.trunk = Some(trunk);
        }
    }

    pub(super) fn client_timeouts(&mut self, now: Instant) {
        let t2 = self.config.timers.t2;
        let mut timed_out = Vec::new();
        let mut resend = Vec::new();
        self.clients.retain(|_, tx| {
            if now >= tx.deadline {
                if matches!(tx.state, TxState::Trying | TxState::Proceeding) {
                    timed_out.push((tx.call, tx.invite, tx.trunk, tx.check));
                }
                return false;
            }
            if let Some((at, interval)) = tx.retransmit
                && now >= at
            {
                resend.push((tx.flow, tx.request.clone()));
                // Timer A doubles without bound; Timer E is capped at T2 (and at T2 once proceeding).
                let next = if tx.invite { interval * 2 } else { (interval * 2).min(t2) };
                tx.retransmit = Some((now + next, next));
            }
            true
        });
        for (flow, bytes) in resend {
            self.send(flow, bytes);
        }
        for (call, invite, trunk, check) in timed_out {
            if let Some(i) = trunk {
                self.on_trunk_response(i, None, now);
                continue;
            }
            // Timer F of an in-dialog OPTIONS check: nobody there.
            if check && let Some(id) = call {
                self.check_answered(id, None, now);
                continue;
            }
            // Timer B: the INVITE got no final response; Timer F for a BYE needs no more.
            if invite && let Some(id) = call {
                let initial = self.calls.get(&id).is_some_and(|c| c.state == State::Early);
                if initial {
                    let emit = !self.calls[&id].cancel_wanted;
                    self.end(id, Some(408), "Request Timeout", emit);
                } else if let Some(c) = self.calls.get_mut(&id) {
                    c.reinvite_pending = false;
                }
            }
        }
    }

    pub(super) fn handle_response(&mut self, flow: Flow, m: &Message<'_>, _bytes: &[u8], now: Instant) {
        let StartLine::Response { code, reason } = m.start else { return };
        let Ok(vias) = m.vias() else { return };
        let Some(branch) = vias.first().and_then(|v| v.branch()) else { return };
        let Ok(cseq) = m.cseq() else { return };
        let Some(tx) = self.clients.get_mut(&format!("{branch} {}", cseq.method)) else { return };
        let call = tx.call;
        if flow.is_reliable() {
            tx.flow = flow;
        }
        let t4 = self.config.timers.t4;
        let reliable = tx.flow.is_reliable();
        if !tx.invite {
            match (tx.state, code) {
                (TxState::Trying | TxState::Proceeding, 100..=199) => {
                    tx.state = TxState::Proceeding;
                    // Timer E keeps running, at T2 once proceeding.
                    let t2 = self.config.timers.t2;
                    if let Some((at, _)) = tx.retransmit {
                        tx.retransmit = Some((at, t2));
                    }
                }
                (TxState::Trying | TxState::Proceeding, _) => {
                    tx.state = TxState::Completed;
                    tx.retransmit = None;
                    tx.deadline = now + if reliable { Duration::ZERO } else { t4 };
                    if let Some(i) = tx.trunk {
                        self.on_trunk_response(i, Some(m), now);
                    }
                    if cseq.method == "OPTIONS"
                        && let Some(id) = call
                    {
                        self.check_answered(id, Some(code), now);
                    }
                }
                _ => {}
            }
            return;
        }
        // INVITE client transaction.
        match code {
            100..=199 => {
                if matches!(tx.state, TxState::Trying | TxState::Proceeding) {
                    tx.state = TxState::Proceeding;
                    tx.retransmit = None;
                    // Timer B no longer applies once proceeding; the call's ring timeout does.
                    tx.deadline = now + Duration::from_secs(3600);
                }
                if let Some(id) = call {
                    self.on_provisional(id, m, code, flow, now);
                }
            }
            200..=299 => {
                let first = matches!(tx.state, TxState::Trying | TxState::Proceeding);
                tx.state = TxState::Accepted;
                tx.retransmit = None;
                tx.deadline = now + 64 * self.config.timers.t1;
                if let Some(id) = call {
                    self.on_success(id, m, cseq.number, first, flow, now);
                }
            }
            _ => {
                let first = matches!(tx.state, TxState::Trying | TxState::Proceeding);
                if first {
                    tx.state = TxState::Completed;
                    tx.retransmit = None;
                    tx.deadline = now + if reliable { Duration::ZERO } else { 64 * self.config.timers.t1 };
                    let ack = ack_for_failure(&tx.request, m);
                    tx.ack = ack.clone();
                    let flow = tx.flow;
                    if let Some(a) = ack {
                        self.send(flow, a);
                    }
                    if let Some(id) = call {
                        self.on_failure(id, m, code, reason, now);
                    }
                } else if let Some(a) = tx.ack.clone() {
                    let flow = tx.flow;
                    self.send(flow, a);
                }
            }
        }
    }

    fn on_provisional(&mut self, id: CallRef, m: &Message<'_>, code: u16, flow: Flow, now: Instant) {
        let Some(c) = self.calls.get_mut(&id) else { return };
        if code == 100 {
            if c.cancel_wanted && !c.provisional {
                c.provisional = true;
                self.send_cancel(id, now);
            }
            return;
        }
        let first = !c.provisional;
        c.provisional = true;
        if flow.is_reliable() {
            c.flow = flow;
        }
        if c.remote_tag.is_none() {
            c.remote_tag = m.header("To").and_then(tag_of).map(str::to_owned);
        }
        if c.cancel_wanted {
            if first {
                self.send_cancel(id, now);
            }
            return;
        }
        if c.state != State::Early || c.role != Role::Uac {
            return;
        }
        if !m.body.is_empty() {
            let sdp = String::from_utf8_lossy(m.body).into_owned();
            self.events.push_back(Event::Answer { call: id, sdp, early: true });
        } else if (180..=183).contains(&code) {
            self.events.push_back(Event::Ringing { call: id });
        }
    }

    fn on_success(&mut self, id: CallRef, m: &Message<'_>, cseq: u32, first: bool, flow: Flow, now: Instant) {
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        if flow.is_reliable() {
            c.flow = flow;
        }
        let to_tag = m.header("To").and_then(tag_of).map(str::to_owned);
        if c.state == State::Confirmed && !c.reinvite_pending {
            // A retransmitted 2xx: ACK it again (§13.2.2.4).
            if let Some(ack) = c.ack.clone() {
                let f = c.flow;
                self.send(f, ack);
            }
            return;
        }
        let reinvite = c.state == State::Confirmed;
        if !reinvite {
            c.remote_tag = to_tag;
            if let Some(contact) = m.values("Contact").first() {
                c.remote_target = uri_of(contact).to_owned();
                if !c.flow.is_reliable()
                    && let Some(addr) = literal_addr(&c.remote_target)
                {
                    c.flow.remote = addr;
                }
            }
            // Route set: Record-Route in reverse (§12.1.2).
            c.route_set = m.values("Record-Route").into_iter().rev().map(str::to_owned).collect();
            c.state = State::Confirmed;
            c.ring_deadline = None;
            c.next_check = (!c.flow.is_reliable()).then_some(()).and(self.config.keepalive).map(|k| now + k);
        }
        c.reinvite_pending = false;
        let cancel = c.cancel_wanted;
        let (call_id, local_tag) = (c.call_id.clone(), c.local_tag.clone());
        self.dialogs.insert((call_id, local_tag), id);
        self.send_ack_2xx(id, cseq, None);
        if cancel {
            // Answered while we were cancelling: end it with BYE (§9.1).
            self.send_bye(id, now);
            self.end(id, None, "", false);
            return;
        }
        if first {
            let sdp = String::from_utf8_lossy(m.body).into_owned();
            if !sdp.is_empty() {
                self.events.push_back(Event::Answer { call: id, sdp, early: false });
            }
        }
    }

    fn on_failure(&mut self, id: CallRef, m: &Message<'_>, code: u16, reason: &str, now: Instant) {
        let Some(c) = self.calls.get_mut(&id) else { return };
        if c.state == State::Confirmed {
            // A failed re-INVITE leaves the call as it was (§14.1), except 481/408 which end it.
            c.reinvite_pending = false;
            if matches!(code, 408 | 481) {
                self.send_bye(id, now);
                self.end(id, Some(code), reason, true);
            }
            return;
        }
        let (auth_tried, cancel_wanted) = (c.auth_tried, c.cancel_wanted);
        if matches!(code, 401 | 407) && !auth_tried && !cancel_wanted {
            let target = c.remote_target.clone();
            if let Some(cred) = self.credential_for(&target)
                && let Some(line) =
                    self.answer_challenge(m, code, "INVITE", &target, &cred.user, &cred.password)
            {
                let c = self.calls.get_mut(&id).expect("present");
                c.auth_tried = true;
                c.remote_tag = None;
                self.send_invite(id, Some(line), now);
                return;
            }
        }
        let emit = !(cancel_wanted && code == 487);
        self.end(id, Some(code), reason, emit);
    }
}

/// The ACK of a non-2xx final response (§17.1.1.3): Request-URI, top Via,
/// From, Call-ID and Route of the INVITE, To of the response, CSeq number
/// with method ACK.
fn ack_for_failure(invite: &[u8], response: &Message<'_>) -> Option<Vec<u8>> {
    let req = Message::parse_datagram(invite).ok()?;
    let StartLine::Request { uri, .. } = req.start else { return None };
    let mut out = format!("ACK {uri} SIP/2.0\r\n");
    let via = req.values("Via").into_iter().next()?;
    out.push_str(&format!("Via: {via}\r\nMax-Forwards: 70\r\n"));
    for r in req.values("Route") {
        out.push_str(&format!("Route: {r}\r\n"));
    }
    out.push_str(&format!(
        "From: {}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {} ACK\r\n",
        req.header("From")?,
        response.header("To")?,
        req.call_id().ok()?,
        req.cseq().ok()?.number
    ));
    build::finish(&mut out, None);
    Some(out.into_bytes())
}
