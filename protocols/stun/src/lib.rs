//! A sans-IO STUN Binding server (RFC 8489): datagram and source address
//! in, response datagram out. It is what lets a browser learn its
//! server-reflexive address from Switchboard without any other server.
//!
//! Only what a Binding server needs: the header (§5), XOR-MAPPED-ADDRESS
//! (§14.2), SOFTWARE (§14.14) and FINGERPRINT (§14.7). Requests with
//! unknown comprehension-required attributes get a 420 error response
//! (§6.3.1); anything that is not a well-formed STUN request is ignored, as
//! §6.3 asks.

#![warn(missing_docs)]

use std::net::{IpAddr, SocketAddr};

/// The magic cookie (RFC 8489 §5).
pub const MAGIC_COOKIE: u32 = 0x2112_A442;
const BINDING_REQUEST: u16 = 0x0001;
const BINDING_SUCCESS: u16 = 0x0101;
const BINDING_ERROR: u16 = 0x0111;
const ATTR_XOR_MAPPED_ADDRESS: u16 = 0x0020;
const ATTR_SOFTWARE: u16 = 0x8022;
const ATTR_FINGERPRINT: u16 = 0x8028;
const ATTR_ERROR_CODE: u16 = 0x0009;
const ATTR_UNKNOWN_ATTRIBUTES: u16 = 0x000A;
const FINGERPRINT_XOR: u32 = 0x5354_554e;
const SOFTWARE: &[u8] = b"switchboard";

/// What the server did with one datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Send this datagram back to the source.
    Reply(Vec<u8>),
    /// Not a STUN Binding request (or malformed): drop it silently.
    Ignored,
}

/// CRC-32 (ISO-HDLC, as in FINGERPRINT), bitwise; STUN messages are small.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn read_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// Answers one datagram received from `source`.
pub fn handle_datagram(datagram: &[u8], source: SocketAddr) -> Handled {
    // Header: type (2), length (2), cookie (4), transaction id (12); the top two bits are zero.
    if datagram.len() < 20 || datagram[0] & 0xC0 != 0 {
        return Handled::Ignored;
    }
    let (Some(kind), Some(length)) = (read_u16(datagram, 0), read_u16(datagram, 2)) else {
        return Handled::Ignored;
    };
    let length = usize::from(length);
    if length % 4 != 0 || datagram.len() != 20 + length || datagram[4..8] != MAGIC_COOKIE.to_be_bytes() {
        return Handled::Ignored;
    }
    if kind != BINDING_REQUEST {
        return Handled::Ignored;
    }
    let transaction: [u8; 12] = datagram[8..20].try_into().unwrap_or_default();
    // Walk the attributes: lengths must fit, FINGERPRINT (if any) must be last and right.
    let mut unknown = Vec::new();
    let mut at = 20;
    while at < datagram.len() {
        let (Some(attr), Some(len)) = (read_u16(datagram, at), read_u16(datagram, at + 2)) else {
            return Handled::Ignored;
        };
        let len = usize::from(len);
        let end = at + 4 + len;
        let padded = at + 4 + len.div_ceil(4) * 4;
        if padded > datagram.len() {
            return Handled::Ignored;
        }
        if attr == ATTR_FINGERPRINT {
            let expected = crc32(&datagram[..at]) ^ FINGERPRINT_XOR;
            if len != 4 || padded != datagram.len() || datagram[at + 4..end] != expected.to_be_bytes() {
                return Handled::Ignored;
            }
        } else if attr < 0x8000 && !matches!(attr, 0x0006 | 0x0008 | 0x0014 | 0x0015 | 0x0024 | 0x0025) {
            // Comprehension-required and not one we can safely ignore here
            // (USERNAME, MESSAGE-INTEGRITY, REALM, NONCE, PRIORITY, USE-CANDIDATE).
            unknown.push(attr);
        }
        at = padded;
    }
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
    out.extend_from_slice(&transaction);
    if !unknown.is_empty() {
        out[..2].copy_from_slice(&BINDING_ERROR.to_be_bytes());
        let reason = b"Unknown Attribute";
        attribute(&mut out, ATTR_ERROR_CODE, &[&[0, 0, 4, 20], reason]);
        let list: Vec<u8> = unknown.iter().flat_map(|a| a.to_be_bytes()).collect();
        attribute(&mut out, ATTR_UNKNOWN_ATTRIBUTES, &[&list]);
    } else {
        out[..2].copy_from_slice(&BINDING_SUCCESS.to_be_bytes());
        let port = (source.port() ^ (MAGIC_COOKIE >> 16) as u16).to_be_bytes();
        match source.ip() {
            IpAddr::V4(ip) => {
                let x = u32::from(ip) ^ MAGIC_COOKIE;
                attribute(&mut out, ATTR_XOR_MAPPED_ADDRESS, &[&[0, 1], &port, &x.to_be_bytes()]);
            }
            IpAddr::V6(ip) => {
                let mut key = [0u8; 16];
                key[..4].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
                key[4..].copy_from_slice(&transaction);
                let x: Vec<u8> = ip.octets().iter().zip(key).map(|(a, k)| a ^ k).collect();
                attribute(&mut out, ATTR_XOR_MAPPED_ADDRESS, &[&[0, 2], &port, &x]);
            }
        }
        attribute(&mut out, ATTR_SOFTWARE, &[SOFTWARE]);
    }
    // FINGERPRINT covers the message with its length already counting the fingerprint.
    let with_fp = (out.len() - 20 + 8) as u16;
    out[2..4].copy_from_slice(&with_fp.to_be_bytes());
    let fp = crc32(&out) ^ FINGERPRINT_XOR;
    attribute(&mut out, ATTR_FINGERPRINT, &[&fp.to_be_bytes()]);
    Handled::Reply(out)
}

/// Appends one attribute (type, length, value, padding) and updates the header length.
fn attribute(out: &mut Vec<u8>, kind: u16, parts: &[&[u8]]) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&(len as u16).to_be_bytes());
    for p in parts {
        out.extend_from_slice(p);
    }
    out.resize(out.len() + (4 - len % 4) % 4, 0);
    let body = (out.len() - 20) as u16;
    out[2..4].copy_from_slice(&body.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5769 §2.1 sample request (with USERNAME, PRIORITY, ICE-CONTROLLED,
    /// MESSAGE-INTEGRITY, FINGERPRINT), as an ICE agent sends it.
    const RFC5769_REQUEST: [u8; 108] = [
        0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa,
        0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20,
        0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff, 0x80, 0x29, 0x00,
        0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a,
        0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c, 0xbf,
        0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28,
        0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
    ];

    fn xor_mapped(reply: &[u8]) -> SocketAddr {
        let mut at = 20;
        while at < reply.len() {
            let kind = read_u16(reply, at).unwrap();
            let len = usize::from(read_u16(reply, at + 2).unwrap());
            if kind == ATTR_XOR_MAPPED_ADDRESS {
                let v = &reply[at + 4..at + 4 + len];
                let port = u16::from_be_bytes([v[2], v[3]]) ^ 0x2112;
                let ip = u32::from_be_bytes([v[4], v[5], v[6], v[7]]) ^ MAGIC_COOKIE;
                return SocketAddr::from((std::net::Ipv4Addr::from(ip), port));
            }
            at += 4 + len.div_ceil(4) * 4;
        }
        panic!("no XOR-MAPPED-ADDRESS")
    }

    #[test]
    fn crc32_matches_the_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn rfc5769_request_gets_a_success_with_the_source_address() {
        let source: SocketAddr = "192.0.2.1:32853".parse().unwrap();
        let Handled::Reply(reply) = handle_datagram(&RFC5769_REQUEST, source) else { panic!("ignored") };
        assert_eq!(read_u16(&reply, 0), Some(BINDING_SUCCESS));
        assert_eq!(reply[8..20], RFC5769_REQUEST[8..20]);
        assert_eq!(usize::from(read_u16(&reply, 2).unwrap()) + 20, reply.len());
        assert_eq!(xor_mapped(&reply), source);
        // The fingerprint is right: the reply is a valid request-shaped message for our own checker.
        let n = reply.len();
        assert_eq!(reply[n - 4..], (crc32(&reply[..n - 8]) ^ FINGERPRINT_XOR).to_be_bytes());
    }

    #[test]
    fn garbage_and_corrupted_fingerprints_are_ignored() {
        let source: SocketAddr = "127.0.0.1:1".parse().unwrap();
        assert_eq!(handle_datagram(b"hello", source), Handled::Ignored);
        assert_eq!(handle_datagram(&[0u8; 20], source), Handled::Ignored);
        let mut bad = RFC5769_REQUEST;
        bad[107] ^= 1;
        assert_eq!(handle_datagram(&bad, source), Handled::Ignored);
        let mut truncated = RFC5769_REQUEST.to_vec();
        truncated.truncate(100);
        assert_eq!(handle_datagram(&truncated, source), Handled::Ignored);
    }

    #[test]
    fn unknown_comprehension_required_attribute_gets_420() {
        let mut req = vec![0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42];
        req.extend_from_slice(&[7; 12]);
        req.extend_from_slice(&[0x00, 0x7f, 0x00, 0x04, 1, 2, 3, 4]);
        let Handled::Reply(reply) = handle_datagram(&req, "127.0.0.1:9".parse().unwrap()) else { panic!() };
        assert_eq!(read_u16(&reply, 0), Some(BINDING_ERROR));
        assert!(reply.windows(2).any(|w| w == [0x00, 0x7f]));
    }
}
