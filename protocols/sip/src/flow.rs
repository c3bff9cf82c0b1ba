//! Where a message came from and where one goes: the transport (RFC 3261
//! §18, RFC 7118 for WebSocket) and the remote address, plus the runtime's
//! connection for stream transports, so that responses and in-dialog
//! requests reuse the connection a peer opened (RFC 5626 §5.3: behind NAT
//! or in a browser, nothing else reaches it).

use std::net::SocketAddr;

/// A SIP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP (unreliable: this layer retransmits).
    Udp,
    /// TCP.
    Tcp,
    /// TLS over TCP.
    Tls,
    /// WebSocket (RFC 7118).
    Ws,
    /// Secure WebSocket (RFC 7118).
    Wss,
}

impl Transport {
    /// Whether the transport delivers reliably (no retransmissions, §17.1.1.2).
    pub fn is_reliable(self) -> bool {
        self != Transport::Udp
    }

    /// The token of a Via header (§20.42, RFC 7118 §5.2).
    pub fn via_name(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
            Transport::Ws => "WS",
            Transport::Wss => "WSS",
        }
    }

    /// The `transport=` URI parameter value, if one is needed (UDP is the default).
    pub fn uri_param(self) -> Option<&'static str> {
        match self {
            Transport::Udp => None,
            Transport::Tcp => Some("tcp"),
            Transport::Tls => Some("tls"),
            Transport::Ws => Some("ws"),
            Transport::Wss => Some("wss"),
        }
    }
}

/// One path between this element and a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Flow {
    /// The transport.
    pub transport: Transport,
    /// The peer's address (the source of what it sent).
    pub remote: SocketAddr,
    /// This element's address on the path (put in Via and Contact).
    pub local: SocketAddr,
    /// The runtime's connection, for stream transports; `None` for UDP, or
    /// for a stream that the runtime must open to `remote`.
    pub conn: Option<u64>,
}

impl Flow {
    /// Whether the transport is reliable.
    pub fn is_reliable(&self) -> bool {
        self.transport.is_reliable()
    }
}
