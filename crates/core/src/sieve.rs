//! How Zest compiles and runs Sieve scripts: the one configuration shared by the
//! MDA (running), ManageSieve (PUTSCRIPT, CHECKSCRIPT) and the admin UI (editing).

mod extlist;
mod scan;

use std::fmt;

use ::sieve::compiler::ErrorType;
use ::sieve::compiler::grammar::Capability;

use crate::config::SieveConfig;

pub use extlist::{ADDRBOOK_URN_PREFIX, EXTLISTS_SCHEMES, ExtListName, ListNameError};

/// The Sieve extensions Zest accepts in `require` and allows at run time: the
/// Lemonade set (RFC 5550 2.6 and its references) as far as sieve-rs implements
/// it, plus extlists (RFC 6134) and the MIME part tests and actions (RFC 5703). `comparator-i;unicode-casemap` folds case
/// with the patched sieve-rs in vendor/sieve-rs (PATCHES.md).
const EXTENSIONS: &[&str] = &[
    "fileinto",
    "reject",
    "ereject",
    "envelope",
    "body",
    "copy",
    "include",
    "imap4flags",
    "relational",
    "vacation",
    "vacation-seconds",
    "variables",
    "enotify",
    "subaddress",
    "date",
    "index",
    "editheader",
    "duplicate",
    "encoded-character",
    "mailbox",
    "mailboxid",
    "special-use",
    "extlists",
    // RFC 5703: MIME parts (RFC 6134 2.9.5 scans attachments with them).
    "foreverypart",
    "mime",
    "replace",
    "enclose",
    "extracttext",
    "regex",
    "comparator-i;octet",
    "comparator-i;ascii-casemap",
    "comparator-i;ascii-numeric",
    "comparator-i;unicode-casemap",
];

/// Exactly the extensions scripts may require, in the order ManageSieve's
/// SIEVE capability lists them.
pub fn extensions() -> Vec<&'static str> {
    EXTENSIONS.to_vec()
}

/// Notification methods `notify` accepts (RFC 5435; ManageSieve's NOTIFY).
pub const NOTIFY_METHODS: &[&str] = &["mailto"];

/// Limits on scripts, from `[sieve]` in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SieveSettings {
    /// Scripts per user (RFC 5804 QUOTA/MAXSCRIPTS).
    pub max_scripts: usize,
    /// Octets per script (RFC 5804 QUOTA/MAXSIZE); larger scripts do not compile.
    pub max_script_size: usize,
    /// Redirects one message may cause (ManageSieve MAXREDIRECTS).
    pub max_redirects: usize,
    /// Addresses one `redirect :list` may expand to (RFC 6134 3).
    pub max_list_recipients: usize,
}

fn to_usize(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

impl From<&SieveConfig> for SieveSettings {
    fn from(c: &SieveConfig) -> Self {
        SieveSettings {
            max_scripts: to_usize(c.max_scripts),
            max_script_size: to_usize(c.max_script_size),
            max_redirects: to_usize(c.max_redirects),
            max_list_recipients: to_usize(c.max_list_recipients),
        }
    }
}

impl Default for SieveSettings {
    fn default() -> Self {
        SieveSettings::from(&SieveConfig::default())
    }
}

/// The compiler every part of Zest uses. Prefer [`compile`], which adds Zest's
/// own checks (required extensions, external list names).
pub fn compiler(settings: &SieveSettings) -> ::sieve::Compiler {
    ::sieve::Compiler::new()
        .with_max_script_size(settings.max_script_size)
        // A vacation text or a long list of addresses may be most of a script.
        .with_max_string_size(settings.max_script_size)
}

/// The runtime the MDA runs scripts with: only [`extensions`] are allowed and
/// redirects are limited. The MDA sets its host name and per-user lists on it.
pub fn runtime(settings: &SieveSettings) -> ::sieve::Runtime {
    let mut runtime = ::sieve::Runtime::new()
        .without_capabilities(Capability::all().iter().cloned())
        .with_max_redirects(settings.max_redirects);
    for ext in EXTENSIONS {
        runtime.set_capability(*ext);
    }
    for method in NOTIFY_METHODS {
        runtime.set_valid_notification_uri(*method);
    }
    runtime
}

/// A script that compiled.
#[derive(Debug, Clone)]
pub struct CompiledScript {
    pub sieve: ::sieve::Sieve,
    /// Non-fatal findings, for ManageSieve's `OK (WARNINGS)`.
    pub warnings: Vec<ScriptWarning>,
    /// External lists the script names literally (names built from variables
    /// are only known at run time).
    pub lists: Vec<ExtListName>,
}

/// Why a script does not compile: a 1-based line and column (octets) and a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ScriptError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.message)
        } else {
            write!(
                f,
                "line {}, column {}: {}",
                self.line, self.column, self.message
            )
        }
    }
}

/// Something a script's author should know that does not stop it compiling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptWarning {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ScriptWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// Compiles a script the way the MDA will run it. Errors carry the line.
pub fn compile(settings: &SieveSettings, script: &[u8]) -> Result<CompiledScript, ScriptError> {
    if script.len() > settings.max_script_size {
        return Err(ScriptError {
            line: 0,
            column: 0,
            message: format!(
                "the script is {} octets; at most {} are allowed",
                script.len(),
                settings.max_script_size
            ),
        });
    }
    let findings = scan::check(script, EXTENSIONS, settings.max_list_recipients);
    // The compiler is third-party code reading untrusted input: a panic in it
    // (a debug assertion, say) must end as a refusal, not take the caller down.
    let compiled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        compiler(settings).compile(script)
    }));
    let Ok(compiled) = compiled else {
        return Err(ScriptError {
            line: 0,
            column: 0,
            message: "the Sieve compiler failed on this script".to_string(),
        });
    };
    let sieve = match compiled {
        Ok(sieve) => sieve,
        Err(e) => {
            let e = from_compile_error(script, e);
            // Zest's own finding wins when it comes first: it says more than
            // sieve-rs's "Invalid Arguments" for a :list rule.
            return Err(match findings {
                Err(mine) if mine.line > 0 && (mine.line, mine.column) <= (e.line, e.column) => {
                    mine
                }
                _ => e,
            });
        }
    };
    let findings = findings?;
    Ok(CompiledScript {
        sieve,
        warnings: findings.warnings,
        lists: findings.lists,
    })
}

fn from_compile_error(script: &[u8], e: ::sieve::compiler::CompileError) -> ScriptError {
    let mut line = e.line_num();
    // sieve-rs counts columns from 0 on the first line and from 1 after it.
    let mut column = match line {
        0 => 0,
        1 => e.line_pos() + 1,
        _ => e.line_pos(),
    };
    if line == 0
        && let ErrorType::UnexpectedToken { found, .. } = e.error_type()
        && let Some(pos) = scan::locate_identifier(script, found)
    {
        // sieve-rs reports no position for an unknown command.
        line = pos.line;
        column = pos.column;
    }
    let full = e.to_string();
    // Its Display ends with " at line L, column C."; we report those ourselves.
    let message = match full.rfind(" at line ") {
        Some(at) => full[..at].to_string(),
        None => full,
    };
    ScriptError {
        line,
        column,
        message,
    }
}

#[cfg(test)]
mod tests;
