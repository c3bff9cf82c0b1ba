//! Load generator for browser signaling servers: holds many idle WebSocket
//! peers, and relays offer/answer/candidate between pairs of them, against
//! Switchboard (protocol v1) or a PeerJS server (its own protocol), so both
//! carry the same load in the same run. See BENCHMARKS.md and benches/signaling/run.sh.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Tx = SplitSink<Ws, Message>;
type Rx = SplitStream<Ws>;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Target {
    /// Switchboard protocol v1 (`/ws`).
    Switchboard,
    /// PeerJS server (`/peerjs/peerjs?key=peerjs&id=..&token=..`).
    Peerjs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Mode {
    /// Open --peers connections (joined to --rooms rooms) and report the server's RSS per peer.
    Idle,
    /// --pairs pairs relay offer, answer, candidate, candidate in turn, one message in flight per pair.
    Closed,
    /// --pairs pairs send offers and candidates one way at --rate messages/s in total; report latency.
    Open,
}

#[derive(Debug, Parser)]
struct Args {
    #[arg(long, value_enum)]
    target: Target,
    #[arg(long, value_enum)]
    mode: Mode,
    /// Server base, e.g. `ws://127.0.0.1:8080`.
    #[arg(long)]
    url: String,
    /// The server's process id, to read its resident memory.
    #[arg(long)]
    pid: u32,
    /// The SDP carried by offers and answers.
    #[arg(long)]
    sdp: std::path::PathBuf,
    #[arg(long, default_value_t = 10_000)]
    peers: usize,
    #[arg(long, default_value_t = 1_000)]
    rooms: usize,
    #[arg(long, default_value_t = 1_000)]
    pairs: usize,
    #[arg(long, default_value_t = 10)]
    secs: u64,
    #[arg(long, default_value_t = 20_000)]
    rate: u64,
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// One connected peer: its address as the server knows it, and its halves.
struct Peer {
    address: String,
    tx: Tx,
    rx: Rx,
}

impl Peer {
    /// Back to one raw connection (nothing is buffered: the welcome was read whole).
    fn into_raw(self) -> Raw {
        Raw::new(self.tx.reunite(self.rx).expect("halves of one stream"))
    }
}

async fn next_text(rx: &mut Rx) -> Value {
    loop {
        match rx.next().await {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).expect("JSON from the server"),
            Some(Ok(_)) => continue,
            other => panic!("connection ended: {other:?}"),
        }
    }
}

async fn connect(args: &Args, n: usize) -> Peer {
    let (url, address) = match args.target {
        Target::Switchboard => (format!("{}/ws", args.url), None),
        Target::Peerjs => {
            let id = format!("peer{n}");
            (format!("{}/peerjs/peerjs?key=peerjs&id={id}&token=t{n}", args.url), Some(id))
        }
    };
    let mut tries = 0;
    let ws = loop {
        match tokio_tungstenite::connect_async(&url).await {
            Ok((ws, _)) => break ws,
            Err(e) if tries < 20 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(50 * tries)).await;
                if tries == 20 {
                    panic!("connect {url}: {e}");
                }
            }
            Err(e) => panic!("connect {url}: {e}"),
        }
    };
    let (tx, mut rx) = ws.split();
    let first = next_text(&mut rx).await;
    let address = match args.target {
        Target::Switchboard => first["id"].as_str().expect("welcome id").to_owned(),
        Target::Peerjs => {
            assert_eq!(first["type"], "OPEN", "{first}");
            address.unwrap_or_default()
        }
    };
    Peer { address, tx, rx }
}

async fn connect_many(args: &Args, count: usize) -> Vec<Peer> {
    let mut peers = Vec::with_capacity(count);
    // A few hundred handshakes at a time, so the accept queue never overflows.
    for chunk in (0..count).collect::<Vec<_>>().chunks(200) {
        let batch = futures_util::future::join_all(chunk.iter().map(|&n| connect(args, n))).await;
        peers.extend(batch);
    }
    peers
}

/// The wire form of one relayed message of `kind` from `from` to `to`.
fn message(args: &Args, kind: &str, session: &str, to: &str, sdp: &str) -> String {
    match args.target {
        Target::Switchboard => match kind {
            "offer" => json!({"type": "offer", "to": to, "session": session, "sdp": sdp}),
            "answer" => json!({"type": "answer", "session": session, "sdp": sdp}),
            _ => json!({"type": "candidate", "session": session, "candidate": {
                "candidate": "candidate:1669605774 1 udp 2122260223 192.0.2.10 64356 typ host generation 0 network-id 1",
                "sdpMid": "0", "sdpMLineIndex": 0}}),
        },
        Target::Peerjs => {
            let payload = match kind {
                "offer" | "answer" => json!({"sdp": {"type": kind, "sdp": sdp}, "type": "media", "connectionId": session}),
                _ => json!({"candidate": {
                    "candidate": "candidate:1669605774 1 udp 2122260223 192.0.2.10 64356 typ host generation 0 network-id 1",
                    "sdpMid": "0", "sdpMLineIndex": 0}, "type": "media", "connectionId": session}),
            };
            json!({"type": kind.to_uppercase(), "dst": to, "payload": payload})
        }
    }
    .to_string()
}

/// A client-to-server text frame, masked once (RFC 6455 §5.3 allows any key),
/// so that sending costs the load generator nothing but a write.
fn masked_frame(text: &str) -> Vec<u8> {
    let payload = text.as_bytes();
    let mut frame = vec![0x81];
    match payload.len() {
        n if n < 126 => frame.push(0x80 | n as u8),
        n if n < 65536 => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let key = [0x37, 0xfa, 0x21, 0x3d];
    frame.extend_from_slice(&key);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    frame
}

/// A raw connection after the WebSocket handshake: frames are written pre-built and
/// read by their header only (the payload is skipped but for its first bytes).
struct Raw {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    fn new(ws: Ws) -> Raw {
        match ws.into_inner() {
            MaybeTlsStream::Plain(stream) => Raw { stream, buf: Vec::with_capacity(16 * 1024) },
            _ => panic!("the load generator speaks plain ws:// only"),
        }
    }

    async fn send(&mut self, frame: &[u8]) {
        use tokio::io::AsyncWriteExt;
        self.stream.write_all(frame).await.expect("write");
    }

    /// Reads up to the end of the next text frame; panics on an error message.
    async fn next_text(&mut self) {
        use tokio::io::AsyncReadExt;
        loop {
            if let Some((start, end, opcode)) = frame_bounds(&self.buf) {
                let payload = &self.buf[start..end];
                let is_text = opcode == 1;
                if is_text {
                    let head = &payload[..payload.len().min(16)];
                    assert!(
                        !head.starts_with(br#"{"type":"error""#) && !head.starts_with(br#"{"type":"ERROR""#),
                        "{}",
                        String::from_utf8_lossy(payload)
                    );
                }
                self.buf.drain(..end);
                if is_text {
                    return;
                }
                continue;
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self.stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "connection closed");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// (payload start, payload end, opcode) of the first whole unmasked frame in `b`.
fn frame_bounds(b: &[u8]) -> Option<(usize, usize, u8)> {
    if b.len() < 2 {
        return None;
    }
    let opcode = b[0] & 0x0f;
    let (len, start) = match b[1] & 0x7f {
        126 if b.len() >= 4 => (u64::from(u16::from_be_bytes([b[2], b[3]])), 4),
        127 if b.len() >= 10 => (u64::from_be_bytes(b[2..10].try_into().ok()?), 10),
        126 | 127 => return None,
        n => (u64::from(n), 2),
    };
    let end = start + len as usize;
    (b.len() >= end).then_some((start, end, opcode))
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let sdp = std::fs::read_to_string(&args.sdp).expect("read --sdp");
    let rss_before = rss_kib(args.pid);
    match args.mode {
        Mode::Idle => {
            let started = Instant::now();
            let mut peers = connect_many(&args, args.peers).await;
            if let Target::Switchboard = args.target {
                for (n, p) in peers.iter_mut().enumerate() {
                    let room = format!("room{}", n % args.rooms);
                    p.tx.send(Message::Text(json!({"type": "join", "room": room}).to_string().into()))
                        .await
                        .unwrap();
                }
            }
            let connected = started.elapsed();
            // Drain presence messages and let the server settle.
            let mut readers = Vec::new();
            for p in peers {
                let mut rx = p.rx;
                readers.push((p.tx, tokio::spawn(async move { while let Some(Ok(_)) = rx.next().await {} })));
            }
            tokio::time::sleep(Duration::from_secs(3)).await;
            let rss_after = rss_kib(args.pid);
            let per_peer = (rss_after.saturating_sub(rss_before) as f64) * 1024.0 / args.peers as f64;
            println!(
                "{}",
                json!({"target": format!("{:?}", args.target), "mode": "idle", "peers": args.peers, "rooms": args.rooms,
                    "connect_secs": connected.as_secs_f64(), "rss_before_kib": rss_before, "rss_after_kib": rss_after,
                    "bytes_per_peer": per_peer.round()})
            );
            drop(readers);
        }
        Mode::Closed => {
            let peers = connect_many(&args, args.pairs * 2).await;
            let relayed = Arc::new(AtomicU64::new(0));
            let deadline = Instant::now() + Duration::from_secs(args.secs);
            let mut tasks = Vec::new();
            let mut it = peers.into_iter();
            for pair in 0..args.pairs {
                let (a, b) = (it.next().unwrap(), it.next().unwrap());
                let relayed = relayed.clone();
                let msgs = [
                    masked_frame(&message(&args, "offer", &format!("s{pair}"), &b.address, &sdp)),
                    masked_frame(&message(&args, "answer", &format!("s{pair}"), &a.address, &sdp)),
                    masked_frame(&message(&args, "candidate", &format!("s{pair}"), &b.address, &sdp)),
                    masked_frame(&message(&args, "candidate", &format!("s{pair}"), &a.address, &sdp)),
                ];
                let (mut a, mut b) = (a.into_raw(), b.into_raw());
                tasks.push(tokio::spawn(async move {
                    let mut k = 0;
                    while Instant::now() < deadline {
                        let (from, to) = if k % 2 == 0 { (&mut a, &mut b) } else { (&mut b, &mut a) };
                        from.send(&msgs[k % 4]).await;
                        to.next_text().await;
                        relayed.fetch_add(1, Ordering::Relaxed);
                        k += 1;
                    }
                }));
            }
            let started = Instant::now();
            for t in tasks {
                t.await.unwrap();
            }
            let secs = started.elapsed().as_secs_f64();
            let n = relayed.load(Ordering::Relaxed);
            println!(
                "{}",
                json!({"target": format!("{:?}", args.target), "mode": "closed", "pairs": args.pairs, "secs": secs,
                    "messages": n, "messages_per_sec": (n as f64 / secs).round(), "rss_kib": rss_kib(args.pid)})
            );
        }
        Mode::Open => {
            let peers = connect_many(&args, args.pairs * 2).await;
            let latencies = Arc::new(Mutex::new(Vec::<u64>::new()));
            let per_pair = Duration::from_secs_f64(args.pairs as f64 / args.rate as f64);
            let end = Instant::now() + Duration::from_secs(args.secs);
            let mut tasks = Vec::new();
            let mut it = peers.into_iter();
            for pair in 0..args.pairs {
                let (a, b) = (it.next().unwrap(), it.next().unwrap());
                let sent: Arc<std::sync::Mutex<VecDeque<Instant>>> = Default::default();
                let msgs = [
                    message(&args, "offer", &format!("s{pair}"), &b.address, &sdp),
                    message(&args, "candidate", &format!("s{pair}"), &b.address, &sdp),
                ];
                let (sent_tx, mut a_tx) = (sent.clone(), a.tx);
                // Spread the pairs' send times over one period.
                let offset = per_pair.mul_f64(pair as f64 / args.pairs as f64);
                let sender = tokio::spawn(async move {
                    tokio::time::sleep(offset).await;
                    let mut tick = tokio::time::interval(per_pair);
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                    let mut k = 0;
                    while Instant::now() < end {
                        tick.tick().await;
                        sent_tx.lock().unwrap().push_back(Instant::now());
                        a_tx.send(Message::Text(msgs[k % 2].clone().into())).await.unwrap();
                        k += 1;
                    }
                    (k, a_tx, a.rx)
                });
                let (lat, mut b_rx) = (latencies.clone(), b.rx);
                let receiver = tokio::spawn(async move {
                    let mut mine = Vec::new();
                    let stop = end + Duration::from_secs(2);
                    loop {
                        let left = stop.saturating_duration_since(Instant::now());
                        match tokio::time::timeout(left, b_rx.next()).await {
                            Ok(Some(Ok(Message::Text(t)))) => {
                                let t = t.as_str();
                                assert!(
                                    !t.starts_with(r#"{"type":"error""#)
                                        && !t.starts_with(r#"{"type":"ERROR""#),
                                    "{t}"
                                );
                                if let Some(t0) = sent.lock().unwrap().pop_front() {
                                    mine.push(t0.elapsed().as_micros() as u64);
                                }
                            }
                            Ok(Some(Ok(_))) => {}
                            _ => break,
                        }
                    }
                    lat.lock().await.extend(mine);
                    (b.tx, b_rx)
                });
                tasks.push((sender, receiver));
            }
            let mut sent_total = 0;
            let mut keep = Vec::new();
            for (s, r) in tasks {
                let (k, tx, rx) = s.await.unwrap();
                sent_total += k;
                keep.push((tx, rx, r.await.unwrap()));
            }
            let mut all = std::mem::take(&mut *latencies.lock().await);
            all.sort_unstable();
            println!(
                "{}",
                json!({"target": format!("{:?}", args.target), "mode": "open", "pairs": args.pairs, "offered_per_sec": args.rate,
                    "secs": args.secs, "sent": sent_total, "received": all.len(),
                    "p50_us": percentile(&all, 0.50), "p99_us": percentile(&all, 0.99), "max_us": all.last().copied().unwrap_or(0),
                    "rss_kib": rss_kib(args.pid)})
            );
        }
    }
}
