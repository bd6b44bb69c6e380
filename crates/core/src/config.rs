//! The configuration every daemon reads: TOML file, then `ZEST_<SECTION>_<KEY>`
//! environment overrides, then validation. CONTRACT.md documents the keys;
//! config/zest.toml is the commented example and a test keeps it equal to the defaults.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Error;

mod listen;
pub use listen::Listen;

/// Environment variables that start with `ZEST_` but are not config keys.
const RESERVED_ENV: &[&str] = &["ZEST_CONFIG", "ZEST_LOG"];
const ENV_PREFIX: &str = "ZEST_";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Used in greetings, Received:, Message-ID and DSNs, and in the generated certificate.
    pub hostname: String,
    pub data_dir: PathBuf,
    pub tls: TlsConfig,
    pub imap: ImapConfig,
    pub submission: SubmissionConfig,
    pub mda: MdaConfig,
    pub managesieve: ManageSieveConfig,
    pub admin: AdminConfig,
    pub auth: AuthConfig,
    pub limits: LimitsConfig,
    pub log: LogConfig,
    pub sieve: SieveConfig,
    pub dns: DnsConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            hostname: "localhost".into(),
            data_dir: PathBuf::from("./data"),
            tls: TlsConfig::default(),
            imap: ImapConfig::default(),
            submission: SubmissionConfig::default(),
            mda: MdaConfig::default(),
            managesieve: ManageSieveConfig::default(),
            admin: AdminConfig::default(),
            auth: AuthConfig::default(),
            limits: LimitsConfig::default(),
            log: LogConfig::default(),
            sieve: SieveConfig::default(),
            dns: DnsConfig::default(),
        }
    }
}

/// Where DNS questions go (SPF/DKIM/DMARC checks of inbound mail, the admin
/// dashboard's record check).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DnsConfig {
    /// Resolvers as `ip:port`; empty: the system's (/etc/resolv.conf).
    pub servers: Vec<std::net::SocketAddr>,
}

/// Empty paths mean "generate a self-signed certificate in data_dir".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImapConfig {
    /// Plain IMAP; STARTTLS upgrades it (RFC 9051 6.2.1).
    pub listen: Listen,
    /// Implicit TLS (RFC 8314 3.3).
    pub listen_tls: Listen,
}

impl Default for ImapConfig {
    fn default() -> Self {
        ImapConfig {
            listen: Listen::loopback(1143),
            listen_tls: Listen::loopback(1993),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SubmissionConfig {
    /// RFC 6409 submission with STARTTLS.
    pub listen: Listen,
    /// RFC 8314 implicit TLS submission.
    pub listen_tls: Listen,
    /// Smarthost `host:port`; empty means deliver by MX.
    pub relay_host: String,
    /// AUTH PLAIN at the smarthost (sent only under TLS, or to loopback);
    /// empty: no AUTH.
    pub relay_user: String,
    pub relay_password: crate::Secret<String>,
    /// Domain → `host:port`, overriding MX lookups for that domain.
    pub routes: BTreeMap<String, String>,
    /// How long the queue keeps retrying a message before it bounces.
    pub queue_lifetime_secs: u64,
    /// A message still undelivered after this long earns its sender a delay notice.
    pub delay_notify_secs: u64,
    /// Key type `zest domain add` generates for DKIM: "rsa" (2048 bits) or "ed25519".
    pub dkim_algorithm: String,
    /// imapd `host:port` that BURL fetches URLs from; empty: the first
    /// `imap.listen` address (an unspecified address meaning loopback).
    pub imap_address: String,
}

impl Default for SubmissionConfig {
    fn default() -> Self {
        SubmissionConfig {
            listen: Listen::loopback(1587),
            listen_tls: Listen::loopback(1465),
            relay_host: String::new(),
            relay_user: String::new(),
            relay_password: crate::Secret::default(),
            routes: BTreeMap::new(),
            queue_lifetime_secs: 5 * 24 * 3600,
            delay_notify_secs: 4 * 3600,
            dkim_algorithm: "rsa".into(),
            imap_address: String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MdaConfig {
    pub lmtp_listen: Listen,
    pub smtp_listen: Listen,
    /// Verify SPF, DKIM and DMARC of inbound SMTP mail and add
    /// Authentication-Results (RFC 8601); verifying never rejects by itself.
    pub verify_auth: bool,
    /// Refuse (550 5.7.1) inbound mail that fails DMARC with policy p=reject.
    pub reject_dmarc: bool,
}

impl Default for MdaConfig {
    fn default() -> Self {
        MdaConfig {
            lmtp_listen: Listen::loopback(2424),
            smtp_listen: Listen::loopback(2525),
            verify_auth: true,
            reject_dmarc: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ManageSieveConfig {
    pub listen: Listen,
}

impl Default for ManageSieveConfig {
    fn default() -> Self {
        ManageSieveConfig {
            listen: Listen::loopback(4190),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    pub listen: Listen,
    /// HTTPS with the `[tls]` certificate; off (empty) by default.
    pub listen_tls: Listen,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            listen: Listen::loopback(8080),
            listen_tls: Listen::new(Vec::new()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// PLAIN/LOGIN without TLS from 127.0.0.0/8 and ::1.
    pub allow_plaintext_on_loopback: bool,
    /// Failures within `failure_window_secs` before an IP or account is locked out.
    pub max_failures: u32,
    pub failure_window_secs: u64,
    /// First lockout; it doubles with each further failure up to `lockout_max_secs`.
    pub lockout_base_secs: u64,
    pub lockout_max_secs: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            allow_plaintext_on_loopback: true,
            max_failures: 5,
            failure_window_secs: 300,
            lockout_base_secs: 2,
            lockout_max_secs: 300,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    pub max_line_length: u64,
    pub max_literal_size: u64,
    pub max_message_size: u64,
    pub max_nesting: u64,
    pub max_connections_per_ip: u64,
    pub idle_timeout_secs: u64,
    pub tls_handshake_timeout_secs: u64,
    pub shutdown_grace_secs: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_line_length: 65536,
            max_literal_size: 50 * 1024 * 1024,
            max_message_size: 50 * 1024 * 1024,
            max_nesting: 64,
            max_connections_per_ip: 200,
            // RFC 9051 5.4: the autologout timer is at least 30 minutes.
            idle_timeout_secs: 1800,
            tls_handshake_timeout_secs: 30,
            shutdown_grace_secs: 10,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A tracing `EnvFilter` directive; `RUST_LOG` or `ZEST_LOG` override it.
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            filter: "info".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SieveConfig {
    /// Scripts per user (RFC 5804 QUOTA/MAXSCRIPTS).
    pub max_scripts: u64,
    /// Bytes per script (RFC 5804 QUOTA/MAXSIZE).
    pub max_script_size: u64,
    /// Redirects one message may cause (RFC 5228 4.2 asks implementations to limit them).
    pub max_redirects: u64,
    /// Addresses one `redirect :list` may expand to (RFC 6134 3: SHOULD limit
    /// recipients to avoid mailbombs).
    pub max_list_recipients: u64,
}

impl Default for SieveConfig {
    fn default() -> Self {
        SieveConfig {
            max_scripts: 20,
            max_script_size: 1024 * 1024,
            max_redirects: 5,
            max_list_recipients: 50,
        }
    }
}

/// A loaded configuration and the file it came from (`None`: built-in defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedConfig {
    pub config: Config,
    pub path: Option<PathBuf>,
}

impl Config {
    /// Loads the config the way every `zest` command does: the file is `explicit`,
    /// else `$ZEST_CONFIG`, else `./zest.toml` if present, else the built-in
    /// defaults; then `ZEST_<SECTION>_<KEY>` variables override single keys.
    pub fn load(explicit: Option<&Path>) -> Result<LoadedConfig, Error> {
        let mut env = Vec::new();
        for (name, value) in std::env::vars_os() {
            // Only our own variables matter; others may legitimately be non-UTF-8.
            let Some(name) = name.to_str().filter(|n| n.starts_with(ENV_PREFIX)) else {
                continue;
            };
            let value = value.into_string().map_err(|_| Error::InvalidConfig {
                origin: format!("environment variable {name}"),
                message: "value is not valid UTF-8".into(),
            })?;
            env.push((name.to_owned(), value));
        }
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        Config::load_from(explicit, env, &cwd)
    }

    /// [`Config::load`] with the environment and working directory passed in.
    pub fn load_from(
        explicit: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        cwd: &Path,
    ) -> Result<LoadedConfig, Error> {
        let env: BTreeMap<String, String> = env
            .into_iter()
            .filter(|(name, _)| name.starts_with(ENV_PREFIX))
            .collect();

        let from_env = env
            .get("ZEST_CONFIG")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from);
        let path = match (explicit, from_env) {
            (Some(p), _) => Some(p.to_path_buf()),
            (None, Some(p)) => Some(p),
            (None, None) => Some(cwd.join("zest.toml")).filter(|p| p.is_file()),
        };
        let path = path.map(|p| if p.is_relative() { cwd.join(p) } else { p });

        let (table, origin) = match &path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| Error::ConfigRead {
                    path: path.clone(),
                    source,
                })?;
                let origin = format!("config file {}", path.display());
                // Deserialize the text itself first: its errors carry line and column.
                toml::from_str::<Config>(&text).map_err(|e| Error::InvalidConfig {
                    origin: origin.clone(),
                    message: e.to_string(),
                })?;
                let table =
                    toml::from_str::<toml::Table>(&text).map_err(|e| Error::InvalidConfig {
                        origin: origin.clone(),
                        message: e.to_string(),
                    })?;
                (table, origin)
            }
            None => (toml::Table::new(), "built-in defaults".to_owned()),
        };

        let (config, set_by_env) = apply_env(table, &env)?;
        if let Err((key, reason)) = config.validate() {
            let origin = match set_by_env.get(&key) {
                Some(var) => format!("environment variable {var}"),
                None => origin,
            };
            return Err(Error::InvalidConfig {
                origin,
                message: format!("{key}: {reason}"),
            });
        }
        Ok(LoadedConfig { config, path })
    }

    /// The SQLite database file.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("zest.db")
    }

    /// Checks what serde cannot: ranges and formats. Returns the dotted key at fault.
    fn validate(&self) -> Result<(), (String, String)> {
        fn fail(key: &str, reason: impl Into<String>) -> Result<(), (String, String)> {
            Err((key.to_owned(), reason.into()))
        }
        fn at_least(key: &str, value: u64, min: u64) -> Result<(), (String, String)> {
            if value < min {
                return fail(key, format!("must be at least {min}, not {value}"));
            }
            Ok(())
        }

        if let Err(reason) = check_hostname(&self.hostname) {
            return fail("hostname", reason);
        }
        if self.data_dir.as_os_str().is_empty() {
            return fail("data_dir", "must not be empty");
        }
        let (cert, key) = (&self.tls.cert_file, &self.tls.key_file);
        if cert.as_os_str().is_empty() != key.as_os_str().is_empty() {
            let key = if cert.as_os_str().is_empty() {
                "tls.cert_file"
            } else {
                "tls.key_file"
            };
            return fail(key, "set both tls.cert_file and tls.key_file, or neither");
        }
        if !self.submission.relay_host.is_empty()
            && let Err(reason) = check_host_port(&self.submission.relay_host)
        {
            return fail("submission.relay_host", reason);
        }
        for (domain, target) in &self.submission.routes {
            if let Err(reason) = check_hostname(domain) {
                return fail("submission.routes", format!("domain {domain:?}: {reason}"));
            }
            if let Err(reason) = check_host_port(target) {
                return fail("submission.routes", format!("route for {domain}: {reason}"));
            }
        }

        if !self.submission.imap_address.is_empty()
            && let Err(reason) = check_host_port(&self.submission.imap_address)
        {
            return fail("submission.imap_address", reason);
        }
        if !matches!(self.submission.dkim_algorithm.as_str(), "rsa" | "ed25519") {
            return fail(
                "submission.dkim_algorithm",
                "must be \"rsa\" or \"ed25519\"",
            );
        }
        at_least(
            "submission.queue_lifetime_secs",
            self.submission.queue_lifetime_secs,
            1,
        )?;

        let a = &self.auth;
        at_least("auth.max_failures", a.max_failures.into(), 1)?;
        at_least("auth.failure_window_secs", a.failure_window_secs, 1)?;
        at_least(
            "auth.lockout_max_secs",
            a.lockout_max_secs,
            a.lockout_base_secs,
        )?;

        let l = &self.limits;
        // RFC 5321 4.5.3.1.6: a text line of 1000 octets must always be accepted.
        at_least("limits.max_line_length", l.max_line_length, 1000)?;
        at_least("limits.max_literal_size", l.max_literal_size, 1)?;
        at_least("limits.max_message_size", l.max_message_size, 1)?;
        at_least("limits.max_nesting", l.max_nesting, 1)?;
        at_least("limits.max_connections_per_ip", l.max_connections_per_ip, 1)?;
        at_least("limits.idle_timeout_secs", l.idle_timeout_secs, 1)?;
        at_least(
            "limits.tls_handshake_timeout_secs",
            l.tls_handshake_timeout_secs,
            1,
        )?;

        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.filter) {
            return fail("log.filter", e.to_string());
        }

        at_least("sieve.max_script_size", self.sieve.max_script_size, 1)?;
        Ok(())
    }
}

/// Applies `ZEST_*` overrides onto the file's table, one variable at a time so that
/// a bad value is reported with the variable that carried it. Returns the config and
/// which dotted keys each variable set.
fn apply_env(
    mut table: toml::Table,
    env: &BTreeMap<String, String>,
) -> Result<(Config, BTreeMap<String, String>), Error> {
    let defaults = default_table();
    let mut set_by_env = BTreeMap::new();
    let mut config: Option<Config> = None;

    for (var, raw) in env {
        if RESERVED_ENV.contains(&var.as_str()) {
            continue;
        }
        let (section, key, default) =
            env_key(&defaults, var).ok_or_else(|| Error::UnknownEnvVar { name: var.clone() })?;
        let value = env_value(raw, default);
        let dotted = match section {
            Some(section) => {
                let slot = table
                    .entry(section.to_owned())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                let toml::Value::Table(section_table) = slot else {
                    return Err(Error::InvalidConfig {
                        origin: format!("environment variable {var}"),
                        message: format!("[{section}] in the config file is not a table"),
                    });
                };
                section_table.insert(key.to_owned(), value);
                format!("{section}.{key}")
            }
            None => {
                table.insert(key.to_owned(), value);
                key.to_owned()
            }
        };
        set_by_env.insert(dotted, var.clone());
        let parsed = table
            .clone()
            .try_into::<Config>()
            .map_err(|e| Error::InvalidConfig {
                origin: format!("environment variable {var}"),
                message: e.message().to_owned(),
            })?;
        config = Some(parsed);
    }

    let config = match config {
        Some(config) => config,
        None => table
            .try_into::<Config>()
            .map_err(|e| Error::InvalidConfig {
                origin: "config".into(),
                message: e.message().to_owned(),
            })?,
    };
    Ok((config, set_by_env))
}

/// Every key with its default value: what names a valid `ZEST_` variable and what
/// type its value is meant to have.
fn default_table() -> toml::Table {
    toml::Table::try_from(Config::default()).unwrap_or_default()
}

/// Maps `ZEST_IMAP_LISTEN` to (`Some("imap")`, `"listen"`, default value) and
/// `ZEST_DATA_DIR` to (`None`, `"data_dir"`, default). Section names hold no `_`,
/// so the first `_` after the prefix separates section from key.
fn env_key<'a>(
    defaults: &'a toml::Table,
    var: &str,
) -> Option<(Option<&'a str>, &'a str, &'a toml::Value)> {
    let name = var.strip_prefix(ENV_PREFIX)?.to_ascii_lowercase();
    if let Some((key, value)) = defaults.get_key_value(name.as_str())
        && !value.is_table()
    {
        return Some((None, key.as_str(), value));
    }
    let (section, key) = name.split_once('_')?;
    let (section_name, section_value) = defaults.get_key_value(section)?;
    let (key_name, value) = section_value.as_table()?.get_key_value(key)?;
    Some((Some(section_name.as_str()), key_name.as_str(), value))
}

/// An environment value is TOML when it parses as TOML (`true`, `25`, `["a", "b"]`,
/// `{ "x" = "y" }`), else a plain string. Where the key is a string, a bare scalar
/// such as `ZEST_HOSTNAME=2024` stays the string the user typed.
fn env_value(raw: &str, default: &toml::Value) -> toml::Value {
    match raw.parse::<toml::Value>() {
        Ok(v @ (toml::Value::String(_) | toml::Value::Array(_) | toml::Value::Table(_))) => v,
        Ok(v) if !default.is_str() => v,
        _ => toml::Value::String(raw.to_owned()),
    }
}

/// A DNS name such as `mail.example.org` (letters, digits, `-`, dots); what we put in
/// greetings and certificates must be one (RFC 5321 4.1.2 Domain).
fn check_hostname(name: &str) -> Result<(), String> {
    let labels_ok = !name.is_empty()
        && name.len() <= 253
        && name.trim_end_matches('.').split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if labels_ok {
        Ok(())
    } else {
        Err(format!("{name:?} is not a valid host name"))
    }
}

/// `host:port` where host is a DNS name, an IPv4 address or a bracketed IPv6 address.
fn check_host_port(s: &str) -> Result<(), String> {
    let bad = || format!("{s:?} is not host:port");
    let (host, port) = s.rsplit_once(':').ok_or_else(bad)?;
    port.parse::<u16>().map_err(|_| bad())?;
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6
            .parse::<std::net::Ipv6Addr>()
            .map(|_| ())
            .map_err(|_| bad());
    }
    check_hostname(host).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::net::{Ipv6Addr, SocketAddr};

    const EXAMPLE: &str = include_str!("../../../config/zest.toml");

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn load_text(text: &str, vars: &[(&str, &str)]) -> Result<LoadedConfig, Error> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("zest.toml"), text).unwrap();
        Config::load_from(None, env(vars), dir.path())
    }

    fn message(err: Error) -> (String, String) {
        match err {
            Error::InvalidConfig { origin, message } => (origin, message),
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }

    /// Every dotted key (`imap.listen`), treating `submission.routes` as one key.
    fn dotted_keys(table: &toml::Table) -> BTreeSet<String> {
        let mut keys = BTreeSet::new();
        for (k, v) in table {
            match v.as_table() {
                Some(section) => keys.extend(section.keys().map(|sk| format!("{k}.{sk}"))),
                None => {
                    keys.insert(k.clone());
                }
            }
        }
        keys
    }

    #[test]
    fn example_file_equals_the_defaults_and_lists_every_key() {
        let parsed: Config = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(parsed, Config::default());
        let example: toml::Table = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(dotted_keys(&example), dotted_keys(&default_table()));
        assert_eq!(Config::default().validate(), Ok(()));
    }

    #[test]
    fn no_file_means_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let loaded = Config::load_from(None, env(&[]), dir.path()).unwrap();
        assert_eq!(loaded.path, None);
        assert_eq!(loaded.config, Config::default());
        assert_eq!(loaded.config.db_path(), PathBuf::from("./data/zest.db"));
    }

    #[test]
    fn file_is_explicit_then_env_then_cwd() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, host: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, format!("hostname = \"{host}\"\n")).unwrap();
            p
        };
        let cwd_file = write("zest.toml", "cwd.example");
        let env_file = write("env.toml", "env.example");
        let explicit = write("explicit.toml", "explicit.example");
        let zest_config = [("ZEST_CONFIG", env_file.to_str().unwrap())];

        let l = Config::load_from(Some(&explicit), env(&zest_config), dir.path()).unwrap();
        assert_eq!(
            (l.config.hostname.as_str(), l.path),
            ("explicit.example", Some(explicit))
        );
        let l = Config::load_from(None, env(&zest_config), dir.path()).unwrap();
        assert_eq!(
            (l.config.hostname.as_str(), l.path),
            ("env.example", Some(env_file))
        );
        let l = Config::load_from(None, env(&[]), dir.path()).unwrap();
        assert_eq!(
            (l.config.hostname.as_str(), l.path),
            ("cwd.example", Some(cwd_file))
        );
        // A relative name is taken from the working directory.
        let l = Config::load_from(Some(Path::new("explicit.toml")), env(&[]), dir.path()).unwrap();
        assert_eq!(l.config.hostname, "explicit.example");
    }

    #[test]
    fn a_named_file_that_is_missing_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.toml");
        match Config::load_from(Some(&missing), env(&[]), dir.path()) {
            Err(Error::ConfigRead { path, .. }) => assert_eq!(path, missing),
            other => panic!("unexpected {other:?}"),
        }
        let vars = [("ZEST_CONFIG", missing.to_str().unwrap())];
        assert!(matches!(
            Config::load_from(None, env(&vars), dir.path()),
            Err(Error::ConfigRead { .. })
        ));
    }

    #[test]
    fn full_file_is_read() {
        let text = r#"
            hostname = "mail.example.org"
            data_dir = "/var/lib/zest"
            [tls]
            cert_file = "/etc/zest/cert.pem"
            key_file = "/etc/zest/key.pem"
            [imap]
            listen = ["0.0.0.0:143", "[::]:143"]
            listen_tls = []
            [submission]
            relay_host = "smtp.example.net:587"
            routes = { "example.net" = "127.0.0.1:2526", "v6.example" = "[::1]:25" }
            [auth]
            allow_plaintext_on_loopback = false
            max_failures = 3
            [limits]
            idle_timeout_secs = 60
            [log]
            filter = "info,imapd=debug"
        "#;
        let c = load_text(text, &[]).unwrap().config;
        assert_eq!(c.hostname, "mail.example.org");
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/zest"));
        assert_eq!(c.db_path(), PathBuf::from("/var/lib/zest/zest.db"));
        assert_eq!(c.tls.key_file, PathBuf::from("/etc/zest/key.pem"));
        assert_eq!(
            c.imap.listen.addrs(),
            &[
                SocketAddr::from(([0, 0, 0, 0], 143)),
                SocketAddr::from((Ipv6Addr::UNSPECIFIED, 143))
            ]
        );
        assert!(c.imap.listen_tls.is_off());
        assert_eq!(c.submission.relay_host, "smtp.example.net:587");
        assert_eq!(
            c.submission.routes,
            BTreeMap::from([
                ("example.net".to_string(), "127.0.0.1:2526".to_string()),
                ("v6.example".to_string(), "[::1]:25".to_string()),
            ])
        );
        assert!(!c.auth.allow_plaintext_on_loopback);
        assert_eq!(c.auth.max_failures, 3);
        assert_eq!(c.auth.failure_window_secs, 300);
        assert_eq!(c.limits.idle_timeout_secs, 60);
        assert_eq!(c.limits.max_line_length, 65536);
        assert_eq!(c.mda, MdaConfig::default());
    }

    #[test]
    fn bad_listen_in_file_names_file_and_value() {
        let (origin, msg) = message(
            load_text("[imap]\nlisten = [\"127.0.0.1:143\", \"nowhere\"]\n", &[]).unwrap_err(),
        );
        assert!(
            origin.starts_with("config file ") && origin.ends_with("zest.toml"),
            "{origin}"
        );
        assert!(msg.contains("invalid listen address \"nowhere\""), "{msg}");
        assert!(msg.contains("line 2"), "{msg}");
        let (_, msg) = message(load_text("[imap]\nlisten = 143\n", &[]).unwrap_err());
        assert!(
            msg.contains("a \"host:port\" string or a list of them"),
            "{msg}"
        );
    }

    #[test]
    fn unknown_keys_in_the_file_are_named() {
        let (origin, msg) =
            message(load_text("[imap]\nlisen = \"127.0.0.1:143\"\n", &[]).unwrap_err());
        assert!(origin.ends_with("zest.toml"), "{origin}");
        assert!(msg.contains("unknown field `lisen`"), "{msg}");
        let (_, msg) = message(load_text("hostnam = \"x\"\n", &[]).unwrap_err());
        assert!(msg.contains("unknown field `hostnam`"), "{msg}");
        let (_, msg) = message(load_text("[imapd]\n", &[]).unwrap_err());
        assert!(msg.contains("unknown field `imapd`"), "{msg}");
        let (_, msg) = message(load_text("this is not toml", &[]).unwrap_err());
        assert!(msg.contains("line 1"), "{msg}");
        let (_, msg) = message(load_text("[auth]\nmax_failures = \"five\"\n", &[]).unwrap_err());
        assert!(
            msg.contains("max_failures") || msg.contains("line 2"),
            "{msg}"
        );
    }

    #[test]
    fn env_overrides_file() {
        let vars = [
            ("ZEST_IMAP_LISTEN", "0.0.0.0:143"),
            ("ZEST_IMAP_LISTEN_TLS", "[\"127.0.0.1:993\", \"[::1]:993\"]"),
            ("ZEST_SUBMISSION_LISTEN", "[]"),
            ("ZEST_MDA_SMTP_LISTEN", ""),
            ("ZEST_AUTH_ALLOW_PLAINTEXT_ON_LOOPBACK", "false"),
            ("ZEST_AUTH_MAX_FAILURES", "9"),
            (
                "ZEST_SUBMISSION_ROUTES",
                "{ \"example.net\" = \"127.0.0.1:2526\" }",
            ),
            ("ZEST_HOSTNAME", "mail.example.org"),
            ("ZEST_DATA_DIR", "/srv/zest"),
            ("ZEST_LOG_FILTER", "debug"),
            ("ZEST_LOG", "trace"),
            ("ZEST_CONFIG", ""),
        ];
        let loaded = load_text(
            "hostname = \"file.example\"\n[auth]\nmax_failures = 2\n",
            &vars,
        )
        .unwrap();
        let c = loaded.config;
        assert!(loaded.path.is_some());
        assert_eq!(c.hostname, "mail.example.org");
        assert_eq!(c.data_dir, PathBuf::from("/srv/zest"));
        assert_eq!(
            c.imap.listen.addrs(),
            &[SocketAddr::from(([0, 0, 0, 0], 143))]
        );
        assert_eq!(c.imap.listen_tls.addrs().len(), 2);
        assert!(c.submission.listen.is_off());
        assert!(c.mda.smtp_listen.is_off());
        assert!(!c.auth.allow_plaintext_on_loopback);
        assert_eq!(c.auth.max_failures, 9);
        assert_eq!(
            c.submission.routes.get("example.net").map(String::as_str),
            Some("127.0.0.1:2526")
        );
        assert_eq!(c.log.filter, "debug");
    }

    #[test]
    fn env_string_keys_keep_what_was_typed() {
        let dir = tempfile::tempdir().unwrap();
        let vars = env(&[
            ("ZEST_HOSTNAME", "2024"),
            ("ZEST_DATA_DIR", "true"),
            ("ZEST_TLS_CERT_FILE", "\"/a b.pem\""),
            ("ZEST_TLS_KEY_FILE", "/k.pem"),
        ]);
        let c = Config::load_from(None, vars, dir.path()).unwrap().config;
        assert_eq!(c.hostname, "2024");
        assert_eq!(c.data_dir, PathBuf::from("true"));
        assert_eq!(c.tls.cert_file, PathBuf::from("/a b.pem"));
        assert_eq!(c.tls.key_file, PathBuf::from("/k.pem"));
    }

    #[test]
    fn unknown_env_variables_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "ZEST_IMAP_LISEN",
            "ZEST_IMAPD_LISTEN",
            "ZEST_FOO",
            "ZEST_",
            "ZEST_TLS",
            "ZEST_IMAP",
        ] {
            match Config::load_from(None, env(&[(name, "x")]), dir.path()) {
                Err(Error::UnknownEnvVar { name: n }) => assert_eq!(n, name),
                other => panic!("{name}: unexpected {other:?}"),
            }
        }
        // Other variables are none of our business.
        let other = env(&[("HOME", "/root"), ("RUST_LOG", "debug"), ("ZEST_LOG", "x")]);
        assert!(Config::load_from(None, other, dir.path()).is_ok());
    }

    #[test]
    fn bad_env_values_name_the_variable() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("ZEST_IMAP_LISTEN", "0.0.0.0"),
            ("ZEST_IMAP_LISTEN", "[\"0.0.0.0:1\", 5]"),
            ("ZEST_AUTH_MAX_FAILURES", "lots"),
            ("ZEST_AUTH_MAX_FAILURES", "-1"),
            ("ZEST_AUTH_ALLOW_PLAINTEXT_ON_LOOPBACK", "yes"),
            ("ZEST_SUBMISSION_ROUTES", "example.net=1.2.3.4:25"),
            (
                "ZEST_SUBMISSION_ROUTES",
                "{ \"example.net\" = \"nowhere\" }",
            ),
            ("ZEST_AUTH_MAX_FAILURES", "0"),
            ("ZEST_LIMITS_MAX_LINE_LENGTH", "999"),
            ("ZEST_HOSTNAME", "not a host"),
            ("ZEST_LOG_FILTER", "=[bad"),
        ];
        for (var, value) in cases {
            let (origin, msg) =
                message(Config::load_from(None, env(&[(var, value)]), dir.path()).unwrap_err());
            assert_eq!(
                origin,
                format!("environment variable {var}"),
                "{var}={value}: {msg}"
            );
        }
    }

    #[test]
    fn validation_names_the_key_and_file() {
        let cases = [
            (
                "[auth]\nmax_failures = 0\n",
                "auth.max_failures: must be at least 1, not 0",
            ),
            (
                "[auth]\nlockout_base_secs = 10\nlockout_max_secs = 5\n",
                "auth.lockout_max_secs: must be at least 10, not 5",
            ),
            (
                "[tls]\ncert_file = \"/c.pem\"\n",
                "tls.key_file: set both tls.cert_file and tls.key_file, or neither",
            ),
            (
                "hostname = \"\"\n",
                "hostname: \"\" is not a valid host name",
            ),
            (
                "hostname = \"-bad.example\"\n",
                "hostname: \"-bad.example\" is not a valid host name",
            ),
            (
                "[submission]\nrelay_host = \"smtp.example.net\"\n",
                "submission.relay_host: \"smtp.example.net\" is not host:port",
            ),
            (
                "[submission]\nimap_address = \"imapd\"\n",
                "submission.imap_address: \"imapd\" is not host:port",
            ),
            (
                "[submission]\nroutes = { \"a b\" = \"h:1\" }\n",
                "submission.routes: domain \"a b\": \"a b\" is not a valid host name",
            ),
            (
                "[limits]\nidle_timeout_secs = 0\n",
                "limits.idle_timeout_secs: must be at least 1, not 0",
            ),
        ];
        for (text, expected) in cases {
            let (origin, msg) = message(load_text(text, &[]).unwrap_err());
            assert!(origin.ends_with("zest.toml"), "{origin}");
            assert_eq!(msg, expected);
        }
    }

    #[test]
    fn host_port_checks() {
        for good in ["a.example:25", "127.0.0.1:2526", "[::1]:25", "localhost:1"] {
            assert_eq!(check_host_port(good), Ok(()), "{good}");
        }
        for bad in [
            "a.example",
            "a.example:x",
            "[::1:25",
            "[zz]:25",
            ":25",
            "a_b:25",
        ] {
            assert!(check_host_port(bad).is_err(), "{bad}");
        }
    }
}
