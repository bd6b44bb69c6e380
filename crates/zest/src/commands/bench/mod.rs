//! `zest bench`: measurements of the store and of the daemons over their
//! protocols, against Zest and, in the same run, against a peer server.

mod forward;
mod imap;
mod local;
mod scale;
mod store;
mod submission;
mod system;

use anyhow::Result;

use super::App;
use crate::cli::BenchCmd;

pub async fn run(app: &App, cmd: BenchCmd) -> Result<()> {
    match cmd {
        BenchCmd::Store {
            dir,
            contacts,
            messages,
        } => self::store::run(app, dir, contacts, messages).await,
        BenchCmd::FeedWriter { db, account, count } => {
            self::store::feed_writer(&db, &account, count).await
        }
        BenchCmd::Imap(args) => imap::run(args).await,
        BenchCmd::ImapScale(args) => scale::run(args).await,
        BenchCmd::Forward(args) => forward::run(args).await,
        BenchCmd::Submission(args) => submission::run(args).await,
        BenchCmd::ImapIdleClients { addr, count } => scale::idle_clients(addr, count).await,
    }
}
