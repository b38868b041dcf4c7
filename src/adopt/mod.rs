//! `xacct adopt`: take over a setup that already exists (seed 000's
//! hand-written Terraform) instead of recreating it.
//!
//! Read-only against AWS ([`read`]): the primary account with the caller's
//! credentials, every storage account through the audit role, concurrently.
//! From what exists it builds ([`imports`]) Terraform `import` blocks and
//! CloudFormation resources to import for exactly the rendered resources that
//! exist, ([`access`]) the access change of applying, compared by the access
//! each document grants with the audit's decided comparison, and ([`seed`]) the
//! function's configuration against the spec. Nothing here prints.

pub mod access;
pub mod imports;
pub mod init;
pub mod onboard;
pub mod read;
pub mod seed;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::aws::{Aws, Target};
use crate::iam::PolicyDocument;
use crate::iam::documents::Documents;
use crate::model::Environment;

pub use access::{Change, Unmanaged, Verdict};
pub use imports::{AdoptFile, Import};

/// How to reach AWS and which role reads the storage accounts.
#[derive(Debug, Clone)]
pub struct Options {
    pub target: Target,
    pub audit_role: String,
    pub concurrency: usize,
}

/// An account that could not be read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadError {
    pub account: String,
    pub message: String,
}

/// One CloudFormation stack's import.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CfnStack {
    pub account: String,
    pub stack: String,
    /// `--resources-to-import` file, relative to the output folder.
    pub resources_file: String,
    /// The IMPORT change set's template (only the imported resources).
    pub template_file: String,
    /// The rendered template to deploy after the import.
    pub full_template: String,
    pub resources: Vec<imports::CfnImport>,
    /// Existing resources that cannot be imported in this step (they reference
    /// a resource that does not exist yet): deploy, then run `adopt` again.
    pub not_importable: Vec<String>,
    pub commands: Vec<String>,
}

/// What `adopt` found and what applying changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The spec's `environment.name` (in JSON: the envelope's `environment`).
    #[serde(skip)]
    pub environment: String,
    /// Rendered resources that exist: one import each.
    pub imports: Vec<Import>,
    /// Rendered resources that do not exist: applying creates them (`root: address`).
    pub to_create: Vec<String>,
    pub access: Vec<Change>,
    pub unmanaged: Vec<Unmanaged>,
    /// The existing function's configuration against the spec (`null`: no function).
    pub lambda_configuration: Option<seed::Config>,
    pub cloudformation: Vec<CfnStack>,
    pub errors: Vec<ReadError>,
    /// Whether applying changes any access (or configuration) the report lists.
    pub changes_access: bool,
}

impl Report {
    /// Exit code: 0 no access change, 1 a change (or an unreadable account).
    pub fn failed(&self) -> bool {
        self.changes_access || !self.errors.is_empty()
    }
}

pub const DEFAULT_CONCURRENCY: usize = 16;

/// Reads every account and builds the report (no files are written).
pub async fn run(env: &Environment, opts: &Options) -> Report {
    let aws = Aws::load(&opts.target, &env.region).await;
    run_with(env, opts, aws).await
}

/// [`run`] with an already loaded configuration.
pub async fn run_with(env: &Environment, opts: &Options, aws: Aws) -> Report {
    let docs = Documents::build(env);
    let mut errors = Vec::new();
    let sem = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let mut set = JoinSet::new();
    for (i, acct) in env.storage_accounts.iter().enumerate() {
        let (env, aws, sem, acct, role) = (
            env.clone(),
            aws.clone(),
            sem.clone(),
            acct.clone(),
            opts.audit_role.clone(),
        );
        set.spawn(async move {
            let _permit = sem.acquire_owned().await.ok();
            (
                i,
                acct.clone(),
                read::storage(&env, &aws, &role, &acct).await,
            )
        });
    }
    let primary = read::primary(env, &aws).await;
    let mut storage: Vec<Option<read::Storage>> = vec![None; env.storage_accounts.len()];
    while let Some(j) = set.join_next().await {
        match j {
            Ok((i, _, Ok(s))) => storage[i] = Some(s),
            Ok((_, acct, Err(e))) => errors.push(ReadError {
                account: acct,
                message: e.to_string(),
            }),
            Err(e) => errors.push(ReadError {
                account: "?".into(),
                message: format!("a storage account read stopped unexpectedly: {e}"),
            }),
        }
    }
    let storage: Vec<read::Storage> = storage.into_iter().flatten().collect();
    let primary = match primary {
        Ok(p) => Some(p),
        Err(e) => {
            errors.push(ReadError {
                account: env.primary_account.clone(),
                message: e.to_string(),
            });
            None
        }
    };
    let mut r = build(env, &docs, primary.as_ref(), &storage);
    errors.sort_by(|a, b| a.account.cmp(&b.account));
    r.errors = errors;
    r
}

/// The report from what was read (pure).
pub fn build(
    env: &Environment,
    docs: &Documents,
    primary: Option<&read::Primary>,
    storage: &[read::Storage],
) -> Report {
    let mut r = Report {
        environment: env.name.clone(),
        imports: Vec::new(),
        to_create: Vec::new(),
        access: Vec::new(),
        unmanaged: Vec::new(),
        lambda_configuration: None,
        cloudformation: Vec::new(),
        errors: Vec::new(),
        changes_access: false,
    };
    if let Some(p) = primary {
        let found = imports::primary(env, docs, p);
        let all = imports::primary(env, docs, &everything_primary(env, docs));
        missing(&mut r.to_create, &all, &found);
        r.imports.extend(found);
        let (c, u) = access::primary(env, docs, p);
        r.access.extend(c);
        r.unmanaged.extend(u);
        r.lambda_configuration = p
            .function
            .as_ref()
            .map(|f| seed::compare(env, &f.variables));
    }
    for s in storage {
        let found = imports::storage(env, s);
        let all = imports::storage(env, &everything_storage(env, &s.account));
        missing(&mut r.to_create, &all, &found);
        r.imports.extend(found);
        let (c, u) = access::storage(docs, s);
        r.access.extend(c);
        r.unmanaged.extend(u);
    }
    r.changes_access = r.access.iter().any(|c| c.verdict != Verdict::Equivalent)
        || r.lambda_configuration
            .as_ref()
            .is_some_and(|l| !l.findings.is_empty());
    r
}

fn missing(out: &mut Vec<String>, all: &[Import], found: &[Import]) {
    for a in all {
        if !found.iter().any(|f| f.address == a.address) {
            out.push(format!("{}: {}", a.root, a.address));
        }
    }
}

fn bucket_all(name: &str, policy: &PolicyDocument) -> read::BucketState {
    read::BucketState {
        name: name.to_owned(),
        policy: Some(policy.clone()),
        public_access_block: true,
        ownership_controls: true,
        encryption: true,
        versioning: true,
    }
}

/// A primary account where every rendered resource exists (for the list of
/// what applying creates, and to test the addresses against the templates).
pub fn everything_primary(env: &Environment, docs: &Documents) -> read::Primary {
    let role = read::RoleState {
        name: env.lambda_role_name(),
        arn: env.lambda_role_arn(),
        trust: docs.lambda_trust.clone(),
        inline: vec![(
            format!("{}-permissions", env.lambda.function_name),
            docs.lambda_execution.clone(),
        )],
        attached: vec![],
    };
    read::Primary {
        account: env.primary_account.clone(),
        function: Some(read::FunctionState {
            name: env.lambda.function_name.clone(),
            arn: env.function_arn(),
            role: env.lambda_role_arn(),
            variables: Default::default(),
            url_auth: Some("AWS_IAM".into()),
            policy: Some(docs.function_url_policy.clone()),
        }),
        role: Some(role),
        function_role: None,
        log_group: true,
        phr: env
            .phr_in_primary()
            .then(|| bucket_all(&env.phr.bucket, &docs.phr_bucket_policy)),
    }
}

/// A storage account where every rendered resource exists.
pub fn everything_storage(env: &Environment, acct: &str) -> read::Storage {
    let docs = Documents::build(env);
    read::Storage {
        account: acct.to_owned(),
        role: Some(read::RoleState {
            name: crate::contract::STORAGE_ROLE_NAME.into(),
            arn: crate::contract::storage_role_arn(acct),
            trust: docs.storage_trust.clone(),
            inline: vec![],
            attached: vec![(
                read::storage_policy_arn(acct),
                docs.storage_management.clone(),
            )],
        }),
        policy: Some(docs.storage_management.clone()),
        phr: (!env.phr_in_primary() && env.phr.account == acct)
            .then(|| bucket_all(&env.phr.bucket, &docs.phr_bucket_policy)),
    }
}

/// The files for `report`: `imports.tf` per root, and per CloudFormation stack
/// the resources file and the import template. Also fills `report.cloudformation`.
/// `shown` is the output folder as the user wrote it (for printed commands).
pub fn files(
    env: &Environment,
    report: &mut Report,
    shown: &Path,
) -> Result<Vec<AdoptFile>, crate::render::RenderError> {
    let spec = env
        .source
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut out = Vec::new();
    for root in [imports::PRIMARY_ROOT, imports::STORAGE_ROOT] {
        let these: Vec<&Import> = report.imports.iter().filter(|i| i.root == root).collect();
        if let Some(text) = imports::imports_tf(&spec, &these) {
            out.push(AdoptFile {
                path: PathBuf::from(root).join(imports::IMPORTS_FILE),
                contents: text,
            });
        }
    }
    let rendered = crate::render::Renderer::new()?.render(env)?;
    let template = |p: &str| {
        rendered
            .iter()
            .find(|f| f.path == Path::new(p))
            .map(|f| f.contents.clone())
            .unwrap_or_default()
    };
    let region = &env.region;
    let mut stacks: Vec<(String, String, String, String, Vec<imports::CfnImport>)> = Vec::new();
    let primary_cfn: Vec<imports::CfnImport> = report
        .imports
        .iter()
        .filter(|i| i.root == imports::PRIMARY_ROOT)
        .filter_map(|i| i.cloudformation.clone())
        .collect();
    if !primary_cfn.is_empty() {
        stacks.push((
            env.primary_account.clone(),
            "primary/cloudformation/primary.yaml".into(),
            "primary/cloudformation/import/resources.json".into(),
            "primary/cloudformation/import/template.yaml".into(),
            primary_cfn,
        ));
    }
    for acct in &env.storage_accounts {
        let these: Vec<imports::CfnImport> = report
            .imports
            .iter()
            .filter(|i| i.root == imports::STORAGE_ROOT && i.account == *acct)
            .filter_map(|i| i.cloudformation.clone())
            .collect();
        if !these.is_empty() {
            stacks.push((
                acct.clone(),
                "storage/cloudformation/storage-account.yaml".into(),
                format!("storage/cloudformation/import/{acct}.json"),
                format!("storage/cloudformation/import/template-{acct}.yaml"),
                these,
            ));
        }
    }
    for (acct, full, res_file, tpl_file, mut resources) in stacks {
        let ids: Vec<String> = resources.iter().map(|r| r.logical_id.clone()).collect();
        let (tpl, blocked) = imports::import_template(&template(&full), &ids);
        resources.retain(|r| !blocked.contains(&r.logical_id));
        if resources.is_empty() {
            continue;
        }
        let stack = resources[0].stack.clone();
        let json =
            serde_json::to_string_pretty(&resources_json(&resources)).unwrap_or_default() + "\n";
        let show = |p: &str| shown.join(p).display().to_string();
        let is_primary = full.starts_with("primary");
        let params = if is_primary {
            " --parameters ParameterKey=CodeS3Bucket,ParameterValue=<bucket> ParameterKey=CodeS3Key,ParameterValue=<key>".to_owned()
        } else {
            format!(
                " --parameters file://{}",
                show(&format!("storage/cloudformation/parameters/{acct}.json"))
            )
        };
        let commands = vec![
            format!(
                "aws cloudformation create-change-set --stack-name {stack} --change-set-name xacct-adopt --change-set-type IMPORT --resources-to-import file://{} --template-body file://{}{params} --capabilities CAPABILITY_NAMED_IAM --region {region}",
                show(&res_file),
                show(&tpl_file)
            ),
            format!(
                "aws cloudformation execute-change-set --stack-name {stack} --change-set-name xacct-adopt --region {region}"
            ),
            format!(
                "aws cloudformation deploy --stack-name {stack} --template-file {}{} --capabilities CAPABILITY_NAMED_IAM --region {region}",
                show(&full),
                if is_primary {
                    " --parameter-overrides CodeS3Bucket=<bucket> CodeS3Key=<key>"
                } else {
                    ""
                }
            ),
        ];
        out.push(AdoptFile {
            path: PathBuf::from(&res_file),
            contents: json,
        });
        out.push(AdoptFile {
            path: PathBuf::from(&tpl_file),
            contents: tpl,
        });
        report.cloudformation.push(CfnStack {
            account: acct,
            stack,
            resources_file: res_file,
            template_file: tpl_file,
            full_template: full,
            resources,
            not_importable: blocked,
            commands,
        });
    }
    Ok(out)
}

/// `--resources-to-import` JSON: `[{ResourceType, LogicalResourceId, ResourceIdentifier}]`.
pub fn resources_json(resources: &[imports::CfnImport]) -> serde_json::Value {
    serde_json::Value::Array(
        resources
            .iter()
            .map(|r| {
                serde_json::json!({
                    "ResourceType": r.resource_type,
                    "LogicalResourceId": r.logical_id,
                    "ResourceIdentifier": r.identifier,
                })
            })
            .collect(),
    )
}

/// Removes every file a previous `adopt` wrote (after the import was applied).
pub fn clean(dir: &Path) -> Result<Vec<PathBuf>, crate::render::output::WriteError> {
    imports::write(dir, &[]).map(|(_, removed)| removed)
}
