//! The IMAP client BURL uses: one connection to imapd per submission
//! session, logged in as the submit identity, running URLFETCH (RFC 4467).
//! Everything it reads is bounded: lines by [`MAX_LINE`], literals by the
//! room left in the message.

use std::net::SocketAddr;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest response line read (literals excepted).
const MAX_LINE: usize = 64 * 1024;
const READ_CHUNK: usize = 64 * 1024;

/// Where and how to reach imapd.
#[derive(Clone)]
pub(crate) struct Target {
    /// `host:port`.
    pub address: String,
    /// Plain LOGIN without STARTTLS is allowed when imapd is on loopback.
    pub plaintext_on_loopback: bool,
    pub user: &'static str,
    pub secret: String,
    /// The certificate imapd serves (the same configuration as ours): the
    /// only one STARTTLS accepts.
    pub certificate: Option<CertificateDer<'static>>,
    pub timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ImapError {
    /// Cannot reach or log in to imapd (RFC 4468 6: 451 4.4.1).
    #[error("IMAP server unavailable: {0}")]
    Unavailable(String),
    /// URLFETCH failed (tagged NO or BAD).
    #[error("URLFETCH failed")]
    Failed,
    /// The data is larger than the room left in the message.
    #[error("URL content too big")]
    TooBig,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send + Sync {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync> Io for T {}

pub(crate) struct ImapClient {
    io: Box<dyn Io>,
    buf: Vec<u8>,
    next_tag: u32,
    timeout: Duration,
}

/// One item of a response line.
#[derive(Debug, PartialEq, Eq)]
enum Item {
    Atom(String),
    Str(Vec<u8>),
    Nil,
}

impl ImapClient {
    /// Connects, upgrades to TLS unless plain LOGIN is allowed on this
    /// loopback connection, and logs in.
    pub(crate) async fn connect(target: &Target) -> Result<ImapClient, ImapError> {
        let unavailable = |e: &dyn std::fmt::Display| ImapError::Unavailable(e.to_string());
        let tcp = tokio::time::timeout(target.timeout, TcpStream::connect(&target.address))
            .await
            .map_err(|_| ImapError::Unavailable("connect timed out".into()))?
            .map_err(|e| unavailable(&e))?;
        let _ = tcp.set_nodelay(true);
        let peer: SocketAddr = tcp.peer_addr().map_err(|e| unavailable(&e))?;
        let mut c = ImapClient {
            io: Box::new(tcp),
            buf: Vec::new(),
            next_tag: 0,
            timeout: target.timeout,
        };
        let greeting = c.line(MAX_LINE).await?;
        if !greeting.starts_with(b"* OK") {
            return Err(ImapError::Unavailable("no IMAP greeting".into()));
        }
        let plain_ok = target.plaintext_on_loopback && zest_core::auth::is_loopback(peer.ip());
        if !plain_ok {
            c.simple("STARTTLS").await?;
            if !c.buf.is_empty() {
                return Err(ImapError::Unavailable("data after STARTTLS".into()));
            }
            let cert = target
                .certificate
                .clone()
                .ok_or_else(|| ImapError::Unavailable("no certificate to expect".into()))?;
            let config = crate::tls_client::pinned(cert).map_err(|e| unavailable(&e))?;
            let name = ServerName::try_from("imapd").map_err(|e| unavailable(&e))?;
            let io = std::mem::replace(&mut c.io, Box::new(tokio::io::duplex(1).0));
            let tls = tokio::time::timeout(
                target.timeout,
                tokio_rustls::TlsConnector::from(config).connect(name, io),
            )
            .await
            .map_err(|_| ImapError::Unavailable("TLS handshake timed out".into()))?
            .map_err(|e| unavailable(&e))?;
            c.io = Box::new(tls);
        }
        let login = format!("LOGIN \"{}\" \"{}\"", target.user, target.secret);
        c.simple(&login)
            .await
            .map_err(|_| ImapError::Unavailable("login refused".into()))?;
        Ok(c)
    }

    /// URLFETCH of one URL: Some(content), or None when imapd answers NIL
    /// (not authorised, or no such message: RFC 4467 never says which).
    /// `url` must be free of `"` and `\` (checked by the URL parser).
    pub(crate) async fn urlfetch(
        &mut self,
        url: &str,
        max: usize,
    ) -> Result<Option<Vec<u8>>, ImapError> {
        let tag = self.send(&format!("URLFETCH \"{url}\"")).await?;
        let mut found = None;
        loop {
            let line = self.line(MAX_LINE).await?;
            if let Some(status) = tagged(&line, &tag) {
                return if status == "OK" {
                    Ok(found)
                } else {
                    Err(ImapError::Failed)
                };
            }
            let items = self.items(line, max).await?;
            if let [Item::Atom(star), Item::Atom(name), rest @ ..] = items.as_slice()
                && star == "*"
                && name.eq_ignore_ascii_case("URLFETCH")
            {
                for pair in rest.chunks(2) {
                    if let [url_item, data] = pair
                        && item_is(url_item, url)
                    {
                        found = match data {
                            Item::Str(bytes) => Some(bytes.clone()),
                            _ => None,
                        };
                    }
                }
            }
        }
    }

    /// Sends `LOGOUT` without waiting for much: the connection is done.
    pub(crate) async fn logout(mut self) {
        if self.send("LOGOUT").await.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(1), self.line(MAX_LINE)).await;
        }
    }

    async fn send(&mut self, command: &str) -> Result<String, ImapError> {
        self.next_tag += 1;
        let tag = format!("b{}", self.next_tag);
        let line = format!("{tag} {command}\r\n");
        let io = &mut self.io;
        tokio::time::timeout(self.timeout, async {
            io.write_all(line.as_bytes()).await?;
            io.flush().await
        })
        .await
        .map_err(|_| ImapError::Unavailable("write timed out".into()))?
        .map_err(|e| ImapError::Unavailable(e.to_string()))?;
        Ok(tag)
    }

    /// A command whose only interesting answer is its tagged OK.
    async fn simple(&mut self, command: &str) -> Result<(), ImapError> {
        let tag = self.send(command).await?;
        loop {
            let line = self.line(MAX_LINE).await?;
            if let Some(status) = tagged(&line, &tag) {
                return if status == "OK" {
                    Ok(())
                } else {
                    Err(ImapError::Unavailable(format!("{status} to a command")))
                };
            }
            // An untagged response (CAPABILITY): read and forget, literals too.
            self.items(line, MAX_LINE).await?;
        }
    }

    async fn fill(&mut self) -> Result<(), ImapError> {
        self.buf.reserve(READ_CHUNK);
        let n = tokio::time::timeout(self.timeout, self.io.read_buf(&mut self.buf))
            .await
            .map_err(|_| ImapError::Unavailable("IMAP server too slow".into()))?
            .map_err(|e| ImapError::Unavailable(e.to_string()))?;
        if n == 0 {
            return Err(ImapError::Unavailable("connection closed".into()));
        }
        Ok(())
    }

    /// One line, CRLF removed.
    async fn line(&mut self, max: usize) -> Result<Vec<u8>, ImapError> {
        let mut searched = 0;
        loop {
            if let Some(pos) = self.buf[searched..].iter().position(|&b| b == b'\n') {
                let end = searched + pos;
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            searched = self.buf.len();
            if searched > max {
                return Err(ImapError::Unavailable("response line too long".into()));
            }
            self.fill().await?;
        }
    }

    async fn exact(&mut self, n: usize) -> Result<Vec<u8>, ImapError> {
        while self.buf.len() < n {
            self.fill().await?;
        }
        Ok(self.buf.drain(..n).collect())
    }

    /// Splits a response into items, reading the literals it announces
    /// (each at most `max` bytes).
    async fn items(&mut self, mut line: Vec<u8>, max: usize) -> Result<Vec<Item>, ImapError> {
        let mut items = Vec::new();
        loop {
            let literal = parse_items(&line, &mut items)?;
            let Some(n) = literal else {
                return Ok(items);
            };
            if n > max {
                return Err(ImapError::TooBig);
            }
            items.push(Item::Str(self.exact(n).await?));
            line = self.line(MAX_LINE).await?;
        }
    }
}

/// `Some("OK")` etc. when `line` is the tagged response to `tag`.
fn tagged<'a>(line: &'a [u8], tag: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(tag.as_bytes())?.strip_prefix(b" ")?;
    let word = rest.split(|&b| b == b' ').next()?;
    std::str::from_utf8(word).ok()
}

fn item_is(item: &Item, s: &str) -> bool {
    match item {
        Item::Atom(a) => a == s,
        Item::Str(b) => b == s.as_bytes(),
        Item::Nil => false,
    }
}

/// Parses atoms, quoted strings and NIL from `line` into `items`; returns
/// the size of the literal (`{n}`, `{n+}` or `~{n}`) that ends it, if any.
/// Parentheses are dropped: URLFETCH answers need none of their structure.
fn parse_items(line: &[u8], items: &mut Vec<Item>) -> Result<Option<usize>, ImapError> {
    let bad = || ImapError::Unavailable("malformed response".into());
    let mut i = 0;
    while i < line.len() {
        match line[i] {
            b' ' | b'(' | b')' => i += 1,
            b'"' => {
                let mut s = Vec::new();
                i += 1;
                loop {
                    match line.get(i) {
                        None => return Err(bad()),
                        Some(b'"') => break,
                        Some(b'\\') => {
                            s.push(*line.get(i + 1).ok_or_else(bad)?);
                            i += 2;
                        }
                        Some(&b) => {
                            s.push(b);
                            i += 1;
                        }
                    }
                }
                i += 1;
                items.push(Item::Str(s));
            }
            b'{' | b'~' => {
                let start = if line[i] == b'~' { i + 1 } else { i };
                if line.get(start) != Some(&b'{') {
                    return Err(bad());
                }
                let close = line[start..]
                    .iter()
                    .position(|&b| b == b'}')
                    .ok_or_else(bad)?
                    + start;
                if close + 1 != line.len() {
                    return Err(bad());
                }
                let digits = std::str::from_utf8(&line[start + 1..close]).map_err(|_| bad())?;
                let digits = digits.strip_suffix('+').unwrap_or(digits);
                return digits.parse::<usize>().map(Some).map_err(|_| bad());
            }
            _ => {
                let end = line[i..]
                    .iter()
                    .position(|&b| b == b' ' || b == b'(' || b == b')')
                    .map_or(line.len(), |p| p + i);
                let atom = String::from_utf8_lossy(&line[i..end]).into_owned();
                items.push(if atom.eq_ignore_ascii_case("NIL") {
                    Item::Nil
                } else {
                    Item::Atom(atom)
                });
                i = end;
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(line: &str) -> (Vec<Item>, Option<usize>) {
        let mut items = Vec::new();
        let lit = parse_items(line.as_bytes(), &mut items).unwrap();
        (items, lit)
    }

    #[test]
    fn urlfetch_responses() {
        let (items, lit) = parse("* URLFETCH \"imap://h/A/;uid=1\" {15}");
        assert_eq!(
            items,
            vec![
                Item::Atom("*".into()),
                Item::Atom("URLFETCH".into()),
                Item::Str(b"imap://h/A/;uid=1".to_vec()),
            ]
        );
        assert_eq!(lit, Some(15));
        assert_eq!(parse("* URLFETCH \"u\" ~{7}").1, Some(7));
        assert_eq!(parse("* URLFETCH \"u\" {7+}").1, Some(7));
        let (items, lit) = parse("* URLFETCH \"u\" NIL \"v\" \"a\\\"b\"");
        assert_eq!(lit, None);
        assert_eq!(items[3], Item::Nil);
        assert_eq!(items[5], Item::Str(b"a\"b".to_vec()));
        assert_eq!(tagged(b"b3 OK done", "b3"), Some("OK"));
        assert_eq!(tagged(b"b31 OK done", "b3"), None);
        assert_eq!(tagged(b"* OK", "b3"), None);
    }

    #[test]
    fn malformed_responses_are_errors() {
        for bad in [
            "* X \"open",
            "* X {12",
            "* X {12} more",
            "* X {x}",
            "* X ~12",
            "* X \"a\\",
        ] {
            let mut items = Vec::new();
            assert!(parse_items(bad.as_bytes(), &mut items).is_err(), "{bad}");
        }
    }

    /// A server that runs STARTTLS with `acceptor`'s certificate, then
    /// accepts any LOGIN.
    async fn starttls_server(acceptor: zest_core::tls::TlsAcceptor) -> SocketAddr {
        use tokio::io::AsyncBufReadExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let mut r = tokio::io::BufReader::new(tcp);
                    r.get_mut().write_all(b"* OK ready\r\n").await.unwrap();
                    let mut line = String::new();
                    r.read_line(&mut line).await.unwrap();
                    assert_eq!(line, "b1 STARTTLS\r\n");
                    r.get_mut().write_all(b"b1 OK go\r\n").await.unwrap();
                    let Ok(tls) = acceptor.accept(r.into_inner()).await else {
                        return;
                    };
                    let mut r = tokio::io::BufReader::new(tls);
                    let mut line = String::new();
                    r.read_line(&mut line).await.unwrap();
                    assert!(line.starts_with("b2 LOGIN \"$submit\" "), "{line}");
                    r.get_mut().write_all(b"b2 OK in\r\n").await.unwrap();
                    r.get_mut().flush().await.unwrap();
                    let mut rest = Vec::new();
                    let _ = r.read_to_end(&mut rest).await;
                });
            }
        });
        addr
    }

    fn acceptor(dir: &std::path::Path) -> zest_core::tls::TlsAcceptor {
        let config = zest_core::config::Config {
            data_dir: dir.to_path_buf(),
            ..zest_core::config::Config::default()
        };
        zest_core::tls::TlsAcceptor::load(&config).unwrap()
    }

    #[tokio::test]
    async fn starttls_accepts_our_certificate_and_no_other() {
        let (ours, theirs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let server = acceptor(ours.path());
        let addr = starttls_server(server.clone()).await;
        let leaf = |a: &zest_core::tls::TlsAcceptor| a.resolver().chain().into_iter().next();
        let mut target = Target {
            address: addr.to_string(),
            plaintext_on_loopback: false,
            user: zest_core::submit::SUBMIT_USER,
            secret: "00".repeat(32),
            certificate: leaf(&server),
            timeout: Duration::from_secs(20),
        };
        assert!(ImapClient::connect(&target).await.is_ok());
        target.certificate = leaf(&acceptor(theirs.path()));
        assert_ne!(target.certificate, leaf(&server));
        match ImapClient::connect(&target).await {
            Err(ImapError::Unavailable(_)) => {}
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("a foreign certificate was accepted"),
        }
        target.certificate = None;
        assert!(ImapClient::connect(&target).await.is_err());
    }

    /// A plain server that answers LOGIN, then sends `answer` (with the
    /// tag `b2` for URLFETCH) one byte at a time, or only the first `cut` bytes.
    async fn byte_server(answer: Vec<u8>, cut: usize) -> SocketAddr {
        use tokio::io::AsyncBufReadExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut r = tokio::io::BufReader::new(tcp);
            r.get_mut().write_all(b"* OK ready\r\n").await.unwrap();
            let mut line = String::new();
            r.read_line(&mut line).await.unwrap();
            r.get_mut()
                .write_all(b"* CAPABILITY IMAP4rev1 {3}\r\nabc\r\nb1 OK in\r\n")
                .await
                .unwrap();
            line.clear();
            r.read_line(&mut line).await.unwrap();
            for b in &answer[..cut.min(answer.len())] {
                if r.get_mut().write_all(&[*b]).await.is_err() {
                    return;
                }
                let _ = r.get_mut().flush().await;
            }
        });
        addr
    }

    fn plain_target(addr: SocketAddr) -> Target {
        Target {
            address: addr.to_string(),
            plaintext_on_loopback: true,
            user: zest_core::submit::SUBMIT_USER,
            secret: "00".repeat(32),
            certificate: None,
            timeout: Duration::from_secs(20),
        }
    }

    #[tokio::test]
    async fn answers_split_at_every_byte_and_truncated() {
        let url = "imap://h/A/;uid=1";
        let answer =
            format!("* URLFETCH \"{url}\" {{5}}\r\nhe\r\no\r\nb2 OK done\r\n").into_bytes();
        let addr = byte_server(answer.clone(), usize::MAX).await;
        let mut c = ImapClient::connect(&plain_target(addr)).await.unwrap();
        assert_eq!(
            c.urlfetch(url, 100).await.unwrap(),
            Some(b"he\r\no".to_vec())
        );
        // Too big for the room left.
        let addr = byte_server(answer.clone(), usize::MAX).await;
        let mut c = ImapClient::connect(&plain_target(addr)).await.unwrap();
        assert!(matches!(c.urlfetch(url, 4).await, Err(ImapError::TooBig)));
        // NIL, and a tagged NO.
        let nil = format!("* URLFETCH \"{url}\" NIL\r\nb2 OK done\r\n").into_bytes();
        let addr = byte_server(nil.clone(), usize::MAX).await;
        let mut c = ImapClient::connect(&plain_target(addr)).await.unwrap();
        assert_eq!(c.urlfetch(url, 100).await.unwrap(), None);
        let addr = byte_server(b"b2 NO nope\r\n".to_vec(), usize::MAX).await;
        let mut c = ImapClient::connect(&plain_target(addr)).await.unwrap();
        assert!(matches!(c.urlfetch(url, 100).await, Err(ImapError::Failed)));
        // Cut anywhere: an error, never data.
        for cut in 0..answer.len() {
            let addr = byte_server(answer.clone(), cut).await;
            let mut c = ImapClient::connect(&plain_target(addr)).await.unwrap();
            assert!(c.urlfetch(url, 100).await.is_err(), "cut at {cut}");
        }
    }

    proptest! {
        #[test]
        fn the_response_parser_never_panics(line in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut items = Vec::new();
            let _ = parse_items(&line, &mut items);
        }
    }
}
