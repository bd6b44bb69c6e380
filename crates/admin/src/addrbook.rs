//! Address books: the data behind Sieve's `:addrbook:NAME`. Every user manages
//! their own; an admin any user's. Import from vCard or CSV, export as vCard.

use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};
use store::{Account, Contact, ContactId, NewContact};
use zest_core::contacts::{self, ImportError};

use crate::access::owner;
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::render::{self, done, seg, value};
use crate::session::Viewer;

/// Contacts shown per page.
const PAGE: u32 = 200;

fn book_url(user: &Account, book: &str) -> String {
    format!("/u/{}/books/{}", seg(user.address.as_str()), seg(book))
}

/// Emails from a text field: one per line, commas and semicolons also separate.
pub fn split_values(s: &str) -> Vec<String> {
    s.split(['\n', '\r', ',', ';'])
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

pub async fn books(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(addr): Path<String>,
) -> AppResult<Response> {
    let user = owner(&app, &viewer.account, &addr).await?;
    let books = app.store.addrbooks(user.id).await?;
    Ok(render::page(
        &app.env,
        &viewer,
        "books.html",
        context! { user => value(&user), books => value(&books) },
    )?
    .into_response())
}

#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    name: String,
}

pub async fn create_book(
    State(app): State<AppState>,
    viewer: Viewer,
    Path(addr): Path<String>,
    Form(f): Form<NameForm>,
) -> AppResult<Response> {
    let user = owner(&app, &viewer.account, &addr).await?;
    let b = app.store.create_addrbook(user.id, f.name.trim()).await?;
    Ok(done(&book_url(&user, &b.name), "Address book created."))
}

pub async fn delete_book(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((addr, book)): Path<(String, String)>,
) -> AppResult<Response> {
    let user = owner(&app, &viewer.account, &addr).await?;
    app.store.delete_addrbook(user.id, &book).await?;
    Ok(done(
        &format!("/u/{}/books", seg(user.address.as_str())),
        &format!("Deleted the address book {book}."),
    ))
}

#[derive(Deserialize)]
pub struct BookQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    offset: u32,
    #[serde(default)]
    partial: Option<String>,
}

pub async fn book(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((addr, book)): Path<(String, String)>,
    Query(q): Query<BookQuery>,
) -> AppResult<Response> {
    let user = owner(&app, &viewer.account, &addr).await?;
    let query = q.q.trim();
    let mut contacts = app
        .store
        .contacts(
            user.id,
            &book,
            (!query.is_empty()).then_some(query),
            PAGE + 1,
            q.offset,
        )
        .await?;
    let more = contacts.len() > PAGE as usize;
    contacts.truncate(PAGE as usize);
    let ctx = context! {
        user => value(&user),
        book => &book,
        q => query,
        contacts => value(&contacts),
        more => more,
        next_offset => q.offset.saturating_add(PAGE),
    };
    let template = if q.partial.is_some() {
        "contacts_table.html"
    } else {
        "book.html"
    };
    Ok(render::page(&app.env, &viewer, template, ctx)?.into_response())
}

#[derive(Deserialize)]
pub struct ContactForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    emails: String,
    #[serde(default)]
    note: String,
}

impl ContactForm {
    fn into_new(self) -> NewContact {
        NewContact {
            name: self.name,
            emails: split_values(&self.emails),
            note: self.note,
        }
    }
}

pub async fn add(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((addr, book)): Path<(String, String)>,
    Form(f): Form<ContactForm>,
) -> AppResult<Response> {
    let user = owner(&app, &viewer.account, &addr).await?;
    let c = app.store.add_contact(user.id, &book, f.into_new()).await?;
    Ok(done(
        &book_url(&user, &book),
        &format!(
            "Added {}.",
            if c.name.is_empty() {
                &c.emails[0]
            } else {
                &c.name
            }
        ),
    ))
}

/// One contact of the user's book, or not found.
pub async fn find_contact(
    app: &AppState,
    user: &Account,
    book: &str,
    id: i64,
) -> AppResult<Contact> {
    Ok(app.store.contact(user.id, book, ContactId(id)).await?)
}

pub async fn edit_form(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((addr, book, id)): Path<(String, String, i64)>,
) -> AppResult<Response> {
    let user = owner(&app, &viewer.account, &addr).await?;
    let contact = find_contact(&app, &user, &book, id).await?;
    Ok(render::page(
        &app.env,
        &viewer,
        "contact.html",
        context! { user => value(&user), book => &book, contact => value(&contact) },
    )?
    .into_response())
}

pub async fn update(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((addr, book, id)): Path<(String, String, i64)>,
    Form(f): Form<ContactForm>,
) -> AppResult<Response> {
    let user = owner(&app, &viewer.account, &addr).await?;
    find_contact(&app, &user, &book, id).await?;
    app.store
        .update_contact(user.id, ContactId(id), f.into_new())
        .await?;
    Ok(done(&book_url(&user, &book), "Contact saved."))
}

pub async fn delete(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((addr, book, id)): Path<(String, String, i64)>,
) -> AppResult<Response> {
    let user = owner(&app, &viewer.account, &addr).await?;
    find_contact(&app, &user, &book, id).await?;
    app.store.delete_contact(user.id, ContactId(id)).await?;
    Ok(done(&book_url(&user, &book), "Contact deleted."))
}

/// The outcome of an import, with the line of every record not imported.
#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub imported: u64,
    pub duplicates: u64,
    pub skipped: Vec<LineProblem>,
    pub errors: Vec<LineProblem>,
}

#[derive(Debug, Serialize)]
pub struct LineProblem {
    pub line: usize,
    pub message: String,
}

fn problems(v: Vec<ImportError>) -> Vec<LineProblem> {
    v.into_iter()
        .map(|e| LineProblem {
            line: e.line,
            message: e.message,
        })
        .collect()
}

/// Parses `data` (vCard or CSV, by name or content) and imports it.
pub async fn import_bytes(
    app: &AppState,
    user: &Account,
    book: &str,
    file_name: Option<&str>,
    data: &[u8],
) -> AppResult<ImportReport> {
    let format = contacts::detect_format(file_name, data).ok_or_else(|| {
        AppError::BadRequest("the file is neither a vCard (.vcf) nor a CSV file".into())
    })?;
    let parsed = contacts::parse(format, data);
    let records: Vec<NewContact> = parsed.contacts.into_iter().map(Into::into).collect();
    let summary = app
        .store
        .import_contacts(user.id, book, records, |_| {})
        .await?;
    Ok(ImportReport {
        imported: summary.imported,
        duplicates: summary.duplicates,
        skipped: problems(parsed.skipped),
        errors: problems(parsed.errors),
    })
}

pub async fn import(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((addr, book)): Path<(String, String)>,
    mut form: Multipart,
) -> AppResult<Response> {
    let user = owner(&app, &viewer.account, &addr).await?;
    let bad = |e: axum::extract::multipart::MultipartError| AppError::BadRequest(e.body_text());
    let mut file = None;
    while let Some(field) = form.next_field().await.map_err(bad)? {
        if field.name() == Some("file") {
            let name = field.file_name().map(str::to_string);
            let data = field.bytes().await.map_err(bad)?;
            file = Some((name, data));
        }
    }
    let (name, data) =
        file.ok_or_else(|| AppError::BadRequest("choose a file to import".into()))?;
    let report = import_bytes(&app, &user, &book, name.as_deref(), &data).await?;
    tracing::info!(user = %user.address, book = %book, imported = report.imported, "contacts imported");
    Ok(render::page(
        &app.env,
        &viewer,
        "import_result.html",
        context! {
            user => value(&user),
            book => &book,
            file_name => name.unwrap_or_else(|| "the upload".into()),
            imported => report.imported,
            duplicates => report.duplicates,
            skipped => report.skipped.len(),
            errors => report.errors.len(),
            lines => value(&{
                let mut all: Vec<&LineProblem> = report.errors.iter().chain(&report.skipped).collect();
                all.sort_by_key(|p| p.line);
                all
            }),
        },
    )?
    .into_response())
}

/// RFC 6350 3.4: escape backslash, comma, semicolon and newlines in values.
fn vcard_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// RFC 6350 3.2: lines longer than 75 octets are folded.
fn fold(line: &str, out: &mut String) {
    let mut start = 0;
    let mut width = 75;
    while line.len() - start > width {
        let mut end = start + width;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        out.push_str(&line[start..end]);
        out.push_str("\r\n ");
        start = end;
        width = 74;
    }
    out.push_str(&line[start..]);
    out.push_str("\r\n");
}

pub fn to_vcard(contacts: &[Contact]) -> String {
    let mut out = String::new();
    for c in contacts {
        out.push_str("BEGIN:VCARD\r\nVERSION:4.0\r\n");
        let name = if c.name.is_empty() {
            c.emails.first().cloned().unwrap_or_default()
        } else {
            c.name.clone()
        };
        fold(&format!("FN:{}", vcard_text(&name)), &mut out);
        for e in &c.emails {
            fold(&format!("EMAIL:{}", vcard_text(e)), &mut out);
        }
        if !c.note.is_empty() {
            fold(&format!("NOTE:{}", vcard_text(&c.note)), &mut out);
        }
        out.push_str("END:VCARD\r\n");
    }
    out
}

pub async fn export(
    State(app): State<AppState>,
    viewer: Viewer,
    Path((addr, book)): Path<(String, String)>,
) -> AppResult<Response> {
    let user = owner(&app, &viewer.account, &addr).await?;
    let contacts = app
        .store
        .contacts(user.id, &book, None, u32::MAX, 0)
        .await?;
    let file: String = book
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file}.vcf\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/vcard; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        to_vcard(&contacts),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_split_on_lines_and_commas() {
        assert_eq!(
            split_values("a@x.org\r\n b@x.org, c@x.org;;\n"),
            vec!["a@x.org", "b@x.org", "c@x.org"]
        );
    }

    #[test]
    fn vcard_export_round_trips() {
        let c = Contact {
            id: ContactId(1),
            name: "Doe, Jane; \"J\"".into(),
            emails: vec!["jane@example.org".into(), "j@example.net".into()],
            note: format!("line1\nline2 {}", "x".repeat(100)),
        };
        let text = to_vcard(&[c]);
        assert!(text.lines().all(|l| l.len() <= 75));
        let parsed = contacts::parse_vcard(text.as_bytes());
        assert_eq!(parsed.errors, vec![]);
        assert_eq!(parsed.contacts.len(), 1);
        assert_eq!(parsed.contacts[0].name, "Doe, Jane; \"J\"");
        assert_eq!(
            parsed.contacts[0].emails,
            vec!["jane@example.org", "j@example.net"]
        );
    }
}
