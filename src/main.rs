//! `gen`: parse the command line, run it, map the outcome to an exit code
//! (0 ok, 1 runtime failure, 2 bad usage or config). Nothing else but the
//! allocator below.

use std::process::ExitCode;

use clap::Parser;
use sheetgen::cli::Cli;

/// mimalloc hands freed memory back to the system within moments, so an
/// idle `gen watch` holds what it serves, not what its last cycle rendered
/// (issue 15). glibc's malloc kept a cycle's freed memory, and one arena per
/// thread more: an idle watch of 10,000 players sat near 100 MB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    sheetgen::init_logging(cli.log_format);
    match sheetgen::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !e.is_reported() {
                // In the site's language (the config's, `gen init --lang`'s, or LANG's).
                eprintln!("{}", sheetgen::i18n::errors::line(&e));
            }
            ExitCode::from(e.exit_code())
        }
    }
}
