//! Hangup reasons between Jingle `<reason/>` conditions (XEP-0166 §7.4)
//! and the browser protocol's reason words: the table of GATEWAY.md.

/// The browser reason word for a Jingle reason condition (`None`: no reason given).
pub fn browser_reason(condition: Option<&str>) -> &'static str {
    match condition {
        None | Some("success") => "normal",
        Some("busy") => "busy",
        Some("decline") => "decline",
        Some("cancel") => "cancel",
        Some("timeout" | "expired") => "timeout",
        Some("gone") => "unavailable",
        Some("connectivity-error" | "failed-transport") => "connectivity-error",
        Some("incompatible-parameters" | "unsupported-applications" | "unsupported-transports") => {
            "incompatible"
        }
        Some("security-error") => "security-error",
        Some(_) => "failed",
    }
}

/// The Jingle reason condition for a browser reason word, and the word
/// itself as `<text/>` when the table has no condition for it.
pub fn jingle_reason(word: &str) -> (&'static str, Option<&str>) {
    let condition = match word {
        "normal" | "" => "success",
        "busy" => "busy",
        "decline" => "decline",
        "cancel" => "cancel",
        "timeout" => "timeout",
        "not-found" | "unavailable" => "gone",
        "connectivity-error" => "connectivity-error",
        "incompatible" => "incompatible-parameters",
        "security-error" => "security-error",
        "failed" => "failed-application",
        _ => return ("success", Some(word)),
    };
    (condition, None)
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
