//! Server transactions (RFC 3261 §17.2), sans-IO: a request in, the
//! transaction it belongs to; a response in, what to send now and when to
//! send it again; time in, retransmissions out.
//!
//! * INVITE (§17.2.1): a retransmitted INVITE gets the last response again;
//!   a final non-2xx response is retransmitted on Timer G (T1, doubling to T2)
//!   over unreliable transports until the ACK arrives or Timer H (64*T1)
//!   fires; the ACK is absorbed, then Timer I (T4, or 0 on reliable transports)
//!   ends the transaction. After a 2xx the transaction stays "Accepted" for
//!   64*T1 (RFC 6026 §7.1): a retransmitted INVITE gets the 2xx again instead of
//!   starting a new call, while the 2xx's own retransmission until the ACK
//!   belongs to the dialog layer (§13.3.1.4).
//! * Non-INVITE (§17.2.2): retransmissions get the last response; Timer J
//!   (64*T1, or 0 on reliable transports) ends the transaction after the final one.
//!
//! Matching follows §17.2.3: branch with the magic cookie plus sent-by and
//! method (ACK matches its INVITE), and also Call-ID and CSeq number, so that
//! a branch reused for another request starts a new transaction; without the
//! cookie, the RFC 2543 fields.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

use crate::flow::Flow;
use crate::message::Message;

/// RFC 3261 timer values.
#[derive(Debug, Clone, Copy)]
pub struct Timers {
    /// RTT estimate, 500 ms.
    pub t1: Duration,
    /// Maximum retransmit interval for non-INVITE requests and INVITE responses, 4 s.
    pub t2: Duration,
    /// Maximum time a message stays in the network, 5 s.
    pub t4: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers { t1: Duration::from_millis(500), t2: Duration::from_secs(4), t4: Duration::from_secs(5) }
    }
}

/// Identifies a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    branch_or_legacy: String,
    sent_by: String,
    method: String,
}

/// What an incoming request is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A new request: answer it with [`ServerTransactions::respond`].
    New(Key),
    /// A retransmission: send these bytes back (the last response), if any yet.
    Retransmission(Option<Vec<u8>>),
    /// The ACK of a non-2xx final response: absorbed by its transaction.
    AckAbsorbed,
    /// An ACK that matches no transaction (the ACK of a 2xx): for the dialog layer.
    AckForDialog,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Proceeding,
    Completed,
    Confirmed,
    /// A 2xx was sent (RFC 6026).
    Accepted,
}

#[derive(Debug)]
struct Transaction {
    invite: bool,
    state: State,
    peer: Flow,
    last_response: Option<Vec<u8>>,
    /// Next retransmission (Timer G) and its interval.
    retransmit: Option<(Instant, Duration)>,
    /// When the transaction ends (Timers H, I, J).
    ends: Option<Instant>,
    /// Bumped whenever its timers change: older entries in the timer heap are stale.
    generation: u64,
}

impl Transaction {
    fn next_timer(&self) -> Option<Instant> {
        [self.retransmit.map(|(at, _)| at), self.ends].into_iter().flatten().min()
    }
}

/// Every server transaction, whatever its transport (reliable ones neither
/// retransmit nor linger).
#[derive(Debug)]
pub struct ServerTransactions {
    timers: Timers,
    live: HashMap<Key, Transaction>,
    /// Every transaction's next timer, earliest first, with the generation it was set in
    /// (stale entries are skipped when they come up): O(log n) per timer instead of a walk
    /// over every transaction, which over UDP means 64*T1 worth of them.
    heap: BinaryHeap<Reverse<(Instant, u64, Key)>>,
    generations: u64,
}

fn key_of(m: &Message<'_>) -> Option<(Key, bool)> {
    let vias = m.vias().ok()?;
    let top = vias.first()?;
    let method = m.method()?.to_ascii_uppercase();
    let is_ack = method == "ACK";
    let method = if is_ack { "INVITE".to_owned() } else { method };
    let sent_by = format!("{}:{}", top.host.to_ascii_lowercase(), top.port.unwrap_or(5060));
    let branch_or_legacy = match top.branch() {
        // Call-ID and CSeq number added to the RFC 3261 key: a real retransmission (or the ACK
        // of a non-2xx) carries the same ones, and a client reusing a branch for another request
        // (RFC 4475's messages do) does not hijack a transaction.
        Some(b) if b.starts_with("z9hG4bK") => format!("{b}|{}|{}", m.call_id().ok()?, m.cseq().ok()?.number),
        // RFC 2543 (§17.2.3): Request-URI, To tag, From tag, Call-ID, CSeq number and top Via.
        _ => {
            let cseq = m.cseq().ok()?;
            format!(
                "2543|{}|{}|{}|{}",
                m.call_id().ok()?,
                cseq.number,
                m.header("From").unwrap_or_default(),
                m.header("Via").unwrap_or_default()
            )
        }
    };
    Some((Key { branch_or_legacy, sent_by, method }, is_ack))
}

impl ServerTransactions {
    /// No transactions yet.
    pub fn new(timers: Timers) -> Self {
        ServerTransactions { timers, live: HashMap::new(), heap: BinaryHeap::new(), generations: 0 }
    }

    /// Files transaction `key`'s next timer in the heap (after its timers changed).
    fn schedule(&mut self, key: &Key) {
        let Some(t) = self.live.get_mut(key) else { return };
        self.generations += 1;
        t.generation = self.generations;
        if let Some(at) = t.next_timer() {
            self.heap.push(Reverse((at, t.generation, key.clone())));
        }
    }

    /// How many transactions are alive.
    pub fn len(&self) -> usize {
        self.live.len()
    }

    /// Whether none is alive.
    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    /// Classifies a request received from `peer`. Requests whose transaction
    /// cannot be identified (no Via, no CSeq) are treated as new and keyless.
    pub fn handle_request(&mut self, m: &Message<'_>, peer: Flow, now: Instant) -> Option<Incoming> {
        let (key, is_ack) = key_of(m)?;
        if is_ack {
            return Some(match self.live.get_mut(&key) {
                // The ACK of a 2xx is a request of its own, for the dialog (RFC 6026 §7.1).
                Some(t) if t.state == State::Accepted => Incoming::AckForDialog,
                Some(t) if t.invite && t.state == State::Completed => {
                    t.state = State::Confirmed;
                    t.retransmit = None;
                    t.ends = Some(now + if t.peer.is_reliable() { Duration::ZERO } else { self.timers.t4 });
                    self.schedule(&key);
                    Incoming::AckAbsorbed
                }
                Some(_) => Incoming::AckAbsorbed,
                None => Incoming::AckForDialog,
            });
        }
        if let Some(t) = self.live.get(&key) {
            return Some(Incoming::Retransmission(t.last_response.clone()));
        }
        let invite = key.method == "INVITE";
        self.live.insert(
            key.clone(),
            Transaction {
                invite,
                state: State::Proceeding,
                peer,
                last_response: None,
                retransmit: None,
                ends: None,
                generation: 0,
            },
        );
        Some(Incoming::New(key))
    }

    /// Drops transaction `key` without a response (the request is not answered, e.g. a stray ACK).
    pub fn forget(&mut self, key: &Key) {
        self.live.remove(key);
    }

    /// Sends `response` (status `code`) in transaction `key`; returns the bytes to send now.
    pub fn respond(
        &mut self,
        key: &Key,
        code: u16,
        response: Vec<u8>,
        now: Instant,
    ) -> Option<(Flow, Vec<u8>)> {
        let t = self.live.get_mut(key)?;
        let reliable = t.peer.is_reliable();
        t.last_response = Some(response.clone());
        let peer = t.peer;
        if code < 200 {
            return Some((peer, response));
        }
        if t.invite && code < 300 {
            // 2xx: the dialog layer retransmits it until the ACK (§13.3.1.4); the transaction
            // lingers to answer a retransmitted INVITE with it (RFC 6026 §8.7, Timer L).
            t.state = State::Accepted;
            t.retransmit = None;
            t.ends = Some(now + 64 * self.timers.t1);
            self.schedule(key);
            return Some((peer, response));
        }
        t.state = State::Completed;
        let (t1, t2) = (self.timers.t1, self.timers.t2);
        if t.invite {
            t.retransmit = (!reliable).then(|| (now + t1, t1.min(t2)));
            t.ends = Some(now + 64 * t1); // Timer H
        } else {
            t.ends = Some(now + if reliable { Duration::ZERO } else { 64 * t1 }); // Timer J
        }
        self.schedule(key);
        Some((peer, response))
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next run.
    /// (An entry made stale by a later change may make it early; never late.)
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Fires the timers due at `now`: returns the retransmissions to send; ends transactions.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<(Flow, Vec<u8>)> {
        let t2 = self.timers.t2;
        let mut out = Vec::new();
        while let Some(Reverse((at, generation, _))) = self.heap.peek() {
            if *at > now {
                break;
            }
            let generation = *generation;
            let Some(Reverse((_, _, key))) = self.heap.pop() else { break };
            let Some(t) = self.live.get_mut(&key) else { continue };
            if t.generation != generation {
                continue; // stale: the transaction's timers changed since
            }
            if t.ends.is_some_and(|end| now >= end) {
                self.live.remove(&key); // Timers H, I, J
                continue;
            }
            if let Some((at, interval)) = t.retransmit
                && now >= at
            {
                if let Some(r) = &t.last_response {
                    out.push((t.peer, r.clone()));
                }
                let next = (interval * 2).min(t2);
                t.retransmit = Some((now + next, next)); // Timer G
            }
            self.schedule(&key);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Transport;

    fn flow(reliable: bool) -> Flow {
        Flow {
            transport: if reliable { Transport::Tcp } else { Transport::Udp },
            remote: "127.0.0.1:5062".parse().unwrap(),
            local: "127.0.0.1:5060".parse().unwrap(),
            conn: None,
        }
    }

    fn invite(branch: &str, method: &str) -> Vec<u8> {
        format!("{method} sip:bob@gw SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch={branch}\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:bob@gw>\r\nCall-ID: c1\r\nCSeq: 1 {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n").into_bytes()
    }

    #[test]
    fn invite_non_2xx_is_retransmitted_until_ack_then_absorbed() {
        let peer = flow(false);
        let mut txs = ServerTransactions::new(Timers::default());
        let req = invite("z9hG4bKa", "INVITE");
        let m = Message::parse_datagram(&req).unwrap();
        let Some(Incoming::New(key)) = txs.handle_request(&m, peer, Instant::now()) else { panic!() };
        let t0 = Instant::now();
        let sent = txs.respond(&key, 404, b"SIP/2.0 404 Not Found\r\n\r\n".to_vec(), t0).unwrap();
        assert_eq!(sent.0, peer);
        // A retransmitted INVITE gets the same response.
        assert_eq!(
            txs.handle_request(&m, peer, Instant::now()),
            Some(Incoming::Retransmission(Some(sent.1.clone())))
        );
        // Timer G: 500 ms, then 1 s, 2 s, capped at T2 = 4 s.
        assert_eq!(txs.poll_timeout(), Some(t0 + Duration::from_millis(500)));
        assert_eq!(txs.handle_timeout(t0 + Duration::from_millis(500)).len(), 1);
        assert!(txs.handle_timeout(t0 + Duration::from_millis(1400)).is_empty());
        assert_eq!(txs.handle_timeout(t0 + Duration::from_millis(1500)).len(), 1);
        let ack = invite("z9hG4bKa", "ACK");
        assert_eq!(
            txs.handle_request(&Message::parse_datagram(&ack).unwrap(), peer, Instant::now()),
            Some(Incoming::AckAbsorbed)
        );
        assert!(txs.handle_timeout(t0 + Duration::from_millis(3500)).is_empty());
        // Timer I ends it.
        txs.handle_timeout(Instant::now() + Duration::from_secs(6));
        assert!(txs.is_empty());
    }

    #[test]
    fn invite_without_ack_ends_on_timer_h_and_2xx_lingers_accepted() {
        let peer = flow(false);
        let mut txs = ServerTransactions::new(Timers::default());
        let m1 = invite("z9hG4bKb", "INVITE");
        let Some(Incoming::New(key)) =
            txs.handle_request(&Message::parse_datagram(&m1).unwrap(), peer, Instant::now())
        else {
            panic!()
        };
        let t0 = Instant::now();
        txs.respond(&key, 486, b"SIP/2.0 486 Busy Here\r\n\r\n".to_vec(), t0);
        txs.handle_timeout(t0 + Duration::from_secs(32));
        assert!(txs.is_empty(), "Timer H is 64*T1 = 32 s");
        let m2 = invite("z9hG4bKc", "INVITE");
        let Some(Incoming::New(key)) =
            txs.handle_request(&Message::parse_datagram(&m2).unwrap(), peer, Instant::now())
        else {
            panic!()
        };
        txs.respond(&key, 200, b"SIP/2.0 200 OK\r\n\r\n".to_vec(), t0);
        // Accepted (RFC 6026): a retransmitted INVITE gets the 2xx, not a new call.
        assert_eq!(
            txs.handle_request(&Message::parse_datagram(&m2).unwrap(), peer, t0),
            Some(Incoming::Retransmission(Some(b"SIP/2.0 200 OK\r\n\r\n".to_vec())))
        );
        txs.handle_timeout(t0 + Duration::from_secs(32));
        assert!(txs.is_empty(), "Timer L ends it");
        let ack = invite("z9hG4bKother", "ACK");
        assert_eq!(
            txs.handle_request(&Message::parse_datagram(&ack).unwrap(), peer, Instant::now()),
            Some(Incoming::AckForDialog)
        );
    }

    #[test]
    fn non_invite_completes_and_lingers_for_timer_j_unless_reliable() {
        for reliable in [false, true] {
            let peer = flow(reliable);
            let mut txs = ServerTransactions::new(Timers::default());
            let req = invite("z9hG4bKd", "OPTIONS");
            let m = Message::parse_datagram(&req).unwrap();
            let Some(Incoming::New(key)) = txs.handle_request(&m, peer, Instant::now()) else { panic!() };
            let t0 = Instant::now();
            txs.respond(&key, 200, b"SIP/2.0 200 OK\r\n\r\n".to_vec(), t0);
            assert!(matches!(
                txs.handle_request(&m, peer, Instant::now()),
                Some(Incoming::Retransmission(Some(_)))
            ));
            assert!(
                txs.handle_timeout(t0 + Duration::from_secs(1)).is_empty(),
                "no retransmission of non-INVITE responses"
            );
            txs.handle_timeout(t0 + Duration::from_secs(if reliable { 0 } else { 32 }));
            assert!(txs.is_empty(), "reliable {reliable}");
        }
    }
}
