//! The SMTP and LMTP client side of the queue: greeting, EHLO/LHLO,
//! opportunistic STARTTLS (RFC 3207, RFC 7435), pipelined envelope (RFC 2920),
//! DATA or BDAT, and one reply per recipient. Replies are parsed with
//! smtp-proto once a whole reply has been framed.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::pki_types::ServerName;
use smtp_proto::response::parser::ResponseReceiver;
use smtp_proto::{EhloResponse, Response};
use store::{BodyType, DsnRet, Outcome, QueuedMessage, QueuedRecipient, RecipientId};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::route::{Destination, Hop};
use super::{Inner, Job};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// RFC 5321 4.5.3.2: the client waits at least 5 minutes for most replies
/// and 10 for the one after the data.
const REPLY_TIMEOUT: Duration = Duration::from_secs(300);
const DATA_REPLY_TIMEOUT: Duration = Duration::from_secs(600);
const MAX_REPLY: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    Smtp,
    Lmtp,
}

/// A failure that applies to every recipient of an attempt.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub temporary: bool,
    pub host: Option<String>,
    pub error: String,
}

impl Failure {
    pub(crate) fn temporary(host: Option<String>, error: String) -> Failure {
        Failure {
            temporary: true,
            host,
            error,
        }
    }

    pub(crate) fn permanent(host: Option<String>, error: String) -> Failure {
        Failure {
            temporary: false,
            host,
            error,
        }
    }

    pub(crate) fn outcomes(&self, job: &Job, inner: &Inner) -> Vec<(RecipientId, Outcome)> {
        job.recipients
            .iter()
            .map(|r| {
                let o = if self.temporary {
                    super::temporary(
                        inner,
                        &job.message,
                        r,
                        self.host.clone(),
                        self.error.clone(),
                    )
                } else {
                    Outcome::Failed {
                        remote_mta: self.host.clone(),
                        error: self.error.clone(),
                    }
                };
                (r.id, o)
            })
            .collect()
    }
}

/// A reply from the other side, as one line for logs and reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RemoteReply {
    pub code: u16,
    pub text: String,
}

impl std::fmt::Display for RemoteReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.text)
    }
}

impl RemoteReply {
    pub(crate) fn into_outcome(
        self,
        message: &QueuedMessage,
        recipient: &QueuedRecipient,
        inner: &Inner,
        protocol: Protocol,
        host: &str,
        dsn: bool,
    ) -> Outcome {
        let host = Some(host.to_string());
        match self.code {
            200..=299 => Outcome::Delivered {
                remote_mta: host,
                reply: self.to_string(),
                local: protocol.is_local(),
                reported_downstream: dsn && !protocol.is_local(),
            },
            500..=599 => Outcome::Failed {
                remote_mta: host,
                error: self.to_string(),
            },
            _ => super::temporary(inner, message, recipient, host, self.to_string()),
        }
    }
}

/// What one transaction sends.
pub(crate) struct Delivery<'a> {
    pub message: &'a QueuedMessage,
    pub recipients: &'a [QueuedRecipient],
    pub raw: &'a [u8],
}

enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// What the server said it supports.
#[derive(Debug, Default, Clone, Copy)]
struct Extensions {
    pipelining: bool,
    size: usize,
    eight_bit: bool,
    binary: bool,
    chunking: bool,
    dsn: bool,
    smtputf8: bool,
    starttls: bool,
}

impl Extensions {
    fn from_ehlo(r: &EhloResponse<String>) -> Extensions {
        let has = |c| r.has_capability(c);
        Extensions {
            pipelining: has(smtp_proto::EXT_PIPELINING),
            size: if has(smtp_proto::EXT_SIZE) { r.size } else { 0 },
            eight_bit: has(smtp_proto::EXT_8BIT_MIME),
            binary: has(smtp_proto::EXT_BINARY_MIME),
            chunking: has(smtp_proto::EXT_CHUNKING),
            dsn: has(smtp_proto::EXT_DSN),
            smtputf8: has(smtp_proto::EXT_SMTP_UTF8),
            starttls: has(smtp_proto::EXT_START_TLS),
        }
    }
}

pub(crate) struct Connection {
    io: Io,
    buf: Vec<u8>,
    protocol: Protocol,
    host: String,
    ext: Extensions,
}

/// Connects to the first host of `dest` that greets and answers EHLO/LHLO.
pub(crate) async fn connect(inner: &Inner, dest: &Destination) -> Result<Connection, Failure> {
    let hops = inner.router.hops(dest).await?;
    let protocol = match dest {
        Destination::Lmtp(_) => Protocol::Lmtp,
        _ => Protocol::Smtp,
    };
    let sub = &inner.config.submission;
    let creds = match dest {
        Destination::Host(h) if *h == sub.relay_host && !sub.relay_user.is_empty() => Some((
            sub.relay_user.as_str(),
            sub.relay_password.expose().as_str(),
        )),
        _ => None,
    };
    let mut last = Failure::temporary(None, "451 4.4.1 no host to connect to".into());
    for hop in hops {
        match open(inner, &hop, protocol, true, creds).await {
            Ok(c) => return Ok(c),
            Err(e) if e.kind == Stage::Tls => {
                // Opportunistic TLS that fails is retried without it (RFC 7435).
                match open(inner, &hop, protocol, false, creds).await {
                    Ok(c) => return Ok(c),
                    Err(e) => last = e.failure,
                }
            }
            Err(e) => last = e.failure,
        }
        if !last.temporary {
            break;
        }
    }
    Err(last)
}

/// A TCP connection to the hop: to its addresses in turn, or where it has
/// none, to its name as the system resolves it.
async fn connect_tcp(hop: &Hop) -> Result<TcpStream, String> {
    let attempt =
        |r: Result<std::io::Result<TcpStream>, tokio::time::error::Elapsed>, at: &str| match r {
            Ok(Ok(t)) => Ok(t),
            Ok(Err(e)) => Err(format!("451 4.4.1 cannot connect to {at}: {e}")),
            Err(_) => Err(format!("451 4.4.1 connecting to {at} timed out")),
        };
    if hop.addrs.is_empty() {
        let at = format!("{}:{}", hop.host, hop.port);
        let r = tokio::time::timeout(
            CONNECT_TIMEOUT,
            TcpStream::connect((hop.host.as_str(), hop.port)),
        )
        .await;
        return attempt(r, &at);
    }
    let mut last = String::new();
    for ip in &hop.addrs {
        let addr = std::net::SocketAddr::new(*ip, hop.port);
        let at = format!("{} ({addr})", hop.host);
        match attempt(
            tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await,
            &at,
        ) {
            Ok(t) => return Ok(t),
            Err(e) => last = e,
        }
    }
    Err(last)
}

#[derive(Debug, PartialEq, Eq)]
enum Stage {
    Connect,
    Tls,
}

struct OpenError {
    kind: Stage,
    failure: Failure,
}

async fn open(
    inner: &Inner,
    hop: &Hop,
    protocol: Protocol,
    try_tls: bool,
    creds: Option<(&str, &str)>,
) -> Result<Connection, OpenError> {
    let name = Some(hop.host.clone());
    let fail = |kind: Stage, e: String| OpenError {
        kind,
        failure: Failure::temporary(name.clone(), e),
    };
    let tcp = connect_tcp(hop)
        .await
        .map_err(|e| fail(Stage::Connect, e))?;
    let _ = tcp.set_nodelay(true);
    let mut c = Connection {
        io: Io::Plain(tcp),
        buf: Vec::new(),
        protocol,
        host: hop.host.clone(),
        ext: Extensions::default(),
    };
    let greeting = c.read_reply(REPLY_TIMEOUT).await.map_err(|f| OpenError {
        kind: Stage::Connect,
        failure: f,
    })?;
    if greeting.code != 220 {
        let failure = if greeting.code >= 500 {
            Failure::permanent(name.clone(), greeting.0.to_string())
        } else {
            Failure::temporary(name.clone(), greeting.0.to_string())
        };
        return Err(OpenError {
            kind: Stage::Connect,
            failure,
        });
    }
    c.hello(&inner.config.hostname)
        .await
        .map_err(|f| OpenError {
            kind: Stage::Connect,
            failure: f,
        })?;
    if try_tls && protocol == Protocol::Smtp && c.ext.starttls {
        c.write(b"STARTTLS\r\n").await.map_err(|f| OpenError {
            kind: Stage::Connect,
            failure: f,
        })?;
        let r = c.read_reply(REPLY_TIMEOUT).await.map_err(|f| OpenError {
            kind: Stage::Connect,
            failure: f,
        })?;
        if r.code == 220 {
            let Io::Plain(tcp) = c.io else {
                return Err(fail(Stage::Tls, "451 4.7.5 TLS state".into()));
            };
            let server_name = ServerName::try_from(hop.host.clone()).unwrap_or_else(|_| {
                ServerName::try_from("localhost")
                    .map(|n| n.to_owned())
                    .unwrap_or(ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()))
            });
            let connector = tokio_rustls::TlsConnector::from(inner.tls.clone());
            let tls =
                match tokio::time::timeout(CONNECT_TIMEOUT, connector.connect(server_name, tcp))
                    .await
                {
                    Ok(Ok(t)) => t,
                    Ok(Err(e)) => {
                        return Err(fail(
                            Stage::Tls,
                            format!("451 4.7.5 TLS handshake with {} failed: {e}", hop.host),
                        ));
                    }
                    Err(_) => {
                        return Err(fail(
                            Stage::Tls,
                            format!("451 4.7.5 TLS handshake with {} timed out", hop.host),
                        ));
                    }
                };
            c.io = Io::Tls(Box::new(tls));
            c.buf.clear();
            c.hello(&inner.config.hostname)
                .await
                .map_err(|f| OpenError {
                    kind: Stage::Tls,
                    failure: f,
                })?;
        }
    }
    if let Some((user, password)) = creds {
        c.authenticate(user, password)
            .await
            .map_err(|f| OpenError {
                kind: Stage::Connect,
                failure: f,
            })?;
    }
    Ok(c)
}

/// A framed reply: code, and the parsed form.
struct Framed(RemoteReply, Vec<u8>);

impl std::ops::Deref for Framed {
    type Target = RemoteReply;
    fn deref(&self) -> &RemoteReply {
        &self.0
    }
}

impl Connection {
    pub(crate) fn protocol(&self) -> Protocol {
        self.protocol
    }

    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    /// Whether the next hop takes the DSN parameters (and so reports itself).
    pub(crate) fn dsn(&self) -> bool {
        self.ext.dsn
    }

    fn io_failure(&self, e: impl std::fmt::Display) -> Failure {
        Failure::temporary(
            Some(self.host.clone()),
            format!("451 4.4.2 connection to {} lost: {e}", self.host),
        )
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        let r = async {
            self.io.write_all(bytes).await?;
            self.io.flush().await
        }
        .await;
        r.map_err(|e| self.io_failure(e))
    }

    /// Reads one whole (possibly multi-line) reply.
    async fn read_reply(&mut self, timeout: Duration) -> Result<Framed, Failure> {
        loop {
            if let Some(end) = reply_end(&self.buf) {
                let bytes: Vec<u8> = self.buf.drain(..end).collect();
                let mut rx = ResponseReceiver::default();
                let parsed: Result<Response<String>, _> = rx.parse(&mut bytes.iter());
                let reply = match parsed {
                    Ok(r) => RemoteReply {
                        code: r.code,
                        text: one_line(&if r.esc[0] != 0 {
                            format!("{}.{}.{} {}", r.esc[0], r.esc[1], r.esc[2], r.message)
                        } else {
                            r.message
                        }),
                    },
                    Err(_) => RemoteReply {
                        code: 451,
                        text: "4.5.0 unparsable reply from the remote server".into(),
                    },
                };
                return Ok(Framed(reply, bytes));
            }
            if self.buf.len() > MAX_REPLY {
                return Err(Failure::temporary(
                    Some(self.host.clone()),
                    "451 4.5.0 reply too long".into(),
                ));
            }
            self.buf.reserve(4096);
            match tokio::time::timeout(timeout, self.io.read_buf(&mut self.buf)).await {
                Ok(Ok(0)) => return Err(self.io_failure("closed by the remote side")),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(self.io_failure(e)),
                Err(_) => return Err(self.io_failure("timed out waiting for a reply")),
            }
        }
    }

    async fn hello(&mut self, hostname: &str) -> Result<(), Failure> {
        let verb = match self.protocol {
            Protocol::Smtp => "EHLO",
            Protocol::Lmtp => "LHLO",
        };
        self.write(format!("{verb} {hostname}\r\n").as_bytes())
            .await?;
        let r = self.read_reply(REPLY_TIMEOUT).await?;
        if r.code != 250 {
            if self.protocol == Protocol::Lmtp {
                return Err(Failure::temporary(Some(self.host.clone()), r.0.to_string()));
            }
            // RFC 5321 3.2: fall back to HELO.
            self.write(format!("HELO {hostname}\r\n").as_bytes())
                .await?;
            let r = self.read_reply(REPLY_TIMEOUT).await?;
            if r.code != 250 {
                return Err(Failure::temporary(Some(self.host.clone()), r.0.to_string()));
            }
            self.ext = Extensions::default();
            return Ok(());
        }
        // EhloResponse::parse reads "250-" lines; LHLO answers have the same shape.
        self.ext = EhloResponse::parse(&mut r.1.iter())
            .map(|e| Extensions::from_ehlo(&e))
            .unwrap_or_default();
        Ok(())
    }

    /// AUTH PLAIN at the smarthost; the password goes only under TLS or to
    /// loopback. A refusal is temporary: mail waits for the config to be fixed.
    async fn authenticate(&mut self, user: &str, password: &str) -> Result<(), Failure> {
        use base64::Engine;
        let host = Some(self.host.clone());
        let secure = matches!(self.io, Io::Tls(_));
        let loopback = self
            .host
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(self.host == "localhost");
        if !secure && !loopback {
            return Err(Failure::temporary(
                host,
                "451 4.7.10 the smarthost offers no TLS; the password is not sent in the clear"
                    .into(),
            ));
        }
        let token =
            base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
        self.write(format!("AUTH PLAIN {token}\r\n").as_bytes())
            .await?;
        let r = self.read_reply(REPLY_TIMEOUT).await?;
        if r.code != 235 {
            return Err(Failure::temporary(
                host,
                format!("451 4.7.0 the smarthost refused AUTH: {}", r.0),
            ));
        }
        Ok(())
    }

    /// One transaction; a reply per recipient, or a failure for all.
    pub(crate) async fn send(
        &mut self,
        d: Delivery<'_>,
    ) -> Result<Vec<(RecipientId, RemoteReply)>, Failure> {
        let m = d.message;
        let host = Some(self.host.clone());
        if m.body_type == BodyType::BinaryMime && !(self.ext.binary && self.ext.chunking) {
            return Err(Failure::permanent(
                host,
                "554 5.6.3 the next hop cannot take binary content".into(),
            ));
        }
        if m.smtputf8 && !self.ext.smtputf8 {
            return Err(Failure::permanent(
                host,
                "553 5.6.7 the next hop does not support SMTPUTF8".into(),
            ));
        }
        if self.ext.size > 0 && d.raw.len() > self.ext.size {
            return Err(Failure::permanent(
                host,
                format!(
                    "552 5.3.4 message larger than the next hop's limit of {} octets",
                    self.ext.size
                ),
            ));
        }
        let mut mail = format!("MAIL FROM:<{}>", m.sender);
        match m.body_type {
            BodyType::EightBitMime if self.ext.eight_bit => mail.push_str(" BODY=8BITMIME"),
            BodyType::BinaryMime => mail.push_str(" BODY=BINARYMIME"),
            _ => {}
        }
        if m.smtputf8 {
            mail.push_str(" SMTPUTF8");
        }
        if self.ext.size > 0 {
            mail.push_str(&format!(" SIZE={}", d.raw.len()));
        }
        if self.ext.dsn {
            match m.dsn_ret {
                Some(DsnRet::Full) => mail.push_str(" RET=FULL"),
                Some(DsnRet::Hdrs) => mail.push_str(" RET=HDRS"),
                None => {}
            }
            if let Some(e) = &m.env_id {
                mail.push_str(&format!(" ENVID={}", xtext(e)));
            }
        }
        mail.push_str("\r\n");
        let mut rcpts = Vec::with_capacity(d.recipients.len());
        for r in d.recipients {
            let mut line = format!("RCPT TO:<{}>", r.address);
            if self.ext.dsn {
                if let Some(n) = &r.notify {
                    line.push_str(&format!(" NOTIFY={n}"));
                }
                if let Some(o) = &r.orcpt {
                    let (kind, addr) = o.split_once(';').unwrap_or(("rfc822", o));
                    line.push_str(&format!(" ORCPT={kind};{}", xtext(addr)));
                }
            }
            line.push_str("\r\n");
            rcpts.push(line);
        }

        // RFC 2920: with PIPELINING the envelope goes in one write.
        let mut replies = Vec::with_capacity(rcpts.len());
        let mail_reply;
        if self.ext.pipelining || self.protocol == Protocol::Lmtp {
            let mut batch = mail.into_bytes();
            for r in &rcpts {
                batch.extend_from_slice(r.as_bytes());
            }
            self.write(&batch).await?;
            mail_reply = self.read_reply(REPLY_TIMEOUT).await?.0;
            for _ in &rcpts {
                replies.push(self.read_reply(REPLY_TIMEOUT).await?.0);
            }
        } else {
            self.write(mail.as_bytes()).await?;
            mail_reply = self.read_reply(REPLY_TIMEOUT).await?.0;
            if mail_reply.code == 250 {
                for r in &rcpts {
                    self.write(r.as_bytes()).await?;
                    replies.push(self.read_reply(REPLY_TIMEOUT).await?.0);
                }
            }
        }
        if mail_reply.code != 250 {
            self.rset().await?;
            return Ok(d
                .recipients
                .iter()
                .map(|r| (r.id, mail_reply.clone()))
                .collect());
        }
        let accepted: Vec<usize> = replies
            .iter()
            .enumerate()
            .filter(|(_, r)| (200..300).contains(&r.code))
            .map(|(i, _)| i)
            .collect();
        let mut out: Vec<(RecipientId, RemoteReply)> = d
            .recipients
            .iter()
            .zip(replies.iter())
            .map(|(r, reply)| (r.id, reply.clone()))
            .collect();
        if accepted.is_empty() {
            self.rset().await?;
            return Ok(out);
        }

        let final_replies = if m.body_type == BodyType::BinaryMime {
            let mut cmd = format!("BDAT {} LAST\r\n", d.raw.len()).into_bytes();
            cmd.extend_from_slice(d.raw);
            self.write(&cmd).await?;
            self.final_replies(accepted.len()).await?
        } else {
            self.write(b"DATA\r\n").await?;
            let r = self.read_reply(REPLY_TIMEOUT).await?.0;
            if r.code != 354 {
                for &i in &accepted {
                    out[i].1 = r.clone();
                }
                return Ok(out);
            }
            self.write(&dot_stuff(d.raw)).await?;
            self.final_replies(accepted.len()).await?
        };
        for (k, &i) in accepted.iter().enumerate() {
            if let Some(r) = final_replies.get(k).or(final_replies.last()) {
                out[i].1 = r.clone();
            }
        }
        Ok(out)
    }

    /// After the data: one reply (SMTP) or one per accepted recipient (LMTP, RFC 2033 4.2).
    async fn final_replies(&mut self, accepted: usize) -> Result<Vec<RemoteReply>, Failure> {
        let n = match self.protocol {
            Protocol::Smtp => 1,
            Protocol::Lmtp => accepted,
        };
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(self.read_reply(DATA_REPLY_TIMEOUT).await?.0);
        }
        Ok(v)
    }

    async fn rset(&mut self) -> Result<(), Failure> {
        self.write(b"RSET\r\n").await?;
        self.read_reply(REPLY_TIMEOUT).await.map(|_| ())
    }

    pub(crate) async fn quit(mut self) {
        if self.write(b"QUIT\r\n").await.is_ok() {
            let _ = self.read_reply(Duration::from_secs(10)).await;
        }
        let _ = self.io.shutdown().await;
    }
}

/// Where the first complete reply in `buf` ends: after the line whose code
/// is followed by a space (or nothing).
fn reply_end(buf: &[u8]) -> Option<usize> {
    let mut start = 0;
    while let Some(pos) = buf[start..].iter().position(|&b| b == b'\n') {
        let line = &buf[start..start + pos + 1];
        start += pos + 1;
        if line.len() < 4 || line.get(3) != Some(&b'-') {
            return Some(start);
        }
    }
    None
}

fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// RFC 3461 4: xtext.
pub(crate) fn xtext(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if (33..=126).contains(&b) && b != b'+' && b != b'=' {
            out.push(b as char);
        } else {
            out.push_str(&format!("+{b:02X}"));
        }
    }
    out
}

/// RFC 5321 4.5.2: a leading dot is doubled; the data ends with CRLF.CRLF.
pub(crate) fn dot_stuff(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 64 + 5);
    let mut at_line_start = true;
    for &b in raw {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// Opportunistic TLS authenticates nothing (RFC 7435): any certificate is
/// taken, which still keeps passive observers out.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_replies() {
        assert_eq!(reply_end(b"250 ok\r\n"), Some(8));
        assert_eq!(reply_end(b"250-a\r\n250 b\r\nxx"), Some(14));
        assert_eq!(reply_end(b"250-a\r\n250-b"), None);
        assert_eq!(reply_end(b"250\r\n"), Some(5));
    }

    #[tokio::test]
    async fn a_hop_with_addresses_is_reached_at_them_in_turn() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // A name no resolver knows, an address where nothing listens, then
        // the one that answers: the name is never looked up.
        let hop = Hop {
            host: "mx.zest-test.invalid".into(),
            port,
            addrs: vec![
                std::net::IpAddr::from([127, 0, 0, 2]),
                std::net::IpAddr::from([127, 0, 0, 1]),
            ],
        };
        let (tcp, accepted) = tokio::join!(connect_tcp(&hop), listener.accept());
        let tcp = tcp.unwrap();
        assert_eq!(
            tcp.peer_addr().unwrap(),
            accepted.unwrap().0.local_addr().unwrap()
        );
        // Without addresses the name is resolved when connecting, and one
        // that does not resolve is a temporary failure naming the host.
        let unresolved = Hop {
            addrs: Vec::new(),
            ..hop
        };
        let e = connect_tcp(&unresolved).await.unwrap_err();
        assert!(e.starts_with("451 4.4.1"), "{e}");
        assert!(e.contains("mx.zest-test.invalid"), "{e}");
    }

    #[test]
    fn stuffing_and_xtext() {
        assert_eq!(dot_stuff(b".a\r\nb\r\n..c"), b"..a\r\nb\r\n...c\r\n.\r\n");
        assert_eq!(xtext("a+b=c d"), "a+2Bb+3Dc+20d");
    }

    proptest::proptest! {
        #[test]
        fn framing_and_stuffing_never_panic(buf in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            if let Some(end) = reply_end(&buf) {
                proptest::prop_assert!(end <= buf.len());
            }
            let stuffed = dot_stuff(&buf);
            proptest::prop_assert!(stuffed.ends_with(b"\r\n.\r\n"));
        }
    }
}
