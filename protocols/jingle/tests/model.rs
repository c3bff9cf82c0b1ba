//! The Jingle model: actions, reasons, error conditions, session-info, JMI, ICE restarts, trickle.

mod common;

use switchboard_jingle::jmi::{Jmi, JmiKind, has_store_hint};
use switchboard_jingle::rtp::SessionInfo;
use switchboard_jingle::xml::Element;
use switchboard_jingle::{
    Action, Creator, ErrorCondition, Jingle, JingleError, Reason, ReasonCondition, candidate_to_jingle,
    candidates_of,
};

fn shared(name: &str) -> Option<Element> {
    let dir = common::shared_dir()?;
    Some(Element::parse(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap())
}

fn jingle_of(iq: &Element) -> Jingle {
    Jingle::parse(iq.child("jingle", switchboard_jingle::ns::JINGLE).unwrap()).unwrap()
}

#[test]
fn every_action_round_trips() {
    for a in Action::ALL {
        assert_eq!(a.as_str().parse::<Action>(), Ok(a));
        let j = Jingle::new(a, "s1");
        assert_eq!(Jingle::parse(&j.to_element()), Ok(j));
    }
    assert_eq!("coucou".parse::<Action>(), Err(JingleError::UnknownAction("coucou".into())));
}

#[test]
fn invalid_jingle_says_what_is_wrong() {
    let cases = [
        ("<jingle xmlns='urn:xmpp:jingle:1' sid='a'/>", "no action"),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='coucou' sid='a'/>", "unknown Jingle action 'coucou'"),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='session-info'/>", "no sid"),
        ("<jingle xmlns='urn:xmpp:jingle:2' action='session-info' sid='a'/>", "expected <jingle"),
        (
            "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='a'><content creator='nobody' name='x'/></jingle>",
            "invalid creator",
        ),
        (
            "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='a'><content creator='initiator'/></jingle>",
            "<content/> has no name",
        ),
        (
            "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='a'><content name='x'/><content name='x'/></jingle>",
            "two contents are named 'x'",
        ),
        (
            "<jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='a'><content name='x'>\
             <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'><candidate component='1' foundation='1' ip='1.2.3.4' port='99999' priority='1' protocol='udp'/></transport></content></jingle>",
            "invalid port",
        ),
        (
            "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='a'><content name='x'>\
             <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'><payload-type id='200'/></description></content></jingle>",
            "invalid id",
        ),
        (
            "<jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='a'><reason><text>x</text></reason></jingle>",
            "no defined condition",
        ),
    ];
    for (xml, msg) in cases {
        let err = Jingle::parse(&Element::parse(xml).unwrap()).unwrap_err();
        assert!(err.to_string().contains(msg), "{xml}: {err}");
    }
}

#[test]
fn reasons_round_trip() {
    for name in [
        "alternative-session",
        "busy",
        "cancel",
        "connectivity-error",
        "decline",
        "expired",
        "failed-application",
        "failed-transport",
        "general-error",
        "gone",
        "incompatible-parameters",
        "media-error",
        "security-error",
        "success",
        "timeout",
        "unsupported-applications",
        "unsupported-transports",
    ] {
        let c = ReasonCondition::from_name(name).unwrap();
        assert_eq!(c.as_str(), name);
        let mut j = Jingle::new(Action::SessionTerminate, "s");
        j.reason = Some(Reason::new(c).with_text("why"));
        assert_eq!(Jingle::parse(&Element::parse(&j.to_xml()).unwrap()), Ok(j));
    }
    let r = Reason::new(ReasonCondition::AlternativeSession(Some("b494debe".into())));
    assert_eq!(Reason::parse(&r.to_element()), Ok(r));
    let Some(iq) = shared("xep-0167-example-5-session-terminate-invalid-crypto.xml") else { return };
    let r = jingle_of(&iq).reason.unwrap();
    assert_eq!(r.condition, ReasonCondition::SecurityError);
    assert_eq!(r.extra[0].name, "invalid-crypto", "application conditions are kept");
    let iq = shared("xep-0167-example-54-session-terminate-success-text.xml").unwrap();
    let r = jingle_of(&iq).reason.unwrap();
    assert_eq!(r.condition, ReasonCondition::Success);
    assert!(r.text.is_some());
}

#[test]
fn jingle_error_conditions() {
    for (c, stanza) in [
        (ErrorCondition::UnknownSession, "item-not-found"),
        (ErrorCondition::OutOfOrder, "unexpected-request"),
        (ErrorCondition::TieBreak, "conflict"),
        (ErrorCondition::UnsupportedInfo, "feature-not-implemented"),
    ] {
        let err = c.error_element("jabber:component:accept");
        assert_eq!(ErrorCondition::from_error(&err), Some(c));
        assert!(err.child(stanza, switchboard_jingle::ns::STANZAS).is_some());
        assert!(err.child(c.as_str(), switchboard_jingle::ns::JINGLE_ERRORS).is_some());
    }
    let Some(iq) = shared("xep-0166-example-29-iq-error-unknown-session.xml") else { return };
    assert_eq!(ErrorCondition::from_error(&iq), Some(ErrorCondition::UnknownSession));
    let iq = shared("xep-0166-example-34-iq-error-tie-break.xml").unwrap();
    assert_eq!(ErrorCondition::from_error(&iq), Some(ErrorCondition::TieBreak));
}

#[test]
fn session_info_payloads() {
    for info in [
        SessionInfo::Active,
        SessionInfo::Hold,
        SessionInfo::Unhold,
        SessionInfo::Ringing,
        SessionInfo::Mute { creator: Some(Creator::Responder), name: Some("voice".into()) },
        SessionInfo::Unmute { creator: None, name: None },
    ] {
        let mut j = Jingle::new(Action::SessionInfo, "s");
        j.info.push(info);
        assert_eq!(Jingle::parse(&j.to_element()), Ok(j));
    }
    let Some(iq) = shared("xep-0167-example-13-session-info-ringing.xml") else { return };
    assert_eq!(jingle_of(&iq).info, [SessionInfo::Ringing]);
    let iq = shared("xep-0167-example-9-session-info-hold.xml").unwrap();
    assert_eq!(jingle_of(&iq).info, [SessionInfo::Hold]);
    let iq = shared("xep-0167-example-11-session-info-mute.xml").unwrap();
    assert_eq!(
        jingle_of(&iq).info,
        [SessionInfo::Mute { creator: Some(Creator::Responder), name: Some("voice".into()) }]
    );
}

#[test]
fn jmi_messages() {
    let p = Jmi::propose("ca3c", &["audio", "video"]);
    let msg = p.to_message("jabber:component:accept", "a@gw.example/switchboard", "b@example.org");
    assert!(has_store_hint(&msg));
    assert_eq!(msg.attr("type"), Some("chat"));
    let text = msg.to_xml();
    let back = Jmi::from_message(&Element::parse(&text).unwrap()).unwrap().unwrap();
    assert_eq!(back, p);
    let r = Jmi::new(JmiKind::Reject, "ca3c").with_reason(Reason::new(ReasonCondition::Busy));
    assert_eq!(Jmi::parse(&r.to_element()), Ok(r));
    let Some(dir) = common::shared_dir() else { return };
    for (file, kind) in [
        ("xep-0353-example-1-jmi-propose.xml", "propose"),
        ("xep-0353-example-3-jmi-ringing.xml", "ringing"),
        ("xep-0353-example-4-jmi-retract.xml", "retract"),
        ("xep-0353-example-5-jmi-proceed.xml", "proceed"),
        ("xep-0353-example-7-jmi-reject.xml", "reject"),
        ("xep-0353-example-9-jmi-finish.xml", "finish"),
    ] {
        let msg = Element::parse(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap();
        let jmi = Jmi::from_message(&msg).unwrap().unwrap();
        assert_eq!(jmi.kind.as_str(), kind);
        assert_eq!(jmi.id, "ca3cf894-5325-482f-a412-a6e9f832298d");
        assert_eq!(Jmi::parse(&jmi.to_element()).as_ref(), Ok(&jmi), "{file}");
        if kind == "propose" {
            assert_eq!(jmi.kind, JmiKind::Propose { media: vec!["audio".into()], extra: vec![] });
        }
        if kind == "reject" {
            assert_eq!(jmi.reason.unwrap().condition, ReasonCondition::Busy);
        }
    }
    let legacy =
        Element::parse(&std::fs::read_to_string(dir.join("xmpp-rs-jmi-accept-legacy.xml")).unwrap()).unwrap();
    assert_eq!(Jmi::parse(&legacy).unwrap().kind, JmiKind::Accept);
}

#[test]
fn ice_restart_is_a_new_ufrag_and_pwd() {
    let Some(first) = shared("xep-0320-example-1-session-initiate-dtls-fingerprint.xml") else { return };
    let restart = shared("xep-0176-example-7-transport-info-ice-restart.xml").unwrap();
    let (a, b) = (jingle_of(&first), jingle_of(&restart));
    let (ta, tb) = (a.contents[0].ice().unwrap(), b.contents[0].ice().unwrap());
    assert!(tb.is_restart_of(ta));
    assert!(!ta.is_restart_of(ta));
    assert_eq!(tb.candidates[0].generation, Some(1));
    // The browser sees the new ufrag with the candidate.
    let t = candidates_of(&b);
    assert_eq!(t[0].ufrag.as_deref(), Some("g7qs"));
    assert!(t[0].candidate.contains(" generation 1"), "{}", t[0].candidate);
}

#[test]
fn trickle_both_ways() {
    let chromium = "candidate:623702915 1 udp 2122194687 127.0.0.1 60805 typ host generation 0 ufrag 9JXl network-id 1 network-cost 50";
    let content = candidate_to_jingle("0", chromium, Some("9JXl"), None).unwrap();
    assert_eq!(content.creator, Creator::Initiator);
    let mut j = Jingle::new(Action::TransportInfo, "s");
    j.contents.push(content);
    let j = Jingle::parse(&Element::parse(&j.to_xml()).unwrap()).unwrap();
    let back = candidates_of(&j);
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].candidate, chromium, "the browser's candidate comes back as it was");
    assert_eq!(back[0].ufrag.as_deref(), Some("9JXl"));
    // End of candidates both ways.
    let end = candidate_to_jingle("0", "", Some("9JXl"), None).unwrap();
    assert!(end.ice().unwrap().gathering_complete);
    let mut j = Jingle::new(Action::TransportInfo, "s");
    j.contents.push(end);
    assert_eq!(candidates_of(&j)[0].candidate, "");
    assert!(candidate_to_jingle("0", "candidate:garbage", None, None).is_err());
}

#[test]
fn writers_agree_and_namespaces_are_declared_once() {
    let sdp =
        std::fs::read_to_string(common::sdp_dir().join("chromium-156-offer-audio-video-datachannel.sdp"))
            .unwrap();
    let j = switchboard_jingle::sdp_to_jingle(&sdp, switchboard_jingle::Role::Initiator).unwrap().value;
    let xml = j.to_xml();
    assert_eq!(Element::parse(&xml).unwrap(), j.to_element());
    assert_eq!(j.to_element().to_xml(), xml, "the direct writer and the tree writer give the same text");
    assert_eq!(xml.matches("xmlns='urn:xmpp:jingle:apps:rtp:1'").count(), 2, "once per description");
    let mut inside = String::from("<iq xmlns='jabber:client' type='set'>");
    j.write_xml(&mut inside, "jabber:client");
    inside.push_str("</iq>");
    let iq = Element::parse(&inside).unwrap();
    assert_eq!(Jingle::parse(iq.child("jingle", switchboard_jingle::ns::JINGLE).unwrap()).unwrap(), j);
}
