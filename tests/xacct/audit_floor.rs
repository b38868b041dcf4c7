//! Issue 18, "the render is the floor": the settings table covers every
//! resource the renderer emits (and every attribute checkov checks there);
//! every setting weakened and every document widened, one at a time, is
//! caught with its ID and place, through the committed files, `--template`
//! and a real Terraform plan; equivalents and narrowings stay clean; one side
//! alone is still checked against the intent's trust.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use xacct::audit::{self, Finding, Floor, settings};
use xacct::model::Environment;

fn load(spec: &str) -> Environment {
    Environment::load(Path::new(spec), Default::default())
        .unwrap_or_else(|e| panic!("{spec}: {e}"))
        .env
}

/// Every resource type in a render: `resource "<type>"` in `.tf`, `Type: AWS::...` in templates.
fn rendered_types(env: &Environment) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for f in xacct::render::Renderer::new().unwrap().render(env).unwrap() {
        let path = f.path.display().to_string();
        for line in f.contents.lines() {
            let t = line.trim_start();
            let ty = if path.ends_with(".tf") {
                t.strip_prefix("resource \"")
                    .and_then(|r| r.split('"').next())
            } else if path.ends_with(".yaml") {
                t.strip_prefix("Type: ").filter(|x| x.starts_with("AWS::"))
            } else {
                None
            };
            if let Some(ty) = ty {
                out.entry(ty.trim().to_owned())
                    .or_insert_with(|| path.clone());
            }
        }
    }
    out
}

/// `a/[0]/b` and `/a/0/b` -> `a/b`; `Properties/` dropped.
fn norm(path: &str) -> String {
    path.trim_start_matches("Properties/")
        .split('/')
        .filter(|p| !p.is_empty() && !p.starts_with('[') && p.parse::<usize>().is_err())
        .collect::<Vec<_>>()
        .join("/")
}

/// The coverage problems of the table for the resource types of these specs.
fn coverage_problems(specs: &[&str]) -> Vec<String> {
    let data: Value =
        serde_json::from_str(&crate::read(&crate::input("checkov/attributes.json"))).unwrap();
    let mut problems = Vec::new();
    let mut types = BTreeMap::new();
    for s in specs {
        types.extend(rendered_types(&load(s)));
    }
    assert!(types.len() > 20, "the walk found too few types: {types:?}");
    for (ty, file) in &types {
        let Some(e) = settings::entry(ty) else {
            problems.push(format!(
                "{ty} (rendered in {file}) has no entry in audit::settings::TABLE"
            ));
            continue;
        };
        for row in data["checks"].as_array().unwrap() {
            if row[1] != ty.as_str() {
                continue;
            }
            let id = row[2].as_str().unwrap();
            let na = |k: &str| e.not_applicable.iter().any(|(n, _)| *n == k);
            match row[3].as_str().filter(|a| !a.is_empty()) {
                None => {
                    if !(e.policy_checks.contains(&id) || na(id)) {
                        problems.push(format!(
                            "{ty}: checkov {id} decides in code and is neither a policy check nor not applicable"
                        ));
                    }
                }
                Some(attr) => {
                    let a = norm(attr);
                    let top = a.split('/').next().unwrap_or_default();
                    let covered = e.attrs.iter().any(|x| {
                        let p = norm(x.path);
                        p == a || p.starts_with(&format!("{a}/")) || a.starts_with(&format!("{p}/"))
                    }) || na(top)
                        || na(&a)
                        || e.documents.contains(&top);
                    if !covered {
                        problems.push(format!(
                            "{ty}: checkov {id} checks `{attr}`, which is neither in the table nor not applicable"
                        ));
                    }
                }
            }
        }
    }
    problems
}

const SPECS: &[&str] = &[
    "environments/dev.toml",
    "environments/uat.toml",
    "environments/prod.toml",
    "tests/inputs/all_options.toml",
    "tests/inputs/discovery.toml",
    "tests/inputs/external_id.toml",
    "tests/inputs/phr_in_storage.toml",
];

#[test]
fn settings_table_covers_every_rendered_resource() {
    let problems = coverage_problems(SPECS);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let data: Value =
        serde_json::from_str(&crate::read(&crate::input("checkov/attributes.json"))).unwrap();
    assert!(
        data["checkov_version"]
            .as_str()
            .is_some_and(|v| v.starts_with('3'))
    );
}

/// prod (every `[security]` control on): the render's floor and the committed tree.
struct Prod {
    env: Environment,
    floor: Floor,
    dir: String,
    files: Vec<(String, String)>,
}

impl Prod {
    fn new() -> Self {
        let env = load("environments/prod.toml");
        let floor = Floor::build(&env).unwrap();
        let dir = "generated/prod".to_owned();
        let files = xacct::cmd::audit::read_tree(Path::new(&dir)).unwrap();
        Prod {
            env,
            floor,
            dir,
            files,
        }
    }

    /// The audit of the committed files with `edit` applied to the file ending in `file`.
    fn audit_edited(&self, file: &str, edit: &dyn Fn(&str) -> String) -> Vec<Finding> {
        let mut files = self.files.clone();
        let f = files
            .iter_mut()
            .find(|(p, _)| p.ends_with(file))
            .unwrap_or_else(|| panic!("no committed {file}"));
        let edited = edit(&f.1);
        assert_ne!(edited, f.1, "the edit of {file} changed nothing");
        f.1 = edited;
        let shipped = audit::shipped::read(&self.dir, &files, &self.env);
        let mut out = shipped.findings.clone();
        for i in &shipped.inputs {
            out.extend(audit::run_with_floor(i, &self.floor));
        }
        out
    }
}

fn replace(from: &'static str, to: &'static str) -> impl Fn(&str) -> String {
    move |t: &str| {
        assert!(t.contains(from), "`{from}` not found");
        t.replacen(from, to, 1)
    }
}

fn show(f: &[Finding]) -> String {
    f.iter()
        .map(|f| {
            format!(
                "{} {} {}:{} {}",
                f.check_id,
                f.account,
                f.file.as_deref().unwrap_or("-"),
                f.line.unwrap_or(0),
                f.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// (file, from, to, check, where: a substring of file:line or of the resource)
type Case = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// One weakening per attribute of the table that prod renders (Terraform, CloudFormation).
const WEAKENINGS: &[Case] = &[
    // account-level Block Public Access, primary and storage
    (
        "primary/terraform/main.tf",
        "block_public_policy     = true",
        "block_public_policy     = false",
        "XA050",
        "primary/terraform/main.tf:",
    ),
    (
        "primary/terraform/main.tf",
        "block_public_acls       = true",
        "block_public_acls       = false",
        "XA050",
        "primary/terraform/main.tf:",
    ),
    (
        "primary/terraform/main.tf",
        "ignore_public_acls      = true",
        "ignore_public_acls      = false",
        "XA050",
        "primary/terraform/main.tf:",
    ),
    (
        "primary/terraform/main.tf",
        "restrict_public_buckets = true",
        "restrict_public_buckets = false",
        "XA050",
        "primary/terraform/main.tf:",
    ),
    (
        "modules/storage-account/main.tf",
        "restrict_public_buckets = true",
        "restrict_public_buckets = false",
        "XA050",
        "modules/storage-account/main.tf:",
    ),
    (
        "modules/storage-account/main.tf",
        "block_public_policy     = true",
        "block_public_policy     = false",
        "XA050",
        "modules/storage-account/main.tf:",
    ),
    // KMS
    (
        "primary/terraform/main.tf",
        "enable_key_rotation     = true",
        "enable_key_rotation     = false",
        "XA050",
        "primary/terraform/main.tf:",
    ),
    (
        "primary/terraform/main.tf",
        "deletion_window_in_days = 30",
        "deletion_window_in_days = 7",
        "XA050",
        "primary/terraform/main.tf:",
    ),
    (
        "primary/terraform/main.tf",
        "deletion_window_in_days = 30",
        "deletion_window_in_days = 30\n  customer_master_key_spec = \"RSA_2048\"",
        "XA050",
        "primary/terraform/main.tf:",
    ),
    (
        "primary/cloudformation/primary.yaml",
        "EnableKeyRotation: true",
        "EnableKeyRotation: false",
        "XA050",
        "primary.yaml:",
    ),
    (
        "primary/cloudformation/primary.yaml",
        "PendingWindowInDays: 30",
        "PendingWindowInDays: 7",
        "XA050",
        "primary.yaml:",
    ),
    // CloudTrail
    (
        "primary/terraform/main.tf",
        "is_multi_region_trail         = true",
        "is_multi_region_trail         = false",
        "XA050",
        "primary/terraform/main.tf:",
    ),
    (
        "primary/terraform/main.tf",
        "include_global_service_events = true",
        "include_global_service_events = false",
        "XA050",
        "primary/terraform/main.tf:",
    ),
    (
        "primary/terraform/main.tf",
        "enable_log_file_validation    = true",
        "enable_log_file_validation    = false",
        "XA050",
        "primary/terraform/main.tf:",
    ),
    (
        "primary/terraform/main.tf",
        "enable_logging                = true",
        "enable_logging                = false",
        "XA050",
        "primary/terraform/main.tf:",
    ),
    (
        "primary/terraform/main.tf",
        "  kms_key_id                    = aws_kms_key.this.arn\n",
        "",
        "XA050",
        "primary/terraform/main.tf:",
    ),
    (
        "primary/cloudformation/primary.yaml",
        "IsMultiRegionTrail: true",
        "IsMultiRegionTrail: false",
        "XA050",
        "primary.yaml:",
    ),
    (
        "primary/cloudformation/primary.yaml",
        "IsLogging: true",
        "IsLogging: false",
        "XA050",
        "primary.yaml:",
    ),
    (
        "primary/cloudformation/primary.yaml",
        "EnableLogFileValidation: true",
        "EnableLogFileValidation: false",
        "XA050",
        "primary.yaml:",
    ),
    (
        "primary/cloudformation/primary.yaml",
        "IncludeGlobalServiceEvents: true",
        "IncludeGlobalServiceEvents: false",
        "XA050",
        "primary.yaml:",
    ),
    // DynamoDB
    (
        "primary/terraform/main.tf",
        "point_in_time_recovery {\n    enabled = true",
        "point_in_time_recovery {\n    enabled = false",
        "XA050",
        "primary/terraform/main.tf:",
    ),
    (
        "primary/terraform/main.tf",
        "deletion_protection_enabled = true",
        "deletion_protection_enabled = false",
        "XA050",
        "primary/terraform/main.tf:",
    ),
    (
        "primary/terraform/main.tf",
        "server_side_encryption {\n    enabled = true",
        "server_side_encryption {\n    enabled = false",
        "XA050",
        "primary/terraform/main.tf:",
    ),
    (
        "primary/cloudformation/primary.yaml",
        "PointInTimeRecoveryEnabled: true",
        "PointInTimeRecoveryEnabled: false",
        "XA050",
        "primary.yaml:",
    ),
    (
        "primary/cloudformation/primary.yaml",
        "DeletionProtectionEnabled: true",
        "DeletionProtectionEnabled: false",
        "XA050",
        "primary.yaml:",
    ),
    (
        "primary/cloudformation/primary.yaml",
        "SSEEnabled: true",
        "SSEEnabled: false",
        "XA050",
        "primary.yaml:",
    ),
    // Lambda
    (
        "primary/terraform/main.tf",
        "untrusted_artifact_on_deployment = \"Enforce\"",
        "untrusted_artifact_on_deployment = \"Warn\"",
        "XA050",
        "primary/terraform/main.tf:",
    ),
    (
        "primary/terraform/main.tf",
        "  reserved_concurrent_executions = 10\n",
        "",
        "XA050",
        "primary/terraform/main.tf:",
    ),
    (
        "primary/terraform/main.tf",
        "  code_signing_config_arn = aws_lambda_code_signing_config.this.arn\n",
        "",
        "XA050",
        "primary/terraform/main.tf:",
    ),
    (
        "primary/terraform/main.tf",
        "authorization_type = \"AWS_IAM\"\n",
        "authorization_type = \"AWS_IAM\"\n  cors {\n    allow_origins = [\"https://example.com\"]\n  }\n",
        "XA046",
        "primary/terraform/main.tf:",
    ),
    (
        "primary/terraform/terraform.tfvars",
        "log_retention_days      = 365",
        "log_retention_days      = 30",
        "XA050",
        "primary/terraform/main.tf:",
    ),
    (
        "primary/terraform/main.tf",
        "  kms_key_id        = aws_kms_key.this.arn\n",
        "",
        "XA050",
        "primary/terraform/main.tf:",
    ),
    (
        "primary/cloudformation/primary.yaml",
        "UntrustedArtifactOnDeployment: Enforce",
        "UntrustedArtifactOnDeployment: Warn",
        "XA050",
        "primary.yaml:",
    ),
    (
        "primary/cloudformation/primary.yaml",
        "ReservedConcurrentExecutions: 10",
        "ReservedConcurrentExecutions: 500",
        "XA050",
        "primary.yaml:",
    ),
    (
        "primary/cloudformation/primary.yaml",
        "RetentionInDays: 365",
        "RetentionInDays: 7",
        "XA050",
        "primary.yaml:",
    ),
    // the PHR and log buckets
    (
        "modules/phr-bucket/main.tf",
        "sse_algorithm     = \"aws:kms\"",
        "sse_algorithm     = \"AES256\"",
        "XA044",
        "modules/phr-bucket/main.tf:",
    ),
    (
        "modules/phr-bucket/main.tf",
        "status = \"Enabled\"\n  }",
        "status = \"Suspended\"\n  }",
        "XA045",
        "modules/phr-bucket/main.tf:",
    ),
    (
        "modules/phr-bucket/main.tf",
        "noncurrent_days = var.noncurrent_version_days",
        "noncurrent_days = 1",
        "XA050",
        "modules/phr-bucket/main.tf:",
    ),
    (
        "modules/phr-bucket/main.tf",
        "target_prefix = \"s3-access/\"",
        "target_prefix = \"elsewhere/\"",
        "XA050",
        "modules/phr-bucket/main.tf:",
    ),
    (
        "modules/phr-bucket/main.tf",
        "days = var.access_log_retention_days",
        "days = 1",
        "XA050",
        "modules/phr-bucket/main.tf:",
    ),
];

fn assert_caught(p: &Prod, (file, from, to, id, place): Case) {
    let f = p.audit_edited(file, &replace(from, to));
    assert!(
        f.iter().any(|x| x.check_id == id
            && format!(
                "{}:{} {}",
                x.file.as_deref().unwrap_or_default(),
                x.line.map(|l| l.to_string()).unwrap_or_default(),
                x.resource
            )
            .contains(place)
            && x.line.is_some()),
        "{file}: `{from}` -> `{to}` is not reported as {id} at {place}:\n{}",
        show(&f)
    );
}

#[test]
fn prod_committed_files_are_clean_and_every_weakening_is_caught() {
    let p = Prod::new();
    let clean = p.audit_edited("policies/deployer-policy.json", &|t: &str| format!("{t}\n"));
    assert!(clean.is_empty(), "prod is not clean:\n{}", show(&clean));
    for case in WEAKENINGS {
        assert_caught(&p, *case);
    }
}

/// Edits one statement (by Sid) of a committed policy file.
fn statement_edit(sid: &'static str, edit: fn(&mut Value)) -> impl Fn(&str) -> String {
    move |t: &str| {
        let mut doc: Value = serde_json::from_str(t).unwrap();
        let st = doc["Statement"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|s| s["Sid"] == sid)
            .unwrap_or_else(|| panic!("no statement {sid}"));
        edit(st);
        serde_json::to_string_pretty(&doc).unwrap()
    }
}

fn document_edit(edit: fn(&mut Value)) -> impl Fn(&str) -> String {
    move |t: &str| {
        let mut doc: Value = serde_json::from_str(t).unwrap();
        edit(&mut doc);
        serde_json::to_string_pretty(&doc).unwrap()
    }
}

type DocCase = (&'static str, &'static str, fn(&mut Value));

/// One widening per rendered document kind that has no older test (issue 18 item 1).
const WIDENINGS: &[DocCase] = &[
    (
        "lambda-execution-boundary.json",
        "AssumeStorageRoles",
        |s| s["Resource"] = Value::from("arn:aws:iam::*:role/*"),
    ),
    (
        "kms-key-policy.json",
        "CloudTrailEncryptsTheTrailLogs",
        |s| {
            s["Condition"]["StringEquals"]
                .as_object_mut()
                .unwrap()
                .remove("aws:SourceArn");
        },
    ),
    (
        "kms-key-policy.json",
        "ReadersDecryptPhrObjectsThroughS3",
        |s| s["Action"] = serde_json::json!(["kms:Decrypt", "kms:ReEncryptFrom"]),
    ),
    // The account statement lets the account's principals generate data keys
    // through S3 only where their own IAM policies allow it too; naming the
    // readers grants it to them directly (issue 18).
    (
        "kms-key-policy.json",
        "ReadersDecryptPhrObjectsThroughS3",
        |s| s["Action"] = serde_json::json!(["kms:Decrypt", "kms:GenerateDataKey"]),
    ),
    (
        "log-bucket-policy.json",
        "S3ServerAccessLogsOfPhrBucket",
        |s| {
            s["Condition"].as_object_mut().unwrap().remove("ArnLike");
        },
    ),
    ("log-bucket-policy.json", "CloudTrailWritesTrailLogs", |s| {
        s["Resource"] = Value::from("arn:aws:s3:::ambra-phr-production-logs/*")
    }),
    (
        "deployer-policy.json",
        "ManagePhrBucketWithoutDelete",
        |s| {
            s["Action"]
                .as_array_mut()
                .unwrap()
                .push("s3:DeleteBucket".into())
        },
    ),
    (
        "deployer-policy.json",
        "NeverWidenOrRemoveTheBoundary",
        |s| s["Effect"] = Value::from("Allow"),
    ),
];

#[test]
fn prod_every_document_widened_is_new_access_and_equivalents_stay_clean() {
    let p = Prod::new();
    // Every rendered document kind has a widening here or in audit.rs/audit_decide.rs.
    for (file, sid, edit) in WIDENINGS {
        let f = p.audit_edited(&format!("policies/{file}"), &statement_edit(sid, *edit));
        assert!(
            f.iter().any(|x| x.check_id == "XA023"
                && x.file.as_deref().is_some_and(|p| p.ends_with(file))
                && x.line.is_some()),
            "{file} {sid} widened is not XA023 at the file:\n{}",
            show(&f)
        );
    }
    // Rewrites that mean the same, and narrowings: no finding at all.
    type Rewrite = (&'static str, fn(&mut Value));
    let same: &[Rewrite] = &[
        ("kms-key-policy.json", |d| {
            d["Statement"].as_array_mut().unwrap().reverse()
        }),
        ("kms-key-policy.json", |d| {
            // The account as its bare ID: the same delegation as `:root`.
            let st = d["Statement"].as_array_mut().unwrap();
            let acct = st
                .iter_mut()
                .find(|s| s["Sid"] == "AccountUsesKeyThroughS3ForPhrBucket")
                .unwrap();
            let root = acct["Principal"]["AWS"].as_str().unwrap().to_owned();
            let id = root
                .trim_start_matches("arn:aws:iam::")
                .trim_end_matches(":root");
            acct["Principal"]["AWS"] = Value::from(id);
        }),
        ("deployer-policy.json", |d| {
            // One statement split in two, same actions.
            let st = d["Statement"].as_array_mut().unwrap();
            let mut second = st[0].clone();
            let actions = st[0]["Action"].as_array().unwrap().clone();
            let (a, b) = actions.split_at(actions.len() / 2);
            st[0]["Action"] = Value::from(a.to_vec());
            second["Sid"] = Value::from("ManageProvisioningFunctionRest");
            second["Action"] = Value::from(b.to_vec());
            st.push(second);
        }),
        ("lambda-execution-boundary.json", |d| {
            // Narrower: one log action less.
            let st = d["Statement"].as_array_mut().unwrap();
            let logs = st.iter_mut().find(|s| s["Sid"] == "WriteOwnLogs").unwrap();
            logs["Action"] = Value::from("logs:PutLogEvents");
        }),
    ];
    for (file, edit) in same {
        let f = p.audit_edited(&format!("policies/{file}"), &document_edit(*edit));
        assert!(
            f.is_empty(),
            "{file}: an equivalent or narrower rewrite is reported:\n{}",
            show(&f)
        );
    }
    let stronger: &[Case] = &[
        (
            "primary/terraform/terraform.tfvars",
            "log_retention_days      = 365",
            "log_retention_days      = 400",
            "",
            "",
        ),
        (
            "primary/terraform/main.tf",
            "reserved_concurrent_executions = 10",
            "reserved_concurrent_executions = 5",
            "",
            "",
        ),
        (
            "primary/cloudformation/primary.yaml",
            "RetentionInDays: 365",
            "RetentionInDays: 0",
            "",
            "",
        ),
        (
            "primary/cloudformation/primary.yaml",
            "EnableKeyRotation: true",
            "EnableKeyRotation: \"true\"",
            "",
            "",
        ),
        (
            "primary/terraform/main.tf",
            "deletion_window_in_days = 30",
            "deletion_window_in_days = 30 # the maximum",
            "",
            "",
        ),
    ];
    for (file, from, to, _, _) in stronger {
        let f = p.audit_edited(file, &replace(from, to));
        assert!(
            f.is_empty(),
            "{file}: `{to}` is as strong or stronger, yet reported:\n{}",
            show(&f)
        );
    }
}

/// The same weakenings through `--template` (each template alone, with the spec's intent).
#[test]
fn prod_template_weakenings_are_caught_and_a_storage_template_admitting_nobody_is_xa001() {
    let p = Prod::new();
    let tmp = tempfile::tempdir().unwrap();
    let run = |name: &str, text: &str, spec: &str| -> Vec<Finding> {
        let path = tmp.path().join(name);
        std::fs::write(&path, text).unwrap();
        let input = xacct::cmd::audit::template_input(&[path], &[], Some(Path::new(spec))).unwrap();
        let floor = if spec.ends_with("prod.toml") {
            p.floor.clone()
        } else {
            Floor::build(&load(spec)).unwrap()
        };
        audit::run_with_floor(&input, &floor)
    };
    let primary = crate::read(Path::new(
        "generated/prod/primary/cloudformation/primary.yaml",
    ));
    let f = run("primary.yaml", &primary, "environments/prod.toml");
    assert!(
        f.is_empty(),
        "the committed prod template is not clean:\n{}",
        show(&f)
    );
    let storage = crate::read(Path::new(
        "generated/prod/storage/cloudformation/storage-account.yaml",
    ));
    let f = run("storage.yaml", &storage, "environments/prod.toml");
    assert!(
        f.is_empty(),
        "the committed prod storage template is not clean:\n{}",
        show(&f)
    );
    for (file, from, to, id, place) in WEAKENINGS.iter().filter(|c| c.0.ends_with(".yaml")) {
        let f = run(
            "primary.yaml",
            &replace(from, to)(&primary),
            "environments/prod.toml",
        );
        assert!(
            f.iter().any(|x| x.check_id == *id
                && x.file
                    .as_deref()
                    .is_some_and(|f| f.ends_with("primary.yaml"))
                && x.line.is_some()),
            "{file}: `{from}` -> `{to}` through --template is not {id} at {place}:\n{}",
            show(&f)
        );
    }
    // A widened boundary embedded in the template is new access.
    let f = run(
        "primary.yaml",
        &replace(
            "\"arn:aws:iam::300000000010:role/S3BucketManager\"",
            "\"arn:aws:iam::*:role/*\"",
        )(&primary),
        "environments/prod.toml",
    );
    assert!(
        f.iter()
            .any(|x| x.check_id == "XA023" && x.message.contains("ExecutionBoundary")),
        "{}",
        show(&f)
    );
    // Issue 18 item 5: the storage side alone, its trust admitting nobody (or
    // anybody): never clean.
    let dev = crate::read(Path::new(
        "generated/dev/storage/cloudformation/storage-account.yaml",
    ));
    let star = replace(
        "\"aws:PrincipalArn\": \"arn:aws:iam::100000000001:role/s3-bucket-provisioning-dev-execution\"",
        "\"aws:PrincipalArn\": \"*\"",
    )(&dev);
    let f = run("storage-account.yaml", &star, "environments/dev.toml");
    assert!(
        !f.is_empty(),
        "a storage trust with aws:PrincipalArn \"*\" audits clean"
    );
    let nobody = replace(
        "\"aws:PrincipalArn\": \"arn:aws:iam::100000000001:role/s3-bucket-provisioning-dev-execution\"",
        "\"aws:PrincipalArn\": \"arn:aws:iam::100000000001:role/someone-else\"",
    )(&dev);
    let f = run("storage-account.yaml", &nobody, "environments/dev.toml");
    assert!(
        f.iter().any(|x| x.check_id == "XA001" && x.line.is_some()),
        "a storage-only template whose trust admits nobody is not XA001:\n{}",
        show(&f)
    );
    // And the primary side alone: an execution policy that assumes no storage role.
    let primary_dev = crate::read(Path::new(
        "generated/dev/primary/cloudformation/primary.yaml",
    ));
    let f = run(
        "primary-dev.yaml",
        &primary_dev.replace(":role/S3BucketManager\"", ":role/S3BucketManagerX\""),
        "environments/dev.toml",
    );
    assert!(f.iter().any(|x| x.check_id == "XA001"), "{}", show(&f));
}

/// A real `terraform plan` of prod (one per side, against moto): clean with the
/// floor (provider defaults and `after_unknown` read like the render), and
/// weakenings edited into the plan JSON are caught with their address.
#[test]
fn prod_real_plans_are_clean_and_weakened_plan_values_are_caught() {
    use crate::audit_plan::{Tf, provider_override};
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    crate::support::fs::copy_tree(Path::new("generated/prod"), &root.join("prod"));
    let tf = Tf::start(root);
    let ep = tf.moto.endpoint.clone();
    let services = [
        "iam",
        "sts",
        "s3",
        "s3control",
        "lambda",
        "logs",
        "kms",
        "cloudtrail",
        "dynamodb",
    ];
    let primary = root.join("prod/primary/terraform");
    std::fs::write(
        primary.join("zz_moto_override.tf"),
        provider_override(None, &ep, &services),
    )
    .unwrap();
    let storage = root.join("prod/storage/terraform");
    let env = load("environments/prod.toml");
    let overrides: String = env
        .storage_accounts
        .iter()
        .map(|a| provider_override(Some(&format!("account_{a}")), &ep, &services))
        .collect();
    std::fs::write(storage.join("zz_moto_override.tf"), overrides).unwrap();
    let (pj, sj) = (root.join("primary.json"), root.join("storage.json"));
    tf.plan(&primary, &[&tf.zip_var()], &pj);
    tf.plan(&storage, &[], &sj);

    let floor = Floor::build(&env).unwrap();
    let spec = Some(Path::new("environments/prod.toml"));
    let audit_plans = |p: &Value, s: &Value| {
        std::fs::write(&pj, p.to_string()).unwrap();
        std::fs::write(&sj, s.to_string()).unwrap();
        let input = xacct::cmd::audit::plan_input(&[pj.clone(), sj.clone()], spec).unwrap();
        audit::run_with_floor(&input, &floor)
    };
    let plan_p: Value = serde_json::from_str(&crate::read(&pj)).unwrap();
    let plan_s: Value = serde_json::from_str(&crate::read(&sj)).unwrap();
    let f = audit_plans(&plan_p, &plan_s);
    assert!(
        f.is_empty(),
        "prod's real plans are not clean:\n{}",
        show(&f)
    );

    /// Sets `values<pointer>` of the planned resource at `address` (planned_values).
    fn set(plan: &Value, address: &str, pointer: &str, v: Value) -> Value {
        fn walk(m: &mut Value, address: &str, pointer: &str, v: &Value) -> bool {
            for r in m["resources"].as_array_mut().into_iter().flatten() {
                if r["address"] == address {
                    let (parent, key) = pointer.rsplit_once('/').unwrap();
                    let target = r["values"]
                        .pointer_mut(parent)
                        .unwrap_or_else(|| panic!("{address}{parent}"));
                    target[key] = v.clone();
                    return true;
                }
            }
            m["child_modules"]
                .as_array_mut()
                .into_iter()
                .flatten()
                .any(|c| walk(c, address, pointer, v))
        }
        let mut p = plan.clone();
        assert!(
            walk(
                &mut p["planned_values"]["root_module"],
                address,
                pointer,
                &v
            ),
            "{address} not planned"
        );
        p
    }
    let s0 = "module.account_300000000010.aws_s3_account_public_access_block.this";
    let cases: &[(bool, &str, &str, Value, &str)] = &[
        (
            true,
            "aws_s3_account_public_access_block.primary",
            "/block_public_policy",
            Value::Bool(false),
            "XA050",
        ),
        (
            false,
            s0,
            "/restrict_public_buckets",
            Value::Bool(false),
            "XA050",
        ),
        (
            true,
            "aws_kms_key.this",
            "/enable_key_rotation",
            Value::Bool(false),
            "XA050",
        ),
        (
            true,
            "aws_lambda_code_signing_config.this",
            "/policies/0/untrusted_artifact_on_deployment",
            Value::from("Warn"),
            "XA050",
        ),
        (
            true,
            "aws_cloudtrail.this",
            "/is_multi_region_trail",
            Value::Bool(false),
            "XA050",
        ),
        (
            true,
            "aws_cloudtrail.this",
            "/enable_log_file_validation",
            Value::Bool(false),
            "XA050",
        ),
        (
            true,
            "aws_cloudtrail.this",
            "/include_global_service_events",
            Value::Bool(false),
            "XA050",
        ),
        (
            true,
            "aws_dynamodb_table.state",
            "/point_in_time_recovery/0/enabled",
            Value::Bool(false),
            "XA050",
        ),
        (
            true,
            "aws_dynamodb_table.state",
            "/deletion_protection_enabled",
            Value::Bool(false),
            "XA050",
        ),
        (
            true,
            "aws_cloudwatch_log_group.lambda",
            "/retention_in_days",
            Value::from(30),
            "XA050",
        ),
        (
            true,
            "aws_lambda_function.provisioner",
            "/reserved_concurrent_executions",
            Value::from(-1),
            "XA050",
        ),
    ];
    for (in_primary, address, pointer, v, id) in cases {
        let (p, s) = if *in_primary {
            (set(&plan_p, address, pointer, v.clone()), plan_s.clone())
        } else {
            (plan_p.clone(), set(&plan_s, address, pointer, v.clone()))
        };
        let f = audit_plans(&p, &s);
        assert!(
            f.iter()
                .any(|x| x.check_id == *id && x.resource.ends_with(address)),
            "{address}{pointer} = {v} in the plan is not {id}:\n{}",
            show(&f)
        );
    }
}
