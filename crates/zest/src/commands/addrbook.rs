//! `zest addrbook`: contacts, books, and import from vCard or CSV.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use store::NewContact;
use zest_core::contacts::{self, ContactFormat};

use super::App;
use crate::cli::{AddrbookCmd, BookCmd};

pub async fn run(app: &App, cmd: AddrbookCmd) -> Result<ExitCode> {
    match cmd {
        AddrbookCmd::Add {
            user,
            email,
            name,
            book,
        } => {
            let account = app.account(&user).await?;
            let contact = NewContact {
                name: name.unwrap_or_default(),
                emails: vec![email.clone()],
                note: String::new(),
            };
            let c = app
                .store()
                .await?
                .add_contact(account, &book, contact)
                .await?;
            println!(
                "added {} to {user}'s address book {book}",
                c.emails.join(", ")
            );
        }
        AddrbookCmd::Del { user, email, book } => {
            let account = app.account(&user).await?;
            app.store()
                .await?
                .remove_contact_email(account, &book, &email)
                .await?;
            println!("removed {email} from {user}'s address book {book}");
        }
        AddrbookCmd::List { user, book, search } => {
            let account = app.account(&user).await?;
            let store = app.store().await?;
            let mut offset = 0;
            loop {
                let page = store
                    .contacts(account, &book, search.as_deref(), 1000, offset)
                    .await?;
                for c in &page {
                    println!("{}\t{}", c.name, c.emails.join(", "));
                }
                if page.len() < 1000 {
                    break;
                }
                offset += 1000;
            }
        }
        AddrbookCmd::Import { user, file, book } => return import(app, &user, &file, &book).await,
        AddrbookCmd::Book(cmd) => book_cmd(app, cmd).await?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn book_cmd(app: &App, cmd: BookCmd) -> Result<()> {
    match cmd {
        BookCmd::Add { user, book } => {
            let account = app.account(&user).await?;
            app.store().await?.create_addrbook(account, &book).await?;
            println!("created address book {book} of {user}");
        }
        BookCmd::Del { user, book } => {
            let account = app.account(&user).await?;
            app.store().await?.delete_addrbook(account, &book).await?;
            println!("deleted address book {book} of {user}");
        }
        BookCmd::List { user } => {
            let account = app.account(&user).await?;
            for b in app.store().await?.addrbooks(account).await? {
                println!("{}\t{} contacts", b.name, b.contacts);
            }
        }
    }
    Ok(())
}

/// Imports a file; bad lines are reported with their numbers and the rest is
/// imported. Fails, changing nothing, when the user, book or file is wrong or
/// when the file holds nothing importable.
async fn import(app: &App, user: &str, file: &std::path::Path, book: &str) -> Result<ExitCode> {
    let account = app.account(user).await?;
    let store = app.store().await?;
    // Refuse an unknown book before reading anything.
    store
        .addrbooks(account)
        .await?
        .iter()
        .find(|b| b.name == book || (b.name == "default" && book.eq_ignore_ascii_case("default")))
        .ok_or_else(|| anyhow!("{user} has no address book {book}"))?;
    let data = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let name = file.file_name().and_then(|n| n.to_str());
    let format = contacts::detect_format(name, &data)
        .ok_or_else(|| anyhow!("{}: neither a vCard nor a CSV file", file.display()))?;
    let parsed = contacts::parse(format, &data);
    let total = parsed.contacts.len();
    if total == 0 && !parsed.errors.is_empty() {
        for e in &parsed.errors {
            eprintln!("{}:{}: {}", file.display(), e.line, e.message);
        }
        bail!("{}: nothing to import", file.display());
    }
    let records: Vec<NewContact> = parsed.contacts.into_iter().map(NewContact::from).collect();

    let mut bar = Progress::new(total);
    let summary = store
        .import_contacts(account, book, records, |done| bar.show(done))
        .await?;
    bar.finish();

    for e in parsed.errors.iter().chain(parsed.skipped.iter()) {
        eprintln!("{}:{}: {}", file.display(), e.line, e.message);
    }
    println!(
        "imported {} contacts into {user}'s address book {book} from {} ({}); skipped {} ({} already there, {} without an email); {} errors",
        summary.imported,
        file.display(),
        match format {
            ContactFormat::VCard => "vCard",
            ContactFormat::Csv => "CSV",
        },
        summary.duplicates as usize + parsed.skipped.len(),
        summary.duplicates,
        parsed.skipped.len(),
        parsed.errors.len(),
    );
    Ok(ExitCode::SUCCESS)
}

/// A progress bar on stderr, only when stderr is a terminal.
struct Progress {
    total: usize,
    on: bool,
}

impl Progress {
    fn new(total: usize) -> Self {
        Progress {
            total,
            on: std::io::stderr().is_terminal() && total > 0,
        }
    }

    fn show(&mut self, done: usize) {
        if !self.on {
            return;
        }
        let width = 40;
        let filled = done * width / self.total.max(1);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r[{}{}] {done}/{}",
            "#".repeat(filled),
            " ".repeat(width - filled.min(width)),
            self.total
        );
        let _ = err.flush();
    }

    fn finish(&mut self) {
        if self.on {
            eprintln!();
        }
    }
}
