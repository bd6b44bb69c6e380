//! `zest bench forward`: forwarding a large attachment by reference (RFC 5550
//! 8.4.1: CATENATE, GENURLAUTH, BURL) against downloading it and uploading it
//! again, on temporary in-process imapd, submission and MDA daemons. Reports
//! the bytes on the client's connections and the time of each path.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use base64::Engine;

use super::system::{ALICE, BOB, System, SystemSpec};
use crate::cli::ForwardBenchArgs;

const BOUNDARY: &str = "orig-boundary";

pub async fn run(args: ForwardBenchArgs) -> Result<()> {
    if args.size_mb == 0 || args.runs == 0 {
        bail!("--size-mb and --runs must be at least 1");
    }
    let sys = System::start(&SystemSpec::default()).await?;
    let result = measure(&sys, &args).await;
    sys.stop().await;
    result
}

async fn measure(sys: &System, args: &ForwardBenchArgs) -> Result<()> {
    // base64 makes 4 bytes of 3, plus CRLF every 76.
    let attachment = binary(args.size_mb * 1_000_000 * 57 / 78);
    let original = original(&attachment);
    let alice = store::EmailAddress::parse(ALICE)?;
    let account = sys.store.account(&alice).await?.context("no alice")?;
    let (uv, uid) = sys
        .store
        .append(
            account.id,
            "INBOX",
            original.clone(),
            store::Flags::default(),
            None,
        )
        .await?;
    println!(
        "forward: a {:.1} MB message ({} bytes of binary attachment), {} runs per path",
        original.len() as f64 / 1e6,
        attachment.len(),
        args.runs
    );
    const PATHS: [&str; 3] = [
        "reference (CATENATE+GENURLAUTH+BURL)",
        "download+re-upload (FETCH+BDAT)",
        "download+re-upload+copy (FETCH+BDAT+APPEND)",
    ];
    let mut delivered = 0;
    let mut rows: Vec<[Tally; 3]> = Vec::new();
    for run in 1..=args.runs {
        let row = [
            by_reference(sys, uv.0, uid.0).await?,
            download_upload(sys, uid.0, false).await?,
            download_upload(sys, uid.0, true).await?,
        ];
        delivered += 3;
        sys.delivered(delivered).await?;
        let line: Vec<String> = row
            .iter()
            .map(|t| format!("{} bytes in {:.3} s", t.bytes, t.secs))
            .collect();
        println!("run {run}: {}", line.join("; "));
        rows.push(row);
    }
    // The fastest run of each path.
    let best: Vec<Tally> = (0..3)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].clone())
                .min_by(|a, b| a.secs.total_cmp(&b.secs))
                .unwrap_or_default()
        })
        .collect();
    let link = args.link_mbit.max(0.001) * 1e6 / 8.0;
    for (name, t) in PATHS.iter().zip(&best) {
        let steps: Vec<String> = t
            .steps
            .iter()
            .map(|(s, secs)| format!("{s} {secs:.3} s"))
            .collect();
        println!(
            "{name}: {} bytes on the client's links ({} up, {} down), {:.3} s ({}); at {} Mbit/s: {:.3} s",
            t.bytes,
            t.up,
            t.bytes - t.up,
            t.secs,
            steps.join(", "),
            args.link_mbit,
            t.secs + t.bytes as f64 / link,
        );
    }
    let (r, d) = (&best[0], &best[1]);
    let share = r.bytes as f64 / d.bytes.max(1) as f64 * 100.0;
    println!(
        "reference / download+re-upload: {share:.4}% of the bytes; on loopback {:.2}x the time, at {} Mbit/s {:.4}x the time",
        r.secs / d.secs.max(1e-9),
        args.link_mbit,
        (r.secs + r.bytes as f64 / link) / (d.secs + d.bytes as f64 / link).max(1e-9)
    );
    if share >= 1.0 {
        bail!("the reference path moved {share:.2}% of the bytes (target: under 1%)");
    }
    Ok(())
}

#[derive(Debug, Clone, Default)]
struct Tally {
    /// Both directions, every connection of the client.
    bytes: u64,
    /// Client to server.
    up: u64,
    secs: f64,
    /// Time of each step.
    steps: Vec<(&'static str, f64)>,
}

const DRAFT_HEAD: &str = "From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: Fwd: The figures\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"fwd\"\r\n\r\n--fwd\r\nContent-Type: text/plain\r\n\r\nHere they are again.\r\n--fwd\r\n";
const DRAFT_TAIL: &str = "\r\n--fwd--\r\n";

/// CATENATE a draft into Drafts from a new text and the attachment by URL,
/// GENURLAUTH it, submit it with BURL.
async fn by_reference(sys: &System, uv: u32, uid: u32) -> Result<Tally> {
    let started = Instant::now();
    let mut imap = sys.imap_login().await?;
    let mut steps = Vec::new();
    let mut mark = Instant::now();
    let mut step = |name: &'static str| {
        steps.push((name, mark.elapsed().as_secs_f64()));
        mark = Instant::now();
    };
    let cat = format!(
        "c1 APPEND Drafts (\\Draft $SubmitPending) CATENATE (TEXT {{{}+}}\r\n{DRAFT_HEAD} URL \"/INBOX;UIDVALIDITY={uv}/;UID={uid}/;SECTION=2.MIME\" URL \"/INBOX;UIDVALIDITY={uv}/;UID={uid}/;SECTION=2\" TEXT {{{}+}}\r\n{DRAFT_TAIL})\r\n",
        DRAFT_HEAD.len(),
        DRAFT_TAIL.len()
    );
    imap.send(cat.as_bytes()).await?;
    let r = imap.tagged("c1").await?;
    let (duv, duid) = appenduid(&r)?;
    step("CATENATE");
    let r = imap
        .imap(
            "c2",
            &format!(
                "GENURLAUTH \"imap://alice%40example.org@mail.example.org/Drafts;UIDVALIDITY={duv}/;UID={duid};urlauth=submit+alice%40example.org\" INTERNAL"
            ),
        )
        .await?;
    let url = r
        .iter()
        .find_map(|l| l.strip_prefix("* GENURLAUTH \""))
        .and_then(|l| l.strip_suffix('"'))
        .context("no GENURLAUTH answer")?
        .to_string();
    step("GENURLAUTH");
    let mut smtp = sys.smtp_login().await?;
    smtp.expect_2xx(&format!("MAIL FROM:<{ALICE}>")).await?;
    smtp.expect_2xx(&format!("RCPT TO:<{BOB}>")).await?;
    step("SMTP login");
    smtp.expect_2xx(&format!("BURL {url} LAST")).await?;
    step("BURL");
    let secs = started.elapsed().as_secs_f64();
    imap.imap("c3", "LOGOUT").await.ok();
    Ok(Tally {
        bytes: imap.sent + imap.received + smtp.sent + smtp.received,
        up: imap.sent + smtp.sent,
        secs,
        steps,
    })
}

/// FETCH the whole message, make the forward locally, submit it with BDAT,
/// and with `keep_copy` APPEND it to Drafts too (what CATENATE leaves).
async fn download_upload(sys: &System, uid: u32, keep_copy: bool) -> Result<Tally> {
    let started = Instant::now();
    let mut imap = sys.imap_login().await?;
    let mut steps = Vec::new();
    let mut mark = Instant::now();
    let mut step = |name: &'static str| {
        steps.push((name, mark.elapsed().as_secs_f64()));
        mark = Instant::now();
    };
    imap.imap("d1", "EXAMINE INBOX").await?;
    imap.send(format!("d2 UID FETCH {uid} (BODY.PEEK[])\r\n").as_bytes())
        .await?;
    let mut body = None;
    loop {
        let l = imap.line().await?;
        if l.starts_with("d2 ") {
            if !l.starts_with("d2 OK") {
                bail!("FETCH: {l}");
            }
            break;
        }
        if let Some(n) = literal_size(&l) {
            body = Some(imap.exact(n).await?);
        }
    }
    let body = body.context("FETCH returned no body")?;
    step("FETCH");
    // The attachment part: MIME header and content, as a client would cut it out.
    let marker = format!("--{BOUNDARY}\r\n");
    let second = find_nth(&body, marker.as_bytes(), 2).context("no second part")?;
    let closing = format!("\r\n--{BOUNDARY}--");
    let end = body
        .windows(closing.len())
        .rposition(|w| w == closing.as_bytes())
        .context("no closing boundary")?;
    let part = &body[second + marker.len()..end];
    let mut msg = DRAFT_HEAD.as_bytes().to_vec();
    msg.extend_from_slice(part);
    msg.extend_from_slice(DRAFT_TAIL.as_bytes());
    step("cut out the part");
    let mut smtp = sys.smtp_login().await?;
    smtp.expect_2xx(&format!("MAIL FROM:<{ALICE}>")).await?;
    smtp.expect_2xx(&format!("RCPT TO:<{BOB}>")).await?;
    step("SMTP login");
    smtp.send(format!("BDAT {} LAST\r\n", msg.len()).as_bytes())
        .await?;
    smtp.send(&msg).await?;
    let r = smtp.reply().await?;
    if !r.starts_with('2') {
        bail!("BDAT: {r}");
    }
    step("BDAT");
    if keep_copy {
        imap.send(format!("d3 APPEND Drafts (\\Draft) {{{}+}}\r\n", msg.len()).as_bytes())
            .await?;
        imap.send(&msg).await?;
        imap.send(b"\r\n").await?;
        let r = imap.tagged("d3").await?;
        if !r.last().is_some_and(|l| l.starts_with("d3 OK")) {
            bail!("APPEND: {r:?}");
        }
        step("APPEND");
    }
    let secs = started.elapsed().as_secs_f64();
    imap.imap("d4", "LOGOUT").await.ok();
    Ok(Tally {
        bytes: imap.sent + imap.received + smtp.sent + smtp.received,
        up: imap.sent + smtp.sent,
        secs,
        steps,
    })
}

fn find_nth(hay: &[u8], needle: &[u8], n: usize) -> Option<usize> {
    hay.windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .nth(n - 1)
        .map(|(i, _)| i)
}

/// `... {123}` at the end of a line.
fn literal_size(line: &str) -> Option<usize> {
    let open = line.rfind('{')?;
    line[open + 1..].strip_suffix('}')?.parse().ok()
}

fn appenduid(lines: &[String]) -> Result<(u32, u32)> {
    let l = lines.last().context("no APPEND answer")?;
    let at = l.find("[APPENDUID ").context("no APPENDUID")? + 11;
    let mut it = l[at..].split([' ', ']']);
    let mut num = || -> Result<u32> { Ok(it.next().context("short APPENDUID")?.parse()?) };
    Ok((num()?, num()?))
}

/// Deterministic bytes that are not text.
fn binary(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn original(attachment: &[u8]) -> Vec<u8> {
    let mut m = format!(
        "From: Bob <{BOB}>\r\nTo: {ALICE}\r\nSubject: The figures\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <figures@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"{BOUNDARY}\"\r\n\r\n--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nThe figures are attached.\r\n--{BOUNDARY}\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"data.bin\"\r\n\r\n"
    )
    .into_bytes();
    let text = base64::engine::general_purpose::STANDARD.encode(attachment);
    let lines: Vec<&[u8]> = text.as_bytes().chunks(76).collect();
    m.extend_from_slice(&lines.join(&b"\r\n"[..]));
    m.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    m
}
