//! Drives `switchboard_bridge::Bridge` with an arbitrary script of calls and
//! leg events (targets, SDPs, candidates, hangups, time passing), and checks
//! what BRIDGE.md promises whatever the order:
//! * no panic;
//! * every output names a leg the bridge knows, or ends a call;
//! * once every leg has hung up (or the ring timeout has passed), no call,
//!   leg or timer is left.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use switchboard_bridge::{Bridge, BridgeConfig, CallEvent, Caller, DialPlan, HangupCause, LegId, LegKind, Output};
use switchboard_sdp::IceCandidateInit;

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n";
const TARGETS: [&str; 10] = [
    "sip:bob%40example.org@gw",
    "xmpp:alice\\40192.0.2.1@gw.example",
    "xmpp:carol@gw.example",
    "sip:carol@gw",
    "carol",
    "xmpp:dave@example.org",
    "sip:192.0.2.1",
    "",
    "sip:%40@x",
    "xmpp:\\40@gw.example",
];
const CAUSES: [HangupCause; 5] =
    [HangupCause::Normal, HangupCause::NotFound, HangupCause::Unavailable, HangupCause::Busy, HangupCause::Incompatible];

fuzz_target!(|data: &[u8]| {
    let plan = DialPlan::new(Vec::new(), Some("gw.example".into())).expect("no rules");
    let mut b = Bridge::new(BridgeConfig { dial_plan: plan, ..BridgeConfig::default() });
    let start = Instant::now();
    let mut now = start;
    // Legs the bridge may still talk to: the callers we created and the legs it dialled.
    let mut legs: Vec<LegId> = Vec::new();
    let mut next = 1u64;
    let mut bytes = data.iter().copied();
    while let Some(op) = bytes.next() {
        let arg = bytes.next().unwrap_or(0);
        let pick = |v: &Vec<LegId>| (!v.is_empty()).then(|| v[arg as usize % v.len()]);
        match op % 8 {
            0 => {
                let kind = [LegKind::Browser, LegKind::Sip, LegKind::Xmpp][arg as usize % 3];
                let caller = Caller { kind, address: "sip:x@192.0.2.2".into(), name: None, local_name: None };
                let sdp = (arg & 0x40 == 0).then(|| SDP.to_owned());
                let leg = LegId(next);
                next += 1;
                legs.push(leg);
                b.incoming(leg, caller, TARGETS[(arg as usize / 3) % TARGETS.len()], sdp, arg & 0x80 != 0, now);
            }
            1 => {
                if let Some(l) = pick(&legs) {
                    b.handle_event(l, CallEvent::Ringing, now);
                }
            }
            2 => {
                if let Some(l) = pick(&legs) {
                    b.handle_event(l, CallEvent::Answer { sdp: SDP.into(), early: arg & 1 == 1 }, now);
                }
            }
            3 => {
                if let Some(l) = pick(&legs) {
                    let c = (arg & 1 == 0).then(|| IceCandidateInit {
                        candidate: "candidate:1 1 udp 1 192.0.2.3 4000 typ host".into(),
                        sdp_mid: Some("0".into()),
                        sdp_m_line_index: None,
                        username_fragment: None,
                    });
                    b.handle_event(l, CallEvent::Candidate(c), now);
                }
            }
            4 => {
                if let Some(l) = pick(&legs) {
                    let cause = CAUSES[arg as usize % CAUSES.len()];
                    b.handle_event(l, CallEvent::Hangup { cause, sip_code: None, text: None }, now);
                }
            }
            5 => {
                if let Some(l) = pick(&legs) {
                    b.handle_event(l, CallEvent::Offer { sdp: SDP.into() }, now);
                }
            }
            6 => {
                if let Some(l) = pick(&legs) {
                    b.handle_event(l, CallEvent::Dtmf { digit: '5', duration_ms: 100 }, now);
                }
            }
            _ => {
                now += Duration::from_millis(u64::from(arg) * 50);
                b.handle_timeout(now);
            }
        }
        while let Some(o) = b.poll_output() {
            match o {
                Output::Dial(d) => {
                    assert!(b.has_leg(d.leg), "a dial for a leg the bridge forgot");
                    legs.push(d.leg);
                }
                Output::Event { leg, .. } => assert!(legs.contains(&leg), "an event for a leg never seen"),
                Output::Ended(_) => {}
                _ => {}
            }
        }
        legs.retain(|l| b.has_leg(*l));
    }
    // Every call ends at the latest at its ring timeout, or when a leg hangs up.
    for l in legs.clone() {
        b.handle_event(l, CallEvent::Hangup { cause: HangupCause::Normal, sip_code: None, text: None }, now);
    }
    b.handle_timeout(now + Duration::from_secs(3600));
    while b.poll_output().is_some() {}
    assert_eq!(b.call_count(), 0, "a call outlived its legs");
    assert_eq!(b.poll_timeout(), None, "a timer outlived its call");
    assert!(legs.iter().all(|l| !b.has_leg(*l)));
});
