//! Drives [`NgClient`] against a real rtpengine over a blocking UDP socket
//! and checks what it answers: ping, a browser's offer towards a plain-RTP
//! phone, the phone's answer towards the browser, query, list, delete, an
//! SDES-SRTP offer, a duplicated request, and a port where nobody listens.
//!
//! `cargo run -p switchboard-rtpengine --example ng_probe -- [NG_ADDR] [DEAD_ADDR]`
//! (defaults `127.0.0.1:2223` and `127.0.0.1:2299`). Prints `PASS name` or
//! `FAIL name (why)` per check and the interesting SDP lines; exits 1 when
//! a check failed. `tests/rtpengine/run_ng.sh` runs it against a private
//! rtpengine.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use switchboard_rtpengine::commands::{self, reply_calls, reply_sdp};
use switchboard_rtpengine::{MediaFlags, NgClient, NgConfig, NgError, NgEvent, RequestId, Value};

/// A Chromium audio offer (non-trickle, host candidates on loopback).
const BROWSER_OFFER: &str = "v=0\r\n\
o=- 2254248263668692454 2 IN IP4 127.0.0.1\r\n\
s=-\r\n\
t=0 0\r\n\
a=group:BUNDLE 0\r\n\
a=extmap-allow-mixed\r\n\
a=msid-semantic: WMS cba5c78b\r\n\
m=audio 60805 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n\
c=IN IP4 127.0.0.1\r\n\
a=rtcp:9 IN IP4 0.0.0.0\r\n\
a=candidate:623702915 1 udp 2122194687 127.0.0.1 60805 typ host generation 0 network-id 1\r\n\
a=candidate:1541607707 1 tcp 1518214911 127.0.0.1 9 typ host tcptype active generation 0 network-id 1\r\n\
a=ice-ufrag:9JXl\r\n\
a=ice-pwd:rZz0gczY84qHS9eRrYjvY8gY\r\n\
a=ice-options:trickle\r\n\
a=fingerprint:sha-256 B4:E9:C9:13:F0:03:66:BE:E2:E3:3D:13:5C:66:72:58:55:DE:A7:FB:76:BE:CE:9A:C5:10:12:2D:90:FC:14:7A\r\n\
a=setup:actpass\r\n\
a=mid:0\r\n\
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n\
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n\
a=sendrecv\r\n\
a=msid:cba5c78b 5028bb2c\r\n\
a=rtcp-mux\r\n\
a=rtcp-rsize\r\n\
a=rtpmap:111 opus/48000/2\r\n\
a=rtcp-fb:111 transport-cc\r\n\
a=fmtp:111 minptime=10;useinbandfec=1\r\n\
a=rtpmap:63 red/48000/2\r\n\
a=fmtp:63 111/111\r\n\
a=rtpmap:9 G722/8000\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:13 CN/8000\r\n\
a=rtpmap:110 telephone-event/48000\r\n\
a=rtpmap:126 telephone-event/8000\r\n\
a=ssrc:470747265 cname:/wJuSKq5esPGqAzW\r\n";

/// A plain RTP/AVP phone's answer (baresip-like).
const PHONE_ANSWER: &str = "v=0\r\n\
o=- 3192511765 834056567 IN IP4 127.0.0.1\r\n\
s=-\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=audio 41790 RTP/AVP 0 8 126\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:126 telephone-event/8000\r\n\
a=fmtp:126 0-15\r\n\
a=sendrecv\r\n\
a=ptime:20\r\n";

/// One rtpengine seen through an [`NgClient`] and a blocking socket.
struct Peer {
    sock: UdpSocket,
    addr: SocketAddr,
    client: NgClient,
    /// Every datagram sent, in order.
    sent: Vec<Vec<u8>>,
    /// Health events seen.
    health: Vec<bool>,
}

impl Peer {
    fn new(addr: SocketAddr, config: NgConfig) -> std::io::Result<Self> {
        let sock = UdpSocket::bind("127.0.0.1:0")?;
        let client = NgClient::new(config, Instant::now());
        Ok(Peer { sock, addr, client, sent: Vec::new(), health: Vec::new() })
    }

    fn flush(&mut self) {
        while let Some(d) = self.client.poll_transmit() {
            // A send error is a lost datagram: the client retransmits.
            let _ = self.sock.send_to(&d, self.addr);
            self.sent.push(d);
        }
    }

    /// Runs the client until `until` says stop (given each event) or `max` passes.
    fn drive(&mut self, max: Duration, mut until: impl FnMut(&NgEvent) -> bool) -> bool {
        let end = Instant::now() + max;
        let mut buf = vec![0u8; 65536];
        loop {
            self.flush();
            while let Some(ev) = self.client.poll_event() {
                if let NgEvent::Health { up } = ev {
                    self.health.push(up);
                }
                if until(&ev) {
                    return true;
                }
            }
            let now = Instant::now();
            if now >= end {
                return false;
            }
            let wake = self.client.poll_timeout().unwrap_or(end).min(end);
            let wait = wake.saturating_duration_since(now).max(Duration::from_millis(1));
            let _ = self.sock.set_read_timeout(Some(wait));
            // A read error is the timeout: nothing came.
            if let Ok((n, from)) = self.sock.recv_from(&mut buf)
                && from == self.addr
            {
                self.client.handle_datagram(&buf[..n], Instant::now());
            }
            let now = Instant::now();
            if self.client.poll_timeout().is_some_and(|t| t <= now) {
                self.client.handle_timeout(now);
            }
        }
    }

    /// Sends `command` and waits for its reply.
    fn call(&mut self, command: &Value) -> Result<Value, NgError> {
        let id = self.client.request(command, Instant::now());
        self.wait(id)
    }

    fn wait(&mut self, id: RequestId) -> Result<Value, NgError> {
        let mut result = None;
        self.drive(Duration::from_secs(10), |ev| match ev {
            NgEvent::Reply { id: got, result: r } if *got == id => {
                result = Some(r.clone());
                true
            }
            _ => false,
        });
        result.unwrap_or(Err(NgError::Timeout))
    }
}

struct Report {
    passed: usize,
    failed: usize,
}

impl Report {
    fn check(&mut self, name: &str, problems: Vec<String>) {
        if problems.is_empty() {
            self.passed += 1;
            println!("PASS {name}");
        } else {
            self.failed += 1;
            println!("FAIL {name} ({})", problems.join("; "));
        }
    }
}

/// Problems found: each `(condition, complaint)` whose condition is false.
fn expect(checks: &[(bool, &str)]) -> Vec<String> {
    checks.iter().filter(|(ok, _)| !ok).map(|(_, why)| why.to_string()).collect()
}

fn show(label: &str, sdp: &str) {
    for line in sdp.lines() {
        let key =
            ["m=", "c=", "a=setup", "a=fingerprint", "a=ice-", "a=candidate", "a=rtcp", "a=mid", "a=crypto"];
        if key.iter().any(|k| line.starts_with(k)) {
            println!("  {label}: {line}");
        }
    }
}

fn media_port(sdp: &str) -> Option<u16> {
    let m = sdp.lines().find(|l| l.starts_with("m=audio "))?;
    m.split(' ').nth(1)?.parse().ok()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let ng_addr: SocketAddr =
        args.next().unwrap_or_else(|| "127.0.0.1:2223".into()).parse().expect("NG_ADDR is host:port");
    let dead_addr: SocketAddr =
        args.next().unwrap_or_else(|| "127.0.0.1:2299".into()).parse().expect("DEAD_ADDR is host:port");
    let mut r = Report { passed: 0, failed: 0 };
    let mut p = Peer::new(ng_addr, NgConfig::default()).expect("bind a UDP socket");

    // 1. Health: the start-up ping makes the client up; an explicit ping answers pong.
    let up = p.drive(Duration::from_secs(5), |ev| *ev == NgEvent::Health { up: true });
    let pong = p.call(&commands::ping());
    let pong_word = pong.as_ref().ok().and_then(|v| v.get_str("result")).unwrap_or("");
    r.check(
        "ping",
        expect(&[
            (up, "no Health { up: true } after the start-up ping"),
            (p.client.is_up(), "is_up() false"),
            (pong_word == "pong", "explicit ping not answered with pong"),
        ]),
    );

    // 2. Offer: browser (WebRTC) -> plain RTP phone.
    let call_id = format!("ng-probe-{}@switchboard", std::process::id());
    let (from_tag, to_tag) = ("browser-tag", "phone-tag");
    let offer = p.call(&commands::offer(&call_id, from_tag, BROWSER_OFFER, &MediaFlags::towards_legacy()));
    let sdp = offer.as_ref().ok().and_then(reply_sdp).unwrap_or("").to_string();
    show("offer->phone", &sdp);
    let port = media_port(&sdp).unwrap_or(0);
    r.check(
        "offer towards legacy",
        match &offer {
            Err(e) => vec![e.to_string()],
            Ok(_) => expect(&[
                (sdp.contains("m=audio ") && sdp.contains(" RTP/AVP "), "m=audio is not RTP/AVP"),
                (!sdp.contains("a=ice-"), "ICE attributes left"),
                (!sdp.contains("a=candidate"), "candidates left"),
                (!sdp.contains("a=fingerprint") && !sdp.contains("a=setup"), "DTLS attributes left"),
                (!sdp.contains("a=crypto"), "SDES a=crypto present"),
                (!sdp.contains("a=rtcp-mux"), "a=rtcp-mux left (demux asked)"),
                (sdp.contains("c=IN IP4 127.0.0.1"), "connection address is not rtpengine's 127.0.0.1"),
                ((30000..=30100).contains(&port), "media port outside rtpengine's 30000-30100"),
            ]),
        },
    );

    // 3. Answer: phone's plain RTP -> browser (WebRTC).
    let answer =
        p.call(&commands::answer(&call_id, from_tag, to_tag, PHONE_ANSWER, &MediaFlags::towards_browser()));
    let sdp = answer.as_ref().ok().and_then(reply_sdp).unwrap_or("").to_string();
    show("answer->browser", &sdp);
    let port = media_port(&sdp).unwrap_or(0);
    r.check(
        "answer towards browser",
        match &answer {
            Err(e) => vec![e.to_string()],
            Ok(_) => expect(&[
                (sdp.contains(" UDP/TLS/RTP/SAVPF "), "m=audio is not UDP/TLS/RTP/SAVPF"),
                (sdp.contains("a=fingerprint:"), "no a=fingerprint"),
                (sdp.contains("a=setup:passive"), "no a=setup:passive"),
                (sdp.contains("a=ice-ufrag:") && sdp.contains("a=ice-pwd:"), "no ICE credentials"),
                (sdp.contains("a=candidate:"), "no candidate"),
                (sdp.contains("a=rtcp-mux"), "no a=rtcp-mux"),
                (sdp.contains("a=mid:0"), "no a=mid:0"),
                (!sdp.contains("a=crypto"), "SDES a=crypto present (SDES off asked)"),
                ((30000..=30100).contains(&port), "media port outside rtpengine's 30000-30100"),
            ]),
        },
    );

    // 4. Query: both parties known.
    let query = p.call(&commands::query(&call_id));
    r.check(
        "query",
        match &query {
            Err(e) => vec![e.to_string()],
            Ok(q) => {
                let tags = q.get_dict("tags");
                let has = |t: &str| tags.is_some_and(|d| d.contains_key(t.as_bytes()));
                expect(&[
                    (q.get_str("result") == Some("ok"), "result is not ok"),
                    (has(from_tag), "from-tag missing in tags"),
                    (has(to_tag), "to-tag missing in tags"),
                ])
            }
        },
    );

    // 5. List: the call is there.
    let list = p.call(&commands::list_calls(None));
    let calls = list.as_ref().map(reply_calls).unwrap_or_default();
    r.check(
        "list holds the call",
        match &list {
            Err(e) => vec![e.to_string()],
            Ok(_) => expect(&[(calls.contains(&call_id), "call id not listed")]),
        },
    );

    // 6. Delete, then list is empty and query fails with rtpengine's reason.
    let deleted = p.call(&commands::delete(&call_id, Some(from_tag)));
    r.check("delete", deleted.err().map(|e| vec![e.to_string()]).unwrap_or_default());
    let list = p.call(&commands::list_calls(None));
    let calls = list.as_ref().map(reply_calls).unwrap_or_default();
    r.check(
        "list empty after delete",
        match &list {
            Err(e) => vec![e.to_string()],
            Ok(_) => expect(&[(calls.is_empty(), "calls still listed")]),
        },
    );
    let gone = p.call(&commands::query(&call_id));
    println!("  query after delete: {gone:?}");
    r.check(
        "query after delete is an error reply",
        expect(&[(matches!(gone, Err(NgError::Failed { .. })), "not NgError::Failed")]),
    );

    // 7. SDES-SRTP phone: the offer keeps SDES.
    let sdes_call = format!("{call_id}-sdes");
    let offer =
        p.call(&commands::offer(&sdes_call, from_tag, BROWSER_OFFER, &MediaFlags::towards_sdes_srtp()));
    let sdp = offer.as_ref().ok().and_then(reply_sdp).unwrap_or("").to_string();
    show("offer->sdes-phone", &sdp);
    r.check(
        "offer towards SDES-SRTP",
        match &offer {
            Err(e) => vec![e.to_string()],
            Ok(_) => expect(&[
                (sdp.contains(" RTP/SAVP "), "m=audio is not RTP/SAVP"),
                (sdp.contains("a=crypto:"), "no a=crypto"),
                (!sdp.contains("a=ice-") && !sdp.contains("a=fingerprint"), "ICE/DTLS left"),
            ]),
        },
    );
    let _ = p.call(&commands::delete(&sdes_call, None));

    // 8. The same request twice (as a retransmission would): one reply event,
    //    rtpengine answers both datagrams with the same cookie.
    let id = p.client.request(&commands::list_calls(None), Instant::now());
    p.flush();
    let again = p.sent.last().cloned().unwrap_or_default();
    let _ = p.sock.send_to(&again, p.addr);
    let first = p.wait(id);
    let mut extra = 0;
    p.drive(Duration::from_millis(300), |ev| {
        if matches!(ev, NgEvent::Reply { .. }) {
            extra += 1;
        }
        false
    });
    r.check(
        "duplicate reply ignored",
        expect(&[(first.is_ok(), "no reply"), (extra == 0, "a second Reply event for the duplicate")]),
    );

    // 9. Nobody listening: retransmitted with the same cookie, then Timeout and down.
    let mut dead = Peer::new(dead_addr, NgConfig::default()).expect("bind a UDP socket");
    let started = Instant::now();
    let result = dead.call(&commands::query("nobody"));
    let took = started.elapsed();
    let cookie = |d: &[u8]| d.split(|&b| b == b' ').next().map(<[u8]>::to_vec);
    let is_query = |d: &&Vec<u8>| d.windows(16).any(|w| w == b"7:command5:query");
    let query_sends: Vec<&Vec<u8>> = dead.sent.iter().filter(is_query).collect();
    let same_cookie = query_sends.windows(2).all(|w| cookie(w[0]) == cookie(w[1]));
    println!("  dead port: {result:?} after {took:?}, {} transmissions of the request", query_sends.len());
    r.check(
        "timeout when nobody listens",
        expect(&[
            (result == Err(NgError::Timeout), "not NgError::Timeout"),
            (took >= Duration::from_millis(3900) && took < Duration::from_secs(6), "not after ~4 s"),
            (query_sends.len() == 4, "not 1 send + 3 retransmissions"),
            (same_cookie, "retransmissions changed the cookie"),
            (dead.health.contains(&false) && !dead.client.is_up(), "no Health { up: false }"),
        ]),
    );

    println!("{} passed, {} failed", r.passed, r.failed);
    if r.failed > 0 {
        std::process::exit(1);
    }
}
