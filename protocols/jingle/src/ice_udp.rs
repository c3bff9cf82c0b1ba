//! XEP-0176 Jingle ICE-UDP Transport Method, version 1.1.1 (2021-03-04):
//! `<transport ufrag pwd>` with `<candidate/>`s and `<remote-candidate/>`,
//! plus the payloads other XEPs put inside it (XEP-0320 `<fingerprint/>`,
//! XEP-0343 `<sctpmap/>`).
//!
//! Candidates need only what ICE needs: `generation`, `id` and `network`
//! are optional (Conversations, stanza.js and browsers' trickled candidates
//! leave them out). An ICE restart is a transport with a new `ufrag`/`pwd`
//! (XEP-0176 §2.6): see [`Transport::is_restart_of`].
//!
//! Candidate extensions XEP-0176 has no attribute for (`tcptype`,
//! `network-cost`, ...) are written as attributes of the same name, which
//! other clients ignore.

use crate::datachannel::{Sctp, SctpForm};
use crate::dom::XmlNode;
use crate::dtls::Fingerprint;
use crate::jingle::JingleError;
use crate::ns;
use crate::parse;
use crate::sink::{self, Sink};
use crate::xml::Element;
use compact_str::CompactString;

/// An ICE-UDP `<transport/>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Transport {
    /// ICE username fragment.
    pub ufrag: Option<String>,
    /// ICE password.
    pub pwd: Option<String>,
    /// Candidates, in order.
    pub candidates: Vec<Candidate>,
    /// `<remote-candidate/>`: the pair in use (XEP-0176 §2.4).
    pub remote_candidate: Option<RemoteCandidate>,
    /// XEP-0320 DTLS fingerprints.
    pub fingerprints: Vec<Fingerprint>,
    /// XEP-0343 SCTP association (data channels).
    pub sctp: Option<Sctp>,
    /// `<gathering-complete/>`: no more candidates (end-of-candidates, as stanza.js writes it).
    pub gathering_complete: bool,
    /// Other attributes, kept.
    pub attrs: Vec<(String, String)>,
    /// Other children (XEP-0343 `<channel/>` ...), kept.
    pub extra: Vec<Element>,
}

/// A `<candidate/>` (XEP-0176 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Candidate {
    /// Component: 1 RTP, 2 RTCP.
    pub component: u16,
    /// Foundation.
    pub foundation: CompactString,
    /// ICE generation.
    pub generation: Option<u32>,
    /// Candidate id (unique in the session).
    pub id: Option<CompactString>,
    /// Address: IP, mDNS `.local` name or FQDN.
    pub ip: CompactString,
    /// Network interface index.
    pub network: Option<u32>,
    /// Port.
    pub port: u16,
    /// Priority (some peers send values above 2^32; SDP cannot carry those).
    pub priority: u64,
    /// `protocol`: `udp` (or `tcp`).
    pub protocol: CompactString,
    /// Related address.
    pub rel_addr: Option<CompactString>,
    /// Related port.
    pub rel_port: Option<u16>,
    /// `type`: `host`, `srflx`, `prflx`, `relay`.
    pub kind: Option<CompactString>,
    /// RFC 6544 `tcptype` (an extension attribute).
    pub tcptype: Option<CompactString>,
    /// Other attributes (extension pairs such as `network-cost`), kept.
    pub attrs: Vec<(String, String)>,
}

/// `<remote-candidate component ip port/>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RemoteCandidate {
    /// Component.
    pub component: u16,
    /// Address.
    pub ip: CompactString,
    /// Port.
    pub port: u16,
}

impl Transport {
    /// A transport with credentials.
    pub fn new(ufrag: &str, pwd: &str) -> Self {
        Transport { ufrag: Some(ufrag.to_owned()), pwd: Some(pwd.to_owned()), ..Transport::default() }
    }

    /// Whether this transport restarts ICE relative to `previous` (new credentials, XEP-0176 §2.6).
    pub fn is_restart_of(&self, previous: &Transport) -> bool {
        self.ufrag.is_some()
            && (self.ufrag != previous.ufrag || self.pwd.is_some() && self.pwd != previous.pwd)
    }

    /// Parses an ICE-UDP `<transport/>`, or the `webrtc-datachannel:1` transport wrapping one.
    pub fn parse(el: &Element) -> Result<Transport, JingleError> {
        Self::parse_node(el)
    }

    pub(crate) fn parse_node<'d, N: XmlNode<'d>>(el: N) -> Result<Transport, JingleError> {
        if el.ns() == ns::WEBRTC_DATACHANNEL_1 {
            let sctp = Sctp::wrapper_node(el)?;
            let mut t = match el.child("transport", ns::ICE_UDP) {
                Some(inner) => Transport::parse_node(inner)?,
                None => Transport::default(),
            };
            t.extra
                .extend(el.elements().filter(|c| !c.is("transport", ns::ICE_UDP)).map(XmlNode::to_element));
            t.sctp = Some(sctp);
            return Ok(t);
        }
        let mut t = Transport {
            ufrag: parse::opt(el, "ufrag"),
            pwd: parse::opt(el, "pwd"),
            attrs: parse::others(el, &["ufrag", "pwd"]),
            ..Transport::default()
        };
        for child in el.elements() {
            match (child.ns(), child.name()) {
                (ns::ICE_UDP, "candidate") => t.candidates.push(Candidate::parse_node(child)?),
                (ns::ICE_UDP, "remote-candidate") => {
                    t.remote_candidate = Some(RemoteCandidate {
                        component: parse::req_num(child, "remote-candidate", "component")?,
                        ip: parse::req(child, "remote-candidate", "ip")?.into(),
                        port: parse::req_num(child, "remote-candidate", "port")?,
                    })
                }
                (ns::ICE_UDP, "gathering-complete") => t.gathering_complete = true,
                (ns::DTLS, "fingerprint") => t.fingerprints.push(Fingerprint::parse_node(child)?),
                (ns::DTLS_SCTP, "sctpmap") if t.sctp.is_none() => t.sctp = Some(Sctp::sctpmap_node(child)?),
                _ => t.extra.push(child.to_element()),
            }
        }
        Ok(t)
    }

    /// The `<transport/>` element.
    pub fn to_element(&self) -> Element {
        sink::to_element(|s| self.write(s))
    }

    pub(crate) fn write<S: Sink>(&self, s: &mut S) {
        let wrapper = self.sctp.as_ref().filter(|c| c.form == SctpForm::Wrapper);
        if let Some(w) = wrapper {
            w.start_wrapper(s);
        }
        s.start("transport", ns::ICE_UDP);
        s.opt_attr("ufrag", self.ufrag.as_deref());
        s.opt_attr("pwd", self.pwd.as_deref());
        for (n, v) in &self.attrs {
            s.attr(n, v);
        }
        for f in &self.fingerprints {
            f.write(s);
        }
        if let Some(sctp) = &self.sctp
            && wrapper.is_none()
        {
            sctp.write_sctpmap(s);
        }
        for c in &self.candidates {
            c.write(s);
        }
        if let Some(r) = &self.remote_candidate {
            s.start("remote-candidate", ns::ICE_UDP);
            s.num_attr("component", r.component.into());
            s.attr("ip", &r.ip);
            s.num_attr("port", r.port.into());
            s.end();
        }
        if self.gathering_complete {
            s.empty("gathering-complete", ns::ICE_UDP);
        }
        for e in &self.extra {
            s.element(e);
        }
        s.end();
        if wrapper.is_some() {
            s.end();
        }
    }
}

impl Candidate {
    /// Parses `<candidate/>`.
    pub fn parse(el: &Element) -> Result<Candidate, JingleError> {
        Self::parse_node(el)
    }

    pub(crate) fn parse_node<'d, N: XmlNode<'d>>(el: N) -> Result<Candidate, JingleError> {
        const E: &str = "candidate";
        Ok(Candidate {
            component: parse::req_num(el, E, "component")?,
            foundation: parse::req(el, E, "foundation")?.into(),
            generation: parse::num(el, E, "generation")?,
            id: parse::opt(el, "id"),
            ip: parse::req(el, E, "ip")?.into(),
            network: parse::num(el, E, "network")?,
            port: parse::req_num(el, E, "port")?,
            priority: parse::req_num(el, E, "priority")?,
            protocol: parse::req(el, E, "protocol")?.into(),
            rel_addr: parse::opt(el, "rel-addr"),
            rel_port: parse::num(el, E, "rel-port")?,
            kind: parse::opt(el, "type"),
            tcptype: parse::opt(el, "tcptype"),
            attrs: parse::others(
                el,
                &[
                    "component",
                    "foundation",
                    "generation",
                    "id",
                    "ip",
                    "network",
                    "port",
                    "priority",
                    "protocol",
                    "rel-addr",
                    "rel-port",
                    "type",
                    "tcptype",
                ],
            ),
        })
    }

    /// The `<candidate/>` element.
    pub fn to_element(&self) -> Element {
        sink::to_element(|s| self.write(s))
    }

    pub(crate) fn write<S: Sink>(&self, s: &mut S) {
        s.start("candidate", ns::ICE_UDP);
        s.num_attr("component", self.component.into());
        s.attr("foundation", &self.foundation);
        if let Some(g) = self.generation {
            s.num_attr("generation", g.into());
        }
        s.opt_attr("id", self.id.as_deref());
        s.attr("ip", &self.ip);
        if let Some(n) = self.network {
            s.num_attr("network", n.into());
        }
        s.num_attr("port", self.port.into());
        s.num_attr("priority", self.priority);
        s.attr("protocol", &self.protocol);
        s.opt_attr("rel-addr", self.rel_addr.as_deref());
        if let Some(p) = self.rel_port {
            s.num_attr("rel-port", p.into());
        }
        s.opt_attr("type", self.kind.as_deref());
        s.opt_attr("tcptype", self.tcptype.as_deref());
        for (n, v) in &self.attrs {
            s.attr(n, v);
        }
        s.end();
    }
}
