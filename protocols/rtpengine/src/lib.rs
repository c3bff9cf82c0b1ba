//! A sans-IO client of rtpengine's *ng* control protocol: no sockets, no
//! clock, no tasks. The runtime sends what [`NgClient::poll_transmit`]
//! gives to rtpengine's ng port (UDP), feeds every datagram back into
//! [`NgClient::handle_datagram`], and drives the timers with
//! [`NgClient::poll_timeout`] / [`NgClient::handle_timeout`].
//!
//! * [`bencode`]: the encoding of ng messages ([`Value`], [`encode`],
//!   [`decode`], strict and bounded).
//! * [`ng`]: the client ([`NgClient`]): a fresh cookie per request,
//!   retransmission with the same cookie, a total timeout, replies matched
//!   by cookie, and health (`ping` at start and periodically).
//! * [`commands`]: typed builders for `offer`, `answer`, `delete`, `query`,
//!   `list` and `ping`, and the flag sets towards browsers (WebRTC), plain
//!   RTP phones and SDES-SRTP phones ([`MediaFlags`]).

#![warn(missing_docs)]

pub mod bencode;
pub mod commands;
pub mod ng;

pub use bencode::{DecodeError, DecodeErrorKind, Value, decode, dict, encode, list};
pub use commands::MediaFlags;
pub use ng::{NgClient, NgConfig, NgError, NgEvent, RequestId};
