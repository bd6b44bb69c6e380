//! The admin's dashboard: services, counts, the DNS records to publish and
//! what DNS says about them now.
//! Other users land on their own account page.

use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Serialize;
use tokio::net::TcpStream;

use crate::app::AppState;
use crate::dns;
use crate::error::AppResult;
use crate::render::{self, value};
use crate::session::Viewer;

#[derive(Serialize)]
struct Listener {
    name: &'static str,
    addr: String,
    up: bool,
}

#[derive(Serialize)]
struct DomainDns {
    domain: String,
    records: Vec<dns::Record>,
    has_dkim: bool,
    /// Why the records could not be made (a stored key that does not load).
    error: Option<String>,
}

/// Whether something accepts connections on `addr` (a wildcard address is
/// probed on loopback).
async fn answers(addr: std::net::SocketAddr) -> bool {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    matches!(
        tokio::time::timeout(Duration::from_millis(500), TcpStream::connect(addr)).await,
        Ok(Ok(_))
    )
}

pub async fn index(State(app): State<AppState>, viewer: Viewer) -> AppResult<Response> {
    if !viewer.account.is_admin {
        let to = format!("/u/{}", crate::render::seg(viewer.account.address.as_str()));
        return Ok(Redirect::to(&to).into_response());
    }
    let c = &app.config;
    let named = [
        ("IMAP", &c.imap.listen),
        ("IMAPS", &c.imap.listen_tls),
        ("Submission", &c.submission.listen),
        ("Submissions", &c.submission.listen_tls),
        ("LMTP", &c.mda.lmtp_listen),
        ("SMTP (MX)", &c.mda.smtp_listen),
        ("ManageSieve", &c.managesieve.listen),
        ("Admin", &c.admin.listen),
        ("Admin HTTPS", &c.admin.listen_tls),
    ];
    let mut daemons = Vec::new();
    for (name, listen) in named {
        for a in listen.addrs() {
            daemons.push(Listener {
                name,
                addr: a.to_string(),
                up: answers(*a).await,
            });
        }
    }
    let counts = app.store.server_counts().await?;
    let mut dns = Vec::new();
    for d in app.store.list_domains().await? {
        let key = app.store.dkim_key(&d.name).await?;
        let (records, error) = match dns::records(&d.name, &app.config.hostname, key.as_ref()) {
            Ok(r) => (r, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        dns.push(DomainDns {
            records,
            has_dkim: key.is_some(),
            error,
            domain: d.name,
        });
    }
    let mut sets: Vec<&mut Vec<dns::Record>> = dns.iter_mut().map(|d| &mut d.records).collect();
    let checked = dns::check(&app.config.dns, &mut sets).await;
    Ok(render::page(
        &app.env,
        &viewer,
        "dashboard.html",
        context! { daemons => value(&daemons), counts => value(&counts), dns => value(&dns), dns_checked => checked },
    )?
    .into_response())
}
