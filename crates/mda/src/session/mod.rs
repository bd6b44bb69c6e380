//! One LMTP (RFC 2033) or inbound SMTP (RFC 5321) connection: commands parsed
//! by `smtp-proto`, replies written only here, the message delivered through
//! [`Mda`] and acknowledged only once it is on disk.

mod reply;
mod trace;

use std::net::SocketAddr;
use std::sync::Arc;

use smtp_proto::request::receiver::{BdatReceiver, DataReceiver};
use smtp_proto::{Error as ProtoError, Request};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use zest_core::limits::Limits;

use crate::auth::Verifier;
use crate::batch::BatchOutcome;
use crate::deliver::{LocalRecipient, Mda, Outcome, RecipientCheck};
pub(crate) use reply::Reply;

/// Which protocol a listener speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Lmtp,
    Smtp,
}

/// Trace fields for a locally handed-over message.
pub(crate) fn trace_fields(hostname: &str, helo: &str, peer: SocketAddr, from: &str) -> Vec<u8> {
    trace::prepend(Mode::Lmtp, hostname, helo, peer, false, from, false)
}

/// Most recipients one transaction may name (RFC 5321 4.5.3.1.8: at least 100).
const MAX_RECIPIENTS: usize = 1000;
/// Most consecutive errors before the connection is dropped.
const MAX_ERRORS: usize = 20;

/// What the connection shares with its daemon.
#[derive(Clone)]
pub(crate) struct Shared {
    pub mda: Mda,
    pub limits: Limits,
    pub tls: Option<zest_core::tls::TlsAcceptor>,
    pub verifier: Option<Arc<Verifier>>,
    pub shutdown: zest_core::shutdown::Shutdown,
}

/// How a session on one stream ended.
pub(crate) enum End<S> {
    Closed,
    /// STARTTLS accepted: run the handshake on the stream and start again.
    StartTls(S),
}

/// What the command loop asks of its caller.
enum Next {
    Closed,
    StartTls,
}

struct Transaction {
    from: String,
    /// RFC 6531 SMTPUTF8 was given.
    smtputf8: bool,
    rcpts: Vec<LocalRecipient>,
    /// BDAT chunks so far.
    chunks: Vec<u8>,
    /// The message grew past the limit; its bytes are being skipped.
    too_big: bool,
}

pub(crate) struct Session<S> {
    shared: Shared,
    mode: Mode,
    stream: S,
    peer: SocketAddr,
    tls: bool,
    buf: Vec<u8>,
    out: Vec<u8>,
    helo: Option<String>,
    tx: Option<Transaction>,
    errors: usize,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    pub(crate) fn new(shared: Shared, mode: Mode, stream: S, peer: SocketAddr, tls: bool) -> Self {
        Session {
            shared,
            mode,
            stream,
            peer,
            tls,
            buf: Vec::new(),
            out: Vec::new(),
            helo: None,
            tx: None,
            errors: 0,
        }
    }

    fn reply(&mut self, r: Reply) {
        r.write_to(&mut self.out);
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        if !self.out.is_empty() {
            self.stream.write_all(&self.out).await?;
            self.stream.flush().await?;
            self.out.clear();
        }
        Ok(())
    }

    /// Reads more bytes; false at end of stream. Replies are flushed first, so
    /// pipelined commands are answered in one write (RFC 2920).
    async fn fill(&mut self) -> std::io::Result<bool> {
        self.flush().await?;
        let mut chunk = [0u8; 16 * 1024];
        let shutdown = self.shared.shutdown.clone();
        let read = tokio::select! {
            _ = shutdown.triggered() => {
                self.reply(Reply::new(421, [4, 3, 2], "shutting down; try again later"));
                self.flush().await?;
                return Ok(false);
            }
            r = tokio::time::timeout(self.shared.limits.idle_timeout, self.stream.read(&mut chunk)) => r,
        };
        let n = match read {
            Ok(r) => r?,
            Err(_) => {
                self.reply(Reply::new(421, [4, 4, 2], "idle too long; closing"));
                self.flush().await?;
                return Ok(false);
            }
        };
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }

    pub(crate) async fn run(mut self) -> std::io::Result<End<S>> {
        let host = self.shared.mda.hostname().to_string();
        let greeting = match self.mode {
            Mode::Lmtp => format!("{host} LMTP ready"),
            Mode::Smtp => format!("{host} ESMTP ready"),
        };
        self.reply(Reply::plain(220, &greeting));
        self.run_after_tls().await
    }

    /// A session that continues after a TLS handshake: no new greeting
    /// (RFC 3207 4.2: the client starts again with EHLO).
    pub(crate) async fn run_after_tls(mut self) -> std::io::Result<End<S>> {
        match self.serve().await? {
            Next::Closed => Ok(End::Closed),
            Next::StartTls => Ok(End::StartTls(self.stream)),
        }
    }

    async fn serve(&mut self) -> std::io::Result<Next> {
        let max_line = self.shared.limits.max_line_length.max(512);
        loop {
            let Some(nl) = self.buf.iter().position(|b| *b == b'\n') else {
                if self.buf.len() > max_line {
                    self.buf.clear();
                    self.reply(Reply::new(500, [5, 5, 2], "line too long"));
                    self.skip_line().await?;
                    if self.count_error() {
                        return self.close().await;
                    }
                    continue;
                }
                if !self.fill().await? {
                    return Ok(Next::Closed);
                }
                continue;
            };
            let line: Vec<u8> = self.buf.drain(..=nl).collect();
            if line.len() > max_line {
                self.reply(Reply::new(500, [5, 5, 2], "line too long"));
                if self.count_error() {
                    return self.close().await;
                }
                continue;
            }
            let parsed = Request::parse(&mut line.iter()).map(Request::into_owned);
            match parsed {
                Ok(req) => {
                    if let Some(end) = self.command(req).await? {
                        return Ok(end);
                    }
                }
                Err(e) => {
                    self.reply(parse_error(&e));
                    if self.count_error() {
                        return self.close().await;
                    }
                }
            }
        }
    }

    fn count_error(&mut self) -> bool {
        self.errors += 1;
        if self.errors >= MAX_ERRORS {
            self.reply(Reply::new(421, [4, 7, 0], "too many errors; closing"));
            return true;
        }
        false
    }

    async fn close(&mut self) -> std::io::Result<Next> {
        self.flush().await?;
        let _ = self.stream.shutdown().await;
        Ok(Next::Closed)
    }

    /// Discards input up to and including the next LF.
    async fn skip_line(&mut self) -> std::io::Result<()> {
        loop {
            if let Some(nl) = self.buf.iter().position(|b| *b == b'\n') {
                self.buf.drain(..=nl);
                return Ok(());
            }
            self.buf.clear();
            if !self.fill().await? {
                return Ok(());
            }
        }
    }

    async fn command(&mut self, req: Request<String>) -> std::io::Result<Option<Next>> {
        match (self.mode, req) {
            (Mode::Lmtp, Request::Lhlo { host }) | (Mode::Smtp, Request::Ehlo { host }) => {
                self.helo = Some(host);
                self.tx = None;
                let ehlo = self.ehlo_lines();
                self.out.extend_from_slice(ehlo.as_bytes());
            }
            (Mode::Smtp, Request::Helo { host }) => {
                self.helo = Some(host);
                self.tx = None;
                let h = self.shared.mda.hostname().to_string();
                self.reply(Reply::plain(250, &h));
            }
            (Mode::Lmtp, Request::Ehlo { .. } | Request::Helo { .. }) => {
                self.reply(Reply::new(500, [5, 5, 1], "this is LMTP; use LHLO"));
            }
            (Mode::Smtp, Request::Lhlo { .. }) => {
                self.reply(Reply::new(500, [5, 5, 1], "this is SMTP; use EHLO"));
            }
            (_, Request::StartTls) => return self.starttls().await,
            (_, Request::Mail { from }) => self.mail(from),
            (_, Request::Rcpt { to }) => self.rcpt(to).await,
            (_, Request::Data) => self.data().await?,
            (
                _,
                Request::Bdat {
                    chunk_size,
                    is_last,
                },
            ) => self.bdat(chunk_size, is_last).await?,
            (_, Request::Rset) => {
                self.tx = None;
                self.reply(Reply::new(250, [2, 0, 0], "OK"));
            }
            (_, Request::Noop { .. }) => self.reply(Reply::new(250, [2, 0, 0], "OK")),
            (_, Request::Quit) => {
                self.reply(Reply::new(221, [2, 0, 0], "bye"));
                return self.close().await.map(Some);
            }
            (_, Request::Vrfy { .. }) => {
                self.reply(Reply::new(252, [2, 5, 0], "cannot verify; send and see"))
            }
            (_, Request::Help { .. }) => self.reply(Reply::new(214, [2, 0, 0], "see RFC 5321")),
            (_, Request::Auth { .. }) => {
                self.reply(Reply::new(502, [5, 5, 1], "no authentication here"))
            }
            (_, _) => self.reply(Reply::new(502, [5, 5, 1], "command not implemented")),
        }
        Ok(None)
    }

    fn ehlo_lines(&self) -> String {
        let mut lines = vec![self.shared.mda.hostname().to_string()];
        lines.push("PIPELINING".into());
        lines.push("8BITMIME".into());
        lines.push("ENHANCEDSTATUSCODES".into());
        lines.push(format!("SIZE {}", self.shared.limits.max_message_size));
        lines.push("CHUNKING".into());
        lines.push("SMTPUTF8".into());
        if self.mode == Mode::Smtp && !self.tls && self.shared.tls.is_some() {
            lines.push("STARTTLS".into());
        }
        let mut out = String::new();
        let last = lines.len() - 1;
        for (i, l) in lines.iter().enumerate() {
            out.push_str(if i == last { "250 " } else { "250-" });
            out.push_str(l);
            out.push_str("\r\n");
        }
        out
    }

    async fn starttls(&mut self) -> std::io::Result<Option<Next>> {
        if self.mode != Mode::Smtp || self.tls || self.shared.tls.is_none() {
            self.reply(Reply::new(502, [5, 5, 1], "STARTTLS not available"));
            return Ok(None);
        }
        self.reply(Reply::new(220, [2, 0, 0], "go ahead"));
        self.flush().await?;
        // RFC 3207 6: bytes sent before the handshake are discarded.
        self.buf.clear();
        Ok(Some(Next::StartTls))
    }

    fn mail(&mut self, from: smtp_proto::MailFrom<String>) {
        if self.helo.is_none() {
            let verb = if self.mode == Mode::Lmtp {
                "LHLO"
            } else {
                "EHLO"
            };
            self.reply(Reply::new(503, [5, 5, 1], &format!("{verb} first")));
            return;
        }
        if self.tx.is_some() {
            self.reply(Reply::new(503, [5, 5, 1], "nested MAIL command"));
            return;
        }
        let max = self.shared.limits.max_message_size;
        if from.size as u64 > max {
            self.reply(Reply::new(
                552,
                [5, 3, 4],
                &format!("message size exceeds the limit of {max} octets"),
            ));
            return;
        }
        if !from.address.is_empty() && store::EmailAddress::parse(&from.address).is_err() {
            self.reply(Reply::new(553, [5, 1, 7], "malformed sender address"));
            return;
        }
        self.tx = Some(Transaction {
            from: from.address,
            smtputf8: from.flags & smtp_proto::MAIL_SMTPUTF8 != 0,
            rcpts: Vec::new(),
            chunks: Vec::new(),
            too_big: false,
        });
        self.reply(Reply::new(250, [2, 1, 0], "OK"));
    }

    async fn rcpt(&mut self, to: smtp_proto::RcptTo<String>) {
        let Some(tx) = self.tx.as_ref() else {
            self.reply(Reply::new(503, [5, 5, 1], "MAIL first"));
            return;
        };
        if tx.rcpts.len() >= MAX_RECIPIENTS {
            self.reply(Reply::new(452, [4, 5, 3], "too many recipients"));
            return;
        }
        let reply = match self.shared.mda.check_recipient(&to.address).await {
            RecipientCheck::Local(r) => {
                if let Some(tx) = self.tx.as_mut() {
                    tx.rcpts.push(r);
                }
                Reply::new(250, [2, 1, 5], "OK")
            }
            RecipientCheck::Unknown => {
                if store::EmailAddress::parse(&to.address).is_err() {
                    Reply::new(553, [5, 1, 3], "malformed recipient address")
                } else {
                    Reply::new(550, [5, 1, 1], "no such user here")
                }
            }
            RecipientCheck::NotLocal => match self.mode {
                Mode::Smtp => Reply::new(550, [5, 7, 1], "relaying denied"),
                Mode::Lmtp => Reply::new(550, [5, 1, 1], "not a local address"),
            },
            RecipientCheck::Temporary(e) => {
                tracing::warn!(error = %e, "recipient lookup failed");
                Reply::new(451, [4, 3, 0], "temporary failure; try again later")
            }
        };
        self.reply(reply);
    }

    /// Checks the transaction can take a message; replies if not.
    fn ready_for_data(&mut self) -> bool {
        match &self.tx {
            None => {
                self.reply(Reply::new(503, [5, 5, 1], "MAIL first"));
                false
            }
            Some(tx) if tx.rcpts.is_empty() => {
                self.reply(Reply::new(554, [5, 5, 1], "no valid recipients"));
                false
            }
            Some(_) => true,
        }
    }

    async fn data(&mut self) -> std::io::Result<()> {
        if !self.ready_for_data() {
            return Ok(());
        }
        self.reply(Reply::plain(354, "end data with <CRLF>.<CRLF>"));
        self.flush().await?;
        let max = usize::try_from(self.shared.limits.max_message_size).unwrap_or(usize::MAX);
        let mut receiver = DataReceiver::new();
        // Start as if after a CRLF, so an empty message's "." ends it.
        let mut scratch = Vec::new();
        receiver.ingest(&mut b"\r\n".iter(), &mut scratch);
        let mut body = Vec::new();
        let mut too_big = false;
        loop {
            let mut it = self.buf.iter();
            let done = receiver.ingest(&mut it, &mut body);
            let used = self.buf.len() - it.as_slice().len();
            self.buf.drain(..used);
            if body.len() > max {
                too_big = true;
                body.clear();
            }
            if done {
                break;
            }
            if !self.fill().await? {
                // The connection went away mid-message: nothing was accepted.
                self.tx = None;
                return Ok(());
            }
        }
        self.finish(body, too_big).await;
        Ok(())
    }

    async fn bdat(&mut self, size: usize, last: bool) -> std::io::Result<()> {
        let max = usize::try_from(self.shared.limits.max_message_size).unwrap_or(usize::MAX);
        // RFC 3030 2: the chunk's bytes follow whatever the reply; read them first.
        let mut receiver = BdatReceiver::new(size, last);
        let mut chunk = Vec::new();
        let mut sink = Vec::new();
        let grow = self
            .tx
            .as_ref()
            .is_some_and(|t| !t.too_big && t.chunks.len().saturating_add(size) <= max);
        loop {
            let mut it = self.buf.iter();
            let target = if grow { &mut chunk } else { &mut sink };
            let done = receiver.ingest(&mut it, target);
            sink.clear();
            let used = self.buf.len() - it.as_slice().len();
            self.buf.drain(..used);
            if done {
                break;
            }
            if !self.fill().await? {
                self.tx = None;
                return Ok(());
            }
        }
        if !self.ready_for_data() {
            return Ok(());
        }
        let Some(tx) = self.tx.as_mut() else {
            return Ok(());
        };
        if grow {
            tx.chunks.extend_from_slice(&chunk);
        } else {
            tx.too_big = true;
            tx.chunks.clear();
        }
        if !last {
            self.reply(Reply::new(
                250,
                [2, 0, 0],
                &format!("{size} octets received"),
            ));
            return Ok(());
        }
        let body = std::mem::take(&mut tx.chunks);
        let too_big = tx.too_big;
        self.finish(body, too_big).await;
        Ok(())
    }

    /// The message is complete: check it, deliver it, reply.
    async fn finish(&mut self, body: Vec<u8>, too_big: bool) {
        let Some(tx) = self.tx.take() else { return };
        let n = match self.mode {
            Mode::Lmtp => tx.rcpts.len(),
            Mode::Smtp => 1,
        };
        let refuse = |s: &mut Self, r: Reply| {
            for _ in 0..n {
                s.reply(r.clone());
            }
        };
        if too_big {
            let max = self.shared.limits.max_message_size;
            refuse(
                self,
                Reply::new(552, [5, 3, 4], &format!("message exceeds {max} octets")),
            );
            return;
        }
        if let Err(why) = trace::check_content(&body) {
            refuse(self, Reply::new(554, [5, 6, 0], why));
            return;
        }
        let mut raw = trace::prepend(
            self.mode,
            self.shared.mda.hostname(),
            self.helo.as_deref().unwrap_or("unknown"),
            self.peer,
            self.tls,
            &tx.from,
            tx.smtputf8,
        );
        if self.mode == Mode::Smtp
            && let Some(v) = &self.shared.verifier
        {
            match v
                .verify(
                    &body,
                    self.peer.ip(),
                    self.helo.as_deref().unwrap_or(""),
                    &tx.from,
                )
                .await
            {
                Ok(header) => raw.extend_from_slice(header.as_bytes()),
                Err(reject) => {
                    refuse(self, reject);
                    return;
                }
            }
        }
        raw.extend_from_slice(&body);
        if self.mode == Mode::Smtp {
            // What is queued for a recipient delivered later: without the
            // Return-Path line, which that delivery adds again.
            let requeue = raw
                .iter()
                .position(|b| *b == b'\n')
                .and_then(|nl| raw.get(nl + 1..))
                .unwrap_or_default();
            let outcome = self
                .shared
                .mda
                .deliver_batch(&tx.from, &tx.rcpts, &raw, requeue, tx.smtputf8)
                .await;
            let reply = smtp_reply(&outcome, &tx.rcpts);
            self.reply(reply);
            return;
        }
        let raw = Arc::new(raw);
        // Every recipient's delivery runs at once so their commits share an fsync.
        let mut tasks = Vec::with_capacity(tx.rcpts.len());
        for rcpt in tx.rcpts.clone() {
            let (mda, raw, from) = (self.shared.mda.clone(), raw.clone(), tx.from.clone());
            tasks.push(tokio::spawn(async move {
                mda.deliver(&from, &rcpt, &raw).await
            }));
        }
        let mut outcomes = Vec::with_capacity(tasks.len());
        for t in tasks {
            outcomes.push(
                t.await
                    .unwrap_or_else(|e| Outcome::Temporary(format!("delivery task: {e}"))),
            );
        }
        for (o, r) in outcomes.iter().zip(&tx.rcpts) {
            let reply = outcome_reply(o, r);
            self.reply(reply);
        }
    }
}

fn outcome_reply(o: &Outcome, r: &LocalRecipient) -> Reply {
    match o {
        Outcome::Delivered => Reply::new(250, [2, 0, 0], &format!("<{}> delivered", r.rcpt)),
        Outcome::Rejected(reason) => Reply::new(550, [5, 7, 1], &sanitize(reason)),
        Outcome::Temporary(_) => Reply::new(451, [4, 3, 0], "temporary failure; try again later"),
        Outcome::DiskFull => Reply::new(452, [4, 3, 1], "insufficient system storage"),
        Outcome::OverQuota => Reply::new(452, [4, 2, 2], "mailbox full"),
    }
}

/// SMTP has one reply for all recipients (see [`Mda::deliver_batch`]).
fn smtp_reply(outcome: &BatchOutcome, rcpts: &[LocalRecipient]) -> Reply {
    match outcome {
        BatchOutcome::Accepted {
            queued, rejected, ..
        } => {
            for (rcpt, reason) in rejected {
                tracing::info!(%rcpt, %reason, "sieve rejected the message for one recipient");
            }
            if queued.is_empty() {
                Reply::new(250, [2, 0, 0], "OK: delivered")
            } else {
                Reply::new(250, [2, 0, 0], "OK: queued")
            }
        }
        BatchOutcome::Refused(o) => match rcpts.first() {
            Some(r) => outcome_reply(o, r),
            None => Reply::new(554, [5, 5, 1], "no valid recipients"),
        },
    }
}

/// A reason from a script, safe on one reply line.
fn sanitize(reason: &str) -> String {
    let s: String = reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(400)
        .collect();
    if s.trim().is_empty() {
        "message rejected".into()
    } else {
        s
    }
}

fn parse_error(e: &ProtoError) -> Reply {
    match e {
        ProtoError::UnknownCommand => Reply::new(500, [5, 5, 1], "unknown command"),
        ProtoError::InvalidSenderAddress => Reply::new(553, [5, 1, 7], "malformed sender address"),
        ProtoError::InvalidRecipientAddress => {
            Reply::new(553, [5, 1, 3], "malformed recipient address")
        }
        ProtoError::SyntaxError { syntax } => {
            Reply::new(501, [5, 5, 4], &format!("syntax: {syntax}"))
        }
        ProtoError::InvalidParameter { param } => {
            Reply::new(501, [5, 5, 4], &format!("invalid parameter {param}"))
        }
        ProtoError::UnsupportedParameter { param } => Reply::new(
            504,
            [5, 5, 4],
            &format!("unsupported parameter {}", sanitize(param)),
        ),
        ProtoError::ResponseTooLong => Reply::new(500, [5, 5, 2], "line too long"),
        ProtoError::NeedsMoreData { .. } | ProtoError::InvalidResponse { .. } => {
            Reply::new(500, [5, 5, 2], "syntax error")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn shared(store: store::Store, dir: &std::path::Path) -> Shared {
        let config = zest_core::config::Config {
            data_dir: dir.to_path_buf(),
            ..zest_core::config::Config::default()
        };
        Shared {
            mda: Mda::new(&config, store),
            limits: Limits::default(),
            tls: None,
            verifier: None,
            shutdown: zest_core::shutdown::Shutdown::new(),
        }
    }

    /// Feeds `input` to a session, in the given pieces, then closes.
    async fn feed(shared: Shared, mode: Mode, input: Vec<u8>, cut: usize) -> Vec<u8> {
        let (client, server) = tokio::io::duplex(1 << 20);
        let peer: SocketAddr = ([127, 0, 0, 1], 1).into();
        let task = tokio::spawn(Session::new(shared, mode, server, peer, false).run());
        let (mut r, mut w) = tokio::io::split(client);
        let writer = tokio::spawn(async move {
            let cut = cut.min(input.len());
            let _ = w.write_all(&input[..cut]).await;
            let _ = w.write_all(&input[cut..]).await;
            let _ = w.shutdown().await;
        });
        let mut out = Vec::new();
        let _ = r.read_to_end(&mut out).await;
        let _ = writer.await;
        let ended = task.await;
        assert!(ended.is_ok(), "the session panicked");
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn garbage_never_panics(
            input in proptest::collection::vec(any::<u8>(), 0..2000),
            cut in 0usize..2000,
            lmtp in any::<bool>(),
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let dir = tempfile::tempdir().unwrap();
                let store = store::Store::open(&dir.path().join("z.db")).await.unwrap();
                let mode = if lmtp { Mode::Lmtp } else { Mode::Smtp };
                let out = feed(shared(store, dir.path()), mode, input, cut).await;
                prop_assert!(out.starts_with(b"220 "));
                Ok(())
            })?;
        }

        #[test]
        fn commands_with_garbage_arguments(
            verb in prop::sample::select(vec!["LHLO", "MAIL FROM:", "RCPT TO:", "BDAT", "DATA", "RSET", "NOOP", "VRFY", "STARTTLS"]),
            arg in "[ -~]{0,300}",
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let dir = tempfile::tempdir().unwrap();
                let store = store::Store::open(&dir.path().join("z.db")).await.unwrap();
                let input = format!("LHLO x\r\n{verb}{arg}\r\nQUIT\r\n").into_bytes();
                let out = feed(shared(store, dir.path()), Mode::Lmtp, input, 3).await;
                prop_assert!(out.starts_with(b"220 "));
                Ok(())
            })?;
        }
    }
}
