//! `hide_host_candidates` ([`crate::HubConfig`]): what one party learns of
//! another's local network. Host candidates on private, loopback,
//! link-local, CGNAT or ULA addresses, and mDNS `.local` host candidates,
//! are dropped from everything relayed (trickled candidates and the
//! candidates inside offers and answers); srflx, relay, prflx and public
//! host candidates stay. A default address (`m=` port and `c=` line, RFC
//! 8839 §4.2.1.2) that was a dropped candidate becomes the best remaining
//! candidate's, else `9` and `0.0.0.0` (RFC 8839 §4.2.1.2); the related
//! address of a kept candidate that names a hidden address is masked as
//! browsers do (`raddr 0.0.0.0 rport 0`). Every other line is left as it is.

use std::borrow::Cow;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use switchboard_sdp::{Address, Candidate, CandidateType};

use crate::gather::type_rank;

fn private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || (a == 100 && (b & 0xc0) == 64)
}

fn private_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    if let Some(v4) = ip.to_ipv4_mapped() {
        return private_v4(v4);
    }
    ip.is_loopback() || ip.is_unspecified() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
}

/// Whether `address` reveals a local network: a private, loopback,
/// link-local, CGNAT or ULA IP, or an mDNS `.local` name.
pub(crate) fn is_local(address: &Address<'_>) -> bool {
    match address {
        Address::Ip(IpAddr::V4(ip)) => private_v4(*ip),
        Address::Ip(IpAddr::V6(ip)) => private_v6(*ip),
        Address::Mdns(_) => true,
        Address::Fqdn(_) => false,
    }
}

/// Whether the candidate is one to hide: a host candidate on a local address.
pub(crate) fn is_hidden(c: &Candidate<'_>) -> bool {
    c.kind == CandidateType::Host && is_local(&c.address)
}

/// A trickled or SDP candidate (`candidate:...`, with or without `a=`) as it
/// may be relayed: `None` when it is hidden, else the text with a local
/// related address masked. Text that does not parse is returned as it is.
pub(crate) fn filter_candidate(text: &str) -> Option<Cow<'_, str>> {
    let value = text.strip_prefix("a=").unwrap_or(text);
    let Ok(c) = Candidate::parse(value.trim()) else { return Some(Cow::Borrowed(text)) };
    if is_hidden(&c) {
        return None;
    }
    match &c.related_address {
        Some(raddr) if is_local(raddr) => {
            let masked = if matches!(raddr, Address::Ip(IpAddr::V6(_))) { "::" } else { "0.0.0.0" };
            let mut tokens: Vec<&str> = text.split(' ').collect();
            for i in 0..tokens.len().saturating_sub(1) {
                match tokens[i] {
                    "raddr" => tokens[i + 1] = masked,
                    "rport" => tokens[i + 1] = "0",
                    _ => {}
                }
            }
            Some(Cow::Owned(tokens.join(" ")))
        }
        _ => Some(Cow::Borrowed(text)),
    }
}

/// An address as [`Address`] writes it (IPv6 compressed, lowercase), so
/// that SDP text compares with parsed candidates.
fn normal(addr: &str) -> String {
    addr.parse::<IpAddr>().map(|ip| ip.to_string()).unwrap_or_else(|_| addr.to_owned())
}

/// The address of a `c=` line (`c=IN IP4 192.0.2.1`, a TTL or count dropped), normalized.
fn c_address(line: &str) -> Option<String> {
    let addr = line.strip_prefix("c=")?.split_whitespace().nth(2)?;
    Some(normal(addr.split('/').next().unwrap_or(addr)))
}

/// `sdp` with its hidden candidates dropped, defaults that named them
/// replaced, and local related addresses masked (see the module docs).
pub(crate) fn filter_sdp(sdp: &str) -> Cow<'_, str> {
    let eol = if sdp.contains("\r\n") { "\r\n" } else { "\n" };
    let lines: Vec<&str> = sdp.split(eol).collect();
    // Every dropped address (a host's address text, compared as written).
    let mut dropped: HashSet<String> = HashSet::new();
    for line in &lines {
        if let Some(value) = line.strip_prefix("a=")
            && value.starts_with("candidate:")
            && let Ok(c) = Candidate::parse(value.trim())
            && is_hidden(&c)
        {
            dropped.insert(c.address.to_string());
        }
    }
    let masked_any = lines
        .iter()
        .any(|l| l.starts_with("a=candidate:") && matches!(filter_candidate(l), Some(Cow::Owned(_))));
    if dropped.is_empty() && !masked_any {
        return Cow::Borrowed(sdp);
    }
    // Split into the session part and media sections.
    let mut sections: Vec<Vec<String>> = vec![Vec::new()];
    for line in &lines {
        if line.starts_with("m=") {
            sections.push(Vec::new());
        }
        sections.last_mut().expect("one at least").push((*line).to_owned());
    }
    let session_c_dropped = sections[0].iter().filter_map(|l| c_address(l)).any(|a| dropped.contains(&a));
    for line in sections[0].iter_mut() {
        if c_address(line).is_some_and(|a| dropped.contains(&a)) {
            *line = "c=IN IP4 0.0.0.0".to_owned();
        }
    }
    for section in sections.iter_mut().skip(1) {
        let own_c = section.iter().find_map(|l| c_address(l));
        let needs_default = match &own_c {
            Some(a) => dropped.contains(a),
            None => session_c_dropped,
        };
        // Drop hidden candidates, mask related addresses, and find the best kept one.
        let mut best: Option<(u8, u32, String, u16)> = None;
        let mut kept = Vec::with_capacity(section.len());
        for line in section.drain(..) {
            if !line.starts_with("a=candidate:") {
                if let Some(rest) = line.strip_prefix("a=rtcp:")
                    && rest.split_whitespace().nth(3).is_some_and(|a| dropped.contains(&normal(a)))
                {
                    kept.push("a=rtcp:9 IN IP4 0.0.0.0".to_owned());
                } else {
                    kept.push(line);
                }
                continue;
            }
            let Some(text) = filter_candidate(&line) else { continue };
            let text = text.into_owned();
            if let Ok(c) = Candidate::parse(text["a=".len()..].trim())
                && c.component == 1
                && c.transport.eq_ignore_ascii_case("udp")
            {
                let rank = type_rank(&c.kind);
                let better = match &best {
                    None => true,
                    Some((r, p, _, _)) => rank > *r || (rank == *r && c.priority > *p),
                };
                if better {
                    best = Some((rank, c.priority, c.address.to_string(), c.port));
                }
            }
            kept.push(text);
        }
        *section = kept;
        if !needs_default {
            continue;
        }
        let (addr, port) = best.map(|(_, _, a, p)| (a, p)).unwrap_or_else(|| ("0.0.0.0".to_owned(), 9));
        let family = if addr.contains(':') { "IP6" } else { "IP4" };
        let c_line = format!("c=IN {family} {addr}");
        if let Some(m) = section.first_mut() {
            let parts: Vec<&str> = m.splitn(3, ' ').collect();
            if parts.len() == 3 && parts[1] != "0" {
                *m = format!("{} {port} {}", parts[0], parts[2]);
            }
        }
        match section.iter().position(|l| l.starts_with("c=")) {
            Some(i) => section[i] = c_line,
            None => {
                // After `m=` and its `i=` (RFC 8866 §5 order).
                let at = if section.get(1).is_some_and(|l| l.starts_with("i=")) { 2 } else { 1 };
                section.insert(at.min(section.len()), c_line);
            }
        }
    }
    Cow::Owned(sections.iter().flatten().map(String::as_str).collect::<Vec<_>>().join(eol))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Address<'_> {
        Address::parse(s).unwrap()
    }

    #[test]
    fn local_addresses() {
        for a in [
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "100.127.255.1",
            "fd00::1",
            "fc12::1",
            "fe80::1",
            "::1",
            "::ffff:192.168.0.1",
            "a1b2c3d4-e5f6-4789-abcd-ef0123456789.local",
        ] {
            assert!(is_local(&addr(a)), "{a}");
        }
        for a in ["192.0.2.7", "172.32.0.1", "100.128.0.1", "8.8.8.8", "2001:db8::1", "turn.example.org"] {
            assert!(!is_local(&addr(a)), "{a}");
        }
    }

    #[test]
    fn candidates_are_dropped_kept_or_masked() {
        let host = "candidate:1 1 udp 2122260223 192.168.1.5 50000 typ host generation 0";
        let mdns = "candidate:1 1 udp 2122260223 0a1b2c3d-1111-2222-3333-444455556666.local 50000 typ host";
        let ula = "candidate:1 1 udp 2122262783 fd12:3456::1 50004 typ host";
        let public = "candidate:2 1 udp 2122260223 192.0.2.9 50000 typ host";
        let srflx = "candidate:3 1 udp 1686052607 192.0.2.7 50001 typ srflx raddr 192.168.1.5 rport 50000";
        let relay = "candidate:4 1 udp 41885439 198.51.100.3 3478 typ relay raddr 192.0.2.7 rport 50001";
        assert_eq!(filter_candidate(host), None);
        assert_eq!(filter_candidate(&format!("a={host}")), None);
        assert_eq!(filter_candidate(mdns), None);
        assert_eq!(filter_candidate(ula), None);
        assert_eq!(filter_candidate(public).as_deref(), Some(public));
        assert_eq!(filter_candidate(relay).as_deref(), Some(relay));
        let masked = "candidate:3 1 udp 1686052607 192.0.2.7 50001 typ srflx raddr 0.0.0.0 rport 0";
        assert_eq!(filter_candidate(srflx).as_deref(), Some(masked));
        assert!(Candidate::parse(masked).is_ok());
    }

    #[test]
    fn sdp_without_local_candidates_is_untouched() {
        let sdp = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
        assert!(matches!(filter_sdp(sdp), Cow::Borrowed(s) if s == sdp), "a plain SIP SDP keeps its address");
    }

    #[test]
    fn default_falls_back_to_9_and_0_0_0_0_and_session_c_is_rewritten() {
        let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 50000 RTP/AVP 0\r\na=rtcp:50001 IN IP4 10.0.0.5\r\na=candidate:1 1 udp 2122260223 10.0.0.5 50000 typ host\r\nm=video 50002 RTP/AVP 96\r\na=candidate:1 1 udp 2122260223 10.0.0.5 50002 typ host\r\na=candidate:2 1 udp 1686052607 192.0.2.7 50003 typ srflx raddr 0.0.0.0 rport 0\r\n";
        let out = filter_sdp(sdp);
        assert_eq!(
            out,
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\nm=video 50003 RTP/AVP 96\r\nc=IN IP4 192.0.2.7\r\na=candidate:2 1 udp 1686052607 192.0.2.7 50003 typ srflx raddr 0.0.0.0 rport 0\r\n"
        );
        assert!(switchboard_sdp::SessionDescription::parse(&out).is_ok());
    }
}
