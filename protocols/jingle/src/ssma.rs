//! XEP-0339 Source-Specific Media Attributes in Jingle, version 1.0.1
//! (2021-10-23): `<source ssrc><parameter name value/></source>`
//! (`a=ssrc`) and `<ssrc-group semantics><source ssrc/></ssrc-group>`
//! (`a=ssrc-group`). An SSRC that is not a 32-bit decimal is an error.

use crate::dom::XmlNode;
use crate::jingle::JingleError;
use crate::ns;
use crate::parse;
use crate::sink::{self, Sink};
use crate::xml::Element;
use compact_str::CompactString;

/// A `<source/>`: the `a=ssrc` lines of one SSRC.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Source {
    /// The SSRC.
    pub ssrc: u32,
    /// Source attributes (`cname`, `msid` ...) in order.
    pub parameters: Vec<SourceParameter>,
    /// Other attributes (lib-jitsi-meet's `name`, `owner`), kept.
    pub attrs: Vec<(String, String)>,
    /// Other children, kept.
    pub extra: Vec<Element>,
}

/// `<parameter name value/>` of a source: `a=ssrc:<ssrc> <name>[:<value>]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceParameter {
    /// Attribute name.
    pub name: CompactString,
    /// Value, if any.
    pub value: Option<CompactString>,
}

/// A `<ssrc-group/>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SsrcGroup {
    /// `semantics`: `FID`, `SIM` ...
    pub semantics: CompactString,
    /// The SSRCs, in order.
    pub ssrcs: Vec<u32>,
}

impl Source {
    /// A source without parameters.
    pub fn new(ssrc: u32) -> Self {
        Source { ssrc, ..Source::default() }
    }

    /// The value of parameter `name`.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters.iter().find(|p| p.name == name).and_then(|p| p.value.as_deref())
    }

    /// Parses `<source/>`.
    pub fn parse(el: &Element) -> Result<Source, JingleError> {
        Self::parse_node(el)
    }

    pub(crate) fn parse_node<'d, N: XmlNode<'d>>(el: N) -> Result<Source, JingleError> {
        let mut s = Source {
            ssrc: parse::req_num(el, "source", "ssrc")?,
            attrs: parse::others(el, &["ssrc"]),
            ..Source::default()
        };
        for child in el.elements() {
            if child.name() == "parameter" {
                s.parameters.push(SourceParameter {
                    name: parse::req(child, "parameter", "name")?.into(),
                    value: parse::opt(child, "value"),
                });
            } else {
                s.extra.push(child.to_element());
            }
        }
        Ok(s)
    }

    /// The `<source/>` element.
    pub fn to_element(&self) -> Element {
        sink::to_element(|s| self.write(s))
    }

    pub(crate) fn write<S: Sink>(&self, s: &mut S) {
        s.start("source", ns::SSMA);
        s.num_attr("ssrc", self.ssrc.into());
        for (n, v) in &self.attrs {
            s.attr(n, v);
        }
        for p in &self.parameters {
            s.start("parameter", ns::SSMA);
            s.attr("name", &p.name);
            s.opt_attr("value", p.value.as_deref());
            s.end();
        }
        for e in &self.extra {
            s.element(e);
        }
        s.end();
    }
}

impl SsrcGroup {
    /// Parses `<ssrc-group/>`.
    pub fn parse(el: &Element) -> Result<SsrcGroup, JingleError> {
        Self::parse_node(el)
    }

    pub(crate) fn parse_node<'d, N: XmlNode<'d>>(el: N) -> Result<SsrcGroup, JingleError> {
        Ok(SsrcGroup {
            semantics: parse::req(el, "ssrc-group", "semantics")?.into(),
            ssrcs: el
                .elements()
                .filter(|c| c.name() == "source")
                .map(|c| parse::req_num(c, "source", "ssrc"))
                .collect::<Result<_, _>>()?,
        })
    }

    /// The `<ssrc-group/>` element.
    pub fn to_element(&self) -> Element {
        sink::to_element(|s| self.write(s))
    }

    pub(crate) fn write<S: Sink>(&self, s: &mut S) {
        s.start("ssrc-group", ns::SSMA);
        s.attr("semantics", &self.semantics);
        for ssrc in &self.ssrcs {
            s.start("source", ns::SSMA);
            s.num_attr("ssrc", (*ssrc).into());
            s.end();
        }
        s.end();
    }
}
