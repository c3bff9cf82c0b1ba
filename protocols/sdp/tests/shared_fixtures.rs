//! Third-party SDPs we cannot produce on this machine (Firefox, Safari,
//! older Chrome, lib-jitsi-meet, sdp-transform test data), read from
//! `../shared/fixtures/sdp` beside the project (see its SOURCES.md).
//!
//! When that folder is absent the test says so; under CI (`CI` set) that is a failure.

use std::path::PathBuf;

use switchboard_sdp::{Attribute, SessionDescription};

fn shared_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/sdp");
    if dir.is_dir() {
        return Some(dir);
    }
    let msg = format!("shared fixtures folder {} is absent: third-party SDP tests not run", dir.display());
    if std::env::var_os("CI").is_some() {
        panic!("{msg}");
    }
    eprintln!("SKIPPED: {msg}");
    None
}

/// A line as it must come back: `a=` lines lose trailing blanks (they carry no meaning there).
fn normalise(line: &str) -> &str {
    if line.starts_with("a=") { line.trim_end_matches([' ', '\t']) } else { line }
}

#[test]
fn every_shared_sdp_parses_and_round_trips_line_for_line() {
    let Some(dir) = shared_dir() else { return };
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "sdp") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let desc = SessionDescription::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let written = desc.to_sdp();
        let input: Vec<_> = text
            .lines()
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| !l.trim().is_empty())
            .map(normalise)
            .collect();
        let output: Vec<_> = written.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(input, output, "{}", path.display());
        assert_eq!(SessionDescription::parse(&written).unwrap(), desc, "{}", path.display());
        count += 1;
    }
    assert!(count >= 20, "{count} shared SDPs");
}

fn shared(name: &str) -> Option<String> {
    shared_dir().map(|d| std::fs::read_to_string(d.join(name)).unwrap())
}

#[test]
fn parse_offer_firefox_52_datachannel_legacy_sctpmap() {
    let Some(text) = shared("firefox-52-datachannel.sdp") else { return };
    let desc = SessionDescription::parse(&text).unwrap();
    let m = &desc.media[0];
    assert!(m.attributes().any(|a| matches!(a, Attribute::Sctpmap(s) if s.app == "webrtc-datachannel")));
    assert_eq!(m.sctp_port(), Some(5000));
}

#[test]
fn parse_offer_firefox_55_simulcast_draft_syntax_is_kept_as_written() {
    let Some(text) = shared("firefox-55-simulcast-offer.sdp") else { return };
    let desc = SessionDescription::parse(&text).unwrap();
    let kept = desc.media.iter().flat_map(|m| m.attributes()).find(|a| a.name() == "simulcast").unwrap();
    assert!(matches!(kept, Attribute::Other { value: Some(v), .. } if v.contains("rid=")));
}

#[test]
fn parse_sdp_transform_hacky_tcp_candidates_and_crypto() {
    let Some(text) = shared("sdp-transform-hacky.sdp") else { return };
    let desc = SessionDescription::parse(&text).unwrap();
    let tcp: Vec<_> = desc.media[0].candidates().filter_map(|c| c.tcp_type).collect();
    assert_eq!(tcp.len(), 7);
    assert!(
        desc.media[0]
            .attributes()
            .any(|a| matches!(a, Attribute::Crypto(c) if c.suite == "AES_CM_128_HMAC_SHA1_80"))
    );
    assert!(desc.media[0].attributes().any(|a| matches!(a, Attribute::Ptime(p) if p == "0.125")));
}

#[test]
fn parse_sdp_transform_icelite_gateway() {
    let Some(text) = shared("sdp-transform-icelite.sdp") else { return };
    let desc = SessionDescription::parse(&text).unwrap();
    assert!(desc.ice_lite());
}
