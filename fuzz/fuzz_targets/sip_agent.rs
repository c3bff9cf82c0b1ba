//! The SIP user agent: any sequence of datagrams (split at `\0\0\0`),
//! interleaved with the bridge's commands and time, must never panic, and
//! everything the agent sends must parse as a SIP message.

#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use switchboard_sip::Message;
use switchboard_sip::agent::{Agent, AgentConfig, CallRef, Credential, Event};
use switchboard_sip::flow::{Flow, Transport};
use switchboard_sip::uas::Uas;

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

fuzz_target!(|data: &[u8]| {
    let uas = Uas::new("sb", b"k", [("bob".to_owned(), "pw".to_owned())]);
    let config = AgentConfig {
        credentials: vec![Credential { host: None, user: "t".into(), password: "p".into() }],
        ..AgentConfig::default()
    };
    let mut agent = Agent::new(config, uas);
    let mut now = Instant::now();
    let mut calls: Vec<CallRef> = Vec::new();
    let flow = |reliable: bool| Flow {
        transport: if reliable { Transport::Tcp } else { Transport::Udp },
        remote: "127.0.0.1:5062".parse().unwrap(),
        local: "127.0.0.1:5060".parse().unwrap(),
        conn: reliable.then_some(1),
    };
    let mut rest = data;
    while !rest.is_empty() {
        let (chunk, next) = match rest.windows(3).position(|w| w == b"\0\0\0") {
            Some(i) => (&rest[..i], &rest[i + 3..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        let op = chunk.first().copied().unwrap_or(0);
        let body = chunk.get(1..).unwrap_or_default();
        match op % 8 {
            0..=3 => agent.handle_message(flow(op & 4 != 0), body, now, 1000),
            4 => {
                let c = agent.dial("sip:uas@127.0.0.1:5062", flow(op & 8 != 0), "alice", None, Some(SDP), now);
                calls.push(c);
            }
            5 => now += Duration::from_millis(u64::from(body.first().copied().unwrap_or(1)) * 100),
            _ => {
                if let Some(c) = calls.get(usize::from(body.first().copied().unwrap_or(0)) % calls.len().max(1)) {
                    match body.get(1).copied().unwrap_or(0) % 5 {
                        0 => agent.ringing(*c, now),
                        1 => agent.answer(*c, SDP, now),
                        2 => agent.offer(*c, SDP, now),
                        3 => agent.hangup(*c, "busy", now),
                        _ => agent.hangup(*c, "normal", now),
                    }
                }
            }
        }
        agent.handle_timeout(now);
        while let Some(t) = agent.poll_transmit() {
            if let Err(e) = Message::parse_datagram(&t.bytes) {
                panic!("the agent sent something that does not parse: {e}\n{}", String::from_utf8_lossy(&t.bytes));
            }
        }
        while let Some(e) = agent.poll_event() {
            if let Event::Incoming { call, .. } = e {
                calls.push(call);
            }
        }
    }
});
