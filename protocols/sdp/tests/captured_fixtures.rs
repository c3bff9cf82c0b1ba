//! Tests on SDPs captured from real peers on this machine
//! (`fixtures/sdp/`, see `fixtures/README.md`), named after the peer that
//! produced them. Every fixture must round-trip byte for byte.

use std::net::IpAddr;

use switchboard_sdp::{
    Address, Attribute, CandidateType, Direction, MediaKind, RidDirection, SdpOffer, SessionDescription,
    Setup, TcpType, Transport,
};

fn fixtures_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sdp")
}

fn fixture(name: &str) -> String {
    let path = fixtures_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parses a fixture and checks that writing it gives back the same bytes.
fn parse_round_trip(text: &str) -> SessionDescription<'_> {
    let desc = SessionDescription::parse(text).unwrap_or_else(|e| panic!("{e}"));
    let written = desc.to_sdp();
    if written != text {
        let (a, b): (Vec<_>, Vec<_>) = (text.split("\r\n").collect(), written.split("\r\n").collect());
        let first = a.iter().zip(&b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
        panic!("not byte-exact at line {}:\n  in:  {:?}\n  out: {:?}", first + 1, a.get(first), b.get(first));
    }
    desc
}

#[test]
fn every_captured_fixture_round_trips_byte_for_byte() {
    let mut count = 0;
    let mut sources = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(fixtures_dir()).expect("fixtures/sdp") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "sdp") {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                text.ends_with("\r\n") && !text.replace("\r\n", "").contains('\n'),
                "{path:?} is not CRLF"
            );
            parse_round_trip(&text);
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            sources.insert(name.split('-').next().unwrap().to_owned());
            count += 1;
        }
    }
    assert!(count >= 12, "only {count} fixtures");
    assert!(sources.len() >= 5, "only {sources:?}");
}

#[test]
fn parse_offer_chromium_156_av_datachannel() {
    let text = fixture("chromium-156-offer-audio-video-datachannel.sdp");
    let desc = parse_round_trip(&text);
    let kinds: Vec<_> = desc.media.iter().map(|m| m.kind()).collect();
    assert_eq!(kinds, [MediaKind::Audio, MediaKind::Video, MediaKind::Application]);
    assert_eq!(desc.bundle().unwrap(), ["0", "1", "2"]);
    assert!(desc.attributes().any(|a| matches!(a, Attribute::ExtmapAllowMixed)));
    let Some(Attribute::MsidSemantic(ms)) = desc.attributes().find(|a| a.name() == "msid-semantic") else {
        panic!("no msid-semantic")
    };
    assert!(ms.blank_after_colon);
    assert_eq!(ms.semantic, "WMS");
    assert_eq!(ms.ids.len(), 1);
    // Trickle offer: no candidates yet, ICE credentials and DTLS per section.
    assert_eq!(desc.candidates().count(), 0);
    for (i, m) in desc.media.iter().enumerate() {
        assert_eq!(m.mid(), Some(i.to_string().as_str()));
        assert!(desc.ice_ufrag(i).is_some() && desc.ice_pwd(i).is_some());
        assert_eq!(desc.setup(i), Some(Setup::Actpass));
        assert_eq!(desc.fingerprints(i)[0].hash, "sha-256");
        assert!(m.ice_options().any(|o| o == "trickle"));
    }
    let audio = &desc.media[0];
    assert!(audio.line.is_rtp() && audio.line.is_dtls());
    assert!(audio.rtcp_mux());
    let opus = &audio.codecs()[0];
    assert_eq!(
        (opus.payload, opus.name, opus.clock_rate, opus.channels),
        (111, Some("opus"), Some(48000), Some(2))
    );
    assert_eq!(opus.fmtp, Some("minptime=10;useinbandfec=1"));
    assert!(opus.feedback.iter().any(|fb| fb.kind == "transport-cc"));
    let pcmu = audio.codecs().into_iter().find(|c| c.payload == 0).unwrap();
    assert_eq!(pcmu.name, Some("PCMU"));
    assert!(audio.extmaps().any(|e| e.uri == "urn:ietf:params:rtp-hdrext:sdes:mid"));
    let video = &desc.media[1];
    assert!(video.codecs().iter().any(|c| c.name == Some("VP8")));
    assert!(
        video.codecs().iter().any(|c| c.name == Some("rtx") && c.fmtp.is_some_and(|f| f.starts_with("apt=")))
    );
    assert!(video.ssrcs().any(|s| s.attribute == "cname"));
    assert!(
        video
            .attributes()
            .any(|a| matches!(a, Attribute::SsrcGroup(g) if g.semantics == "FID" && g.ssrcs.len() == 2))
    );
    let data = &desc.media[2];
    assert_eq!(data.line.proto, "UDP/DTLS/SCTP");
    assert_eq!(data.line.formats, ["webrtc-datachannel"]);
    assert_eq!(data.sctp_port(), Some(5000));
    assert_eq!(data.max_message_size(), Some(262144));
    assert!(text.len() > 4000, "the benchmark relies on this being a full-size offer");
}

#[test]
fn parse_answer_chromium_156_av_datachannel_against_its_offer() {
    let offer_text = fixture("chromium-156-offer-audio-video-datachannel.sdp");
    let answer_text = fixture("chromium-156-answer-audio-video-datachannel.sdp");
    let offer = SdpOffer::parse(&offer_text).unwrap();
    let answer = offer.parse_answer(&answer_text).unwrap();
    let desc = answer.description();
    assert_eq!(desc.to_sdp(), answer_text);
    for i in 0..desc.media.len() {
        assert_eq!(desc.setup(i), Some(Setup::Active), "an answerer picks a DTLS role");
    }
    // The answer to a different offer is refused (RFC 3264 §6).
    let dc_offer_text = fixture("chromium-156-offer-datachannel-only.sdp");
    let dc_offer = SdpOffer::parse(&dc_offer_text).unwrap();
    assert!(dc_offer.parse_answer(&answer_text).is_err());
}

#[test]
fn parse_offer_chromium_156_simulcast_rids() {
    let text = fixture("chromium-156-offer-simulcast-rids.sdp");
    let desc = parse_round_trip(&text);
    let video = &desc.media[0];
    let rids: Vec<_> = video.rids().map(|r| (r.id.as_ref(), r.direction)).collect();
    assert_eq!(rids, [("h", RidDirection::Send), ("m", RidDirection::Send), ("l", RidDirection::Send)]);
    let sim = video.simulcast().unwrap();
    assert_eq!(sim.streams(RidDirection::Send), [[("h", false)], [("m", false)], [("l", false)]]);
    assert!(sim.streams(RidDirection::Recv).is_empty());
    assert!(video.extmaps().any(|e| e.uri.contains("rtp-stream-id")));
}

#[test]
fn parse_offer_chromium_156_non_trickle_candidates() {
    let text = fixture("chromium-156-offer-non-trickle-candidates.sdp");
    let desc = parse_round_trip(&text);
    let cands: Vec<_> = desc.candidates().collect();
    assert_eq!(cands.len(), 16);
    let udp = cands.iter().filter(|(_, c)| c.transport_kind() == Transport::Udp).count();
    let tcp: Vec<_> = cands.iter().filter(|(_, c)| c.transport_kind() == Transport::Tcp).collect();
    assert!(udp > 0 && !tcp.is_empty());
    assert!(tcp.iter().all(|(_, c)| c.tcp_type == Some(TcpType::Active) && c.port == 9));
    assert!(cands.iter().any(|(_, c)| c.address.ip().is_some_and(|ip| ip.is_ipv6())));
    assert!(cands.iter().any(|(_, c)| c.address == Address::Ip("127.0.0.1".parse::<IpAddr>().unwrap())));
    assert!(cands.iter().all(|(_, c)| c.kind == CandidateType::Host && c.generation == Some(0)));
    assert!(cands.iter().all(|(_, c)| c.network_id.is_some()));
    // Non-trickle: the m= port is the default candidate's port.
    assert!(desc.media.iter().all(|m| m.line.port != 9));
}

#[test]
fn parse_offer_chromium_156_datachannel_mdns_candidates() {
    let text = fixture("chromium-156-offer-datachannel-mdns-candidates.sdp");
    let desc = parse_round_trip(&text);
    let cands: Vec<_> = desc.media[0].candidates().collect();
    assert_eq!(cands.len(), 2);
    for c in cands {
        let Address::Mdns(name) = &c.address else { panic!("{:?}", c.address) };
        assert!(name.ends_with(".local"));
        assert_eq!((c.network_cost, c.network_id), (Some(999), None));
    }
    let Some(Attribute::MsidSemantic(ms)) = desc.attributes().find(|a| a.name() == "msid-semantic") else {
        panic!()
    };
    assert!(ms.ids.is_empty() && ms.blank_after_colon);
}

#[test]
fn parse_offer_chromium_156_datachannel_only() {
    let text = fixture("chromium-156-offer-datachannel-only.sdp");
    let desc = parse_round_trip(&text);
    assert_eq!(desc.media.len(), 1);
    assert_eq!(desc.media[0].kind(), MediaKind::Application);
    assert!(desc.media[0].codecs().is_empty());
}

#[test]
fn parse_answer_chromium_156_to_aiortc_offer() {
    let offer_text = fixture("aiortc-1.16.0-offer-audio-datachannel.sdp");
    let answer_text = fixture("chromium-156-answer-to-aiortc-audio-datachannel.sdp");
    let offer = SdpOffer::parse(&offer_text).unwrap();
    let answer = offer.parse_answer(&answer_text).unwrap();
    assert_eq!(answer.description().media.len(), 2);
}

#[test]
fn parse_offer_aiortc_1_16_audio_datachannel() {
    let text = fixture("aiortc-1.16.0-offer-audio-datachannel.sdp");
    let desc = parse_round_trip(&text);
    let Some(Attribute::MsidSemantic(ms)) = desc.attributes().find(|a| a.name() == "msid-semantic") else {
        panic!()
    };
    assert!(!ms.blank_after_colon);
    assert_eq!(ms.ids, ["*"]);
    for (i, m) in desc.media.iter().enumerate() {
        assert!(m.end_of_candidates(), "aiortc does not trickle");
        assert!(m.candidates().count() > 0);
        assert!(m.candidates().all(|c| c.foundation.len() == 32 && c.extensions.is_empty()));
        let hashes: Vec<_> = desc.fingerprints(i).iter().map(|f| f.hash.to_string()).collect();
        assert_eq!(hashes, ["sha-256", "sha-384", "sha-512"]);
    }
}

#[test]
fn parse_answer_aiortc_1_16_to_chromium_av_datachannel() {
    let offer_text = fixture("chromium-156-offer-audio-video-datachannel.sdp");
    let answer_text = fixture("aiortc-1.16.0-answer-to-chromium-156-audio-video-datachannel.sdp");
    let answer = SdpOffer::parse(&offer_text).unwrap().parse_answer(&answer_text).unwrap();
    let desc = answer.description();
    assert_eq!(desc.to_sdp(), answer_text);
    assert_eq!(desc.bundle().unwrap().len(), 3);
    assert!(desc.media.iter().all(|m| m.candidates().count() == 3));
}

#[test]
fn parse_invite_offer_baresip_1_0_0_rtp_avp() {
    let text = fixture("baresip-1.0.0-invite-offer-rtp-avp.sdp");
    let desc = parse_round_trip(&text);
    let audio = &desc.media[0];
    assert_eq!(audio.line.proto, "RTP/AVP");
    assert!(!audio.line.is_dtls());
    let names: Vec<_> = audio.codecs().iter().map(|c| c.name.unwrap()).collect();
    assert_eq!(names, ["opus", "G722", "PCMU", "PCMA", "telephone-event"]);
    assert_eq!(desc.direction(0), Direction::Sendrecv);
    assert!(desc.connection().is_some() || audio.connection().is_some());
}

#[test]
fn parse_invite_offer_baresip_1_0_0_ice_dtls_srtp() {
    let text = fixture("baresip-1.0.0-invite-offer-ice-dtls-srtp.sdp");
    let desc = parse_round_trip(&text);
    // Session-level ICE and DTLS apply to every section.
    assert!(desc.media[0].ice_ufrag().is_none());
    assert_eq!(desc.ice_ufrag(0), desc.ice_ufrag(1));
    assert!(desc.ice_ufrag(1).is_some());
    assert_eq!(desc.fingerprints(1)[0].hash, "SHA-256");
    let audio = &desc.media[0];
    assert!(audio.candidates().any(|c| c.component == 2), "no rtcp-mux: two components");
    assert!(audio.candidates().all(|c| c.transport == "UDP"));
    assert!(!audio.rtcp_mux());
    let Some(Attribute::Rtcp(rtcp)) = audio.attributes().find(|a| a.name() == "rtcp") else { panic!() };
    assert!(rtcp.address.is_some());
    // A cname with colons stays whole.
    assert!(
        audio
            .ssrcs()
            .any(|s| s.attribute == "cname" && s.value.as_deref().is_some_and(|v| v.starts_with("sip:")))
    );
    assert!(audio.attributes().any(|a| matches!(a, Attribute::Ptime(p) if p == "20")));
}

#[test]
fn parse_invite_offer_sipp_3_6_1_builtin_uac() {
    let text = fixture("sipp-3.6.1-invite-offer-builtin-uac.sdp");
    let desc = parse_round_trip(&text);
    assert_eq!(desc.media[0].codecs()[0].name, Some("PCMU"));
}

#[test]
fn parse_offer_rtpengine_10_5_webrtc_profile() {
    let text = fixture("rtpengine-10.5.3.5-offer-webrtc-profile.sdp");
    let desc = parse_round_trip(&text);
    let audio = &desc.media[0];
    assert_eq!(audio.line.proto, "UDP/TLS/RTP/SAVPF");
    assert_eq!(audio.candidates().count(), 2);
    let Some(Attribute::Rtcp(rtcp)) = audio.attributes().find(|a| a.name() == "rtcp") else { panic!() };
    assert_eq!((rtcp.port, rtcp.address.is_none()), (30001, true));
    assert!(audio.ice_ufrag().is_some());
}

#[test]
fn parse_offer_rtpengine_10_5_plain_rtp() {
    let text = fixture("rtpengine-10.5.3.5-offer-plain-rtp.sdp");
    let desc = parse_round_trip(&text);
    assert!(desc.media.iter().all(|m| m.line.proto == "RTP/AVP" && m.candidates().count() == 0));
    assert!(desc.bundle().is_none());
}

#[test]
fn parse_invite_offer_jssip_3_13_8_in_chromium_156() {
    let text = fixture("jssip-3.13.8-invite-offer-chromium-156.sdp");
    let desc = parse_round_trip(&text);
    assert_eq!(desc.media.len(), 1);
    assert_eq!(desc.media[0].candidates().count(), 8, "JsSIP waits for gathering before sending");
}

#[test]
fn parse_invite_offer_sipjs_0_21_2_in_chromium_156() {
    let text = fixture("sipjs-0.21.2-invite-offer-audio-video-chromium-156.sdp");
    let desc = parse_round_trip(&text);
    assert_eq!(desc.media.len(), 2);
    assert!(desc.media.iter().all(|m| m.candidates().count() == 8));
}

#[test]
fn into_owned_outlives_the_input() {
    let desc = {
        let text = fixture("chromium-156-offer-non-trickle-candidates.sdp");
        SessionDescription::parse(&text).unwrap().into_owned()
    };
    let text = fixture("chromium-156-offer-non-trickle-candidates.sdp");
    assert_eq!(desc, SessionDescription::parse(&text).unwrap());
    assert_eq!(desc.to_sdp(), text);
}

#[test]
fn candidates_convert_to_rtc_ice_candidate_init_and_back() {
    let text = fixture("chromium-156-offer-non-trickle-candidates.sdp");
    let desc = SessionDescription::parse(&text).unwrap();
    for (index, c) in desc.candidates() {
        let mid = desc.media[index].mid();
        let init = c.to_init(mid, Some(index as u16), desc.ice_ufrag(index));
        assert!(init.candidate.starts_with("candidate:"));
        let json = serde_json::to_string(&init).unwrap();
        let back: switchboard_sdp::IceCandidateInit = serde_json::from_str(&json).unwrap();
        assert_eq!(back.parse_candidate().unwrap().as_ref(), Some(c));
        assert_eq!(back.sdp_mid.as_deref(), mid);
        assert_eq!(back.username_fragment.as_deref(), desc.ice_ufrag(index));
    }
}
