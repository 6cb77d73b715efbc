//! One file per command (zola's `src/cmd/`): each prints what its user
//! reads and returns the error that sets the exit code. The stages they
//! call are in the crate's other modules.

mod build;
mod check;
mod config;
mod nginx;
mod serve;
mod theme;

pub(crate) use build::build;
pub(crate) use check::check;
pub(crate) use config::config;
pub(crate) use nginx::nginx;
pub(crate) use serve::serve;
pub(crate) use theme::theme;
