//! Media sections: the `m=` line (RFC 8866 §5.14) and the lines under it,
//! with typed accessors for what WebRTC and SIP need.

use crate::write::w;
use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use crate::FieldError;
use crate::attribute::{Attribute, Direction, Extmap, Rid, RtcpFb, Simulcast, Ssrc};
use crate::candidate::Candidate;
use crate::description::attributes;
use crate::lex::{Tokens, int, token};
use crate::line::{Bandwidth, Connection, Line};

type Text<'a> = Cow<'a, str>;

/// `m=<media> <port>[/<number of ports>] <proto> <fmt> ...`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaLine<'a> {
    /// Media type as written: `audio`, `video`, `application`, ...; see [`MediaLine::kind`].
    pub media: Text<'a>,
    /// Transport port; 0 rejects the section (RFC 3264 §6), 9 is the discard port JSEP uses.
    pub port: u16,
    /// Number of ports (`/<n>`), rare.
    pub port_count: Option<u16>,
    /// Transport protocol, e.g. `UDP/TLS/RTP/SAVPF`, `RTP/AVP`, `UDP/DTLS/SCTP`.
    pub proto: Text<'a>,
    /// Media formats: RTP payload types, or e.g. `webrtc-datachannel`.
    pub formats: Vec<Text<'a>>,
}

/// The media type of a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// `audio`.
    Audio,
    /// `video`.
    Video,
    /// `application` (data channels, BFCP, ...).
    Application,
    /// `text` (RFC 4103 real-time text).
    Text,
    /// `message` (MSRP).
    Message,
    /// `image` (T.38 fax).
    Image,
    /// Anything else.
    Other,
}

impl<'a> MediaLine<'a> {
    pub(crate) fn parse(v: &'a str) -> Result<Self, FieldError> {
        let mut t = Tokens::new(v);
        let media =
            token(t.expect("media type", "audio, video, application, ...")?, "media type", "a token")?;
        let port_field = t.expect("media port", "an integer 0..=65535")?;
        let (port, port_count) = match port_field.split_once('/') {
            Some((p, n)) => (p, Some(int(n, "media port count", "an integer 1..=65535")?)),
            None => (port_field, None),
        };
        let port = int(port, "media port", "an integer 0..=65535")?;
        let proto = t.expect("media protocol", "e.g. RTP/AVP, UDP/TLS/RTP/SAVPF")?;
        let formats: Vec<_> = t.map(Cow::Borrowed).collect();
        if formats.is_empty() {
            return Err(FieldError::new("media formats", "at least one format", ""));
        }
        Ok(MediaLine { media: Cow::Borrowed(media), port, port_count, proto: Cow::Borrowed(proto), formats })
    }

    /// The media type.
    pub fn kind(&self) -> MediaKind {
        match self.media.as_ref() {
            "audio" => MediaKind::Audio,
            "video" => MediaKind::Video,
            "application" => MediaKind::Application,
            "text" => MediaKind::Text,
            "message" => MediaKind::Message,
            "image" => MediaKind::Image,
            _ => MediaKind::Other,
        }
    }

    /// True for RTP profiles (`RTP/AVP`, `RTP/SAVPF`, `UDP/TLS/RTP/SAVPF`, ...).
    pub fn is_rtp(&self) -> bool {
        self.proto.split('/').any(|p| p == "RTP")
    }

    /// True for DTLS-protected profiles (`UDP/TLS/RTP/SAVPF`, `UDP/DTLS/SCTP`, `DTLS/SCTP`).
    pub fn is_dtls(&self) -> bool {
        self.proto.split('/').any(|p| p == "TLS" || p == "DTLS")
    }
}

impl fmt::Display for MediaLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        w!(f, self.media, " ", self.port)?;
        if let Some(n) = self.port_count {
            w!(f, "/", n)?;
        }
        w!(f, " ", self.proto)?;
        self.formats.iter().try_for_each(|fmt| w!(f, " ", fmt))
    }
}

/// One media section: its `m=` line and the lines under it, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaSection<'a> {
    /// The `m=` line.
    pub line: MediaLine<'a>,
    /// The lines after `m=`, in order.
    pub lines: Vec<Line<'a>>,
}

/// One RTP payload format of a section, gathered from the `m=` format list
/// and the `a=rtpmap`, `a=fmtp` and `a=rtcp-fb` lines that name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Codec<'s> {
    /// Payload type.
    pub payload: u8,
    /// Encoding name (from `a=rtpmap`, else the RFC 3551 static table); `None` if unknown.
    pub name: Option<&'s str>,
    /// Clock rate in Hz.
    pub clock_rate: Option<u32>,
    /// Channels (audio).
    pub channels: Option<u16>,
    /// Format parameters.
    pub fmtp: Option<&'s str>,
    /// RTCP feedback lines that apply (including `*`).
    pub feedback: Vec<&'s RtcpFb<'s>>,
}

/// RFC 3551 §6 static payload types: (payload, name, clock rate, channels).
const STATIC_PAYLOADS: &[(u8, &str, u32, Option<u16>)] = &[
    (0, "PCMU", 8000, Some(1)),
    (3, "GSM", 8000, Some(1)),
    (4, "G723", 8000, Some(1)),
    (5, "DVI4", 8000, Some(1)),
    (6, "DVI4", 16000, Some(1)),
    (7, "LPC", 8000, Some(1)),
    (8, "PCMA", 8000, Some(1)),
    (9, "G722", 8000, Some(1)),
    (10, "L16", 44100, Some(2)),
    (11, "L16", 44100, Some(1)),
    (12, "QCELP", 8000, Some(1)),
    (13, "CN", 8000, Some(1)),
    (14, "MPA", 90000, None),
    (15, "G728", 8000, Some(1)),
    (16, "DVI4", 11025, Some(1)),
    (17, "DVI4", 22050, Some(1)),
    (18, "G729", 8000, Some(1)),
    (25, "CelB", 90000, None),
    (26, "JPEG", 90000, None),
    (28, "nv", 90000, None),
    (31, "H261", 90000, None),
    (32, "MPV", 90000, None),
    (33, "MP2T", 90000, None),
    (34, "H263", 90000, None),
];

impl<'a> MediaSection<'a> {
    /// The section's attributes, in order.
    pub fn attributes(&self) -> impl Iterator<Item = &Attribute<'a>> {
        attributes(&self.lines)
    }

    fn find<'s, T: ?Sized>(&'s self, f: impl FnMut(&'s Attribute<'a>) -> Option<&'s T>) -> Option<&'s T> {
        self.attributes().find_map(f)
    }

    /// The media type.
    pub fn kind(&self) -> MediaKind {
        self.line.kind()
    }

    /// `a=mid`.
    pub fn mid(&self) -> Option<&str> {
        self.find(|a| match a {
            Attribute::Mid(m) => Some(m.as_ref()),
            _ => None,
        })
    }

    /// The media-level direction attribute, if any (see [`SessionDescription::direction`](crate::SessionDescription::direction)).
    pub fn direction(&self) -> Option<Direction> {
        self.attributes().find_map(|a| match a {
            Attribute::Direction(d) => Some(*d),
            _ => None,
        })
    }

    /// The media-level `c=` line.
    pub fn connection(&self) -> Option<&Connection<'a>> {
        self.lines.iter().find_map(|l| match l {
            Line::Connection(c) => Some(c),
            _ => None,
        })
    }

    /// The `b=` lines.
    pub fn bandwidths(&self) -> impl Iterator<Item = &Bandwidth<'a>> {
        self.lines.iter().filter_map(|l| match l {
            Line::Bandwidth(b) => Some(b),
            _ => None,
        })
    }

    /// Media-level `a=ice-ufrag`.
    pub fn ice_ufrag(&self) -> Option<&str> {
        self.find(|a| match a {
            Attribute::IceUfrag(u) => Some(u.as_ref()),
            _ => None,
        })
    }

    /// Media-level `a=ice-pwd`.
    pub fn ice_pwd(&self) -> Option<&str> {
        self.find(|a| match a {
            Attribute::IcePwd(p) => Some(p.as_ref()),
            _ => None,
        })
    }

    /// Media-level ICE options (e.g. `trickle`).
    pub fn ice_options(&self) -> impl Iterator<Item = &str> {
        self.attributes()
            .filter_map(|a| match a {
                Attribute::IceOptions(o) => Some(o.as_ref()),
                _ => None,
            })
            .flat_map(str::split_ascii_whitespace)
    }

    /// The `a=candidate` lines.
    pub fn candidates(&self) -> impl Iterator<Item = &Candidate<'a>> {
        self.attributes().filter_map(|a| match a {
            Attribute::Candidate(c) => Some(&**c),
            _ => None,
        })
    }

    /// Whether `a=end-of-candidates` is present.
    pub fn end_of_candidates(&self) -> bool {
        self.attributes().any(|a| matches!(a, Attribute::EndOfCandidates))
    }

    /// Whether `a=rtcp-mux` is present.
    pub fn rtcp_mux(&self) -> bool {
        self.attributes().any(|a| matches!(a, Attribute::RtcpMux))
    }

    /// `a=sctp-port`, or the port of a legacy `a=sctpmap`.
    pub fn sctp_port(&self) -> Option<u16> {
        self.attributes().find_map(|a| match a {
            Attribute::SctpPort(p) => Some(*p),
            Attribute::Sctpmap(m) => Some(m.port),
            _ => None,
        })
    }

    /// `a=max-message-size`.
    pub fn max_message_size(&self) -> Option<u64> {
        self.attributes().find_map(|a| match a {
            Attribute::MaxMessageSize(m) => Some(*m),
            _ => None,
        })
    }

    /// `a=extmap` lines.
    pub fn extmaps(&self) -> impl Iterator<Item = &Extmap<'a>> {
        self.attributes().filter_map(|a| match a {
            Attribute::Extmap(e) => Some(e),
            _ => None,
        })
    }

    /// `a=ssrc` lines.
    pub fn ssrcs(&self) -> impl Iterator<Item = &Ssrc<'a>> {
        self.attributes().filter_map(|a| match a {
            Attribute::Ssrc(s) => Some(s),
            _ => None,
        })
    }

    /// `a=rid` lines.
    pub fn rids(&self) -> impl Iterator<Item = &Rid<'a>> {
        self.attributes().filter_map(|a| match a {
            Attribute::Rid(r) => Some(r),
            _ => None,
        })
    }

    /// `a=simulcast`.
    pub fn simulcast(&self) -> Option<&Simulcast<'a>> {
        self.find(|a| match a {
            Attribute::Simulcast(s) => Some(s),
            _ => None,
        })
    }

    /// The RTP payload formats in `m=` order, with their rtpmap, fmtp and feedback.
    /// Empty for non-RTP sections.
    pub fn codecs(&self) -> Vec<Codec<'_>> {
        if !self.line.is_rtp() {
            return Vec::new();
        }
        self.line
            .formats
            .iter()
            .filter_map(|f| crate::lex::parse_u64(f).and_then(|n| u8::try_from(n).ok()))
            .map(|pt| {
                let rtpmap = self.attributes().find_map(|a| match a {
                    Attribute::Rtpmap(r) if r.payload == pt => Some(r),
                    _ => None,
                });
                let stat = STATIC_PAYLOADS.iter().find(|s| s.0 == pt);
                let (name, clock_rate, channels) = match (rtpmap, stat) {
                    (Some(r), _) => (Some(r.encoding.as_ref()), Some(r.clock_rate), r.channels),
                    (None, Some(s)) => (Some(s.1), Some(s.2), s.3),
                    (None, None) => (None, None, None),
                };
                Codec {
                    payload: pt,
                    name,
                    clock_rate,
                    channels,
                    fmtp: self.attributes().find_map(|a| match a {
                        Attribute::Fmtp(f) if f.payload() == Some(pt) => Some(f.params.as_ref()),
                        _ => None,
                    }),
                    feedback: self
                        .attributes()
                        .filter_map(|a| match a {
                            Attribute::RtcpFb(fb) if fb.payload.is_none_or(|p| p == pt) => Some(fb),
                            _ => None,
                        })
                        .collect(),
                }
            })
            .collect()
    }
}
