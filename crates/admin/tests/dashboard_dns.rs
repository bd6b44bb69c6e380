//! The dashboard's DNS section: the records each domain publishes (the DKIM
//! one from its key) next to what DNS answers now, asked of the resolver in
//! `[dns] servers`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{ADMIN, Browser, start};

/// Text from HTML as minijinja escapes it.
fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The rows of the DNS table for `domain`: (name, type, status, found values).
fn rows(page: &str, domain: &str) -> Vec<(String, String, String, Vec<String>)> {
    let start = page
        .find(&format!("<h3>{domain}</h3>"))
        .unwrap_or_else(|| panic!("no section for {domain}:\n{page}"));
    let table = &page[start..];
    let table = &table[..table.find("</table>").unwrap()];
    let cell = |s: &str, open: &str| -> Option<String> {
        let i = s.find(open)? + open.len();
        Some(s[i..i + s[i..].find('<')?].to_string())
    };
    table
        .split("<tr data-check=\"")
        .skip(1)
        .map(|row| {
            let status = row[..row.find('"').unwrap()].to_string();
            let name = cell(row, "<td><code>").unwrap();
            let kind = cell(row, "</code></td><td>").unwrap();
            let found = row
                .split("<code class=\"wrap found\">")
                .skip(1)
                .map(|f| unescape(&f[..f.find('<').unwrap()]))
                .collect();
            (name, kind, status, found)
        })
        .collect()
}

#[tokio::test]
async fn published_records_are_checked_against_what_dns_says() {
    let s = start().await;
    let key = zest_core::dkim::generate("ed25519", "zest").unwrap();
    s.store
        .set_dkim_key("example.org", Some(key.clone()))
        .await
        .unwrap();
    let dkim_value = zest_core::dkim::txt_value(&key).unwrap();
    // MX right (any preference), SPF wrong, DKIM right, DMARC missing.
    s.zone.mx("example.org", 20, "localhost");
    s.zone.txt("example.org", "v=spf1 a -all");
    s.zone.txt("example.org", "some-site-verification=abc");
    s.zone.txt("zest._domainkey.example.org", &dkim_value);

    let mut b = Browser::login(&s, ADMIN).await;
    let page = b.get("/").await.body;
    let found = rows(&page, "example.org");
    let summary: Vec<(&str, &str, &str)> = found
        .iter()
        .map(|(n, k, st, _)| (n.as_str(), k.as_str(), st.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("example.org.", "MX", "ok"),
            ("example.org.", "TXT", "differs"),
            ("zest._domainkey.example.org.", "TXT", "ok"),
            ("_dmarc.example.org.", "TXT", "missing"),
        ],
        "{page}"
    );
    // What DNS holds is shown next to what should be there.
    assert_eq!(found[0].3, ["20 localhost."]);
    assert_eq!(found[1].3, ["v=spf1 a -all"], "only the SPF record");
    assert_eq!(found[2].3, std::slice::from_ref(&dkim_value));
    assert!(found[3].3.is_empty());
    // The DKIM value to publish is on the page, in 255-byte strings.
    assert!(
        unescape(&page).contains(&zest_core::dkim::quoted_strings(&dkim_value)),
        "{page}"
    );
    assert!(!page.contains("No DKIM key yet"));

    // Fixed at the DNS provider: the next view says so.
    s.zone.txt(
        "_dmarc.example.org",
        "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.org",
    );
    let page = b.get("/").await.body;
    assert_eq!(rows(&page, "example.org")[3].2, "ok", "{page}");
}

#[tokio::test]
async fn a_domain_without_a_key_or_any_record_published() {
    let s = start().await;
    s.store.create_domain("example.net").await.unwrap();
    let mut b = Browser::login(&s, ADMIN).await;
    let page = b.get("/").await.body;
    let rows = rows(&page, "example.net");
    assert_eq!(rows.len(), 3, "MX, SPF, DMARC");
    assert!(rows.iter().all(|r| r.2 == "missing"), "{rows:?}");
    assert!(page.contains("No DKIM key yet for example.net"));
}
