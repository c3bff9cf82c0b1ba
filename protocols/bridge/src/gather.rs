//! Candidates for legs that do not trickle (most SIP peers): trickled
//! candidates are collected until the end of candidates (or a deadline),
//! then written into the SDP, with the default candidate in each section's
//! `m=` port and `c=` line (RFC 8839 §4.2.1.2, JSEP §5.3.2), and
//! `a=end-of-candidates` (RFC 8840 §8.2).

use switchboard_sdp::{CandidateType, IceCandidateInit};

/// How good a candidate type is as a default (relay best: it works from anywhere).
pub fn type_rank(t: &CandidateType<'_>) -> u8 {
    match t {
        CandidateType::Relay => 3,
        CandidateType::Srflx => 2,
        CandidateType::Prflx => 1,
        _ => 0,
    }
}

/// `sdp` with `candidates` added to the sections they name (by `sdpMid`,
/// else `sdpMLineIndex`), the default candidate of each section that got
/// some, and `a=end-of-candidates` in every media section.
pub fn merge(sdp: &str, candidates: &[IceCandidateInit]) -> String {
    let eol = if sdp.contains("\r\n") { "\r\n" } else { "\n" };
    let mut sections: Vec<Vec<String>> = vec![Vec::new()];
    for line in sdp.split(eol).filter(|l| !l.is_empty()) {
        if line.starts_with("m=") {
            sections.push(Vec::new());
        }
        sections.last_mut().expect("one at least").push(line.to_owned());
    }
    let mids: Vec<Option<String>> = sections[1..]
        .iter()
        .map(|s| s.iter().find_map(|l| l.strip_prefix("a=mid:").map(|m| m.trim().to_owned())))
        .collect();
    let mut best: Vec<Option<(u8, u32, String, u16)>> = vec![None; mids.len()];
    for c in candidates {
        let index = c
            .sdp_mid
            .as_ref()
            .and_then(|mid| mids.iter().position(|m| m.as_deref() == Some(mid.as_str())))
            .or_else(|| c.sdp_m_line_index.map(usize::from).filter(|i| *i < mids.len()));
        let Some(i) = index else { continue };
        let line = format!("a={}", c.candidate.trim());
        let section = &mut sections[i + 1];
        if !section.contains(&line) {
            section.push(line);
        }
        if let Ok(Some(parsed)) = c.parse_candidate()
            && parsed.component == 1
            && parsed.transport.eq_ignore_ascii_case("udp")
        {
            let rank = type_rank(&parsed.kind);
            let better = match &best[i] {
                None => true,
                Some((r, p, _, _)) => rank > *r || (rank == *r && parsed.priority > *p),
            };
            if better {
                best[i] = Some((rank, parsed.priority, parsed.address.to_string(), parsed.port));
            }
        }
    }
    for (i, section) in sections.iter_mut().skip(1).enumerate() {
        if let Some((_, _, addr, port)) = &best[i] {
            if let Some(m) = section.first_mut() {
                let parts: Vec<&str> = m.splitn(3, ' ').collect();
                if parts.len() == 3 && parts[1] != "0" {
                    *m = format!("{} {port} {}", parts[0], parts[2]);
                }
            }
            let family = if addr.contains(':') { "IP6" } else { "IP4" };
            for l in section.iter_mut() {
                if l.starts_with("c=") {
                    *l = format!("c=IN {family} {addr}");
                }
            }
        }
        if !section.iter().any(|l| l == "a=end-of-candidates") {
            section.push("a=end-of-candidates".to_owned());
        }
    }
    let mut out = String::with_capacity(sdp.len() + candidates.len() * 100);
    for line in sections.iter().flatten() {
        out.push_str(line);
        out.push_str(eol);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_go_to_their_section_with_the_default_address() {
        let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n";
        let c = |mid: &str, line: &str| IceCandidateInit {
            candidate: line.to_owned(),
            sdp_mid: Some(mid.to_owned()),
            sdp_m_line_index: None,
            username_fragment: None,
        };
        let merged = merge(
            sdp,
            &[
                c("0", "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0"),
                c("0", "candidate:2 1 udp 1686052607 192.0.2.7 50001 typ srflx raddr 127.0.0.1 rport 50000"),
                c("1", "candidate:1 1 udp 2122260223 127.0.0.1 50002 typ host"),
            ],
        );
        assert!(merged.contains("m=audio 50001 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 192.0.2.7\r\na=mid:0\r\na=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0\r\n"));
        assert!(merged.contains("m=video 50002 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 127.0.0.1\r\na=mid:1\r\na=candidate:1 1 udp 2122260223 127.0.0.1 50002 typ host\r\na=end-of-candidates\r\n"));
        assert!(switchboard_sdp::SessionDescription::parse(&merged).is_ok());
    }
}
