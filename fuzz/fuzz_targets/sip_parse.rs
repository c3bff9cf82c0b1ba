//! SIP: the datagram parser, the stream framer and the stateless UAS layer
//! must never panic, and every response the UAS builds must itself parse.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_sip::uas::{response_bytes, screen};
use switchboard_sip::{Framed, Framer, Message};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Message::parse_datagram(data) {
        let _ = (m.call_id(), m.cseq(), m.vias(), m.values("Contact"));
    }
    let verdict = screen(data);
    if let Some(response) = response_bytes(data, &verdict, "fz") {
        if let Err(e) = Message::parse_datagram(&response) {
            panic!("our response does not parse: {e}\n{}", String::from_utf8_lossy(&response));
        }
    }
    let mut framer = Framer::new(4096);
    for chunk in data.chunks(97) {
        framer.push(chunk);
        while let Ok(Some(framed)) = framer.poll() {
            if let Framed::Message(bytes) = framed {
                let _ = Message::parse_framed(&bytes);
            }
        }
    }
});
