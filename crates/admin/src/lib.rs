//! The admin daemon: the web UI (server-rendered HTML whose every form works
//! without JavaScript) and the JSON API under `/api/v1/`, on `[admin] listen`
//! and, with the `[tls]` certificate, `[admin] listen_tls`.

mod access;
mod addrbook;
mod aliases;
mod api;
mod app;
mod dashboard;
mod dns;
mod domains;
mod error;
#[cfg(test)]
mod hostile;
mod lists;
mod queue;
mod render;
mod session;
mod sieve;
mod tokens;
mod users;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tower_service::Service;
use zest_core::config::Config;
use zest_core::listen::bind_all;
use zest_core::shutdown::Shutdown;
use zest_core::tls::TlsAcceptor;

pub use app::{ConnInfo, router};
pub use error::Error;

/// The admin daemon's listeners and its application.
pub struct Daemon {
    plain: Vec<(TcpListener, SocketAddr)>,
    tls: Vec<(TcpListener, SocketAddr)>,
    acceptor: Option<TlsAcceptor>,
    app: Router,
    shutdown: Shutdown,
    grace: Duration,
}

impl Daemon {
    /// Binds every listener the config names (port 0 allowed) and loads TLS
    /// when `listen_tls` is on.
    pub async fn bind(
        config: Arc<Config>,
        store: store::Store,
        shutdown: Shutdown,
    ) -> Result<Daemon, Error> {
        let plain = bind_all(config.admin.listen.addrs())
            .await
            .map_err(|(a, e)| Error::Bind(a, e))?;
        let tls = bind_all(config.admin.listen_tls.addrs())
            .await
            .map_err(|(a, e)| Error::Bind(a, e))?;
        let acceptor = if tls.is_empty() {
            None
        } else {
            Some(TlsAcceptor::load(&config)?)
        };
        let grace = Duration::from_secs(config.limits.shutdown_grace_secs);
        let app = app::router(config, store)?;
        Ok(Daemon {
            plain,
            tls,
            acceptor,
            app,
            shutdown,
            grace,
        })
    }

    /// Whether this build has the daemon (for `zest serve`).
    pub fn built() -> bool {
        true
    }

    /// Where each listener ended up: ("http", addr), ("https", addr).
    pub fn local_addrs(&self) -> Vec<(&'static str, SocketAddr)> {
        self.plain
            .iter()
            .map(|(_, a)| ("http", *a))
            .chain(self.tls.iter().map(|(_, a)| ("https", *a)))
            .collect()
    }

    /// Serves until shutdown is triggered, then lets open requests finish
    /// within the grace period.
    pub async fn run(self) -> Result<(), Error> {
        let mut loops = tokio::task::JoinSet::new();
        for (listener, _) in self.plain {
            loops.spawn(accept_loop(
                listener,
                None,
                self.app.clone(),
                self.shutdown.clone(),
            ));
        }
        for (listener, _) in self.tls {
            loops.spawn(accept_loop(
                listener,
                self.acceptor.clone(),
                self.app.clone(),
                self.shutdown.clone(),
            ));
        }
        while loops.join_next().await.is_some() {}
        let report = self.shutdown.drain(self.grace).await;
        tracing::info!(
            finished = report.finished,
            cut = report.cut,
            "admin stopped"
        );
        Ok(())
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    app: Router,
    shutdown: Shutdown,
) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.triggered() => return,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // EMFILE and friends: back off briefly rather than spin.
                tracing::warn!(error = %e, "admin accept failed");
                tokio::select! {
                    _ = shutdown.triggered() => return,
                    _ = tokio::time::sleep(Duration::from_millis(100)) => continue,
                }
            }
        };
        let (app, acceptor, sd) = (app.clone(), acceptor.clone(), shutdown.clone());
        shutdown.spawn(async move {
            let _ = stream.set_nodelay(true);
            match acceptor {
                None => serve_connection(stream, peer, false, app, sd).await,
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(tls) => serve_connection(tls, peer, true, app, sd).await,
                    Err(e) => tracing::debug!(%peer, error = %e, "admin TLS handshake failed"),
                },
            }
        });
    }
}

async fn serve_connection<IO>(io: IO, peer: SocketAddr, secure: bool, app: Router, sd: Shutdown)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let info = ConnInfo { peer, secure };
    let service =
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(info);
            let mut app = app.clone();
            async move { app.call(req).await }
        });
    let builder = auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!(%peer, error = %e, "admin connection ended");
            }
        }
        _ = sd.triggered() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
