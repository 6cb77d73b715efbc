// A failed unwrap in a test is a failed test with its location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

//! Every integration test in one crate (as casey/just does): the library
//! and the harness are compiled and linked once, not once per file, and the
//! test threads share the whole suite instead of idling at the end of each
//! small crate. Only `tests/load.rs` stays apart (it must run alone).
//!
//! The harness is the crate `sheetgen_test_support` (`tests/support/`), one
//! module per job: `site`, `tree`, `tools`, `http`, `burst`, `process`,
//! `nginx`, `fake_google`, `images`, `browser`, `demo` (its `lib.rs` says
//! what each holds).
//!
//! No test here may change the process's environment or working folder:
//! they all run in one process, in parallel. A test that needs a variable
//! sets it on the `gen` it starts (`site::run_gen`'s `env`).

mod api_front;
mod architecture;
mod browser;
mod browser_a11y;
mod browser_layout;
mod browser_players;
mod build;
mod check;
mod check_report;
mod config_errors;
mod config_get;
mod csv_quotes;
mod data_hardening;
mod debian;
mod deploy;
mod docs_snippets;
mod google;
mod guessing;
mod hostile_rosters;
mod https_deploy;
mod init;
mod login;
mod login_answers;
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
mod standalone;
mod visibility;
mod watch;
mod watch_google;
mod xlsx;
