//! SDP <-> Jingle, through the SDP model of `switchboard-sdp`
//! (`MAPPING.md` has the line-by-line table).
//!
//! # API
//!
//! ```text
//! sdp_to_jingle(sdp, role)            -> Converted<Jingle>   contents + groups; action session-initiate,
//!                                                             sid "": the caller sets action, sid, initiator/responder
//! jingle_to_sdp(&jingle, role)        -> Converted<String>   SDP text, CRLF
//! jingle_to_sdp_with(&jingle, role, &Options)                 e.g. drop component-2 candidates (rtcp-mux agreed)
//! candidate_to_jingle(mid, "candidate:...", ufrag, pwd) -> Content   for a transport-info (creator initiator)
//! candidates_of(&jingle)              -> Vec<TrickleCandidate>       from a transport-info, browser form
//! drop_rtcp_candidates(&mut jingle)   -> usize               removes component-2 candidates where rtcp-mux is on
//! ```
//!
//! [`Role`] says whose description the SDP (or the Jingle) is: the
//! initiator's (an offer in `session-initiate`) or the responder's (an
//! answer in `session-accept`). It decides how `a=sendonly`/`a=recvonly`
//! map to `senders` (XEP-0167 §6.4 names parties, SDP names "me"), and it
//! makes the DTLS role concrete in answers: a responder never says
//! `actpass` (RFC 5763 §5), whichever side wrote it.
//!
//! What one side can say and the other cannot is listed in
//! [`Converted::losses`], one line each, for logs: nothing is dropped
//! silently. The `o=`, `s=` and `t=0 0` lines carry nothing for a call and
//! are regenerated, not reported; `c=`, `m=` ports and `a=rtcp` are
//! derived from the candidates (`9`/`0.0.0.0` without them).

use std::fmt;
use std::fmt::Write as _;

use compact_str::{CompactString, ToCompactString};
use switchboard_sdp::{Attribute, Candidate as SdpCandidate, Direction, Line, SessionDescription};

use crate::datachannel::Sctp;
use crate::dtls::{Fingerprint, Setup};
use crate::grouping::Group;
use crate::hdrext::HdrExt;
use crate::ice_udp;
use crate::jingle::{Action, Content, Creator, Description, Jingle, Senders, Transport};
use crate::rtcp_fb::{RtcpFb, TrrInt};
use crate::rtp::{self, Crypto, Encryption, Parameter, PayloadType};
use crate::ssma::{Source, SourceParameter, SsrcGroup};

/// Whose description is converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The session's initiator: an offer (`session-initiate`, `content-add` from the initiator).
    Initiator,
    /// The session's responder: an answer (`session-accept`).
    Responder,
}

impl Role {
    /// The role whose description a Jingle action carries: `session-accept`,
    /// `content-accept` and `transport-accept` are the responder's, everything else the initiator's.
    pub fn of_action(action: Action) -> Role {
        match action {
            Action::SessionAccept | Action::ContentAccept | Action::TransportAccept => Role::Responder,
            _ => Role::Initiator,
        }
    }
}

/// A converted value with what could not be expressed on the other side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted<T> {
    /// The result.
    pub value: T,
    /// One line per thing that was not carried over, for logs.
    pub losses: Vec<String>,
}

/// Why a conversion failed as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConvertError {
    /// The SDP does not parse (the message names the line).
    Sdp(String),
    /// A candidate does not parse.
    Candidate(String),
    /// The input has nothing to convert (no media section / content that can be expressed).
    Empty,
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConvertError::Sdp(e) => write!(f, "invalid SDP: {e}"),
            ConvertError::Candidate(e) => write!(f, "invalid candidate: {e}"),
            ConvertError::Empty => f.write_str("nothing to convert: no media that both sides can express"),
        }
    }
}

impl std::error::Error for ConvertError {}

/// Options of [`jingle_to_sdp_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// Leave out component-2 (RTCP) candidates of contents whose description has
    /// `<rtcp-mux/>`: set it once both sides agreed on rtcp-mux (for an answer, or
    /// an offer to a browser, which always multiplexes).
    pub drop_rtcp_candidates: bool,
}

/// A trickled candidate in the browser's `RTCIceCandidateInit` form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrickleCandidate {
    /// The content name (`sdpMid`).
    pub mid: String,
    /// `candidate:...`; empty for end-of-candidates.
    pub candidate: String,
    /// The ICE username fragment of the transport (`usernameFragment`).
    pub ufrag: Option<String>,
}

// ---------------------------------------------------------------------------
// SDP -> Jingle
// ---------------------------------------------------------------------------

/// Converts an SDP (the `role`'s description) into the contents and groups
/// of a Jingle element. The result has action `session-initiate` and an
/// empty sid: the caller sets action, sid, initiator and responder.
pub fn sdp_to_jingle(sdp: &str, role: Role) -> Result<Converted<Jingle>, ConvertError> {
    let desc = SessionDescription::parse(sdp).map_err(|e| ConvertError::Sdp(e.to_string()))?;
    let mut losses = Vec::new();
    let mut jingle = Jingle::new(Action::SessionInitiate, "");

    // Session level.
    let mut session = SessionIce::default();
    let mut allow_mixed = false;
    let mut msid_semantic: Option<String> = None;
    for line in &desc.lines {
        match line {
            Line::Attribute(a) => match a {
                Attribute::Group(g) => jingle.groups.push(Group {
                    semantics: g.semantics.to_string(),
                    contents: g.mids.iter().map(|m| m.to_string()).collect(),
                }),
                Attribute::ExtmapAllowMixed => allow_mixed = true,
                Attribute::MsidSemantic(_) => msid_semantic = Some(format!("a={a}")),
                Attribute::IceUfrag(u) => session.ufrag = Some(u),
                Attribute::IcePwd(p) => session.pwd = Some(p),
                Attribute::Fingerprint(f) => session.fingerprints.push(f),
                Attribute::Setup(s) => session.setup = Some(*s),
                Attribute::IceOptions(o) => ice_options(o, &mut losses),
                Attribute::Direction(d) => session.direction = Some(*d),
                other => losses.push(format!("session-level a={other}: no Jingle equivalent")),
            },
            Line::Timing(t) if t.start == 0 && t.stop == 0 => {}
            Line::Connection(_) => {}
            other => losses.push(format!("session-level {other}: no Jingle equivalent")),
        }
    }

    let names = content_names(&desc);
    let mut stream_ids: Vec<CompactString> = Vec::new();
    for (index, media) in desc.media.iter().enumerate() {
        let name = &names[index];
        let rejected = media.line.port == 0 && !media.attributes().any(|a| a.name() == "bundle-only");
        if rejected {
            losses.push(format!(
                "m={} (mid {name}): port 0, a rejected section has no content; left out",
                media.line
            ));
            jingle.groups.iter_mut().for_each(|g| g.contents.retain(|c| c != name));
            continue;
        }
        let mut conv = SectionConverter::new(role, &session, name);
        let content = if media.line.is_rtp() {
            conv.rtp(media, allow_mixed, &mut losses)
        } else if media.line.proto.contains("SCTP") {
            conv.application(media, &mut losses)
        } else {
            losses.push(format!("m={}: neither RTP nor SCTP data channels; left out", media.line));
            jingle.groups.iter_mut().for_each(|g| g.contents.retain(|c| c != name));
            continue;
        };
        if let Some(d) = content.rtp() {
            for st in &d.streams {
                if !stream_ids.contains(&st.id) {
                    stream_ids.push(st.id.clone());
                }
            }
        }
        jingle.contents.push(content);
    }
    if jingle.contents.is_empty() {
        return Err(ConvertError::Empty);
    }
    if allow_mixed && !jingle.contents.iter().any(|c| c.rtp().is_some()) {
        losses.push(
            "a=extmap-allow-mixed: no RTP description to carry it (XEP-0294 puts it in one)".to_owned(),
        );
    }
    if let Some(line) = msid_semantic {
        let regenerated = msid_semantic_line(stream_ids.iter().map(CompactString::as_str));
        if line != regenerated {
            losses.push(format!("{line}: written back as {regenerated} (from the msid of the streams)"));
        }
    }
    Ok(Converted { value: jingle, losses })
}

/// Session-level ICE and DTLS attributes: copied into every transport that has none of its own.
#[derive(Default)]
struct SessionIce<'s, 'a> {
    ufrag: Option<&'s str>,
    pwd: Option<&'s str>,
    fingerprints: Vec<&'s switchboard_sdp::Fingerprint<'a>>,
    setup: Option<switchboard_sdp::Setup>,
    direction: Option<Direction>,
}

/// `a=ice-options`: `trickle` is what Jingle ICE-UDP does anyway; anything else is lost.
fn ice_options(options: &str, losses: &mut Vec<String>) {
    for o in options.split_ascii_whitespace() {
        if o != "trickle" {
            losses.push(format!("a=ice-options {o}: no Jingle equivalent"));
        }
    }
}

/// Content names: `a=mid`, else the media kind when no other section has that
/// kind or name, else the section index.
fn content_names(desc: &SessionDescription<'_>) -> Vec<String> {
    let mids: Vec<Option<&str>> = desc.media.iter().map(|m| m.mid()).collect();
    let mut names: Vec<String> = Vec::with_capacity(mids.len());
    for (i, m) in desc.media.iter().enumerate() {
        if let Some(mid) = mids[i] {
            names.push(mid.to_owned());
            continue;
        }
        let kind = m.line.media.as_ref();
        let kind_unique = desc.media.iter().filter(|o| o.line.media == kind).count() == 1;
        let taken = |n: &str| mids.contains(&Some(n)) || names.iter().any(|o| o == n);
        let mut name = if kind_unique && !taken(kind) { kind.to_owned() } else { i.to_string() };
        while taken(&name) {
            name.push('_');
        }
        names.push(name);
    }
    names
}

fn senders_of(direction: Direction, role: Role) -> Senders {
    match (direction, role) {
        (Direction::Sendrecv, _) => Senders::Both,
        (Direction::Inactive, _) => Senders::None,
        (Direction::Sendonly, Role::Initiator) | (Direction::Recvonly, Role::Responder) => Senders::Initiator,
        (Direction::Sendonly, Role::Responder) | (Direction::Recvonly, Role::Initiator) => Senders::Responder,
    }
}

fn direction_of(senders: Senders, role: Role) -> Direction {
    match (senders, role) {
        (Senders::Both, _) => Direction::Sendrecv,
        (Senders::None, _) => Direction::Inactive,
        (Senders::Initiator, Role::Initiator) | (Senders::Responder, Role::Responder) => Direction::Sendonly,
        (Senders::Initiator, Role::Responder) | (Senders::Responder, Role::Initiator) => Direction::Recvonly,
    }
}

/// Converts one media section.
struct SectionConverter<'c, 's, 'a> {
    role: Role,
    session: &'c SessionIce<'s, 'a>,
    name: &'c str,
    transport: ice_udp::Transport,
    setup: Option<switchboard_sdp::Setup>,
    direction: Option<Direction>,
    fingerprints: Vec<Fingerprint>,
    cryptex: bool,
}

impl<'c, 's, 'a> SectionConverter<'c, 's, 'a> {
    fn new(role: Role, session: &'c SessionIce<'s, 'a>, name: &'c str) -> Self {
        SectionConverter {
            role,
            session,
            name,
            transport: ice_udp::Transport::default(),
            setup: None,
            direction: None,
            fingerprints: Vec::new(),
            cryptex: false,
        }
    }

    /// Handles the attributes every kind of section has (ICE, DTLS, mid, direction);
    /// `false` when the attribute is not one of them.
    fn common(&mut self, a: &Attribute<'_>, losses: &mut Vec<String>) -> bool {
        match a {
            Attribute::Mid(_) => {}
            Attribute::IceUfrag(u) => self.transport.ufrag = Some(u.to_string()),
            Attribute::IcePwd(p) => self.transport.pwd = Some(p.to_string()),
            Attribute::IceOptions(o) => ice_options(o, losses),
            Attribute::Candidate(c) => self.transport.candidates.push(candidate_from_sdp(c)),
            Attribute::EndOfCandidates => self.transport.gathering_complete = true,
            Attribute::Fingerprint(f) => {
                self.fingerprints.push(Fingerprint::new(&f.hash, &f.value, None));
            }
            Attribute::Setup(s) => self.setup = Some(*s),
            Attribute::Direction(d) => self.direction = Some(*d),
            Attribute::Other { name, value: None } if name == "cryptex" => self.cryptex = true,
            _ => return false,
        }
        true
    }

    /// Fills the transport from the section and the session fallbacks.
    fn finish_transport(&mut self, losses: &mut Vec<String>) -> ice_udp::Transport {
        let mut t = std::mem::take(&mut self.transport);
        if t.ufrag.is_none() {
            t.ufrag = self.session.ufrag.map(str::to_owned);
        }
        if t.pwd.is_none() {
            t.pwd = self.session.pwd.map(str::to_owned);
        }
        let mut fingerprints = std::mem::take(&mut self.fingerprints);
        if fingerprints.is_empty() {
            fingerprints =
                self.session.fingerprints.iter().map(|f| Fingerprint::new(&f.hash, &f.value, None)).collect();
        }
        let setup = self.setup.or(self.session.setup).map(Setup::from).map(|s| match self.role {
            Role::Responder => s.concrete(),
            Role::Initiator => s,
        });
        if setup.is_some() && fingerprints.is_empty() {
            losses.push(format!("mid {}: a=setup without a=fingerprint has no Jingle equivalent", self.name));
        }
        for f in &mut fingerprints {
            f.setup = setup;
            if self.cryptex {
                f.attrs.push(("cryptex".to_owned(), "true".to_owned()));
            }
        }
        if self.cryptex && fingerprints.is_empty() {
            losses
                .push(format!("mid {}: a=cryptex without DTLS fingerprint: no Jingle equivalent", self.name));
        }
        t.fingerprints = fingerprints;
        t
    }

    fn content(&self, senders: Senders) -> Content {
        Content { creator: Creator::Initiator, name: self.name.to_owned(), senders, ..Content::default() }
    }

    fn senders(&self) -> Senders {
        senders_of(self.direction.or(self.session.direction).unwrap_or(Direction::Sendrecv), self.role)
    }

    fn rtp(
        &mut self,
        media: &switchboard_sdp::MediaSection<'_>,
        allow_mixed: bool,
        losses: &mut Vec<String>,
    ) -> Content {
        let mut d = rtp::Description::new(&media.line.media);
        d.extmap_allow_mixed = allow_mixed;
        // Vectors sized once: how many a=extmap, and a=rtcp-fb lines per payload type.
        let mut feedback = [0u8; 128];
        let mut extmaps = 0;
        for line in &media.lines {
            match line {
                Line::Attribute(Attribute::Extmap(_)) => extmaps += 1,
                Line::Attribute(Attribute::RtcpFb(fb)) => {
                    if let Some(n) = fb.payload.and_then(|pt| feedback.get_mut(usize::from(pt))) {
                        *n = n.saturating_add(1);
                    }
                }
                _ => {}
            }
        }
        d.hdrexts.reserve_exact(extmaps);
        // Payload types in m= order; index + 1 by payload number.
        let mut index = [0u8; 128];
        d.payload_types.reserve(media.line.formats.len());
        for f in &media.line.formats {
            match f.parse::<u8>() {
                Ok(pt) if pt < 128 && index[usize::from(pt)] == 0 => {
                    d.payload_types.push(PayloadType {
                        id: pt,
                        rtcp_fb: Vec::with_capacity(usize::from(feedback[usize::from(pt)])),
                        ..PayloadType::default()
                    });
                    index[usize::from(pt)] = d.payload_types.len() as u8;
                }
                _ => {
                    losses.push(format!("mid {}: format {f} is not an RTP payload type; left out", self.name))
                }
            }
        }
        let mut ptime: Option<&str> = None;
        let mut maxptime: Option<&str> = None;
        let proto = media.line.proto.as_ref();
        for line in &media.lines {
            let a = match line {
                Line::Attribute(a) => a,
                Line::Bandwidth(b) => {
                    d.bandwidth.push(rtp::Bandwidth { kind: b.kind.to_compact_string(), value: b.value });
                    continue;
                }
                Line::Connection(_) => continue,
                other => {
                    losses.push(format!("mid {}: {other}: no Jingle equivalent", self.name));
                    continue;
                }
            };
            if self.common(a, losses) {
                continue;
            }
            let pt_of = |pt: u8| match index.get(usize::from(pt)) {
                Some(&i) if i > 0 => Some(usize::from(i) - 1),
                _ => None,
            };
            match a {
                Attribute::Rtpmap(r) => match pt_of(r.payload) {
                    Some(i) => {
                        let pt = &mut d.payload_types[i];
                        pt.name = Some(r.encoding.to_compact_string());
                        pt.clockrate = Some(r.clock_rate);
                        pt.channels = r.channels;
                    }
                    None => losses.push(format!("mid {}: a={a}: payload type not in m= line", self.name)),
                },
                Attribute::Fmtp(f) => match f.payload().and_then(pt_of) {
                    Some(i) => d.payload_types[i].parameters.extend(fmtp_parameters(&f.params)),
                    None => losses.push(format!("mid {}: a={a}: payload type not in m= line", self.name)),
                },
                Attribute::RtcpFb(fb) => {
                    let trr = fb.kind == "trr-int";
                    let target = match fb.payload {
                        None => None,
                        Some(pt) => match pt_of(pt) {
                            Some(i) => Some(i),
                            None => {
                                losses.push(format!("mid {}: a={a}: payload type not in m= line", self.name));
                                continue;
                            }
                        },
                    };
                    if trr {
                        let Some(value) = fb.params.as_deref().and_then(|v| v.trim().parse().ok()) else {
                            losses.push(format!("mid {}: a={a}: trr-int without a number", self.name));
                            continue;
                        };
                        match target {
                            Some(i) => d.payload_types[i].rtcp_fb_trr_int = Some(TrrInt { value }),
                            None => d.rtcp_fb_trr_int = Some(TrrInt { value }),
                        }
                    } else {
                        let fb = RtcpFb::new(&fb.kind, fb.params.as_deref());
                        match target {
                            Some(i) => d.payload_types[i].rtcp_fb.push(fb),
                            None => d.rtcp_fb.push(fb),
                        }
                    }
                }
                Attribute::Ptime(p) => ptime = Some(p),
                Attribute::Maxptime(p) => maxptime = Some(p),
                Attribute::RtcpMux => d.rtcp_mux = true,
                Attribute::RtcpRsize => d.rtcp_rsize = true,
                Attribute::Rtcp(_) => {}
                Attribute::Extmap(e) => d.hdrexts.push(HdrExt {
                    id: e.id.into(),
                    uri: crate::hdrext::uri_str(&e.uri),
                    senders: e.direction.map(|dir| senders_of(dir, self.role)),
                    parameters: e.attributes.iter().map(|a| Parameter::new("", a)).collect(),
                }),
                Attribute::ExtmapAllowMixed => d.extmap_allow_mixed = true,
                Attribute::Ssrc(s) => {
                    let param = SourceParameter {
                        name: s.attribute.to_compact_string(),
                        value: s.value.as_deref().map(CompactString::from),
                    };
                    match d.sources.iter_mut().rev().find(|src| src.ssrc == s.id) {
                        Some(src) => src.parameters.push(param),
                        None => {
                            let mut src = Source::new(s.id);
                            src.parameters.push(param);
                            d.sources.push(src);
                        }
                    }
                }
                Attribute::SsrcGroup(g) => d
                    .ssrc_groups
                    .push(SsrcGroup { semantics: g.semantics.to_compact_string(), ssrcs: g.ssrcs.clone() }),
                Attribute::Msid(m) => d.streams.push(rtp::Stream {
                    id: m.stream.to_compact_string(),
                    track: m.track.as_deref().map(CompactString::from),
                }),
                Attribute::Crypto(c) => {
                    d.encryption.get_or_insert_with(Encryption::default).cryptos.push(Crypto {
                        tag: c.tag,
                        suite: c.suite.to_string(),
                        key_params: c.key_params.to_string(),
                        session_params: c.session_params.as_deref().map(str::to_owned),
                    })
                }
                other => losses.push(format!("mid {}: a={other}: no Jingle equivalent", self.name)),
            }
        }
        for pt in &mut d.payload_types {
            if pt.name.is_none()
                && let Some((name, clock, channels)) = static_payload(pt.id)
            {
                // RFC 3551 static types need no a=rtpmap in SDP; Jingle clients want a name.
                pt.name = Some(name.into());
                pt.clockrate = Some(clock);
                pt.channels = channels;
            }
            pt.ptime = ptime.map(str::to_owned);
            pt.maxptime = maxptime.map(str::to_owned);
        }
        let mut transport = self.finish_transport(losses);
        let regenerated = rtp_proto(&transport, &d);
        if proto != regenerated {
            losses.push(format!("mid {}: m= protocol {proto} is written back as {regenerated}", self.name));
        }
        if transport.ufrag.is_none() && transport.candidates.is_empty() {
            losses.push(format!(
                "mid {}: no ICE (a=ice-ufrag, a=candidate); the media address in c=/m= has no Jingle ICE-UDP equivalent",
                self.name
            ));
        }
        transport.candidates.shrink_to_fit();
        // XEP-0167's `ssrc` on <description/>: the primary source (the first of an FID/SIM group,
        // else the first source). stanza.js keeps a=ssrc-group and the RTX sources only with it.
        if d.ssrc.is_none() {
            d.ssrc = d
                .ssrc_groups
                .iter()
                .find(|g| g.semantics == "FID" || g.semantics == "SIM")
                .and_then(|g| g.ssrcs.first().copied())
                .or_else(|| d.sources.first().map(|s| s.ssrc));
        }
        let mut content = self.content(self.senders());
        content.description = Some(Description::Rtp(d));
        content.transport = Some(Transport::IceUdp(transport));
        content
    }

    fn application(
        &mut self,
        media: &switchboard_sdp::MediaSection<'_>,
        losses: &mut Vec<String>,
    ) -> Content {
        let mut sctp = Sctp::webrtc(5000, None);
        sctp.port = None;
        for line in &media.lines {
            let a = match line {
                Line::Attribute(a) => a,
                Line::Connection(_) => continue,
                other => {
                    losses.push(format!("mid {}: {other}: no Jingle equivalent", self.name));
                    continue;
                }
            };
            if self.common(a, losses) {
                continue;
            }
            match a {
                Attribute::SctpPort(p) => sctp.port = Some(*p),
                Attribute::MaxMessageSize(m) => sctp.max_message_size = Some(*m),
                Attribute::Sctpmap(m) => {
                    sctp.port = Some(m.port);
                    sctp.protocol = Some(m.app.to_string());
                    sctp.streams = m.streams;
                    losses.push(format!(
                        "mid {}: legacy a=sctpmap (draft-ietf-mmusic-sctp-sdp-05) is written back as a=sctp-port",
                        self.name
                    ));
                }
                other => losses.push(format!("mid {}: a={other}: no Jingle equivalent", self.name)),
            }
        }
        if sctp.port.is_none() {
            // RFC 8841 §5.2: 5000 when absent.
            sctp.port = Some(5000);
        }
        let mut transport = self.finish_transport(losses);
        transport.sctp = Some(sctp);
        let mut content = self.content(self.senders());
        content.transport = Some(Transport::IceUdp(transport));
        content
    }
}

/// Splits `a=fmtp` parameters at `;`; a part without `=` is kept with an empty name.
fn fmtp_parameters(params: &str) -> impl Iterator<Item = Parameter> + '_ {
    params.split(';').map(str::trim).filter(|p| !p.is_empty()).map(|p| match p.split_once('=') {
        Some((n, v)) => Parameter::new(n.trim(), v.trim()),
        None => Parameter::new("", p),
    })
}

/// RFC 3551 §6 static payload types.
fn static_payload(pt: u8) -> Option<(&'static str, u32, Option<u16>)> {
    Some(match pt {
        0 => ("PCMU", 8000, None),
        3 => ("GSM", 8000, None),
        4 => ("G723", 8000, None),
        8 => ("PCMA", 8000, None),
        9 => ("G722", 8000, None),
        13 => ("CN", 8000, None),
        18 => ("G729", 8000, None),
        _ => return None,
    })
}

/// A stable id for a candidate that came without one (XEP-0176 requires `id`).
fn candidate_id(c: &SdpCandidate<'_>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: &[u8]| {
        for &x in b {
            h ^= u64::from(x);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x100_0000_01b3);
    };
    eat(c.foundation.as_bytes());
    eat(&c.component.to_le_bytes());
    eat(c.transport.as_bytes());
    eat(&c.priority.to_le_bytes());
    eat(&c.port.to_le_bytes());
    match &c.address {
        switchboard_sdp::Address::Ip(std::net::IpAddr::V4(ip)) => eat(&ip.octets()),
        switchboard_sdp::Address::Ip(std::net::IpAddr::V6(ip)) => eat(&ip.octets()),
        switchboard_sdp::Address::Mdns(s) | switchboard_sdp::Address::Fqdn(s) => eat(s.as_bytes()),
    }
    let mut id = String::with_capacity(16);
    let _ = write!(id, "{h:016x}");
    id
}

/// The Jingle form of an SDP candidate.
fn candidate_from_sdp(c: &SdpCandidate<'_>) -> ice_udp::Candidate {
    let mut attrs = Vec::new();
    if let Some(u) = &c.ufrag {
        attrs.push(("ufrag".to_owned(), u.to_string()));
    }
    if let Some(n) = c.network_cost {
        attrs.push(("network-cost".to_owned(), n.to_string()));
    }
    for (k, v) in &c.extensions {
        attrs.push((k.to_string(), v.to_string()));
    }
    ice_udp::Candidate {
        component: c.component,
        foundation: c.foundation.to_compact_string(),
        generation: c.generation,
        id: Some(candidate_id(c).into()),
        ip: c.address.to_compact_string(),
        network: c.network_id,
        port: c.port,
        priority: c.priority.into(),
        protocol: c.transport.to_compact_string(),
        rel_addr: c.related_address.as_ref().map(ToCompactString::to_compact_string),
        rel_port: c.related_port,
        kind: Some(c.kind.as_str().into()),
        tcptype: c.tcp_type.map(|t| CompactString::from(t.as_str())),
        attrs,
    }
}

/// Builds the content of a `transport-info` for one trickled candidate
/// (`candidate:...` as in `RTCIceCandidateInit`; empty for end-of-candidates,
/// which becomes `<gathering-complete/>`). The content's creator is
/// `initiator`, as for every content of a `session-initiate`.
pub fn candidate_to_jingle(
    mid: &str,
    candidate: &str,
    ufrag: Option<&str>,
    pwd: Option<&str>,
) -> Result<Content, ConvertError> {
    let mut t = ice_udp::Transport {
        ufrag: ufrag.map(str::to_owned),
        pwd: pwd.map(str::to_owned),
        ..ice_udp::Transport::default()
    };
    if candidate.trim().is_empty() {
        t.gathering_complete = true;
    } else {
        let c = SdpCandidate::parse(candidate).map_err(|e| ConvertError::Candidate(e.to_string()))?;
        let jc = candidate_from_sdp(&c);
        if t.ufrag.is_none() {
            t.ufrag = c.ufrag.as_deref().map(str::to_owned);
        }
        t.candidates.push(jc);
    }
    let mut content = Content::new(Creator::Initiator, mid);
    content.transport = Some(Transport::IceUdp(t));
    Ok(content)
}

/// The candidates of a Jingle element (a `transport-info`, or any action
/// carrying candidates) in the browser's form, in order. A transport with
/// `<gathering-complete/>` adds an end-of-candidates entry (empty `candidate`).
pub fn candidates_of(jingle: &Jingle) -> Vec<TrickleCandidate> {
    let mut out = Vec::new();
    for content in &jingle.contents {
        let Some(t) = content.ice() else { continue };
        for c in &t.candidates {
            let mut line = String::with_capacity(96);
            line.push_str("candidate:");
            if write_candidate(&mut line, c).is_ok() {
                out.push(TrickleCandidate {
                    mid: content.name.clone(),
                    candidate: line,
                    ufrag: t.ufrag.clone(),
                });
            }
        }
        if t.gathering_complete {
            out.push(TrickleCandidate {
                mid: content.name.clone(),
                candidate: String::new(),
                ufrag: t.ufrag.clone(),
            });
        }
    }
    out
}

/// Removes component-2 (RTCP) candidates from every content whose RTP
/// description has `<rtcp-mux/>`: once rtcp-mux is agreed they can never be
/// used. Returns how many were removed.
pub fn drop_rtcp_candidates(jingle: &mut Jingle) -> usize {
    let mut removed = 0;
    for content in &mut jingle.contents {
        let muxed = content.rtp().is_some_and(|d| d.rtcp_mux);
        if let (true, Some(t)) = (muxed, content.ice_mut()) {
            let before = t.candidates.len();
            t.candidates.retain(|c| c.component != 2);
            removed += before - t.candidates.len();
        }
    }
    removed
}

// ---------------------------------------------------------------------------
// Jingle -> SDP
// ---------------------------------------------------------------------------

/// Converts the contents of a Jingle element (the `role`'s description)
/// into SDP text with CRLF line ends.
pub fn jingle_to_sdp(jingle: &Jingle, role: Role) -> Result<Converted<String>, ConvertError> {
    jingle_to_sdp_with(jingle, role, &Options::default())
}

/// [`jingle_to_sdp`] with options.
pub fn jingle_to_sdp_with(
    jingle: &Jingle,
    role: Role,
    options: &Options,
) -> Result<Converted<String>, ConvertError> {
    let mut w =
        SdpWriter { out: String::with_capacity(1024 + 2048 * jingle.contents.len()), losses: Vec::new() };
    // Which contents become media sections.
    let written: Vec<&Content> = jingle
        .contents
        .iter()
        .filter(|c| {
            let rtp = c.rtp().is_some();
            let sctp = c.ice().is_some_and(|t| t.sctp.is_some());
            if c.rtp().is_some_and(|d| d.payload_types.is_empty()) {
                w.losses.push(format!("content {}: an RTP description without payload types; no media section", c.name));
                return false;
            }
            if !rtp && !sctp {
                w.losses.push(format!(
                    "content {}: neither an RTP description nor an SCTP (XEP-0343) transport; no media section",
                    c.name
                ));
            } else if !token(&c.name) {
                w.losses.push(format!("content {:?}: the name is not a valid a=mid; no media section", c.name));
                return false;
            }
            rtp || sctp
        })
        .collect();
    if written.is_empty() {
        return Err(ConvertError::Empty);
    }
    let o = &mut w.out;
    o.push_str("v=0\r\no=- ");
    let _ = write!(o, "{}", session_id(&jingle.sid));
    o.push_str(" 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n");
    for g in &jingle.groups {
        let mids: Vec<&str> =
            g.contents.iter().map(String::as_str).filter(|n| written.iter().any(|c| c.name == *n)).collect();
        if !token(&g.semantics) {
            w.losses.push(format!("group {:?}: semantics is not an SDP token", g.semantics));
            continue;
        }
        if mids.len() != g.contents.len() {
            w.losses.push(format!("group {}: names contents that are not media sections", g.semantics));
        }
        w.out.push_str("a=group:");
        w.out.push_str(&g.semantics);
        for m in mids {
            w.out.push(' ');
            w.out.push_str(m);
        }
        w.out.push_str("\r\n");
    }
    let rtp: Vec<&rtp::Description> = written.iter().filter_map(|c| c.rtp()).collect();
    let session_mixed = !rtp.is_empty() && rtp.iter().all(|d| d.extmap_allow_mixed);
    if session_mixed {
        w.out.push_str("a=extmap-allow-mixed\r\n");
    }
    let mut ids: Vec<&str> = Vec::new();
    for d in &rtp {
        for st in &d.streams {
            if token(&st.id) && !ids.contains(&st.id.as_str()) {
                ids.push(&st.id);
            }
        }
    }
    let line = msid_semantic_line(ids.iter().copied());
    w.out.push_str(&line);
    w.out.push_str("\r\n");
    for c in &written {
        w.section(c, role, options, session_mixed);
    }
    Ok(Converted { value: w.out, losses: w.losses })
}

/// `a=msid-semantic: WMS <ids>` as libwebrtc writes it.
fn msid_semantic_line<'i>(ids: impl Iterator<Item = &'i str>) -> String {
    let mut line = String::from("a=msid-semantic: WMS");
    for id in ids {
        line.push(' ');
        line.push_str(id);
    }
    line
}

/// A numeric `o=` session id from the Jingle sid.
fn session_id(sid: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in sid.as_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h >> 1
}

/// The `m=` protocol a content is written with.
fn rtp_proto(t: &ice_udp::Transport, d: &rtp::Description) -> &'static str {
    let feedback = !d.rtcp_fb.is_empty()
        || d.rtcp_fb_trr_int.is_some()
        || d.payload_types.iter().any(|p| !p.rtcp_fb.is_empty() || p.rtcp_fb_trr_int.is_some());
    if !t.fingerprints.is_empty() {
        "UDP/TLS/RTP/SAVPF"
    } else if d.encryption.as_ref().is_some_and(|e| !e.cryptos.is_empty()) {
        if feedback { "RTP/SAVPF" } else { "RTP/SAVP" }
    } else if feedback {
        "RTP/AVPF"
    } else {
        "RTP/AVP"
    }
}

/// One blank-separated SDP field, as the model's parser splits them: not
/// empty, no blanks or control characters.
fn token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b > b' ' && b != 0x7f)
}

/// Free text on a line: no line breaks or NUL, not empty, no leading blank.
fn text(s: &str) -> bool {
    !s.is_empty() && !s.starts_with([' ', '\t']) && !s.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0))
}

/// A DTLS fingerprint value (hex and colons).
fn hex_colons(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b':')
}

/// Writes the candidate's attribute value (after `candidate:`); `Err` with why it cannot be.
fn write_candidate(out: &mut String, c: &ice_udp::Candidate) -> Result<(), String> {
    let start = out.len();
    let kind = c.kind.as_deref().unwrap_or("host");
    let Ok(priority) = u32::try_from(c.priority) else {
        return Err(format!("priority {} does not fit in 32 bits", c.priority));
    };
    // RFC 8839 foundation: 1 to 32 ice-chars (checked here: the parser below would strip an `a=` prefix).
    let ice_chars = c.foundation.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
    if !ice_chars || c.foundation.is_empty() || c.foundation.len() > 32 {
        return Err(format!("foundation {:?} is not 1 to 32 ice-chars", c.foundation));
    }
    if !token(&c.protocol) || !token(kind) || !token(&c.ip) {
        return Err("a field is not an SDP token".to_owned());
    }
    let _ = write!(
        out,
        "{} {} {} {} {} {} typ {}",
        c.foundation, c.component, c.protocol, priority, c.ip, c.port, kind
    );
    if let Some(a) = &c.rel_addr {
        if !token(a) {
            out.truncate(start);
            return Err("rel-addr is not an address".to_owned());
        }
        let _ = write!(out, " raddr {a}");
    }
    if let Some(p) = c.rel_port {
        let _ = write!(out, " rport {p}");
    }
    if let Some(t) = &c.tcptype {
        let _ = write!(out, " tcptype {t}");
    }
    if let Some(g) = c.generation {
        let _ = write!(out, " generation {g}");
    }
    let attr = |name: &str| c.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    if let Some(u) = attr("ufrag") {
        let _ = write!(out, " ufrag {u}");
    }
    if let Some(n) = c.network {
        let _ = write!(out, " network-id {n}");
    }
    if let Some(n) = attr("network-cost") {
        let _ = write!(out, " network-cost {n}");
    }
    for (n, v) in &c.attrs {
        if n != "ufrag" && n != "network-cost" && token(n) && token(v) {
            let _ = write!(out, " {n} {v}");
        }
    }
    // The model's parser decides: what it refuses must not reach a browser.
    if let Err(e) = SdpCandidate::parse(&out[start..]) {
        out.truncate(start);
        return Err(e.to_string());
    }
    Ok(())
}

struct SdpWriter {
    out: String,
    losses: Vec<String>,
}

/// Appends `v` in decimal (without the formatting machinery).
fn push_num(out: &mut String, v: impl Into<u64>) {
    let mut buf = crate::sink::itoa_buf();
    out.push_str(crate::sink::fmt_u64(&mut buf, v.into()));
}

impl SdpWriter {
    fn line(&mut self, parts: &[&str]) {
        for p in parts {
            self.out.push_str(p);
        }
        self.out.push_str("\r\n");
    }

    fn section(&mut self, c: &Content, role: Role, options: &Options, session_mixed: bool) {
        let empty = ice_udp::Transport::default();
        let t = c.ice().unwrap_or(&empty);
        if let Some(crate::jingle::Transport::Other(e)) = &c.transport {
            self.losses.push(format!("content {}: transport {} has no SDP equivalent", c.name, e.ns));
        }
        let drop_rtcp = options.drop_rtcp_candidates && c.rtp().is_some_and(|d| d.rtcp_mux);
        // Candidates first: the default one gives the m= port and c= address.
        let mut candidates: Vec<String> = Vec::with_capacity(t.candidates.len());
        let mut default: Option<(&str, u16)> = None;
        let mut default_rtcp: Option<(&str, u16)> = None;
        for cand in &t.candidates {
            if drop_rtcp && cand.component == 2 {
                continue;
            }
            let mut line = String::with_capacity(112);
            line.push_str("a=candidate:");
            match write_candidate(&mut line, cand) {
                Ok(()) => {
                    // The default candidate (RFC 8839 §4.2.1.2): the first UDP one with an IP
                    // address (an mDNS name cannot go in c=), as libwebrtc picks it.
                    let udp = cand.protocol.eq_ignore_ascii_case("udp")
                        && cand.port != 0
                        && cand.ip.parse::<std::net::IpAddr>().is_ok();
                    if udp && cand.component == 1 && default.is_none() {
                        default = Some((&cand.ip, cand.port));
                    }
                    if udp && cand.component == 2 && default_rtcp.is_none() {
                        default_rtcp = Some((&cand.ip, cand.port));
                    }
                    candidates.push(line);
                }
                Err(e) => self
                    .losses
                    .push(format!("content {}: candidate {} left out: {e}", c.name, cand.foundation)),
            }
        }
        if c.disposition.as_deref().is_some_and(|d| d != "session") {
            self.losses
                .push(format!("content {}: disposition {:?} has no SDP equivalent", c.name, c.disposition));
        }
        if t.remote_candidate.is_some() {
            self.losses.push(format!("content {}: <remote-candidate/> has no SDP equivalent", c.name));
        }
        let (addr, port) = default.unwrap_or(("0.0.0.0", 9));
        let ip_kind = |a: &str| if a.contains(':') { "IP6" } else { "IP4" };
        // m=
        match c.rtp() {
            Some(d) => {
                if !token(&d.media) {
                    self.losses.push(format!("content {}: media {:?} is not an SDP token", c.name, d.media));
                }
                let _ = write!(
                    self.out,
                    "m={} {} {}",
                    if token(&d.media) { &d.media } else { "audio" },
                    port,
                    rtp_proto(t, d)
                );
                for pt in &d.payload_types {
                    self.out.push(' ');
                    push_num(&mut self.out, pt.id);
                }
                self.out.push_str("\r\n");
            }
            None => {
                let _ = write!(self.out, "m=application {port} UDP/DTLS/SCTP webrtc-datachannel\r\n");
            }
        }
        let _ = write!(
            self.out,
            "c=IN {} {}\r\n",
            ip_kind(addr),
            if default.is_some() { addr } else { "0.0.0.0" }
        );
        if let Some(d) = c.rtp() {
            for b in &d.bandwidth {
                if token(&b.kind) {
                    let _ = write!(self.out, "b={}:{}\r\n", b.kind, b.value);
                } else {
                    self.losses
                        .push(format!("content {}: bandwidth type {:?} is not an SDP token", c.name, b.kind));
                }
            }
            match (d.rtcp_mux, default_rtcp) {
                (false, Some((a, p))) => {
                    let _ = write!(self.out, "a=rtcp:{p} IN {} {a}\r\n", ip_kind(a));
                }
                _ => self.out.push_str("a=rtcp:9 IN IP4 0.0.0.0\r\n"),
            }
        }
        for line in &candidates {
            self.out.push_str(line);
            self.out.push_str("\r\n");
        }
        self.ice_dtls(c, t, role);
        self.line(&["a=mid:", &c.name]);
        match c.rtp() {
            Some(d) => self.rtp(c, d, role, session_mixed),
            None => {
                let dir = direction_of(c.senders, role);
                if dir != Direction::Sendrecv {
                    self.line(&["a=", dir.as_str()]);
                }
            }
        }
        if let Some(sctp) = &t.sctp {
            if c.rtp().is_some() {
                self.losses
                    .push(format!("content {}: <sctpmap/> next to an RTP description is left out", c.name));
            } else {
                let _ = write!(self.out, "a=sctp-port:{}\r\n", sctp.port.unwrap_or(5000));
                if let Some(m) = sctp.max_message_size {
                    let _ = write!(self.out, "a=max-message-size:{m}\r\n");
                }
                if sctp.protocol.as_deref().is_some_and(|p| p != "webrtc-datachannel") {
                    self.losses
                        .push(format!("content {}: SCTP protocol other than webrtc-datachannel", c.name));
                }
                if sctp.streams.is_some() {
                    self.losses.push(format!(
                        "content {}: <sctpmap streams/> has no a=sctp-port equivalent (RFC 8841 negotiates streams in-band)",
                        c.name
                    ));
                }
            }
        }
        if let Some(Description::Other(e)) = &c.description {
            self.losses.push(format!("content {}: application {} has no SDP equivalent", c.name, e.ns));
        }
        if t.gathering_complete {
            self.out.push_str("a=end-of-candidates\r\n");
        }
        for e in t.extra.iter().chain(&c.extra) {
            self.losses
                .push(format!("content {}: <{} xmlns='{}'/> has no SDP equivalent", c.name, e.name, e.ns));
        }
        if !t.attrs.is_empty() {
            self.losses.push(format!(
                "content {}: transport attributes {:?} have no SDP equivalent",
                c.name, t.attrs
            ));
        }
    }

    fn ice_dtls(&mut self, c: &Content, t: &ice_udp::Transport, role: Role) {
        match (&t.ufrag, &t.pwd) {
            (Some(u), Some(p)) if token(u) && token(p) => {
                self.line(&["a=ice-ufrag:", u]);
                self.line(&["a=ice-pwd:", p]);
                self.out.push_str("a=ice-options:trickle\r\n");
            }
            (None, None) => {}
            _ => self
                .losses
                .push(format!("content {}: ICE credentials incomplete or invalid; left out", c.name)),
        }
        let mut setup = None;
        let mut cryptex = false;
        for f in &t.fingerprints {
            if token(&f.hash) && hex_colons(&f.value) {
                self.line(&["a=fingerprint:", &f.hash, " ", &f.value]);
                setup = setup.or(f.setup);
            } else {
                self.losses
                    .push(format!("content {}: fingerprint {:?} is invalid; left out", c.name, f.value));
            }
            for (n, v) in &f.attrs {
                if n == "cryptex" && (v == "true" || v == "1") {
                    cryptex = true;
                } else {
                    self.losses.push(format!(
                        "content {}: fingerprint attribute {n}='{v}' has no SDP equivalent",
                        c.name
                    ));
                }
            }
        }
        if let Some(s) = setup {
            let s = match role {
                Role::Responder => s.concrete(),
                Role::Initiator => s,
            };
            self.line(&["a=setup:", s.as_str()]);
        } else if !t.fingerprints.is_empty() {
            // XEP-0320 makes setup optional; an offer without it is actpass, an answer active.
            self.line(&["a=setup:", if role == Role::Responder { "active" } else { "actpass" }]);
        }
        if cryptex {
            self.out.push_str("a=cryptex\r\n");
        }
    }

    fn rtp(&mut self, c: &Content, d: &rtp::Description, role: Role, session_mixed: bool) {
        for h in &d.hdrexts {
            if !(1..=255).contains(&h.id) || !token(&h.uri) {
                self.losses.push(format!(
                    "content {}: rtp-hdrext {} {:?} cannot be an a=extmap",
                    c.name, h.id, h.uri
                ));
                continue;
            }
            self.out.push_str("a=extmap:");
            push_num(&mut self.out, h.id);
            if let Some(s) = h.senders {
                let dir = direction_of(s, role);
                if s != Senders::Both {
                    self.out.push('/');
                    self.out.push_str(dir.as_str());
                }
            }
            self.out.push(' ');
            self.out.push_str(&h.uri);
            if !h.parameters.is_empty() {
                let before = self.out.len();
                self.out.push(' ');
                push_parameters(&mut self.out, &h.parameters, " ");
                let attrs = &self.out[before + 1..];
                if attrs.is_empty() {
                    self.out.truncate(before);
                } else if !text(attrs) {
                    self.out.truncate(before);
                    self.losses.push(format!("content {}: rtp-hdrext {} parameters left out", c.name, h.id));
                }
            }
            self.out.push_str("\r\n");
        }
        if d.extmap_allow_mixed && !session_mixed {
            self.out.push_str("a=extmap-allow-mixed\r\n");
        }
        self.line(&["a=", direction_of(c.senders, role).as_str()]);
        for st in &d.streams {
            if !token(&st.id) || st.track.as_deref().is_some_and(|t| !token(t)) {
                self.losses.push(format!("content {}: stream {:?} is not a valid a=msid", c.name, st.id));
                continue;
            }
            match &st.track {
                Some(t) => self.line(&["a=msid:", &st.id, " ", t]),
                None => self.line(&["a=msid:", &st.id]),
            }
        }
        if d.rtcp_mux {
            self.out.push_str("a=rtcp-mux\r\n");
        }
        if d.rtcp_rsize {
            self.out.push_str("a=rtcp-rsize\r\n");
        }
        if let Some(e) = &d.encryption {
            for k in &e.cryptos {
                if !token(&k.suite)
                    || !token(&k.key_params)
                    || k.session_params.as_deref().is_some_and(|p| !text(p))
                {
                    self.losses.push(format!("content {}: crypto {} is invalid; left out", c.name, k.tag));
                    continue;
                }
                let _ = write!(self.out, "a=crypto:{} {} {}", k.tag, k.suite, k.key_params);
                if let Some(p) = &k.session_params {
                    self.out.push(' ');
                    self.out.push_str(p);
                }
                self.out.push_str("\r\n");
            }
            if e.required.is_some() || !e.extra.is_empty() {
                self.losses.push(format!(
                    "content {}: <encryption required/> and non-SDES keys have no SDP equivalent",
                    c.name
                ));
            }
        }
        // ptime/maxptime: one value per section in SDP.
        let ptime = one_value(d.ptime.as_deref(), d.payload_types.iter().map(|p| p.ptime.as_deref()));
        let maxptime =
            one_value(d.maxptime.as_deref(), d.payload_types.iter().map(|p| p.maxptime.as_deref()));
        for (name, v) in [("ptime", ptime), ("maxptime", maxptime)] {
            match v {
                Ok(Some(v)) if decimal(v) => self.line(&["a=", name, ":", v]),
                Ok(None) => {}
                _ => self
                    .losses
                    .push(format!("content {}: {name} differs between payload types or is invalid", c.name)),
            }
        }
        for fb in &d.rtcp_fb {
            self.rtcp_fb(c, "*", fb);
        }
        if let Some(t) = &d.rtcp_fb_trr_int {
            let _ = write!(self.out, "a=rtcp-fb:* trr-int {}\r\n", t.value);
        }
        let mut id = sink_id();
        for pt in &d.payload_types {
            let pid = crate::sink::fmt_u64(&mut id, pt.id.into());
            match (&pt.name, pt.clockrate) {
                (Some(n), Some(clock)) if token(n) && !n.contains('/') => {
                    self.out.push_str("a=rtpmap:");
                    self.out.push_str(pid);
                    self.out.push(' ');
                    self.out.push_str(n);
                    self.out.push('/');
                    push_num(&mut self.out, clock);
                    if let Some(ch) = pt.channels.filter(|&ch| ch != 1) {
                        self.out.push('/');
                        push_num(&mut self.out, ch);
                    }
                    self.out.push_str("\r\n");
                }
                (Some(n), None) if static_payload(pt.id).is_some_and(|s| s.0.eq_ignore_ascii_case(n)) => {}
                _ if pt.id < 35 && pt.name.is_none() => {}
                _ => self
                    .losses
                    .push(format!("content {}: payload type {pid} has no valid name/clockrate", c.name)),
            }
            for fb in &pt.rtcp_fb {
                self.rtcp_fb(c, pid, fb);
            }
            if let Some(t) = &pt.rtcp_fb_trr_int {
                let _ = write!(self.out, "a=rtcp-fb:{pid} trr-int {}\r\n", t.value);
            }
            if !pt.parameters.is_empty() {
                let before = self.out.len();
                self.out.push_str("a=fmtp:");
                self.out.push_str(pid);
                self.out.push(' ');
                let start = self.out.len();
                push_parameters(&mut self.out, &pt.parameters, ";");
                if text(&self.out[start..]) {
                    self.out.push_str("\r\n");
                } else {
                    self.out.truncate(before);
                    self.losses
                        .push(format!("content {}: payload type {pid} parameters are invalid", c.name));
                }
            }
            for e in &pt.extra {
                self.losses.push(format!(
                    "content {}: payload type {pid}: <{}/> has no SDP equivalent",
                    c.name, e.name
                ));
            }
            if !pt.attrs.is_empty() {
                self.losses.push(format!(
                    "content {}: payload type {pid} attributes {:?} have no SDP equivalent",
                    c.name, pt.attrs
                ));
            }
        }
        for g in &d.ssrc_groups {
            if !token(&g.semantics) {
                self.losses
                    .push(format!("content {}: ssrc-group {:?} is not an SDP token", c.name, g.semantics));
                continue;
            }
            self.out.push_str("a=ssrc-group:");
            self.out.push_str(&g.semantics);
            for s in &g.ssrcs {
                self.out.push(' ');
                push_num(&mut self.out, *s);
            }
            self.out.push_str("\r\n");
        }
        for src in &d.sources {
            for p in &src.parameters {
                let ok = token(&p.name)
                    && !p.name.contains(':')
                    && p.value.as_deref().is_none_or(|v| v.is_empty() || text(v));
                if !ok {
                    self.losses.push(format!(
                        "content {}: source {} parameter {:?} is invalid",
                        c.name, src.ssrc, p.name
                    ));
                    continue;
                }
                self.out.push_str("a=ssrc:");
                push_num(&mut self.out, src.ssrc);
                self.out.push(' ');
                self.out.push_str(&p.name);
                if let Some(v) = &p.value {
                    self.out.push(':');
                    self.out.push_str(v);
                }
                self.out.push_str("\r\n");
            }
            if !src.attrs.is_empty() || !src.extra.is_empty() {
                self.losses.push(format!(
                    "content {}: source {} attributes {:?} have no SDP equivalent",
                    c.name, src.ssrc, src.attrs
                ));
            }
        }
        if let Some(ssrc) = d.ssrc
            && !d.sources.iter().any(|s| s.ssrc == ssrc)
        {
            self.losses.push(format!(
                "content {}: description ssrc {ssrc} without a <source/> has no SDP equivalent",
                c.name
            ));
        }
        for e in &d.extra {
            self.losses
                .push(format!("content {}: <{} xmlns='{}'/> has no SDP equivalent", c.name, e.name, e.ns));
        }
        if !d.attrs.is_empty() {
            self.losses.push(format!(
                "content {}: description attributes {:?} have no SDP equivalent",
                c.name, d.attrs
            ));
        }
    }

    fn rtcp_fb(&mut self, c: &Content, pt: &str, fb: &RtcpFb) {
        if !token(&fb.kind) || fb.subtype.as_deref().is_some_and(|s| !text(s)) {
            self.losses.push(format!("content {}: rtcp-fb {:?} is invalid", c.name, fb.kind));
            return;
        }
        match &fb.subtype {
            Some(s) => self.line(&["a=rtcp-fb:", pt, " ", &fb.kind, " ", s]),
            None => self.line(&["a=rtcp-fb:", pt, " ", &fb.kind]),
        }
    }
}

fn sink_id() -> [u8; 20] {
    crate::sink::itoa_buf()
}

/// The single value of a per-payload attribute: the description's own, else
/// the payload types' when they all agree; `Err` when they differ.
fn one_value<'v>(
    own: Option<&'v str>,
    each: impl Iterator<Item = Option<&'v str>>,
) -> Result<Option<&'v str>, ()> {
    if own.is_some() {
        return Ok(own);
    }
    let mut value = None;
    for v in each.flatten() {
        match value {
            None => value = Some(v),
            Some(prev) if prev == v => {}
            Some(_) => return Err(()),
        }
    }
    Ok(value)
}

fn decimal(s: &str) -> bool {
    let (i, f) = s.split_once('.').unwrap_or((s, "0"));
    !i.is_empty() && !f.is_empty() && i.bytes().chain(f.bytes()).all(|b| b.is_ascii_digit())
}

/// Appends `name=value` pairs joined by `sep`; a nameless parameter is its value alone.
fn push_parameters(out: &mut String, params: &[Parameter], sep: &str) {
    for (i, p) in params.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        if !p.name.is_empty() {
            out.push_str(&p.name);
            out.push('=');
        }
        out.push_str(&p.value);
    }
}

/// The longest `a=mid` browsers take (Chromium refuses 17 characters and more).
pub const MAX_BROWSER_MID: usize = 16;

/// Gives contents whose names browsers refuse as `a=mid` (XEP-0166 sets no length limit; the
/// XEP-0176 and XEP-0343 examples use long ones) short names that no other content has, in the
/// contents and the BUNDLE groups: returns (original name, mid) for each renamed one.
pub fn browser_mids(j: &mut Jingle) -> Vec<(String, String)> {
    let usable =
        |n: &str| !n.is_empty() && n.len() <= MAX_BROWSER_MID && n.bytes().all(|b| b.is_ascii_graphic());
    let mut renamed = Vec::new();
    for i in 0..j.contents.len() {
        if usable(&j.contents[i].name) {
            continue;
        }
        let taken = |m: &str, j: &Jingle, renamed: &[(String, String)]| {
            j.contents.iter().any(|c| c.name == m) || renamed.iter().any(|(_, r)| r == m)
        };
        let mut mid = i.to_string();
        let mut k = 0;
        while taken(&mid, j, &renamed) {
            k += 1;
            mid = format!("m{i}-{k}");
        }
        renamed.push((j.contents[i].name.clone(), mid));
    }
    rename_contents(j, renamed.iter().map(|(name, mid)| (name.as_str(), mid.as_str())));
    renamed
}

/// Renames contents (and their BUNDLE group entries) from the first name of each pair to the second.
pub fn rename_contents<'a>(j: &mut Jingle, pairs: impl Iterator<Item = (&'a str, &'a str)> + Clone) {
    for c in &mut j.contents {
        if let Some((_, to)) = pairs.clone().find(|(from, _)| *from == c.name) {
            to.clone_into(&mut c.name);
        }
    }
    for g in &mut j.groups {
        for n in &mut g.contents {
            if let Some((_, to)) = pairs.clone().find(|(from, _)| *from == n.as_str()) {
                to.clone_into(n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROMIUM: &str =
        include_str!("../../../fixtures/sdp/chromium-156-offer-audio-video-datachannel.sdp");

    #[test]
    fn chromium_offer_round_trips() {
        let j = sdp_to_jingle(CHROMIUM, Role::Initiator).unwrap();
        assert_eq!(j.value.contents.len(), 3);
        let xml = j.value.to_xml();
        let back = Jingle::parse_xml(&xml).unwrap();
        assert_eq!(back, j.value);
        let sdp = jingle_to_sdp(&back, Role::Initiator).unwrap();
        SessionDescription::parse(&sdp.value).unwrap();
    }
}
