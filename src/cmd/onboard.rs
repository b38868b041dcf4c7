//! `xacct onboard`: add an existing account to an environment's storage
//! accounts. Validates the account and the resulting spec, re-renders
//! `generated/<env>/` in memory, writes it, then the spec (atomically), and
//! prints what to apply, in order. Re-running it is a no-op.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use super::StepFailed;
use super::live::{LiveArgs, check_role_name, runtime};
use crate::model::{Environment, LoadOptions};
use crate::onboard::{self, Order};
use crate::render::{Renderer, output};

/// Add a storage account to an environment and re-render it.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Environment spec to update in place.
    #[arg(long, value_name = "FILE")]
    pub env: PathBuf,
    /// The account to add (12 digits).
    #[arg(
        long,
        value_name = "ID",
        required_unless_present = "create",
        conflicts_with = "create"
    )]
    pub account: Option<String>,
    /// Create the account through AWS Organizations first (needs --email and --name).
    #[arg(long, requires_all = ["email", "name"])]
    pub create: bool,
    /// Root e-mail of the account to create.
    #[arg(long, value_name = "EMAIL", requires = "create")]
    pub email: Option<String>,
    /// Name of the account to create.
    #[arg(long, value_name = "NAME", requires = "create")]
    pub name: Option<String>,
    /// Organizational unit to move the created account into (`ou-...`).
    #[arg(long, value_name = "OU", requires = "create")]
    pub ou: Option<String>,
    /// Role in the management account for Organizations calls (default: current credentials).
    #[arg(long, value_name = "ARN", requires = "create")]
    pub management_role: Option<String>,
    /// `sts:ExternalId` for --management-role.
    #[arg(long, value_name = "ID", requires = "management_role")]
    pub external_id: Option<String>,
    /// Output root: the environment is re-rendered into `<out>/<short_name>/`.
    #[arg(long, value_name = "DIR", default_value = "generated")]
    pub out: PathBuf,
    /// Also deploy the storage stack into the account (through --bootstrap-role) and verify it.
    #[arg(long)]
    pub apply: bool,
    /// Role assumed in the account to deploy and read its stack (default: the spec's bootstrap role).
    #[arg(long, value_name = "NAME")]
    pub bootstrap_role: Option<String>,
    /// Seconds to wait for the stack.
    #[arg(long, value_name = "SECS", default_value_t = 900)]
    pub timeout: u64,
    #[command(flatten)]
    pub live: LiveArgs,
}

pub fn run(mut args: Args) -> anyhow::Result<ExitCode> {
    if let Some(a) = &args.account {
        onboard::check_account(a)?;
    }
    if let Some(r) = &args.bootstrap_role {
        check_role_name("--bootstrap-role", r)?;
    }
    let text = std::fs::read_to_string(&args.env)
        .with_context(|| format!("cannot read `{}`", args.env.display()))?;
    let env = Environment::from_str(&args.env, &text, LoadOptions::default())?.env;
    if args.create {
        let id = create(&args)?;
        args.account = Some(id);
    }
    let account_owned = args.account.clone().unwrap_or_default();
    let account = account_owned.as_str();
    anyhow::ensure!(
        account != env.primary_account,
        "{account} is the primary account of {} ({}): it cannot also be a storage account",
        env.name,
        args.env.display()
    );
    let renderer = Renderer::new()?;
    let out_dir = args.out.join(&env.short_name);
    let current = renderer.render(&env)?;
    if env.storage_accounts.iter().any(|a| a == account) {
        if output::check(&out_dir, &current).is_empty() && !args.apply {
            println!(
                "nothing to do: {account} is already a storage account of {} and `{}` is up to date",
                env.name,
                out_dir.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        let report = output::write(&out_dir, &current)
            .with_context(|| format!("writing `{}`", out_dir.display()))?;
        if report.written.is_empty() && report.removed.is_empty() {
            println!(
                "{account} is already in `{}` and `{}` is up to date",
                args.env.display(),
                out_dir.display()
            );
        } else {
            println!(
                "{account} is already in `{}`; `{}` was not up to date and was re-rendered ({} written, {} removed)",
                args.env.display(),
                out_dir.display(),
                report.written.len(),
                report.removed.len()
            );
            print_steps(&args.env, &env, &out_dir, account, &report.written);
        }
        if args.apply {
            return apply(&args, &env, &out_dir);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let new_text = onboard::add_account(&args.env, &text, account)?;
    let change = onboard::plan_change(&args.env, new_text, &args.out).with_context(|| {
        format!(
            "adding {account} would make `{}` invalid; nothing was written",
            args.env.display()
        )
    })?;
    let report = onboard::apply_change(&args.env, &change, Order::GeneratedFirst, Some(&current))?;
    println!(
        "added {account} to storage.accounts in `{}` ({} storage accounts); `{}`: {} written, {} unchanged, {} removed",
        args.env.display(),
        change.env.storage_accounts.len(),
        change.out_dir.display(),
        report.written.len(),
        report.unchanged,
        report.removed.len()
    );
    print_steps(
        &args.env,
        &change.env,
        &change.out_dir,
        account,
        &report.written,
    );
    if args.apply {
        return apply(&args, &change.env, &change.out_dir);
    }
    Ok(ExitCode::SUCCESS)
}

/// `--apply`: deploy the storage stack into the account, then verify it.
fn apply(args: &Args, env: &Environment, out_dir: &Path) -> anyhow::Result<ExitCode> {
    let account = args.account.as_deref().unwrap_or_default();
    let role = args
        .bootstrap_role
        .as_deref()
        .unwrap_or(&env.bootstrap_role);
    let template_path = out_dir.join("storage/cloudformation/storage-account.yaml");
    let template = std::fs::read_to_string(&template_path)
        .with_context(|| format!("cannot read `{}`", template_path.display()))?;
    let left = format!(
        "done: `{}` and `{}` name {account}; left: deploy the storage stack, apply the primary stack, xacct verify (re-run with --apply)",
        args.env.display(),
        out_dir.display()
    );
    let rt = runtime()?;
    let base = args.live.load(&rt, &env.region);
    let role_arn = format!("arn:aws:iam::{account}:role/{role}");
    let stack = env.storage_stack_name();
    rt.block_on(async {
        let session = base
            .assume(&role_arn, None)
            .await
            .map_err(|e| StepFailed(anyhow::anyhow!("cannot assume {role_arn}: {e}\n{left}")))?;
        let status = crate::onboard::deploy::deploy_stack(
            &session,
            &stack,
            &template,
            std::time::Duration::from_secs(args.timeout),
        )
        .await
        .map_err(|e| StepFailed(anyhow::anyhow!("deploying {stack} into {account}: {e}\n{left}")))?;
        println!("stack {stack} in {account}: {status}");
        let findings = crate::onboard::deploy::verify_account(env, &base, role, account).await;
        for f in &findings {
            println!("{} {:?} {}: {}", f.check_id, f.severity, f.resource, f.message);
        }
        let bad = findings
            .iter()
            .filter(|f| f.severity >= crate::audit::Severity::High)
            .count();
        if bad == 0 {
            println!(
                "verified {account}: S3BucketManager and S3BucketManagement match what was rendered; left: apply the primary stack if it changed, then xacct verify --env {}",
                args.env.display()
            );
            Ok(ExitCode::SUCCESS)
        } else {
            eprintln!(
                "xacct onboard: the stack is deployed but {account} does not verify ({bad} finding(s))"
            );
            Ok(ExitCode::from(1))
        }
    })
}

/// What to apply, in order, after `generated/` changed.
pub fn steps(
    spec: &Path,
    env: &Environment,
    out_dir: &Path,
    account: &str,
    written: &[PathBuf],
) -> Vec<String> {
    let d = out_dir.display();
    let primary_changed = written
        .iter()
        .any(|p| p.strip_prefix(out_dir).unwrap_or(p).starts_with("primary"));
    let mut s = vec![format!(
        "Review and commit `{}` and `{d}/` (git diff).",
        spec.display()
    )];
    s.push(format!(
        "Storage account {account}, with credentials of arn:aws:iam::{account}:role/{role}: either\n     aws cloudformation deploy --stack-name {stack} --template-file {d}/storage/cloudformation/storage-account.yaml --capabilities CAPABILITY_NAMED_IAM  (parameters: {d}/storage/cloudformation/parameters/{account}.json)\n     or: terraform -chdir={d}/storage/terraform init && terraform -chdir={d}/storage/terraform apply",
        role = env.bootstrap_role,
        stack = env.storage_stack_name(),
    ));
    if primary_changed {
        s.push(format!(
            "Primary account {}: terraform -chdir={d}/primary/terraform apply (or deploy {d}/primary/cloudformation/primary.yaml): the Lambda's storage accounts and execution policy now include {account}.",
            env.primary_account
        ));
    } else if env.discover {
        s.push(format!(
            "Primary stack unchanged (discovery mode): tag {account} `{}` in AWS Organizations so the Lambda discovers it (xacct accounts --env {} shows the diff).",
            crate::contract::STORAGE_ACCOUNT_TAG,
            spec.display()
        ));
    } else {
        s.push("Primary stack unchanged.".to_owned());
    }
    s.push(format!("xacct verify --env {}", spec.display()));
    s
}

fn print_steps(spec: &Path, env: &Environment, out_dir: &Path, account: &str, written: &[PathBuf]) {
    println!("Apply, in this order:");
    for (i, step) in steps(spec, env, out_dir, account, written)
        .iter()
        .enumerate()
    {
        println!("  {}. {step}", i + 1);
    }
}

/// `--create`: CreateAccount (tagged `ambra-storage`), wait for it, move it to
/// the OU. Returns the new account ID. Nothing local is changed here.
fn create(args: &Args) -> anyhow::Result<String> {
    use aws_sdk_organizations::types::Tag;
    let email = args.email.as_deref().unwrap_or_default();
    let name = args.name.as_deref().unwrap_or_default();
    anyhow::ensure!(
        email.contains('@') && email.len() <= 64 && !email.chars().any(char::is_whitespace),
        "--email must be an e-mail address of at most 64 characters (got {email:?})"
    );
    anyhow::ensure!(
        !name.trim().is_empty() && name.len() <= 50,
        "--name must be 1-50 characters (got {name:?})"
    );
    if let Some(ou) = &args.ou {
        super::live::check_ou_id(ou)?;
    }
    let rt = runtime()?;
    let fail = |m: String| StepFailed(anyhow::anyhow!("{m}; nothing was changed locally"));
    rt.block_on(async {
        let aws = super::live::management_session(
            args.live.load_async(crate::contract::ORGANIZATIONS_REGION).await,
            args.management_role.as_deref(),
            args.external_id.as_deref(),
        )
        .await
        .map_err(fail)?;
        let org = crate::onboard::live::organizations(&aws);
        let tag = Tag::builder()
            .key(crate::contract::STORAGE_ACCOUNT_TAG)
            .value("true")
            .build()
            .map_err(|e| anyhow::anyhow!(e))?;
        let out = org
            .create_account()
            .email(email)
            .account_name(name)
            .tags(tag.clone())
            .send()
            .await
            .map_err(|e| fail(format!("organizations:CreateAccount: {}", crate::onboard::live::describe_sdk(&e))))?;
        let request = out
            .create_account_status()
            .and_then(|s| s.id())
            .ok_or_else(|| fail("CreateAccount returned no request ID".to_owned()))?
            .to_owned();
        let started = std::time::Instant::now();
        let id = loop {
            let st = org
                .describe_create_account_status()
                .create_account_request_id(&request)
                .send()
                .await
                .map_err(|e| fail(format!("organizations:DescribeCreateAccountStatus: {}", crate::onboard::live::describe_sdk(&e))))?;
            let st = st
                .create_account_status()
                .ok_or_else(|| fail("no create-account status".to_owned()))?;
            match create_outcome(st) {
                Ok(Some(id)) => break id,
                Ok(None) => {}
                Err(reason) => {
                    return Err(fail(format!("creating account {name:?} failed: {reason}")).into());
                }
            }
            if started.elapsed() > std::time::Duration::from_secs(args.timeout) {
                return Err(fail(format!(
                    "account {name:?} not created after {}s (request {request}); re-run later with --account once it exists",
                    args.timeout
                ))
                .into());
            }
            eprintln!("xacct onboard: creating account {name:?}: {:?} ({}s)", st.state(), started.elapsed().as_secs());
            tokio::time::sleep(std::time::Duration::from_secs(10)).await;
        };
        anyhow::ensure!(crate::model::is_account_id(&id), StepFailed(anyhow::anyhow!("CreateAccount returned account ID {id:?}")));
        let left = format!("account {id} exists; re-run with --account {id} (without --create) to continue");
        let step = |m: String| StepFailed(anyhow::anyhow!("{m}; {left}"));
        org.tag_resource()
            .resource_id(&id)
            .tags(tag)
            .send()
            .await
            .map_err(|e| step(format!("organizations:TagResource: {}", crate::onboard::live::describe_sdk(&e))))?;
        if let Some(ou) = &args.ou {
            let parents = org
                .list_parents()
                .child_id(&id)
                .send()
                .await
                .map_err(|e| step(format!("organizations:ListParents: {}", crate::onboard::live::describe_sdk(&e))))?;
            let parent = parents
                .parents()
                .first()
                .and_then(|p| p.id())
                .ok_or_else(|| step("the new account has no parent".to_owned()))?
                .to_owned();
            if &parent != ou {
                org.move_account()
                    .account_id(&id)
                    .source_parent_id(&parent)
                    .destination_parent_id(ou)
                    .send()
                    .await
                    .map_err(|e| step(format!("organizations:MoveAccount to {ou}: {}", crate::onboard::live::describe_sdk(&e))))?;
            }
        }
        println!(
            "created account {id} ({name}), tagged {}{}",
            crate::contract::STORAGE_ACCOUNT_TAG,
            args.ou.as_deref().map(|o| format!(", in {o}")).unwrap_or_default()
        );
        Ok(id)
    })
}

/// What a `DescribeCreateAccountStatus` answer means: `Ok(Some(id))` created,
/// `Ok(None)` still in progress, `Err(reason)` failed (for example
/// `EMAIL_ALREADY_EXISTS` or `ACCOUNT_LIMIT_EXCEEDED`).
fn create_outcome(
    st: &aws_sdk_organizations::types::CreateAccountStatus,
) -> Result<Option<String>, String> {
    use aws_sdk_organizations::types::CreateAccountState;
    match st.state() {
        Some(CreateAccountState::Succeeded) => {
            Ok(Some(st.account_id().unwrap_or_default().to_owned()))
        }
        Some(CreateAccountState::Failed) => Err(st
            .failure_reason()
            .map(|r| r.as_str().to_owned())
            .unwrap_or_else(|| "no reason given".to_owned())),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::create_outcome;
    use aws_sdk_organizations::types::{
        CreateAccountFailureReason, CreateAccountState, CreateAccountStatus,
    };

    #[test]
    fn create_account_status_outcomes() {
        let st = |state, reason: Option<CreateAccountFailureReason>, id: Option<&str>| {
            CreateAccountStatus::builder()
                .state(state)
                .set_failure_reason(reason)
                .set_account_id(id.map(str::to_owned))
                .build()
        };
        assert_eq!(
            create_outcome(&st(CreateAccountState::InProgress, None, None)),
            Ok(None)
        );
        assert_eq!(
            create_outcome(&st(
                CreateAccountState::Succeeded,
                None,
                Some("100000000004")
            )),
            Ok(Some("100000000004".to_owned()))
        );
        assert_eq!(
            create_outcome(&st(
                CreateAccountState::Failed,
                Some(CreateAccountFailureReason::EmailAlreadyExists),
                None
            )),
            Err("EMAIL_ALREADY_EXISTS".to_owned())
        );
        assert_eq!(
            create_outcome(&st(CreateAccountState::Failed, None, None)),
            Err("no reason given".to_owned())
        );
    }
}
