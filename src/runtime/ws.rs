//! One WebSocket connection: frames in to the hub, the hub's output out,
//! pings, the idle timeout, and shutdown.

use std::sync::Arc;
use std::time::Instant;

use super::{Outbox, Shared};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};

/// Runs one connection until the peer leaves, goes silent, or the server stops.
pub(crate) async fn run(
    socket: WebSocket,
    shared: Arc<Shared>,
    host: Option<String>,
    permissions: switchboard_browser::Permissions,
) {
    let id = shared.next_peer_id();
    let outbox = Arc::new(Outbox::default());
    {
        // Scoped, so that nothing of the welcome stays in this task's state.
        let ice_servers =
            super::ice::ice_servers_for(&shared.config, shared.stun_port, host.as_deref(), &id.to_string());
        drop(host);
        let mut state = shared.lock();
        state.connections.insert(id, outbox.clone());
        state.hub.connect(id, Instant::now(), &ice_servers, permissions);
        state.flush();
    }
    tracing::debug!(peer = %id, "connected");
    let (mut sink, mut stream) = socket.split();
    let mut ping = tokio::time::interval(shared.config.ping_interval);
    ping.tick().await;
    let mut last_heard = Instant::now();
    let mut shutdown = shared.shutdown.clone();
    let stopping = async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    tokio::pin!(stopping);
    let reason = loop {
        tokio::select! {
            frame = stream.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    last_heard = Instant::now();
                    let mut state = shared.lock();
                    state.hub.handle_text(id, text.as_str(), last_heard);
                    state.flush();
                }
                Some(Ok(Message::Binary(_))) => {
                    last_heard = Instant::now();
                    let mut state = shared.lock();
                    state.hub.handle_binary(id);
                    state.flush();
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => last_heard = Instant::now(),
                Some(Ok(Message::Close(_))) | None => break "closed by peer",
                Some(Err(_)) => break "protocol error",
            },
            out = outbox.pop() => match out {
                Some(text) => {
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        break "write failed";
                    }
                }
                None => break "send queue overflow",
            },
            _ = ping.tick() => {
                if last_heard.elapsed() > shared.config.idle_timeout {
                    break "idle timeout";
                }
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    break "write failed";
                }
            }
            () = &mut stopping => {
                let frame = CloseFrame { code: 1001, reason: "server shutting down".into() };
                let _ = sink.send(Message::Close(Some(frame))).await;
                break "server shutdown";
            }
        }
    };
    tracing::debug!(peer = %id, reason, "disconnected");
    let mut state = shared.lock();
    state.connections.remove(&id);
    state.hub.disconnect_at(id, Instant::now());
    state.flush();
}
