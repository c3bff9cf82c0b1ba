//! The XMPP component core: any byte chunks from the server (split at
//! `\0\0\0`), interleaved with templated stanzas that reuse the session and
//! stanza ids the component sent (so that the fuzzer reaches every call
//! state), the browser side's commands and time, must never panic, and
//! everything the component sends must parse as one XML element.

#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use switchboard_jingle::component::{CallId, Component, ComponentConfig, Event};
use switchboard_jingle::xml::Element;

const OFFER: &str = include_str!("../../fixtures/sdp/chromium-156-offer-audio-video-datachannel.sdp");
const ANSWER: &str = include_str!("../../fixtures/sdp/chromium-156-answer-audio-video-datachannel.sdp");
const JINGLE_OFFER: &str = include_str!(
    "../../fixtures/jingle/stanza-12.22.1-session-initiate-chromium-156-audio-video-datachannel.xml"
);
/// A small browser offer and answer (one audio section): most inputs use
/// them, so that the fuzzer spends its time in the component, not in the
/// XML of a 6 KB description.
const SMALL_OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
    m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n\
    a=ice-options:trickle\r\na=fingerprint:sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:\
    AB:CD:EF:01:23:45:67:89\r\na=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n";
const SMALL_ANSWER: &str = "v=0\r\no=- 3 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
    m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:wxyz\r\na=ice-pwd:wxyzefghijklmnopqrstuvwx\r\n\
    a=ice-options:trickle\r\na=fingerprint:sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:\
    AB:CD:EF:01:23:45:67:89\r\na=setup:active\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n";
/// A small Jingle description of bob's (`ACTION`, `SID`, `SETUP` filled in).
const SMALL_JINGLE: &str = "<jingle xmlns='urn:xmpp:jingle:1' action='ACTION' sid='SID'><content creator='initiator' \
    name='0'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'><payload-type id='111' name='opus' \
    clockrate='48000' channels='2'/><rtcp-mux/></description><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' \
    ufrag='u1' pwd='pppppppppppppppppppppp'><fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' \
    setup='SETUP'>AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89\
    </fingerprint><candidate component='1' foundation='1' generation='0' id='c1' ip='192.0.2.1' network='0' \
    port='9000' priority='2122260223' protocol='udp' type='host'/><candidate component='2' foundation='1' \
    generation='0' id='c2' ip='192.0.2.1' network='0' port='9001' priority='2122260222' protocol='udp' \
    type='host'/></transport></content></jingle>";
const HEADER: &str = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' \
    xmlns='jabber:component:accept' from='gw.example' id='f1'>";
const BOB: &str = "bob@example/phone";
const ALICE: &str = "alice@gw.example/switchboard";

/// A stanza from bob about session or stanza id `id`, chosen by `which`.
fn template(which: u8, id: &str, extra: &str) -> String {
    let jingle = |action: &str, inner: &str| {
        format!(
            "<iq type='set' id='f{which}' from='{BOB}' to='{ALICE}'><jingle xmlns='urn:xmpp:jingle:1' \
             action='{action}' sid='{id}'>{inner}</jingle></iq>"
        )
    };
    let jmi = |kind: &str, to: &str, inner: &str| {
        format!(
            "<message type='chat' from='{BOB}' to='{to}'><{kind} xmlns='urn:xmpp:jingle-message:0' id='{id}'>{inner}\
             </{kind}></message>"
        )
    };
    let candidate = "<content creator='initiator' name='0'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' \
        ufrag='u' pwd='p'><candidate component='1' foundation='1' generation='0' id='c' ip='192.0.2.1' \
        port='9' priority='1' protocol='udp' type='host'/></transport></content>";
    match which % 16 {
        0 => jmi("proceed", ALICE, ""),
        1 => jmi("ringing", ALICE, ""),
        2 => jmi("reject", ALICE, "<reason xmlns='urn:xmpp:jingle:1'><busy/></reason>"),
        3 => jmi(
            "propose",
            "alice@gw.example",
            "<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/>",
        ),
        4 => jmi("retract", "alice@gw.example", extra),
        5 | 6 if extra.is_empty() => {
            let (action, setup) =
                if which % 16 == 5 { ("session-accept", "active") } else { ("session-initiate", "actpass") };
            let j =
                SMALL_JINGLE.replacen("ACTION", action, 1).replacen("SID", id, 1).replacen("SETUP", setup, 1);
            format!("<iq type='set' id='s' from='{BOB}' to='{ALICE}'>{j}</iq>")
        }
        5 => {
            static ACCEPT: OnceLock<String> = OnceLock::new();
            let accept = ACCEPT.get_or_init(|| {
                let mut j = switchboard_jingle::Jingle::parse_xml(JINGLE_OFFER).expect("fixture");
                j.action = switchboard_jingle::Action::SessionAccept;
                j.sid = "SID".to_owned();
                j.to_xml()
            });
            let j = accept.replacen("sid='SID'", &format!("sid='{id}'"), 1);
            format!("<iq type='set' id='a' from='{BOB}' to='{ALICE}'>{j}</iq>")
        }
        6 => {
            let j = JINGLE_OFFER.replacen("sid=\"stanza-fixture\"", &format!("sid=\"{id}\""), 1);
            format!("<iq type='set' id='i' from='{BOB}' to='{ALICE}'>{j}</iq>")
        }
        7 => jingle("transport-info", candidate),
        8 => jingle("session-terminate", "<reason><success/></reason>"),
        9 => jingle("session-info", "<ringing xmlns='urn:xmpp:jingle:apps:rtp:info:1'/>"),
        10 => jingle("session-info", extra),
        11 => format!("<iq type='result' id='{id}' from='{BOB}' to='{ALICE}'/>"),
        12 => format!(
            "<iq type='error' id='{id}' from='{BOB}' to='{ALICE}'><error type='cancel'>\
             <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
        ),
        13 => jingle("content-add", extra),
        14 => format!("<presence type='subscribe' from='bob@example' to='{id}@gw.example'/>"),
        _ => jingle("transport-info", extra),
    }
}

/// The ids (`sid`, `id`) in text the component sent.
fn ids_in(s: &str, out: &mut Vec<String>) {
    for key in ["sid='", "id='"] {
        let mut rest = s;
        while let Some(i) = rest.find(key) {
            rest = &rest[i + key.len()..];
            if let Some(end) = rest.find('\'') {
                if out.len() < 64 {
                    out.push(rest[..end].to_owned());
                }
                rest = &rest[end..];
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let config = ComponentConfig {
        domain: "gw.example".into(),
        secret: "s".into(),
        resource: "switchboard".into(),
        ring_timeout: Duration::from_secs(60),
    };
    let mut c = Component::new(config);
    let mut now = Instant::now();
    c.set_name("alice", true);
    c.connected(now);
    c.handle_input(HEADER.as_bytes(), now);
    c.handle_input(b"<handshake/>", now);
    let mut calls: Vec<CallId> = Vec::new();
    let mut ids: Vec<String> = vec!["stanza-fixture".into()];
    let mut rest = data;
    while !rest.is_empty() {
        let (chunk, next) = match rest.windows(3).position(|w| w == b"\0\0\0") {
            Some(i) => (&rest[..i], &rest[i + 3..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        let op = chunk.first().copied().unwrap_or(0);
        let arg = chunk.get(1).copied().unwrap_or(0);
        let body = chunk.get(2..).unwrap_or_default();
        let text = String::from_utf8_lossy(body);
        match op % 10 {
            0..=2 => c.handle_input(body, now),
            3 | 4 => {
                let id = ids.get(usize::from(arg) % ids.len().max(1)).cloned().unwrap_or_default();
                let id: String = id.chars().filter(|ch| !"'<&\"".contains(*ch)).collect();
                let stanza = template(op / 10, &id, &text.replace(['\'', '"'], ""));
                c.handle_input(stanza.as_bytes(), now);
            }
            5 => {
                let to = if arg & 1 == 0 { "bob@example" } else { BOB };
                let sdp = match (arg & 2 != 0, arg & 8 != 0) {
                    (true, _) => &*text,
                    (false, true) => OFFER,
                    (false, false) => SMALL_OFFER,
                };
                if let Ok(call) = c.dial(if arg & 4 == 0 { "alice" } else { "carol" }, to, sdp, now) {
                    calls.push(call);
                }
            }
            6 => {
                now += Duration::from_millis(u64::from(arg) * 500);
                c.handle_timeout(now);
            }
            7 | 8 => {
                let Some(&call) = calls.get(usize::from(arg) % calls.len().max(1)) else { continue };
                match op / 10 % 6 {
                    0 => c.ringing(call, now),
                    1 => {
                        let sdp = match body.first() {
                            None => SMALL_ANSWER,
                            Some(0) => ANSWER,
                            Some(_) => &*text,
                        };
                        let _ = c.answer(call, sdp, now);
                    }
                    2 => c.candidate(
                        call,
                        "0",
                        Some("candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host"),
                        now,
                    ),
                    3 => c.candidate(call, &text, if arg & 1 == 0 { None } else { Some(&text) }, now),
                    4 => c.hangup(call, "normal", now),
                    _ => c.hangup(call, &text, now),
                }
            }
            _ => match arg % 3 {
                0 => c.set_name(&text, op & 16 == 0),
                1 => c.set_name("alice", op & 16 == 0),
                _ => {
                    c.link_lost(now);
                    c.connected(now);
                    c.handle_input(HEADER.as_bytes(), now);
                    c.handle_input(b"<handshake/>", now);
                }
            },
        }
        while let Some(t) = c.poll_transmit() {
            if t.starts_with("<stream:stream") || t.starts_with("<handshake>") {
                continue;
            }
            if let Err(e) = Element::parse_in(&t, "jabber:component:accept") {
                panic!("the component sent something that does not parse: {e}\n{t}");
            }
            ids_in(&t, &mut ids);
        }
        while let Some(e) = c.poll_event() {
            match e {
                Event::Incoming { call, .. } => calls.push(call),
                Event::StreamError(_) => {
                    c.link_lost(now);
                    c.connected(now);
                    c.handle_input(HEADER.as_bytes(), now);
                    c.handle_input(b"<handshake/>", now);
                }
                _ => {}
            }
        }
        while c.poll_log().is_some() {}
        if ids.len() >= 64 {
            ids.drain(1..32);
        }
        if calls.len() > 256 {
            calls.drain(..128);
        }
    }
});
