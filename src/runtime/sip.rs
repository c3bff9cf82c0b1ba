//! SIP transports (RFC 3261 §18: UDP and TCP on one port; RFC 7118
//! WebSocket in `sip_ws.rs`) around the sans-IO [`Agent`], and the task that
//! drives it: messages and connections in, the agent's transmits out, its
//! call events bridged to the browser hub (and SIP to SIP for registered
//! phones), the hub's leg events turned into agent commands.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use switchboard_bridge::{CallEvent, Caller, Dial, HangupCause, LegId, LegKind, Target};
use switchboard_sip::agent::{Agent, AgentConfig, CallRef, Credential, Event, TrunkConfig, TrunkStatus};
use switchboard_sip::build::{host_port_of, uri_param, user_of};
use switchboard_sip::flow::{Flow, Transport};
use switchboard_sip::uas::{Uas, Verdict, response_bytes};
use switchboard_sip::{Framed, Framer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::{LegCommand, Shared};

/// How stale the driver's next timer wake-up may be (see `run_driver`).
const TIMER_GRANULARITY: Duration = Duration::from_millis(10);

/// Largest SIP message accepted (RFC 3261 §18.1.1 keeps UDP under the path MTU; TCP may carry more).
const MAX_MESSAGE: usize = 65_535;

/// What transport tasks tell the driver.
pub(crate) enum SipInput {
    /// One message received on a stream or WebSocket connection.
    Message { flow: Flow, bytes: Vec<u8> },
    /// A connection is up; `tx` writes to it. `outbound` when we opened it to `remote`.
    Opened { conn: u64, tx: UnboundedSender<Vec<u8>>, remote: SocketAddr, outbound: bool },
    /// A connection is gone.
    Closed { conn: u64, remote: SocketAddr, outbound: bool },
    /// A stream that cannot be framed any more: answer 400 to the request
    /// left in `pending` (if it is one), after the answers already due.
    Refuse { flow: Flow, pending: Vec<u8>, why: String },
}

/// A fresh To tag for stateless answers.
pub(crate) fn next_tag(shared: &Shared) -> String {
    format!("sb{:x}", shared.sip_messages.fetch_add(1, Ordering::Relaxed))
}

/// An outbound TCP connection being opened or open.
enum Outbound {
    Connecting(Vec<Vec<u8>>),
    Open(u64),
}

struct Driver {
    shared: Arc<Shared>,
    agent: Agent,
    udp: Option<Arc<UdpSocket>>,
    /// The SIP listening address (UDP and TCP).
    sip_addr: SocketAddr,
    conns: HashMap<u64, UnboundedSender<Vec<u8>>>,
    outbound: HashMap<SocketAddr, Outbound>,
    /// The bridge's leg of each agent call, and back.
    legs_of_calls: HashMap<CallRef, LegId>,
    calls_of_legs: HashMap<LegId, CallRef>,
    local_ips: HashMap<IpAddr, IpAddr>,
}

fn epoch_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// The agent of this server, from the configuration.
pub(crate) fn new_agent(config: &crate::config::Config) -> Agent {
    // Nonces are signed with a key made at start (a restart only invalidates pending challenges).
    let nonce_key = std::hash::BuildHasher::hash_one(&std::hash::RandomState::new(), 0u8).to_le_bytes();
    let mut uas = Uas::new(&config.sip_realm, &nonce_key, config.sip_users.clone());
    uas.registrar.set_algorithms(config.sip_digest.clone());
    let seed = std::hash::BuildHasher::hash_one(&std::hash::RandomState::new(), 1u8);
    let mut credentials = config.sip_accounts.clone();
    for t in &config.sip_trunks {
        // The trunk's credentials answer challenges to calls through it.
        credentials.push(Credential {
            host: Some(t.domain()),
            user: t.user.clone(),
            password: t.password.clone(),
        });
    }
    // The bridge times unanswered calls out; the agent's own timer is a backstop behind it.
    let ring_timeout = config.ring_timeout + Duration::from_secs(5);
    let agent_config = AgentConfig {
        credentials,
        seed,
        ring_timeout,
        keepalive: config.sip_keepalive,
        ..AgentConfig::default()
    };
    Agent::new(agent_config, uas)
}

/// Runs the agent until the server stops.
pub(crate) async fn run_driver(
    shared: Arc<Shared>,
    agent: Agent,
    udp: Option<UdpSocket>,
    mut inputs: UnboundedReceiver<SipInput>,
    mut legs: UnboundedReceiver<LegCommand>,
) {
    let udp = udp.map(Arc::new);
    let sip_addr = udp
        .as_ref()
        .and_then(|u| u.local_addr().ok())
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 5060)));
    let mut d = Driver {
        shared: shared.clone(),
        agent,
        udp: udp.clone(),
        sip_addr,
        conns: HashMap::new(),
        outbound: HashMap::new(),
        legs_of_calls: HashMap::new(),
        calls_of_legs: HashMap::new(),
        local_ips: HashMap::new(),
    };
    for t in &shared.config.sip_trunks {
        d.add_trunk(t).await;
    }
    d.pump().await;
    let mut buf = vec![0u8; MAX_MESSAGE];
    let mut shutdown = shared.shutdown.clone();
    // When to wake for timers. Finding the earliest timer walks every transaction and call, so
    // it is not done for every message: at most every TIMER_GRANULARITY, or once the last
    // wake-up time has passed. A timer fires at most that late (SIP's own unit is T1, 500 ms).
    let mut wake = Instant::now();
    let mut computed = Instant::now() - TIMER_GRANULARITY;
    loop {
        let now = Instant::now();
        if wake <= now || now.duration_since(computed) >= TIMER_GRANULARITY {
            let (hub_timer, bridge_timer) = {
                let state = shared.lock();
                (state.hub.poll_timeout(), state.bridge.poll_timeout())
            };
            // The hub's and the bridge's deadlines can appear without waking this task: look at
            // least every 200 ms.
            wake = [d.agent.poll_timeout(), hub_timer, bridge_timer, Some(now + Duration::from_millis(200))]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(now)
                .max(now);
            computed = now;
            d.gauges();
        }
        tokio::select! {
            received = recv(udp.as_deref(), &mut buf) => {
                if let Some((n, source)) = received {
                    let datagram = &buf[..n];
                    // RFC 5626 keepalives over UDP (CRLF): nothing to answer.
                    if !datagram.iter().all(|b| *b == b'\r' || *b == b'\n') {
                        let flow = d.udp_flow(source);
                        d.agent.handle_message(flow, datagram, Instant::now(), epoch_secs());
                    }
                }
            }
            Some(input) = inputs.recv() => d.input(input),
            Some(command) = legs.recv() => d.command(command),
            () = tokio::time::sleep_until(wake.into()) => {
                let now = Instant::now();
                computed = now - TIMER_GRANULARITY;
                d.agent.handle_timeout(now);
                let mut state = shared.lock();
                state.hub.handle_timeout(now);
                state.bridge.handle_timeout(now);
                state.flush();
            }
            _ = shutdown.changed() => return,
        }
        d.pump().await;
    }
}

async fn recv(udp: Option<&UdpSocket>, buf: &mut [u8]) -> Option<(usize, SocketAddr)> {
    match udp {
        Some(s) => s.recv_from(buf).await.ok(),
        None => std::future::pending().await,
    }
}

impl Driver {
    /// This host's address towards `remote` (the route's source when bound to 0.0.0.0).
    fn local_for(&mut self, remote: SocketAddr) -> SocketAddr {
        let ip = self.sip_addr.ip();
        if !ip.is_unspecified() {
            return self.sip_addr;
        }
        let found = *self.local_ips.entry(remote.ip()).or_insert_with(|| {
            let any: SocketAddr =
                if remote.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }.parse().expect("literal");
            std::net::UdpSocket::bind(any)
                .and_then(|s| s.connect(remote).and_then(|()| s.local_addr()))
                .map(|a| a.ip())
                .unwrap_or(ip)
        });
        SocketAddr::new(found, self.sip_addr.port())
    }

    fn udp_flow(&mut self, remote: SocketAddr) -> Flow {
        Flow { transport: Transport::Udp, remote, local: self.local_for(remote), conn: None }
    }

    fn input(&mut self, input: SipInput) {
        match input {
            SipInput::Message { flow, bytes } => {
                self.agent.handle_message(flow, &bytes, Instant::now(), epoch_secs());
            }
            SipInput::Opened { conn, tx, remote, outbound } => {
                if outbound && let Some(Outbound::Connecting(queue)) = self.outbound.remove(&remote) {
                    for bytes in queue {
                        let _ = tx.send(bytes);
                    }
                    self.outbound.insert(remote, Outbound::Open(conn));
                }
                self.conns.insert(conn, tx);
            }
            SipInput::Refuse { flow, pending, why } => {
                let blank = pending.iter().all(u8::is_ascii_whitespace);
                if blank || pending.starts_with(b"SIP/") {
                    return;
                }
                let reason = format!("Bad Request ({why})");
                let verdict = Verdict::Respond { code: 400, reason, headers: Vec::new() };
                if let Some(reply) = response_bytes(&pending, &verdict, &next_tag(&self.shared))
                    && let Some(tx) = flow.conn.and_then(|c| self.conns.get(&c))
                {
                    let _ = tx.send(reply);
                }
            }
            SipInput::Closed { conn, remote, outbound } => {
                self.conns.remove(&conn);
                self.agent.connection_closed(conn);
                if outbound {
                    self.outbound.remove(&remote);
                }
            }
        }
    }

    /// Sends what the agent wants sent and handles what it reports, until it has nothing more.
    async fn pump(&mut self) {
        loop {
            let mut busy = false;
            while let Some(t) = self.agent.poll_transmit() {
                busy = true;
                self.transmit(t.flow, t.bytes).await;
            }
            while let Some(event) = self.agent.poll_event() {
                busy = true;
                self.agent_event(event);
            }
            if !busy {
                break;
            }
        }
    }

    /// Updates the gauges of `/metrics` (counting bindings walks them all: not per message).
    fn gauges(&mut self) {
        let stats = self.agent.stats();
        self.shared.sip_calls.store(stats.calls as u64, Ordering::Relaxed);
        let bindings = self.agent.uas().registrar.binding_count(epoch_secs());
        self.shared.sip_bindings.store(bindings as u64, Ordering::Relaxed);
    }

    async fn transmit(&mut self, flow: Flow, bytes: Vec<u8>) {
        match flow.transport {
            Transport::Udp => {
                if let Some(udp) = &self.udp {
                    let _ = udp.send_to(&bytes, flow.remote).await;
                }
            }
            _ => {
                if let Some(tx) = flow.conn.and_then(|c| self.conns.get(&c)) {
                    let _ = tx.send(bytes);
                    return;
                }
                if flow.transport != Transport::Tcp {
                    tracing::debug!(remote = %flow.remote, "SIP connection gone: message dropped");
                    return;
                }
                match self.outbound.get_mut(&flow.remote) {
                    Some(Outbound::Open(conn)) => {
                        if let Some(tx) = self.conns.get(conn) {
                            let _ = tx.send(bytes);
                        }
                    }
                    Some(Outbound::Connecting(queue)) => queue.push(bytes),
                    None => {
                        self.outbound.insert(flow.remote, Outbound::Connecting(vec![bytes]));
                        tokio::spawn(connect(flow.remote, self.shared.clone()));
                    }
                }
            }
        }
    }

    fn agent_event(&mut self, event: Event) {
        let now = Instant::now();
        match event {
            Event::Incoming { call, from, from_name, user, uri, sdp } => {
                // A caller registered here can be called back under its name.
                let from_user = user_of(&from);
                let local_name = from_user.filter(|u| self.agent.binding(u, epoch_secs()).is_some());
                let caller = Caller { kind: LegKind::Sip, address: from, name: from_name, local_name };
                let target = if uri.is_empty() { user } else { uri };
                let mut state = self.shared.lock();
                let leg = state.new_leg();
                self.legs_of_calls.insert(call, leg);
                self.calls_of_legs.insert(leg, call);
                state.bridge.incoming(leg, caller, &target, sdp, false, now);
                state.flush();
            }
            Event::Trunk { name, status, code } => {
                match status {
                    TrunkStatus::Registered => tracing::info!(trunk = %name, code, "trunk registered"),
                    _ => tracing::warn!(trunk = %name, code, "trunk registration failed; retrying"),
                }
                let up =
                    self.agent.trunk_status().iter().filter(|(_, s)| *s == TrunkStatus::Registered).count();
                self.shared.sip_trunks_up.store(up as u64, Ordering::Relaxed);
            }
            Event::Registration { user, bound } => {
                // Phones registered over WebSocket (JsSIP, SIP.js) speak WebRTC media: no anchoring.
                let websocket = bound
                    && self
                        .agent
                        .binding(&user, epoch_secs())
                        .is_some_and(|(_, f)| matches!(f.transport, Transport::Ws | Transport::Wss));
                let mut state = self.shared.lock();
                state.bridge.set_webrtc_phone(&user, websocket);
                state.hub.set_external_name(&user, bound);
                // Registered phones are reachable from XMPP as NAME@<component domain>.
                if let Some(tx) = &state.legs.xmpp {
                    let _ = tx.send(super::xmpp::XmppInput::Phone { name: user, registered: bound });
                }
                state.flush();
            }
            Event::Ringing { call } => self.tell_bridge(call, CallEvent::Ringing),
            Event::Answer { call, sdp, early } => self.tell_bridge(call, CallEvent::Answer { sdp, early }),
            Event::Offer { call, sdp } => self.tell_bridge(call, CallEvent::Offer { sdp }),
            Event::Dtmf { call, digit, duration_ms } => {
                self.tell_bridge(call, CallEvent::Dtmf { digit, duration_ms });
            }
            Event::Ended { call, cause } => {
                if let Some(leg) = self.legs_of_calls.remove(&call) {
                    self.calls_of_legs.remove(&leg);
                    let (code, phrase) = (cause.code, cause.phrase);
                    let cause = HangupCause::parse_browser(cause.reason).unwrap_or(HangupCause::Failed);
                    let mut state = self.shared.lock();
                    let hangup = CallEvent::Hangup { cause, sip_code: code, text: Some(phrase) };
                    state.bridge.handle_event(leg, hangup, now);
                    state.flush();
                }
            }
            _ => {}
        }
    }

    /// Hands an event of agent call `call` to the bridge.
    fn tell_bridge(&mut self, call: CallRef, event: CallEvent) {
        let Some(&leg) = self.legs_of_calls.get(&call) else { return };
        let mut state = self.shared.lock();
        state.bridge.handle_event(leg, event, Instant::now());
        state.flush();
    }

    /// Ends leg `leg` on the bridge's side (it could not be dialled).
    fn refuse(&mut self, leg: LegId, cause: HangupCause, code: u16, why: &str) {
        tracing::info!(?leg, code, why, "SIP leg not dialled");
        let mut state = self.shared.lock();
        let hangup = CallEvent::Hangup { cause, sip_code: Some(code), text: Some(why.to_owned()) };
        state.bridge.handle_event(leg, hangup, Instant::now());
        state.flush();
    }

    fn dial(&mut self, dial: Dial) {
        let now = Instant::now();
        let target = match &dial.target {
            Target::Phone(name) => name.clone(),
            Target::Sip(uri) => uri.clone(),
            _ => return,
        };
        if let Some(m) = &dial.mismatch {
            return self.refuse(dial.leg, HangupCause::Incompatible, 488, &m.refusal());
        }
        let Some((uri, flow)) = self.resolve(&target) else {
            if target.contains(':') {
                return self.refuse(
                    dial.leg,
                    HangupCause::Failed,
                    416,
                    "target not reachable over UDP or TCP",
                );
            }
            self.shared.lock().hub.set_external_name(&target, false);
            if self.agent.is_user(&target) {
                return self.refuse(dial.leg, HangupCause::Unavailable, 480, "not registered");
            }
            return self.refuse(dial.leg, HangupCause::NotFound, 404, "no such user");
        };
        // Phone to phone without an offer is not bridged (the B2BUA would have to invent one).
        let Some(sdp) = dial.sdp.as_deref() else {
            return self.refuse(dial.leg, HangupCause::Incompatible, 488, "no offer to send");
        };
        // A registered phone's name: To is its address of record, the Request-URI its contact.
        let to = if target.contains(':') { uri.clone() } else { format!("sip:{target}@{}", flow.local.ip()) };
        let caller = dial.caller.sip_user();
        let call = self.agent.dial_to(&to, &uri, flow, &caller, dial.caller.name.as_deref(), Some(sdp), now);
        // Lists and records show the phone's address of record, not just its name.
        if !target.contains(':') {
            self.shared.lock().bridge.set_address(dial.leg, &to);
        }
        self.legs_of_calls.insert(call, dial.leg);
        self.calls_of_legs.insert(dial.leg, call);
    }

    fn command(&mut self, command: LegCommand) {
        let now = Instant::now();
        let (leg, event) = match command {
            LegCommand::Dial(dial) => return self.dial(dial),
            LegCommand::Event(leg, event) => (leg, event),
        };
        let Some(&call) = self.calls_of_legs.get(&leg) else { return };
        match event {
            CallEvent::Offer { sdp } => self.agent.offer(call, &sdp, now),
            CallEvent::Answer { sdp, early: false } => self.agent.answer(call, &sdp, now),
            // Early media (a SIP callee's 183 with SDP): 183 to a SIP caller.
            CallEvent::Answer { sdp, early: true } => self.agent.early(call, &sdp, now),
            CallEvent::Ringing => self.agent.ringing(call, now),
            CallEvent::Dtmf { digit, duration_ms } => self.agent.dtmf(call, digit, duration_ms, now),
            CallEvent::OfferRefused { .. } => self.agent.refuse_offer(call, now),
            CallEvent::Hangup { cause, .. } => {
                self.calls_of_legs.remove(&leg);
                self.legs_of_calls.remove(&call);
                self.agent.hangup(call, cause.browser_word(), now);
            }
            // SIP legs take their candidates inside the SDP (the bridge gathers them).
            _ => {}
        }
    }

    /// The Request-URI and flow for a browser's target: a `sip:` URI with
    /// an IP address (UDP, or TCP with `;transport=tcp`), or the name of a
    /// registered phone.
    fn resolve(&mut self, target: &str) -> Option<(String, Flow)> {
        if !target.contains(':') {
            return self.agent.binding(target, epoch_secs());
        }
        if !target.get(..4)?.eq_ignore_ascii_case("sip:") {
            return None; // sips: needs the TLS transport
        }
        let (host, port) = host_port_of(target)?;
        // A trunk's domain: through the trunk.
        if let Some(flow) = self.agent.trunk_for(host, port) {
            return Some((target.to_owned(), flow));
        }
        let ip: IpAddr = host.parse().ok()?;
        let remote = SocketAddr::new(ip, port.unwrap_or(5060));
        let transport = match uri_param(target, "transport").map(str::to_ascii_lowercase).as_deref() {
            None | Some("udp") => Transport::Udp,
            Some("tcp") => Transport::Tcp,
            Some(_) => return None,
        };
        if transport == Transport::Udp && self.udp.is_none() {
            return None;
        }
        let local = self.local_for(remote);
        Some((target.to_owned(), Flow { transport, remote, local, conn: None }))
    }
}

impl Driver {
    /// Starts registering to trunk `t` (its registrar's host is looked up once, here).
    async fn add_trunk(&mut self, t: &crate::config::SipTrunk) {
        let uri = t.registrar_uri();
        let name = t.name.clone().unwrap_or_else(|| t.registrar.clone());
        let Some((host, port)) = host_port_of(&uri) else {
            tracing::warn!(trunk = %name, "registrar `{uri}` is not a SIP URI");
            return;
        };
        let port = port.unwrap_or(5060);
        let remote = match host.parse::<IpAddr>() {
            Ok(ip) => SocketAddr::new(ip, port),
            Err(_) => match tokio::net::lookup_host((host, port)).await.ok().and_then(|mut a| a.next()) {
                Some(a) => a,
                None => {
                    tracing::warn!(trunk = %name, "cannot resolve `{host}`");
                    return;
                }
            },
        };
        let transport = match uri_param(&uri, "transport").map(str::to_ascii_lowercase).as_deref() {
            Some("tcp") => Transport::Tcp,
            _ => Transport::Udp,
        };
        let local = self.local_for(remote);
        let flow = Flow { transport, remote, local, conn: None };
        let config = TrunkConfig {
            name,
            registrar: uri.split(';').next().unwrap_or(&uri).to_owned(),
            user: t.user.clone(),
            domain: t.domain(),
            password: t.password.clone(),
            expires: t.expires.unwrap_or(300),
        };
        self.agent.add_trunk(config, flow, Instant::now());
    }
}

/// Opens an outbound TCP connection for the driver.
async fn connect(remote: SocketAddr, shared: Arc<Shared>) {
    match tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(remote)).await {
        Ok(Ok(stream)) => connection(stream, remote, shared, true).await,
        _ => {
            tracing::info!(%remote, "SIP TCP connection failed");
            let _ = shared.sip_tx.send(SipInput::Closed { conn: 0, remote, outbound: true });
        }
    }
}

/// Accepts TCP connections until the server stops.
pub(crate) async fn run_tcp(listener: TcpListener, shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                tokio::spawn(connection(stream, peer, shared.clone(), false));
            }
            _ = shutdown.changed() => return,
        }
    }
}

/// Accepts TLS connections (RFC 3261 §26.2) until the server stops.
pub(crate) async fn run_tls(listener: TcpListener, acceptor: tokio_rustls::TlsAcceptor, shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((tcp, remote)) = accepted else { continue };
                let _ = tcp.set_nodelay(true);
                let local = tcp.local_addr().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
                let (acceptor, shared) = (acceptor.clone(), shared.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => serve_stream(tls, Transport::Tls, remote, local, shared, false).await,
                        _ => tracing::debug!(%remote, "SIP TLS handshake failed"),
                    }
                });
            }
            _ = shutdown.changed() => return,
        }
    }
}

/// One SIP TCP connection: messages framed by Content-Length go to the
/// driver, the driver's messages are written, CRLF pings are answered
/// (RFC 5626 §4.4.1).
async fn connection(stream: TcpStream, remote: SocketAddr, shared: Arc<Shared>, outbound: bool) {
    let local = stream.local_addr().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    let _ = stream.set_nodelay(true);
    serve_stream(stream, Transport::Tcp, remote, local, shared, outbound).await;
}

/// One SIP stream (TCP or TLS) until it closes.
async fn serve_stream<S>(
    stream: S,
    transport: Transport,
    remote: SocketAddr,
    local: SocketAddr,
    shared: Arc<Shared>,
    outbound: bool,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let conn = shared.next_conn();
    let (tx, mut rx) = unbounded_channel::<Vec<u8>>();
    let _ = shared.sip_tx.send(SipInput::Opened { conn, tx, remote, outbound });
    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut framer = Framer::new(MAX_MESSAGE);
    let mut buf = vec![0u8; 8192];
    let flow = Flow { transport, remote, local, conn: Some(conn) };
    let mut shutdown = shared.shutdown.clone();
    'conn: loop {
        tokio::select! {
            read = reader.read(&mut buf) => {
                let n = match read {
                    Ok(0) => {
                        // The peer closed its side with a message unfinished (a Content-Length
                        // beyond what it sent, or no empty line after the headers): 400, then close.
                        let why = "message incomplete when the stream ended".to_owned();
                        let _ = shared.sip_tx.send(SipInput::Refuse { flow, pending: framer.pending().to_vec(), why });
                        drain(&mut rx, &mut writer).await;
                        break 'conn;
                    }
                    Err(_) => break 'conn,
                    Ok(n) => n,
                };
                framer.push(&buf[..n]);
                loop {
                    match framer.poll() {
                        Ok(None) => break,
                        Ok(Some(Framed::Ping)) => {
                            if writer.write_all(b"\r\n").await.is_err() {
                                break 'conn;
                            }
                        }
                        Ok(Some(Framed::Message(message))) => {
                            let _ = shared.sip_tx.send(SipInput::Message { flow, bytes: message.to_vec() });
                        }
                        Err(e) => {
                            // The stream cannot be re-synchronised: answer 400 to a request whose
                            // headers arrived (RFC 3261 §18.3: Content-Length is mandatory on streams), then close.
                            tracing::debug!(%remote, error = %e, "closing SIP connection");
                            let why = e.to_string();
                            let _ = shared.sip_tx.send(SipInput::Refuse { flow, pending: framer.pending().to_vec(), why });
                            drain(&mut rx, &mut writer).await;
                            break 'conn;
                        }
                    }
                }
            }
            out = rx.recv() => match out {
                Some(bytes) => {
                    if writer.write_all(&bytes).await.is_err() {
                        break 'conn;
                    }
                }
                None => break 'conn,
            },
            _ = shutdown.changed() => break 'conn,
        }
    }
    let _ = shared.sip_tx.send(SipInput::Closed { conn, remote, outbound });
}

/// Writes what the driver still sends until the connection has been quiet
/// for a moment: the peer's side is closed or unusable, ours is not yet.
async fn drain(rx: &mut UnboundedReceiver<Vec<u8>>, writer: &mut (impl tokio::io::AsyncWrite + Unpin)) {
    while let Ok(Some(bytes)) = tokio::time::timeout(Duration::from_millis(300), rx.recv()).await {
        if writer.write_all(&bytes).await.is_err() {
            break;
        }
    }
}
