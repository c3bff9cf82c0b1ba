//! Non-attribute lines (RFC 8866 §5): `o=`, `c=`, `b=`, `t=` and the
//! free-text ones, and [`Line`], one line of a session or media level.

use crate::write::w;
use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use crate::FieldError;
use crate::attribute::Attribute;
use crate::lex::{Tokens, end, int, token};

type Text<'a> = Cow<'a, str>;

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>` (RFC 8866 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin<'a> {
    /// User name, `-` when none.
    pub username: Text<'a>,
    /// Session id; a numeric string by the RFC, kept as written since some peers exceed 64 bits.
    pub session_id: Text<'a>,
    /// Session version, incremented on each change (RFC 3264 §8).
    pub session_version: u64,
    /// Network type, `IN`.
    pub nettype: Text<'a>,
    /// Address type, `IP4` or `IP6`.
    pub addrtype: Text<'a>,
    /// Unicast address of the originating host.
    pub address: Text<'a>,
}

impl<'a> Origin<'a> {
    pub(crate) fn parse(v: &'a str) -> Result<Self, FieldError> {
        let mut t = Tokens::new(v);
        let username = t.expect("origin username", "a user name or -")?;
        let session_id = t.expect("origin session id", "a numeric string")?;
        let version = t.expect("origin session version", "an integer")?;
        let session_version = int(version, "origin session version", "an integer 0..=18446744073709551615")?;
        let nettype = t.expect("origin network type", "IN")?;
        let addrtype = t.expect("origin address type", "IP4 or IP6")?;
        let address = t.expect("origin address", "an address")?;
        end(&mut t, "origin")?;
        Ok(Origin {
            username: Cow::Borrowed(username),
            session_id: Cow::Borrowed(session_id),
            session_version,
            nettype: Cow::Borrowed(nettype),
            addrtype: Cow::Borrowed(addrtype),
            address: Cow::Borrowed(address),
        })
    }
}

impl fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        w!(
            f,
            self.username,
            " ",
            self.session_id,
            " ",
            self.session_version,
            " ",
            self.nettype,
            " ",
            self.addrtype,
            " ",
            self.address
        )
    }
}

/// `c=<nettype> <addrtype> <connection-address>` (RFC 8866 §5.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connection<'a> {
    /// Network type, `IN`.
    pub nettype: Text<'a>,
    /// Address type, `IP4` or `IP6`.
    pub addrtype: Text<'a>,
    /// The address, without any `/ttl` or `/count` suffix.
    pub address: Text<'a>,
    /// IPv4 multicast TTL (`/ttl`).
    pub ttl: Option<u8>,
    /// Number of multicast addresses (`/count`).
    pub count: Option<u32>,
}

impl<'a> Connection<'a> {
    pub(crate) fn parse(v: &'a str) -> Result<Self, FieldError> {
        let mut t = Tokens::new(v);
        let nettype = t.expect("connection network type", "IN")?;
        let addrtype = t.expect("connection address type", "IP4 or IP6")?;
        let full = t.expect("connection address", "an address")?;
        end(&mut t, "connection")?;
        let mut parts = full.split('/');
        let address = token(parts.next().unwrap_or_default(), "connection address", "an address")?;
        let first = parts.next();
        let second = parts.next();
        if let Some(extra) = parts.next() {
            return Err(FieldError::new("connection address", "<address>[/<ttl>][/<count>]", extra));
        }
        let (ttl, count) = match (first, second) {
            (None, _) => (None, None),
            // RFC 8866 §5.7: IPv6 multicast has no TTL, a single suffix is the count.
            (Some(n), None) if addrtype.eq_ignore_ascii_case("IP6") => {
                (None, Some(int(n, "connection address count", "an integer")?))
            }
            (Some(ttl), count) => (
                Some(int(ttl, "connection TTL", "an integer 0..=255")?),
                match count {
                    Some(c) => Some(int(c, "connection address count", "an integer")?),
                    None => None,
                },
            ),
        };
        Ok(Connection {
            nettype: Cow::Borrowed(nettype),
            addrtype: Cow::Borrowed(addrtype),
            address: Cow::Borrowed(address),
            ttl,
            count,
        })
    }

    /// The address as an IP address, if it is one.
    pub fn ip(&self) -> Option<std::net::IpAddr> {
        self.address.parse().ok()
    }
}

impl fmt::Display for Connection<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        w!(f, self.nettype, " ", self.addrtype, " ", self.address)?;
        if let Some(ttl) = self.ttl {
            w!(f, "/", ttl)?;
        }
        if let Some(count) = self.count {
            w!(f, "/", count)?;
        }
        Ok(())
    }
}

/// `b=<bwtype>:<bandwidth>` (RFC 8866 §5.8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bandwidth<'a> {
    /// Bandwidth type: `AS`, `CT`, `TIAS` (RFC 3890), ...
    pub kind: Text<'a>,
    /// Bandwidth in the type's unit (kbit/s for AS and CT, bit/s for TIAS).
    pub value: u64,
}

impl<'a> Bandwidth<'a> {
    pub(crate) fn parse(v: &'a str) -> Result<Self, FieldError> {
        let (kind, value) =
            v.split_once(':').ok_or_else(|| FieldError::new("bandwidth", "<bwtype>:<bandwidth>", v))?;
        Ok(Bandwidth {
            kind: Cow::Borrowed(token(kind, "bandwidth type", "e.g. AS, TIAS")?),
            value: int(value, "bandwidth", "an integer")?,
        })
    }
}

/// `t=<start-time> <stop-time>` (RFC 8866 §5.9), NTP seconds; `0 0` for unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Timing {
    /// Start time.
    pub start: u64,
    /// Stop time.
    pub stop: u64,
}

impl Timing {
    pub(crate) fn parse(v: &str) -> Result<Self, FieldError> {
        let mut t = Tokens::new(v);
        let start = int(t.expect("start time", "an integer")?, "start time", "an integer")?;
        let stop = int(t.expect("stop time", "an integer")?, "stop time", "an integer")?;
        end(&mut t, "timing")?;
        Ok(Timing { start, stop })
    }
}

/// One line of a session or media level, after the fixed opening lines
/// (`v=`/`o=`/`s=` or `m=`), in the order it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "line", content = "value", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Line<'a> {
    /// `i=` session or media title.
    Info(Text<'a>),
    /// `u=` URI (session level).
    Uri(Text<'a>),
    /// `e=` email address (session level).
    Email(Text<'a>),
    /// `p=` phone number (session level).
    Phone(Text<'a>),
    /// `c=` connection data.
    Connection(Connection<'a>),
    /// `b=` bandwidth.
    Bandwidth(Bandwidth<'a>),
    /// `t=` timing (session level).
    Timing(Timing),
    /// `r=` repeat times, as written (session level).
    Repeat(Text<'a>),
    /// `z=` time zone adjustments, as written (session level).
    TimeZones(Text<'a>),
    /// `k=` encryption key, as written (obsolete, RFC 8866 §5.12).
    Key(Text<'a>),
    /// `a=` attribute.
    Attribute(Attribute<'a>),
    /// A line type letter this crate does not know, kept as written.
    Unknown {
        /// The type letter.
        letter: char,
        /// Everything after `=`.
        value: Text<'a>,
    },
}

impl<'a> Line<'a> {
    /// Parses the value of a line of type `letter` (not `v`, `o`, `s` or `m`,
    /// which the description parser handles itself) and appends it to `out`.
    #[inline(always)]
    pub(crate) fn parse_into(letter: u8, v: &'a str, out: &mut Vec<Line<'a>>) -> Result<(), FieldError> {
        let b = Cow::Borrowed;
        let line = match letter {
            b'a' => {
                let v = crate::lex::trim_end_blanks(v);
                let (name, value) = match crate::lex::find_byte(v.as_bytes(), b':') {
                    Some(i) => (&v[..i], Some(&v[i + 1..])),
                    None => (v, None),
                };
                Line::Attribute(Attribute::parse(name, value)?)
            }
            b'c' => Line::Connection(Connection::parse(v)?),
            b'b' => Line::Bandwidth(Bandwidth::parse(crate::lex::trim_end_blanks(v))?),
            b't' => Line::Timing(Timing::parse(v)?),
            b'i' => Line::Info(b(v)),
            b'u' => Line::Uri(b(v)),
            b'e' => Line::Email(b(v)),
            b'p' => Line::Phone(b(v)),
            b'r' => Line::Repeat(b(v)),
            b'z' => Line::TimeZones(b(v)),
            b'k' => Line::Key(b(v)),
            other => Line::Unknown { letter: char::from(other), value: b(v) },
        };
        out.push(line);
        Ok(())
    }

    /// The line's type letter.
    pub fn letter(&self) -> char {
        match self {
            Line::Info(_) => 'i',
            Line::Uri(_) => 'u',
            Line::Email(_) => 'e',
            Line::Phone(_) => 'p',
            Line::Connection(_) => 'c',
            Line::Bandwidth(_) => 'b',
            Line::Timing(_) => 't',
            Line::Repeat(_) => 'r',
            Line::TimeZones(_) => 'z',
            Line::Key(_) => 'k',
            Line::Attribute(_) => 'a',
            Line::Unknown { letter, .. } => *letter,
        }
    }

    /// True for line types that RFC 8866 allows only at session level.
    pub fn is_session_only(&self) -> bool {
        is_session_only(self.letter())
    }
}

/// Writes the whole line without its line end, e.g. `a=rtcp-mux`.
impl fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let letter = self.letter();
        match self {
            Line::Info(v)
            | Line::Uri(v)
            | Line::Email(v)
            | Line::Phone(v)
            | Line::Repeat(v)
            | Line::TimeZones(v)
            | Line::Key(v)
            | Line::Unknown { value: v, .. } => w!(f, letter, "=", v),
            Line::Connection(c) => w!(f, "c=", c),
            Line::Bandwidth(bw) => w!(f, "b=", bw.kind, ":", bw.value),
            Line::Timing(t) => w!(f, "t=", t.start, " ", t.stop),
            Line::Attribute(a) => w!(f, "a=", a),
        }
    }
}

/// True for the line type letters that RFC 8866 §5 allows only at session level.
#[inline]
pub(crate) fn is_session_only(letter: char) -> bool {
    matches!(letter, 'u' | 'e' | 'p' | 't' | 'r' | 'z')
}
