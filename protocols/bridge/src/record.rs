//! Call records: the calls in progress (`GET /api/calls`) and the record of
//! each call at its end (logged, counted in `/metrics`), the same for every
//! pair of leg types.

use serde::Serialize;

/// One party of a call, as shown in call lists and records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallParty {
    /// `browser`, `sip` or `xmpp`; `none` for the callee of a call the
    /// dial plan refused before any leg was dialled.
    pub kind: &'static str,
    /// A browser's peer id, or the leg's URI (`sip:...`, `xmpp:...`, or a registered SIP name).
    pub address: String,
    /// A browser's registered name, or the leg's display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A call in progress (`GET /api/calls`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallInfo {
    /// The session id.
    pub session: String,
    /// The party that placed the call (sent the first offer).
    pub caller: CallParty,
    /// The party that was called.
    pub callee: CallParty,
    /// The leg type pair, e.g. `browser-sip` (sorted, order-independent).
    pub pair: String,
    /// `ringing` until the first offer gets its final answer, then `answered`.
    pub state: &'static str,
    /// Whole seconds since the call began.
    pub age_seconds: u64,
}

/// A call that ended, queued as [`Output::Ended`](crate::Output::Ended).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRecord {
    /// The session id.
    pub session: String,
    /// The party that placed the call.
    pub caller: CallParty,
    /// The party that was called.
    pub callee: CallParty,
    /// The leg type pair, e.g. `browser-sip` (sorted, order-independent).
    pub pair: String,
    /// `answered`, or for an unanswered call one of `busy`, `decline`,
    /// `cancel`, `timeout`, `failed`, `other` ([`outcome`]).
    pub outcome: &'static str,
    /// `caller` or `callee`: who ended it.
    pub ended_by: &'static str,
    /// The reason word of the hangup (`normal`, `busy`, `peer-disconnected`, ...).
    pub reason: String,
    /// The SIP status code behind the reason, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sip_code: Option<u16>,
    /// Milliseconds from the start to the answer, when answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup_ms: Option<u64>,
    /// Milliseconds from the answer to the end (0 when unanswered).
    pub talk_ms: u64,
    /// Milliseconds from the start to the end.
    pub duration_ms: u64,
}

/// The outcome of a call ended by `ended_by` (`caller`, `callee`, `bridge`):
/// as [`outcome`], except that a callee's `normal` end of an unanswered call
/// is a `decline` (a refusal), not a `cancel`.
pub fn outcome_by(answered: bool, reason: &str, ended_by: &str) -> &'static str {
    if !answered && ended_by == "callee" && matches!(reason, "normal" | "") {
        return "decline";
    }
    outcome(answered, reason)
}

/// The outcome label of a call: `answered`, else the hangup reason reduced to
/// a small set (`busy`, `decline`, `cancel`, `timeout`, `failed`, `other`).
pub fn outcome(answered: bool, reason: &str) -> &'static str {
    if answered {
        return "answered";
    }
    match reason {
        "busy" => "busy",
        "decline" | "declined" | "rejected" => "decline",
        "cancel" | "cancelled" | "canceled" | "normal" | "peer-disconnected" => "cancel",
        "timeout" | "no-answer" | "expired" => "timeout",
        "failed" | "incompatible" | "unavailable" | "not-found" | "security-error" | "gone" => "failed",
        _ => "other",
    }
}

/// Whole milliseconds of `d`.
pub fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
