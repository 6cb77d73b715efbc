//! The command line: `gen [--config PATH] <command>`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "gen",
    version,
    about = "A club's Google Sheet becomes a fast, private static website"
)]
pub struct Cli {
    /// The site's configuration file.
    #[arg(long, global = true, default_value = "site.toml", value_name = "PATH")]
    pub config: PathBuf,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// One cycle: fetch, render and publish, then exit.
    Build(BuildArgs),
    /// Fetch and validate only: print every problem, write nothing.
    Check,
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Publish even if more than half of the player pages would be removed.
    #[arg(long)]
    pub allow_mass_removal: bool,
}
