//! The component against hand-written server stanzas: the stream and its
//! handshake, disco, presence, and every call flow of GATEWAY.md.

use std::time::{Duration, Instant};

use super::*;
use crate::xml::Element;

const DOMAIN: &str = "gw.example";
const SERVER_HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' \
    xmlns='jabber:component:accept' from='gw.example' id='3BF96D32'>";
const OFFER: &str = include_str!("../../../../fixtures/sdp/chromium-156-offer-audio-video-datachannel.sdp");
const ANSWER: &str = include_str!("../../../../fixtures/sdp/chromium-156-answer-audio-video-datachannel.sdp");
const AUDIO_OFFER: &str = include_str!("../../../../fixtures/sdp/aiortc-1.16.0-offer-audio-datachannel.sdp");
const JINGLE_OFFER: &str = include_str!(
    "../../../../fixtures/jingle/stanza-12.22.1-session-initiate-chromium-156-audio-video-datachannel.xml"
);

fn config() -> ComponentConfig {
    ComponentConfig {
        domain: DOMAIN.into(),
        secret: "secret".into(),
        resource: "switchboard".into(),
        ring_timeout: Duration::from_secs(60),
    }
}

/// A component whose handshake went through, holding the name `alice`.
fn up() -> (Component, Instant) {
    let now = Instant::now();
    let mut c = Component::new(config());
    c.set_name("alice", true);
    c.connected(now);
    c.handle_input(SERVER_HEADER.as_bytes(), now);
    c.handle_input(b"<handshake/>", now);
    assert_eq!(c.poll_event(), Some(Event::Connected));
    sent(&mut c);
    (c, now)
}

fn feed(c: &mut Component, s: &str, now: Instant) {
    c.handle_input(s.as_bytes(), now);
}

fn sent(c: &mut Component) -> Vec<String> {
    std::iter::from_fn(|| c.poll_transmit()).collect()
}

fn sent_el(c: &mut Component) -> Vec<Element> {
    sent(c).iter().map(|s| el(s)).collect()
}

fn el(s: &str) -> Element {
    Element::parse_in(s, NS_COMPONENT).unwrap_or_else(|e| panic!("{e}: {s}"))
}

/// The events, without `Peer` (checked by `outgoing_jmi_call_names_the_client_that_rang_and_took_it`).
fn events(c: &mut Component) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).filter(|e| !matches!(e, Event::Peer { .. })).collect()
}

fn logs(c: &mut Component) -> Vec<String> {
    std::iter::from_fn(|| c.poll_log()).collect()
}

/// The stanza error condition and Jingle condition of an IQ error.
fn error_of(iq: &Element) -> (String, Option<String>) {
    assert_eq!(iq.attr("type"), Some("error"), "{iq}");
    let e = iq.child("error", NS_COMPONENT).unwrap();
    let cond = e.children_in(crate::ns::STANZAS).find(|c| c.name != "text").unwrap().name.clone();
    let jingle = e.children_in(crate::ns::JINGLE_ERRORS).next().map(|c| c.name.clone());
    (cond, jingle)
}

fn jingle_of(iq: &Element) -> &Element {
    iq.child("jingle", "urn:xmpp:jingle:1").unwrap_or_else(|| panic!("no jingle in {iq}"))
}

// ---- stream ----

#[test]
fn opens_the_stream_and_answers_the_handshake() {
    let now = Instant::now();
    let mut c = Component::new(config());
    assert!(!c.is_connected());
    c.connected(now);
    assert_eq!(
        sent(&mut c),
        [
            "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='gw.example'>"
        ]
    );
    c.handle_input(SERVER_HEADER.as_bytes(), now);
    assert_eq!(sent(&mut c), ["<handshake>b09ea9b3b7f586be8a08d0a3dd7466f110aeb136</handshake>"]);
    assert!(!c.is_connected());
    c.handle_input(b"<handshake/>", now);
    assert_eq!(events(&mut c), [Event::Connected]);
    assert!(c.is_connected());
}

/// A whole server session, cut at every chunk size: the output is the same.
#[test]
fn any_chunking_gives_the_same_result() {
    let script = format!(
        "{SERVER_HEADER}<handshake/>\n <iq type='get' id='p1' from='bob@example/a' to='gw.example'>\
         <ping xmlns='urn:xmpp:ping'/></iq><iq type='get' id='d1' from='bob@example/a' to='alice@gw.example'>\
         <query xmlns='http://jabber.org/protocol/disco#info'/></iq> <presence type='probe' from='bob@example' \
         to='alice@gw.example'/><message from='x@y/z' to='alice@gw.example'><body>&lt;hi&gt; </body></message>"
    );
    let run = |chunk: usize| {
        let now = Instant::now();
        let mut c = Component::new(config());
        c.set_name("alice", true);
        c.connected(now);
        for piece in script.as_bytes().chunks(chunk) {
            c.handle_input(piece, now);
        }
        (sent(&mut c), events(&mut c))
    };
    let whole = run(script.len());
    assert_eq!(whole.0.len(), 5, "{:?}", whole.0); // header, handshake, ping, disco, presence
    assert_eq!(whole.1, [Event::Connected]);
    for chunk in 1..64 {
        assert_eq!(run(chunk), whole, "chunks of {chunk}");
    }
}

#[test]
fn handshake_refused_is_a_stream_error_and_reconnecting_works() {
    let now = Instant::now();
    let mut c = Component::new(config());
    c.connected(now);
    feed(&mut c, SERVER_HEADER, now);
    feed(
        &mut c,
        "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>",
        now,
    );
    let ev = events(&mut c);
    assert_eq!(ev.len(), 1);
    assert!(
        matches!(&ev[0], Event::StreamError(e) if e.contains("not-authorized") && e.contains("handshake"))
    );
    // Nothing more is read from that stream.
    feed(&mut c, "<handshake/>", now);
    assert!(events(&mut c).is_empty());
    assert!(!c.is_connected());
    c.link_lost(now);
    sent(&mut c);
    c.connected(now);
    feed(&mut c, SERVER_HEADER, now);
    feed(&mut c, "<handshake/>", now);
    assert_eq!(events(&mut c), [Event::Connected]);
}

#[test]
fn stream_level_trouble_is_a_stream_error() {
    for (input, expect) in [
        ("garbage", "malformed stream"),
        (
            "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:component:accept'>",
            "no id",
        ),
        ("<stream xmlns='jabber:component:accept' id='1'>", "expected a stream header"),
        (&format!("{SERVER_HEADER}</stream:stream>"), "closed the stream"),
        (&format!("{SERVER_HEADER}<!DOCTYPE x>"), "malformed stream"),
        (
            &format!(
                "{SERVER_HEADER}<handshake/><stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>replaced</text></stream:error>"
            ),
            "conflict: replaced",
        ),
    ] {
        let now = Instant::now();
        let mut c = Component::new(config());
        c.connected(now);
        feed(&mut c, input, now);
        let ev: Vec<Event> = events(&mut c).into_iter().filter(|e| *e != Event::Connected).collect();
        assert!(matches!(&ev[..], [Event::StreamError(e)] if e.contains(expect)), "{input}: {ev:?}");
    }
}

#[test]
fn a_huge_stanza_is_a_stream_error() {
    let (mut c, now) = up();
    feed(&mut c, "<message to='alice@gw.example' from='a@b/c'><body>", now);
    let chunk = "x".repeat(64 * 1024);
    for _ in 0..17 {
        feed(&mut c, &chunk, now);
    }
    assert!(matches!(&events(&mut c)[..], [Event::StreamError(e)] if e.contains("larger")));
}

#[test]
fn a_malformed_stanza_gets_bad_request_or_is_dropped_and_the_stream_goes_on() {
    let (mut c, now) = up();
    feed(
        &mut c,
        "<iq type='get' id='m1' from='bob@example/a' to='gw.example'><ping xmlns='urn:xmpp:ping'></pong></iq>",
        now,
    );
    let out = sent_el(&mut c);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].attr("id"), Some("m1"));
    assert_eq!(out[0].attr("to"), Some("bob@example/a"));
    assert_eq!(error_of(&out[0]).0, "bad-request");
    // No id: dropped and logged.
    feed(&mut c, "<iq type='get' from='bob@example/a'><a></b></iq>", now);
    feed(&mut c, "<message from='bob@example/a' to='alice@gw.example'><body>&bogus;</body></message>", now);
    // A result with bad XML gets nothing either.
    feed(&mut c, "<iq type='result' id='z' from='bob@example/a'><a></b></iq>", now);
    assert!(sent(&mut c).is_empty());
    assert_eq!(logs(&mut c).iter().filter(|l| l.starts_with("dropped a malformed")).count(), 3);
    feed(
        &mut c,
        "<iq type='get' id='p' from='bob@example/a' to='gw.example'><ping xmlns='urn:xmpp:ping'/></iq>",
        now,
    );
    assert_eq!(sent_el(&mut c)[0].attr("type"), Some("result"));
    assert!(c.is_connected());
    assert!(events(&mut c).is_empty());
}

// ---- disco, ping, other IQs ----

fn disco(c: &mut Component, to: &str, node: Option<&str>, now: Instant) -> Element {
    let node = node.map(|n| format!(" node='{n}'")).unwrap_or_default();
    feed(
        c,
        &format!(
            "<iq type='get' id='d' from='bob@example/a' to='{to}'><query xmlns='http://jabber.org/protocol/disco#info'{node}/></iq>"
        ),
        now,
    );
    let mut out = sent_el(c);
    assert_eq!(out.len(), 1);
    out.remove(0)
}

#[test]
fn disco_info_on_the_domain_and_on_names() {
    let (mut c, now) = up();
    let r = disco(&mut c, DOMAIN, None, now);
    assert_eq!(
        (r.attr("type"), r.attr("from"), r.attr("to")),
        (Some("result"), Some(DOMAIN), Some("bob@example/a"))
    );
    let q = r.child("query", disco::NS_DISCO_INFO).unwrap();
    let id = q.child("identity", disco::NS_DISCO_INFO).unwrap();
    assert_eq!((id.attr("category"), id.attr("type")), (Some("gateway"), Some("webrtc")));
    let features: Vec<&str> =
        q.children_named("feature", disco::NS_DISCO_INFO).filter_map(|f| f.attr("var")).collect();
    for f in [
        "urn:xmpp:jingle:1",
        "urn:xmpp:jingle:apps:rtp:1",
        "urn:xmpp:jingle:apps:rtp:audio",
        "urn:xmpp:jingle:apps:rtp:video",
        "urn:xmpp:jingle:transports:ice-udp:1",
        "urn:xmpp:jingle:apps:dtls:0",
        "urn:xmpp:jingle-message:0",
        "urn:xmpp:ping",
    ] {
        assert!(features.contains(&f), "{f}");
    }
    for to in ["alice@gw.example", "alice@gw.example/switchboard", "alice@GW.example/other"] {
        let r = disco(&mut c, to, None, now);
        let q = r.child("query", disco::NS_DISCO_INFO).unwrap();
        let id = q.child("identity", disco::NS_DISCO_INFO).unwrap();
        assert_eq!((id.attr("category"), id.attr("type")), (Some("client"), Some("phone")), "{to}");
    }
    let r = disco(&mut c, "nobody@gw.example", None, now);
    assert_eq!(error_of(&r).0, "item-not-found");
    // The caps node#ver of our presence is answered, with the node echoed.
    let ver = disco::caps_ver(&[disco::NAME_IDENTITY], disco::FEATURES);
    let node = format!("{}#{ver}", disco::CAPS_NODE);
    let r = disco(&mut c, "alice@gw.example/switchboard", Some(&node), now);
    assert_eq!(r.child("query", disco::NS_DISCO_INFO).unwrap().attr("node"), Some(node.as_str()));
    let r = disco(&mut c, "alice@gw.example", Some("urn:other#x"), now);
    assert_eq!(error_of(&r).0, "item-not-found");
    c.set_name("alice", false);
    let r = disco(&mut c, "alice@gw.example", None, now);
    assert_eq!(error_of(&r).0, "item-not-found");
}

#[test]
fn ping_is_answered_and_other_iqs_are_service_unavailable() {
    let (mut c, now) = up();
    feed(
        &mut c,
        "<iq type='get' id='p' from='bob@example/a' to='alice@gw.example'><ping xmlns='urn:xmpp:ping'/></iq>",
        now,
    );
    let r = &sent_el(&mut c)[0];
    assert_eq!(
        (r.attr("type"), r.attr("id"), r.attr("from")),
        (Some("result"), Some("p"), Some("alice@gw.example"))
    );
    feed(
        &mut c,
        "<iq type='get' id='v' from='bob@example/a' to='gw.example'><query xmlns='jabber:iq:version'/></iq>",
        now,
    );
    assert_eq!(error_of(&sent_el(&mut c)[0]).0, "service-unavailable");
    feed(&mut c, "<iq type='set' id='e' from='bob@example/a' to='gw.example'/>", now);
    assert_eq!(error_of(&sent_el(&mut c)[0]).0, "bad-request");
    // Not our domain, no id, unknown type: nothing.
    feed(
        &mut c,
        "<iq type='get' id='o' from='bob@example/a' to='other.example'><ping xmlns='urn:xmpp:ping'/></iq>",
        now,
    );
    feed(
        &mut c,
        "<iq type='get' from='bob@example/a' to='gw.example'><ping xmlns='urn:xmpp:ping'/></iq>",
        now,
    );
    feed(&mut c, "<iq type='bogus' id='b' from='bob@example/a' to='gw.example'/>", now);
    assert!(sent(&mut c).is_empty());
}

// ---- presence ----

#[test]
fn subscription_probe_and_name_changes() {
    let (mut c, now) = up();
    c.set_name("carol", false);
    feed(&mut c, "<presence type='subscribe' from='bob@example' to='carol@gw.example'/>", now);
    let out = sent_el(&mut c);
    assert_eq!(out.len(), 3);
    assert_eq!(
        (out[0].attr("type"), out[0].attr("from"), out[0].attr("to")),
        (Some("subscribed"), Some("carol@gw.example"), Some("bob@example"))
    );
    assert_eq!((out[1].attr("type"), out[1].attr("from")), (Some("subscribe"), Some("carol@gw.example")));
    assert_eq!(
        (out[2].attr("type"), out[2].attr("from")),
        (Some("unavailable"), Some("carol@gw.example/switchboard"))
    );
    // A probe from another user; directed presence from a third.
    feed(&mut c, "<presence type='probe' from='dave@example' to='carol@gw.example'/>", now);
    assert_eq!(sent_el(&mut c)[0].attr("type"), Some("unavailable"));
    feed(&mut c, "<presence from='erin@example/x' to='carol@gw.example'/>", now);
    assert_eq!(sent_el(&mut c)[0].attr("to"), Some("erin@example/x"));
    // carol registers: everyone hears, with caps.
    c.set_name("carol", true);
    let out = sent_el(&mut c);
    let mut to: Vec<&str> = out.iter().filter_map(|p| p.attr("to")).collect();
    to.sort_unstable();
    assert_eq!(to, ["bob@example", "dave@example", "erin@example/x"]);
    for p in &out {
        assert_eq!(p.attr("type"), None);
        assert_eq!(p.attr("from"), Some("carol@gw.example/switchboard"));
        let caps = p.child("c", disco::NS_CAPS).unwrap();
        assert_eq!(caps.attr("hash"), Some("sha-1"));
        assert_eq!(caps.attr("node"), Some(disco::CAPS_NODE));
        assert_eq!(
            caps.attr("ver"),
            Some(disco::caps_ver(&[disco::NAME_IDENTITY], disco::FEATURES).as_str())
        );
    }
    // Registering again changes nothing.
    c.set_name("carol", true);
    assert!(sent(&mut c).is_empty());
    // erin goes away, bob unsubscribes: only dave hears carol leave.
    feed(&mut c, "<presence type='unavailable' from='erin@example/x' to='carol@gw.example'/>", now);
    feed(&mut c, "<presence type='unsubscribe' from='bob@example' to='carol@gw.example'/>", now);
    assert_eq!(sent_el(&mut c)[0].attr("type"), Some("unsubscribed"));
    c.set_name("carol", false);
    let out = sent_el(&mut c);
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].attr("to"), out[0].attr("type")), (Some("dave@example"), Some("unavailable")));
}

#[test]
fn presence_is_sent_again_after_reconnecting() {
    let (mut c, now) = up();
    feed(&mut c, "<presence type='subscribe' from='bob@example' to='alice@gw.example'/>", now);
    assert!(sent_el(&mut c)[2].child("c", disco::NS_CAPS).is_some());
    c.link_lost(now);
    // Names change while the link is down: nothing is sent.
    c.set_name("carol", true);
    assert!(sent(&mut c).is_empty());
    c.connected(now);
    feed(&mut c, SERVER_HEADER, now);
    feed(&mut c, "<handshake/>", now);
    let out = sent(&mut c);
    assert_eq!(out.len(), 3, "{out:?}"); // header, handshake, presence
    let p = el(&out[2]);
    assert_eq!((p.attr("from"), p.attr("to")), (Some("alice@gw.example/switchboard"), Some("bob@example")));
    assert!(p.child("c", disco::NS_CAPS).is_some());
}

#[test]
fn the_domain_itself_is_always_available() {
    let (mut c, now) = up();
    feed(&mut c, "<presence type='probe' from='bob@example' to='gw.example'/>", now);
    let p = &sent_el(&mut c)[0];
    assert_eq!((p.attr("from"), p.attr("type")), (Some(DOMAIN), None));
    assert!(p.child("c", disco::NS_CAPS).is_some());
}

// ---- calls ----

const NS_JMI: &str = "urn:xmpp:jingle-message:0";
const BOB: &str = "bob@example/phone";
const ALICE: &str = "alice@gw.example/switchboard";
const CANDIDATE: &str = "candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host generation 0";

fn jmi_msg(kind: &str, id: &str, from: &str, to: &str, inner: &str) -> String {
    format!(
        "<message type='chat' from='{from}' to='{to}'><{kind} xmlns='urn:xmpp:jingle-message:0' id='{id}'>{inner}</{kind}>\
         <store xmlns='urn:xmpp:hints'/></message>"
    )
}

fn iq_set(id: &str, from: &str, to: &str, jingle: &str) -> String {
    format!("<iq type='set' id='{id}' from='{from}' to='{to}'>{jingle}</iq>")
}

fn jingle(action: &str, sid: &str, inner: &str) -> String {
    format!("<jingle xmlns='urn:xmpp:jingle:1' action='{action}' sid='{sid}'>{inner}</jingle>")
}

/// The session-accept `<jingle/>` of the Chromium answer for `sid`.
fn accept_xml(sid: &str) -> String {
    let mut j = crate::convert::sdp_to_jingle(ANSWER, crate::convert::Role::Responder).unwrap().value;
    j.action = crate::jingle::Action::SessionAccept;
    j.sid = sid.to_owned();
    j.responder = Some(BOB.to_owned());
    j.to_element().to_xml()
}

fn transport_info_xml(sid: &str, content: &str) -> String {
    jingle(
        "transport-info",
        sid,
        &format!(
            "<content creator='initiator' name='{content}'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' \
             ufrag='8hhy' pwd='asd88fgpdd777uzjYhagZg'><candidate component='1' foundation='1' generation='0' \
             id='m3110wc4nd' ip='192.0.2.1' network='0' port='9001' priority='2122260223' protocol='udp' type='host'/>\
             </transport></content>"
        ),
    )
}

/// alice calls bob@example: the propose is checked; (call, sid).
fn propose(c: &mut Component, now: Instant) -> (CallId, String) {
    let call = c.dial("alice", "bob@example", OFFER, now).unwrap();
    let out = sent_el(c);
    assert_eq!(out.len(), 1, "{out:?}");
    let m = &out[0];
    assert_eq!(
        (m.name.as_str(), m.attr("from"), m.attr("to"), m.attr("type")),
        ("message", Some(ALICE), Some("bob@example"), Some("chat"))
    );
    assert!(m.child("store", "urn:xmpp:hints").is_some());
    let p = m.child("propose", NS_JMI).unwrap();
    let media: Vec<&str> = p
        .children_named("description", "urn:xmpp:jingle:apps:rtp:1")
        .filter_map(|d| d.attr("media"))
        .collect();
    assert_eq!(media, ["audio", "video"]);
    (call, p.attr("id").unwrap().to_owned())
}

/// bob's phone proceeds: the session-initiate that follows is returned.
fn proceed(c: &mut Component, sid: &str, now: Instant) -> Element {
    feed(c, &jmi_msg("proceed", sid, BOB, ALICE, ""), now);
    let mut out = sent_el(c);
    assert!(!out.is_empty());
    let iq = out.remove(0);
    assert_eq!((iq.attr("type"), iq.attr("from"), iq.attr("to")), (Some("set"), Some(ALICE), Some(BOB)));
    let j = jingle_of(&iq);
    assert_eq!(
        (j.attr("action"), j.attr("sid"), j.attr("initiator")),
        (Some("session-initiate"), Some(sid), Some(ALICE))
    );
    iq
}

/// An accepted outgoing JMI call: (component, now, call, sid).
fn outgoing_active() -> (Component, Instant, CallId, String) {
    let (mut c, now) = up();
    let (call, sid) = propose(&mut c, now);
    proceed(&mut c, &sid, now);
    feed(&mut c, &iq_set("a1", BOB, ALICE, &accept_xml(&sid)), now);
    assert_eq!(sent_el(&mut c)[0].attr("type"), Some("result"));
    assert!(matches!(&events(&mut c)[..], [Event::Answer { .. }]));
    (c, now, call, sid)
}

/// bob calls alice (after JMI when `jmi`): (component, now, call).
fn incoming(jmi: bool) -> (Component, Instant, CallId) {
    let (mut c, now) = up();
    if jmi {
        feed(
            &mut c,
            &jmi_msg(
                "propose",
                "stanza-fixture",
                BOB,
                "alice@gw.example",
                "<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/>",
            ),
            now,
        );
        let out = sent_el(&mut c);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].attr("from"), out[0].attr("to")), (Some(ALICE), Some(BOB)));
        assert_eq!(out[0].child("proceed", NS_JMI).unwrap().attr("id"), Some("stanza-fixture"));
        assert!(out[0].child("store", "urn:xmpp:hints").is_some());
    }
    feed(&mut c, &iq_set("i1", BOB, ALICE, JINGLE_OFFER), now);
    let out = sent_el(&mut c);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        (out[0].attr("type"), out[0].attr("id"), out[0].attr("from")),
        (Some("result"), Some("i1"), Some(ALICE))
    );
    let ev = events(&mut c);
    let [Event::Incoming { call, to_name, from, sdp }] = &ev[..] else { panic!("{ev:?}") };
    assert_eq!((to_name.as_str(), from.as_str()), ("alice", BOB));
    assert!(sdp.starts_with("v=0\r\n") && sdp.contains("m=audio") && sdp.contains("m=video"), "{sdp}");
    (c, now, *call)
}

#[test]
fn outgoing_jmi_call_rings_proceeds_trickles_answers_and_hangs_up() {
    let (mut c, now) = up();
    let (call, sid) = propose(&mut c, now);
    assert_eq!(c.calls(), 1);
    // Candidates before session-initiate wait for it.
    c.candidate(call, "0", Some(CANDIDATE), now);
    assert!(sent(&mut c).is_empty());
    feed(&mut c, &jmi_msg("ringing", &sid, BOB, ALICE, ""), now);
    assert_eq!(events(&mut c), [Event::Ringing { call }]);
    // proceed: session-initiate to the full JID, then the kept candidate.
    feed(&mut c, &jmi_msg("proceed", &sid, BOB, ALICE, ""), now);
    let out = sent_el(&mut c);
    assert_eq!(out.len(), 2, "{out:?}");
    let init = jingle_of(&out[0]);
    assert_eq!(init.attr("action"), Some("session-initiate"));
    let names: Vec<&str> =
        init.children_named("content", "urn:xmpp:jingle:1").filter_map(|c| c.attr("name")).collect();
    assert_eq!(names, ["0", "1", "2"]);
    let ti = jingle_of(&out[1]);
    assert_eq!((ti.attr("action"), ti.attr("sid")), (Some("transport-info"), Some(sid.as_str())));
    let content = ti.child("content", "urn:xmpp:jingle:1").unwrap();
    assert_eq!(content.attr("name"), Some("0"));
    let t = content.child("transport", "urn:xmpp:jingle:transports:ice-udp:1").unwrap();
    assert_eq!(t.attr("ufrag"), Some("0zSp"));
    let cand = t.child("candidate", "urn:xmpp:jingle:transports:ice-udp:1").unwrap();
    assert_eq!((cand.attr("ip"), cand.attr("port")), (Some("192.0.2.10"), Some("50000")));
    // Their results are taken silently.
    for iq in &out {
        feed(
            &mut c,
            &format!("<iq type='result' id='{}' from='{BOB}' to='{ALICE}'/>", iq.attr("id").unwrap()),
            now,
        );
    }
    assert!(sent(&mut c).is_empty() && events(&mut c).is_empty());
    // session-info ringing, transport-info, session-accept.
    feed(
        &mut c,
        &iq_set(
            "r1",
            BOB,
            ALICE,
            &jingle("session-info", &sid, "<ringing xmlns='urn:xmpp:jingle:apps:rtp:info:1'/>"),
        ),
        now,
    );
    assert_eq!(sent_el(&mut c)[0].attr("type"), Some("result"));
    assert_eq!(events(&mut c), [Event::Ringing { call }]);
    feed(&mut c, &iq_set("t1", BOB, ALICE, &transport_info_xml(&sid, "0")), now);
    assert_eq!(sent_el(&mut c)[0].attr("id"), Some("t1"));
    let ev = events(&mut c);
    let [Event::Candidate { call: cc, mid, candidate: Some(cand) }] = &ev[..] else { panic!("{ev:?}") };
    assert_eq!((*cc, mid.as_str()), (call, "0"));
    assert!(cand.starts_with("candidate:1 1 udp 2122260223 192.0.2.1 9001 typ host"), "{cand}");
    feed(&mut c, &iq_set("a1", BOB, ALICE, &accept_xml(&sid)), now);
    assert_eq!(sent_el(&mut c)[0].attr("type"), Some("result"));
    let ev = events(&mut c);
    let [Event::Answer { call: ac, sdp }] = &ev[..] else { panic!("{ev:?}") };
    assert_eq!(*ac, call);
    assert!(sdp.contains("a=ice-ufrag:H3St") && sdp.contains("a=setup:active"), "{sdp}");
    // Later candidates go out at once; end of candidates too.
    c.candidate(call, "1", Some(CANDIDATE), now);
    c.candidate(call, "0", None, now);
    let out = sent_el(&mut c);
    assert_eq!(out.len(), 2);
    let eoc = jingle_of(&out[1]).child("content", "urn:xmpp:jingle:1").unwrap();
    assert!(
        eoc.child("transport", "urn:xmpp:jingle:transports:ice-udp:1")
            .unwrap()
            .child("gathering-complete", "urn:xmpp:jingle:transports:ice-udp:1")
            .is_some()
    );
    // Hangup: session-terminate success, then JMI finish.
    c.hangup(call, "normal", now);
    let out = sent_el(&mut c);
    assert_eq!(out.len(), 2, "{out:?}");
    let t = jingle_of(&out[0]);
    assert_eq!(t.attr("action"), Some("session-terminate"));
    assert!(t.child("reason", "urn:xmpp:jingle:1").unwrap().child("success", "urn:xmpp:jingle:1").is_some());
    let finish = out[1].child("finish", NS_JMI).unwrap();
    assert_eq!((out[1].attr("to"), finish.attr("id")), (Some(BOB), Some(sid.as_str())));
    assert!(out[1].child("store", "urn:xmpp:hints").is_some());
    assert_eq!(c.calls(), 0);
    assert!(events(&mut c).is_empty());
}

#[test]
fn outgoing_hangups_before_and_after_proceed() {
    let (mut c, now) = up();
    let (call, sid) = propose(&mut c, now);
    c.hangup(call, "normal", now);
    let out = sent_el(&mut c);
    let r = out[0].child("retract", NS_JMI).unwrap();
    assert_eq!((out[0].attr("to"), r.attr("id")), (Some("bob@example"), Some(sid.as_str())));
    assert!(r.child("reason", "urn:xmpp:jingle:1").unwrap().child("cancel", "urn:xmpp:jingle:1").is_some());
    assert!(out[0].child("store", "urn:xmpp:hints").is_some());
    assert_eq!(c.calls(), 0);
    // A late proceed for it does nothing.
    feed(&mut c, &jmi_msg("proceed", &sid, BOB, ALICE, ""), now);
    assert!(sent(&mut c).is_empty());

    let (call, sid) = propose(&mut c, now);
    proceed(&mut c, &sid, now);
    c.hangup(call, "normal", now);
    let out = sent_el(&mut c);
    assert_eq!(out.len(), 1, "no finish before session-accept");
    let t = jingle_of(&out[0]);
    assert_eq!(t.attr("action"), Some("session-terminate"));
    assert!(t.child("reason", "urn:xmpp:jingle:1").unwrap().child("cancel", "urn:xmpp:jingle:1").is_some());
    assert!(events(&mut c).is_empty());
}

#[test]
fn jmi_reject_ends_the_call_busy_or_declined() {
    let (mut c, now) = up();
    let (call, sid) = propose(&mut c, now);
    feed(
        &mut c,
        &jmi_msg(
            "reject",
            &sid,
            BOB,
            ALICE,
            "<reason xmlns='urn:xmpp:jingle:1'><busy/><text>Busy</text></reason>",
        ),
        now,
    );
    assert_eq!(events(&mut c), [Event::Ended { call, reason: "busy".into() }]);
    let (call, sid) = propose(&mut c, now);
    // A reject from someone else's account is not theirs to give.
    feed(&mut c, &jmi_msg("reject", &sid, "mallory@example/x", ALICE, ""), now);
    assert!(events(&mut c).is_empty());
    feed(&mut c, &jmi_msg("reject", &sid, BOB, ALICE, ""), now);
    assert_eq!(events(&mut c), [Event::Ended { call, reason: "decline".into() }]);
    assert!(sent(&mut c).is_empty());
    // Any other reason is mapped as in a session-terminate.
    for (condition, word) in
        [("gone", "unavailable"), ("incompatible-parameters", "incompatible"), ("success", "decline")]
    {
        let (call, sid) = propose(&mut c, now);
        let reason = format!("<reason xmlns='urn:xmpp:jingle:1'><{condition}/></reason>");
        feed(&mut c, &jmi_msg("reject", &sid, BOB, ALICE, &reason), now);
        assert_eq!(events(&mut c), [Event::Ended { call, reason: word.into() }], "{condition}");
    }
    assert_eq!(c.calls(), 0);
}

#[test]
fn our_unanswered_call_withdrawn_says_why() {
    let (mut c, now) = up();
    // Still proposed: a retract, with <timeout/> at the ring timeout and <cancel/> otherwise.
    for (word, condition) in [("timeout", "timeout"), ("normal", "cancel"), ("cancel", "cancel")] {
        let (call, _) = propose(&mut c, now);
        c.hangup(call, word, now);
        let out = sent_el(&mut c);
        let r = out[0].child("retract", NS_JMI).unwrap().child("reason", "urn:xmpp:jingle:1").unwrap();
        assert!(r.child(condition, "urn:xmpp:jingle:1").is_some(), "{word}: {out:?}");
    }
    // Initiated, not accepted: session-terminate the same way.
    let (call, sid) = propose(&mut c, now);
    proceed(&mut c, &sid, now);
    sent(&mut c);
    c.hangup(call, "timeout", now);
    let out = sent_el(&mut c);
    let j = jingle_of(&out[0]);
    assert_eq!(j.attr("action"), Some("session-terminate"));
    assert!(j.child("reason", "urn:xmpp:jingle:1").unwrap().child("timeout", "urn:xmpp:jingle:1").is_some());
}

#[test]
fn a_bounced_propose_ends_the_call_unavailable() {
    let (mut c, now) = up();
    let (call, sid) = propose(&mut c, now);
    feed(
        &mut c,
        &format!(
            "<message type='error' from='bob@example' to='{ALICE}'><propose xmlns='urn:xmpp:jingle-message:0' id='{sid}'/>\
             <error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"
        ),
        now,
    );
    assert_eq!(events(&mut c), [Event::Ended { call, reason: "unavailable".into() }]);
}

#[test]
fn outgoing_to_a_full_jid_initiates_at_once() {
    let (mut c, now) = up();
    let call = c.dial("alice", BOB, OFFER, now).unwrap();
    let out = sent_el(&mut c);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].attr("to"), Some(BOB));
    assert_eq!(jingle_of(&out[0]).attr("action"), Some("session-initiate"));
    // The peer's server says it is not there.
    let id = out[0].attr("id").unwrap();
    feed(
        &mut c,
        &format!(
            "<iq type='error' id='{id}' from='{BOB}' to='{ALICE}'><error type='cancel'>\
             <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
        ),
        now,
    );
    assert_eq!(events(&mut c), [Event::Ended { call, reason: "unavailable".into() }]);
    // Any other error: failed. An error from another JID with our id is ignored.
    let call = c.dial("alice", BOB, OFFER, now).unwrap();
    let out = sent_el(&mut c);
    let id = out[0].attr("id").unwrap();
    let error = |from: &str| {
        format!(
            "<iq type='error' id='{id}' from='{from}' to='{ALICE}'><error type='modify'>\
             <bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
        )
    };
    feed(&mut c, &error("mallory@example/x"), now);
    assert!(events(&mut c).is_empty());
    feed(&mut c, &error(BOB), now);
    assert_eq!(events(&mut c), [Event::Ended { call, reason: "failed".into() }]);
}

#[test]
fn dial_refuses_what_it_cannot_call() {
    let now = Instant::now();
    let mut c = Component::new(config());
    assert_eq!(c.dial("alice", "bob@example", OFFER, now), Err(DialError::NotConnected));
    let (mut c, now) = up();
    assert!(matches!(c.dial("alice", "bob@", OFFER, now), Err(DialError::InvalidAddress(_))));
    assert!(matches!(c.dial("alice", "bob@example/", OFFER, now), Err(DialError::InvalidAddress(_))));
    assert!(matches!(c.dial("alice", "carol@gw.example", OFFER, now), Err(DialError::InvalidAddress(_))));
    assert!(matches!(c.dial("a b", "bob@example", OFFER, now), Err(DialError::InvalidName(_))));
    assert!(matches!(c.dial("", "bob@example", OFFER, now), Err(DialError::InvalidName(_))));
    assert!(matches!(c.dial("alice", "bob@example", "v=0\r\nbogus", now), Err(DialError::Sdp(_))));
    assert!(sent(&mut c).is_empty());
    assert_eq!(c.calls(), 0);
}

#[test]
fn outgoing_session_terminate_ends_the_call_with_the_mapped_reason() {
    for (condition, word) in [
        ("success", "normal"),
        ("busy", "busy"),
        ("decline", "decline"),
        ("gone", "unavailable"),
        ("expired", "timeout"),
        ("media-error", "failed"),
    ] {
        let (mut c, now, call, sid) = outgoing_active();
        let reason = format!("<reason><{condition}/></reason>");
        feed(&mut c, &iq_set("x1", BOB, ALICE, &jingle("session-terminate", &sid, &reason)), now);
        let out = sent_el(&mut c);
        assert_eq!(out[0].attr("type"), Some("result"));
        // The accepted JMI call is finished.
        assert!(out[1].child("finish", NS_JMI).is_some());
        assert_eq!(events(&mut c), [Event::Ended { call, reason: word.into() }], "{condition}");
        assert_eq!(c.calls(), 0);
    }
}

#[test]
fn incoming_jmi_call_proceeds_rings_answers_trickles_and_ends() {
    let (mut c, now, call) = incoming(true);
    c.ringing(call, now);
    let out = sent_el(&mut c);
    assert_eq!(out.len(), 1);
    let j = jingle_of(&out[0]);
    assert_eq!(
        (out[0].attr("to"), j.attr("action"), j.attr("sid")),
        (Some(BOB), Some("session-info"), Some("stanza-fixture"))
    );
    assert!(j.child("ringing", "urn:xmpp:jingle:apps:rtp:info:1").is_some());
    c.ringing(call, now);
    assert!(sent(&mut c).is_empty(), "ringing once");
    // A browser candidate before its answer waits for the answer.
    c.candidate(call, "0", Some(CANDIDATE), now);
    assert!(sent(&mut c).is_empty());
    c.answer(call, ANSWER, now).unwrap();
    let out = sent_el(&mut c);
    assert_eq!(out.len(), 2, "{out:?}");
    let a = jingle_of(&out[0]);
    assert_eq!(
        (a.attr("action"), a.attr("responder"), a.attr("initiator")),
        (Some("session-accept"), Some(ALICE), Some(BOB))
    );
    let ti = jingle_of(&out[1]);
    assert_eq!(ti.attr("action"), Some("transport-info"));
    let t = ti
        .child("content", "urn:xmpp:jingle:1")
        .unwrap()
        .child("transport", "urn:xmpp:jingle:transports:ice-udp:1")
        .unwrap();
    assert_eq!(t.attr("ufrag"), Some("H3St"));
    assert_eq!(c.answer(call, ANSWER, now), Err(CallError::WrongState));
    // Their candidates and end of candidates.
    feed(
        &mut c,
        &iq_set(
            "t1",
            BOB,
            ALICE,
            include_str!(
                "../../../../fixtures/jingle/stanza-12.22.1-transport-info-chromium-156-candidate.xml"
            ),
        ),
        now,
    );
    feed(
        &mut c,
        &iq_set(
            "t2",
            BOB,
            ALICE,
            include_str!(
                "../../../../fixtures/jingle/stanza-12.22.1-transport-info-chromium-156-end-of-candidates.xml"
            ),
        ),
        now,
    );
    assert_eq!(sent_el(&mut c).iter().filter(|r| r.attr("type") == Some("result")).count(), 2);
    let ev = events(&mut c);
    assert!(
        matches!(
            &ev[..],
            [Event::Candidate { candidate: Some(_), .. }, Event::Candidate { candidate: None, .. }]
        ),
        "{ev:?}"
    );
    // The caller hangs up.
    feed(
        &mut c,
        &iq_set(
            "x1",
            BOB,
            ALICE,
            &jingle("session-terminate", "stanza-fixture", "<reason><success/></reason>"),
        ),
        now,
    );
    let out = sent_el(&mut c);
    assert_eq!(out[0].attr("type"), Some("result"));
    assert!(out[1].child("finish", NS_JMI).is_some());
    assert_eq!(events(&mut c), [Event::Ended { call, reason: "normal".into() }]);
    assert_eq!(c.calls(), 0);
}

#[test]
fn a_propose_to_a_name_nobody_holds_is_rejected_gone() {
    let (mut c, now) = up();
    feed(&mut c, &jmi_msg("propose", "p1", BOB, "nobody@gw.example", ""), now);
    let out = sent_el(&mut c);
    let r = out[0].child("reject", NS_JMI).unwrap();
    assert_eq!((out[0].attr("from"), out[0].attr("to")), (Some("nobody@gw.example/switchboard"), Some(BOB)));
    assert!(r.child("reason", "urn:xmpp:jingle:1").unwrap().child("gone", "urn:xmpp:jingle:1").is_some());
    // And a session-initiate to it: service-unavailable.
    feed(&mut c, &iq_set("i1", BOB, "nobody@gw.example", JINGLE_OFFER), now);
    assert_eq!(error_of(&sent_el(&mut c)[0]).0, "service-unavailable");
    assert!(events(&mut c).is_empty());
}

#[test]
fn incoming_direct_call_declined_by_the_browser() {
    for (word, condition, text) in [
        ("normal", "decline", None),
        ("busy", "busy", None),
        ("decline", "decline", None),
        ("unavailable", "gone", None),
        ("not-found", "gone", None),
        ("incompatible", "incompatible-parameters", None),
        ("peer-disconnected", "success", Some("peer-disconnected")),
    ] {
        let (mut c, now, call) = incoming(false);
        c.hangup(call, word, now);
        let out = sent_el(&mut c);
        assert_eq!(out.len(), 1, "no finish without JMI");
        let r = jingle_of(&out[0]).child("reason", "urn:xmpp:jingle:1").unwrap();
        assert!(r.child(condition, "urn:xmpp:jingle:1").is_some(), "{word}: {r}");
        assert_eq!(r.child("text", "urn:xmpp:jingle:1").map(Element::text).as_deref(), text);
        assert!(events(&mut c).is_empty());
    }
}

#[test]
fn answered_incoming_call_hung_up_by_the_browser() {
    let (mut c, now, call) = incoming(true);
    c.answer(call, ANSWER, now).unwrap();
    sent(&mut c);
    c.hangup(call, "connectivity-error", now);
    let out = sent_el(&mut c);
    let r = jingle_of(&out[0]).child("reason", "urn:xmpp:jingle:1").unwrap();
    assert!(r.child("connectivity-error", "urn:xmpp:jingle:1").is_some());
    assert!(out[1].child("finish", NS_JMI).is_some());
    assert_eq!(c.calls(), 0);
}

#[test]
fn early_transport_info_waits_for_its_session_initiate() {
    let (mut c, now) = up();
    feed(&mut c, &jmi_msg("propose", "stanza-fixture", BOB, "alice@gw.example", ""), now);
    sent(&mut c);
    feed(&mut c, &iq_set("t0", BOB, ALICE, &transport_info_xml("stanza-fixture", "0")), now);
    assert!(sent(&mut c).is_empty() && events(&mut c).is_empty());
    feed(&mut c, &iq_set("i1", BOB, ALICE, JINGLE_OFFER), now);
    let out = sent_el(&mut c);
    let ids: Vec<&str> =
        out.iter().filter(|r| r.attr("type") == Some("result")).filter_map(|r| r.attr("id")).collect();
    assert_eq!(ids, ["i1", "t0"]);
    let ev = events(&mut c);
    assert!(
        matches!(&ev[..], [Event::Incoming { .. }, Event::Candidate { mid, candidate: Some(_), .. }] if mid == "0"),
        "{ev:?}"
    );
}

#[test]
fn early_transport_info_whose_session_never_comes_gets_unknown_session() {
    let (mut c, now) = up();
    feed(&mut c, &iq_set("t0", BOB, ALICE, &transport_info_xml("never", "0")), now);
    assert!(sent(&mut c).is_empty());
    let at = c.poll_timeout().unwrap();
    assert_eq!(at, now + Duration::from_secs(10));
    c.handle_timeout(at);
    let out = sent_el(&mut c);
    assert_eq!(out[0].attr("id"), Some("t0"));
    assert_eq!(error_of(&out[0]), ("item-not-found".into(), Some("unknown-session".into())));
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn the_caller_retracts() {
    // Before session-initiate: the proposal is forgotten, the browser never heard of it.
    let (mut c, now) = up();
    feed(&mut c, &jmi_msg("propose", "p1", BOB, "alice@gw.example", ""), now);
    sent(&mut c);
    feed(
        &mut c,
        &jmi_msg(
            "retract",
            "p1",
            BOB,
            "alice@gw.example",
            "<reason xmlns='urn:xmpp:jingle:1'><cancel/></reason>",
        ),
        now,
    );
    assert!(sent(&mut c).is_empty() && events(&mut c).is_empty());
    assert_eq!(c.poll_timeout(), None);
    // After it, unanswered: the call ends with cancel.
    let (mut c, now, call) = incoming(true);
    feed(
        &mut c,
        &jmi_msg(
            "retract",
            "stanza-fixture",
            BOB,
            "alice@gw.example",
            "<reason xmlns='urn:xmpp:jingle:1'><cancel/></reason>",
        ),
        now,
    );
    assert_eq!(events(&mut c), [Event::Ended { call, reason: "cancel".into() }]);
}

#[test]
fn jingle_errors_for_bad_sessions_and_actions() {
    let (mut c, now, call) = incoming(true);
    let expect = |c: &mut Component, stanza: String, cond: &str, jingle: Option<&str>| {
        feed(c, &stanza, now);
        let out = sent_el(c);
        assert_eq!(out.len(), 1, "{stanza}: {out:?}");
        assert_eq!(error_of(&out[0]), (cond.to_owned(), jingle.map(str::to_owned)), "{stanza}");
    };
    // Unknown sid.
    expect(
        &mut c,
        iq_set("e1", BOB, ALICE, &jingle("session-terminate", "nope", "")),
        "item-not-found",
        Some("unknown-session"),
    );
    // The right sid from someone else, or to another name: unknown-session too.
    expect(
        &mut c,
        iq_set("e2", "mallory@example/x", ALICE, &jingle("session-terminate", "stanza-fixture", "")),
        "item-not-found",
        Some("unknown-session"),
    );
    expect(
        &mut c,
        iq_set("e3", "bob@example/laptop", ALICE, &transport_info_xml("stanza-fixture", "0")),
        "item-not-found",
        Some("unknown-session"),
    );
    // Out of order: a second session-initiate, session-accept from the initiator.
    expect(&mut c, iq_set("e4", BOB, ALICE, JINGLE_OFFER), "unexpected-request", Some("out-of-order"));
    expect(
        &mut c,
        iq_set("e5", BOB, ALICE, &accept_xml("stanza-fixture")),
        "unexpected-request",
        Some("out-of-order"),
    );
    // Not implemented: content-add, an unknown action, an unknown session-info payload.
    expect(
        &mut c,
        iq_set("e6", BOB, ALICE, &jingle("content-add", "stanza-fixture", "")),
        "feature-not-implemented",
        None,
    );
    expect(
        &mut c,
        iq_set("e7", BOB, ALICE, &jingle("dance", "stanza-fixture", "")),
        "feature-not-implemented",
        None,
    );
    expect(
        &mut c,
        iq_set("e8", BOB, ALICE, &jingle("session-info", "stanza-fixture", "<x xmlns='urn:example'/>")),
        "feature-not-implemented",
        Some("unsupported-info"),
    );
    // Invalid Jingle: bad-request.
    expect(
        &mut c,
        iq_set("e9", BOB, ALICE, "<jingle xmlns='urn:xmpp:jingle:1' action='session-info'/>"),
        "bad-request",
        None,
    );
    expect(
        &mut c,
        iq_set("e10", BOB, ALICE, &jingle("session-terminate", "stanza-fixture", "<reason/>")),
        "bad-request",
        None,
    );
    // Empty session-info and hold are fine.
    feed(&mut c, &iq_set("ok1", BOB, ALICE, &jingle("session-info", "stanza-fixture", "")), now);
    feed(
        &mut c,
        &iq_set(
            "ok2",
            BOB,
            ALICE,
            &jingle("session-info", "stanza-fixture", "<hold xmlns='urn:xmpp:jingle:apps:rtp:info:1'/>"),
        ),
        now,
    );
    assert_eq!(sent_el(&mut c).iter().filter(|r| r.attr("type") == Some("result")).count(), 2);
    // The call was not disturbed.
    assert!(events(&mut c).is_empty());
    assert_eq!(c.calls(), 1);
    c.answer(call, ANSWER, now).unwrap();
}

#[test]
fn out_of_order_on_outgoing_calls() {
    let (mut c, now) = up();
    let (_call, sid) = propose(&mut c, now);
    // session-accept before any session-initiate.
    feed(&mut c, &iq_set("a0", BOB, ALICE, &accept_xml(&sid)), now);
    assert_eq!(error_of(&sent_el(&mut c)[0]), ("unexpected-request".into(), Some("out-of-order".into())));
    proceed(&mut c, &sid, now);
    feed(&mut c, &iq_set("a1", BOB, ALICE, &accept_xml(&sid)), now);
    sent(&mut c);
    events(&mut c);
    // A second session-accept.
    feed(&mut c, &iq_set("a2", BOB, ALICE, &accept_xml(&sid)), now);
    assert_eq!(error_of(&sent_el(&mut c)[0]), ("unexpected-request".into(), Some("out-of-order".into())));
}

#[test]
fn ring_timeouts() {
    // Outgoing, never proceeded: retract + timeout.
    let (mut c, now) = up();
    let (call, sid) = propose(&mut c, now);
    assert_eq!(c.poll_timeout(), Some(now + Duration::from_secs(60)));
    c.handle_timeout(now + Duration::from_secs(59));
    assert!(sent(&mut c).is_empty());
    c.handle_timeout(now + Duration::from_secs(60));
    let out = sent_el(&mut c);
    assert_eq!(out[0].child("retract", NS_JMI).unwrap().attr("id"), Some(sid.as_str()));
    assert_eq!(events(&mut c), [Event::Ended { call, reason: "timeout".into() }]);
    // Outgoing, initiated but not accepted: session-terminate timeout.
    let (call, sid) = propose(&mut c, now);
    proceed(&mut c, &sid, now);
    c.handle_timeout(now + Duration::from_secs(61));
    let out = sent_el(&mut c);
    assert!(
        jingle_of(&out[0])
            .child("reason", "urn:xmpp:jingle:1")
            .unwrap()
            .child("timeout", "urn:xmpp:jingle:1")
            .is_some()
    );
    assert_eq!(events(&mut c), [Event::Ended { call, reason: "timeout".into() }]);
    // Incoming, unanswered: session-terminate timeout.
    let (mut c, now, call) = incoming(true);
    c.ringing(call, now);
    sent(&mut c);
    c.handle_timeout(now + Duration::from_secs(60));
    let out = sent_el(&mut c);
    let t = jingle_of(&out[0]);
    assert_eq!((t.attr("action"), out[0].attr("to")), (Some("session-terminate"), Some(BOB)));
    assert!(t.child("reason", "urn:xmpp:jingle:1").unwrap().child("timeout", "urn:xmpp:jingle:1").is_some());
    assert_eq!(events(&mut c), [Event::Ended { call, reason: "timeout".into() }]);
    assert_eq!(c.poll_timeout(), None);
    // Answered calls do not time out.
    let (mut c, now, _call, _sid) = outgoing_active();
    assert_eq!(c.poll_timeout(), None);
    c.handle_timeout(now + Duration::from_secs(3600));
    assert!(events(&mut c).is_empty());
}

#[test]
fn losing_the_link_ends_every_call_and_keeps_names() {
    let (mut c, now, call_in) = incoming(true);
    let call_out = c.dial("alice", "bob@example", OFFER, now).unwrap();
    sent(&mut c);
    c.link_lost(now);
    assert!(!c.is_connected());
    let mut ev = events(&mut c);
    ev.sort_by_key(|e| match e {
        Event::Ended { call, .. } => call.0,
        _ => 0,
    });
    assert_eq!(
        ev,
        [
            Event::Ended { call: call_in, reason: "unavailable".into() },
            Event::Ended { call: call_out, reason: "unavailable".into() }
        ]
    );
    assert_eq!(c.calls(), 0);
    assert!(sent(&mut c).is_empty());
    assert_eq!(c.poll_timeout(), None);
    c.connected(now);
    feed(&mut c, SERVER_HEADER, now);
    feed(&mut c, "<handshake/>", now);
    assert_eq!(events(&mut c), [Event::Connected]);
    sent(&mut c);
    let r = disco(&mut c, "alice@gw.example", None, now);
    assert_eq!(r.attr("type"), Some("result"));
}

#[test]
fn commands_for_unknown_calls_are_harmless() {
    let (mut c, now) = up();
    let ghost = CallId(999);
    c.ringing(ghost, now);
    c.candidate(ghost, "0", Some(CANDIDATE), now);
    c.hangup(ghost, "normal", now);
    assert_eq!(c.answer(ghost, ANSWER, now), Err(CallError::UnknownCall));
    let (call, _) = propose(&mut c, now);
    assert_eq!(c.answer(call, ANSWER, now), Err(CallError::WrongState));
    c.ringing(call, now);
    assert!(sent(&mut c).is_empty() && events(&mut c).is_empty());
}

#[test]
fn propose_lists_only_the_offered_media_and_candidates_in_the_offer_go_in_session_initiate() {
    let (mut c, now) = up();
    let call = c.dial("alice", "bob@example", AUDIO_OFFER, now).unwrap();
    let out = sent_el(&mut c);
    let p = out[0].child("propose", NS_JMI).unwrap();
    let media: Vec<&str> = p
        .children_named("description", "urn:xmpp:jingle:apps:rtp:1")
        .filter_map(|d| d.attr("media"))
        .collect();
    assert_eq!(media, ["audio"]);
    let sid = p.attr("id").unwrap().to_owned();
    let iq = proceed(&mut c, &sid, now);
    let content = jingle_of(&iq).child("content", "urn:xmpp:jingle:1").unwrap();
    let t = content.child("transport", "urn:xmpp:jingle:transports:ice-udp:1").unwrap();
    assert!(t.children_named("candidate", "urn:xmpp:jingle:transports:ice-udp:1").count() > 0, "{t}");
    assert_eq!(c.calls(), 1);
    c.hangup(call, "normal", now);
}

#[test]
fn a_session_initiate_to_the_bare_jid_is_answered_from_the_full_jid() {
    let (mut c, now) = up();
    feed(&mut c, &iq_set("i1", BOB, "alice@gw.example", JINGLE_OFFER), now);
    let out = sent_el(&mut c);
    assert_eq!((out[0].attr("type"), out[0].attr("from")), (Some("result"), Some("alice@gw.example")));
    let Some(Event::Incoming { call, .. }) = c.poll_event() else { panic!() };
    c.answer(call, ANSWER, now).unwrap();
    let out = sent_el(&mut c);
    assert_eq!(out[0].attr("from"), Some(ALICE));
    assert_eq!(jingle_of(&out[0]).attr("responder"), Some(ALICE));
    // The caller may keep writing to the bare JID.
    feed(
        &mut c,
        &iq_set(
            "x1",
            BOB,
            "alice@gw.example",
            &jingle("session-terminate", "stanza-fixture", "<reason><busy/></reason>"),
        ),
        now,
    );
    assert_eq!(sent_el(&mut c)[0].attr("type"), Some("result"));
    assert_eq!(events(&mut c), [Event::Ended { call, reason: "busy".into() }]);
}

#[test]
fn rtcp_candidates_of_a_multiplexed_content_are_not_passed_on() {
    let (mut c, now, call) = incoming(false);
    let rtcp = transport_info_xml("stanza-fixture", "0").replace("component='1'", "component='2'");
    feed(&mut c, &iq_set("t1", BOB, ALICE, &rtcp), now);
    assert_eq!(sent_el(&mut c)[0].attr("type"), Some("result"));
    assert!(events(&mut c).is_empty());
    feed(&mut c, &iq_set("t2", BOB, ALICE, &transport_info_xml("stanza-fixture", "0")), now);
    sent(&mut c);
    assert!(matches!(&events(&mut c)[..], [Event::Candidate { call: cc, .. }] if *cc == call));
}

#[test]
fn outgoing_jmi_call_names_the_client_that_rang_and_took_it() {
    let (mut c, now) = up();
    let (call, sid) = propose(&mut c, now);
    feed(&mut c, &jmi_msg("ringing", &sid, BOB, ALICE, ""), now);
    let all: Vec<Event> = std::iter::from_fn(|| c.poll_event()).collect();
    assert_eq!(all, [Event::Peer { call, jid: BOB.into() }, Event::Ringing { call }]);
    proceed(&mut c, &sid, now);
    let all: Vec<Event> = std::iter::from_fn(|| c.poll_event()).collect();
    assert_eq!(all, [Event::Peer { call, jid: BOB.into() }]);
}

/// The RED payload type's `<parameter/>` (fmtp `111/111`, no name) in a sent session-initiate or -accept.
fn red_parameter(iq: &Element) -> Element {
    let j = jingle_of(iq);
    j.elements()
        .flat_map(|content| content.elements())
        .flat_map(|d| d.elements())
        .filter(|pt| pt.is("payload-type", "urn:xmpp:jingle:apps:rtp:1") && pt.attr("name") == Some("red"))
        .flat_map(|pt| pt.elements())
        .next()
        .expect("red has a parameter")
        .clone()
}

#[test]
fn nameless_fmtp_is_written_the_way_the_peer_writes_it() {
    // Nobody known: the XEP-0167 form Conversations and lib-jitsi-meet read.
    let (mut c, now) = up();
    c.dial("alice", BOB, OFFER, now).unwrap();
    let p = red_parameter(&sent_el(&mut c)[0]);
    assert_eq!((p.attr("name"), p.attr("value")), (Some(""), Some("111/111")));
    // stanza.js writes `<parameter name='111/111'/>`: its session gets that form back.
    let (mut c, now, call) = incoming(false);
    c.answer(call, ANSWER, now).unwrap();
    let p = red_parameter(&sent_el(&mut c)[0]);
    assert_eq!((p.attr("name"), p.attr("value")), (Some("111/111"), None));
    // ...and so does the next call to that user.
    c.dial("alice", BOB, OFFER, now).unwrap();
    let p = red_parameter(&sent_el(&mut c)[0]);
    assert_eq!((p.attr("name"), p.attr("value")), (Some("111/111"), None));
}

#[test]
fn long_content_names_reach_the_browser_as_short_mids_and_come_back() {
    const LONG: &str = "this-is-the-audio-content";
    let (mut c, now) = up();
    let offer = jingle(
        "session-initiate",
        "long1",
        &format!(
            "<content creator='initiator' name='{LONG}'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>\
             <payload-type id='111' name='opus' clockrate='48000' channels='2'/><rtcp-mux/></description>\
             <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='8hhy' pwd='asd88fgpdd777uzjYhagZg'>\
             <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>AB:CD</fingerprint>\
             </transport></content>"
        ),
    );
    feed(&mut c, &iq_set("i1", BOB, ALICE, &offer), now);
    sent(&mut c);
    let ev = events(&mut c);
    let [Event::Incoming { call, sdp, .. }] = &ev[..] else { panic!("{ev:?}") };
    let call = *call;
    assert!(sdp.contains("a=mid:0\r\n") && !sdp.contains(LONG), "{sdp}");
    // The peer's candidates arrive under the browser's mid.
    feed(&mut c, &iq_set("t1", BOB, ALICE, &transport_info_xml("long1", LONG)), now);
    sent(&mut c);
    let ev = events(&mut c);
    assert!(matches!(&ev[..], [Event::Candidate { mid, .. }] if mid == "0"), "{ev:?}");
    // The browser's answer and candidates go back under the content's own name.
    let answer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n\
                  c=IN IP4 0.0.0.0\r\na=ice-ufrag:wxyz\r\na=ice-pwd:bbbbbbbbbbbbbbbbbbbbbbbb\r\n\
                  a=fingerprint:sha-256 EF:01\r\na=setup:active\r\na=mid:0\r\na=rtcp-mux\r\n\
                  a=rtpmap:111 opus/48000/2\r\n";
    c.answer(call, answer, now).unwrap();
    let out = sent_el(&mut c);
    let accept = jingle_of(&out[0]);
    assert_eq!(accept.attr("action"), Some("session-accept"));
    assert_eq!(accept.child("content", "urn:xmpp:jingle:1").unwrap().attr("name"), Some(LONG));
    c.candidate(call, "0", Some(CANDIDATE), now);
    let out = sent_el(&mut c);
    let info = jingle_of(&out[0]);
    assert_eq!(info.attr("action"), Some("transport-info"));
    assert_eq!(info.child("content", "urn:xmpp:jingle:1").unwrap().attr("name"), Some(LONG));
}

// ---- changes to a call in progress (renegotiate.rs) and peer liveness ----

/// An incoming call answered by the browser with the Chromium answer.
fn incoming_active() -> (Component, Instant, CallId) {
    let (mut c, now, call) = incoming(false);
    c.answer(call, ANSWER, now).unwrap();
    sent(&mut c);
    (c, now, call)
}

const INFO_NS: &str = "urn:xmpp:jingle:apps:rtp:info:1";
const NS_JINGLE: &str = "urn:xmpp:jingle:1";
const NS_ICE: &str = "urn:xmpp:jingle:transports:ice-udp:1";
use super::calls::PEER_CHECK;

#[test]
fn hold_from_the_other_leg_is_session_info_and_answered_here() {
    let (mut c, now, call) = incoming_active();
    let held = ANSWER.replace("a=sendrecv", "a=sendonly");
    c.reoffer(call, &held, now).unwrap();
    let out = sent_el(&mut c);
    assert_eq!(out.len(), 1, "{out:?}");
    let j = jingle_of(&out[0]);
    assert_eq!(j.attr("action"), Some("session-info"));
    assert!(j.child("hold", INFO_NS).is_some());
    let ev = events(&mut c);
    let [Event::Answer { sdp, .. }] = &ev[..] else { panic!("{ev:?}") };
    let dirs = renegotiate::directions(sdp);
    assert_eq!(dirs.iter().flatten().collect::<Vec<_>>(), ["recvonly", "recvonly"], "{sdp}");
    assert!(!sdp.contains("a=setup:actpass"), "an answer takes a DTLS role: {sdp}");
    assert!(switchboard_sdp::SessionDescription::parse(sdp).is_ok());
    // Resume: <active/>, and the answer is sendrecv again.
    c.reoffer(call, ANSWER, now).unwrap();
    assert!(jingle_of(&sent_el(&mut c)[0]).child("active", INFO_NS).is_some());
    let ev = events(&mut c);
    let [Event::Answer { sdp, .. }] = &ev[..] else { panic!("{ev:?}") };
    assert!(renegotiate::directions(sdp).iter().flatten().all(|d| d == "sendrecv"));
    // Added media cannot be said in Jingle.
    let more = format!("{ANSWER}m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:9\r\n");
    assert!(matches!(c.reoffer(call, &more, now), Err(CallError::Unsupported(_))));
}

#[test]
fn hold_from_the_peer_is_an_offer_to_the_other_leg() {
    let (mut c, now, call) = incoming_active();
    let sid = "stanza-fixture";
    let info = |what: &str| jingle("session-info", sid, &format!("<{what} xmlns='{INFO_NS}'/>"));
    feed(&mut c, &iq_set("h1", BOB, ALICE, &info("hold")), now);
    assert_eq!(sent_el(&mut c)[0].attr("type"), Some("result"));
    let ev = events(&mut c);
    let [Event::Offer { sdp, .. }] = &ev[..] else { panic!("{ev:?}") };
    assert!(renegotiate::directions(sdp).iter().flatten().all(|d| d == "sendonly"), "{sdp}");
    // The other leg's answer stays here.
    c.answer(call, &ANSWER.replace("a=sendrecv", "a=recvonly"), now).unwrap();
    assert!(sent(&mut c).is_empty());
    feed(&mut c, &iq_set("h2", BOB, ALICE, &info("active")), now);
    sent(&mut c);
    let ev = events(&mut c);
    let [Event::Offer { sdp, .. }] = &ev[..] else { panic!("{ev:?}") };
    assert!(!renegotiate::directions(sdp).iter().flatten().any(|d| d == "sendonly"));
    c.answer(call, ANSWER, now).unwrap();
    assert_eq!(c.answer(call, ANSWER, now), Err(CallError::WrongState), "nothing pending any more");
}

/// A transport-info for content `name` with new credentials `ufrag`.
fn restart_xml(sid: &str, name: &str, ufrag: &str) -> String {
    jingle(
        "transport-info",
        sid,
        &format!(
            "<content creator='initiator' name='{name}'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' \
             ufrag='{ufrag}' pwd='restartpwd0123456789abc'><candidate component='1' foundation='7' generation='0' \
             id='r1' ip='192.0.2.99' network='0' port='7000' priority='2122260223' protocol='udp' type='host'/>\
             </transport></content>"
        ),
    )
}

#[test]
fn ice_restart_from_the_peer_and_from_the_other_leg() {
    let (mut c, now, call) = incoming_active();
    let sid = "stanza-fixture";
    let offer_sdp = renegotiate::mids(&c.calls[&call].remote_sdp.clone().unwrap());
    let first = offer_sdp[0].clone().unwrap();
    // The peer restarts: an offer with its new credentials and candidate, for the other leg.
    feed(&mut c, &iq_set("r1", BOB, ALICE, &restart_xml(sid, &first, "rst1")), now);
    assert_eq!(sent_el(&mut c)[0].attr("type"), Some("result"));
    let ev = events(&mut c);
    let [Event::Offer { sdp, .. }] = &ev[..] else { panic!("{ev:?}") };
    assert_eq!(renegotiate::ufrags(sdp)[0].as_deref(), Some("rst1"));
    assert!(sdp.contains("192.0.2.99 7000 typ host"));
    // The other leg answers with new credentials: they go back in a transport-info.
    let answer = ANSWER.replace("a=ice-ufrag:H3St", "a=ice-ufrag:new1");
    c.answer(call, &answer, now).unwrap();
    let out = sent_el(&mut c);
    let ti = jingle_of(&out[0]);
    assert_eq!(ti.attr("action"), Some("transport-info"));
    let t = ti.child("content", NS_JINGLE).unwrap().child("transport", NS_ICE).unwrap();
    assert_eq!(t.attr("ufrag"), Some("new1"));
    // Now the other leg restarts: transport-info out, the peer's new credentials come back as the answer.
    let again = ANSWER.replace("a=ice-ufrag:H3St", "a=ice-ufrag:new2");
    c.reoffer(call, &again, now).unwrap();
    let t = jingle_of(&sent_el(&mut c)[0])
        .child("content", NS_JINGLE)
        .unwrap()
        .child("transport", NS_ICE)
        .unwrap()
        .clone();
    assert_eq!(t.attr("ufrag"), Some("new2"));
    assert!(events(&mut c).is_empty(), "the answer waits for the peer");
    feed(&mut c, &iq_set("r2", BOB, ALICE, &restart_xml(sid, &first, "rst2")), now);
    sent(&mut c);
    let ev = events(&mut c);
    let [Event::Answer { sdp, .. }] = &ev[..] else { panic!("{ev:?}") };
    assert_eq!(renegotiate::ufrags(sdp)[0].as_deref(), Some("rst2"));
    // A candidate with the now-known credentials is plain trickle.
    feed(&mut c, &iq_set("r3", BOB, ALICE, &restart_xml(sid, &first, "rst2")), now);
    sent(&mut c);
    assert!(matches!(&events(&mut c)[..], [Event::Candidate { .. }]));
}

#[test]
fn peers_of_calls_are_pinged_and_a_vanished_one_ends_its_call() {
    let (mut c, now, call) = incoming_active();
    c.handle_timeout(now);
    assert!(sent(&mut c).is_empty());
    c.handle_timeout(now + PEER_CHECK);
    let out = sent_el(&mut c);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!((out[0].attr("type"), out[0].attr("to")), (Some("get"), Some(BOB)));
    assert!(out[0].child("ping", "urn:xmpp:ping").is_some());
    let id = out[0].attr("id").unwrap().to_owned();
    // Alive: a result (or an error that says the client has no ping) keeps the call.
    feed(&mut c, &format!("<iq type='result' id='{id}' from='{BOB}' to='{ALICE}'/>"), now);
    assert!(events(&mut c).is_empty());
    c.handle_timeout(now + PEER_CHECK * 2);
    let id = sent_el(&mut c)[0].attr("id").unwrap().to_owned();
    feed(
        &mut c,
        &format!(
            "<iq type='error' id='{id}' from='{BOB}' to='{ALICE}'><error type='cancel'>\
             <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
        ),
        now,
    );
    assert_eq!(events(&mut c), [Event::Ended { call, reason: "peer-disconnected".into() }]);
    assert_eq!(c.calls(), 0);
    assert_eq!(c.poll_timeout(), None, "no ping timer without calls");
}
