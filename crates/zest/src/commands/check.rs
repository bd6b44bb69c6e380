//! `zest check`: the config, the database's schema and integrity, and with
//! --health whether the running daemons answer.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use tokio::net::TcpStream;

use super::App;
use super::serve::Daemon;
use crate::EXIT_UNAVAILABLE;

pub async fn run(app: &App, health: bool) -> Result<ExitCode> {
    match &app.config_path {
        Some(p) => println!("config: {} ok", p.display()),
        None => println!("config: built-in defaults ok"),
    }
    let store = app.store().await?;
    let version = store.schema_version().await?;
    println!(
        "database: {} (schema version {version})",
        app.config.db_path().display()
    );
    let problems = store.integrity_check().await?;
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("integrity: {p}");
        }
        anyhow::bail!(
            "the database failed its integrity check ({} problems)",
            problems.len()
        );
    }
    println!("integrity: ok");
    let domains = store.list_domains().await?;
    let users: u64 = domains.iter().map(|d| d.accounts).sum();
    println!("{} domains, {users} users", domains.len());
    if !health {
        return Ok(ExitCode::SUCCESS);
    }
    let mut probed = 0;
    let mut down = 0;
    for d in Daemon::ALL {
        if !d.built() {
            println!("{}: not built in this version", d.name());
            continue;
        }
        for addr in d.listen(&app.config) {
            probed += 1;
            let up = matches!(
                tokio::time::timeout(Duration::from_secs(3), TcpStream::connect(addr)).await,
                Ok(Ok(_))
            );
            println!("{} on {addr}: {}", d.name(), if up { "up" } else { "DOWN" });
            down += usize::from(!up);
        }
    }
    if probed == 0 {
        eprintln!("zest: no daemon in this build to probe");
        return Ok(ExitCode::from(EXIT_UNAVAILABLE));
    }
    Ok(if down == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
