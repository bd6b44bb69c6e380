//! COMPRESS=DEFLATE (RFC 4978): Python's zlib as the client's deflate
//! (tests/clients/compress_idle.py) over plain TCP and after STARTTLS, with
//! an IDLE update that must arrive while the client is silent; and what the
//! server does with input that is not a deflate stream.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Stdio;

use common::{PASS, Server, USER, message};
use tokio::io::{AsyncBufReadExt, BufReader};

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.is_file())
    })
}

fn python_missing() -> bool {
    if which("python3").is_some() {
        return false;
    }
    assert!(
        std::env::var("REQUIRE_REAL_CLIENTS").as_deref() != Ok("1"),
        "python3 is required"
    );
    println!("skipped: python3 not installed");
    true
}

async fn python_session(mode: &str) {
    if python_missing() {
        return;
    }
    let server = Server::start().await;
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/compress_idle.py");
    let mut child = tokio::process::Command::new("python3")
        .arg(&script)
        .arg("127.0.0.1")
        .arg(server.plain.port().to_string())
        .arg(USER)
        .arg(PASS)
        .arg(mode)
        .arg(server.cert_path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut out = Vec::new();
    while let Some(l) = tokio::time::timeout(common::WAIT, lines.next_line())
        .await
        .unwrap()
        .unwrap()
    {
        if l == "IDLING" {
            let mut b = server.client().await;
            b.login().await;
            let r = b.append("b1", "INBOX", "", &message("hi", "1")).await;
            assert!(r.last().unwrap().starts_with("b1 OK"), "{r:?}");
        }
        out.push(l);
    }
    let status = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert!(status.status.success(), "{out:?}\n{stderr}");
    assert!(out.iter().any(|l| l == "compress idle ok"), "{out:?}");
    for l in out.iter().filter(|l| l.starts_with("EXISTS after")) {
        println!("{mode}: {l} (from IDLE to the update, the APPEND included)");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_zlib_client_idles_compressed() {
    python_session("plain").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_zlib_client_after_starttls() {
    python_session("starttls").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_after_compress_closes_the_connection() {
    let server = Server::start().await;
    for garbage in [
        &b"a1 NOOP\r\n"[..],
        &[0xff; 64][..],
        &[0x00, 0x05, 0x00, 0x00, 0x00][..],
    ] {
        let mut c = server.client().await;
        c.login().await;
        assert_eq!(
            c.cmd("c1", "COMPRESS DEFLATE").await,
            vec!["c1 OK DEFLATE active"]
        );
        c.send_raw(garbage).await;
        assert_eq!(c.line().await, None, "{garbage:?}");
    }
    // Unknown mechanisms and COMPRESS before login are refused, nothing changes.
    let mut c = server.client().await;
    c.line().await.unwrap();
    let r = c.cmd("x1", "COMPRESS DEFLATE").await;
    assert_eq!(r, vec!["x1 BAD [CLIENTBUG] Log in first"]);
    c.cmd("x2", &format!("LOGIN {USER} {PASS}")).await;
    let r = c.cmd("x3", "COMPRESS GZIP").await;
    assert_eq!(r, vec!["x3 BAD [CLIENTBUG] Unknown compression mechanism"]);
    assert_eq!(c.cmd("x4", "NOOP").await, vec!["x4 OK NOOP completed"]);
    server.stop().await;
}

/// One uncompressed line from `tcp`, `buf` holding what was read ahead.
async fn read_line(tcp: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> String {
    use tokio::io::AsyncReadExt;
    loop {
        if let Some(p) = buf.iter().position(|&b| b == b'\n') {
            let l: Vec<u8> = buf.drain(..=p).collect();
            return String::from_utf8(l).unwrap();
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(common::WAIT, tcp.read(&mut chunk))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A deflate client in the test: compressed commands sent one byte per
/// write, so the server inflates from every possible split.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_input_split_at_every_byte() {
    use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let server = Server::start().await;
    let mut tcp = tokio::net::TcpStream::connect(server.plain).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let mut plain = Vec::new();
    read_line(&mut tcp, &mut plain).await;
    tcp.write_all(format!("a LOGIN {USER} {PASS}\r\na COMPRESS DEFLATE\r\n").as_bytes())
        .await
        .unwrap();
    loop {
        let l = read_line(&mut tcp, &mut plain).await;
        if l.starts_with("a OK DEFLATE") {
            break;
        }
    }
    assert!(plain.is_empty());
    let mut comp = Compress::new(Compression::best(), false);
    let mut decomp = Decompress::new(false);
    let mut wire = Vec::new();
    for tag in ["b1", "b2", "b3"] {
        let cmd = format!("{tag} NOOP\r\n");
        let mut out = Vec::with_capacity(1024);
        comp.compress_vec(cmd.as_bytes(), &mut out, FlushCompress::Sync)
            .unwrap();
        for b in &out {
            tcp.write_all(&[*b]).await.unwrap();
            tcp.flush().await.unwrap();
            tokio::task::yield_now().await;
        }
        // Inflate what comes back until the tagged line is complete.
        let mut text = String::new();
        while !text.contains(&format!("{tag} OK")) || !text.ends_with("\r\n") {
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout(common::WAIT, tcp.read(&mut chunk))
                .await
                .unwrap()
                .unwrap();
            assert!(n > 0, "closed");
            wire.extend_from_slice(&chunk[..n]);
            let mut inflated = Vec::with_capacity(64 * 1024);
            let before = decomp.total_in();
            decomp
                .decompress_vec(&wire, &mut inflated, FlushDecompress::None)
                .unwrap();
            wire.drain(..(decomp.total_in() - before) as usize);
            text.push_str(&String::from_utf8(inflated).unwrap());
        }
        assert!(
            text.ends_with(&format!("{tag} OK NOOP completed\r\n")),
            "{text}"
        );
    }
    server.stop().await;
}
