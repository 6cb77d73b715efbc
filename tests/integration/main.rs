// A failed unwrap in a test is a failed test with its location.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// The harness modules are shared by the test modules: `pub` is their norm
// (unreachable_pub is for src/).
#![allow(unreachable_pub)]

//! Every integration test in one crate (as casey/just does): the library
//! and the harness are compiled and linked once, not once per file, and the
//! test threads share the whole suite instead of idling at the end of each
//! small crate. Only `tests/load.rs` stays apart (it must run alone).
//!
//! The harness, each part used by the test modules below it:
//! - [`common`]: temp sites, the real `gen` binary (`CARGO_BIN_EXE_gen`),
//!   file-tree helpers, tools that fail (never skip) when missing.
//! - [`http_support`]: an exact-bytes HTTP client, a running `gen watch`
//!   ([`http_support::Gen`]), the real nginx in front of it.
//! - [`fake_google`]: the Sheets API and OAuth endpoint on 127.0.0.1:0,
//!   answering with the recorded bodies in `tests/fixtures/sheets`.
//! - [`photo_support`]: images made in the test and a server for them.
//! - [`browser_support`]: headless Chromium over WebDriver, the demo behind
//!   real nginx or `gen serve`.
//!
//! No test here may change the process's environment or working folder:
//! they all run in one process, in parallel. A test that needs a variable
//! sets it on the `gen` it starts ([`common::run_gen`]'s `env`).

mod browser_support;
mod common;
mod fake_google;
mod http_support;
mod photo_support;

mod api_front;
mod architecture;
mod browser;
mod browser_players;
mod build;
mod check;
mod check_report;
mod config_errors;
mod csv_quotes;
mod data_gate_cost;
mod data_hardening;
mod deploy;
mod google;
mod hostile_rosters;
mod init;
mod login;
mod nginx;
mod organiser_page;
mod organiser_pins;
mod organiser_rows;
mod organiser_words;
mod photos;
mod pin_forms;
mod pipeline;
mod player_hints;
mod player_page;
mod scale_out;
mod sec_redaction;
mod sec_symlinks;
mod visibility;
mod watch;
mod watch_google;
mod xlsx;
