//! Process-wide tracing set-up: one formatter to stderr with an `EnvFilter`.

use tracing_subscriber::EnvFilter;

use crate::Error;

/// Installs the global subscriber. `ZEST_LOG`, else `RUST_LOG`, overrides `filter`
/// (the config's `[log] filter`). A second call leaves the first subscriber in place
/// and succeeds, so tests and `serve` can both call it.
pub fn init(filter: &str) -> Result<(), Error> {
    let chosen = choose_filter(
        filter,
        std::env::var("ZEST_LOG").ok(),
        std::env::var("RUST_LOG").ok(),
    );
    let env_filter = parse_filter(&chosen)?;
    // Err here only means a subscriber is already installed.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(env_filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    Ok(())
}

/// The filter in force: a non-empty `ZEST_LOG` wins over a non-empty `RUST_LOG`,
/// which wins over the config.
fn choose_filter(config: &str, zest_log: Option<String>, rust_log: Option<String>) -> String {
    zest_log
        .filter(|s| !s.trim().is_empty())
        .or(rust_log.filter(|s| !s.trim().is_empty()))
        .unwrap_or_else(|| config.to_owned())
}

fn parse_filter(filter: &str) -> Result<EnvFilter, Error> {
    EnvFilter::try_new(filter).map_err(|e| Error::InvalidLogFilter {
        filter: filter.to_owned(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_config() {
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(choose_filter("info", None, None), "info");
        assert_eq!(choose_filter("info", None, s("debug")), "debug");
        assert_eq!(choose_filter("info", s("trace"), s("debug")), "trace");
        assert_eq!(choose_filter("info", s(""), s(" ")), "info");
    }

    #[test]
    fn bad_filter_is_an_error() {
        assert!(parse_filter("info,imapd=debug").is_ok());
        assert!(matches!(
            parse_filter("=[bad"),
            Err(Error::InvalidLogFilter { .. })
        ));
    }

    #[test]
    fn init_twice_is_fine() {
        // "off" keeps the other tests' output quiet; the second call changes nothing.
        init("off").unwrap();
        init("debug").unwrap();
        tracing::info!("not shown");
    }
}
