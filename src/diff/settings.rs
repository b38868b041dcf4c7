//! Security settings of a side and how they changed: a flag, an enum, a
//! retention period, each with the direction that weakens it.
//!
//! Two sources, one report: [`extract`] holds the spec's own switches and the
//! bucket and URL settings the audit's readers summarise (`audit::Input::buckets`,
//! `function_url_auth`, `url_cors`); [`compare_table`] compares every attribute
//! of the audit's table of security settings ([`audit::settings::TABLE`]) as the
//! readers found it on each side (`audit::Input::settings`), with the table's own
//! direction ([`audit::settings::weaker`]). A setting added to the table is in
//! `audit`, `verify` and `diff` at once.

use serde::Serialize;

use crate::audit::settings::{self as table, Res, Val};
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

/// Every table setting ([`table::TABLE`]) of the resources both sides hold
/// (same type, key and account) whose value differs: weakened in the table's
/// direction (with its check's severity), strengthened, or changed without an
/// order (a reference on one side, another key). A resource only one side
/// holds is not a setting change: its documents and the audit's XA051 say so.
///
/// `explained`: the same comparison between the renders of the two specs;
/// a change the spec change itself makes is left out (the spec-level lines
/// of [`extract`] report it), so what remains is what ships differently from
/// the specs: hand edits of the committed files, or another xacct's render.
pub fn compare_table(old: &[Res], new: &[Res], explained: &[SettingChange]) -> Vec<SettingChange> {
    use std::collections::HashMap;
    let index: HashMap<(&str, &str, &str), &Res> = old
        .iter()
        .map(|r| {
            (
                (r.resource_type.as_str(), r.key.as_str(), r.account.as_str()),
                r,
            )
        })
        .collect();
    let mut out = Vec::new();
    for n in new {
        let Some(o) = index.get(&(n.resource_type.as_str(), n.key.as_str(), n.account.as_str()))
        else {
            continue;
        };
        let Some(e) = table::entry(&n.resource_type) else {
            continue;
        };
        let weaker: Vec<table::Weakening> = table::compare_res(o, n);
        let stronger: Vec<table::Weakening> = table::compare_res(n, o);
        for a in e.attrs {
            let get = |r: &Res| {
                r.values
                    .iter()
                    .find(|(name, _)| *name == a.name)
                    .map_or(Val::Absent, |(_, v)| v.clone())
            };
            let (before, after) = (text(&get(o)), text(&get(n)));
            if before == after {
                continue;
            }
            let hit = |ws: &[table::Weakening]| {
                ws.iter()
                    .find(|w| w.attribute == a.name && w.change == table::Change::Weaker)
                    .map(|w| w.check)
            };
            // Weaker one way only: ordered. Weaker both ways (an attribute
            // that must equal the render: a key, a target) is a change.
            let (change, severity) = match (hit(&weaker), hit(&stronger)) {
                (Some(_), Some(_)) => (Change::Changed, Severity::Info),
                (Some(check), None) => (Change::Weakened, table::severity_of(check)),
                (None, Some(_)) => (Change::Strengthened, Severity::Info),
                (None, None) => (Change::Changed, Severity::Info),
            };
            let setting = format!(
                "{} {} (account {}): {}",
                n.resource_type,
                n.key.trim_start_matches("name:"),
                n.account,
                a.name
            );
            if explained
                .iter()
                .any(|x| x.setting == setting && x.before == before && x.after == after)
            {
                continue;
            }
            out.push(SettingChange {
                setting,
                before,
                after,
                change,
                severity,
            });
        }
    }
    out
}

fn text(v: &Val) -> Option<String> {
    match v {
        Val::Known(serde_json::Value::Null) | Val::Absent => None,
        Val::Known(serde_json::Value::String(s)) => Some(s.clone()),
        Val::Known(v) => Some(v.to_string()),
        Val::Unknown => Some("(known after apply)".to_owned()),
    }
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

    fn res(t: &str, values: serde_json::Value) -> Res {
        table::observe(
            t,
            "module.primary.x",
            "100000000001",
            crate::audit::attributes::Place::new("x"),
            &values,
            None,
        )
        .unwrap()
    }

    #[test]
    fn table_settings_change_in_the_tables_direction() {
        let old = [
            res(
                "aws_cloudtrail",
                serde_json::json!({"name": "t", "include_global_service_events": true,
                                   "is_multi_region_trail": true}),
            ),
            res(
                "aws_dynamodb_table",
                serde_json::json!({"name": "s", "deletion_protection_enabled": false}),
            ),
        ];
        let new = [
            res(
                "aws_cloudtrail",
                serde_json::json!({"name": "t", "include_global_service_events": false,
                                   "is_multi_region_trail": true}),
            ),
            res(
                "aws_dynamodb_table",
                serde_json::json!({"name": "s", "deletion_protection_enabled": true}),
            ),
        ];
        let c = compare_table(&old, &new, &[]);
        let find = |what: &str| c.iter().find(|x| x.setting.ends_with(what)).unwrap();
        let g = find(": include_global_service_events");
        assert_eq!((g.change, g.severity), (Change::Weakened, Severity::High));
        assert_eq!(
            (g.before.as_deref(), g.after.as_deref()),
            (Some("true"), Some("false"))
        );
        assert_eq!(
            find(": deletion_protection_enabled").change,
            Change::Strengthened
        );
        assert_eq!(c.len(), 2, "{c:#?}");
        assert!(compare_table(&old, &old, &[]).is_empty());
        // A resource only one side holds is no setting change.
        assert!(compare_table(&old[..1], &new[1..], &[]).is_empty());
        // What the renders of the two specs change is the spec's change.
        assert_eq!(compare_table(&old, &new, &c).len(), 0);
        // A key that must equal the render, changed: neither weaker nor stronger.
        let key = |k: &str| {
            [res(
                "aws_lambda_function",
                serde_json::json!({"function_name": "f", "kms_key_arn": k}),
            )]
        };
        let c = compare_table(&key("arn:a"), &key("arn:b"), &[]);
        assert_eq!(c.len(), 1, "{c:#?}");
        assert_eq!(
            (c[0].change, c[0].severity),
            (Change::Changed, Severity::Info)
        );
    }

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
