//! The session description: its opening lines, session-level lines and
//! media sections (RFC 8866 §5), with the parser and writer.

use crate::write::w;
use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use crate::attribute::{Attribute, Direction, Fingerprint, Group, Setup};
use crate::candidate::Candidate;
use crate::error::{ErrorKind, ParseError, excerpt};
use crate::line::{Connection, Line, Origin, Timing};
use crate::media::{MediaLine, MediaSection};

/// A parsed session description.
///
/// Text fields borrow from the parsed input where they can
/// ([`Cow::Borrowed`]); [`SessionDescription::into_owned`] detaches them.
/// Everything after the `v=`, `o=` and `s=` lines is kept in
/// [`lines`](Self::lines) and in each media section's lines, in the order it
/// was written, so that writing a parsed description gives back the same lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionDescription<'a> {
    /// `v=` protocol version, 0.
    pub version: u32,
    /// `o=` origin.
    pub origin: Origin<'a>,
    /// `s=` session name (`-` or a single space when there is none).
    pub session_name: Cow<'a, str>,
    /// Session-level lines after `s=`, in order.
    pub lines: Vec<Line<'a>>,
    /// Media sections, in order.
    pub media: Vec<MediaSection<'a>>,
}

/// Iterates over the non-empty lines of `input` with their 1-based numbers,
/// accepting CRLF and LF line ends and skipping blank lines.
struct Lines<'a> {
    input: &'a str,
    /// Offset of the next line in `input`.
    start: usize,
    number: usize,
}

impl<'a> Lines<'a> {
    fn new(input: &'a str) -> Self {
        Lines { input, start: 0, number: 0 }
    }

    /// The input not yet consumed.
    fn rest(&self) -> &'a str {
        self.input.get(self.start..).unwrap_or_default()
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (usize, &'a str);

    #[inline]
    fn next(&mut self) -> Option<(usize, &'a str)> {
        loop {
            let rest = self.input.get(self.start..).unwrap_or_default();
            if rest.is_empty() {
                return None;
            }
            self.number += 1;
            // SDP lines are short: a word-at-a-time search beats memchr's set-up here.
            let len = crate::lex::find_byte(rest.as_bytes(), b'\n').unwrap_or(rest.len());
            // `len` is at an ASCII newline or the end: a char boundary.
            let line = &rest[..len];
            self.start += len + 1;
            let line = line.strip_suffix('\r').unwrap_or(line);
            // Blank lines (often trailing a SIP body) are skipped. Trailing
            // blanks elsewhere are kept: `s= ` is how a nameless session is written.
            if line.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
                || !crate::lex::trim_end_blanks(line).is_empty()
            {
                return Some((self.number, line));
            }
        }
    }
}

/// Splits `<letter>=<value>`.
#[inline]
fn split_line(number: usize, line: &str) -> Result<(u8, &str), ParseError> {
    let b = line.as_bytes();
    if b.len() < 2 || b[1] != b'=' || !b[0].is_ascii_alphabetic() {
        return Err(ParseError::new(number, ErrorKind::MalformedLine { found: excerpt(line) }));
    }
    Ok((b[0], &line[2..]))
}

/// Takes the next line, which must have type `letter`.
fn expect_line<'a>(
    lines: &mut Lines<'a>,
    letter: u8,
    expected: &'static str,
) -> Result<(usize, &'a str), ParseError> {
    let Some((number, line)) = lines.next() else {
        return Err(ParseError::new(
            lines.number.max(1),
            ErrorKind::Expected { expected, found: String::new() },
        ));
    };
    match split_line(number, line)? {
        (l, v) if l == letter => Ok((number, v)),
        _ => Err(ParseError::new(number, ErrorKind::Expected { expected, found: excerpt(line) })),
    }
}

/// Finds the start of the next media section, to size each section's line vector.
struct SectionSizer(memchr::memmem::Finder<'static>);

impl SectionSizer {
    fn new() -> Self {
        SectionSizer(memchr::memmem::Finder::new(b"\nm="))
    }

    /// A capacity for the lines of the section that `rest` starts with:
    /// its length divided by a short SDP line's length.
    fn capacity(&self, rest: &str) -> usize {
        let len = self.0.find(rest.as_bytes()).unwrap_or(rest.len());
        len / 24 + 2
    }
}

impl<'a> SessionDescription<'a> {
    /// Parses a description from UTF-8 bytes (a SIP body, a file).
    pub fn parse_bytes(input: &'a [u8]) -> Result<Self, ParseError> {
        match std::str::from_utf8(input) {
            Ok(s) => Self::parse(s),
            Err(e) => {
                let line = memchr::memchr_iter(b'\n', &input[..e.valid_up_to()]).count() + 1;
                Err(ParseError::new(line, ErrorKind::InvalidUtf8))
            }
        }
    }

    /// Parses a description. Lines may end in CRLF or LF; blank lines are
    /// skipped, and trailing blanks after structured values (`a=`, `c=`,
    /// `m=`, ...) are ignored. The first lines must be `v=`, `o=`, `s=`.
    pub fn parse(input: &'a str) -> Result<Self, ParseError> {
        let mut lines = Lines::new(input);
        if input.trim().is_empty() {
            return Err(ParseError::new(1, ErrorKind::Empty));
        }
        let (n, v) = expect_line(&mut lines, b'v', "v= line")?;
        let version =
            crate::lex::int(v, "version", "0").map_err(|e| ParseError::new(n, ErrorKind::InvalidField(e)))?;
        let (n, o) = expect_line(&mut lines, b'o', "o= line")?;
        let origin = Origin::parse(o).map_err(|e| ParseError::new(n, ErrorKind::InvalidField(e)))?;
        let (_, s) = expect_line(&mut lines, b's', "s= line")?;
        let sizer = SectionSizer::new();
        let mut desc = SessionDescription {
            version,
            origin,
            session_name: Cow::Borrowed(s),
            lines: Vec::with_capacity(sizer.capacity(lines.rest())),
            media: Vec::new(),
        };
        while let Some((n, line)) = lines.next() {
            let (letter, value) = split_line(n, line)?;
            if letter == b'm' {
                let m =
                    MediaLine::parse(value).map_err(|e| ParseError::new(n, ErrorKind::InvalidField(e)))?;
                desc.media
                    .push(MediaSection { line: m, lines: Vec::with_capacity(sizer.capacity(lines.rest())) });
                continue;
            }
            if matches!(letter, b'v' | b'o' | b's') {
                let line = match letter {
                    b'v' => "v=",
                    b'o' => "o=",
                    _ => "s=",
                };
                return Err(ParseError::new(n, ErrorKind::Duplicate { line }));
            }
            let out = match desc.media.last_mut() {
                None => &mut desc.lines,
                Some(media) => {
                    if crate::line::is_session_only(char::from(letter)) {
                        return Err(ParseError::new(
                            n,
                            ErrorKind::SessionLineInMedia { letter: char::from(letter) },
                        ));
                    }
                    &mut media.lines
                }
            };
            Line::parse_into(letter, value, out)
                .map_err(|e| ParseError::new(n, ErrorKind::InvalidField(e)))?;
        }
        Ok(desc)
    }

    /// Writes the description with CRLF line ends.
    pub fn to_sdp(&self) -> String {
        use fmt::Write;
        let mut out =
            String::with_capacity(256 + 64 * self.media.iter().map(|m| m.lines.len()).sum::<usize>());
        let _ = write!(out, "{self}");
        out
    }

    /// Session-level attributes, in order.
    pub fn attributes(&self) -> impl Iterator<Item = &Attribute<'a>> {
        attributes(&self.lines)
    }

    /// The session-level `c=` line.
    pub fn connection(&self) -> Option<&Connection<'a>> {
        self.lines.iter().find_map(|l| match l {
            Line::Connection(c) => Some(c),
            _ => None,
        })
    }

    /// The first `t=` line.
    pub fn timing(&self) -> Option<Timing> {
        self.lines.iter().find_map(|l| match l {
            Line::Timing(t) => Some(*t),
            _ => None,
        })
    }

    /// `a=group` lines (session level).
    pub fn groups(&self) -> impl Iterator<Item = &Group<'a>> {
        self.attributes().filter_map(|a| match a {
            Attribute::Group(g) => Some(g),
            _ => None,
        })
    }

    /// The mids of the first BUNDLE group (RFC 9143), if there is one.
    pub fn bundle(&self) -> Option<&[Cow<'a, str>]> {
        self.groups().find(|g| g.semantics.eq_ignore_ascii_case("BUNDLE")).map(|g| g.mids.as_slice())
    }

    /// Whether the session declares `a=ice-lite`.
    pub fn ice_lite(&self) -> bool {
        self.attributes().any(|a| matches!(a, Attribute::IceLite))
    }

    /// The media section with `a=mid:<mid>`, with its index.
    pub fn media_by_mid(&self, mid: &str) -> Option<(usize, &MediaSection<'a>)> {
        self.media.iter().enumerate().find(|(_, m)| m.mid() == Some(mid))
    }

    /// The ICE username fragment in effect for media section `index`
    /// (media level, else session level; RFC 8839 §5.4).
    pub fn ice_ufrag(&self, index: usize) -> Option<&str> {
        let media = self.media.get(index).and_then(|m| m.ice_ufrag());
        media.or_else(|| {
            self.attributes().find_map(|a| match a {
                Attribute::IceUfrag(u) => Some(u.as_ref()),
                _ => None,
            })
        })
    }

    /// The ICE password in effect for media section `index`.
    pub fn ice_pwd(&self, index: usize) -> Option<&str> {
        let media = self.media.get(index).and_then(|m| m.ice_pwd());
        media.or_else(|| {
            self.attributes().find_map(|a| match a {
                Attribute::IcePwd(p) => Some(p.as_ref()),
                _ => None,
            })
        })
    }

    /// The DTLS fingerprints in effect for media section `index` (RFC 8122 §5: media level overrides session level).
    pub fn fingerprints(&self, index: usize) -> Vec<&Fingerprint<'a>> {
        let media: Vec<_> =
            self.media.get(index).map(|m| fingerprints(&m.lines).collect()).unwrap_or_default();
        if media.is_empty() { fingerprints(&self.lines).collect() } else { media }
    }

    /// The DTLS role in effect for media section `index`.
    pub fn setup(&self, index: usize) -> Option<Setup> {
        let find = |lines: &[Line<'a>]| {
            attributes(lines).find_map(|a| match a {
                Attribute::Setup(s) => Some(*s),
                _ => None,
            })
        };
        self.media.get(index).and_then(|m| find(&m.lines)).or_else(|| find(&self.lines))
    }

    /// The direction in effect for media section `index`: media level, else
    /// session level, else `sendrecv` (RFC 8866 §6.7).
    pub fn direction(&self, index: usize) -> Direction {
        let find = |lines: &[Line<'a>]| {
            attributes(lines).find_map(|a| match a {
                Attribute::Direction(d) => Some(*d),
                _ => None,
            })
        };
        self.media
            .get(index)
            .and_then(|m| find(&m.lines))
            .or_else(|| find(&self.lines))
            .unwrap_or(Direction::Sendrecv)
    }

    /// Every candidate with the index of its media section.
    pub fn candidates(&self) -> impl Iterator<Item = (usize, &Candidate<'a>)> {
        self.media.iter().enumerate().flat_map(|(i, m)| m.candidates().map(move |c| (i, c)))
    }

    /// Copies borrowed text so the description no longer borrows the input.
    pub fn into_owned(self) -> SessionDescription<'static> {
        use crate::owned::IntoOwned;
        SessionDescription {
            version: self.version,
            origin: self.origin.into_owned(),
            session_name: self.session_name.into_owned_cow(),
            lines: self.lines.into_iter().map(Line::into_owned).collect(),
            media: self.media.into_iter().map(MediaSection::into_owned).collect(),
        }
    }
}

pub(crate) fn attributes<'l, 'a>(lines: &'l [Line<'a>]) -> impl Iterator<Item = &'l Attribute<'a>> {
    lines.iter().filter_map(|l| match l {
        Line::Attribute(a) => Some(a),
        _ => None,
    })
}

fn fingerprints<'l, 'a>(lines: &'l [Line<'a>]) -> impl Iterator<Item = &'l Fingerprint<'a>> {
    attributes(lines).filter_map(|a| match a {
        Attribute::Fingerprint(f) => Some(f),
        _ => None,
    })
}

/// Writes the description with CRLF line ends.
impl fmt::Display for SessionDescription<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        w!(f, "v=", self.version, "\r\no=", self.origin, "\r\ns=", self.session_name, "\r\n")?;
        for line in &self.lines {
            w!(f, line, "\r\n")?;
        }
        for media in &self.media {
            w!(f, "m=", media.line, "\r\n")?;
            for line in &media.lines {
                w!(f, line, "\r\n")?;
            }
        }
        Ok(())
    }
}
