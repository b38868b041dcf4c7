//! Rendering: validated model + IAM documents -> the files under
//! `generated/<env>/`. Pure: [`Renderer::render`] returns file contents and
//! touches no disk; [`output`] writes or checks them.
//!
//! Templates live in `templates/` and are compiled into the binary, so `xacct`
//! renders the same bytes wherever it runs.

pub mod output;

use std::path::PathBuf;

use serde::Serialize;
use serde_json::{Value, json};

use crate::contract;
use crate::iam::documents::Documents;
use crate::iam::{PolicyDocument, Statement};
use crate::model::Environment;

/// AWS provider versions the generated roots accept. The machine's local mirror
/// carries 5.100.0; 6.x adds `invoked_via_function_url` on `aws_lambda_permission`.
pub const PROVIDER_CONSTRAINT: &str = ">= 5.70.0, < 7.0.0";

/// Where the primary root expects `xacct package` to leave the zip, relative
/// to `generated/<env>/primary/terraform/`.
pub const LAMBDA_ZIP_DEFAULT: &str = "../../../../target/lambda/bootstrap.zip";

/// Name of the manifest written next to the rendered files.
pub const MANIFEST: &str = ".xacct-manifest";

/// One rendered file, relative to the environment's output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    pub path: PathBuf,
    pub contents: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template `{name}` failed: {message}")]
    Template { name: String, message: String },
}

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/", $name)))),*]
    };
}

/// Every template, compiled in.
const TEMPLATES: &[(&str, &str)] = templates![
    "primary/terraform/versions.tf.tera",
    "primary/terraform/variables.tf.tera",
    "primary/terraform/legacy_phr_keys.tf.tera",
    "primary/terraform/terraform.tfvars.tera",
    "primary/terraform/policies.tf.tera",
    "primary/terraform/main.tf.tera",
    "primary/terraform/outputs.tf.tera",
    "primary/cloudformation/primary.yaml.tera",
    "storage/terraform/versions.tf.tera",
    "storage/terraform/variables.tf.tera",
    "storage/terraform/terraform.tfvars.tera",
    "storage/terraform/policies.tf.tera",
    "storage/terraform/main.tf.tera",
    "storage/terraform/outputs.tf.tera",
    "storage/cloudformation/storage-account.yaml.tera",
    "modules/phr-bucket/main.tf.tera",
    "modules/phr-bucket/cloudformation.yaml.tera",
    "modules/storage-account/main.tf.tera",
    "README.md.tera",
];

/// Compiled templates; build once, render many environments.
pub struct Renderer {
    tera: tera::Tera,
}

impl Renderer {
    pub fn new() -> Result<Self, RenderError> {
        let mut tera = tera::Tera::default();
        tera.autoescape_on(vec![]);
        tera.add_raw_templates(TEMPLATES.iter().copied())
            .map_err(|e| RenderError::Template {
                name: "templates/".to_owned(),
                message: error_chain(&e),
            })?;
        Ok(Renderer { tera })
    }

    /// The compiled-in templates with some replaced (`(name, text)`, names as
    /// under `templates/`): how a test renders what a `templates/` change would.
    pub fn with_templates(overrides: &[(&str, &str)]) -> Result<Self, RenderError> {
        let mut r = Renderer::new()?;
        r.tera
            .add_raw_templates(overrides.iter().copied())
            .map_err(|e| RenderError::Template {
                name: "templates/".to_owned(),
                message: error_chain(&e),
            })?;
        Ok(r)
    }

    /// Renders every file of one environment.
    pub fn render(&self, env: &Environment) -> Result<Vec<RenderedFile>, RenderError> {
        let docs = Documents::build(env);
        self.render_with(env, &docs)
    }

    /// Renders with documents already built (benchmarks, audit).
    pub fn render_with(
        &self,
        env: &Environment,
        docs: &Documents,
    ) -> Result<Vec<RenderedFile>, RenderError> {
        let mut ctx = context(env, docs);
        let mut files = Vec::new();
        let phr_condition = if env.phr_in_primary() {
            ""
        } else {
            "IsPhrAccount"
        };
        ctx.insert("condition", &phr_condition);
        let phr_cfn = self.one("modules/phr-bucket/cloudformation.yaml.tera", &ctx)?;
        ctx.insert("phr_cfn_resources", phr_cfn.trim_end());

        let mut add = |out: &str, template: &str| -> Result<(), RenderError> {
            files.push(RenderedFile {
                path: PathBuf::from(out),
                contents: self.one(template, &ctx)?,
            });
            Ok(())
        };
        for name in ["versions", "variables", "policies", "main", "outputs"] {
            add(
                &format!("primary/terraform/{name}.tf"),
                &format!("primary/terraform/{name}.tf.tera"),
            )?;
        }
        if env.phr.legacy_access_keys {
            add(
                "primary/terraform/legacy_phr_keys.tf",
                "primary/terraform/legacy_phr_keys.tf.tera",
            )?;
        }
        add(
            "primary/terraform/terraform.tfvars",
            "primary/terraform/terraform.tfvars.tera",
        )?;
        add(
            "primary/cloudformation/primary.yaml",
            "primary/cloudformation/primary.yaml.tera",
        )?;
        for name in ["versions", "variables", "policies", "main", "outputs"] {
            add(
                &format!("storage/terraform/{name}.tf"),
                &format!("storage/terraform/{name}.tf.tera"),
            )?;
        }
        add(
            "storage/terraform/terraform.tfvars",
            "storage/terraform/terraform.tfvars.tera",
        )?;
        add(
            "storage/cloudformation/storage-account.yaml",
            "storage/cloudformation/storage-account.yaml.tera",
        )?;
        add(
            "modules/phr-bucket/main.tf",
            "modules/phr-bucket/main.tf.tera",
        )?;
        add(
            "modules/storage-account/main.tf",
            "modules/storage-account/main.tf.tera",
        )?;
        add("README.md", "README.md.tera")?;

        for account in &env.storage_accounts {
            files.push(RenderedFile {
                path: PathBuf::from(format!("storage/cloudformation/parameters/{account}.json")),
                contents: parameters_json(env, account),
            });
        }
        for (name, doc) in docs.files() {
            files.push(RenderedFile {
                path: PathBuf::from(format!("policies/{name}")),
                contents: doc.to_canonical_json(),
            });
        }
        let manifest = manifest(&files);
        files.push(RenderedFile {
            path: PathBuf::from(MANIFEST),
            contents: manifest,
        });
        Ok(files)
    }

    fn one(&self, name: &str, ctx: &tera::Context) -> Result<String, RenderError> {
        self.tera
            .render(name, ctx)
            .map_err(|e| RenderError::Template {
                name: name.to_owned(),
                message: error_chain(&e),
            })
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

/// The list of rendered files, so a later render can remove what it no longer produces.
fn manifest(files: &[RenderedFile]) -> String {
    let mut out = String::from(
        "# Files rendered by xacct; `xacct render` removes listed files it no longer produces.\n",
    );
    let mut paths: Vec<_> = files
        .iter()
        .map(|f| f.path.to_string_lossy().into_owned())
        .collect();
    paths.push(MANIFEST.to_owned());
    paths.sort();
    for p in paths {
        out.push_str(&p);
        out.push('\n');
    }
    out
}

fn parameters_json(env: &Environment, account: &str) -> String {
    let params = if env.phr.location == crate::model::PhrLocation::Storage {
        json!([{
            "ParameterKey": "CreatePhrBucket",
            "ParameterValue": if env.phr.account == account { "true" } else { "false" },
        }])
    } else {
        json!([])
    };
    let mut s = serde_json::to_string_pretty(&params).expect("json");
    s.push('\n');
    s
}

fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.trim_end()
        .lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn policy_forms(doc: &PolicyDocument) -> Value {
    let pretty = doc.to_canonical_json();
    json!({
        "heredoc": indent(&pretty, 4),
        "yaml8": indent(&pretty, 8),
        "yaml12": indent(&pretty, 12),
    })
}

/// An HCL or YAML double-quoted string literal (JSON escapes are valid in both;
/// `${` and `%{` are escaped for HCL).
fn quoted(s: &str) -> String {
    serde_json::to_string(s)
        .expect("json")
        .replace("${", "$${")
        .replace("%{", "%%{")
}

#[derive(Serialize)]
struct EnvVar {
    key: String,
    padded_key: String,
    value: String,
}

/// The Lambda environment as rendered: `(name, value)`. The legacy PHR access
/// keys come from secret inputs, so their value is `None` (only presence is known).
pub fn lambda_env(env: &Environment) -> Vec<(&'static str, Option<String>)> {
    env_vars(env)
        .into_iter()
        .map(|(k, _, cfn)| (k, serde_json::from_str::<String>(&cfn).ok()))
        .collect()
}

/// Lambda environment variables: `(key, terraform expression, cloudformation value)`.
fn env_vars(env: &Environment) -> Vec<(&'static str, String, String)> {
    use contract::env as e;
    let storage = if env.discover {
        String::new()
    } else {
        let mut a = env.storage_accounts.clone();
        a.sort();
        a.join(",")
    };
    let mut vars = vec![
        (
            e::ENVIRONMENT,
            "var.environment".to_owned(),
            quoted(&env.name),
        ),
        (
            e::BUCKET_REGION,
            "var.aws_region".to_owned(),
            quoted(&env.region),
        ),
        (
            e::PRIMARY_ACCOUNT,
            quoted(&env.primary_account),
            quoted(&env.primary_account),
        ),
        (
            e::MAX_BUCKETS_PER_ACCOUNT,
            "tostring(var.max_buckets_per_account)".to_owned(),
            quoted(&env.max_buckets_per_account.to_string()),
        ),
        (
            e::STORAGE_ACCOUNTS,
            "join(\",\", sort(tolist(var.ambra_storage_accounts)))".to_owned(),
            quoted(&storage),
        ),
        (
            e::PHR_ACCOUNT,
            "var.ambra_phr_account".to_owned(),
            quoted(&env.phr.account),
        ),
        (
            e::PHR_BUCKET,
            "var.ambra_phr_bucket".to_owned(),
            quoted(&env.phr.bucket),
        ),
        (
            e::BUCKET_PREFIX,
            quoted(&env.bucket_prefix),
            quoted(&env.bucket_prefix),
        ),
        (
            e::BUCKET_NAMESPACE,
            quoted(env.bucket_namespace.as_str()),
            quoted(env.bucket_namespace.as_str()),
        ),
        (
            e::READER_PRINCIPALS,
            quoted(&env.readers.join(",")),
            quoted(&env.readers.join(",")),
        ),
        (
            e::CAPACITY_WARN_PERCENT,
            quoted(&env.capacity_warn_percent.to_string()),
            quoted(&env.capacity_warn_percent.to_string()),
        ),
        (
            e::STATE_TABLE,
            // A reference, so Terraform creates the table before the function.
            "aws_dynamodb_table.state.name".to_owned(),
            quoted(&env.state_table_name()),
        ),
    ];
    if let Some(x) = &env.external_id {
        vars.push((e::EXTERNAL_ID, quoted(x), quoted(x)));
    }
    if let Some(t) = &env.lambda.ops_topic_arn {
        vars.push((e::OPS_TOPIC_ARN, quoted(t), quoted(t)));
    }
    if env.phr.legacy_access_keys {
        vars.push((
            e::PHR_ACCESS_KEY,
            "var.ambra_phr_cred_access_key".to_owned(),
            "!Ref PhrAccessKey".to_owned(),
        ));
        vars.push((
            e::PHR_SECRET_KEY,
            "var.ambra_phr_cred_secret_key".to_owned(),
            "!Ref PhrSecretKey".to_owned(),
        ));
    }
    vars
}

#[derive(Serialize)]
struct Permission {
    sid: String,
    logical_id: String,
    resource_name: String,
    action: String,
    principal: String,
    url_auth_type: Option<String>,
    /// `InvokedViaFunctionUrl: true` (CloudFormation; Terraform provider 5.100
    /// has no such argument, see the template's comment).
    invoked_via_url: bool,
}

/// Function URL permissions, derived from the function's resource policy document.
fn permissions(doc: &PolicyDocument) -> Vec<Permission> {
    doc.statement
        .iter()
        .flat_map(|st: &Statement| {
            let sid = st.sid.clone().unwrap_or_default();
            let url_auth_type = st
                .condition
                .get("StringEquals")
                .and_then(|m| m.get("lambda:FunctionUrlAuthType"))
                .and_then(|v| v.iter().next().map(str::to_owned));
            let invoked_via_url = st
                .condition
                .get("Bool")
                .and_then(|m| m.get(crate::iam::documents::INVOKED_VIA_URL_KEY))
                .is_some_and(|v| v.iter().any(|x| x == "true"));
            let principals: Vec<String> = st
                .principal
                .as_ref()
                .map(|p| p.of_type("AWS").into_iter().map(str::to_owned).collect())
                .unwrap_or_default();
            let actions: Vec<String> = st
                .action
                .as_ref()
                .map(|a| a.iter().map(str::to_owned).collect())
                .unwrap_or_default();
            principals.into_iter().flat_map(move |principal| {
                let sid = sid.clone();
                let url_auth_type = url_auth_type.clone();
                actions.clone().into_iter().map(move |action| Permission {
                    logical_id: format!("Permission{sid}"),
                    resource_name: snake(&sid),
                    sid: sid.clone(),
                    action,
                    principal: principal.clone(),
                    url_auth_type: url_auth_type.clone(),
                    invoked_via_url,
                })
            })
        })
        .collect()
}

/// `InvokeFunctionUrl0` -> `invoke_function_url_0`.
fn snake(s: &str) -> String {
    let mut out = String::new();
    let mut prev_digit = false;
    for (i, c) in s.chars().enumerate() {
        if (c.is_ascii_uppercase() || (c.is_ascii_digit() && !prev_digit)) && i > 0 {
            out.push('_');
        }
        prev_digit = c.is_ascii_digit();
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn context(env: &Environment, docs: &Documents) -> tera::Context {
    let spec_file = env
        .source
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let header = format!(
        "# Generated by xacct from the environment spec `{spec_file}`. Do not edit by hand:\n# change the spec or templates/ and run `xacct render`."
    );
    let tf_vars = env_vars(env);
    let width = tf_vars.iter().map(|v| v.0.len()).max().unwrap_or(0);
    let env_vars_tf: Vec<EnvVar> = tf_vars
        .iter()
        .map(|(k, tf, _)| EnvVar {
            key: (*k).to_owned(),
            padded_key: format!("{k:width$}"),
            value: tf.clone(),
        })
        .collect();
    let env_vars_cfn: Vec<EnvVar> = tf_vars
        .iter()
        .map(|(k, _, cfn)| EnvVar {
            key: (*k).to_owned(),
            padded_key: (*k).to_owned(),
            value: cfn.clone(),
        })
        .collect();
    let storage: Vec<Value> = env
        .storage_accounts
        .iter()
        .map(|a| json!({"id": a, "alias": format!("account_{a}"), "is_phr": env.phr.location == crate::model::PhrLocation::Storage && env.phr.account == *a}))
        .collect();
    let model = json!({
        "name": env.name,
        "short_name": env.short_name,
        "region": env.region,
        "primary_account": env.primary_account,
        "storage_accounts": env.storage_accounts,
        "discover": env.discover,
        "organization_id": env.organization_id,
        "max_buckets_per_account": env.max_buckets_per_account,
        "bucket_prefix": env.bucket_prefix,
        "external_id": env.external_id,
        "bootstrap_role": env.bootstrap_role,
        "s3_bucket_quota": env.s3_bucket_quota,
        "phr": {
            "account": env.phr.account,
            "bucket": env.phr.bucket,
            "in_primary": env.phr_in_primary(),
            "in_storage": !env.phr_in_primary(),
            "legacy_access_keys": env.phr.legacy_access_keys,
            "log_bucket": env.phr.log_bucket,
            "access_log_retention_days": env.phr.access_log_retention_days,
            "noncurrent_version_days": env.phr.noncurrent_version_days,
        },
        "lambda": {
            "function_name": env.lambda.function_name,
            "memory_mb": env.lambda.memory_mb,
            "timeout_seconds": env.lambda.timeout_seconds,
            "log_retention_days": env.lambda.log_retention_days,
            "reserved_concurrency": env.lambda.reserved_concurrency,
        },
        "invokers": env.invokers,
        "readers": env.readers,
        "security": {
            "kms_key": env.security.kms_key,
            "cloudtrail": env.security.cloudtrail,
            "primary_bpa": env.security.primary_account_public_access_block,
            "code_signing": env.security.code_signing_profile_version_arn.is_some(),
            "code_signing_profile_version_arn": env.security.code_signing_profile_version_arn,
            "trail_name": env.trail_name(),
            "trail_prefix": crate::model::TRAIL_PREFIX,
            "kms_alias": env.kms_alias(),
        },
    });
    let mut policies = serde_json::Map::new();
    policies.insert("lambda_trust".into(), policy_forms(&docs.lambda_trust));
    policies.insert(
        "lambda_execution".into(),
        policy_forms(&docs.lambda_execution),
    );
    policies.insert("storage_trust".into(), policy_forms(&docs.storage_trust));
    policies.insert(
        "storage_management".into(),
        policy_forms(&docs.storage_management),
    );
    policies.insert(
        "phr_bucket_policy".into(),
        policy_forms(&docs.phr_bucket_policy),
    );
    policies.insert(
        "log_bucket_policy".into(),
        policy_forms(&docs.log_bucket_policy),
    );
    policies.insert(
        "execution_boundary".into(),
        policy_forms(&docs.execution_boundary),
    );
    if let Some(k) = &docs.kms_key_policy {
        policies.insert("kms_key_policy".into(), policy_forms(k));
    }

    let mut ctx = tera::Context::new();
    ctx.insert("header", &header);
    ctx.insert("spec_file", &spec_file);
    ctx.insert("env", &model);
    ctx.insert("policies", &policies);
    ctx.insert("env_vars", &env_vars_tf);
    ctx.insert("cfn_env_vars", &env_vars_cfn);
    ctx.insert("permissions", &permissions(&docs.function_url_policy));
    ctx.insert("storage", &storage);
    ctx.insert(
        "tf_storage_accounts",
        &if env.discover {
            Vec::new()
        } else {
            env.storage_accounts.clone()
        },
    );
    ctx.insert("lambda_role_name", &env.lambda_role_name());
    ctx.insert("lambda_role_arn", &env.lambda_role_arn());
    ctx.insert("boundary_policy_name", &env.boundary_policy_name());
    ctx.insert("abort_multipart_days", &crate::model::ABORT_MULTIPART_DAYS);
    ctx.insert("access_log_prefix", crate::model::ACCESS_LOG_PREFIX);
    ctx.insert(
        "lambda_policy_name",
        &format!("{}-permissions", env.lambda.function_name),
    );
    ctx.insert("log_group_name", &env.log_group_name());
    ctx.insert("state_table_name", &env.state_table_name());
    ctx.insert("state_key", contract::state::PARTITION_KEY);
    ctx.insert("function_arn", &env.function_arn());
    ctx.insert("storage_role_name", contract::STORAGE_ROLE_NAME);
    ctx.insert("storage_policy_name", contract::STORAGE_POLICY_NAME);
    ctx.insert("contract_bootstrap_role", contract::DEFAULT_BOOTSTRAP_ROLE);
    ctx.insert("discovery_tag", contract::STORAGE_ACCOUNT_TAG);
    ctx.insert("provider_constraint", PROVIDER_CONSTRAINT);
    ctx.insert("lambda_zip_default", LAMBDA_ZIP_DEFAULT);
    ctx.insert("primary_stack", &env.primary_stack_name());
    ctx.insert("storage_stack", &env.storage_stack_name());
    ctx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_of_sids() {
        assert_eq!(snake("InvokeFunctionUrl0"), "invoke_function_url_0");
        assert_eq!(snake("InvokeFunction12"), "invoke_function_12");
    }

    #[test]
    fn quoting_escapes_interpolation() {
        assert_eq!(quoted("a${b}"), "\"a$${b}\"");
    }
}
