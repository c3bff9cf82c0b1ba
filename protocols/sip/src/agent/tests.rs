//! The agent against hand-written peer messages (RFC 3261 §24 style flows).

use std::time::{Duration, Instant};

use super::*;
use crate::flow::Transport;

const SDP: &str =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

fn flow() -> Flow {
    Flow {
        transport: Transport::Udp,
        remote: "127.0.0.1:5062".parse().unwrap(),
        local: "127.0.0.1:5060".parse().unwrap(),
        conn: None,
    }
}

fn agent() -> Agent {
    let uas = Uas::new("sb", b"k", [("bob".to_owned(), "pw".to_owned())]);
    let config = AgentConfig {
        credentials: vec![Credential { host: None, user: "trunk".into(), password: "tpw".into() }],
        ..AgentConfig::default()
    };
    Agent::new(config, uas)
}

fn invite(branch: &str, body: &str) -> Vec<u8> {
    format!(
        "INVITE sip:alice@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch={branch}\r\nFrom: \"Carol\" <sip:carol@127.0.0.1:5062>;tag=c1\r\nTo: <sip:alice@127.0.0.1:5060>\r\nCall-ID: call-1\r\nCSeq: 1 INVITE\r\nContact: <sip:carol@127.0.0.1:5062>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn sent(a: &mut Agent) -> Vec<String> {
    std::iter::from_fn(|| a.poll_transmit()).map(|t| String::from_utf8(t.bytes).unwrap()).collect()
}

fn first_line(s: &str) -> &str {
    s.split("\r\n").next().unwrap()
}

fn header<'a>(msg: &'a str, name: &str) -> &'a str {
    msg.split("\r\n").find_map(|l| l.strip_prefix(&format!("{name}: "))).unwrap()
}

#[test]
fn incoming_call_rings_answers_and_retransmits_200_until_ack() {
    let mut a = agent();
    let now = Instant::now();
    a.handle_message(flow(), &invite("z9hG4bK1", SDP), now, 1000);
    assert_eq!(sent(&mut a).iter().map(|s| first_line(s)).collect::<Vec<_>>(), ["SIP/2.0 100 Trying"]);
    let Some(Event::Incoming { call, from, from_name, user, sdp, .. }) = a.poll_event() else { panic!() };
    assert_eq!(
        (from.as_str(), from_name.as_deref(), user.as_str()),
        ("sip:carol@127.0.0.1:5062", Some("Carol"), "alice")
    );
    assert_eq!(sdp.as_deref(), Some(SDP));
    a.ringing(call, now);
    let ringing = sent(&mut a);
    assert_eq!(first_line(&ringing[0]), "SIP/2.0 180 Ringing");
    // Early media: a 183 with the answer, the same To tag.
    a.early(call, SDP, now);
    let progress = sent(&mut a);
    assert_eq!(first_line(&progress[0]), "SIP/2.0 183 Session Progress");
    assert!(progress[0].ends_with(SDP));
    assert_eq!(header(&progress[0], "To"), header(&ringing[0], "To"));
    a.answer(call, SDP, now);
    let ok = sent(&mut a);
    assert_eq!(first_line(&ok[0]), "SIP/2.0 200 OK");
    assert!(ok[0].ends_with(SDP));
    let to = header(&ok[0], "To").to_owned();
    assert_eq!(header(&ringing[0], "To"), to, "one To tag for 180 and 200");
    // Timer G-like retransmission of the 2xx (§13.3.1.4).
    a.handle_timeout(now + Duration::from_millis(500));
    assert_eq!(first_line(&sent(&mut a)[0]), "SIP/2.0 200 OK");
    let ack = format!(
        "ACK sip:switchboard@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK2\r\nFrom: \"Carol\" <sip:carol@127.0.0.1:5062>;tag=c1\r\nTo: {to}\r\nCall-ID: call-1\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    a.handle_message(flow(), ack.as_bytes(), now, 1000);
    a.handle_timeout(now + Duration::from_secs(2));
    assert!(sent(&mut a).is_empty(), "no retransmission after the ACK");
    // DTMF in an INFO (JsSIP's body), and one out.
    let info = format!(
        "INFO sip:switchboard@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK4\r\nFrom: <sip:carol@127.0.0.1:5062>;tag=c1\r\nTo: {to}\r\nCall-ID: call-1\r\nCSeq: 2 INFO\r\nMax-Forwards: 70\r\nContent-Type: application/dtmf-relay\r\nContent-Length: 24\r\n\r\nSignal=#\r\nDuration=160\r\n"
    );
    a.handle_message(flow(), info.as_bytes(), now, 1000);
    assert_eq!(first_line(&sent(&mut a)[0]), "SIP/2.0 200 OK");
    assert_eq!(a.poll_event(), Some(Event::Dtmf { call, digit: '#', duration_ms: 160 }));
    a.dtmf(call, '4', 200, now);
    let out = sent(&mut a);
    assert!(out[0].starts_with("INFO sip:carol@127.0.0.1:5062 SIP/2.0\r\n"), "{}", out[0]);
    assert_eq!(header(&out[0], "Content-Type"), "application/dtmf-relay");
    assert!(out[0].ends_with("\r\n\r\nSignal=4\r\nDuration=200\r\n"));
    // BYE from the caller ends the call.
    let bye = format!(
        "BYE sip:switchboard@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK3\r\nFrom: <sip:carol@127.0.0.1:5062>;tag=c1\r\nTo: {to}\r\nCall-ID: call-1\r\nCSeq: 3 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    a.handle_message(flow(), bye.as_bytes(), now, 1000);
    assert_eq!(first_line(&sent(&mut a)[0]), "SIP/2.0 200 OK");
    assert!(matches!(a.poll_event(), Some(Event::Ended { cause: EndCause { reason: "normal", .. }, .. })));
    assert_eq!(a.stats().calls, 0);
}

#[test]
fn dtmf_info_bodies() {
    use super::parse_dtmf_info;
    assert_eq!(parse_dtmf_info("application/dtmf-relay", b"Signal=5\r\nDuration=160\r\n"), Some(('5', 160)));
    assert_eq!(parse_dtmf_info("Application/DTMF-Relay; x=y", b"signal= *\nduration=100"), Some(('*', 100)));
    assert_eq!(parse_dtmf_info("application/dtmf-relay", b"Signal=11\r\n"), Some(('#', 250)));
    assert_eq!(parse_dtmf_info("application/dtmf", b"a"), Some(('A', 250)));
    assert_eq!(parse_dtmf_info("application/dtmf-relay", b"Signal=E\r\n"), None);
    assert_eq!(parse_dtmf_info("application/dtmf-relay", b"Duration=100\r\n"), None);
    assert_eq!(parse_dtmf_info("text/plain", b"5"), None);
    assert_eq!(
        parse_dtmf_info("application/dtmf-relay", b"Signal=1\r\nDuration=999999\r\n"),
        Some(('1', 6000))
    );
}

#[test]
fn cancel_gets_200_and_the_invite_487() {
    let mut a = agent();
    let now = Instant::now();
    a.handle_message(flow(), &invite("z9hG4bK9", SDP), now, 1000);
    sent(&mut a);
    let Some(Event::Incoming { .. }) = a.poll_event() else { panic!() };
    let cancel = "CANCEL sip:alice@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK9\r\nFrom: \"Carol\" <sip:carol@127.0.0.1:5062>;tag=c1\r\nTo: <sip:alice@127.0.0.1:5060>\r\nCall-ID: call-1\r\nCSeq: 1 CANCEL\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    a.handle_message(flow(), cancel.as_bytes(), now, 1000);
    let out = sent(&mut a);
    assert_eq!(
        out.iter().map(|s| first_line(s)).collect::<Vec<_>>(),
        ["SIP/2.0 200 OK", "SIP/2.0 487 Request Terminated"]
    );
    assert!(matches!(a.poll_event(), Some(Event::Ended { cause: EndCause { reason: "cancel", .. }, .. })));
}

fn response_to(request: &str, code: u16, reason: &str, to_tag: &str, extra: &str, body: &str) -> Vec<u8> {
    let m = Message::parse_datagram(request.as_bytes()).unwrap();
    let mut out = format!("SIP/2.0 {code} {reason}\r\n");
    for v in m.values("Via") {
        out.push_str(&format!("Via: {v}\r\n"));
    }
    out.push_str(&format!(
        "From: {}\r\nTo: {};tag={to_tag}\r\nCall-ID: {}\r\nCSeq: {}\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        m.header("From").unwrap(),
        m.header("To").unwrap(),
        m.call_id().unwrap(),
        m.header("CSeq").unwrap(),
        body.len()
    ));
    out.into_bytes()
}

#[test]
fn outgoing_call_with_digest_ringing_answer_ack_and_bye() {
    let mut a = agent();
    let now = Instant::now();
    let call = a.dial("sip:uas@127.0.0.1:5062", flow(), "alice", Some("Alice"), Some(SDP), now);
    let inv = sent(&mut a).remove(0);
    assert_eq!(first_line(&inv), "INVITE sip:uas@127.0.0.1:5062 SIP/2.0");
    // Timer A retransmits the INVITE over UDP.
    a.handle_timeout(now + Duration::from_millis(500));
    assert_eq!(sent(&mut a), std::slice::from_ref(&inv));
    let challenge = r#"WWW-Authenticate: Digest realm="pbx", nonce="abc", qop="auth", algorithm=MD5
"#
    .replace('\n', "\r\n");
    a.handle_message(flow(), &response_to(&inv, 401, "Unauthorized", "u1", &challenge, ""), now, 0);
    let out = sent(&mut a);
    assert_eq!(first_line(&out[0]), "ACK sip:uas@127.0.0.1:5062 SIP/2.0");
    let inv2 = out[1].clone();
    assert!(header(&inv2, "Authorization").contains(r#"username="trunk""#));
    assert!(header(&inv2, "CSeq").starts_with("2 "));
    a.handle_message(flow(), &response_to(&inv2, 180, "Ringing", "u2", "", ""), now, 0);
    assert_eq!(a.poll_event(), Some(Event::Ringing { call }));
    let contact = "Contact: <sip:uas@127.0.0.1:5062>\r\nContent-Type: application/sdp\r\n";
    a.handle_message(flow(), &response_to(&inv2, 200, "OK", "u2", contact, SDP), now, 0);
    let out = sent(&mut a);
    assert_eq!(first_line(&out[0]), "ACK sip:uas@127.0.0.1:5062 SIP/2.0");
    assert!(header(&out[0], "To").ends_with(";tag=u2"));
    assert_eq!(a.poll_event(), Some(Event::Answer { call, sdp: SDP.into(), early: false }));
    a.hangup(call, "normal", now);
    let out = sent(&mut a);
    assert_eq!(first_line(&out[0]), "BYE sip:uas@127.0.0.1:5062 SIP/2.0");
    assert_eq!(a.stats().calls, 0);
}

#[test]
fn outgoing_call_busy_is_acked_and_ends_busy() {
    let mut a = agent();
    let now = Instant::now();
    let call = a.dial("sip:uas@127.0.0.1:5062", flow(), "alice", None, Some(SDP), now);
    let inv = sent(&mut a).remove(0);
    a.handle_message(flow(), &response_to(&inv, 486, "Busy Here", "u1", "", ""), now, 0);
    assert_eq!(first_line(&sent(&mut a)[0]), "ACK sip:uas@127.0.0.1:5062 SIP/2.0");
    let Some(Event::Ended { call: c, cause }) = a.poll_event() else { panic!() };
    assert_eq!((c, cause.code, cause.reason), (call, Some(486), "busy"));
}

#[test]
fn outgoing_hangup_before_answer_cancels_after_provisional() {
    let mut a = agent();
    let now = Instant::now();
    let call = a.dial("sip:uas@127.0.0.1:5062", flow(), "alice", None, Some(SDP), now);
    let inv = sent(&mut a).remove(0);
    a.hangup(call, "normal", now);
    assert!(sent(&mut a).is_empty(), "no CANCEL before a provisional response (§9.1)");
    a.handle_message(flow(), &response_to(&inv, 180, "Ringing", "u1", "", ""), now, 0);
    let out = sent(&mut a);
    assert_eq!(first_line(&out[0]), "CANCEL sip:uas@127.0.0.1:5062 SIP/2.0");
    a.handle_message(flow(), &response_to(&inv, 487, "Request Terminated", "u1", "", ""), now, 0);
    assert_eq!(first_line(&sent(&mut a)[0]), "ACK sip:uas@127.0.0.1:5062 SIP/2.0");
    assert_eq!(a.poll_event(), None, "the bridge asked for the hangup: no Ended");
    assert_eq!(a.stats().calls, 0);
}

#[test]
fn a_closed_connection_ends_its_calls() {
    let mut a = agent();
    let now = Instant::now();
    let tcp = Flow { transport: Transport::Tcp, conn: Some(7), ..flow() };
    let req = String::from_utf8(invite("z9hG4bK5", SDP)).unwrap().replace("SIP/2.0/UDP", "SIP/2.0/TCP");
    a.handle_message(tcp, req.as_bytes(), now, 1000);
    let Some(Event::Incoming { call, .. }) = a.poll_event() else { panic!() };
    a.answer(call, SDP, now);
    sent(&mut a);
    a.connection_closed(7);
    let Some(Event::Ended { call: ended, cause }) = a.poll_event() else { panic!() };
    assert_eq!((ended, cause.reason), (call, "unavailable"));
    assert_eq!(a.stats().calls, 0);
}

#[test]
fn established_udp_calls_are_checked_with_options_and_a_silent_peer_ends_its_call() {
    let mut a = agent();
    let now = Instant::now();
    a.handle_message(flow(), &invite("z9hG4bK7", SDP), now, 1000);
    let Some(Event::Incoming { call, .. }) = a.poll_event() else { panic!() };
    a.answer(call, SDP, now);
    let ok = sent(&mut a).pop().unwrap();
    let to = header(&ok, "To").to_owned();
    let ack = format!(
        "ACK sip:switchboard@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK8\r\nFrom: <sip:carol@127.0.0.1:5062>;tag=c1\r\nTo: {to}\r\nCall-ID: call-1\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    a.handle_message(flow(), ack.as_bytes(), now, 1000);
    sent(&mut a);
    let every = AgentConfig::default().keepalive.unwrap();
    assert_eq!(a.poll_timeout().map(|t| t <= now + every), Some(true));
    // The first check, answered 200: the call stays.
    a.handle_timeout(now + every);
    let options = sent(&mut a);
    assert_eq!(first_line(&options[0]), "OPTIONS sip:carol@127.0.0.1:5062 SIP/2.0");
    a.handle_message(flow(), &response_to(&options[0], 200, "OK", "c1", "", ""), now + every, 0);
    assert_eq!(a.poll_event(), None);
    // The second goes unanswered (retransmitted meanwhile): at the third, the call ends with a BYE.
    a.handle_timeout(now + every * 2);
    assert!(first_line(&sent(&mut a)[0]).starts_with("OPTIONS "));
    a.handle_timeout(now + every * 3);
    let out = sent(&mut a);
    assert!(out.iter().any(|m| first_line(m).starts_with("BYE ")), "{out:?}");
    let Some(Event::Ended { call: ended, cause }) = a.poll_event() else { panic!() };
    assert_eq!((ended, cause.reason), (call, "unavailable"));
    assert_eq!(a.stats().calls, 0);
}

#[test]
fn an_options_check_answered_481_ends_the_call() {
    let mut a = agent();
    let now = Instant::now();
    let call = a.dial("sip:uas@127.0.0.1:5062", flow(), "alice", None, Some(SDP), now);
    let inv = sent(&mut a).remove(0);
    a.handle_message(
        flow(),
        &response_to(
            &inv,
            200,
            "OK",
            "u1",
            "Contact: <sip:uas@127.0.0.1:5062>\r\nContent-Type: application/sdp\r\n",
            SDP,
        ),
        now,
        0,
    );
    sent(&mut a);
    while a.poll_event().is_some() {}
    let every = AgentConfig::default().keepalive.unwrap();
    a.handle_timeout(now + every);
    let options = sent(&mut a).into_iter().find(|m| first_line(m).starts_with("OPTIONS ")).unwrap();
    a.handle_message(
        flow(),
        &response_to(&options, 481, "Call/Transaction Does Not Exist", "u1", "", ""),
        now + every,
        0,
    );
    let Some(Event::Ended { call: ended, cause }) = a.poll_event() else { panic!() };
    assert_eq!((ended, cause.reason), (call, "unavailable"));
}

#[test]
fn a_new_offer_the_bridge_cannot_take_gets_488_and_the_call_goes_on() {
    let mut a = agent();
    let now = Instant::now();
    a.handle_message(flow(), &invite("z9hG4bK11", SDP), now, 1000);
    let Some(Event::Incoming { call, .. }) = a.poll_event() else { panic!() };
    a.answer(call, SDP, now);
    let ok = sent(&mut a).pop().unwrap();
    let to = header(&ok, "To").to_owned();
    let ack = format!(
        "ACK sip:switchboard@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK12\r\nFrom: <sip:carol@127.0.0.1:5062>;tag=c1\r\nTo: {to}\r\nCall-ID: call-1\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    a.handle_message(flow(), ack.as_bytes(), now, 1000);
    let reinvite = format!(
        "INVITE sip:switchboard@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK13\r\nFrom: <sip:carol@127.0.0.1:5062>;tag=c1\r\nTo: {to}\r\nCall-ID: call-1\r\nCSeq: 2 INVITE\r\nContact: <sip:carol@127.0.0.1:5062>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{SDP}",
        SDP.len()
    );
    a.handle_message(flow(), reinvite.as_bytes(), now, 1000);
    sent(&mut a);
    assert!(matches!(a.poll_event(), Some(Event::Offer { .. })));
    a.refuse_offer(call, now);
    let out = sent(&mut a);
    assert_eq!(first_line(&out[0]), "SIP/2.0 488 Not Acceptable Here");
    assert_eq!(a.poll_event(), None);
    assert_eq!(a.stats().calls, 1, "the call goes on");
}
