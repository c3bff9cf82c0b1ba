//! Call records: what [`Hub::active_calls`] lists and what
//! [`Output::CallEnded`](crate::Output::CallEnded) carries when a call ends.

use std::time::Instant;

pub use switchboard_bridge::record::{CallInfo, CallParty, CallRecord, millis, outcome, outcome_by};

use crate::hub::{Hub, Party, Session};

impl Hub {
    fn call_party(&self, party: Party, session: &Session) -> CallParty {
        match party {
            Party::Peer(p) => {
                let (address, name) = self.peer_texts(p);
                CallParty { kind: "browser", address, name }
            }
            Party::Leg(_) => {
                let side = session.leg.as_ref();
                let address = side.map(|l| l.uri.clone()).unwrap_or_default();
                let kind = if crate::legs::is_xmpp_address(&address) { "xmpp" } else { "sip" };
                CallParty { kind, address, name: side.and_then(|l| l.name.clone()) }
            }
        }
    }

    fn parties(&self, session: &Session) -> (CallParty, CallParty, String) {
        let caller = self.call_party(session.offerer, session);
        let callee = self.call_party(session.answerer, session);
        let mut kinds = [caller.kind, callee.kind];
        kinds.sort_unstable();
        (caller, callee, kinds.join("-"))
    }

    /// The calls in progress at `now`, by session id.
    pub fn active_calls(&self, now: Instant) -> Vec<CallInfo> {
        let mut calls: Vec<CallInfo> = self
            .sessions
            .iter()
            .map(|(sid, s)| {
                let (caller, callee, pair) = self.parties(s);
                CallInfo {
                    session: sid.clone(),
                    caller,
                    callee,
                    pair,
                    state: if s.answered.is_some() { "answered" } else { "ringing" },
                    age_seconds: now.saturating_duration_since(s.started).as_secs(),
                }
            })
            .collect();
        calls.sort_by(|a, b| a.session.cmp(&b.session));
        calls
    }

    /// The record of `session` ending now, because `by` left with `reason`.
    pub(crate) fn call_record(
        &self,
        sid: &str,
        session: &Session,
        by: Party,
        reason: &str,
        sip_code: Option<u16>,
    ) -> CallRecord {
        let now = self.now.unwrap_or(session.started);
        let (caller, callee, pair) = self.parties(session);
        CallRecord {
            session: sid.to_owned(),
            caller,
            callee,
            pair,
            outcome: outcome_by(
                session.answered.is_some(),
                reason,
                if by == session.offerer { "caller" } else { "callee" },
            ),
            ended_by: if by == session.offerer { "caller" } else { "callee" },
            reason: reason.to_owned(),
            sip_code,
            setup_ms: session.answered.map(|a| millis(a.saturating_duration_since(session.started))),
            talk_ms: session.answered.map_or(0, |a| millis(now.saturating_duration_since(a))),
            duration_ms: millis(now.saturating_duration_since(session.started)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use serde_json::json;

    use super::{CallRecord, outcome};
    use crate::hub::{Hub, HubConfig, LegEvent, LegId, LegInput, Output, PeerId};
    use crate::token::Permissions;

    const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n";

    /// The records queued, and the dials to legs.
    fn drain(hub: &mut Hub) -> (Vec<CallRecord>, Vec<LegId>) {
        let (mut records, mut dials) = (Vec::new(), Vec::new());
        while let Some(o) = hub.poll_output() {
            match o {
                Output::CallEnded(r) => records.push(r),
                Output::Leg { leg, event: LegEvent::Dial { .. } } => dials.push(leg),
                _ => {}
            }
        }
        (records, dials)
    }

    fn hub_with(names: &[&str]) -> (Hub, Instant) {
        let mut hub = Hub::new(HubConfig::default());
        let now = Instant::now();
        for (i, name) in names.iter().enumerate() {
            let id = PeerId(i as u64 + 1);
            hub.connect(id, now, &[], Permissions::all());
            hub.handle_text(id, &json!({"type": "register", "name": name}).to_string(), now);
        }
        drain(&mut hub);
        (hub, now)
    }

    #[test]
    fn an_answered_browser_call_gives_one_record_with_talk_time() {
        let (mut hub, t0) = hub_with(&["alice", "bob"]);
        let offer = json!({"type": "offer", "to": "bob", "session": "s1", "sdp": OFFER});
        hub.handle_text(PeerId(1), &offer.to_string(), t0);
        let calls = hub.active_calls(t0 + Duration::from_secs(1));
        assert_eq!(calls.len(), 1);
        assert_eq!(
            (calls[0].state, calls[0].age_seconds, calls[0].pair.as_str()),
            ("ringing", 1, "browser-browser")
        );
        assert_eq!(calls[0].caller.name.as_deref(), Some("alice"));
        assert_eq!(calls[0].callee.address, "0000000000000002");
        let t1 = t0 + Duration::from_secs(3);
        hub.handle_text(PeerId(2), &json!({"type": "answer", "session": "s1", "sdp": OFFER}).to_string(), t1);
        assert_eq!(hub.active_calls(t1)[0].state, "answered");
        let value = serde_json::to_value(&hub.active_calls(t1)[0]).unwrap();
        assert_eq!(
            value["caller"],
            json!({"kind": "browser", "address": "0000000000000001", "name": "alice"})
        );
        assert_eq!(value["ageSeconds"], 3);
        let t2 = t1 + Duration::from_secs(10);
        hub.handle_text(PeerId(2), &json!({"type": "hangup", "session": "s1"}).to_string(), t2);
        let (records, _) = drain(&mut hub);
        let [r] = &records[..] else { panic!("{records:?}") };
        assert_eq!((r.outcome, r.ended_by, r.reason.as_str()), ("answered", "callee", "normal"));
        assert_eq!((r.setup_ms, r.talk_ms, r.duration_ms), (Some(3000), 10_000, 13_000));
        assert_eq!((r.pair.as_str(), r.callee.name.as_deref()), ("browser-browser", Some("bob")));
        assert!(hub.active_calls(t2).is_empty());
        // A second hangup of the same session gives no second record.
        hub.disconnect_at(PeerId(1), t2);
        assert_eq!(drain(&mut hub).0, []);
    }

    #[test]
    fn a_busy_sip_leg_gives_an_unanswered_browser_sip_record() {
        let (mut hub, t0) = hub_with(&["alice"]);
        let offer = json!({"type": "offer", "to": "sip:bob@192.0.2.1", "session": "s", "sdp": OFFER});
        hub.handle_text(PeerId(1), &offer.to_string(), t0);
        let end = json!({"type": "candidate", "session": "s", "candidate": null});
        hub.handle_text(PeerId(1), &end.to_string(), t0);
        let (_, dials) = drain(&mut hub);
        let [leg] = dials[..] else { panic!("{dials:?}") };
        let calls = hub.active_calls(t0);
        assert_eq!((calls[0].callee.kind, calls[0].callee.address.as_str()), ("sip", "sip:bob@192.0.2.1"));
        assert_eq!(calls[0].state, "ringing");
        let t1 = t0 + Duration::from_secs(2);
        hub.leg_event(leg, LegInput::Ringing, t1).unwrap();
        let busy = LegInput::Hangup { reason: "busy", sip_code: Some(486), sip_reason: Some("Busy Here") };
        hub.leg_event(leg, busy, t1).unwrap();
        let (records, _) = drain(&mut hub);
        let [r] = &records[..] else { panic!("{records:?}") };
        assert_eq!((r.pair.as_str(), r.outcome, r.ended_by), ("browser-sip", "busy", "callee"));
        assert_eq!((r.sip_code, r.setup_ms, r.talk_ms, r.duration_ms), (Some(486), None, 0, 2000));
        assert!(hub.active_calls(t1).is_empty());
    }

    #[test]
    fn active_calls_lists_ringing_and_answered_calls_of_every_kind_then_none() {
        let (mut hub, t0) = hub_with(&["alice", "bob"]);
        hub.handle_text(
            PeerId(1),
            &json!({"type": "offer", "to": "bob", "session": "a", "sdp": OFFER}).to_string(),
            t0,
        );
        hub.handle_text(PeerId(2), &json!({"type": "answer", "session": "a", "sdp": OFFER}).to_string(), t0);
        let xmpp = json!({"type": "offer", "to": "xmpp:carol@example.org", "session": "b", "sdp": OFFER});
        hub.handle_text(PeerId(1), &xmpp.to_string(), t0);
        let leg = hub.new_leg();
        hub.leg_incoming(leg, "bob", "sip:dave@h", Some("Dave"), Some(OFFER), t0).unwrap();
        let calls = hub.active_calls(t0);
        let summary: Vec<(&str, &str, &str)> =
            calls.iter().map(|c| (c.session.as_str(), c.pair.as_str(), c.state)).collect();
        assert_eq!(
            summary,
            [
                ("a", "browser-browser", "answered"),
                ("b", "browser-xmpp", "ringing"),
                (format!("leg-{}", leg.0).as_str(), "browser-sip", "ringing")
            ]
        );
        assert_eq!((calls[2].caller.kind, calls[2].caller.name.as_deref()), ("sip", Some("Dave")));
        hub.disconnect_at(PeerId(1), t0);
        hub.disconnect_at(PeerId(2), t0);
        let (records, _) = drain(&mut hub);
        let mut outcomes: Vec<(&str, &str)> = records.iter().map(|r| (r.pair.as_str(), r.outcome)).collect();
        outcomes.sort_unstable();
        assert_eq!(
            outcomes,
            [("browser-browser", "answered"), ("browser-sip", "cancel"), ("browser-xmpp", "cancel")]
        );
        assert!(records.iter().all(|r| r.reason == "peer-disconnected"));
        assert!(hub.active_calls(t0).is_empty());
    }

    #[test]
    fn outcomes_are_a_small_set() {
        assert_eq!(outcome(true, "busy"), "answered");
        let words = ["busy", "decline", "cancel", "no-answer", "incompatible", "whatever"];
        let got: Vec<&str> = words.iter().map(|w| outcome(false, w)).collect();
        assert_eq!(got, ["busy", "decline", "cancel", "timeout", "failed", "other"]);
    }
}
