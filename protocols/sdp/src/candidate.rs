//! ICE candidates: the `a=candidate` attribute of RFC 8839 §5.1, and the
//! browser's `RTCIceCandidateInit` form (W3C WebRTC §4.8.1.1).
//!
//! ```text
//! candidate-attribute = "candidate" ":" foundation SP component-id SP
//!                       transport SP priority SP connection-address SP port
//!                       SP cand-type [SP rel-addr] [SP rel-port]
//!                       *(SP cand-extension)
//! ```

use crate::write::w;
use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::lex::{is_token, token};

/// A candidate's connection address (RFC 8839 §5.1 `connection-address`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub enum Address<'a> {
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
    /// A multicast DNS name ending in `.local` (draft-ietf-mmusic-mdns-ice-candidates),
    /// as browsers use to hide host addresses.
    Mdns(Cow<'a, str>),
    /// Any other fully qualified domain name.
    Fqdn(Cow<'a, str>),
}

impl<'a> Address<'a> {
    /// Parses an IP address, an mDNS `.local` name, or an FQDN.
    pub fn parse(s: &'a str) -> Result<Self, FieldError> {
        Self::parse_field(s, "candidate address")
    }

    pub(crate) fn parse_field(s: &'a str, field: &'static str) -> Result<Self, FieldError> {
        const EXPECTED: &str = "an IPv4 or IPv6 address, or a domain name";
        let b = s.as_bytes();
        if let Some(ip) = parse_ipv4(b) {
            return Ok(Address::Ip(IpAddr::V4(ip)));
        }
        if s.contains(':')
            && let Ok(ip) = s.parse::<IpAddr>()
        {
            return Ok(Address::Ip(ip));
        }
        let valid_name = !b.is_empty()
            && b.len() <= 253
            && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'))
            // A dotted all-numeric name is a malformed IPv4 address, not a host name.
            && !b.iter().all(|c| c.is_ascii_digit() || *c == b'.');
        if !valid_name {
            return Err(FieldError::new(field, EXPECTED, s));
        }
        let lower_ends_local = b.len() > 6 && b[b.len() - 6..].eq_ignore_ascii_case(b".local");
        Ok(if lower_ends_local { Address::Mdns(Cow::Borrowed(s)) } else { Address::Fqdn(Cow::Borrowed(s)) })
    }

    /// The IP address, if this is one.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Address::Ip(ip) => Some(*ip),
            _ => None,
        }
    }

    /// Copies borrowed text so the value no longer borrows the input.
    pub fn into_owned(self) -> Address<'static> {
        match self {
            Address::Ip(ip) => Address::Ip(ip),
            Address::Mdns(s) => Address::Mdns(Cow::Owned(s.into_owned())),
            Address::Fqdn(s) => Address::Fqdn(Cow::Owned(s.into_owned())),
        }
    }
}

impl fmt::Display for Address<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Ip(ip) => ip.fmt(f),
            Address::Mdns(s) | Address::Fqdn(s) => f.write_str(s),
        }
    }
}

/// Candidate type (RFC 8839 §5.1 `cand-type`, RFC 8445 §5.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CandidateType<'a> {
    /// A host candidate.
    Host,
    /// A server-reflexive candidate (STUN).
    Srflx,
    /// A peer-reflexive candidate.
    Prflx,
    /// A relayed candidate (TURN).
    Relay,
    /// A type this crate does not know (`token`).
    Other(Cow<'a, str>),
}

impl<'a> CandidateType<'a> {
    fn parse(s: &'a str) -> Result<Self, FieldError> {
        Ok(match s {
            "host" => CandidateType::Host,
            "srflx" => CandidateType::Srflx,
            "prflx" => CandidateType::Prflx,
            "relay" => CandidateType::Relay,
            other => CandidateType::Other(Cow::Borrowed(token(
                other,
                "candidate type",
                "host, srflx, prflx, relay or a token",
            )?)),
        })
    }

    /// The type as written in SDP.
    pub fn as_str(&self) -> &str {
        match self {
            CandidateType::Host => "host",
            CandidateType::Srflx => "srflx",
            CandidateType::Prflx => "prflx",
            CandidateType::Relay => "relay",
            CandidateType::Other(s) => s,
        }
    }
}

/// The role of a TCP candidate (RFC 6544 §4.5 `tcptype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TcpType {
    /// Opens outgoing connections only.
    Active,
    /// Accepts incoming connections only.
    Passive,
    /// Simultaneous open.
    So,
}

impl TcpType {
    fn parse(s: &str) -> Result<Self, FieldError> {
        match s {
            "active" => Ok(TcpType::Active),
            "passive" => Ok(TcpType::Passive),
            "so" => Ok(TcpType::So),
            _ => Err(FieldError::new("candidate tcptype", "active, passive or so", s)),
        }
    }

    /// The value as written in SDP.
    pub fn as_str(self) -> &'static str {
        match self {
            TcpType::Active => "active",
            TcpType::Passive => "passive",
            TcpType::So => "so",
        }
    }
}

/// The transport of a candidate, case-insensitively (RFC 8839 §5.1 `transport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// `UDP` / `udp`.
    Udp,
    /// `TCP` / `tcp` (RFC 6544).
    Tcp,
    /// Another `transport-extension` token.
    Other,
}

/// One ICE candidate (RFC 8839 §5.1).
///
/// Extension pairs that RFC 6544 and libwebrtc define (`tcptype`,
/// `generation`, `ufrag`, `network-id`, `network-cost`) are typed; any other
/// pair is kept in `extensions`, in order. Written back, the known pairs come
/// first in libwebrtc's order, then the others.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Candidate<'a> {
    /// Foundation: 1 to 32 `ice-char`s.
    pub foundation: Cow<'a, str>,
    /// Component id: 1 for RTP, 2 for RTCP.
    pub component: u16,
    /// Transport exactly as written (`udp`, `UDP`, `tcp`, ...); see [`Candidate::transport_kind`].
    pub transport: Cow<'a, str>,
    /// Priority (RFC 8445 §5.1.2), a 32-bit value.
    pub priority: u32,
    /// Connection address.
    pub address: Address<'a>,
    /// Port.
    pub port: u16,
    /// Candidate type (after `typ`).
    #[serde(rename = "type")]
    pub kind: CandidateType<'a>,
    /// `raddr`: the related address of a reflexive or relayed candidate.
    pub related_address: Option<Address<'a>>,
    /// `rport`: the related port.
    pub related_port: Option<u16>,
    /// `tcptype` (RFC 6544 §4.5).
    pub tcp_type: Option<TcpType>,
    /// `generation` (libwebrtc).
    pub generation: Option<u32>,
    /// `ufrag`: the ICE username fragment the candidate belongs to (libwebrtc).
    pub ufrag: Option<Cow<'a, str>>,
    /// `network-id` (libwebrtc).
    pub network_id: Option<u32>,
    /// `network-cost` (libwebrtc).
    pub network_cost: Option<u32>,
    /// Other extension name/value pairs, in order.
    pub extensions: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

/// Parses a dotted-quad IPv4 address (no leading zeros, as `Ipv4Addr`'s parser).
#[inline]
fn parse_ipv4(b: &[u8]) -> Option<std::net::Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (k, octet) in octets.iter_mut().enumerate() {
        if k > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut n: u16 = 0;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 3 {
            n = n * 10 + u16::from(b[i] - b'0');
            i += 1;
        }
        if i == start || n > 255 || (b[start] == b'0' && i - start > 1) {
            return None;
        }
        *octet = n as u8;
    }
    (i == b.len()).then(|| std::net::Ipv4Addr::from(octets))
}

fn is_ice_chars(s: &str) -> bool {
    // ice-char = ALPHA / DIGIT / "+" / "/"
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

impl<'a> Candidate<'a> {
    /// Parses a candidate in its attribute form, with or without the
    /// `a=` / `candidate:` prefixes: `candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host`.
    pub fn parse(s: &'a str) -> Result<Self, FieldError> {
        let s = crate::lex::trim_end_blanks(s.trim_end_matches('\n'));
        let s = s.strip_prefix("a=").unwrap_or(s);
        let s = s.strip_prefix("candidate:").unwrap_or(s);
        Self::parse_value(s)
    }

    /// Parses the value after `a=candidate:`.
    pub(crate) fn parse_value(s: &'a str) -> Result<Self, FieldError> {
        // One pass over the bytes: numbers are converted while they are scanned.
        let mut cur = Cursor::new(s);
        let foundation = cur.token();
        if foundation.is_empty() || foundation.len() > 32 || !is_ice_chars(foundation) {
            return Err(FieldError::new(
                "candidate foundation",
                "1 to 32 ice-chars (ALPHA / DIGIT / + / /)",
                foundation,
            ));
        }
        const COMPONENT: &str = "an integer 1..=256";
        let component = cur.number("candidate component", COMPONENT, 256)?;
        if component == 0 {
            return Err(FieldError::new("candidate component", COMPONENT, "0"));
        }
        let transport = cur.token();
        if transport.is_empty() {
            return Err(FieldError::new("candidate transport", "UDP, TCP or a token", ""));
        }
        const PRIORITY: &str = "an integer 0..=4294967295";
        let priority = cur.number("candidate priority", PRIORITY, u32::MAX.into())? as u32;
        let address = Address::parse(cur.token())?;
        const PORT: &str = "an integer 0..=65535";
        let port = cur.number("candidate port", PORT, u16::MAX.into())? as u16;
        let typ = cur.token();
        if typ != "typ" {
            return Err(FieldError::new("candidate `typ`", "`typ`", typ));
        }
        let kind = CandidateType::parse(cur.token())?;
        let mut c = Candidate {
            foundation: Cow::Borrowed(foundation),
            component: component as u16,
            transport: Cow::Borrowed(transport),
            priority,
            address,
            port,
            kind,
            related_address: None,
            related_port: None,
            tcp_type: None,
            generation: None,
            ufrag: None,
            network_id: None,
            network_cost: None,
            extensions: Vec::new(),
        };
        const U32: &str = "an integer 0..=4294967295";
        loop {
            let name = cur.token();
            if name.is_empty() {
                return Ok(c);
            }
            let u32_max = u64::from(u32::MAX);
            match name {
                "raddr" => c.related_address = Some(Address::parse_field(cur.token(), "candidate raddr")?),
                "rport" => {
                    c.related_port = Some(cur.number("candidate rport", PORT, u16::MAX.into())? as u16)
                }
                "tcptype" => c.tcp_type = Some(TcpType::parse(cur.token())?),
                "generation" => c.generation = Some(cur.number("candidate generation", U32, u32_max)? as u32),
                "network-id" => c.network_id = Some(cur.number("candidate network-id", U32, u32_max)? as u32),
                "network-cost" => {
                    c.network_cost = Some(cur.number("candidate network-cost", U32, u32_max)? as u32)
                }
                _ => {
                    let value = cur.token();
                    if value.is_empty() {
                        return Err(FieldError::new(
                            "candidate extension",
                            "a name followed by a value",
                            name,
                        ));
                    }
                    if name == "ufrag" {
                        c.ufrag = Some(Cow::Borrowed(value));
                    } else if is_token(name) {
                        c.extensions.push((Cow::Borrowed(name), Cow::Borrowed(value)));
                    } else {
                        return Err(FieldError::new("candidate extension name", "a token", name));
                    }
                }
            }
        }
    }

    /// The transport, compared case-insensitively.
    pub fn transport_kind(&self) -> Transport {
        if self.transport.eq_ignore_ascii_case("udp") {
            Transport::Udp
        } else if self.transport.eq_ignore_ascii_case("tcp") {
            Transport::Tcp
        } else {
            Transport::Other
        }
    }

    /// Copies borrowed text so the value no longer borrows the input.
    pub fn into_owned(self) -> Candidate<'static> {
        Candidate {
            foundation: Cow::Owned(self.foundation.into_owned()),
            component: self.component,
            transport: Cow::Owned(self.transport.into_owned()),
            priority: self.priority,
            address: self.address.into_owned(),
            port: self.port,
            kind: match self.kind {
                CandidateType::Other(s) => CandidateType::Other(Cow::Owned(s.into_owned())),
                CandidateType::Host => CandidateType::Host,
                CandidateType::Srflx => CandidateType::Srflx,
                CandidateType::Prflx => CandidateType::Prflx,
                CandidateType::Relay => CandidateType::Relay,
            },
            related_address: self.related_address.map(Address::into_owned),
            related_port: self.related_port,
            tcp_type: self.tcp_type,
            generation: self.generation,
            ufrag: self.ufrag.map(|u| Cow::Owned(u.into_owned())),
            network_id: self.network_id,
            network_cost: self.network_cost,
            extensions: self
                .extensions
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k.into_owned()), Cow::Owned(v.into_owned())))
                .collect(),
        }
    }

    /// The browser form of this candidate for the media section `sdp_mid` at
    /// `sdp_m_line_index`, as `RTCPeerConnection.addIceCandidate` takes it.
    pub fn to_init(
        &self,
        sdp_mid: Option<&str>,
        sdp_m_line_index: Option<u16>,
        username_fragment: Option<&str>,
    ) -> IceCandidateInit {
        IceCandidateInit {
            candidate: format!("candidate:{self}"),
            sdp_mid: sdp_mid.map(str::to_owned),
            sdp_m_line_index,
            username_fragment: username_fragment
                .map(str::to_owned)
                .or_else(|| self.ufrag.as_deref().map(str::to_owned)),
        }
    }
}

/// Writes the attribute value, without the `candidate:` prefix.
impl fmt::Display for Candidate<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        w!(
            f,
            self.foundation,
            " ",
            self.component,
            " ",
            self.transport,
            " ",
            self.priority,
            " ",
            self.address,
            " ",
            self.port,
            " typ ",
            self.kind.as_str()
        )?;
        if let Some(a) = &self.related_address {
            w!(f, " raddr ", a)?;
        }
        if let Some(p) = self.related_port {
            w!(f, " rport ", p)?;
        }
        if let Some(t) = self.tcp_type {
            w!(f, " tcptype ", t.as_str())?;
        }
        if let Some(g) = self.generation {
            w!(f, " generation ", g)?;
        }
        if let Some(u) = &self.ufrag {
            w!(f, " ufrag ", u)?;
        }
        if let Some(n) = self.network_id {
            w!(f, " network-id ", n)?;
        }
        if let Some(n) = self.network_cost {
            w!(f, " network-cost ", n)?;
        }
        for (k, v) in &self.extensions {
            w!(f, " ", k, " ", v)?;
        }
        Ok(())
    }
}

/// The browser's `RTCIceCandidateInit` dictionary (W3C WebRTC §4.8.1.1), as
/// it travels in JSON between a page and the gateway.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IceCandidateInit {
    /// `candidate:...` attribute text; empty for end-of-candidates.
    pub candidate: String,
    /// The `a=mid` of the media section the candidate belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp_mid: Option<String>,
    /// The index of that media section.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "sdpMLineIndex")]
    pub sdp_m_line_index: Option<u16>,
    /// The ICE username fragment of the generation the candidate belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_fragment: Option<String>,
}

impl IceCandidateInit {
    /// The candidate, or `None` when this is an end-of-candidates marker (empty `candidate`).
    pub fn parse_candidate(&self) -> Result<Option<Candidate<'_>>, FieldError> {
        if self.candidate.trim().is_empty() {
            return Ok(None);
        }
        Candidate::parse(&self.candidate).map(Some)
    }

    /// An end-of-candidates marker for one media section.
    pub fn end_of_candidates(sdp_mid: Option<&str>, sdp_m_line_index: Option<u16>) -> Self {
        IceCandidateInit {
            candidate: String::new(),
            sdp_mid: sdp_mid.map(str::to_owned),
            sdp_m_line_index,
            username_fragment: None,
        }
    }
}

/// A position in a candidate's text, for the one-pass parser.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor { text, at: 0 }
    }

    /// The next blank-separated token, or `""` at the end.
    #[inline(always)]
    fn token(&mut self) -> &'a str {
        let b = self.text.as_bytes();
        let mut i = self.at;
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i] != b' ' && b[i] != b'\t' {
            i += 1;
        }
        self.at = i;
        // `start` and `i` border ASCII blanks or the ends of the text: char boundaries.
        self.text.get(start..i).unwrap_or_default()
    }

    /// The next token as a decimal integer no greater than `max`.
    #[inline(always)]
    fn number(&mut self, field: &'static str, expected: &'static str, max: u64) -> Result<u64, FieldError> {
        let b = self.text.as_bytes();
        let mut i = self.at;
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        let start = i;
        let mut n: u64 = 0;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 19 {
            n = n * 10 + u64::from(b[i] - b'0');
            i += 1;
        }
        let ends = i == b.len() || b[i] == b' ' || b[i] == b'\t';
        if i == start || !ends || n > max {
            self.at = start;
            return Err(FieldError::new(field, expected, self.token()));
        }
        self.at = i;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_chromium_tcp_candidate_with_extensions() {
        let c = Candidate::parse(
            "candidate:755488126 1 tcp 1518280447 192.168.115.173 9 typ host tcptype active generation 0 network-id 1 network-cost 10",
        )
        .unwrap();
        assert_eq!(c.transport_kind(), Transport::Tcp);
        assert_eq!(c.tcp_type, Some(TcpType::Active));
        assert_eq!(c.network_cost, Some(10));
        assert_eq!(c.port, 9);
    }

    #[test]
    fn parse_mdns_and_ipv6_and_relay() {
        let c = Candidate::parse("candidate:1 1 udp 1 4f0b5d35-1c8a-4b5e-9f7a-0e4d6a2b9c11.local 5 typ host")
            .unwrap();
        assert!(matches!(c.address, Address::Mdns(_)));
        let c =
            Candidate::parse("a=candidate:2 1 UDP 2 2001:DB8::1 5 typ relay raddr ::1 rport 9 x y").unwrap();
        assert_eq!(c.address.ip(), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(c.related_port, Some(9));
        assert_eq!(c.extensions, vec![(Cow::Borrowed("x"), Cow::Borrowed("y"))]);
    }

    #[test]
    fn reject_bad_fields() {
        for bad in [
            "1 1 udp 1 127.0.0.1 70000 typ host",
            "1 0 udp 1 127.0.0.1 5 typ host",
            "1 1 udp 4294967296 127.0.0.1 5 typ host",
            "1 1 udp 1 127.0.0.1 5 type host",
            "1 1 udp 1 127.0.0.1 5 typ host raddr",
            "1 1 udp 1 300.1.1.1 5 typ host",
            "1 1 udp 1 127.0.0.1 5 typ host tcptype sideways",
            "1 1 udp 1 127.0.0.1",
            "f$ 1 udp 1 127.0.0.1 5 typ host",
        ] {
            assert!(Candidate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn init_round_trip() {
        let c = Candidate::parse("candidate:1 1 udp 5 127.0.0.1 5000 typ host ufrag abcd").unwrap();
        let init = c.to_init(Some("0"), Some(0), None);
        assert_eq!(init.username_fragment.as_deref(), Some("abcd"));
        let json = serde_json::to_string(&init).unwrap();
        assert!(json.contains("\"sdpMLineIndex\":0"), "{json}");
        let back: IceCandidateInit = serde_json::from_str(&json).unwrap();
        assert_eq!(back.parse_candidate().unwrap(), Some(c));
        assert_eq!(IceCandidateInit::end_of_candidates(Some("0"), None).parse_candidate(), Ok(None));
    }
}
