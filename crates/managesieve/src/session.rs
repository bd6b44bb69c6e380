//! One connection: the loop that reads commands, hands them to the handlers and
//! is the only code writing to the socket. Reads are bounded by the parser's
//! limits and time out; shutdown ends the session with BYE.

use std::net::SocketAddr;
use std::sync::Arc;

use managesieve_proto::{
    Code, Limits, ParseError, ParseErrorKind, Parsed, Response, Skip, encode_challenge,
    parse_command, parse_sasl_response,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tracing::Instrument;
use zest_core::auth::{Exchange, Mechanism, Step};

use crate::Shared;
use crate::handler::{self, Action, Ctx, State, login_response, sasl_refusal};

/// Refusals in a row before the server gives up on a client.
const MAX_ERRORS: u32 = 20;

enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Closed,
}

impl Stream {
    async fn read(&mut self, chunk: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(chunk).await,
            Stream::Tls(s) => s.read(chunk).await,
            Stream::Closed => Ok(0),
        }
    }

    async fn write_all(&mut self, data: &[u8]) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.write_all(data).await,
            Stream::Tls(s) => {
                s.write_all(data).await?;
                s.flush().await
            }
            Stream::Closed => Err(std::io::ErrorKind::NotConnected.into()),
        }
    }

    async fn shutdown(&mut self) {
        let _ = match self {
            Stream::Plain(s) => s.shutdown().await,
            Stream::Tls(s) => s.shutdown().await,
            Stream::Closed => Ok(()),
        };
    }
}

/// Why the session stops reading.
#[derive(Debug)]
enum Stop {
    Eof,
    Idle,
    Shutdown,
    Io,
    /// A refused literal too large to read past.
    Oversized,
}

pub(crate) struct Session {
    shared: Arc<Shared>,
    stream: Stream,
    ctx: Ctx,
    buf: Vec<u8>,
    /// Input still to drop after a refused command.
    skip: Option<Skip>,
    limits: Limits,
    errors: u32,
}

impl Session {
    pub(crate) fn new(shared: Arc<Shared>, tcp: TcpStream, peer: SocketAddr) -> Session {
        let limits = Limits {
            max_line: shared.limits.max_line_length,
            max_literal: u32::try_from(shared.sieve.max_script_size).unwrap_or(u32::MAX),
        };
        Session {
            shared,
            stream: Stream::Plain(tcp),
            ctx: Ctx {
                peer,
                tls: false,
                state: State::NotAuthenticated,
            },
            buf: Vec::new(),
            skip: None,
            limits,
            errors: 0,
        }
    }

    async fn send(&mut self, data: &[u8]) -> Result<(), Stop> {
        self.stream.write_all(data).await.map_err(|e| {
            tracing::debug!(error = %e, "write failed");
            Stop::Io
        })
    }

    fn greeting(&self) -> Vec<u8> {
        let mut out = handler::capabilities(&self.shared, &self.ctx);
        out.extend(Response::ok("Zest ManageSieve ready").to_bytes());
        out
    }

    pub(crate) async fn run(mut self) {
        let stop = self.serve().await;
        let bye = match stop {
            Err(Stop::Idle) => Some(Response::bye("Idle for too long").to_bytes()),
            Err(Stop::Shutdown) => Some(
                Response::bye("Server shutting down")
                    .with_code(Code::TryLater)
                    .to_bytes(),
            ),
            Err(Stop::Oversized) => Some(Response::bye("Literal too large").to_bytes()),
            _ => None,
        };
        if let Some(bye) = bye {
            let _ = self.send(&bye).await;
        }
        tracing::debug!(?stop, "session ends");
        self.stream.shutdown().await;
    }

    async fn serve(&mut self) -> Result<(), Stop> {
        let greeting = self.greeting();
        self.send(&greeting).await?;
        loop {
            let command = match self.read_item(parse_command).await? {
                Ok(c) => c,
                Err(e) => {
                    self.refuse(&e).await?;
                    continue;
                }
            };
            let span = tracing::debug_span!("command", name = command.name());
            let reply = handler::handle(&self.shared, &mut self.ctx, command)
                .instrument(span)
                .await;
            self.send(&reply.out).await?;
            if reply.out.starts_with(b"NO") {
                self.count_error().await?;
            } else {
                self.errors = 0;
            }
            match reply.action {
                Action::None => {}
                Action::Close => return Ok(()),
                Action::StartTls => self.start_tls().await?,
                Action::Authenticate {
                    mechanism,
                    initial_response,
                } => self.authenticate(mechanism, initial_response).await?,
            }
        }
    }

    async fn count_error(&mut self) -> Result<(), Stop> {
        self.errors += 1;
        if self.errors >= MAX_ERRORS {
            let bye = Response::bye("Too many errors").to_bytes();
            self.send(&bye).await?;
            return Err(Stop::Eof);
        }
        Ok(())
    }

    /// RFC 5804 1.3: ManageSieve has no BAD; a refused command gets NO.
    async fn refuse(&mut self, e: &ParseError) -> Result<(), Stop> {
        tracing::debug!(error = %e, "refused command");
        let r = match e.kind {
            ParseErrorKind::LiteralTooLarge => {
                Response::no(e.message.clone()).with_code(Code::QuotaMaxSize)
            }
            _ => Response::no(e.message.clone()),
        };
        self.send(&r.to_bytes()).await?;
        self.count_error().await
    }

    /// Reads until `parse` yields an item or refuses one; refused input is
    /// dropped (literals included) before the next item is parsed.
    async fn read_item<T>(
        &mut self,
        parse: fn(&[u8], &Limits) -> Result<Parsed<T>, ParseError>,
    ) -> Result<Result<T, ParseError>, Stop> {
        let mut need = 0usize;
        loop {
            if let Some(skip) = &mut self.skip {
                let n = skip.consume(&self.buf);
                self.buf.drain(..n);
                if skip.is_done() {
                    self.skip = None;
                } else {
                    self.fill().await?;
                    continue;
                }
            }
            if self.buf.len() < need {
                self.fill().await?;
                continue;
            }
            match parse(&self.buf, &self.limits) {
                Ok(Parsed::Done(item, n)) => {
                    self.buf.drain(..n);
                    return Ok(Ok(item));
                }
                Ok(Parsed::Incomplete) => self.fill().await?,
                Ok(Parsed::NeedLiteral { size, .. }) => {
                    // RFC 5804 has no continuation: the client sends the
                    // literal at once; wait for all of it before parsing again.
                    need = self.buf.len() + size as usize;
                    self.fill().await?;
                }
                Err(e) => {
                    // Reading past a literal of several times the script limit
                    // is not worth it: close instead.
                    let ceiling = 4 * u64::from(self.limits.max_literal) + 64 * 1024;
                    if e.skip.bytes > ceiling {
                        return Err(Stop::Oversized);
                    }
                    self.skip = Some(e.skip);
                    return Ok(Err(e));
                }
            }
        }
    }

    /// Reads more bytes into the buffer, with the idle timeout and shutdown.
    async fn fill(&mut self) -> Result<(), Stop> {
        let mut chunk = [0u8; 16 * 1024];
        let idle = self.shared.limits.idle_timeout;
        let shutdown = self.shared.shutdown.clone();
        let n = tokio::select! {
            r = tokio::time::timeout(idle, self.stream.read(&mut chunk)) => match r {
                Ok(Ok(0)) => return Err(Stop::Eof),
                Ok(Ok(n)) => n,
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, "read failed");
                    return Err(Stop::Io);
                }
                Err(_) => return Err(Stop::Idle),
            },
            _ = shutdown.triggered() => return Err(Stop::Shutdown),
        };
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    async fn start_tls(&mut self) -> Result<(), Stop> {
        // RFC 3207 6 by analogy: plaintext sent after STARTTLS could have been
        // injected; it is dropped, never read as commands.
        self.buf.clear();
        self.skip = None;
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Closed) else {
            return Err(Stop::Io);
        };
        match self.shared.tls.accept(tcp).await {
            Ok(tls) => {
                self.stream = Stream::Tls(Box::new(tls));
                self.ctx.tls = true;
            }
            Err(e) => {
                tracing::info!(error = %e, "TLS handshake failed");
                return Err(Stop::Io);
            }
        }
        // RFC 5804 2.2: the server re-issues its capabilities after TLS.
        let greeting = self.greeting();
        self.send(&greeting).await
    }

    async fn authenticate(
        &mut self,
        mechanism: Mechanism,
        initial_response: Option<String>,
    ) -> Result<(), Stop> {
        let mut exchange = Exchange::new(mechanism);
        let mut step = exchange.start(initial_response.as_deref());
        let response = loop {
            match step {
                Ok(Step::Challenge(challenge)) => {
                    let mut out = Vec::new();
                    encode_challenge(&mut out, &challenge);
                    self.send(&out).await?;
                    step = match self.read_item(parse_sasl_response).await? {
                        Ok(line) => exchange.respond(&line),
                        Err(e) => break Response::no(e.message),
                    };
                }
                Ok(Step::Done(credentials)) => {
                    let result = self
                        .shared
                        .auth
                        .login(
                            self.ctx.peer.ip(),
                            self.ctx.tls,
                            &credentials.username,
                            &credentials.password,
                        )
                        .await;
                    let response = login_response(&result);
                    if let Ok(account) = result {
                        self.ctx.state = State::Authenticated(account);
                    }
                    break response;
                }
                Err(e) => break sasl_refusal(&e),
            }
        };
        self.send(&response.to_bytes()).await?;
        if matches!(self.ctx.state, State::Authenticated(_)) {
            self.errors = 0;
            Ok(())
        } else {
            self.count_error().await
        }
    }
}
