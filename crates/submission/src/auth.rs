//! AUTH (RFC 4954) with PLAIN and LOGIN, checked by the shared
//! `Authenticator` (plaintext rules, failed-login limits).

use zest_core::Error as CoreError;
use zest_core::auth::{Credentials, Exchange, Mechanism, Step};

use crate::reply::Reply;
use crate::session::{Mode, Next, Session};

impl Session {
    pub(crate) async fn auth_start(&mut self, mechanism: u64, initial: String) -> Next {
        if self.helo.is_none() {
            return self.error(Reply::new(503, "5.5.1", "Send EHLO first"));
        }
        if self.account.is_some() {
            return self.error(Reply::new(503, "5.5.1", "Already authenticated"));
        }
        if self.envelope.is_some() {
            return self.error(Reply::new(
                503,
                "5.5.1",
                "AUTH is not allowed during a mail transaction",
            ));
        }
        if !self
            .shared
            .auth
            .plaintext_allowed(self.peer.ip(), self.secure)
        {
            return self.error(Reply::new(
                538,
                "5.7.11",
                "Encryption required for requested authentication mechanism",
            ));
        }
        let mechanism = match mechanism {
            smtp_proto::AUTH_PLAIN => Mechanism::Plain,
            smtp_proto::AUTH_LOGIN => Mechanism::Login,
            _ => return self.error(Reply::new(504, "5.5.4", "Unrecognized authentication type")),
        };
        let mut exchange = Exchange::new(mechanism);
        let initial = (!initial.is_empty()).then_some(initial.as_str());
        let step = exchange.start(initial);
        self.auth_step(exchange, step).await
    }

    /// A client line answering a 334 challenge.
    pub(crate) async fn auth_line(&mut self, mut exchange: Exchange, line: &[u8]) -> Next {
        let Ok(text) = std::str::from_utf8(line) else {
            return self.error(Reply::new(501, "5.5.2", "Invalid response"));
        };
        let step = exchange.respond(text.trim_end_matches(['\r', '\n']));
        self.auth_step(exchange, step).await
    }

    async fn auth_step(&mut self, exchange: Exchange, step: Result<Step, CoreError>) -> Next {
        match step {
            Ok(Step::Challenge(c)) => {
                self.reply(Reply::multi(334, vec![c]));
                self.mode = Mode::Auth(exchange);
                Next::Continue
            }
            Ok(Step::Done(creds)) => self.login(creds).await,
            Err(e) => {
                let r = auth_error(&e);
                self.error(r)
            }
        }
    }

    async fn login(&mut self, creds: Credentials) -> Next {
        let ip = self.peer.ip();
        match self
            .shared
            .auth
            .login(ip, self.secure, &creds.username, &creds.password)
            .await
        {
            Ok(account) => match self.store().addresses_of(account.id).await {
                Ok(owned) => {
                    self.owned = owned;
                    self.account = Some(account);
                    self.reply(Reply::new(235, "2.7.0", "Authentication successful"));
                    Next::Continue
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the user's addresses");
                    self.reply(Reply::new(454, "4.7.0", "Temporary authentication failure"));
                    Next::Continue
                }
            },
            Err(e) => {
                let r = auth_error(&e);
                self.error(r)
            }
        }
    }
}

/// RFC 4954 6 and RFC 3463 codes for each way authentication fails.
fn auth_error(e: &CoreError) -> Reply {
    match e {
        CoreError::SaslCancelled => Reply::new(501, "5.0.0", "Authentication cancelled"),
        CoreError::MalformedSasl(why) => {
            Reply::new(501, "5.5.2", format!("Malformed response: {why}"))
        }
        CoreError::EncryptionRequired => Reply::new(
            538,
            "5.7.11",
            "Encryption required for requested authentication mechanism",
        ),
        CoreError::RateLimited { .. } => Reply::new(454, "4.7.0", e.to_string()),
        CoreError::AuthUnavailable(_) => {
            Reply::new(454, "4.7.0", "Temporary authentication failure")
        }
        _ => Reply::new(535, "5.7.8", "Authentication credentials invalid"),
    }
}
