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
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["serve", "--http", "127.0.0.1:0", "--stun", "off", "--sip", "127.0.0.1:0"])
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
    for (name, expected) in TABLE {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        socket.send_to(&bytes, &addr).unwrap();
        let mut buf = [0u8; 65536];
        let got = socket.recv_from(&mut buf).ok().map(|(n, _)| code(&buf[..n]));
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
        let got = (!response.is_empty()).then(|| code(&response));
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
