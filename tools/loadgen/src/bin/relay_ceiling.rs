//! A relay that does as little as possible, to measure the ceiling of the signaling
//! closed loop (`switchboard-loadgen --target switchboard --mode closed`) on a machine:
//! a server built the same way (tokio, one `recv` and one `send` per message) that does
//! real work per message cannot relay faster than this one. See BENCHMARKS.md.
//!
//! It speaks just enough of protocol v1 for that loop: a `welcome` with an id on connect;
//! a frame carrying `"to":"ID"` is forwarded to connection ID and makes the two partners;
//! any other text frame goes to the sender's partner. Frames are forwarded unchanged (no
//! `from` added, no `to` removed, nothing validated or parsed beyond that string search).
//!
//! usage: relay_ceiling [--addr 127.0.0.1:8090] [--threads N] [--mode raw|ws], then e.g.
//!   switchboard-loadgen --target switchboard --mode closed --url ws://127.0.0.1:8090 --pid PID --sdp SDP
//!   --threads 0 (default) is a multi-thread runtime with one worker per core, 1 is
//!   `current_thread`, N > 1 is a multi-thread runtime with N workers.
//!   --mode raw (default): after the handshake (tokio-tungstenite), frames are read by
//!   header from the socket, unmasked in place and written straight to the partner's socket
//!   by the reading task: one `recv` and one `send` per message, no task wake-up between.
//!   --mode ws: tokio-tungstenite both ways, each connection with a writer task fed by a
//!   channel (the usual shape of a small relay server).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

struct Conn {
    /// raw mode: the socket's write half, locked by whoever forwards to this connection.
    writer: Option<tokio::sync::Mutex<OwnedWriteHalf>>,
    /// ws mode: the connection's writer task.
    queue: Option<mpsc::UnboundedSender<Message>>,
    /// The connection that last addressed this one with `to`.
    partner: Mutex<Option<Arc<Conn>>>,
}

type Registry = Arc<Mutex<HashMap<u64, Arc<Conn>>>>;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Raw,
    Ws,
}

fn main() {
    let mut addr = "127.0.0.1:8090".to_owned();
    let mut threads = 0usize;
    let mut mode = Mode::Raw;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().expect("a value after each flag");
        match a.as_str() {
            "--addr" => addr = v,
            "--threads" => threads = v.parse().expect("--threads N"),
            "--mode" => {
                mode = match v.as_str() {
                    "raw" => Mode::Raw,
                    "ws" => Mode::Ws,
                    _ => panic!("--mode raw|ws"),
                }
            }
            _ => panic!("unknown flag {a}"),
        }
    }
    let rt = match threads {
        1 => tokio::runtime::Builder::new_current_thread().enable_all().build(),
        0 => tokio::runtime::Builder::new_multi_thread().enable_all().build(),
        n => tokio::runtime::Builder::new_multi_thread().worker_threads(n).enable_all().build(),
    }
    .expect("runtime");
    rt.block_on(serve(addr, mode));
}

async fn serve(addr: String, mode: Mode) {
    let listener = TcpListener::bind(&addr).await.expect("bind");
    println!("relay_ceiling listening on {addr}");
    let registry: Registry = Default::default();
    let next_id = AtomicU64::new(0);
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let registry = registry.clone();
        tokio::spawn(async move {
            let _ = match mode {
                Mode::Raw => raw_conn(stream, id, &registry).await,
                Mode::Ws => ws_conn(stream, id, &registry).await,
            };
            registry.lock().unwrap().remove(&id);
        });
    }
}

fn welcome(id: u64) -> Message {
    Message::text(format!(r#"{{"type":"welcome","id":"p{id}","iceServers":[]}}"#))
}

/// The connection a text frame goes to: `"to":"pN"` if present (that peer becomes the
/// sender's partner and the sender its partner), else the sender's partner. JSON escapes
/// every `"` inside strings, so `"to":"` only matches the key.
fn route(text: &[u8], me: &Arc<Conn>, registry: &Registry) -> Option<Arc<Conn>> {
    const KEY: &[u8] = br#""to":"p"#;
    if let Some(at) = find_key(text, KEY) {
        let digits = &text[at + KEY.len()..];
        let end = digits.iter().position(|b| !b.is_ascii_digit()).unwrap_or(digits.len());
        let id: u64 = std::str::from_utf8(&digits[..end]).ok()?.parse().ok()?;
        let target = registry.lock().unwrap().get(&id).cloned()?;
        *target.partner.lock().unwrap() = Some(me.clone());
        *me.partner.lock().unwrap() = Some(target.clone());
        return Some(target);
    }
    me.partner.lock().unwrap().clone()
}

/// Where `key` (which starts with `"`) is in `text`: 32-byte blocks without a `"` are
/// skipped with a vectorized test, so a 5.7 KB offer costs a few hundred nanoseconds.
fn find_key(text: &[u8], key: &[u8]) -> Option<usize> {
    let mut base = 0;
    for block in text.chunks(32) {
        if block.iter().fold(false, |any, &b| any | (b == b'"')) {
            for (i, &b) in block.iter().enumerate() {
                if b == b'"' && text[base + i..].starts_with(key) {
                    return Some(base + i);
                }
            }
        }
        base += block.len();
    }
    None
}

async fn raw_conn(stream: TcpStream, id: u64, registry: &Registry) -> Option<()> {
    let mut ws = tokio_tungstenite::accept_async(stream).await.ok()?;
    ws.send(welcome(id)).await.ok()?;
    // The client sends nothing before it has the welcome, so nothing is left buffered.
    let (mut rd, wr) = ws.into_inner().into_split();
    let me =
        Arc::new(Conn { writer: Some(tokio::sync::Mutex::new(wr)), queue: None, partner: Mutex::new(None) });
    registry.lock().unwrap().insert(id, me.clone());
    let mut buf = vec![0u8; 8 * 1024];
    let mut filled = 0;
    let result = async {
        loop {
            // Whole frames at the front of the buffer.
            let mut at = 0;
            while let Some((hdr, start, end)) = masked_frame(&buf[at..filled]) {
                let (start, end) = (at + start, at + end);
                let opcode = buf[at] & 0x0f;
                if opcode == 8 {
                    return None;
                }
                let key = [buf[start - 4], buf[start - 3], buf[start - 2], buf[start - 1]];
                unmask(&mut buf[start..end], key);
                if opcode == 1 {
                    // The unmasked header goes where the mask key and length bytes were.
                    let out = start - hdr;
                    buf[out] = 0x81;
                    let len = end - start;
                    match hdr {
                        2 => buf[out + 1] = len as u8,
                        4 => {
                            buf[out + 1] = 126;
                            buf[out + 2..out + 4].copy_from_slice(&(len as u16).to_be_bytes());
                        }
                        _ => {
                            buf[out + 1] = 127;
                            buf[out + 2..out + 10].copy_from_slice(&(len as u64).to_be_bytes());
                        }
                    }
                    if let Some(to) = route(&buf[start..end], &me, registry) {
                        let mut w = to.writer.as_ref()?.lock().await;
                        // A partner gone away is not our error.
                        let _ = w.write_all(&buf[out..end]).await;
                    }
                }
                at = end;
            }
            if at > 0 {
                buf.copy_within(at..filled, 0);
                filled -= at;
            }
            if filled == buf.len() {
                buf.resize(buf.len() * 2, 0);
            }
            let n = rd.read(&mut buf[filled..]).await.ok()?;
            if n == 0 {
                return None;
            }
            filled += n;
        }
    }
    .await;
    *me.partner.lock().unwrap() = None;
    result
}

/// (unmasked header length, payload start, payload end) of the first whole masked frame.
fn masked_frame(b: &[u8]) -> Option<(usize, usize, usize)> {
    if b.len() < 2 {
        return None;
    }
    let (len, hdr) = match b[1] & 0x7f {
        126 if b.len() >= 4 => (u16::from_be_bytes([b[2], b[3]]) as usize, 4),
        127 if b.len() >= 10 => (u64::from_be_bytes(b[2..10].try_into().ok()?) as usize, 10),
        126 | 127 => return None,
        n => (n as usize, 2),
    };
    let start = hdr + 4; // client frames are always masked
    (b.len() >= start + len).then_some((hdr, start, start + len))
}

fn unmask(payload: &mut [u8], key: [u8; 4]) {
    let k8 = u64::from_ne_bytes([key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]]);
    let mut chunks = payload.chunks_exact_mut(8);
    for c in &mut chunks {
        let v = u64::from_ne_bytes((&*c).try_into().unwrap()) ^ k8;
        c.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

async fn ws_conn(stream: TcpStream, id: u64, registry: &Registry) -> Option<()> {
    let ws = tokio_tungstenite::accept_async(stream).await.ok()?;
    let (mut tx, mut rx) = ws.split();
    tx.send(welcome(id)).await.ok()?;
    let (queue, mut out) = mpsc::unbounded_channel::<Message>();
    let me = Arc::new(Conn { writer: None, queue: Some(queue), partner: Mutex::new(None) });
    registry.lock().unwrap().insert(id, me.clone());
    let writer = tokio::spawn(async move {
        while let Some(m) = out.recv().await {
            if tx.send(m).await.is_err() {
                break;
            }
        }
    });
    while let Some(Ok(m)) = rx.next().await {
        if let Message::Text(t) = &m
            && let Some(to) = route(t.as_bytes(), &me, registry)
        {
            let _ = to.queue.as_ref()?.send(m);
        }
    }
    *me.partner.lock().unwrap() = None;
    writer.abort();
    None
}
