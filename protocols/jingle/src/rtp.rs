//! XEP-0167 Jingle RTP Sessions, version 1.2.3 (2025-07-04): the RTP
//! `<description/>` (media, payload types with parameters, ptime/maxptime,
//! bandwidth, rtcp-mux, SDES crypto in `<encryption/>`), with the
//! companions that live inside it (XEP-0293 feedback, XEP-0294 header
//! extensions, XEP-0339 sources), and the session-info payloads
//! (active, hold, unhold, mute, unmute, ringing).
//!
//! `<rtcp-reduced-size/>` (`a=rtcp-rsize`) is not in XEP-0167; it is read
//! and written as stanza.js and lib-jitsi-meet do.

use crate::dom::XmlNode;
use crate::hdrext::HdrExt;
use crate::jingle::{Creator, JingleError, bad};
use crate::ns;
use crate::parse;
use crate::rtcp_fb::{RtcpFb, TrrInt};
use crate::sink::{self, Sink};
use crate::ssma::{Source, SsrcGroup};
use crate::xml::Element;
use compact_str::CompactString;

/// An RTP `<description/>` (XEP-0167 §4).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Description {
    /// `media`: `audio`, `video`, ...
    pub media: CompactString,
    /// `ssrc` of the sender's main stream (XEP-0167 §4; XEP-0339 sources are the full form).
    pub ssrc: Option<u32>,
    /// Description-level `ptime` (lib-jitsi-meet writes it here; XEP-0167 puts it on payload types).
    pub ptime: Option<String>,
    /// Description-level `maxptime` (as lib-jitsi-meet writes it).
    pub maxptime: Option<String>,
    /// Payload types in preference order.
    pub payload_types: Vec<PayloadType>,
    /// `<bandwidth type='AS'>128</bandwidth>` (SDP `b=`).
    pub bandwidth: Vec<Bandwidth>,
    /// `<rtcp-mux/>` (RFC 5761).
    pub rtcp_mux: bool,
    /// `<rtcp-reduced-size/>` (RFC 5506).
    pub rtcp_rsize: bool,
    /// SDES-SRTP keys (`<encryption/>`, XEP-0167 §7).
    pub encryption: Option<Encryption>,
    /// XEP-0293 feedback for every payload type (`a=rtcp-fb:*`).
    pub rtcp_fb: Vec<RtcpFb>,
    /// XEP-0293 `rtcp-fb-trr-int` for every payload type.
    pub rtcp_fb_trr_int: Option<TrrInt>,
    /// XEP-0294 header extensions.
    pub hdrexts: Vec<HdrExt>,
    /// XEP-0294 `<extmap-allow-mixed/>`.
    pub extmap_allow_mixed: bool,
    /// XEP-0339 sources.
    pub sources: Vec<Source>,
    /// XEP-0339 source groups.
    pub ssrc_groups: Vec<SsrcGroup>,
    /// `a=msid` streams (`<stream xmlns='urn:xmpp:jingle:apps:rtp:msid:0' id track/>`, as stanza.js writes them).
    pub streams: Vec<Stream>,
    /// Other attributes, kept.
    pub attrs: Vec<(String, String)>,
    /// Other children, kept.
    pub extra: Vec<Element>,
}

/// One `<payload-type/>` (XEP-0167 §4): an `a=rtpmap` with its `a=fmtp` and `a=rtcp-fb` lines.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PayloadType {
    /// RTP payload type, 0..=127.
    pub id: u8,
    /// Encoding name.
    pub name: Option<CompactString>,
    /// Clock rate in Hz.
    pub clockrate: Option<u32>,
    /// Channels (absent means 1).
    pub channels: Option<u16>,
    /// `ptime` in milliseconds.
    pub ptime: Option<String>,
    /// `maxptime` in milliseconds.
    pub maxptime: Option<String>,
    /// Format parameters (`a=fmtp`), in order.
    pub parameters: Vec<Parameter>,
    /// XEP-0293 feedback for this payload type.
    pub rtcp_fb: Vec<RtcpFb>,
    /// XEP-0293 `rtcp-fb-trr-int` for this payload type.
    pub rtcp_fb_trr_int: Option<TrrInt>,
    /// Other attributes, kept.
    pub attrs: Vec<(String, String)>,
    /// Other children, kept.
    pub extra: Vec<Element>,
}

/// A format parameter: `name=value` in `a=fmtp`.
///
/// An fmtp part without `=` (telephone-event `0-15`, RED `111/111`) has an
/// empty name. It is written `<parameter name='' value='0-15'/>` as
/// lib-jitsi-meet does and Conversations reads it; stanza.js's
/// `<parameter name='0-15'/>` (no value) reads the same.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parameter {
    /// The name (empty for a value without a name).
    pub name: CompactString,
    /// The value.
    pub value: CompactString,
}

impl Parameter {
    /// A named parameter.
    pub fn new(name: &str, value: &str) -> Self {
        Parameter { name: name.into(), value: value.into() }
    }

    pub(crate) fn parse<'d>(el: impl XmlNode<'d>) -> Parameter {
        match (el.attr("name"), el.attr("value")) {
            (Some(n), Some(v)) => Parameter::new(n, v),
            (None, Some(v)) => Parameter::new("", v),
            (Some(n), None) => Parameter::new("", n),
            (None, None) => Parameter::default(),
        }
    }

    pub(crate) fn write<S: Sink>(&self, s: &mut S, ns: &'static str) {
        s.start("parameter", ns);
        s.attr("name", &self.name);
        s.attr("value", &self.value);
        s.end();
    }
}

/// `<bandwidth type='AS'>128</bandwidth>` (XEP-0167 §4, SDP `b=`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bandwidth {
    /// `type`: `AS`, `TIAS`, `CT` ...
    pub kind: CompactString,
    /// The value in the type's unit.
    pub value: u64,
}

/// `<encryption/>` with SDES keys (XEP-0167 §7, RFC 4568).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Encryption {
    /// `required` (`1`/`true`).
    pub required: Option<bool>,
    /// The keys.
    pub cryptos: Vec<Crypto>,
    /// Other children (e.g. ZRTP hashes), kept.
    pub extra: Vec<Element>,
}

/// `<crypto/>`: one `a=crypto` line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Crypto {
    /// `tag`.
    pub tag: u32,
    /// `crypto-suite`.
    pub suite: String,
    /// `key-params`.
    pub key_params: String,
    /// `session-params`.
    pub session_params: Option<String>,
}

/// `<stream id track/>`: an `a=msid` line (no XEP; stanza.js writes it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stream {
    /// MediaStream id.
    pub id: CompactString,
    /// Track id.
    pub track: Option<CompactString>,
}

impl Description {
    /// A description for `media` with nothing in it.
    pub fn new(media: &str) -> Self {
        Description { media: media.into(), ..Description::default() }
    }

    /// Parses an RTP `<description/>`.
    pub fn parse(el: &Element) -> Result<Description, JingleError> {
        Self::parse_node(el)
    }

    pub(crate) fn parse_node<'d, N: XmlNode<'d>>(el: N) -> Result<Description, JingleError> {
        let mut d = Description {
            media: parse::req(el, "description", "media")?.into(),
            ssrc: parse::num(el, "description", "ssrc")?,
            ptime: parse::opt(el, "ptime"),
            maxptime: parse::opt(el, "maxptime"),
            attrs: parse::others(el, &["media", "ssrc", "ptime", "maxptime"]),
            ..Description::default()
        };
        // Sized once: a Chromium video description has some 30 payload types.
        let (mut pts, mut exts, mut sources) = (0, 0, 0);
        for child in el.elements() {
            match child.name() {
                "payload-type" => pts += 1,
                "rtp-hdrext" => exts += 1,
                "source" => sources += 1,
                _ => {}
            }
        }
        d.payload_types.reserve_exact(pts);
        d.hdrexts.reserve_exact(exts);
        d.sources.reserve_exact(sources);
        for child in el.elements() {
            match (child.ns(), child.name()) {
                (ns::RTP, "payload-type") => d.payload_types.push(PayloadType::parse_node(child)?),
                (ns::RTP, "rtcp-mux") => d.rtcp_mux = true,
                (ns::RTP, "rtcp-reduced-size") => d.rtcp_rsize = true,
                (ns::RTP, "bandwidth") => d.bandwidth.push(Bandwidth {
                    kind: parse::req(child, "bandwidth", "type")?.into(),
                    value: {
                        let t = child.text();
                        parse::parse_num(t.trim(), "bandwidth", "text").map_err(|_| JingleError::BadText {
                            element: "bandwidth",
                            value: t.clone().into_owned(),
                        })?
                    },
                }),
                (ns::RTP, "encryption") if d.encryption.is_none() => {
                    d.encryption = Some(Encryption::parse(child)?)
                }
                (ns::RTCP_FB, "rtcp-fb") => d.rtcp_fb.push(RtcpFb::parse_node(child)?),
                (ns::RTCP_FB, "rtcp-fb-trr-int") => d.rtcp_fb_trr_int = Some(TrrInt::parse_node(child)?),
                (ns::HDREXT, "rtp-hdrext") => d.hdrexts.push(HdrExt::parse_node(child)?),
                (ns::HDREXT, "extmap-allow-mixed") => d.extmap_allow_mixed = true,
                (ns::SSMA, "source") => d.sources.push(Source::parse_node(child)?),
                (ns::SSMA, "ssrc-group") => d.ssrc_groups.push(SsrcGroup::parse_node(child)?),
                (ns::MSID, "stream") => d.streams.push(Stream {
                    id: parse::req(child, "stream", "id")?.into(),
                    track: parse::opt(child, "track"),
                }),
                _ => d.extra.push(child.to_element()),
            }
        }
        Ok(d)
    }

    /// The `<description/>` element.
    pub fn to_element(&self) -> Element {
        sink::to_element(|s| self.write(s))
    }

    pub(crate) fn write<S: Sink>(&self, s: &mut S) {
        s.start("description", ns::RTP);
        s.attr("media", &self.media);
        if let Some(ssrc) = self.ssrc {
            s.num_attr("ssrc", ssrc.into());
        }
        s.opt_attr("ptime", self.ptime.as_deref());
        s.opt_attr("maxptime", self.maxptime.as_deref());
        for (n, v) in &self.attrs {
            s.attr(n, v);
        }
        for pt in &self.payload_types {
            pt.write(s);
        }
        for b in &self.bandwidth {
            s.start("bandwidth", ns::RTP);
            s.attr("type", &b.kind);
            let mut buf = sink::itoa_buf();
            s.text(sink::fmt_u64(&mut buf, b.value));
            s.end();
        }
        for fb in &self.rtcp_fb {
            fb.write(s);
        }
        if let Some(t) = &self.rtcp_fb_trr_int {
            t.write(s);
        }
        for h in &self.hdrexts {
            h.write(s);
        }
        if self.extmap_allow_mixed {
            s.empty("extmap-allow-mixed", ns::HDREXT);
        }
        if self.rtcp_mux {
            s.empty("rtcp-mux", ns::RTP);
        }
        if self.rtcp_rsize {
            s.empty("rtcp-reduced-size", ns::RTP);
        }
        if let Some(e) = &self.encryption {
            e.write(s);
        }
        for src in &self.sources {
            src.write(s);
        }
        for g in &self.ssrc_groups {
            g.write(s);
        }
        for st in &self.streams {
            s.start("stream", ns::MSID);
            s.attr("id", &st.id);
            s.opt_attr("track", st.track.as_deref());
            s.end();
        }
        for e in &self.extra {
            s.element(e);
        }
        s.end();
    }
}

impl PayloadType {
    /// A payload type with id, name, clock rate and channels.
    pub fn new(id: u8, name: &str, clockrate: u32, channels: Option<u16>) -> Self {
        PayloadType {
            id,
            name: Some(name.into()),
            clockrate: Some(clockrate),
            channels,
            ..PayloadType::default()
        }
    }

    /// Parses a `<payload-type/>`.
    pub fn parse(el: &Element) -> Result<PayloadType, JingleError> {
        Self::parse_node(el)
    }

    pub(crate) fn parse_node<'d, N: XmlNode<'d>>(el: N) -> Result<PayloadType, JingleError> {
        let id: u8 = parse::req_num(el, "payload-type", "id")?;
        if id > 127 {
            return Err(bad("payload-type", "id", &id.to_string()));
        }
        let mut pt = PayloadType {
            id,
            name: parse::opt(el, "name"),
            clockrate: parse::num(el, "payload-type", "clockrate")?,
            channels: parse::num(el, "payload-type", "channels")?,
            ptime: parse::opt(el, "ptime"),
            maxptime: parse::opt(el, "maxptime"),
            attrs: parse::others(el, &["id", "name", "clockrate", "channels", "ptime", "maxptime"]),
            ..PayloadType::default()
        };
        let (mut params, mut fbs) = (0, 0);
        for child in el.elements() {
            match child.name() {
                "parameter" => params += 1,
                "rtcp-fb" => fbs += 1,
                _ => {}
            }
        }
        pt.parameters.reserve_exact(params);
        pt.rtcp_fb.reserve_exact(fbs);
        for child in el.elements() {
            match (child.ns(), child.name()) {
                (_, "parameter") if child.ns() == el.ns() => pt.parameters.push(Parameter::parse(child)),
                (ns::RTCP_FB, "rtcp-fb") => pt.rtcp_fb.push(RtcpFb::parse_node(child)?),
                (ns::RTCP_FB, "rtcp-fb-trr-int") => pt.rtcp_fb_trr_int = Some(TrrInt::parse_node(child)?),
                _ => pt.extra.push(child.to_element()),
            }
        }
        Ok(pt)
    }

    pub(crate) fn write<S: Sink>(&self, s: &mut S) {
        s.start("payload-type", ns::RTP);
        s.num_attr("id", self.id.into());
        s.opt_attr("name", self.name.as_deref());
        if let Some(c) = self.clockrate {
            s.num_attr("clockrate", c.into());
        }
        if let Some(c) = self.channels {
            s.num_attr("channels", c.into());
        }
        s.opt_attr("ptime", self.ptime.as_deref());
        s.opt_attr("maxptime", self.maxptime.as_deref());
        for (n, v) in &self.attrs {
            s.attr(n, v);
        }
        for p in &self.parameters {
            p.write(s, ns::RTP);
        }
        for fb in &self.rtcp_fb {
            fb.write(s);
        }
        if let Some(t) = &self.rtcp_fb_trr_int {
            t.write(s);
        }
        for e in &self.extra {
            s.element(e);
        }
        s.end();
    }
}

impl Encryption {
    fn parse<'d, N: XmlNode<'d>>(el: N) -> Result<Encryption, JingleError> {
        let mut e =
            Encryption { required: parse::boolean(el, "encryption", "required")?, ..Encryption::default() };
        for child in el.elements() {
            if child.name() == "crypto" && child.ns() == el.ns() {
                e.cryptos.push(Crypto {
                    tag: parse::req_num(child, "crypto", "tag")?,
                    suite: parse::req(child, "crypto", "crypto-suite")?.to_owned(),
                    key_params: parse::req(child, "crypto", "key-params")?.to_owned(),
                    session_params: parse::opt(child, "session-params"),
                });
            } else {
                e.extra.push(child.to_element());
            }
        }
        Ok(e)
    }

    fn write<S: Sink>(&self, s: &mut S) {
        s.start("encryption", ns::RTP);
        if let Some(r) = self.required {
            s.attr("required", if r { "1" } else { "0" });
        }
        for c in &self.cryptos {
            s.start("crypto", ns::RTP);
            s.attr("crypto-suite", &c.suite);
            s.attr("key-params", &c.key_params);
            s.opt_attr("session-params", c.session_params.as_deref());
            s.num_attr("tag", c.tag.into());
            s.end();
        }
        for e in &self.extra {
            s.element(e);
        }
        s.end();
    }
}

/// XEP-0167 §7 session-info payloads (`urn:xmpp:jingle:apps:rtp:info:1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionInfo {
    /// `<active/>`: the call is active again.
    Active,
    /// `<hold/>`.
    Hold,
    /// `<unhold/>`.
    Unhold,
    /// `<mute/>` of one content (or all when `name` is absent).
    Mute {
        /// The content's creator.
        creator: Option<Creator>,
        /// The content's name.
        name: Option<String>,
    },
    /// `<unmute/>`.
    Unmute {
        /// The content's creator.
        creator: Option<Creator>,
        /// The content's name.
        name: Option<String>,
    },
    /// `<ringing/>`.
    Ringing,
}

impl SessionInfo {
    /// Parses a payload in the RTP info namespace; `None` for names XEP-0167 does not define.
    pub fn parse(el: &Element) -> Result<Option<SessionInfo>, JingleError> {
        Self::parse_node(el)
    }

    pub(crate) fn parse_node<'d, N: XmlNode<'d>>(el: N) -> Result<Option<SessionInfo>, JingleError> {
        let target = |el: N| -> Result<(Option<Creator>, Option<String>), JingleError> {
            let creator = match el.attr("creator") {
                Some("initiator") => Some(Creator::Initiator),
                Some("responder") => Some(Creator::Responder),
                Some(other) => return Err(bad("mute", "creator", other)),
                None => None,
            };
            Ok((creator, parse::opt(el, "name")))
        };
        Ok(Some(match el.name() {
            "active" => SessionInfo::Active,
            "hold" => SessionInfo::Hold,
            "unhold" => SessionInfo::Unhold,
            "ringing" => SessionInfo::Ringing,
            "mute" => {
                let (creator, name) = target(el)?;
                SessionInfo::Mute { creator, name }
            }
            "unmute" => {
                let (creator, name) = target(el)?;
                SessionInfo::Unmute { creator, name }
            }
            _ => return Ok(None),
        }))
    }

    /// The element name.
    pub fn as_str(&self) -> &'static str {
        match self {
            SessionInfo::Active => "active",
            SessionInfo::Hold => "hold",
            SessionInfo::Unhold => "unhold",
            SessionInfo::Mute { .. } => "mute",
            SessionInfo::Unmute { .. } => "unmute",
            SessionInfo::Ringing => "ringing",
        }
    }

    /// The payload element.
    pub fn to_element(&self) -> Element {
        sink::to_element(|s| self.write(s))
    }

    pub(crate) fn write<S: Sink>(&self, s: &mut S) {
        s.start(self.as_str(), ns::RTP_INFO);
        if let SessionInfo::Mute { creator, name } | SessionInfo::Unmute { creator, name } = self {
            s.opt_attr("creator", creator.map(Creator::as_str));
            s.opt_attr("name", name.as_deref());
        }
        s.end();
    }
}
