//! Address books and contacts: the data behind Sieve's `:addrbook:NAME`
//! (RFC 6134 2.5). Lookups are one indexed query on the normalised email.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::Store;
use crate::changes::ChangeKind;
use crate::error::{Result, StoreError, Subject};
use crate::types::{AccountId, BookId, ContactId, EmailAddress, normalize_member};
use crate::writer::Tx;

/// Contacts per write transaction during an import, so a large import never
/// holds the writer long enough to delay deliveries.
const IMPORT_CHUNK: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddressBook {
    pub id: BookId,
    pub name: String,
    pub contacts: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub id: ContactId,
    pub name: String,
    pub emails: Vec<String>,
    pub note: String,
}

/// A contact to add: emails are parsed when stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewContact {
    pub name: String,
    pub emails: Vec<String>,
    pub note: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub imported: u64,
    /// Contacts whose every email was already in the book.
    pub duplicates: u64,
}

/// `default` matches case-insensitively; other names exactly (CONTRACT.md).
fn book_key(name: &str) -> &str {
    if name.eq_ignore_ascii_case("default") {
        "default"
    } else {
        name
    }
}

fn validate_book_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 100 || name.chars().any(|c| c.is_control()) {
        return Err(StoreError::invalid(
            "address book name",
            format!("{name:?}"),
        ));
    }
    Ok(())
}

pub(crate) fn book_id(conn: &Connection, account: AccountId, name: &str) -> Result<BookId> {
    conn.prepare_cached("SELECT id FROM addressbooks WHERE account_id = ?1 AND name = ?2")?
        .query_row((account.0, book_key(name)), |r| r.get(0))
        .optional()?
        .map(BookId)
        .ok_or_else(|| StoreError::NotFound(Subject::AddressBook(name.to_string())))
}

/// Parses and normalises a contact's emails, dropping repeats.
fn parse_emails(emails: &[String]) -> Result<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for e in emails {
        let parsed = EmailAddress::parse(e.trim().trim_start_matches('<').trim_end_matches('>'))?;
        let norm = normalize_member(parsed.as_str());
        if !out.iter().any(|(_, n)| *n == norm) {
            out.push((e.trim().to_string(), norm));
        }
    }
    Ok(out)
}

fn email_in_book(conn: &Connection, book: BookId, norm: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM contact_emails WHERE book_id = ?1 AND email_norm = ?2)",
        )?
        .query_row((book.0, norm), |r| r.get(0))?)
}

fn insert_contact(
    tx: &Tx<'_>,
    book: BookId,
    c: &NewContact,
    emails: &[(String, String)],
) -> Result<ContactId> {
    let conn = tx.conn();
    conn.prepare_cached(
        "INSERT INTO contacts (book_id, display_name, note, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
    )?
    .execute((book.0, c.name.trim(), &c.note, tx.now))?;
    let id = ContactId(conn.last_insert_rowid());
    insert_emails(conn, id, book, emails)?;
    Ok(id)
}

fn insert_emails(
    conn: &Connection,
    id: ContactId,
    book: BookId,
    emails: &[(String, String)],
) -> Result<()> {
    for (pos, (email, norm)) in emails.iter().enumerate() {
        conn.prepare_cached(
            "INSERT INTO contact_emails (contact_id, book_id, email, email_norm, position) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute((id.0, book.0, email, norm, pos as i64))?;
    }
    Ok(())
}

fn load_contacts(
    conn: &Connection,
    book: BookId,
    query: Option<&str>,
    limit: u32,
    offset: u32,
) -> Result<Vec<Contact>> {
    let pattern = query.map(|q| {
        format!(
            "%{}%",
            q.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    });
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, c.display_name, c.note FROM contacts c WHERE c.book_id = ?1 AND (?2 IS NULL \
           OR c.display_name LIKE ?2 ESCAPE '\\' \
           OR EXISTS(SELECT 1 FROM contact_emails e WHERE e.contact_id = c.id AND e.email LIKE ?2 ESCAPE '\\')) \
         ORDER BY c.display_name COLLATE NOCASE, c.id LIMIT ?3 OFFSET ?4",
    )?;
    let mut contacts: Vec<Contact> = stmt
        .query_map((book.0, pattern, limit, offset), |r| {
            Ok(Contact {
                id: ContactId(r.get(0)?),
                name: r.get(1)?,
                emails: Vec::new(),
                note: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut emails = conn.prepare_cached(
        "SELECT email FROM contact_emails WHERE contact_id = ?1 ORDER BY position",
    )?;
    for c in &mut contacts {
        c.emails = emails
            .query_map([c.id.0], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
    }
    Ok(contacts)
}

/// The contact's book, checking it belongs to `account`.
fn contact_book(conn: &Connection, account: AccountId, contact: ContactId) -> Result<BookId> {
    conn.prepare_cached(
        "SELECT c.book_id FROM contacts c JOIN addressbooks b ON b.id = c.book_id WHERE c.id = ?1 AND b.account_id = ?2",
    )?
    .query_row((contact.0, account.0), |r| r.get(0))
    .optional()?
    .map(BookId)
    .ok_or_else(|| StoreError::NotFound(Subject::Contact(contact.to_string())))
}

impl Store {
    pub async fn create_addrbook(&self, account: AccountId, name: &str) -> Result<AddressBook> {
        validate_book_name(name)?;
        let name = book_key(name).to_string();
        self.write(move |tx| {
            if book_id(tx.conn(), account, &name).is_ok() {
                return Err(StoreError::AlreadyExists(Subject::AddressBook(name)));
            }
            tx.conn().execute(
                "INSERT INTO addressbooks (account_id, name, created_at) VALUES (?1, ?2, ?3)",
                (account.0, &name, tx.now),
            )?;
            // Before logging: the change_log insert moves last_insert_rowid.
            let id = BookId(tx.conn().last_insert_rowid());
            tx.log(Some(account), ChangeKind::AddressBookChanged)?;
            Ok(AddressBook {
                id,
                name,
                contacts: 0,
            })
        })
        .await
    }

    /// Deletes a book and its contacts; `default` always exists.
    pub async fn delete_addrbook(&self, account: AccountId, name: &str) -> Result<()> {
        if book_key(name) == "default" {
            return Err(StoreError::Refused(
                "the default address book cannot be deleted".into(),
            ));
        }
        let name = name.to_string();
        self.write(move |tx| {
            let id = book_id(tx.conn(), account, &name)?;
            tx.conn()
                .execute("DELETE FROM addressbooks WHERE id = ?1", [id.0])?;
            tx.log(Some(account), ChangeKind::AddressBookChanged)?;
            Ok(())
        })
        .await
    }

    pub async fn addrbooks(&self, account: AccountId) -> Result<Vec<AddressBook>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT b.id, b.name, (SELECT COUNT(*) FROM contacts c WHERE c.book_id = b.id) \
                 FROM addressbooks b WHERE b.account_id = ?1 ORDER BY b.name != 'default', b.name",
            )?;
            let rows = stmt.query_map([account.0], |r| {
                Ok(AddressBook {
                    id: BookId(r.get(0)?),
                    name: r.get(1)?,
                    contacts: r.get::<_, i64>(2)? as u64,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    /// Adds a contact; an email already in the book is refused.
    pub async fn add_contact(
        &self,
        account: AccountId,
        book: &str,
        contact: NewContact,
    ) -> Result<Contact> {
        let emails = parse_emails(&contact.emails)?;
        if emails.is_empty() {
            return Err(StoreError::invalid(
                "contact",
                "at least one email is needed",
            ));
        }
        let book = book.to_string();
        self.write(move |tx| {
            let b = book_id(tx.conn(), account, &book)?;
            for (email, norm) in &emails {
                if email_in_book(tx.conn(), b, norm)? {
                    return Err(StoreError::AlreadyExists(Subject::Contact(email.clone())));
                }
            }
            let id = insert_contact(tx, b, &contact, &emails)?;
            tx.log(Some(account), ChangeKind::AddressBookChanged)?;
            Ok(Contact {
                id,
                name: contact.name.trim().to_string(),
                emails: emails.into_iter().map(|(e, _)| e).collect(),
                note: contact.note,
            })
        })
        .await
    }

    /// Replaces a contact's name, note and emails.
    pub async fn update_contact(
        &self,
        account: AccountId,
        id: ContactId,
        contact: NewContact,
    ) -> Result<()> {
        let emails = parse_emails(&contact.emails)?;
        if emails.is_empty() {
            return Err(StoreError::invalid(
                "contact",
                "at least one email is needed",
            ));
        }
        self.write(move |tx| {
            let conn = tx.conn();
            let book = contact_book(conn, account, id)?;
            conn.execute("DELETE FROM contact_emails WHERE contact_id = ?1", [id.0])?;
            for (email, norm) in &emails {
                if email_in_book(conn, book, norm)? {
                    return Err(StoreError::AlreadyExists(Subject::Contact(email.clone())));
                }
            }
            conn.execute(
                "UPDATE contacts SET display_name = ?1, note = ?2, updated_at = ?3 WHERE id = ?4",
                (contact.name.trim(), &contact.note, tx.now, id.0),
            )?;
            insert_emails(conn, id, book, &emails)?;
            tx.log(Some(account), ChangeKind::AddressBookChanged)?;
            Ok(())
        })
        .await
    }

    pub async fn delete_contact(&self, account: AccountId, id: ContactId) -> Result<()> {
        self.write(move |tx| {
            contact_book(tx.conn(), account, id)?;
            tx.conn()
                .execute("DELETE FROM contacts WHERE id = ?1", [id.0])?;
            tx.log(Some(account), ChangeKind::AddressBookChanged)?;
            Ok(())
        })
        .await
    }

    /// Removes one email from a book; a contact left with none goes too.
    pub async fn remove_contact_email(
        &self,
        account: AccountId,
        book: &str,
        email: &str,
    ) -> Result<()> {
        let (book, email) = (book.to_string(), email.to_string());
        self.write(move |tx| {
            let conn = tx.conn();
            let b = book_id(conn, account, &book)?;
            let norm = normalize_member(&email);
            let contact: i64 = conn
                .query_row(
                    "DELETE FROM contact_emails WHERE book_id = ?1 AND email_norm = ?2 RETURNING contact_id",
                    (b.0, &norm),
                    |r| r.get(0),
                )
                .optional()?
                .ok_or_else(|| StoreError::NotFound(Subject::Contact(email.clone())))?;
            conn.execute(
                "DELETE FROM contacts WHERE id = ?1 AND NOT EXISTS(SELECT 1 FROM contact_emails WHERE contact_id = ?1)",
                [contact],
            )?;
            tx.log(Some(account), ChangeKind::AddressBookChanged)?;
            Ok(())
        })
        .await
    }

    /// Contacts of a book, by name; `query` matches names and emails (substring).
    pub async fn contacts(
        &self,
        account: AccountId,
        book: &str,
        query: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Contact>> {
        let (book, query) = (book.to_string(), query.map(str::to_string));
        self.read(move |c| {
            let b = book_id(c, account, &book)?;
            load_contacts(c, b, query.as_deref(), limit, offset)
        })
        .await
    }

    /// One contact of the account's book `book`; a contact of another book
    /// or account is `NotFound`.
    pub async fn contact(&self, account: AccountId, book: &str, id: ContactId) -> Result<Contact> {
        let book = book.to_string();
        self.read(move |c| {
            let b = book_id(c, account, &book)?;
            if contact_book(c, account, id)? != b {
                return Err(StoreError::NotFound(Subject::Contact(id.to_string())));
            }
            let (name, note): (String, String) = c
                .prepare_cached("SELECT display_name, note FROM contacts WHERE id = ?1")?
                .query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let mut stmt = c.prepare_cached(
                "SELECT email FROM contact_emails WHERE contact_id = ?1 ORDER BY position",
            )?;
            let emails = stmt
                .query_map([id.0], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(Contact {
                id,
                name,
                emails,
                note,
            })
        })
        .await
    }

    /// Imports contacts, skipping those whose every email is already there.
    /// Runs in chunks so deliveries are not held up; a failure part-way leaves
    /// the chunks before it imported (and says how many in the error).
    pub async fn import_contacts(
        &self,
        account: AccountId,
        book: &str,
        contacts: Vec<NewContact>,
        mut progress: impl FnMut(usize),
    ) -> Result<ImportSummary> {
        let mut parsed = Vec::with_capacity(contacts.len());
        for c in contacts {
            let emails = parse_emails(&c.emails)?;
            parsed.push((c, emails));
        }
        let mut summary = ImportSummary::default();
        let mut done = 0;
        let mut rest = parsed;
        while !rest.is_empty() {
            let tail = rest.split_off(rest.len().min(IMPORT_CHUNK));
            let chunk = std::mem::replace(&mut rest, tail);
            let n = chunk.len();
            let book = book.to_string();
            let part = self
                .write(move |tx| {
                    let b = book_id(tx.conn(), account, &book)?;
                    let mut s = ImportSummary::default();
                    for (c, emails) in chunk {
                        let mut fresh = Vec::new();
                        for e in emails {
                            if !email_in_book(tx.conn(), b, &e.1)? {
                                fresh.push(e);
                            }
                        }
                        if fresh.is_empty() {
                            s.duplicates += 1;
                            continue;
                        }
                        insert_contact(tx, b, &c, &fresh)?;
                        s.imported += 1;
                    }
                    tx.log(Some(account), ChangeKind::AddressBookChanged)?;
                    Ok(s)
                })
                .await
                .map_err(|e| match e {
                    StoreError::Invalid { .. } | StoreError::NotFound(_) => e,
                    other => StoreError::Internal(format!(
                        "import stopped after {} contacts: {other}",
                        summary.imported
                    )),
                })?;
            summary.imported += part.imported;
            summary.duplicates += part.duplicates;
            done += n;
            progress(done);
        }
        Ok(summary)
    }

    /// Is `value` an email of a contact in the account's book `book`?
    /// (`:addrbook:NAME` in Sieve.) A missing book is `NotFound`.
    pub async fn addrbook_contains(
        &self,
        account: AccountId,
        book: &str,
        value: &str,
    ) -> Result<bool> {
        let (book, norm) = (book_key(book).to_string(), normalize_member(value));
        self.read(move |c| {
            let row: Option<bool> = c
                .prepare_cached(
                    "SELECT EXISTS(SELECT 1 FROM contact_emails e WHERE e.book_id = b.id AND e.email_norm = ?3) \
                     FROM addressbooks b WHERE b.account_id = ?1 AND b.name = ?2",
                )?
                .query_row((account.0, &book, &norm), |r| r.get(0))
                .optional()?;
            row.ok_or(StoreError::NotFound(Subject::AddressBook(book)))
        })
        .await
    }
}
