//! Lists named by `tag:` URIs; paths use the short NAME.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use store::{List, ListVisibility};

use super::{ApiResult, ApiUser, created, no_content};
use crate::access;
use crate::app::AppState;
use crate::error::AppError;
use crate::lists::new_list_owner;

pub async fn lists(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
) -> ApiResult<Json<Vec<List>>> {
    let which = if me.is_admin {
        ListVisibility::All
    } else {
        ListVisibility::VisibleTo(me.id)
    };
    Ok(Json(app.store.lists(which).await?))
}

#[derive(Deserialize)]
pub struct NewList {
    name: String,
    #[serde(default)]
    owner: Option<String>,
}

pub async fn create(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Json(l): Json<NewList>,
) -> ApiResult<Response> {
    let owner = new_list_owner(&app, &me, l.owner.as_deref()).await?;
    let uri = app.store.list_uri(l.name.trim()).await?;
    Ok(created(app.store.create_list(&uri, owner).await?))
}

pub async fn list(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path(name): Path<String>,
) -> ApiResult<Json<List>> {
    Ok(Json(access::list(&app, &me, &name).await?.1))
}

pub async fn delete(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let (uri, _) = access::list(&app, &me, &name).await?;
    app.store.delete_list(&uri).await?;
    Ok(no_content())
}

pub async fn members(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<String>>> {
    let (uri, _) = access::list(&app, &me, &name).await?;
    Ok(Json(app.store.list_members(None, &uri).await?))
}

#[derive(Deserialize)]
pub struct Members {
    members: Vec<String>,
}

#[derive(Serialize)]
pub struct Added {
    added: u64,
}

pub async fn add_members(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path(name): Path<String>,
    Json(m): Json<Members>,
) -> ApiResult<Json<Added>> {
    let (uri, _) = access::list(&app, &me, &name).await?;
    if m.members.is_empty() {
        return Err(AppError::BadRequest("members is empty".into()).into());
    }
    let added = app.store.add_list_members(&uri, m.members).await?;
    Ok(Json(Added { added }))
}

pub async fn remove_members(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path(name): Path<String>,
    Json(m): Json<Members>,
) -> ApiResult<Response> {
    let (uri, _) = access::list(&app, &me, &name).await?;
    app.store.remove_list_members(&uri, m.members).await?;
    Ok(no_content())
}
