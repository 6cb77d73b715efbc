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

    /// Log lines as text, or as JSON objects for log shippers.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// One cycle: fetch, render and publish, then exit.
    Build(BuildArgs),
    /// Fetch and validate only: print every problem, write nothing.
    Check,
    /// The server loop: a cycle every refresh_secs, at once on a local change
    /// or a push, plus the API (login, auth, health, metrics, refresh).
    Watch,
    /// Local preview without nginx: `watch` plus a static server for out_dir
    /// with the same rules as the nginx config, on 127.0.0.1:8080.
    Serve(ServeArgs),
    /// Print the nginx conf.d file for this config (or, with --main-values,
    /// what nginx.conf itself needs).
    Nginx(NginxArgs),
    /// Write a commented config (--config, never overwritten) from a Google
    /// Sheet, a folder of CSV files or a workbook: its tabs and header rows,
    /// the columns guessed; then check it and say what to do next.
    Init(InitArgs),
    /// Print one setting as gen resolved it (paths absolute, defaults
    /// filled in), for scripts such as deploy.sh: `gen config get api.listen`.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The theme built into gen: copy it out to start a theme of your own.
    #[command(subcommand)]
    Theme(ThemeCommand),
}

#[derive(Debug, Subcommand)]
pub enum ThemeCommand {
    /// Copy the built-in theme (templates, strings, assets) into DIR, never
    /// over an existing file. Edit the copies, delete those you leave as
    /// they are, and set `templates = "DIR"` under `[site]`: each file there
    /// replaces the built-in one of that name. Reads no config.
    Export {
        /// The folder to write into (created if missing).
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the value of KEY (one of `gen config keys`).
    Get {
        /// e.g. api.listen, site.out_dir, site.state_dir, site.templates
        /// (an empty line when unset: the built-in theme)
        key: String,
    },
    /// List the keys `gen config get` knows.
    Keys,
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// A Google Sheet's URL or id, a folder of CSV files (one per tab), or a
    /// workbook (.xlsx, .xls, .ods).
    #[arg(value_name = "SHEET_OR_PATH")]
    pub source: String,
    /// Google: a service-account JSON key file (the private way in). Without
    /// it: env GOOGLE_APPLICATION_CREDENTIALS, else an API key in env
    /// GEN_GOOGLE_API_KEY. No key is ever written into the config.
    #[arg(long, value_name = "KEY_FILE")]
    pub credentials: Option<PathBuf>,
    /// Google: the Sheets API's address (a proxy; tests).
    #[arg(long, value_name = "URL")]
    pub api_base: Option<String>,
    /// A theme folder of your own, written as `templates` in the config:
    /// its files replace the built-in theme's (`gen theme export DIR`
    /// starts one). Default: none, the theme built into gen.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// The site's title (else a placeholder marked TODO).
    #[arg(long)]
    pub title: Option<String>,
    /// The language of the site's strings (else guessed from the column names).
    #[arg(long, value_parser = ["en", "fr"])]
    pub lang: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Publish even if more than half of the player pages would be removed.
    #[arg(long)]
    pub allow_mass_removal: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address of the preview (site and API on one port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
}

#[derive(Debug, clap::Args)]
pub struct NginxArgs {
    /// nginx `listen` parameters, e.g. `80`, `443 ssl`, `127.0.0.1:8080`.
    #[arg(long, default_value = "80")]
    pub listen: String,
    /// nginx `server_name`.
    #[arg(long, default_value = "_")]
    pub server_name: String,
    /// Where nginx keeps its cache of auth answers.
    #[arg(long, default_value = "/var/cache/nginx/sheetgen")]
    pub cache_dir: std::path::PathBuf,
    /// Login attempts per minute per client address, at nginx (0: no limit
    /// at nginx; gen's own failure limits stay).
    #[arg(long, default_value_t = 30)]
    pub login_rate: u32,
    /// Attempts one address may make at once beyond that rate (a club's
    /// wifi is one address).
    #[arg(long, default_value_t = 20)]
    pub login_burst: u32,
    /// A load balancer or CDN in front of this nginx: its address or CIDR
    /// range (repeat for several, e.g. the CDN's ranges and the balancer).
    /// From it, the client's address is read from X-Forwarded-For (the
    /// login limits count it) and its scheme from X-Forwarded-Proto.
    #[arg(long, value_name = "ADDRESS", value_parser = proxy_address)]
    pub behind: Vec<String>,
    /// Print only what nginx.conf itself needs for thousands of players, as
    /// `name=value` lines (multi_accept, worker_connections, nofile: the
    /// descriptors), and exit; reads no config. deploy.sh and bench/load.sh
    /// take them from here.
    #[arg(long)]
    pub main_values: bool,
}

/// `--behind`: an IP address, or a CIDR range such as `10.0.0.0/24`.
fn proxy_address(s: &str) -> Result<String, String> {
    let (addr, prefix) = match s.split_once('/') {
        Some((addr, prefix)) => (addr, Some(prefix)),
        None => (s, None),
    };
    let refused =
        || format!("\"{s}\" is not an IP address or a CIDR range (e.g. 10.0.0.5 or 10.0.0.0/24)");
    let ip: std::net::IpAddr = addr.parse().map_err(|_| refused())?;
    if let Some(prefix) = prefix {
        let max = if ip.is_ipv4() { 32 } else { 128 };
        match prefix.parse::<u8>() {
            Ok(bits) if bits <= max && prefix.bytes().all(|b| b.is_ascii_digit()) => {}
            _ => return Err(refused()),
        }
    }
    Ok(s.to_string())
}
