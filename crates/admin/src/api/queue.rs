//! The outbound queue (admin tokens only).

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Serialize;
use store::QueueId;

use super::{ApiResult, ApiUser, no_content};
use crate::access::require_admin;
use crate::app::AppState;
use crate::queue::QueueView;

pub async fn list(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
) -> ApiResult<Json<Vec<QueueView>>> {
    require_admin(&me)?;
    Ok(Json(
        app.store
            .list_queue()
            .await?
            .into_iter()
            .map(QueueView::from)
            .collect(),
    ))
}

pub async fn entry(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<QueueView>> {
    require_admin(&me)?;
    Ok(Json(QueueView::from(
        app.store.queue_entry(QueueId(id)).await?,
    )))
}

#[derive(Serialize)]
pub struct Retried {
    due: usize,
}

pub async fn retry(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Retried>> {
    require_admin(&me)?;
    let due = app.store.flush_queue(Some(vec![QueueId(id)])).await?;
    Ok(Json(Retried { due }))
}

pub async fn delete(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    require_admin(&me)?;
    app.store.delete_queued(vec![QueueId(id)]).await?;
    Ok(no_content())
}
