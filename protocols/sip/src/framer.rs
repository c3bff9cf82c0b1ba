//! Cutting a byte stream (TCP, TLS) into SIP messages by Content-Length
//! (RFC 3261 §18.3), with CRLF keepalives (RFC 5626 §4.4.1) recognised.

use crate::error::SipError;
use crate::message::header_end;

/// What [`Framer::poll`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framed {
    /// One whole message (parse it with [`Message::parse_framed`](crate::Message::parse_framed)).
    Message(Vec<u8>),
    /// A `CRLFCRLF` ping: answer with `CRLF`.
    Ping,
}

/// Accumulates stream bytes and hands out whole messages.
#[derive(Debug, Default)]
pub struct Framer {
    buffer: Vec<u8>,
    max: usize,
}

impl Framer {
    /// A framer refusing messages over `max` bytes.
    pub fn new(max: usize) -> Self {
        Framer { buffer: Vec::new(), max }
    }

    /// The bytes received and not yet handed out (after an error: the offending message's start).
    pub fn pending(&self) -> &[u8] {
        &self.buffer
    }

    /// Adds bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next message or ping, `Ok(None)` if more bytes are needed, or an
    /// error after which the stream should be closed.
    pub fn poll(&mut self) -> Result<Option<Framed>, SipError> {
        if self.buffer.starts_with(b"\r\n\r\n") {
            self.buffer.drain(..4);
            return Ok(Some(Framed::Ping));
        }
        // A lone CRLF between messages is a pong or padding: skip it.
        while self.buffer.starts_with(b"\r\n") && !self.buffer.starts_with(b"\r\n\r") {
            self.buffer.drain(..2);
        }
        let Some((head_end, body_start)) = header_end(&self.buffer) else {
            return if self.buffer.len() > self.max {
                Err(SipError::TooLarge(self.buffer.len()))
            } else {
                Ok(None)
            };
        };
        let head = String::from_utf8_lossy(&self.buffer[..head_end]);
        let length = head
            .split('\n')
            .skip(1)
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                let name = name.trim();
                (name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("l"))
                    .then(|| value.trim())
            })
            .ok_or_else(|| SipError::ContentLength("missing on a stream".into()))?;
        let length: usize =
            length.parse().map_err(|_| SipError::ContentLength(format!("`{length}` is not a length")))?;
        let total = body_start + length;
        if total > self.max {
            return Err(SipError::TooLarge(total));
        }
        if self.buffer.len() < total {
            return Ok(None);
        }
        let message = self.buffer.drain(..total).collect();
        Ok(Some(Framed::Message(message)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Message;

    const OPTIONS: &[u8] = b"OPTIONS sip:gw SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK1\r\nCall-ID: a\r\nCSeq: 1 OPTIONS\r\nl: 4\r\n\r\nbody";

    #[test]
    fn messages_split_across_reads_and_glued_together() {
        let mut f = Framer::new(65536);
        let mut stream = b"\r\n\r\n".to_vec();
        stream.extend_from_slice(OPTIONS);
        stream.extend_from_slice(OPTIONS);
        let mut out = Vec::new();
        for chunk in stream.chunks(7) {
            f.push(chunk);
            while let Some(framed) = f.poll().unwrap() {
                out.push(framed);
            }
        }
        assert_eq!(out.len(), 3);
        assert_eq!(out[0], Framed::Ping);
        for framed in &out[1..] {
            let Framed::Message(bytes) = framed else { panic!() };
            assert_eq!(Message::parse_framed(bytes).unwrap().body, b"body");
        }
    }

    #[test]
    fn missing_content_length_and_oversize_are_errors() {
        let mut f = Framer::new(65536);
        f.push(b"OPTIONS sip:gw SIP/2.0\r\nCall-ID: a\r\n\r\n");
        assert!(matches!(f.poll(), Err(SipError::ContentLength(_))));
        let mut f = Framer::new(100);
        f.push(&[b'a'; 200]);
        assert!(matches!(f.poll(), Err(SipError::TooLarge(_))));
    }
}
