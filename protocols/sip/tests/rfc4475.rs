//! The RFC 4475 torture messages (../shared/fixtures/sip/rfc4475): every
//! valid one parses with the right values; the syntactically invalid ones
//! are refused with the error a UAS turns into its 400 (or 505); none panics.
//! Semantic checks (416, 420, 415, 483 ...) belong to the UAS layer of issue #4.

use switchboard_sip::{Message, SipError, StartLine};

fn dir() -> Option<std::path::PathBuf> {
    let d = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/sip/rfc4475");
    if d.is_dir() {
        return Some(d);
    }
    let msg = format!("RFC 4475 fixtures folder {} is absent: torture tests not run", d.display());
    assert!(std::env::var_os("CI").is_none(), "{msg}");
    eprintln!("SKIPPED: {msg}");
    None
}

fn read(name: &str) -> Option<Vec<u8>> {
    dir().map(|d| std::fs::read(d.join(name)).unwrap())
}

#[test]
fn every_message_parses_or_fails_without_panicking() {
    let Some(d) = dir() else { return };
    let mut n = 0;
    for entry in std::fs::read_dir(d).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "dat") {
            let bytes = std::fs::read(&path).unwrap();
            if let Ok(m) = Message::parse_datagram(&bytes) {
                let _ = (m.call_id(), m.cseq(), m.vias());
            }
            n += 1;
        }
    }
    assert_eq!(n, 49);
}

#[test]
fn valid_messages_of_section_3_1_1_parse() {
    for name in [
        "wsinv.dat",
        "intmeth.dat",
        "esc01.dat",
        "escnull.dat",
        "esc02.dat",
        "lwsdisp.dat",
        "longreq.dat",
        "dblreq.dat",
        "semiuri.dat",
        "transports.dat",
        "mpart01.dat",
        "unreason.dat",
        "noreason.dat",
    ] {
        let Some(bytes) = read(name) else { return };
        let m = Message::parse_datagram(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        m.call_id().unwrap_or_else(|e| panic!("{name}: {e}"));
        m.cseq().unwrap_or_else(|e| panic!("{name}: {e}"));
        let vias = m.vias().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!vias.is_empty(), "{name}");
    }
}

#[test]
fn wsinv_folding_compact_forms_and_odd_whitespace() {
    let Some(bytes) = read("wsinv.dat") else { return };
    let m = Message::parse_datagram(&bytes).unwrap();
    assert_eq!(m.method(), Some("INVITE"));
    assert_eq!(m.header("To"), Some("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n"));
    assert_eq!(m.header("Max-Forwards"), Some("0068"));
    assert_eq!(m.cseq().unwrap().number, 9);
    assert_eq!(m.cseq().unwrap().method, "INVITE");
    let vias = m.vias().unwrap();
    assert_eq!(vias.len(), 3);
    assert_eq!((vias[0].transport, vias[0].host), ("UDP", "192.0.2.2"));
    assert_eq!(
        (vias[1].transport, vias[1].host, vias[1].branch()),
        ("TCP", "spindle.example.com", Some("z9hG4bK9ikj8"))
    );
    assert_eq!(vias[2].branch(), Some("z9hG4bK30239"));
    assert_eq!(m.header("NewFangledHeader"), Some("newfangled value continued newfangled value"));
    assert!(m.header("Contact").unwrap().starts_with(r#""Quoted string \"\"" <sip:jdrosen@example.com>"#));
    assert_eq!(m.body.len(), 150);
}

#[test]
fn intmeth_and_esc02_keep_extension_methods() {
    let Some(bytes) = read("intmeth.dat") else { return };
    let m = Message::parse_datagram(&bytes).unwrap();
    assert_eq!(m.method(), Some("!interesting-Method0123456789_*+`.%indeed'~"));
    let Some(bytes) = read("esc02.dat") else { return };
    assert_eq!(Message::parse_datagram(&bytes).unwrap().method(), Some("RE%47IST%45R"));
}

#[test]
fn dblreq_keeps_only_content_length_octets() {
    let Some(bytes) = read("dblreq.dat") else { return };
    let m = Message::parse_datagram(&bytes).unwrap();
    assert_eq!(m.method(), Some("REGISTER"));
    assert!(m.body.is_empty());
    assert_eq!(m.call_id().unwrap(), "dblreq.0ha0isndaksdj99sdfafnl3lk233412");
}

#[test]
fn responses_with_unusual_or_empty_reason_phrases() {
    let Some(bytes) = read("noreason.dat") else { return };
    assert!(matches!(Message::parse_datagram(&bytes).unwrap().start, StartLine::Response { code: 100, .. }));
    let Some(bytes) = read("unreason.dat") else { return };
    let m = Message::parse_datagram(&bytes).unwrap();
    let StartLine::Response { code, reason } = m.start else { panic!() };
    assert_eq!(code, 200);
    assert!(reason.contains("\u{2018}") || !reason.is_ascii(), "{reason}");
}

#[test]
fn syntactically_invalid_messages_are_refused() {
    for (name, expect) in [
        ("lwsruri.dat", "start"),
        ("lwsstart.dat", "start"),
        ("trws.dat", "start"),
        ("ltgtruri.dat", "start"),
        ("clerr.dat", "length"),
        ("ncl.dat", "length"),
        ("mcl01.dat", "length"),
        ("badvers.dat", "version"),
        ("bigcode.dat", "start"),
    ] {
        let Some(bytes) = read(name) else { return };
        let err = Message::parse_datagram(&bytes).expect_err(name);
        let ok = match expect {
            "start" => matches!(err, SipError::StartLine(_)),
            "length" => matches!(err, SipError::ContentLength(_)),
            _ => matches!(err, SipError::Version(_)),
        };
        assert!(ok, "{name}: {err:?}");
    }
}

#[test]
fn scalar02_overlarge_cseq_is_refused_when_typed() {
    let Some(bytes) = read("scalar02.dat") else { return };
    let m = Message::parse_datagram(&bytes).unwrap();
    assert!(m.cseq().is_err());
}
