//! `gen serve`: the watch loop with the site and the API on one local
//! port, for trying a site without nginx; prints the demo's logins when
//! the roster is the embedded demo's own.

use crate::config::{self, Config};
use crate::error::Error;
use crate::{cli, model, preview, source, watch};

/// `gen serve`: the watch loop with the site and the API on one local port.
pub(crate) async fn serve(
    config_path: &std::path::Path,
    config: &Config,
    fetcher: source::Fetcher,
    args: cli::ServeArgs,
) -> Result<(), Error> {
    if args.listen.ends_with(":0") {
        // The port is chosen when gen listens: the log's "API listening on"
        // line says which.
        println!(
            "previewing {} on a free port: see \"API listening on\" below",
            config.site.title
        );
    } else {
        println!(
            "previewing {} on http://{}/",
            config.site.title, args.listen
        );
    }
    if let Some(name) = demo_login_hint(config) {
        println!("{name}");
    }
    println!("stop with Ctrl-C; for players, deploy behind nginx (gen nginx, deploy.sh)");
    let preview = preview::Preview::new(config.site.out_dir.clone());
    watch::run(
        config_path.to_path_buf(),
        config.clone(),
        fetcher,
        Some(args.listen),
        Some(preview),
    )
    .await
}

/// The embedded demo's players, as shipped in `examples/demo/`.
const DEMO_PLAYERS: &[u8] = include_bytes!("../../examples/demo/players.csv");

/// For the embedded demo only: one login to try. A real roster's PINs are
/// never printed.
fn demo_login_hint(config: &Config) -> Option<String> {
    let config::Source::CsvFiles { files, .. } = &config.source else {
        return None;
    };
    let players = files.get(&config.players.tab)?;
    // Only the demo's own fictional data, byte for byte: a real club that
    // edits the demo files in place, or keeps its roster at that path, must
    // never see its PINs printed (issue 23).
    let bytes = std::fs::read(players).ok()?;
    if bytes != DEMO_PLAYERS {
        return None;
    }
    let text = String::from_utf8(bytes).ok()?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().ok()?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (login, secret) = (col(&config.players.login)?, col(&config.players.secret)?);
    let admin = config.players.admin.as_deref().and_then(col);
    let rows: Vec<csv::StringRecord> = reader.records().filter_map(Result::ok).collect();
    let row = rows.first()?;
    let mut hint = format!(
        "demo login: name \"{}\", PIN {} (fictional player from examples/demo/)",
        row.get(login)?,
        row.get(secret)?
    );
    let organiser = admin.and_then(|a| {
        rows.iter().find(|r| {
            r.get(a)
                .is_some_and(|v| model::ADMIN_YES.contains(&v.trim().to_lowercase().as_str()))
        })
    });
    if let Some(r) = organiser {
        hint.push_str(&format!(
            "\norganiser's page /admin/: name \"{}\", PIN {}",
            r.get(login)?,
            r.get(secret)?
        ));
    }
    Some(hint)
}
