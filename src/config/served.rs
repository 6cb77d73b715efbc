//! What `out_dir` must never hold: everything under it is served, so the
//! config, `state_dir`, the service-account key and the source files (they
//! hold the PINs) must be elsewhere, where the paths really lead.

use std::path::{Path, PathBuf};

use super::Source;

/// Where `path` really is: absolute, every symlink of its existing part
/// resolved (a `state_dir` that is a symlink into `out_dir` is inside it,
/// issue 14), then the part that does not exist yet (`out_dir` before the
/// first build) appended with `.` and `..` applied. A dangling symlink is
/// followed to where it points, since creating the folder would go there.
fn resolved(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut current = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    // Components that do not exist yet, last first.
    let mut missing: Vec<std::ffi::OsString> = Vec::new();
    // Like the kernel's limit on nested links (ELOOP).
    let mut links_left = 40;
    let existing = loop {
        if let Ok(real) = current.canonicalize() {
            break real;
        }
        if links_left > 0
            && let Ok(target) = std::fs::read_link(&current)
        {
            links_left -= 1;
            let parent = current.parent().map(Path::to_path_buf).unwrap_or_default();
            current = parent.join(target);
            continue;
        }
        match (current.file_name(), current.parent()) {
            (Some(name), Some(parent)) => {
                missing.push(name.to_os_string());
                current = parent.to_path_buf();
            }
            // `..` or the root itself: resolve the rest lexically.
            _ => break current,
        }
    };
    let mut out = existing;
    for name in missing.iter().rev() {
        for c in Path::new(name).components() {
            match c {
                Component::ParentDir => {
                    out.pop();
                }
                Component::CurDir => {}
                other => out.push(other),
            }
        }
    }
    out
}

/// `path`, and where it really is when that differs (a symlink), for
/// messages.
pub(super) fn shown(path: &Path, real: &Path) -> String {
    if std::path::absolute(path).is_ok_and(|p| p == real) {
        format!("\"{}\"", path.display())
    } else {
        format!("\"{}\" (really {})", path.display(), real.display())
    }
}

/// Everything under `out_dir` is served: it must not hold the config, the
/// private state, the service-account key or the source files (they hold
/// the PINs). Compared where the paths really lead, symlinks resolved.
pub(super) fn check_served_tree(
    out_dir: &Path,
    state_dir: &Path,
    config: &Path,
    source: &Source,
) -> Result<(), String> {
    let served = resolved(out_dir);
    let state = resolved(state_dir);
    if state.starts_with(&served) || served.starts_with(&state) {
        return Err(format!(
            "{} and state_dir {} overlap: the session key and the last snapshot (with PINs) would be served; point them at two separate folders, neither inside the other and not through a symlink",
            shown(out_dir, &served),
            shown(state_dir, &state)
        ));
    }
    let credentials = match source {
        Source::Google(g) => g.credentials.clone(),
        _ => None,
    };
    let private = std::iter::once(config.to_path_buf())
        .chain(source.local_files())
        .chain(credentials);
    for file in private {
        let real = resolved(&file);
        if real.starts_with(&served) {
            return Err(format!(
                "{} contains {}, which would then be served to anyone; publish to a folder of its own",
                shown(out_dir, &served),
                shown(&file, &real)
            ));
        }
    }
    Ok(())
}
