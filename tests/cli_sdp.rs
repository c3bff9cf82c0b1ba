//! The `switchboard sdp` command, run as a process: printing back, `--json`,
//! and one line-numbered `error:` line with exit status 1 for malformed input.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn switchboard(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run switchboard");
    // The process may exit before reading all of a huge input: ignore a broken pipe.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

fn fixture_path(name: &str) -> String {
    format!("{}/fixtures/sdp/{name}", env!("CARGO_MANIFEST_DIR"))
}

const HEAD: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
const MEDIA: &str = "m=audio 5004 RTP/AVP 0\r\nc=IN IP4 127.0.0.1\r\n";

/// Malformed inputs of our own, each with the line its error must name.
fn malformed_inputs() -> Vec<(&'static str, Vec<u8>, usize)> {
    let with_media_line = |bad: &str| format!("{HEAD}{MEDIA}{bad}\r\n").into_bytes(); // bad line is line 7
    let with_session_line = |bad: &str| format!("{HEAD}{bad}\r\n{MEDIA}").into_bytes(); // bad line is line 5
    let mut huge = HEAD.as_bytes().to_vec();
    huge.extend(std::iter::repeat_n(b'a', 1 << 20));
    let mut binary = HEAD.as_bytes().to_vec();
    binary.extend_from_slice(b"a=tool:\xff\xfe\x00\x01junk\r\n");
    let mut truncated = std::fs::read(fixture_path("chromium-156-offer-non-trickle-candidates.sdp")).unwrap();
    let cut = truncated.windows(12).position(|w| w == b"a=candidate:").unwrap() + 40;
    let truncated_line = truncated[..cut].iter().filter(|&&b| b == b'\n').count() + 1;
    truncated.truncate(cut);
    vec![
        ("empty input", vec![], 1),
        ("blank lines only", b"\r\n\r\n  \r\n".to_vec(), 1),
        ("missing v=", b"o=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n".to_vec(), 1),
        ("version not a number", b"v=zero\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n".to_vec(), 1),
        ("missing o=", b"v=0\r\ns=-\r\nt=0 0\r\n".to_vec(), 2),
        ("o= with too few fields", b"v=0\r\no=- 1 1 IN IP4\r\ns=-\r\n".to_vec(), 2),
        ("o= version not a number", b"v=0\r\no=- 1 x IN IP4 127.0.0.1\r\ns=-\r\n".to_vec(), 2),
        ("missing s=", b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\nt=0 0\r\n".to_vec(), 3),
        ("truncated after o=", b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n".to_vec(), 2),
        ("line without =", with_media_line("a"), 7),
        ("text line", with_media_line("hello world"), 7),
        ("digit type letter", with_media_line("1=foo"), 7),
        ("second v=", with_media_line("v=0"), 7),
        ("t= inside a media section", with_media_line("t=0 0"), 7),
        ("m= port 70000", with_session_line("m=audio 70000 RTP/AVP 0"), 5),
        ("m= without formats", with_session_line("m=audio 5004 RTP/AVP"), 5),
        ("m= port not a number", with_session_line("m=audio port RTP/AVP 0"), 5),
        ("c= without address", with_session_line("c=IN IP4"), 5),
        ("c= TTL 300", with_session_line("c=IN IP4 224.2.1.1/300"), 5),
        ("b= without colon", with_session_line("b=AS"), 5),
        ("t= not numbers", with_session_line("t=now 0"), 5),
        (
            "candidate port 70000",
            with_media_line("a=candidate:1 1 udp 2122260223 127.0.0.1 70000 typ host"),
            7,
        ),
        (
            "candidate priority over 32 bits",
            with_media_line("a=candidate:1 1 udp 99999999999 127.0.0.1 5004 typ host"),
            7,
        ),
        ("candidate component 0", with_media_line("a=candidate:1 0 udp 1 127.0.0.1 5004 typ host"), 7),
        ("candidate without typ", with_media_line("a=candidate:1 1 udp 1 127.0.0.1 5004 host"), 7),
        ("candidate address 300.1.1.1", with_media_line("a=candidate:1 1 udp 1 300.1.1.1 5004 typ host"), 7),
        (
            "candidate raddr without value",
            with_media_line("a=candidate:1 1 udp 1 127.0.0.1 5004 typ srflx raddr"),
            7,
        ),
        (
            "candidate tcptype sideways",
            with_media_line("a=candidate:1 1 tcp 1 127.0.0.1 9 typ host tcptype sideways"),
            7,
        ),
        (
            "candidate foundation of 33 chars",
            with_media_line(&format!("a=candidate:{} 1 udp 1 127.0.0.1 5 typ host", "f".repeat(33))),
            7,
        ),
        ("candidate truncated", with_media_line("a=candidate:1 1 udp"), 7),
        (
            "candidate rport 65536",
            with_media_line("a=candidate:1 1 udp 1 127.0.0.1 5 typ srflx raddr 10.0.0.1 rport 65536"),
            7,
        ),
        ("rtpmap payload type 128", with_media_line("a=rtpmap:128 PCMU/8000"), 7),
        ("rtpmap without clock rate", with_media_line("a=rtpmap:0 PCMU"), 7),
        ("fmtp without format", with_media_line("a=fmtp:"), 7),
        ("setup sideways", with_media_line("a=setup:sideways"), 7),
        ("fingerprint not hex", with_media_line("a=fingerprint:sha-256 ZZ:00"), 7),
        ("extmap id 0", with_media_line("a=extmap:0 urn:ietf:params:rtp-hdrext:sdes:mid"), 7),
        ("ssrc not a number", with_media_line("a=ssrc:abc cname:x"), 7),
        ("sctp-port 70000", with_media_line("a=sctp-port:70000"), 7),
        ("ptime not a number", with_media_line("a=ptime:abc"), 7),
        ("simulcast direction both", with_media_line("a=simulcast:both h;m"), 7),
        ("rid direction sideways", with_media_line("a=rid:h sideways"), 7),
        ("empty mid", with_media_line("a=mid:"), 7),
        ("control character in mid", with_media_line("a=mid:a\x01b"), 7),
        ("binary junk", binary, 5),
        ("one 1 MiB line of junk", huge, 5),
        ("fixture truncated inside a candidate", truncated, truncated_line),
    ]
}

#[test]
fn malformed_inputs_exit_1_with_one_line_numbered_error() {
    let cases = malformed_inputs();
    assert!(cases.len() >= 30);
    for (name, input, line) in cases {
        let out = switchboard(&["sdp", "-"], &input);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}: status {:?}, stderr {stderr}", out.status);
        assert!(out.stdout.is_empty(), "{name}: printed {:?}", String::from_utf8_lossy(&out.stdout));
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
        let expected = format!("error: line {line}: ");
        assert!(stderr.starts_with(&expected), "{name}: expected `{expected}...`, got {stderr}");
        assert!(stderr.len() < 300, "{name}: error line too long: {stderr}");
    }
}

#[test]
fn sdp_prints_a_fixture_back_byte_for_byte() {
    let path = fixture_path("baresip-1.0.0-invite-offer-ice-dtls-srtp.sdp");
    let out = switchboard(&["sdp", &path], b"");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, std::fs::read(&path).unwrap());
    // The same from standard input, with LF line ends: written back with CRLF.
    let lf = String::from_utf8(std::fs::read(&path).unwrap()).unwrap().replace("\r\n", "\n");
    let out = switchboard(&["sdp", "-"], lf.as_bytes());
    assert_eq!(out.stdout, std::fs::read(&path).unwrap());
}

#[test]
fn sdp_json_breaks_out_every_candidate() {
    for name in [
        "chromium-156-offer-non-trickle-candidates.sdp",
        "chromium-156-offer-datachannel-mdns-candidates.sdp",
        "baresip-1.0.0-invite-offer-ice-dtls-srtp.sdp",
        "aiortc-1.16.0-offer-audio-datachannel.sdp",
    ] {
        let path = fixture_path(name);
        let out = switchboard(&["sdp", "--json", &path], b"");
        assert_eq!(out.status.code(), Some(0), "{name}");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> =
            text.lines().filter_map(|l| l.trim_end().strip_prefix("a=candidate:")).collect();
        let mut found = Vec::new();
        for media in json["media"].as_array().unwrap() {
            for line in media["lines"].as_array().unwrap() {
                if line["value"]["name"] == "candidate" {
                    found.push(line["value"]["value"].clone());
                }
            }
        }
        assert_eq!(found.len(), lines.len(), "{name}");
        for (c, line) in found.iter().zip(lines) {
            let f: Vec<&str> = line.split(' ').collect();
            assert_eq!(c["foundation"], f[0], "{line}");
            assert_eq!(c["component"].to_string(), f[1], "{line}");
            assert_eq!(c["transport"], f[2], "{line}");
            assert_eq!(c["priority"].to_string(), f[3], "{line}");
            assert_eq!(c["address"]["value"], f[4], "{line}");
            let kind = if f[4].ends_with(".local") { "mdns" } else { "ip" };
            assert_eq!(c["address"]["kind"], kind, "{line}");
            assert_eq!(c["port"].to_string(), f[5], "{line}");
            assert_eq!(c["type"], f[7], "{line}");
            for pair in f[8..].chunks(2) {
                let key = match pair[0] {
                    "raddr" => "related_address",
                    "rport" => "related_port",
                    "tcptype" => "tcp_type",
                    "network-id" => "network_id",
                    "network-cost" => "network_cost",
                    other => other,
                };
                let v = &c[key];
                let shown = if v.is_string() { v.as_str().unwrap().to_owned() } else { v.to_string() };
                assert_eq!(shown, pair[1], "{key} in {line}");
            }
        }
    }
}

#[test]
fn help_and_version() {
    let out = switchboard(&["--help"], b"");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("sdp"));
    let out = switchboard(&["--version"], b"");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("switchboard {}", env!("CARGO_PKG_VERSION"))
    );
    let out = switchboard(&["sdp", "/nonexistent/file.sdp"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: /nonexistent/file.sdp: "));
}
