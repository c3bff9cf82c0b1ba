//! Registration to upstream registrars: SIP trunks and PBXs that
//! Switchboard registers to as a user (RFC 3261 §10.2), answering their
//! digest challenges (RFC 8760), refreshing before the granted expiry and
//! retrying after failures.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use super::{Agent, Event};
use crate::build::{self, contact_uri};
use crate::flow::Flow;
use crate::message::{Message, StartLine};

/// An upstream registration to keep alive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrunkConfig {
    /// A name for logs and metrics.
    pub name: String,
    /// The registrar's URI (`sip:pbx.example.org`), the REGISTER's Request-URI.
    pub registrar: String,
    /// The address of record's user.
    pub user: String,
    /// The address of record's domain (calls to it go through the trunk).
    pub domain: String,
    /// Digest password.
    pub password: String,
    /// Requested expiry, seconds.
    pub expires: u32,
}

/// Where a trunk's registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrunkStatus {
    /// Not yet answered.
    Pending,
    /// Registered until the refresh.
    Registered,
    /// Refused or unanswered; retried later.
    Failed,
}

#[derive(Debug)]
pub(super) struct Trunk {
    pub config: TrunkConfig,
    pub flow: Flow,
    call_id: String,
    tag: String,
    cseq: u32,
    auth_tried: bool,
    pub status: TrunkStatus,
    /// When to send the next REGISTER.
    pub next: Option<Instant>,
}

/// Seconds to wait before trying again after a failure.
const RETRY: Duration = Duration::from_secs(30);

impl Agent {
    /// Starts keeping `config` registered over `flow` (the registrar's address).
    /// Returns the trunk's index.
    pub fn add_trunk(&mut self, config: TrunkConfig, flow: Flow, now: Instant) -> usize {
        let call_id = format!("{}@switchboard", self.token());
        let tag = self.token();
        self.trunks.push(Trunk {
            config,
            flow,
            call_id,
            tag,
            cseq: 0,
            auth_tried: false,
            status: TrunkStatus::Pending,
            next: Some(now),
        });
        self.trunks.len() - 1
    }

    /// Each trunk's name and status.
    pub fn trunk_status(&self) -> Vec<(&str, TrunkStatus)> {
        self.trunks.iter().map(|t| (t.config.name.as_str(), t.status)).collect()
    }

    /// The flow of the trunk whose domain is `host` (and, for a domain that is an IP
    /// address, whose registrar is at `port`, default 5060), if any.
    pub fn trunk_for(&self, host: &str, port: Option<u16>) -> Option<Flow> {
        self.trunks
            .iter()
            .find(|t| {
                t.config.domain.eq_ignore_ascii_case(host)
                    && (host.parse::<std::net::IpAddr>().is_err()
                        || t.flow.remote.port() == port.unwrap_or(5060))
            })
            .map(|t| t.flow)
    }

    pub(super) fn trunk_timers(&self) -> Option<Instant> {
        self.trunks.iter().filter_map(|t| t.next).min()
    }

    pub(super) fn trunk_timeouts(&mut self, now: Instant) {
        let due: Vec<usize> =
            (0..self.trunks.len()).filter(|i| self.trunks[*i].next.is_some_and(|at| at <= now)).collect();
        for i in due {
            self.trunks[i].next = None;
            self.trunks[i].auth_tried = false;
            self.send_register(i, None, now);
        }
    }

    fn send_register(&mut self, i: usize, authorization: Option<String>, now: Instant) {
        let branch = self.branch();
        let t = &mut self.trunks[i];
        t.cseq += 1;
        let c = &t.config;
        let flow = t.flow;
        let mut out = build::request_head("REGISTER", &c.registrar, &flow, &branch);
        let aor = format!("<sip:{}@{}>", c.user, c.domain);
        let _ = write!(out, "From: {aor};tag={}\r\nTo: {aor}\r\nCall-ID: {}\r\n", t.tag, t.call_id);
        let _ = write!(out, "CSeq: {} REGISTER\r\n", t.cseq);
        let _ = write!(out, "Contact: <{}>\r\nExpires: {}\r\n", contact_uri(&c.user, &flow), c.expires);
        if let Some(a) = authorization {
            out.push_str(&a);
        }
        out.push_str("User-Agent: switchboard\r\n");
        build::finish(&mut out, None);
        self.start_trunk_client(branch, i, flow, out.into_bytes(), now);
    }

    /// The final response to trunk `i`'s REGISTER (`None`: it timed out).
    pub(super) fn on_trunk_response(&mut self, i: usize, m: Option<&Message<'_>>, now: Instant) {
        let Some(t) = self.trunks.get_mut(i) else { return };
        let code = match m.map(|m| &m.start) {
            Some(StartLine::Response { code, .. }) => *code,
            _ => 408,
        };
        if let (Some(m), 401 | 407) = (m, code)
            && !t.auth_tried
        {
            t.auth_tried = true;
            let (registrar, user, password) =
                (t.config.registrar.clone(), t.config.user.clone(), t.config.password.clone());
            if let Some(line) = self.answer_challenge(m, code, "REGISTER", &registrar, &user, &password) {
                return self.send_register(i, Some(line), now);
            }
        }
        let t = &mut self.trunks[i];
        let name = t.config.name.clone();
        if (200..300).contains(&code) {
            // The granted expiry: the Contact's `expires`, else the Expires header, else what we asked.
            let granted = m
                .and_then(|m| {
                    m.values("Contact")
                        .iter()
                        .find_map(|c| build::header_param(c, "expires")?.parse::<u64>().ok())
                        .or_else(|| m.header("Expires")?.parse().ok())
                })
                .unwrap_or(u64::from(t.config.expires))
                .max(2);
            // Refresh at 80 % of the expiry (at least a second before it).
            let refresh = Duration::from_millis(granted * 800).min(Duration::from_secs(granted - 1));
            t.status = TrunkStatus::Registered;
            t.next = Some(now + refresh);
            self.events.push_back(Event::Trunk { name, status: TrunkStatus::Registered, code });
        } else {
            t.status = TrunkStatus::Failed;
            t.next = Some(now + RETRY);
            self.events.push_back(Event::Trunk { name, status: TrunkStatus::Failed, code });
        }
    }
}
