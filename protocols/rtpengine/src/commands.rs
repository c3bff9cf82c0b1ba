//! Typed builders of the ng commands the gateway sends, each returning the
//! request dictionary for [`crate::NgClient::request`], and the flag sets
//! for each kind of peer ([`MediaFlags`]).
//!
//! The flags of an `offer` shape the SDP rtpengine gives back for the
//! *answerer*; those of an `answer` shape the SDP for the *offerer*. So a
//! browser calling a plain-RTP phone is an `offer` with
//! [`MediaFlags::towards_legacy`] and an `answer` with
//! [`MediaFlags::towards_browser`].

use crate::bencode::{Value, dict, list};

/// How rtpengine must present the media to one side: the ng keys
/// `transport-protocol`, `ICE`, `DTLS`, `SDES`, `rtcp-mux`, `replace` and
/// `flags`. Start from a named set and adjust with the `with_*` methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFlags {
    /// `transport-protocol` (`UDP/TLS/RTP/SAVPF`, `RTP/AVP`, `RTP/SAVP`...).
    pub transport_protocol: Option<String>,
    /// `ICE` (`force`, `remove`...).
    pub ice: Option<String>,
    /// `DTLS` (`passive`, `active`, `off`...).
    pub dtls: Option<String>,
    /// `SDES` options (`off`...).
    pub sdes: Vec<String>,
    /// `rtcp-mux` options (`require`, `demux`, `offer`, `accept`...).
    pub rtcp_mux: Vec<String>,
    /// `replace` options (`origin`, `session-connection`...).
    pub replace: Vec<String>,
    /// `flags` (`generate mid`, `trust-address`...).
    pub flags: Vec<String>,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

impl MediaFlags {
    /// Towards a browser (WebRTC): ICE forced (rtpengine's own candidates),
    /// DTLS-SRTP as the passive side, no SDES, rtcp-mux required, `a=mid`
    /// generated, `UDP/TLS/RTP/SAVPF`.
    pub fn towards_browser() -> Self {
        MediaFlags {
            transport_protocol: Some("UDP/TLS/RTP/SAVPF".into()),
            ice: Some("force".into()),
            dtls: Some("passive".into()),
            sdes: strings(&["off"]),
            rtcp_mux: strings(&["require"]),
            replace: strings(&["origin", "session-connection"]),
            flags: strings(&["generate mid", "trust-address"]),
        }
    }

    /// Towards a plain-RTP SIP phone, PBX or trunk: no ICE, no DTLS, no
    /// SDES, RTCP on its own port, `RTP/AVP`.
    pub fn towards_legacy() -> Self {
        MediaFlags {
            transport_protocol: Some("RTP/AVP".into()),
            ice: Some("remove".into()),
            dtls: Some("off".into()),
            sdes: strings(&["off"]),
            rtcp_mux: strings(&["demux"]),
            replace: strings(&["origin", "session-connection"]),
            flags: strings(&["trust-address"]),
        }
    }

    /// Towards an SDES-SRTP SIP phone: like [`MediaFlags::towards_legacy`]
    /// but keeping SDES (`a=crypto`), `RTP/SAVP`.
    pub fn towards_sdes_srtp() -> Self {
        MediaFlags { transport_protocol: Some("RTP/SAVP".into()), sdes: Vec::new(), ..Self::towards_legacy() }
    }

    /// Adds one entry to `flags` (e.g. `"fragment"`, `"strict source"`).
    pub fn with_flag(mut self, flag: &str) -> Self {
        self.flags.push(flag.to_string());
        self
    }

    /// Sets the `rtcp-mux` options.
    pub fn with_rtcp_mux(mut self, options: &[&str]) -> Self {
        self.rtcp_mux = strings(options);
        self
    }

    /// Writes these flags into the request dictionary `d`.
    pub fn apply(&self, d: &mut Value) {
        let opt = |v: &Option<String>| v.as_deref().map(Value::from);
        let lst = |v: &[String]| (!v.is_empty()).then(|| list(v.iter().map(String::as_str)));
        let entries = [
            ("transport-protocol", opt(&self.transport_protocol)),
            ("ICE", opt(&self.ice)),
            ("DTLS", opt(&self.dtls)),
            ("SDES", lst(&self.sdes)),
            ("rtcp-mux", lst(&self.rtcp_mux)),
            ("replace", lst(&self.replace)),
            ("flags", lst(&self.flags)),
        ];
        for (key, value) in entries {
            if let Some(value) = value {
                d.insert(key, value);
            }
        }
    }
}

/// `ping`: rtpengine answers `result: pong`.
pub fn ping() -> Value {
    dict([("command", "ping".into())])
}

/// `offer`: the caller's `sdp` (call `call_id`, caller's tag `from_tag`),
/// rewritten for the callee as `flags` say; the reply's `sdp` goes to the callee.
pub fn offer(call_id: &str, from_tag: &str, sdp: &str, flags: &MediaFlags) -> Value {
    let mut d = dict([
        ("command", "offer".into()),
        ("call-id", call_id.into()),
        ("from-tag", from_tag.into()),
        ("sdp", sdp.into()),
    ]);
    flags.apply(&mut d);
    d
}

/// `answer`: the callee's `sdp` (callee's tag `to_tag`), rewritten for the
/// caller as `flags` say; the reply's `sdp` goes to the caller.
pub fn answer(call_id: &str, from_tag: &str, to_tag: &str, sdp: &str, flags: &MediaFlags) -> Value {
    let mut d = dict([
        ("command", "answer".into()),
        ("call-id", call_id.into()),
        ("from-tag", from_tag.into()),
        ("to-tag", to_tag.into()),
        ("sdp", sdp.into()),
    ]);
    flags.apply(&mut d);
    d
}

/// `delete`: ends the call now (`delete-delay: 0`: without it rtpengine
/// keeps a deleted call listed for its `--delete-delay`, 30 s by default).
/// `from_tag` names the party hanging up.
pub fn delete(call_id: &str, from_tag: Option<&str>) -> Value {
    let mut d = dict([("command", "delete".into()), ("call-id", call_id.into()), ("delete-delay", 0.into())]);
    if let Some(tag) = from_tag {
        d.insert("from-tag", tag.into());
    }
    d
}

/// `query`: the call's parties, streams and packet counters.
pub fn query(call_id: &str) -> Value {
    dict([("command", "query".into()), ("call-id", call_id.into())])
}

/// `list`: the call ids rtpengine holds (at most `limit`, when given).
pub fn list_calls(limit: Option<i64>) -> Value {
    let mut d = dict([("command", "list".into())]);
    if let Some(limit) = limit {
        d.insert("limit", limit.into());
    }
    d
}

/// The rewritten SDP of an `offer`/`answer` reply.
pub fn reply_sdp(reply: &Value) -> Option<&str> {
    reply.get_str("sdp")
}

/// The call ids of a `list` reply (`calls`).
pub fn reply_calls(reply: &Value) -> Vec<String> {
    let calls = reply.get_list("calls").unwrap_or_default();
    calls.iter().filter_map(Value::as_str).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offer_towards_legacy() {
        let d = offer("c1", "f1", "v=0\r\n", &MediaFlags::towards_legacy());
        assert_eq!(d.get_str("command"), Some("offer"));
        assert_eq!(d.get_str("call-id"), Some("c1"));
        assert_eq!(d.get_str("from-tag"), Some("f1"));
        assert_eq!(d.get_str("sdp"), Some("v=0\r\n"));
        assert_eq!(d.get_str("transport-protocol"), Some("RTP/AVP"));
        assert_eq!(d.get_str("ICE"), Some("remove"));
        assert_eq!(d.get_str("DTLS"), Some("off"));
        assert_eq!(d.get("rtcp-mux"), Some(&list(["demux"])));
        assert_eq!(d.get("SDES"), Some(&list(["off"])));
        assert_eq!(d.get("to-tag"), None);
    }

    #[test]
    fn answer_towards_browser() {
        let d = answer("c1", "f1", "t1", "v=0\r\n", &MediaFlags::towards_browser());
        assert_eq!(d.get_str("command"), Some("answer"));
        assert_eq!(d.get_str("to-tag"), Some("t1"));
        assert_eq!(d.get_str("transport-protocol"), Some("UDP/TLS/RTP/SAVPF"));
        assert_eq!(d.get_str("ICE"), Some("force"));
        assert_eq!(d.get_str("DTLS"), Some("passive"));
        assert_eq!(d.get("SDES"), Some(&list(["off"])));
        assert_eq!(d.get("rtcp-mux"), Some(&list(["require"])));
        assert!(d.get_list("flags").unwrap().contains(&"generate mid".into()));
    }

    #[test]
    fn sdes_keeps_sdes() {
        let f = MediaFlags::towards_sdes_srtp();
        let d = offer("c", "f", "", &f);
        assert_eq!(d.get_str("transport-protocol"), Some("RTP/SAVP"));
        assert_eq!(d.get("SDES"), None);
        assert_eq!(d.get_str("ICE"), Some("remove"));
        let d = offer("c", "f", "", &f.with_flag("fragment").with_rtcp_mux(&["accept"]));
        assert!(d.get_list("flags").unwrap().contains(&"fragment".into()));
        assert_eq!(d.get("rtcp-mux"), Some(&list(["accept"])));
    }

    #[test]
    fn small_commands() {
        assert_eq!(crate::encode(&ping()), b"d7:command4:pinge");
        assert_eq!(delete("c", None).get("from-tag"), None);
        assert_eq!(delete("c", None).get_int("delete-delay"), Some(0));
        assert_eq!(delete("c", Some("f")).get_str("from-tag"), Some("f"));
        assert_eq!(query("c").get_str("call-id"), Some("c"));
        assert_eq!(list_calls(Some(5)).get_int("limit"), Some(5));
        assert_eq!(list_calls(None).get_str("command"), Some("list"));
        let reply = dict([("result", "ok".into()), ("calls", list(["a", "b"]))]);
        assert_eq!(reply_calls(&reply), ["a", "b"]);
        assert!(reply_calls(&ping()).is_empty());
        assert_eq!(reply_sdp(&dict([("sdp", "v=0".into())])), Some("v=0"));
    }
}
