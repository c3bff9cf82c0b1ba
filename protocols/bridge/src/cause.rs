//! Why a call ended, in every protocol: the one table of MAPPING.md.
//!
//! Each [`HangupCause`] has one row in [`CAUSES`] giving the browser reason
//! word, the SIP final response sent for it and the status codes mapped to
//! it, and the Jingle `<reason/>` condition sent for it and the conditions
//! mapped to it. Every translation in this module reads that table.

/// Why a call ended, independent of any protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HangupCause {
    /// A normal hangup (browser `normal`, SIP BYE, Jingle `<success/>`).
    Normal,
    /// The callee is busy.
    Busy,
    /// The callee declined the call.
    Decline,
    /// Nobody answered in time (browser `timeout`).
    NoAnswer,
    /// The caller gave up before the answer.
    Cancel,
    /// The callee does not exist.
    NotFound,
    /// The callee exists but cannot be reached now.
    Unavailable,
    /// No media both ends can use.
    Incompatible,
    /// A security check (DTLS, authentication) failed.
    SecurityError,
    /// The media path could not be set up or was lost.
    ConnectivityError,
    /// The callee moved elsewhere (SIP 3xx; redirects are not followed).
    Redirected,
    /// Any other failure.
    Failed,
}

/// One row of the cause table: how one [`HangupCause`] is spoken in each protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CauseRow {
    /// The cause.
    pub cause: HangupCause,
    /// The browser protocol's `reason` word, sent and received.
    pub browser: &'static str,
    /// The SIP final response (status code, reason phrase) sent to end an
    /// unanswered incoming call with this cause.
    pub sip_sent: (u16, &'static str),
    /// The SIP status codes mapped to this cause, as inclusive ranges.
    /// Empty for [`HangupCause::Normal`] (a BYE, no status code) and for
    /// causes no status code maps to; codes in no row map to [`HangupCause::Failed`].
    pub sip_received: &'static [(u16, u16)],
    /// Other browser words the SIP side also takes for this cause (words the
    /// browser hub and runtime use); the Jingle side treats them as unknown words.
    pub sip_aliases: &'static [&'static str],
    /// The Jingle `<reason/>` condition (XEP-0166 §7.4) sent for this cause.
    pub jingle_sent: &'static str,
    /// Whether the browser word also goes out as the reason's `<text/>`
    /// (when the condition alone does not say it).
    pub jingle_text: bool,
    /// The Jingle conditions mapped to this cause; conditions in no row map
    /// to [`HangupCause::Failed`], no `<reason/>` at all to [`HangupCause::Normal`].
    pub jingle_received: &'static [&'static str],
}

const fn row(
    cause: HangupCause,
    browser: &'static str,
    sip_sent: (u16, &'static str),
    sip_received: &'static [(u16, u16)],
    sip_aliases: &'static [&'static str],
    jingle_sent: &'static str,
    jingle_received: &'static [&'static str],
) -> CauseRow {
    CauseRow {
        cause,
        browser,
        sip_sent,
        sip_received,
        sip_aliases,
        jingle_sent,
        jingle_text: false,
        jingle_received,
    }
}

const DECLINE: (u16, &str) = (603, "Decline");
const UNAVAILABLE: (u16, &str) = (480, "Temporarily Unavailable");

/// The cause table, one row per [`HangupCause`], in declaration order.
pub const CAUSES: [CauseRow; 12] = {
    use HangupCause::*;
    [
        // Normal is only a final response when the callee hangs up before answering.
        row(Normal, "normal", DECLINE, &[], &[], "success", &["success"]),
        row(Busy, "busy", (486, "Busy Here"), &[(486, 486), (600, 600)], &[], "busy", &["busy"]),
        row(Decline, "decline", DECLINE, &[(603, 603)], &[], "decline", &["decline"]),
        row(
            NoAnswer,
            "timeout",
            UNAVAILABLE,
            &[(408, 408)],
            &["no-answer"],
            "timeout",
            &["timeout", "expired"],
        ),
        row(Cancel, "cancel", DECLINE, &[(487, 487)], &[], "cancel", &["cancel"]),
        row(NotFound, "not-found", (404, "Not Found"), &[(404, 404), (604, 604)], &[], "gone", &[]),
        row(
            Unavailable,
            "unavailable",
            UNAVAILABLE,
            &[(410, 410), (480, 480)],
            &["offline", "peer-disconnected"],
            "gone",
            &["gone"],
        ),
        row(
            Incompatible,
            "incompatible",
            (488, "Not Acceptable Here"),
            &[(488, 488), (606, 606)],
            &[],
            "incompatible-parameters",
            &["incompatible-parameters", "unsupported-applications", "unsupported-transports"],
        ),
        row(SecurityError, "security-error", DECLINE, &[], &[], "security-error", &["security-error"]),
        row(
            ConnectivityError,
            "connectivity-error",
            DECLINE,
            &[],
            &[],
            "connectivity-error",
            &["connectivity-error", "failed-transport"],
        ),
        CauseRow {
            jingle_text: true,
            ..row(Redirected, "redirected", DECLINE, &[(300, 399)], &[], "success", &[])
        },
        row(
            Failed,
            "failed",
            (500, "Server Internal Error"),
            &[],
            &["error"],
            "failed-application",
            &["failed-application", "general-error", "media-error", "alternative-session"],
        ),
    ]
};

impl HangupCause {
    /// Every cause, in table order.
    pub const ALL: [HangupCause; 12] = {
        let mut all = [HangupCause::Normal; 12];
        let mut i = 0;
        while i < CAUSES.len() {
            all[i] = CAUSES[i].cause;
            i += 1;
        }
        all
    };

    /// This cause's row of [`CAUSES`].
    pub fn row(self) -> &'static CauseRow {
        // The table is in declaration order (a test checks it).
        &CAUSES[self as usize]
    }

    /// The cause for a browser reason word, `None` for a word the table does
    /// not know. The empty word is `normal`. No aliases (see [`Self::from_browser_sip`]).
    pub fn parse_browser(word: &str) -> Option<Self> {
        if word.is_empty() {
            return Some(Self::Normal);
        }
        CAUSES.iter().find(|r| r.browser == word).map(|r| r.cause)
    }

    /// The cause for a browser reason word; an unknown word is
    /// [`HangupCause::Normal`] (SIP then sends 603 Decline, Jingle sends
    /// `<success/>`, with the word as `<text/>`: see [`Self::jingle_text_for`]).
    pub fn from_browser(word: &str) -> Self {
        Self::parse_browser(word).unwrap_or(Self::Normal)
    }

    /// [`Self::from_browser`], also taking each row's
    /// [`sip_aliases`](CauseRow::sip_aliases) (`offline`, `peer-disconnected`,
    /// `no-answer`, `error`): what the SIP side uses for its final response.
    pub fn from_browser_sip(word: &str) -> Self {
        Self::parse_browser(word)
            .or_else(|| CAUSES.iter().find(|r| r.sip_aliases.contains(&word)).map(|r| r.cause))
            .unwrap_or(Self::Normal)
    }

    /// The browser reason word.
    pub fn browser_word(self) -> &'static str {
        self.row().browser
    }

    /// The cause for a SIP final status code (3xx-6xx); codes in no row are
    /// [`HangupCause::Failed`]. A BYE (no code) is [`HangupCause::Normal`].
    pub fn from_sip(code: u16) -> Self {
        CAUSES
            .iter()
            .find(|r| r.sip_received.iter().any(|&(lo, hi)| (lo..=hi).contains(&code)))
            .map_or(Self::Failed, |r| r.cause)
    }

    /// The SIP final response (status code, reason phrase) that ends an
    /// unanswered incoming call with this cause.
    pub fn sip_response(self) -> (u16, &'static str) {
        self.row().sip_sent
    }

    /// The cause for a Jingle `<reason/>` condition: no reason is
    /// [`HangupCause::Normal`], a condition in no row [`HangupCause::Failed`].
    pub fn from_jingle(condition: Option<&str>) -> Self {
        let Some(condition) = condition else { return Self::Normal };
        CAUSES.iter().find(|r| r.jingle_received.contains(&condition)).map_or(Self::Failed, |r| r.cause)
    }

    /// The Jingle `<reason/>` condition sent for this cause.
    pub fn jingle_condition(self) -> &'static str {
        self.row().jingle_sent
    }

    /// The Jingle condition and `<text/>` for a browser reason word: the
    /// word goes out as `<text/>` when it is unknown (with `<success/>`) or
    /// when its row says the condition alone does not carry it.
    pub fn jingle_text_for(word: &str) -> (&'static str, Option<&str>) {
        match Self::parse_browser(word) {
            Some(cause) => (cause.jingle_condition(), cause.row().jingle_text.then_some(word)),
            None => ("success", Some(word)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_declaration_order_with_distinct_words() {
        for (i, r) in CAUSES.iter().enumerate() {
            assert_eq!(r.cause as usize, i);
            assert_eq!(HangupCause::ALL[i], r.cause);
            assert_eq!(CAUSES.iter().filter(|s| s.browser == r.browser).count(), 1);
        }
    }

    #[test]
    fn no_code_or_condition_is_in_two_rows() {
        for code in 0..=999u16 {
            let rows = CAUSES
                .iter()
                .filter(|r| r.sip_received.iter().any(|&(lo, hi)| (lo..=hi).contains(&code)))
                .count();
            assert!(rows <= 1, "{code}");
        }
        for r in &CAUSES {
            for c in r.jingle_received {
                assert_eq!(HangupCause::from_jingle(Some(c)), r.cause, "{c}");
            }
            for a in r.sip_aliases {
                assert_eq!(HangupCause::parse_browser(a), None, "{a}");
            }
        }
    }
}
