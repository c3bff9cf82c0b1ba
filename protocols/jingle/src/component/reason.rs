//! Hangup reasons between Jingle `<reason/>` conditions (XEP-0166 §7.4)
//! and the browser protocol's reason words: the table of GATEWAY.md, read
//! from the one cause table of `switchboard-bridge`.

use switchboard_bridge::HangupCause;

/// The browser reason word for a Jingle reason condition (`None`: no reason
/// given), from the cause table of protocols/bridge/MAPPING.md.
pub fn browser_reason(condition: Option<&str>) -> &'static str {
    HangupCause::from_jingle(condition).browser_word()
}

/// The Jingle reason condition for a browser reason word, and the word
/// itself as `<text/>` when the table has no condition for it.
pub fn jingle_reason(word: &str) -> (&'static str, Option<&str>) {
    HangupCause::jingle_text_for(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gateway_table_both_ways() {
        for (jingle, word) in [
            ("success", "normal"),
            ("busy", "busy"),
            ("decline", "decline"),
            ("cancel", "cancel"),
            ("timeout", "timeout"),
            ("gone", "unavailable"),
            ("connectivity-error", "connectivity-error"),
            ("incompatible-parameters", "incompatible"),
            ("security-error", "security-error"),
            ("failed-application", "failed"),
        ] {
            assert_eq!(browser_reason(Some(jingle)), word);
            assert_eq!(jingle_reason(word), (jingle, None));
        }
        for (jingle, word) in [
            ("expired", "timeout"),
            ("failed-transport", "connectivity-error"),
            ("unsupported-applications", "incompatible"),
            ("unsupported-transports", "incompatible"),
            ("general-error", "failed"),
            ("media-error", "failed"),
            ("alternative-session", "failed"),
        ] {
            assert_eq!(browser_reason(Some(jingle)), word);
        }
        assert_eq!(browser_reason(None), "normal");
        assert_eq!(jingle_reason("not-found"), ("gone", None));
        assert_eq!(jingle_reason("peer-disconnected"), ("success", Some("peer-disconnected")));
    }
}
