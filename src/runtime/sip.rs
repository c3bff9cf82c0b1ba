//! SIP over UDP and TCP (RFC 3261 §18) on one port, answered by the
//! stateless UAS layer of `switchboard-sip` (transactions, dialogs and
//! calls to browsers come with the rest of issue #4).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use std::time::Instant;

use switchboard_sip::transaction::{Incoming, ServerTransactions, Timers};
use switchboard_sip::uas::{Verdict, response_bytes};
use switchboard_sip::{Framed, Framer, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

use super::Shared;

/// Largest SIP message accepted (RFC 3261 §18.1.1 keeps UDP under the path MTU; TCP may carry more).
const MAX_MESSAGE: usize = 65_535;

/// A fresh To tag.
pub(crate) fn next_tag(shared: &Shared) -> String {
    to_tag(shared)
}

fn to_tag(shared: &Shared) -> String {
    format!("sb{:x}", shared.sip_messages.fetch_add(1, Ordering::Relaxed))
}

/// Answers datagrams until the server stops, with server transactions
/// (RFC 3261 §17.2): retransmitted requests get the same response, and final
/// non-2xx responses to INVITE are retransmitted until the ACK.
pub(crate) async fn run_udp(socket: UdpSocket, shared: Arc<Shared>) {
    let mut buf = vec![0u8; MAX_MESSAGE];
    let mut shutdown = shared.shutdown.clone();
    let mut transactions = ServerTransactions::new(Timers::default(), false);
    loop {
        let next_timer = transactions.poll_timeout();
        tokio::select! {
            received = socket.recv_from(&mut buf) => {
                let Ok((n, source)) = received else { continue };
                let datagram = &buf[..n];
                // RFC 5626 keepalive over UDP is STUN; a bare CRLF is ignored.
                if datagram.iter().all(|b| *b == b'\r' || *b == b'\n') {
                    continue;
                }
                let now = Instant::now();
                let incoming = Message::parse_datagram(datagram)
                    .ok()
                    .and_then(|m| transactions.handle_request(&m, source, now));
                match incoming {
                    Some(Incoming::New(key)) => {
                        let verdict = handle(&shared, datagram);
                        let code = match &verdict {
                            Verdict::Respond { code, .. } => *code,
                            Verdict::Drop | Verdict::Register => 0,
                        };
                        match response_bytes(datagram, &verdict, &to_tag(&shared)) {
                            Some(reply) => {
                                if let Some((peer, bytes)) = transactions.respond(&key, code, reply, now) {
                                    let _ = socket.send_to(&bytes, peer).await;
                                }
                            }
                            None => transactions.forget(&key),
                        }
                    }
                    Some(Incoming::Retransmission(Some(last))) => {
                        let _ = socket.send_to(&last, source).await;
                    }
                    Some(Incoming::Retransmission(None) | Incoming::AckAbsorbed | Incoming::AckForDialog) => {}
                    // Not a request whose transaction can be told (a response, or malformed): stateless.
                    None => {
                        if let Some(reply) = answer(&shared, datagram, source) {
                            let _ = socket.send_to(&reply, source).await;
                        }
                    }
                }
            }
            () = sleep_until(next_timer) => {
                for (peer, bytes) in transactions.handle_timeout(Instant::now()) {
                    let _ = socket.send_to(&bytes, peer).await;
                }
            }
            _ = shutdown.changed() => return,
        }
    }
}

/// The UAS's answer (registrar included) at the current time.
pub(crate) fn handle(shared: &Shared, message: &[u8]) -> Verdict {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
    shared.uas.lock().unwrap_or_else(|e| e.into_inner()).handle(message, now)
}

/// Sleeps until `at`, or forever when there is nothing to wait for.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// The response to one message, if any; responses go back to the source
/// (with RFC 3581 `rport`/`received` the Via would say the same on this path).
fn answer(shared: &Shared, message: &[u8], source: SocketAddr) -> Option<Vec<u8>> {
    let verdict = handle(shared, message);
    tracing::debug!(%source, ?verdict, "sip");
    response_bytes(message, &verdict, &to_tag(shared))
}

/// Accepts TCP connections until the server stops.
pub(crate) async fn run_tcp(listener: TcpListener, shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                tokio::spawn(connection(stream, peer, shared.clone()));
            }
            _ = shutdown.changed() => return,
        }
    }
}

async fn connection(mut stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let mut framer = Framer::new(MAX_MESSAGE);
    let mut buf = vec![0u8; 4096];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) => {
                // The peer closed its side with a message unfinished (a Content-Length
                // beyond what it sent, or no empty line after the headers): 400, then close.
                refuse_pending(&mut stream, &framer, &shared, "message incomplete when the stream ended")
                    .await;
                return;
            }
            Err(_) => return,
            Ok(n) => n,
        };
        framer.push(&buf[..n]);
        loop {
            match framer.poll() {
                Ok(None) => break,
                Ok(Some(Framed::Ping)) => {
                    if stream.write_all(b"\r\n").await.is_err() {
                        return;
                    }
                }
                Ok(Some(Framed::Message(message))) => {
                    if let Some(reply) = answer(&shared, &message, peer)
                        && stream.write_all(&reply).await.is_err()
                    {
                        return;
                    }
                }
                Err(e) => {
                    // The stream cannot be re-synchronised: answer 400 to a request whose
                    // headers arrived (RFC 3261 §18.3: Content-Length is mandatory on streams), then close.
                    tracing::debug!(%peer, error = %e, "closing SIP connection");
                    refuse_pending(&mut stream, &framer, &shared, &e.to_string()).await;
                    return;
                }
            }
        }
    }
}

/// Answers 400 to the request left in `framer`, if a request is there.
async fn refuse_pending(stream: &mut TcpStream, framer: &Framer, shared: &Shared, why: &str) {
    let pending = framer.pending();
    let blank = pending.iter().all(u8::is_ascii_whitespace);
    if blank || pending.starts_with(b"SIP/") {
        return;
    }
    let verdict = switchboard_sip::uas::Verdict::Respond {
        code: 400,
        reason: format!("Bad Request ({why})"),
        headers: Vec::new(),
    };
    if let Some(reply) = response_bytes(pending, &verdict, &to_tag(shared)) {
        let _ = stream.write_all(&reply).await;
    }
}
