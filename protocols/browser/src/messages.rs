//! Protocol v1 message shapes (PROTOCOL.md): what a browser sends, what the
//! server sends, and the error codes.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// An ICE server as `RTCIceServer` takes it, sent in `welcome`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    /// `stun:`, `turn:` or `turns:` URLs.
    pub urls: Vec<String>,
    /// TURN user name (for REST credentials, `expiry:name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// Why a request was refused, as the `code` of an `error` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The frame is not a JSON object.
    BadJson,
    /// `type` names no known message.
    UnknownType,
    /// A required field is missing or has the wrong JSON type.
    MissingField,
    /// A field has an invalid value (a name or room too long, ...).
    BadValue,
    /// The message is over the size limit.
    TooLarge,
    /// Too many messages per second from this connection.
    RateLimited,
    /// The registered name belongs to another peer.
    NameTaken,
    /// `to` names no connected peer and no registered name.
    UnknownTarget,
    /// `session` names no session of this peer.
    UnknownSession,
    /// The session id is already in use.
    SessionExists,
    /// The room has as many peers as allowed.
    RoomFull,
    /// `leave` for a room the peer is not in.
    NotInRoom,
    /// The SDP does not parse, or does not fit the offer it answers.
    InvalidSdp,
    /// The candidate does not parse.
    InvalidCandidate,
    /// The message is valid but not allowed now (answering one's own offer, ...).
    NotAllowed,
    /// The connection's token does not allow this name or room.
    Forbidden,
    /// The other party cannot take the new offer made in a call (it goes on
    /// with the media it has: roll the offer back).
    OfferRefused,
}

impl ErrorCode {
    /// The code as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadJson => "bad-json",
            ErrorCode::UnknownType => "unknown-type",
            ErrorCode::MissingField => "missing-field",
            ErrorCode::BadValue => "bad-value",
            ErrorCode::TooLarge => "too-large",
            ErrorCode::RateLimited => "rate-limited",
            ErrorCode::NameTaken => "name-taken",
            ErrorCode::UnknownTarget => "unknown-target",
            ErrorCode::UnknownSession => "unknown-session",
            ErrorCode::SessionExists => "session-exists",
            ErrorCode::RoomFull => "room-full",
            ErrorCode::NotInRoom => "not-in-room",
            ErrorCode::InvalidSdp => "invalid-sdp",
            ErrorCode::InvalidCandidate => "invalid-candidate",
            ErrorCode::NotAllowed => "not-allowed",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::OfferRefused => "offer-refused",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Deserializes a field that may be JSON `null`, keeping `null` apart from absence.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// Every field any client message may carry, read in one pass; which ones a
/// `type` requires is checked afterwards, so that each problem gets its own code.
#[derive(Debug, Deserialize)]
pub(crate) struct RawMessage<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(rename = "ref", default, deserialize_with = "present")]
    pub reference: Option<Value>,
    #[serde(borrow, default)]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub room: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub to: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub session: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub sdp: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "present")]
    pub candidate: Option<Value>,
    #[serde(borrow, default)]
    pub reason: Option<Cow<'a, str>>,
    /// `dtmf`: the digits (`0`-`9`, `*`, `#`, `A`-`D`).
    #[serde(borrow, default)]
    pub digits: Option<Cow<'a, str>>,
    /// `dtmf`: milliseconds per tone.
    #[serde(default)]
    pub duration: Option<u32>,
}

/// `welcome`.
#[derive(Serialize)]
pub(crate) struct Welcome<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: &'a str,
    #[serde(rename = "iceServers")]
    pub ice_servers: &'a [IceServer],
}

/// `error`.
#[derive(Serialize)]
pub(crate) struct ErrorMessage<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub code: &'static str,
    pub message: &'a str,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<&'a Value>,
    /// The session the error is about, when it is not the answer to a message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<&'a str>,
}

/// `registered`, `joined`, `left`, `peer-joined`, `peer-left`, `pong`: small replies.
#[derive(Serialize)]
pub(crate) struct Notice<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peers: Option<Vec<&'a str>>,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<&'a Value>,
}

impl<'a> Notice<'a> {
    pub(crate) fn new(kind: &'static str) -> Self {
        Notice { kind, name: None, room: None, peer: None, peers: None, reference: None }
    }
}

/// `offer`, `answer`, `candidate`, `hangup` as relayed to the other party.
#[derive(Serialize)]
pub(crate) struct Relayed<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub from: &'a str,
    #[serde(rename = "fromName", skip_serializing_if = "Option::is_none")]
    pub from_name: Option<&'a str>,
    pub session: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sdp: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
    /// The SIP status code that ended a call, on `hangup` from a SIP leg.
    #[serde(rename = "sipCode", skip_serializing_if = "Option::is_none")]
    pub sip_code: Option<u16>,
    /// Its reason phrase.
    #[serde(rename = "sipReason", skip_serializing_if = "Option::is_none")]
    pub sip_reason: Option<&'a str>,
    /// A provisional answer (SIP 183 with SDP: early media).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub early: bool,
    /// `dtmf`: the digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digits: Option<&'a str>,
    /// `dtmf`: milliseconds per tone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<u32>,
}

impl<'a> Relayed<'a> {
    pub(crate) fn new(kind: &'static str, from: &'a str, session: &'a str) -> Self {
        Relayed {
            kind,
            from,
            from_name: None,
            session,
            sdp: None,
            candidate: None,
            reason: None,
            sip_code: None,
            sip_reason: None,
            early: false,
            digits: None,
            duration: None,
        }
    }
}
