//! The embedded STUN server: a UDP socket around `switchboard-stun`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use switchboard_stun::{Handled, handle_datagram};
use tokio::net::UdpSocket;

use super::Shared;

/// Answers Binding requests until the server stops.
pub(crate) async fn run(socket: UdpSocket, shared: Arc<Shared>) {
    let mut buf = vec![0u8; 1500];
    let mut shutdown = shared.shutdown.clone();
    loop {
        tokio::select! {
            received = socket.recv_from(&mut buf) => {
                let Ok((n, source)) = received else { continue };
                // On a dual-stack socket IPv4 peers arrive as ::ffff:a.b.c.d: report them as IPv4.
                let source = std::net::SocketAddr::new(source.ip().to_canonical(), source.port());
                if let Handled::Reply(reply) = handle_datagram(&buf[..n], source) {
                    shared.stun_requests.fetch_add(1, Ordering::Relaxed);
                    let _ = socket.send_to(&reply, source).await;
                }
            }
            _ = shutdown.changed() => return,
        }
    }
}
