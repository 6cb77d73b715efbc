//! The default theme (`site-templates/`) is built into `gen`
//! (`src/render/theme.rs`, `include_dir!`). Cargo tracks the files that
//! macro reads, but not a file added to the folder: this makes any change
//! under it, a new file included, rebuild the crate.

fn main() {
    println!("cargo::rerun-if-changed=site-templates");
    println!("cargo::rerun-if-changed=build.rs");
}
