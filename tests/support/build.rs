//! Hands the repository's root to the harness as `SHEETGEN_REPO`: the
//! root crate's own `CARGO_MANIFEST_DIR`, two folders up from this crate's
//! (`tests/support`), so that paths the tests build and compare (the theme,
//! the demo, the fixtures) read exactly as before.

use std::path::PathBuf;

fn main() {
    let here = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let repo = here
        .parent()
        .and_then(|tests| tests.parent())
        .expect("tests/support sits two folders below the repository's root");
    println!("cargo::rustc-env=SHEETGEN_REPO={}", repo.display());
    println!("cargo::rerun-if-changed=build.rs");
}
