//! `zest serve` and the one-daemon subcommands: prepare the data directory,
//! database and certificate, start the daemons this build has, and shut down
//! cleanly on SIGTERM or SIGINT.

use std::process::ExitCode;

use anyhow::{Context, Result};
use zest_core::config::Config;

use super::{App, unavailable};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Daemon {
    Imapd,
    Submission,
    Mda,
    ManageSieve,
    Admin,
}

impl Daemon {
    pub const ALL: [Daemon; 5] = [
        Daemon::Imapd,
        Daemon::Submission,
        Daemon::Mda,
        Daemon::ManageSieve,
        Daemon::Admin,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Daemon::Imapd => "imapd",
            Daemon::Submission => "submission",
            Daemon::Mda => "mda",
            Daemon::ManageSieve => "managesieve",
            Daemon::Admin => "admin",
        }
    }

    /// Whether this build contains the daemon.
    pub fn built(self) -> bool {
        matches!(
            self,
            Daemon::Imapd | Daemon::Admin | Daemon::Submission | Daemon::ManageSieve | Daemon::Mda
        )
    }

    /// Binds a built daemon's listeners and runs it in a task that ends once
    /// shutdown is triggered and its connections have drained.
    pub async fn start(
        self,
        config: std::sync::Arc<Config>,
        store: store::Store,
        shutdown: zest_core::shutdown::Shutdown,
    ) -> Result<tokio::task::JoinHandle<()>> {
        let name = self.name();
        // Every daemon crate has the same shape: bind, report, run.
        macro_rules! start {
            ($daemon:path) => {{
                let d = <$daemon>::bind(config, store, shutdown)
                    .await
                    .with_context(|| format!("starting {name}"))?;
                for (listener, addr) in d.local_addrs() {
                    println!("{name}: {listener} on {addr}");
                }
                Ok(tokio::spawn(async move {
                    if let Err(e) = d.run().await {
                        tracing::error!(error = %e, "{name} stopped");
                    }
                }))
            }};
        }
        match self {
            Daemon::Imapd => start!(imapd::Daemon),
            Daemon::Submission => start!(submission::Daemon),
            Daemon::Mda => start!(mda::Daemon),
            Daemon::ManageSieve => start!(managesieve::Daemon),
            Daemon::Admin => start!(admin::Daemon),
        }
    }

    /// The addresses the daemon listens on, per the config.
    pub fn listen(self, c: &Config) -> Vec<std::net::SocketAddr> {
        let lists = match self {
            Daemon::Imapd => vec![&c.imap.listen, &c.imap.listen_tls],
            Daemon::Submission => vec![&c.submission.listen, &c.submission.listen_tls],
            Daemon::Mda => vec![&c.mda.lmtp_listen, &c.mda.smtp_listen],
            Daemon::ManageSieve => vec![&c.managesieve.listen],
            Daemon::Admin => vec![&c.admin.listen, &c.admin.listen_tls],
        };
        lists
            .into_iter()
            .flat_map(|l| l.addrs().iter().copied())
            .collect()
    }
}

/// What every daemon needs before it starts: the database (created and
/// migrated) and the TLS certificate (generated on first start).
async fn prepare(app: &App) -> Result<()> {
    app.store().await?;
    zest_core::tls::load_server_config(&app.config).context("setting up TLS")?;
    Ok(())
}

pub async fn serve(app: &App) -> Result<ExitCode> {
    // Before anything is printed: a supervisor may send SIGTERM as soon as it
    // sees output, and that must shut down cleanly, not kill the process.
    let mut signals = zest_core::shutdown::Signals::install()?;
    zest_core::shutdown::reload_certificates_on_hangup()?;
    prepare(app).await?;
    let store = app.store().await?;
    let c = &app.config;
    match &app.config_path {
        Some(p) => println!("zest {}: config {}", env!("CARGO_PKG_VERSION"), p.display()),
        None => println!(
            "zest {}: built-in defaults (no config file)",
            env!("CARGO_PKG_VERSION")
        ),
    }
    println!(
        "data in {} (database {})",
        c.data_dir.display(),
        c.db_path().display()
    );
    let mut running = 0;
    let shutdown = zest_core::shutdown::Shutdown::new();
    let config = std::sync::Arc::new(c.clone());
    let mut handles = Vec::new();
    for d in Daemon::ALL {
        let addrs: Vec<String> = d.listen(c).iter().map(|a| a.to_string()).collect();
        if d.built() {
            handles.push(
                d.start(config.clone(), store.clone(), shutdown.clone())
                    .await?,
            );
            running += 1;
        } else {
            println!(
                "{}: not built yet in this version (its addresses: {})",
                d.name(),
                addrs.join(", ")
            );
        }
    }
    if store.list_accounts(None).await?.is_empty() {
        println!("No users yet. Create the first one (an admin) with:");
        println!("  zest domain add example.org");
        println!("  zest user add you@example.org --password-stdin --admin");
    }
    if let Some(addr) = c.admin.listen.addrs().first() {
        println!("admin UI: http://{addr}/");
    }
    println!("{running} daemons running; stop with Ctrl-C or SIGTERM");
    let signal = signals.recv().await;
    tracing::info!(?signal, "shutting down");
    shutdown.trigger();
    for h in handles {
        let _ = h.await;
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn one(app: &App, daemon: Daemon) -> Result<ExitCode> {
    if !daemon.built() {
        return unavailable(
            &format!("zest {}", daemon.name()),
            &format!("the {} daemon", daemon.name()),
        );
    }
    let mut signals = zest_core::shutdown::Signals::install()?;
    zest_core::shutdown::reload_certificates_on_hangup()?;
    prepare(app).await?;
    let store = app.store().await?;
    let shutdown = zest_core::shutdown::Shutdown::new();
    let handle = daemon
        .start(
            std::sync::Arc::new(app.config.clone()),
            store.clone(),
            shutdown.clone(),
        )
        .await?;
    let signal = signals.recv().await;
    tracing::info!(?signal, "shutting down");
    shutdown.trigger();
    let _ = handle.await;
    Ok(ExitCode::SUCCESS)
}
