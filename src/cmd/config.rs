//! `gen config get KEY`: one setting as gen resolved it, for scripts
//! (deploy.sh asks here instead of reading `site.toml` itself, so defaults
//! and relative paths are gen's, never a copy of them).

use crate::cli::ConfigCommand;
use crate::config::Config;
use crate::error::{ConfigError, Error};
use crate::suggest;

/// The keys `gen config get` answers, in the order `gen config keys` lists
/// them.
const KEYS: [&str; 8] = [
    "api.listen",
    "site.lang",
    "site.out_dir",
    "site.refresh_secs",
    "site.state_dir",
    "site.templates",
    "site.title",
    "site.visibility",
];

fn value(config: &Config, key: &str) -> Option<String> {
    let path = |p: &std::path::Path| {
        std::path::absolute(p)
            .unwrap_or_else(|_| p.to_path_buf())
            .display()
            .to_string()
    };
    let site = &config.site;
    Some(match key {
        "api.listen" => config.api.listen.to_string(),
        "site.lang" => site.lang.code().to_string(),
        "site.out_dir" => path(&site.out_dir),
        "site.refresh_secs" => site.refresh.as_secs().to_string(),
        "site.state_dir" => path(&site.state_dir),
        // Unset (the built-in theme): an empty line, for scripts.
        "site.templates" => site.templates.as_deref().map_or(String::new(), path),
        "site.title" => site.title.clone(),
        "site.visibility" => site.visibility.word().to_string(),
        _ => return None,
    })
}

pub(crate) fn config(config: &Config, command: &ConfigCommand) -> Result<(), Error> {
    match command {
        ConfigCommand::Keys => {
            for key in KEYS {
                println!("{key}");
            }
            Ok(())
        }
        ConfigCommand::Get { key } => match value(config, key) {
            Some(v) => {
                println!("{v}");
                Ok(())
            }
            None => {
                let near = suggest::sentence(key, KEYS, "the key")
                    .map_or(String::new(), |s| format!(" ({s})"));
                Err(ConfigError::Invalid {
                    path: config.path.clone(),
                    key: key.clone(),
                    message: format!(
                        "is not a key `gen config get` knows{near}; `gen config keys` lists them"
                    ),
                }
                .into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_key_has_a_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.toml");
        let text =
            "[site]\ntitle = \"FC\"\n[source]\nkind = \"csv\"\npath = \"p.csv\"\n[players]\n";
        let config = Config::parse(text, &path, &crate::config::Env::default()).unwrap();
        for key in KEYS {
            assert!(value(&config, key).is_some(), "{key}");
        }
        assert_eq!(value(&config, "api.listen").unwrap(), "127.0.0.1:8787");
        assert_eq!(
            value(&config, "site.out_dir").unwrap(),
            dir.path().join("public").display().to_string()
        );
        assert_eq!(value(&config, "api.lisen"), None);
    }
}
