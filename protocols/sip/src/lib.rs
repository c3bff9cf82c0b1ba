//! SIP messages (RFC 3261 §7, §25), sans-IO: bytes in, a message that
//! borrows from them out.
//!
//! * Header names are matched case-insensitively and compact forms
//!   (`i`, `m`, `v`, `l`, ...) are expanded (§7.3.3); folded header lines are
//!   joined (§7.3.1); extension methods are kept (§27.4).
//! * A datagram's body is exactly Content-Length octets: trailing octets are
//!   discarded, a shorter datagram is an error (§18.3). [`Framer`] cuts a
//!   byte stream (TCP, TLS) into messages the same way.
//! * Errors say what is wrong, so that a request can be answered with 400
//!   and a reason phrase; no input makes the parser panic.
//!
//! First part of issue #4: transactions, dialogs and transports build on it.

#![warn(missing_docs)]

pub mod agent;
pub mod build;
pub mod digest;
mod error;
pub mod flow;
mod framer;
mod header;
mod message;
pub mod registrar;
pub mod transaction;
mod typed;
pub mod uas;

pub use error::SipError;
pub use framer::{Framed, Framer};
pub use header::{Header, canonical_name};
pub use message::{Message, StartLine};
pub use typed::{CSeq, Via};
