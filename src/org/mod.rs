//! The organization around the setup (issue 20): the snapshot of an AWS
//! Organization (root, OUs, the path of every environment account, every SCP
//! and RCP with its targets and content) and the guardrail evaluation over it.
//!
//! Pure: no AWS, no clock, no files. `org::live` reads a [`Snapshot`] live,
//! `cmd::org` writes and checks it, audit reads it from a file, verify reads
//! it live; [`guardrails`] judges the provisioning chain against it.

pub mod guardrails;
pub mod live;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Version of the snapshot format.
pub const SNAPSHOT_VERSION: u32 = 1;

/// The kind of an organization policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PolicyKind {
    /// A service control policy: caps what principals of member accounts may do.
    #[serde(rename = "SERVICE_CONTROL_POLICY")]
    Scp,
    /// A resource control policy: caps what may be done to resources of member accounts.
    #[serde(rename = "RESOURCE_CONTROL_POLICY")]
    Rcp,
}

impl PolicyKind {
    pub fn short(self) -> &'static str {
        match self {
            PolicyKind::Scp => "SCP",
            PolicyKind::Rcp => "RCP",
        }
    }

    /// The Organizations API name of the type.
    pub fn api(self) -> &'static str {
        match self {
            PolicyKind::Scp => "SERVICE_CONTROL_POLICY",
            PolicyKind::Rcp => "RESOURCE_CONTROL_POLICY",
        }
    }
}

/// An organization as read at one time: everything the guardrail evaluation needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// [`SNAPSHOT_VERSION`].
    pub version: u32,
    /// `o-...`.
    pub organization_id: String,
    pub management_account: String,
    /// When it was read (RFC 3339, seconds, UTC). The only field that differs
    /// between two reads of an unchanged organization; `--check` ignores it.
    pub read_at: String,
    /// `r-...`.
    pub root_id: String,
    /// Policy types enabled on the root (`SERVICE_CONTROL_POLICY`, `RESOURCE_CONTROL_POLICY`):
    /// a type not enabled applies to nobody.
    pub enabled_policy_types: Vec<PolicyKind>,
    /// Every account of the organization (the zone of trust), sorted by ID.
    pub accounts: Vec<Account>,
    /// The OUs on the path of an environment account, sorted by ID.
    pub organizational_units: Vec<OrganizationalUnit>,
    /// The path of every environment account (root first, then OUs, outermost first).
    pub paths: BTreeMap<String, Vec<String>>,
    /// Environment accounts that are not in the organization (reported, not dropped).
    pub outside: Vec<String>,
    /// Every SCP and RCP attached on a path, sorted by ID.
    pub policies: Vec<Policy>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationalUnit {
    pub id: String,
    pub name: String,
    pub parent: String,
}

/// One SCP or RCP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// `p-...` (`p-FullAWSAccess` for the AWS managed one).
    pub id: String,
    pub name: String,
    pub kind: PolicyKind,
    pub aws_managed: bool,
    /// Root, OU and account IDs it is attached to, sorted (only targets on an
    /// environment account's path are read).
    pub targets: Vec<String>,
    /// The policy document, in its canonical form.
    pub content: crate::iam::PolicyDocument,
}

/// A snapshot file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(
        "cannot read the organization snapshot `{path}` (run `xacct org snapshot --env <spec>` or pass --no-org)"
    )]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(
        "organization snapshot `{path}` is not valid: {message}; write it again with `xacct org snapshot --env <spec>`"
    )]
    Parse {
        path: std::path::PathBuf,
        message: String,
    },
}

impl Snapshot {
    /// Parses a snapshot file's text; `path` names it in errors.
    pub fn from_json(path: &std::path::Path, text: &str) -> Result<Snapshot, SnapshotError> {
        let s: Snapshot = serde_json::from_str(text).map_err(|e| SnapshotError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let bad = |message: String| SnapshotError::Parse {
            path: path.to_owned(),
            message,
        };
        if s.version != SNAPSHOT_VERSION {
            return Err(bad(format!(
                "field `version` is {}, this xacct reads version {SNAPSHOT_VERSION}",
                s.version
            )));
        }
        if !s.organization_id.starts_with("o-") {
            return Err(bad(format!(
                "field `organization_id` must look like o-..., got {:?}",
                s.organization_id
            )));
        }
        for (acct, path) in &s.paths {
            if path.first() != Some(&s.root_id) {
                return Err(bad(format!(
                    "field `paths.{acct}` must start with the root {}",
                    s.root_id
                )));
            }
        }
        Ok(s.canonical())
    }

    /// Loads and parses a snapshot file.
    pub fn load(path: &std::path::Path) -> Result<Snapshot, SnapshotError> {
        let text = std::fs::read_to_string(path).map_err(|source| SnapshotError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_json(path, &text)
    }

    /// Everything sorted and deduplicated: two reads of the same organization are equal.
    pub fn canonical(mut self) -> Snapshot {
        self.enabled_policy_types.sort();
        self.enabled_policy_types.dedup();
        self.accounts.sort_by(|a, b| a.id.cmp(&b.id));
        self.accounts.dedup();
        self.organizational_units.sort_by(|a, b| a.id.cmp(&b.id));
        self.organizational_units.dedup();
        self.outside.sort();
        self.outside.dedup();
        for p in &mut self.policies {
            p.targets.sort();
            p.targets.dedup();
        }
        self.policies.sort_by(|a, b| a.id.cmp(&b.id));
        self
    }

    /// The file's text: pretty JSON, keys in declaration order, a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    pub fn is_member(&self, account: &str) -> bool {
        self.accounts.iter().any(|a| a.id == account)
    }

    /// The name of a root, OU or account, for messages (`OU storage (ou-...)`).
    pub fn describe_target(&self, id: &str) -> String {
        if id == self.root_id {
            return format!("the root ({id})");
        }
        if let Some(ou) = self.organizational_units.iter().find(|o| o.id == id) {
            return format!("OU `{}` ({id})", ou.name);
        }
        match self.accounts.iter().find(|a| a.id == id) {
            Some(a) if !a.name.is_empty() => format!("account `{}` ({id})", a.name),
            _ => format!("account {id}"),
        }
    }

    /// The levels of an account's path (root, OUs, the account itself), or
    /// `None` when the snapshot does not know its path.
    pub fn levels(&self, account: &str) -> Option<Vec<String>> {
        let mut p = self.paths.get(account)?.clone();
        p.push(account.to_owned());
        Some(p)
    }

    /// The policies of `kind` attached to `target`.
    pub fn attached(&self, kind: PolicyKind, target: &str) -> Vec<&Policy> {
        self.policies
            .iter()
            .filter(|p| p.kind == kind && p.targets.iter().any(|t| t == target))
            .collect()
    }

    pub fn enabled(&self, kind: PolicyKind) -> bool {
        self.enabled_policy_types.contains(&kind)
    }
}

/// What changed between a snapshot file and the live organization (`org snapshot --check`).
pub fn drift(file: &Snapshot, live: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = |name: &str, a: String, b: String| {
        if a != b {
            out.push(format!("{name}: {a} in the file, {b} live"));
        }
    };
    field(
        "organization_id",
        file.organization_id.clone(),
        live.organization_id.clone(),
    );
    field(
        "management_account",
        file.management_account.clone(),
        live.management_account.clone(),
    );
    field("root_id", file.root_id.clone(), live.root_id.clone());
    field(
        "enabled_policy_types",
        format!("{:?}", file.enabled_policy_types),
        format!("{:?}", live.enabled_policy_types),
    );
    let ids = |v: &[Account]| v.iter().map(|a| a.id.clone()).collect::<BTreeSet<_>>();
    let (fa, la) = (ids(&file.accounts), ids(&live.accounts));
    for a in la.difference(&fa) {
        out.push(format!("account {a} joined the organization"));
    }
    for a in fa.difference(&la) {
        out.push(format!("account {a} left the organization"));
    }
    let all: BTreeSet<&String> = file.paths.keys().chain(live.paths.keys()).collect();
    for a in all {
        let (x, y) = (file.paths.get(a), live.paths.get(a));
        if x != y {
            out.push(format!(
                "path of account {a}: {} in the file, {} live",
                x.map_or("none".into(), |p| p.join("/")),
                y.map_or("none".into(), |p| p.join("/"))
            ));
        }
    }
    if file.outside != live.outside {
        out.push(format!(
            "environment accounts outside the organization: {:?} in the file, {:?} live",
            file.outside, live.outside
        ));
    }
    let by_id = |v: &[Policy]| {
        v.iter()
            .map(|p| (p.id.clone(), p.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    let (fp, lp) = (by_id(&file.policies), by_id(&live.policies));
    for (id, p) in &lp {
        match fp.get(id) {
            None => out.push(format!(
                "{} `{}` ({id}) attached to {} (not in the file)",
                p.kind.short(),
                p.name,
                p.targets
                    .iter()
                    .map(|t| live.describe_target(t))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Some(f) => {
                let (ft, lt): (BTreeSet<_>, BTreeSet<_>) =
                    (f.targets.iter().collect(), p.targets.iter().collect());
                for t in lt.difference(&ft) {
                    out.push(format!(
                        "{} `{}` ({id}) attached to {}",
                        p.kind.short(),
                        p.name,
                        live.describe_target(t)
                    ));
                }
                for t in ft.difference(&lt) {
                    out.push(format!(
                        "{} `{}` ({id}) detached from {}",
                        p.kind.short(),
                        p.name,
                        file.describe_target(t)
                    ));
                }
                if f.content != p.content {
                    out.push(format!(
                        "{} `{}` ({id}) content edited",
                        p.kind.short(),
                        p.name
                    ));
                }
                if f.name != p.name {
                    out.push(format!(
                        "{} {id} renamed from `{}` to `{}`",
                        p.kind.short(),
                        f.name,
                        p.name
                    ));
                }
            }
        }
    }
    for (id, p) in &fp {
        if !lp.contains_key(id) {
            out.push(format!(
                "{} `{}` ({id}) detached from {} (or deleted)",
                p.kind.short(),
                p.name,
                p.targets
                    .iter()
                    .map(|t| file.describe_target(t))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    out
}

/// `epoch` seconds as RFC 3339 UTC (`2026-12-06T18:41:57Z`).
pub fn rfc3339(epoch: u64) -> String {
    let (days, secs) = (epoch / 86_400, epoch % 86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}

/// The default snapshot file of a spec: `<folder of the spec>/<short_name>.org.json`.
pub fn default_path(spec: &std::path::Path, short_name: &str) -> std::path::PathBuf {
    spec.parent()
        .unwrap_or(std::path::Path::new("."))
        .join(format!("{short_name}.org.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_of_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_796_582_517), "2026-12-06T18:41:57Z");
    }
}
