//! `zest user` and `zest alias`: accounts, passwords, roles, quotas, aliases.

use std::io::BufRead;

use anyhow::{Context, Result, anyhow, bail};
use store::EmailAddress;

use super::App;
use crate::cli::{AliasCmd, OnOff, PasswordArgs, UserCmd};

pub async fn run(app: &App, cmd: UserCmd) -> Result<()> {
    match cmd {
        UserCmd::Add {
            address,
            password,
            admin,
        } => {
            let address = EmailAddress::parse(&address)?;
            let pw = read_password(&password)?;
            let store = app.store().await?;
            store.create_account(&address, &pw, admin).await?;
            println!(
                "added user {address}{}",
                if admin { " (admin)" } else { "" }
            );
        }
        UserCmd::Admin { address, state } => {
            let address = EmailAddress::parse(&address)?;
            app.store()
                .await?
                .set_admin(&address, state == OnOff::On)
                .await?;
            println!(
                "{address}: admin {}",
                if state == OnOff::On { "on" } else { "off" }
            );
        }
        UserCmd::Del { address } => {
            let address = EmailAddress::parse(&address)?;
            app.store().await?.delete_account(&address).await?;
            println!("deleted user {address}");
        }
        UserCmd::Passwd { address, password } => {
            let address = EmailAddress::parse(&address)?;
            let pw = read_password(&password)?;
            app.store().await?.set_password(&address, &pw).await?;
            println!("password of {address} changed");
        }
        UserCmd::List { domain } => {
            for a in app.store().await?.list_accounts(domain.as_deref()).await? {
                let quota = a
                    .quota_bytes
                    .map(|q| format!("{}/{}", size(a.used_bytes), size(q)));
                println!(
                    "{}\t{}\t{} messages\t{}",
                    a.address,
                    if a.is_admin { "admin" } else { "user" },
                    a.used_messages,
                    quota.unwrap_or_else(|| format!("{} used", size(a.used_bytes))),
                );
            }
        }
        UserCmd::Quota { address, size: s } => {
            let address = EmailAddress::parse(&address)?;
            let bytes = parse_size(&s)?;
            app.store().await?.set_quota(&address, bytes, None).await?;
            match bytes {
                Some(b) => println!("quota of {address}: {}", size(b)),
                None => println!("quota of {address}: none"),
            }
        }
    }
    Ok(())
}

pub async fn alias(app: &App, cmd: AliasCmd) -> Result<()> {
    let store = app.store().await?;
    match cmd {
        AliasCmd::Add { alias, target } => {
            let (alias, target) = (EmailAddress::parse(&alias)?, EmailAddress::parse(&target)?);
            store.create_alias(&alias, &target).await?;
            println!("added alias {alias} -> {target}");
        }
        AliasCmd::Del { alias } => {
            let alias = EmailAddress::parse(&alias)?;
            store.delete_alias(&alias).await?;
            println!("deleted alias {alias}");
        }
        AliasCmd::List { domain } => {
            for a in store.list_aliases(domain.as_deref(), None).await? {
                println!("{}\t{}", a.address, a.target);
            }
        }
    }
    Ok(())
}

fn read_password(args: &PasswordArgs) -> Result<String> {
    let pw = match (&args.password, args.password_stdin) {
        (Some(pw), _) => pw.clone(),
        (None, true) => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from stdin")?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
        (None, false) => bail!("give --password-stdin or --password"),
    };
    if pw.is_empty() {
        bail!("the password is empty");
    }
    Ok(pw)
}

/// "none", a number of bytes, or a number with K, M, G or T (powers of 1024).
fn parse_size(s: &str) -> Result<Option<u64>> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, ""),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| anyhow!("invalid size {s:?}: use e.g. 500M, 2G or none"))?;
    let mult: u64 = match unit.to_ascii_uppercase().trim_end_matches(['B', 'I']) {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => bail!("invalid size {s:?}: use e.g. 500M, 2G or none"),
    };
    n.checked_mul(mult)
        .map(Some)
        .ok_or_else(|| anyhow!("size {s:?} is too large"))
}

fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("none").unwrap(), None);
        assert_eq!(parse_size("1048576").unwrap(), Some(1 << 20));
        assert_eq!(parse_size("2G").unwrap(), Some(2 << 30));
        assert_eq!(parse_size("500MiB").unwrap(), Some(500 << 20));
        assert_eq!(parse_size("10k").unwrap(), Some(10 << 10));
        for bad in ["", "G", "1.5G", "-1", "5X", "99999999999T"] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
        assert_eq!(size(512), "512 B");
        assert_eq!(size(1536), "1.5 KiB");
    }
}
