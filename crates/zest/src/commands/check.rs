//! `zest check`: the config, the database's schema and integrity, and with
//! --health whether the running daemons answer.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::App;
use super::serve::Daemon;
use crate::EXIT_UNAVAILABLE;

pub async fn run(app: &App, health: bool, daemon: Option<&str>) -> Result<ExitCode> {
    if let Some(name) = daemon {
        let Some(d) = Daemon::ALL.into_iter().find(|d| d.name() == name) else {
            let names: Vec<&str> = Daemon::ALL.iter().map(|d| d.name()).collect();
            anyhow::bail!("no daemon {name:?}; one of {}", names.join(", "));
        };
        return probe_daemons(app, &[d]).await;
    }
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
    probe_daemons(app, &Daemon::ALL).await
}

/// What a healthy listener does when a client connects.
#[derive(Clone, Copy)]
enum Probe {
    /// Greets first with a line starting like this.
    Greets(&'static [u8]),
    /// Accepts the connection (TLS and HTTP listeners, which wait for the client).
    Accepts,
}

fn probes(d: Daemon, c: &zest_core::config::Config) -> Vec<(SocketAddr, Probe)> {
    use Probe::{Accepts, Greets};
    let lists = match d {
        Daemon::Imapd => vec![
            (&c.imap.listen, Greets(b"* OK")),
            (&c.imap.listen_tls, Accepts),
        ],
        Daemon::Submission => vec![
            (&c.submission.listen, Greets(b"220")),
            (&c.submission.listen_tls, Accepts),
        ],
        Daemon::Mda => vec![
            (&c.mda.lmtp_listen, Greets(b"220")),
            (&c.mda.smtp_listen, Greets(b"220")),
        ],
        Daemon::ManageSieve => vec![(&c.managesieve.listen, Greets(b"\""))],
        Daemon::Admin => vec![(&c.admin.listen, Accepts), (&c.admin.listen_tls, Accepts)],
    };
    lists
        .into_iter()
        .flat_map(|(l, p)| l.addrs().iter().map(move |a| (reachable(*a), p)))
        .collect()
}

/// A wildcard listen address is probed on loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

async fn probe(addr: SocketAddr, how: Probe) -> bool {
    let attempt = async {
        let mut s = TcpStream::connect(addr).await.ok()?;
        if let Probe::Greets(prefix) = how {
            let mut buf = vec![0u8; prefix.len()];
            s.read_exact(&mut buf).await.ok()?;
            if buf != prefix {
                return None;
            }
        }
        Some(())
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(5), attempt).await,
        Ok(Some(()))
    )
}

async fn probe_daemons(app: &App, daemons: &[Daemon]) -> Result<ExitCode> {
    let mut probed = 0;
    let mut down = 0;
    for &d in daemons {
        if !d.built() {
            println!("{}: not built in this version", d.name());
            continue;
        }
        for (addr, how) in probes(d, &app.config) {
            probed += 1;
            let up = probe(addr, how).await;
            println!("{} on {addr}: {}", d.name(), if up { "up" } else { "DOWN" });
            down += usize::from(!up);
        }
    }
    if probed == 0 {
        eprintln!("zest: no daemon listener to probe");
        return Ok(ExitCode::from(EXIT_UNAVAILABLE));
    }
    Ok(if down == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
