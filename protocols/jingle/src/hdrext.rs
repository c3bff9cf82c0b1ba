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

/// `<rtp-hdrext/>`: one `a=extmap` line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HdrExt {
    /// Local identifier (1..=14 one-byte, up to 255 two-byte; XEP-0294 allows up to 4096).
    pub id: u16,
    /// Extension URI.
    pub uri: String,
    /// `senders` (absent means both; `a=extmap:<id>/<direction>`).
    pub senders: Option<Senders>,
    /// Extension attributes (`<parameter/>`; SDP's free-form attributes are one nameless parameter).
    pub parameters: Vec<Parameter>,
}

impl HdrExt {
    /// An extension with `id` and `uri`.
    pub fn new(id: u16, uri: &str) -> Self {
        HdrExt { id, uri: uri.to_owned(), senders: None, parameters: Vec::new() }
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
            uri: parse::req(el, "rtp-hdrext", "uri")?.to_owned(),
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
