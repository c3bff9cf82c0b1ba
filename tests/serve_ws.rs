//! `switchboard serve` driven over real WebSockets (tokio-tungstenite as the
//! client): every protocol v1 message, every error, disconnects, the ping
//! timeout, `/healthz`, `/metrics` and shutdown on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream as TokioTcp;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TokioTcp>>;

/// A running server, killed on drop.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(extra: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["serve", "--http", "127.0.0.1:0", "--stun", "127.0.0.1:0", "--sip", "off"])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start switchboard serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr =
        line.trim().strip_prefix("switchboard listening on http://").unwrap_or_else(|| panic!("{line}"));
    Server { addr: addr.to_owned(), child }
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/sdp/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

async fn connect(server: &Server) -> (Ws, String) {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr)).await.unwrap();
    let welcome = recv(&mut ws).await;
    assert_eq!(welcome["type"], "welcome");
    assert!(welcome["iceServers"].is_array());
    let id = welcome["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 16);
    (ws, id)
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

/// The next JSON message (skipping pings), failing after 5 s.
async fn recv(ws: &mut Ws) -> Value {
    loop {
        let frame =
            tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("a message within 5 s");
        match frame.expect("connection open").expect("a frame") {
            Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// Sends and expects an error with `code`; then checks the connection still works.
async fn expect_error(ws: &mut Ws, request: Value, code: &str) {
    send(ws, request.clone()).await;
    let reply = recv(ws).await;
    assert_eq!(reply["type"], "error", "{request} -> {reply}");
    assert_eq!(reply["code"], code, "{request} -> {reply}");
    assert!(!reply["message"].as_str().unwrap().is_empty());
    send(ws, json!({"type": "ping", "ref": "still-there"})).await;
    assert_eq!(recv(ws).await, json!({"type": "pong", "ref": "still-there"}));
}

#[tokio::test]
async fn register_join_leave_and_presence() {
    let server = start(&[]);
    let (mut a, a_id) = connect(&server).await;
    let (mut b, b_id) = connect(&server).await;
    send(&mut a, json!({"type": "register", "name": "alice", "ref": 1})).await;
    assert_eq!(recv(&mut a).await, json!({"type": "registered", "name": "alice", "ref": 1}));
    expect_error(&mut b, json!({"type": "register", "name": "alice"}), "name-taken").await;
    expect_error(&mut b, json!({"type": "register", "name": "no spaces please"}), "bad-value").await;

    send(&mut a, json!({"type": "join", "room": "r1"})).await;
    assert_eq!(recv(&mut a).await, json!({"type": "joined", "room": "r1", "peers": []}));
    send(&mut b, json!({"type": "join", "room": "r1"})).await;
    assert_eq!(recv(&mut b).await, json!({"type": "joined", "room": "r1", "peers": [a_id]}));
    assert_eq!(recv(&mut a).await, json!({"type": "peer-joined", "room": "r1", "peer": b_id}));

    send(&mut b, json!({"type": "leave", "room": "r1"})).await;
    assert_eq!(recv(&mut b).await, json!({"type": "left", "room": "r1"}));
    assert_eq!(recv(&mut a).await, json!({"type": "peer-left", "room": "r1", "peer": b_id}));
    expect_error(&mut b, json!({"type": "leave", "room": "r1"}), "not-in-room").await;

    // Disconnecting leaves the room and frees the name.
    send(&mut b, json!({"type": "join", "room": "r1"})).await;
    recv(&mut b).await;
    recv(&mut a).await;
    a.close(None).await.unwrap();
    assert_eq!(recv(&mut b).await, json!({"type": "peer-left", "room": "r1", "peer": a_id}));
    send(&mut b, json!({"type": "register", "name": "alice"})).await;
    assert_eq!(recv(&mut b).await["type"], "registered");
}

#[tokio::test]
async fn offer_answer_candidates_hangup_are_relayed() {
    let server = start(&[]);
    let (mut a, a_id) = connect(&server).await;
    let (mut b, b_id) = connect(&server).await;
    send(&mut b, json!({"type": "register", "name": "bob"})).await;
    recv(&mut b).await;
    send(&mut a, json!({"type": "register", "name": "alice"})).await;
    recv(&mut a).await;

    let offer = fixture("chromium-156-offer-audio-video-datachannel.sdp");
    let answer = fixture("chromium-156-answer-audio-video-datachannel.sdp");
    send(&mut a, json!({"type": "offer", "to": "bob", "session": "s1", "sdp": offer})).await;
    let got = recv(&mut b).await;
    assert_eq!(
        got,
        json!({"type": "offer", "from": a_id, "fromName": "alice", "session": "s1", "sdp": offer})
    );

    send(&mut b, json!({"type": "answer", "session": "s1", "sdp": answer})).await;
    assert_eq!(
        recv(&mut a).await,
        json!({"type": "answer", "from": b_id, "fromName": "bob", "session": "s1", "sdp": answer})
    );

    let cand = json!({"candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0", "sdpMid": "0", "sdpMLineIndex": 0});
    send(&mut a, json!({"type": "candidate", "session": "s1", "candidate": cand})).await;
    let got = recv(&mut b).await;
    assert_eq!(got["candidate"], cand);
    assert_eq!(got["from"], a_id);
    send(&mut b, json!({"type": "candidate", "session": "s1", "candidate": null})).await;
    let got = recv(&mut a).await;
    assert_eq!((got["type"].as_str(), got["candidate"].is_null()), (Some("candidate"), true));

    // Offers may also go to a peer id; a second session runs beside the first.
    send(&mut b, json!({"type": "offer", "to": a_id, "session": "s2", "sdp": offer})).await;
    assert_eq!(recv(&mut a).await["session"], "s2");

    send(&mut a, json!({"type": "hangup", "session": "s1", "reason": "bye"})).await;
    assert_eq!(recv(&mut b).await, json!({"type": "hangup", "from": a_id, "session": "s1", "reason": "bye"}));
    expect_error(&mut b, json!({"type": "candidate", "session": "s1", "candidate": null}), "unknown-session")
        .await;

    // A disconnect ends the sessions of the peer that left.
    drop(b);
    assert_eq!(
        recv(&mut a).await,
        json!({"type": "hangup", "from": b_id, "session": "s2", "reason": "peer-disconnected"})
    );
}

#[tokio::test]
async fn every_bad_request_gets_an_error_and_the_connection_goes_on() {
    let server = start(&["--max-message-bytes", "8192"]);
    let (mut a, _) = connect(&server).await;
    let (mut b, _) = connect(&server).await;
    send(&mut b, json!({"type": "register", "name": "bob"})).await;
    recv(&mut b).await;

    a.send(Message::Text("{not json".into())).await.unwrap();
    let reply = recv(&mut a).await;
    assert_eq!(reply["code"], "bad-json");
    a.send(Message::Binary(vec![1, 2, 3].into())).await.unwrap();
    assert_eq!(recv(&mut a).await["code"], "bad-json");
    expect_error(&mut a, json!(["an", "array"]), "bad-json").await;
    expect_error(&mut a, json!({"type": "dance"}), "unknown-type").await;
    expect_error(&mut a, json!({"no": "type"}), "missing-field").await;
    expect_error(&mut a, json!({"type": "join"}), "missing-field").await;
    expect_error(&mut a, json!({"type": "join", "room": 5}), "missing-field").await;
    expect_error(&mut a, json!({"type": "offer", "to": "nobody", "session": "x", "sdp": fixture("sipp-3.6.1-invite-offer-builtin-uac.sdp")}), "unknown-target").await;
    expect_error(
        &mut a,
        json!({"type": "offer", "to": "bob", "session": "x", "sdp": "v=0\r\nbogus"}),
        "invalid-sdp",
    )
    .await;
    expect_error(&mut a, json!({"type": "answer", "session": "nope", "sdp": "v=0"}), "unknown-session").await;
    let big = "x".repeat(9000);
    expect_error(&mut a, json!({"type": "register", "name": big}), "too-large").await;

    // The ref of a failed request comes back with its error.
    send(&mut a, json!({"type": "dance", "ref": {"n": 7}})).await;
    assert_eq!(recv(&mut a).await["ref"], json!({"n": 7}));

    // A session with bob: bad candidates and a mismatched answer never reach the other side.
    send(&mut a, json!({"type": "offer", "to": "bob", "session": "s", "sdp": fixture("chromium-156-offer-audio-video-datachannel.sdp")})).await;
    assert_eq!(recv(&mut b).await["type"], "offer");
    expect_error(&mut a, json!({"type": "candidate", "session": "s", "candidate": {"candidate": "candidate:1 1 udp 1 127.0.0.1 70000 typ host", "sdpMid": "0"}}), "invalid-candidate").await;
    expect_error(&mut a, json!({"type": "candidate", "session": "s", "candidate": {"candidate": "candidate:1 1 udp 1 127.0.0.1 7000 typ host"}}), "invalid-candidate").await;
    expect_error(&mut a, json!({"type": "candidate", "session": "s"}), "missing-field").await;
    expect_error(
        &mut b,
        json!({"type": "answer", "session": "s", "sdp": fixture("chromium-156-offer-datachannel-only.sdp")}),
        "invalid-sdp",
    )
    .await;
    expect_error(&mut a, json!({"type": "answer", "session": "s", "sdp": fixture("chromium-156-answer-audio-video-datachannel.sdp")}), "not-allowed").await;
    let (mut c, _) = connect(&server).await;
    expect_error(&mut c, json!({"type": "offer", "to": "bob", "session": "s", "sdp": fixture("chromium-156-offer-datachannel-only.sdp")}), "session-exists").await;
    // bob received nothing but the one valid offer.
    send(&mut b, json!({"type": "ping"})).await;
    assert_eq!(recv(&mut b).await, json!({"type": "pong"}));
}

#[tokio::test]
async fn rate_limit_and_room_limit() {
    let server = start(&["--rate-burst", "5", "--rate-per-second", "1", "--max-room-peers", "1"]);
    let (mut a, _) = connect(&server).await;
    for _ in 0..5 {
        send(&mut a, json!({"type": "ping"})).await;
    }
    for _ in 0..5 {
        assert_eq!(recv(&mut a).await["type"], "pong");
    }
    send(&mut a, json!({"type": "ping"})).await;
    assert_eq!(recv(&mut a).await["code"], "rate-limited");
    let (mut b, _) = connect(&server).await;
    let (mut c, _) = connect(&server).await;
    send(&mut b, json!({"type": "join", "room": "small"})).await;
    assert_eq!(recv(&mut b).await["type"], "joined");
    send(&mut c, json!({"type": "join", "room": "small"})).await;
    assert_eq!(recv(&mut c).await["code"], "room-full");
}

#[tokio::test]
async fn a_silent_peer_is_dropped_after_the_idle_timeout() {
    let server = start(&["--ping-interval-secs", "1", "--idle-timeout-secs", "2"]);
    let (mut a, _) = connect(&server).await;
    let (mut dead, dead_id) = connect(&server).await;
    send(&mut a, json!({"type": "join", "room": "r"})).await;
    recv(&mut a).await;
    send(&mut dead, json!({"type": "join", "room": "r"})).await;
    // From now on `dead` never reads, so it never answers the server's pings.
    let started = std::time::Instant::now();
    let _keep = dead;
    assert_eq!(recv(&mut a).await["type"], "peer-joined");
    let left = loop {
        let frame =
            tokio::time::timeout(Duration::from_secs(10), a.next()).await.expect("peer-left within 10 s");
        match frame.unwrap().unwrap() {
            Message::Text(t) => break serde_json::from_str::<Value>(&t).unwrap(),
            // `a` answers pings (tungstenite does when reading), so it stays.
            _ => continue,
        }
    };
    assert_eq!(left, json!({"type": "peer-left", "room": "r", "peer": dead_id}));
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(2) && waited < Duration::from_secs(6), "{waited:?}");
}

fn http_get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[tokio::test]
async fn healthz_metrics_client_and_demo_page() {
    let server = start(&[]);
    let (_a, _) = connect(&server).await;
    let addr = server.addr.clone();
    let (health, metrics, js, page) = tokio::task::spawn_blocking(move || {
        (
            http_get(&addr, "/healthz"),
            http_get(&addr, "/metrics"),
            http_get(&addr, "/switchboard.js"),
            http_get(&addr, "/"),
        )
    })
    .await
    .unwrap();
    assert!(health.starts_with("HTTP/1.1 200") && health.ends_with("ok\n"), "{health}");
    assert!(metrics.contains("\nswitchboard_connections 1\n"), "{metrics}");
    assert!(metrics.contains("# TYPE switchboard_messages_relayed_total counter"));
    assert!(js.contains("content-type: text/javascript") && js.contains("export class Switchboard"));
    assert!(page.contains("<title>Switchboard demo</title>"));
}

#[tokio::test]
async fn sigterm_closes_every_connection_and_exits() {
    let mut server = start(&[]);
    let (mut a, _) = connect(&server).await;
    let pid = server.child.id();
    Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    let frame = tokio::time::timeout(Duration::from_secs(5), a.next()).await.unwrap();
    match frame {
        Some(Ok(Message::Close(Some(close)))) => assert_eq!(u16::from(close.code), 1001),
        other => panic!("expected a close frame, got {other:?}"),
    }
    let status = tokio::task::spawn_blocking(move || {
        let status = server.child.wait();
        std::mem::forget(server);
        status
    })
    .await
    .unwrap()
    .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn token_auth_limits_names_and_rooms() {
    let server = start(&["--auth-secret", "t0p-secret"]);
    let url = |token: &str| format!("ws://{}/ws?token={token}", server.addr);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    // No token, a forged one, an expired one: refused before the upgrade with 401.
    let good = switchboard_browser::token::sign(
        &json!({"name": "alice", "rooms": ["r1"], "exp": now + 60}),
        b"t0p-secret",
    );
    let forged = switchboard_browser::token::sign(&json!({"name": "alice"}), b"guess");
    let expired = switchboard_browser::token::sign(&json!({"exp": now - 1}), b"t0p-secret");
    for bad in [format!("ws://{}/ws", server.addr), url(&forged), url(&expired), url("garbage")] {
        match tokio_tungstenite::connect_async(&bad).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 401, "{bad}"),
            other => panic!("{bad}: expected 401, got {:?}", other.map(|_| ())),
        }
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(url(&good)).await.unwrap();
    assert_eq!(recv(&mut ws).await["type"], "welcome");
    expect_error(&mut ws, json!({"type": "register", "name": "bob"}), "forbidden").await;
    expect_error(&mut ws, json!({"type": "join", "room": "r2"}), "forbidden").await;
    send(&mut ws, json!({"type": "register", "name": "alice"})).await;
    assert_eq!(recv(&mut ws).await["type"], "registered");
    send(&mut ws, json!({"type": "join", "room": "r1"})).await;
    assert_eq!(recv(&mut ws).await["type"], "joined");
}

#[tokio::test]
async fn settings_from_config_file_and_environment() {
    let dir = std::env::temp_dir().join(format!("switchboard-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("switchboard.toml");
    std::fs::write(
        &file,
        "max_room_peers = 1\n[[ice_servers]]\nurls = [\"stun:stun.example.net:3478\"]\n[[turn]]\nurls = [\"turn:turn.example.net\"]\nsecret = \"s\"\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args([
            "serve",
            "--http",
            "127.0.0.1:0",
            "--stun",
            "127.0.0.1:0",
            "--sip",
            "off",
            "--config",
            file.to_str().unwrap(),
        ])
        .env("SWITCHBOARD_RATE_BURST", "2")
        .env("SWITCHBOARD_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let server = Server { addr: line.trim().rsplit('/').next().unwrap().to_owned(), child };
    let (mut a, id) = connect(&server).await;
    let (_, _) = connect(&server).await;
    // The welcome carried the file's servers; check them on a fresh connection.
    let (mut c, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr)).await.unwrap();
    let welcome = recv(&mut c).await;
    let urls: Vec<&str> =
        welcome["iceServers"].as_array().unwrap().iter().map(|s| s["urls"][0].as_str().unwrap()).collect();
    assert_eq!(urls[1..], ["stun:stun.example.net:3478", "turn:turn.example.net"], "{welcome}");
    assert!(urls[0].starts_with("stun:127.0.0.1:"));
    let turn = &welcome["iceServers"][2];
    assert!(turn["username"].as_str().unwrap().ends_with(&format!(":{}", welcome["id"].as_str().unwrap())));
    assert_eq!(turn["credential"].as_str().unwrap().len(), 28, "base64 of a SHA-1 HMAC");
    // max_room_peers from the file, rate_burst from the environment.
    send(&mut a, json!({"type": "join", "room": "x"})).await;
    assert_eq!(recv(&mut a).await["peers"], json!([]));
    send(&mut c, json!({"type": "join", "room": "x"})).await;
    assert_eq!(recv(&mut c).await["code"], "room-full");
    send(&mut a, json!({"type": "ping"})).await;
    assert_eq!(recv(&mut a).await["type"], "pong");
    send(&mut a, json!({"type": "ping"})).await;
    assert_eq!(recv(&mut a).await["code"], "rate-limited");
    let _ = id;
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn tls_from_pem_files_prints_the_certificate_fingerprint() {
    use sha2::Digest;
    let dir = std::env::temp_dir().join(format!("switchboard-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let expected: Vec<String> =
        sha2::Sha256::digest(made.cert.der()).iter().map(|b| format!("{b:02X}")).collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["serve", "--http", "127.0.0.1:0", "--stun", "off", "--sip", "off", "--tls-cert"])
        .env("RUST_LOG", "warn")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    stdout.read_line(&mut first).unwrap();
    stdout.read_line(&mut second).unwrap();
    let _server = Server { addr: String::new(), child };
    assert_eq!(first.trim(), format!("switchboard TLS certificate SHA-256 {}", expected.join(":")));
    assert!(second.starts_with("switchboard listening on https://127.0.0.1:"), "{second}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `GET path` with extra header lines; the status code and the body.
fn http_get_with(addr: &str, path: &str, headers: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Connection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn api_calls_lists_calls_while_they_last_and_metrics_count_them() {
    let secret = "t0p-secret";
    let server = start(&["--auth-secret", secret]);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let operator = switchboard_browser::token::sign(&json!({"exp": now + 60}), secret.as_bytes());
    let limited =
        switchboard_browser::token::sign(&json!({"name": "alice", "exp": now + 60}), secret.as_bytes());
    let open = |token: &str| format!("ws://{}/ws?token={token}", server.addr);
    let (mut a, _) = tokio_tungstenite::connect_async(open(&operator)).await.unwrap();
    let (mut b, _) = tokio_tungstenite::connect_async(open(&operator)).await.unwrap();
    let a_id = recv(&mut a).await["id"].as_str().unwrap().to_owned();
    recv(&mut b).await;
    for (ws, name) in [(&mut a, "alice"), (&mut b, "bob")] {
        send(ws, json!({"type": "register", "name": name})).await;
        assert_eq!(recv(ws).await["type"], "registered");
    }
    let addr = server.addr.clone();
    let auth = format!("Authorization: Bearer {operator}\r\n");
    let calls = move || {
        let (addr, auth) = (addr.clone(), auth.clone());
        async move {
            tokio::task::spawn_blocking(move || {
                let (status, body) = http_get_with(&addr, "/api/calls", &auth);
                assert_eq!(status, 200, "{body}");
                serde_json::from_str::<Value>(&body).unwrap()["calls"].clone()
            })
            .await
            .unwrap()
        }
    };
    assert_eq!(calls().await, json!([]));
    let offer = fixture("chromium-156-offer-audio-video-datachannel.sdp");
    let answer = fixture("chromium-156-answer-audio-video-datachannel.sdp");
    send(&mut a, json!({"type": "offer", "to": "bob", "session": "s1", "sdp": offer})).await;
    assert_eq!(recv(&mut b).await["type"], "offer");
    let ringing = calls().await;
    assert_eq!(ringing.as_array().unwrap().len(), 1, "{ringing}");
    assert_eq!(ringing[0]["session"], "s1");
    assert_eq!(ringing[0]["state"], "ringing");
    assert_eq!(ringing[0]["pair"], "browser-browser");
    assert_eq!(ringing[0]["caller"], json!({"kind": "browser", "address": a_id, "name": "alice"}));
    // Call data needs an unrestricted token.
    let addr = server.addr.clone();
    let limited_header = format!("Authorization: Bearer {limited}\r\n");
    let (none, forged, restricted) = tokio::task::spawn_blocking(move || {
        (
            http_get_with(&addr, "/api/calls", "").0,
            http_get_with(&addr, "/api/calls", "Authorization: Bearer garbage\r\n").0,
            http_get_with(&addr, "/api/calls", &limited_header).0,
        )
    })
    .await
    .unwrap();
    assert_eq!((none, forged, restricted), (401, 401, 403));
    send(&mut b, json!({"type": "answer", "session": "s1", "sdp": answer})).await;
    assert_eq!(recv(&mut a).await["type"], "answer");
    assert_eq!(calls().await[0]["state"], "answered");
    send(&mut a, json!({"type": "hangup", "session": "s1"})).await;
    assert_eq!(recv(&mut b).await["type"], "hangup");
    assert_eq!(calls().await, json!([]));
    let addr = server.addr.clone();
    let metrics = tokio::task::spawn_blocking(move || http_get(&addr, "/metrics")).await.unwrap();
    assert!(metrics.contains("# TYPE switchboard_calls_total counter"), "{metrics}");
    assert!(
        metrics.contains("\nswitchboard_calls_total{pair=\"browser-browser\",outcome=\"answered\"} 1\n"),
        "{metrics}"
    );
}
