//! Sieve scripts of a user (their own, or any for an admin): view, edit with
//! compile errors shown at their line, activate; and a form that writes a
//! vacation reply and a "known senders to Inbox, others to a folder" rule.
//! Scripts compile with the same settings as the MDA and ManageSieve.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};
use store::{Account, Script};
use zest_core::sieve::{ScriptError, SieveSettings};

use crate::access::owner;
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::render::{self, done, seg, value};
use crate::session::Viewer;

/// The script the simple form writes.
pub const FILTER_SCRIPT: &str = "zest-filter";
const FILTER_MARK: &str = "# zest-filter: ";

#[derive(Debug, Serialize)]
pub struct ScriptSummary {
    pub name: String,
    pub active: bool,
    pub last_error: Option<String>,
    pub updated_at: i64,
}

pub fn summaries(scripts: &[Script]) -> Vec<ScriptSummary> {
    scripts
        .iter()
        .map(|s| ScriptSummary {
            name: s.name.clone(),
            active: s.active,
            last_error: s.last_error.clone(),
            updated_at: s.updated_at,
        })
        .collect()
}

fn scripts_url(user: &Account) -> String {
    format!("/u/{}/scripts", seg(user.address.as_str()))
}

/// Compiles as the MDA will; the error carries the line.
pub fn check(app: &AppState, content: &[u8]) -> Result<Vec<(usize, String)>, ScriptError> {
    let settings = SieveSettings::from(&app.config.sieve);
    zest_core::sieve::compile(&settings, content).map(|c| {
        c.warnings
            .into_iter()
            .map(|w| (w.line, w.message))
            .collect()
    })
}

pub async fn scripts(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(addr): Path<String>,
) -> AppResult<Response> {
    let user = owner(&app, &viewer.account, &addr).await?;
    let scripts = app.store.scripts(user.id).await?;
    Ok(render::page(
        &app.env,
        &viewer,
        "scripts.html",
        context! { user => value(&user), scripts => value(&summaries(&scripts)) },
    )?
    .into_response())
}

#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    name: String,
}

const STARTER: &str = "require [\"fileinto\", \"extlists\"];\r\n\
# Mail from people in the address book \"default\" stays in the Inbox.\r\n\
if address :list \"from\" \":addrbook:default\" {\r\n    keep;\r\n    stop;\r\n}\r\n\
keep;\r\n";

pub async fn create(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(addr): Path<String>,
    Form(f): Form<NameForm>,
) -> AppResult<Response> {
    let user = owner(&app, &viewer.account, &addr).await?;
    let name = f.name.trim();
    if app.store.script(user.id, name).await.is_ok() {
        return Err(AppError::BadRequest(format!(
            "a script named {name:?} exists"
        )));
    }
    app.store
        .put_script(user.id, name, STARTER.as_bytes().to_vec())
        .await?;
    Ok(done(
        &format!("{}/{}", scripts_url(&user), seg(name)),
        "Script created; edit it below.",
    ))
}

#[derive(Serialize)]
struct Line {
    n: usize,
    text: String,
}

fn excerpt(content: &str, line: usize) -> Vec<Line> {
    let from = line.saturating_sub(3).max(1);
    content
        .lines()
        .enumerate()
        .map(|(i, t)| (i + 1, t))
        .filter(|(n, _)| *n >= from && *n <= line + 2)
        .map(|(n, t)| Line {
            n,
            text: t.to_string(),
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn editor(
    app: &AppState,
    viewer: &Viewer,
    user: &Account,
    name: &str,
    content: &str,
    active: bool,
    error: Option<&ScriptError>,
    warnings: &[(usize, String)],
) -> AppResult<Response> {
    #[derive(Serialize)]
    struct W<'a> {
        line: usize,
        message: &'a str,
    }
    let warnings: Vec<W<'_>> = warnings
        .iter()
        .map(|(line, message)| W {
            line: *line,
            message,
        })
        .collect();
    let prefix = app.store.list_prefix().await?;
    let error_value = error.map(|e| {
        context! { line => e.line, column => e.column, message => &e.message }
    });
    let html = render::page(
        &app.env,
        viewer,
        "script.html",
        context! {
            user => value(user),
            name => name,
            content => content,
            active => active,
            error => error_value,
            excerpt => value(&error.map(|e| excerpt(content, e.line)).unwrap_or_default()),
            warnings => value(&warnings),
            prefix => prefix,
        },
    )?;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, html).into_response())
}

pub async fn edit_form(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((addr, name)): Path<(String, String)>,
) -> AppResult<Response> {
    let user = owner(&app, &viewer.account, &addr).await?;
    let script = app.store.script(user.id, &name).await?;
    let content = String::from_utf8_lossy(&script.content).into_owned();
    editor(
        &app,
        &viewer,
        &user,
        &name,
        &content,
        script.active,
        None,
        &[],
    )
    .await
}

#[derive(Deserialize)]
pub struct ScriptForm {
    #[serde(default)]
    content: String,
    #[serde(default)]
    activate: Option<String>,
}

pub async fn save(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((addr, name)): Path<(String, String)>,
    Form(f): Form<ScriptForm>,
) -> AppResult<Response> {
    let user = owner(&app, &viewer.account, &addr).await?;
    let was_active = match app.store.script(user.id, &name).await {
        Ok(s) => s.active,
        Err(store::StoreError::NotFound(_)) => false,
        Err(e) => return Err(e.into()),
    };
    let activate = f.activate.as_deref() == Some("on");
    let warnings = match check(&app, f.content.as_bytes()) {
        Ok(w) => w,
        Err(e) => {
            return editor(
                &app,
                &viewer,
                &user,
                &name,
                &f.content,
                was_active,
                Some(&e),
                &[],
            )
            .await;
        }
    };
    app.store
        .put_script(user.id, &name, f.content.into_bytes())
        .await?;
    if activate && !was_active {
        app.store.activate_script(user.id, Some(&name)).await?;
    } else if !activate && was_active {
        app.store.activate_script(user.id, None).await?;
    }
    let mut notice = "Saved.".to_string();
    for (line, w) in warnings {
        notice.push_str(&format!(" Warning on line {line}: {w}"));
    }
    Ok(done(
        &format!("{}/{}", scripts_url(&user), seg(&name)),
        &notice,
    ))
}

pub async fn activate(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((addr, name)): Path<(String, String)>,
) -> AppResult<Response> {
    let user = owner(&app, &viewer.account, &addr).await?;
    let script = app.store.script(user.id, &name).await?;
    if let Err(e) = check(&app, &script.content) {
        return Err(AppError::BadRequest(format!(
            "{name} does not compile ({e}); fix it before activating"
        )));
    }
    app.store.activate_script(user.id, Some(&name)).await?;
    Ok(done(&scripts_url(&user), &format!("{name} is now active.")))
}

pub async fn deactivate(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(addr): Path<String>,
) -> AppResult<Response> {
    let user = owner(&app, &viewer.account, &addr).await?;
    app.store.activate_script(user.id, None).await?;
    Ok(done(&scripts_url(&user), "Filtering is off."))
}

pub async fn delete(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((addr, name)): Path<(String, String)>,
) -> AppResult<Response> {
    let user = owner(&app, &viewer.account, &addr).await?;
    app.store.delete_script(user.id, &name).await?;
    Ok(done(&scripts_url(&user), &format!("Deleted {name}.")))
}

// The simple filter ----------------------------------------------------------

/// What the simple form holds; kept as JSON in a comment of the script it writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimpleFilter {
    #[serde(default)]
    pub sort: bool,
    #[serde(default = "default_folder")]
    pub folder: String,
    #[serde(default)]
    pub vacation: bool,
    #[serde(default)]
    pub known_only: bool,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub body: String,
    #[serde(default = "default_days")]
    pub days: u32,
}

fn default_folder() -> String {
    "Unknown senders".into()
}

fn default_days() -> u32 {
    7
}

impl Default for SimpleFilter {
    fn default() -> Self {
        SimpleFilter {
            sort: false,
            folder: default_folder(),
            vacation: false,
            known_only: false,
            subject: "Away".into(),
            body: "I am away and will answer when I am back.".into(),
            days: default_days(),
        }
    }
}

/// A Sieve quoted string (RFC 5228 2.4.2).
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

impl SimpleFilter {
    /// The Sieve script for these settings.
    pub fn to_sieve(&self) -> String {
        let mut require = Vec::new();
        if self.sort {
            require.extend(["fileinto", "mailbox"]);
        }
        if self.sort || (self.vacation && self.known_only) {
            require.push("extlists");
        }
        if self.vacation {
            require.push("vacation");
        }
        let mut out = String::new();
        if !require.is_empty() {
            let r: Vec<String> = require.iter().map(|r| quoted(r)).collect();
            out.push_str(&format!("require [{}];\r\n", r.join(", ")));
        }
        let json = serde_json::to_string(self).unwrap_or_default();
        out.push_str(&format!("{FILTER_MARK}{json}\r\n"));
        out.push_str("# Written by the Zest web form; saving the form again replaces it.\r\n");
        let days = self.days.clamp(1, 30);
        let vacation = format!(
            "vacation :days {days} :subject {} {};",
            quoted(&self.subject),
            quoted(&self.body)
        );
        if self.vacation && !self.known_only {
            out.push_str(&vacation);
            out.push_str("\r\n");
        }
        let mut known = Vec::new();
        if self.vacation && self.known_only {
            known.push(vacation.clone());
        }
        if self.sort {
            known.push("keep;".to_string());
            known.push("stop;".to_string());
        }
        if !known.is_empty() {
            out.push_str("if address :list \"from\" \":addrbook:default\" {\r\n");
            for k in known {
                out.push_str("    ");
                out.push_str(&k);
                out.push_str("\r\n");
            }
            out.push_str("}\r\n");
        }
        if self.sort {
            out.push_str(&format!("fileinto :create {};\r\n", quoted(&self.folder)));
        }
        out
    }

    /// The settings a script written by [`to_sieve`] was made from.
    pub fn from_script(content: &[u8]) -> Option<SimpleFilter> {
        let text = std::str::from_utf8(content).ok()?;
        let line = text.lines().find_map(|l| l.strip_prefix(FILTER_MARK))?;
        serde_json::from_str(line).ok()
    }
}

pub async fn filter_form(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(addr): Path<String>,
) -> AppResult<Response> {
    let user = owner(&app, &viewer.account, &addr).await?;
    let (f, preview) = match app.store.script(user.id, FILTER_SCRIPT).await {
        Ok(s) => (
            SimpleFilter::from_script(&s.content).unwrap_or_default(),
            Some(String::from_utf8_lossy(&s.content).into_owned()),
        ),
        Err(_) => (SimpleFilter::default(), None),
    };
    Ok(render::page(
        &app.env,
        &viewer,
        "filter.html",
        context! { user => value(&user), f => value(&f), preview => preview, script_name => FILTER_SCRIPT },
    )?
    .into_response())
}

#[derive(Deserialize)]
pub struct FilterForm {
    sort: Option<String>,
    #[serde(default)]
    folder: String,
    vacation: Option<String>,
    known_only: Option<String>,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    days: String,
}

pub async fn filter_save(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(addr): Path<String>,
    Form(f): Form<FilterForm>,
) -> AppResult<Response> {
    let user = owner(&app, &viewer.account, &addr).await?;
    let filter = SimpleFilter {
        sort: f.sort.is_some(),
        folder: match f.folder.trim() {
            "" => default_folder(),
            s => s.to_string(),
        },
        vacation: f.vacation.is_some(),
        known_only: f.known_only.is_some(),
        subject: f.subject.trim().to_string(),
        body: f.body.replace("\r\n", "\n"),
        days: f.days.trim().parse().unwrap_or(default_days()).clamp(1, 30),
    };
    let script = filter.to_sieve();
    if let Err(e) = check(&app, script.as_bytes()) {
        return Err(AppError::BadRequest(format!(
            "the settings do not make a valid script: {e}"
        )));
    }
    app.store
        .put_script(user.id, FILTER_SCRIPT, script.into_bytes())
        .await?;
    app.store
        .activate_script(user.id, Some(FILTER_SCRIPT))
        .await?;
    Ok(done(
        &format!("/u/{}/filter", seg(user.address.as_str())),
        "Saved and active.",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiles(script: &str) {
        if let Err(e) = zest_core::sieve::compile(&SieveSettings::default(), script.as_bytes()) {
            panic!("{e}\n{script}");
        }
    }

    #[test]
    fn every_combination_compiles_and_round_trips() {
        for bits in 0..8u8 {
            let f = SimpleFilter {
                sort: bits & 1 != 0,
                vacation: bits & 2 != 0,
                known_only: bits & 4 != 0,
                subject: "Out \"of\" office \\ back soon".into(),
                body: "Line one\nLine two".into(),
                ..SimpleFilter::default()
            };
            let s = f.to_sieve();
            compiles(&s);
            assert_eq!(SimpleFilter::from_script(s.as_bytes()), Some(f));
        }
    }

    #[test]
    fn known_senders_rule_uses_the_default_book() {
        let f = SimpleFilter {
            sort: true,
            folder: "Later".into(),
            ..SimpleFilter::default()
        };
        let s = f.to_sieve();
        assert!(s.contains(
            "if address :list \"from\" \":addrbook:default\" {\r\n    keep;\r\n    stop;\r\n}"
        ));
        assert!(s.ends_with("fileinto :create \"Later\";\r\n"));
    }

    #[test]
    fn starter_compiles() {
        compiles(STARTER);
    }

    #[test]
    fn excerpt_marks_lines_around_the_error() {
        let e = excerpt("a\nb\nc\nd\ne\nf\ng", 4);
        let ns: Vec<usize> = e.iter().map(|l| l.n).collect();
        assert_eq!(ns, vec![1, 2, 3, 4, 5, 6]);
    }
}
