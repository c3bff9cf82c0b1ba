//! The bridge core on its own: routing, trickle to non-trickle, fallback,
//! ring timeout, hangup causes, and that nothing of a call stays.

use std::time::{Duration, Instant};

use switchboard_bridge::{
    Bridge, BridgeConfig, CallEvent, Caller, Dial, DialPlan, HangupCause, LegId, LegKind, Output, Target,
};
use switchboard_sdp::IceCandidateInit;

/// An offer as Chromium makes it before gathering (no candidates).
const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef012345\r\n";
const ANSWER: &str = "v=0\r\no=- 2 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 50000 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 127.0.0.1\r\na=mid:0\r\na=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\r\n";
const HOST: &str = "candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host";

fn bridge() -> (Bridge, Instant) {
    let plan = DialPlan::new(Vec::new(), Some("gw.example".into())).unwrap();
    (Bridge::new(BridgeConfig { dial_plan: plan, ..BridgeConfig::default() }), Instant::now())
}

fn drain(b: &mut Bridge) -> Vec<Output> {
    std::iter::from_fn(|| b.poll_output()).collect()
}

fn sip_caller() -> Caller {
    Caller {
        kind: LegKind::Sip,
        address: "sip:carol@192.0.2.4:5062".into(),
        name: Some("Carol".into()),
        local_name: None,
    }
}

fn xmpp_caller() -> Caller {
    Caller {
        kind: LegKind::Xmpp,
        address: "xmpp:alice@example.org/phone".into(),
        name: None,
        local_name: None,
    }
}

fn cand(line: &str) -> CallEvent {
    CallEvent::Candidate(Some(IceCandidateInit {
        candidate: line.into(),
        sdp_mid: Some("0".into()),
        sdp_m_line_index: None,
        username_fragment: None,
    }))
}

fn hangup(cause: HangupCause) -> CallEvent {
    CallEvent::Hangup { cause, sip_code: None, text: None }
}

fn only_dial(out: Vec<Output>) -> Dial {
    match &out[..] {
        [Output::Dial(d)] => d.clone(),
        other => panic!("expected one dial, got {other:?}"),
    }
}

#[test]
fn sip_to_xmpp_by_escaped_user_answer_and_bye() {
    let (mut b, now) = bridge();
    let sip = LegId(1);
    b.incoming(sip, sip_caller(), "sip:bob%40example.org@gw.example", Some(ANSWER.into()), false, now);
    let dial = only_dial(drain(&mut b));
    assert_eq!(dial.target, Target::Xmpp("bob@example.org".into()));
    assert_eq!(dial.caller.xmpp_local(), "carol\\40192.0.2.4\\3a5062", "XEP-0106 escaped, to call back");
    assert_eq!(dial.sdp.as_deref(), Some(ANSWER), "a complete SDP goes at once");
    let xmpp = dial.leg;
    assert!(xmpp.0 >= Bridge::FIRST_DIALLED_LEG);
    b.handle_event(xmpp, CallEvent::Ringing, now);
    // Jingle's answer trickles: the SIP side gets it with the candidates merged in.
    b.handle_event(xmpp, CallEvent::Answer { sdp: OFFER.into(), early: false }, now);
    assert_eq!(drain(&mut b), [Output::Event { leg: sip, kind: LegKind::Sip, event: CallEvent::Ringing }]);
    b.handle_event(xmpp, cand(HOST), now + Duration::from_millis(50));
    b.handle_event(xmpp, CallEvent::Candidate(None), now + Duration::from_millis(60));
    let out = drain(&mut b);
    let [Output::Event { leg, event: CallEvent::Answer { sdp, early: false }, .. }] = &out[..] else {
        panic!("{out:?}")
    };
    assert_eq!(*leg, sip);
    assert!(
        sdp.contains(&format!("a={HOST}\r\n"))
            && sdp.contains("m=audio 40000 ")
            && sdp.contains("a=end-of-candidates")
    );
    assert_eq!(b.active_calls(now)[0].state, "answered");
    // BYE from SIP: the XMPP leg is told, one record, nothing left.
    b.handle_event(sip, hangup(HangupCause::Normal), now + Duration::from_secs(3));
    let out = drain(&mut b);
    assert_eq!(out[0], Output::Event { leg: xmpp, kind: LegKind::Xmpp, event: hangup(HangupCause::Normal) });
    let Output::Ended(rec) = &out[1] else { panic!("{out:?}") };
    assert_eq!((rec.pair.as_str(), rec.outcome, rec.ended_by), ("sip-xmpp", "answered", "caller"));
    assert_eq!(rec.callee.address, "xmpp:bob@example.org");
    assert_eq!((b.call_count(), b.poll_timeout(), b.has_leg(sip), b.has_leg(xmpp)), (0, None, false, false));
}

#[test]
fn xmpp_offer_waits_for_candidates_before_dialling_sip() {
    let (mut b, now) = bridge();
    let x = LegId(7);
    b.incoming(x, xmpp_caller(), "xmpp:+15551234\\40192.0.2.9@gw.example", Some(OFFER.into()), true, now);
    assert_eq!(drain(&mut b), [], "no candidate yet: the dial waits");
    assert_eq!(b.poll_timeout(), Some(now + Duration::from_secs(2)));
    b.handle_event(x, cand(HOST), now + Duration::from_millis(100));
    b.handle_timeout(now + Duration::from_millis(200));
    assert_eq!(drain(&mut b), [], "settling");
    assert_eq!(b.poll_timeout(), Some(now + Duration::from_millis(400)));
    b.handle_timeout(now + Duration::from_millis(400));
    let dial = only_dial(drain(&mut b));
    assert_eq!(dial.target, Target::Sip("sip:+15551234@192.0.2.9".into()));
    assert_eq!(dial.caller.sip_user(), "alice%40example.org", "the caller can be called back");
    assert!(dial.sdp.unwrap().contains(HOST));
    // Later candidates have nowhere to go (SIP does not trickle): dropped.
    b.handle_event(x, cand("candidate:2 1 udp 1 192.0.2.1 9 typ host"), now + Duration::from_secs(1));
    assert_eq!(drain(&mut b), []);
    // A SIP error before the answer: the XMPP caller hears the mapped cause.
    b.handle_event(
        dial.leg,
        CallEvent::Hangup { cause: HangupCause::Busy, sip_code: Some(486), text: Some("Busy Here".into()) },
        now,
    );
    let out = drain(&mut b);
    assert_eq!(
        out[0],
        Output::Event {
            leg: x,
            kind: LegKind::Xmpp,
            event: CallEvent::Hangup {
                cause: HangupCause::Busy,
                sip_code: Some(486),
                text: Some("Busy Here".into())
            }
        }
    );
    assert!(matches!(&out[1], Output::Ended(r) if r.outcome == "busy" && r.ended_by == "callee"));
}

#[test]
fn gathering_gives_up_at_the_deadline_and_end_of_candidates_is_at_once() {
    let (mut b, now) = bridge();
    b.incoming(LegId(1), xmpp_caller(), "xmpp:x\\40192.0.2.9@gw.example", Some(OFFER.into()), true, now);
    b.handle_timeout(now + Duration::from_millis(1999));
    assert_eq!(drain(&mut b), []);
    b.handle_timeout(now + Duration::from_secs(2));
    assert!(only_dial(drain(&mut b)).sdp.unwrap().contains("a=end-of-candidates"));
    b.incoming(LegId(2), xmpp_caller(), "xmpp:x\\40192.0.2.9@gw.example", Some(OFFER.into()), true, now);
    b.handle_event(LegId(2), CallEvent::Candidate(None), now);
    only_dial(drain(&mut b));
}

#[test]
fn names_try_the_browser_then_the_phone_and_replay_candidates() {
    let (mut b, now) = bridge();
    let x = LegId(3);
    b.incoming(x, xmpp_caller(), "xmpp:carol@gw.example", Some(OFFER.into()), true, now);
    let first = only_dial(drain(&mut b));
    assert_eq!((first.target.clone(), first.caller_trickles), (Target::Browser("carol".into()), true));
    b.handle_event(x, cand(HOST), now);
    assert_eq!(
        drain(&mut b),
        [Output::Event { leg: first.leg, kind: LegKind::Browser, event: cand(HOST) }],
        "a browser answering an XMPP caller trickles"
    );
    // No browser holds the name: the SIP phone registered under it, with the candidate merged in.
    b.handle_event(first.leg, hangup(HangupCause::NotFound), now);
    assert_eq!(drain(&mut b), [], "the phone's dial settles first");
    b.handle_timeout(now + Duration::from_millis(300));
    let second = only_dial(drain(&mut b));
    assert_eq!(second.target, Target::Phone("carol".into()));
    assert!(second.sdp.unwrap().contains(HOST));
    // Not registered either: the caller hears that cause.
    b.handle_event(
        second.leg,
        CallEvent::Hangup { cause: HangupCause::Unavailable, sip_code: Some(480), text: None },
        now,
    );
    let out = drain(&mut b);
    assert_eq!(
        out[0],
        Output::Event {
            leg: x,
            kind: LegKind::Xmpp,
            event: CallEvent::Hangup { cause: HangupCause::Unavailable, sip_code: Some(480), text: None }
        }
    );
    assert_eq!(b.call_count(), 0);
}

#[test]
fn ring_timeout_ends_both_legs_with_no_answer() {
    let (mut b, now) = bridge();
    b.incoming(LegId(1), sip_caller(), "sip:bob%40example.org@gw", Some(ANSWER.into()), false, now);
    let dial = only_dial(drain(&mut b));
    b.handle_event(dial.leg, CallEvent::Ringing, now);
    drain(&mut b);
    assert_eq!(b.poll_timeout(), Some(now + Duration::from_secs(60)));
    b.handle_timeout(now + Duration::from_secs(60));
    let out = drain(&mut b);
    let no_answer = hangup(HangupCause::NoAnswer);
    assert_eq!(out[0], Output::Event { leg: LegId(1), kind: LegKind::Sip, event: no_answer.clone() });
    assert_eq!(out[1], Output::Event { leg: dial.leg, kind: LegKind::Xmpp, event: no_answer });
    assert!(matches!(&out[2], Output::Ended(r) if r.outcome == "timeout" && r.ended_by == "bridge"));
    assert_eq!((b.call_count(), b.poll_timeout()), (0, None));
}

#[test]
fn a_caller_hanging_up_before_the_answer_cancels() {
    let (mut b, now) = bridge();
    b.incoming(LegId(1), sip_caller(), "sip:bob%40example.org@gw", Some(ANSWER.into()), false, now);
    let dial = only_dial(drain(&mut b));
    b.handle_event(LegId(1), hangup(HangupCause::Normal), now);
    let out = drain(&mut b);
    assert_eq!(
        out[0],
        Output::Event { leg: dial.leg, kind: LegKind::Xmpp, event: hangup(HangupCause::Cancel) }
    );
    assert!(matches!(&out[1], Output::Ended(r) if r.outcome == "cancel"));
}

#[test]
fn late_offers_reach_browsers_only() {
    let (mut b, now) = bridge();
    b.incoming(LegId(1), sip_caller(), "sip:bob%40example.org@gw", None, false, now);
    let out = drain(&mut b);
    assert_eq!(
        out[0],
        Output::Event { leg: LegId(1), kind: LegKind::Sip, event: hangup(HangupCause::Incompatible) }
    );
    b.incoming(LegId(2), sip_caller(), "sip:alice@gw", None, false, now);
    let dial = only_dial(drain(&mut b));
    assert_eq!((dial.target, dial.sdp), (Target::Browser("alice".into()), None));
    // The browser's offer answers the call.
    b.handle_event(dial.leg, CallEvent::Offer { sdp: OFFER.into() }, now);
    assert_eq!(
        drain(&mut b),
        [Output::Event { leg: LegId(2), kind: LegKind::Sip, event: CallEvent::Offer { sdp: OFFER.into() } }]
    );
    assert_eq!(b.active_calls(now)[0].state, "answered");
}

#[test]
fn no_route_refuses_at_once_and_unknown_legs_are_ignored() {
    let (mut b, now) = bridge();
    b.incoming(LegId(1), sip_caller(), "sip:gw.example", Some(ANSWER.into()), false, now);
    let out = drain(&mut b);
    assert_eq!(
        out[0],
        Output::Event { leg: LegId(1), kind: LegKind::Sip, event: hangup(HangupCause::NotFound) }
    );
    assert!(matches!(&out[1], Output::Ended(r) if r.reason == "not-found" && r.pair == "none-sip"));
    b.handle_event(LegId(99), CallEvent::Ringing, now);
    b.handle_event(LegId(1), hangup(HangupCause::Normal), now);
    assert_eq!(drain(&mut b), []);
}

#[test]
fn early_answers_pass_and_do_not_stop_the_ring_timer() {
    let (mut b, now) = bridge();
    let caller = Caller {
        kind: LegKind::Browser,
        address: "peer-1".into(),
        name: Some("web".into()),
        local_name: Some("web".into()),
    };
    b.incoming(LegId(1), caller, "sip:bob@192.0.2.1", Some(ANSWER.into()), false, now);
    let dial = only_dial(drain(&mut b));
    assert_eq!(dial.caller.sip_user(), "web");
    b.handle_event(dial.leg, CallEvent::Answer { sdp: ANSWER.into(), early: true }, now);
    assert_eq!(
        drain(&mut b),
        [Output::Event {
            leg: LegId(1),
            kind: LegKind::Browser,
            event: CallEvent::Answer { sdp: ANSWER.into(), early: true }
        }]
    );
    assert_eq!(b.active_calls(now)[0].state, "ringing");
    assert!(b.call_has_browser(switchboard_bridge::CallId(1)));
}

#[test]
fn a_refused_offer_goes_back_to_the_leg_that_made_it() {
    let (mut b, now) = bridge();
    b.incoming(LegId(1), sip_caller(), "sip:bob%40example.org@gw", Some(ANSWER.into()), false, now);
    let dial = only_dial(drain(&mut b));
    b.handle_event(dial.leg, CallEvent::Answer { sdp: ANSWER.into(), early: false }, now);
    drain(&mut b);
    b.handle_event(LegId(1), CallEvent::Offer { sdp: ANSWER.into() }, now);
    drain(&mut b);
    b.handle_event(dial.leg, CallEvent::OfferRefused { text: "no".into() }, now);
    assert_eq!(
        drain(&mut b),
        [Output::Event {
            leg: LegId(1),
            kind: LegKind::Sip,
            event: CallEvent::OfferRefused { text: "no".into() }
        }]
    );
    assert_eq!(b.call_count(), 1);
}

const PLAIN: &str =
    "v=0\r\no=- 3 1 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

#[test]
fn plain_rtp_to_a_webrtc_leg_is_marked_for_refusal_without_a_relay() {
    let (mut b, now) = bridge();
    b.incoming(LegId(1), sip_caller(), "sip:bob%40example.org@gw", Some(PLAIN.into()), false, now);
    let dial = only_dial(drain(&mut b));
    let m = dial.mismatch.expect("plain RTP cannot reach a Jingle client as it is");
    assert_eq!(
        (m.offered, m.needed),
        (switchboard_bridge::media::Profile::PlainRtp, switchboard_bridge::media::Profile::WebRtc)
    );
    // The adapter refuses it; with no other target the caller hears incompatible.
    let refused =
        CallEvent::Hangup { cause: HangupCause::Incompatible, sip_code: None, text: Some(m.to_string()) };
    b.handle_event(dial.leg, refused, now);
    let out = drain(&mut b);
    assert!(matches!(
        &out[0],
        Output::Event {
            leg: LegId(1),
            event: CallEvent::Hangup { cause: HangupCause::Incompatible, .. },
            ..
        }
    ));
    // A name: the browser refuses for media, the SIP phone after it is not registered: incompatible still wins.
    b.incoming(LegId(2), sip_caller(), "sip:alice@gw", Some(PLAIN.into()), false, now);
    let first = only_dial(drain(&mut b));
    assert!(first.mismatch.is_some());
    b.handle_event(
        first.leg,
        CallEvent::Hangup { cause: HangupCause::Incompatible, sip_code: None, text: None },
        now,
    );
    let second = only_dial(drain(&mut b));
    assert_eq!((second.target, second.mismatch), (Target::Phone("alice".into()), None));
    b.handle_event(
        second.leg,
        CallEvent::Hangup { cause: HangupCause::Unavailable, sip_code: Some(480), text: None },
        now,
    );
    let out = drain(&mut b);
    assert!(
        matches!(
            &out[0],
            Output::Event {
                leg: LegId(2),
                event: CallEvent::Hangup { cause: HangupCause::Incompatible, .. },
                ..
            }
        ),
        "{out:?}"
    );
}

#[test]
fn a_plain_answer_to_a_webrtc_offer_ends_the_call_instead_of_connecting_it_silent() {
    let (mut b, now) = bridge();
    let caller = Caller { kind: LegKind::Browser, address: "p".into(), name: None, local_name: None };
    b.incoming(LegId(1), caller, "sip:bob@192.0.2.1", Some(ANSWER.into()), false, now);
    let dial = only_dial(drain(&mut b));
    assert_eq!(dial.mismatch, None, "a SIP phone may speak WebRTC");
    b.handle_event(dial.leg, CallEvent::Answer { sdp: PLAIN.into(), early: false }, now);
    let out = drain(&mut b);
    let hangups: Vec<LegId> = out
        .iter()
        .filter_map(|o| match o {
            Output::Event {
                leg,
                event: CallEvent::Hangup { cause: HangupCause::Incompatible, text: Some(t), .. },
                ..
            } if t.contains("rtpengine") => Some(*leg),
            _ => None,
        })
        .collect();
    assert_eq!(hangups, [LegId(1), dial.leg], "both legs end: {out:?}");
    assert_eq!(b.call_count(), 0);
}

#[test]
fn anchored_call_goes_through_the_relay_both_ways_and_is_deleted_at_the_end() {
    use switchboard_bridge::media::Profile;
    use switchboard_bridge::{RelayOp, RelayRequest};
    let plan = DialPlan::new(Vec::new(), Some("gw.example".into())).unwrap();
    let mut b = Bridge::new(BridgeConfig { dial_plan: plan, relay: true, ..BridgeConfig::default() });
    let now = Instant::now();
    b.incoming(LegId(1), sip_caller(), "sip:alice@gw", Some(PLAIN.into()), false, now);
    let out = drain(&mut b);
    let [
        Output::Relay(RelayRequest {
            id,
            op: RelayOp::Offer { sdp, from_tag: "caller", towards: Profile::WebRtc },
            ..
        }),
    ] = &out[..]
    else {
        panic!("{out:?}")
    };
    assert_eq!(sdp, PLAIN);
    b.handle_relay_reply(*id, Ok(ANSWER.into()), now);
    let dial = only_dial(drain(&mut b));
    assert_eq!((dial.target.clone(), dial.sdp.as_deref()), (Target::Browser("alice".into()), Some(ANSWER)));
    b.handle_event(dial.leg, CallEvent::Answer { sdp: OFFER.into(), early: false }, now);
    let out = drain(&mut b);
    let [
        Output::Relay(RelayRequest {
            id,
            op: RelayOp::Answer { from_tag: "caller", to_tag: "callee", towards: Profile::PlainRtp, .. },
            ..
        }),
    ] = &out[..]
    else {
        panic!("{out:?}")
    };
    b.handle_relay_reply(*id, Ok(PLAIN.into()), now);
    assert_eq!(
        drain(&mut b),
        [Output::Event {
            leg: LegId(1),
            kind: LegKind::Sip,
            event: CallEvent::Answer { sdp: PLAIN.into(), early: false }
        }]
    );
    b.handle_event(LegId(1), hangup(HangupCause::Normal), now);
    let out = drain(&mut b);
    assert!(
        out.iter().any(|o| matches!(o, Output::Relay(RelayRequest { op: RelayOp::Delete, .. }))),
        "{out:?}"
    );
    assert_eq!(b.call_count(), 0);
}

#[test]
fn with_the_relay_down_an_anchored_call_is_refused_unavailable() {
    let plan = DialPlan::new(Vec::new(), Some("gw.example".into())).unwrap();
    let mut b = Bridge::new(BridgeConfig { dial_plan: plan, relay: true, ..BridgeConfig::default() });
    b.set_relay_up(false);
    let now = Instant::now();
    b.incoming(LegId(1), sip_caller(), "sip:bob%40example.org@gw", Some(PLAIN.into()), false, now);
    let out = drain(&mut b);
    assert!(
        matches!(&out[0], Output::Event { event: CallEvent::Hangup { cause: HangupCause::Unavailable, text: Some(t), .. }, .. } if t.contains("rtpengine")),
        "{out:?}"
    );
    // A relay that fails a request: the target fails the same way.
    b.set_relay_up(true);
    b.incoming(LegId(2), sip_caller(), "sip:bob%40example.org@gw", Some(PLAIN.into()), false, now);
    let Some(Output::Relay(r)) = drain(&mut b).into_iter().next() else { panic!() };
    b.handle_relay_reply(r.id, Err("timeout".into()), now);
    let out = drain(&mut b);
    assert!(
        out.iter().any(|o| matches!(
            o,
            Output::Event {
                leg: LegId(2),
                event: CallEvent::Hangup { cause: HangupCause::Unavailable, .. },
                ..
            }
        )),
        "{out:?}"
    );
    assert_eq!(b.call_count(), 0);
}
