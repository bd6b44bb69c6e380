//! CAPABILITY, STARTTLS and AUTHENTICATE (RFC 5804 1.7, 2.1, 2.2, 2.4): what
//! the server offers in each state, and the outcome of a login.

use managesieve_proto::{Code, Response, encode_capability};
use zest_core::auth::Mechanism;

use super::{Action, Ctx, Reply, State};
use crate::Shared;

/// RFC 5804 1.7: the capability lines for this connection's state.
pub(crate) fn capabilities(shared: &Shared, ctx: &Ctx) -> Vec<u8> {
    let mut out = Vec::new();
    let cap = |out: &mut Vec<u8>, name: &str, value: Option<&str>| {
        encode_capability(out, name, value);
    };
    cap(
        &mut out,
        "IMPLEMENTATION",
        Some(&format!("Zest {}", env!("CARGO_PKG_VERSION"))),
    );
    let authenticated = matches!(ctx.state, State::Authenticated(_));
    // Mechanisms are offered where they may be used: over TLS, or on loopback
    // when the config allows plaintext there.
    let sasl = if !authenticated && shared.auth.plaintext_allowed(ctx.peer.ip(), ctx.tls) {
        "PLAIN LOGIN"
    } else {
        ""
    };
    cap(&mut out, "SASL", Some(sasl));
    cap(
        &mut out,
        "SIEVE",
        Some(&zest_core::sieve::extensions().join(" ")),
    );
    cap(
        &mut out,
        "NOTIFY",
        Some(&zest_core::sieve::NOTIFY_METHODS.join(" ")),
    );
    // RFC 6134 2.8 and CONTRACT.md: the URI schemes of external lists.
    cap(
        &mut out,
        "EXTLISTS",
        Some(zest_core::sieve::EXTLISTS_SCHEMES),
    );
    cap(
        &mut out,
        "MAXREDIRECTS",
        Some(&shared.sieve.max_redirects.to_string()),
    );
    if !ctx.tls && !authenticated {
        cap(&mut out, "STARTTLS", None);
    }
    if let State::Authenticated(account) = &ctx.state {
        cap(&mut out, "OWNER", Some(&account.address.to_string()));
    }
    cap(&mut out, "UNAUTHENTICATE", None);
    cap(&mut out, "VERSION", Some("1.0"));
    out
}

pub(crate) fn starttls(ctx: &Ctx) -> Reply {
    if ctx.tls {
        return Reply::response(Response::no("TLS is already active"));
    }
    Reply {
        out: Response::ok("Begin TLS negotiation now").to_bytes(),
        action: Action::StartTls,
    }
}

pub(crate) fn authenticate(
    shared: &Shared,
    ctx: &Ctx,
    mechanism: &str,
    initial_response: Option<String>,
) -> Reply {
    let Some(mechanism) = Mechanism::parse(mechanism) else {
        return Reply::response(Response::no(format!(
            "Unsupported SASL mechanism {mechanism:?}; use PLAIN or LOGIN"
        )));
    };
    if !shared.auth.plaintext_allowed(ctx.peer.ip(), ctx.tls) {
        return Reply::response(
            Response::no("Use STARTTLS before authenticating").with_code(Code::EncryptNeeded),
        );
    }
    Reply {
        out: Vec::new(),
        action: Action::Authenticate {
            mechanism,
            initial_response,
        },
    }
}

/// A SASL exchange that ended without credentials.
pub(crate) fn sasl_refusal(e: &zest_core::Error) -> Response {
    match e {
        zest_core::Error::SaslCancelled => Response::no("Authentication cancelled"),
        other => Response::no(format!("Authentication failed: {other}")),
    }
}

/// The answer to a checked login.
pub(crate) fn login_response(result: &Result<store::Account, zest_core::Error>) -> Response {
    match result {
        Ok(_) => Response::ok("Authenticated"),
        Err(zest_core::Error::EncryptionRequired) => {
            Response::no("Use STARTTLS before authenticating").with_code(Code::EncryptNeeded)
        }
        Err(e @ zest_core::Error::RateLimited { .. }) => {
            Response::no(e.to_string()).with_code(Code::TryLater)
        }
        Err(zest_core::Error::AuthUnavailable(_)) => {
            Response::no("Authentication is unavailable; try again later").with_code(Code::TryLater)
        }
        Err(_) => Response::no("Authentication failed"),
    }
}
