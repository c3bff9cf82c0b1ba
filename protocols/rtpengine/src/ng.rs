//! The ng protocol client, sans-IO.
//!
//! A datagram is `COOKIE SPACE BENCODED-DICT`; rtpengine answers with the
//! same cookie, and answers a retransmission (same cookie) from its cache
//! instead of running the command twice. So:
//!
//! * [`NgClient::request`] gives every request a fresh cookie (a random
//!   prefix per client, then a counter: unique across gateway restarts)
//!   and queues its datagram for [`NgClient::poll_transmit`];
//! * the datagram is sent again, with the same cookie, after each of
//!   [`NgConfig::retransmit_intervals`] (500 ms, 1 s, 2 s) without a reply,
//!   and the request ends with [`NgError::Timeout`] after
//!   [`NgConfig::request_timeout`] (4 s) in all;
//! * [`NgClient::handle_datagram`] matches the reply's cookie and yields one
//!   [`NgEvent::Reply`]; replies to finished requests (late duplicates) and
//!   unknown cookies are ignored;
//! * health: a `ping` at start and every [`NgConfig::ping_interval`] (10 s).
//!   Any well-formed reply means rtpengine is up, any request timing out
//!   means it is down; [`NgEvent::Health`] reports each change and
//!   [`NgClient::is_up`] the current state.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use crate::bencode::{self, Value};
use crate::commands;

/// Settings of an [`NgClient`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NgConfig {
    /// Waits between successive transmissions of a request without reply
    /// (500 ms, 1 s, 2 s: sends at 0, 0.5, 1.5 and 3.5 s).
    pub retransmit_intervals: Vec<Duration>,
    /// How long a request may wait for its reply in all (4 s).
    pub request_timeout: Duration,
    /// How often rtpengine is pinged (10 s; the first ping goes at start).
    pub ping_interval: Duration,
}

impl Default for NgConfig {
    fn default() -> Self {
        NgConfig {
            retransmit_intervals: vec![
                Duration::from_millis(500),
                Duration::from_secs(1),
                Duration::from_secs(2),
            ],
            request_timeout: Duration::from_secs(4),
            ping_interval: Duration::from_secs(10),
        }
    }
}

/// One request made with [`NgClient::request`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NgError {
    /// rtpengine refused the command (`result: error` with its
    /// `error-reason`, or `result: load limit`): its verdict on our request.
    Failed {
        /// rtpengine's reason.
        reason: String,
    },
    /// No reply within [`NgConfig::request_timeout`], after every
    /// retransmission: rtpengine is down or unreachable.
    Timeout,
    /// A reply with our cookie that is not an ng reply (bad bencode, not a
    /// dictionary, no `result`): rtpengine's (or an impostor's) fault.
    BadReply {
        /// What is wrong with it.
        reason: String,
    },
}

impl fmt::Display for NgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NgError::Failed { reason } => write!(f, "rtpengine refused the command: {reason}"),
            NgError::Timeout => f.write_str("rtpengine did not answer (timeout)"),
            NgError::BadReply { reason } => write!(f, "malformed reply from rtpengine: {reason}"),
        }
    }
}

impl std::error::Error for NgError {}

/// What the client has to report.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NgEvent {
    /// The outcome of a request: rtpengine's reply dictionary (`result` is
    /// `ok`, `pong` or another non-error word), or why there is none.
    Reply {
        /// The request.
        id: RequestId,
        /// The reply, or the failure.
        result: Result<Value, NgError>,
    },
    /// rtpengine came up (a reply arrived) or went down (a request timed out).
    Health {
        /// Whether it is up now.
        up: bool,
    },
}

struct Pending {
    id: RequestId,
    datagram: Vec<u8>,
    /// When it is sent again, if ever.
    next_retransmit: Option<Instant>,
    /// How many retransmissions were made.
    retransmits: usize,
    deadline: Instant,
    /// A health ping of the client's own (no [`NgEvent::Reply`]).
    internal: bool,
}

/// The ng client: requests in, datagrams out, replies and health events back.
pub struct NgClient {
    config: NgConfig,
    cookie_prefix: String,
    next_id: u64,
    pending: HashMap<String, Pending>,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<NgEvent>,
    health: Option<bool>,
    next_ping: Instant,
    ping_outstanding: bool,
}

impl fmt::Debug for NgClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NgClient")
            .field("cookie_prefix", &self.cookie_prefix)
            .field("pending", &self.pending.len())
            .field("health", &self.health)
            .finish()
    }
}

impl NgClient {
    /// A client; its first `ping` is queued at once.
    pub fn new(config: NgConfig, now: Instant) -> Self {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(0x6e67);
        let prefix = format!("{:012x}", hasher.finish() & 0xffff_ffff_ffff);
        Self::with_cookie_prefix(config, now, &prefix)
    }

    /// A client whose cookies start with `prefix` (tests; [`NgClient::new`]
    /// picks a random one). Spaces are dropped from the prefix.
    pub fn with_cookie_prefix(config: NgConfig, now: Instant, prefix: &str) -> Self {
        let mut client = NgClient {
            next_ping: now + config.ping_interval,
            config,
            cookie_prefix: prefix.chars().filter(|c| !c.is_ascii_whitespace()).collect(),
            next_id: 0,
            pending: HashMap::new(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            health: None,
            ping_outstanding: false,
        };
        client.send_ping(now);
        client
    }

    /// Sends `command` (a dictionary with a `command` key, e.g. from
    /// [`crate::commands`]); its outcome comes as an [`NgEvent::Reply`].
    pub fn request(&mut self, command: &Value, now: Instant) -> RequestId {
        self.send(command, now, false)
    }

    /// Pings rtpengine now, unless a health ping is already on its way (to
    /// learn quickly whether it came back).
    pub fn check_now(&mut self, now: Instant) {
        if !self.ping_outstanding {
            self.send_ping(now);
            self.next_ping = now + self.config.ping_interval;
        }
    }

    /// Whether rtpengine answered last time (false before the first reply).
    pub fn is_up(&self) -> bool {
        self.health == Some(true)
    }

    /// How many requests wait for their reply (health pings included).
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    fn send_ping(&mut self, now: Instant) {
        self.ping_outstanding = true;
        self.send(&commands::ping(), now, true);
    }

    fn send(&mut self, command: &Value, now: Instant, internal: bool) -> RequestId {
        let id = RequestId(self.next_id);
        self.next_id += 1;
        let cookie = format!("{}_{}", self.cookie_prefix, id.0);
        let mut datagram = Vec::with_capacity(cookie.len() + 256);
        datagram.extend_from_slice(cookie.as_bytes());
        datagram.push(b' ');
        datagram.extend_from_slice(&bencode::encode(command));
        self.transmit.push_back(datagram.clone());
        let next_retransmit = self.config.retransmit_intervals.first().map(|d| now + *d);
        let deadline = now + self.config.request_timeout;
        let pending = Pending { id, datagram, next_retransmit, retransmits: 0, deadline, internal };
        self.pending.insert(cookie, pending);
        id
    }

    /// A datagram from rtpengine's ng port.
    pub fn handle_datagram(&mut self, datagram: &[u8], _now: Instant) {
        let Some(space) = datagram.iter().position(|&b| b == b' ') else { return };
        let Ok(cookie) = std::str::from_utf8(&datagram[..space]) else { return };
        let Some(pending) = self.pending.remove(cookie) else { return };
        let result = parse_reply(&datagram[space + 1..]);
        if result.is_ok() || matches!(result, Err(NgError::Failed { .. })) {
            self.set_health(true);
        }
        if pending.internal {
            self.ping_outstanding = false;
        } else {
            self.events.push_back(NgEvent::Reply { id: pending.id, result });
        }
    }

    /// Retransmissions, timeouts and pings due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut expired: Vec<String> = Vec::new();
        for (cookie, p) in self.pending.iter_mut() {
            if now >= p.deadline {
                expired.push(cookie.clone());
                continue;
            }
            if let Some(at) = p.next_retransmit.filter(|&at| now >= at) {
                self.transmit.push_back(p.datagram.clone());
                p.retransmits += 1;
                p.next_retransmit =
                    self.config.retransmit_intervals.get(p.retransmits).map(|d| at.max(now) + *d);
            }
        }
        // Oldest first, so events come in request order.
        let mut expired: Vec<Pending> =
            expired.iter().filter_map(|cookie| self.pending.remove(cookie)).collect();
        expired.sort_by_key(|p| p.id);
        for p in expired {
            if p.internal {
                self.ping_outstanding = false;
            } else {
                self.events.push_back(NgEvent::Reply { id: p.id, result: Err(NgError::Timeout) });
            }
            self.set_health(false);
        }
        if now >= self.next_ping {
            self.check_now(now);
            self.next_ping = now + self.config.ping_interval;
        }
    }

    /// When [`NgClient::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let requests = self.pending.values().flat_map(|p| [Some(p.deadline), p.next_retransmit]);
        requests.flatten().chain([self.next_ping]).min()
    }

    /// The next datagram to send to rtpengine.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<NgEvent> {
        self.events.pop_front()
    }

    fn set_health(&mut self, up: bool) {
        if self.health != Some(up) {
            self.health = Some(up);
            self.events.push_back(NgEvent::Health { up });
        }
    }
}

/// The reply dictionary, or why it is an error.
fn parse_reply(body: &[u8]) -> Result<Value, NgError> {
    let value = bencode::decode(body).map_err(|e| NgError::BadReply { reason: e.to_string() })?;
    if value.as_dict().is_none() {
        return Err(NgError::BadReply { reason: "not a dictionary".into() });
    }
    match value.get_str("result") {
        None => Err(NgError::BadReply { reason: "no `result`".into() }),
        Some("error") => {
            let reason = value.get_str("error-reason").unwrap_or("(no error-reason)");
            Err(NgError::Failed { reason: reason.to_string() })
        }
        Some("load limit") => Err(NgError::Failed { reason: "load limit".into() }),
        Some(_) => Ok(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bencode::{dict, list};

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn drain(c: &mut NgClient) -> Vec<Vec<u8>> {
        std::iter::from_fn(|| c.poll_transmit()).collect()
    }

    fn events(c: &mut NgClient) -> Vec<NgEvent> {
        std::iter::from_fn(|| c.poll_event()).collect()
    }

    fn split(d: &[u8]) -> (String, Value) {
        let sp = d.iter().position(|&b| b == b' ').unwrap();
        (String::from_utf8(d[..sp].to_vec()).unwrap(), bencode::decode(&d[sp + 1..]).unwrap())
    }

    fn reply(cookie: &str, v: &Value) -> Vec<u8> {
        [cookie.as_bytes(), b" ", &bencode::encode(v)].concat()
    }

    /// A client whose start-up ping was answered: up, nothing queued.
    fn up_client(t0: Instant) -> NgClient {
        let mut c = NgClient::with_cookie_prefix(NgConfig::default(), t0, "t");
        let ping = drain(&mut c);
        assert_eq!(ping.len(), 1);
        let (cookie, body) = split(&ping[0]);
        assert_eq!(body.get_str("command"), Some("ping"));
        c.handle_datagram(&reply(&cookie, &dict([("result", "pong".into())])), t0);
        assert_eq!(events(&mut c), [NgEvent::Health { up: true }]);
        assert!(c.is_up());
        c
    }

    /// Drives timers from `from` to `to` in 10 ms steps, collecting datagrams.
    fn run(c: &mut NgClient, from: Instant, to: Instant) -> Vec<(Duration, Vec<u8>)> {
        let mut out = Vec::new();
        let mut now = from;
        while now <= to {
            if c.poll_timeout().is_some_and(|t| t <= now) {
                c.handle_timeout(now);
            }
            out.extend(drain(c).into_iter().map(|d| (now - from, d)));
            now += ms(10);
        }
        out
    }

    #[test]
    fn cookies_are_unique_and_prefixed() {
        let t0 = Instant::now();
        let mut a = NgClient::new(NgConfig::default(), t0);
        let mut b = NgClient::new(NgConfig::default(), t0);
        let (ca, _) = split(&drain(&mut a)[0]);
        let (cb, _) = split(&drain(&mut b)[0]);
        assert_ne!(ca, cb);
        a.request(&commands::list_calls(None), t0);
        let (ca2, v) = split(&drain(&mut a)[0]);
        assert_ne!(ca, ca2);
        assert_eq!(v.get_str("command"), Some("list"));
    }

    #[test]
    fn retransmits_with_same_cookie_then_times_out() {
        let t0 = Instant::now();
        let mut c = up_client(t0);
        let id = c.request(&commands::query("call-1"), t0);
        let first = drain(&mut c);
        assert_eq!(first.len(), 1);
        let sent = run(&mut c, t0, t0 + ms(3990));
        let times: Vec<_> = sent.iter().map(|(t, _)| *t).collect();
        assert_eq!(times, [ms(500), ms(1500), ms(3500)]);
        assert!(sent.iter().all(|(_, d)| *d == first[0]), "same cookie, same bytes");
        assert!(events(&mut c).is_empty());
        c.handle_timeout(t0 + ms(4000));
        assert_eq!(
            events(&mut c),
            [NgEvent::Reply { id, result: Err(NgError::Timeout) }, NgEvent::Health { up: false }]
        );
        assert!(!c.is_up());
        assert_eq!(c.pending(), 0);
        // A late reply is ignored.
        let (cookie, _) = split(&first[0]);
        c.handle_datagram(&reply(&cookie, &dict([("result", "ok".into())])), t0 + ms(4100));
        assert!(events(&mut c).is_empty());
    }

    #[test]
    fn reply_matches_cookie_and_duplicates_are_ignored() {
        let t0 = Instant::now();
        let mut c = up_client(t0);
        let a = c.request(&commands::query("a"), t0);
        let b = c.request(&commands::query("b"), t0);
        let sent = drain(&mut c);
        let (ca, _) = split(&sent[0]);
        let (cb, _) = split(&sent[1]);
        let ok = dict([("result", "ok".into()), ("created", 1.into())]);
        c.handle_datagram(&reply(&cb, &ok), t0 + ms(20));
        c.handle_datagram(&reply(&cb, &ok), t0 + ms(21)); // duplicate
        c.handle_datagram(&reply("nobody", &ok), t0 + ms(22)); // unknown cookie
        c.handle_datagram(b"garbage-without-space", t0 + ms(23));
        c.handle_datagram(&[0xff, b' ', b'x'], t0 + ms(23));
        assert_eq!(events(&mut c), [NgEvent::Reply { id: b, result: Ok(ok.clone()) }]);
        c.handle_datagram(&reply(&ca, &ok), t0 + ms(30));
        assert_eq!(events(&mut c), [NgEvent::Reply { id: a, result: Ok(ok) }]);
        // Nothing left to retransmit.
        assert!(run(&mut c, t0 + ms(30), t0 + ms(5000)).is_empty());
    }

    #[test]
    fn error_replies() {
        let t0 = Instant::now();
        let mut c = up_client(t0);
        let cases = [
            (
                dict([("result", "error".into()), ("error-reason", "Unknown call-id".into())]),
                Err(NgError::Failed { reason: "Unknown call-id".into() }),
            ),
            (dict([("result", "error".into())]), Err(NgError::Failed { reason: "(no error-reason)".into() })),
            (dict([("result", "load limit".into())]), Err(NgError::Failed { reason: "load limit".into() })),
            (dict([("sdp", "x".into())]), Err(NgError::BadReply { reason: "no `result`".into() })),
            (list(["ok"]), Err(NgError::BadReply { reason: "not a dictionary".into() })),
        ];
        for (body, expected) in cases {
            let id = c.request(&commands::delete("x", Some("t")), t0);
            let (cookie, _) = split(&drain(&mut c)[0]);
            c.handle_datagram(&reply(&cookie, &body), t0);
            assert_eq!(events(&mut c), [NgEvent::Reply { id, result: expected }]);
        }
        let id = c.request(&commands::ping(), t0);
        let (cookie, _) = split(&drain(&mut c)[0]);
        c.handle_datagram(format!("{cookie} d6:result").as_bytes(), t0);
        match events(&mut c).as_slice() {
            [NgEvent::Reply { id: got, result: Err(NgError::BadReply { reason }) }] => {
                assert_eq!(*got, id);
                assert!(reason.contains("at byte 9"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(c.is_up());
    }

    #[test]
    fn health_follows_pings() {
        let t0 = Instant::now();
        let config = NgConfig { ping_interval: Duration::from_secs(10), ..NgConfig::default() };
        let mut c = NgClient::with_cookie_prefix(config, t0, "h");
        assert!(!c.is_up());
        // The start-up ping goes unanswered: down after 4 s.
        let sent = run(&mut c, t0, t0 + ms(4000));
        assert_eq!(sent.len(), 4);
        assert_eq!(events(&mut c), [NgEvent::Health { up: false }]);
        // Next ping at 10 s: answered, up.
        let sent = run(&mut c, t0 + ms(4010), t0 + ms(10_000));
        assert_eq!(sent.len(), 1);
        let (cookie, body) = split(&sent[0].1);
        assert_eq!(body.get_str("command"), Some("ping"));
        c.handle_datagram(&reply(&cookie, &dict([("result", "pong".into())])), t0 + ms(10_001));
        assert_eq!(events(&mut c), [NgEvent::Health { up: true }]);
        assert!(c.is_up());
        // Pings at 20 s are answered: no change, no event.
        let sent = run(&mut c, t0 + ms(10_010), t0 + ms(20_000));
        let (cookie, _) = split(&sent[0].1);
        c.handle_datagram(&reply(&cookie, &dict([("result", "pong".into())])), t0 + ms(20_001));
        assert!(events(&mut c).is_empty());
        // The 30 s ping is not: down at 34 s.
        run(&mut c, t0 + ms(20_010), t0 + ms(33_990));
        assert!(c.is_up());
        run(&mut c, t0 + ms(34_000), t0 + ms(34_000));
        assert_eq!(events(&mut c), [NgEvent::Health { up: false }]);
        assert!(!c.is_up());
        // check_now pings at once, only once while one is on its way.
        c.check_now(t0 + ms(35_000));
        c.check_now(t0 + ms(35_001));
        assert_eq!(drain(&mut c).len(), 1);
    }

    #[test]
    fn ping_interval_shorter_than_timeout_does_not_pile_up() {
        let t0 = Instant::now();
        let config = NgConfig { ping_interval: ms(1000), ..NgConfig::default() };
        let mut c = NgClient::with_cookie_prefix(config, t0, "p");
        run(&mut c, t0, t0 + ms(3990));
        assert_eq!(c.pending(), 1);
    }

    #[test]
    fn poll_timeout_is_the_earliest() {
        let t0 = Instant::now();
        let mut c = up_client(t0);
        assert_eq!(c.poll_timeout(), Some(t0 + Duration::from_secs(10)));
        c.request(&commands::ping(), t0 + ms(100));
        assert_eq!(c.poll_timeout(), Some(t0 + ms(600)));
    }
}
