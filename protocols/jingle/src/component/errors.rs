//! IQ replies: results and stanza errors (RFC 6120 §8.3) with the Jingle
//! application conditions of XEP-0166 (version 1.1.2) §11.
//!
//! | condition | type | used for |
//! |---|---|---|
//! | `bad-request` | modify | malformed stanza XML, an invalid Jingle element |
//! | `item-not-found` + `<unknown-session/>` | cancel | a Jingle action for a session we do not have with the sender |
//! | `unexpected-request` + `<out-of-order/>` | wait | an action the session's state does not allow |
//! | `feature-not-implemented` (+ `<unsupported-info/>`) | cancel | actions and session-info payloads we do not implement |
//! | `service-unavailable` | cancel | IQs we do not serve, calls to names nobody holds |
//! | `item-not-found` | cancel | disco#info on a name nobody holds |

use super::stream::NS_COMPONENT;
use crate::jingle::ErrorCondition;
use crate::ns;
use crate::xml::Element;

/// An error we send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IqError {
    /// `bad-request`.
    BadRequest,
    /// `item-not-found` with `<unknown-session/>`.
    UnknownSession,
    /// `unexpected-request` with `<out-of-order/>`.
    OutOfOrder,
    /// `feature-not-implemented`.
    NotImplemented,
    /// `feature-not-implemented` with `<unsupported-info/>`.
    UnsupportedInfo,
    /// `service-unavailable`.
    ServiceUnavailable,
    /// `item-not-found`.
    ItemNotFound,
}

impl IqError {
    /// (error type, defined condition) or the Jingle condition carrying both.
    fn parts(self) -> Result<(&'static str, &'static str), ErrorCondition> {
        match self {
            IqError::BadRequest => Ok(("modify", "bad-request")),
            IqError::UnknownSession => Err(ErrorCondition::UnknownSession),
            IqError::OutOfOrder => Err(ErrorCondition::OutOfOrder),
            IqError::NotImplemented => Ok(("cancel", "feature-not-implemented")),
            IqError::UnsupportedInfo => Err(ErrorCondition::UnsupportedInfo),
            IqError::ServiceUnavailable => Ok(("cancel", "service-unavailable")),
            IqError::ItemNotFound => Ok(("cancel", "item-not-found")),
        }
    }
}

/// An `<iq type='result'/>` from `from` to `to` answering `id`.
pub(crate) fn iq_result(id: &str, from: &str, to: &str) -> Element {
    Element::new("iq", NS_COMPONENT)
        .with_attr("type", "result")
        .with_attr("id", id)
        .with_attr("from", from)
        .with_attr("to", to)
}

/// An `<iq type='error'/>` from `from` to `to` answering `id` with `error`
/// and an optional explanation.
pub(crate) fn iq_error(id: &str, from: &str, to: &str, error: IqError, text: Option<&str>) -> Element {
    let mut e = match error.parts() {
        Ok((kind, condition)) => Element::new("error", NS_COMPONENT)
            .with_attr("type", kind)
            .with_child(Element::new(condition, ns::STANZAS)),
        Err(jingle) => jingle.error_element(NS_COMPONENT),
    };
    if let Some(t) = text {
        // RFC 6120 §8.3.2: <text/> follows the defined condition.
        e.children.insert(1, crate::xml::Node::Element(Element::new("text", ns::STANZAS).with_text(t)));
    }
    Element::new("iq", NS_COMPONENT)
        .with_attr("type", "error")
        .with_attr("id", id)
        .with_attr("from", from)
        .with_attr("to", to)
        .with_child(e)
}

/// The defined condition of an error stanza we received (`undefined-condition` when none).
pub(crate) fn condition_of(stanza: &Element) -> String {
    stanza
        .elements()
        .find(|e| e.name == "error")
        .and_then(|e| e.elements().find(|c| c.ns == ns::STANZAS && c.name != "text"))
        .map_or_else(|| "undefined-condition".to_owned(), |c| c.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_type_condition_and_jingle_condition() {
        let e = iq_error("1", "a@gw", "b@c/d", IqError::UnknownSession, None);
        assert_eq!(
            e.to_xml(),
            "<iq xmlns='jabber:component:accept' type='error' id='1' from='a@gw' to='b@c/d'>\
             <error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <unknown-session xmlns='urn:xmpp:jingle:errors:1'/></error></iq>"
        );
        assert_eq!(condition_of(&e), "item-not-found");
        let e = iq_error("1", "a@gw", "b@c/d", IqError::BadRequest, Some("why"));
        assert_eq!(condition_of(&e), "bad-request");
        assert_eq!(condition_of(&iq_result("1", "a", "b")), "undefined-condition");
    }
}
