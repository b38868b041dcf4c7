//! xacct's integration tests, one binary with one module per concern.

mod cli; // exit codes and messages of the binary
mod render; // snapshots of every rendered file; generated/ is current; write/check behaviour
mod validate; // every invalid-spec rule names its field

use std::path::{Path, PathBuf};

/// The repository root (tests run with the package root as cwd, but do not rely on it).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn input(name: &str) -> PathBuf {
    repo().join("tests/inputs").join(name)
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}
