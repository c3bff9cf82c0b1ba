//! Detaching parsed values from their input: every type's `into_owned`.

use std::borrow::Cow;

use crate::attribute::*;
use crate::line::{Bandwidth, Connection, Line, Origin};
use crate::media::{MediaLine, MediaSection};

/// Converts borrowed text into owned text.
pub(crate) trait IntoOwned {
    /// The same value with a `'static` lifetime.
    type Owned;
    /// Copies any borrowed text.
    fn into_owned_cow(self) -> Self::Owned;
}

impl IntoOwned for Cow<'_, str> {
    type Owned = Cow<'static, str>;
    fn into_owned_cow(self) -> Cow<'static, str> {
        Cow::Owned(self.into_owned())
    }
}

impl IntoOwned for Option<Cow<'_, str>> {
    type Owned = Option<Cow<'static, str>>;
    fn into_owned_cow(self) -> Option<Cow<'static, str>> {
        self.map(IntoOwned::into_owned_cow)
    }
}

impl IntoOwned for Vec<Cow<'_, str>> {
    type Owned = Vec<Cow<'static, str>>;
    fn into_owned_cow(self) -> Vec<Cow<'static, str>> {
        self.into_iter().map(IntoOwned::into_owned_cow).collect()
    }
}

impl Origin<'_> {
    /// Copies borrowed text so the value no longer borrows the input.
    pub fn into_owned(self) -> Origin<'static> {
        Origin {
            username: self.username.into_owned_cow(),
            session_id: self.session_id.into_owned_cow(),
            session_version: self.session_version,
            nettype: self.nettype.into_owned_cow(),
            addrtype: self.addrtype.into_owned_cow(),
            address: self.address.into_owned_cow(),
        }
    }
}

impl Connection<'_> {
    /// Copies borrowed text so the value no longer borrows the input.
    pub fn into_owned(self) -> Connection<'static> {
        Connection {
            nettype: self.nettype.into_owned_cow(),
            addrtype: self.addrtype.into_owned_cow(),
            address: self.address.into_owned_cow(),
            ttl: self.ttl,
            count: self.count,
        }
    }
}

impl MediaSection<'_> {
    /// Copies borrowed text so the value no longer borrows the input.
    pub fn into_owned(self) -> MediaSection<'static> {
        MediaSection {
            line: MediaLine {
                media: self.line.media.into_owned_cow(),
                port: self.line.port,
                port_count: self.line.port_count,
                proto: self.line.proto.into_owned_cow(),
                formats: self.line.formats.into_owned_cow(),
            },
            lines: self.lines.into_iter().map(Line::into_owned).collect(),
        }
    }
}

impl Line<'_> {
    /// Copies borrowed text so the value no longer borrows the input.
    pub fn into_owned(self) -> Line<'static> {
        match self {
            Line::Info(v) => Line::Info(v.into_owned_cow()),
            Line::Uri(v) => Line::Uri(v.into_owned_cow()),
            Line::Email(v) => Line::Email(v.into_owned_cow()),
            Line::Phone(v) => Line::Phone(v.into_owned_cow()),
            Line::Connection(c) => Line::Connection(c.into_owned()),
            Line::Bandwidth(b) => {
                Line::Bandwidth(Bandwidth { kind: b.kind.into_owned_cow(), value: b.value })
            }
            Line::Timing(t) => Line::Timing(t),
            Line::Repeat(v) => Line::Repeat(v.into_owned_cow()),
            Line::TimeZones(v) => Line::TimeZones(v.into_owned_cow()),
            Line::Key(v) => Line::Key(v.into_owned_cow()),
            Line::Attribute(a) => Line::Attribute(a.into_owned()),
            Line::Unknown { letter, value } => Line::Unknown { letter, value: value.into_owned_cow() },
        }
    }
}

impl Attribute<'_> {
    /// Copies borrowed text so the value no longer borrows the input.
    pub fn into_owned(self) -> Attribute<'static> {
        match self {
            Attribute::Candidate(c) => Attribute::Candidate(Box::new(c.into_owned())),
            Attribute::EndOfCandidates => Attribute::EndOfCandidates,
            Attribute::IceUfrag(v) => Attribute::IceUfrag(v.into_owned_cow()),
            Attribute::IcePwd(v) => Attribute::IcePwd(v.into_owned_cow()),
            Attribute::IceOptions(v) => Attribute::IceOptions(v.into_owned_cow()),
            Attribute::IceLite => Attribute::IceLite,
            Attribute::Fingerprint(f) => Attribute::Fingerprint(Fingerprint {
                hash: f.hash.into_owned_cow(),
                value: f.value.into_owned_cow(),
            }),
            Attribute::Setup(s) => Attribute::Setup(s),
            Attribute::Mid(v) => Attribute::Mid(v.into_owned_cow()),
            Attribute::Group(g) => Attribute::Group(Group {
                semantics: g.semantics.into_owned_cow(),
                mids: g.mids.into_owned_cow(),
            }),
            Attribute::MsidSemantic(m) => Attribute::MsidSemantic(MsidSemantic {
                blank_after_colon: m.blank_after_colon,
                semantic: m.semantic.into_owned_cow(),
                ids: m.ids.into_owned_cow(),
            }),
            Attribute::Msid(m) => {
                Attribute::Msid(Msid { stream: m.stream.into_owned_cow(), track: m.track.into_owned_cow() })
            }
            Attribute::Rtpmap(r) => Attribute::Rtpmap(Rtpmap {
                payload: r.payload,
                encoding: r.encoding.into_owned_cow(),
                clock_rate: r.clock_rate,
                channels: r.channels,
            }),
            Attribute::Fmtp(f) => {
                Attribute::Fmtp(Fmtp { format: f.format.into_owned_cow(), params: f.params.into_owned_cow() })
            }
            Attribute::RtcpFb(r) => Attribute::RtcpFb(RtcpFb {
                payload: r.payload,
                kind: r.kind.into_owned_cow(),
                params: r.params.into_owned_cow(),
            }),
            Attribute::Rtcp(r) => Attribute::Rtcp(Rtcp {
                port: r.port,
                address: r
                    .address
                    .map(|(n, t, a)| (n.into_owned_cow(), t.into_owned_cow(), a.into_owned_cow())),
            }),
            Attribute::RtcpMux => Attribute::RtcpMux,
            Attribute::RtcpMuxOnly => Attribute::RtcpMuxOnly,
            Attribute::RtcpRsize => Attribute::RtcpRsize,
            Attribute::Extmap(e) => Attribute::Extmap(Extmap {
                id: e.id,
                direction: e.direction,
                uri: e.uri.into_owned_cow(),
                attributes: e.attributes.into_owned_cow(),
            }),
            Attribute::ExtmapAllowMixed => Attribute::ExtmapAllowMixed,
            Attribute::Ssrc(s) => Attribute::Ssrc(Ssrc {
                id: s.id,
                attribute: s.attribute.into_owned_cow(),
                value: s.value.into_owned_cow(),
            }),
            Attribute::SsrcGroup(g) => {
                Attribute::SsrcGroup(SsrcGroup { semantics: g.semantics.into_owned_cow(), ssrcs: g.ssrcs })
            }
            Attribute::Rid(r) => Attribute::Rid(Rid {
                id: r.id.into_owned_cow(),
                direction: r.direction,
                restrictions: r.restrictions.into_owned_cow(),
            }),
            Attribute::Simulcast(s) => Attribute::Simulcast(Simulcast {
                lists: s.lists.into_iter().map(|(d, l)| (d, l.into_owned_cow())).collect(),
            }),
            Attribute::SctpPort(p) => Attribute::SctpPort(p),
            Attribute::MaxMessageSize(m) => Attribute::MaxMessageSize(m),
            Attribute::Sctpmap(s) => {
                Attribute::Sctpmap(Sctpmap { port: s.port, app: s.app.into_owned_cow(), streams: s.streams })
            }
            Attribute::Direction(d) => Attribute::Direction(d),
            Attribute::Ptime(v) => Attribute::Ptime(v.into_owned_cow()),
            Attribute::Maxptime(v) => Attribute::Maxptime(v.into_owned_cow()),
            Attribute::Crypto(c) => Attribute::Crypto(Crypto {
                tag: c.tag,
                suite: c.suite.into_owned_cow(),
                key_params: c.key_params.into_owned_cow(),
                session_params: c.session_params.into_owned_cow(),
            }),
            Attribute::Other { name, value } => {
                Attribute::Other { name: name.into_owned_cow(), value: value.into_owned_cow() }
            }
        }
    }
}
