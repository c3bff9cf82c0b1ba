//! Calls between a browser and an external leg (SIP or XMPP): the browser
//! side of the bridge. Offers to `sip:`/`sips:` URIs, `xmpp:` JIDs (and to
//! names that only a leg knows, like SIP registrations) open a leg; calls
//! from a leg to a registered name reach that browser as an `offer` (or an
//! `offer-request` when the caller sent no SDP). SIP legs do not trickle:
//! the browser's candidates are gathered into its SDP first
//! ([`crate::gather`]). XMPP legs trickle (XEP-0176 `transport-info`):
//! descriptions go at once and candidates follow one by one, both ways.

use std::time::Instant;

use switchboard_sdp::{IceCandidateInit, SdpOffer, SessionDescription};

use crate::gather::{Gather, Purpose, merge};
use crate::hub::{Hub, LegEvent, LegId, LegInput, LegRefusal, LegSide, Output, Party, Session, media_kinds};
use crate::messages::Relayed;

/// Whether `to` is an address for an external leg.
pub(crate) fn is_external(to: &str) -> bool {
    let scheme = to.split(':').next().unwrap_or_default();
    to.contains(':')
        && (scheme.eq_ignore_ascii_case("sip")
            || scheme.eq_ignore_ascii_case("sips")
            || scheme.eq_ignore_ascii_case("xmpp"))
}

/// Whether `to` is an `xmpp:` address (a JID): a leg to it is an XMPP call,
/// which takes trickled candidates (Jingle does).
pub fn is_xmpp_address(to: &str) -> bool {
    to.get(..5).is_some_and(|s| s.eq_ignore_ascii_case("xmpp:"))
}

/// What a browser's description for a leg is.
pub(crate) enum GatherFor {
    Offer,
    Answer,
}

impl Hub {
    /// Marks `name` as reachable (or no longer) through a leg, e.g. a SIP registration.
    pub fn set_external_name(&mut self, name: &str, reachable: bool) {
        if reachable {
            self.external_names.insert(name.to_owned());
        } else {
            self.external_names.remove(name);
        }
    }

    /// Whether a browser holds `name`.
    pub fn has_name(&self, name: &str) -> bool {
        self.names.contains_key(name)
    }

    /// The session id of `leg`'s call, as its browser knows it.
    pub fn leg_session(&self, leg: LegId) -> Option<&str> {
        self.legs.get(&leg).map(String::as_str)
    }

    /// Marks the leg as one that takes trickled candidates (an XMPP call
    /// from a leg): the browser's answer goes at once, its candidates follow
    /// as [`LegEvent::Candidate`].
    pub fn set_leg_trickle(&mut self, leg: LegId) {
        if let Some(side) =
            self.legs.get(&leg).and_then(|sid| self.sessions.get_mut(sid)).and_then(|s| s.leg.as_mut())
        {
            side.trickle = true;
        }
    }

    /// The leg's party is now known as `uri` (the XMPP client that took a
    /// call placed to a bare JID): what it sends reaches the browser with
    /// this `from`.
    pub fn set_leg_address(&mut self, leg: LegId, uri: &str) {
        if let Some(side) =
            self.legs.get(&leg).and_then(|sid| self.sessions.get_mut(sid)).and_then(|s| s.leg.as_mut())
        {
            uri.clone_into(&mut side.uri);
        }
    }

    /// Starts collecting candidates for `sdp`, which goes to `leg` once
    /// complete (or at once, for a leg that trickles).
    pub(crate) fn gather_for_leg(&mut self, leg: LegId, sid: &str, what: GatherFor, sdp: &str) {
        let deadline = self.now.unwrap_or_else(Instant::now) + self.config.gather_timeout;
        let Some(side) = self.sessions.get_mut(sid).and_then(|s| s.leg.as_mut()) else { return };
        let trickle = side.trickle;
        let purpose = match what {
            GatherFor::Offer if side.undialled => Purpose::Dial { target: side.uri.clone() },
            GatherFor::Offer => Purpose::Offer,
            GatherFor::Answer => Purpose::Answer,
        };
        side.gather = Some(Gather { purpose, sdp: sdp.to_owned(), candidates: Vec::new(), deadline });
        // A description that already says its candidates are complete goes at once, and so does
        // every description for a leg that trickles.
        if trickle || sdp.contains("a=end-of-candidates") {
            self.flush(leg, sid);
        }
    }

    /// A browser candidate (`None`: end of candidates) for the leg of session `sid`.
    pub(crate) fn leg_candidate(&mut self, sid: &str, candidate: Option<IceCandidateInit>) {
        let Some(session) = self.sessions.get_mut(sid) else { return };
        let leg = match (session.offerer, session.answerer) {
            (Party::Leg(l), _) | (_, Party::Leg(l)) => l,
            _ => return,
        };
        if session.leg.as_ref().is_some_and(|s| s.trickle) {
            // `Hub::candidate` has already dropped hidden candidates and masked related addresses.
            let event = LegEvent::Candidate {
                mid: candidate.as_ref().and_then(|c| c.sdp_mid.clone()),
                mline_index: candidate.as_ref().and_then(|c| c.sdp_m_line_index),
                candidate: candidate.map(|c| c.candidate),
            };
            self.out.push_back(Output::Leg { leg, event });
            return;
        }
        let Some(gather) = session.leg.as_mut().and_then(|s| s.gather.as_mut()) else {
            // Candidates after the description went out: the leg cannot take them (no trickle).
            return;
        };
        match candidate {
            Some(c) => gather.candidates.push(c),
            None => self.flush(leg, sid),
        }
    }

    fn flush(&mut self, leg: LegId, sid: &str) {
        let hide = self.config.hide_host_candidates;
        let Some(session) = self.sessions.get_mut(sid) else { return };
        let Some(side) = session.leg.as_mut() else { return };
        let Some(gather) = side.gather.take() else { return };
        let sdp = if side.trickle { gather.sdp } else { merge(&gather.sdp, &gather.candidates) };
        let sdp = if hide { crate::privacy::filter_sdp(&sdp).into_owned() } else { sdp };
        let event = match gather.purpose {
            Purpose::Dial { target } => {
                side.undialled = false;
                let caller = match session.offerer {
                    Party::Peer(p) => p,
                    Party::Leg(_) => return,
                };
                let (from, from_name) = self.peer_texts(caller);
                LegEvent::Dial { target, from, from_name, sdp }
            }
            Purpose::Offer => LegEvent::Offer { sdp },
            Purpose::Answer => LegEvent::Answer { sdp },
        };
        self.out.push_back(Output::Leg { leg, event });
    }

    /// When [`handle_timeout`](Self::handle_timeout) should run next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.sessions.values().filter_map(|s| s.leg.as_ref()?.gather.as_ref().map(|g| g.deadline)).min()
    }

    /// Sends the descriptions whose gathering time is over.
    pub fn handle_timeout(&mut self, now: Instant) {
        let due: Vec<(LegId, String)> = self
            .sessions
            .iter()
            .filter(|(_, s)| {
                s.leg.as_ref().and_then(|l| l.gather.as_ref()).is_some_and(|g| g.deadline <= now)
            })
            .filter_map(|(sid, s)| match (s.offerer, s.answerer) {
                (Party::Leg(l), _) | (_, Party::Leg(l)) => Some((l, sid.clone())),
                _ => None,
            })
            .collect();
        for (leg, sid) in due {
            self.flush(leg, &sid);
        }
    }

    /// A call from leg `leg` (caller `from`, display name `from_name`) to the
    /// browser registered as `to`, with the caller's offer (`None`: the
    /// caller wants an offer, late-offer SIP). The browser receives an
    /// `offer` or an `offer-request` in a new session.
    pub fn leg_incoming(
        &mut self,
        leg: LegId,
        to: &str,
        from: &str,
        from_name: Option<&str>,
        sdp: Option<&str>,
        now: Instant,
    ) -> Result<(), LegRefusal> {
        self.now = Some(now);
        let Some(peer) = self.names.get(to).copied() else { return Err(LegRefusal::NotFound) };
        let kinds = match sdp {
            Some(s) => Some(
                SdpOffer::parse(s)
                    .map(|o| media_kinds(o.description()))
                    .map_err(|e| LegRefusal::BadSdp(e.to_string()))?,
            ),
            None => None,
        };
        let sid = format!("leg-{}", leg.0);
        let side = LegSide {
            uri: from.to_owned(),
            name: from_name.map(str::to_owned),
            gather: None,
            undialled: false,
            trickle: false,
        };
        let session = Session {
            offerer: Party::Leg(leg),
            answerer: Party::Peer(peer),
            pending: kinds.map(|k| (Party::Leg(leg), k)),
            leg: Some(side),
            started: now,
            answered: None,
        };
        self.sessions.insert(sid.clone(), session);
        self.legs.insert(leg, sid.clone());
        if let Some(p) = self.peers_mut(peer) {
            p.push(sid.clone());
        }
        let kind = if sdp.is_some() { "offer" } else { "offer-request" };
        let sdp = sdp.map(|s| self.outgoing_sdp(s));
        let relayed = Relayed { from_name, sdp: sdp.as_deref(), ..Relayed::new(kind, from, &sid) };
        self.send(peer, &relayed);
        Ok(())
    }

    /// Something the leg `leg` did. An SDP that does not parse ends the
    /// call on both sides (the browser gets `hangup` with reason
    /// `incompatible`) and is returned as `Err` so that the leg can be hung up.
    pub fn leg_event(&mut self, leg: LegId, input: LegInput<'_>, now: Instant) -> Result<(), String> {
        self.now = Some(now);
        let Some(sid) = self.legs.get(&leg).cloned() else { return Ok(()) };
        let Some(session) = self.sessions.get(&sid) else { return Ok(()) };
        let Some(Party::Peer(browser)) = session.other(Party::Leg(leg)) else { return Ok(()) };
        let uri = session.leg.as_ref().map(|l| l.uri.clone()).unwrap_or_default();
        let name = session.leg.as_ref().and_then(|l| l.name.clone());
        let from_name = name.as_deref();
        match input {
            LegInput::Ringing => {
                self.send(browser, &Relayed { from_name, ..Relayed::new("ringing", &uri, &sid) });
            }
            LegInput::Answer { sdp, early } => {
                let kinds = session.pending.as_ref().map(|(_, k)| k.clone());
                let desc = match SessionDescription::parse(sdp) {
                    Ok(d) => d,
                    Err(e) => return self.bad_leg_sdp(leg, &sid, e.to_string()),
                };
                if let Some(kinds) = kinds
                    && media_kinds(&desc) != kinds
                {
                    return self.bad_leg_sdp(
                        leg,
                        &sid,
                        "answer media sections differ from the offer's".into(),
                    );
                }
                if !early && let Some(s) = self.sessions.get_mut(&sid) {
                    s.pending = None;
                    s.answered.get_or_insert(now);
                }
                self.stats_relayed();
                let sdp = self.outgoing_sdp(sdp);
                self.send(
                    browser,
                    &Relayed { sdp: Some(&sdp), early, from_name, ..Relayed::new("answer", &uri, &sid) },
                );
            }
            LegInput::Offer { sdp } => {
                let kinds = match SdpOffer::parse(sdp) {
                    Ok(o) => media_kinds(o.description()),
                    Err(e) => return self.bad_leg_sdp(leg, &sid, e.to_string()),
                };
                if let Some(s) = self.sessions.get_mut(&sid) {
                    s.pending = Some((Party::Leg(leg), kinds));
                }
                self.stats_relayed();
                let sdp = self.outgoing_sdp(sdp);
                self.send(
                    browser,
                    &Relayed { sdp: Some(&sdp), from_name, ..Relayed::new("offer", &uri, &sid) },
                );
            }
            LegInput::Candidate { mid, candidate } => {
                let init = match candidate {
                    Some(c) => {
                        let c = c.strip_prefix("a=").unwrap_or(c);
                        // A hidden candidate is simply not relayed.
                        let Some(c) = self.outgoing_candidate(c) else { return Ok(()) };
                        serde_json::json!({"candidate": c, "sdpMid": mid})
                    }
                    None => serde_json::Value::Null,
                };
                self.stats_relayed();
                self.send(
                    browser,
                    &Relayed { candidate: Some(&init), from_name, ..Relayed::new("candidate", &uri, &sid) },
                );
            }
            LegInput::OfferRefused { why } => {
                if let Some(s) = self.sessions.get_mut(&sid) {
                    s.pending = None;
                }
                let message = format!("the other party cannot take this offer: {why}");
                let err = crate::messages::ErrorMessage {
                    kind: "error",
                    code: crate::messages::ErrorCode::OfferRefused.as_str(),
                    message: &message,
                    reference: None,
                    session: Some(&sid),
                };
                self.send(browser, &err);
            }
            LegInput::Dtmf { digit, duration_ms } => {
                let mut buf = [0u8; 4];
                let digits: &str = digit.encode_utf8(&mut buf);
                self.stats_relayed();
                let relayed = Relayed {
                    digits: Some(digits),
                    duration: Some(duration_ms),
                    from_name,
                    ..Relayed::new("dtmf", &uri, &sid)
                };
                self.send(browser, &relayed);
            }
            LegInput::Hangup { reason, sip_code, sip_reason } => {
                self.legs.remove(&leg);
                self.end_session(&sid, Party::Leg(leg), reason, sip_code, sip_reason);
            }
        }
        Ok(())
    }

    fn bad_leg_sdp(&mut self, leg: LegId, sid: &str, why: String) -> Result<(), String> {
        self.legs.remove(&leg);
        self.end_session(sid, Party::Leg(leg), "incompatible", None, Some("the SIP side's SDP is invalid"));
        Err(why)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use serde_json::{Value, json};

    use crate::hub::{Hub, HubConfig, LegEvent, LegId, LegInput, LegRefusal, Output, PeerId};
    use crate::token::Permissions;

    const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n";

    type Drained = (Vec<(PeerId, Value)>, Vec<(LegId, LegEvent)>);

    fn drain(hub: &mut Hub) -> Drained {
        let (mut sends, mut legs) = (Vec::new(), Vec::new());
        while let Some(o) = hub.poll_output() {
            match o {
                Output::Send { to, text } => sends.push((to, serde_json::from_str(&text).unwrap())),
                Output::Leg { leg, event } => legs.push((leg, event)),
                Output::Name { .. } | Output::CallEnded(_) => {}
            }
        }
        (sends, legs)
    }

    fn hub() -> (Hub, Instant) {
        let mut hub = Hub::new(HubConfig::default());
        let now = Instant::now();
        hub.connect(PeerId(1), now, &[], Permissions::all());
        hub.handle_text(PeerId(1), &json!({"type": "register", "name": "alice"}).to_string(), now);
        drain(&mut hub);
        (hub, now)
    }

    #[test]
    fn offer_to_an_xmpp_jid_dials_at_once_and_trickles_both_ways() {
        let (mut hub, now) = hub();
        let offer = json!({"type": "offer", "to": "xmpp:bob@example.org", "session": "s", "sdp": OFFER});
        hub.handle_text(PeerId(1), &offer.to_string(), now);
        let (_, legs) = drain(&mut hub);
        let [(leg, LegEvent::Dial { target, sdp, .. })] = &legs[..] else { panic!("{legs:?}") };
        assert_eq!((target.as_str(), sdp.as_str()), ("xmpp:bob@example.org", OFFER), "no gathering wait");
        let line = "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host";
        let cand =
            json!({"type": "candidate", "session": "s", "candidate": {"candidate": line, "sdpMid": "0"}});
        hub.handle_text(PeerId(1), &cand.to_string(), now);
        hub.handle_text(
            PeerId(1),
            &json!({"type": "candidate", "session": "s", "candidate": null}).to_string(),
            now,
        );
        let (_, legs) = drain(&mut hub);
        assert_eq!(
            legs,
            vec![
                (
                    *leg,
                    LegEvent::Candidate {
                        mid: Some("0".into()),
                        mline_index: None,
                        candidate: Some(line.into())
                    }
                ),
                (*leg, LegEvent::Candidate { mid: None, mline_index: None, candidate: None }),
            ]
        );
        hub.set_leg_address(*leg, "xmpp:bob@example.org/phone");
        hub.leg_event(*leg, LegInput::Candidate { mid: "0", candidate: Some(line) }, now).unwrap();
        hub.leg_event(*leg, LegInput::Candidate { mid: "0", candidate: None }, now).unwrap();
        let (sends, _) = drain(&mut hub);
        assert_eq!(sends[0].1["type"], "candidate");
        assert_eq!(sends[0].1["from"], "xmpp:bob@example.org/phone");
        assert_eq!(sends[0].1["candidate"], json!({"candidate": line, "sdpMid": "0"}));
        assert_eq!(sends[1].1["candidate"], Value::Null);
    }

    #[test]
    fn names_are_announced_when_registered_and_released() {
        let mut hub = Hub::new(HubConfig::default());
        let now = Instant::now();
        hub.connect(PeerId(1), now, &[], Permissions::all());
        hub.handle_text(PeerId(1), &json!({"type": "register", "name": "a"}).to_string(), now);
        hub.handle_text(PeerId(1), &json!({"type": "register", "name": "b"}).to_string(), now);
        hub.disconnect(PeerId(1));
        let mut names = Vec::new();
        while let Some(o) = hub.poll_output() {
            if let Output::Name { name, registered } = o {
                names.push((name, registered));
            }
        }
        let expected = [("a", true), ("a", false), ("b", true), ("b", false)];
        assert_eq!(names, expected.map(|(n, r)| (n.to_owned(), r)));
    }

    #[test]
    fn offer_to_a_sip_uri_waits_for_end_of_candidates_then_dials_with_them() {
        let (mut hub, now) = hub();
        let offer = json!({"type": "offer", "to": "sip:bob@192.0.2.1", "session": "s", "sdp": OFFER});
        hub.handle_text(PeerId(1), &offer.to_string(), now);
        let cand = json!({"type": "candidate", "session": "s", "candidate": {"candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", "sdpMid": "0"}});
        hub.handle_text(PeerId(1), &cand.to_string(), now);
        assert_eq!(drain(&mut hub), (vec![], vec![]), "nothing before the end of candidates");
        let end = json!({"type": "candidate", "session": "s", "candidate": null});
        hub.handle_text(PeerId(1), &end.to_string(), now);
        let (_, legs) = drain(&mut hub);
        let [(leg, LegEvent::Dial { target, from_name, sdp, .. })] = &legs[..] else { panic!("{legs:?}") };
        assert_eq!((target.as_str(), from_name.as_deref()), ("sip:bob@192.0.2.1", Some("alice")));
        assert!(
            sdp.contains("m=audio 50000 ")
                && sdp.contains("a=candidate:1 1 udp")
                && sdp.contains("a=end-of-candidates")
        );
        // The SIP side rings, answers, then hangs up with a cause.
        hub.leg_event(*leg, LegInput::Ringing, now).unwrap();
        let answer = OFFER.replace("a=mid:0", "a=mid:0\r\na=setup:active");
        hub.leg_event(*leg, LegInput::Answer { sdp: &answer, early: false }, now).unwrap();
        hub.leg_event(
            *leg,
            LegInput::Hangup { reason: "busy", sip_code: Some(486), sip_reason: Some("Busy Here") },
            now,
        )
        .unwrap();
        let (sends, _) = drain(&mut hub);
        let kinds: Vec<&str> = sends.iter().map(|(_, m)| m["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["ringing", "answer", "hangup"]);
        assert_eq!(sends[2].1["sipCode"], 486);
        assert_eq!(sends[2].1["from"], "sip:bob@192.0.2.1");
        assert_eq!(hub.stats().sessions, 0);
    }

    #[test]
    fn gathering_ends_at_the_deadline() {
        let (mut hub, now) = hub();
        let offer = json!({"type": "offer", "to": "sip:bob@192.0.2.1", "session": "s", "sdp": OFFER});
        hub.handle_text(PeerId(1), &offer.to_string(), now);
        assert_eq!(hub.poll_timeout(), Some(now + Duration::from_secs(2)));
        hub.handle_timeout(now + Duration::from_secs(2));
        assert!(matches!(&drain(&mut hub).1[..], [(_, LegEvent::Dial { .. })]));
    }

    #[test]
    fn incoming_leg_call_reaches_the_name_and_the_answer_goes_back() {
        let (mut hub, now) = hub();
        let leg = hub.new_leg();
        assert_eq!(
            hub.leg_incoming(leg, "nobody", "sip:c@h", None, Some(OFFER), now),
            Err(LegRefusal::NotFound)
        );
        assert!(matches!(
            hub.leg_incoming(leg, "alice", "sip:c@h", None, Some("v=0"), now),
            Err(LegRefusal::BadSdp(_))
        ));
        hub.leg_incoming(leg, "alice", "sip:carol@h", Some("Carol"), Some(OFFER), now).unwrap();
        let (sends, _) = drain(&mut hub);
        assert_eq!(sends[0].1["type"], "offer");
        assert_eq!(
            (sends[0].1["from"].as_str(), sends[0].1["fromName"].as_str()),
            (Some("sip:carol@h"), Some("Carol"))
        );
        let sid = sends[0].1["session"].as_str().unwrap().to_owned();
        hub.handle_text(PeerId(1), &json!({"type": "ringing", "session": sid}).to_string(), now);
        hub.handle_text(PeerId(1), &json!({"type": "answer", "session": sid, "sdp": OFFER}).to_string(), now);
        hub.handle_text(
            PeerId(1),
            &json!({"type": "candidate", "session": sid, "candidate": null}).to_string(),
            now,
        );
        let (_, legs) = drain(&mut hub);
        assert!(matches!(&legs[..], [(_, LegEvent::Ringing), (_, LegEvent::Answer { .. })]), "{legs:?}");
        // The browser goes away: the leg is told.
        hub.disconnect(PeerId(1));
        let (_, legs) = drain(&mut hub);
        assert_eq!(legs, [(leg, LegEvent::Hangup { reason: "peer-disconnected".into() })]);
    }

    #[test]
    fn late_offer_asks_the_browser_for_an_offer() {
        let (mut hub, now) = hub();
        let leg = hub.new_leg();
        hub.leg_incoming(leg, "alice", "sip:carol@h", None, None, now).unwrap();
        let (sends, _) = drain(&mut hub);
        assert_eq!(sends[0].1["type"], "offer-request");
        let sid = sends[0].1["session"].as_str().unwrap().to_owned();
        let offer = json!({"type": "offer", "to": "sip:carol@h", "session": sid, "sdp": OFFER});
        hub.handle_text(PeerId(1), &offer.to_string(), now);
        hub.handle_text(
            PeerId(1),
            &json!({"type": "candidate", "session": sid, "candidate": null}).to_string(),
            now,
        );
        assert!(matches!(&drain(&mut hub).1[..], [(_, LegEvent::Offer { .. })]));
    }
    const HOST: &str = "candidate:1 1 udp 2122260223 10.0.0.5 50000 typ host generation 0";
    const SRFLX: &str = "candidate:2 1 udp 1686052607 192.0.2.7 50001 typ srflx raddr 10.0.0.5 rport 50000";
    const SRFLX_MASKED: &str = "candidate:2 1 udp 1686052607 192.0.2.7 50001 typ srflx raddr 0.0.0.0 rport 0";

    fn hiding_hub() -> (Hub, Instant) {
        let mut hub = Hub::new(HubConfig { hide_host_candidates: true, ..HubConfig::default() });
        let now = Instant::now();
        hub.connect(PeerId(1), now, &[], Permissions::all());
        hub.handle_text(PeerId(1), &json!({"type": "register", "name": "alice"}).to_string(), now);
        drain(&mut hub);
        (hub, now)
    }

    fn candidate(sid: &str, line: Option<&str>) -> String {
        let c = line.map(|l| json!({"candidate": l, "sdpMid": "0"})).unwrap_or(Value::Null);
        json!({"type": "candidate", "session": sid, "candidate": c}).to_string()
    }

    #[test]
    fn hidden_host_candidates_stay_out_of_a_sip_dial() {
        let (mut hub, now) = hiding_hub();
        // The offer already holds a host candidate (and names it as the default); more trickle.
        let sdp = format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 50000 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 10.0.0.5\r\na=mid:0\r\na={HOST}\r\n"
        );
        let offer = json!({"type": "offer", "to": "sip:bob@192.0.2.1", "session": "s", "sdp": sdp});
        hub.handle_text(PeerId(1), &offer.to_string(), now);
        let mdns = "candidate:3 1 udp 2122262783 0a1b2c3d-1111-2222-3333-444455556666.local 50002 typ host";
        let relay = "candidate:4 1 udp 41885439 198.51.100.3 3478 typ relay raddr 192.0.2.7 rport 50001";
        for line in [Some(mdns), Some(SRFLX), Some(relay), None] {
            hub.handle_text(PeerId(1), &candidate("s", line), now);
        }
        let (sends, legs) = drain(&mut hub);
        assert_eq!(sends, [], "no error for dropped candidates");
        let [(_, LegEvent::Dial { sdp, .. })] = &legs[..] else { panic!("{legs:?}") };
        assert_eq!(
            sdp,
            &format!(
                "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 3478 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 198.51.100.3\r\na=mid:0\r\na={SRFLX_MASKED}\r\na={relay}\r\na=end-of-candidates\r\n"
            ),
            "the default is the relay candidate"
        );
        assert!(switchboard_sdp::SessionDescription::parse(sdp).is_ok());
    }

    #[test]
    fn a_dial_with_only_host_candidates_falls_back_to_the_null_default() {
        let (mut hub, now) = hiding_hub();
        let offer = json!({"type": "offer", "to": "sip:bob@192.0.2.1", "session": "s", "sdp": OFFER});
        hub.handle_text(PeerId(1), &offer.to_string(), now);
        hub.handle_text(PeerId(1), &candidate("s", Some(HOST)), now);
        hub.handle_text(PeerId(1), &candidate("s", None), now);
        let (_, legs) = drain(&mut hub);
        let [(_, LegEvent::Dial { sdp, .. })] = &legs[..] else { panic!("{legs:?}") };
        assert_eq!(sdp, &format!("{OFFER}a=end-of-candidates\r\n"), "m= port 9 and c= 0.0.0.0 stay");
    }

    #[test]
    fn hidden_candidates_are_not_trickled_to_or_from_an_xmpp_leg() {
        let (mut hub, now) = hiding_hub();
        let offer = json!({"type": "offer", "to": "xmpp:bob@example.org", "session": "s", "sdp": OFFER});
        hub.handle_text(PeerId(1), &offer.to_string(), now);
        let (_, legs) = drain(&mut hub);
        let [(leg, LegEvent::Dial { .. })] = &legs[..] else { panic!("{legs:?}") };
        let leg = *leg;
        hub.handle_text(PeerId(1), &candidate("s", Some(HOST)), now);
        hub.handle_text(PeerId(1), &candidate("s", Some(SRFLX)), now);
        let (_, legs) = drain(&mut hub);
        assert_eq!(
            legs,
            [(
                leg,
                LegEvent::Candidate {
                    mid: Some("0".into()),
                    mline_index: None,
                    candidate: Some(SRFLX_MASKED.into())
                }
            )]
        );
        // From the leg: its private and ULA host candidates stay with it.
        let ula = "candidate:5 1 udp 2122262783 fd00:abcd::7 40000 typ host";
        let public = "candidate:6 1 udp 2122260223 203.0.113.4 40002 typ host";
        for c in [Some(HOST), Some(ula), Some(public), None] {
            hub.leg_event(leg, LegInput::Candidate { mid: "0", candidate: c }, now).unwrap();
        }
        let (sends, _) = drain(&mut hub);
        let got: Vec<&Value> = sends.iter().map(|(_, m)| &m["candidate"]).collect();
        assert_eq!(got, [&json!({"candidate": public, "sdpMid": "0"}), &Value::Null]);
    }

    #[test]
    fn a_legs_descriptions_reach_the_browser_without_hidden_candidates() {
        let (mut hub, now) = hiding_hub();
        let leg_sdp = format!(
            "v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 50000 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na={HOST}\r\na={SRFLX}\r\n"
        );
        let expected = format!(
            "v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 50001 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 192.0.2.7\r\na=mid:0\r\na={SRFLX_MASKED}\r\n"
        );
        // An incoming call's offer.
        let leg = hub.new_leg();
        hub.leg_incoming(leg, "alice", "sip:carol@h", None, Some(&leg_sdp), now).unwrap();
        let (sends, _) = drain(&mut hub);
        assert_eq!(sends[0].1["sdp"], expected);
        // The answer to the browser's call.
        let offer = json!({"type": "offer", "to": "sip:bob@192.0.2.1", "session": "s", "sdp": OFFER});
        hub.handle_text(PeerId(1), &offer.to_string(), now);
        hub.handle_text(PeerId(1), &candidate("s", None), now);
        let (_, legs) = drain(&mut hub);
        let [(leg, LegEvent::Dial { .. })] = &legs[..] else { panic!("{legs:?}") };
        hub.leg_event(*leg, LegInput::Answer { sdp: &leg_sdp, early: false }, now).unwrap();
        hub.leg_event(*leg, LegInput::Offer { sdp: &leg_sdp }, now).unwrap();
        let (sends, _) = drain(&mut hub);
        let kinds: Vec<&str> = sends.iter().map(|(_, m)| m["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["answer", "offer"]);
        assert!(sends.iter().all(|(_, m)| m["sdp"] == expected.as_str()), "{sends:?}");
    }
}
