//! Candidates for legs that do not trickle (most SIP peers): a browser's
//! trickled candidates are collected until its end-of-candidates (or a
//! deadline), then written into its SDP, with the default candidate in each
//! section's `m=` port and `c=` line (RFC 8839 §4.2.1.2, JSEP §5.3.2), and
//! `a=end-of-candidates` (RFC 8840 §8.2).

use std::time::Instant;

pub(crate) use switchboard_bridge::gather::{merge, type_rank};
use switchboard_sdp::IceCandidateInit;

/// What the gathered description is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// A new call to `target`.
    Dial {
        /// The address the browser called.
        target: String,
    },
    /// An offer in a call (re-offer, or the late offer a SIP caller asked for).
    Offer,
    /// The answer to the leg's offer.
    Answer,
}

/// One description waiting for its candidates.
#[derive(Debug)]
pub(crate) struct Gather {
    pub purpose: Purpose,
    pub sdp: String,
    pub candidates: Vec<IceCandidateInit>,
    pub deadline: Instant,
}
