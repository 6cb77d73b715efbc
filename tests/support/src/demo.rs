//! The demo site (`examples/demo`, the repository's `site.toml`) as the
//! browser tests use it: its players and theme strings, its config made to
//! run in a temp folder, and [`Stack`]: the demo served by real nginx in
//! front of `gen watch`, or by `gen serve` alone.

use crate::nginx::{Nginx, NginxSetup};
use crate::process::Gen;
use crate::site::{DEMO, REPO, Site, TEMPLATES, demo_logins, run_gen};
use crate::tools::tail;

// ---------------------------------------------------------------- the data

pub struct Player {
    pub name: String,
    pub pin: String,
    pub slug: String,
    pub opponent: String,
}

/// The first demo player who has matches, with one opponent of theirs.
pub fn demo_player() -> Player {
    let mut matches = csv::Reader::from_path(format!("{DEMO}/matches.csv")).unwrap();
    let mh = matches.headers().unwrap().clone();
    let mcol = |n: &str| mh.iter().position(|h| h == n).unwrap();
    let (key, opp) = (mcol("player_id"), mcol("opponent"));
    let games: Vec<(String, String)> = matches
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[key].to_string(), r[opp].to_string())
        })
        .collect();
    for (id, name, pin) in demo_logins() {
        if let Some((_, opponent)) = games.iter().find(|(k, o)| *k == id && !o.is_empty()) {
            return Player {
                name,
                pin,
                // Demo ids are lowercase ASCII already: the slug is the id.
                slug: id.to_ascii_lowercase(),
                opponent: opponent.clone(),
            };
        }
    }
    panic!("no demo player has matches");
}

/// The theme's UI string `key` for `lang` (`strings/<lang>.toml`; a
/// dotted key reads a table: `"admin.title"`).
pub fn ui_string(lang: &str, key: &str) -> String {
    let path = format!("{TEMPLATES}/strings/{lang}.toml");
    let table: toml::Table = std::fs::read_to_string(&path)
        .unwrap()
        .parse()
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut value = toml::Value::Table(table);
    for part in key.split('.') {
        value = value
            .get(part)
            .cloned()
            .unwrap_or_else(|| panic!("{path}: no string {key}"));
    }
    value
        .as_str()
        .unwrap_or_else(|| panic!("{path}: {key} is not a string"))
        .to_string()
}

/// The demo's `site.toml`, made to run in `dir`: the repo's theme, the demo
/// CSVs copied there, the API on a free loopback port, `lang` if given,
/// then changed by `tweak` (the whole config as a table).
pub fn demo_config(
    lang: Option<&str>,
    api_listen: &str,
    tweak: &dyn Fn(&mut toml::Table),
) -> (String, String) {
    let path = format!("{REPO}/site.toml");
    let mut config: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
    let table = |config: &mut toml::Table, k: &str| -> toml::Table {
        config
            .get(k)
            .and_then(|v| v.as_table())
            .cloned()
            .unwrap_or_else(|| panic!("{path}: no [{k}]"))
    };
    let mut site = table(&mut config, "site");
    if let Some(lang) = lang {
        site.insert("lang".into(), lang.into());
    }
    site.insert("templates".into(), TEMPLATES.into());
    site.insert("out_dir".into(), "public".into());
    site.insert("state_dir".into(), ".sheetgen".into());
    let lang = site["lang"].as_str().unwrap().to_string();
    config.insert("site".into(), site.into());
    let mut source = table(&mut config, "source");
    source.insert(
        "files".into(),
        toml::Table::from_iter([
            ("Players".to_string(), "players.csv".into()),
            ("Matches".to_string(), "matches.csv".into()),
        ])
        .into(),
    );
    config.insert("source".into(), source.into());
    let mut api = table(&mut config, "api");
    api.insert("listen".into(), api_listen.into());
    config.insert("api".into(), api.into());
    tweak(&mut config);
    (toml::to_string(&config).unwrap(), lang)
}

// ---------------------------------------------------------------- gen + nginx

/// What serves the site to the browser in a [`Stack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Front {
    /// `gen watch` behind the real nginx with the file `gen nginx` prints.
    Nginx,
    /// `gen serve` alone: it serves the files and the API on one port.
    Serve,
}

/// `gen watch` on a copy of the demo with nginx in front of it, or `gen
/// serve` alone ([`Front`]). Stopped on drop; their logs printed if the
/// test is failing.
pub struct Stack {
    pub lang: String,
    // Dropped in this order: nginx, gen, the site folder.
    pub nginx: Option<Nginx>,
    pub gen_: Gen,
    pub site: Site,
}

impl Front {
    /// A word for file names (screenshots).
    pub fn name(self) -> &'static str {
        match self {
            Front::Nginx => "nginx",
            Front::Serve => "serve",
        }
    }
}

impl Stack {
    /// The demo behind nginx, in `lang` (the demo's own when `None`).
    pub fn start(lang: Option<&str>) -> Stack {
        Stack::start_with(lang, Front::Nginx, &|_| {})
    }

    /// The demo with its config changed by `tweak`, served by `front`.
    pub fn start_with(lang: Option<&str>, front: Front, tweak: &dyn Fn(&mut toml::Table)) -> Stack {
        let site = Site::for_nginx();
        site.copy_demo_roster();
        let (config, lang) = demo_config(lang, "127.0.0.1:0", tweak);
        site.write_config(&config);

        // gen on a free port, read from its log.
        // `gen serve` listens on --listen (8080 by default), not api.listen.
        let command: &[&str] = match front {
            Front::Nginx => &["watch"],
            Front::Serve => &["serve", "--listen", "127.0.0.1:0"],
        };
        let gen_ = Gen::start(&site.config_path(), site.root(), command);
        assert!(
            gen_.addr.starts_with("127.0.0.1:") && !gen_.addr.ends_with(":0"),
            "gen's API address: {:?}",
            gen_.addr
        );
        gen_.wait_first_cycle();
        if front == Front::Serve {
            return Stack {
                lang,
                nginx: None,
                gen_,
                site,
            };
        }

        // The nginx site, for the port gen actually got: `gen nginx` reads
        // api.listen from the config, so give it one with that port.
        let nginx_toml = site.root().join("nginx-site.toml");
        std::fs::write(&nginx_toml, demo_config(Some(&lang), &gen_.addr, tweak).0).unwrap();
        let gen_nginx = |args: &[&str]| {
            let run = run_gen(&nginx_toml, site.root(), args, &[]);
            run.expect_ok();
            run.stdout
        };
        let nginx = Nginx::start(
            &gen_nginx,
            NginxSetup {
                workers: 1,
                access_log: true,
            },
        );
        Stack {
            lang,
            nginx: Some(nginx),
            gen_,
            site,
        }
    }

    /// The port the browser talks to (on 127.0.0.1): nginx's, or `gen
    /// serve`'s.
    pub fn port(&self) -> &str {
        let addr = self.nginx.as_ref().map_or(&self.gen_.addr, |n| &n.addr);
        addr.strip_prefix("127.0.0.1:").unwrap()
    }

    /// `http://localhost:<port>` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://localhost:{}{path}", self.port())
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- gen log\n{}", self.gen_.log());
            if let Some(nginx) = &self.nginx {
                eprintln!(
                    "--- nginx error.log\n{}\n--- nginx access.log\n{}",
                    tail(&nginx.error_log(), 40),
                    tail(&nginx.access_log(), 40),
                );
            }
        }
    }
}
