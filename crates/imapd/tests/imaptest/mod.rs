//! Replays imaptest's scripted compliance tests against a running server.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod matcher;
pub mod runner;
pub mod script;
