//! XEP-0294 Jingle RTP Header Extensions Negotiation, version 1.1.2
//! (2022-08-27): `<rtp-hdrext id uri senders/>` (`a=extmap`) and
//! `<extmap-allow-mixed/>` (`a=extmap-allow-mixed`, RFC 8285 §6).

use crate::dom::XmlNode;
use crate::jingle::{JingleError, Senders, bad};
use crate::ns;
use crate::parse;
use crate::rtp::Parameter;
use crate::sink::Sink;
use crate::xml::Element;
use compact_str::CompactString;

/// Header extension URIs browsers offer, kept as static strings so that
/// reading them allocates nothing (most are longer than an inline
/// [`CompactString`]).
const KNOWN_URIS: [&str; 17] = [
    "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "urn:ietf:params:rtp-hdrext:toffset",
    "urn:ietf:params:rtp-hdrext:sdes:mid",
    "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
    "urn:3gpp:video-orientation",
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time",
    "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay",
    "http://www.webrtc.org/experiments/rtp-hdrext/video-content-type",
    "http://www.webrtc.org/experiments/rtp-hdrext/video-timing",
    "http://www.webrtc.org/experiments/rtp-hdrext/color-space",
    "http://www.webrtc.org/experiments/rtp-hdrext/video-layers-allocation00",
    "http://www.webrtc.org/experiments/rtp-hdrext/generic-frame-descriptor-00",
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
    "https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension",
    "urn:ietf:params:rtp-hdrext:csrc-audio-level",
];

/// `uri` as a [`CompactString`], without allocating for a known URI.
pub(crate) fn uri_str(uri: &str) -> CompactString {
    match KNOWN_URIS.iter().find(|k| **k == uri) {
        Some(k) => CompactString::const_new(k),
        None => CompactString::from(uri),
    }
}

/// `<rtp-hdrext/>`: one `a=extmap` line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HdrExt {
    /// Local identifier (1..=14 one-byte, up to 255 two-byte; XEP-0294 allows up to 4096).
    pub id: u16,
    /// Extension URI.
    pub uri: CompactString,
    /// `senders` (absent means both; `a=extmap:<id>/<direction>`).
    pub senders: Option<Senders>,
    /// Extension attributes (`<parameter/>`; SDP's free-form attributes are one nameless parameter).
    pub parameters: Vec<Parameter>,
}

impl HdrExt {
    /// An extension with `id` and `uri`.
    pub fn new(id: u16, uri: &str) -> Self {
        HdrExt { id, uri: uri_str(uri), senders: None, parameters: Vec::new() }
    }

    /// Parses `<rtp-hdrext/>`.
    pub fn parse(el: &Element) -> Result<HdrExt, JingleError> {
        Self::parse_node(el)
    }

    pub(crate) fn parse_node<'d, N: XmlNode<'d>>(el: N) -> Result<HdrExt, JingleError> {
        let senders = match el.attr("senders") {
            Some(s) => Some(Senders::parse(s).ok_or_else(|| bad("rtp-hdrext", "senders", s))?),
            None => None,
        };
        Ok(HdrExt {
            id: parse::req_num(el, "rtp-hdrext", "id")?,
            uri: uri_str(parse::req(el, "rtp-hdrext", "uri")?),
            senders,
            parameters: el.elements().filter(|c| c.name() == "parameter").map(Parameter::parse).collect(),
        })
    }

    pub(crate) fn write<S: Sink>(&self, s: &mut S) {
        s.start("rtp-hdrext", ns::HDREXT);
        s.num_attr("id", self.id.into());
        s.attr("uri", &self.uri);
        s.opt_attr("senders", self.senders.map(Senders::as_str));
        for p in &self.parameters {
            p.write(s, ns::HDREXT);
        }
        s.end();
    }
}
