//! Users: the admin's pages (create, reset password, quota, role, delete with
//! a list of what will be lost) and every user's own account page.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};
use store::{Account, EmailAddress, ListVisibility};

use crate::access::{owner, require_admin};
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::render::{self, done, seg, value};
use crate::session::Viewer;

/// New passwords: long enough to resist guessing, short enough to hash.
pub fn check_new_password(pw: &str) -> AppResult<()> {
    let n = pw.chars().count();
    if !(8..=1024).contains(&n) {
        return Err(AppError::BadRequest(
            "a password needs 8 to 1024 characters".into(),
        ));
    }
    Ok(())
}

/// `2G`, `500M`, `10k`, a plain number of bytes, or `none`/empty for no limit.
pub fn parse_quota(s: &str) -> AppResult<Option<u64>> {
    let s = s.trim();
    if s.is_empty() || s.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let bad = || AppError::BadRequest(format!("{s:?} is not a size like 2G, 500M or none"));
    let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, ""),
    };
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let mult: u64 = match unit
        .trim()
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => return Err(bad()),
    };
    n.checked_mul(mult).map(Some).ok_or_else(bad)
}

fn quota_text(bytes: Option<u64>) -> String {
    match bytes {
        None => String::new(),
        Some(b) if b % (1 << 30) == 0 && b > 0 => format!("{}G", b >> 30),
        Some(b) if b % (1 << 20) == 0 && b > 0 => format!("{}M", b >> 20),
        Some(b) => b.to_string(),
    }
}

#[derive(Deserialize)]
pub struct UsersQuery {
    domain: Option<String>,
}

pub async fn page(
    State(app): State<AppState>,
    viewer: Viewer,
    Query(q): Query<UsersQuery>,
) -> AppResult<Response> {
    require_admin(&viewer.account)?;
    let domain = q.domain.filter(|d| !d.is_empty());
    let users = app.store.list_accounts(domain.as_deref()).await?;
    let domains = app.store.list_domains().await?;
    Ok(render::page(
        &app.env,
        &viewer,
        "users.html",
        context! { users => value(&users), domains => value(&domains), domain => domain },
    )?
    .into_response())
}

#[derive(Deserialize)]
pub struct NewUser {
    #[serde(default)]
    address: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    admin: Option<String>,
}

pub async fn create(
    State(app): State<AppState>,
    viewer: Viewer,
    Form(f): Form<NewUser>,
) -> AppResult<Response> {
    require_admin(&viewer.account)?;
    let address = EmailAddress::parse(f.address.trim())?;
    check_new_password(&f.password)?;
    let admin = f.admin.as_deref() == Some("on");
    app.store
        .create_account(&address, &f.password, admin)
        .await?;
    tracing::info!(by = %viewer.account.address, user = %address, admin, "user created");
    Ok(done(
        &format!("/users/{}", seg(address.as_str())),
        &format!("Created {address}."),
    ))
}

async fn managed(app: &AppState, viewer: &Viewer, addr: &str) -> AppResult<Account> {
    require_admin(&viewer.account)?;
    owner(app, &viewer.account, addr).await
}

pub async fn show(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(addr): Path<String>,
) -> AppResult<Response> {
    let user = managed(&app, &viewer, &addr).await?;
    let aliases = app.store.list_aliases(None, Some(&user.address)).await?;
    Ok(render::page(
        &app.env,
        &viewer,
        "user.html",
        context! {
            user => value(&user),
            aliases => value(&aliases),
            quota_text => quota_text(user.quota_bytes),
        },
    )?
    .into_response())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
}

pub async fn reset_password(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(addr): Path<String>,
    Form(f): Form<PasswordForm>,
) -> AppResult<Response> {
    let user = managed(&app, &viewer, &addr).await?;
    check_new_password(&f.password)?;
    app.store.set_password(&user.address, &f.password).await?;
    app.store
        .delete_web_sessions_of(user.id, Some(viewer.session_token()))
        .await?;
    tracing::info!(by = %viewer.account.address, user = %user.address, "password reset");
    Ok(done(
        &format!("/users/{}", seg(user.address.as_str())),
        "Password changed; the user's other sessions were logged out.",
    ))
}

#[derive(Deserialize)]
pub struct QuotaForm {
    #[serde(default)]
    quota: String,
}

pub async fn quota(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(addr): Path<String>,
    Form(f): Form<QuotaForm>,
) -> AppResult<Response> {
    let user = managed(&app, &viewer, &addr).await?;
    let bytes = parse_quota(&f.quota)?;
    app.store
        .set_quota(&user.address, bytes, user.quota_messages)
        .await?;
    Ok(done(
        &format!("/users/{}", seg(user.address.as_str())),
        "Quota set.",
    ))
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    admin: String,
}

pub async fn admin_role(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(addr): Path<String>,
    Form(f): Form<RoleForm>,
) -> AppResult<Response> {
    let user = managed(&app, &viewer, &addr).await?;
    let on = f.admin == "on";
    if !on && user.id == viewer.account.id {
        return Err(AppError::BadRequest(
            "you cannot remove your own admin role; another admin can".into(),
        ));
    }
    app.store.set_admin(&user.address, on).await?;
    tracing::info!(by = %viewer.account.address, user = %user.address, admin = on, "admin role set");
    Ok(done(
        &format!("/users/{}", seg(user.address.as_str())),
        if on {
            "Now an admin."
        } else {
            "No longer an admin."
        },
    ))
}

/// What deleting an account loses, for the confirmation page and the API.
#[derive(Debug, Serialize)]
pub struct Losses {
    pub messages: u64,
    pub bytes: u64,
    pub mailboxes: usize,
    pub aliases: Vec<store::Alias>,
    pub books: Vec<store::AddressBook>,
    pub contacts: u64,
    pub lists: Vec<store::List>,
    pub scripts: usize,
}

pub async fn losses(app: &AppState, user: &Account) -> AppResult<Losses> {
    let books = app.store.addrbooks(user.id).await?;
    Ok(Losses {
        messages: user.used_messages,
        bytes: user.used_bytes,
        mailboxes: app.store.list_mailboxes(user.id).await?.len(),
        aliases: app.store.list_aliases(None, Some(&user.address)).await?,
        contacts: books.iter().map(|b| b.contacts).sum(),
        books,
        lists: app.store.lists(ListVisibility::OwnedBy(user.id)).await?,
        scripts: app.store.scripts(user.id).await?.len(),
    })
}

pub async fn confirm_delete(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(addr): Path<String>,
) -> AppResult<Response> {
    let user = managed(&app, &viewer, &addr).await?;
    let l = losses(&app, &user).await?;
    let scripts = vec![(); l.scripts];
    Ok(render::page(
        &app.env,
        &viewer,
        "user_delete.html",
        context! {
            user => value(&user),
            mailboxes => l.mailboxes,
            aliases => value(&l.aliases),
            books => value(&l.books),
            contacts => l.contacts,
            lists => value(&l.lists),
            scripts => value(&scripts),
        },
    )?
    .into_response())
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    confirm: String,
}

pub async fn delete(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(addr): Path<String>,
    Form(f): Form<DeleteForm>,
) -> AppResult<Response> {
    let user = managed(&app, &viewer, &addr).await?;
    if user.id == viewer.account.id {
        return Err(AppError::BadRequest(
            "you cannot delete your own account while logged in as it".into(),
        ));
    }
    if !f.confirm.trim().eq_ignore_ascii_case(user.address.as_str()) {
        return Err(AppError::BadRequest(
            "type the user's address to confirm the deletion".into(),
        ));
    }
    app.store.delete_account(&user.address).await?;
    tracing::info!(by = %viewer.account.address, user = %user.address, "user deleted");
    Ok(done("/users", &format!("Deleted {}.", user.address)))
}

// Every user's own page ----------------------------------------------------

pub async fn home(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(addr): Path<String>,
) -> AppResult<Response> {
    let user = owner(&app, &viewer.account, &addr).await?;
    let books = app.store.addrbooks(user.id).await?;
    let scripts = app.store.scripts(user.id).await?;
    let lists = app.store.lists(ListVisibility::VisibleTo(user.id)).await?;
    let aliases = app.store.list_aliases(None, Some(&user.address)).await?;
    let prefix = app.store.list_prefix().await?;
    Ok(render::page(
        &app.env,
        &viewer,
        "home.html",
        context! {
            user => value(&user),
            books => value(&books),
            scripts => value(&crate::sieve::summaries(&scripts)),
            lists => value(&lists),
            aliases => value(&aliases),
            prefix => prefix,
        },
    )?
    .into_response())
}

pub async fn own_password(
    State(app): State<AppState>,
    viewer: Viewer,
    conn: crate::app::ConnInfo,
    Path(addr): Path<String>,
    Form(f): Form<PasswordForm>,
) -> AppResult<Response> {
    let user = owner(&app, &viewer.account, &addr).await?;
    if user.id != viewer.account.id {
        return Err(AppError::NotFound);
    }
    check_new_password(&f.password)?;
    // Through the login limiter: a stolen session must not become a way to
    // guess the password.
    let current = zest_core::Secret::new(f.current);
    match app
        .auth
        .login(conn.peer.ip(), conn.secure, user.address.as_str(), &current)
        .await
    {
        Ok(_) => {}
        Err(zest_core::Error::RateLimited { retry_after }) => {
            return Err(AppError::RateLimited(retry_after));
        }
        Err(zest_core::Error::AuthenticationFailed) => {
            return Err(AppError::BadRequest(
                "the current password is not right".into(),
            ));
        }
        Err(zest_core::Error::EncryptionRequired) => {
            return Err(AppError::BadRequest(
                "changing the password needs HTTPS from this address".into(),
            ));
        }
        Err(e) => return Err(AppError::Unavailable(e.to_string())),
    }
    app.store.set_password(&user.address, &f.password).await?;
    app.store
        .delete_web_sessions_of(user.id, Some(viewer.session_token()))
        .await?;
    tracing::info!(user = %user.address, "password changed by its user");
    Ok(done(
        &format!("/u/{}", seg(user.address.as_str())),
        "Password changed; your other sessions were logged out.",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas() {
        assert_eq!(parse_quota("").unwrap(), None);
        assert_eq!(parse_quota("none").unwrap(), None);
        assert_eq!(parse_quota("2G").unwrap(), Some(2 << 30));
        assert_eq!(parse_quota("500M").unwrap(), Some(500 << 20));
        assert_eq!(parse_quota("10 KiB").unwrap(), Some(10 << 10));
        assert_eq!(parse_quota("123").unwrap(), Some(123));
        assert!(parse_quota("2X").is_err());
        assert!(parse_quota("99999999999999T").is_err());
        assert_eq!(quota_text(Some(2 << 30)), "2G");
    }
}
