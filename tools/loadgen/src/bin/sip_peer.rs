//! `sip_peer`: a browser-protocol (v1, `protocols/browser/PROTOCOL.md`) client for
//! SIP call tests. Many calls share one WebSocket connection; each call is its own
//! session. Used by `tests/sipp/run.sh` against sipp UACs and UASs.
//!
//! - `sip_peer answer --name alice`: registers `alice`, prints `ready`, and answers
//!   every `offer` (and `offer-request`, a late-offer INVITE) with an SDP built from it;
//!   re-offers in a known session (re-INVITE, hold) are answered the same way.
//! - `sip_peer call --to sip:uas@127.0.0.1:5090 --calls N --rate CPS`: places calls,
//!   hangs up after `--hold-ms`, reports `ok=.. failed=..` and the setup latency.
//!
//! Both print a one-line summary on stdout; `error` messages from the server go to stderr.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use futures_util::stream::SplitStream;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Rx = SplitStream<Ws>;

#[derive(Debug, Parser)]
#[command(name = "sip_peer", about = "Browser-protocol (v1) client for SIP call tests")]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Register a name and answer the calls that reach it.
    Answer(AnswerArgs),
    /// Place calls and hang them up.
    Call(CallArgs),
    /// Print the built-in offer (to check it with `switchboard sdp -`).
    PrintOffer,
    /// Print the answer `answer` mode would send to the offer in FILE (`-`: standard input).
    PrintAnswer { file: std::path::PathBuf },
}

#[derive(Debug, clap::Args)]
struct AnswerArgs {
    /// WebSocket URL of the gateway's browser endpoint.
    #[arg(long, default_value = "ws://127.0.0.1:8080/ws")]
    url: String,
    /// The name to register (SIP callers reach it as sip:NAME@gateway).
    #[arg(long)]
    name: String,
    /// Send `ringing` for each new call (the gateway's 180 Ringing).
    #[arg(long)]
    ringing: bool,
    /// Wait this long before answering (or rejecting) a new call.
    #[arg(long, default_value_t = 0)]
    answer_delay_ms: u64,
    /// Hang up this long after answering.
    #[arg(long)]
    hangup_after_ms: Option<u64>,
    /// Reject new calls with `hangup` and this reason (`busy` -> 486, `decline` -> 603).
    #[arg(long)]
    reject: Option<String>,
    /// Exit 0 once this many calls are done: answered (or rejected) and ended.
    #[arg(long)]
    expect: Option<u64>,
    /// With --expect: count instead the calls ended by a received `hangup` with this
    /// reason (e.g. `cancel`), answered or not.
    #[arg(long, requires = "expect")]
    expect_reason: Option<String>,
    /// Give up (exit 1 when --expect is not met) after this long [default: 60 with --expect].
    #[arg(long)]
    timeout_secs: Option<u64>,
    /// Print one line per call event.
    #[arg(long, short)]
    verbose: bool,
}

#[derive(Debug, clap::Args)]
struct CallArgs {
    /// WebSocket URL of the gateway's browser endpoint.
    #[arg(long, default_value = "ws://127.0.0.1:8080/ws")]
    url: String,
    /// The callee: a `sip:` URI, a registered name or a peer id.
    #[arg(long)]
    to: String,
    /// Register this name first (calls then come `from` it).
    #[arg(long)]
    name: Option<String>,
    /// Number of calls.
    #[arg(long, default_value_t = 1)]
    calls: u64,
    /// Calls started per second.
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// Hang up this long after the (final) answer.
    #[arg(long, default_value_t = 0)]
    hold_ms: u64,
    /// A `hangup` before answer with this `sipCode` counts as success (e.g. 486 from a busy UAS).
    #[arg(long)]
    expect_hangup_code: Option<u64>,
    /// Every call must be done within this many seconds of the start.
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
    /// At most this many calls in progress at once.
    #[arg(long)]
    concurrency_limit: Option<usize>,
    /// Send this SDP as the offer instead of the built-in audio offer.
    #[arg(long)]
    sdp: Option<std::path::PathBuf>,
    /// Print one line per call event.
    #[arg(long, short)]
    verbose: bool,
}

// ---------------------------------------------------------------------------------------
// SDP

/// A simple audio offer, as a SIP phone or a non-trickling browser would send it:
/// RTP/AVP PCMU plus telephone-event on 127.0.0.1, with two host candidates.
fn audio_offer(session_id: u64, port: u16) -> String {
    format!(
        "v=0\r\n\
         o=- {session_id} 1 IN IP4 127.0.0.1\r\n\
         s=-\r\n\
         c=IN IP4 127.0.0.1\r\n\
         t=0 0\r\n\
         m=audio {port} RTP/AVP 0 101\r\n\
         a=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\n\
         a=fmtp:101 0-16\r\n\
         a=ptime:20\r\n\
         a=sendrecv\r\n\
         a=ice-ufrag:sbp{session_id:x}\r\n\
         a=ice-pwd:sippeerpassword0123456789\r\n\
         a=candidate:1 1 udp 2130706431 127.0.0.1 {port} typ host\r\n\
         a=candidate:1 2 udp 2130706430 127.0.0.1 {rtcp} typ host\r\n",
        rtcp = port + 1
    )
}

#[derive(Debug, Default)]
struct OfferedMedia<'a> {
    media: &'a str,
    port: &'a str,
    proto: &'a str,
    fmt: Option<&'a str>,
    rtpmap: Option<&'a str>,
    fmtp: Option<&'a str>,
    direction: Option<&'a str>,
    mid: Option<&'a str>,
    rtcp_mux: bool,
    sctp_port: bool,
    setup: bool,
}

/// An answer to `offer` (RFC 3264 §6): the same m-lines in the same order with the same
/// media and proto, each with the first offered format, on 127.0.0.1, the direction
/// mirrored; ICE and DTLS attributes when the offer has them.
fn answer_sdp(offer: &str, session_id: u64) -> Result<String, String> {
    let mut media: Vec<OfferedMedia<'_>> = Vec::new();
    let (mut session_direction, mut bundle, mut ice, mut dtls) = (None, None, false, false);
    for line in offer.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(m) = line.strip_prefix("m=") {
            let mut parts = m.split_ascii_whitespace();
            let (Some(kind), Some(port), Some(proto)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(format!("bad m-line `{line}`"));
            };
            media.push(OfferedMedia { media: kind, port, proto, fmt: parts.next(), ..Default::default() });
            continue;
        }
        let Some(attr) = line.strip_prefix("a=") else { continue };
        let (name, value) = attr.split_once(':').unwrap_or((attr, ""));
        match name {
            "ice-ufrag" => ice = true,
            "fingerprint" => dtls = true,
            "group" if value.starts_with("BUNDLE") => bundle = Some(value),
            _ => {}
        }
        let direction = matches!(name, "sendrecv" | "sendonly" | "recvonly" | "inactive");
        let Some(m) = media.last_mut() else {
            if direction {
                session_direction = Some(name);
            }
            continue;
        };
        let fmt = m.fmt;
        let first_fmt_attr = |v| {
            let (pt, _) = str::split_once(v, ' ')?;
            (Some(pt) == fmt).then_some(v)
        };
        match name {
            _ if direction => m.direction = Some(name),
            "rtpmap" if m.rtpmap.is_none() => m.rtpmap = first_fmt_attr(value),
            "fmtp" if m.fmtp.is_none() => m.fmtp = first_fmt_attr(value),
            "mid" => m.mid = Some(value),
            "rtcp-mux" => m.rtcp_mux = true,
            "sctp-port" => m.sctp_port = true,
            "setup" => m.setup = true,
            _ => {}
        }
    }
    if media.is_empty() {
        return Err("offer without m-lines".into());
    }
    let mut sdp = format!("v=0\r\no=- {session_id} 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n");
    if let Some(b) = bundle {
        sdp += &format!("a=group:{b}\r\n");
    }
    for (i, m) in media.iter().enumerate() {
        let rejected = m.port.split('/').next() == Some("0");
        let port = if rejected { 0 } else { 20_000 + 2 * i };
        let fmt = m.fmt.unwrap_or("0");
        sdp += &format!("m={} {port} {} {fmt}\r\nc=IN IP4 127.0.0.1\r\n", m.media, m.proto);
        if let Some(mid) = m.mid {
            sdp += &format!("a=mid:{mid}\r\n");
        }
        if let Some(r) = m.rtpmap {
            sdp += &format!("a=rtpmap:{r}\r\n");
        }
        if let Some(f) = m.fmtp {
            sdp += &format!("a=fmtp:{f}\r\n");
        }
        if m.sctp_port {
            sdp += "a=sctp-port:5000\r\n";
        }
        if m.rtcp_mux {
            sdp += "a=rtcp-mux\r\n";
        }
        if ice {
            sdp += &format!("a=ice-ufrag:sba{session_id:x}\r\na=ice-pwd:sippeeranswerpassword01234\r\n");
        }
        if dtls {
            sdp += "a=fingerprint:sha-256 ";
            sdp += &(0..32).map(|b| format!("{:02X}", b * 7 % 256)).collect::<Vec<_>>().join(":");
            sdp += "\r\n";
        }
        if m.setup || dtls {
            sdp += "a=setup:active\r\n";
        }
        if m.media != "application" {
            let answer_direction = match m.direction.or(session_direction) {
                Some("sendonly") => "recvonly",
                Some("recvonly") => "sendonly",
                Some("inactive") => "inactive",
                _ => "sendrecv",
            };
            sdp += &format!("a={answer_direction}\r\n");
        }
    }
    Ok(sdp)
}

// ---------------------------------------------------------------------------------------
// Connection

/// Outgoing frames go through this channel to one writer task; `None` closes.
#[derive(Clone)]
struct Out(mpsc::UnboundedSender<Option<String>>);

impl Out {
    fn send(&self, v: Value) {
        let _ = self.0.send(Some(v.to_string()));
    }
}

struct Conn {
    id: String,
    out: Out,
    rx: Rx,
    writer: tokio::task::JoinHandle<()>,
}

async fn connect(url: &str) -> Result<Conn, String> {
    let mut tries = 0u64;
    let ws = loop {
        match tokio_tungstenite::connect_async_with_config(url, None, true).await {
            Ok((ws, _)) => break ws,
            Err(e) if tries < 30 => {
                tries += 1;
                if tries == 30 {
                    return Err(format!("connect {url}: {e}"));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(format!("connect {url}: {e}")),
        }
    };
    let (mut sink, mut rx) = ws.split();
    let welcome = next_json(&mut rx).await.ok_or("connection closed before welcome")?;
    if welcome["type"] != "welcome" {
        return Err(format!("expected welcome, got {welcome}"));
    }
    let id = welcome["id"].as_str().unwrap_or_default().to_owned();
    let (tx, mut out_rx) = mpsc::unbounded_channel::<Option<String>>();
    let writer = tokio::spawn(async move {
        'frames: while let Some(Some(text)) = out_rx.recv().await {
            if sink.feed(Message::Text(text.into())).await.is_err() {
                return;
            }
            // Flush when nothing else is queued: bursts go out in one write.
            while let Ok(next) = out_rx.try_recv() {
                let Some(text) = next else { break 'frames };
                if sink.feed(Message::Text(text.into())).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
        let _ = sink.send(Message::Close(None)).await;
        let _ = sink.close().await;
    });
    let out = Out(tx);
    // An application-level ping every 10 s keeps the connection alive whatever
    // happens to WebSocket pings on a split stream.
    let keepalive = out.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(10)).await;
            if keepalive.0.is_closed() {
                return;
            }
            keepalive.send(json!({"type": "ping"}));
        }
    });
    Ok(Conn { id, out, rx, writer })
}

/// The next JSON text message; `None` when the connection ends.
async fn next_json(rx: &mut Rx) -> Option<Value> {
    loop {
        match rx.next().await? {
            Ok(Message::Text(t)) => match serde_json::from_str(&t) {
                Ok(v) => return Some(v),
                Err(e) => eprintln!("sip_peer: bad JSON from the server ({e}): {t}"),
            },
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

async fn register(conn: &mut Conn, name: &str) -> Result<(), String> {
    conn.out.send(json!({"type": "register", "name": name, "ref": "register"}));
    loop {
        let v = next_json(&mut conn.rx).await.ok_or("connection closed before registered")?;
        match v["type"].as_str() {
            Some("registered") => return Ok(()),
            Some("error") => return Err(format!("register {name}: {v}")),
            _ => {}
        }
    }
}

/// Closes the connection after everything queued before is written.
async fn finish(out: Out, writer: tokio::task::JoinHandle<()>) {
    let _ = out.0.send(None);
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
}

fn str_of(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
}

static SDP_IDS: AtomicU64 = AtomicU64::new(1);

fn next_sdp_id() -> u64 {
    let pid = u64::from(std::process::id());
    (pid << 32) | SDP_IDS.fetch_add(1, Ordering::Relaxed)
}

// ---------------------------------------------------------------------------------------
// answer

#[derive(Debug, Default)]
struct Incoming {
    answered: bool,
    rejected: bool,
    ended: bool,
    /// The reason of the `hangup` received, if the other side ended it.
    remote_reason: Option<String>,
}

#[derive(Debug, Default)]
struct AnswerState {
    calls: HashMap<String, Incoming>,
    answered: u64,
    rejected: u64,
    ended: u64,
    done: u64,
    errors: u64,
    reoffers: u64,
    late_offers: u64,
    /// `answer`s received (to our offers in late-offer calls).
    answers: u64,
    reasons: BTreeMap<String, u64>,
}

impl AnswerState {
    fn summary(&self) -> String {
        let reasons: Vec<String> = self.reasons.iter().map(|(r, n)| format!("{r}:{n}")).collect();
        format!(
            "answered={} ended={} errors={} rejected={} reoffers={} late_offers={} answers_received={} hangups_received={} reasons={}",
            self.answered,
            self.ended,
            self.errors,
            self.rejected,
            self.reoffers,
            self.late_offers,
            self.answers,
            self.reasons.values().sum::<u64>(),
            if reasons.is_empty() { "-".to_owned() } else { reasons.join(",") }
        )
    }
}

struct Answerer {
    args: AnswerArgs,
    out: Out,
    state: Mutex<AnswerState>,
    done: Notify,
}

impl Answerer {
    /// Marks `sid` ended (once) and counts it towards --expect when it qualifies.
    fn end(&self, st: &mut AnswerState, sid: &str, remote_reason: Option<String>) {
        let Some(call) = st.calls.get_mut(sid) else { return };
        if call.ended {
            return;
        }
        call.ended = true;
        call.remote_reason = remote_reason;
        let counts = match &self.args.expect_reason {
            Some(r) => call.remote_reason.as_ref() == Some(r),
            None => call.answered || call.rejected,
        };
        st.ended += 1;
        if counts {
            st.done += 1;
            if self.args.expect.is_some_and(|n| st.done >= n) {
                self.done.notify_one();
            }
        }
    }

    fn handle(self: &Arc<Self>, v: Value) {
        let kind = v["type"].as_str().unwrap_or_default();
        let sid = str_of(&v, "session");
        let verbose = self.args.verbose;
        match kind {
            "offer" | "offer-request" => {
                let mut st = self.state.lock().unwrap();
                let known = st.calls.contains_key(&sid);
                if st.calls.get(&sid).is_some_and(|c| c.ended) {
                    eprintln!("sip_peer answer: {kind} for the ended session {sid}: {v}");
                }
                if known && kind == "offer" {
                    st.reoffers += 1;
                    drop(st);
                    if verbose {
                        say(&format!("reoffer session={sid}"));
                    }
                    self.send_answer(&sid, &v);
                    return;
                }
                if known {
                    eprintln!("sip_peer: offer-request for a session in progress: {v}");
                    return;
                }
                if kind == "offer-request" {
                    st.late_offers += 1;
                }
                st.calls.insert(sid.clone(), Incoming::default());
                drop(st);
                if verbose {
                    say(&format!("{kind} session={sid} from={}", str_of(&v, "from")));
                }
                let me = self.clone();
                tokio::spawn(async move { me.accept(sid, v).await });
            }
            "hangup" => {
                let reason = v["reason"].as_str().unwrap_or("normal").to_owned();
                let mut st = self.state.lock().unwrap();
                if !st.calls.contains_key(&sid) {
                    return;
                }
                *st.reasons.entry(reason.clone()).or_default() += 1;
                self.end(&mut st, &sid, Some(reason.clone()));
                if verbose {
                    say(&format!(
                        "hangup session={sid} reason={reason} sipCode={} sipReason={}",
                        str_of(&v, "sipCode"),
                        str_of(&v, "sipReason")
                    ));
                }
            }
            // The answer to our offer (late-offer calls).
            "answer" => {
                let mut st = self.state.lock().unwrap();
                if st.calls.contains_key(&sid) && v["early"] != true {
                    st.answers += 1;
                }
                drop(st);
                if verbose {
                    say(&format!("answer session={sid} early={}", v["early"] == true));
                }
            }
            "error" => {
                self.state.lock().unwrap().errors += 1;
                eprintln!("sip_peer answer: error: {v}");
            }
            _ => {}
        }
    }

    fn send_answer(&self, sid: &str, offer: &Value) {
        match answer_sdp(offer["sdp"].as_str().unwrap_or_default(), next_sdp_id()) {
            Ok(sdp) => {
                self.out.send(json!({"type": "answer", "session": sid, "sdp": sdp, "ref": sid}));
                self.out.send(json!({"type": "candidate", "session": sid, "candidate": null, "ref": sid}));
            }
            Err(e) => {
                eprintln!("sip_peer: cannot answer session {sid}: {e}: {offer}");
                self.out.send(json!({"type": "hangup", "session": sid, "reason": "bad-offer", "ref": sid}));
                let mut st = self.state.lock().unwrap();
                self.end(&mut st, sid, None);
            }
        }
    }

    async fn accept(self: Arc<Self>, sid: String, request: Value) {
        let args = &self.args;
        if args.ringing {
            self.out.send(json!({"type": "ringing", "session": sid, "ref": sid}));
        }
        if args.answer_delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(args.answer_delay_ms)).await;
        }
        {
            let mut st = self.state.lock().unwrap();
            if st.calls.get(&sid).is_none_or(|c| c.ended) {
                return; // cancelled before we answered
            }
            if let Some(reason) = &args.reject {
                self.out.send(json!({"type": "hangup", "session": sid, "reason": reason, "ref": sid}));
                st.rejected += 1;
                if let Some(c) = st.calls.get_mut(&sid) {
                    c.rejected = true;
                }
                self.end(&mut st, &sid, None);
                return;
            }
            if request["type"] == "offer-request" {
                let to = str_of(&request, "from");
                let sdp = audio_offer(next_sdp_id(), 30_000);
                self.out.send(json!({"type": "offer", "to": to, "session": sid, "sdp": sdp, "ref": sid}));
                self.out.send(json!({"type": "candidate", "session": sid, "candidate": null, "ref": sid}));
            } else {
                drop(st);
                self.send_answer(&sid, &request);
                st = self.state.lock().unwrap();
                if st.calls.get(&sid).is_none_or(|c| c.ended) {
                    return; // the offer could not be answered
                }
            }
            st.answered += 1;
            if let Some(c) = st.calls.get_mut(&sid) {
                c.answered = true;
            }
        }
        if let Some(ms) = args.hangup_after_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            let mut st = self.state.lock().unwrap();
            if st.calls.get(&sid).is_some_and(|c| !c.ended) {
                self.out.send(json!({"type": "hangup", "session": sid, "ref": sid}));
                if args.verbose {
                    say(&format!("sent hangup session={sid}"));
                }
                self.end(&mut st, &sid, None);
            }
        }
    }
}

async fn answer(args: AnswerArgs) -> i32 {
    let mut conn = match connect(&args.url).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sip_peer answer: {e}");
            return 2;
        }
    };
    if let Err(e) = register(&mut conn, &args.name).await {
        eprintln!("sip_peer answer: {e}");
        return 2;
    }
    say("ready");
    let timeout = args.timeout_secs.or(args.expect.map(|_| 60)).map(Duration::from_secs);
    let expect = args.expect;
    let Conn { out, mut rx, writer, .. } = conn;
    let me = Arc::new(Answerer { args, out: out.clone(), state: Mutex::default(), done: Notify::new() });
    let deadline = tokio::time::sleep(timeout.unwrap_or(Duration::from_secs(365 * 86_400)));
    tokio::pin!(deadline);
    let mut sigterm =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    let outcome = loop {
        tokio::select! {
            msg = next_json(&mut rx) => match msg {
                Some(v) => me.handle(v),
                None => break "connection closed",
            },
            () = me.done.notified() => break "done",
            () = &mut deadline => break "timeout",
            _ = sigterm.recv() => break "terminated",
            _ = tokio::signal::ctrl_c() => break "interrupted",
        }
    };
    let summary = me.state.lock().unwrap().summary();
    let done = me.state.lock().unwrap().done;
    let code = match expect {
        Some(n) if done >= n => 0,
        Some(n) => {
            eprintln!("sip_peer answer: {outcome} with {done} of {n} expected calls done");
            1
        }
        None if outcome == "connection closed" => 1,
        None => 0,
    };
    say(&summary);
    drop(me);
    finish(out, writer).await;
    code
}

// ---------------------------------------------------------------------------------------
// call

type Routes = Arc<Mutex<HashMap<String, mpsc::UnboundedSender<Value>>>>;

#[derive(Debug)]
enum Outcome {
    /// Answered (setup latency), or ended with the expected SIP code (None).
    Ok {
        setup: Option<Duration>,
        remote_hangup: bool,
        early: bool,
        rang: bool,
    },
    Failed(String),
}

struct Caller {
    args: CallArgs,
    out: Out,
    offer: Option<String>,
}

impl Caller {
    async fn call(
        &self,
        sid: String,
        mut rx: mpsc::UnboundedReceiver<Value>,
        deadline: tokio::time::Instant,
    ) -> Outcome {
        let args = &self.args;
        let sdp = self.offer.clone().unwrap_or_else(|| audio_offer(next_sdp_id(), 40_000));
        let t0 = Instant::now();
        self.out.send(json!({"type": "offer", "to": args.to, "session": sid, "sdp": sdp, "ref": sid}));
        self.out.send(json!({"type": "candidate", "session": sid, "candidate": null, "ref": sid}));
        let (mut rang, mut early) = (false, false);
        let setup = loop {
            let Ok(Some(v)) = tokio::time::timeout_at(deadline, rx.recv()).await else {
                return Outcome::Failed(format!(
                    "session {sid}: no answer before the timeout (ringing={rang}, early={early})"
                ));
            };
            match v["type"].as_str().unwrap_or_default() {
                "ringing" => rang = true,
                "answer" if v["early"] == true => early = true,
                "answer" => break t0.elapsed(),
                "hangup" => {
                    if args.expect_hangup_code.is_some() && v["sipCode"].as_u64() == args.expect_hangup_code {
                        return Outcome::Ok { setup: None, remote_hangup: true, early, rang };
                    }
                    return Outcome::Failed(format!(
                        "session {sid}: hangup before answer: reason={} sipCode={} sipReason={}",
                        str_of(&v, "reason"),
                        str_of(&v, "sipCode"),
                        str_of(&v, "sipReason")
                    ));
                }
                "error" => return Outcome::Failed(format!("session {sid}: error {v}")),
                "offer" => self.answer_reoffer(&sid, &v),
                _ => {}
            }
        };
        if args.verbose {
            say(&format!("answered session={sid} setup_ms={:.1}", setup.as_secs_f64() * 1000.0));
        }
        if let Some(code) = args.expect_hangup_code {
            self.out.send(json!({"type": "hangup", "session": sid, "ref": sid}));
            return Outcome::Failed(format!(
                "session {sid}: answered, but a hangup with sipCode {code} was expected"
            ));
        }
        let hold_end = tokio::time::Instant::now() + Duration::from_millis(args.hold_ms);
        loop {
            match tokio::time::timeout_at(hold_end.min(deadline), rx.recv()).await {
                Err(_) if tokio::time::Instant::now() >= hold_end => break,
                Err(_) => return Outcome::Failed(format!("session {sid}: timeout during the call")),
                Ok(None) => return Outcome::Failed(format!("session {sid}: connection closed")),
                Ok(Some(v)) => match v["type"].as_str().unwrap_or_default() {
                    "hangup" => {
                        say(&format!(
                            "remote hangup session={sid} reason={} sipCode={} sipReason={}",
                            str_of(&v, "reason"),
                            str_of(&v, "sipCode"),
                            str_of(&v, "sipReason")
                        ));
                        return Outcome::Ok { setup: Some(setup), remote_hangup: true, early, rang };
                    }
                    "error" => return Outcome::Failed(format!("session {sid}: error during the call {v}")),
                    "offer" => self.answer_reoffer(&sid, &v),
                    _ => {}
                },
            }
        }
        self.out.send(json!({"type": "hangup", "session": sid, "ref": sid}));
        Outcome::Ok { setup: Some(setup), remote_hangup: false, early, rang }
    }

    fn answer_reoffer(&self, sid: &str, v: &Value) {
        if self.args.verbose {
            say(&format!("reoffer session={sid}"));
        }
        match answer_sdp(v["sdp"].as_str().unwrap_or_default(), next_sdp_id()) {
            Ok(sdp) => {
                self.out.send(json!({"type": "answer", "session": sid, "sdp": sdp, "ref": sid}));
                self.out.send(json!({"type": "candidate", "session": sid, "candidate": null, "ref": sid}));
            }
            Err(e) => eprintln!("sip_peer call: cannot answer a re-offer in {sid}: {e}"),
        }
    }
}

async fn call(args: CallArgs) -> i32 {
    let offer = match &args.sdp {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("sip_peer call: {}: {e}", path.display());
                return 2;
            }
        },
        None => None,
    };
    let mut conn = match connect(&args.url).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sip_peer call: {e}");
            return 2;
        }
    };
    if let Some(name) = &args.name
        && let Err(e) = register(&mut conn, name).await
    {
        eprintln!("sip_peer call: {e}");
        return 2;
    }
    let Conn { id, out, mut rx, writer } = conn;
    let routes: Routes = Arc::default();
    let stray_errors = Arc::new(AtomicU64::new(0));
    // The reader: each message goes to the call of its session (or of its `ref`).
    let reader = {
        let (routes, stray_errors) = (routes.clone(), stray_errors.clone());
        tokio::spawn(async move {
            while let Some(v) = next_json(&mut rx).await {
                let key = match v["session"].as_str() {
                    Some(s) => s.to_owned(),
                    None => str_of(&v, "ref"),
                };
                let route = routes.lock().unwrap().get(&key).cloned();
                match route {
                    Some(tx) => {
                        let _ = tx.send(v);
                    }
                    None if v["type"] == "error" => {
                        stray_errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("sip_peer call: error: {v}");
                    }
                    None => {}
                }
            }
            // The connection is gone: every call still waiting learns it.
            routes.lock().unwrap().clear();
        })
    };
    let calls = args.calls;
    let rate = args.rate.max(0.001);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.timeout_secs);
    let limit = args.concurrency_limit.map(|k| Arc::new(Semaphore::new(k.max(1))));
    let caller = Arc::new(Caller { args, out: out.clone(), offer });
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(calls as usize);
    for n in 0..calls {
        tokio::time::sleep_until(start + Duration::from_secs_f64(n as f64 / rate)).await;
        let permit = match &limit {
            Some(sem) => Some(sem.clone().acquire_owned().await.expect("semaphore")),
            None => None,
        };
        let sid = format!("sp-{id}-{n}");
        let (tx, crx) = mpsc::unbounded_channel();
        routes.lock().unwrap().insert(sid.clone(), tx);
        let (caller, routes) = (caller.clone(), routes.clone());
        tasks.push(tokio::spawn(async move {
            let outcome = caller.call(sid.clone(), crx, deadline).await;
            routes.lock().unwrap().remove(&sid);
            drop(permit);
            outcome
        }));
    }
    let (mut ok, mut failed, mut remote, mut rang, mut early) = (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut setups = Vec::new();
    let mut reasons: Vec<String> = Vec::new();
    for t in tasks {
        match t.await.unwrap_or_else(|e| Outcome::Failed(format!("task: {e}"))) {
            Outcome::Ok { setup, remote_hangup, early: e, rang: r } => {
                ok += 1;
                remote += u64::from(remote_hangup);
                early += u64::from(e);
                rang += u64::from(r);
                setups.extend(setup);
            }
            Outcome::Failed(why) => {
                failed += 1;
                reasons.push(why);
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    for why in reasons.iter().take(20) {
        eprintln!("sip_peer call: FAILED {why}");
    }
    if reasons.len() > 20 {
        eprintln!("sip_peer call: ... and {} more failures", reasons.len() - 20);
    }
    setups.sort_unstable();
    say(&format!(
        "ok={ok} failed={failed} calls={calls} ringing={rang} early={early} remote_hangups={remote} stray_errors={} \
         setup_ms_p50={:.1} setup_ms_p99={:.1} setup_ms_max={:.1} secs={elapsed:.1}",
        stray_errors.load(Ordering::Relaxed),
        percentile(&setups, 0.50),
        percentile(&setups, 0.99),
        setups.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
    ));
    drop(caller);
    // Let the hangups go out, then close.
    finish(out, writer).await;
    reader.abort();
    if failed == 0 && ok == calls { 0 } else { 1 }
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let code = match cli.mode {
        Mode::Answer(a) => answer(a).await,
        Mode::Call(c) => call(c).await,
        Mode::PrintOffer => {
            print!("{}", audio_offer(next_sdp_id(), 40_000));
            0
        }
        Mode::PrintAnswer { file } => {
            let offer = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())
            } else {
                std::fs::read_to_string(&file)
            };
            match offer.map_err(|e| e.to_string()).and_then(|o| answer_sdp(&o, next_sdp_id())) {
                Ok(sdp) => {
                    print!("{sdp}");
                    0
                }
                Err(e) => {
                    eprintln!("sip_peer: {e}");
                    1
                }
            }
        }
    };
    std::process::exit(code);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_mirror_the_offer() {
        let offer = audio_offer(7, 40_000).replace("a=sendrecv", "a=sendonly");
        let a = answer_sdp(&offer, 9).unwrap();
        assert!(a.contains("m=audio 20000 RTP/AVP 0\r\n"), "{a}");
        assert!(a.contains("a=recvonly\r\n"), "{a}");
        assert!(!a.contains("rtpmap:101"), "{a}");
        let two = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\na=inactive\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\n\
                   a=mid:0\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10\r\na=ice-ufrag:x\r\n\
                   a=fingerprint:sha-256 AA\r\nm=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:1\r\na=sctp-port:5000\r\n";
        let a = answer_sdp(two, 1).unwrap();
        assert!(a.contains("m=audio 20000 UDP/TLS/RTP/SAVPF 111\r\n"), "{a}");
        assert!(a.contains("a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10\r\n"), "{a}");
        assert!(a.contains("a=inactive\r\n"), "{a}");
        assert!(a.contains("m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n"), "{a}");
    }
}
