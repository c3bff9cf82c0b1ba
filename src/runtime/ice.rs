//! The ICE servers each peer is told about in `welcome`: the embedded STUN
//! server, configured STUN/TURN servers, and TURN servers with time-limited
//! REST credentials (the scheme of coturn's `use-auth-secret`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use hmac::{Hmac, Mac};
use switchboard_browser::IceServer;

use crate::config::{Config, TurnServer};

/// TURN REST credentials: user name `<expiry>:<name>`, password
/// `base64(HMAC-SHA1(secret, username))`.
pub fn turn_credentials(secret: &str, name: &str, ttl: Duration, now: SystemTime) -> (String, String) {
    let expiry = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() + ttl.as_secs();
    let username = format!("{expiry}:{name}");
    // HMAC accepts keys of any length.
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(username.as_bytes());
    let password = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    (username, password)
}

/// The list for one connection: `host` is the host the browser used to reach
/// us (from the HTTP `Host` header), so the embedded STUN URL works for it.
/// `stun_port` is the port the embedded STUN server is bound to, if it runs.
pub fn ice_servers_for(
    config: &Config,
    stun_port: Option<u16>,
    host: Option<&str>,
    peer: &str,
) -> Vec<IceServer> {
    let mut servers = Vec::with_capacity(1 + config.ice_servers.len() + config.turn.len());
    if let (Some(port), Some(host)) = (stun_port, host) {
        let host =
            if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host.to_owned() };
        servers.push(IceServer {
            urls: vec![format!("stun:{host}:{port}")],
            username: None,
            credential: None,
        });
    }
    servers.extend(config.ice_servers.iter().cloned());
    for TurnServer { urls, secret, ttl_secs } in &config.turn {
        let (username, credential) =
            turn_credentials(secret, peer, Duration::from_secs(*ttl_secs), SystemTime::now());
        servers.push(IceServer {
            urls: urls.clone(),
            username: Some(username),
            credential: Some(credential),
        });
    }
    servers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_rest_credentials_match_a_known_value() {
        // Computed independently: printf '1700086400:alice' | openssl dgst -sha1 -hmac s3cret -binary | base64
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let (user, pass) = turn_credentials("s3cret", "alice", Duration::from_secs(86_400), now);
        assert_eq!(user, "1700086400:alice");
        assert_eq!(pass, "HJX0XIkrCiQCuU88Z0oeXj+QW60=");
    }
}
