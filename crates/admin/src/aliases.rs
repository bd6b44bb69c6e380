//! Aliases: other addresses delivering to a user (admin only; users see theirs
//! read-only on their own page).

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Deserialize;
use store::EmailAddress;

use crate::access::require_admin;
use crate::app::AppState;
use crate::error::AppResult;
use crate::render::{self, done, value};
use crate::session::Viewer;

pub async fn page(State(app): State<AppState>, viewer: Viewer) -> AppResult<Response> {
    require_admin(&viewer.account)?;
    let aliases = app.store.list_aliases(None, None).await?;
    let users = app.store.list_accounts(None).await?;
    Ok(render::page(
        &app.env,
        &viewer,
        "aliases.html",
        context! { aliases => value(&aliases), users => value(&users) },
    )?
    .into_response())
}

#[derive(Deserialize)]
pub struct NewAlias {
    #[serde(default)]
    alias: String,
    #[serde(default)]
    target: String,
}

pub async fn create(
    State(app): State<AppState>,
    viewer: Viewer,
    Form(f): Form<NewAlias>,
) -> AppResult<Response> {
    require_admin(&viewer.account)?;
    let alias = EmailAddress::parse(f.alias.trim())?;
    let target = EmailAddress::parse(f.target.trim())?;
    app.store.create_alias(&alias, &target).await?;
    tracing::info!(by = %viewer.account.address, %alias, %target, "alias added");
    Ok(done(
        "/aliases",
        &format!("{alias} now delivers to {target}."),
    ))
}

pub async fn delete(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(alias): Path<String>,
) -> AppResult<Response> {
    require_admin(&viewer.account)?;
    let alias = EmailAddress::parse(&alias)?;
    app.store.delete_alias(&alias).await?;
    tracing::info!(by = %viewer.account.address, %alias, "alias deleted");
    Ok(done("/aliases", &format!("Deleted {alias}.")))
}
