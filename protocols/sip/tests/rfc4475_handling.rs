//! Every RFC 4475 message gets the handling that
//! ../shared/fixtures/sip/rfc4475/README.md gives (response code or drop),
//! from the stateless UAS layer (`uas::screen`). The same table is run over
//! UDP and TCP against the binary by the integration tests of issue #4.

use switchboard_sip::uas::{Uas, Verdict, response_bytes, screen};
use switchboard_sip::{Message, StartLine};

include!("rfc4475_table.in");

#[test]
fn every_rfc4475_message_gets_the_expected_handling() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/sip/rfc4475");
    if !dir.is_dir() {
        assert!(std::env::var_os("CI").is_none(), "{} is absent", dir.display());
        eprintln!("SKIPPED: {} is absent: RFC 4475 handling not checked", dir.display());
        return;
    }
    assert_eq!(TABLE.len(), 49);
    let mut wrong = Vec::new();
    let mut uas = Uas::new("switchboard", b"test", []);
    for (name, expected) in TABLE {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let verdict = uas.handle(&bytes, 1_000_000);
        let got = match &verdict {
            Verdict::Drop | Verdict::Register => None,
            Verdict::Respond { code, .. } => Some(*code),
        };
        let ok = match got {
            None => expected.is_empty(),
            Some(code) => expected.contains(&code),
        };
        if !ok {
            wrong.push(format!("{name}: expected {expected:?}, got {verdict:?}"));
            continue;
        }
        if let Some(response) = response_bytes(&bytes, &verdict, "sbtag") {
            // The response is itself a valid SIP response carrying the request's Call-ID and CSeq.
            let r =
                Message::parse_datagram(&response).unwrap_or_else(|e| panic!("{name}: our response: {e}"));
            assert!(matches!(r.start, StartLine::Response { .. }), "{name}");
            if let Ok(m) = Message::parse_datagram(&bytes)
                && let (Ok(a), Ok(b)) = (m.call_id(), r.call_id())
            {
                assert_eq!(a, b, "{name}");
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn extension_and_content_answers_carry_their_headers() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/sip/rfc4475");
    let Ok(bext) = std::fs::read(dir.join("bext01.dat")) else { return };
    let Verdict::Respond { headers, .. } = screen(&bext) else { panic!() };
    assert_eq!(headers, [("Unsupported", "nothingSupportsThis, nothingSupportsThisEither".to_owned())]);
    let invut = std::fs::read(dir.join("invut.dat")).unwrap();
    let Verdict::Respond { headers, .. } = screen(&invut) else { panic!() };
    assert_eq!(headers, [("Accept", "application/sdp".to_owned())]);
}
