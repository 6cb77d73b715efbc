//! `gen theme export DIR`: the theme built into `gen` copied into a folder,
//! to start a theme of one's own (as Gitea's `embedded extract`). It never
//! writes over a file: if any one of them exists, nothing is written.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::ThemeCommand;
use crate::error::{ConfigError, Error};
use crate::render;

pub(crate) fn theme(command: &ThemeCommand) -> Result<(), Error> {
    match command {
        ThemeCommand::Export { dir } => export(dir),
    }
}

/// A file `gen theme export` will not write over (exit 2).
fn exists(path: &Path) -> Error {
    Error::Config(ConfigError::Invalid {
        path: path.to_path_buf(),
        key: "gen theme export".into(),
        message: "will not overwrite this file: it already exists. Nothing was written; \
                  export into a new folder, or move the file away"
            .into(),
    })
}

fn export(dir: &Path) -> Result<(), Error> {
    let files: Vec<(PathBuf, &[u8])> = render::built_in_files()
        .into_iter()
        .map(|(path, bytes)| (dir.join(path), bytes))
        .collect();
    // All or nothing: every name is checked before the first is written.
    if let Some((taken, _)) = files.iter().find(|(p, _)| p.symlink_metadata().is_ok()) {
        return Err(exists(taken));
    }
    let failed = |path: &Path, e: std::io::Error| {
        Error::Runtime(format!("cannot write {}: {e}", path.display()))
    };
    for (path, bytes) in &files {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| failed(parent, e))?;
        }
        // `create_new`: a file that appeared meanwhile is still not replaced.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => exists(path),
                _ => failed(path, e),
            })?;
        file.write_all(bytes).map_err(|e| failed(path, e))?;
    }
    println!(
        "wrote the built-in theme into {}: {} files",
        dir.display(),
        files.len()
    );
    println!(
        "To use it, set `templates = {}` under [site] in site.toml. Each file in that folder \
         replaces the built-in one of the same name; delete the files you leave as they are, \
         and they stay up to date with gen.",
        toml::Value::String(dir.display().to_string())
    );
    Ok(())
}
