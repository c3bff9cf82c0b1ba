//! rtpengine ng: bencode decoding must never panic; whatever decodes must
//! encode to a canonical form that decodes to the same value and encodes
//! to the same bytes; and the ng client must take any datagram (as a reply
//! to its pending ping, or with any cookie) without panicking.

#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use switchboard_rtpengine::{NgClient, NgConfig, decode, encode};

fuzz_target!(|data: &[u8]| {
    if let Ok(v1) = decode(data) {
        let bytes = encode(&v1);
        let v2 = decode(&bytes).unwrap_or_else(|e| panic!("our encoding does not decode: {e}"));
        assert_eq!(v1, v2, "decode(encode(v)) != v");
        assert_eq!(encode(&v2), bytes, "encoding is not canonical");
        let _ = v1.to_string();
    } else if let Err(e) = decode(data) {
        assert!(e.offset <= data.len(), "error offset {} past the input", e.offset);
    }
    let now = Instant::now();
    let mut client = NgClient::with_cookie_prefix(NgConfig::default(), now, "f");
    let _ = client.poll_transmit();
    client.handle_datagram(data, now);
    // The same bytes as the body of a reply to the pending ping (cookie f_0).
    let mut reply = b"f_0 ".to_vec();
    reply.extend_from_slice(data);
    client.handle_datagram(&reply, now);
    while client.poll_event().is_some() {}
});
