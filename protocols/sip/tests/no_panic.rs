//! No input makes the parser or the framer panic.

use proptest::prelude::*;
use switchboard_sip::{Framer, Message};

proptest! {
    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = Message::parse_datagram(&bytes);
        let mut f = Framer::new(1000);
        f.push(&bytes);
        while let Ok(Some(_)) = f.poll() {}
    }

    #[test]
    fn sip_shaped_lines(lines in proptest::collection::vec("[ -~\t]{0,40}", 0..12), start in "(INVITE sip:a@b SIP/2.0|SIP/2.0 200 OK|[ -~]{0,20})") {
        let text = format!("{start}\r\n{}\r\n\r\nbody", lines.join("\r\n"));
        if let Ok(m) = Message::parse_datagram(text.as_bytes()) {
            let _ = (m.call_id(), m.cseq(), m.vias(), m.values("Contact"));
        }
    }
}
