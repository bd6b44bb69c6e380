//! `zest bench submission`: clients that pipeline MAIL, RCPT and DATA (RFC
//! 2920) into temporary in-process submission and MDA daemons. Measured:
//! submission to a local mailbox (the queue, LMTP, the recipient's Sieve
//! script, the store), and, given a sink, relaying to it, against a peer
//! submission server relaying to the same sink in the same run.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use base64::Engine;

use super::system::{ALICE, BOB, Conn, PASS, System, SystemSpec, TIMEOUT};
use crate::cli::SubmissionBenchArgs;

/// The remote domain routed to the sink.
const REMOTE: &str = "remote.example";

/// Bob's script: what a user's filter typically does to each message.
const SIEVE: &str = r#"require ["imap4flags", "fileinto", "variables"];
if header :matches "subject" "bench *" { set "n" "${1}"; addflag "$Bench"; }
if address :is "from" "nobody@example.net" { fileinto "Junk"; stop; }
keep;
"#;

pub async fn run(args: SubmissionBenchArgs) -> Result<()> {
    if args.messages == 0 || args.clients == 0 {
        bail!("--messages and --clients must be at least 1");
    }
    let mut spec = SystemSpec {
        bob_sieve: Some(SIEVE.to_string()),
        ..SystemSpec::default()
    };
    if let Some(sink) = &args.sink {
        spec.routes = BTreeMap::from([(REMOTE.to_string(), sink.clone())]);
    }
    let sys = System::start(&spec).await?;
    let result = measure(&sys, &args).await;
    sys.stop().await;
    result
}

async fn measure(sys: &System, args: &SubmissionBenchArgs) -> Result<()> {
    let n = args.messages as f64;
    println!(
        "submission: {} messages of {} bytes, {} clients pipelining MAIL, RCPT and DATA",
        args.messages,
        message("x", "y", 0).len(),
        args.clients
    );
    let started = Instant::now();
    let accepted = load(sys.submission, ALICE, PASS, BOB, args).await?;
    sys.delivered(args.messages as u64).await?;
    let stored = started.elapsed();
    println!(
        "zest, to a local mailbox (LMTP + Sieve + store): accepted at {:.0}/s, all in the mailbox at {:.0}/s",
        n / accepted.as_secs_f64(),
        n / stored.as_secs_f64()
    );
    let Some(sink) = &args.sink else {
        return Ok(());
    };
    let remote = format!("someone@{REMOTE}");
    let started = Instant::now();
    let accepted = load(sys.submission, ALICE, PASS, &remote, args).await?;
    queue_drained(&sys.store).await?;
    let relayed = started.elapsed();
    let zest = n / relayed.as_secs_f64();
    println!(
        "zest, relayed to {sink}: accepted (queued durably) at {:.0}/s, all relayed at {zest:.0}/s",
        n / accepted.as_secs_f64()
    );
    if let Some(peer) = &args.peer {
        let (name, addr) = peer
            .split_once('=')
            .with_context(|| format!("--peer {peer}: expected NAME=HOST:PORT"))?;
        let addr: SocketAddr = addr
            .parse()
            .with_context(|| format!("--peer {peer}: not HOST:PORT"))?;
        let took = load(addr, &args.peer_user, &args.peer_password, &remote, args).await?;
        let theirs = n / took.as_secs_f64();
        println!("{name}, relayed to {sink} (its 250 follows the sink's): {theirs:.0}/s");
        println!("relayed: zest / {name} = {:.2}", zest / theirs);
    }
    Ok(())
}

fn message(from: &str, to: &str, n: usize) -> String {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: bench {n}\r\nMessage-ID: <bench.{n}@example.org>\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n{}\r\n",
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\r\n".repeat(50)
    )
}

/// `args.clients` connections submit `args.messages` messages between them;
/// returns when every one got its 250.
async fn load(
    addr: SocketAddr,
    user: &str,
    password: &str,
    to: &str,
    args: &SubmissionBenchArgs,
) -> Result<Duration> {
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..args.clients {
        let count =
            args.messages / args.clients + usize::from(client < args.messages % args.clients);
        let (user, password, to) = (user.to_string(), password.to_string(), to.to_string());
        tasks.spawn(async move {
            let mut c = Conn::connect(addr).await?;
            c.reply().await?;
            c.expect_2xx("EHLO client.example.org").await?;
            let token = base64::engine::general_purpose::STANDARD
                .encode(format!("\0{user}\0{password}").as_bytes());
            c.expect_2xx(&format!("AUTH PLAIN {token}")).await?;
            for i in 0..count {
                let envelope = format!("MAIL FROM:<{user}>\r\nRCPT TO:<{to}>\r\nDATA\r\n");
                c.send(envelope.as_bytes()).await?;
                for _ in 0..3 {
                    let r = c.reply().await?;
                    if !(r.starts_with('2') || r.starts_with('3')) {
                        bail!("envelope refused: {r}");
                    }
                }
                let body = message(&user, &to, client * 1_000_000 + i);
                c.send(format!("{body}.\r\n").as_bytes()).await?;
                let r = c.reply().await?;
                if !r.starts_with("250") {
                    bail!("message refused: {r}");
                }
            }
            c.send(b"QUIT\r\n").await?;
            Ok(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.context("a client panicked")??;
    }
    Ok(started.elapsed())
}

async fn queue_drained(store: &store::Store) -> Result<()> {
    tokio::time::timeout(TIMEOUT, async {
        loop {
            if store.list_queue().await?.is_empty() {
                return Ok::<_, anyhow::Error>(());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .context("the queue did not drain")?
}
