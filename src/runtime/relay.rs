//! The media relay link (`--rtpengine HOST:PORT`): one task owns a UDP
//! socket to rtpengine's ng port and the sans-IO [`NgClient`], turns the
//! bridge's [`RelayRequest`]s into ng `offer`/`answer`/`delete` commands with
//! the flags for each side, hands the rewritten SDPs back to the bridge, and
//! reports rtpengine's health (ng `ping` at start and every 10 s) to the
//! bridge and `/metrics`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use switchboard_bridge::media::Profile;
use switchboard_bridge::{RelayOp, RelayRequest};
use switchboard_rtpengine::{MediaFlags, NgClient, NgConfig, NgEvent, RequestId, commands};
use tokio::net::UdpSocket;
use tokio::sync::mpsc::UnboundedReceiver;

use super::Shared;

/// The flags for a party speaking `profile`.
fn flags_towards(profile: Profile) -> MediaFlags {
    match profile {
        Profile::WebRtc => MediaFlags::towards_browser(),
        Profile::PlainRtp => MediaFlags::towards_legacy(),
        Profile::Sdes => MediaFlags::towards_sdes_srtp(),
    }
}

/// The flags of an answer going back to an offerer speaking `profile`. The
/// offerer's side was set up by its offer: towards a WebRTC offerer the
/// answer keeps the DTLS role and profile the offer implied (forcing
/// `DTLS: passive` or the transport protocol again here leaves the browser's
/// DTLS handshake unanswered with rtpengine 10.5).
fn answer_flags(profile: Profile) -> MediaFlags {
    match profile {
        Profile::WebRtc => {
            MediaFlags { transport_protocol: None, dtls: None, ..MediaFlags::towards_browser() }
        }
        other => flags_towards(other),
    }
}

/// Runs the link until the server stops.
pub(crate) async fn run(
    shared: Arc<Shared>,
    server: SocketAddr,
    mut requests: UnboundedReceiver<RelayRequest>,
) {
    let any: SocketAddr =
        if server.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { "[::]:0".parse().expect("literal") };
    let socket = match UdpSocket::bind(any).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "rtpengine: cannot open a UDP socket");
            return;
        }
    };
    // Call ids of this run: a restarted gateway never touches another run's calls.
    let run_id = std::hash::BuildHasher::hash_one(&std::hash::RandomState::new(), 7u8) % 1_000_000;
    let mut client = NgClient::new(NgConfig::default(), Instant::now());
    // Our request ids -> the bridge's (None: a delete, whose reply nobody waits for).
    let mut waiting: HashMap<RequestId, Option<u64>> = HashMap::new();
    let mut buf = vec![0u8; 65_536];
    let mut shutdown = shared.shutdown.clone();
    loop {
        while let Some(datagram) = client.poll_transmit() {
            if let Err(e) = socket.send_to(&datagram, server).await {
                tracing::debug!(error = %e, "rtpengine: send failed");
            }
        }
        while let Some(event) = client.poll_event() {
            match event {
                NgEvent::Health { up } => {
                    if up {
                        tracing::info!(%server, "rtpengine: up");
                    } else {
                        tracing::warn!(%server, "rtpengine: not answering; calls that need it are refused");
                    }
                    shared.rtpengine_up.store(u64::from(up), Ordering::Relaxed);
                    let mut state = shared.lock();
                    state.bridge.set_relay_up(up);
                    state.flush();
                }
                NgEvent::Reply { id, result } => {
                    let Some(Some(bridge_id)) = waiting.remove(&id) else { continue };
                    let result = match result {
                        Ok(reply) => commands::reply_sdp(&reply)
                            .map(str::to_owned)
                            .ok_or_else(|| "rtpengine's reply has no SDP".to_owned()),
                        Err(e) => Err(e.to_string()),
                    };
                    if let Err(why) = &result {
                        tracing::info!(%why, "rtpengine refused a request");
                    }
                    let mut state = shared.lock();
                    state.bridge.handle_relay_reply(bridge_id, result, Instant::now());
                    state.flush();
                }
                _ => {}
            }
        }
        let wake =
            client.poll_timeout().unwrap_or_else(|| Instant::now() + std::time::Duration::from_secs(1));
        tokio::select! {
            received = socket.recv_from(&mut buf) => {
                if let Ok((n, from)) = received && from == server {
                    client.handle_datagram(&buf[..n], Instant::now());
                }
            }
            Some(request) = requests.recv() => {
                let call_id = format!("switchboard-{run_id}-{}", request.call.0);
                let (command, reply_to) = match &request.op {
                    RelayOp::Offer { sdp, from_tag, towards } => {
                        (commands::offer(&call_id, from_tag, sdp, &flags_towards(*towards)), Some(request.id))
                    }
                    RelayOp::Answer { sdp, from_tag, to_tag, towards } => {
                        (commands::answer(&call_id, from_tag, to_tag, sdp, &answer_flags(*towards)), Some(request.id))
                    }
                    RelayOp::Delete => (commands::delete(&call_id, None), None),
                    _ => continue,
                };
                let id = client.request(&command, Instant::now());
                waiting.insert(id, reply_to);
            }
            () = tokio::time::sleep_until(wake.into()) => client.handle_timeout(Instant::now()),
            _ = shutdown.changed() => return,
        }
    }
}
