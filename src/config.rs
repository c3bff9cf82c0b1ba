//! Settings: embedded defaults, then `switchboard.toml` (`--config`), then
//! `SWITCHBOARD_*` environment variables, then command-line flags.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use switchboard_browser::{HubConfig, IceServer};

/// Everything `switchboard serve` needs, after merging all sources.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where HTTP and WebSocket listen.
    pub http: SocketAddr,
    /// Limits of the signaling hub.
    pub hub: HubConfig,
    /// ICE servers advertised in `welcome` as they are.
    pub ice_servers: Vec<IceServer>,
    /// Where the embedded STUN server listens (UDP); `None` turns it off.
    pub stun: Option<SocketAddr>,
    /// Where SIP listens, UDP and TCP on the same port; `None` turns it off.
    pub sip: Option<SocketAddr>,
    /// Where SIP over TLS listens (RFC 3261 §26.2, `sips:`); `None` (the default) turns it off.
    pub sip_tls: Option<SocketAddr>,
    /// Digest realm of the SIP registrar.
    pub sip_realm: String,
    /// SIP users allowed to register: (name, password).
    pub sip_users: Vec<(String, String)>,
    /// Digest algorithms the registrar challenges with, in order (`MD5`, `SHA-256`).
    pub sip_digest: Vec<switchboard_sip::digest::Algorithm>,
    /// Credentials for digest challenges to calls Switchboard places (trunks, PBXs).
    pub sip_accounts: Vec<switchboard_sip::agent::Credential>,
    /// Upstream registrars (SIP trunks, PBXs) Switchboard registers to.
    pub sip_trunks: Vec<SipTrunk>,
    /// TURN servers whose credentials are made per peer from a shared secret.
    pub turn: Vec<TurnServer>,
    /// How often the server pings each WebSocket.
    pub ping_interval: Duration,
    /// A connection silent for this long (no frame, no pong) is dropped.
    pub idle_timeout: Duration,
    /// Log lines as JSON objects instead of text.
    pub log_json: bool,
    /// HTTPS/WSS instead of HTTP/WS.
    pub tls: Option<TlsSource>,
    /// When set, `/ws` needs `?token=` with an HS256 JWT signed with this secret.
    pub auth_secret: Option<String>,
    /// The XMPP server to connect to as an external component (XEP-0114); `None` (the default): no XMPP.
    pub xmpp: Option<XmppLink>,
    /// How long a call through the bridge may ring unanswered.
    pub ring_timeout: Duration,
    /// How often established SIP calls over UDP are checked with an in-dialog OPTIONS; `None`: never.
    pub sip_keepalive: Option<Duration>,
    /// The dial plan's rules (`[[dial_plan]]`), tried before the defaults.
    pub dial_plan: Vec<switchboard_bridge::Rule>,
    /// When calls are anchored in a media relay (`auto`: when the legs' media profiles differ).
    pub media_anchor: switchboard_bridge::media::AnchorPolicy,
    /// rtpengine's ng control address (`host:port`, UDP); `None`: no media relay.
    pub rtpengine: Option<std::net::SocketAddr>,
}

/// The XEP-0114 component link: where the XMPP server's component port is,
/// the component's domain and its shared secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmppLink {
    /// `host:port` of the server's component listener (Prosody: 5347).
    pub server: String,
    /// The component's domain, e.g. `gw.example.org`: browsers are `NAME@domain`.
    pub domain: String,
    /// The component secret (`component_secret` in Prosody).
    pub secret: String,
}

/// The `[xmpp]` table of `switchboard.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XmppTable {
    /// `server = "xmpp.example.org:5347"`.
    pub server: Option<String>,
    /// `domain = "gw.example.org"`.
    pub domain: Option<String>,
    /// `secret = "..."`.
    pub secret: Option<String>,
}

impl XmppTable {
    /// All three settings, or none; anything else is an error naming what is missing.
    pub fn link(self) -> Result<Option<XmppLink>, String> {
        match (self.server, self.domain, self.secret) {
            (None, None, None) => Ok(None),
            (Some(server), Some(domain), Some(secret)) => {
                if !server.contains(':') {
                    return Err(format!("xmpp server `{server}`: expected host:port"));
                }
                if domain.is_empty()
                    || !domain.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
                {
                    return Err(format!("xmpp domain `{domain}` is not a domain name"));
                }
                Ok(Some(XmppLink { server, domain, secret }))
            }
            _ => Err("the XMPP component needs a server, a domain and a secret together".into()),
        }
    }
}

/// Where the TLS certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// PEM files: certificate chain and private key.
    Files {
        /// Certificate chain.
        cert: std::path::PathBuf,
        /// Private key.
        key: std::path::PathBuf,
    },
    /// A certificate made at start, for local testing.
    SelfSigned,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            http: SocketAddr::from(([0, 0, 0, 0], 8080)),
            hub: HubConfig::default(),
            ice_servers: Vec::new(),
            stun: Some(SocketAddr::from(([0, 0, 0, 0], 3478))),
            sip: Some(SocketAddr::from(([0, 0, 0, 0], 5060))),
            sip_tls: None,
            sip_realm: "switchboard".to_owned(),
            sip_users: Vec::new(),
            sip_digest: vec![switchboard_sip::digest::Algorithm::Md5],
            sip_accounts: Vec::new(),
            sip_trunks: Vec::new(),
            turn: Vec::new(),
            ping_interval: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            log_json: false,
            tls: None,
            auth_secret: None,
            xmpp: None,
            ring_timeout: Duration::from_secs(60),
            sip_keepalive: Some(Duration::from_secs(30)),
            dial_plan: Vec::new(),
            media_anchor: switchboard_bridge::media::AnchorPolicy::Auto,
            rtpengine: None,
        }
    }
}

/// A TURN server using time-limited REST credentials (coturn `use-auth-secret`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TurnServer {
    /// `turn:` / `turns:` URLs.
    pub urls: Vec<String>,
    /// The secret shared with the TURN server (`static-auth-secret`).
    pub secret: String,
    /// Lifetime of the credentials, in seconds.
    #[serde(default = "default_turn_ttl")]
    pub ttl_secs: u64,
}

fn default_turn_ttl() -> u64 {
    86_400
}

/// The `switchboard.toml` file: every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `http = "0.0.0.0:8080"`.
    pub http: Option<SocketAddr>,
    /// `max_message_bytes = 65536`.
    pub max_message_bytes: Option<usize>,
    /// `max_room_peers = 100`.
    pub max_room_peers: Option<usize>,
    /// `rate_burst = 200`.
    pub rate_burst: Option<u32>,
    /// `rate_per_second = 100`.
    pub rate_per_second: Option<u32>,
    /// `hide_host_candidates = true`: relay no private-address or mDNS host
    /// candidates to the other party (see `PROTOCOL.md`).
    pub hide_host_candidates: Option<bool>,
    /// `ping_interval_secs = 10`.
    pub ping_interval_secs: Option<u64>,
    /// `idle_timeout_secs = 30`.
    pub idle_timeout_secs: Option<u64>,
    /// `log_format = "json"` or `"text"`.
    pub log_format: Option<String>,
    /// `[[ice_servers]]` tables: `urls`, `username`, `credential`.
    #[serde(default)]
    pub ice_servers: Vec<IceServer>,
    /// `stun = "0.0.0.0:3478"`, or `stun = "off"`.
    pub stun: Option<String>,
    /// `[[turn]]` tables: `urls`, `secret`, `ttl_secs`.
    #[serde(default)]
    pub turn: Vec<TurnServer>,
    /// `sip = "0.0.0.0:5060"`, or `sip = "off"`, or a `[sip]` table (see [`SipTable`]).
    pub sip: Option<SipSetting>,
    /// `sip_tls = "0.0.0.0:5061"`, or `sip_tls = "off"` (the default).
    pub sip_tls: Option<String>,
    /// `tls = "self-signed"`.
    pub tls: Option<String>,
    /// `tls_cert = "cert.pem"` (with `tls_key`).
    pub tls_cert: Option<std::path::PathBuf>,
    /// `tls_key = "key.pem"`.
    pub tls_key: Option<std::path::PathBuf>,
    /// `auth_secret = "..."`: require an HS256 token on `/ws`.
    pub auth_secret: Option<String>,
    /// `sip_realm = "switchboard"`: the registrar's digest realm.
    pub sip_realm: Option<String>,
    /// `[[sip_users]]` tables: `name`, `password`.
    #[serde(default)]
    pub sip_users: Vec<SipUser>,
    /// `sip_digest = ["SHA-256", "MD5"]`: the challenges the registrar sends, in order.
    pub sip_digest: Option<Vec<String>>,
    /// `[[sip_accounts]]` tables: `user`, `password`, optional `host` (the
    /// Request-URI host they answer challenges for).
    #[serde(default)]
    pub sip_accounts: Vec<SipAccount>,
    /// `[[sip_trunks]]` tables: `registrar` (`host:port` or a SIP URI, `;transport=tcp`
    /// for TCP), `user`, `password`, optional `domain` (default: the registrar's host),
    /// `name` and `expires` (seconds, default 300).
    #[serde(default)]
    pub sip_trunks: Vec<SipTrunk>,
    /// `[xmpp]`: `server`, `domain`, `secret` (see [`XmppTable`]).
    pub xmpp: Option<XmppTable>,
    /// `ring_timeout_secs = 60`: how long a call may ring unanswered.
    pub ring_timeout_secs: Option<u64>,
    /// `media_anchor = "auto"`: when calls are anchored in a media relay
    /// (`auto`: when the two legs' media profiles differ, `always`, `never`).
    /// Without a relay, `auto` refuses calls whose profiles differ.
    pub media_anchor: Option<String>,
    /// `rtpengine = "127.0.0.1:2223"`: rtpengine's ng control port (UDP), the media relay.
    pub rtpengine: Option<String>,
    /// `sip_keepalive_secs = 30`: how often established SIP calls over UDP
    /// are checked with an in-dialog OPTIONS (0: never).
    pub sip_keepalive_secs: Option<u64>,
    /// `[[dial_plan]]` tables, tried in order (see [`DialPlanRule`]).
    #[serde(default)]
    pub dial_plan: Vec<DialPlanRule>,
}

/// One `[[dial_plan]]` rule: `match` (a glob over `scheme:user@domain`,
/// `*` captured as `$1`..), optional `from` (`browser`, `sip` or `xmpp`), and
/// either `route` (one target template or a list, tried in order) or
/// `reject` (a cause word: `busy`, `decline`, `not-found`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DialPlanRule {
    /// The glob.
    #[serde(rename = "match")]
    pub pattern: String,
    /// Only calls from this kind of leg.
    pub from: Option<String>,
    /// Where matching calls go.
    pub route: Option<RouteSetting>,
    /// Or the cause they are refused with.
    pub reject: Option<String>,
}

/// `route = "sip:$1@trunk"` or `route = ["browser:$1", "phone:$1"]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum RouteSetting {
    /// One target.
    One(String),
    /// Targets tried in order.
    Many(Vec<String>),
}

impl DialPlanRule {
    /// The bridge's rule, or what is wrong with this one.
    pub fn to_rule(&self, index: usize) -> Result<switchboard_bridge::Rule, String> {
        use switchboard_bridge::{Action, HangupCause, LegKind};
        let at = || format!("dial_plan rule {} (`{}`)", index + 1, self.pattern);
        let from = match &self.from {
            None => None,
            Some(w) => Some(
                LegKind::parse(w)
                    .ok_or_else(|| format!("{}: from `{w}`: expected browser, sip or xmpp", at()))?,
            ),
        };
        let action = match (&self.route, &self.reject) {
            (Some(RouteSetting::One(t)), None) => Action::Route(vec![t.clone()]),
            (Some(RouteSetting::Many(t)), None) => Action::Route(t.clone()),
            (None, Some(word)) => Action::Reject(
                HangupCause::parse_browser(word)
                    .ok_or_else(|| format!("{}: reject `{word}` is not a cause word", at()))?,
            ),
            _ => return Err(format!("{}: give either route or reject", at())),
        };
        Ok(switchboard_bridge::Rule { pattern: self.pattern.clone(), from, action })
    }
}

/// `sip = "ADDR"` or a `[sip]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum SipSetting {
    /// `sip = "0.0.0.0:5060"` or `"off"`.
    Address(String),
    /// `[sip]` with `listen`, `tls`, `realm`, `digest`, `[[sip.users]]`, `[[sip.accounts]]`,
    /// `[[sip.trunks]]`: the same settings as the flat `sip_*` keys.
    Table(SipTable),
}

/// The `[sip]` table of `switchboard.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipTable {
    /// UDP and TCP address, or `off`.
    pub listen: Option<String>,
    /// TLS address, or `off`.
    pub tls: Option<String>,
    /// The registrar's digest realm.
    pub realm: Option<String>,
    /// Challenge algorithms, in order.
    pub digest: Option<Vec<String>>,
    /// Users allowed to register.
    #[serde(default)]
    pub users: Vec<SipUser>,
    /// Credentials for challenges to calls Switchboard places.
    #[serde(default)]
    pub accounts: Vec<SipAccount>,
    /// Upstream registrars.
    #[serde(default)]
    pub trunks: Vec<SipTrunk>,
}

/// An upstream registrar Switchboard registers to; calls to its domain go through it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipTrunk {
    /// A name for logs and metrics (default: the registrar).
    pub name: Option<String>,
    /// `host:port` or a SIP URI (`sip:pbx.example.org:5080;transport=tcp`).
    pub registrar: String,
    /// User name of the registration and of digest answers.
    pub user: String,
    /// Digest password.
    pub password: String,
    /// The domain of the address of record and of calls routed through the trunk.
    pub domain: Option<String>,
    /// Requested registration expiry in seconds.
    pub expires: Option<u32>,
}

impl SipTrunk {
    /// Parses `user:password@host[:port][;transport=tcp]`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("--sip-trunk `{text}`: expected user:password@host[:port][;transport=tcp]");
        let (creds, registrar) = text.rsplit_once('@').ok_or_else(bad)?;
        let (user, password) = creds.split_once(':').ok_or_else(bad)?;
        Ok(SipTrunk {
            name: None,
            registrar: registrar.to_owned(),
            user: user.to_owned(),
            password: password.to_owned(),
            domain: None,
            expires: None,
        })
    }

    /// The registrar as a SIP URI.
    pub fn registrar_uri(&self) -> String {
        if self.registrar.starts_with("sip:") {
            self.registrar.clone()
        } else {
            format!("sip:{}", self.registrar)
        }
    }

    /// The domain of the address of record.
    pub fn domain(&self) -> String {
        self.domain.clone().unwrap_or_else(|| {
            switchboard_sip::build::host_port_of(&self.registrar_uri())
                .map(|(h, _)| h.to_owned())
                .unwrap_or_default()
        })
    }
}

/// Credentials Switchboard uses when a SIP peer challenges its requests.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipAccount {
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
    /// Only for requests to this host; any host when absent.
    pub host: Option<String>,
}

impl SipAccount {
    /// Parses `user:password` or `user:password@host`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (user, rest) = text.split_once(':').ok_or("--sip-account takes user:password[@host]")?;
        let (password, host) = match rest.rsplit_once('@') {
            Some((p, h)) => (p, Some(h.to_owned())),
            None => (rest, None),
        };
        Ok(SipAccount { user: user.to_owned(), password: password.to_owned(), host })
    }
}

/// A SIP user of the registrar.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipUser {
    /// User name (the user part of `sip:name@gateway`).
    pub name: String,
    /// Digest password.
    pub password: String,
}

impl FileConfig {
    /// Reads and parses a TOML file; the error names the file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Applies the file's settings over `config`.
    pub fn apply(mut self, config: &mut Config) -> Result<(), String> {
        if let Some(SipSetting::Table(t)) = self.sip.clone() {
            // The `[sip]` table is the flat `sip_*` keys under one name.
            self.sip = t.listen.map(SipSetting::Address);
            self.sip_tls = t.tls.or(self.sip_tls);
            self.sip_realm = t.realm.or(self.sip_realm);
            self.sip_digest = t.digest.or(self.sip_digest);
            self.sip_users.extend(t.users);
            self.sip_accounts.extend(t.accounts);
            self.sip_trunks.extend(t.trunks);
        }
        if let Some(v) = self.http {
            config.http = v;
        }
        if let Some(v) = self.max_message_bytes {
            config.hub.max_message_bytes = v;
        }
        if let Some(v) = self.max_room_peers {
            config.hub.max_room_peers = v;
        }
        if let Some(v) = self.rate_burst {
            config.hub.rate_burst = v;
        }
        if let Some(v) = self.rate_per_second {
            config.hub.rate_per_second = v;
        }
        if let Some(v) = self.hide_host_candidates {
            config.hub.hide_host_candidates = v;
        }
        if let Some(v) = self.ping_interval_secs {
            config.ping_interval = Duration::from_secs(v.max(1));
        }
        if let Some(v) = self.idle_timeout_secs {
            config.idle_timeout = Duration::from_secs(v.max(1));
        }
        if let Some(v) = self.log_format {
            config.log_json = parse_log_format(&v)?;
        }
        config.ice_servers.extend(self.ice_servers);
        if let Some(v) = self.stun {
            config.stun = parse_address_or_off(&v, "stun")?;
        }
        if let Some(SipSetting::Address(v)) = self.sip {
            config.sip = parse_address_or_off(&v, "sip")?;
        }
        if let Some(v) = self.sip_tls {
            config.sip_tls = parse_address_or_off(&v, "sip_tls")?;
        }
        config.turn.extend(self.turn);
        match (self.tls_cert, self.tls_key, self.tls.as_deref()) {
            (Some(cert), Some(key), None) => config.tls = Some(TlsSource::Files { cert, key }),
            (None, None, Some("self-signed")) => config.tls = Some(TlsSource::SelfSigned),
            (None, None, Some(other)) => return Err(format!("tls `{other}`: expected `self-signed`")),
            (None, None, None) => {}
            _ => return Err("tls_cert and tls_key go together, and exclude tls = \"self-signed\"".into()),
        }
        if let Some(v) = self.auth_secret {
            config.auth_secret = Some(v);
        }
        if let Some(t) = self.xmpp {
            // Settings given here complete those of an earlier source (file, then flags).
            let base = config.xmpp.take();
            let merged = XmppTable {
                server: t.server.or_else(|| base.as_ref().map(|b| b.server.clone())),
                domain: t.domain.or_else(|| base.as_ref().map(|b| b.domain.clone())),
                secret: t.secret.or_else(|| base.as_ref().map(|b| b.secret.clone())),
            };
            config.xmpp = merged.link()?;
        }
        if let Some(v) = self.ring_timeout_secs {
            config.ring_timeout = Duration::from_secs(v.max(1));
        }
        if let Some(v) = self.media_anchor {
            config.media_anchor = switchboard_bridge::media::AnchorPolicy::parse(&v)
                .ok_or_else(|| format!("media_anchor `{v}`: expected auto, always or never"))?;
        }
        if let Some(v) = self.rtpengine {
            let addr = v.parse().map_err(|_| {
                format!("rtpengine `{v}`: expected an IP address and port, e.g. 127.0.0.1:2223")
            })?;
            config.rtpengine = Some(addr);
        }
        if config.media_anchor == switchboard_bridge::media::AnchorPolicy::Always
            && config.rtpengine.is_none()
        {
            return Err("media_anchor = \"always\" needs a media relay: set rtpengine (--rtpengine)".into());
        }
        if let Some(v) = self.sip_keepalive_secs {
            config.sip_keepalive = (v > 0).then(|| Duration::from_secs(v));
        }
        for (i, r) in self.dial_plan.iter().enumerate() {
            config.dial_plan.push(r.to_rule(i)?);
        }
        // The rules must make targets this gateway can dial.
        switchboard_bridge::DialPlan::new(config.dial_plan.clone(), None).map_err(|e| e.to_string())?;
        if let Some(v) = self.sip_realm {
            config.sip_realm = v;
        }
        config.sip_users.extend(self.sip_users.into_iter().map(|u| (u.name, u.password)));
        config.sip_trunks.extend(self.sip_trunks);
        config.sip_accounts.extend(self.sip_accounts.into_iter().map(|a| {
            switchboard_sip::agent::Credential { host: a.host, user: a.user, password: a.password }
        }));
        if let Some(list) = self.sip_digest {
            config.sip_digest = list
                .iter()
                .map(|a| match a.to_ascii_uppercase().as_str() {
                    "MD5" => Ok(switchboard_sip::digest::Algorithm::Md5),
                    "SHA-256" => Ok(switchboard_sip::digest::Algorithm::Sha256),
                    other => Err(format!("sip digest algorithm `{other}`: expected MD5 or SHA-256")),
                })
                .collect::<Result<_, _>>()?;
            if config.sip_digest.is_empty() {
                return Err("sip_digest needs at least one algorithm".into());
            }
        }
        Ok(())
    }
}

/// `text` or `json`.
pub fn parse_log_format(s: &str) -> Result<bool, String> {
    match s {
        "text" => Ok(false),
        "json" => Ok(true),
        other => Err(format!("log format `{other}`: expected `text` or `json`")),
    }
}

/// `off`, or a socket address (for the STUN and SIP listeners).
pub fn parse_address_or_off(s: &str, what: &str) -> Result<Option<SocketAddr>, String> {
    match s {
        "off" | "none" => Ok(None),
        addr => addr.parse().map(Some).map_err(|e| format!("{what} address `{addr}`: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sip_table_and_flat_keys_mean_the_same() {
        let table: FileConfig = toml::from_str(
            r#"
            [sip]
            listen = "127.0.0.1:5070"
            tls = "127.0.0.1:5071"
            [[sip.users]]
            name = "bob"
            password = "pw"
            [[sip.trunks]]
            registrar = "sip:192.0.2.1:5080;transport=tcp"
            user = "t"
            password = "tp"
            domain = "pbx.example.org"
            [[sip.accounts]]
            user = "a"
            password = "ap"
            host = "192.0.2.9"
            "#,
        )
        .unwrap();
        let mut config = Config::default();
        table.apply(&mut config).unwrap();
        assert_eq!(config.sip, Some("127.0.0.1:5070".parse().unwrap()));
        assert_eq!(config.sip_tls, Some("127.0.0.1:5071".parse().unwrap()));
        assert_eq!(config.sip_users, [("bob".to_owned(), "pw".to_owned())]);
        assert_eq!(config.sip_trunks[0].domain(), "pbx.example.org");
        assert_eq!(config.sip_accounts[0].host.as_deref(), Some("192.0.2.9"));
        let flat: FileConfig =
            toml::from_str("sip = \"off\"\n[[sip_users]]\nname = \"bob\"\npassword = \"pw\"\n").unwrap();
        let mut config = Config::default();
        flat.apply(&mut config).unwrap();
        assert_eq!((config.sip, config.sip_users.len()), (None, 1));
    }

    #[test]
    fn hide_host_candidates_is_off_unless_set() {
        assert!(!Config::default().hub.hide_host_candidates);
        let file: FileConfig = toml::from_str("hide_host_candidates = true\n").unwrap();
        let mut config = Config::default();
        file.apply(&mut config).unwrap();
        assert!(config.hub.hide_host_candidates);
        // A source that does not mention it leaves it as it was.
        FileConfig::default().apply(&mut config).unwrap();
        assert!(config.hub.hide_host_candidates);
        let off: FileConfig = toml::from_str("hide_host_candidates = false\n").unwrap();
        off.apply(&mut config).unwrap();
        assert!(!config.hub.hide_host_candidates);
    }

    #[test]
    fn trunk_and_account_flags_parse() {
        let t = SipTrunk::parse("u:p@127.0.0.1:5098").unwrap();
        assert_eq!((t.registrar_uri().as_str(), t.domain().as_str()), ("sip:127.0.0.1:5098", "127.0.0.1"));
        assert!(SipTrunk::parse("nopassword@host").is_err());
        let a = SipAccount::parse("u:p:with:colons@host").unwrap();
        assert_eq!((a.password.as_str(), a.host.as_deref()), ("p:with:colons", Some("host")));
    }

    #[test]
    fn dial_plan_rules_and_ring_timeout_from_the_file() {
        let text = "ring_timeout_secs = 45\n\
            [[dial_plan]]\nmatch = \"xmpp:+1*@gw\"\nfrom = \"xmpp\"\nroute = \"sip:+1$1@trunk.example\"\n\
            [[dial_plan]]\nmatch = \"support\"\nroute = [\"browser:agent\", \"phone:desk\"]\n\
            [[dial_plan]]\nmatch = \"sip:900*@*\"\nreject = \"decline\"\n";
        let file: FileConfig = toml::from_str(text).unwrap();
        let mut config = Config::default();
        file.apply(&mut config).unwrap();
        assert_eq!(config.ring_timeout, Duration::from_secs(45));
        use switchboard_bridge::{Action, HangupCause, LegKind};
        assert_eq!(config.dial_plan.len(), 3);
        assert_eq!(config.dial_plan[0].from, Some(LegKind::Xmpp));
        assert_eq!(
            config.dial_plan[1].action,
            Action::Route(vec!["browser:agent".into(), "phone:desk".into()])
        );
        assert_eq!(config.dial_plan[2].action, Action::Reject(HangupCause::Decline));
        for (bad, why) in [
            ("[[dial_plan]]\nmatch = \"x\"\nroute = \"tel:1\"\n", "tel:1"),
            ("[[dial_plan]]\nmatch = \"x\"\nreject = \"maybe\"\n", "maybe"),
            ("[[dial_plan]]\nmatch = \"x\"\n", "either route or reject"),
            ("[[dial_plan]]\nmatch = \"x\"\nfrom = \"fax\"\nroute = \"sip:a@b\"\n", "fax"),
        ] {
            let file: FileConfig = toml::from_str(bad).unwrap();
            let err = file.apply(&mut Config::default()).unwrap_err();
            assert!(err.contains(why) && err.contains("rule 1"), "{err}");
        }
    }

    #[test]
    fn xmpp_table_needs_all_three_settings_and_a_plain_domain() {
        let file: FileConfig = toml::from_str(
            "[xmpp]\nserver = \"127.0.0.1:5347\"\ndomain = \"gw.example.org\"\nsecret = \"s\"\n",
        )
        .unwrap();
        let mut config = Config::default();
        file.apply(&mut config).unwrap();
        let link = config.xmpp.clone().unwrap();
        assert_eq!((link.server.as_str(), link.domain.as_str()), ("127.0.0.1:5347", "gw.example.org"));
        // A later source (flags) may change one setting and keep the others.
        let overlay = FileConfig {
            xmpp: Some(XmppTable { secret: Some("t".into()), ..XmppTable::default() }),
            ..FileConfig::default()
        };
        overlay.apply(&mut config).unwrap();
        assert_eq!(config.xmpp.as_ref().map(|l| l.secret.as_str()), Some("t"));
        let partial: FileConfig = toml::from_str("[xmpp]\ndomain = \"gw\"\n").unwrap();
        assert!(partial.apply(&mut Config::default()).is_err());
        let bad =
            XmppTable { server: Some("h:1".into()), domain: Some("g'w".into()), secret: Some("s".into()) };
        assert!(bad.clone().link().is_err());
        assert!(
            XmppTable { server: Some("nohostport".into()), domain: Some("gw".into()), ..bad }.link().is_err()
        );
    }
}
