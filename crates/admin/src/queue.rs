//! The outbound queue (admin only): list, details with the last error, retry
//! now, delete.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Serialize;
use store::{QueueId, QueuedMessage};

use crate::access::require_admin;
use crate::app::AppState;
use crate::error::AppResult;
use crate::render::{self, done, value};
use crate::session::Viewer;

#[derive(Debug, Serialize)]
pub struct QueueView {
    pub id: i64,
    pub sender: String,
    pub source: &'static str,
    pub created_at: i64,
    pub expires_at: i64,
    pub hold_until: Option<i64>,
    pub size: u64,
    pub last_error: Option<String>,
    pub recipients: Vec<RecipientView>,
}

#[derive(Debug, Serialize)]
pub struct RecipientView {
    pub address: String,
    pub status: &'static str,
    pub attempts: u32,
    pub next_attempt: i64,
    pub last_attempt: Option<i64>,
    pub last_error: Option<String>,
    pub remote_mta: Option<String>,
}

impl From<QueuedMessage> for QueueView {
    fn from(m: QueuedMessage) -> Self {
        let last_error = m
            .recipients
            .iter()
            .filter(|r| r.last_error.is_some())
            .max_by_key(|r| r.last_attempt)
            .and_then(|r| r.last_error.clone());
        QueueView {
            id: m.id.0,
            sender: m.sender,
            source: m.source.as_str(),
            created_at: m.created_at,
            expires_at: m.expires_at,
            hold_until: m.hold_until,
            size: m.size,
            last_error,
            recipients: m
                .recipients
                .into_iter()
                .map(|r| RecipientView {
                    address: r.address,
                    status: r.status.as_str(),
                    attempts: r.attempts,
                    next_attempt: r.next_attempt,
                    last_attempt: r.last_attempt,
                    last_error: r.last_error,
                    remote_mta: r.remote_mta,
                })
                .collect(),
        }
    }
}

pub async fn page(State(app): State<AppState>, viewer: Viewer) -> AppResult<Response> {
    require_admin(&viewer.account)?;
    let messages: Vec<QueueView> = app
        .store
        .list_queue()
        .await?
        .into_iter()
        .map(QueueView::from)
        .collect();
    Ok(render::page(
        &app.env,
        &viewer,
        "queue.html",
        context! { messages => value(&messages) },
    )?
    .into_response())
}

pub async fn show(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    require_admin(&viewer.account)?;
    let m = QueueView::from(app.store.queue_entry(QueueId(id)).await?);
    Ok(render::page(
        &app.env,
        &viewer,
        "queue_entry.html",
        context! { m => value(&m) },
    )?
    .into_response())
}

pub async fn retry(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    require_admin(&viewer.account)?;
    let n = app.store.flush_queue(Some(vec![QueueId(id)])).await?;
    tracing::info!(by = %viewer.account.address, queue_id = id, "queue entry retried");
    Ok(done(
        &format!("/queue/{id}"),
        &format!("{n} recipients are due now."),
    ))
}

pub async fn delete(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    require_admin(&viewer.account)?;
    app.store.delete_queued(vec![QueueId(id)]).await?;
    tracing::info!(by = %viewer.account.address, queue_id = id, "queue entry deleted");
    Ok(done("/queue", &format!("Deleted queue entry {id}.")))
}
