//! Whether a call's media can go end to end, or must be anchored in a media
//! relay (rtpengine, issue #7).
//!
//! Browsers and Jingle clients speak only WebRTC media: ICE, DTLS-SRTP
//! (`UDP/TLS/RTP/SAVPF`), rtcp-mux. Most desk phones, PBXs and trunks speak
//! plain RTP (`RTP/AVP`) without ICE, some SDES-SRTP (`RTP/SAVP` with
//! `a=crypto`). Two legs whose profiles differ get a call with no audio unless
//! a relay translates between them; the gateway either anchors such a call or
//! refuses it with a clear cause, never connects it silent.

use std::fmt;

use switchboard_sdp::Attribute;
use switchboard_sdp::SessionDescription;

use crate::dialplan::LegKind;

/// The media profile an SDP speaks (its audio and video sections).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// ICE and DTLS-SRTP (`UDP/TLS/RTP/SAVPF`): browsers, Jingle clients, WebRTC SIP phones.
    WebRtc,
    /// Plain RTP (`RTP/AVP`, `RTP/AVPF`), no ICE: most SIP phones and trunks.
    PlainRtp,
    /// SDES-SRTP (`RTP/SAVP(F)` with `a=crypto`), no DTLS.
    Sdes,
}

impl Profile {
    /// The profile of `sdp`, from its first audio or video section (`None`:
    /// the SDP does not parse, or has no audio or video, e.g. data channels only).
    pub fn of(sdp: &str) -> Option<Profile> {
        let d = SessionDescription::parse(sdp).ok()?;
        let (index, m) = d
            .media
            .iter()
            .enumerate()
            .find(|(_, m)| matches!(m.line.media.as_ref(), "audio" | "video") && m.line.port != 0)?;
        let proto = m.line.proto.to_ascii_uppercase();
        let dtls = proto.contains("TLS") || !d.fingerprints(index).is_empty();
        let crypto = m.attributes().any(|a| matches!(a, Attribute::Crypto(_)));
        Some(if dtls && proto.contains("SAVP") {
            Profile::WebRtc
        } else if crypto || proto.contains("SAVP") {
            Profile::Sdes
        } else {
            Profile::PlainRtp
        })
    }

    /// What the profile is called in messages.
    pub fn name(self) -> &'static str {
        match self {
            Profile::WebRtc => "WebRTC (ICE, DTLS-SRTP)",
            Profile::PlainRtp => "plain RTP",
            Profile::Sdes => "SDES-SRTP",
        }
    }

    /// The profile a kind of leg needs, when it is known from the kind alone:
    /// browsers and Jingle clients speak WebRTC; SIP parties speak either.
    pub fn of_kind(kind: LegKind) -> Option<Profile> {
        match kind {
            LegKind::Browser | LegKind::Xmpp => Some(Profile::WebRtc),
            LegKind::Sip => None,
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// When calls are anchored (`media_anchor` in switchboard.toml, `--media-anchor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AnchorPolicy {
    /// When the two legs' profiles differ (the default).
    #[default]
    Auto,
    /// Every call (topology hiding, NAT).
    Always,
    /// Never: SDP goes end to end whatever it says (a relay elsewhere, or testing signaling).
    Never,
}

impl AnchorPolicy {
    /// `auto`, `always` or `never`.
    pub fn parse(word: &str) -> Option<AnchorPolicy> {
        match word.to_ascii_lowercase().as_str() {
            "auto" => Some(AnchorPolicy::Auto),
            "always" => Some(AnchorPolicy::Always),
            "never" => Some(AnchorPolicy::Never),
            _ => None,
        }
    }
}

/// Why an offer's media cannot go straight to the callee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mismatch {
    /// What the offer speaks.
    pub offered: Profile,
    /// What the callee needs.
    pub needed: Profile,
}

impl Mismatch {
    /// Why a call with this mismatch is refused when no media relay is configured.
    pub fn refusal(&self) -> String {
        format!("{self}; no media relay is configured (--rtpengine)")
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the caller offers {} and the callee needs {}", self.offered, self.needed)
    }
}

/// Whether an offer (`sdp`) to a `callee` leg must be anchored under `policy`:
/// `Some` with the reason when it must (`needed` is the offer's own profile
/// under [`AnchorPolicy::Always`]).
pub fn must_anchor(policy: AnchorPolicy, sdp: &str, callee: LegKind) -> Option<Mismatch> {
    decide(policy, Profile::of(sdp)?, Profile::of_kind(callee))
}

/// Whether media `offered` to a callee needing `needed` (`None`: not known
/// before its answer) must be anchored under `policy`.
pub fn decide(policy: AnchorPolicy, offered: Profile, needed: Option<Profile>) -> Option<Mismatch> {
    match policy {
        AnchorPolicy::Never => None,
        AnchorPolicy::Always => Some(Mismatch { offered, needed: needed.unwrap_or(offered) }),
        AnchorPolicy::Auto => {
            let needed = needed?;
            (needed != offered).then_some(Mismatch { offered, needed })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!("{}/../../fixtures/sdp/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn profiles_of_captured_offers() {
        for (file, want) in [
            ("chromium-156-offer-audio-video-datachannel.sdp", Profile::WebRtc),
            ("aiortc-1.16.0-offer-audio-datachannel.sdp", Profile::WebRtc),
            ("jssip-3.13.8-invite-offer-chromium-156.sdp", Profile::WebRtc),
            ("baresip-1.0.0-invite-offer-ice-dtls-srtp.sdp", Profile::WebRtc),
            ("rtpengine-10.5.3.5-offer-webrtc-profile.sdp", Profile::WebRtc),
            ("baresip-1.0.0-invite-offer-rtp-avp.sdp", Profile::PlainRtp),
            ("sipp-3.6.1-invite-offer-builtin-uac.sdp", Profile::PlainRtp),
            ("rtpengine-10.5.3.5-offer-plain-rtp.sdp", Profile::PlainRtp),
        ] {
            assert_eq!(Profile::of(&fixture(file)), Some(want), "{file}");
        }
        assert_eq!(
            Profile::of(&fixture("chromium-156-offer-datachannel-only.sdp")),
            None,
            "no audio or video"
        );
        let sdes = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n";
        assert_eq!(Profile::of(sdes), Some(Profile::Sdes));
    }

    #[test]
    fn anchoring_decisions() {
        let plain = fixture("sipp-3.6.1-invite-offer-builtin-uac.sdp");
        let webrtc = fixture("chromium-156-offer-audio-video-datachannel.sdp");
        let need = |offered, needed| Some(Mismatch { offered, needed });
        assert_eq!(
            must_anchor(AnchorPolicy::Auto, &plain, LegKind::Browser),
            need(Profile::PlainRtp, Profile::WebRtc)
        );
        assert_eq!(
            must_anchor(AnchorPolicy::Auto, &plain, LegKind::Xmpp),
            need(Profile::PlainRtp, Profile::WebRtc)
        );
        assert_eq!(must_anchor(AnchorPolicy::Auto, &webrtc, LegKind::Browser), None);
        assert_eq!(
            must_anchor(AnchorPolicy::Auto, &webrtc, LegKind::Sip),
            None,
            "a SIP callee may speak either"
        );
        assert_eq!(must_anchor(AnchorPolicy::Auto, &plain, LegKind::Sip), None);
        assert_eq!(must_anchor(AnchorPolicy::Never, &plain, LegKind::Browser), None);
        assert_eq!(
            must_anchor(AnchorPolicy::Always, &plain, LegKind::Sip),
            need(Profile::PlainRtp, Profile::PlainRtp)
        );
        assert_eq!(AnchorPolicy::parse("ALWAYS"), Some(AnchorPolicy::Always));
        assert_eq!(AnchorPolicy::parse("sometimes"), None);
    }
}
