//! SDP -> Jingle -> XML text -> Jingle -> SDP round trips per second, measured the same way as
//! `benches/jingle/stanza_roundtrip.mjs` measures stanza.js (1 s warm-up, then the median of N runs
//! of about S seconds), so that `benches/jingle/run.sh` can compare the two in one run.
//!
//! `cargo run --release -p switchboard-jingle --example roundtrip_rate -- [SDP_FILE] [--runs N] [--seconds S]`
//!
//! Last line: `switchboard_roundtrips_per_sec=N lines_lost=N sdp_lines=N sdp_bytes=N`, where
//! `lines_lost` counts input lines missing from the output (the `o=` line is regenerated).

use std::hint::black_box;
use std::time::{Duration, Instant};

use switchboard_jingle::{Jingle, Role, jingle_to_sdp, sdp_to_jingle};

fn round_trip(sdp: &str) -> String {
    let jingle = sdp_to_jingle(sdp, Role::Initiator).expect("the offer converts").value;
    let xml = jingle.to_xml();
    let parsed = Jingle::parse_xml(&xml).expect("our XML parses");
    jingle_to_sdp(&parsed, Role::Initiator).expect("back to SDP").value
}

/// Round trips per second over about `seconds`.
fn run(sdp: &str, seconds: f64) -> f64 {
    let start = Instant::now();
    let limit = Duration::from_secs_f64(seconds);
    let mut n = 0u64;
    while start.elapsed() < limit {
        for _ in 0..64 {
            black_box(round_trip(black_box(sdp)));
        }
        n += 64;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut file = format!(
        "{}/../../fixtures/sdp/chromium-156-offer-audio-video-datachannel.sdp",
        env!("CARGO_MANIFEST_DIR")
    );
    let (mut runs, mut seconds) = (7usize, 2.0f64);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).unwrap_or(runs),
            "--seconds" => seconds = args.next().and_then(|v| v.parse().ok()).unwrap_or(seconds),
            other => file = other.to_owned(),
        }
    }
    let sdp = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    let out = round_trip(&sdp);
    let mut left: Vec<&str> = out.lines().collect();
    let mut lost = 0;
    for line in sdp.lines() {
        match left.iter().position(|l| *l == line) {
            Some(i) => {
                left.swap_remove(i);
            }
            None => lost += 1,
        }
    }
    run(&sdp, 1.0);
    let mut rates: Vec<f64> = (0..runs.max(1)).map(|_| run(&sdp, seconds)).collect();
    rates.sort_by(f64::total_cmp);
    for r in &rates {
        println!("run: {r:.0} round trips/s");
    }
    let median = rates[rates.len() / 2];
    println!(
        "switchboard_roundtrips_per_sec={median:.0} lines_lost={lost} sdp_lines={} sdp_bytes={}",
        sdp.lines().count(),
        sdp.len()
    );
}
