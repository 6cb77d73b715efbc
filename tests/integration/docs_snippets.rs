//! The config examples of docs/ are valid configs (issue 24): each page's
//! `site.toml` reference is read from the page and parsed by gen's own
//! parser, with its commented-out alternatives left as comments. The
//! HAProxy config of docs/scaling-out.md is run by `scale_out.rs`.

use std::path::Path;

use sheetgen::config::{Config, Env, Source};
use sheetgen_test_support::docs::block;

/// The example of `page`, parsed as `/srv/club/site.toml` would be.
#[track_caller]
fn example(page: &str, after: &str) -> Config {
    let text = block(page, after);
    assert!(
        text.contains("[site]") && text.contains("[players]"),
        "{text}"
    );
    Config::parse(&text, Path::new("/srv/club/site.toml"), &Env::default())
        .unwrap_or_else(|e| panic!("docs/{page}'s site.toml example is refused: {e}\n{text}"))
}

#[test]
fn the_organisers_config_examples_parse_in_both_languages() {
    for (page, after) in [
        ("organiser.md", "## The config: `site.toml`"),
        ("organisateur.md", "## La configuration : `site.toml`"),
    ] {
        let config = example(page, after);
        assert_eq!(config.site.title, "FC Example", "{page}");
        assert!(
            matches!(config.source, Source::Google { .. }),
            "{page}: the example reads a Google Sheet"
        );
        assert_eq!(
            (config.players.id.as_str(), config.players.secret.as_str()),
            ("id", "pin"),
            "{page}"
        );
        assert_eq!(config.tables.len(), 1, "{page}");
        assert_eq!(config.site.out_dir, Path::new("/srv/club/public"), "{page}");
    }
}
