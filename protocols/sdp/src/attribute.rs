//! Typed `a=` attributes (RFC 8866 §6 and the RFCs that WebRTC, SIP phones
//! and rtpengine use). Unknown attributes are kept as [`Attribute::Other`].

use crate::write::w;
use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use crate::FieldError;
use crate::candidate::Candidate;
use crate::lex::{Tokens, end, int, is_token, split_blank, split_byte, token};

type Text<'a> = Cow<'a, str>;

/// One `a=` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "name", content = "value", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Attribute<'a> {
    /// `a=candidate` (RFC 8839 §5.1).
    Candidate(Box<Candidate<'a>>),
    /// `a=end-of-candidates` (RFC 8840 §8.2).
    EndOfCandidates,
    /// `a=ice-ufrag` (RFC 8839 §5.4).
    IceUfrag(Text<'a>),
    /// `a=ice-pwd` (RFC 8839 §5.4).
    IcePwd(Text<'a>),
    /// `a=ice-options` (RFC 8839 §5.6): blank-separated option tags such as `trickle`.
    IceOptions(Text<'a>),
    /// `a=ice-lite` (RFC 8839 §5.3).
    IceLite,
    /// `a=fingerprint` (RFC 8122 §5).
    Fingerprint(Fingerprint<'a>),
    /// `a=setup` (RFC 4145 §4).
    Setup(Setup),
    /// `a=mid` (RFC 9143 §8, RFC 5888 §4).
    Mid(Text<'a>),
    /// `a=group` (RFC 5888 §5), e.g. BUNDLE.
    Group(Group<'a>),
    /// `a=msid-semantic` (draft-ietf-mmusic-msid-07; still sent by libwebrtc).
    MsidSemantic(MsidSemantic<'a>),
    /// `a=msid` (RFC 8830 §2).
    Msid(Msid<'a>),
    /// `a=rtpmap` (RFC 8866 §6.6).
    Rtpmap(Rtpmap<'a>),
    /// `a=fmtp` (RFC 8866 §6.15).
    Fmtp(Fmtp<'a>),
    /// `a=rtcp-fb` (RFC 4585 §4.2).
    RtcpFb(RtcpFb<'a>),
    /// `a=rtcp` (RFC 3605 §2.1).
    Rtcp(Rtcp<'a>),
    /// `a=rtcp-mux` (RFC 5761 §5.1.1).
    RtcpMux,
    /// `a=rtcp-mux-only` (RFC 8858 §3).
    RtcpMuxOnly,
    /// `a=rtcp-rsize` (RFC 5506 §5).
    RtcpRsize,
    /// `a=extmap` (RFC 8285 §7).
    Extmap(Extmap<'a>),
    /// `a=extmap-allow-mixed` (RFC 8285 §6).
    ExtmapAllowMixed,
    /// `a=ssrc` (RFC 5576 §4.1).
    Ssrc(Ssrc<'a>),
    /// `a=ssrc-group` (RFC 5576 §4.2).
    SsrcGroup(SsrcGroup<'a>),
    /// `a=rid` (RFC 8851 §4).
    Rid(Rid<'a>),
    /// `a=simulcast` (RFC 8853 §5.1).
    Simulcast(Simulcast<'a>),
    /// `a=sctp-port` (RFC 8841 §5).
    SctpPort(u16),
    /// `a=max-message-size` (RFC 8841 §6).
    MaxMessageSize(u64),
    /// `a=sctpmap` (draft-ietf-mmusic-sctp-sdp-05, still sent by old peers).
    Sctpmap(Sctpmap<'a>),
    /// `a=sendrecv`, `a=sendonly`, `a=recvonly`, `a=inactive` (RFC 8866 §6.7).
    Direction(Direction),
    /// `a=ptime` in milliseconds (RFC 8866 §6.4); a decimal, kept as written.
    Ptime(Text<'a>),
    /// `a=maxptime` in milliseconds (RFC 8866 §6.5); a decimal, kept as written.
    Maxptime(Text<'a>),
    /// `a=crypto` (SDES, RFC 4568 §9.1).
    Crypto(Crypto<'a>),
    /// Any other attribute: `a=name` (no value) or `a=name:value`.
    Other {
        /// Attribute name.
        name: Text<'a>,
        /// Value after the colon, if there was a colon.
        value: Option<Text<'a>>,
    },
}

/// `a=fingerprint:<hash-func> <fingerprint>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fingerprint<'a> {
    /// Hash function, e.g. `sha-256`.
    pub hash: Text<'a>,
    /// Colon-separated uppercase hex bytes.
    pub value: Text<'a>,
}

/// DTLS/TCP connection role (`a=setup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Setup {
    /// Will initiate the connection.
    Active,
    /// Will accept the connection.
    Passive,
    /// Either (offers only).
    Actpass,
    /// Keep the existing connection.
    Holdconn,
}

impl Setup {
    /// The value as written in SDP.
    pub fn as_str(self) -> &'static str {
        match self {
            Setup::Active => "active",
            Setup::Passive => "passive",
            Setup::Actpass => "actpass",
            Setup::Holdconn => "holdconn",
        }
    }
}

/// `a=group:<semantics> *(SP <mid>)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group<'a> {
    /// Semantics, e.g. `BUNDLE`, `LS`, `FID`.
    pub semantics: Text<'a>,
    /// Identification tags (`a=mid` values), in order.
    pub mids: Vec<Text<'a>>,
}

/// `a=msid-semantic:<semantic> [<id>...]`, e.g. `a=msid-semantic: WMS *`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MsidSemantic<'a> {
    /// Whether a blank followed the colon (libwebrtc writes `a=msid-semantic: WMS`).
    pub blank_after_colon: bool,
    /// The semantic token, usually `WMS`.
    pub semantic: Text<'a>,
    /// Stream identifiers (or `*`), in order.
    pub ids: Vec<Text<'a>>,
}

/// `a=msid:<stream-id> [<track-id>]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Msid<'a> {
    /// MediaStream id (`-` for none).
    pub stream: Text<'a>,
    /// Track id (`appdata`).
    pub track: Option<Text<'a>>,
}

/// `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rtpmap<'a> {
    /// RTP payload type, 0..=127.
    pub payload: u8,
    /// Encoding name as written, e.g. `opus`, `PCMU`.
    pub encoding: Text<'a>,
    /// Clock rate in Hz.
    pub clock_rate: u32,
    /// Encoding parameters: the channel count for audio.
    pub channels: Option<u16>,
}

/// `a=fmtp:<format> <format specific parameters>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fmtp<'a> {
    /// The format (an RTP payload type for RTP media).
    pub format: Text<'a>,
    /// Parameters as written, e.g. `minptime=10;useinbandfec=1`.
    pub params: Text<'a>,
}

impl Fmtp<'_> {
    /// The format as an RTP payload type, if it is one.
    pub fn payload(&self) -> Option<u8> {
        crate::lex::parse_u64(&self.format).and_then(|n| u8::try_from(n).ok())
    }

    /// `key=value` pairs split at `;` (values without `=` come with an empty key).
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.split(';').filter(|p| !p.trim().is_empty()).map(|p| {
            let p = p.trim();
            p.split_once('=').unwrap_or(("", p))
        })
    }
}

/// `a=rtcp-fb:<payload type or *> <type> [<parameters>]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RtcpFb<'a> {
    /// Payload type, or `None` for `*` (all).
    pub payload: Option<u8>,
    /// Feedback type, e.g. `nack`, `transport-cc`, `ccm`.
    pub kind: Text<'a>,
    /// Parameters, e.g. `pli` or `fir`.
    pub params: Option<Text<'a>>,
}

/// `a=rtcp:<port> [<nettype> <addrtype> <address>]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rtcp<'a> {
    /// RTCP port.
    pub port: u16,
    /// Network type, address type and address, if given.
    pub address: Option<(Text<'a>, Text<'a>, Text<'a>)>,
}

/// `a=extmap:<id>[/<direction>] <uri> [<attributes>]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Extmap<'a> {
    /// Local identifier, 1..=255 (one-byte 1..=14, two-byte up to 255).
    pub id: u8,
    /// Direction, if given.
    pub direction: Option<Direction>,
    /// Extension URI.
    pub uri: Text<'a>,
    /// Extension attributes as written.
    pub attributes: Option<Text<'a>>,
}

/// `a=ssrc:<ssrc-id> <attribute>[:<value>]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ssrc<'a> {
    /// SSRC.
    pub id: u32,
    /// Source attribute name, e.g. `cname`, `msid`.
    pub attribute: Text<'a>,
    /// Value, if there was a colon.
    pub value: Option<Text<'a>>,
}

/// `a=ssrc-group:<semantics> *(SP <ssrc-id>)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SsrcGroup<'a> {
    /// Semantics, e.g. `FID`, `SIM`.
    pub semantics: Text<'a>,
    /// SSRCs, in order.
    pub ssrcs: Vec<u32>,
}

/// Direction of a `a=rid` (RFC 8851) or `a=simulcast` stream list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RidDirection {
    /// `send`.
    Send,
    /// `recv`.
    Recv,
}

impl RidDirection {
    fn parse(s: &str, field: &'static str) -> Result<Self, FieldError> {
        match s {
            "send" => Ok(RidDirection::Send),
            "recv" => Ok(RidDirection::Recv),
            _ => Err(FieldError::new(field, "send or recv", s)),
        }
    }

    /// The value as written in SDP.
    pub fn as_str(self) -> &'static str {
        match self {
            RidDirection::Send => "send",
            RidDirection::Recv => "recv",
        }
    }
}

/// `a=rid:<rid-id> <send|recv> [<restrictions>]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rid<'a> {
    /// RTP stream identifier.
    pub id: Text<'a>,
    /// Direction.
    pub direction: RidDirection,
    /// Restrictions as written, e.g. `pt=96;max-width=1280`.
    pub restrictions: Option<Text<'a>>,
}

/// `a=simulcast:<dir> <streams> [<dir> <streams>]`.
///
/// Each stream list is kept as written (`h;~m;l`, alternatives joined by `,`,
/// `~` for paused); [`Simulcast::streams`] splits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Simulcast<'a> {
    /// One or two (direction, stream list) pairs.
    pub lists: Vec<(RidDirection, Text<'a>)>,
}

impl Simulcast<'_> {
    /// The streams of one direction: each a list of alternatives `(rid, paused)`.
    pub fn streams(&self, direction: RidDirection) -> Vec<Vec<(&str, bool)>> {
        self.lists
            .iter()
            .filter(|(d, _)| *d == direction)
            .flat_map(|(_, list)| list.split(';'))
            .map(|alts| {
                alts.split(',')
                    .map(|r| match r.strip_prefix('~') {
                        Some(r) => (r, true),
                        None => (r, false),
                    })
                    .collect()
            })
            .collect()
    }
}

/// `a=sctpmap:<port> <app> [<streams>]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sctpmap<'a> {
    /// SCTP port.
    pub port: u16,
    /// Application, `webrtc-datachannel`.
    pub app: Text<'a>,
    /// Maximum number of streams.
    pub streams: Option<u32>,
}

/// Media direction (RFC 8866 §6.7, RFC 3264 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Send and receive (the default).
    Sendrecv,
    /// Send only.
    Sendonly,
    /// Receive only.
    Recvonly,
    /// Neither.
    Inactive,
}

impl Direction {
    /// Parses the attribute name, e.g. `sendrecv`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sendrecv" => Some(Direction::Sendrecv),
            "sendonly" => Some(Direction::Sendonly),
            "recvonly" => Some(Direction::Recvonly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }

    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Sendrecv => "sendrecv",
            Direction::Sendonly => "sendonly",
            Direction::Recvonly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction the answerer sees (RFC 3264 §6.1): send and receive swap.
    pub fn reversed(self) -> Self {
        match self {
            Direction::Sendonly => Direction::Recvonly,
            Direction::Recvonly => Direction::Sendonly,
            d => d,
        }
    }
}

/// `a=crypto:<tag> <crypto-suite> <key-params> [<session-params>]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Crypto<'a> {
    /// Tag, 1..=999999999.
    pub tag: u32,
    /// Crypto suite, e.g. `AES_CM_128_HMAC_SHA1_80`.
    pub suite: Text<'a>,
    /// Key parameters as written, e.g. `inline:<key>|2^31|1:1`.
    pub key_params: Text<'a>,
    /// Session parameters as written.
    pub session_params: Option<Text<'a>>,
}

fn b(s: &str) -> Text<'_> {
    Cow::Borrowed(s)
}

fn opt(s: &str) -> Option<Text<'_>> {
    if s.is_empty() { None } else { Some(b(s)) }
}

const PORT: &str = "an integer 0..=65535";

impl<'a> Attribute<'a> {
    /// Parses an attribute from its name and optional value (the text after `a=`, split at the first colon).
    #[inline(always)]
    pub(crate) fn parse(name: &'a str, value: Option<&'a str>) -> Result<Self, FieldError> {
        use Name as N;
        let known = Name::of(name);
        let Some(v) = value else {
            return Ok(match known {
                N::EndOfCandidates => Attribute::EndOfCandidates,
                N::IceLite => Attribute::IceLite,
                N::RtcpMux => Attribute::RtcpMux,
                N::RtcpMuxOnly => Attribute::RtcpMuxOnly,
                N::RtcpRsize => Attribute::RtcpRsize,
                N::ExtmapAllowMixed => Attribute::ExtmapAllowMixed,
                N::Sendrecv => Attribute::Direction(Direction::Sendrecv),
                N::Sendonly => Attribute::Direction(Direction::Sendonly),
                N::Recvonly => Attribute::Direction(Direction::Recvonly),
                N::Inactive => Attribute::Direction(Direction::Inactive),
                _ => Attribute::Other { name: b(token(name, "attribute name", "a token")?), value: None },
            });
        };
        Ok(match known {
            N::Candidate => Attribute::Candidate(Box::new(Candidate::parse_value(v)?)),
            N::IceUfrag => Attribute::IceUfrag(b(token(v, "ice-ufrag", "4 to 256 ice-chars")?)),
            N::IcePwd => Attribute::IcePwd(b(token(v, "ice-pwd", "22 to 256 ice-chars")?)),
            N::IceOptions => Attribute::IceOptions(b(v)),
            N::Fingerprint => {
                let mut t = Tokens::new(v);
                let hash = t.expect("fingerprint hash function", "e.g. sha-256")?;
                let value = t.expect("fingerprint", "colon-separated hex bytes")?;
                if !value.bytes().all(|c| c.is_ascii_hexdigit() || c == b':') {
                    return Err(FieldError::new("fingerprint", "colon-separated hex bytes", value));
                }
                end(&mut t, "fingerprint")?;
                Attribute::Fingerprint(Fingerprint { hash: b(hash), value: b(value) })
            }
            N::Setup => Attribute::Setup(match v {
                "active" => Setup::Active,
                "passive" => Setup::Passive,
                "actpass" => Setup::Actpass,
                "holdconn" => Setup::Holdconn,
                _ => return Err(FieldError::new("setup", "active, passive, actpass or holdconn", v)),
            }),
            N::Mid => Attribute::Mid(b(token(v, "mid", "an identification tag")?)),
            N::Group => {
                let mut t = Tokens::new(v);
                let semantics = t.expect("group semantics", "e.g. BUNDLE")?;
                Attribute::Group(Group { semantics: b(semantics), mids: t.map(b).collect() })
            }
            N::MsidSemantic => {
                let blank_after_colon = v.starts_with(' ');
                let mut t = Tokens::new(v);
                let semantic = t.expect("msid-semantic", "e.g. WMS")?;
                Attribute::MsidSemantic(MsidSemantic {
                    blank_after_colon,
                    semantic: b(semantic),
                    ids: t.map(b).collect(),
                })
            }
            N::Msid => {
                let mut t = Tokens::new(v);
                let stream = t.expect("msid stream id", "an id")?;
                let track = t.next().map(b);
                end(&mut t, "msid")?;
                Attribute::Msid(Msid { stream: b(stream), track })
            }
            N::Rtpmap => Attribute::Rtpmap(parse_rtpmap(v)?),
            N::Fmtp => {
                let (format, params) = split_blank(v);
                Attribute::Fmtp(Fmtp {
                    format: b(token(format, "fmtp format", "a payload type or format")?),
                    params: b(params),
                })
            }
            N::RtcpFb => {
                let (pt, rest) = split_blank(v);
                let payload = if pt == "*" { None } else { Some(payload_type(pt, "rtcp-fb payload type")?) };
                let (kind, params) = split_blank(rest);
                if kind.is_empty() {
                    return Err(FieldError::new("rtcp-fb type", "e.g. nack, ccm, transport-cc", ""));
                }
                Attribute::RtcpFb(RtcpFb { payload, kind: b(kind), params: opt(params) })
            }
            N::Rtcp => {
                let mut t = Tokens::new(v);
                let port = int(t.expect("rtcp port", PORT)?, "rtcp port", PORT)?;
                let address = match t.next() {
                    None => None,
                    Some(nettype) => {
                        let addrtype = t.expect("rtcp address type", "IP4 or IP6")?;
                        let addr = t.expect("rtcp address", "an address")?;
                        end(&mut t, "rtcp")?;
                        Some((b(nettype), b(addrtype), b(addr)))
                    }
                };
                Attribute::Rtcp(Rtcp { port, address })
            }
            N::Extmap => {
                let mut t = Tokens::new(v);
                let id_dir = t.expect("extmap id", "an integer 1..=255")?;
                let (id, dir) = match id_dir.split_once('/') {
                    Some((id, d)) => (
                        id,
                        Some(Direction::parse(d).ok_or_else(|| {
                            FieldError::new("extmap direction", "sendrecv, sendonly, recvonly or inactive", d)
                        })?),
                    ),
                    None => (id_dir, None),
                };
                let id: u8 = int(id, "extmap id", "an integer 1..=255")?;
                if id == 0 {
                    return Err(FieldError::new("extmap id", "an integer 1..=255", "0"));
                }
                let uri = t.expect("extmap URI", "a URI")?;
                Attribute::Extmap(Extmap { id, direction: dir, uri: b(uri), attributes: opt(t.remainder()) })
            }
            N::Ssrc => {
                let (id, rest) = split_blank(v);
                let id = int(id, "ssrc", "an integer 0..=4294967295")?;
                let (attribute, value) = match rest.split_once(':') {
                    Some((a, v)) => (a, Some(b(v))),
                    None => (rest, None),
                };
                Attribute::Ssrc(Ssrc {
                    id,
                    attribute: b(token(attribute, "ssrc attribute", "e.g. cname, msid")?),
                    value,
                })
            }
            N::SsrcGroup => {
                let mut t = Tokens::new(v);
                let semantics = t.expect("ssrc-group semantics", "e.g. FID, SIM")?;
                let ssrcs = t
                    .map(|s| int(s, "ssrc-group ssrc", "an integer 0..=4294967295"))
                    .collect::<Result<_, _>>()?;
                Attribute::SsrcGroup(SsrcGroup { semantics: b(semantics), ssrcs })
            }
            N::Rid => {
                let mut t = Tokens::new(v);
                let id = t.expect("rid id", "an RTP stream id")?;
                let direction =
                    RidDirection::parse(t.expect("rid direction", "send or recv")?, "rid direction")?;
                Attribute::Rid(Rid { id: b(id), direction, restrictions: opt(t.remainder()) })
            }
            // draft-ietf-mmusic-sdp-simulcast-03 syntax (`a=simulcast: send rid=h;m paused=m`,
            // Firefox 55 era) is kept as written rather than rejected.
            N::Simulcast if v.contains("rid=") => Attribute::Other { name: b(name), value: Some(b(v)) },
            N::Simulcast => {
                let mut t = Tokens::new(v);
                let mut lists = Vec::with_capacity(2);
                while let Some(dir) = t.next() {
                    let dir = RidDirection::parse(dir, "simulcast direction")?;
                    let list = t.expect("simulcast stream list", "e.g. h;m;l")?;
                    lists.push((dir, b(list)));
                }
                if lists.is_empty() {
                    return Err(FieldError::new("simulcast", "send or recv followed by a stream list", v));
                }
                Attribute::Simulcast(Simulcast { lists })
            }
            N::SctpPort => Attribute::SctpPort(int(v, "sctp-port", PORT)?),
            N::MaxMessageSize => {
                Attribute::MaxMessageSize(int(v, "max-message-size", "an integer number of bytes")?)
            }
            N::Sctpmap => {
                let mut t = Tokens::new(v);
                let port = int(t.expect("sctpmap port", PORT)?, "sctpmap port", PORT)?;
                let app = t.expect("sctpmap application", "webrtc-datachannel")?;
                let streams = match t.next() {
                    Some(s) => Some(int(s, "sctpmap streams", "an integer")?),
                    None => None,
                };
                end(&mut t, "sctpmap")?;
                Attribute::Sctpmap(Sctpmap { port, app: b(app), streams })
            }
            N::Ptime => Attribute::Ptime(b(decimal(v, "ptime")?)),
            N::Maxptime => Attribute::Maxptime(b(decimal(v, "maxptime")?)),
            N::Crypto => {
                let mut t = Tokens::new(v);
                let tag =
                    int(t.expect("crypto tag", "an integer")?, "crypto tag", "an integer 1..=999999999")?;
                let suite = t.expect("crypto suite", "e.g. AES_CM_128_HMAC_SHA1_80")?;
                let key_params = t.expect("crypto key parameters", "inline:<key>")?;
                Attribute::Crypto(Crypto {
                    tag,
                    suite: b(suite),
                    key_params: b(key_params),
                    session_params: opt(t.remainder()),
                })
            }
            _ => Attribute::Other { name: b(token(name, "attribute name", "a token")?), value: Some(b(v)) },
        })
    }

    /// The attribute name, as written after `a=`.
    pub fn name(&self) -> &str {
        match self {
            Attribute::Candidate(_) => "candidate",
            Attribute::EndOfCandidates => "end-of-candidates",
            Attribute::IceUfrag(_) => "ice-ufrag",
            Attribute::IcePwd(_) => "ice-pwd",
            Attribute::IceOptions(_) => "ice-options",
            Attribute::IceLite => "ice-lite",
            Attribute::Fingerprint(_) => "fingerprint",
            Attribute::Setup(_) => "setup",
            Attribute::Mid(_) => "mid",
            Attribute::Group(_) => "group",
            Attribute::MsidSemantic(_) => "msid-semantic",
            Attribute::Msid(_) => "msid",
            Attribute::Rtpmap(_) => "rtpmap",
            Attribute::Fmtp(_) => "fmtp",
            Attribute::RtcpFb(_) => "rtcp-fb",
            Attribute::Rtcp(_) => "rtcp",
            Attribute::RtcpMux => "rtcp-mux",
            Attribute::RtcpMuxOnly => "rtcp-mux-only",
            Attribute::RtcpRsize => "rtcp-rsize",
            Attribute::Extmap(_) => "extmap",
            Attribute::ExtmapAllowMixed => "extmap-allow-mixed",
            Attribute::Ssrc(_) => "ssrc",
            Attribute::SsrcGroup(_) => "ssrc-group",
            Attribute::Rid(_) => "rid",
            Attribute::Simulcast(_) => "simulcast",
            Attribute::SctpPort(_) => "sctp-port",
            Attribute::MaxMessageSize(_) => "max-message-size",
            Attribute::Sctpmap(_) => "sctpmap",
            Attribute::Direction(d) => d.as_str(),
            Attribute::Ptime(_) => "ptime",
            Attribute::Maxptime(_) => "maxptime",
            Attribute::Crypto(_) => "crypto",
            Attribute::Other { name, .. } => name,
        }
    }
}

fn payload_type(s: &str, field: &'static str) -> Result<u8, FieldError> {
    match crate::lex::parse_u64(s) {
        Some(n) if n <= 127 => Ok(n as u8),
        _ => Err(FieldError::new(field, "an RTP payload type 0..=127", s)),
    }
}

fn decimal<'a>(s: &'a str, field: &'static str) -> Result<&'a str, FieldError> {
    let (int_part, frac) = s.split_once('.').unwrap_or((s, "0"));
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit());
    if digits(int_part) && digits(frac) {
        Ok(s)
    } else {
        Err(FieldError::new(field, "a decimal number of milliseconds", s))
    }
}

fn parse_rtpmap(v: &str) -> Result<Rtpmap<'_>, FieldError> {
    let mut t = Tokens::new(v);
    let payload =
        payload_type(t.expect("rtpmap payload type", "an RTP payload type 0..=127")?, "rtpmap payload type")?;
    let enc = t.expect("rtpmap encoding", "<encoding name>/<clock rate>")?;
    end(&mut t, "rtpmap")?;
    let (encoding, rest) = split_byte(enc, b'/');
    if !is_token(encoding) {
        return Err(FieldError::new("rtpmap encoding name", "a token", encoding));
    }
    let Some(rest) = rest else {
        return Err(FieldError::new("rtpmap clock rate", "<encoding name>/<clock rate>", enc));
    };
    let (clock, channels) = split_byte(rest, b'/');
    let clock_rate = int(clock, "rtpmap clock rate", "an integer number of Hz")?;
    let channels = match channels {
        Some(c) => Some(int(c, "rtpmap channels", "an integer 1..=65535")?),
        None => None,
    };
    Ok(Rtpmap { payload, encoding: b(encoding), clock_rate, channels })
}

/// Writes the attribute as it follows `a=`.
impl fmt::Display for Attribute<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name();
        match self {
            Attribute::EndOfCandidates
            | Attribute::IceLite
            | Attribute::RtcpMux
            | Attribute::RtcpMuxOnly
            | Attribute::RtcpRsize
            | Attribute::ExtmapAllowMixed
            | Attribute::Direction(_)
            | Attribute::Other { value: None, .. } => f.write_str(name),
            Attribute::Candidate(c) => w!(f, name, ":", c),
            Attribute::IceUfrag(v)
            | Attribute::IcePwd(v)
            | Attribute::IceOptions(v)
            | Attribute::Mid(v)
            | Attribute::Ptime(v)
            | Attribute::Maxptime(v)
            | Attribute::Other { value: Some(v), .. } => w!(f, name, ":", v),
            Attribute::Fingerprint(fp) => w!(f, name, ":", fp.hash, " ", fp.value),
            Attribute::Setup(s) => w!(f, name, ":", s.as_str()),
            Attribute::Group(g) => {
                w!(f, name, ":", g.semantics)?;
                g.mids.iter().try_for_each(|m| w!(f, " ", m))
            }
            Attribute::MsidSemantic(m) => {
                let blank = if m.blank_after_colon { " " } else { "" };
                w!(f, name, ":", blank, m.semantic)?;
                m.ids.iter().try_for_each(|id| w!(f, " ", id))
            }
            Attribute::Msid(m) => {
                w!(f, name, ":", m.stream)?;
                m.track.iter().try_for_each(|t| w!(f, " ", t))
            }
            Attribute::Rtpmap(r) => {
                w!(f, name, ":", r.payload, " ", r.encoding, "/", r.clock_rate)?;
                r.channels.iter().try_for_each(|c| w!(f, "/", c))
            }
            Attribute::Fmtp(p) if p.params.is_empty() => w!(f, name, ":", p.format),
            Attribute::Fmtp(p) => w!(f, name, ":", p.format, " ", p.params),
            Attribute::RtcpFb(r) => {
                match r.payload {
                    Some(pt) => w!(f, name, ":", pt, " ", r.kind)?,
                    None => w!(f, name, ":* ", r.kind)?,
                }
                r.params.iter().try_for_each(|p| w!(f, " ", p))
            }
            Attribute::Rtcp(r) => {
                w!(f, name, ":", r.port)?;
                r.address.iter().try_for_each(|(n, t, a)| w!(f, " ", n, " ", t, " ", a))
            }
            Attribute::Extmap(e) => {
                w!(f, name, ":", e.id)?;
                if let Some(d) = e.direction {
                    w!(f, "/", d.as_str())?;
                }
                w!(f, " ", e.uri)?;
                e.attributes.iter().try_for_each(|a| w!(f, " ", a))
            }
            Attribute::Ssrc(s) => {
                w!(f, name, ":", s.id, " ", s.attribute)?;
                s.value.iter().try_for_each(|v| w!(f, ":", v))
            }
            Attribute::SsrcGroup(g) => {
                w!(f, name, ":", g.semantics)?;
                g.ssrcs.iter().try_for_each(|s| w!(f, " ", s))
            }
            Attribute::Rid(r) => {
                w!(f, name, ":", r.id, " ", r.direction.as_str())?;
                r.restrictions.iter().try_for_each(|p| w!(f, " ", p))
            }
            Attribute::Simulcast(s) => {
                f.write_str("simulcast:")?;
                for (i, (d, list)) in s.lists.iter().enumerate() {
                    let sep = if i == 0 { "" } else { " " };
                    w!(f, sep, d.as_str(), " ", list)?;
                }
                Ok(())
            }
            Attribute::SctpPort(p) => w!(f, name, ":", p),
            Attribute::MaxMessageSize(m) => w!(f, name, ":", m),
            Attribute::Sctpmap(s) => {
                w!(f, name, ":", s.port, " ", s.app)?;
                s.streams.iter().try_for_each(|n| w!(f, " ", n))
            }
            Attribute::Crypto(c) => {
                w!(f, name, ":", c.tag, " ", c.suite, " ", c.key_params)?;
                c.session_params.iter().try_for_each(|p| w!(f, " ", p))
            }
        }
    }
}

/// The attribute names this crate types, found by length first so that a
/// name is compared with at most a few candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Name {
    Candidate,
    EndOfCandidates,
    IceUfrag,
    IcePwd,
    IceOptions,
    IceLite,
    Fingerprint,
    Setup,
    Mid,
    Group,
    MsidSemantic,
    Msid,
    Rtpmap,
    Fmtp,
    RtcpFb,
    Rtcp,
    RtcpMux,
    RtcpMuxOnly,
    RtcpRsize,
    Extmap,
    ExtmapAllowMixed,
    Ssrc,
    SsrcGroup,
    Rid,
    Simulcast,
    SctpPort,
    MaxMessageSize,
    Sctpmap,
    Sendrecv,
    Sendonly,
    Recvonly,
    Inactive,
    Ptime,
    Maxptime,
    Crypto,
    Unknown,
}

impl Name {
    #[inline(always)]
    fn of(name: &str) -> Name {
        let n = name.as_bytes();
        let is = |known: &[u8]| n == known;
        match n.len() {
            3 if is(b"mid") => Name::Mid,
            3 if is(b"rid") => Name::Rid,
            4 if is(b"fmtp") => Name::Fmtp,
            4 if is(b"ssrc") => Name::Ssrc,
            4 if is(b"rtcp") => Name::Rtcp,
            4 if is(b"msid") => Name::Msid,
            5 if is(b"setup") => Name::Setup,
            5 if is(b"group") => Name::Group,
            5 if is(b"ptime") => Name::Ptime,
            6 if is(b"rtpmap") => Name::Rtpmap,
            6 if is(b"extmap") => Name::Extmap,
            6 if is(b"crypto") => Name::Crypto,
            7 if is(b"rtcp-fb") => Name::RtcpFb,
            7 if is(b"ice-pwd") => Name::IcePwd,
            7 if is(b"sctpmap") => Name::Sctpmap,
            8 if is(b"rtcp-mux") => Name::RtcpMux,
            8 if is(b"sendrecv") => Name::Sendrecv,
            8 if is(b"sendonly") => Name::Sendonly,
            8 if is(b"recvonly") => Name::Recvonly,
            8 if is(b"inactive") => Name::Inactive,
            8 if is(b"ice-lite") => Name::IceLite,
            8 if is(b"maxptime") => Name::Maxptime,
            9 if is(b"candidate") => Name::Candidate,
            9 if is(b"ice-ufrag") => Name::IceUfrag,
            9 if is(b"simulcast") => Name::Simulcast,
            9 if is(b"sctp-port") => Name::SctpPort,
            10 if is(b"rtcp-rsize") => Name::RtcpRsize,
            10 if is(b"ssrc-group") => Name::SsrcGroup,
            11 if is(b"ice-options") => Name::IceOptions,
            11 if is(b"fingerprint") => Name::Fingerprint,
            13 if is(b"msid-semantic") => Name::MsidSemantic,
            13 if is(b"rtcp-mux-only") => Name::RtcpMuxOnly,
            16 if is(b"max-message-size") => Name::MaxMessageSize,
            17 if is(b"end-of-candidates") => Name::EndOfCandidates,
            18 if is(b"extmap-allow-mixed") => Name::ExtmapAllowMixed,
            _ => Name::Unknown,
        }
    }
}
