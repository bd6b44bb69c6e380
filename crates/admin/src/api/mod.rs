//! The JSON API under `/api/v1/`: the UI's operations for scripts, with
//! bearer tokens an admin creates. A token acts as its user, with the same
//! rules as that user's browser session (`access`). No cookies are read here,
//! so no request can borrow a browser's session (no CSRF to defend against).

mod accounts;
mod addrbook;
mod lists;
mod openapi;
mod queue;
mod sieve;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use store::Account;

use crate::app::AppState;
use crate::error::AppError;

/// An error as the API reports it: JSON `{"error": "..."}`.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if matches!(self.0, AppError::LoginRequired) {
            let mut r = (
                StatusCode::UNAUTHORIZED,
                axum::Json(serde_json::json!({ "error": "a valid bearer token is needed" })),
            )
                .into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"zest\""),
            );
            return r;
        }
        self.0.into_json()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The account a request's bearer token acts as.
pub struct ApiUser(pub Account);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or(ApiError(AppError::LoginRequired))?;
        match app.store.api_token_account(token).await? {
            Some(a) => Ok(ApiUser(a)),
            None => Err(ApiError(AppError::LoginRequired)),
        }
    }
}

pub fn router(_state: AppState) -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi::document))
        .route(
            "/domains",
            get(accounts::domains).post(accounts::create_domain),
        )
        .route(
            "/domains/{name}",
            axum::routing::delete(accounts::delete_domain),
        )
        .route("/users", get(accounts::users).post(accounts::create_user))
        .route(
            "/users/{address}",
            get(accounts::user)
                .patch(accounts::update_user)
                .delete(accounts::delete_user),
        )
        .route("/users/{address}/aliases", get(accounts::user_aliases))
        .route(
            "/aliases",
            get(accounts::aliases).post(accounts::create_alias),
        )
        .route(
            "/aliases/{alias}",
            axum::routing::delete(accounts::delete_alias),
        )
        .route(
            "/users/{address}/books",
            get(addrbook::books).post(addrbook::create_book),
        )
        .route(
            "/users/{address}/books/{book}",
            axum::routing::delete(addrbook::delete_book),
        )
        .route(
            "/users/{address}/books/{book}/contacts",
            get(addrbook::contacts).post(addrbook::add),
        )
        .route(
            "/users/{address}/books/{book}/contacts/{id}",
            get(addrbook::contact)
                .put(addrbook::update)
                .delete(addrbook::delete),
        )
        .route(
            "/users/{address}/books/{book}/import",
            post(addrbook::import),
        )
        .route(
            "/users/{address}/books/{book}/export",
            get(addrbook::export),
        )
        .route("/lists", get(lists::lists).post(lists::create))
        .route("/lists/{name}", get(lists::list).delete(lists::delete))
        .route(
            "/lists/{name}/members",
            get(lists::members).post(lists::add_members),
        )
        .route("/lists/{name}/members/remove", post(lists::remove_members))
        .route("/users/{address}/scripts", get(sieve::scripts))
        .route(
            "/users/{address}/scripts/{name}",
            get(sieve::script).put(sieve::put).delete(sieve::delete),
        )
        .route(
            "/users/{address}/scripts/{name}/activate",
            post(sieve::activate),
        )
        .route("/users/{address}/sieve/deactivate", post(sieve::deactivate))
        .route("/queue", get(queue::list))
        .route("/queue/{id}", get(queue::entry).delete(queue::delete))
        .route("/queue/{id}/retry", post(queue::retry))
        .fallback(|| async { ApiError(AppError::NotFound) })
}

/// `201 Created` with a JSON body.
pub fn created<T: serde::Serialize>(v: T) -> Response {
    (StatusCode::CREATED, axum::Json(v)).into_response()
}

pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}
