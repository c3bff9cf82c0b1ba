//! XEP-0293 Jingle RTP Feedback Negotiation, version 1.0.2 (2022-08-26):
//! `<rtcp-fb type subtype/>` and `<rtcp-fb-trr-int value/>`, inside a
//! `<payload-type/>` (`a=rtcp-fb:<pt>`) or the whole `<description/>`
//! (`a=rtcp-fb:*`).

use crate::dom::XmlNode;
use crate::jingle::JingleError;
use crate::ns;
use crate::parse;
use crate::sink::Sink;
use crate::xml::Element;
use compact_str::CompactString;

/// `<rtcp-fb/>`: one `a=rtcp-fb` line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RtcpFb {
    /// `type`: `nack`, `ccm`, `goog-remb`, `transport-cc` ...
    pub kind: CompactString,
    /// `subtype`: `pli`, `fir` ...
    pub subtype: Option<CompactString>,
}

impl RtcpFb {
    /// Feedback of `kind` with an optional subtype.
    pub fn new(kind: &str, subtype: Option<&str>) -> Self {
        RtcpFb { kind: kind.into(), subtype: subtype.map(CompactString::from) }
    }

    /// Parses `<rtcp-fb/>`.
    pub fn parse(el: &Element) -> Result<RtcpFb, JingleError> {
        Self::parse_node(el)
    }

    pub(crate) fn parse_node<'d, N: XmlNode<'d>>(el: N) -> Result<RtcpFb, JingleError> {
        Ok(RtcpFb { kind: parse::req(el, "rtcp-fb", "type")?.into(), subtype: parse::opt(el, "subtype") })
    }

    pub(crate) fn write<S: Sink>(&self, s: &mut S) {
        s.start("rtcp-fb", ns::RTCP_FB);
        s.attr("type", &self.kind);
        s.opt_attr("subtype", self.subtype.as_deref());
        s.end();
    }
}

/// `<rtcp-fb-trr-int value/>`: `a=rtcp-fb:<pt> trr-int <value>` (milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrrInt {
    /// Minimal interval between regular RTCP packets, in milliseconds.
    pub value: u32,
}

impl TrrInt {
    /// Parses `<rtcp-fb-trr-int/>`.
    pub fn parse(el: &Element) -> Result<TrrInt, JingleError> {
        Self::parse_node(el)
    }

    pub(crate) fn parse_node<'d, N: XmlNode<'d>>(el: N) -> Result<TrrInt, JingleError> {
        Ok(TrrInt { value: parse::req_num(el, "rtcp-fb-trr-int", "value")? })
    }

    pub(crate) fn write<S: Sink>(&self, s: &mut S) {
        s.start("rtcp-fb-trr-int", ns::RTCP_FB);
        s.num_attr("value", self.value.into());
        s.end();
    }
}
