//! `gen config get KEY` (issue 24 item 7): the values deploy.sh asks for,
//! as gen resolves them — defaults filled in, paths absolute — and an
//! unknown key refused with exit 2 and the nearest key.

use sheetgen_test_support::site::{CSV_SOURCE, Site, site_config};

#[test]
fn config_get_prints_resolved_values_and_refuses_unknown_keys() {
    let site = Site::new();
    site.write_config(&site_config("FC Get", None, CSV_SOURCE, ""));
    let run = site.run(&["config", "get", "api.listen"]);
    run.expect_code(0);
    assert_eq!(run.stdout, "127.0.0.1:8787\n");
    let run = site.run(&["config", "get", "site.out_dir"]);
    run.expect_code(0);
    let out_dir = std::path::absolute(site.root().join("public")).unwrap();
    assert_eq!(run.stdout.trim_end(), out_dir.display().to_string());
    let run = site.run(&["config", "keys"]);
    run.expect_code(0);
    assert!(
        run.stdout.lines().any(|l| l == "site.templates"),
        "{}",
        run.stdout
    );

    let run = site.run(&["config", "get", "api.lisen"]);
    run.expect_code(2);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr.contains(
            "`api.lisen` is not a key `gen config get` knows (did you mean \"api.listen\"?)"
        ),
        "{}",
        run.stderr
    );
}
