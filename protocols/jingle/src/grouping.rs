//! XEP-0338 Jingle Grouping Framework, version 1.0.0 (2020-07-21):
//! `<group semantics='BUNDLE'><content name/>...</group>` (`a=group`,
//! RFC 5888, RFC 9143). Read in `urn:xmpp:jingle:apps:grouping:0` and in
//! the `urn:ietf:rfc:5888` namespace older clients use; written in the former.

use crate::dom::XmlNode;
use crate::jingle::JingleError;
use crate::ns;
use crate::parse;
use crate::sink::{self, Sink};
use crate::xml::Element;

/// A `<group/>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Group {
    /// `semantics`: `BUNDLE`, `LS`, ...
    pub semantics: String,
    /// The content names, in order.
    pub contents: Vec<String>,
}

impl Group {
    /// A group of `contents`.
    pub fn new(semantics: &str, contents: &[&str]) -> Self {
        Group {
            semantics: semantics.to_owned(),
            contents: contents.iter().map(|c| (*c).to_owned()).collect(),
        }
    }

    /// Parses `<group/>`.
    pub fn parse(el: &Element) -> Result<Group, JingleError> {
        Self::parse_node(el)
    }

    pub(crate) fn parse_node<'d, N: XmlNode<'d>>(el: N) -> Result<Group, JingleError> {
        let semantics = parse::req(el, "group", "semantics")?.to_owned();
        let contents = el
            .elements()
            .filter(|c| c.name() == "content")
            .map(|c| parse::req(c, "content", "name").map(str::to_owned))
            .collect::<Result<_, _>>()?;
        Ok(Group { semantics, contents })
    }

    /// The `<group/>` element.
    pub fn to_element(&self) -> Element {
        sink::to_element(|s| self.write(s))
    }

    pub(crate) fn write<S: Sink>(&self, s: &mut S) {
        s.start("group", ns::GROUPING);
        s.attr("semantics", &self.semantics);
        for c in &self.contents {
            s.start("content", ns::GROUPING);
            s.attr("name", c);
            s.end();
        }
        s.end();
    }
}
