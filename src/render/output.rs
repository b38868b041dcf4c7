//! Writing rendered files, or checking that what is on disk matches them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{MANIFEST, RenderedFile};

/// How a file on disk differs from what rendering produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    Missing(PathBuf),
    Stale {
        path: PathBuf,
        diff: String,
    },
    /// Listed in the previous manifest, no longer rendered.
    Orphan(PathBuf),
}

impl Drift {
    pub fn path(&self) -> &Path {
        match self {
            Drift::Missing(p) | Drift::Orphan(p) => p,
            Drift::Stale { path, .. } => path,
        }
    }
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Drift::Missing(p) => write!(f, "missing: {}", p.display()),
            Drift::Stale { path, .. } => write!(f, "stale:   {}", path.display()),
            Drift::Orphan(p) => write!(f, "orphan:  {} (no longer rendered)", p.display()),
        }
    }
}

/// What a write changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WriteReport {
    pub written: Vec<PathBuf>,
    pub unchanged: usize,
    pub removed: Vec<PathBuf>,
}

/// Files listed in the manifest currently on disk (empty when there is none).
fn previous_manifest(dir: &Path) -> BTreeSet<PathBuf> {
    std::fs::read_to_string(dir.join(MANIFEST))
        .map(|text| {
            text.lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                // Never follow a manifest entry out of the output folder.
                .filter(|l| !l.contains("..") && !l.starts_with('/'))
                .map(PathBuf::from)
                .collect()
        })
        .unwrap_or_default()
}

/// Compares rendered files with `dir`; returns every difference.
pub fn check(dir: &Path, files: &[RenderedFile]) -> Vec<Drift> {
    let mut drift = Vec::new();
    for f in files {
        let path = dir.join(&f.path);
        match std::fs::read_to_string(&path) {
            Ok(on_disk) if on_disk == f.contents => {}
            Ok(on_disk) => drift.push(Drift::Stale {
                path,
                diff: diff(&on_disk, &f.contents),
            }),
            Err(_) => drift.push(Drift::Missing(path)),
        }
    }
    let rendered: BTreeSet<&Path> = files.iter().map(|f| f.path.as_path()).collect();
    for old in previous_manifest(dir) {
        if !rendered.contains(old.as_path()) && dir.join(&old).exists() {
            drift.push(Drift::Orphan(dir.join(old)));
        }
    }
    drift
}

/// Writes files that differ, then removes files the previous render produced
/// and this one does not (only those listed in the old manifest).
pub fn write(dir: &Path, files: &[RenderedFile]) -> Result<WriteReport, WriteError> {
    let old = previous_manifest(dir);
    let mut report = WriteReport::default();
    for f in files {
        let path = dir.join(&f.path);
        if std::fs::read_to_string(&path).is_ok_and(|c| c == f.contents) {
            report.unchanged += 1;
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| with_path(e, parent))?;
        }
        write_atomic(&path, &f.contents)?;
        report.written.push(path);
    }
    let rendered: BTreeSet<&Path> = files.iter().map(|f| f.path.as_path()).collect();
    for stale in old {
        if !rendered.contains(stale.as_path()) {
            let path = dir.join(&stale);
            if path.is_file() {
                std::fs::remove_file(&path).map_err(|e| with_path(e, &path))?;
                report.removed.push(path);
            }
        }
    }
    Ok(report)
}

/// A file or folder could not be written: the path and the OS error. Commands
/// map it to exit code 1 (the input was fine, the write was not).
#[derive(Debug, thiserror::Error)]
#[error("cannot write `{}`: {error}", path.display())]
pub struct WriteError {
    pub path: std::path::PathBuf,
    pub error: std::io::Error,
}

pub(crate) fn with_path(error: std::io::Error, path: &Path) -> WriteError {
    WriteError {
        path: path.to_owned(),
        error,
    }
}

/// Writes `text` to `path` atomically: a temporary file in the same folder (so
/// the rename never crosses file systems), the old file's permissions, then a
/// rename; the temporary file is removed on failure. An interrupted write never
/// leaves a half-written file. The one atomic write of the crate (`render`,
/// `adopt`, the spec edits of `onboard`).
pub fn write_atomic(path: &Path, text: &str) -> Result<(), WriteError> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "spec".to_owned());
    let tmp = dir
        .unwrap_or(Path::new("."))
        .join(format!(".{name}.xacct-tmp-{}", std::process::id()));
    let res = (|| {
        std::fs::write(&tmp, text)?;
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        std::fs::rename(&tmp, path)
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res.map_err(|e| with_path(e, path))
}

/// A unified diff, cut off after 100 lines.
pub fn diff(old: &str, new: &str) -> String {
    let text = similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header("on disk", "rendered")
        .to_string();
    let mut lines: Vec<&str> = text.lines().collect();
    if lines.len() > 100 {
        let more = lines.len() - 100;
        lines.truncate(100);
        return format!("{}\n... {more} more diff lines", lines.join("\n"));
    }
    lines.join("\n")
}
