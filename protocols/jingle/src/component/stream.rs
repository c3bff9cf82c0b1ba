//! The XEP-0114 (Jabber Component Protocol, version 1.6) stream: the
//! header we open, the handshake (hex SHA-1 of the stream id and the
//! secret, §3), and an incremental framer that cuts the server's byte
//! stream into its header, whole stanzas and the closing tag, whatever the
//! chunking (RFC 6120 §4).
//!
//! The framer is a small byte-at-a-time tokenizer: it tracks element depth
//! through start tags (quoted attribute values may contain `>`), end tags,
//! empty tags, comments, CDATA sections and processing instructions, and
//! keeps only the bytes of the stanza in progress. Well-formedness of a
//! stanza is checked later, by parsing it on its own: one bad stanza never
//! breaks the stream. What the framer refuses (text or end tags outside
//! the stream, DTDs, a stanza above [`MAX_BUFFERED`]) is a stream error.

use std::fmt::Write as _;

use sha1::{Digest, Sha1};

use crate::xml::Element;

/// The namespace of the component stream's stanzas.
pub const NS_COMPONENT: &str = "jabber:component:accept";
/// The namespace of `<stream:stream/>`, `<stream:error/>`.
pub const NS_STREAM: &str = "http://etherx.jabber.org/streams";
/// The namespace of stream error conditions (RFC 6120 §4.9.3).
pub const NS_STREAM_ERRORS: &str = "urn:ietf:params:xml:ns:xmpp-streams";

/// The largest stanza (or stream header) accepted: bigger is a stream error.
pub const MAX_BUFFERED: usize = 1 << 20;

/// The stream header the component opens towards `domain` (XEP-0114 §3).
pub(crate) fn stream_header(domain: &str) -> String {
    let mut s = String::from("<stream:stream xmlns='jabber:component:accept' ");
    s.push_str("xmlns:stream='http://etherx.jabber.org/streams' to='");
    crate::xml::escape_into(&mut s, domain, true);
    s.push_str("'>");
    s
}

/// The `<handshake/>` answering stream id `id` with `secret` (XEP-0114 §3):
/// lower-case hex SHA-1 of the concatenation.
pub(crate) fn handshake(id: &str, secret: &str) -> String {
    let digest = Sha1::new().chain_update(id.as_bytes()).chain_update(secret.as_bytes()).finalize();
    let mut s = String::from("<handshake>");
    for b in digest {
        let _ = write!(s, "{b:02x}");
    }
    s.push_str("</handshake>");
    s
}

/// What the framer found in the byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Frame {
    /// The server's `<stream:stream ...>` start tag, as received.
    Header(Vec<u8>),
    /// One top-level element (a stanza, `<handshake/>`, `<stream:error/>`), as received.
    Stanza(Vec<u8>),
    /// `</stream:stream>`.
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Character data (or nothing) until the next `<`.
    Text,
    /// Just after `<`.
    Lt,
    /// In a start tag; the quote character of the attribute value we are in, or 0.
    Start(u8),
    /// In an end tag.
    End,
    /// In `<?...?>`.
    Pi,
    /// After `<!`, not yet known to be a comment or a CDATA section.
    Bang,
    /// In `<!--...-->`.
    Comment,
    /// In `<![CDATA[...]]>`.
    CData,
}

/// The incremental framer (see the module documentation).
#[derive(Debug)]
pub(crate) struct Framer {
    buf: Vec<u8>,
    /// Next byte of `buf` to look at.
    pos: usize,
    /// Element depth: 0 outside the stream, 1 between stanzas.
    depth: usize,
    mode: Mode,
    /// Where the token in progress starts.
    token_start: usize,
    /// Where the stanza in progress starts (meaningful when `depth >= 2`).
    stanza_start: usize,
}

impl Framer {
    /// A framer waiting for the stream header.
    pub(crate) fn new() -> Self {
        Framer { buf: Vec::new(), pos: 0, depth: 0, mode: Mode::Text, token_start: 0, stanza_start: 0 }
    }

    /// Feeds `bytes`, appending what is complete to `out`. An error is a
    /// stream error: the framer must not be fed again.
    pub(crate) fn push(&mut self, bytes: &[u8], out: &mut Vec<Frame>) -> Result<(), String> {
        self.buf.extend_from_slice(bytes);
        while self.pos < self.buf.len() {
            let i = self.pos;
            let b = self.buf[i];
            self.pos += 1;
            match self.mode {
                Mode::Text => {
                    if b == b'<' {
                        self.mode = Mode::Lt;
                        self.token_start = i;
                    } else if self.depth == 0 && !b.is_ascii_whitespace() {
                        return Err("text outside the stream".into());
                    }
                }
                Mode::Lt => {
                    self.mode = match b {
                        b'/' => Mode::End,
                        b'?' => Mode::Pi,
                        b'!' => Mode::Bang,
                        b'>' | b'<' => return Err("malformed tag".into()),
                        _ => Mode::Start(0),
                    };
                }
                Mode::Start(q) => {
                    if q != 0 {
                        if b == q {
                            self.mode = Mode::Start(0);
                        }
                    } else if b == b'\'' || b == b'"' {
                        self.mode = Mode::Start(b);
                    } else if b == b'>' {
                        self.mode = Mode::Text;
                        self.start_tag(i, out)?;
                    }
                }
                Mode::End => {
                    if b == b'>' {
                        self.mode = Mode::Text;
                        self.end_tag(i, out)?;
                    }
                }
                Mode::Pi => {
                    if b == b'>' && i >= self.token_start + 3 && self.buf[i - 1] == b'?' {
                        self.mode = Mode::Text;
                    }
                }
                Mode::Bang => {
                    let t = &self.buf[self.token_start..=i];
                    if t == b"<!--" {
                        self.mode = Mode::Comment;
                    } else if t == b"<![CDATA[" {
                        if self.depth < 2 {
                            return Err("character data outside a stanza".into());
                        }
                        self.mode = Mode::CData;
                    } else if !b"<!--".starts_with(t) && !b"<![CDATA[".starts_with(t) {
                        return Err("DTDs and declarations are not allowed".into());
                    }
                }
                Mode::Comment => {
                    if b == b'>' && i >= self.token_start + 6 && self.buf[i - 2..i] == *b"--" {
                        self.mode = Mode::Text;
                    }
                }
                Mode::CData => {
                    if b == b'>' && i >= self.token_start + 11 && self.buf[i - 2..i] == *b"]]" {
                        self.mode = Mode::Text;
                    }
                }
            }
        }
        // Keep only the stanza (or token) in progress.
        let keep = if self.depth >= 2 {
            self.stanza_start
        } else if self.mode == Mode::Text {
            self.pos
        } else {
            self.token_start
        };
        if keep > 0 {
            self.buf.drain(..keep);
            self.pos -= keep;
            self.token_start = self.token_start.saturating_sub(keep);
            self.stanza_start = self.stanza_start.saturating_sub(keep);
        }
        if self.buf.len() > MAX_BUFFERED {
            return Err(format!("a stanza larger than {MAX_BUFFERED} bytes"));
        }
        Ok(())
    }

    /// A start tag ends at `i` (its `>`).
    fn start_tag(&mut self, i: usize, out: &mut Vec<Frame>) -> Result<(), String> {
        let empty = i > self.token_start + 1 && self.buf[i - 1] == b'/';
        match self.depth {
            0 => {
                if empty {
                    return Err("the stream header closes itself".into());
                }
                out.push(Frame::Header(self.buf[self.token_start..=i].to_vec()));
                self.depth = 1;
            }
            1 => {
                self.stanza_start = self.token_start;
                if empty {
                    out.push(Frame::Stanza(self.buf[self.token_start..=i].to_vec()));
                } else {
                    self.depth = 2;
                }
            }
            _ => {
                if !empty {
                    self.depth += 1;
                }
            }
        }
        Ok(())
    }

    /// An end tag ends at `i`.
    fn end_tag(&mut self, i: usize, out: &mut Vec<Frame>) -> Result<(), String> {
        match self.depth {
            0 => return Err("an end tag outside the stream".into()),
            1 => {
                out.push(Frame::Close);
                self.depth = 0;
            }
            2 => {
                out.push(Frame::Stanza(self.buf[self.stanza_start..=i].to_vec()));
                self.depth = 1;
            }
            _ => self.depth -= 1,
        }
        Ok(())
    }
}

/// The parsed stream header with what is needed to parse stanzas in its scope.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    /// The header's start tag as received (it declares the namespaces in scope).
    open: String,
    /// The matching end tag.
    close: String,
    /// The stream id.
    pub(crate) id: Option<String>,
}

impl Header {
    /// Parses the server's stream header: it must be `stream` in [`NS_STREAM`].
    pub(crate) fn parse(raw: &[u8]) -> Result<Header, String> {
        let open = std::str::from_utf8(raw).map_err(|_| "the stream header is not UTF-8".to_owned())?;
        let body = open.strip_suffix('>').unwrap_or(open);
        let el = Element::parse(&format!("{body}/>")).map_err(|e| format!("stream header: {e}"))?;
        if !el.is("stream", NS_STREAM) {
            return Err(format!("expected a stream header, got <{}/> in '{}'", el.name, el.ns));
        }
        let qname: String = open[1..].chars().take_while(|c| !c.is_whitespace() && *c != '>').collect();
        Ok(Header {
            open: open.to_owned(),
            close: format!("</{qname}>"),
            id: el.attr("id").map(str::to_owned),
        })
    }

    /// Parses a stanza in the scope of the header (its default namespace and prefixes).
    pub(crate) fn parse_stanza(&self, stanza: &str) -> Result<Element, String> {
        let doc = format!("{}{stanza}{}", self.open, self.close);
        let root = Element::parse_fast(&doc).map_err(|e| e.message)?;
        let mut elements = root.children.into_iter().filter_map(|n| match n {
            crate::xml::Node::Element(e) => Some(e),
            crate::xml::Node::Text(_) => None,
        });
        match (elements.next(), elements.next()) {
            (Some(e), None) => Ok(e),
            _ => Err("not one element".into()),
        }
    }

    /// Parses only the start tag of a stanza whose whole text did not parse,
    /// to find out whom to send an error to.
    pub(crate) fn parse_start_tag(&self, stanza: &str) -> Option<Element> {
        let end = start_tag_end(stanza)?;
        let tag = stanza[..end].strip_suffix('/').unwrap_or(&stanza[..end]);
        self.parse_stanza(&format!("{tag}/>")).ok()
    }
}

/// The index of the `>` ending the first start tag of `s` (outside quotes).
fn start_tag_end(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '>') => return Some(i),
            (None, '<') => return None,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(chunks: &[&[u8]]) -> Result<Vec<Frame>, String> {
        let mut f = Framer::new();
        let mut out = Vec::new();
        for c in chunks {
            f.push(c, &mut out)?;
        }
        Ok(out)
    }

    const STREAM: &str = "<?xml version='1.0'?>\n<stream:stream xmlns:stream='http://etherx.jabber.org/streams' \
        xmlns='jabber:component:accept' from='gw.example' id='3BF96D32'>\
        <handshake/> <iq a='x>y' id=\"1\"><q><![CDATA[</iq> <]]><!-- </iq> --></q><e/>text &amp;</iq>\n\
        <message/></stream:stream>";

    fn expected() -> Vec<Frame> {
        vec![
            Frame::Header(
                b"<stream:stream xmlns:stream='http://etherx.jabber.org/streams' \
        xmlns='jabber:component:accept' from='gw.example' id='3BF96D32'>"
                    .to_vec(),
            ),
            Frame::Stanza(b"<handshake/>".to_vec()),
            Frame::Stanza(
                b"<iq a='x>y' id=\"1\"><q><![CDATA[</iq> <]]><!-- </iq> --></q><e/>text &amp;</iq>".to_vec(),
            ),
            Frame::Stanza(b"<message/>".to_vec()),
            Frame::Close,
        ]
    }

    #[test]
    fn frames_a_stream_in_one_chunk() {
        assert_eq!(frames(&[STREAM.as_bytes()]).unwrap(), expected());
    }

    #[test]
    fn frames_a_stream_at_every_split_and_byte_by_byte() {
        let bytes = STREAM.as_bytes();
        for cut in 0..=bytes.len() {
            assert_eq!(frames(&[&bytes[..cut], &bytes[cut..]]).unwrap(), expected(), "cut at {cut}");
        }
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(frames(&singles).unwrap(), expected());
        let threes: Vec<&[u8]> = bytes.chunks(3).collect();
        assert_eq!(frames(&threes).unwrap(), expected());
    }

    #[test]
    fn refuses_what_cannot_be_a_stream() {
        for bad in [
            "junk",
            "</stream:stream>",
            "<stream:stream/>",
            "<!DOCTYPE x><stream:stream>",
            "<stream:stream><!ENTITY x 'y'>",
            "<stream:stream><![CDATA[x]]>",
            "<stream:stream><>",
        ] {
            assert!(frames(&[bad.as_bytes()]).is_err(), "{bad}");
        }
    }

    #[test]
    fn caps_the_stanza_size() {
        let mut f = Framer::new();
        let mut out = Vec::new();
        f.push(b"<stream:stream><message><body>", &mut out).unwrap();
        let chunk = vec![b'a'; 64 * 1024];
        let mut failed = false;
        for _ in 0..20 {
            if f.push(&chunk, &mut out).is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed);
        // Many small stanzas are fine however much they add up to.
        let mut f = Framer::new();
        let mut out = Vec::new();
        f.push(b"<stream:stream>", &mut out).unwrap();
        let many = "<message><body>hello</body></message>".repeat(40_000);
        f.push(many.as_bytes(), &mut out).unwrap();
        assert_eq!(out.len(), 40_000 + 1);
    }

    #[test]
    fn handshake_is_hex_sha1_of_id_and_secret() {
        // sha1sum of "3BF96D32secret".
        assert_eq!(
            handshake("3BF96D32", "secret"),
            "<handshake>b09ea9b3b7f586be8a08d0a3dd7466f110aeb136</handshake>"
        );
    }

    #[test]
    fn header_parses_and_stanzas_parse_in_its_scope() {
        let h = Header::parse(
            b"<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:component:accept' id='x1'>",
        )
        .unwrap();
        assert_eq!(h.id.as_deref(), Some("x1"));
        let e = h
            .parse_stanza(
                "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
            )
            .unwrap();
        assert!(e.is("error", NS_STREAM));
        let e = h.parse_stanza("<iq id='1'/>").unwrap();
        assert!(e.is("iq", NS_COMPONENT));
        assert!(h.parse_stanza("<iq id='1'><a></iq>").is_err());
        let e = h.parse_start_tag("<iq id='1' from='a@b'><a></iq>").unwrap();
        assert_eq!(e.attr("from"), Some("a@b"));
        assert!(Header::parse(b"<stream xmlns='jabber:component:accept'>").is_err());
    }
}
