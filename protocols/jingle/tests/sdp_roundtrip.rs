//! The Chromium SDPs of fixtures/sdp survive SDP -> Jingle -> XML -> Jingle -> SDP: every line comes
//! back, in order, except the exact set this test names (lines Jingle cannot carry), and the losses
//! reported are exactly those lines.

mod common;

use switchboard_jingle::{Jingle, Role, jingle_to_sdp, sdp_to_jingle};

/// (fixture, whose description it is, the lines that do not come back).
const CASES: &[(&str, Role, &[&str])] = &[
    (
        "chromium-156-offer-audio-video-datachannel.sdp",
        Role::Initiator,
        &["a=rtcp-xr:rcvr-rtt=all", "a=rtcp-xr:rcvr-rtt=all"],
    ),
    (
        "chromium-156-offer-non-trickle-candidates.sdp",
        Role::Initiator,
        &["a=rtcp-xr:rcvr-rtt=all", "a=rtcp-xr:rcvr-rtt=all"],
    ),
    ("chromium-156-offer-datachannel-only.sdp", Role::Initiator, &["a=extmap-allow-mixed"]),
    ("chromium-156-offer-datachannel-mdns-candidates.sdp", Role::Initiator, &["a=extmap-allow-mixed"]),
    (
        "chromium-156-offer-simulcast-rids.sdp",
        Role::Initiator,
        &["a=rtcp-xr:rcvr-rtt=all", "a=rid:h send", "a=rid:m send", "a=rid:l send", "a=simulcast:send h;m;l"],
    ),
    (
        "chromium-156-answer-audio-video-datachannel.sdp",
        Role::Responder,
        &["a=rtcp-xr:rcvr-rtt=all", "a=rtcp-xr:rcvr-rtt=all"],
    ),
    ("chromium-156-answer-to-aiortc-audio-datachannel.sdp", Role::Responder, &[]),
    ("jssip-3.13.8-invite-offer-chromium-156.sdp", Role::Initiator, &["a=rtcp-xr:rcvr-rtt=all"]),
    (
        "sipjs-0.21.2-invite-offer-audio-video-chromium-156.sdp",
        Role::Initiator,
        &["a=rtcp-xr:rcvr-rtt=all", "a=rtcp-xr:rcvr-rtt=all"],
    ),
];

fn round_trip(sdp: &str, role: Role) -> (String, Vec<String>) {
    let j = sdp_to_jingle(sdp, role).unwrap();
    // Through XML text, as it travels.
    let xml = j.value.to_xml();
    let parsed = Jingle::parse_xml(&xml).unwrap();
    assert_eq!(parsed, j.value, "Jingle -> XML -> Jingle changed the element");
    let back = jingle_to_sdp(&parsed, role).unwrap();
    assert!(back.losses.is_empty(), "Jingle -> SDP lost something: {:#?}", back.losses);
    (back.value, j.losses)
}

#[test]
fn chromium_sdps_survive_the_round_trip_but_for_the_named_lines() {
    for (file, role, lost) in CASES {
        let sdp = std::fs::read_to_string(common::sdp_dir().join(file)).unwrap();
        let (back, losses) = round_trip(&sdp, *role);
        // o= is regenerated from the sid (Jingle has no o=); v=, s= and t=0 0 come back as they were.
        let orig: Vec<&str> = sdp.lines().filter(|l| !l.starts_with("o=")).collect();
        let got: Vec<&str> = back.lines().filter(|l| !l.starts_with("o=")).collect();
        let mut expected = orig.clone();
        for l in *lost {
            let i = expected
                .iter()
                .position(|e| e == l)
                .unwrap_or_else(|| panic!("{file}: {l} is not in the fixture"));
            expected.remove(i);
        }
        assert_eq!(got, expected, "{file}: lines differ (expected all but {lost:?}, in order)");
        assert!(back.ends_with("\r\n") && !back.contains("\n\n"), "{file}: CRLF line ends");
        // Every lost line is reported, and nothing else.
        assert_eq!(losses.len(), lost.len(), "{file}: {losses:#?}");
        for l in *lost {
            let value = l.trim_start_matches("a=");
            assert!(
                losses.iter().any(|m| m.contains(value)),
                "{file}: {l} lost but not reported: {losses:#?}"
            );
        }
    }
}

#[test]
fn the_chromium_offer_loses_exactly_o_and_rtcp_xr() {
    // The headline case, spelled out: of the 171 lines only these differ.
    let sdp =
        std::fs::read_to_string(common::sdp_dir().join("chromium-156-offer-audio-video-datachannel.sdp"))
            .unwrap();
    let (back, losses) = round_trip(&sdp, Role::Initiator);
    let before: std::collections::BTreeSet<&str> = sdp.lines().collect();
    let after: std::collections::BTreeSet<&str> = back.lines().collect();
    let gone: Vec<&str> = before.difference(&after).copied().collect();
    let added: Vec<&str> = after.difference(&before).copied().collect();
    assert_eq!(gone, ["a=rtcp-xr:rcvr-rtt=all", "o=- 1918084380277425064 2 IN IP4 127.0.0.1"]);
    assert_eq!(added.len(), 1);
    assert!(added[0].starts_with("o=- ") && added[0].ends_with(" 2 IN IP4 127.0.0.1"), "{added:?}");
    assert_eq!(
        losses,
        [
            "mid 0: a=rtcp-xr:rcvr-rtt=all: no Jingle equivalent",
            "mid 1: a=rtcp-xr:rcvr-rtt=all: no Jingle equivalent"
        ]
    );
}

#[test]
fn every_sdp_fixture_converts_and_the_sdp_written_parses() {
    for entry in std::fs::read_dir(common::sdp_dir()).unwrap() {
        let path = entry.unwrap().path();
        let sdp = std::fs::read_to_string(&path).unwrap();
        for role in [Role::Initiator, Role::Responder] {
            let j = sdp_to_jingle(&sdp, role).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let back = jingle_to_sdp(&j.value, role).unwrap();
            switchboard_sdp::SessionDescription::parse(&back.value)
                .unwrap_or_else(|e| panic!("{}: {e}\n{}", path.display(), back.value));
            // Converting the result again is stable: nothing more is lost on the second trip.
            let j2 = sdp_to_jingle(&back.value, role).unwrap();
            let back2 = jingle_to_sdp(&j2.value, role).unwrap();
            assert_eq!(back2.value, back.value, "{}: not stable", path.display());
        }
    }
}
