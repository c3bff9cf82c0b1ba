//! Attribute helpers shared by the parsers of every module.

use std::str::FromStr;

use crate::dom::XmlNode;
use crate::jingle::JingleError;

/// A required attribute.
pub(crate) fn req<'d>(
    el: impl XmlNode<'d>,
    element: &'static str,
    attr: &'static str,
) -> Result<&'d str, JingleError> {
    el.attr(attr).ok_or(JingleError::MissingAttribute { element, attribute: attr })
}

/// An optional number.
pub(crate) fn num<'d, T: FromStr>(
    el: impl XmlNode<'d>,
    element: &'static str,
    attr: &'static str,
) -> Result<Option<T>, JingleError> {
    match el.attr(attr) {
        None => Ok(None),
        Some(v) => parse_num(v.trim(), element, attr).map(Some),
    }
}

/// A required number.
pub(crate) fn req_num<'d, T: FromStr>(
    el: impl XmlNode<'d>,
    element: &'static str,
    attr: &'static str,
) -> Result<T, JingleError> {
    parse_num(req(el, element, attr)?.trim(), element, attr)
}

/// Parses a decimal number (digits only: no sign, no blanks).
pub(crate) fn parse_num<T: FromStr>(
    v: &str,
    element: &'static str,
    attr: &'static str,
) -> Result<T, JingleError> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(JingleError::BadAttribute { element, attribute: attr, value: v.to_owned() });
    }
    v.parse().map_err(|_| JingleError::BadAttribute { element, attribute: attr, value: v.to_owned() })
}

/// An optional attribute, owned (as a `String` or a `CompactString`).
pub(crate) fn opt<'d, T: From<&'d str>>(el: impl XmlNode<'d>, attr: &str) -> Option<T> {
    el.attr(attr).map(T::from)
}

/// Attributes other than `known`, in order.
pub(crate) fn others<'d>(el: impl XmlNode<'d>, known: &[&str]) -> Vec<(String, String)> {
    if el.attr_count() <= known.len() && el.attr_pairs().all(|(n, _)| known.contains(&n)) {
        return Vec::new();
    }
    el.attr_pairs().filter(|(n, _)| !known.contains(n)).map(|(n, v)| (n.to_owned(), v.to_owned())).collect()
}

/// A boolean attribute (`true`/`1`, `false`/`0`).
pub(crate) fn boolean<'d>(
    el: impl XmlNode<'d>,
    element: &'static str,
    attr: &'static str,
) -> Result<Option<bool>, JingleError> {
    match el.attr(attr).map(str::trim) {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(v) => Err(JingleError::BadAttribute { element, attribute: attr, value: v.to_owned() }),
    }
}
