//! `zest bench store`: contact import, membership lookups against a large and
//! a small book or list, and durable appends from 1 to 8 concurrent writers.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use store::{AccountId, EmailAddress, Flags, NewContact, OpenOptions, Store};
use zest_core::contacts;

use crate::commands::App;

const LOOKUPS: usize = 20_000;
const MESSAGE_SIZE: usize = 50 * 1024;

pub async fn run(_app: &App, dir: Option<PathBuf>, contacts: usize, messages: usize) -> Result<()> {
    let tmp;
    let dir: PathBuf = match dir {
        Some(d) => d,
        None => {
            tmp = tempfile::tempdir().context("making a temporary directory")?;
            tmp.path().to_path_buf()
        }
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let db = dir.join(format!("bench-{}.db", std::process::id()));
    let store = Store::open_with(
        &db,
        OpenOptions {
            hostname: "bench.example".into(),
            readers: 8,
        },
    )
    .await?;
    println!("store benchmark in {}", db.display());
    store.create_domain("bench.example").await?;
    let mut accounts = Vec::new();
    for i in 0..8 {
        let a = EmailAddress::parse(&format!("user{i}@bench.example"))?;
        accounts.push(store.create_account(&a, "bench-password", false).await?.id);
    }

    import_and_lookups(&store, accounts[0], accounts[1], contacts).await?;
    lists(&store, accounts[0], contacts).await?;
    appends(&store, &accounts, messages).await?;
    feed_latency(&store, accounts[2]).await?;
    cross_process_feed_latency(&store, &db, accounts[3]).await?;
    store.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    Ok(())
}

fn vcards(n: usize) -> Vec<u8> {
    let mut s = String::with_capacity(n * 120);
    for i in 0..n {
        s.push_str(&format!(
            "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Contact {i}\r\nN:{i};Contact;;;\r\nEMAIL;TYPE=INTERNET:c{i}@example.net\r\n"
        ));
        if i % 3 == 0 {
            s.push_str(&format!("EMAIL;TYPE=HOME:contact.{i}@home.example\r\n"));
        }
        s.push_str("END:VCARD\r\n");
    }
    s.into_bytes()
}

async fn import_and_lookups(
    store: &Store,
    big: AccountId,
    small: AccountId,
    n: usize,
) -> Result<()> {
    let data = vcards(n);
    let start = Instant::now();
    let parsed = contacts::parse_vcard(&data);
    let parse_time = start.elapsed();
    let records: Vec<NewContact> = parsed.contacts.into_iter().map(NewContact::from).collect();
    let summary = store
        .import_contacts(big, "default", records, |_| {})
        .await?;
    let total = start.elapsed();
    println!(
        "import {n} contacts from vCard ({:.1} MB): {:.2} s (parse {:.2} s), {} imported, {:.0} contacts/s",
        data.len() as f64 / 1e6,
        total.as_secs_f64(),
        parse_time.as_secs_f64(),
        summary.imported,
        summary.imported as f64 / total.as_secs_f64()
    );
    let small_data = vcards(10);
    let small_records: Vec<NewContact> = contacts::parse_vcard(&small_data)
        .contacts
        .into_iter()
        .map(NewContact::from)
        .collect();
    store
        .import_contacts(small, "default", small_records, |_| {})
        .await?;

    for (label, account, size) in [("100,000-entry", big, n), ("10-entry", small, 10)] {
        let hits = time_lookups(LOOKUPS, |i| {
            let s = store.clone();
            let v = format!("C{}@Example.NET", i % size);
            async move { s.addrbook_contains(account, "default", &v).await }
        })
        .await?;
        let misses = time_lookups(LOOKUPS, |i| {
            let s = store.clone();
            let v = format!("nobody{i}@example.org");
            async move { s.addrbook_contains(account, "default", &v).await }
        })
        .await?;
        println!("addrbook_contains, {label} book: hit {hits}, miss {misses}");
    }
    Ok(())
}

async fn lists(store: &Store, viewer: AccountId, n: usize) -> Result<()> {
    let big = store.list_uri("bench-big").await?;
    let small = store.list_uri("bench-small").await?;
    store.create_list(&big, None).await?;
    store.create_list(&small, None).await?;
    let members: Vec<String> = (0..n).map(|i| format!("m{i}@example.net")).collect();
    for chunk in members.chunks(10_000) {
        store.add_list_members(&big, chunk.to_vec()).await?;
    }
    store
        .add_list_members(&small, members[..10].to_vec())
        .await?;
    for (label, uri, size) in [("100,000-member", &big, n), ("10-member", &small, 10)] {
        let hits = time_lookups(LOOKUPS, |i| {
            let (s, u) = (store.clone(), uri.to_string());
            let v = format!("M{}@example.net", i % size);
            async move { s.list_contains(viewer, &u, &v).await }
        })
        .await?;
        let misses = time_lookups(LOOKUPS, |i| {
            let (s, u) = (store.clone(), uri.to_string());
            let v = format!("x{i}@example.org");
            async move { s.list_contains(viewer, &u, &v).await }
        })
        .await?;
        println!("list_contains, {label} list: hit {hits}, miss {misses}");
    }
    Ok(())
}

/// Runs `n` lookups one after another; returns "mean X µs (p50 Y, p99 Z)".
async fn time_lookups<F, Fut>(n: usize, mut f: F) -> Result<String>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = store::Result<bool>>,
{
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        f(i).await?;
        times.push(t.elapsed());
    }
    times.sort_unstable();
    let mean = times.iter().sum::<Duration>() / n as u32;
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    Ok(format!(
        "mean {:.1} µs (p50 {:.1}, p99 {:.1})",
        us(mean),
        us(times[n / 2]),
        us(times[n * 99 / 100])
    ))
}

/// From an append's acknowledgement to its event reaching a subscriber in
/// the same process.
async fn feed_latency(store: &Store, account: AccountId) -> Result<()> {
    let mut feed = store.subscribe_changes(account);
    let mut times = Vec::new();
    for n in 0..200 {
        let (_, uid) = store
            .append(
                account,
                "INBOX",
                message(2, 1_000_000 + n),
                Flags::default(),
                None,
            )
            .await?;
        let acked = Instant::now();
        loop {
            match tokio::time::timeout(Duration::from_secs(5), feed.next()).await {
                Ok(Some(store::FeedItem::Change(c))) if matches!(c.kind, store::ChangeKind::MessageAdded { uid: u, .. } if u == uid) =>
                {
                    break;
                }
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => anyhow::bail!("no change event for UID {}", uid.0),
            }
        }
        times.push(acked.elapsed());
    }
    times.sort_unstable();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "change feed, same process, acknowledgement to event: p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        us(times[100]),
        us(times[198]),
        us(times[199])
    );
    Ok(())
}

fn wall_micros() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0)
}

/// Another process appends, noting the wall-clock time just before and just
/// after each append; the true delay from its commit to the event here lies
/// between (event - after) and (event - before).
async fn cross_process_feed_latency(
    store: &Store,
    db: &std::path::Path,
    account: AccountId,
) -> Result<()> {
    const COUNT: usize = 100;
    let address = store
        .account_by_id(account)
        .await?
        .map(|a| a.address.to_string())
        .context("benchmark account")?;
    let mut feed = store.subscribe_changes(account);
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .args(["bench", "feed-writer"])
        .arg(db)
        .args([address.as_str(), &COUNT.to_string()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("starting the writing process")?;
    let stdout = child.stdout.take().context("child stdout")?;
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    // UID -> times, for whichever side (the child's line or the event) came first.
    let mut noted: std::collections::HashMap<u32, (u128, u128)> = std::collections::HashMap::new();
    let mut arrived: std::collections::HashMap<u32, u128> = std::collections::HashMap::new();
    let (mut upper, mut lower) = (Vec::new(), Vec::new());
    let mut record = |event: u128, (before, after): (u128, u128)| {
        upper.push(event.saturating_sub(before));
        lower.push(event.saturating_sub(after));
    };
    let mut done = 0;
    while done < COUNT {
        tokio::select! {
            line = lines.next_line() => {
                let Some(line) = line? else { anyhow::bail!("the writing process stopped early") };
                let v: Vec<u128> = line.split_whitespace().filter_map(|p| p.parse().ok()).collect();
                if let [uid, before, after] = v[..] {
                    let uid = uid as u32;
                    match arrived.remove(&uid) {
                        Some(event) => { record(event, (before, after)); done += 1; }
                        None => { noted.insert(uid, (before, after)); }
                    }
                }
            }
            item = tokio::time::timeout(Duration::from_secs(10), feed.next()) => {
                let Ok(Some(store::FeedItem::Change(c))) = item else { anyhow::bail!("no event from the other process") };
                if let store::ChangeKind::MessageAdded { uid, .. } = c.kind {
                    let now = wall_micros();
                    match noted.remove(&uid.0) {
                        Some(t) => { record(now, t); done += 1; }
                        None => { arrived.insert(uid.0, now); }
                    }
                }
            }
        }
    }
    child.wait().await?;
    for v in [&mut upper, &mut lower] {
        v.sort_unstable();
    }
    let ms = |v: &[u128], i: usize| v[i] as f64 / 1e3;
    println!(
        "change feed, another process, its commit to the event here: p50 {:.1}–{:.1} ms, p99 {:.1}–{:.1} ms",
        ms(&lower, COUNT / 2),
        ms(&upper, COUNT / 2),
        ms(&lower, COUNT * 99 / 100),
        ms(&upper, COUNT * 99 / 100)
    );
    Ok(())
}

/// The writing side: appends, printing "UID BEFORE AFTER" (wall-clock µs).
pub async fn feed_writer(db: &std::path::Path, account: &str, count: usize) -> Result<()> {
    let store = Store::open(db).await?;
    let account = store
        .account(&EmailAddress::parse(account)?)
        .await?
        .context("no such account")?
        .id;
    // The first write of a process opens its segment and warms its caches;
    // it is not what the measurement is about, so it goes unreported.
    store
        .append(account, "INBOX", message(3, count), Flags::default(), None)
        .await?;
    for n in 0..count {
        let before = wall_micros();
        let (_, uid) = store
            .append(account, "INBOX", message(3, n), Flags::default(), None)
            .await?;
        println!("{} {before} {}", uid.0, wall_micros());
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    store.close().await;
    Ok(())
}

fn message(writer: usize, n: usize) -> Vec<u8> {
    let mut m = format!(
        "From: sender{n}@example.net\r\nTo: user{writer}@bench.example\r\nSubject: benchmark {writer}/{n}\r\n\
         Message-ID: <{writer}.{n}@bench.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n"
    );
    let line = format!(
        "line of benchmark text for message {n} from writer {writer} ....................\r\n"
    );
    while m.len() < MESSAGE_SIZE {
        m.push_str(&line);
    }
    m.into_bytes()
}

async fn appends(store: &Store, accounts: &[AccountId], total: usize) -> Result<()> {
    let mut base = 0;
    let mut single = None;
    for writers in [1usize, 2, 4, 8] {
        let per = total / writers;
        let before = store.write_stats();
        let start = Instant::now();
        let mut tasks = Vec::new();
        for (w, &account) in accounts.iter().enumerate().take(writers) {
            let s = store.clone();
            let first = base;
            tasks.push(tokio::spawn(async move {
                for n in first..first + per {
                    s.append(account, "INBOX", message(w, n), Flags::default(), None)
                        .await?;
                }
                Ok::<_, store::StoreError>(())
            }));
        }
        for t in tasks {
            t.await.context("append task")??;
        }
        base += per;
        let secs = start.elapsed().as_secs_f64();
        let after = store.write_stats();
        let per_commit =
            (after.jobs - before.jobs) as f64 / (after.commits - before.commits).max(1) as f64;
        let rate = (per * writers) as f64 / secs;
        let ratio = single.map(|s: f64| rate / s).unwrap_or(1.0);
        single.get_or_insert(rate);
        println!(
            "durable appends of 50 KB, {writers} writer(s): {rate:.0} msg/s ({:.0} MB/s), {:.2}x one writer, {per_commit:.1} appends per commit",
            rate * MESSAGE_SIZE as f64 / 1e6,
            ratio
        );
    }
    Ok(())
}
