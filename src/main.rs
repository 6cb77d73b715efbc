//! `gen`: parse the command line, run it, map the outcome to an exit code
//! (0 ok, 1 runtime failure, 2 bad usage or config). Nothing else but the
//! one process setting below.

use std::process::ExitCode;

use clap::Parser;
use sheetgen::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Watch | Command::Serve(_)) {
        one_malloc_arena();
    }
    sheetgen::init_logging(cli.log_format);
    match sheetgen::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// glibc gives each thread that allocates a memory arena of its own and
/// keeps what was freed in it: an idle `gen watch` with 1,000 players sat at
/// 40 MB instead of 23 MB (issue 4 asks for under 30 MB). A long-running
/// process that is idle between cycles needs one arena; the variable is read
/// before `main`, so the process re-executes itself once with it set (same
/// PID, so systemd and signals are unaffected). Set `MALLOC_ARENA_MAX`
/// yourself to choose otherwise.
fn one_malloc_arena() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    // `exec` returns only if it failed: then carry on as we are.
    let _ = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env("MALLOC_ARENA_MAX", "1")
        .exec();
}
