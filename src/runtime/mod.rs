//! The server: HTTP and WebSocket listeners around the sans-IO hub.

mod http;
pub mod ice;
mod relay;
mod sip;
mod sip_ws;
mod stun;
pub mod tls;
mod ws;
mod xmpp;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use switchboard_bridge::{
    Bridge, BridgeConfig, CallEvent, Caller, Dial, DialPlan, HangupCause, LegId, LegKind,
    Output as BridgeOutput, Target,
};
use switchboard_browser::{CallInfo, CallRecord, Hub, LegEvent, LegInput, LegRefusal, Output, PeerId};
use switchboard_sdp::IceCandidateInit;
use tokio::sync::watch;

use crate::config::Config;

/// Frames queued for one slow connection before it is dropped.
const QUEUE_PER_CONNECTION: usize = 256;

/// The frames waiting to be written to one connection. Unlike a channel it
/// allocates nothing while empty, which matters with many idle peers.
#[derive(Default)]
pub(crate) struct Outbox {
    queue: Mutex<std::collections::VecDeque<String>>,
    ready: tokio::sync::Notify,
    closed: std::sync::atomic::AtomicBool,
}

impl Outbox {
    /// Queues a frame; false when the queue is full or closed.
    pub fn push(&self, text: String) -> bool {
        if self.closed.load(Ordering::Relaxed) {
            return false;
        }
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if queue.len() >= QUEUE_PER_CONNECTION {
            return false;
        }
        queue.push_back(text);
        drop(queue);
        self.ready.notify_one();
        true
    }

    /// Marks the outbox closed (the connection is being dropped) and wakes the writer.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.ready.notify_one();
    }

    /// The next frame, or `None` once closed.
    pub async fn pop(&self) -> Option<String> {
        loop {
            if self.closed.load(Ordering::Relaxed) {
                return None;
            }
            if let Some(text) = self.queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front() {
                return Some(text);
            }
            self.ready.notified().await;
        }
    }
}

/// What a connection task is sent through.
pub(crate) type Outgoing = Arc<Outbox>;

/// The hub and the connections it talks to, and the bridge between legs,
/// behind one lock: every operation is short, and the relay path needs both.
pub(crate) struct State {
    pub hub: Hub,
    pub connections: HashMap<PeerId, Outgoing>,
    /// Every call with a SIP or XMPP leg: routing, ring timeout, causes.
    pub bridge: Bridge,
    /// Where the bridge's commands for SIP and XMPP legs go.
    pub legs: LegRoutes,
    /// Calls ended since start, by leg type pair and outcome (`/metrics`).
    pub calls_ended: std::collections::BTreeMap<(String, &'static str), u64>,
}

/// What the bridge tells the SIP or XMPP driver.
#[derive(Debug)]
pub(crate) enum LegCommand {
    /// Open a leg.
    Dial(Dial),
    /// Something for one of the driver's legs.
    Event(LegId, CallEvent),
}

/// The drivers of SIP and XMPP legs.
pub(crate) struct LegRoutes {
    /// The SIP driver.
    pub sip: tokio::sync::mpsc::UnboundedSender<LegCommand>,
    /// The XMPP component task, when configured.
    pub xmpp: Option<tokio::sync::mpsc::UnboundedSender<xmpp::XmppInput>>,
    /// The media relay task (`--rtpengine`), when configured.
    pub relay: Option<tokio::sync::mpsc::UnboundedSender<switchboard_bridge::RelayRequest>>,
}

/// The hub's leg for a bridge leg (the same number).
fn hub_leg(leg: LegId) -> switchboard_browser::LegId {
    switchboard_browser::LegId(leg.0)
}

impl State {
    /// A fresh id for a leg that calls in (SIP, XMPP), below the bridge's own.
    pub fn new_leg(&mut self) -> LegId {
        LegId(self.hub.new_leg().0)
    }

    /// Hands the hub's and the bridge's output on, until neither has more:
    /// frames to the connections (a connection whose queue is full is
    /// dropped), browser legs' events to the bridge, the bridge's to the legs.
    pub fn flush(&mut self) {
        let now = Instant::now();
        loop {
            let mut busy = false;
            while let Some(output) = self.hub.poll_output() {
                busy = true;
                match output {
                    Output::Send { to, text } => {
                        if let Some(outbox) = self.connections.get(&to)
                            && !outbox.push(text)
                        {
                            tracing::warn!(peer = %to, "send queue full or closed: dropping the connection");
                            outbox.close();
                            self.connections.remove(&to);
                        }
                    }
                    Output::Leg { leg, event } => self.browser_leg_event(leg, event, now),
                    Output::Name { name, registered } => {
                        if let Some(tx) = &self.legs.xmpp {
                            let _ = tx.send(xmpp::XmppInput::Name { name, registered });
                        }
                    }
                    // Calls with a SIP or XMPP leg are recorded by the bridge (it knows who ended
                    // them, the ring timeout included); the hub records calls between browsers.
                    Output::CallEnded(call) if call.pair != "browser-browser" => {}
                    Output::CallEnded(call) => self.record(call),
                }
            }
            while let Some(output) = self.bridge.poll_output() {
                busy = true;
                match output {
                    BridgeOutput::Dial(dial) => self.dial(dial, now),
                    BridgeOutput::Event { leg, kind, event } => self.tell_leg(leg, kind, event, now),
                    BridgeOutput::Ended(call) => self.record(call),
                    BridgeOutput::Relay(request) => {
                        if let Some(tx) = &self.legs.relay {
                            let _ = tx.send(request);
                        }
                    }
                    _ => {}
                }
            }
            if !busy {
                break;
            }
        }
    }

    /// A browser leg's event (the hub's side of a call with a SIP or XMPP party).
    fn browser_leg_event(&mut self, leg: switchboard_browser::LegId, event: LegEvent, now: Instant) {
        let id = LegId(leg.0);
        let event = match event {
            LegEvent::Dial { target, from, from_name, sdp } => {
                let caller = Caller {
                    kind: LegKind::Browser,
                    address: from,
                    name: from_name.clone(),
                    local_name: from_name,
                };
                let trickle = switchboard_browser::is_xmpp_address(&target);
                self.bridge.incoming(id, caller, &target, Some(sdp), trickle, now);
                if let Some(sid) = self.hub.leg_session(leg) {
                    self.bridge.set_session(id, sid);
                }
                return;
            }
            LegEvent::Offer { sdp } => CallEvent::Offer { sdp },
            LegEvent::Answer { sdp } => CallEvent::Answer { sdp, early: false },
            LegEvent::Candidate { mid, mline_index, candidate } => {
                CallEvent::Candidate(candidate.map(|c| IceCandidateInit {
                    candidate: c,
                    sdp_mid: mid,
                    sdp_m_line_index: mline_index,
                    username_fragment: None,
                }))
            }
            LegEvent::Ringing => CallEvent::Ringing,
            LegEvent::Dtmf { digit, duration_ms } => CallEvent::Dtmf { digit, duration_ms },
            LegEvent::Hangup { reason } => CallEvent::Hangup {
                cause: HangupCause::from_browser_sip(&reason),
                sip_code: None,
                text: None,
            },
        };
        self.bridge.handle_event(id, event, now);
    }

    /// Opens a leg the bridge dials.
    fn dial(&mut self, dial: Dial, now: Instant) {
        match &dial.target {
            Target::Browser(name) => {
                let leg = hub_leg(dial.leg);
                if let Some(m) = &dial.mismatch {
                    // Refused for its media only when the browser is there; otherwise it is not found.
                    let (cause, text) = if self.hub.has_name(name) {
                        (HangupCause::Incompatible, Some(m.refusal()))
                    } else {
                        (HangupCause::NotFound, None)
                    };
                    tracing::info!(target = %name, ?cause, text = text.as_deref(), "browser leg not dialled");
                    self.bridge.handle_event(
                        dial.leg,
                        CallEvent::Hangup { cause, sip_code: None, text },
                        now,
                    );
                    return;
                }
                let result = self.hub.leg_incoming(
                    leg,
                    name,
                    &dial.caller.address,
                    dial.caller.name.as_deref(),
                    dial.sdp.as_deref(),
                    now,
                );
                let cause = match result {
                    Ok(()) => {
                        if dial.caller_trickles {
                            self.hub.set_leg_trickle(leg);
                        }
                        if let Some(sid) = self.hub.leg_session(leg) {
                            self.bridge.set_session(dial.leg, sid);
                        }
                        return;
                    }
                    Err(LegRefusal::NotFound) => HangupCause::NotFound,
                    Err(LegRefusal::BadSdp(e)) => {
                        tracing::info!(error = %e, "offer refused by the browser side");
                        HangupCause::Incompatible
                    }
                    Err(_) => HangupCause::Failed,
                };
                self.bridge.handle_event(
                    dial.leg,
                    CallEvent::Hangup { cause, sip_code: None, text: None },
                    now,
                );
            }
            Target::Phone(_) | Target::Sip(_) => {
                let _ = self.legs.sip.send(LegCommand::Dial(dial));
            }
            Target::Xmpp(_) => match &self.legs.xmpp {
                Some(tx) => {
                    let _ = tx.send(xmpp::XmppInput::Command(LegCommand::Dial(dial)));
                }
                None => {
                    tracing::info!(target = %dial.target.address(), "XMPP is not configured (--xmpp-server)");
                    let hangup =
                        CallEvent::Hangup { cause: HangupCause::Unavailable, sip_code: None, text: None };
                    self.bridge.handle_event(dial.leg, hangup, now);
                }
            },
        }
    }

    /// Tells a leg's adapter about `event`.
    fn tell_leg(&mut self, leg: LegId, kind: LegKind, event: CallEvent, now: Instant) {
        match kind {
            LegKind::Browser => {
                let input = match &event {
                    CallEvent::Ringing => LegInput::Ringing,
                    CallEvent::Answer { sdp, early } => LegInput::Answer { sdp, early: *early },
                    CallEvent::Offer { sdp } => LegInput::Offer { sdp },
                    CallEvent::Candidate(Some(c)) => LegInput::Candidate {
                        mid: c.sdp_mid.as_deref().unwrap_or(""),
                        candidate: Some(&c.candidate),
                    },
                    CallEvent::Candidate(None) => LegInput::Candidate { mid: "", candidate: None },
                    CallEvent::Dtmf { digit, duration_ms } => {
                        LegInput::Dtmf { digit: *digit, duration_ms: *duration_ms }
                    }
                    CallEvent::OfferRefused { text } => LegInput::OfferRefused { why: text },
                    CallEvent::Hangup { cause, sip_code, text } => LegInput::Hangup {
                        reason: cause.browser_word(),
                        sip_code: *sip_code,
                        sip_reason: text.as_deref(),
                    },
                    _ => return,
                };
                if let Err(e) = self.hub.leg_event(hub_leg(leg), input, now) {
                    tracing::info!(error = %e, "the other party's SDP is refused: ending the call");
                    let hangup =
                        CallEvent::Hangup { cause: HangupCause::Incompatible, sip_code: None, text: None };
                    self.bridge.handle_event(leg, hangup, now);
                }
            }
            LegKind::Sip => {
                let _ = self.legs.sip.send(LegCommand::Event(leg, event));
            }
            LegKind::Xmpp => {
                if let Some(tx) = &self.legs.xmpp {
                    let _ = tx.send(xmpp::XmppInput::Command(LegCommand::Event(leg, event)));
                }
            }
        }
    }

    /// Logs and counts a call that ended.
    fn record(&mut self, call: CallRecord) {
        tracing::info!(
            session = %call.session,
            pair = %call.pair,
            outcome = call.outcome,
            caller_kind = call.caller.kind,
            caller = %call.caller.address,
            caller_name = call.caller.name.as_deref(),
            callee_kind = call.callee.kind,
            callee = %call.callee.address,
            callee_name = call.callee.name.as_deref(),
            ended_by = call.ended_by,
            reason = %call.reason,
            sip_code = call.sip_code,
            setup_ms = call.setup_ms,
            talk_ms = call.talk_ms,
            duration_ms = call.duration_ms,
            "call ended"
        );
        *self.calls_ended.entry((call.pair, call.outcome)).or_default() += 1;
    }

    /// Every call in progress: the hub's (browser parties) and the bridge's
    /// without a browser.
    pub fn active_calls(&self, now: Instant) -> Vec<CallInfo> {
        let mut calls = self.hub.active_calls(now);
        calls.extend(self.bridge.active_calls(now).into_iter().filter(|c| !c.pair.contains("browser")));
        calls
    }
}

/// Shared by every task of the server.
pub(crate) struct Shared {
    pub config: Config,
    pub state: Mutex<State>,
    pub started: Instant,
    pub connections_total: AtomicU64,
    /// STUN Binding requests answered.
    pub stun_requests: AtomicU64,
    /// The port the embedded STUN server is bound to.
    pub stun_port: Option<u16>,
    /// SIP messages answered statelessly (seeds their To tags).
    pub sip_messages: AtomicU64,
    /// To the SIP driver.
    pub sip_tx: tokio::sync::mpsc::UnboundedSender<sip::SipInput>,
    /// Numbers SIP connections.
    pub sip_connections: AtomicU64,
    /// SIP calls in progress (gauge for `/metrics`).
    pub sip_calls: AtomicU64,
    /// SIP contacts registered (gauge for `/metrics`).
    pub sip_bindings: AtomicU64,
    /// Upstream registrations (trunks) in force.
    pub sip_trunks_up: AtomicU64,
    /// 1 while the XMPP component link is up (handshake accepted).
    pub xmpp_up: AtomicU64,
    /// Calls with an XMPP party in progress.
    pub xmpp_calls: AtomicU64,
    /// 1 while rtpengine answers (with `--rtpengine`).
    pub rtpengine_up: AtomicU64,
    /// The HTTP/WebSocket address and whether it is TLS.
    pub http_addr: std::net::SocketAddr,
    /// Whether HTTP is served over TLS.
    pub http_tls: bool,
    /// Set to true when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
    id_keys: std::hash::RandomState,
}

impl Shared {
    /// A random-looking, unique peer id.
    pub fn next_peer_id(&self) -> PeerId {
        use std::hash::BuildHasher;
        let n = self.connections_total.fetch_add(1, Ordering::Relaxed);
        PeerId(self.id_keys.hash_one(n))
    }

    /// A fresh SIP connection number.
    pub fn next_conn(&self) -> u64 {
        self.sip_connections.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Locks the state; a poisoned lock (a panic elsewhere) is taken over, not propagated.
    pub fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Binds the listener, serves until ctrl-c or SIGTERM, then tells every
/// peer and closes. Prints `switchboard listening on http://ADDR` once bound.
pub async fn serve(config: Config) -> Result<(), String> {
    let listener =
        tokio::net::TcpListener::bind(config.http).await.map_err(|e| format!("bind {}: {e}", config.http))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let stun = match config.stun {
        Some(at) => {
            let socket =
                tokio::net::UdpSocket::bind(at).await.map_err(|e| format!("bind STUN on udp {at}: {e}"))?;
            Some(socket)
        }
        None => None,
    };
    let sip = match config.sip {
        Some(at) => {
            let udp =
                tokio::net::UdpSocket::bind(at).await.map_err(|e| format!("bind SIP on udp {at}: {e}"))?;
            // TCP on the same port as UDP (the port 0 case takes UDP's).
            let tcp_at = udp.local_addr().map_err(|e| e.to_string())?;
            let tcp = tokio::net::TcpListener::bind(tcp_at)
                .await
                .map_err(|e| format!("bind SIP on tcp {tcp_at}: {e}"))?;
            Some((udp, tcp))
        }
        None => None,
    };
    let agent = sip::new_agent(&config);
    let (sip_tx, sip_rx) = tokio::sync::mpsc::unbounded_channel();
    let (legs_tx, legs_rx) = tokio::sync::mpsc::unbounded_channel();
    let (xmpp_tx, xmpp_rx) = tokio::sync::mpsc::unbounded_channel();
    let (relay_tx, relay_rx) = tokio::sync::mpsc::unbounded_channel();
    let xmpp_link = config.xmpp.clone();
    let (stop_tx, stop_rx) = watch::channel(false);
    let http_tls = config.tls.is_some();
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            hub: Hub::new(config.hub.clone()),
            connections: HashMap::new(),
            bridge: Bridge::new(bridge_config(&config)?),
            legs: LegRoutes {
                sip: legs_tx,
                xmpp: xmpp_link.is_some().then_some(xmpp_tx),
                relay: config.rtpengine.is_some().then_some(relay_tx),
            },
            calls_ended: std::collections::BTreeMap::new(),
        }),
        config,
        started: Instant::now(),
        connections_total: AtomicU64::new(0),
        stun_requests: AtomicU64::new(0),
        stun_port: stun.as_ref().and_then(|s| s.local_addr().ok()).map(|a| a.port()),
        sip_messages: AtomicU64::new(0),
        sip_tx,
        sip_connections: AtomicU64::new(0),
        sip_calls: AtomicU64::new(0),
        sip_bindings: AtomicU64::new(0),
        sip_trunks_up: AtomicU64::new(0),
        xmpp_up: AtomicU64::new(0),
        xmpp_calls: AtomicU64::new(0),
        rtpengine_up: AtomicU64::new(0),
        http_addr: addr,
        http_tls,
        shutdown: stop_rx,
        id_keys: std::hash::RandomState::new(),
    });
    let tls = match &shared.config.tls {
        None => None,
        Some(crate::config::TlsSource::SelfSigned) => Some(tls::Identity::self_signed(&[])?),
        Some(crate::config::TlsSource::Files { cert, key }) => {
            Some(tls::Identity::from_pem_files(cert, key)?)
        }
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(%addr, scheme, "listening");
    if let Some(identity) = &tls {
        tracing::info!(fingerprint = %identity.fingerprint, "TLS certificate");
        announce(&format!("switchboard TLS certificate SHA-256 {}", identity.fingerprint));
    }
    announce(&format!("switchboard listening on {scheme}://{addr}"));
    if let Some(at) = shared.config.sip_tls {
        let listener =
            tokio::net::TcpListener::bind(at).await.map_err(|e| format!("bind SIP TLS on tcp {at}: {e}"))?;
        let acceptor = match &tls {
            Some(identity) => identity.sip_acceptor()?,
            None => {
                let identity = tls::Identity::self_signed(&[])?;
                announce(&format!("switchboard SIP TLS certificate SHA-256 {}", identity.fingerprint));
                identity.sip_acceptor()?
            }
        };
        let at = listener.local_addr().map_err(|e| e.to_string())?;
        tracing::info!(%at, "SIP listening (tls)");
        announce(&format!("switchboard SIP on tls {at}"));
        tokio::spawn(sip::run_tls(listener, acceptor, shared.clone()));
    }
    let udp = match sip {
        Some((udp, tcp)) => {
            let at = udp.local_addr().map_err(|e| e.to_string())?;
            tracing::info!(%at, "SIP listening (udp, tcp)");
            announce(&format!("switchboard SIP on udp+tcp {at}"));
            tokio::spawn(sip::run_tcp(tcp, shared.clone()));
            Some(udp)
        }
        None => None,
    };
    // The SIP agent runs even without UDP/TCP: SIP over WebSocket (`/sip`) uses it.
    tokio::spawn(sip::run_driver(shared.clone(), agent, udp, sip_rx, legs_rx));
    if let Some(server) = shared.config.rtpengine {
        // Calls that need the relay are refused until its first pong.
        shared.lock().bridge.set_relay_up(false);
        announce(&format!("switchboard media relay rtpengine at {server}"));
        tokio::spawn(relay::run(shared.clone(), server, relay_rx));
    }
    if let Some(link) = xmpp_link {
        announce(&format!("switchboard XMPP component {} via {}", link.domain, link.server));
        tokio::spawn(xmpp::run(shared.clone(), link, xmpp_rx));
    }
    if let Some(socket) = stun {
        let at = socket.local_addr().map_err(|e| e.to_string())?;
        tracing::info!(%at, "STUN server listening (udp)");
        announce(&format!("switchboard STUN on udp {at}"));
        tokio::spawn(stun::run(socket, shared.clone()));
    }
    let app = http::router(shared.clone());
    let mut stop_wait = shared.shutdown.clone();
    let stopped = async move {
        let _ = stop_wait.wait_for(|stop| *stop).await;
    };
    let server = match tls {
        None => {
            use axum::serve::ListenerExt;
            // Small JSON frames must not wait for Nagle's algorithm (40 ms with delayed ACKs).
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            tokio::spawn(async move { axum::serve(listener, app).with_graceful_shutdown(stopped).await })
        }
        Some(identity) => {
            let listener = tls::TlsListener::new(listener, identity)?;
            tokio::spawn(async move { axum::serve(listener, app).with_graceful_shutdown(stopped).await })
        }
    };
    shutdown_signal().await;
    tracing::info!("shutting down: closing every connection");
    let _ = stop_tx.send(true);
    // Connection tasks send a close frame and end; give them a moment.
    for _ in 0..50 {
        if shared.lock().connections.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), server).await;
    tracing::info!("stopped");
    Ok(())
}

/// The bridge's settings from the server's.
fn bridge_config(config: &Config) -> Result<BridgeConfig, String> {
    let domain = config.xmpp.as_ref().map(|x| x.domain.clone());
    let dial_plan = DialPlan::new(config.dial_plan.clone(), domain).map_err(|e| e.to_string())?;
    Ok(BridgeConfig {
        ring_timeout: config.ring_timeout,
        dial_plan,
        anchor: config.media_anchor,
        relay: config.rtpengine.is_some(),
        ..BridgeConfig::default()
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// One line on standard output for whoever started us (tests, scripts);
/// a closed stdout is not a reason to stop serving.
fn announce(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}
