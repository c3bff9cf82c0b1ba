//! SIP over WebSocket (RFC 7118) at `/sip`: one SIP message per frame, to
//! the same agent as UDP and TCP, so that JsSIP and SIP.js phones in a
//! browser can register, call and be called (requests to them reuse this
//! connection, RFC 7118 §5.4).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ws::{Message as WsMessage, WebSocket};
use futures_util::{SinkExt, StreamExt};
use switchboard_sip::flow::{Flow, Transport};
use tokio::sync::mpsc::unbounded_channel;

use super::Shared;
use super::sip::SipInput;

/// Serves one SIP WebSocket connection until it closes.
pub(crate) async fn run(
    socket: WebSocket,
    shared: Arc<Shared>,
    remote: SocketAddr,
    local: SocketAddr,
    secure: bool,
) {
    let conn = shared.next_conn();
    let (tx, mut rx) = unbounded_channel::<Vec<u8>>();
    let _ = shared.sip_tx.send(SipInput::Opened { conn, tx, remote, outbound: false });
    let transport = if secure { Transport::Wss } else { Transport::Ws };
    let flow = Flow { transport, remote, local, conn: Some(conn) };
    let (mut sink, mut stream) = socket.split();
    let mut shutdown = shared.shutdown.clone();
    loop {
        tokio::select! {
            frame = stream.next() => {
                let bytes = match frame {
                    Some(Ok(WsMessage::Text(t))) => t.as_bytes().to_vec(),
                    Some(Ok(WsMessage::Binary(b))) => b.to_vec(),
                    Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                };
                // RFC 7118 §5: a WebSocket message is one SIP message.
                let _ = shared.sip_tx.send(SipInput::Message { flow, bytes });
            }
            out = rx.recv() => match out {
                Some(bytes) => {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    if sink.send(WsMessage::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
            _ = shutdown.changed() => break,
        }
    }
    let _ = shared.sip_tx.send(SipInput::Closed { conn, remote, outbound: false });
}
