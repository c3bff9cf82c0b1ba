//! The browser signaling protocol (v1) of Switchboard, sans-IO.
//!
//! Browsers connect over WebSocket and exchange one JSON object per text
//! frame (see `PROTOCOL.md` beside this crate). [`Hub`] is the state machine
//! behind the `/ws` endpoint: the runtime tells it when a peer connects,
//! sends text or disconnects ([`Hub::connect`], [`Hub::handle_text`],
//! [`Hub::disconnect`]), and takes what to send from [`Hub::poll_output`].
//! It keeps the registered names, the rooms and the call sessions, validates
//! SDP and candidates with `switchboard-sdp` before relaying them, and
//! answers every bad request with an `error` message without disturbing
//! anything else. It never touches a socket or a clock: time comes in as an
//! argument.

#![warn(missing_docs)]

mod calls;
mod gather;
mod hub;
mod legs;
mod messages;
mod privacy;
mod rate;
pub mod token;

pub use calls::{CallInfo, CallParty, CallRecord, outcome};
pub use hub::{Hub, HubConfig, HubStats, LegEvent, LegId, LegInput, LegRefusal, Output, PeerId};
pub use legs::is_xmpp_address;
pub use messages::{ErrorCode, IceServer};
pub use token::Permissions;
