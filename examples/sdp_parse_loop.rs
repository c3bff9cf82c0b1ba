//! Parses an SDP file 100 times with one of the compared parsers, for
//! instruction counting under callgrind (`benches/icount.sh`), which unlike
//! wall time does not depend on what else the machine is doing.
//!
//! `cargo run --release --example sdp_parse_loop -- PARSER FILE`, where PARSER
//! is `switchboard`, `webrtc-sdp`, `sdp`, `memchr` or `none` (the baseline).

use std::hint::black_box;
use std::io::Cursor;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(parser), Some(path)) = (args.next(), args.next()) else {
        eprintln!("usage: sdp_parse_loop switchboard|webrtc-sdp|sdp|memchr|none FILE");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(&path).expect("read the SDP file");
    for _ in 0..100 {
        match parser.as_str() {
            "switchboard" => {
                black_box(switchboard_sdp::SessionDescription::parse(black_box(&text)).unwrap());
            }
            "webrtc-sdp" => {
                black_box(webrtc_sdp::parse_sdp(black_box(&text), false).unwrap());
            }
            "sdp" => {
                black_box(
                    sdp::SessionDescription::unmarshal(&mut Cursor::new(black_box(text.as_bytes()))).unwrap(),
                );
            }
            "memchr" => {
                let bytes = black_box(text.as_bytes());
                let mut start = 0;
                for end in memchr::memchr_iter(b'\n', bytes) {
                    black_box(&bytes[start..end]);
                    start = end + 1;
                }
            }
            "none" => {}
            other => panic!("unknown parser {other}"),
        }
    }
}
