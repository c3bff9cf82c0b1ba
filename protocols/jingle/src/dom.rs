//! A fast, borrowing XML reader for stanzas: the document becomes one flat
//! arena of nodes whose names and values point into the input (no
//! allocation per element), and the typed Jingle parsers read it through
//! [`XmlNode`], the same trait they read an owned [`Element`] through.
//!
//! It accepts what [`Element::parse`] accepts (RFC 6120 §11.1 subset: no
//! DTD, no processing instructions; comments skipped; namespaces resolved)
//! and gives the same tree; the `jingle_parse` fuzz target checks that
//! both agree.

use std::borrow::Cow;

use crate::xml::{Element, MAX_DEPTH, Node, XmlError, unescape};

const NONE: u32 = u32::MAX;

/// One element or text node.
#[derive(Debug)]
struct NodeData<'a> {
    /// Local name; empty for a text node.
    name: &'a str,
    /// Text of a text node.
    text: Cow<'a, str>,
    /// Index in the namespace table.
    ns: u32,
    /// Attribute range in the attribute table.
    attrs: (u32, u32),
    first_child: u32,
    last_child: u32,
    next: u32,
}

/// A parsed document.
#[derive(Debug)]
pub(crate) struct Doc<'a> {
    nodes: Vec<NodeData<'a>>,
    attrs: Vec<(&'a str, Cow<'a, str>)>,
    namespaces: Vec<Cow<'a, str>>,
    root: u32,
}

/// A reference to an element of a [`Doc`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct NodeRef<'d, 'a> {
    doc: &'d Doc<'a>,
    idx: u32,
}

/// What the typed parsers need of an element, whichever tree it is in.
pub(crate) trait XmlNode<'d>: Copy {
    /// The local name.
    fn name(self) -> &'d str;
    /// The namespace.
    fn ns(self) -> &'d str;
    /// The value of attribute `name`.
    fn attr(self, name: &str) -> Option<&'d str>;
    /// Every attribute, in order.
    fn attr_pairs(self) -> impl Iterator<Item = (&'d str, &'d str)>;
    /// The number of attributes.
    fn attr_count(self) -> usize;
    /// The child elements.
    fn elements(self) -> impl Iterator<Item = Self>;
    /// The element's own text, concatenated.
    fn text(self) -> Cow<'d, str>;
    /// An owned copy (for payloads kept as they are).
    fn to_element(self) -> Element;

    /// Whether this is `name` in `ns`.
    fn is(self, name: &str, ns: &str) -> bool {
        self.name() == name && self.ns() == ns
    }

    /// The first child element `name` in `ns`.
    fn child(self, name: &str, ns: &str) -> Option<Self> {
        self.elements().find(|e| e.is(name, ns))
    }
}

impl<'d> XmlNode<'d> for &'d Element {
    fn name(self) -> &'d str {
        &self.name
    }

    fn ns(self) -> &'d str {
        &self.ns
    }

    fn attr(self, name: &str) -> Option<&'d str> {
        Element::attr(self, name)
    }

    fn attr_pairs(self) -> impl Iterator<Item = (&'d str, &'d str)> {
        self.attrs.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    fn attr_count(self) -> usize {
        self.attrs.len()
    }

    fn elements(self) -> impl Iterator<Item = Self> {
        Element::elements(self)
    }

    fn text(self) -> Cow<'d, str> {
        let mut texts = self.children.iter().filter_map(|c| match c {
            Node::Text(t) => Some(t.as_str()),
            Node::Element(_) => None,
        });
        match (texts.next(), texts.next()) {
            (None, _) => Cow::Borrowed(""),
            (Some(t), None) => Cow::Borrowed(t),
            (Some(_), Some(_)) => Cow::Owned(Element::text(self)),
        }
    }

    fn to_element(self) -> Element {
        self.clone()
    }
}

impl<'d, 'a: 'd> NodeRef<'d, 'a> {
    fn data(self) -> &'d NodeData<'a> {
        &self.doc.nodes[self.idx as usize]
    }

    /// Every child node (elements and text), in order.
    fn children(self) -> impl Iterator<Item = NodeRef<'d, 'a>> {
        let doc = self.doc;
        let mut at = self.data().first_child;
        std::iter::from_fn(move || {
            if at == NONE {
                return None;
            }
            let node = NodeRef { doc, idx: at };
            at = node.data().next;
            Some(node)
        })
    }

    fn is_text(self) -> bool {
        self.data().name.is_empty()
    }
}

impl<'d, 'a: 'd> XmlNode<'d> for NodeRef<'d, 'a> {
    fn name(self) -> &'d str {
        self.data().name
    }

    fn ns(self) -> &'d str {
        &self.doc.namespaces[self.data().ns as usize]
    }

    fn attr(self, name: &str) -> Option<&'d str> {
        let (a, b) = self.data().attrs;
        self.doc.attrs[a as usize..b as usize].iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_ref())
    }

    fn attr_pairs(self) -> impl Iterator<Item = (&'d str, &'d str)> {
        let (a, b) = self.data().attrs;
        self.doc.attrs[a as usize..b as usize].iter().map(|(n, v)| (*n, v.as_ref()))
    }

    fn attr_count(self) -> usize {
        let (a, b) = self.data().attrs;
        (b - a) as usize
    }

    fn elements(self) -> impl Iterator<Item = Self> {
        self.children().filter(|c| !c.is_text())
    }

    fn text(self) -> Cow<'d, str> {
        let mut texts = self.children().filter(|c| c.is_text()).map(|c| &c.data().text);
        match (texts.next(), texts.next()) {
            (None, _) => Cow::Borrowed(""),
            (Some(t), None) => Cow::Borrowed(t.as_ref()),
            (Some(a), Some(b)) => {
                let mut s = String::from(a.as_ref());
                s.push_str(b);
                texts.for_each(|t| s.push_str(t));
                Cow::Owned(s)
            }
        }
    }

    fn to_element(self) -> Element {
        let d = self.data();
        let mut el = Element::new(d.name, self.ns());
        el.attrs = self.attr_pairs().map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
        for c in self.children() {
            if c.is_text() {
                el.children.push(Node::Text(c.data().text.clone().into_owned()));
            } else {
                el.children.push(Node::Element(c.to_element()));
            }
        }
        el
    }
}

impl<'a> Doc<'a> {
    /// The root element.
    pub(crate) fn root(&self) -> NodeRef<'_, 'a> {
        NodeRef { doc: self, idx: self.root }
    }
}

fn err(message: impl Into<String>) -> XmlError {
    XmlError { message: message.into() }
}

/// Byte classes: a name ends here (blank, `/`, `>`, `=`).
const STOP: u8 = 1;
/// May start an NCName (ASCII letter, `_`, non-ASCII).
const NC_START: u8 = 2;
/// May continue an NCName (also digits, `-`, `.`).
const NC_CHAR: u8 = 4;
/// XML whitespace.
const SPACE: u8 = 8;
/// Ends a run of plain attribute value bytes (`'`, `"`, `<`, `&`).
const VALUE_STOP: u8 = 16;

const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let mut k = 0;
        if matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>' | b'=') {
            k |= STOP;
        }
        if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            k |= NC_START | NC_CHAR;
        }
        if c.is_ascii_digit() || c == b'-' || c == b'.' {
            k |= NC_CHAR;
        }
        if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            k |= SPACE;
        }
        if matches!(c, b'\'' | b'"' | b'<' | b'&') {
            k |= VALUE_STOP;
        }
        t[b] = k;
        b += 1;
    }
    t
};

fn is_space(b: u8) -> bool {
    CLASS[usize::from(b)] & SPACE != 0
}

/// An open element on the parser's stack.
struct Open<'a> {
    idx: u32,
    qname: &'a str,
    /// Length of the namespace scope list before this element's declarations.
    scope_mark: usize,
}

/// Parses one element (leading and trailing whitespace and comments allowed),
/// unprefixed names without a declaration in no namespace.
pub(crate) fn parse(xml: &str) -> Result<Doc<'_>, XmlError> {
    Parser::new(xml, "").run()
}

/// [`parse`] with unprefixed names defaulting to `default_ns`.
pub(crate) fn parse_in<'a>(xml: &'a str, default_ns: &'a str) -> Result<Doc<'a>, XmlError> {
    Parser::new(xml, default_ns).run()
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    doc: Doc<'a>,
    /// (prefix, namespace index) in scope, innermost last.
    scopes: Vec<(&'a str, u32)>,
    stack: Vec<Open<'a>>,
    root_done: bool,
    seen_element: bool,
}

impl<'a> Parser<'a> {
    fn new(s: &'a str, default_ns: &'a str) -> Self {
        let estimate = s.len() / 40 + 4;
        let nodes = Vec::with_capacity(estimate);
        let attrs = Vec::with_capacity(estimate * 2);
        let mut namespaces = Vec::with_capacity(16);
        namespaces.push(Cow::Borrowed(""));
        namespaces.push(Cow::Borrowed(default_ns));
        Parser {
            s,
            b: s.as_bytes(),
            i: 0,
            doc: Doc { nodes, attrs, namespaces, root: NONE },
            scopes: vec![("", 1)],
            stack: Vec::with_capacity(16),
            root_done: false,
            seen_element: false,
        }
    }

    fn find(&self, pat: &str) -> Option<usize> {
        memchr::memmem::find(&self.b[self.i..], pat.as_bytes()).map(|p| self.i + p)
    }

    fn run(mut self) -> Result<Doc<'a>, XmlError> {
        while self.i < self.b.len() {
            if self.b[self.i] != b'<' {
                let end = memchr::memchr(b'<', &self.b[self.i..]).map_or(self.b.len(), |p| self.i + p);
                let raw = &self.s[self.i..end];
                self.i = end;
                let text = unescape(raw)?;
                self.push_text(text)?;
                continue;
            }
            let rest = &self.b[self.i..];
            if rest.starts_with(b"<!--") {
                self.i += 4;
                let end = self.find("-->").ok_or_else(|| err("unterminated comment"))?;
                self.i = end + 3;
            } else if rest.starts_with(b"<![CDATA[") {
                self.i += 9;
                let end = self.find("]]>").ok_or_else(|| err("unterminated CDATA section"))?;
                let text = &self.s[self.i..end];
                self.i = end + 3;
                self.push_text(Cow::Borrowed(text))?;
            } else if rest.starts_with(b"<?") {
                let decl = rest.len() > 5 && &rest[2..5] == b"xml" && (is_space(rest[5]) || rest[5] == b'?');
                if !decl || self.seen_element || !self.stack.is_empty() {
                    return Err(err("declarations, processing instructions and DTDs are not allowed"));
                }
                let end = self.find("?>").ok_or_else(|| err("unterminated declaration"))?;
                self.i = end + 2;
            } else if rest.starts_with(b"<!") {
                return Err(err("declarations, processing instructions and DTDs are not allowed"));
            } else if rest.starts_with(b"</") {
                self.end_tag()?;
            } else {
                self.start_tag()?;
            }
        }
        if !self.stack.is_empty() {
            return Err(err("unclosed element"));
        }
        if self.doc.root == NONE {
            return Err(err("no element"));
        }
        Ok(self.doc)
    }

    fn push_text(&mut self, text: Cow<'a, str>) -> Result<(), XmlError> {
        let Some(open) = self.stack.last() else {
            if text.bytes().all(is_space) {
                return Ok(());
            }
            return Err(err(if self.root_done {
                "text after the root element"
            } else {
                "text before the root element"
            }));
        };
        if text.is_empty() {
            return Ok(());
        }
        let parent = open.idx;
        let last = self.doc.nodes[parent as usize].last_child;
        if last != NONE && self.doc.nodes[last as usize].name.is_empty() {
            self.doc.nodes[last as usize].text.to_mut().push_str(&text);
            return Ok(());
        }
        self.append(
            parent,
            NodeData {
                name: "",
                text,
                ns: 0,
                attrs: (0, 0),
                first_child: NONE,
                last_child: NONE,
                next: NONE,
            },
        );
        Ok(())
    }

    fn append(&mut self, parent: u32, node: NodeData<'a>) -> u32 {
        let idx = self.doc.nodes.len() as u32;
        self.doc.nodes.push(node);
        let p = &mut self.doc.nodes[parent as usize];
        let last = p.last_child;
        p.last_child = idx;
        if last == NONE {
            p.first_child = idx;
        } else {
            self.doc.nodes[last as usize].next = idx;
        }
        idx
    }

    fn skip_space(&mut self) {
        while self.i < self.b.len() && is_space(self.b[self.i]) {
            self.i += 1;
        }
    }

    /// A name: up to whitespace, `/`, `>`, `=`.
    fn name(&mut self) -> &'a str {
        let start = self.i;
        let rest = &self.b[start..];
        let len = rest.iter().position(|&b| CLASS[usize::from(b)] & STOP != 0).unwrap_or(rest.len());
        self.i = start + len;
        // Stops at ASCII bytes or the end: char boundaries.
        &self.s[start..self.i]
    }

    /// A name (up to whitespace, `/`, `>`, `=`), the offset of its first
    /// colon, and whether it is an NCName or `prefix:NCName`.
    fn qname(&mut self) -> (&'a str, Option<usize>, bool) {
        let b = self.b;
        let start = self.i;
        let mut i = start;
        let mut colon = None;
        let mut valid = true;
        let mut part_start = true;
        while let Some(&c) = b.get(i) {
            let k = CLASS[usize::from(c)];
            if k & STOP != 0 {
                break;
            }
            if c == b':' {
                valid &= !part_start && colon.is_none();
                colon.get_or_insert(i - start);
                part_start = true;
            } else {
                valid &= k & if part_start { NC_START } else { NC_CHAR } != 0;
                part_start = false;
            }
            i += 1;
        }
        self.i = i;
        // Stops at ASCII bytes or the end: char boundaries.
        (&self.s[start..i], colon, valid && !part_start)
    }

    fn start_tag(&mut self) -> Result<(), XmlError> {
        if self.root_done {
            return Err(err("content after the root element"));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(err("elements nested too deeply"));
        }
        self.i += 1;
        let (qname, colon, valid_name) = self.qname();
        if qname.is_empty() {
            return Err(err("an element without a name"));
        }
        let scope_mark = self.scopes.len();
        let attr_start = self.doc.attrs.len();
        let empty = loop {
            let before = self.i;
            self.skip_space();
            match self.b.get(self.i) {
                None => return Err(err("unterminated start tag")),
                Some(b'>') => {
                    self.i += 1;
                    break false;
                }
                Some(b'/') => {
                    if self.b.get(self.i + 1) != Some(&b'>') {
                        return Err(err("expected /> in a start tag"));
                    }
                    self.i += 2;
                    break true;
                }
                Some(_) if before == self.i => return Err(err("attributes must be separated by whitespace")),
                Some(_) => {}
            }
            let (key, _, valid_key) = self.qname();
            if !valid_key {
                return Err(err(format!("invalid attribute name {key}")));
            }
            self.skip_space();
            if self.b.get(self.i) != Some(&b'=') {
                return Err(err(format!("attribute {key} has no value")));
            }
            self.i += 1;
            self.skip_space();
            let quote = match self.b.get(self.i) {
                Some(&q @ (b'\'' | b'"')) => q,
                _ => return Err(err(format!("attribute {key}: value not quoted"))),
            };
            self.i += 1;
            // One pass over the value: its end, and whether it needs unescaping.
            let start = self.i;
            let mut end = start;
            let mut amp = false;
            loop {
                let Some(&c) = self.b.get(end) else {
                    return Err(err("unterminated attribute value"));
                };
                if CLASS[usize::from(c)] & VALUE_STOP != 0 {
                    match c {
                        b'<' => return Err(err("< in an attribute value")),
                        b'&' => amp = true,
                        _ if c == quote => break,
                        _ => {}
                    }
                }
                end += 1;
            }
            // `start` and `end` border ASCII quotes: char boundaries.
            let raw = &self.s[start..end];
            self.i = end + 1;
            let value = if amp { unescape(raw)? } else { Cow::Borrowed(raw) };
            if key == "xmlns" {
                let ns = self.intern(value);
                self.scopes.push(("", ns));
            } else if let Some(prefix) = key.strip_prefix("xmlns:") {
                let ns = self.intern(value);
                self.scopes.push((prefix, ns));
            } else {
                if self.doc.attrs[attr_start..].iter().any(|(n, _)| *n == key) {
                    return Err(err(format!("attribute {key} given twice")));
                }
                self.doc.attrs.push((key, value));
            }
        };
        let (prefix, local) = match colon {
            Some(c) => (&qname[..c], &qname[c + 1..]),
            None => ("", qname),
        };
        if !valid_name {
            return Err(err(format!("invalid element name {qname}")));
        }
        let want = prefix;
        let ns = self
            .scopes
            .iter()
            .rev()
            .find(|(p, _)| *p == want)
            .map(|(_, n)| *n)
            .ok_or_else(|| err(format!("undeclared prefix {want}")))?;
        let node = NodeData {
            name: local,
            text: Cow::Borrowed(""),
            ns,
            attrs: (attr_start as u32, self.doc.attrs.len() as u32),
            first_child: NONE,
            last_child: NONE,
            next: NONE,
        };
        let idx = match self.stack.last() {
            Some(parent) => self.append(parent.idx, node),
            None => {
                self.doc.nodes.push(node);
                self.doc.root = (self.doc.nodes.len() - 1) as u32;
                self.doc.root
            }
        };
        self.seen_element = true;
        if empty {
            self.scopes.truncate(scope_mark);
            if self.stack.is_empty() {
                self.root_done = true;
            }
        } else {
            self.stack.push(Open { idx, qname, scope_mark });
        }
        Ok(())
    }

    fn end_tag(&mut self) -> Result<(), XmlError> {
        self.i += 2;
        let name = self.name();
        self.skip_space();
        if self.b.get(self.i) != Some(&b'>') {
            return Err(err("malformed end tag"));
        }
        self.i += 1;
        let open = self.stack.pop().ok_or_else(|| err("unexpected end tag"))?;
        if open.qname != name {
            return Err(err(format!("expected </{}>, found </{name}>", open.qname)));
        }
        self.scopes.truncate(open.scope_mark);
        if self.stack.is_empty() {
            self.root_done = true;
        }
        Ok(())
    }

    /// The namespace table index of `ns`.
    fn intern(&mut self, ns: Cow<'a, str>) -> u32 {
        if let Some(i) = self.doc.namespaces.iter().position(|n| *n == ns) {
            return i as u32;
        }
        self.doc.namespaces.push(ns);
        (self.doc.namespaces.len() - 1) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(xml: &str) {
        let fast = parse(xml).map(|d| d.root().to_element());
        let slow = Element::parse(xml);
        assert_eq!(fast.is_ok(), slow.is_ok(), "{xml}: {fast:?} / {slow:?}");
        if let (Ok(f), Ok(s)) = (fast, slow) {
            assert_eq!(f, s, "{xml}");
        }
    }

    #[test]
    fn agrees_with_the_quick_xml_reader() {
        for xml in [
            "<a/>",
            "  <?xml version='1.0'?>\n<!-- c --><a xmlns='urn:a' x=\"1\" y='&amp;&#x41;'>t<b/>u<![CDATA[<v>]]><!-- d -->w</a>\n",
            "<iq xmlns='jabber:client'><jingle xmlns='urn:xmpp:jingle:1'><p:x xmlns:p='urn:p' p:a='1'><y/></p:x></jingle></iq>",
            "<a><b xmlns=''/></a>",
            "<a></a >",
            "<a><?pi x?></a>",
        ]
        .into_iter()
        .chain(crate::xml::MALFORMED.iter().copied())
        {
            same(xml);
        }
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).is_err());
    }
}
