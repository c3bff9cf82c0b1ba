//! SIP messages parsed per second (issue #4): switchboard-sip against rsip 0.4
//! and rsipstack 0.7's parser (`rsipstack::rsip`), on the same two messages in
//! the same run:
//!
//! * an INVITE carrying the captured Chromium 156 audio + video + DataChannel
//!   offer (`fixtures/sdp/chromium-156-offer-audio-video-datachannel.sdp`,
//!   5,737 bytes), with the headers a UA sends over UDP;
//! * a REGISTER without a body, where the per-message overhead shows.
//!
//! Both are built here and must equal `fixtures/sip/*.sip` byte for byte
//! (`SIP_EVAL_WRITE_FIXTURES=1 cargo bench` rewrites those files).
//!
//! Per parser: the parse alone, and the parse plus the headers every
//! transaction needs (Via and CSeq typed, Call-ID, From and To), so that
//! parsers that type headers lazily are compared doing the same work. rsip and
//! rsipstack can also type From and To (name-addr with URI and tag), which
//! switchboard-sip does not: that is a separate line. `uas::screen` is the
//! whole RFC 3261 §8.2 check of switchboard-sip (parse, syntax of every
//! header a UAS checks, method, URI scheme, Require, Content-Type).
//!
//! Run with `cd tools/sip-eval && cargo bench`; BENCHMARKS.md has the numbers.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const SDP: &str = "fixtures/sdp/chromium-156-offer-audio-video-datachannel.sdp";
const INVITE_FIXTURE: &str = "fixtures/sip/invite-chromium-156-offer.sip";
const REGISTER_FIXTURE: &str = "fixtures/sip/register-no-body.sip";

/// A path relative to the repository root.
fn repo_path(path: &str) -> String {
    format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))
}

/// An initial INVITE over UDP, as a UA sends it: no To tag (out of dialog, RFC 3261 §8.1.1.2).
fn invite(sdp: &[u8]) -> Vec<u8> {
    let head = format!(
        "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK.e4b1c07a93f2;rport\r\n\
         Max-Forwards: 70\r\n\
         From: \"Alice\" <sip:alice@atlanta.example.com>;tag=a73kszlfl9\r\n\
         To: <sip:bob@biloxi.example.com>\r\n\
         Call-ID: 6f1c2e9d8b7a4c3e@192.0.2.10\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:alice@192.0.2.10:5060;transport=udp>\r\n\
         Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE\r\n\
         Supported: replaces, timer\r\n\
         Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\
         \r\n",
        sdp.len()
    );
    [head.as_bytes(), sdp].concat()
}

/// A REGISTER refresh without a body.
fn register() -> Vec<u8> {
    b"REGISTER sip:atlanta.example.com SIP/2.0\r\n\
      Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK.1d5f8e20b6c4;rport\r\n\
      Max-Forwards: 70\r\n\
      From: <sip:alice@atlanta.example.com>;tag=q8d2mv05sx\r\n\
      To: <sip:alice@atlanta.example.com>\r\n\
      Call-ID: 2b9e4a7c1d0f5e3a@192.0.2.10\r\n\
      CSeq: 2 REGISTER\r\n\
      Contact: <sip:alice@192.0.2.10:5060;transport=udp>;expires=3600\r\n\
      Expires: 3600\r\n\
      Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE\r\n\
      Content-Length: 0\r\n\
      \r\n"
        .to_vec()
}

/// The message must equal its fixture (or rewrite the fixture when asked to).
fn check_fixture(path: &str, bytes: &[u8]) {
    let full = repo_path(path);
    if std::env::var_os("SIP_EVAL_WRITE_FIXTURES").is_some() {
        std::fs::write(&full, bytes).unwrap_or_else(|e| panic!("{full}: {e}"));
    }
    let saved = std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    assert!(saved == bytes, "{full} differs from the message built here");
}

mod ours {
    use std::hint::black_box;
    use switchboard_sip::Message;

    pub fn parse(bytes: &[u8]) -> Message<'_> {
        Message::parse_datagram(bytes).unwrap()
    }

    /// Parse, then Via and CSeq typed, Call-ID, From and To as text (switchboard-sip types no more).
    pub fn parse_typed(bytes: &[u8]) {
        let m = Message::parse_datagram(bytes).unwrap();
        let vias = m.vias().unwrap();
        let cseq = m.cseq().unwrap();
        let call_id = m.call_id().unwrap();
        let from = m.header("From").unwrap();
        let to = m.header("To").unwrap();
        black_box((&vias, cseq, call_id, from, to));
    }

    /// What parse_typed sees, for the check before timing.
    pub fn summary(bytes: &[u8]) -> String {
        let m = Message::parse_datagram(bytes).unwrap();
        let via = &m.vias().unwrap()[0];
        let cseq = m.cseq().unwrap();
        format!(
            "{} {} {:?} params={} branch={} | {} {} | {} | body {}",
            via.transport,
            via.host,
            via.port,
            via.params.len(),
            via.branch().unwrap(),
            cseq.number,
            cseq.method,
            m.call_id().unwrap(),
            m.body.len()
        )
    }
}

/// rsip 0.4 and rsipstack 0.7 (`rsipstack::rsip`) have the same API.
macro_rules! typed_parser {
    ($module:ident, $krate:path) => {
        mod $module {
            use s::prelude::*;
            use std::hint::black_box;
            use $krate as s;

            pub fn parse(bytes: &[u8]) -> s::SipMessage {
                s::SipMessage::try_from(bytes).unwrap()
            }

            /// Parse, then Via and CSeq typed, Call-ID, From and To untyped: the same work as ours.
            pub fn parse_typed(bytes: &[u8]) {
                let m = s::SipMessage::try_from(bytes).unwrap();
                let via = m.via_header().unwrap().typed().unwrap();
                let cseq = m.cseq_header().unwrap().typed().unwrap();
                let call_id = m.call_id_header().unwrap();
                let from = m.from_header().unwrap();
                let to = m.to_header().unwrap();
                black_box((&via, &cseq, call_id, from, to));
            }

            /// As parse_typed, and From and To typed as well (display name, URI, tag).
            pub fn parse_typed_from_to(bytes: &[u8]) {
                let m = s::SipMessage::try_from(bytes).unwrap();
                let via = m.via_header().unwrap().typed().unwrap();
                let cseq = m.cseq_header().unwrap().typed().unwrap();
                let call_id = m.call_id_header().unwrap();
                let from = m.from_header().unwrap().typed().unwrap();
                let to = m.to_header().unwrap().typed().unwrap();
                black_box((&via, &cseq, call_id, &from, &to));
            }

            /// What the typed calls see, for the check before timing.
            pub fn summary(bytes: &[u8]) -> String {
                let m = s::SipMessage::try_from(bytes).unwrap();
                let via = m.via_header().unwrap().typed().unwrap();
                let cseq = m.cseq_header().unwrap().typed().unwrap();
                let from = m.from_header().unwrap().typed().unwrap();
                let to = m.to_header().unwrap().typed().unwrap();
                let body = match &m {
                    s::SipMessage::Request(r) => r.body.len(),
                    s::SipMessage::Response(r) => r.body.len(),
                };
                format!(
                    "{} {} params={} branch={} | {} {} | {} | from {} tag {:?} | to {} | body {}",
                    via.transport,
                    via.uri.host_with_port,
                    via.params.len(),
                    via.branch().map(|b| b.to_string()).unwrap_or_default(),
                    cseq.seq,
                    cseq.method,
                    m.call_id_header().unwrap().value(),
                    from.uri,
                    from.tag().map(|t| t.to_string()),
                    to.uri,
                    body
                )
            }
        }
    };
}

typed_parser!(rsip_0_4, rsip);
typed_parser!(rsipstack_0_7, rsipstack::rsip);

fn parsers(c: &mut Criterion) {
    let sdp = std::fs::read(repo_path(SDP)).unwrap_or_else(|e| panic!("{SDP}: {e}"));
    let inputs = [
        ("invite_chromium_offer", INVITE_FIXTURE, invite(&sdp)),
        ("register_no_body", REGISTER_FIXTURE, register()),
    ];
    for (label, fixture, bytes) in &inputs {
        check_fixture(fixture, bytes);
        let body = if label.starts_with("invite") { sdp.len() } else { 0 };

        // Every parser must accept the message and see the same headers and body,
        // or the comparison is meaningless.
        eprintln!("{label} ({} bytes)", bytes.len());
        let summary = ours::summary(bytes);
        eprintln!("  switchboard-sip: {summary}");
        assert!(summary.ends_with(&format!("body {body}")));
        for (name, summary) in
            [("rsip 0.4", rsip_0_4::summary(bytes)), ("rsipstack 0.7", rsipstack_0_7::summary(bytes))]
        {
            eprintln!("  {name}: {summary}");
            assert!(summary.ends_with(&format!("body {body}")), "{name} cut the body");
            assert!(summary.contains("branch=z9hG4bK."), "{name} lost the branch");
        }
        // The §8.2 screening must pass the message on (no 400, 415, 420...; a lone INVITE gets 404).
        match switchboard_sip::uas::screen(bytes) {
            switchboard_sip::uas::Verdict::Respond { code: 404, .. } if label.starts_with("invite") => {}
            switchboard_sip::uas::Verdict::Register if label.starts_with("register") => {}
            other => panic!("uas::screen refused {label}: {other:?}"),
        }

        let mut group = c.benchmark_group(*label);
        group.throughput(Throughput::Elements(1));
        group.bench_function("switchboard_parse", |b| b.iter(|| ours::parse(black_box(bytes))));
        group.bench_function("switchboard_parse_typed", |b| b.iter(|| ours::parse_typed(black_box(bytes))));
        group.bench_function("switchboard_uas_screen", |b| {
            b.iter(|| switchboard_sip::uas::screen(black_box(bytes)))
        });
        group.bench_function("rsip_0_4_parse", |b| b.iter(|| rsip_0_4::parse(black_box(bytes))));
        group.bench_function("rsip_0_4_parse_typed", |b| b.iter(|| rsip_0_4::parse_typed(black_box(bytes))));
        group.bench_function("rsip_0_4_parse_typed_from_to", |b| {
            b.iter(|| rsip_0_4::parse_typed_from_to(black_box(bytes)))
        });
        group.bench_function("rsipstack_0_7_parse", |b| b.iter(|| rsipstack_0_7::parse(black_box(bytes))));
        group.bench_function("rsipstack_0_7_parse_typed", |b| {
            b.iter(|| rsipstack_0_7::parse_typed(black_box(bytes)))
        });
        group.bench_function("rsipstack_0_7_parse_typed_from_to", |b| {
            b.iter(|| rsipstack_0_7::parse_typed_from_to(black_box(bytes)))
        });
        group.finish();
    }
}

criterion_group!(benches, parsers);
criterion_main!(benches);
