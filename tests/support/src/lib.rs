//! The harness of sheetgen's tests and benches, one module per job. Its own
//! crate (a dev-dependency of the root one), so that `tests/integration`,
//! `tests/load.rs` and `bench/` link it like any library: each uses the
//! parts it needs, and what one of them leaves unused is no dead code.
//!
//! - [`site`]: temp sites and their configs, runs of the real `gen` binary.
//! - [`tree`]: the files a build left, their bytes and stamps.
//! - [`tools`]: programs the tests need (fail, never skip) and log tails.
//! - [`http`]: an exact-bytes HTTP/1.1 client, gen's API requests.
//! - [`burst`]: herds of fresh connections, timed.
//! - [`process`]: a running `gen watch`/`gen serve`, its log, its address.
//! - [`nginx`]: the real nginx with `gen nginx`'s file in front of gen.
//! - [`fake_google`]: the Sheets API and OAuth endpoint on 127.0.0.1:0.
//! - [`images`]: photos made in the test and a server for them.
//! - [`browser`]: headless Chromium over WebDriver on a phone viewport.
//! - [`demo`]: the demo site behind nginx or `gen serve`, for the browser.
//!
//! A failed `unwrap` here is a failed test with its location: the harness
//! panics rather than returning errors.

pub mod browser;
pub mod burst;
pub mod demo;
pub mod docs;
pub mod fake_google;
pub mod http;
pub mod images;
pub mod nginx;
pub mod process;
pub mod site;
pub mod tools;
pub mod tree;
