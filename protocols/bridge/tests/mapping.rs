//! The cause table of MAPPING.md, row by row, and every round trip through
//! every pair (and chain) of protocols.

use switchboard_bridge::HangupCause::{self, *};

/// MAPPING.md's table as test data: cause, browser word, SIP code sent,
/// SIP phrase sent, SIP codes received, Jingle condition sent, Jingle
/// conditions received.
#[allow(clippy::type_complexity)]
const TABLE: [(HangupCause, &str, u16, &str, &[u16], &str, &[&str]); 12] = [
    (Normal, "normal", 603, "Decline", &[], "success", &["success"]),
    (Busy, "busy", 486, "Busy Here", &[486, 600], "busy", &["busy"]),
    (Decline, "decline", 603, "Decline", &[603], "decline", &["decline"]),
    (NoAnswer, "timeout", 480, "Temporarily Unavailable", &[408], "timeout", &["timeout", "expired"]),
    (Cancel, "cancel", 603, "Decline", &[487], "cancel", &["cancel"]),
    (NotFound, "not-found", 404, "Not Found", &[404, 604], "gone", &[]),
    (Unavailable, "unavailable", 480, "Temporarily Unavailable", &[480, 410], "gone", &["gone"]),
    (
        Incompatible,
        "incompatible",
        488,
        "Not Acceptable Here",
        &[488, 606],
        "incompatible-parameters",
        &["incompatible-parameters", "unsupported-applications", "unsupported-transports"],
    ),
    (SecurityError, "security-error", 603, "Decline", &[], "security-error", &["security-error"]),
    (
        ConnectivityError,
        "connectivity-error",
        603,
        "Decline",
        &[],
        "connectivity-error",
        &["connectivity-error", "failed-transport"],
    ),
    (Redirected, "redirected", 603, "Decline", &[300, 301, 302, 305, 380, 399], "success", &[]),
    (
        Failed,
        "failed",
        500,
        "Server Internal Error",
        &[400, 403, 415, 500, 503, 699],
        "failed-application",
        &["failed-application", "general-error", "media-error", "alternative-session"],
    ),
];

#[test]
fn every_row_both_ways_in_every_protocol() {
    assert_eq!(TABLE.len(), HangupCause::ALL.len());
    for (cause, word, code, phrase, codes, condition, conditions) in TABLE {
        assert_eq!(cause.browser_word(), word);
        assert_eq!(HangupCause::from_browser(word), cause);
        assert_eq!(cause.sip_response(), (code, phrase), "{cause:?}");
        for &c in codes {
            assert_eq!(HangupCause::from_sip(c), cause, "{c}");
        }
        assert_eq!(cause.jingle_condition(), condition, "{cause:?}");
        for &c in conditions {
            assert_eq!(HangupCause::from_jingle(Some(c)), cause, "{c}");
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Proto {
    Browser,
    Sip,
    Jingle,
}
use Proto::*;

/// Out through `proto`'s wire form and back in.
fn via(cause: HangupCause, proto: Proto) -> HangupCause {
    match proto {
        Browser => HangupCause::from_browser(cause.browser_word()),
        Sip => HangupCause::from_sip(cause.sip_response().0),
        Jingle => HangupCause::from_jingle(Some(cause.jingle_condition())),
    }
}

/// What a trip through `proto` is expected to give, written out by hand:
/// where it differs from `cause`, the trip is lossy (MAPPING.md says why).
fn expected(cause: HangupCause, proto: Proto) -> HangupCause {
    match (proto, cause) {
        (Browser, c) => c,
        // SIP: only the final response of an unanswered call carries a
        // cause; everything without its own code goes out as 603 Decline,
        // and "timeout" as 480 (we are not the one timing out the request).
        (Sip, Normal | Cancel | SecurityError | ConnectivityError | Redirected) => Decline,
        (Sip, NoAnswer) => Unavailable,
        (Sip, c) => c,
        // Jingle: one condition, gone, for both; success for a redirect.
        (Jingle, NotFound) => Unavailable,
        (Jingle, Redirected) => Normal,
        (Jingle, c) => c,
    }
}

#[test]
fn every_row_through_every_chain_of_protocols() {
    let protos = [Browser, Sip, Jingle];
    let mut chains: Vec<Vec<Proto>> = Vec::new();
    for a in protos {
        chains.push(vec![a]);
        for b in protos {
            chains.push(vec![a, b]);
            for c in protos {
                chains.push(vec![a, b, c]);
            }
        }
    }
    assert_eq!(chains.len(), 3 + 9 + 27);
    for cause in HangupCause::ALL {
        for chain in &chains {
            let got = chain.iter().fold(cause, |c, &p| via(c, p));
            let want = chain.iter().fold(cause, |c, &p| expected(c, p));
            assert_eq!(got, want, "{cause:?} via {chain:?}");
        }
    }
}

#[test]
fn lossless_rows() {
    // Through the browser every cause survives; these also survive SIP and Jingle.
    for cause in [Busy, Decline, Unavailable, Incompatible, Failed] {
        for p in [Browser, Sip, Jingle] {
            assert_eq!(via(cause, p), cause, "{cause:?} via {p:?}");
        }
    }
    for cause in HangupCause::ALL {
        assert_eq!(via(cause, Browser), cause);
    }
}

#[test]
fn wire_to_wire_between_sip_and_jingle() {
    // A SIP final response ends the Jingle leg with ...
    for (code, condition) in [
        (486, "busy"),
        (600, "busy"),
        (603, "decline"),
        (404, "gone"),
        (604, "gone"),
        (480, "gone"),
        (410, "gone"),
        (408, "timeout"),
        (487, "cancel"),
        (488, "incompatible-parameters"),
        (606, "incompatible-parameters"),
        (302, "success"),
        (500, "failed-application"),
        (403, "failed-application"),
    ] {
        assert_eq!(HangupCause::from_sip(code).jingle_condition(), condition, "{code}");
    }
    // ... and a Jingle reason ends an unanswered SIP call with ...
    for (condition, code) in [
        (None, 603),
        (Some("success"), 603),
        (Some("busy"), 486),
        (Some("decline"), 603),
        (Some("timeout"), 480),
        (Some("expired"), 480),
        (Some("cancel"), 603),
        (Some("gone"), 480),
        (Some("incompatible-parameters"), 488),
        (Some("unsupported-transports"), 488),
        (Some("security-error"), 603),
        (Some("connectivity-error"), 603),
        (Some("failed-transport"), 603),
        (Some("failed-application"), 500),
        (Some("general-error"), 500),
        (Some("something-new"), 500),
    ] {
        assert_eq!(HangupCause::from_jingle(condition).sip_response().0, code, "{condition:?}");
    }
}

#[test]
fn unknown_values() {
    // Browser: an unknown word is Normal: SIP 603, Jingle <success/> with the word as <text/>.
    assert_eq!(HangupCause::parse_browser("gremlins"), None);
    assert_eq!(HangupCause::from_browser("gremlins"), Normal);
    assert_eq!(HangupCause::from_browser_sip("gremlins").sip_response(), (603, "Decline"));
    assert_eq!(HangupCause::jingle_text_for("gremlins"), ("success", Some("gremlins")));
    // The empty word is normal, with no <text/>.
    assert_eq!(HangupCause::from_browser(""), Normal);
    assert_eq!(HangupCause::jingle_text_for(""), ("success", None));
    // Known words carry no <text/>, except redirected (its condition is success).
    assert_eq!(HangupCause::jingle_text_for("busy"), ("busy", None));
    assert_eq!(HangupCause::jingle_text_for("redirected"), ("success", Some("redirected")));
    // SIP-only aliases.
    for (word, cause, code) in [
        ("offline", Unavailable, 480),
        ("peer-disconnected", Unavailable, 480),
        ("no-answer", NoAnswer, 480),
        ("error", Failed, 500),
    ] {
        assert_eq!(HangupCause::from_browser_sip(word), cause);
        assert_eq!(HangupCause::from_browser_sip(word).sip_response().0, code);
        assert_eq!(HangupCause::from_browser(word), Normal);
        assert_eq!(HangupCause::jingle_text_for(word), ("success", Some(word)));
    }
    // SIP: any code in no row is failed (including a 2xx, which never ends a call).
    for code in [0, 100, 200, 400, 401, 402, 481, 499, 500, 502, 601, 999] {
        assert_eq!(HangupCause::from_sip(code), Failed, "{code}");
    }
    // Jingle: no reason is normal, an unknown condition failed.
    assert_eq!(HangupCause::from_jingle(None), Normal);
    assert_eq!(HangupCause::from_jingle(Some("gremlins")), Failed);
}
