//! What the tests of the `zest` binary share.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// `zest --config CONFIG ARGS...` run in `dir`, without any `ZEST_*` or
/// `RUST_LOG` variable of the test's own environment leaking into it.
pub fn zest(config: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_zest"));
    c.arg("--config").arg(config).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("ZEST_") || k == "RUST_LOG" {
            c.env_remove(k);
        }
    }
    c.current_dir(dir);
    c
}
