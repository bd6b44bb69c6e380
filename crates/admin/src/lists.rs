//! Lists named by `tag:` URIs, shown by their short NAME (CONTRACT.md): an
//! admin manages every list and picks its owner; a user manages their own.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Deserialize;
use store::{EmailAddress, ListVisibility};

use crate::access;
use crate::addrbook::split_values;
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::render::{self, done, seg, value};
use crate::session::Viewer;

pub async fn page(State(app): State<AppState>, viewer: Viewer) -> AppResult<Response> {
    let me = &viewer.account;
    let lists = if me.is_admin {
        app.store.lists(ListVisibility::All).await?
    } else {
        app.store.lists(ListVisibility::VisibleTo(me.id)).await?
    };
    let users = if me.is_admin {
        app.store.list_accounts(None).await?
    } else {
        Vec::new()
    };
    let prefix = app.store.list_prefix().await?;
    Ok(render::page(
        &app.env,
        &viewer,
        "lists.html",
        context! { lists => value(&lists), users => value(&users), prefix => prefix },
    )?
    .into_response())
}

#[derive(Deserialize)]
pub struct NewList {
    #[serde(default)]
    name: String,
    #[serde(default)]
    owner: String,
}

/// The owner a new list gets: an admin chooses (empty: the server), a user
/// always owns what they create.
pub async fn new_list_owner(
    app: &AppState,
    viewer: &store::Account,
    requested: Option<&str>,
) -> AppResult<Option<store::AccountId>> {
    if !viewer.is_admin {
        return Ok(Some(viewer.id));
    }
    match requested.map(str::trim).filter(|o| !o.is_empty()) {
        None => Ok(None),
        Some(o) => {
            let addr = EmailAddress::parse(o)?;
            let account = app
                .store
                .account(&addr)
                .await?
                .ok_or_else(|| AppError::BadRequest(format!("no user {addr}")))?;
            Ok(Some(account.id))
        }
    }
}

pub async fn create(
    State(app): State<AppState>,
    viewer: Viewer,
    Form(f): Form<NewList>,
) -> AppResult<Response> {
    let owner = new_list_owner(&app, &viewer.account, Some(&f.owner)).await?;
    let uri = app.store.list_uri(f.name.trim()).await?;
    let list = app.store.create_list(&uri, owner).await?;
    tracing::info!(by = %viewer.account.address, list = %list.uri, "list created");
    Ok(done(
        &format!("/lists/{}", seg(&list.name)),
        &format!("Created the list {}.", list.name),
    ))
}

pub async fn show(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
) -> AppResult<Response> {
    let (uri, list) = access::list(&app, &viewer.account, &name).await?;
    let members = app.store.list_members(None, &uri).await?;
    Ok(render::page(
        &app.env,
        &viewer,
        "list.html",
        context! { list => value(&list), members => value(&members) },
    )?
    .into_response())
}

#[derive(Deserialize)]
pub struct MembersForm {
    #[serde(default)]
    members: String,
}

/// Members from pasted text: lines, commas, semicolons and spaces separate.
pub fn pasted_members(s: &str) -> Vec<String> {
    split_values(s)
        .iter()
        .flat_map(|v| v.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .collect()
}

pub async fn add_members(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    Form(f): Form<MembersForm>,
) -> AppResult<Response> {
    let (uri, list) = access::list(&app, &viewer.account, &name).await?;
    let values = pasted_members(&f.members);
    if values.is_empty() {
        return Err(AppError::BadRequest("paste at least one address".into()));
    }
    let n = values.len();
    let added = app.store.add_list_members(&uri, values).await?;
    Ok(done(
        &format!("/lists/{}", seg(&list.name)),
        &format!(
            "Added {added} new members ({} were already there).",
            n as u64 - added.min(n as u64)
        ),
    ))
}

pub async fn remove_members(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let (uri, list) = access::list(&app, &viewer.account, &name).await?;
    // Repeated `member` fields: serde's Form cannot collect those.
    let values: Vec<String> = form_urlencoded::parse(&body)
        .filter(|(k, _)| k == "member")
        .map(|(_, v)| v.into_owned())
        .collect();
    if values.is_empty() {
        return Err(AppError::BadRequest("select members to remove".into()));
    }
    let n = values.len();
    app.store.remove_list_members(&uri, values).await?;
    Ok(done(
        &format!("/lists/{}", seg(&list.name)),
        &format!("Removed {n} members."),
    ))
}

pub async fn export(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
) -> AppResult<Response> {
    let (uri, list) = access::list(&app, &viewer.account, &name).await?;
    let members = app.store.list_members(None, &uri).await?;
    let mut body = members.join("\n");
    body.push('\n');
    let file: String = list
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file}.txt\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

pub async fn delete(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
) -> AppResult<Response> {
    let (uri, list) = access::list(&app, &viewer.account, &name).await?;
    app.store.delete_list(&uri).await?;
    tracing::info!(by = %viewer.account.address, list = %list.uri, "list deleted");
    Ok(done("/lists", &format!("Deleted the list {}.", list.name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_text_splits_everywhere() {
        assert_eq!(
            pasted_members("a@x.org b@x.org\n<c@x.org>, d@x.org\t e@x.org"),
            vec!["a@x.org", "b@x.org", "<c@x.org>", "d@x.org", "e@x.org"]
        );
    }
}
