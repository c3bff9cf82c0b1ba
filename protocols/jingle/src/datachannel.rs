//! XEP-0343 Signaling WebRTC datachannels in Jingle, version 0.3.1
//! (2020-03-20): `<sctpmap xmlns='urn:xmpp:jingle:transports:dtls-sctp:1'
//! number protocol streams/>` inside the ICE-UDP `<transport/>` (SDP
//! `a=sctp-port`, or the legacy `a=sctpmap`), as the XEP, lib-jitsi-meet
//! and stanza.js write it.
//!
//! `a=max-message-size` (RFC 8841 §6) has no place in XEP-0343 0.3.1; it is
//! written as a `max-message-size` attribute of `<sctpmap/>` (the attribute
//! name Conversations uses), which other parsers ignore. The wrapper form
//! Conversations writes for file transfer,
//! `<transport xmlns='urn:xmpp:jingle:transports:webrtc-datachannel:1'
//! sctp-port max-message-size><transport xmlns='…ice-udp:1'/></transport>`,
//! is read too and written back in the same form.

use crate::dom::XmlNode;
use crate::jingle::JingleError;
use crate::ns;
use crate::parse;
use crate::sink::Sink;
use crate::xml::Element;

/// How the SCTP parameters were (or are to be) written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SctpForm {
    /// `<sctpmap/>` inside the ICE-UDP transport (XEP-0343 0.3.1).
    #[default]
    Sctpmap,
    /// The `webrtc-datachannel:1` transport wrapping the ICE-UDP transport (Conversations).
    Wrapper,
}

/// The SCTP association of a data channel content.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sctp {
    /// SCTP port (`number`, `sctp-port`).
    pub port: Option<u16>,
    /// `protocol`: `webrtc-datachannel`.
    pub protocol: Option<String>,
    /// `streams`: number of incoming streams.
    pub streams: Option<u32>,
    /// Largest message, in bytes (`a=max-message-size`).
    pub max_message_size: Option<u64>,
    /// The form it takes in XML.
    pub form: SctpForm,
}

impl Sctp {
    /// The WebRTC data channel association on `port`.
    pub fn webrtc(port: u16, max_message_size: Option<u64>) -> Self {
        Sctp {
            port: Some(port),
            protocol: Some("webrtc-datachannel".to_owned()),
            streams: None,
            max_message_size,
            form: SctpForm::Sctpmap,
        }
    }

    /// Parses `<sctpmap/>`.
    pub fn parse_sctpmap(el: &Element) -> Result<Sctp, JingleError> {
        Self::sctpmap_node(el)
    }

    pub(crate) fn sctpmap_node<'d>(el: impl XmlNode<'d>) -> Result<Sctp, JingleError> {
        Ok(Sctp {
            port: Some(parse::req_num(el, "sctpmap", "number")?),
            protocol: parse::opt(el, "protocol"),
            streams: parse::num(el, "sctpmap", "streams")?,
            max_message_size: parse::num(el, "sctpmap", "max-message-size")?,
            form: SctpForm::Sctpmap,
        })
    }

    /// Reads the attributes of the `webrtc-datachannel:1` wrapper transport.
    pub fn parse_wrapper(el: &Element) -> Result<Sctp, JingleError> {
        Self::wrapper_node(el)
    }

    pub(crate) fn wrapper_node<'d>(el: impl XmlNode<'d>) -> Result<Sctp, JingleError> {
        Ok(Sctp {
            port: parse::num(el, "transport", "sctp-port")?,
            protocol: None,
            streams: None,
            max_message_size: parse::num(el, "transport", "max-message-size")?,
            form: SctpForm::Wrapper,
        })
    }

    /// Writes `<sctpmap/>`.
    pub(crate) fn write_sctpmap<S: Sink>(&self, s: &mut S) {
        s.start("sctpmap", ns::DTLS_SCTP);
        if let Some(p) = self.port {
            s.num_attr("number", p.into());
        }
        s.opt_attr("protocol", self.protocol.as_deref());
        if let Some(n) = self.streams {
            s.num_attr("streams", n.into());
        }
        if let Some(m) = self.max_message_size {
            s.num_attr("max-message-size", m);
        }
        s.end();
    }

    /// Opens the wrapper transport (the caller writes the ICE-UDP transport inside and closes it).
    pub(crate) fn start_wrapper<S: Sink>(&self, s: &mut S) {
        s.start("transport", ns::WEBRTC_DATACHANNEL_1);
        if let Some(p) = self.port {
            s.num_attr("sctp-port", p.into());
        }
        if let Some(m) = self.max_message_size {
            s.num_attr("max-message-size", m);
        }
    }
}
