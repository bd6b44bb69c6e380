//! Domains, users and aliases.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use store::{Account, Alias, Domain, EmailAddress};

use super::{ApiResult, ApiUser, created, no_content};
use crate::access::{owner, require_admin};
use crate::app::AppState;
use crate::error::AppError;
use crate::users::{check_new_password, losses};

pub async fn domains(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
) -> ApiResult<Json<Vec<Domain>>> {
    require_admin(&me)?;
    Ok(Json(app.store.list_domains().await?))
}

#[derive(Deserialize)]
pub struct NewDomain {
    name: String,
}

pub async fn create_domain(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Json(d): Json<NewDomain>,
) -> ApiResult<Response> {
    require_admin(&me)?;
    Ok(created(app.store.create_domain(d.name.trim()).await?))
}

pub async fn delete_domain(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    require_admin(&me)?;
    app.store.delete_domain(&name).await?;
    Ok(no_content())
}

pub async fn users(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
) -> ApiResult<Json<Vec<Account>>> {
    require_admin(&me)?;
    Ok(Json(app.store.list_accounts(None).await?))
}

#[derive(Deserialize)]
pub struct NewUser {
    address: String,
    password: String,
    #[serde(default)]
    admin: bool,
    #[serde(default)]
    quota_bytes: Option<u64>,
}

pub async fn create_user(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Json(u): Json<NewUser>,
) -> ApiResult<Response> {
    require_admin(&me)?;
    let address = EmailAddress::parse(u.address.trim())?;
    check_new_password(&u.password)?;
    let mut account = app
        .store
        .create_account(&address, &u.password, u.admin)
        .await?;
    if u.quota_bytes.is_some() {
        app.store.set_quota(&address, u.quota_bytes, None).await?;
        account.quota_bytes = u.quota_bytes;
    }
    tracing::info!(by = %me.address, user = %address, "user created through the API");
    Ok(created(account))
}

pub async fn user(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path(address): Path<String>,
) -> ApiResult<Json<Account>> {
    Ok(Json(owner(&app, &me, &address).await?))
}

/// Absent: unchanged; for `quota_bytes`, null removes the limit.
#[derive(Deserialize)]
pub struct UserChanges {
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    admin: Option<bool>,
    #[serde(default, deserialize_with = "some_or_null")]
    quota_bytes: Option<Option<u64>>,
}

fn some_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<u64>>, D::Error> {
    Option::<u64>::deserialize(d).map(Some)
}

pub async fn update_user(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path(address): Path<String>,
    Json(c): Json<UserChanges>,
) -> ApiResult<Json<Account>> {
    let user = owner(&app, &me, &address).await?;
    if (c.admin.is_some() || c.quota_bytes.is_some()) && !me.is_admin {
        return Err(AppError::NotFound.into());
    }
    if let Some(pw) = &c.password {
        check_new_password(pw)?;
    }
    if c.admin == Some(false) && user.id == me.id {
        return Err(
            AppError::BadRequest("an admin cannot remove their own admin role".into()).into(),
        );
    }
    if let Some(pw) = &c.password {
        app.store.set_password(&user.address, pw).await?;
        app.store.delete_web_sessions_of(user.id, None).await?;
    }
    if let Some(admin) = c.admin {
        app.store.set_admin(&user.address, admin).await?;
    }
    if let Some(q) = c.quota_bytes {
        app.store
            .set_quota(&user.address, q, user.quota_messages)
            .await?;
    }
    let updated = app
        .store
        .account(&user.address)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(updated))
}

pub async fn delete_user(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path(address): Path<String>,
) -> ApiResult<Json<crate::users::Losses>> {
    require_admin(&me)?;
    let user = owner(&app, &me, &address).await?;
    if user.id == me.id {
        return Err(AppError::BadRequest("a token cannot delete its own user".into()).into());
    }
    let lost = losses(&app, &user).await?;
    app.store.delete_account(&user.address).await?;
    tracing::info!(by = %me.address, user = %user.address, "user deleted through the API");
    Ok(Json(lost))
}

pub async fn user_aliases(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path(address): Path<String>,
) -> ApiResult<Json<Vec<Alias>>> {
    let user = owner(&app, &me, &address).await?;
    Ok(Json(
        app.store.list_aliases(None, Some(&user.address)).await?,
    ))
}

pub async fn aliases(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
) -> ApiResult<Json<Vec<Alias>>> {
    require_admin(&me)?;
    Ok(Json(app.store.list_aliases(None, None).await?))
}

#[derive(Deserialize)]
pub struct NewAlias {
    alias: String,
    target: String,
}

pub async fn create_alias(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Json(a): Json<NewAlias>,
) -> ApiResult<Response> {
    require_admin(&me)?;
    let alias = EmailAddress::parse(a.alias.trim())?;
    let target = EmailAddress::parse(a.target.trim())?;
    Ok(created(app.store.create_alias(&alias, &target).await?))
}

pub async fn delete_alias(
    State(app): State<AppState>,
    ApiUser(me): ApiUser,
    Path(alias): Path<String>,
) -> ApiResult<Response> {
    require_admin(&me)?;
    let alias = EmailAddress::parse(&alias)?;
    app.store.delete_alias(&alias).await?;
    Ok(no_content())
}
