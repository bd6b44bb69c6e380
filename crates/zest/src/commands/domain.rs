//! `zest domain`: domains Zest receives mail for.

use std::process::ExitCode;

use anyhow::Result;

use super::{App, unavailable};
use crate::cli::DomainCmd;

pub async fn run(app: &App, cmd: DomainCmd) -> Result<ExitCode> {
    let store = app.store().await?;
    match cmd {
        DomainCmd::Add { domain } => {
            let d = store.create_domain(&domain).await?;
            println!("added domain {}", d.name);
        }
        DomainCmd::Del { domain } => {
            store.delete_domain(&domain).await?;
            println!("deleted domain {domain}");
        }
        DomainCmd::List => {
            for d in store.list_domains().await? {
                println!("{}\t{} users\t{} aliases", d.name, d.accounts, d.aliases);
            }
        }
        DomainCmd::Dns { .. } => {
            // The records include the domain's DKIM key, which the submission
            // service generates and signs with.
            return unavailable("zest domain dns", "DKIM signing in the submission service");
        }
    }
    Ok(ExitCode::SUCCESS)
}
