//! Address books and contacts of a user.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use store::{AddressBook, Contact, ContactId, NewContact};

use super::{ApiResult, ApiUser, created, no_content};
use crate::access::owner;
use crate::addrbook::{ImportReport, find_contact, import_bytes, to_vcard};
use crate::app::AppState;

pub async fn books(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path(address): Path<String>,
) -> ApiResult<Json<Vec<AddressBook>>> {
    let user = owner(&app, &me, &address).await?;
    Ok(Json(app.store.addrbooks(user.id).await?))
}

#[derive(Deserialize)]
pub struct NewBook {
    name: String,
}

pub async fn create_book(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path(address): Path<String>,
    Json(b): Json<NewBook>,
) -> ApiResult<Response> {
    let user = owner(&app, &me, &address).await?;
    Ok(created(
        app.store.create_addrbook(user.id, b.name.trim()).await?,
    ))
}

pub async fn delete_book(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path((address, book)): Path<(String, String)>,
) -> ApiResult<Response> {
    let user = owner(&app, &me, &address).await?;
    app.store.delete_addrbook(user.id, &book).await?;
    Ok(no_content())
}

#[derive(Deserialize)]
pub struct ContactQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default = "default_limit")]
    limit: u32,
    #[serde(default)]
    offset: u32,
}

fn default_limit() -> u32 {
    100
}

pub async fn contacts(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path((address, book)): Path<(String, String)>,
    Query(q): Query<ContactQuery>,
) -> ApiResult<Json<Vec<Contact>>> {
    let user = owner(&app, &me, &address).await?;
    let query = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    Ok(Json(
        app.store
            .contacts(user.id, &book, query, q.limit.min(10_000), q.offset)
            .await?,
    ))
}

#[derive(Deserialize)]
pub struct ContactBody {
    #[serde(default)]
    name: String,
    emails: Vec<String>,
    #[serde(default)]
    note: String,
}

impl From<ContactBody> for NewContact {
    fn from(c: ContactBody) -> Self {
        NewContact {
            name: c.name,
            emails: c.emails,
            note: c.note,
        }
    }
}

pub async fn add(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path((address, book)): Path<(String, String)>,
    Json(c): Json<ContactBody>,
) -> ApiResult<Response> {
    let user = owner(&app, &me, &address).await?;
    Ok(created(
        app.store.add_contact(user.id, &book, c.into()).await?,
    ))
}

pub async fn contact(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path((address, book, id)): Path<(String, String, i64)>,
) -> ApiResult<Json<Contact>> {
    let user = owner(&app, &me, &address).await?;
    Ok(Json(find_contact(&app, &user, &book, id).await?))
}

pub async fn update(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path((address, book, id)): Path<(String, String, i64)>,
    Json(c): Json<ContactBody>,
) -> ApiResult<Json<Contact>> {
    let user = owner(&app, &me, &address).await?;
    find_contact(&app, &user, &book, id).await?;
    app.store
        .update_contact(user.id, ContactId(id), c.into())
        .await?;
    Ok(Json(find_contact(&app, &user, &book, id).await?))
}

pub async fn delete(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path((address, book, id)): Path<(String, String, i64)>,
) -> ApiResult<Response> {
    let user = owner(&app, &me, &address).await?;
    find_contact(&app, &user, &book, id).await?;
    app.store.delete_contact(user.id, ContactId(id)).await?;
    Ok(no_content())
}

/// The body is the file: `text/vcard` or `text/csv` (else detected by content).
pub async fn import(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path((address, book)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<ImportReport>> {
    let user = owner(&app, &me, &address).await?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let name = if ct.starts_with("text/vcard") || ct.starts_with("text/x-vcard") {
        Some("upload.vcf")
    } else if ct.starts_with("text/csv") {
        Some("upload.csv")
    } else {
        None
    };
    Ok(Json(import_bytes(&app, &user, &book, name, &body).await?))
}

pub async fn export(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path((address, book)): Path<(String, String)>,
) -> ApiResult<Response> {
    let user = owner(&app, &me, &address).await?;
    let contacts = app
        .store
        .contacts(user.id, &book, None, u32::MAX, 0)
        .await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/vcard; charset=utf-8"),
        )],
        to_vcard(&contacts),
    )
        .into_response())
}
