//! Sans-IO XMPP for Switchboard: a small owned XML element tree ([`xml`]),
//! Jingle (XEP-0166) and its companions, one module per XEP, the SDP <->
//! Jingle translation ([`convert`], see `MAPPING.md`), and the core of an
//! external component (XEP-0114). No sockets and no clocks: text in, events
//! and text out.
//!
//! | XEP | module |
//! |---|---|
//! | 0166 Jingle | [`jingle`] |
//! | 0167 RTP sessions | [`rtp`] |
//! | 0176 ICE-UDP | [`ice_udp`] |
//! | 0320 DTLS-SRTP | [`dtls`] |
//! | 0293 RTCP feedback | [`rtcp_fb`] |
//! | 0294 RTP header extensions | [`hdrext`] |
//! | 0338 grouping (BUNDLE) | [`grouping`] |
//! | 0339 source-specific media attributes | [`ssma`] |
//! | 0343 WebRTC data channels | [`datachannel`] |
//! | 0353 Jingle Message Initiation | [`jmi`] |

#![warn(missing_docs)]

/// The string type of the model's short fields (names, parameters, candidate
/// fields): up to 24 bytes are stored inline, without allocating.
pub use compact_str::CompactString;

pub mod component;
pub mod convert;
pub mod datachannel;
mod dom;
pub mod dtls;
pub mod grouping;
pub mod hdrext;
pub mod ice_udp;
pub mod jingle;
pub mod jmi;
pub mod ns;
mod parse;
pub mod rtcp_fb;
pub mod rtp;
mod sink;
pub mod ssma;
pub mod xml;

pub use convert::{
    ConvertError, Converted, Options, Role, TrickleCandidate, candidate_to_jingle, candidates_of,
    drop_rtcp_candidates, jingle_to_sdp, jingle_to_sdp_with, sdp_to_jingle,
};
pub use jingle::{
    Action, Content, Creator, Description, ErrorCondition, Jingle, JingleError, Reason, ReasonCondition,
    Senders, Transport,
};
