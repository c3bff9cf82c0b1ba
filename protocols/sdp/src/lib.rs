//! The common SDP/ICE model of Switchboard: a sans-IO parser and writer for
//! session descriptions (RFC 8866) with everything WebRTC browsers, SIP
//! phones and media relays put in them, and ICE candidates (RFC 8839) in
//! both their SDP and browser (`RTCIceCandidateInit`) forms.
//!
//! * Parsing borrows from the input: no text is copied, only numbers,
//!   addresses and enums are converted.
//! * Every line after `v=`/`o=`/`s=` and every media line is kept in order;
//!   unknown attributes and line types are kept as written, so writing a
//!   parsed description gives back the same lines (with CRLF line ends).
//! * Errors ([`ParseError`]) name the 1-based line and what was expected; no
//!   input makes the parser panic.
//! * Offers and answers are distinct types ([`SdpOffer`], [`SdpAnswer`]).
//!
//! ```
//! use switchboard_sdp::SessionDescription;
//! let sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
//!            m=audio 5004 RTP/AVP 0\r\nc=IN IP4 127.0.0.1\r\na=sendrecv\r\n";
//! let desc = SessionDescription::parse(sdp).unwrap();
//! assert_eq!(desc.media[0].codecs()[0].name, Some("PCMU"));
//! assert_eq!(desc.to_sdp(), sdp);
//! ```

#![warn(missing_docs)]

mod attribute;
mod candidate;
mod description;
mod error;
mod lex;
mod line;
mod media;
mod offer_answer;
mod owned;
mod write;

pub use attribute::{
    Attribute, Crypto, Direction, Extmap, Fingerprint, Fmtp, Group, Msid, MsidSemantic, Rid, RidDirection,
    Rtcp, RtcpFb, Rtpmap, Sctpmap, Setup, Simulcast, Ssrc, SsrcGroup,
};
pub use candidate::{Address, Candidate, CandidateType, IceCandidateInit, TcpType, Transport};
pub use description::SessionDescription;
pub use error::{ErrorKind, FieldError, ParseError};
pub use line::{Bandwidth, Connection, Line, Origin, Timing};
pub use media::{Codec, MediaKind, MediaLine, MediaSection};
pub use offer_answer::{AnswerError, SdpAnswer, SdpOffer};

#[cfg(test)]
mod size_tests {
    /// Lines are moved into vectors by the hundred per description: a larger
    /// `Line` (say, an unboxed candidate) costs parse time on every line.
    #[test]
    fn line_stays_small() {
        assert!(std::mem::size_of::<crate::Line>() <= 96, "{}", std::mem::size_of::<crate::Line>());
    }
}
