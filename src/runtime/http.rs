//! HTTP routes: `/ws`, the JS client, the demo page, `/healthz`, `/metrics`, `/api/calls`.

use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::Shared;

const CLIENT_JS: &str = include_str!("../../clients/js/switchboard.js");
const CLIENT_DTS: &str = include_str!("../../clients/js/switchboard.d.ts");
const DEMO_HTML: &str = include_str!("../../clients/js/demo.html");

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/ws", get(websocket))
        .route("/sip", get(sip_websocket))
        .route("/", get(|| async { Html(DEMO_HTML) }))
        .route(
            "/switchboard.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], CLIENT_JS) }),
        )
        .route(
            "/switchboard.d.ts",
            get(|| async { ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], CLIENT_DTS) }),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics))
        .route("/api/calls", get(api_calls))
        .with_state(shared)
}

async fn websocket(
    State(shared): State<Arc<Shared>>,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
    upgrade: WebSocketUpgrade,
) -> Response {
    let permissions = match &shared.config.auth_secret {
        None => switchboard_browser::Permissions::all(),
        Some(secret) => {
            let token = uri.query().unwrap_or_default().split('&').find_map(|kv| kv.strip_prefix("token="));
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            match token.map(|t| switchboard_browser::token::verify(t, secret.as_bytes(), now)) {
                Some(Ok(permissions)) => permissions,
                Some(Err(e)) => {
                    return (axum::http::StatusCode::UNAUTHORIZED, format!("{e}\n")).into_response();
                }
                None => {
                    return (axum::http::StatusCode::UNAUTHORIZED, "this server needs ?token=<JWT>\n")
                        .into_response();
                }
            }
        }
    };
    // The host the browser used, without the port: the embedded STUN server's URL uses it.
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).map(|h| {
        let h = h.trim();
        match h.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => {
                name.trim_matches(['[', ']']).to_owned()
            }
            _ => h.trim_matches(['[', ']']).to_owned(),
        }
    });
    let limit = shared.config.hub.max_message_bytes;
    // Messages up to 4x the limit are read and answered with `too-large`;
    // beyond that the connection is closed by the WebSocket layer.
    upgrade
        .read_buffer_size(256)
        .write_buffer_size(0)
        .max_message_size(limit.saturating_mul(4))
        .max_frame_size(limit.saturating_mul(4))
        .on_upgrade(move |socket| super::ws::run(socket, shared, host, permissions))
}

/// SIP over WebSocket (RFC 7118), subprotocol `sip`.
async fn sip_websocket(State(shared): State<Arc<Shared>>, upgrade: WebSocketUpgrade) -> Response {
    upgrade
        .protocols(["sip"])
        .read_buffer_size(1024)
        .write_buffer_size(0)
        .max_message_size(65_535)
        .max_frame_size(65_535)
        .on_upgrade(move |socket| {
            let (local, secure) = (shared.http_addr, shared.http_tls);
            let remote = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
            super::sip_ws::run(socket, shared, remote, local, secure)
        })
}

/// The calls in progress as `{"calls":[...]}`. With `--auth-secret`, only for a
/// request with `Authorization: Bearer <token>` whose token verifies and limits
/// neither name nor rooms (an operator's token, not a browser's); without one
/// the server is open, and so is this route.
async fn api_calls(State(shared): State<Arc<Shared>>, headers: axum::http::HeaderMap) -> Response {
    if let Some(secret) = &shared.config.auth_secret {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim);
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
        match token.map(|t| switchboard_browser::token::verify(t, secret.as_bytes(), now)) {
            Some(Ok(p)) if p == switchboard_browser::Permissions::all() => {}
            Some(Ok(_)) => {
                let why = "this token limits a name or rooms: /api/calls needs an unrestricted one\n";
                return (axum::http::StatusCode::FORBIDDEN, why).into_response();
            }
            Some(Err(e)) => return (axum::http::StatusCode::UNAUTHORIZED, format!("{e}\n")).into_response(),
            None => {
                let why = "this server needs Authorization: Bearer <JWT>\n";
                return (axum::http::StatusCode::UNAUTHORIZED, why).into_response();
            }
        }
    }
    let calls = shared.lock().active_calls(std::time::Instant::now());
    let body = serde_json::json!({ "calls": calls }).to_string();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn metrics(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let (stats, calls_ended) = {
        let state = shared.lock();
        (state.hub.stats(), state.calls_ended.clone())
    };
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
        let _ = writeln!(
            out,
            "# HELP switchboard_{name} {help}\n# TYPE switchboard_{name} {kind}\nswitchboard_{name} {value}"
        );
    };
    metric("connections", "gauge", "WebSocket peers connected now.", stats.peers as u64);
    metric(
        "connections_total",
        "counter",
        "WebSocket peers accepted since start.",
        shared.connections_total.load(Ordering::Relaxed),
    );
    metric("rooms", "gauge", "Rooms with at least one peer.", stats.rooms as u64);
    metric("sessions", "gauge", "Call sessions in progress.", stats.sessions as u64);
    metric("messages_received_total", "counter", "Messages received from peers.", stats.messages_received);
    metric(
        "messages_relayed_total",
        "counter",
        "Offers, answers, candidates and hangups relayed.",
        stats.messages_relayed,
    );
    metric("errors_total", "counter", "Error replies sent.", stats.errors);
    metric(
        "stun_requests_total",
        "counter",
        "STUN Binding requests answered.",
        shared.stun_requests.load(Ordering::Relaxed),
    );
    let bindings = shared.sip_bindings.load(Ordering::Relaxed);
    metric("sip_bindings", "gauge", "SIP contacts registered now.", bindings);
    metric("sip_calls", "gauge", "SIP calls in progress.", shared.sip_calls.load(Ordering::Relaxed));
    metric(
        "xmpp_up",
        "gauge",
        "1 while the XMPP component link is up.",
        shared.xmpp_up.load(Ordering::Relaxed),
    );
    metric(
        "xmpp_calls",
        "gauge",
        "Calls with an XMPP party in progress.",
        shared.xmpp_calls.load(Ordering::Relaxed),
    );
    if shared.config.rtpengine.is_some() {
        metric(
            "rtpengine_up",
            "gauge",
            "1 while the media relay (rtpengine) answers its ng pings.",
            shared.rtpengine_up.load(Ordering::Relaxed),
        );
    }
    let trunks_up = shared.sip_trunks_up.load(Ordering::Relaxed);
    metric("sip_trunks_registered", "gauge", "Upstream registrations in force.", trunks_up);
    metric("uptime_seconds", "gauge", "Seconds since start.", shared.started.elapsed().as_secs());
    out.push_str(
        "# HELP switchboard_calls_total Calls ended, by leg type pair and outcome.\n# TYPE switchboard_calls_total counter\n",
    );
    for ((pair, outcome), n) in &calls_ended {
        let _ = writeln!(out, "switchboard_calls_total{{pair=\"{pair}\",outcome=\"{outcome}\"}} {n}");
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
