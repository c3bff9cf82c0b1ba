//! One way to write every Jingle type, two destinations: XML text written
//! directly (no tree in between, for speed) and an owned [`Element`] tree
//! (for callers that embed Jingle in a stanza they build).

use crate::xml::{Element, Node, escape_into};

/// Appends `s` escaped: whole when nothing in it needs escaping (the usual case).
fn escape(out: &mut String, s: &str, attr: bool) {
    // No early exit: the loop vectorizes.
    let special = s.bytes().fold(false, |acc, c| acc | matches!(c, b'&' | b'<' | b'>' | b'\'' | b'"'));
    if special {
        escape_into(out, s, attr);
    } else {
        out.push_str(s);
    }
}

/// Receives the events of one element tree.
pub(crate) trait Sink {
    /// Opens element `name` in namespace `ns`; attributes follow.
    fn start(&mut self, name: &'static str, ns: &'static str);
    /// Adds an attribute to the element just opened (before any child).
    fn attr(&mut self, name: &str, value: &str);
    /// Appends text.
    fn text(&mut self, text: &str);
    /// Closes the element opened last.
    fn end(&mut self);
    /// Appends a whole element as it is (unknown payloads kept from parsing).
    fn element(&mut self, el: &Element);

    /// Adds an attribute when there is a value.
    fn opt_attr(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.attr(name, v);
        }
    }

    /// Adds an integer attribute.
    fn num_attr(&mut self, name: &str, value: u64) {
        let mut buf = itoa_buf();
        self.attr(name, fmt_u64(&mut buf, value));
    }

    /// Opens and closes an element without attributes.
    fn empty(&mut self, name: &'static str, ns: &'static str) {
        self.start(name, ns);
        self.end();
    }
}

/// A stack buffer for integer formatting.
pub(crate) fn itoa_buf() -> [u8; 20] {
    [0; 20]
}

/// Formats `v` in decimal into `buf`.
pub(crate) fn fmt_u64(buf: &mut [u8; 20], mut v: u64) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    std::str::from_utf8(&buf[i..]).unwrap_or("0")
}

/// Writes XML text, declaring `xmlns` where the namespace changes.
pub(crate) struct TextSink<'o> {
    out: &'o mut String,
    /// (name, namespace) of the open elements.
    stack: Vec<(&'static str, &'static str)>,
    /// The namespace in scope outside the first element.
    outer_ns: &'o str,
    /// Whether the last start tag is still open (no `>` written yet).
    open: bool,
}

impl<'o> TextSink<'o> {
    /// A writer appending to `out`; `outer_ns` is the namespace in scope where the text goes.
    pub(crate) fn new(out: &'o mut String, outer_ns: &'o str) -> Self {
        TextSink { out, stack: Vec::with_capacity(8), outer_ns, open: false }
    }

    fn close_start(&mut self) {
        if self.open {
            self.out.push('>');
            self.open = false;
        }
    }

    fn current_ns(&self) -> &str {
        self.stack.last().map_or(self.outer_ns, |(_, ns)| ns)
    }
}

impl Sink for TextSink<'_> {
    fn start(&mut self, name: &'static str, ns: &'static str) {
        self.close_start();
        let declare = self.current_ns() != ns;
        self.out.push('<');
        self.out.push_str(name);
        if declare {
            self.out.push_str(" xmlns='");
            self.out.push_str(ns);
            self.out.push('\'');
        }
        self.stack.push((name, ns));
        self.open = true;
    }

    fn attr(&mut self, name: &str, value: &str) {
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("='");
        escape(self.out, value, true);
        self.out.push('\'');
    }

    fn text(&mut self, text: &str) {
        self.close_start();
        escape(self.out, text, false);
    }

    fn end(&mut self) {
        let Some((name, _)) = self.stack.pop() else { return };
        if self.open {
            self.out.push_str("/>");
            self.open = false;
        } else {
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push('>');
        }
    }

    fn element(&mut self, el: &Element) {
        self.close_start();
        let ns = self.current_ns().to_owned();
        el.write_to(self.out, &ns);
    }
}

/// Builds an owned element tree.
#[derive(Default)]
pub(crate) struct ElementSink {
    stack: Vec<Element>,
    root: Option<Element>,
}

impl ElementSink {
    /// The finished tree (an empty element if nothing was written).
    pub(crate) fn finish(self) -> Element {
        self.root.unwrap_or_default()
    }
}

impl Sink for ElementSink {
    fn start(&mut self, name: &'static str, ns: &'static str) {
        self.stack.push(Element::new(name, ns));
    }

    fn attr(&mut self, name: &str, value: &str) {
        if let Some(el) = self.stack.last_mut() {
            el.attrs.push((name.to_owned(), value.to_owned()));
        }
    }

    fn text(&mut self, text: &str) {
        if let Some(el) = self.stack.last_mut() {
            el.children.push(Node::Text(text.to_owned()));
        }
    }

    fn end(&mut self) {
        let Some(el) = self.stack.pop() else { return };
        match self.stack.last_mut() {
            Some(parent) => parent.children.push(Node::Element(el)),
            None => self.root = Some(el),
        }
    }

    fn element(&mut self, el: &Element) {
        match self.stack.last_mut() {
            Some(parent) => parent.children.push(Node::Element(el.clone())),
            None => self.root = Some(el.clone()),
        }
    }
}

/// Writes a value with the sink-generic writer to an [`Element`].
pub(crate) fn to_element(write: impl FnOnce(&mut ElementSink)) -> Element {
    let mut sink = ElementSink::default();
    write(&mut sink);
    sink.finish()
}
