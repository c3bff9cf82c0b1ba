//! Token auth: an HS256 JSON Web Token (RFC 7519, RFC 7515) naming what a
//! connection may do, passed as `?token=` on `/ws`.
//!
//! Claims used: `exp` and `nbf` (seconds since the epoch, checked when
//! present), `name` (the only name the connection may register) and `rooms`
//! (the rooms it may join; `"*"` allows any). Absent `name` or `rooms` allow
//! any name or room.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::Deserialize;

/// What a verified token allows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions {
    /// The only name that may be registered, if limited.
    pub name: Option<String>,
    /// The rooms that may be joined, if limited.
    pub rooms: Option<Vec<String>>,
}

impl Permissions {
    /// Anything goes (no auth configured).
    pub fn all() -> Self {
        Permissions::default()
    }

    /// May register `name`?
    pub fn may_register(&self, name: &str) -> bool {
        self.name.as_deref().is_none_or(|allowed| allowed == name)
    }

    /// May join `room`?
    pub fn may_join(&self, room: &str) -> bool {
        self.rooms.as_ref().is_none_or(|rooms| rooms.iter().any(|r| r == "*" || r == room))
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

#[derive(Deserialize)]
struct Claims {
    exp: Option<u64>,
    nbf: Option<u64>,
    name: Option<String>,
    rooms: Option<Vec<String>>,
}

/// Why a token was refused (all are the client's fault).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    /// Not three base64url parts of JSON.
    Malformed,
    /// `alg` is not HS256.
    Algorithm(String),
    /// The signature does not match the secret.
    Signature,
    /// `exp` has passed.
    Expired,
    /// `nbf` is in the future.
    NotYetValid,
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::Malformed => f.write_str("malformed token"),
            TokenError::Algorithm(a) => write!(f, "token algorithm `{a}` is not HS256"),
            TokenError::Signature => f.write_str("bad token signature"),
            TokenError::Expired => f.write_str("token expired"),
            TokenError::NotYetValid => f.write_str("token not valid yet"),
        }
    }
}

impl std::error::Error for TokenError {}

/// Verifies `token` with `secret` at time `now` (seconds since the epoch).
pub fn verify(token: &str, secret: &[u8], now: u64) -> Result<Permissions, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let decode = |s: &str| URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).map_err(|_| TokenError::Malformed);
    let header: Header = serde_json::from_slice(&decode(header)?).map_err(|_| TokenError::Malformed)?;
    if header.alg != "HS256" {
        return Err(TokenError::Algorithm(header.alg));
    }
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).map_err(|_| TokenError::Signature)?;
    mac.update(&token.as_bytes()[..token.len() - signature.len() - 1]);
    mac.verify_slice(&decode(signature)?).map_err(|_| TokenError::Signature)?;
    let claims: Claims = serde_json::from_slice(&decode(payload)?).map_err(|_| TokenError::Malformed)?;
    if claims.exp.is_some_and(|exp| now >= exp) {
        return Err(TokenError::Expired);
    }
    if claims.nbf.is_some_and(|nbf| now < nbf) {
        return Err(TokenError::NotYetValid);
    }
    Ok(Permissions { name: claims.name, rooms: claims.rooms })
}

/// Makes an HS256 token carrying `claims` (for tests and tooling).
pub fn sign(claims: &serde_json::Value, secret: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(format!("{header}.{payload}").as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{header}.{payload}.{signature}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7515 Appendix A.1: its HS256 example verifies with its key.
    #[test]
    fn rfc7515_a1_example_verifies() {
        let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let key = URL_SAFE_NO_PAD
            .decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
            .unwrap();
        assert_eq!(verify(token, &key, 1_300_000_000), Ok(Permissions::all()));
        assert_eq!(verify(token, &key, 1_300_819_380), Err(TokenError::Expired));
        assert_eq!(verify(token, b"other key", 1_300_000_000), Err(TokenError::Signature));
    }

    #[test]
    fn claims_limit_name_and_rooms() {
        let t = sign(&serde_json::json!({"name": "alice", "rooms": ["r1"], "exp": 2000}), b"k");
        let p = verify(&t, b"k", 1000).unwrap();
        assert!(p.may_register("alice") && !p.may_register("bob"));
        assert!(p.may_join("r1") && !p.may_join("r2"));
        let mut forged = t.clone().into_bytes();
        let last = forged.len() - 5;
        forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(verify(std::str::from_utf8(&forged).unwrap(), b"k", 1000), Err(TokenError::Signature));
        assert_eq!(verify("a.b", b"k", 0), Err(TokenError::Malformed));
        let none =
            format!("{}.{}.", URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#), URL_SAFE_NO_PAD.encode("{}"));
        assert_eq!(verify(&none, b"k", 0), Err(TokenError::Algorithm("none".into())));
    }
}
