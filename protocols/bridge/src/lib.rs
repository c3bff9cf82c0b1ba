//! The bridge between Switchboard's three worlds (browser, SIP, XMPP
//! Jingle), sans-IO.
//!
//! First part of issue #6: [`cause`], the one table that says how a call's
//! end is spoken in each protocol (MAPPING.md).

#![warn(missing_docs)]

pub mod cause;

pub use cause::{CAUSES, CauseRow, HangupCause};
