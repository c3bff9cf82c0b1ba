//! HTTP Digest authentication for SIP (RFC 3261 §22.4, RFC 8760: MD5 and
//! SHA-256, `qop=auth`), sans-IO: challenges with stateless nonces (an HMAC
//! of their issue time, so any copy of the server can check them), and the
//! check of an `Authorization` header against a password.

use std::collections::HashMap;
use std::fmt::Write;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use md5::Digest as _;

/// Hash algorithm of a challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// `MD5`, what most phones still use.
    Md5,
    /// `SHA-256` (RFC 8760).
    Sha256,
}

impl Algorithm {
    fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }

    fn hash(self, data: &str) -> String {
        let bytes: Vec<u8> = match self {
            Algorithm::Md5 => md5::Md5::digest(data.as_bytes()).to_vec(),
            Algorithm::Sha256 => sha2::Sha256::digest(data.as_bytes()).to_vec(),
        };
        bytes.iter().fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    }
}

/// The parameters of a `Digest` credentials header (`Authorization`, `Proxy-Authorization`).
pub fn parse_params(value: &str) -> Option<HashMap<String, String>> {
    let rest = value.trim().strip_prefix("Digest")?.trim_start();
    let mut params = HashMap::new();
    let mut s = rest;
    while !s.is_empty() {
        let (name, after) = s.split_once('=')?;
        let name = name.trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (value, rest) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"')?;
            (&q[..end], &q[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim(), &after[end..])
        };
        params.insert(name, value.to_owned());
        s = rest.trim_start().trim_start_matches(',').trim_start();
    }
    Some(params)
}

/// The expected `response` for the given credentials (RFC 8760 §2.4, qop `auth` or none).
#[allow(clippy::too_many_arguments)]
pub fn response(
    algorithm: Algorithm,
    username: &str,
    realm: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    qop: Option<(&str, &str)>,
) -> String {
    let ha1 = algorithm.hash(&format!("{username}:{realm}:{password}"));
    let ha2 = algorithm.hash(&format!("{method}:{uri}"));
    match qop {
        Some((nc, cnonce)) => algorithm.hash(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")),
        None => algorithm.hash(&format!("{ha1}:{nonce}:{ha2}")),
    }
}

/// The credentials answering one `WWW-Authenticate` / `Proxy-Authenticate`
/// challenge (RFC 8760 §2.4) as a client: the header value to send, or
/// `None` when the challenge is not Digest or names an unknown algorithm.
/// `qop=auth` is used when offered, with nonce count 1 and `cnonce`.
pub fn authorization(
    challenge: &str,
    method: &str,
    uri: &str,
    username: &str,
    password: &str,
    cnonce: &str,
) -> Option<String> {
    let params = parse_params(challenge)?;
    let realm = params.get("realm").map(String::as_str).unwrap_or_default();
    let nonce = params.get("nonce")?;
    let algorithm = match params.get("algorithm").map(|a| a.to_ascii_uppercase()).as_deref() {
        None | Some("MD5") => Algorithm::Md5,
        Some("SHA-256") => Algorithm::Sha256,
        Some(_) => return None,
    };
    let qop_auth =
        params.get("qop").is_some_and(|q| q.split(',').any(|v| v.trim().eq_ignore_ascii_case("auth")));
    let qop = qop_auth.then_some(("00000001", cnonce));
    let resp = response(algorithm, username, realm, password, method, uri, nonce, qop);
    let mut value = format!(
        r#"Digest username="{username}", realm="{realm}", nonce="{nonce}", uri="{uri}", response="{resp}", algorithm={}"#,
        algorithm.name()
    );
    if qop_auth {
        let _ = write!(value, r#", qop=auth, nc=00000001, cnonce="{cnonce}""#);
    }
    if let Some(opaque) = params.get("opaque") {
        let _ = write!(value, r#", opaque="{opaque}""#);
    }
    Some(value)
}

/// Issues and checks challenges for one realm.
pub struct Authenticator {
    realm: String,
    secret: Vec<u8>,
    /// How long a nonce stays valid, in seconds.
    pub nonce_ttl: u64,
    /// The algorithms offered, one challenge each, in order. MD5 only by default:
    /// libre 1.x (baresip 1.0) gives up with ENOSYS on any SHA-256 challenge
    /// among several; answers with either algorithm are always accepted.
    pub algorithms: Vec<Algorithm>,
}

/// Why credentials were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// No credentials, another scheme, or an expired or foreign nonce: challenge again.
    Challenge,
    /// Wrong password or unknown user: 403 after a fresh challenge was answered badly.
    Forbidden,
}

impl Authenticator {
    /// An authenticator for `realm`, signing nonces with `secret`.
    pub fn new(realm: &str, secret: &[u8]) -> Self {
        Authenticator {
            realm: realm.to_owned(),
            secret: secret.to_vec(),
            nonce_ttl: 300,
            algorithms: vec![Algorithm::Md5],
        }
    }

    fn sign(&self, issued: u64) -> String {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&self.secret).expect("any key length");
        mac.update(&issued.to_be_bytes());
        mac.update(self.realm.as_bytes());
        let tag = mac.finalize().into_bytes();
        format!("{issued:x}.{}", URL_SAFE_NO_PAD.encode(&tag[..16]))
    }

    fn nonce_ok(&self, nonce: &str, now: u64) -> bool {
        let Some((issued, _)) = nonce.split_once('.') else { return false };
        let Ok(issued) = u64::from_str_radix(issued, 16) else { return false };
        issued <= now && now - issued <= self.nonce_ttl && self.sign(issued) == nonce
    }

    /// `WWW-Authenticate` values, one per offered algorithm (RFC 8760 §2.4), at time `now`.
    pub fn challenges(&self, now: u64) -> Vec<String> {
        let nonce = self.sign(now);
        self.algorithms
            .iter()
            .map(|a| {
                format!(
                    r#"Digest realm="{}", nonce="{nonce}", algorithm={}, qop="auth""#,
                    self.realm,
                    a.name()
                )
            })
            .collect()
    }

    /// Checks `authorization` for a request `method`; `password_of` looks users up.
    /// Returns the authenticated user name.
    pub fn check(
        &self,
        authorization: Option<&str>,
        method: &str,
        now: u64,
        password_of: impl Fn(&str) -> Option<String>,
    ) -> Result<String, Refused> {
        let params = authorization.and_then(parse_params).ok_or(Refused::Challenge)?;
        let get = |k: &str| params.get(k).map(String::as_str);
        if get("realm") != Some(self.realm.as_str()) {
            return Err(Refused::Challenge);
        }
        let (Some(user), Some(nonce), Some(uri), Some(given)) =
            (get("username"), get("nonce"), get("uri"), get("response"))
        else {
            return Err(Refused::Challenge);
        };
        if !self.nonce_ok(nonce, now) {
            return Err(Refused::Challenge);
        }
        let algorithm = match get("algorithm").unwrap_or("MD5") {
            a if a.eq_ignore_ascii_case("MD5") => Algorithm::Md5,
            a if a.eq_ignore_ascii_case("SHA-256") => Algorithm::Sha256,
            _ => return Err(Refused::Challenge),
        };
        let qop = match get("qop") {
            Some(q) if q.eq_ignore_ascii_case("auth") => match (get("nc"), get("cnonce")) {
                (Some(nc), Some(cnonce)) => Some((nc, cnonce)),
                _ => return Err(Refused::Challenge),
            },
            Some(_) => return Err(Refused::Challenge),
            None => None,
        };
        let password = password_of(user).ok_or(Refused::Forbidden)?;
        let expected = response(algorithm, user, &self.realm, &password, method, uri, nonce, qop);
        if expected.eq_ignore_ascii_case(given) { Ok(user.to_owned()) } else { Err(Refused::Forbidden) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7616 §3.9.1 (the same computation in HTTP): Mufasa, "Circle of Life".
    #[test]
    fn rfc7616_examples() {
        let nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
        let qop = Some(("00000001", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"));
        let (user, realm, pass, uri) =
            ("Mufasa", "http-auth@example.org", "Circle of Life", "/dir/index.html");
        assert_eq!(
            response(Algorithm::Md5, user, realm, pass, "GET", uri, nonce, qop),
            "8ca523f5e9506fed4657c9700eebdbec"
        );
        assert_eq!(
            response(Algorithm::Sha256, user, realm, pass, "GET", uri, nonce, qop),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
    }

    #[test]
    fn challenge_then_check() {
        let auth = Authenticator::new("switchboard", b"k");
        let challenge = &auth.challenges(1000)[0];
        let nonce = challenge.split("nonce=\"").nth(1).unwrap().split('"').next().unwrap();
        let resp = response(
            Algorithm::Md5,
            "alice",
            "switchboard",
            "pw",
            "REGISTER",
            "sip:gw",
            nonce,
            Some(("00000001", "c")),
        );
        let header = format!(
            r#"Digest username="alice", realm="switchboard", nonce="{nonce}", uri="sip:gw", response="{resp}", algorithm=MD5, qop=auth, nc=00000001, cnonce="c""#
        );
        let pw = |u: &str| (u == "alice").then(|| "pw".to_owned());
        assert_eq!(auth.check(Some(&header), "REGISTER", 1010, pw), Ok("alice".into()));
        assert_eq!(
            auth.check(Some(&header), "REGISTER", 1000 + 301, pw),
            Err(Refused::Challenge),
            "stale nonce"
        );
        assert_eq!(auth.check(Some(&header.replace("pw", "x")), "INVITE", 1010, pw), Err(Refused::Forbidden));
        assert_eq!(
            auth.check(Some("NoOneKnowsThisScheme opaque-data=here"), "REGISTER", 1010, pw),
            Err(Refused::Challenge)
        );
        assert_eq!(auth.check(None, "REGISTER", 1010, pw), Err(Refused::Challenge));
    }
}
