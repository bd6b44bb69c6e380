//! Server-rendered pages: the templates and static files of `web/`, embedded
//! at compile time so the binary is self-contained. Templates ending in
//! `.html` are auto-escaped: whatever a user typed renders as text.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, Value, context};
use serde::Serialize;

use crate::error::AppResult;
use crate::session::Viewer;

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../../web/templates/", $name)))),*]
    };
}

const TEMPLATES: &[(&str, &str)] = templates!(
    "base.html",
    "login.html",
    "dashboard.html",
    "domains.html",
    "users.html",
    "user.html",
    "user_delete.html",
    "aliases.html",
    "home.html",
    "books.html",
    "book.html",
    "contact.html",
    "contacts_table.html",
    "import_result.html",
    "lists.html",
    "list.html",
    "scripts.html",
    "script.html",
    "filter.html",
    "queue.html",
    "queue_entry.html",
    "tokens.html",
);

const STATIC: &[(&str, &str, &str)] = &[
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../../../web/static/style.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web/static/app.js"),
    ),
];

pub fn environment() -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    env.add_filter("bytes", human_bytes);
    env.add_filter("datetime", datetime);
    env.add_filter("seg", |s: String| seg(&s));
    Ok(env)
}

/// Renders `name` with the page's values plus who is looking and their CSRF token.
pub fn page(
    env: &Environment<'static>,
    viewer: &Viewer,
    name: &str,
    values: Value,
) -> AppResult<Html<String>> {
    let ctx = context! {
        me => context! {
            address => viewer.account.address.as_str(),
            is_admin => viewer.account.is_admin,
        },
        csrf => viewer.csrf.as_str(),
        notice => viewer.notice.as_deref(),
        ..values
    };
    Ok(Html(env.get_template(name)?.render(ctx)?))
}

/// A page for someone not logged in (the login form).
pub fn anonymous(env: &Environment<'static>, name: &str, values: Value) -> AppResult<Html<String>> {
    Ok(Html(env.get_template(name)?.render(values)?))
}

/// `/static/NAME`.
pub fn static_file(name: &str) -> Response {
    match STATIC.iter().find(|(n, _, _)| *n == name) {
        Some((_, mime, body)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=3600"),
                ),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// Percent-encodes `s` as one URL path segment (or query value): only
/// RFC 3986 unreserved characters and `@` stay as they are.
pub fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A redirect after a successful form, with a message the next page shows.
pub fn done(to: &str, notice: &str) -> axum::response::Response {
    let sep = if to.contains('?') { '&' } else { '?' };
    axum::response::Redirect::to(&format!("{to}{sep}notice={}", seg(notice))).into_response()
}

/// HTML-escapes text for the few pages built without a template.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Unix seconds as `YYYY-MM-DD HH:MM UTC`.
fn datetime(secs: i64) -> String {
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Values for templates from anything serialisable.
pub fn value<T: Serialize>(v: &T) -> Value {
    Value::from_serialize(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(datetime(0), "1970-01-01 00:00 UTC");
        assert_eq!(datetime(1_700_000_000), "2023-11-14 22:13 UTC");
        assert_eq!(datetime(951_782_400), "2000-02-29 00:00 UTC");
    }

    #[test]
    fn sizes() {
        assert_eq!(human_bytes(5), "5 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
    }

    #[test]
    fn every_template_parses() {
        environment().unwrap();
    }

    #[test]
    fn segments() {
        assert_eq!(seg("a b/c@d.e"), "a%20b%2Fc@d.e");
        assert_eq!(seg("ü"), "%C3%BC");
    }

    #[test]
    fn escaping() {
        assert_eq!(escape("<script>\"'&"), "&lt;script&gt;&quot;&#39;&amp;");
    }
}
