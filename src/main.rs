//! `gen`: parse the command line, run it, map the outcome to an exit code
//! (0 ok, 1 runtime failure, 2 bad usage or config). Nothing else.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = sheetgen::cli::Cli::parse();
    sheetgen::init_logging(cli.log_format);
    match sheetgen::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
