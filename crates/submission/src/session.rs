//! One submission connection: the loop that reads commands and message data,
//! hands them to the handlers (`auth`, `mail`, `data`) and writes their
//! replies. Replies are buffered while pipelined input is waiting and flushed
//! before the session blocks on a read (RFC 2920 3.2).

use std::net::SocketAddr;
use std::sync::Arc;

use smtp_proto::Request;
use smtp_proto::request::receiver::{DataReceiver, DummyDataReceiver};
use store::{Account, EmailAddress, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zest_core::auth::{Authenticator, Exchange};
use zest_core::config::Config;
use zest_core::limits::Limits;
use zest_core::shutdown::Shutdown;
use zest_core::tls::TlsAcceptor;

use crate::mail::Envelope;
use crate::reply::{self, Reply};
use crate::stream::Stream;

/// Longest command line, CRLF included: room for an AUTH PLAIN initial
/// response at the SASL field limits (RFC 4954 4 allows 12288).
pub(crate) const MAX_COMMAND_LINE: usize = 12288;
/// Bad commands before the connection is closed (RFC 5321 4.3.2 lets a
/// server close on repeated errors).
const MAX_ERRORS: u32 = 20;
/// How much one read asks for.
const READ_CHUNK: usize = 64 * 1024;

/// What every session of the daemon shares.
pub(crate) struct Shared {
    pub config: Arc<Config>,
    pub store: Store,
    pub auth: Arc<Authenticator>,
    pub tls: TlsAcceptor,
    pub limits: Limits,
    pub burl: Option<crate::burl::Burl>,
}

impl Shared {
    pub(crate) fn max_message_size(&self) -> usize {
        usize::try_from(self.limits.max_message_size).unwrap_or(usize::MAX)
    }
}

pub(crate) enum Mode {
    Command,
    Auth(Exchange),
    Data(DataReceiver),
    /// Reading message data that will be refused with the reply.
    SkipData(DummyDataReceiver, Reply),
    Bdat {
        left: usize,
        last: bool,
    },
}

/// What the loop does after a step.
pub(crate) enum Next {
    Continue,
    NeedInput,
    Close,
    StartTls,
}

pub(crate) struct Session {
    pub shared: Arc<Shared>,
    pub peer: SocketAddr,
    pub secure: bool,
    pub helo: Option<String>,
    pub account: Option<Account>,
    pub owned: Vec<EmailAddress>,
    pub envelope: Option<Envelope>,
    /// The reply every chunk of a failed BDAT transaction gets (RFC 3030 4.2).
    pub chunk_error: Option<Reply>,
    pub mode: Mode,
    /// The connection to imapd BURL uses, kept for the session.
    pub imap: Option<crate::burl::ImapClient>,
    out: Vec<u8>,
    errors: u32,
    skipping_line: bool,
}

/// Serves one connection until QUIT, EOF, an idle timeout or shutdown.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    mut stream: Stream,
    peer: SocketAddr,
    shutdown: Shutdown,
) {
    let mut s = Session {
        secure: stream.is_tls(),
        shared,
        peer,
        helo: None,
        account: None,
        owned: Vec::new(),
        envelope: None,
        chunk_error: None,
        mode: Mode::Command,
        imap: None,
        out: Vec::new(),
        errors: 0,
        skipping_line: false,
    };
    let greeting = format!("{} ESMTP Zest submission ready", s.shared.config.hostname);
    s.reply(Reply::multi(220, vec![greeting]));
    let mut buf: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let idle = s.shared.limits.idle_timeout;
    loop {
        loop {
            match s.step(&mut buf).await {
                Next::Continue => {}
                Next::NeedInput => break,
                Next::Close => {
                    let _ = s.flush(&mut stream).await;
                    let _ = stream.shutdown().await;
                    if let Some(imap) = s.imap.take() {
                        imap.logout().await;
                    }
                    return;
                }
                Next::StartTls => {
                    if s.flush(&mut stream).await.is_err() {
                        return;
                    }
                    // RFC 3207 6: anything pipelined after STARTTLS was sent in
                    // the clear and may have been injected; drop it.
                    buf.clear();
                    let Stream::Plain(tcp) = stream else { return };
                    match s.shared.tls.accept(tcp).await {
                        Ok(tls) => stream = Stream::Tls(Box::new(tls)),
                        Err(e) => {
                            tracing::info!(error = %e, "STARTTLS handshake failed");
                            return;
                        }
                    }
                    // RFC 3207 4.2: forget everything learnt before TLS.
                    s.secure = true;
                    s.helo = None;
                    s.account = None;
                    s.owned.clear();
                    s.envelope = None;
                    s.chunk_error = None;
                }
            }
        }
        if s.flush(&mut stream).await.is_err() {
            return;
        }
        buf.reserve(READ_CHUNK);
        let between_commands = matches!(s.mode, Mode::Command) && buf.is_empty();
        let read = tokio::select! {
            r = tokio::time::timeout(idle, stream.read_buf(&mut buf)) => r,
            _ = shutdown.triggered(), if between_commands => {
                s.reply(Reply::new(421, "4.3.2", "Server shutting down"));
                let _ = s.flush(&mut stream).await;
                return;
            }
        };
        match read {
            Ok(Ok(0)) | Ok(Err(_)) => return,
            Ok(Ok(_)) => {}
            Err(_) => {
                s.reply(Reply::new(421, "4.4.2", "Idle too long; closing"));
                let _ = s.flush(&mut stream).await;
                return;
            }
        }
    }
}

impl Session {
    pub(crate) fn reply(&mut self, r: Reply) {
        r.write_to(&mut self.out);
    }

    async fn flush(&mut self, stream: &mut Stream) -> std::io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let out = std::mem::take(&mut self.out);
        stream.write_all(&out).await?;
        stream.flush().await
    }

    pub(crate) fn store(&self) -> &Store {
        &self.shared.store
    }

    /// A bad command: reply, and close once there have been too many.
    pub(crate) fn error(&mut self, r: Reply) -> Next {
        self.reply(r);
        self.errors += 1;
        if self.errors >= MAX_ERRORS {
            self.reply(Reply::new(421, "4.7.0", "Too many errors; closing"));
            return Next::Close;
        }
        Next::Continue
    }

    /// Handles what `buf` holds for the current mode, consuming it.
    async fn step(&mut self, buf: &mut Vec<u8>) -> Next {
        match std::mem::replace(&mut self.mode, Mode::Command) {
            mode @ (Mode::Command | Mode::Auth(_)) => {
                self.mode = mode;
                let Some(pos) = buf.iter().position(|&b| b == b'\n') else {
                    if buf.len() > MAX_COMMAND_LINE {
                        buf.clear();
                        if !self.skipping_line {
                            self.skipping_line = true;
                            self.mode = Mode::Command;
                            return self.error(Reply::new(500, "5.5.2", "Line too long"));
                        }
                    }
                    return Next::NeedInput;
                };
                let line: Vec<u8> = buf.drain(..=pos).collect();
                if std::mem::take(&mut self.skipping_line) {
                    return Next::Continue;
                }
                if line.len() > MAX_COMMAND_LINE {
                    self.mode = Mode::Command;
                    return self.error(Reply::new(500, "5.5.2", "Line too long"));
                }
                match std::mem::replace(&mut self.mode, Mode::Command) {
                    Mode::Auth(exchange) => self.auth_line(exchange, &line).await,
                    _ => self.command(&line).await,
                }
            }
            Mode::Data(mut rx) => {
                if buf.is_empty() {
                    self.mode = Mode::Data(rx);
                    return Next::NeedInput;
                }
                let max = self.shared.max_message_size();
                let Some(env) = self.envelope.as_mut() else {
                    return Next::Continue;
                };
                let mut it = buf.iter();
                let done = rx.ingest(&mut it, &mut env.data);
                let used = buf.len() - it.len();
                buf.drain(..used);
                if env.data.len() > max {
                    // Never hold more than the limit (plus one read) in memory.
                    env.data = Vec::new();
                    let refuse = Reply::new(
                        552,
                        "5.3.4",
                        "Message size exceeds fixed maximum message size",
                    );
                    if done {
                        self.envelope = None;
                        self.reply(refuse);
                    } else {
                        self.mode = Mode::SkipData(DummyDataReceiver::new_data(&rx), refuse);
                    }
                    return Next::Continue;
                }
                if done {
                    let r = self.finish_message(false).await;
                    self.reply(r);
                    Next::Continue
                } else {
                    self.mode = Mode::Data(rx);
                    Next::NeedInput
                }
            }
            Mode::SkipData(mut rx, refuse) => {
                if buf.is_empty() {
                    self.mode = Mode::SkipData(rx, refuse);
                    return Next::NeedInput;
                }
                let mut it = buf.iter();
                let done = rx.ingest(&mut it);
                let used = buf.len() - it.len();
                buf.drain(..used);
                if done {
                    self.envelope = None;
                    self.reply(refuse);
                    Next::Continue
                } else {
                    self.mode = Mode::SkipData(rx, refuse);
                    Next::NeedInput
                }
            }
            Mode::Bdat { left, last } => self.bdat_bytes(buf, left, last).await,
        }
    }

    async fn command(&mut self, line: &[u8]) -> Next {
        if line.contains(&0) {
            return self.error(Reply::new(500, "5.5.2", "NUL is not allowed in commands"));
        }
        let request = match Request::parse(&mut line.iter()) {
            Ok(r) => r.into_owned(),
            Err(e) => return self.error(reply::from_parse(&e)),
        };
        match request {
            Request::Ehlo { host } => self.ehlo(host, true),
            Request::Helo { host } => self.ehlo(host, false),
            Request::Lhlo { .. } => {
                self.error(Reply::new(500, "5.5.1", "This is not an LMTP server"))
            }
            Request::StartTls => {
                if self.secure {
                    return self.error(Reply::new(503, "5.5.1", "TLS already active"));
                }
                self.reply(Reply::new(220, "2.0.0", "Ready to start TLS"));
                Next::StartTls
            }
            Request::Auth {
                mechanism,
                initial_response,
            } => self.auth_start(mechanism, initial_response).await,
            Request::Mail { from } => self.mail(from).await,
            Request::Rcpt { to } => self.rcpt(to),
            Request::Data => self.data(),
            Request::Bdat {
                chunk_size,
                is_last,
            } => self.bdat(chunk_size, is_last),
            Request::Burl { uri, is_last } => self.burl(uri, is_last).await,
            Request::Rset => {
                self.envelope = None;
                self.chunk_error = None;
                self.reply(Reply::new(250, "2.0.0", "Reset"));
                Next::Continue
            }
            Request::Noop { .. } => {
                self.reply(Reply::new(250, "2.0.0", "OK"));
                Next::Continue
            }
            Request::Quit => {
                self.reply(Reply::new(221, "2.0.0", "Bye"));
                Next::Close
            }
            Request::Vrfy { .. } => {
                self.reply(Reply::new(
                    252,
                    "2.5.0",
                    "Cannot VRFY; send the message and see",
                ));
                Next::Continue
            }
            Request::Help { .. } => {
                self.reply(Reply::new(214, "2.0.0", "See RFC 6409"));
                Next::Continue
            }
            Request::Expn { .. } | Request::Etrn { .. } | Request::Atrn { .. } => {
                self.error(Reply::new(502, "5.5.1", "Command not implemented"))
            }
        }
    }

    fn ehlo(&mut self, host: String, extended: bool) -> Next {
        self.envelope = None;
        self.chunk_error = None;
        let hostname = self.shared.config.hostname.clone();
        self.helo = Some(host);
        if !extended {
            self.reply(Reply::multi(250, vec![hostname]));
            return Next::Continue;
        }
        let mut lines = vec![
            hostname,
            "PIPELINING".into(),
            format!("SIZE {}", self.shared.limits.max_message_size),
            "8BITMIME".into(),
            "BINARYMIME".into(),
            "CHUNKING".into(),
            "DSN".into(),
            "ENHANCEDSTATUSCODES".into(),
            "SMTPUTF8".into(),
            crate::mail::future_release_capability(),
        ];
        if !self.secure {
            lines.push("STARTTLS".into());
        }
        if self
            .shared
            .auth
            .plaintext_allowed(self.peer.ip(), self.secure)
        {
            lines.push("AUTH PLAIN LOGIN".into());
        }
        lines.extend(self.burl_capability());
        lines.push("HELP".into());
        self.reply(Reply::multi(250, lines));
        Next::Continue
    }
}
