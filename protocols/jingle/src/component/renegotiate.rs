//! Changes to a call in progress, between Jingle and the offer/answer of
//! the other leg (a browser's renegotiation, a SIP re-INVITE).
//!
//! What Jingle clients do and take (stanza.js, Conversations):
//! * **Hold** is `session-info` `<hold/>` and `<active/>` (XEP-0167 §7.2);
//!   content-modify is refused by stanza.js (`bad-request`). So an offer
//!   from the other leg that only changes directions is answered here, from
//!   the peer's last description with each direction complemented, and the
//!   peer is told `<hold/>` (every section sendonly or inactive) or
//!   `<active/>` (back from that). The peer's `<hold/>` becomes an offer to
//!   the other leg with the peer's sections `sendonly` (`inactive` where it
//!   only received); its `<active/>` an offer with the directions it had.
//! * **ICE restart** is a `transport-info` with new `ufrag`/`pwd`
//!   (XEP-0176 §2.4 and §2.5), answered by the other party's
//!   `transport-info` with its own new ones (stanza.js restarts this way,
//!   as initiator). An offer from the other leg with new ICE credentials
//!   goes out so, and the peer's new credentials come back as the answer; a
//!   peer's restart becomes an offer to the other leg, whose answer's
//!   credentials go back in a `transport-info`.
//!
//! Anything else in a new offer (added or removed sections) cannot be
//! said here and is refused ([`CallError::Unsupported`]).

use std::time::Instant;

use super::calls::{CallError, Dir, Renegotiation, State};
use super::{CallId, Component, Event};
use crate::convert::{self, Role};
use crate::jingle::{Action, Content, Jingle, Transport};
use crate::rtp::SessionInfo;

const DIRECTIONS: [&str; 4] = ["sendrecv", "sendonly", "recvonly", "inactive"];

/// An SDP split in lines: the session part, then each media section.
fn split(sdp: &str) -> (&'static str, Vec<Vec<&str>>) {
    let eol = if sdp.contains("\r\n") { "\r\n" } else { "\n" };
    let mut sections: Vec<Vec<&str>> = vec![Vec::new()];
    for line in sdp.split(eol).filter(|l| !l.is_empty()) {
        if line.starts_with("m=") {
            sections.push(Vec::new());
        }
        sections.last_mut().expect("one at least").push(line);
    }
    (eol, sections)
}

fn join(eol: &str, sections: &[Vec<String>]) -> String {
    let mut out = String::new();
    for line in sections.iter().flatten() {
        out.push_str(line);
        out.push_str(eol);
    }
    out
}

/// Whether a media section (its lines) is RTP audio or video: the sections directions apply to.
fn is_rtp(lines: &[&str]) -> bool {
    lines.first().is_some_and(|m| m.starts_with("m=audio") || m.starts_with("m=video"))
}

fn direction_of<'a>(lines: &[&'a str]) -> Option<&'a str> {
    lines.iter().find_map(|l| l.strip_prefix("a=").filter(|d| DIRECTIONS.contains(d)))
}

/// The direction of each media section (the session's, else `sendrecv`,
/// when it has none); `None` for sections other than audio and video.
pub(crate) fn directions(sdp: &str) -> Vec<Option<String>> {
    let (_, sections) = split(sdp);
    let session = direction_of(&sections[0]).unwrap_or("sendrecv");
    sections[1..].iter().map(|s| is_rtp(s).then(|| direction_of(s).unwrap_or(session).to_owned())).collect()
}

/// The `a=ice-ufrag` of each media section (the session's when it has none).
pub(crate) fn ufrags(sdp: &str) -> Vec<Option<String>> {
    let (_, sections) = split(sdp);
    let find = |lines: &[&str]| lines.iter().find_map(|l| l.strip_prefix("a=ice-ufrag:").map(str::to_owned));
    let session = find(&sections[0]);
    sections[1..].iter().map(|s| find(s).or_else(|| session.clone())).collect()
}

/// The `a=mid` of each media section.
pub(crate) fn mids(sdp: &str) -> Vec<Option<String>> {
    let (_, sections) = split(sdp);
    sections[1..]
        .iter()
        .map(|s| s.iter().find_map(|l| l.strip_prefix("a=mid:").map(|m| m.trim().to_owned())))
        .collect()
}

/// The direction a party answers `offered` with, accepting it.
pub(crate) fn complement(offered: &str) -> &'static str {
    match offered {
        "sendonly" => "recvonly",
        "recvonly" => "sendonly",
        "inactive" => "inactive",
        _ => "sendrecv",
    }
}

/// `sdp` with the `o=` version raised by one and each audio and video
/// section's direction replaced by `set(i, its direction)`; the
/// session-level direction moves into the sections.
pub(crate) fn rewrite_directions(sdp: &str, set: impl Fn(usize, &str) -> String) -> String {
    let current = directions(sdp);
    let (eol, sections) = split(sdp);
    let mut out: Vec<Vec<String>> = Vec::with_capacity(sections.len());
    for (i, lines) in sections.iter().enumerate() {
        let rtp = i > 0 && is_rtp(lines);
        let mut kept: Vec<String> = lines
            .iter()
            .filter(|l| !(i == 0 || rtp) || !l.strip_prefix("a=").is_some_and(|d| DIRECTIONS.contains(&d)))
            .map(|l| (*l).to_owned())
            .collect();
        if i == 0 {
            bump_version(&mut kept);
        } else if let Some(dir) = &current[i - 1] {
            kept.push(format!("a={}", set(i - 1, dir)));
        }
        out.push(kept);
    }
    join(eol, &out)
}

fn bump_version(session: &mut [String]) {
    for line in session.iter_mut() {
        let Some(rest) = line.strip_prefix("o=") else { continue };
        let mut parts: Vec<String> = rest.split(' ').map(str::to_owned).collect();
        if let Some(v) = parts.get_mut(2).and_then(|v| v.parse::<u64>().ok().map(|n| (v, n))) {
            *v.0 = (v.1.wrapping_add(1)).to_string();
            *line = format!("o={}", parts.join(" "));
        }
    }
}

/// `sdp` with new ICE credentials and candidates in the sections named:
/// for each `(mid, ufrag, pwd)`, that section's credentials are replaced
/// and its old candidates removed; `candidates` (mid, `candidate:...`)
/// are added to their sections. The `o=` version is raised.
pub(crate) fn replace_ice(
    sdp: &str,
    creds: &[(String, String, String)],
    candidates: &[(String, String)],
) -> String {
    let section_mids = mids(sdp);
    let (eol, sections) = split(sdp);
    let mut out: Vec<Vec<String>> = Vec::with_capacity(sections.len());
    for (i, lines) in sections.iter().enumerate() {
        if i == 0 {
            let mut session: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
            // Session-level credentials move into the sections below.
            session.retain(|l| !l.starts_with("a=ice-ufrag:") && !l.starts_with("a=ice-pwd:"));
            bump_version(&mut session);
            out.push(session);
            continue;
        }
        let mid = section_mids[i - 1].as_deref().unwrap_or_default();
        let new = creds.iter().find(|(m, _, _)| m == mid);
        let session_creds: Vec<&str> = sections[0]
            .iter()
            .filter(|l| l.starts_with("a=ice-ufrag:") || l.starts_with("a=ice-pwd:"))
            .copied()
            .collect();
        let mut kept: Vec<String> = Vec::with_capacity(lines.len() + 4);
        let has_own = lines.iter().any(|l| l.starts_with("a=ice-ufrag:"));
        for l in lines {
            let is_cred = l.starts_with("a=ice-ufrag:") || l.starts_with("a=ice-pwd:");
            let is_cand = l.starts_with("a=candidate:") || *l == "a=end-of-candidates";
            match new {
                Some(_) if is_cred || is_cand => {}
                _ => kept.push((*l).to_owned()),
            }
        }
        match new {
            Some((_, ufrag, pwd)) => {
                kept.push(format!("a=ice-ufrag:{ufrag}"));
                kept.push(format!("a=ice-pwd:{pwd}"));
            }
            None if !has_own => kept.extend(session_creds.iter().map(|l| (*l).to_owned())),
            None => {}
        }
        for (m, c) in candidates {
            if m == mid {
                kept.push(format!("a={}", c.strip_prefix("a=").unwrap_or(c)));
            }
        }
        out.push(kept);
    }
    join(eol, &out)
}

/// `answer` (made from the peer's description, which may have been an
/// offer) with each `a=setup:actpass` replaced by the role the peer took:
/// the opposite of the other leg's `setup` in `local` (RFC 8842 §5.3: an
/// answer says `active` or `passive`).
pub(crate) fn as_answer(answer: &str, local: &str) -> String {
    if !answer.contains("a=setup:actpass") {
        return answer.to_owned();
    }
    let setup_of = |lines: &[&str]| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix("a=setup:"))
            .map(|v| if v == "passive" { "active" } else { "passive" })
    };
    let (_, local_sections) = split(local);
    let local_session = setup_of(&local_sections[0]);
    let (eol, sections) = split(answer);
    let out: Vec<Vec<String>> = sections
        .iter()
        .enumerate()
        .map(|(i, lines)| {
            let theirs =
                local_sections.get(i).and_then(|l| setup_of(l)).or(local_session).unwrap_or("active");
            lines
                .iter()
                .map(|l| if *l == "a=setup:actpass" { format!("a=setup:{theirs}") } else { (*l).to_owned() })
                .collect()
        })
        .collect();
    join(eol, &out)
}

impl Component {
    /// A new offer from the other leg in call `call` (renegotiation). A
    /// change of directions (hold, resume) is answered at once
    /// ([`Event::Answer`]) and the peer told `<hold/>`/`<active/>`; new ICE
    /// credentials (ICE restart) go out in a `transport-info`, and the peer's
    /// new ones come back as the answer. Other changes are refused.
    pub fn reoffer(&mut self, call: CallId, sdp: &str, _now: Instant) -> Result<(), CallError> {
        let c = self.calls.get(&call).ok_or(CallError::UnknownCall)?;
        if c.state != State::Active || c.reneg != Renegotiation::Idle {
            return Err(CallError::WrongState);
        }
        let (Some(local), Some(remote)) = (c.local_sdp.clone(), c.remote_sdp.clone()) else {
            return Err(CallError::WrongState);
        };
        let (old_dirs, new_dirs) = (directions(&local), directions(sdp));
        if old_dirs.len() != new_dirs.len() || directions(&remote).len() != new_dirs.len() {
            return Err(CallError::Unsupported("adding or removing media sections".into()));
        }
        let restart = ufrags(&local) != ufrags(sdp);
        let (sid, dir, was_held) = (c.sid.clone(), c.dir, c.held);
        if let Some(c) = self.calls.get_mut(&call) {
            c.local_sdp = Some(sdp.to_owned());
        }
        if restart {
            let role = if dir == Dir::Out { Role::Initiator } else { Role::Responder };
            let converted = convert::sdp_to_jingle(sdp, role).map_err(|e| CallError::Sdp(e.to_string()))?;
            let mut j = converted.value;
            convert::drop_rtcp_candidates(&mut j);
            self.log(format!("session {sid}: ICE restart from our side"));
            self.send_transport_of(call, j);
            if let Some(c) = self.calls.get_mut(&call) {
                c.reneg = Renegotiation::OurRestart;
            }
        }
        // Hold: every audio and video section is now sendonly or inactive on the other leg's side.
        let rtp: Vec<&String> = new_dirs.iter().flatten().collect();
        let holding = !rtp.is_empty() && rtp.iter().all(|d| *d == "sendonly" || *d == "inactive");
        if holding != was_held {
            let info = if holding { SessionInfo::Hold } else { SessionInfo::Active };
            self.send_info(call, info);
            if let Some(c) = self.calls.get_mut(&call) {
                c.held = holding;
            }
        }
        if !restart {
            let answer = rewrite_directions(&remote, |i, d| match new_dirs[i].as_deref() {
                Some(offered) => complement(offered).to_owned(),
                None => d.to_owned(),
            });
            let answer = as_answer(&answer, sdp);
            self.events.push_back(Event::Answer { call, sdp: answer });
        }
        Ok(())
    }

    /// The other leg's answer to an offer we made it from the peer's
    /// `<hold/>`, `<active/>` or ICE restart. Returns false when no such
    /// offer was out.
    pub(crate) fn renegotiation_answer(&mut self, call: CallId, sdp: &str) -> Result<bool, CallError> {
        let Some(c) = self.calls.get_mut(&call) else { return Err(CallError::UnknownCall) };
        let reneg = std::mem::replace(&mut c.reneg, Renegotiation::Idle);
        match reneg {
            Renegotiation::Idle | Renegotiation::OurRestart => {
                c.reneg = reneg;
                return Ok(false);
            }
            Renegotiation::TheirOffer => {}
            Renegotiation::TheirRestart => {
                let role = if c.dir == Dir::Out { Role::Initiator } else { Role::Responder };
                let converted =
                    convert::sdp_to_jingle(sdp, role).map_err(|e| CallError::Sdp(e.to_string()))?;
                let mut j = converted.value;
                convert::drop_rtcp_candidates(&mut j);
                self.send_transport_of(call, j);
            }
        }
        if let Some(c) = self.calls.get_mut(&call) {
            c.local_sdp = Some(sdp.to_owned());
        }
        Ok(true)
    }

    /// The peer said `<hold/>` (`held`) or `<active/>`/`<unhold/>`: an offer for the other leg.
    pub(crate) fn peer_hold(&mut self, call: CallId, held: bool) {
        let Some(c) = self.calls.get_mut(&call) else { return };
        if c.state != State::Active || c.reneg != Renegotiation::Idle || c.peer_held == held {
            return;
        }
        let Some(remote) = c.remote_sdp.clone() else { return };
        c.peer_held = held;
        c.reneg = Renegotiation::TheirOffer;
        let offer = if held {
            rewrite_directions(&remote, |_, d| {
                match d {
                    "recvonly" | "inactive" => "inactive",
                    _ => "sendonly",
                }
                .to_owned()
            })
        } else {
            rewrite_directions(&remote, |_, d| d.to_owned())
        };
        self.events.push_back(Event::Offer { call, sdp: offer });
    }

    /// A `transport-info` with new credentials for some contents (`creds`:
    /// browser mid, ufrag, pwd) and `candidates` (mid, line): the peer's
    /// answer to our ICE restart, or its own restart.
    pub(crate) fn peer_restart(
        &mut self,
        call: CallId,
        creds: &[(String, String, String)],
        candidates: &[(String, String)],
    ) {
        let Some(c) = self.calls.get_mut(&call) else { return };
        let Some(remote) = c.remote_sdp.clone() else { return };
        let sdp = replace_ice(&remote, creds, candidates);
        c.remote_sdp = Some(sdp.clone());
        let ours = c.reneg == Renegotiation::OurRestart;
        let sid = c.sid.clone();
        if ours {
            c.reneg = Renegotiation::Idle;
            let sdp = as_answer(&sdp, c.local_sdp.as_deref().unwrap_or_default());
            self.events.push_back(Event::Answer { call, sdp });
        } else if c.reneg == Renegotiation::Idle {
            c.reneg = Renegotiation::TheirRestart;
            self.log(format!("session {sid}: ICE restart from the peer"));
            self.events.push_back(Event::Offer { call, sdp });
        }
    }

    /// Sends the transports (credentials, fingerprint, candidates) of `j` as a `transport-info`.
    fn send_transport_of(&mut self, call: CallId, j: Jingle) {
        let Some(c) = self.calls.get_mut(&call) else { return };
        let mut t = Jingle::new(Action::TransportInfo, &c.sid);
        t.initiator = Some(c.initiator.clone());
        let mut creds = Vec::new();
        for content in j.contents {
            let Some(Transport::IceUdp(ice)) = content.transport else { continue };
            let name = c
                .mids
                .iter()
                .find(|(_, m)| *m == content.name)
                .map_or(content.name.clone(), |(n, _)| n.clone());
            creds.push((name.clone(), ice.ufrag.clone(), ice.pwd.clone()));
            let mut out = Content::new(content.creator, &name);
            out.transport = Some(Transport::IceUdp(ice));
            t.contents.push(out);
        }
        if !creds.is_empty() {
            c.creds = creds;
        }
        self.send_jingle(call, t);
    }

    fn send_info(&mut self, call: CallId, info: SessionInfo) {
        let Some(c) = self.calls.get(&call) else { return };
        let mut j = Jingle::new(Action::SessionInfo, &c.sid);
        j.initiator = Some(c.initiator.clone());
        j.info.push(info);
        self.send_jingle(call, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDP: &str = "v=0\r\no=- 7 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-ufrag:sess\r\na=ice-pwd:sesspwd\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=candidate:1 1 udp 1 127.0.0.1 4000 typ host\r\na=sendrecv\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=recvonly\r\n";

    #[test]
    fn directions_and_their_rewriting() {
        let d = |v: &[&str]| v.iter().map(|s| Some((*s).to_owned())).collect::<Vec<_>>();
        assert_eq!(directions(SDP), d(&["sendrecv", "recvonly"]));
        let held = rewrite_directions(SDP, |i, _| if i == 0 { "sendonly".into() } else { "inactive".into() });
        assert_eq!(directions(&held), d(&["sendonly", "inactive"]));
        assert!(held.contains("o=- 7 3 IN IP4"), "version raised: {held}");
        assert!(switchboard_sdp::SessionDescription::parse(&held).is_ok());
        assert_eq!(complement("sendonly"), "recvonly");
        let with_data = "v=0\r\na=inactive\r\nm=audio 9 RTP/AVP 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
        assert_eq!(directions(with_data), [Some("inactive".into()), None]);
        let out = rewrite_directions(with_data, |_, _| "sendonly".into());
        assert!(
            out.ends_with(
                "m=audio 9 RTP/AVP 0\r\na=sendonly\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
            ),
            "{out}"
        );
    }

    #[test]
    fn an_offer_made_an_answer_takes_the_role_left_to_it() {
        let offer = "v=0\r\nm=audio 9 X 0\r\na=setup:actpass\r\nm=video 9 X 0\r\na=setup:actpass\r\n";
        let local = "v=0\r\nm=audio 9 X 0\r\na=setup:active\r\nm=video 9 X 0\r\na=setup:passive\r\n";
        assert_eq!(
            as_answer(offer, local),
            "v=0\r\nm=audio 9 X 0\r\na=setup:passive\r\nm=video 9 X 0\r\na=setup:active\r\n"
        );
    }

    #[test]
    fn ice_credentials_and_candidates_replaced_per_section() {
        assert_eq!(ufrags(SDP), [Some("sess".into()), Some("sess".into())]);
        let creds = [("0".to_owned(), "new0".to_owned(), "newpwd0000000000000000".to_owned())];
        let cands = [("0".to_owned(), "candidate:9 1 udp 9 127.0.0.1 5000 typ host".to_owned())];
        let out = replace_ice(SDP, &creds, &cands);
        assert_eq!(ufrags(&out), [Some("new0".into()), Some("sess".into())]);
        assert!(
            !out.contains("4000 typ host") && out.contains("a=candidate:9 1 udp 9 127.0.0.1 5000 typ host")
        );
        assert!(out.contains("o=- 7 3 "));
        assert!(switchboard_sdp::SessionDescription::parse(&out).is_ok(), "{out}");
    }
}
