//! Parses one message 100 times with one parser, for instruction counts
//! (callgrind), which stay the same on a noisy machine; the same calls as
//! `benches/parse_invite.rs`. `none` only reads the file: subtract it.
//!
//! usage: sip_parse_loop none|switchboard|switchboard-typed|switchboard-screen|rsip|rsip-typed|
//!        rsip-typed-from-to|rsipstack|rsipstack-typed|rsipstack-typed-from-to FILE
//! or:    bash icount.sh   (in this directory)

use std::hint::black_box;

macro_rules! typed_parser {
    ($module:ident, $krate:path) => {
        mod $module {
            use s::prelude::*;
            use std::hint::black_box;
            use $krate as s;

            pub fn parse(bytes: &[u8]) {
                black_box(s::SipMessage::try_from(bytes).unwrap());
            }

            pub fn parse_typed(bytes: &[u8], from_to: bool) {
                let m = s::SipMessage::try_from(bytes).unwrap();
                let via = m.via_header().unwrap().typed().unwrap();
                let cseq = m.cseq_header().unwrap().typed().unwrap();
                let call_id = m.call_id_header().unwrap();
                if from_to {
                    let from = m.from_header().unwrap().typed().unwrap();
                    let to = m.to_header().unwrap().typed().unwrap();
                    black_box((&via, &cseq, call_id, &from, &to));
                } else {
                    let from = m.from_header().unwrap();
                    let to = m.to_header().unwrap();
                    black_box((&via, &cseq, call_id, from, to));
                }
            }
        }
    };
}

typed_parser!(rsip_0_4, rsip);
typed_parser!(rsipstack_0_7, rsipstack::rsip);

fn switchboard_typed(bytes: &[u8]) {
    let m = switchboard_sip::Message::parse_datagram(bytes).unwrap();
    let vias = m.vias().unwrap();
    let cseq = m.cseq().unwrap();
    let call_id = m.call_id().unwrap();
    let from = m.header("From").unwrap();
    let to = m.header("To").unwrap();
    black_box((&vias, cseq, call_id, from, to));
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(parser), Some(path)) = (args.next(), args.next()) else {
        eprintln!("usage: sip_parse_loop PARSER FILE");
        std::process::exit(2);
    };
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    for _ in 0..100 {
        let b = black_box(bytes.as_slice());
        match parser.as_str() {
            "none" => {}
            "switchboard" => {
                black_box(switchboard_sip::Message::parse_datagram(b).unwrap());
            }
            "switchboard-typed" => switchboard_typed(b),
            "switchboard-screen" => {
                black_box(switchboard_sip::uas::screen(b));
            }
            "rsip" => rsip_0_4::parse(b),
            "rsip-typed" => rsip_0_4::parse_typed(b, false),
            "rsip-typed-from-to" => rsip_0_4::parse_typed(b, true),
            "rsipstack" => rsipstack_0_7::parse(b),
            "rsipstack-typed" => rsipstack_0_7::parse_typed(b, false),
            "rsipstack-typed-from-to" => rsipstack_0_7::parse_typed(b, true),
            other => panic!("unknown parser {other}"),
        }
    }
}
