//! `zest sieve`: storing users' scripts. Compiling them is the delivery
//! agent's (and ManageSieve's) job; here they are stored as given.

use std::io::{Read, Write};

use anyhow::{Context, Result, bail};

use super::App;
use crate::cli::SieveCmd;

pub async fn run(app: &App, cmd: SieveCmd) -> Result<()> {
    match cmd {
        SieveCmd::Put {
            user,
            name,
            file,
            activate,
        } => {
            let account = app.account(&user).await?;
            let content = if file.as_os_str() == "-" {
                let mut v = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut v)
                    .context("reading the script from stdin")?;
                v
            } else {
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?
            };
            let max = app.config.sieve.max_script_size;
            if content.len() as u64 > max {
                bail!("the script is {} bytes; the limit is {max}", content.len());
            }
            if std::str::from_utf8(&content).is_err() {
                bail!("the script is not valid UTF-8 (RFC 5228 2.2)");
            }
            // The same compiler the MDA and ManageSieve use: a script that
            // would not run is refused here, with its line and column.
            let settings = zest_core::sieve::SieveSettings::from(&app.config.sieve);
            match zest_core::sieve::compile(&settings, &content) {
                Ok(compiled) => {
                    for w in &compiled.warnings {
                        eprintln!(
                            "warning: line {}, column {}: {}",
                            w.line, w.column, w.message
                        );
                    }
                }
                Err(e) => bail!("{}: {e}", file.display()),
            }
            let store = app.store().await?;
            let existing = store.scripts(account).await?;
            let max_scripts = app.config.sieve.max_scripts;
            if !existing.iter().any(|s| s.name == name) && existing.len() >= max_scripts as usize {
                bail!("{user} already has {max_scripts} scripts, the limit");
            }
            store.put_script(account, &name, content).await?;
            if activate {
                store.activate_script(account, Some(&name)).await?;
            }
            println!(
                "stored script {name} of {user}{}",
                if activate { " (active)" } else { "" }
            );
        }
        SieveCmd::Activate { user, name } => {
            let account = app.account(&user).await?;
            app.store()
                .await?
                .activate_script(account, Some(&name))
                .await?;
            println!("activated script {name} of {user}");
        }
        SieveCmd::Deactivate { user } => {
            let account = app.account(&user).await?;
            app.store().await?.activate_script(account, None).await?;
            println!("{user} has no active script");
        }
        SieveCmd::Get { user, name } => {
            let account = app.account(&user).await?;
            let script = app.store().await?.script(account, &name).await?;
            std::io::stdout()
                .write_all(&script.content)
                .context("writing the script")?;
        }
        SieveCmd::Del { user, name } => {
            let account = app.account(&user).await?;
            app.store().await?.delete_script(account, &name).await?;
            println!("deleted script {name} of {user}");
        }
        SieveCmd::List { user } => {
            let account = app.account(&user).await?;
            for s in app.store().await?.scripts(account).await? {
                println!("{}{}", s.name, if s.active { "\t*" } else { "" });
            }
        }
    }
    Ok(())
}
