//! The application: shared state and every route of the UI and the API.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::Deref;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::Environment;
use zest_core::auth::Authenticator;
use zest_core::config::Config;

use crate::error::Error;
use crate::session::MAX_BODY;
use crate::{
    addrbook, aliases, api, dashboard, domains, lists, queue, render, session, sieve, tokens, users,
};

/// The connection a request came in on; set by the daemon for each connection.
#[derive(Debug, Clone, Copy)]
pub struct ConnInfo {
    pub peer: SocketAddr,
    pub secure: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for ConnInfo {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // Without one (a router served some other way) the peer is unknown:
        // not loopback, not TLS, so the strictest rules apply.
        Ok(parts
            .extensions
            .get::<ConnInfo>()
            .copied()
            .unwrap_or(ConnInfo {
                peer: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
                secure: false,
            }))
    }
}

pub struct Inner {
    pub store: store::Store,
    pub config: Arc<Config>,
    pub env: Environment<'static>,
    pub auth: Authenticator,
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Every route; the daemon serves it, tests may too.
pub fn router(config: Arc<Config>, store: store::Store) -> Result<Router, Error> {
    let state = AppState(Arc::new(Inner {
        auth: Authenticator::new(store.clone(), &config.auth),
        env: render::environment()?,
        store,
        config,
    }));
    let ui = Router::new()
        .route("/", get(dashboard::index))
        .route("/login", get(session::login_form).post(session::login))
        .route("/logout", post(session::logout))
        .route("/domains", get(domains::page).post(domains::create))
        .route("/domains/{name}/delete", post(domains::delete))
        .route("/users", get(users::page).post(users::create))
        .route("/users/{addr}", get(users::show))
        .route("/users/{addr}/password", post(users::reset_password))
        .route("/users/{addr}/quota", post(users::quota))
        .route("/users/{addr}/admin", post(users::admin_role))
        .route(
            "/users/{addr}/delete",
            get(users::confirm_delete).post(users::delete),
        )
        .route("/aliases", get(aliases::page).post(aliases::create))
        .route("/aliases/{alias}/delete", post(aliases::delete))
        .route("/u/{addr}", get(users::home))
        .route("/u/{addr}/password", post(users::own_password))
        .route(
            "/u/{addr}/books",
            get(addrbook::books).post(addrbook::create_book),
        )
        .route("/u/{addr}/books/{book}", get(addrbook::book))
        .route("/u/{addr}/books/{book}/delete", post(addrbook::delete_book))
        .route("/u/{addr}/books/{book}/contacts", post(addrbook::add))
        .route(
            "/u/{addr}/books/{book}/contacts/{id}",
            get(addrbook::edit_form).post(addrbook::update),
        )
        .route(
            "/u/{addr}/books/{book}/contacts/{id}/delete",
            post(addrbook::delete),
        )
        .route("/u/{addr}/books/{book}/import", post(addrbook::import))
        .route("/u/{addr}/books/{book}/export", get(addrbook::export))
        .route("/lists", get(lists::page).post(lists::create))
        .route("/lists/{name}", get(lists::show))
        .route("/lists/{name}/members", post(lists::add_members))
        .route("/lists/{name}/remove", post(lists::remove_members))
        .route("/lists/{name}/export", get(lists::export))
        .route("/lists/{name}/delete", post(lists::delete))
        .route("/u/{addr}/scripts", get(sieve::scripts).post(sieve::create))
        .route("/u/{addr}/sieve/deactivate", post(sieve::deactivate))
        .route(
            "/u/{addr}/scripts/{name}",
            get(sieve::edit_form).post(sieve::save),
        )
        .route("/u/{addr}/scripts/{name}/activate", post(sieve::activate))
        .route("/u/{addr}/scripts/{name}/delete", post(sieve::delete))
        .route(
            "/u/{addr}/filter",
            get(sieve::filter_form).post(sieve::filter_save),
        )
        .route("/queue", get(queue::page))
        .route("/queue/{id}", get(queue::show))
        .route("/queue/{id}/retry", post(queue::retry))
        .route("/queue/{id}/delete", post(queue::delete))
        .route("/tokens", get(tokens::page).post(tokens::create))
        .route("/tokens/{id}/delete", post(tokens::delete))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::layer,
        ))
        .layer(middleware::from_fn(html_headers));
    Ok(Router::new()
        .merge(ui)
        .route(
            "/static/{file}",
            get(|Path(f): Path<String>| async move { render::static_file(&f) }),
        )
        .nest("/api/v1", api::router(state.clone()))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state))
}

/// Pages are private and never framed; scripts and styles come only from us.
async fn html_headers(req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    r
}
