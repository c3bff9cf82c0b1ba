//! XML namespaces of Jingle and its companions, one constant each.

/// XEP-0166 Jingle.
pub const JINGLE: &str = "urn:xmpp:jingle:1";
/// XEP-0166 Jingle error conditions (`<unknown-session/>`, `<out-of-order/>`, ...).
pub const JINGLE_ERRORS: &str = "urn:xmpp:jingle:errors:1";
/// XEP-0167 RTP sessions.
pub const RTP: &str = "urn:xmpp:jingle:apps:rtp:1";
/// XEP-0167 RTP session-info payloads (`<ringing/>`, `<hold/>`, `<mute/>` ...).
pub const RTP_INFO: &str = "urn:xmpp:jingle:apps:rtp:info:1";
/// XEP-0167 RTP error conditions (`<crypto-required/>`, `<invalid-crypto/>`).
pub const RTP_ERRORS: &str = "urn:xmpp:jingle:apps:rtp:errors:1";
/// Disco feature: RTP audio (XEP-0167 §11).
pub const RTP_AUDIO: &str = "urn:xmpp:jingle:apps:rtp:audio";
/// Disco feature: RTP video (XEP-0167 §11).
pub const RTP_VIDEO: &str = "urn:xmpp:jingle:apps:rtp:video";
/// XEP-0176 ICE-UDP transport.
pub const ICE_UDP: &str = "urn:xmpp:jingle:transports:ice-udp:1";
/// The pre-1.0 ICE-UDP namespace some XEP examples still show (read only).
pub const ICE_UDP_0: &str = "urn:xmpp:jingle:transports:ice-udp:0";
/// XEP-0320 DTLS-SRTP fingerprints.
pub const DTLS: &str = "urn:xmpp:jingle:apps:dtls:0";
/// XEP-0293 RTCP feedback.
pub const RTCP_FB: &str = "urn:xmpp:jingle:apps:rtp:rtcp-fb:0";
/// XEP-0294 RTP header extensions.
pub const HDREXT: &str = "urn:xmpp:jingle:apps:rtp:rtp-hdrext:0";
/// XEP-0338 grouping.
pub const GROUPING: &str = "urn:xmpp:jingle:apps:grouping:0";
/// The RFC 5888 namespace older clients use for `<group/>` (read only; disco feature).
pub const GROUPING_RFC5888: &str = "urn:ietf:rfc:5888";
/// XEP-0339 source-specific media attributes.
pub const SSMA: &str = "urn:xmpp:jingle:apps:rtp:ssma:0";
/// `<stream id track/>` for `a=msid` as stanza.js writes it (no XEP).
pub const MSID: &str = "urn:xmpp:jingle:apps:rtp:msid:0";
/// XEP-0343 `<sctpmap/>`.
pub const DTLS_SCTP: &str = "urn:xmpp:jingle:transports:dtls-sctp:1";
/// XEP-0343 `<channel/>` elements.
pub const WEBRTC_DATACHANNEL_0: &str = "urn:xmpp:jingle:transports:webrtc-datachannel:0";
/// The data channel transport wrapper Conversations writes (`sctp-port`, `max-message-size` attributes).
pub const WEBRTC_DATACHANNEL_1: &str = "urn:xmpp:jingle:transports:webrtc-datachannel:1";
/// XEP-0353 Jingle Message Initiation.
pub const JMI: &str = "urn:xmpp:jingle-message:0";
/// XEP-0334 message processing hints (`<store/>`).
pub const HINTS: &str = "urn:xmpp:hints";
/// RFC 6120 stanza error conditions.
pub const STANZAS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";
/// RFC 5761 (rtcp-mux) disco feature.
pub const RFC5761: &str = "urn:ietf:rfc:5761";
