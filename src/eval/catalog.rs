//! The IAM action catalog shipped as data (`data/iam-actions/`, source and date
//! in its README): every action of the services the audit reasons about, with
//! its access level.

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
}

const DATA: &str = include_str!("../../data/iam-actions/actions.tsv");

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
                let (name, level) = l.split_once('\t').expect("catalog line: action TAB level");
                Action {
                    name,
                    lower: name.to_ascii_lowercase(),
                    level: Level::parse(level).expect("catalog access level"),
                }
            })
            .collect()
    })
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
}
