//! The bridge between Switchboard's three worlds (browser, SIP, XMPP
//! Jingle), sans-IO: no sockets, no clock, no tasks.
//!
//! * [`call`]: the core. Calls made of two legs; each protocol's adapter
//!   speaks the same [`CallEvent`]s; the bridge routes, dials, translates
//!   (trickle or not, late offer, early media), times out unanswered calls,
//!   and ends every leg with the mapped cause when one ends.
//! * [`dialplan`]: where a call goes (rules from `switchboard.toml`, then
//!   defaults that need no configuration).
//! * [`address`]: SIP addresses inside JIDs (XEP-0106) and JIDs inside SIP
//!   URIs (`%40`).
//! * [`cause`]: the one table of how a call's end is spoken in each
//!   protocol (MAPPING.md).
//! * [`gather`]: trickled candidates written into an SDP for legs that do not trickle.
//! * [`media`]: media profiles (WebRTC, plain RTP, SDES) and whether a call must be anchored.
//! * [`record`]: what `/api/calls` lists and what each call leaves when it ends.

#![warn(missing_docs)]

pub mod address;
pub mod call;
pub mod cause;
pub mod dialplan;
pub mod gather;
pub mod media;
pub mod record;

pub use call::{Bridge, BridgeConfig, CallEvent, CallId, Caller, Dial, LegId, Output, RelayOp, RelayRequest};
pub use cause::{CAUSES, CauseRow, HangupCause};
pub use dialplan::{Action, DialPlan, DialPlanError, LegKind, Rule, Target};
