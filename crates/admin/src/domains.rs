//! Domains Zest receives mail for (admin only).

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Deserialize;

use crate::access::require_admin;
use crate::app::AppState;
use crate::error::AppResult;
use crate::render::{self, done, value};
use crate::session::Viewer;

pub async fn page(State(app): State<AppState>, viewer: Viewer) -> AppResult<Response> {
    require_admin(&viewer.account)?;
    let domains = app.store.list_domains().await?;
    Ok(render::page(
        &app.env,
        &viewer,
        "domains.html",
        context! { domains => value(&domains) },
    )?
    .into_response())
}

#[derive(Deserialize)]
pub struct NewDomain {
    #[serde(default)]
    name: String,
}

pub async fn create(
    State(app): State<AppState>,
    viewer: Viewer,
    Form(f): Form<NewDomain>,
) -> AppResult<Response> {
    require_admin(&viewer.account)?;
    let d = app.store.create_domain(f.name.trim()).await?;
    tracing::info!(by = %viewer.account.address, domain = %d.name, "domain added");
    Ok(done("/domains", &format!("Added {}.", d.name)))
}

pub async fn delete(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
) -> AppResult<Response> {
    require_admin(&viewer.account)?;
    app.store.delete_domain(&name).await?;
    tracing::info!(by = %viewer.account.address, domain = %name, "domain deleted");
    Ok(done("/domains", &format!("Deleted {name}.")))
}
