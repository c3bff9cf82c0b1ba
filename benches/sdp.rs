//! Parsing speed of the Chromium offer fixtures: our parser against
//! `webrtc-sdp` (Mozilla) and `sdp` (webrtc-rs), and a bare memchr line split
//! as the floor. Run with `cargo bench --bench sdp`; BENCHMARKS.md has the
//! numbers and how to read them.

use std::hint::black_box;
use std::io::Cursor;

use criterion::{Criterion, criterion_group, criterion_main};

/// The fixtures measured: (label, path relative to the workspace root).
const FIXTURES: &[(&str, &str)] = &[
    ("chromium_av_dc_offer", "fixtures/sdp/chromium-156-offer-audio-video-datachannel.sdp"),
    ("chromium_non_trickle_offer", "fixtures/sdp/chromium-156-offer-non-trickle-candidates.sdp"),
];

fn load(path: &str) -> String {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Splits into lines with memchr and touches each line: the least any SDP parser must do.
fn memchr_lines(input: &[u8]) -> usize {
    let mut start = 0;
    let mut total = 0;
    for end in memchr::memchr_iter(b'\n', input) {
        total += black_box(&input[start..end]).len();
        start = end + 1;
    }
    total
}

fn parsers(c: &mut Criterion) {
    for (label, path) in FIXTURES {
        let text = load(path);
        // Every parser must accept the fixture, or the comparison is meaningless.
        switchboard_sdp::SessionDescription::parse(&text).expect("switchboard-sdp parses the fixture");
        webrtc_sdp::parse_sdp(&text, false).expect("webrtc-sdp parses the fixture");
        sdp::SessionDescription::unmarshal(&mut Cursor::new(text.as_bytes()))
            .expect("sdp parses the fixture");

        let mut group = c.benchmark_group(*label);
        group.throughput(criterion::Throughput::Bytes(text.len() as u64));
        group.bench_function("switchboard_sdp", |b| {
            b.iter(|| switchboard_sdp::SessionDescription::parse(black_box(&text)).unwrap())
        });
        group.bench_function("switchboard_sdp_from_bytes", |b| {
            b.iter(|| switchboard_sdp::SessionDescription::parse_bytes(black_box(text.as_bytes())).unwrap())
        });
        group.bench_function("webrtc_sdp_0_3", |b| {
            b.iter(|| webrtc_sdp::parse_sdp(black_box(&text), false).unwrap())
        });
        group.bench_function("sdp_0_17", |b| {
            b.iter(|| {
                sdp::SessionDescription::unmarshal(&mut Cursor::new(black_box(text.as_bytes()))).unwrap()
            })
        });
        group.bench_function("memchr_line_split", |b| b.iter(|| memchr_lines(black_box(text.as_bytes()))));
        group.finish();
    }
}

fn writer(c: &mut Criterion) {
    let text = load(FIXTURES[0].1);
    let desc = switchboard_sdp::SessionDescription::parse(&text).unwrap();
    c.bench_function("chromium_av_dc_offer/switchboard_sdp_write", |b| b.iter(|| black_box(&desc).to_sdp()));
}

criterion_group!(benches, parsers, writer);
criterion_main!(benches);
