//! Shared helpers of the integration tests: fixture folders, parsing any
//! fixture by its root element, and the normalization that the SDP round
//! trip of a Jingle element is compared under.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use switchboard_jingle::dtls::Setup;
use switchboard_jingle::ice_udp;
use switchboard_jingle::jingle::{Content, Description, Jingle, Transport};
use switchboard_jingle::jmi::Jmi;
use switchboard_jingle::ns;
use switchboard_jingle::xml::Element;
use switchboard_jingle::{ErrorCondition, Role, grouping, rtp, ssma};

/// The third-party fixtures shared between the sessions (never copied into the repository).
pub fn shared_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/jingle");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: {} is absent, so the third-party Jingle fixtures are not tested here",
            dir.display()
        );
        None
    }
}

/// The repository's own Jingle fixtures (hand-written client styles, stanza.js captures).
pub fn own_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/jingle")
}

/// The repository's SDP fixtures.
pub fn sdp_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sdp")
}

/// Every `.xml` file of `dir`, sorted.
pub fn xml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    files.sort();
    files
}

/// What a fixture parsed into.
#[derive(Debug)]
pub enum Parsed {
    /// A `<jingle/>` (from an IQ, or bare, or a fragment wrapped into one).
    Jingle(Jingle),
    /// A JMI message.
    Jmi(Jmi),
    /// An IQ error with its Jingle condition.
    Error(ErrorCondition),
    /// A fragment of another kind (source, ssrc-group, group) that parsed.
    Fragment(&'static str),
}

fn content_of(name: &str) -> Content {
    Content::new(switchboard_jingle::Creator::Initiator, name)
}

/// Parses a fixture by its root element, with the parser of that element.
pub fn parse_any(text: &str) -> Result<Parsed, String> {
    let el = Element::parse(text).map_err(|e| e.to_string())?;
    parse_element(&el)
}

fn parse_element(el: &Element) -> Result<Parsed, String> {
    let e = |e: switchboard_jingle::JingleError| e.to_string();
    match el.name.as_str() {
        "iq" => {
            if let Some(j) = el.child("jingle", ns::JINGLE) {
                return Jingle::parse(j).map(Parsed::Jingle).map_err(e);
            }
            if el.attr("type") == Some("error") {
                return ErrorCondition::from_error(el)
                    .map(Parsed::Error)
                    .ok_or_else(|| "no Jingle error".into());
            }
            Err("an iq without <jingle/>".into())
        }
        "message" => match Jmi::from_message(el) {
            Some(r) => r.map(Parsed::Jmi).map_err(e),
            None => Err("a message without JMI".into()),
        },
        // lib-jitsi-meet hands around <jingle/> containers of contents without action and sid.
        "jingle"
            if el.attr("action").is_none() && el.attr("sid").is_none() && el.first_element().is_some() =>
        {
            Jingle::parse_payload(el).map(Parsed::Jingle).map_err(e)
        }
        "jingle" => Jingle::parse(el).map(Parsed::Jingle).map_err(e),
        "content" => {
            let c = Content::parse(el).map_err(e)?;
            let mut j = Jingle::new(switchboard_jingle::Action::SessionInitiate, "fragment");
            j.contents.push(c);
            Ok(Parsed::Jingle(j))
        }
        "description" => {
            let d = rtp::Description::parse(el).map_err(e)?;
            let mut c = content_of(&d.media.clone());
            c.description = Some(Description::Rtp(d));
            let mut j = Jingle::new(switchboard_jingle::Action::SessionInitiate, "fragment");
            j.contents.push(c);
            Ok(Parsed::Jingle(j))
        }
        "transport" => {
            let t = ice_udp::Transport::parse(el).map_err(e)?;
            let mut c = content_of("0");
            c.transport = Some(Transport::IceUdp(t));
            let mut j = Jingle::new(switchboard_jingle::Action::TransportInfo, "fragment");
            j.contents.push(c);
            Ok(Parsed::Jingle(j))
        }
        "source" => ssma::Source::parse(el).map(|_| Parsed::Fragment("source")).map_err(e),
        "ssrc-group" => ssma::SsrcGroup::parse(el).map(|_| Parsed::Fragment("ssrc-group")).map_err(e),
        "group" => grouping::Group::parse(el).map(|_| Parsed::Fragment("group")).map_err(e),
        _ if el.ns == ns::JMI => Jmi::parse(el).map(Parsed::Jmi).map_err(e),
        other => Err(format!("no parser for <{other}/>")),
    }
}

/// Whether a Jingle element has something SDP can carry (an RTP description or a data channel).
pub fn has_media(j: &Jingle) -> bool {
    j.contents.iter().any(|c| {
        c.rtp().is_some_and(|d| !d.payload_types.is_empty()) || c.ice().is_some_and(|t| t.sctp.is_some())
    })
}

/// The normalization a Jingle element is compared under after Jingle -> SDP -> Jingle: it removes
/// exactly what MAPPING.md lists as not carried by SDP (and reported as a loss), and fills in what
/// SDP makes explicit. Every removal of a peer's element or attribute is checked against `losses`.
pub fn normalize(j: &Jingle, role: Role, losses: &[String]) -> Jingle {
    let mut j = j.clone();
    let reported = |what: &str| {
        assert!(
            losses.iter().any(|l| l.contains(what)),
            "{what} was not carried over but no loss mentions it: {losses:#?}"
        )
    };
    // Session-level payloads are not part of a description.
    j.reason = None;
    j.info.clear();
    j.extra.clear();
    j.contents.retain(|c| {
        if c.rtp().is_some_and(|d| d.payload_types.is_empty()) {
            reported("without payload types");
            return false;
        }
        c.rtp().is_some() || c.ice().is_some_and(|t| t.sctp.is_some())
    });
    let names: Vec<String> = j.contents.iter().map(|c| c.name.clone()).collect();
    for g in &mut j.groups {
        g.contents.retain(|n| names.contains(n));
    }
    for c in &mut j.contents {
        if c.disposition.as_deref() == Some("session") {
            c.disposition = None;
        }
        if c.disposition.is_some() {
            reported("disposition");
            c.disposition = None;
        }
        for e in c.extra.drain(..) {
            reported(&e.name);
        }
        match &mut c.description {
            Some(Description::Rtp(d)) => normalize_rtp(d, &reported),
            Some(Description::Other(e)) => {
                reported(&e.ns);
                c.description = None;
            }
            None => {}
        }
        if let Some(Transport::Other(e)) = &c.transport {
            reported(&e.ns);
            c.transport = None;
        }
        let t = match &mut c.transport {
            Some(Transport::IceUdp(t)) => t,
            _ => {
                c.transport = Some(Transport::IceUdp(ice_udp::Transport::default()));
                c.ice_mut().unwrap()
            }
        };
        if t.ufrag.is_some() != t.pwd.is_some() {
            reported("ICE credentials");
            t.ufrag = None;
            t.pwd = None;
        }
        t.candidates.retain(|cand| {
            let fits = u32::try_from(cand.priority).is_ok();
            if !fits {
                reported("32 bits");
            }
            fits
        });
        for cand in &mut t.candidates {
            cand.id = None;
            cand.kind.get_or_insert_with(|| "host".into());
            if let Ok(ip) = cand.ip.parse::<std::net::IpAddr>() {
                cand.ip = ip.to_string().into();
            }
        }
        if t.remote_candidate.take().is_some() {
            reported("remote-candidate");
        }
        for e in t.extra.drain(..) {
            reported(&e.name);
        }
        if !t.attrs.is_empty() {
            reported("transport attributes");
            t.attrs.clear();
        }
        for f in &mut t.fingerprints {
            f.attrs.retain(|(n, v)| {
                let keep = n == "cryptex" && (v == "true" || v == "1");
                if !keep {
                    reported(&format!("fingerprint attribute {n}"));
                }
                keep
            });
            for (_, v) in &mut f.attrs {
                *v = "true".to_owned();
            }
            let setup =
                f.setup.unwrap_or(if role == Role::Responder { Setup::Active } else { Setup::Actpass });
            f.setup = Some(if role == Role::Responder { setup.concrete() } else { setup });
        }
        // Every fingerprint of a transport gets the transport's one setup.
        let first = t.fingerprints.first().and_then(|f| f.setup);
        for f in &mut t.fingerprints {
            f.setup = first;
        }
        if let Some(s) = &mut t.sctp {
            if s.streams.take().is_some() {
                reported("streams");
            }
            s.protocol = Some("webrtc-datachannel".to_owned());
            s.port.get_or_insert(5000);
            s.form = Default::default();
        }
    }
    j
}

fn normalize_rtp(d: &mut rtp::Description, reported: &impl Fn(&str)) {
    if let Some(ssrc) = d.ssrc.take()
        && !d.sources.iter().any(|s| s.ssrc == ssrc)
    {
        reported("description ssrc");
    }
    // Description-level ptime (lib-jitsi-meet) is per payload type in the other direction.
    let (ptime, maxptime) = (d.ptime.take(), d.maxptime.take());
    for pt in &mut d.payload_types {
        if ptime.is_some() {
            pt.ptime.clone_from(&ptime);
        }
        if maxptime.is_some() {
            pt.maxptime.clone_from(&maxptime);
        }
        if pt.channels == Some(1) {
            pt.channels = None;
        }
        if pt.clockrate.is_none()
            && let Some(clock) = static_clock(pt.id)
        {
            pt.clockrate = Some(clock);
        }
        if pt.name.is_none()
            && let Some(name) = static_name(pt.id)
        {
            pt.name = Some(name.into());
        }
        for e in pt.extra.drain(..) {
            reported(&e.name);
        }
        if !pt.attrs.is_empty() {
            reported("payload type");
            pt.attrs.clear();
        }
    }
    d.hdrexts.retain(|h| {
        let fits = (1..=255).contains(&h.id);
        if !fits {
            reported("cannot be an a=extmap");
        }
        fits
    });
    if let Some(e) = &mut d.encryption
        && (e.required.take().is_some() || !e.extra.is_empty())
    {
        reported("encryption required");
        e.extra.clear();
    }
    for s in &mut d.sources {
        if !s.attrs.is_empty() || !s.extra.is_empty() {
            reported("source");
            s.attrs.clear();
            s.extra.clear();
        }
    }
    // Sources appear in SDP order (by first a=ssrc line).
    for e in d.extra.drain(..) {
        reported(&e.name);
    }
    if !d.attrs.is_empty() {
        reported("description attributes");
        d.attrs.clear();
    }
}

fn static_clock(pt: u8) -> Option<u32> {
    match pt {
        0 | 3 | 4 | 8 | 9 | 13 | 18 => Some(8000),
        _ => None,
    }
}

fn static_name(pt: u8) -> Option<&'static str> {
    match pt {
        0 => Some("PCMU"),
        8 => Some("PCMA"),
        9 => Some("G722"),
        13 => Some("CN"),
        18 => Some("G729"),
        _ => None,
    }
}
