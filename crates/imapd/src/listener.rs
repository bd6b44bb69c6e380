//! Accept loops: one per listening socket. TLS handshakes run in the
//! connection's own task, never here.

use std::sync::Arc;

use tokio::net::TcpListener;
use tracing::Instrument;

use crate::Shared;
use crate::session::{Session, Stream};

pub(crate) async fn accept_loop(shared: Arc<Shared>, listener: TcpListener, implicit_tls: bool) {
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
            let _ =
                tcp.try_write(b"* BYE [UNAVAILABLE] Too many connections from your address\r\n");
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let span = tracing::info_span!("conn", id = next_id, %peer);
        let s = shared.clone();
        shared.shutdown.spawn(
            async move {
                let _guard = guard;
                let stream = if implicit_tls {
                    match s.tls.accept(tcp).await {
                        Ok(t) => Stream::Tls(Box::new(t)),
                        Err(e) => {
                            tracing::info!(error = %e, "TLS handshake failed");
                            return;
                        }
                    }
                } else {
                    Stream::Plain(tcp)
                };
                let mut session = Session::new(s, stream, peer);
                session.run().await;
                session.close().await;
            }
            .instrument(span),
        );
    }
}
