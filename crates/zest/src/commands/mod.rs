//! Dispatch of the subcommands; one module per command family.

mod addrbook;
mod backup;
mod bench;
mod check;
mod deliver;
mod domain;
mod list;
mod queue;
mod serve;
mod sieve;
mod user;

use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use store::{AccountId, EmailAddress, OpenOptions, Store};
use tokio::sync::OnceCell;
use zest_core::config::{Config, LoadedConfig};

use crate::EXIT_UNAVAILABLE;
use crate::cli::Command;

pub struct App {
    pub config: Config,
    pub config_path: Option<std::path::PathBuf>,
    store: OnceCell<Store>,
}

impl App {
    pub fn new(loaded: LoadedConfig) -> Self {
        App {
            config: loaded.config,
            config_path: loaded.path,
            store: OnceCell::new(),
        }
    }

    /// Opens (creating and migrating if needed) the database named by the config.
    pub async fn store(&self) -> Result<&Store> {
        self.store
            .get_or_try_init(|| async {
                let path = self.config.db_path();
                Store::open_with(
                    &path,
                    OpenOptions {
                        hostname: self.config.hostname.clone(),
                        readers: 4,
                    },
                )
                .await
                .with_context(|| format!("opening {}", path.display()))
            })
            .await
    }

    /// The account of a user address, or an error naming it.
    pub async fn account(&self, address: &str) -> Result<AccountId> {
        let address = EmailAddress::parse(address)?;
        self.store()
            .await?
            .account(&address)
            .await?
            .map(|a| a.id)
            .ok_or_else(|| anyhow!("no user {address}"))
    }

    /// Lets queued writes finish and the WAL be checkpointed before exit.
    async fn close(&self) {
        if let Some(store) = self.store.get() {
            store.close().await;
        }
    }
}

pub async fn run(app: &App, command: Command) -> Result<ExitCode> {
    let result = dispatch(app, command).await;
    app.close().await;
    result
}

async fn dispatch(app: &App, command: Command) -> Result<ExitCode> {
    match command {
        Command::Serve => serve::serve(app).await,
        Command::Imapd => serve::one(app, serve::Daemon::Imapd).await,
        Command::Submission => serve::one(app, serve::Daemon::Submission).await,
        Command::Mda => serve::one(app, serve::Daemon::Mda).await,
        Command::Managesieve => serve::one(app, serve::Daemon::ManageSieve).await,
        Command::Admin => serve::one(app, serve::Daemon::Admin).await,
        Command::Domain(c) => domain::run(app, c).await,
        Command::User(c) => user::run(app, c).await.map(|()| ExitCode::SUCCESS),
        Command::Alias(c) => user::alias(app, c).await.map(|()| ExitCode::SUCCESS),
        Command::Addrbook(c) => addrbook::run(app, c).await,
        Command::List(c) => list::run(app, c).await.map(|()| ExitCode::SUCCESS),
        Command::Sieve(c) => sieve::run(app, c).await.map(|()| ExitCode::SUCCESS),
        Command::Check { health, daemon } => check::run(app, health, daemon.as_deref()).await,
        Command::Bench(c) => bench::run(app, c).await.map(|()| ExitCode::SUCCESS),
        Command::Deliver(a) => deliver::run(app, a).await,
        Command::Queue(c) => queue::run(app, c).await,
        Command::Backup { dir } => backup::backup(app, &dir).await,
        Command::Restore { dir, force } => backup::restore(app, &dir, force).await,
    }
}

/// A command of the contract whose service this build does not have yet.
pub fn unavailable(what: &str, part: &str) -> Result<ExitCode> {
    eprintln!("zest: {what} is not available: {part} is not built yet in this version");
    Ok(ExitCode::from(EXIT_UNAVAILABLE))
}
