//! Every Jingle fixture parses (the third-party ones in ../shared/fixtures/jingle, read from there at
//! test time, and the repository's own in fixtures/jingle); the invalid ones are refused; every
//! element survives to_element -> parse and to_xml -> parse; and every one carrying media converts
//! Jingle -> SDP -> Jingle with nothing lost beyond what SDP cannot say (reported in the losses).

mod common;

use common::{Parsed, has_media, normalize, parse_any};
use switchboard_jingle::xml::Element;
use switchboard_jingle::{Jingle, Role, jingle_to_sdp, sdp_to_jingle};

/// Inputs the upstream tests expect to be refused.
fn is_negative(name: &str) -> bool {
    name.starts_with("xmpp-rs-jingle-invalid-") || name.starts_with("jitsi-meet-source-invalid-ssrc")
}

fn check_file(path: &std::path::Path, counts: &mut Counts) {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(path).unwrap();
    // Both XML readers give the same tree.
    assert_eq!(Element::parse_fast(&text), Element::parse(&text), "{name}: parse_fast and parse differ");
    let parsed = parse_any(&text);
    if is_negative(&name) {
        assert!(parsed.is_err(), "{name}: an invalid stanza was accepted: {parsed:?}");
        counts.refused += 1;
        return;
    }
    let parsed = parsed.unwrap_or_else(|e| panic!("{name}: {e}"));
    counts.parsed += 1;
    let Parsed::Jingle(j) = parsed else { return };
    // The model survives both writers.
    let el = j.to_element();
    let again = if j.sid == "fragment" || !j.sid.is_empty() {
        Jingle::parse(&el)
    } else {
        Jingle::parse_payload(&el)
    };
    assert_eq!(again.as_ref(), Ok(&j), "{name}: to_element -> parse changed it");
    let xml = j.to_xml();
    assert_eq!(Element::parse(&xml).unwrap(), el, "{name}: to_xml and to_element differ");
    if !has_media(&j) {
        return;
    }
    // Jingle -> SDP -> Jingle.
    let role = Role::of_action(j.action);
    let sdp = jingle_to_sdp(&j, role).unwrap_or_else(|e| panic!("{name}: {e}"));
    switchboard_sdp::SessionDescription::parse(&sdp.value)
        .unwrap_or_else(|e| panic!("{name}: the SDP written does not parse: {e}\n{}", sdp.value));
    let back = sdp_to_jingle(&sdp.value, role).unwrap_or_else(|e| panic!("{name}: {e}\n{}", sdp.value));
    let mut back = back.value;
    back.action = j.action;
    back.sid.clone_from(&j.sid);
    back.initiator.clone_from(&j.initiator);
    back.responder.clone_from(&j.responder);
    // Contents keep their creator (SDP has none: the converter says initiator).
    for (b, o) in back.contents.iter_mut().zip(j.contents.iter().filter(|c| {
        c.rtp().is_some_and(|d| !d.payload_types.is_empty()) || c.ice().is_some_and(|t| t.sctp.is_some())
    })) {
        b.creator = o.creator;
    }
    let expected = normalize(&j, role, &sdp.losses);
    let got = normalize(&back, role, &[]);
    assert_eq!(
        got, expected,
        "{name}: changed across Jingle -> SDP -> Jingle\nSDP:\n{}\nlosses: {:#?}",
        sdp.value, sdp.losses
    );
    counts.round_tripped += 1;
    if !sdp.losses.is_empty() {
        println!("{name}: losses {:#?}", sdp.losses);
    }
}

#[derive(Default, Debug)]
struct Counts {
    parsed: usize,
    refused: usize,
    round_tripped: usize,
}

#[test]
fn third_party_fixtures_parse_and_round_trip() {
    let Some(dir) = common::shared_dir() else { return };
    let mut counts = Counts::default();
    for path in common::xml_files(&dir) {
        check_file(&path, &mut counts);
    }
    println!("{counts:?}");
    assert_eq!(counts.refused, 3, "the three NEGATIVE fixtures");
    assert!(counts.parsed >= 47, "{counts:?}");
    assert!(counts.round_tripped >= 15, "{counts:?}");
}

#[test]
fn own_fixtures_parse_and_round_trip() {
    let mut counts = Counts::default();
    let files = common::xml_files(&common::own_dir());
    for path in &files {
        check_file(path, &mut counts);
    }
    println!("{counts:?}");
    assert_eq!(counts.parsed, files.len());
    let styles = files
        .iter()
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with("conversations-style-") || n.starts_with("dino-style-")
        })
        .count();
    assert!(styles >= 4, "the hand-written client-style fixtures are there");
}

/// Jingle that stanza.js made in this run from the SDPs Chromium gave in this run
/// (`scripts/test-all.sh` sets `SWITCHBOARD_LIVE_JINGLE_DIR`): parsed and round-tripped like the
/// committed ones, so a new Chromium or stanza.js cannot drift away from the fixtures unnoticed.
#[test]
fn live_stanza_jingle_from_this_runs_chromium_parses_and_round_trips() {
    let Some(dir) = std::env::var_os("SWITCHBOARD_LIVE_JINGLE_DIR") else {
        println!("SWITCHBOARD_LIVE_JINGLE_DIR not set: no live stanza.js captures to check");
        return;
    };
    let files = common::xml_files(std::path::Path::new(&dir));
    assert!(files.len() >= 5, "stanza_jingle.mjs wrote {} files into {dir:?}", files.len());
    let mut counts = Counts::default();
    for path in &files {
        check_file(path, &mut counts);
    }
    println!("{counts:?}");
    assert_eq!(counts.parsed, files.len(), "{counts:?}");
}
