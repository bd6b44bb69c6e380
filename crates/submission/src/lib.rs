//! The submission daemon (RFC 6409, with the Lemonade profile's SMTP
//! extensions) and the queue runner that delivers everything leaving Zest.

mod auth;
mod burl;
mod data;
mod error;
mod mail;
mod message;
pub mod queue;
mod reply;
mod session;
mod stream;
mod tls_client;

use std::net::SocketAddr;
use std::sync::Arc;

use store::Store;
use tokio::net::TcpListener;
use tracing::Instrument;
use zest_core::auth::Authenticator;
use zest_core::config::Config;
use zest_core::limits::{ConnectionLimiter, Limits};
use zest_core::listen::bind_all;
use zest_core::shutdown::Shutdown;
use zest_core::tls::TlsAcceptor;

pub use error::Error;
pub use message::rfc3339;

use session::Shared;
use stream::Stream;

/// The submission listeners and the queue runner.
pub struct Daemon {
    shared: Arc<Shared>,
    listeners: Vec<(&'static str, bool, TcpListener)>,
    runner: queue::Runner,
    shutdown: Shutdown,
}

impl Daemon {
    /// Binds every listener the config names (port 0 allowed) and loads TLS.
    pub async fn bind(
        config: Arc<Config>,
        store: Store,
        shutdown: Shutdown,
    ) -> Result<Daemon, Error> {
        let tls = TlsAcceptor::load(&config)?;
        let auth = Arc::new(Authenticator::new(store.clone(), &config.auth));
        let limits = Limits::from(config.as_ref());
        let mut listeners = Vec::new();
        for (name, implicit, listen) in [
            ("submission", false, &config.submission.listen),
            ("submissions", true, &config.submission.listen_tls),
        ] {
            let bound = bind_all(listen.addrs())
                .await
                .map_err(|(addr, source)| Error::Bind { addr, source })?;
            for (l, _) in bound {
                listeners.push((name, implicit, l));
            }
        }
        let runner = queue::Runner::new(config.clone(), store.clone(), shutdown.clone())?;
        let identity = zest_core::submit::SubmitIdentity::load_or_create(&config.data_dir)?;
        let certificate = tls.resolver().chain().into_iter().next();
        let burl = burl::Burl::new(&config, &identity, certificate);
        Ok(Daemon {
            shared: Arc::new(Shared {
                config,
                store,
                auth,
                tls,
                limits,
                burl,
            }),
            listeners,
            runner,
            shutdown,
        })
    }

    /// Where each listener ended up: ("submission", addr), ("submissions", addr).
    pub fn local_addrs(&self) -> Vec<(&'static str, SocketAddr)> {
        self.listeners
            .iter()
            .filter_map(|(name, _, l)| l.local_addr().ok().map(|a| (*name, a)))
            .collect()
    }

    /// Serves until shutdown is triggered, then drains connections.
    pub async fn run(self) -> Result<(), Error> {
        let limiter = ConnectionLimiter::new(self.shared.limits.max_connections_per_ip);
        let mut tasks = Vec::new();
        for (name, implicit, listener) in self.listeners {
            let shared = self.shared.clone();
            let shutdown = self.shutdown.clone();
            let limiter = limiter.clone();
            tasks.push(tokio::spawn(accept_loop(
                name, implicit, listener, shared, shutdown, limiter,
            )));
        }
        let runner = tokio::spawn(self.runner.run());
        self.shutdown.triggered().await;
        for t in tasks {
            let _ = t.await;
        }
        self.shutdown.drain(self.shared.limits.shutdown_grace).await;
        // A delivery in flight gets the grace period too; one cut short
        // leaves its lease, which the next start recovers.
        let abort = runner.abort_handle();
        if tokio::time::timeout(self.shared.limits.shutdown_grace, runner)
            .await
            .is_err()
        {
            abort.abort();
        }
        Ok(())
    }
}

async fn accept_loop(
    name: &'static str,
    implicit: bool,
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: Shutdown,
    limiter: ConnectionLimiter,
) {
    let mut next_id: u64 = 0;
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.triggered() => return,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(listener = name, error = %e, "accept failed");
                continue;
            }
        };
        next_id += 1;
        let span = tracing::info_span!("conn", id = next_id, %peer, listener = name);
        let Some(guard) = limiter.try_acquire(peer.ip()) else {
            tokio::spawn(
                async move {
                    use tokio::io::AsyncWriteExt;
                    tracing::info!("too many connections from this address");
                    let mut tcp = tcp;
                    let _ = tcp.write_all(b"421 4.7.0 Too many connections\r\n").await;
                }
                .instrument(span),
            );
            continue;
        };
        let shared = shared.clone();
        let sd = shutdown.clone();
        shutdown.spawn(
            async move {
                let _guard = guard;
                let _ = tcp.set_nodelay(true);
                let stream = if implicit {
                    match shared.tls.accept(tcp).await {
                        Ok(tls) => Stream::Tls(Box::new(tls)),
                        Err(e) => {
                            tracing::info!(error = %e, "TLS handshake failed");
                            return;
                        }
                    }
                } else {
                    Stream::Plain(tcp)
                };
                session::serve(shared, stream, peer, sd).await;
            }
            .instrument(span),
        );
    }
}
