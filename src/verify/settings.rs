//! The floor, live: every security setting the fetchers read, in the
//! Terraform shape of [`audit::settings::TABLE`]'s paths, compared with the
//! render by the audit's own comparison ([`audit::settings::compare_res`]).
//! A weaker live setting is the same finding `audit --plan` gives for a
//! weaker planned one (XA050, or the attribute's own check), prefixed
//! `live:`. Pure: the fetchers (`primary`, `storage`) build the snapshots.

use crate::audit::settings::{self, Res};
use crate::audit::{self, Finding};

/// Attributes a dedicated live check already judges, with that check: the
/// table's comparison leaves them to it (one finding per weakened setting).
pub const JUDGED_BY: &[(&str, &str, &str)] = &[
    ("aws_kms_key", "enable_key_rotation", "XV027"),
    ("aws_kms_key", "is_enabled", "XV027"),
    ("aws_cloudtrail", "is_multi_region_trail", "XV028"),
    ("aws_cloudtrail", "enable_log_file_validation", "XV028"),
    ("aws_cloudtrail", "enable_logging", "XV028"),
    ("aws_cloudtrail", "s3_bucket_name", "XV028"),
    ("aws_cloudtrail", "s3_key_prefix", "XV028"),
    (
        "aws_lambda_function",
        "reserved_concurrent_executions",
        "XV018",
    ),
    ("aws_lambda_function_url", "authorization_type", "XV012"),
];

/// The rendered resource a live one stands for: same type and account, and
/// the same physical name when the type is matched by name; otherwise the
/// only rendered resource of that type in the account.
fn rendered_for<'a>(floor: &'a [Res], live: &Res) -> Option<&'a Res> {
    let same: Vec<&Res> = floor
        .iter()
        .filter(|r| r.resource_type == live.resource_type && r.account == live.account)
        .collect();
    if let Some(r) = same.iter().find(|r| r.key == live.key) {
        return Some(r);
    }
    match same.as_slice() {
        [one] if !one.key.starts_with("name:") || !live.key.starts_with("name:") => Some(one),
        _ => None,
    }
}

/// Every live setting weaker than the render, as findings.
pub fn judge(floor: &[Res], live: &[Res]) -> Vec<Finding> {
    let mut weaker = Vec::new();
    for l in live {
        let Some(r) = rendered_for(floor, l) else {
            continue;
        };
        weaker.extend(
            settings::compare_res(r, l)
                .into_iter()
                .filter(|w| {
                    !JUDGED_BY
                        .iter()
                        .any(|(t, a, _)| *t == w.resource_type && *a == w.attribute)
                })
                .map(|mut w| {
                    w.key = l.key.trim_start_matches("name:").to_owned();
                    w
                }),
        );
    }
    settings::findings(&weaker, &[])
        .into_iter()
        .map(|mut f| {
            f.message = format!("live: {}", f.message);
            f
        })
        .collect()
}

/// The floor's Terraform settings (the live fetchers read in Terraform's shape).
pub fn floor(env: &crate::model::Environment) -> Result<Vec<Res>, crate::render::RenderError> {
    audit::Floor::build(env).map(|f| {
        f.settings
            .into_iter()
            .filter(|r| r.resource_type.starts_with("aws_"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rendered(t: &str, key: &str, values: serde_json::Value) -> Res {
        let mut r = settings::observe(
            t,
            key,
            "100000000001",
            audit::attributes::Place::new(key),
            &values,
            None,
        )
        .unwrap();
        r.key = key.to_owned();
        r
    }

    #[test]
    fn a_weaker_live_setting_is_a_finding_and_an_unread_one_is_not() {
        let floor = [rendered(
            "aws_dynamodb_table",
            "name:t",
            json!({"name": "t", "deletion_protection_enabled": true,
                   "point_in_time_recovery": [{"enabled": true}]}),
        )];
        let arn = "arn:aws:dynamodb:us-east-1:100000000001:table/t";
        // PITR off live; deletion protection not read.
        let live = settings::live(
            "aws_dynamodb_table",
            "100000000001",
            arn,
            &json!({"name": "t", "point_in_time_recovery": [{"enabled": false}]}),
        )
        .unwrap();
        let f = judge(&floor, &[live]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].check_id, "XA050");
        assert_eq!(f[0].resource, arn);
        assert!(
            f[0].message.starts_with("live: ") && f[0].message.contains("point_in_time_recovery")
        );
        // Both as rendered: clean.
        let live = settings::live(
            "aws_dynamodb_table",
            "100000000001",
            arn,
            &json!({"name": "t", "deletion_protection_enabled": true,
                    "point_in_time_recovery": [{"enabled": true}]}),
        )
        .unwrap();
        assert!(judge(&floor, &[live]).is_empty());
    }

    #[test]
    fn a_rendered_reference_and_a_dedicated_check_are_left_alone() {
        let mut r = rendered(
            "aws_cloudtrail",
            "module.t.aws_cloudtrail.this",
            json!({"include_global_service_events": true, "enable_logging": true}),
        );
        r.values
            .iter_mut()
            .filter(|(n, _)| *n == "kms_key_id")
            .for_each(|(_, v)| *v = settings::Val::Unknown);
        let live = settings::live(
            "aws_cloudtrail",
            "100000000001",
            "arn:aws:cloudtrail:us-east-1:100000000001:trail/x",
            &json!({"include_global_service_events": false, "enable_logging": false,
                    "kms_key_id": "arn:aws:kms:us-east-1:100000000001:key/k"}),
        )
        .unwrap();
        let f = judge(&[r], &[live]);
        // enable_logging is XV028's; kms_key_id is a reference the render
        // resolves only after apply; include_global_service_events is ours.
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.contains("include_global_service_events"));
    }

    #[test]
    fn an_attribute_is_read_when_its_path_or_an_empty_block_on_it_is_there() {
        let r = settings::live(
            "aws_lambda_function_url",
            "100000000001",
            "https://x.lambda-url.us-east-1.on.aws/",
            &json!({"authorization_type": "AWS_IAM", "cors": []}),
        )
        .unwrap();
        let names: Vec<&str> = r.values.iter().map(|(n, _)| *n).collect();
        assert!(names.contains(&"cors.allow_origins"), "{names:?}");
        let r = settings::live(
            "aws_dynamodb_table",
            "100000000001",
            "arn:aws:dynamodb:us-east-1:100000000001:table/t",
            &json!({"name": "t", "server_side_encryption": [{"enabled": true}]}),
        )
        .unwrap();
        let names: Vec<&str> = r.values.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["server_side_encryption"]);
    }

    #[test]
    fn a_named_resource_is_matched_by_its_name_only() {
        let floor = [rendered(
            "aws_dynamodb_table",
            "name:t",
            json!({"name": "t", "deletion_protection_enabled": true}),
        )];
        let other = settings::live(
            "aws_dynamodb_table",
            "100000000001",
            "arn:aws:dynamodb:us-east-1:100000000001:table/u",
            &json!({"name": "u", "deletion_protection_enabled": false}),
        )
        .unwrap();
        assert!(judge(&floor, &[other]).is_empty());
    }

    #[test]
    fn every_judged_attribute_is_in_the_table() {
        for (t, a, check) in JUDGED_BY {
            let e = settings::entry(t).unwrap_or_else(|| panic!("{t}"));
            assert!(e.attrs.iter().any(|x| x.name == *a), "{t}.{a}");
            assert!(crate::checks::by_id(check).is_some(), "{check}");
        }
    }
}
