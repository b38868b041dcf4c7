//! The IAM action catalog shipped as data (`data/iam-actions/`, source and date
//! in its README): every action of the services the audit reasons about, with
//! its access level and the resource types it is requested on, and the ARN
//! format of every resource type.

use std::collections::{BTreeSet, HashSet};
use std::sync::OnceLock;

/// Access level of an action, as in the AWS Service Authorization Reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    List,
    Read,
    Tagging,
    Write,
    PermissionsManagement,
}

impl Level {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "List" => Level::List,
            "Read" => Level::Read,
            "Tagging" => Level::Tagging,
            "Write" => Level::Write,
            "Permissions management" => Level::PermissionsManagement,
            _ => return None,
        })
    }

    /// Changes or destroys data or protection (`Write`, `Permissions management`).
    pub fn destructive(self) -> bool {
        matches!(self, Level::Write | Level::PermissionsManagement)
    }
}

/// One catalog entry.
#[derive(Debug, Clone)]
pub struct Action {
    /// `service:Name` as AWS spells it.
    pub name: &'static str,
    /// Lowercased, for matching.
    pub lower: String,
    pub level: Level,
    /// The resource types (names in [`RESOURCES`]' service) it is requested on;
    /// empty: the action has no resource type and is requested on `*` only.
    pub resource_types: Vec<&'static str>,
}

const DATA: &str = include_str!("../../data/iam-actions/actions.tsv");
/// `service TAB resource type TAB ARN format` (`${Partition}`, `${Account}`, ...).
const RESOURCES: &str = include_str!("../../data/iam-actions/resources.tsv");

/// The services the catalog covers (every action of them is listed).
pub const SERVICES: &[&str] = &[
    "s3",
    "sts",
    "iam",
    "lambda",
    "logs",
    "organizations",
    "sns",
    "dynamodb",
    "kms",
];

/// Every action, in file order.
pub fn actions() -> &'static [Action] {
    static CATALOG: OnceLock<Vec<Action>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        DATA.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let mut cols = l.split('\t');
                let name = cols.next().expect("catalog line: action");
                let level = cols.next().expect("catalog line: action TAB level");
                let types = cols.next().unwrap_or_default();
                Action {
                    name,
                    lower: name.to_ascii_lowercase(),
                    level: Level::parse(level).expect("catalog access level"),
                    resource_types: types.split(',').filter(|t| !t.is_empty()).collect(),
                }
            })
            .collect()
    })
}

/// Whether the catalog lists `action` (any case) without a resource type: such
/// an action is requested on `*` only (`s3:ListAllMyBuckets`, `sts:GetCallerIdentity`).
pub fn without_resource(action: &str) -> bool {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    let set = SET.get_or_init(|| {
        actions()
            .iter()
            .filter(|a| a.resource_types.is_empty())
            .map(|a| a.lower.as_str())
            .collect()
    });
    if action.bytes().any(|b| b.is_ascii_uppercase()) {
        set.contains(action.to_ascii_lowercase().as_str())
    } else {
        set.contains(action)
    }
}

/// The catalog's actions without a resource type (lowercased).
pub fn actions_without_resource() -> impl Iterator<Item = &'static str> {
    actions()
        .iter()
        .filter(|a| a.resource_types.is_empty())
        .map(|a| a.lower.as_str())
}

/// The ARN formats of every resource type some action of `service` is requested
/// on (`arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}` for `sts`), sorted.
pub fn resource_formats(service: &str) -> Vec<&'static str> {
    let types: BTreeSet<&str> = actions()
        .iter()
        .filter(|a| {
            a.lower
                .split_once(':')
                .is_some_and(|(s, _)| s.eq_ignore_ascii_case(service))
        })
        .flat_map(|a| a.resource_types.iter().copied())
        .collect();
    let mut out: Vec<&'static str> = RESOURCES
        .lines()
        .filter_map(|l| {
            let mut c = l.split('\t');
            let (s, t, arn) = (c.next()?, c.next()?, c.next()?);
            (s.eq_ignore_ascii_case(service) && types.contains(t)).then_some(arn)
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Whether the catalog lists every action of `action`'s service.
pub fn covers(action: &str) -> bool {
    let service = action.split(':').next().unwrap_or_default();
    SERVICES.iter().any(|s| s.eq_ignore_ascii_case(service))
}

/// The catalog entry of an action (case-insensitive).
pub fn lookup(action: &str) -> Option<&'static Action> {
    let l = action.to_ascii_lowercase();
    actions().iter().find(|a| a.lower == l)
}

/// The catalog actions a policy's action pattern (`s3:Put*`, `s3:*Policy`) matches.
pub fn expand(pattern: &str) -> Vec<&'static Action> {
    actions()
        .iter()
        .filter(|a| super::glob(pattern, &a.lower, true))
        .collect()
}

/// A pattern of a covered service that matches no catalog action (a typo or an
/// action newer than the catalog).
pub fn unknown(pattern: &str) -> bool {
    covers(pattern) && pattern != "*" && expand(pattern).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_loads_and_expands_wildcards() {
        assert!(actions().len() > 700);
        for s in SERVICES {
            assert!(
                actions()
                    .iter()
                    .any(|a| a.name.starts_with(&format!("{s}:"))),
                "{s}"
            );
        }
        assert_eq!(lookup("S3:getobject").unwrap().level, Level::Read);
        assert_eq!(
            lookup("s3:PutBucketPolicy").unwrap().level,
            Level::PermissionsManagement
        );
        let policy: Vec<&str> = expand("s3:*Policy").iter().map(|a| a.name).collect();
        assert!(policy.contains(&"s3:PutBucketPolicy"));
        assert!(policy.contains(&"s3:DeleteBucketPolicy"));
        assert!(policy.iter().all(|a| a.ends_with("Policy")));
        assert!(expand("s3:Put*").len() > 20);
        assert!(unknown("s3:GetObjekt"));
        assert!(!unknown("s3:Get*"));
        assert!(!unknown("ec2:RunInstances"), "ec2 is not covered");
    }

    #[test]
    fn resource_types_and_formats() {
        for a in [
            "s3:ListAllMyBuckets",
            "sts:GetCallerIdentity",
            "organizations:ListAccounts",
            "S3:LISTALLMYBUCKETS",
        ] {
            assert!(without_resource(a), "{a}");
        }
        assert!(!without_resource("s3:GetObject"));
        assert!(!without_resource("sts:AssumeRole"));
        assert!(!without_resource("ec2:RunInstances"), "not catalogued");
        let s3 = resource_formats("s3");
        assert!(
            s3.contains(&"arn:${Partition}:s3:::${BucketName}"),
            "{s3:?}"
        );
        assert!(s3.contains(&"arn:${Partition}:s3:::${BucketName}/${ObjectName}"));
        let sts = resource_formats("sts");
        assert!(sts.contains(&"arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}"));
        // Every service has formats, and every action's types have one.
        for s in SERVICES {
            assert!(!resource_formats(s).is_empty(), "{s}");
        }
        for a in actions() {
            let service = a.name.split(':').next().unwrap();
            for t in &a.resource_types {
                assert!(
                    RESOURCES
                        .lines()
                        .any(|l| l.starts_with(&format!("{service}\t{t}\t"))),
                    "{} {t}",
                    a.name
                );
            }
        }
    }
}
