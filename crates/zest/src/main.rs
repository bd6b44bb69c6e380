//! `zest`: one binary for every daemon and every admin task (CONTRACT.md).

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
use commands::App;

/// sysexits.h EX_UNAVAILABLE: the service asked for is not part of this build.
pub const EXIT_UNAVAILABLE: u8 = 69;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let loaded = match zest_core::config::Config::load(cli.config.as_deref()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("zest: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Daemons log at the configured level; admin commands only say what failed.
    let daemon = matches!(
        cli.command,
        Command::Serve
            | Command::Imapd
            | Command::Submission
            | Command::Mda
            | Command::Managesieve
            | Command::Admin
    );
    let filter = if daemon {
        loaded.config.log.filter.as_str()
    } else {
        "warn"
    };
    if let Err(e) = zest_core::logging::init(filter) {
        eprintln!("zest: {e}");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("zest: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let app = App::new(loaded);
    match runtime.block_on(commands::run(&app, cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("zest: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, each said once.
fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let s = cause.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ").replace('\n', " ")
}
