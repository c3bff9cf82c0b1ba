//! Sans-IO XMPP for Switchboard: a small owned XML element tree ([`xml`]),
//! Jingle (XEP-0166) and its companions, one module per XEP, the SDP <->
//! Jingle translation (see `MAPPING.md`), and the core of an external
//! component (XEP-0114). No sockets and no clocks: text in, events and
//! text out.

#![warn(missing_docs)]

pub mod xml;
