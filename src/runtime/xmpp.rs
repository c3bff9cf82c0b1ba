//! The XMPP component link (XEP-0114) around the sans-IO
//! [`Component`]: one task connects to the XMPP server's component port,
//! feeds it what the server sends, writes what it wants written, bridges
//! its call events to the browser hub and the hub's leg events to it, and
//! reconnects with exponential backoff when the link fails. Calls in
//! progress end (browser `hangup` reason `unavailable`) when it does.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use switchboard_bridge::{CallEvent, Caller, HangupCause, LegId, LegKind, Target};
use switchboard_jingle::component::{CallError, CallId, Component, ComponentConfig, Event};
use switchboard_sdp::IceCandidateInit;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::UnboundedReceiver;

use super::{LegCommand, Shared};
use crate::config::XmppLink;

/// First wait after a failed connection; doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Longest wait between two connection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How long a TCP connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the server may take to accept the handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// After this long without a byte from the server, the component pings
/// itself through it (XEP-0199: the server routes the IQ back to us).
const KEEPALIVE: Duration = Duration::from_secs(60);
/// A link silent for this long (no answer to the ping either) is dead: a
/// crashed host or a broken path sends no FIN.
const DEAD_AFTER: Duration = Duration::from_secs(90);

/// What the rest of the server tells the XMPP task.
#[derive(Debug)]
pub(crate) enum XmppInput {
    /// The bridge's command for an XMPP leg.
    Command(LegCommand),
    /// A browser registered or released a name (presence).
    Name { name: String, registered: bool },
    /// A SIP phone registered (or lost its last binding) under a name: XMPP
    /// users may call it as NAME@<component domain>.
    Phone { name: String, registered: bool },
}

struct Driver {
    shared: Arc<Shared>,
    component: Component,
    legs: HashMap<LegId, CallId>,
    calls: HashMap<CallId, LegId>,
}

/// Runs the component link until the server stops.
pub(crate) async fn run(shared: Arc<Shared>, link: XmppLink, mut inputs: UnboundedReceiver<XmppInput>) {
    let config = ComponentConfig {
        domain: link.domain.clone(),
        secret: link.secret.clone(),
        resource: "switchboard".to_owned(),
        // The bridge times unanswered calls out; the component's own timer is a backstop behind it.
        ring_timeout: shared.config.ring_timeout + Duration::from_secs(5),
    };
    let mut component = Component::new(config);
    // With dial-plan rules, any name at the component may be routed somewhere.
    component.set_open(!shared.config.dial_plan.is_empty());
    let mut d = Driver { shared: shared.clone(), component, legs: HashMap::new(), calls: HashMap::new() };
    let mut shutdown = shared.shutdown.clone();
    let mut backoff = FIRST_BACKOFF;
    loop {
        tracing::info!(server = %link.server, domain = %link.domain, "XMPP: connecting");
        let connect = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&link.server));
        let stream = tokio::select! {
            r = connect => match r {
                Ok(Ok(s)) => Some(s),
                Ok(Err(e)) => { tracing::warn!(server = %link.server, error = %e, "XMPP: connection failed"); None }
                Err(_) => { tracing::warn!(server = %link.server, "XMPP: connection timed out"); None }
            },
            _ = shutdown.changed() => return,
        };
        if let Some(stream) = stream {
            let _ = stream.set_nodelay(true);
            let handshaken = d.session(stream, &mut inputs).await;
            if *shared.shutdown.borrow() {
                return;
            }
            d.component.link_lost(Instant::now());
            d.pump_events();
            shared.xmpp_up.store(0, Ordering::Relaxed);
            tracing::warn!(server = %link.server, "XMPP: link lost; calls with XMPP parties ended");
            if handshaken {
                backoff = FIRST_BACKOFF;
            }
        }
        // Wait before the next attempt, still answering the hub (calls fail fast while down).
        tracing::info!(retry_in_ms = backoff.as_millis() as u64, "XMPP: reconnecting later");
        let until = tokio::time::Instant::now() + backoff;
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(until) => break,
                Some(input) = inputs.recv() => { d.input(input); d.pump_events(); }
                _ = shutdown.changed() => return,
            }
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

impl Driver {
    /// One connection: returns whether the handshake succeeded, when the link ends.
    async fn session(&mut self, mut stream: TcpStream, inputs: &mut UnboundedReceiver<XmppInput>) -> bool {
        let mut shutdown = self.shared.shutdown.clone();
        let started = Instant::now();
        self.component.connected(started);
        let mut buf = vec![0u8; 16 * 1024];
        let mut last_rx = Instant::now();
        let mut pinged = false;
        let mut pings = 0u64;
        loop {
            // Write everything pending, then handle events (which may queue more).
            loop {
                let mut busy = false;
                while let Some(text) = self.component.poll_transmit() {
                    busy = true;
                    tracing::trace!(out = %text, "XMPP");
                    if let Err(e) = stream.write_all(text.as_bytes()).await {
                        tracing::warn!(error = %e, "XMPP: write failed");
                        return self.component.is_connected();
                    }
                }
                match self.pump_events() {
                    Pumped::Idle if !busy => break,
                    Pumped::StreamError => return self.component.is_connected(),
                    _ => {}
                }
            }
            let up = self.component.is_connected();
            if !up && started.elapsed() > HANDSHAKE_TIMEOUT {
                tracing::warn!("XMPP: no handshake answer within 10 s");
                return false;
            }
            let now = Instant::now();
            if up && now.duration_since(last_rx) >= DEAD_AFTER {
                tracing::warn!("XMPP: no answer from the server for 90 s");
                return true;
            }
            if up && !pinged && now.duration_since(last_rx) >= KEEPALIVE {
                pinged = true;
                pings += 1;
                let domain = &self.component.config().domain;
                let ping = format!(
                    "<iq type='get' id='sb-keepalive-{pings}' from='{domain}' to='{domain}'><ping xmlns='urn:xmpp:ping'/></iq>"
                );
                if stream.write_all(ping.as_bytes()).await.is_err() {
                    return true;
                }
            }
            let wake = self
                .component
                .poll_timeout()
                .unwrap_or(now + Duration::from_secs(1))
                .min(now + Duration::from_secs(1))
                .max(now);
            tokio::select! {
                read = stream.read(&mut buf) => match read {
                    Ok(0) => { tracing::warn!("XMPP: the server closed the connection"); return up; }
                    Ok(n) => {
                        last_rx = Instant::now();
                        pinged = false;
                        tracing::trace!(input = %String::from_utf8_lossy(&buf[..n]), "XMPP");
                        self.component.handle_input(&buf[..n], Instant::now());
                    }
                    Err(e) => { tracing::warn!(error = %e, "XMPP: read failed"); return up; }
                },
                Some(input) = inputs.recv() => self.input(input),
                () = tokio::time::sleep_until(wake.into()) => self.component.handle_timeout(Instant::now()),
                _ = shutdown.changed() => return up,
            }
        }
    }

    fn input(&mut self, input: XmppInput) {
        let now = Instant::now();
        match input {
            XmppInput::Name { name, registered } => self.component.set_name(&name, registered),
            XmppInput::Phone { name, registered } => self.component.set_name(&name, registered),
            XmppInput::Command(command) => self.command(command, now),
        }
    }

    fn command(&mut self, command: LegCommand, now: Instant) {
        let (leg, event) = match command {
            LegCommand::Dial(dial) => {
                let Target::Xmpp(to) = &dial.target else { return };
                if let Some(m) = &dial.mismatch {
                    let text = m.refusal();
                    tracing::info!(%to, %text, "XMPP call refused");
                    let hangup = CallEvent::Hangup {
                        cause: HangupCause::Incompatible,
                        sip_code: None,
                        text: Some(text),
                    };
                    self.tell_bridge(dial.leg, hangup);
                    return;
                }
                let caller = dial.caller.xmpp_local();
                let sdp = dial.sdp.as_deref().unwrap_or_default();
                match self.component.dial(&caller, to, sdp, now) {
                    Ok(call) => {
                        self.legs.insert(dial.leg, call);
                        self.calls.insert(call, dial.leg);
                    }
                    Err(e) => {
                        tracing::info!(%to, error = %e, "XMPP call refused");
                        let cause = if self.component.is_connected() {
                            HangupCause::Failed
                        } else {
                            HangupCause::Unavailable
                        };
                        self.tell_bridge(dial.leg, CallEvent::Hangup { cause, sip_code: None, text: None });
                    }
                }
                return;
            }
            LegCommand::Event(leg, event) => (leg, event),
        };
        let Some(&call) = self.legs.get(&leg) else { return };
        match event {
            CallEvent::Answer { sdp, early: false } => match self.component.answer(call, &sdp, now) {
                Ok(()) => {}
                Err(CallError::Sdp(e)) => {
                    tracing::info!(error = %e, "answer not expressible in Jingle: ending the call");
                    self.component.hangup(call, "incompatible", now);
                }
                Err(e) => tracing::info!(?leg, error = %e, "answer not passed to XMPP"),
            },
            CallEvent::Ringing => self.component.ringing(call, now),
            CallEvent::Candidate(c) => {
                let mid = c
                    .as_ref()
                    .and_then(|c| c.sdp_mid.clone().or_else(|| c.sdp_m_line_index.map(|i| i.to_string())))
                    .unwrap_or_default();
                self.component.candidate(call, &mid, c.as_ref().map(|c| c.candidate.as_str()), now);
            }
            CallEvent::Dtmf { digit, .. } => {
                // Jingle's out-of-band DTMF (XEP-0181) is deprecated: XMPP clients send and take
                // RFC 4733 telephone-events in the media, which flows end to end.
                tracing::debug!(?leg, %digit, "out-of-band DTMF is not sent to XMPP (RFC 4733 in media)");
            }
            CallEvent::Offer { sdp } => {
                // Hold/resume and ICE restart are bridged (the component answers, at once or after
                // the peer's new credentials); other changes leave the offer unanswered.
                if let Err(e) = self.component.reoffer(call, &sdp, now) {
                    tracing::info!(?leg, error = %e, "renegotiation not bridged to XMPP");
                    self.tell_bridge(leg, CallEvent::OfferRefused { text: e.to_string() });
                }
            }
            CallEvent::Hangup { cause, .. } => {
                self.legs.remove(&leg);
                self.calls.remove(&call);
                self.component.hangup(call, cause.browser_word(), now);
            }
            _ => {}
        }
    }

    /// Hands an event of leg `leg` to the bridge.
    fn tell_bridge(&mut self, leg: LegId, event: CallEvent) {
        let mut state = self.shared.lock();
        state.bridge.handle_event(leg, event, Instant::now());
        state.flush();
    }

    /// Handles the component's events and log lines until none is left.
    fn pump_events(&mut self) -> Pumped {
        let mut pumped = Pumped::Idle;
        while let Some(line) = self.component.poll_log() {
            tracing::info!("XMPP: {line}");
        }
        while let Some(event) = self.component.poll_event() {
            if matches!(pumped, Pumped::Idle) {
                pumped = Pumped::Busy;
            }
            let now = Instant::now();
            match event {
                Event::Connected => {
                    tracing::info!("XMPP: component handshake accepted");
                    self.shared.xmpp_up.store(1, Ordering::Relaxed);
                }
                Event::StreamError(why) => {
                    tracing::warn!(%why, "XMPP: stream error");
                    pumped = Pumped::StreamError;
                }
                Event::Incoming { call, to_name, from, sdp } => {
                    let caller = Caller {
                        kind: LegKind::Xmpp,
                        address: format!("xmpp:{from}"),
                        name: None,
                        local_name: None,
                    };
                    let target = format!("xmpp:{to_name}@{}", self.component.config().domain);
                    let mut state = self.shared.lock();
                    let leg = state.new_leg();
                    self.calls.insert(call, leg);
                    self.legs.insert(leg, call);
                    state.bridge.incoming(leg, caller, &target, Some(sdp), true, now);
                    state.flush();
                }
                Event::Peer { call, jid } => {
                    if let Some(&leg) = self.calls.get(&call) {
                        let mut state = self.shared.lock();
                        let address = format!("xmpp:{jid}");
                        if let Some((other, LegKind::Browser)) = state.bridge.set_address(leg, &address) {
                            state.hub.set_leg_address(switchboard_browser::LegId(other.0), &address);
                        }
                    }
                }
                Event::Ringing { call } => {
                    if let Some(&leg) = self.calls.get(&call) {
                        self.tell_bridge(leg, CallEvent::Ringing);
                    }
                }
                Event::Answer { call, sdp } => {
                    if let Some(&leg) = self.calls.get(&call) {
                        self.tell_bridge(leg, CallEvent::Answer { sdp, early: false });
                    }
                }
                Event::Offer { call, sdp } => {
                    if let Some(&leg) = self.calls.get(&call) {
                        self.tell_bridge(leg, CallEvent::Offer { sdp });
                    }
                }
                Event::Candidate { call, mid, candidate } => {
                    if let Some(&leg) = self.calls.get(&call) {
                        let c = candidate.map(|c| IceCandidateInit {
                            candidate: c.strip_prefix("a=").unwrap_or(&c).to_owned(),
                            sdp_mid: Some(mid),
                            sdp_m_line_index: None,
                            username_fragment: None,
                        });
                        self.tell_bridge(leg, CallEvent::Candidate(c));
                    }
                }
                Event::Ended { call, reason } => {
                    if let Some(leg) = self.calls.remove(&call) {
                        self.legs.remove(&leg);
                        let cause = HangupCause::from_browser_sip(&reason);
                        self.tell_bridge(leg, CallEvent::Hangup { cause, sip_code: None, text: None });
                    }
                }
                _ => {}
            }
        }
        self.shared.xmpp_calls.store(self.component.calls() as u64, Ordering::Relaxed);
        pumped
    }
}

/// What one round of [`Driver::pump_events`] saw.
enum Pumped {
    Idle,
    Busy,
    StreamError,
}
