//! XEP-0320 Use of DTLS-SRTP in Jingle Sessions, version 1.0.0
//! (2020-05-26): `<fingerprint hash setup>HEX</fingerprint>` inside an
//! ICE-UDP `<transport/>` (`a=fingerprint` + `a=setup`, RFC 8122, RFC 4145).
//! The value is read with surrounding whitespace trimmed.

use std::fmt;

use crate::dom::XmlNode;
use crate::jingle::{JingleError, bad};
use crate::ns;
use crate::parse;
use crate::sink::{self, Sink};
use crate::xml::Element;
use compact_str::CompactString;

/// The DTLS role (`setup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setup {
    /// `active`: opens the DTLS connection.
    Active,
    /// `passive`: waits for it.
    Passive,
    /// `actpass`: either (offers only).
    Actpass,
    /// `holdconn`.
    Holdconn,
}

impl Setup {
    /// The value as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Setup::Active => "active",
            Setup::Passive => "passive",
            Setup::Actpass => "actpass",
            Setup::Holdconn => "holdconn",
        }
    }

    /// Parses the value.
    pub fn parse(s: &str) -> Option<Setup> {
        match s {
            "active" => Some(Setup::Active),
            "passive" => Some(Setup::Passive),
            "actpass" => Some(Setup::Actpass),
            "holdconn" => Some(Setup::Holdconn),
            _ => None,
        }
    }

    /// The role an answer states (RFC 5763 §5): `actpass` becomes `active`, others stay.
    pub fn concrete(self) -> Setup {
        match self {
            Setup::Actpass => Setup::Active,
            s => s,
        }
    }
}

impl From<switchboard_sdp::Setup> for Setup {
    fn from(s: switchboard_sdp::Setup) -> Self {
        match s {
            switchboard_sdp::Setup::Active => Setup::Active,
            switchboard_sdp::Setup::Passive => Setup::Passive,
            switchboard_sdp::Setup::Actpass => Setup::Actpass,
            switchboard_sdp::Setup::Holdconn => Setup::Holdconn,
        }
    }
}

impl fmt::Display for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `<fingerprint/>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fingerprint {
    /// Hash function: `sha-256`, `sha-1` ...
    pub hash: CompactString,
    /// The DTLS role.
    pub setup: Option<Setup>,
    /// Colon-separated hex bytes.
    pub value: String,
    /// Other attributes (lib-jitsi-meet's `required`, `cryptex`), kept.
    pub attrs: Vec<(String, String)>,
}

impl Fingerprint {
    /// A fingerprint.
    pub fn new(hash: &str, value: &str, setup: Option<Setup>) -> Self {
        Fingerprint { hash: hash.into(), setup, value: value.to_owned(), attrs: Vec::new() }
    }

    /// Parses `<fingerprint/>`.
    pub fn parse(el: &Element) -> Result<Fingerprint, JingleError> {
        Self::parse_node(el)
    }

    pub(crate) fn parse_node<'d, N: XmlNode<'d>>(el: N) -> Result<Fingerprint, JingleError> {
        let setup = match el.attr("setup") {
            Some(s) => Some(Setup::parse(s).ok_or_else(|| bad("fingerprint", "setup", s))?),
            None => None,
        };
        let value = el.text().trim().to_owned();
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return Err(JingleError::BadText { element: "fingerprint", value });
        }
        Ok(Fingerprint {
            hash: parse::req(el, "fingerprint", "hash")?.into(),
            setup,
            value,
            attrs: parse::others(el, &["hash", "setup"]),
        })
    }

    /// The `<fingerprint/>` element.
    pub fn to_element(&self) -> Element {
        sink::to_element(|s| self.write(s))
    }

    pub(crate) fn write<S: Sink>(&self, s: &mut S) {
        s.start("fingerprint", ns::DTLS);
        s.attr("hash", &self.hash);
        s.opt_attr("setup", self.setup.map(Setup::as_str));
        for (n, v) in &self.attrs {
            s.attr(n, v);
        }
        s.text(&self.value);
        s.end();
    }
}
