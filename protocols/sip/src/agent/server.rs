//! Requests the agent receives: screening (§8.2), server transactions
//! (§17.2), new calls, requests inside dialogs (§12.2.2), CANCEL (§9.2) and
//! the ACK of our 2xx (§13.3.1.4).

use std::time::Instant;

use super::{Agent, Call, EndCause, Event, PendingAck, Role, Waiting};
use crate::build::{self, display_of, tag_of, uri_of, user_of};
use crate::flow::Flow;
use crate::message::{Message, StartLine};
use crate::transaction::{Incoming, Key};
use crate::uas::{self, Verdict, response_bytes};

/// A header value without its `tag` parameter.
fn without_tag(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let (head, params) = match value.find('>') {
        Some(i) => value.split_at(i + 1),
        None => match value.find(';') {
            Some(i) => value.split_at(i),
            None => (value, ""),
        },
    };
    out.push_str(head.trim());
    for p in params.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        if !p.split('=').next().unwrap_or_default().trim().eq_ignore_ascii_case("tag") {
            out.push(';');
            out.push_str(p);
        }
    }
    out
}

impl Agent {
    /// Answers `verdict` to `bytes` in transaction `key` (or statelessly without one).
    fn reply(&mut self, key: Option<&Key>, flow: Flow, bytes: &[u8], verdict: &Verdict, now: Instant) {
        let tag = self.token();
        let Some(response) = response_bytes(bytes, verdict, &tag) else {
            if let Some(k) = key {
                self.server.forget(k);
            }
            return;
        };
        let code = match verdict {
            Verdict::Respond { code, .. } => *code,
            _ => 0,
        };
        match key {
            Some(k) => {
                if let Some((f, b)) = self.server.respond(k, code, response, now) {
                    self.send(f, b);
                }
            }
            None => self.send(flow, response),
        }
    }

    fn reply_code(&mut self, key: &Key, flow: Flow, bytes: &[u8], code: u16, reason: &str, now: Instant) {
        let verdict = Verdict::Respond { code, reason: reason.into(), headers: Vec::new() };
        self.reply(Some(key), flow, bytes, &verdict, now);
    }

    /// Responses go back to the request's source address and port whether or
    /// not the top Via asks for `rport` (symmetric response routing, what
    /// RFC 3581 asks for and what "force rport" does in Kamailio and
    /// Asterisk): behind NAT the Via's own port is unreachable, and over
    /// loopback tests a torture message's made-up Via would point elsewhere.
    pub(super) fn handle_request(&mut self, flow: Flow, bytes: &[u8], now: Instant, now_secs: u64) {
        let parsed = Message::parse_datagram(bytes);
        let class = parsed.as_ref().ok().and_then(|m| self.server.handle_request(m, flow, now));
        let key = match class {
            Some(Incoming::Retransmission(Some(last))) => return self.send(flow, last),
            Some(Incoming::Retransmission(None) | Incoming::AckAbsorbed) => return,
            Some(Incoming::AckForDialog) => {
                if let Ok(m) = &parsed
                    && uas::check(bytes).is_ok()
                {
                    self.on_ack(m);
                }
                return;
            }
            Some(Incoming::New(key)) => Some(key),
            None => None,
        };
        let m = match uas::check(bytes) {
            Ok(m) => m,
            Err(verdict) => return self.reply(key.as_ref(), flow, bytes, &verdict, now),
        };
        let Some(key) = key else {
            // Checked requests always have a transaction key; stay stateless otherwise.
            return self.reply(None, flow, bytes, &uas::screen(bytes), now);
        };
        let StartLine::Request { method, uri } = m.start else { return };
        if method == "ACK" {
            // An ACK whose INVITE transaction is unknown and that names no dialog: nothing to do.
            return self.server.forget(&key);
        }
        let to_tag = m.header("To").and_then(tag_of);
        if let Some(tag) = to_tag {
            return self.in_dialog(key, flow, &m, bytes, tag, now);
        }
        match method {
            "INVITE" => self.new_call(key, flow, &m, bytes, uri),
            "CANCEL" => self.on_cancel(key, flow, &m, bytes, now),
            "REGISTER" => {
                let verdict = self.uas.registrar.handle(&m, now_secs);
                if let (Verdict::Respond { code: 200, headers, .. }, Some(user)) =
                    (&verdict, m.header("To").and_then(|t| user_of(uri_of(t))))
                {
                    let bound = headers.iter().any(|(n, _)| *n == "Contact");
                    if bound {
                        self.binding_flows.insert(user.clone(), flow);
                    } else {
                        self.binding_flows.remove(&user);
                    }
                    self.events.push_back(Event::Registration { user, bound });
                }
                self.reply(Some(&key), flow, bytes, &verdict, now);
            }
            _ => self.reply(Some(&key), flow, bytes, &uas::screen(bytes), now),
        }
    }

    fn new_call(&mut self, key: Key, flow: Flow, m: &Message<'_>, bytes: &[u8], uri: &str) {
        let id = super::CallRef(self.next_call);
        self.next_call += 1;
        let local_tag = self.token();
        let from = m.header("From").unwrap_or_default();
        let to = m.header("To").unwrap_or_default();
        let call_id = m.call_id().unwrap_or_default().to_owned();
        let contact = m.values("Contact").first().map(|c| uri_of(c).to_owned());
        let mut call_flow = flow;
        if !flow.is_reliable()
            && let Some(addr) = contact.as_deref().and_then(literal_addr)
        {
            call_flow.remote = addr;
        }
        let trying = build::response(m, 100, "Trying", None, &flow, &[], None);
        if let Some((f, b)) = self.server.respond(&key, 100, trying, Instant::now()) {
            self.send(f, b);
        }
        let late_offer = m.body.is_empty();
        let call = Call {
            remote_tag: tag_of(from).map(str::to_owned),
            local_addr: without_tag(to),
            remote_addr: without_tag(from),
            remote_target: contact.unwrap_or_else(|| uri_of(from).to_owned()),
            route_set: m.values("Record-Route").into_iter().map(str::to_owned).collect(),
            remote_cseq: m.cseq().map(|c| c.number).unwrap_or(0),
            invite: Some(Waiting { key, request: bytes.to_vec(), flow }),
            late_offer,
            ..Call::new(Role::Uas, call_id.clone(), local_tag.clone(), call_flow)
        };
        self.calls.insert(id, call);
        self.dialogs.insert((call_id, local_tag), id);
        self.events.push_back(Event::Incoming {
            call: id,
            from: uri_of(from).to_owned(),
            from_name: display_of(from),
            user: user_of(uri).unwrap_or_default(),
            uri: uri.to_owned(),
            sdp: (!late_offer).then(|| String::from_utf8_lossy(m.body).into_owned()),
        });
    }

    fn on_cancel(&mut self, key: Key, flow: Flow, m: &Message<'_>, bytes: &[u8], now: Instant) {
        let branch = m.vias().ok().and_then(|v| v.first().and_then(|v| v.branch().map(str::to_owned)));
        let call_id = m.call_id().unwrap_or_default();
        let found = self.calls.iter().find_map(|(id, c)| {
            let w = c.invite.as_ref()?;
            let inv = Message::parse_datagram(&w.request).ok()?;
            let inv_branch = inv.vias().ok()?.first()?.branch().map(str::to_owned);
            (c.call_id == call_id && inv_branch == branch).then_some(*id)
        });
        let Some(id) = found else {
            return self.reply_code(&key, flow, bytes, 481, "Call/Transaction Does Not Exist", now);
        };
        // 200 for the CANCEL (with the INVITE's To tag, §9.2), then 487 for the INVITE.
        let tag = self.calls[&id].local_tag.clone();
        let ok = build::response(m, 200, "OK", Some(&tag), &flow, &[], None);
        if let Some((f, b)) = self.server.respond(&key, 200, ok, now) {
            self.send(f, b);
        }
        if let Some(w) = self.calls.get_mut(&id).and_then(|c| c.invite.take()) {
            self.respond_waiting(&w, &tag, 487, "Request Terminated", None, now);
        }
        self.end(id, Some(487), "CANCEL", false);
        let cause = EndCause { code: None, phrase: "CANCEL".into(), reason: "cancel" };
        self.events.push_back(Event::Ended { call: id, cause });
    }

    fn in_dialog(&mut self, key: Key, flow: Flow, m: &Message<'_>, bytes: &[u8], tag: &str, now: Instant) {
        let call_id = m.call_id().unwrap_or_default().to_owned();
        let method = m.method().unwrap_or_default();
        let Some(&id) = self.dialogs.get(&(call_id, tag.to_owned())) else {
            return self.reply_code(&key, flow, bytes, 481, "Call/Transaction Does Not Exist", now);
        };
        let cseq = m.cseq().map(|c| c.number).unwrap_or(0);
        let c = self.calls.get_mut(&id).expect("dialogs and calls agree");
        if method != "CANCEL" {
            if c.remote_cseq != 0 && cseq < c.remote_cseq {
                return self.reply_code(
                    &key,
                    flow,
                    bytes,
                    500,
                    "Server Internal Error (CSeq out of order)",
                    now,
                );
            }
            c.remote_cseq = cseq;
        }
        if flow.is_reliable() {
            c.flow.conn = flow.conn;
        }
        match method {
            "BYE" => {
                self.reply_code(&key, flow, bytes, 200, "OK", now);
                let tag = self.calls[&id].local_tag.clone();
                if let Some(w) = self.calls.get_mut(&id).and_then(|c| c.invite.take()) {
                    self.respond_waiting(&w, &tag, 487, "Request Terminated", None, now);
                }
                if let Some(w) = self.calls.get_mut(&id).and_then(|c| c.reoffer.take()) {
                    self.respond_waiting(&w, &tag, 487, "Request Terminated", None, now);
                }
                let phrase = m.header("Reason").map_or_else(|| "BYE".to_owned(), str::to_owned);
                self.end(id, None, "", false);
                let cause = EndCause { code: None, phrase, reason: "normal" };
                self.events.push_back(Event::Ended { call: id, cause });
            }
            "INVITE" | "UPDATE" => {
                let busy = c.reoffer.is_some() || c.reinvite_pending || c.invite.is_some();
                if busy && method == "INVITE" || (c.reoffer.is_some() && method == "UPDATE") {
                    return self.reply_code(&key, flow, bytes, 491, "Request Pending", now);
                }
                if m.body.is_empty() {
                    // No offer: UPDATE refreshes (200 without body); a re-INVITE gets our
                    // current description as the offer and the answer comes in the ACK.
                    if method == "UPDATE" {
                        // UPDATE is a target refresh request: its 2xx carries Contact (RFC 3311 §5.2).
                        let contact =
                            [("Contact", format!("<{}>", build::contact_uri("switchboard", &flow)))];
                        let ok = build::response(m, 200, "OK", None, &flow, &contact, None);
                        if let Some((f, b)) = self.server.respond(&key, 200, ok, now) {
                            self.send(f, b);
                        }
                        return;
                    }
                    let sdp = c.local_sdp.clone().unwrap_or_default();
                    let w = Waiting { key, request: bytes.to_vec(), flow };
                    self.send_ok(id, w, &sdp, false, true, now);
                    return;
                }
                if method == "INVITE" {
                    // The answer waits for the browser: 100 Trying stops retransmissions (§17.2.1).
                    let trying = build::response(m, 100, "Trying", None, &flow, &[], None);
                    if let Some((f, b)) = self.server.respond(&key, 100, trying, now) {
                        self.transmits.push_back(super::Transmit { flow: f, bytes: b });
                    }
                }
                c.reoffer = Some(Waiting { key, request: bytes.to_vec(), flow });
                let sdp = String::from_utf8_lossy(m.body).into_owned();
                self.events.push_back(Event::Offer { call: id, sdp });
            }
            "CANCEL" => {
                // A CANCEL with a To tag matching a call whose INVITE has been answered: 200, no effect.
                self.reply_code(&key, flow, bytes, 200, "OK", now);
            }
            "OPTIONS" => self.reply(Some(&key), flow, bytes, &uas::options_ok(), now),
            "INFO" => {
                self.reply_code(&key, flow, bytes, 200, "OK", now);
                let ctype = m.header("Content-Type").unwrap_or_default();
                if let Some((digit, duration_ms)) = super::parse_dtmf_info(ctype, m.body) {
                    self.events.push_back(Event::Dtmf { call: id, digit, duration_ms });
                }
            }
            "NOTIFY" => self.reply_code(&key, flow, bytes, 200, "OK", now),
            _ => self.reply(Some(&key), flow, bytes, &uas::screen(bytes), now),
        }
    }

    fn on_ack(&mut self, m: &Message<'_>) {
        let call_id = m.call_id().unwrap_or_default().to_owned();
        let Some(tag) = m.header("To").and_then(tag_of) else { return };
        let Some(&id) = self.dialogs.get(&(call_id, tag.to_owned())) else { return };
        let Some(c) = self.calls.get_mut(&id) else { return };
        let cseq = m.cseq().map(|c| c.number).unwrap_or(0);
        let Some(PendingAck { cseq: want, answer_in_ack, .. }) = &c.pending_ack else { return };
        if *want != cseq {
            return;
        }
        let answer_in_ack = *answer_in_ack;
        c.pending_ack = None;
        if answer_in_ack && !m.body.is_empty() {
            let sdp = String::from_utf8_lossy(m.body).into_owned();
            self.events.push_back(Event::Answer { call: id, sdp, early: false });
        }
    }
}

/// The IP:port of a URI whose host is an IP literal.
pub(super) fn literal_addr(uri: &str) -> Option<std::net::SocketAddr> {
    let (host, port) = build::host_port_of(uri)?;
    let ip: std::net::IpAddr = host.parse().ok()?;
    Some(std::net::SocketAddr::new(ip, port.unwrap_or(5060)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn tags_are_removed() {
        assert_eq!(super::without_tag("\"A\" <sip:a@b;x=1>;tag=12;p"), "\"A\" <sip:a@b;x=1>;p");
        assert_eq!(super::without_tag("sip:a@b;tag=1"), "sip:a@b");
    }
}
