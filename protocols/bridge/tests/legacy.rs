//! The table gives exactly what the hand-written matches in switchboard-sip
//! (`cause_of`, `code_for`) and switchboard-jingle (`browser_reason`,
//! `jingle_reason`) gave before they read it: copies of those matches,
//! compared over every status code and every word and condition in use.

use switchboard_bridge::HangupCause;

fn old_cause_of(code: u16) -> &'static str {
    match code {
        486 | 600 => "busy",
        603 => "decline",
        404 | 604 => "not-found",
        480 | 410 => "unavailable",
        408 => "timeout",
        487 => "cancel",
        488 | 606 => "incompatible",
        300..=399 => "redirected",
        _ => "failed",
    }
}

fn old_code_for(reason: &str) -> (u16, &'static str) {
    match reason {
        "busy" => (486, "Busy Here"),
        "not-found" => (404, "Not Found"),
        "unavailable" | "offline" | "peer-disconnected" => (480, "Temporarily Unavailable"),
        "incompatible" => (488, "Not Acceptable Here"),
        "timeout" | "no-answer" => (480, "Temporarily Unavailable"),
        "failed" | "error" => (500, "Server Internal Error"),
        _ => (603, "Decline"),
    }
}

fn old_browser_reason(condition: Option<&str>) -> &'static str {
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

fn old_jingle_reason(word: &str) -> (&'static str, Option<&str>) {
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

const WORDS: &[&str] = &[
    "",
    "normal",
    "busy",
    "decline",
    "timeout",
    "cancel",
    "not-found",
    "unavailable",
    "incompatible",
    "security-error",
    "connectivity-error",
    "redirected",
    "failed",
    "offline",
    "peer-disconnected",
    "no-answer",
    "error",
    "gone",
    "success",
    "Busy",
    "anything-else",
];

const CONDITIONS: &[&str] = &[
    "alternative-session",
    "busy",
    "cancel",
    "connectivity-error",
    "decline",
    "expired",
    "failed-application",
    "failed-transport",
    "general-error",
    "gone",
    "incompatible-parameters",
    "media-error",
    "security-error",
    "success",
    "timeout",
    "unsupported-applications",
    "unsupported-transports",
    "",
    "normal",
    "failed",
    "Busy",
];

#[test]
fn sip_is_unchanged() {
    for code in 0..=1000 {
        assert_eq!(HangupCause::from_sip(code).browser_word(), old_cause_of(code), "{code}");
    }
    for &w in WORDS {
        assert_eq!(HangupCause::from_browser_sip(w).sip_response(), old_code_for(w), "{w:?}");
    }
}

#[test]
fn jingle_is_unchanged() {
    assert_eq!(HangupCause::from_jingle(None).browser_word(), old_browser_reason(None));
    for &c in CONDITIONS {
        assert_eq!(HangupCause::from_jingle(Some(c)).browser_word(), old_browser_reason(Some(c)), "{c:?}");
    }
    for &w in WORDS {
        assert_eq!(HangupCause::jingle_text_for(w), old_jingle_reason(w), "{w:?}");
    }
}
