//! A temporary Zest imapd inside the benchmark process: a fresh data
//! directory, domain example.org and users testuser1..N@example.org.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use zest_core::config::{Config, Listen};
use zest_core::shutdown::Shutdown;

pub const DOMAIN: &str = "example.org";

/// A running in-process imapd over a temporary store; dropped data goes with
/// the directory.
pub struct LocalImap {
    pub addr: SocketAddr,
    pub store: store::Store,
    pub dir: tempfile::TempDir,
    config: Arc<Config>,
    shutdown: Shutdown,
    task: tokio::task::JoinHandle<()>,
}

/// What the temporary server is made of.
pub struct LocalSpec<'a> {
    /// Login names, with %d replaced by 1..=users.
    pub user: &'a str,
    pub password: &'a str,
    pub users: usize,
    pub max_connections_per_ip: u64,
}

impl LocalImap {
    pub async fn start(spec: &LocalSpec<'_>) -> Result<LocalImap> {
        let dir = tempfile::tempdir().context("creating a temporary data directory")?;
        let mut config = Config {
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        let loopback: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 0));
        config.imap.listen = Listen::new(vec![loopback]);
        config.imap.listen_tls = Listen::new(Vec::new());
        config.auth.allow_plaintext_on_loopback = true;
        config.limits.max_connections_per_ip = spec.max_connections_per_ip;
        let store = store::Store::open(&dir.path().join("zest.db"))
            .await
            .context("opening the temporary store")?;
        store.create_domain(DOMAIN).await?;
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for n in 1..=spec.users.max(1) {
            let login = spec.user.replace("%d", &n.to_string());
            let address = store::EmailAddress::parse(&login)
                .with_context(|| format!("{login}: not an address in {DOMAIN}"))?;
            let store = store.clone();
            let password = spec.password.to_string();
            tasks.spawn(async move { store.create_account(&address, &password, false).await });
            if tasks.len() >= 4
                && let Some(r) = tasks.join_next().await
            {
                r.context("creating a user")??;
            }
        }
        while let Some(r) = tasks.join_next().await {
            r.context("creating a user")??;
        }
        println!(
            "zest: {} users created in {:.1} s",
            spec.users.max(1),
            started.elapsed().as_secs_f64()
        );
        LocalImap::serve(dir, config, store).await
    }

    /// Stops the daemon, closes the store and opens both again on the same
    /// data directory: nothing is cached in memory afterwards.
    pub async fn restart(self) -> Result<LocalImap> {
        self.shutdown.trigger();
        let _ = self.task.await;
        self.store.close().await;
        let store = store::Store::open(&self.dir.path().join("zest.db"))
            .await
            .context("opening the temporary store again")?;
        LocalImap::serve(self.dir, (*self.config).clone(), store).await
    }

    async fn serve(
        dir: tempfile::TempDir,
        config: Config,
        store: store::Store,
    ) -> Result<LocalImap> {
        let shutdown = Shutdown::new();
        let config = Arc::new(config);
        let daemon = imapd::Daemon::bind(config.clone(), store.clone(), shutdown.clone())
            .await
            .context("starting the temporary imapd")?;
        let addr = daemon
            .local_addrs()
            .into_iter()
            .find(|(name, _)| *name == "imap")
            .map(|(_, a)| a)
            .context("the temporary imapd has no plain listener")?;
        let task = tokio::spawn(async move {
            if let Err(e) = daemon.run().await {
                tracing::error!(error = %e, "temporary imapd stopped");
            }
        });
        Ok(LocalImap {
            addr,
            store,
            dir,
            config,
            shutdown,
            task,
        })
    }

    pub async fn stop(self) {
        self.shutdown.trigger();
        let _ = self.task.await;
        self.store.close().await;
        drop(self.dir);
    }
}
