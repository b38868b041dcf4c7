//! xacct's integration tests, one binary with one module per concern.

mod accounts; // xacct accounts against moto Organizations
mod adopt; // xacct adopt against a legacy setup in moto, terraform import of it
mod audit; // the offline audit: document mutations, the committed tree, explain
mod audit_decide; // the decided audit: mutation and rewrite tables, counterexamples, known misses
mod audit_edges; // issue 24: empty values, always-present keys, ARN shapes, the governed bucket; the brute-force cross-check
mod audit_floor; // issue 18: the settings table and its coverage, weakenings and widenings caught everywhere
mod audit_plan; // audit of real `terraform show -json` plans
mod audit_shipped; // audit --env reads the committed files; audit --template; attributes
mod capacity; // xacct capacity: arithmetic, live counts, drift, --reconcile
mod checkov; // checkov over generated/ (issue 15): 0 failed checks
mod ci_recipe; // the README CI recipe runs commands the CLI accepts
mod cli; // exit codes and messages of the binary
mod diff; // issue 21: xacct diff, the access a change grants or removes
mod generated_static; // terraform fmt/init/validate and cfn-lint of generated/
mod json_output; // issue 14: the JSON envelope of every command against its schema; explain input checks
mod offboard; // xacct offboard against moto
mod onboard; // xacct onboard: spec edits, --apply, --create
mod org; // issue 20: SCPs and RCPs (guardrail library, snapshot, audit, verify, onboard), the zone of trust
mod package; // the Lambda zip
mod release; // issue 23: release profile, SDK features, dist plan and workflow, binstall, Dockerfile
mod render; // snapshots of every rendered file; generated/ is current; write/check behaviour
mod sarif; // SARIF for code scanning: official schema, GitHub's requirements, places, fingerprints
mod security; // issue 15: nothing public, no escalation (offline evaluator)
mod setup_errors; // profile, credentials and endpoint problems: exit 2 with the fix
mod stackset; // xacct stackset: commands and --apply against moto
mod support; // moto (xacct-testkit), terraform, a deployed dev setup, the Lambda proxy
mod terraform_moto; // terraform apply of the generated roots against moto
mod tidy; // the map checks itself: imports follow ARCHITECTURE.md, no cycles, only cmd prints
mod validate; // every invalid-spec rule names its field
mod verify; // xacct verify against moto

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
