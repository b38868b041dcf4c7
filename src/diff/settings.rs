//! Security settings of a side and how they changed: a flag, an enum, a
//! retention period, each with the direction that weakens it.
//!
//! **The seam:** [`extract`] is the one place that knows which settings count
//! and which way each one weakens. It reads only values the spec model and the
//! audit's readers already hold (`model::Environment`, and per source
//! `audit::Input::buckets`, `function_url_auth` and `url_cors`, filled by
//! `audit::attributes`, `plan.rs`, `template.rs`, `terraform.rs`). A shared
//! table of security-relevant settings can replace its body without touching
//! [`compare`] or the reports.

use serde::Serialize;

use crate::audit::{Input, Severity};
use crate::model::Environment;

/// Which values are stronger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// `true` is stronger (a control that is on).
    TrueIsStronger,
    /// `false` is stronger (an exception that is off).
    FalseIsStronger,
    /// A larger number is stronger (a retention period); `0` counts as forever.
    HigherIsStronger,
    /// A set value is stronger than none (an external ID, a signing profile).
    SetIsStronger,
    /// Ranked values, weakest first; a value not listed is the weakest.
    Ranked(&'static [&'static str]),
}

/// One setting of one side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Setting {
    /// `security.kms_key`, `PHR bucket: encryption`, ...
    pub name: String,
    /// The value as text; `None`: not set.
    pub value: Option<String>,
    pub direction: Direction,
    /// How severe weakening it is.
    pub severity: Severity,
}

impl Setting {
    fn new(name: &str, value: Option<String>, direction: Direction, severity: Severity) -> Self {
        Setting {
            name: name.to_owned(),
            value,
            direction,
            severity,
        }
    }

    fn flag(name: &str, on: bool, direction: Direction, severity: Severity) -> Self {
        Setting::new(name, Some(on.to_string()), direction, severity)
    }

    /// Larger is stronger.
    pub fn strength(&self) -> i64 {
        let v = self.value.as_deref();
        match self.direction {
            Direction::TrueIsStronger => i64::from(v == Some("true")),
            Direction::FalseIsStronger => i64::from(v == Some("false")),
            Direction::SetIsStronger => i64::from(v.is_some_and(|s| !s.is_empty())),
            Direction::HigherIsStronger => match v.and_then(|s| s.parse::<i64>().ok()) {
                Some(0) => i64::MAX,
                Some(n) => n,
                None => -1,
            },
            Direction::Ranked(order) => v
                .and_then(|s| order.iter().position(|o| o.eq_ignore_ascii_case(s)))
                .map_or(-1, |p| p as i64),
        }
    }
}

/// Weakened, strengthened, or changed without an order (e.g. another signing profile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Weakened,
    Strengthened,
    Changed,
}

/// One setting that differs between the sides.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SettingChange {
    pub setting: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub change: Change,
    /// The setting's severity when weakened, else `info`.
    pub severity: Severity,
}

const OWNERSHIP: &[&str] = &[
    "ObjectWriter",
    "BucketOwnerPreferred",
    "BucketOwnerEnforced",
];
const ENCRYPTION: &[&str] = &["AES256", "aws:kms", "aws:kms:dsse"];
const VERSIONING: &[&str] = &["Disabled", "Suspended", "Enabled"];
const URL_AUTH: &[&str] = &["NONE", "AWS_IAM"];

/// The security settings of one side: the spec's, and those the audit's
/// readers found in each source (when sources disagree, the weakest value
/// counts: whichever is applied, that is what may ship). **The seam** for a
/// shared table of security settings (see the module comment).
pub fn extract(env: &Environment, inputs: &[Input]) -> Vec<Setting> {
    use Direction::*;
    let s = &env.security;
    let mut out = vec![
        Setting::flag(
            "security.kms_key",
            s.kms_key,
            TrueIsStronger,
            Severity::High,
        ),
        Setting::flag(
            "security.cloudtrail",
            s.cloudtrail,
            TrueIsStronger,
            Severity::High,
        ),
        Setting::flag(
            "security.primary_account_public_access_block",
            s.primary_account_public_access_block,
            TrueIsStronger,
            Severity::High,
        ),
        Setting::new(
            "security.code_signing_profile_version_arn",
            s.code_signing_profile_version_arn.clone(),
            SetIsStronger,
            Severity::High,
        ),
        Setting::flag(
            "phr.legacy_access_keys",
            env.phr.legacy_access_keys,
            FalseIsStronger,
            Severity::High,
        ),
        Setting::new(
            "phr.access_log_retention_days",
            Some(env.phr.access_log_retention_days.to_string()),
            HigherIsStronger,
            Severity::Medium,
        ),
        Setting::new(
            "phr.noncurrent_version_days",
            Some(env.phr.noncurrent_version_days.to_string()),
            HigherIsStronger,
            Severity::Medium,
        ),
        Setting::new(
            "lambda.log_retention_days",
            Some(env.lambda.log_retention_days.to_string()),
            HigherIsStronger,
            Severity::Medium,
        ),
        Setting::flag(
            "storage.allow_canary",
            env.allow_canary,
            FalseIsStronger,
            Severity::Medium,
        ),
        Setting::new(
            "storage.external_id",
            env.external_id.as_ref().map(|_| "set".to_owned()),
            SetIsStronger,
            Severity::Medium,
        ),
    ];
    let role = |bucket: &str| {
        if bucket == env.phr.bucket {
            "PHR bucket".to_owned()
        } else if bucket == env.phr.log_bucket {
            "log bucket".to_owned()
        } else {
            format!("bucket {bucket}")
        }
    };
    let mut found: Vec<Setting> = Vec::new();
    for input in inputs {
        for b in &input.buckets {
            let r = role(&b.bucket);
            let bp = b.block_public;
            for (flag, on) in [
                ("BlockPublicAcls", bp.map(|p| p.block_public_acls)),
                ("BlockPublicPolicy", bp.map(|p| p.block_public_policy)),
                ("IgnorePublicAcls", bp.map(|p| p.ignore_public_acls)),
                (
                    "RestrictPublicBuckets",
                    bp.map(|p| p.restrict_public_buckets),
                ),
            ] {
                found.push(Setting::flag(
                    &format!("{r}: Block Public Access {flag}"),
                    on.unwrap_or(false),
                    TrueIsStronger,
                    Severity::Critical,
                ));
            }
            found.push(Setting::new(
                &format!("{r}: object ownership"),
                b.ownership.clone(),
                Ranked(OWNERSHIP),
                Severity::High,
            ));
            found.push(Setting::new(
                &format!("{r}: default encryption"),
                b.encryption.clone(),
                Ranked(ENCRYPTION),
                Severity::High,
            ));
            if b.bucket == env.phr.bucket {
                found.push(Setting::new(
                    &format!("{r}: versioning"),
                    b.versioning.clone(),
                    Ranked(VERSIONING),
                    Severity::High,
                ));
            }
        }
        for (_, auth) in &input.function_url_auth {
            found.push(Setting::new(
                "function URL: auth type",
                Some(auth.clone()),
                Ranked(URL_AUTH),
                Severity::Critical,
            ));
        }
        for c in &input.url_cors {
            found.push(Setting::flag(
                "function URL: CORS allows any origin",
                c.allow_origins.iter().any(|o| o == "*"),
                FalseIsStronger,
                Severity::High,
            ));
        }
    }
    for f in found {
        match out.iter_mut().find(|s| s.name == f.name) {
            Some(s) if f.strength() < s.strength() => *s = f,
            Some(_) => {}
            None => out.push(f),
        }
    }
    out
}

/// The settings that differ, weakened first. A setting only one side has
/// compares with "not set" on the other.
pub fn compare(old: &[Setting], new: &[Setting]) -> Vec<SettingChange> {
    let mut names: Vec<&str> = old.iter().chain(new).map(|s| s.name.as_str()).collect();
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for name in names {
        let o = old.iter().find(|s| s.name == name);
        let n = new.iter().find(|s| s.name == name);
        let (before, after) = (
            o.and_then(|s| s.value.clone()),
            n.and_then(|s| s.value.clone()),
        );
        if before == after {
            continue;
        }
        let Some(proto) = n.or(o) else { continue };
        let unset = |s: Option<&Setting>| {
            s.cloned().unwrap_or_else(|| Setting {
                value: None,
                ..proto.clone()
            })
        };
        let (so, sn) = (unset(o).strength(), unset(n).strength());
        let change = match sn.cmp(&so) {
            std::cmp::Ordering::Less => Change::Weakened,
            std::cmp::Ordering::Greater => Change::Strengthened,
            std::cmp::Ordering::Equal => Change::Changed,
        };
        out.push(SettingChange {
            setting: name.to_owned(),
            before,
            after,
            change,
            severity: if change == Change::Weakened {
                proto.severity
            } else {
                Severity::Info
            },
        });
    }
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then((a.change as u8).cmp(&(b.change as u8)))
            .then(a.setting.cmp(&b.setting))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(name: &str, v: Option<&str>, d: Direction) -> Setting {
        Setting::new(name, v.map(str::to_owned), d, Severity::High)
    }

    #[test]
    fn directions() {
        use Direction::*;
        let cases = [
            (
                TrueIsStronger,
                Some("true"),
                Some("false"),
                Change::Weakened,
            ),
            (
                FalseIsStronger,
                Some("true"),
                Some("false"),
                Change::Strengthened,
            ),
            (HigherIsStronger, Some("365"), Some("30"), Change::Weakened),
            (
                HigherIsStronger,
                Some("30"),
                Some("0"),
                Change::Strengthened,
            ),
            (SetIsStronger, Some("arn:a"), None, Change::Weakened),
            (SetIsStronger, Some("arn:a"), Some("arn:b"), Change::Changed),
            (
                Ranked(ENCRYPTION),
                Some("aws:kms"),
                Some("AES256"),
                Change::Weakened,
            ),
            (Ranked(ENCRYPTION), Some("AES256"), None, Change::Weakened),
            (
                Ranked(URL_AUTH),
                Some("AWS_IAM"),
                Some("NONE"),
                Change::Weakened,
            ),
        ];
        for (d, before, after, want) in cases {
            let c = compare(&[s("x", before, d)], &[s("x", after, d)]);
            assert_eq!(c.len(), 1, "{d:?} {before:?} -> {after:?}");
            assert_eq!(c[0].change, want, "{d:?} {before:?} -> {after:?}");
        }
        assert!(
            compare(
                &[s("x", Some("1"), HigherIsStronger)],
                &[s("x", Some("1"), HigherIsStronger)]
            )
            .is_empty()
        );
    }
}
