//! LOGIN and AUTHENTICATE (PLAIN, LOGIN, with SASL-IR) through the shared
//! Authenticator: plaintext rules and failed-login limits live there.

use base64::Engine;
use imap_proto::{Code, Continuation};
use zest_core::Secret;
use zest_core::auth::{Exchange, Mechanism, Step};
use zest_core::submit::SUBMIT_USER;

use crate::reply::{Outcome, Reply};
use crate::session::Session;
use crate::session::state::State;

async fn finish(s: &mut Session, username: &str, password: &Secret<String>) -> Outcome {
    if username == SUBMIT_USER {
        return submit_login(s, password);
    }
    let secure = s.stream.is_tls();
    let account = s
        .shared
        .auth
        .login(s.peer.ip(), secure, username, password)
        .await
        .map_err(Reply::from)?;
    // Subscribe before any state is read, so no change is missed (ChangeStream).
    s.changes = Some(s.shared.store.subscribe_changes(account.id));
    s.state = State::Authenticated { account };
    // LITERAL+ from now on (LITERAL- before login).
    s.limits.max_non_sync_literal = s.limits.max_literal;
    let caps = s.capabilities();
    Ok(Reply::ok("Logged in").code(Code::Capability(caps)))
}

/// The submission server's login (`$submit` with the secret in the data
/// directory): a session that may only fetch `submit+` URLAUTH URLs. Failures
/// are limited per address only, so nobody can lock the submission server out.
fn submit_login(s: &mut Session, password: &Secret<String>) -> Outcome {
    let ip = s.peer.ip();
    let key = format!("{SUBMIT_USER}/{ip}");
    let limiter = &s.shared.submit_limiter;
    if limiter.check(ip, &key).is_err() {
        return Err(Reply::no("Too many failed logins; try later").code(Code::Unavailable));
    }
    if !s.shared.submit.verify(SUBMIT_USER, password.expose()) {
        limiter.record_failure(ip, &key);
        tracing::info!(%ip, "failed login as the submission identity");
        return Err(Reply::no("Authentication failed").code(Code::AuthenticationFailed));
    }
    limiter.record_success(&key);
    s.state = State::Submit;
    let caps = s.capabilities();
    Ok(Reply::ok("Logged in").code(Code::Capability(caps)))
}

pub(crate) async fn login(s: &mut Session, username: &str, password: &str) -> Outcome {
    if !s.plaintext_allowed() {
        return Err(Reply::no("LOGIN needs TLS: use STARTTLS first").code(Code::PrivacyRequired));
    }
    finish(s, username, &Secret::new(password.to_string())).await
}

pub(crate) async fn authenticate(
    s: &mut Session,
    mechanism: &str,
    initial: Option<Vec<u8>>,
) -> Outcome {
    let Some(mech) = Mechanism::parse(mechanism) else {
        return Err(Reply::no(format!("Unsupported mechanism {mechanism}")).code(Code::Cannot));
    };
    if !s.plaintext_allowed() {
        return Err(
            Reply::no("Authentication needs TLS: use STARTTLS first").code(Code::PrivacyRequired)
        );
    }
    let mut exchange = Exchange::new(mech);
    let initial = initial.map(|i| base64::engine::general_purpose::STANDARD.encode(i));
    let mut step = exchange
        .start(
            initial
                .as_deref()
                .map(|i| if i.is_empty() { "=" } else { i }),
        )
        .map_err(Reply::from)?;
    loop {
        match step {
            Step::Done(credentials) => {
                return finish(s, &credentials.username, &credentials.password).await;
            }
            Step::Challenge(challenge) => {
                let data = base64::engine::general_purpose::STANDARD
                    .decode(&challenge)
                    .unwrap_or_default();
                s.send(Continuation::Base64(data));
                s.flush().await;
                let Some(line) = s.read_line().await else {
                    return Err(Reply::bad("Authentication aborted"));
                };
                step = exchange.respond(&line).map_err(Reply::from)?;
            }
        }
    }
}
