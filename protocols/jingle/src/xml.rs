//! A small owned XML element tree for stanzas (XMPP Core, RFC 6120 §4.9.2
//! restrictions apply: no DTDs, no processing instructions, no comments
//! kept), parsed with quick-xml and written back with the namespace
//! declarations it needs.
//!
//! Namespaces are resolved at parse time: every [`Element`] carries its
//! namespace, and [`Element::to_xml`] declares `xmlns` only where an
//! element's namespace differs from its parent's. Prefixed element names
//! (`stream:features`) are resolved too; attribute names are kept as
//! written (`xml:lang`).

use std::fmt;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// Deepest nesting accepted: Jingle needs about 6 levels below a stanza.
pub const MAX_DEPTH: usize = 48;

/// An XML element: name, namespace, attributes (in document order) and children.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// The local name (no prefix).
    pub name: String,
    /// The namespace name (`""` for none).
    pub ns: String,
    /// Attributes other than namespace declarations, unescaped.
    pub attrs: Vec<(String, String)>,
    /// Child elements and text, in order.
    pub children: Vec<Node>,
}

/// A child of an [`Element`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A child element.
    Element(Element),
    /// Character data, unescaped.
    Text(String),
}

/// Why a piece of XML was refused. The input is at fault (a peer's bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct XmlError {
    /// What was wrong, for logs and `<text/>` in error replies.
    pub message: String,
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed XML: {}", self.message)
    }
}

impl std::error::Error for XmlError {}

fn err(message: impl Into<String>) -> XmlError {
    XmlError { message: message.into() }
}

impl Element {
    /// An element without attributes or children.
    pub fn new(name: impl Into<String>, ns: impl Into<String>) -> Self {
        Element { name: name.into(), ns: ns.into(), attrs: Vec::new(), children: Vec::new() }
    }

    /// Builder: adds (or replaces) an attribute.
    #[must_use]
    pub fn with_attr(mut self, name: &str, value: impl Into<String>) -> Self {
        self.set_attr(name, value);
        self
    }

    /// Builder: adds an attribute when `value` is `Some`.
    #[must_use]
    pub fn with_opt_attr(mut self, name: &str, value: Option<impl Into<String>>) -> Self {
        if let Some(v) = value {
            self.set_attr(name, v);
        }
        self
    }

    /// Builder: appends a child element.
    #[must_use]
    pub fn with_child(mut self, child: Element) -> Self {
        self.children.push(Node::Element(child));
        self
    }

    /// Builder: appends text.
    #[must_use]
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.children.push(Node::Text(text.into()));
        self
    }

    /// Sets an attribute, replacing an existing one of the same name.
    pub fn set_attr(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self.attrs.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.attrs.push((name.to_owned(), value)),
        }
    }

    /// Removes an attribute, returning its value.
    pub fn remove_attr(&mut self, name: &str) -> Option<String> {
        let i = self.attrs.iter().position(|(n, _)| n == name)?;
        Some(self.attrs.remove(i).1)
    }

    /// Appends a child element.
    pub fn push(&mut self, child: Element) {
        self.children.push(Node::Element(child));
    }

    /// The value of attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Whether this is `name` in namespace `ns`.
    pub fn is(&self, name: &str, ns: &str) -> bool {
        self.name == name && self.ns == ns
    }

    /// The child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|c| match c {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The child elements, mutable.
    pub fn elements_mut(&mut self) -> impl Iterator<Item = &mut Element> {
        self.children.iter_mut().filter_map(|c| match c {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The first child element named `name` in namespace `ns`.
    pub fn child(&self, name: &str, ns: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(name, ns))
    }

    /// Every child element named `name` in namespace `ns`.
    pub fn children_named<'a>(&'a self, name: &'a str, ns: &'a str) -> impl Iterator<Item = &'a Element> {
        self.elements().filter(move |e| e.is(name, ns))
    }

    /// Every child element in namespace `ns`.
    pub fn children_in<'a>(&'a self, ns: &'a str) -> impl Iterator<Item = &'a Element> {
        self.elements().filter(move |e| e.ns == ns)
    }

    /// The first child element, whatever its name.
    pub fn first_element(&self) -> Option<&Element> {
        self.elements().next()
    }

    /// The element's own text (its text children, concatenated).
    pub fn text(&self) -> String {
        let mut s = String::new();
        for c in &self.children {
            if let Node::Text(t) = c {
                s.push_str(t);
            }
        }
        s
    }

    /// Parses one element (leading and trailing whitespace allowed); an
    /// element without `xmlns` has no namespace.
    pub fn parse(xml: &str) -> Result<Element, XmlError> {
        Self::parse_in(xml, "")
    }

    /// Parses one element whose unprefixed names default to namespace
    /// `default_ns` (a stanza cut out of a stream whose default namespace
    /// is `jabber:component:accept`).
    pub fn parse_in(xml: &str, default_ns: &str) -> Result<Element, XmlError> {
        let mut reader = Reader::from_str(xml);
        reader.config_mut().trim_text(false);
        reader.config_mut().expand_empty_elements = false;
        reader.config_mut().check_end_names = true;
        // Namespace scopes: (prefix, namespace) pairs, with the length of the list at each depth.
        let mut scopes: Vec<(String, String)> = vec![(String::new(), default_ns.to_owned())];
        let mut marks: Vec<usize> = Vec::new();
        let mut stack: Vec<Element> = Vec::new();
        let mut root: Option<Element> = None;
        loop {
            let event = reader.read_event().map_err(|e| err(e.to_string()))?;
            match event {
                Event::Start(start) | Event::Empty(start) if root.is_some() => {
                    let _ = start;
                    return Err(err("content after the root element"));
                }
                Event::Start(start) => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(err("elements nested too deeply"));
                    }
                    marks.push(scopes.len());
                    let el = open(&start, &mut scopes)?;
                    stack.push(el);
                }
                Event::Empty(start) => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(err("elements nested too deeply"));
                    }
                    let mark = scopes.len();
                    let el = open(&start, &mut scopes)?;
                    scopes.truncate(mark);
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(Node::Element(el)),
                        None => root = Some(el),
                    }
                }
                Event::End(_) => {
                    let el = stack.pop().ok_or_else(|| err("unexpected end tag"))?;
                    scopes.truncate(marks.pop().unwrap_or(1));
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(Node::Element(el)),
                        None => root = Some(el),
                    }
                }
                Event::Text(t) => {
                    let raw = std::str::from_utf8(&t).map_err(|e| err(e.to_string()))?;
                    let text = unescape(raw)?;
                    push_text(&mut stack, root.is_some(), &text)?;
                }
                Event::CData(c) => {
                    let text = std::str::from_utf8(&c).map_err(|e| err(e.to_string()))?;
                    push_text(&mut stack, root.is_some(), text)?;
                }
                Event::Decl(_) if stack.is_empty() && root.is_none() => {}
                Event::Comment(_) => {}
                Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {
                    return Err(err("declarations, processing instructions and DTDs are not allowed"));
                }
                Event::Eof => break,
            }
        }
        if !stack.is_empty() {
            return Err(err("unclosed element"));
        }
        root.ok_or_else(|| err("no element"))
    }

    /// Parses like [`Element::parse`], with the crate's own borrowing XML
    /// reader instead of quick-xml: the same tree (the `jingle_parse` fuzz
    /// target checks it), several times faster on stanzas.
    pub fn parse_fast(xml: &str) -> Result<Element, XmlError> {
        crate::dom::parse(xml).map(|d| crate::dom::XmlNode::to_element(d.root()))
    }

    /// Parses like [`Element::parse_in`], with the reader of [`Element::parse_fast`].
    pub fn parse_fast_in(xml: &str, default_ns: &str) -> Result<Element, XmlError> {
        crate::dom::parse_in(xml, default_ns).map(|d| crate::dom::XmlNode::to_element(d.root()))
    }

    /// Serializes the element, declaring its namespace.
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(256);
        self.write_to(&mut out, "");
        out
    }

    /// Serializes the element into `out`, declaring `xmlns` where the
    /// namespace differs from `parent_ns` (the namespace in scope).
    pub fn write_to(&self, out: &mut String, parent_ns: &str) {
        out.push('<');
        out.push_str(&self.name);
        if self.ns != parent_ns {
            out.push_str(" xmlns='");
            escape_into(out, &self.ns, true);
            out.push('\'');
        }
        for (n, v) in &self.attrs {
            out.push(' ');
            out.push_str(n);
            out.push_str("='");
            escape_into(out, v, true);
            out.push('\'');
        }
        if self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        for c in &self.children {
            match c {
                Node::Element(e) => e.write_to(out, &self.ns),
                Node::Text(t) => escape_into(out, t, false),
            }
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }
}

impl fmt::Display for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_xml())
    }
}

/// Replaces entity and character references in `raw`.
pub(crate) fn unescape(raw: &str) -> Result<std::borrow::Cow<'_, str>, XmlError> {
    if !raw.contains('&') {
        return Ok(std::borrow::Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find(';').ok_or_else(|| err("unterminated entity reference"))?;
        let name = &after[..end];
        out.push(resolve_entity(name).ok_or_else(|| err(format!("unknown entity &{name};")))?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(std::borrow::Cow::Owned(out))
}

/// The five predefined entities and character references (`&#38;`, `&#x26;`).
fn resolve_entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix('x').or_else(|| num.strip_prefix('X')) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(code).filter(|&c| c != '\0')
        }
    }
}

fn push_text(stack: &mut [Element], after_root: bool, text: &str) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(parent) => {
            if let Some(Node::Text(prev)) = parent.children.last_mut() {
                prev.push_str(text);
            } else {
                parent.children.push(Node::Text(text.to_owned()));
            }
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None if after_root => Err(err("text after the root element")),
        None => Err(err("text before the root element")),
    }
}

/// Builds an element from a start tag: namespace declarations go into
/// `scopes`, the name is resolved against them.
fn open(start: &BytesStart<'_>, scopes: &mut Vec<(String, String)>) -> Result<Element, XmlError> {
    let mut attrs = Vec::new();
    for a in start.attributes() {
        let a = a.map_err(|e| err(e.to_string()))?;
        let key = std::str::from_utf8(a.key.as_ref()).map_err(|e| err(e.to_string()))?;
        let valid_key = match key.split_once(':') {
            Some((p, l)) => is_ncname(p) && is_ncname(l),
            None => is_ncname(key),
        };
        if !valid_key {
            return Err(err(format!("invalid attribute name {key}")));
        }
        let raw = std::str::from_utf8(&a.value).map_err(|e| err(e.to_string()))?;
        let value = unescape(raw)?.into_owned();
        if key == "xmlns" {
            scopes.push((String::new(), value));
        } else if let Some(prefix) = key.strip_prefix("xmlns:") {
            scopes.push((prefix.to_owned(), value));
        } else {
            if attrs.iter().any(|(n, _): &(String, String)| n == key) {
                return Err(err(format!("attribute {key} given twice")));
            }
            attrs.push((key.to_owned(), value));
        }
    }
    let qname = std::str::from_utf8(start.name().as_ref()).map_err(|e| err(e.to_string()))?.to_owned();
    let (prefix, local) = match qname.split_once(':') {
        Some((p, l)) => (p.to_owned(), l.to_owned()),
        None => (String::new(), qname),
    };
    // A name that could not be written back as it was read (`a:b:c`, `:a`, `a:`) is refused here.
    let prefixed = start.name().as_ref().contains(&b':');
    if !is_ncname(&local) || (prefixed && !is_ncname(&prefix)) {
        return Err(err(format!("invalid element name {prefix}:{local}")));
    }
    let ns = scopes
        .iter()
        .rev()
        .find(|(p, _)| *p == prefix)
        .map(|(_, n)| n.clone())
        .ok_or_else(|| err(format!("undeclared prefix {prefix}")))?;
    Ok(Element { name: local, ns, attrs, children: Vec::new() })
}

/// An XML name without colon (Namespaces in XML `NCName`), with the ASCII
/// rules enforced (non-ASCII characters are let through).
fn is_ncname(s: &str) -> bool {
    let mut bytes = s.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b >= 0x80);
    first_ok && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_') || b >= 0x80)
}

/// Escapes `s` for text (`&`, `<`, `>`) or for a single-quoted attribute value (also `'`, `"`).
pub fn escape_into(out: &mut String, s: &str, attr: bool) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'\'' if attr => "&apos;",
            b'"' if attr => "&quot;",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

/// Inputs both XML readers must refuse (their tests share them).
#[cfg(test)]
pub(crate) const MALFORMED: &[&str] = &[
    "",
    "<a>",
    "<a></b>",
    "<a/><b/>",
    "text",
    "<a x='1' x='2'/>",
    "<p:a/>",
    "<a>&bogus;</a>",
    "<!DOCTYPE a><a/>",
    "<a/>trailing",
    "<a>&#0;</a>",
    "<p:a:b xmlns:p='urn:p'/>",
    "<a b:c:d='1'/>",
    "<:a/>",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_resolves_default_and_prefixed_namespaces() {
        let x = "<iq xmlns='jabber:client' type='set'><jingle xmlns='urn:xmpp:jingle:1' action='a'>\
                 <p:x xmlns:p='urn:p'/><reason><busy/></reason></jingle></iq>";
        let e = Element::parse(x).unwrap();
        assert!(e.is("iq", "jabber:client"));
        let j = e.child("jingle", "urn:xmpp:jingle:1").unwrap();
        assert_eq!(j.attr("action"), Some("a"));
        assert!(j.child("x", "urn:p").is_some());
        assert!(j.child("reason", "urn:xmpp:jingle:1").unwrap().child("busy", "urn:xmpp:jingle:1").is_some());
    }

    #[test]
    fn round_trip_declares_only_changed_namespaces() {
        let x = "<iq xmlns='jabber:client' type='set'><jingle xmlns='urn:xmpp:jingle:1' action='a&amp;b'>\
                 <text>1 &lt; 2 &amp; &#x41;</text></jingle></iq>";
        let e = Element::parse(x).unwrap();
        assert_eq!(e.child("jingle", "urn:xmpp:jingle:1").unwrap().attr("action"), Some("a&b"));
        let out = e.to_xml();
        assert_eq!(
            out,
            "<iq xmlns='jabber:client' type='set'><jingle xmlns='urn:xmpp:jingle:1' action='a&amp;b'><text>1 &lt; 2 &amp; A</text></jingle></iq>"
        );
        assert_eq!(Element::parse(&out).unwrap(), e);
    }

    #[test]
    fn parse_in_gives_the_stream_namespace() {
        let e = Element::parse_in("<message to='a@b'><body>hi</body></message>", "jabber:component:accept")
            .unwrap();
        assert!(e.is("message", "jabber:component:accept"));
        assert_eq!(e.child("body", "jabber:component:accept").unwrap().text(), "hi");
    }

    #[test]
    fn malformed_inputs_are_errors_not_panics() {
        for bad in MALFORMED {
            assert!(Element::parse(bad).is_err(), "{bad:?}");
        }
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(Element::parse(&deep).is_err());
    }
}
