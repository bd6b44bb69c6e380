//! Sieve scripts of a user.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::{ApiResult, ApiUser, no_content};
use crate::access::owner;
use crate::app::AppState;
use crate::error::AppError;
use crate::sieve::{ScriptSummary, check, summaries};

pub async fn scripts(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path(address): Path<String>,
) -> ApiResult<Json<Vec<ScriptSummary>>> {
    let user = owner(&app, &me, &address).await?;
    Ok(Json(summaries(&app.store.scripts(user.id).await?)))
}

#[derive(Serialize)]
pub struct ScriptBody {
    name: String,
    active: bool,
    content: String,
    last_error: Option<String>,
    updated_at: i64,
}

pub async fn script(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path((address, name)): Path<(String, String)>,
) -> ApiResult<Json<ScriptBody>> {
    let user = owner(&app, &me, &address).await?;
    let s = app.store.script(user.id, &name).await?;
    Ok(Json(ScriptBody {
        content: String::from_utf8_lossy(&s.content).into_owned(),
        name: s.name,
        active: s.active,
        last_error: s.last_error,
        updated_at: s.updated_at,
    }))
}

#[derive(Deserialize)]
pub struct PutScript {
    content: String,
    #[serde(default)]
    active: Option<bool>,
}

#[derive(Serialize)]
struct Warning {
    line: usize,
    message: String,
}

pub async fn put(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path((address, name)): Path<(String, String)>,
    Json(p): Json<PutScript>,
) -> ApiResult<Response> {
    let user = owner(&app, &me, &address).await?;
    let warnings = match check(&app, p.content.as_bytes()) {
        Ok(w) => w,
        Err(e) => {
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(serde_json::json!({
                    "error": e.message,
                    "line": e.line,
                    "column": e.column,
                })),
            )
                .into_response());
        }
    };
    let was_active = match app.store.script(user.id, &name).await {
        Ok(s) => s.active,
        Err(store::StoreError::NotFound(_)) => false,
        Err(e) => return Err(e.into()),
    };
    app.store
        .put_script(user.id, &name, p.content.into_bytes())
        .await?;
    match p.active {
        Some(true) if !was_active => app.store.activate_script(user.id, Some(&name)).await?,
        Some(false) if was_active => app.store.activate_script(user.id, None).await?,
        _ => {}
    }
    let warnings: Vec<Warning> = warnings
        .into_iter()
        .map(|(line, message)| Warning { line, message })
        .collect();
    Ok(Json(serde_json::json!({ "name": name, "warnings": warnings })).into_response())
}

pub async fn delete(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path((address, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let user = owner(&app, &me, &address).await?;
    app.store.delete_script(user.id, &name).await?;
    Ok(no_content())
}

pub async fn activate(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path((address, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let user = owner(&app, &me, &address).await?;
    let script = app.store.script(user.id, &name).await?;
    if let Err(e) = check(&app, &script.content) {
        return Err(AppError::BadRequest(format!("the script does not compile: {e}")).into());
    }
    app.store.activate_script(user.id, Some(&name)).await?;
    Ok(no_content())
}

pub async fn deactivate(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path(address): Path<String>,
) -> ApiResult<Response> {
    let user = owner(&app, &me, &address).await?;
    app.store.activate_script(user.id, None).await?;
    Ok(no_content())
}
