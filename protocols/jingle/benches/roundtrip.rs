//! SDP <-> Jingle speed on Chromium's audio+video+data channel offer (5.7 KB): one round trip is
//! SDP text -> Jingle -> XML text -> parse -> SDP text, what the gateway does for a browser calling
//! an XMPP client and back. The pieces are measured too. Run with
//! `cargo bench -p switchboard-jingle --bench roundtrip`; BENCHMARKS.md compares it with stanza.js.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use switchboard_jingle::{Jingle, Role, jingle_to_sdp, sdp_to_jingle};

fn offer() -> String {
    let path = format!(
        "{}/../../fixtures/sdp/chromium-156-offer-audio-video-datachannel.sdp",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// One whole round trip; returns the SDP written.
fn round_trip(sdp: &str) -> String {
    let jingle = sdp_to_jingle(sdp, Role::Initiator).expect("the offer converts").value;
    let xml = jingle.to_xml();
    let parsed = Jingle::parse_xml(&xml).expect("our XML parses");
    jingle_to_sdp(&parsed, Role::Initiator).expect("back to SDP").value
}

fn bench(c: &mut Criterion) {
    let sdp = offer();
    let jingle = sdp_to_jingle(&sdp, Role::Initiator).unwrap().value;
    let xml = jingle.to_xml();
    assert_eq!(round_trip(&sdp).lines().count(), sdp.lines().count() - 2, "all but the two a=rtcp-xr lines");

    c.bench_function("round trip: SDP -> Jingle -> XML -> Jingle -> SDP", |b| {
        b.iter(|| round_trip(black_box(&sdp)))
    });
    c.bench_function("SDP parse (switchboard-sdp)", |b| {
        b.iter(|| switchboard_sdp::SessionDescription::parse(black_box(&sdp)).unwrap().media.len())
    });
    c.bench_function("SDP -> Jingle (incl. SDP parse)", |b| {
        b.iter(|| sdp_to_jingle(black_box(&sdp), Role::Initiator).unwrap())
    });
    c.bench_function("Jingle -> XML text", |b| b.iter(|| black_box(&jingle).to_xml()));
    c.bench_function("XML text -> Jingle", |b| b.iter(|| Jingle::parse_xml(black_box(&xml)).unwrap()));
    c.bench_function("XML text -> Element", |b| {
        b.iter(|| switchboard_jingle::xml::Element::parse(black_box(&xml)).unwrap())
    });
    c.bench_function("Jingle -> SDP", |b| {
        b.iter(|| jingle_to_sdp(black_box(&jingle), Role::Initiator).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
