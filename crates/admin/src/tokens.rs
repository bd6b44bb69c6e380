//! API tokens (admin only): created here, shown once, kept as hashes.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Deserialize;
use store::EmailAddress;

use crate::access::require_admin;
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::render::{self, done, value};
use crate::session::{Viewer, random_token};

/// Tokens start with this, so a leaked one is easy to recognise.
pub const TOKEN_PREFIX: &str = "zest_";

async fn render_page(
    app: &AppState,
    viewer: &Viewer,
    new_token: Option<String>,
) -> AppResult<Response> {
    let tokens = app.store.api_tokens(None).await?;
    let users = app.store.list_accounts(None).await?;
    Ok(render::page(
        &app.env,
        viewer,
        "tokens.html",
        context! { tokens => value(&tokens), users => value(&users), new_token => new_token },
    )?
    .into_response())
}

pub async fn page(State(app): State<AppState>, viewer: Viewer) -> AppResult<Response> {
    require_admin(&viewer.account)?;
    render_page(&app, &viewer, None).await
}

#[derive(Deserialize)]
pub struct NewToken {
    #[serde(default)]
    name: String,
    #[serde(default)]
    account: String,
}

pub async fn create(
    State(app): State<AppState>,
    viewer: Viewer,
    Form(f): Form<NewToken>,
) -> AppResult<Response> {
    require_admin(&viewer.account)?;
    let address = match f.account.trim() {
        "" => viewer.account.address.clone(),
        a => EmailAddress::parse(a)?,
    };
    let account = app
        .store
        .account(&address)
        .await?
        .ok_or_else(|| AppError::BadRequest(format!("no user {address}")))?;
    let token = format!("{TOKEN_PREFIX}{}", random_token());
    let t = app
        .store
        .create_api_token(account.id, &f.name, &token)
        .await?;
    tracing::info!(by = %viewer.account.address, token = t.id, acts_as = %address, "API token created");
    // Shown once, in this response only; never in a URL.
    render_page(&app, &viewer, Some(token)).await
}

pub async fn delete(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    require_admin(&viewer.account)?;
    app.store.delete_api_token(id).await?;
    tracing::info!(by = %viewer.account.address, token = id, "API token revoked");
    Ok(done("/tokens", "Token revoked."))
}
