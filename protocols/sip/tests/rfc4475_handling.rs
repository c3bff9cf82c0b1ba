//! Every RFC 4475 message gets the handling that
//! ../shared/fixtures/sip/rfc4475/README.md gives (response code or drop),
//! from the stateless UAS layer (`uas::screen`). The same table is run over
//! UDP and TCP against the binary by the integration tests of issue #4.

use switchboard_sip::uas::{Verdict, response_bytes, screen};
use switchboard_sip::{Message, StartLine};

/// Expected handling: the acceptable codes, or empty for "drop".
/// "processed" rows accept any answer but 400 (the message is valid).
const TABLE: &[(&str, &[u16])] = &[
    ("wsinv.dat", &[404]),
    ("intmeth.dat", &[501]),
    ("esc01.dat", &[404]),
    ("escnull.dat", &[401]),
    ("esc02.dat", &[501]),
    ("lwsdisp.dat", &[200]),
    ("longreq.dat", &[404]),
    ("dblreq.dat", &[401]),
    ("semiuri.dat", &[200]),
    ("transports.dat", &[200]),
    ("mpart01.dat", &[200, 404, 405]),
    ("unreason.dat", &[]),
    ("noreason.dat", &[]),
    ("badinv01.dat", &[400]),
    ("clerr.dat", &[400]),
    ("ncl.dat", &[400]),
    ("scalar02.dat", &[400]),
    ("scalarlg.dat", &[]),
    ("quotbal.dat", &[400]),
    ("ltgtruri.dat", &[400]),
    ("lwsruri.dat", &[400]),
    ("lwsstart.dat", &[400]),
    ("trws.dat", &[400]),
    ("escruri.dat", &[400]),
    ("baddate.dat", &[400, 404]),
    ("regbadct.dat", &[400]),
    ("badaspec.dat", &[400]),
    ("baddn.dat", &[400]),
    ("badvers.dat", &[505]),
    ("mismatch01.dat", &[400]),
    ("mismatch02.dat", &[400, 501]),
    ("bigcode.dat", &[]),
    ("badbranch.dat", &[200]),
    ("insuf.dat", &[400]),
    ("unkscm.dat", &[416]),
    ("novelsc.dat", &[416]),
    ("unksm2.dat", &[401]),
    ("bext01.dat", &[420]),
    ("invut.dat", &[415]),
    ("regaut01.dat", &[401]),
    ("multi01.dat", &[400]),
    ("mcl01.dat", &[400]),
    ("bcast.dat", &[]),
    ("zeromf.dat", &[200]),
    ("cparam01.dat", &[401]),
    ("cparam02.dat", &[401]),
    ("regescrt.dat", &[400, 403]),
    ("sdp01.dat", &[406]),
    ("inv2543.dat", &[404]),
];

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
    for (name, expected) in TABLE {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let verdict = screen(&bytes);
        let got = match &verdict {
            Verdict::Drop => None,
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
