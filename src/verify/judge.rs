//! Pure judges of the primary account's live reads: the fetchers
//! (`primary`) turn each read into a plain snapshot value, and these turn
//! snapshots into findings, so every judgement is unit-tested without an AWS
//! endpoint. The settings of the same snapshots also go to the floor
//! ([`super::settings::judge`], the audit's table).

use super::shared::ReadError;
use super::{checks, finding};
use crate::audit::Finding;
use crate::model::Environment;

/// Runtime and handler every rendered function has.
pub const RUNTIME: &str = "provided.al2023";
pub const HANDLER: &str = "bootstrap";

/// The function's configuration as read (`GetFunctionConfiguration`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunctionConfig {
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub memory_mb: Option<i32>,
    pub timeout_seconds: Option<i32>,
    pub role: Option<String>,
}

/// XV010: the function's runtime, handler, memory, timeout and role are the
/// rendered ones (one finding naming every difference).
pub fn function_config(env: &Environment, live: &FunctionConfig) -> Option<Finding> {
    let mut diffs = Vec::new();
    if live.runtime.as_deref() != Some(RUNTIME) {
        diffs.push(format!(
            "runtime {:?} (expected {RUNTIME:?})",
            live.runtime.as_deref().unwrap_or_default()
        ));
    }
    if live.handler.as_deref() != Some(HANDLER) {
        diffs.push(format!(
            "handler {:?} (expected {HANDLER:?})",
            live.handler.as_deref()
        ));
    }
    let want = |v: u32| i32::try_from(v).ok();
    if live.memory_mb != want(env.lambda.memory_mb) {
        diffs.push(format!(
            "memory {:?} MB (expected {})",
            live.memory_mb, env.lambda.memory_mb
        ));
    }
    if live.timeout_seconds != want(env.lambda.timeout_seconds) {
        diffs.push(format!(
            "timeout {:?} s (expected {})",
            live.timeout_seconds, env.lambda.timeout_seconds
        ));
    }
    if let Some(role) = &live.role
        && *role != env.lambda_role_arn()
    {
        diffs.push(format!(
            "execution role {role} (expected {})",
            env.lambda_role_arn()
        ));
    }
    (!diffs.is_empty()).then(|| {
        finding(
            checks::FUNCTION_CONFIG,
            &env.primary_account,
            &env.function_arn(),
            format!(
                "function {}: {}",
                env.lambda.function_name,
                diffs.join("; ")
            ),
            None,
        )
    })
}

/// XV018: the reserved concurrency is the spec's (`None`: no reservation).
pub fn concurrency(env: &Environment, live: Option<i32>) -> Option<Finding> {
    let want = env.lambda.reserved_concurrency;
    if live.is_some_and(|n| i64::from(n) == i64::from(want)) {
        return None;
    }
    Some(finding(
        checks::FUNCTION_CONCURRENCY,
        &env.primary_account,
        &env.function_arn(),
        format!(
            "function {}: reserved concurrency {} (expected {want})",
            env.lambda.function_name,
            live.map_or("none".to_owned(), |n| n.to_string()),
        ),
        None,
    ))
}

/// The trail as read (`GetTrail`, `GetTrailStatus`).
#[derive(Debug, Clone, PartialEq)]
pub struct Trail {
    pub name: Option<String>,
    pub bucket: Option<String>,
    pub prefix: Option<String>,
    pub multi_region: Option<bool>,
    pub log_file_validation: Option<bool>,
    pub global_service_events: Option<bool>,
    pub kms_key: Option<String>,
    /// `Err`: the status could not be read (AWS's answer).
    pub logging: Result<Option<bool>, ReadError>,
}

impl Trail {
    /// The snapshot in the Terraform shape of `aws_cloudtrail` (the floor).
    pub fn values(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "name": self.name,
            "is_multi_region_trail": self.multi_region,
            "enable_log_file_validation": self.log_file_validation,
            "include_global_service_events": self.global_service_events,
            "kms_key_id": self.kms_key,
            "s3_bucket_name": self.bucket,
            "s3_key_prefix": self.prefix,
        });
        if let Ok(l) = &self.logging {
            v["enable_logging"] = (*l).into();
        }
        v
    }
}

/// XV028: the trail writes to the log bucket under [`crate::model::TRAIL_PREFIX`],
/// covers every region, validates log files, uses the customer-managed key
/// `key_arn` when there is one, and logs.
pub fn trail(env: &Environment, live: &Trail, key_arn: Option<&str>) -> Vec<Finding> {
    let f = |why: String| {
        finding(
            checks::TRAIL,
            &env.primary_account,
            &env.trail_arn(),
            why,
            None,
        )
    };
    let mut out = Vec::new();
    if live.bucket.as_deref() != Some(env.phr.log_bucket.as_str())
        || live.prefix.as_deref() != Some(crate::model::TRAIL_PREFIX)
    {
        out.push(f(format!(
            "the trail writes to s3://{}/{}, expected s3://{}/{}",
            live.bucket.as_deref().unwrap_or_default(),
            live.prefix.as_deref().unwrap_or_default(),
            env.phr.log_bucket,
            crate::model::TRAIL_PREFIX
        )));
    }
    if live.multi_region != Some(true) {
        out.push(f("the trail does not cover every region".to_owned()));
    }
    if live.log_file_validation != Some(true) {
        out.push(f("log file validation is off".to_owned()));
    }
    if let Some(key) = key_arn
        && live.kms_key.as_deref() != Some(key)
    {
        out.push(f(format!(
            "the trail's logs are not encrypted with the customer-managed key (kms key {:?})",
            live.kms_key
        )));
    }
    match &live.logging {
        Ok(Some(true)) => {}
        Ok(_) => out.push(f("the trail is not logging".to_owned())),
        Err(e) => out.push(f(format!("the trail's status cannot be read: {e}"))),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LoadOptions;

    fn dev() -> Environment {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/environments/dev.toml");
        Environment::load(std::path::Path::new(path), LoadOptions::default())
            .unwrap()
            .env
    }

    fn deployed(env: &Environment) -> FunctionConfig {
        FunctionConfig {
            runtime: Some(RUNTIME.to_owned()),
            handler: Some(HANDLER.to_owned()),
            memory_mb: Some(env.lambda.memory_mb as i32),
            timeout_seconds: Some(env.lambda.timeout_seconds as i32),
            role: Some(env.lambda_role_arn()),
        }
    }

    #[test]
    fn the_rendered_function_is_clean_and_each_difference_is_named() {
        let env = dev();
        assert!(function_config(&env, &deployed(&env)).is_none());
        type Edit = fn(&mut FunctionConfig);
        let edits: [(&str, Edit); 5] = [
            ("runtime", |c| c.runtime = Some("python3.12".into())),
            ("handler", |c| c.handler = None),
            ("memory", |c| c.memory_mb = Some(128)),
            ("timeout", |c| c.timeout_seconds = Some(900)),
            ("execution role", |c| {
                c.role = Some("arn:aws:iam::100000000001:role/admin".into())
            }),
        ];
        for (what, edit) in edits {
            let mut c = deployed(&env);
            edit(&mut c);
            let f = function_config(&env, &c).unwrap_or_else(|| panic!("{what}"));
            assert_eq!(f.check_id, "XV010");
            assert!(f.message.contains(what), "{what}: {}", f.message);
        }
    }

    #[test]
    fn reserved_concurrency_must_be_the_specs() {
        let env = dev();
        let want = env.lambda.reserved_concurrency as i32;
        assert!(concurrency(&env, Some(want)).is_none());
        assert!(concurrency(&env, None).unwrap().message.contains("none"));
        assert_eq!(concurrency(&env, Some(want + 1)).unwrap().check_id, "XV018");
    }

    #[test]
    fn every_weakened_trail_setting_is_xv028() {
        let env = dev();
        let good = Trail {
            name: Some(env.trail_name()),
            bucket: Some(env.phr.log_bucket.clone()),
            prefix: Some(crate::model::TRAIL_PREFIX.to_owned()),
            multi_region: Some(true),
            log_file_validation: Some(true),
            global_service_events: Some(true),
            kms_key: Some("arn:aws:kms:us-east-1:100000000001:key/k".into()),
            logging: Ok(Some(true)),
        };
        let key = good.kms_key.clone();
        assert!(trail(&env, &good, key.as_deref()).is_empty());
        type Edit = fn(&mut Trail);
        let edits: [(&str, Edit); 6] = [
            ("writes to", |t| t.prefix = Some("other/".into())),
            ("every region", |t| t.multi_region = Some(false)),
            ("validation", |t| t.log_file_validation = None),
            ("customer-managed key", |t| t.kms_key = None),
            ("not logging", |t| t.logging = Ok(Some(false))),
            ("cannot be read", |t| {
                t.logging = Err(ReadError("AccessDenied".into()))
            }),
        ];
        for (what, edit) in edits {
            let mut t = good.clone();
            edit(&mut t);
            let f = trail(&env, &t, key.as_deref());
            assert!(
                f.len() == 1 && f[0].check_id == "XV028" && f[0].message.contains(what),
                "{what}: {f:#?}"
            );
        }
        // Without a customer-managed key, the trail's key is not judged here.
        let mut t = good.clone();
        t.kms_key = None;
        assert!(trail(&env, &t, None).is_empty());
    }
}
