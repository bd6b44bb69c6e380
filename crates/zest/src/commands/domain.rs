//! `zest domain`: domains Zest receives mail for.

use std::process::ExitCode;

use anyhow::Result;

use super::App;

/// The DKIM selector of keys `zest domain add` makes.
const DKIM_SELECTOR: &str = "zest";
use crate::cli::DomainCmd;

pub async fn run(app: &App, cmd: DomainCmd) -> Result<ExitCode> {
    let store = app.store().await?;
    match cmd {
        DomainCmd::Add { domain } => {
            let d = store.create_domain(&domain).await?;
            let kind = app.config.submission.dkim_algorithm.clone();
            let key = tokio::task::spawn_blocking(move || {
                submission::queue::dkim::generate(&kind, DKIM_SELECTOR)
            })
            .await?
            .map_err(|e| anyhow::anyhow!("generating the DKIM key: {e}"))?;
            store.set_dkim_key(&d.name, Some(key)).await?;
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
        DomainCmd::Dns { domain } => {
            let name = store::DomainName::parse(&domain)?;
            if !store.is_local_domain(name.as_str()).await? {
                anyhow::bail!("no domain {}", name.as_str());
            }
            let key = store.dkim_key(name.as_str()).await?;
            let records = submission::queue::dkim::dns_records(
                name.as_str(),
                &app.config.hostname,
                key.as_ref(),
            )
            .map_err(|e| anyhow::anyhow!("the DKIM key of {}: {e}", name.as_str()))?;
            for r in records {
                println!("{r}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
