//! One regression test per interop defect that issue #5 ("Why") names in public SDP <-> Jingle
//! translators, each named after it, and the other conversion rules of the issue.

mod common;

use switchboard_jingle::dtls::Setup;
use switchboard_jingle::xml::Element;
use switchboard_jingle::{
    Jingle, Options, Role, Senders, candidate_to_jingle, candidates_of, drop_rtcp_candidates, jingle_to_sdp,
    jingle_to_sdp_with, sdp_to_jingle,
};

const HEAD: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";

fn audio(direction: &str, extra: &str) -> String {
    format!(
        "{HEAD}m=audio 9 UDP/TLS/RTP/SAVPF 111 126\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:aaaaaaaaaaaaaaaaaaaaaaaa\r\n\
         a=fingerprint:sha-256 AB:CD\r\na=setup:actpass\r\na=mid:a\r\na={direction}\r\na=rtcp-mux\r\n\
         a=rtpmap:111 opus/48000/2\r\na=rtpmap:126 telephone-event/8000\r\na=fmtp:126 0-15\r\n{extra}"
    )
}

fn xml_round_trip(j: &Jingle) -> Jingle {
    Jingle::parse(&Element::parse(&j.to_xml()).unwrap()).unwrap()
}

fn jingle(text: &str) -> Jingle {
    Jingle::parse(&Element::parse(text).unwrap()).unwrap()
}

#[test]
fn senders_mapped_regardless_of_role() {
    // a=sendonly in the initiator's offer: the initiator sends; in the responder's answer: the responder.
    let cases = [
        ("sendonly", Role::Initiator, Senders::Initiator),
        ("recvonly", Role::Initiator, Senders::Responder),
        ("sendonly", Role::Responder, Senders::Responder),
        ("recvonly", Role::Responder, Senders::Initiator),
        ("sendrecv", Role::Initiator, Senders::Both),
        ("inactive", Role::Responder, Senders::None),
    ];
    for (dir, role, senders) in cases {
        let j = sdp_to_jingle(&audio(dir, ""), role).unwrap().value;
        assert_eq!(j.contents[0].senders, senders, "a={dir} from the {role:?}");
        let j = xml_round_trip(&j);
        let sdp = jingle_to_sdp(&j, role).unwrap().value;
        assert!(sdp.contains(&format!("\r\na={dir}\r\n")), "{dir} {role:?} back:\n{sdp}");
    }
    // XEP-0167 example 45: the responder's content-modify senders='initiator' is a=recvonly in the
    // responder's SDP and a=sendonly in the initiator's.
    let mut j = sdp_to_jingle(&audio("sendrecv", ""), Role::Initiator).unwrap().value;
    j.contents[0].senders = Senders::Initiator;
    assert!(jingle_to_sdp(&j, Role::Responder).unwrap().value.contains("a=recvonly\r\n"));
    assert!(jingle_to_sdp(&j, Role::Initiator).unwrap().value.contains("a=sendonly\r\n"));
}

#[test]
fn fmtp_without_names_dropped() {
    // SDP -> Jingle -> XML -> Jingle -> SDP keeps `0-15` and RED's `111/111`.
    let sdp = audio("sendrecv", "a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\n")
        .replace(" 111 126", " 111 126 63");
    let j = sdp_to_jingle(&sdp, Role::Initiator).unwrap().value;
    let te = &j.contents[0].rtp().unwrap().payload_types[1];
    assert_eq!((te.parameters[0].name.as_str(), te.parameters[0].value.as_str()), ("", "0-15"));
    assert!(
        j.to_xml().contains("<parameter name='' value='0-15'/>"),
        "lib-jitsi-meet's form, which Conversations reads"
    );
    let back = jingle_to_sdp(&xml_round_trip(&j), Role::Initiator).unwrap().value;
    assert!(back.contains("\r\na=fmtp:126 0-15\r\n") && back.contains("\r\na=fmtp:63 111/111\r\n"), "{back}");
    // The forms other clients write read the same: lib-jitsi-meet's name='' value=, stanza.js's name= only.
    for param in
        ["<parameter name='' value='0-15'/>", "<parameter name='0-15'/>", "<parameter value='0-15'/>"]
    {
        let j = jingle(&format!(
            "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s'><content creator='initiator' name='a'>\
             <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>\
             <payload-type id='126' name='telephone-event' clockrate='8000'>{param}</payload-type></description></content></jingle>"
        ));
        let sdp = jingle_to_sdp(&j, Role::Initiator).unwrap().value;
        assert!(sdp.contains("\r\na=fmtp:126 0-15\r\n"), "{param}: {sdp}");
    }
}

#[test]
fn candidates_without_generation_rejected() {
    // XEP-0176 says generation, id and network are there; Conversations, stanza.js and browsers leave them out.
    let j = jingle(
        "<jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='s'><content creator='initiator' name='0'>\
         <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='abcd' pwd='aaaaaaaaaaaaaaaaaaaaaaaa'>\
         <candidate component='1' foundation='623702915' ip='127.0.0.1' port='60805' priority='2122194687' protocol='udp' type='host'/>\
         </transport></content></jingle>",
    );
    let c = &j.contents[0].ice().unwrap().candidates[0];
    assert_eq!((c.generation, c.id.as_deref(), c.network), (None, None, None));
    let trickle = candidates_of(&j);
    assert_eq!(trickle[0].candidate, "candidate:623702915 1 udp 2122194687 127.0.0.1 60805 typ host");
    assert_eq!((trickle[0].mid.as_str(), trickle[0].ufrag.as_deref()), ("0", Some("abcd")));
    // And the browser's candidate without them goes out as such.
    let content =
        candidate_to_jingle("0", "candidate:1 1 udp 5 192.0.2.1 9 typ host", Some("abcd"), None).unwrap();
    let c = &content.ice().unwrap().candidates[0];
    assert_eq!((c.generation, c.network), (None, None));
    assert!(c.id.is_some(), "we give our candidates the id XEP-0176 asks for");
    // In a session-initiate too, and the SDP written for the browser carries them.
    let text =
        std::fs::read_to_string(common::own_dir().join("conversations-style-session-initiate-audio.xml"))
            .unwrap();
    let Ok(common::Parsed::Jingle(mut si)) = common::parse_any(&text) else { panic!() };
    si.contents[0].ice_mut().unwrap().candidates.iter_mut().for_each(|c| {
        c.generation = None;
        c.id = None;
        c.network = None;
    });
    let sdp = jingle_to_sdp(&si, Role::Initiator).unwrap();
    assert_eq!(sdp.value.matches("a=candidate:").count(), 4, "{:#?}", sdp.losses);
}

#[test]
fn session_level_fingerprints_not_copied_into_every_transport() {
    // baresip puts ICE credentials, the fingerprint and setup at session level.
    let sdp = std::fs::read_to_string(common::sdp_dir().join("baresip-1.0.0-invite-offer-ice-dtls-srtp.sdp"))
        .unwrap();
    let j = sdp_to_jingle(&sdp, Role::Initiator).unwrap().value;
    assert_eq!(j.contents.len(), 2);
    for c in &j.contents {
        let t = c.ice().unwrap();
        assert_eq!(t.ufrag.as_deref(), Some("aVhHO7C"), "{}", c.name);
        assert_eq!(t.pwd.as_deref(), Some("fra91FNDThyAVEzD2S1Cqo3lpkB63e4"));
        assert_eq!(t.fingerprints.len(), 1);
        assert_eq!(t.fingerprints[0].hash, "SHA-256");
        assert_eq!(t.fingerprints[0].setup, Some(Setup::Actpass));
    }
    // Media level wins over session level (RFC 8839 §5.4, RFC 8122 §5).
    let sdp = format!(
        "{HEAD}a=ice-ufrag:sess\r\na=ice-pwd:ssssssssssssssssssssssss\r\na=fingerprint:sha-256 AA:AA\r\na=setup:actpass\r\n\
         m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:1\r\na=ice-ufrag:mine\r\n\
         a=ice-pwd:mmmmmmmmmmmmmmmmmmmmmmmm\r\na=fingerprint:sha-1 BB:BB\r\na=setup:passive\r\n"
    );
    let j = sdp_to_jingle(&sdp, Role::Initiator).unwrap().value;
    let (t0, t1) = (j.contents[0].ice().unwrap(), j.contents[1].ice().unwrap());
    assert_eq!((t0.ufrag.as_deref(), t0.fingerprints[0].value.as_str()), (Some("sess"), "AA:AA"));
    assert_eq!((t1.ufrag.as_deref(), t1.fingerprints[0].value.as_str()), (Some("mine"), "BB:BB"));
    assert_eq!(t1.fingerprints[0].setup, Some(Setup::Passive));
}

#[test]
fn setup_actpass_in_an_answer() {
    // An answer that says actpass (SDP from the responder) is made concrete: active.
    let j = sdp_to_jingle(&audio("sendrecv", ""), Role::Responder).unwrap().value;
    assert_eq!(j.contents[0].ice().unwrap().fingerprints[0].setup, Some(Setup::Active));
    // A session-accept that says actpass gives setup:active in the SDP for the browser.
    let mut accept = sdp_to_jingle(&audio("sendrecv", ""), Role::Initiator).unwrap().value;
    assert_eq!(
        accept.contents[0].ice().unwrap().fingerprints[0].setup,
        Some(Setup::Actpass),
        "offers keep actpass"
    );
    accept.action = switchboard_jingle::Action::SessionAccept;
    let sdp = jingle_to_sdp(&accept, Role::of_action(accept.action)).unwrap().value;
    assert!(sdp.contains("a=setup:active\r\n") && !sdp.contains("actpass"), "{sdp}");
    // An answer without any setup (XEP-0320 makes it optional) is active too; an offer actpass.
    accept.contents[0].ice_mut().unwrap().fingerprints[0].setup = None;
    assert!(jingle_to_sdp(&accept, Role::Responder).unwrap().value.contains("a=setup:active\r\n"));
    assert!(jingle_to_sdp(&accept, Role::Initiator).unwrap().value.contains("a=setup:actpass\r\n"));
    // Passive answers stay passive.
    accept.contents[0].ice_mut().unwrap().fingerprints[0].setup = Some(Setup::Passive);
    assert!(jingle_to_sdp(&accept, Role::Responder).unwrap().value.contains("a=setup:passive\r\n"));
}

#[test]
fn component_2_candidates_dropped_once_rtcp_mux_is_agreed() {
    let text =
        std::fs::read_to_string(common::own_dir().join("conversations-style-session-initiate-audio.xml"))
            .unwrap();
    let Ok(common::Parsed::Jingle(mut j)) = common::parse_any(&text) else { panic!() };
    let all = jingle_to_sdp(&j, Role::Initiator).unwrap().value;
    assert_eq!(all.matches("a=candidate:").count(), 4);
    let muxed =
        jingle_to_sdp_with(&j, Role::Initiator, &Options { drop_rtcp_candidates: true }).unwrap().value;
    assert_eq!(muxed.matches("a=candidate:").count(), 2);
    assert!(!muxed.contains("a=candidate:2316407446 2 "), "{muxed}");
    assert_eq!(drop_rtcp_candidates(&mut j), 2);
    assert!(j.contents[0].ice().unwrap().candidates.iter().all(|c| c.component == 1));
    // Without rtcp-mux nothing is dropped, and a=rtcp names the RTCP candidate.
    let Ok(common::Parsed::Jingle(mut j)) = common::parse_any(&text) else { panic!() };
    j.contents[0].rtp_mut().unwrap().rtcp_mux = false;
    assert_eq!(drop_rtcp_candidates(&mut j), 0);
    let sdp = jingle_to_sdp(&j, Role::Initiator).unwrap().value;
    assert!(sdp.contains("a=rtcp:48177 IN IP4 192.168.1.23\r\n"), "{sdp}");
    assert!(sdp.contains("m=audio 50032 ") && sdp.contains("c=IN IP4 192.168.1.23\r\n"), "{sdp}");
}

#[test]
fn content_name_is_mid_and_sections_without_mid_get_one() {
    let sdp = format!(
        "{HEAD}m=audio 9 RTP/AVP 0\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\nm=video 9 RTP/AVP 96\r\n\
         a=rtpmap:96 VP8/90000\r\nm=audio 9 RTP/AVP 0\r\na=mid:1\r\n"
    );
    let j = sdp_to_jingle(&sdp, Role::Initiator).unwrap().value;
    let names: Vec<&str> = j.contents.iter().map(|c| c.name.as_str()).collect();
    // audio is not unique (two sections), so the index; the taken index `1` gets a suffix.
    assert_eq!(names, ["0", "1_", "2", "1"]);
    let sdp = format!("{HEAD}m=audio 9 RTP/AVP 0\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n");
    let j = sdp_to_jingle(&sdp, Role::Initiator).unwrap().value;
    let names: Vec<&str> = j.contents.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["audio", "video"],
        "the media kind when it is unique (as Conversations and Dino name contents)"
    );
    let back = jingle_to_sdp(&j, Role::Initiator).unwrap().value;
    assert!(back.contains("a=mid:audio\r\n") && back.contains("a=mid:video\r\n"));
}

#[test]
fn what_cannot_be_expressed_is_reported() {
    let sdp = audio("sendrecv", "a=rtcp-xr:rcvr-rtt=all\r\na=rid:h send\r\n");
    let losses = sdp_to_jingle(&sdp, Role::Initiator).unwrap().losses;
    assert_eq!(losses.len(), 2, "{losses:#?}");
    assert!(losses[0].contains("rtcp-xr") && losses[1].contains("rid"));
    // And the other way: a priority SDP cannot carry, a remote-candidate, an unknown element.
    let j = jingle(
        "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s'><content creator='initiator' name='a'>\
         <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'><payload-type id='0' name='PCMU' clockrate='8000'/>\
         <x xmlns='urn:example'/></description>\
         <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='abcd' pwd='aaaaaaaaaaaaaaaaaaaaaaaa'>\
         <candidate component='1' foundation='1' ip='10.0.0.1' port='5' priority='21149780477' protocol='udp' type='host'/>\
         <remote-candidate component='1' ip='10.0.1.2' port='9001'/></transport></content></jingle>",
    );
    let losses = jingle_to_sdp(&j, Role::Initiator).unwrap().losses;
    assert_eq!(losses.len(), 3, "{losses:#?}");
}

/// stanza.js keeps `a=ssrc-group:FID` and the RTX source of a video section only when the
/// `<description/>` names its primary SSRC (XEP-0167 `ssrc`): the first of the FID group.
#[test]
fn description_ssrc_names_the_primary_source() {
    let sdp = std::fs::read_to_string(format!(
        "{}/../../fixtures/sdp/chromium-156-offer-audio-video-datachannel.sdp",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let j = sdp_to_jingle(&sdp, Role::Initiator).unwrap().value;
    let video = j.contents.iter().find_map(|c| c.rtp().filter(|d| d.media == "video")).unwrap();
    let fid = video.ssrc_groups.iter().find(|g| g.semantics == "FID").unwrap();
    assert_eq!(video.ssrc, Some(fid.ssrcs[0]));
    let audio = j.contents.iter().find_map(|c| c.rtp().filter(|d| d.media == "audio")).unwrap();
    assert_eq!(audio.ssrc, Some(audio.sources[0].ssrc));
    // It adds no SDP line on the way back.
    let back = jingle_to_sdp(&j, Role::Initiator).unwrap();
    assert_eq!(back.value.matches("a=ssrc:").count(), sdp.matches("a=ssrc:").count());
}
