//! Command-line interface.

use std::io::Read;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Switchboard: a signaling gateway between WebRTC browsers, SIP and XMPP Jingle.
#[derive(Debug, Parser)]
#[command(name = "switchboard", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway: HTTP and the browser WebSocket endpoint (`/ws`), with
    /// embedded defaults (no config file, no external server needed).
    Serve(Box<ServeArgs>),
    /// Parse a session description (SDP) and print it back, or as JSON.
    ///
    /// Exits with status 1 and one `error:` line naming the line number when
    /// the description is invalid.
    Sdp {
        /// Print the parsed model as JSON, with every candidate's fields broken out.
        #[arg(long)]
        json: bool,
        /// The SDP file, or `-` for standard input.
        file: PathBuf,
    },
    /// Translate between SDP and Jingle (XEP-0166/0167/0176/0320...):
    /// `--to jingle FILE.sdp` prints the `<jingle/>` element of a
    /// session-initiate; `--to sdp FILE.xml` prints the SDP of a `<jingle/>`
    /// element (a session-accept's as an answer). What the target cannot
    /// express is listed on standard error.
    Convert {
        /// `jingle` or `sdp`.
        #[arg(long, value_parser = ["jingle", "sdp"])]
        to: String,
        /// The input file, or `-` for standard input.
        file: PathBuf,
    },
}

/// Runs the `convert` subcommand: the text to print, or the one-line error.
pub fn convert_command(path: &std::path::Path, to: &str) -> Result<String, String> {
    let input = read_input(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = String::from_utf8(input).map_err(|_| format!("{}: not UTF-8 text", path.display()))?;
    crate::convert::run(to, &text)
}

/// Reads `path`, or standard input for `-`.
fn read_input(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf)?;
        Ok(buf)
    } else {
        std::fs::read(path)
    }
}

/// Runs the `sdp` subcommand: the text to print, or the one-line error.
pub fn sdp_command(path: &std::path::Path, json: bool) -> Result<String, String> {
    let input = read_input(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let desc = switchboard_sdp::SessionDescription::parse_bytes(&input).map_err(|e| e.to_string())?;
    if json {
        serde_json::to_string_pretty(&desc)
            .map(|mut s| {
                s.push('\n');
                s
            })
            .map_err(|e| e.to_string())
    } else {
        Ok(desc.to_sdp())
    }
}

/// Flags of `switchboard serve`; each also comes from a `SWITCHBOARD_*` variable.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Read settings from this TOML file (`switchboard.toml`); flags and variables override it.
    #[arg(long, env = "SWITCHBOARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address for HTTP and WebSocket [default: 0.0.0.0:8080].
    #[arg(long, env = "SWITCHBOARD_HTTP")]
    pub http: Option<std::net::SocketAddr>,
    /// Largest message a browser may send, in bytes [default: 65536].
    #[arg(long, env = "SWITCHBOARD_MAX_MESSAGE_BYTES")]
    pub max_message_bytes: Option<usize>,
    /// Most peers in one room [default: 100].
    #[arg(long, env = "SWITCHBOARD_MAX_ROOM_PEERS")]
    pub max_room_peers: Option<usize>,
    /// Messages per second a connection may send on average [default: 100].
    #[arg(long, env = "SWITCHBOARD_RATE_PER_SECOND")]
    pub rate_per_second: Option<u32>,
    /// Messages a connection may send in a burst [default: 200].
    #[arg(long, env = "SWITCHBOARD_RATE_BURST")]
    pub rate_burst: Option<u32>,
    /// Relay no host candidates on private, loopback, link-local, CGNAT or ULA
    /// addresses, nor mDNS `.local` ones, to the other party (the WebRTC IP leak);
    /// srflx and relay candidates stay [default: off].
    #[arg(long, env = "SWITCHBOARD_HIDE_HOST_CANDIDATES", value_parser = clap::builder::BoolishValueParser::new())]
    pub hide_host_candidates: bool,
    /// Seconds a call through the bridge (SIP, XMPP) may ring unanswered before every leg ends [default: 60].
    #[arg(long, env = "SWITCHBOARD_RING_TIMEOUT")]
    pub ring_timeout: Option<u64>,
    /// When calls are anchored in a media relay: `auto` (when the two legs' media profiles differ,
    /// e.g. plain RTP phone <-> browser; without a relay such calls are refused as incompatible
    /// instead of connecting without audio), `never` (SDP goes end to end whatever it says)
    /// [default: auto].
    #[arg(long, env = "SWITCHBOARD_MEDIA_ANCHOR")]
    pub media_anchor: Option<String>,
    /// rtpengine's ng control address (`IP:PORT`, UDP): calls whose legs speak different media are
    /// anchored there (ICE and DTLS-SRTP towards browsers and Jingle clients, plain RTP towards SIP
    /// phones) [default: none].
    #[arg(long, env = "SWITCHBOARD_RTPENGINE")]
    pub rtpengine: Option<String>,
    /// Seconds between in-dialog OPTIONS checks of established SIP calls over UDP; a call whose
    /// check is unanswered at the next one ends (0: no checks) [default: 30].
    #[arg(long, env = "SWITCHBOARD_SIP_KEEPALIVE")]
    pub sip_keepalive: Option<u64>,
    /// Seconds between server pings [default: 10].
    #[arg(long, env = "SWITCHBOARD_PING_INTERVAL_SECS")]
    pub ping_interval_secs: Option<u64>,
    /// Seconds of silence after which a peer counts as gone [default: 30].
    #[arg(long, env = "SWITCHBOARD_IDLE_TIMEOUT_SECS")]
    pub idle_timeout_secs: Option<u64>,
    /// SIP address, UDP and TCP on the same port, or `off` [default: 0.0.0.0:5060].
    #[arg(long, env = "SWITCHBOARD_SIP")]
    pub sip: Option<String>,
    /// SIP over TLS address, or `off` [default: off]; the certificate is HTTPS's
    /// (--tls, --tls-cert/--tls-key), or a self-signed one made at start.
    #[arg(long, env = "SWITCHBOARD_SIP_TLS")]
    pub sip_tls: Option<String>,
    /// A SIP user allowed to register, `name:password` (repeatable).
    #[arg(long = "sip-user", env = "SWITCHBOARD_SIP_USERS", value_delimiter = ',', hide_env_values = true)]
    pub sip_users: Vec<String>,
    /// Digest algorithms the registrar challenges with, in order, e.g. `SHA-256,MD5`
    /// [default: MD5, since libre 1.x (baresip 1.0) fails on any SHA-256 challenge].
    #[arg(long, env = "SWITCHBOARD_SIP_DIGEST", value_delimiter = ',')]
    pub sip_digest: Vec<String>,
    /// Credentials for challenges to calls Switchboard places, `user:password` or
    /// `user:password@host` (repeatable).
    #[arg(
        long = "sip-account",
        env = "SWITCHBOARD_SIP_ACCOUNTS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub sip_accounts: Vec<String>,
    /// An upstream registrar to register to, `user:password@host[:port][;transport=tcp]`
    /// (repeatable); calls to its host go through it.
    #[arg(long = "sip-trunk", env = "SWITCHBOARD_SIP_TRUNKS", value_delimiter = ',', hide_env_values = true)]
    pub sip_trunks: Vec<String>,
    /// Digest realm of the SIP registrar [default: switchboard].
    #[arg(long, env = "SWITCHBOARD_SIP_REALM")]
    pub sip_realm: Option<String>,
    /// Connect to this XMPP server's component port (`host:port`, XEP-0114) as --xmpp-domain.
    #[arg(long, env = "SWITCHBOARD_XMPP_SERVER", requires_all = ["xmpp_domain", "xmpp_secret"])]
    pub xmpp_server: Option<String>,
    /// The component domain: a browser registered as NAME is the JID NAME@DOMAIN.
    #[arg(long, env = "SWITCHBOARD_XMPP_DOMAIN")]
    pub xmpp_domain: Option<String>,
    /// The component secret shared with the XMPP server.
    #[arg(long, env = "SWITCHBOARD_XMPP_SECRET", hide_env_values = true)]
    pub xmpp_secret: Option<String>,
    /// UDP address of the embedded STUN server, or `off` [default: 0.0.0.0:3478].
    #[arg(long, env = "SWITCHBOARD_STUN")]
    pub stun: Option<String>,
    /// A TURN server URL (repeatable) whose credentials are made from --turn-secret.
    #[arg(long = "turn-url", env = "SWITCHBOARD_TURN_URLS", value_delimiter = ',')]
    pub turn_urls: Vec<String>,
    /// The secret shared with the TURN server (coturn `static-auth-secret`).
    #[arg(long, env = "SWITCHBOARD_TURN_SECRET", hide_env_values = true)]
    pub turn_secret: Option<String>,
    /// Lifetime of TURN credentials in seconds [default: 86400].
    #[arg(long, env = "SWITCHBOARD_TURN_TTL_SECS")]
    pub turn_ttl_secs: Option<u64>,
    /// `self-signed`: serve HTTPS/WSS with a certificate made at start (for local tests;
    /// its SHA-256 fingerprint is printed).
    #[arg(long, env = "SWITCHBOARD_TLS", value_parser = ["self-signed"])]
    pub tls: Option<String>,
    /// Serve HTTPS/WSS with this PEM certificate chain (with --tls-key).
    #[arg(long, env = "SWITCHBOARD_TLS_CERT", requires = "tls_key", conflicts_with = "tls")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "SWITCHBOARD_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Require `?token=` on /ws: an HS256 JWT signed with this secret, whose
    /// `name` and `rooms` claims limit what the connection may register and join.
    #[arg(long, env = "SWITCHBOARD_AUTH_SECRET", hide_env_values = true)]
    pub auth_secret: Option<String>,
    /// Worker threads of the runtime [default: one per core].
    #[arg(long, env = "SWITCHBOARD_THREADS", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// Log format: `text` or `json` (the level comes from `RUST_LOG`, default `info`).
    #[arg(long, env = "SWITCHBOARD_LOG_FORMAT")]
    pub log_format: Option<String>,
}

impl ServeArgs {
    /// Merges defaults, the config file, then these flags (and variables).
    pub fn to_config(&self) -> Result<crate::config::Config, String> {
        let mut config = crate::config::Config::default();
        if let Some(path) = &self.config {
            crate::config::FileConfig::load(path)?.apply(&mut config)?;
        }
        self.as_overlay()?.apply(&mut config)?;
        Ok(config)
    }

    /// The flags as a config overlay: the same merging as the file's.
    fn as_overlay(&self) -> Result<crate::config::FileConfig, String> {
        let turn = match (&self.turn_secret, self.turn_urls.is_empty()) {
            (Some(secret), false) => vec![crate::config::TurnServer {
                urls: self.turn_urls.clone(),
                secret: secret.clone(),
                ttl_secs: self.turn_ttl_secs.unwrap_or(86_400),
            }],
            (None, true) => Vec::new(),
            _ => return Err("--turn-url and --turn-secret go together".into()),
        };
        Ok(crate::config::FileConfig {
            http: self.http,
            max_message_bytes: self.max_message_bytes,
            max_room_peers: self.max_room_peers,
            rate_burst: self.rate_burst,
            rate_per_second: self.rate_per_second,
            hide_host_candidates: self.hide_host_candidates.then_some(true),
            ping_interval_secs: self.ping_interval_secs,
            idle_timeout_secs: self.idle_timeout_secs,
            log_format: self.log_format.clone(),
            ice_servers: Vec::new(),
            stun: self.stun.clone(),
            turn,
            sip: self.sip.clone().map(crate::config::SipSetting::Address),
            sip_tls: self.sip_tls.clone(),
            tls: self.tls.clone(),
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
            auth_secret: self.auth_secret.clone(),
            sip_realm: self.sip_realm.clone(),
            sip_digest: (!self.sip_digest.is_empty()).then(|| self.sip_digest.clone()),
            sip_users: self
                .sip_users
                .iter()
                .map(|u| {
                    let (name, password) = u.split_once(':').ok_or("--sip-user takes name:password")?;
                    Ok(crate::config::SipUser { name: name.to_owned(), password: password.to_owned() })
                })
                .collect::<Result<_, String>>()?,
            sip_accounts: self
                .sip_accounts
                .iter()
                .map(|a| crate::config::SipAccount::parse(a))
                .collect::<Result<_, String>>()?,
            sip_trunks: self
                .sip_trunks
                .iter()
                .map(|t| crate::config::SipTrunk::parse(t))
                .collect::<Result<_, String>>()?,
            ring_timeout_secs: self.ring_timeout,
            sip_keepalive_secs: self.sip_keepalive,
            media_anchor: self.media_anchor.clone(),
            rtpengine: self.rtpengine.clone(),
            dial_plan: Vec::new(),
            xmpp: (self.xmpp_server.is_some() || self.xmpp_domain.is_some() || self.xmpp_secret.is_some())
                .then(|| crate::config::XmppTable {
                    server: self.xmpp_server.clone(),
                    domain: self.xmpp_domain.clone(),
                    secret: self.xmpp_secret.clone(),
                }),
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Cli, Command};

    fn serve(args: &[&str]) -> crate::config::Config {
        let cli = Cli::try_parse_from([&["switchboard", "serve"], args].concat()).unwrap();
        let Command::Serve(serve) = cli.command else { panic!("serve") };
        serve.to_config().unwrap()
    }

    #[test]
    fn hide_host_candidates_flag_reaches_the_hub() {
        assert!(serve(&["--hide-host-candidates"]).hub.hide_host_candidates);
        if std::env::var_os("SWITCHBOARD_HIDE_HOST_CANDIDATES").is_none() {
            assert!(!serve(&[]).hub.hide_host_candidates);
        }
    }
}
