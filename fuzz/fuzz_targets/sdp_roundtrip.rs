//! SDP parse -> write -> parse round trip.
//!
//! For any input: parsing may fail (with a `line N: ...` error) but must not
//! panic. When it succeeds, writing the description and parsing the text
//! again must give an equal description, writing that must give the same
//! text, and every ICE candidate in it must survive
//! `candidate:{c}` -> `Candidate::parse`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_sdp::{Attribute, Candidate, Line, SessionDescription};

fuzz_target!(|data: &[u8]| {
    let d1 = match SessionDescription::parse_bytes(data) {
        Ok(d) => d,
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with("line ") && msg.len() > "line ".len(),
                "ParseError Display must be non-empty and start with \"line \": {msg:?} ({e:?})"
            );
            return;
        }
    };

    let s1 = d1.to_sdp();
    let d2 = match SessionDescription::parse(&s1) {
        Ok(d) => d,
        Err(e) => panic!(
            "written description does not parse again: {e}\n--- input ---\n{:?}\n--- written ---\n{s1:?}\n--- parsed ---\n{d1:#?}",
            String::from_utf8_lossy(data)
        ),
    };
    assert!(
        d2 == d1,
        "description changed across write -> parse\n--- input ---\n{:?}\n--- written ---\n{s1:?}\n--- first parse ---\n{d1:#?}\n--- second parse ---\n{d2:#?}",
        String::from_utf8_lossy(data)
    );
    let s2 = d2.to_sdp();
    assert!(
        s2 == s1,
        "writing is not idempotent\n--- input ---\n{:?}\n--- first write ---\n{s1:?}\n--- second write ---\n{s2:?}",
        String::from_utf8_lossy(data)
    );

    // Every candidate, session level and media level, in its browser form.
    let session = d1.lines.iter();
    let media = d1.media.iter().flat_map(|m| m.lines.iter());
    for line in session.chain(media) {
        let Line::Attribute(Attribute::Candidate(c)) = line else { continue };
        let c: &Candidate<'_> = c;
        let text = format!("candidate:{c}");
        match Candidate::parse(&text) {
            Ok(back) => assert!(
                back == *c,
                "candidate changed across write -> parse\n--- written ---\n{text:?}\n--- original ---\n{c:#?}\n--- reparsed ---\n{back:#?}"
            ),
            Err(e) => panic!("written candidate does not parse again: {e}\n--- written ---\n{text:?}\n--- original ---\n{c:#?}"),
        }
    }
    // `candidates()` must agree with the media-level lines walked above.
    let via_api = d1.candidates().count();
    let walked = d1
        .media
        .iter()
        .flat_map(|m| m.lines.iter())
        .filter(|l| matches!(l, Line::Attribute(Attribute::Candidate(_))))
        .count();
    assert_eq!(via_api, walked, "SessionDescription::candidates() misses media-level candidates");
});
