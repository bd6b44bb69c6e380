//! Command handlers: each takes a parsed command and the session's state and
//! returns the bytes to send plus what the session loop must do next. Which
//! commands each state allows is decided here, in one place.

mod auth;
mod script;

use std::net::SocketAddr;

use managesieve_proto::{Code, Command, Response};
use store::StoreError;

use crate::Shared;

pub(crate) use auth::{capabilities, login_response, sasl_refusal};

/// A connection's state (RFC 5804 1.1).
#[derive(Debug)]
pub(crate) enum State {
    NotAuthenticated,
    Authenticated(store::Account),
}

/// What a handler knows of its connection.
pub(crate) struct Ctx {
    pub peer: SocketAddr,
    pub tls: bool,
    pub state: State,
}

/// What the session loop does after sending a reply's bytes.
#[derive(Debug)]
pub(crate) enum Action {
    None,
    /// Start TLS, then send the capabilities again (RFC 5804 2.2).
    StartTls,
    /// Run a SASL exchange (it reads from the client, so the loop drives it).
    Authenticate {
        mechanism: zest_core::auth::Mechanism,
        initial_response: Option<String>,
    },
    Close,
}

pub(crate) struct Reply {
    pub out: Vec<u8>,
    pub action: Action,
}

impl Reply {
    fn response(r: Response) -> Reply {
        Reply {
            out: r.to_bytes(),
            action: Action::None,
        }
    }
}

/// Store failures on the wire, in one place.
pub(crate) fn store_error(e: &StoreError) -> Response {
    if e.is_temporary() {
        tracing::error!(error = %e, "store unavailable");
        return Response::no("The store is unavailable; try again later").with_code(Code::TryLater);
    }
    match e {
        StoreError::NotFound(s) => Response::no(format!("No {s}")).with_code(Code::Nonexistent),
        StoreError::AlreadyExists(s) => {
            Response::no(format!("{s} already exists")).with_code(Code::AlreadyExists)
        }
        StoreError::OverQuota => Response::no("Over quota").with_code(Code::Quota),
        other => Response::no(other.to_string()),
    }
}

/// RFC 5804 1.1, 2: which commands each state accepts.
fn refusal(state: &State, command: &Command) -> Option<Response> {
    let authenticated = matches!(state, State::Authenticated(_));
    match command {
        Command::Capability | Command::Logout | Command::Noop { .. } => None,
        Command::Authenticate { .. } if authenticated => {
            Some(Response::no("Already authenticated"))
        }
        Command::StartTls if authenticated => Some(Response::no(
            "STARTTLS is only allowed before authentication",
        )),
        Command::Authenticate { .. } | Command::StartTls => None,
        _ if !authenticated => Some(Response::no("Authenticate first")),
        _ => None,
    }
}

pub(crate) async fn handle(shared: &Shared, ctx: &mut Ctx, command: Command) -> Reply {
    if let Some(r) = refusal(&ctx.state, &command) {
        return Reply::response(r);
    }
    let account = match &ctx.state {
        State::Authenticated(a) => Some(a.clone()),
        State::NotAuthenticated => None,
    };
    match (command, account) {
        (Command::Capability, _) => {
            let mut out = capabilities(shared, ctx);
            out.extend(Response::ok("Capability completed").to_bytes());
            Reply {
                out,
                action: Action::None,
            }
        }
        (Command::Logout, _) => Reply {
            out: Response::ok("Logout completed").to_bytes(),
            action: Action::Close,
        },
        (Command::Noop { tag }, _) => {
            let r = Response::ok("Done");
            Reply::response(match tag {
                Some(tag) => r.with_code(Code::Tag(tag)),
                None => r,
            })
        }
        (Command::StartTls, _) => auth::starttls(ctx),
        (
            Command::Authenticate {
                mechanism,
                initial_response,
            },
            _,
        ) => auth::authenticate(shared, ctx, &mechanism, initial_response),
        (Command::Unauthenticate, _) => {
            ctx.state = State::NotAuthenticated;
            Reply::response(Response::ok("Unauthenticated"))
        }
        (command, Some(account)) => script::handle(shared, &account, command).await,
        (_, None) => Reply::response(Response::no("Authenticate first")),
    }
}
