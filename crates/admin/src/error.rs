//! Errors: the daemon's own (`Error`) and a request's (`AppError`), mapped to
//! HTTP in one place: an HTML page for the UI, JSON for the API.

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error(transparent)]
    Core(#[from] zest_core::Error),
    #[error("web templates: {0}")]
    Template(#[from] minijinja::Error),
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("please log in")]
    LoginRequired,
    #[error("too many failed logins; try again in {} seconds", .0.as_secs().max(1))]
    RateLimited(Duration),
    #[error("the page could not be shown: {0}")]
    Template(#[from] minijinja::Error),
    #[error("{0}")]
    Unavailable(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Store(e) => match e {
                StoreError::NotFound(_) => StatusCode::NOT_FOUND,
                StoreError::AlreadyExists(_) | StoreError::Refused(_) | StoreError::OverQuota => {
                    StatusCode::CONFLICT
                }
                StoreError::Invalid { .. } | StoreError::UnknownDomain(_) => {
                    StatusCode::BAD_REQUEST
                }
                e if e.is_temporary() => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::LoginRequired => StatusCode::UNAUTHORIZED,
            AppError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Template(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// What the user is told; internal details stay in the log.
    pub fn message(&self) -> String {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "admin request failed");
            if status == StatusCode::SERVICE_UNAVAILABLE {
                return "the server is busy; please try again".into();
            }
            return "internal error; the server log has the details".into();
        }
        self.to_string()
    }

    fn retry_after(&self) -> Option<HeaderValue> {
        match self {
            AppError::RateLimited(d) => HeaderValue::from_str(&d.as_secs().max(1).to_string()).ok(),
            _ => None,
        }
    }

    /// The JSON form, for the API.
    pub fn into_json(self) -> Response {
        let status = self.status();
        let retry = self.retry_after();
        let body = serde_json::json!({ "error": self.message() });
        let mut r = (status, axum::Json(body)).into_response();
        if let Some(v) = retry {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }
}

/// The HTML form: a small self-contained page, so even a template failure
/// can be reported.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if matches!(self, AppError::LoginRequired) {
            return (
                StatusCode::SEE_OTHER,
                [(header::LOCATION, HeaderValue::from_static("/login"))],
            )
                .into_response();
        }
        let status = self.status();
        let retry = self.retry_after();
        let message = crate::render::escape(&self.message());
        let body = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{code} · Zest</title><link rel=\"stylesheet\" href=\"/static/style.css\"></head>\
             <body><main class=\"narrow\"><h1>{code}</h1><p class=\"error\" role=\"alert\">{message}</p>\
             <p><a href=\"/\">Home</a></p></main></body></html>",
            code = status.as_u16(),
        );
        let mut r = (status, axum::response::Html(body)).into_response();
        if let Some(v) = retry {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }
}
