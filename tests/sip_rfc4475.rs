//! `switchboard serve` answers all 49 RFC 4475 torture messages over UDP
//! and over TCP with the handling of ../shared/fixtures/sip/rfc4475/README.md
//! (the table in protocols/sip/tests/rfc4475_table.in), and stays up.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::process::{Command, Stdio};
use std::time::Duration;

include!("../protocols/sip/tests/rfc4475_table.in");

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the server with SIP on an ephemeral port; returns it and the SIP address.
fn start() -> (Server, String) {
    start_with(&[])
}

fn start_with(extra: &[&str]) -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["serve", "--http", "127.0.0.1:0", "--stun", "off", "--sip", "127.0.0.1:0"])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut sip = None;
    for _ in 0..4 {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        if let Some(addr) = line.trim().strip_prefix("switchboard SIP on udp+tcp ") {
            sip = Some(addr.to_owned());
            break;
        }
    }
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    (Server(child), sip.expect("the SIP address line"))
}

fn code(response: &[u8]) -> u16 {
    let text = String::from_utf8_lossy(response);
    text.strip_prefix("SIP/2.0 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("{text}"))
}

/// The first final status code in a stream of responses (an INVITE gets 100 Trying first).
fn final_code(stream: &[u8]) -> u16 {
    let text = String::from_utf8_lossy(stream);
    let codes: Vec<u16> = text
        .match_indices("SIP/2.0 ")
        .filter(|(i, _)| *i == 0 || text[..*i].ends_with('\n'))
        .filter_map(|(i, _)| text.get(i + 8..i + 11)?.parse().ok())
        .collect();
    codes.iter().find(|c| **c >= 200).or(codes.last()).copied().unwrap_or_else(|| panic!("{text}"))
}

/// The Call-ID line's value, if the message has one.
fn call_id(message: &[u8]) -> Option<String> {
    String::from_utf8_lossy(message).lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        let name = name.trim();
        (name.eq_ignore_ascii_case("call-id") || name.eq_ignore_ascii_case("i"))
            .then(|| value.trim().to_owned())
    })
}

fn fixtures() -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/sip/rfc4475");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(std::env::var_os("CI").is_none(), "{} is absent", dir.display());
    eprintln!("SKIPPED: {} is absent", dir.display());
    None
}

#[test]
fn rfc4475_over_udp() {
    let Some(dir) = fixtures() else { return };
    let (_server, addr) = start();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(Duration::from_millis(400))).unwrap();
    let mut wrong = Vec::new();
    // Final responses to INVITE are retransmitted until an ACK (Timer G): skip those of earlier messages.
    let mut earlier: Vec<String> = Vec::new();
    for (name, expected) in TABLE {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let this = call_id(&bytes);
        socket.send_to(&bytes, &addr).unwrap();
        let mut buf = [0u8; 65536];
        let got = loop {
            match socket.recv_from(&mut buf) {
                Ok((n, _)) => {
                    let id = call_id(&buf[..n]);
                    if id != this && id.as_ref().is_some_and(|id| earlier.contains(id)) {
                        continue;
                    }
                    // 100 Trying comes before the final answer to an INVITE (§8.2.6.1).
                    if code(&buf[..n]) < 200 {
                        continue;
                    }
                    break Some(code(&buf[..n]));
                }
                Err(_) => break None,
            }
        };
        earlier.extend(this);
        let ok = match got {
            None => expected.is_empty(),
            Some(c) => expected.contains(&c),
        };
        if !ok {
            wrong.push(format!("{name}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Still answering.
    let options = b"OPTIONS sip:gw@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:gw@127.0.0.1>\r\nCall-ID: after\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    socket.send_to(options, &addr).unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = socket.recv_from(&mut buf).unwrap();
    assert_eq!(code(&buf[..n]), 200);
}

#[test]
fn rfc4475_over_tcp() {
    let Some(dir) = fixtures() else { return };
    let (_server, addr) = start();
    let mut wrong = Vec::new();
    for (name, expected) in TABLE {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        // One connection per message: a malformed message may close the stream (§18.3).
        let mut s = TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(400))).unwrap();
        s.write_all(&bytes).unwrap();
        // Messages without (or with a wrong) Content-Length cannot be framed on a stream:
        // the connection is closed instead of answered; close our side too so nothing waits.
        let _ = s.shutdown(std::net::Shutdown::Write);
        let mut response = Vec::new();
        let _ = s.read_to_end(&mut response);
        let got = (!response.is_empty()).then(|| final_code(&response));
        // Content-Length is mandatory on streams (RFC 3261 §18.3): a request without one gets 400 over TCP.
        let text = String::from_utf8_lossy(&bytes).to_ascii_lowercase();
        let no_length = !text.contains("\ncontent-length") && !text.contains("\nl:");
        let ok = match got {
            None => expected.is_empty(),
            Some(400) if no_length => true,
            Some(c) => expected.contains(&c),
        };
        if !ok {
            wrong.push(format!("{name}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn crlf_keepalive_over_tcp_gets_a_pong() {
    let (_server, addr) = start();
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    s.write_all(b"\r\n\r\n").unwrap();
    let mut pong = [0u8; 2];
    s.read_exact(&mut pong).unwrap();
    assert_eq!(&pong, b"\r\n");
}

#[test]
fn udp_transactions_absorb_retransmissions_and_retransmit_until_ack() {
    let (_server, addr) = start();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let local = socket.local_addr().unwrap();
    let request = |method: &str| {
        format!(
            "{method} sip:nobody@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bKtxn1\r\n\
             From: <sip:a@127.0.0.1>;tag=9\r\nTo: <sip:nobody@127.0.0.1>\r\nCall-ID: txn-test\r\n\
             CSeq: 1 {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
    };
    socket.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 4096];
    socket.send_to(request("INVITE").as_bytes(), &addr).unwrap();
    let (n, _) = socket.recv_from(&mut buf).unwrap();
    assert_eq!(code(&buf[..n]), 100, "100 Trying at once for an INVITE");
    let (n, _) = socket.recv_from(&mut buf).unwrap();
    let first = buf[..n].to_vec();
    assert_eq!(code(&first), 404);
    // The retransmitted INVITE gets the very same response (same To tag).
    socket.send_to(request("INVITE").as_bytes(), &addr).unwrap();
    let (n, _) = socket.recv_from(&mut buf).unwrap();
    assert_eq!(buf[..n], first[..]);
    // Timer G: the 404 comes again by itself after T1 (500 ms).
    let (n, _) = socket.recv_from(&mut buf).unwrap();
    assert_eq!(buf[..n], first[..]);
    // The ACK stops it: nothing more for the next 1.5 s (Timer G would have fired at 1 s and 2 s).
    let to = String::from_utf8_lossy(&first).lines().find(|l| l.starts_with("To:")).unwrap().to_owned();
    let ack = request("ACK").replace("To: <sip:nobody@127.0.0.1>", &to);
    socket.send_to(ack.as_bytes(), &addr).unwrap();
    socket.set_read_timeout(Some(Duration::from_millis(1500))).unwrap();
    assert!(socket.recv_from(&mut buf).is_err(), "retransmitted after the ACK");
}

#[test]
fn registrar_challenges_with_the_configured_digest_algorithms() {
    for (flag, expected) in [(None, vec!["MD5"]), (Some("SHA-256,MD5"), vec!["SHA-256", "MD5"])] {
        let mut args = vec!["--sip-user", "alice:pw"];
        if let Some(f) = flag {
            args.extend(["--sip-digest", f]);
        }
        let (_server, addr) = start_with(&args);
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let local = socket.local_addr().unwrap();
        let register = format!(
            "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bKreg\r\nFrom: <sip:alice@127.0.0.1>;tag=1\r\n\
             To: <sip:alice@127.0.0.1>\r\nCall-ID: reg-{}\r\nCSeq: 1 REGISTER\r\nContact: <sip:alice@{local}>\r\n\
             Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            expected.len()
        );
        socket.send_to(register.as_bytes(), &addr).unwrap();
        let mut buf = [0u8; 4096];
        let (n, _) = socket.recv_from(&mut buf).unwrap();
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert_eq!(code(&buf[..n]), 401);
        let algorithms: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("WWW-Authenticate:"))
            .map(|l| l.split("algorithm=").nth(1).unwrap().split(',').next().unwrap())
            .collect();
        assert_eq!(algorithms, expected, "{text}");
    }
}
