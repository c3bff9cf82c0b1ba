//! SIP over WebSocket (RFC 7118) at `/sip`: one SIP message per frame,
//! answered by the same UAS as UDP and TCP, so that JsSIP and SIP.js phones
//! in a browser can register (and, with the rest of issue #4, call).

use std::sync::Arc;

use axum::extract::ws::{Message as WsMessage, WebSocket};
use futures_util::{SinkExt, StreamExt};
use switchboard_sip::uas::response_bytes;

use super::Shared;

/// Serves one SIP WebSocket connection until it closes.
pub(crate) async fn run(socket: WebSocket, shared: Arc<Shared>) {
    let (mut sink, mut stream) = socket.split();
    while let Some(Ok(frame)) = stream.next().await {
        let bytes = match &frame {
            WsMessage::Text(t) => t.as_bytes().to_vec(),
            WsMessage::Binary(b) => b.to_vec(),
            WsMessage::Close(_) => break,
            _ => continue,
        };
        // RFC 7118 §5: a WebSocket message is one SIP message; CRLF keepalives are not used here.
        let verdict = super::sip::handle(&shared, &bytes);
        if let Some(reply) = response_bytes(&bytes, &verdict, &super::sip::next_tag(&shared))
            && sink.send(WsMessage::Text(String::from_utf8_lossy(&reply).into_owned().into())).await.is_err()
        {
            break;
        }
    }
}
