//! Logging in and out, browser sessions kept in the store, and the CSRF check
//! every state-changing request of the UI passes.
//!
//! Cookies are HttpOnly and SameSite=Strict (and Secure over TLS). A form
//! carries the session's CSRF token in a `csrf` field (or JavaScript sends it
//! as `X-CSRF-Token`); the login form, which has no session yet, carries a
//! token that a short-lived cookie set with the form must match.

use axum::Form;
use axum::body::{Body, Bytes};
use axum::extract::OptionalFromRequestParts;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use minijinja::context;
use rand::RngCore;
use serde::Deserialize;
use store::Account;
use zest_core::Secret;

use crate::app::{AppState, ConnInfo};
use crate::error::{AppError, AppResult};
use crate::render;

pub const SESSION_COOKIE: &str = "zest_session";
pub const LOGIN_COOKIE: &str = "zest_login";
/// A session lasts this long after login.
pub const SESSION_TTL_SECS: i64 = 12 * 3600;
/// The largest request body accepted (contact imports are uploads).
pub const MAX_BODY: usize = 20 * 1024 * 1024;
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Who is making the request, from the session cookie.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub account: Account,
    pub csrf: String,
    /// What the previous form did (`?notice=` after a redirect).
    pub notice: Option<String>,
    token: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Viewer>()
            .cloned()
            .ok_or(AppError::LoginRequired)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Viewer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Viewer>().cloned())
    }
}

/// 256 random bits, URL-safe.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let v = format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}");
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Finds the session, and for a state-changing request checks its CSRF token.
pub async fn layer(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let mut viewer = None;
    if let Some(token) = cookie(req.headers(), SESSION_COOKIE) {
        match app.store.web_session(&token).await {
            Ok(Some(s)) => {
                let notice = req.uri().query().and_then(|q| {
                    form_urlencoded::parse(q.as_bytes())
                        .find(|(k, _)| k == "notice")
                        .map(|(_, v)| v.chars().take(300).collect::<String>())
                });
                viewer = Some(Viewer {
                    account: s.account,
                    csrf: s.csrf_token,
                    notice,
                    token,
                })
            }
            Ok(None) => {}
            Err(e) => return AppError::from(e).into_response(),
        }
    }
    if !is_safe(req.method()) {
        let expected = match &viewer {
            Some(v) => Some(v.csrf.clone()),
            None => cookie(req.headers(), LOGIN_COOKIE),
        };
        req = match check_csrf(req, expected).await {
            Ok(r) => r,
            Err(e) => return e.into_response(),
        };
    }
    if let Some(v) = viewer {
        req.extensions_mut().insert(v);
    }
    next.run(req).await
}

/// Accepts the request if it carries `expected` in the header or in its
/// form body (URL-encoded or multipart); the body is read and handed on.
async fn check_csrf(req: Request, expected: Option<String>) -> AppResult<Request> {
    const REFUSED: AppError = AppError::Forbidden(
        "the form was out of date or not sent by this site; reload the page and try again",
    );
    let Some(expected) = expected.filter(|e| !e.is_empty()) else {
        return Err(REFUSED);
    };
    if let Some(h) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return if same_token(h, &expected) {
            Ok(req)
        } else {
            Err(REFUSED)
        };
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| AppError::BadRequest("the request body is too large".into()))?;
    // The multipart boundary is case-sensitive: compare a lower-case copy only.
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let kind = content_type.to_ascii_lowercase();
    let sent = if kind.starts_with("application/x-www-form-urlencoded") {
        form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.into_owned())
    } else if kind.starts_with("multipart/form-data") {
        multipart_csrf(content_type, bytes.clone()).await
    } else {
        None
    };
    match sent {
        Some(s) if same_token(&s, &expected) => Ok(Request::from_parts(parts, Body::from(bytes))),
        _ => Err(REFUSED),
    }
}

async fn multipart_csrf(content_type: &str, bytes: Bytes) -> Option<String> {
    let req = Request::builder()
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(bytes))
        .ok()?;
    let mut mp = Multipart::from_request(req, &()).await.ok()?;
    while let Ok(Some(field)) = mp.next_field().await {
        if field.name() == Some("csrf") {
            return field.text().await.ok();
        }
    }
    None
}

// Handlers ------------------------------------------------------------------

pub async fn login_form(
    State(app): State<AppState>,
    viewer: Option<Viewer>,
    conn: ConnInfo,
) -> AppResult<Response> {
    if viewer.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    login_page(&app, conn.secure, None, StatusCode::OK)
}

fn login_page(
    app: &AppState,
    secure: bool,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let token = random_token();
    let html = render::anonymous(
        &app.env,
        "login.html",
        context! { csrf => &token, error => error },
    )?;
    Ok((
        status,
        [
            (
                header::SET_COOKIE,
                set_cookie(LOGIN_COOKIE, &token, 3600, secure),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        html,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    address: String,
    #[serde(default)]
    password: String,
}

pub async fn login(
    State(app): State<AppState>,
    conn: ConnInfo,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let (peer, secure) = (conn.peer.ip(), conn.secure);
    let password = Secret::new(form.password);
    let address = form.address.trim();
    let account = match app.auth.login(peer, secure, address, &password).await {
        Ok(a) => a,
        Err(zest_core::Error::RateLimited { retry_after }) => {
            return Err(AppError::RateLimited(retry_after));
        }
        Err(zest_core::Error::EncryptionRequired) => {
            return login_page(
                &app,
                secure,
                Some("Logging in needs HTTPS from this address.".into()),
                StatusCode::FORBIDDEN,
            );
        }
        Err(zest_core::Error::AuthenticationFailed) => {
            return login_page(
                &app,
                secure,
                Some("Wrong address or password.".into()),
                StatusCode::UNAUTHORIZED,
            );
        }
        Err(e) => return Err(AppError::Unavailable(e.to_string())),
    };
    let token = random_token();
    let csrf = random_token();
    app.store
        .create_web_session(account.id, &token, &csrf, SESSION_TTL_SECS)
        .await?;
    let mut r = Redirect::to("/").into_response();
    let h = r.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, &token, SESSION_TTL_SECS, secure),
    );
    h.append(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, "", 0, secure));
    Ok(r)
}

pub async fn logout(
    State(app): State<AppState>,
    viewer: Option<Viewer>,
    conn: ConnInfo,
) -> AppResult<Response> {
    if let Some(v) = viewer {
        app.store.delete_web_session(&v.token).await?;
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, conn.secure),
    );
    Ok(r)
}

impl Viewer {
    /// The session token, to keep this session when others are ended.
    pub fn session_token(&self) -> &str {
        &self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; zest_session=abc; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, LOGIN_COOKIE), None);
    }

    #[test]
    fn tokens_compare() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "ab"));
        assert_ne!(random_token(), random_token());
    }

    #[test]
    fn cookie_attributes() {
        let v = set_cookie("x", "y", 10, true);
        assert_eq!(
            v.to_str().unwrap(),
            "x=y; Path=/; Max-Age=10; HttpOnly; SameSite=Strict; Secure"
        );
    }
}
