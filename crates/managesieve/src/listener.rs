//! The accept loop: one per listening socket. TLS handshakes (STARTTLS) run in
//! the connection's own task, never here.

use std::sync::Arc;

use tokio::net::TcpListener;
use tracing::Instrument;

use crate::Shared;
use crate::session::Session;

pub(crate) async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    let mut next_id: u64 = 0;
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shared.shutdown.triggered() => return,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                continue;
            }
        };
        next_id += 1;
        let Some(guard) = shared.connections.try_acquire(peer.ip()) else {
            tracing::warn!(%peer, "too many connections from this address");
            let _ = tcp.try_write(b"BYE (TRYLATER) \"Too many connections from your address\"\r\n");
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let span = tracing::info_span!("conn", id = next_id, %peer);
        let s = shared.clone();
        shared.shutdown.spawn(
            async move {
                let _guard = guard;
                Session::new(s, tcp, peer).run().await;
            }
            .instrument(span),
        );
    }
}
