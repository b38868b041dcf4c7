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
    /// With --apply: when S3BucketManager (or S3BucketManagement) already exists,
    /// import it into the stack (CloudFormation IMPORT) instead of stopping.
    #[arg(long, requires = "apply")]
    pub adopt: bool,
    /// Output format (json: what was written, the steps left to apply, and with
    /// --apply what was applied; AWS progress stays on stderr).
    #[arg(long, value_enum, default_value_t)]
    pub format: super::TextFormat,
    #[command(flatten)]
    pub live: LiveArgs,
}

/// `onboard --format json`: the envelope's own fields.
#[derive(Debug, Default, serde::Serialize)]
pub struct OnboardJson {
    /// The account onboarded (12 digits).
    pub account: String,
    /// `--apply` was given: the stack was (to be) deployed.
    pub apply: bool,
    /// `--create`: the account created through Organizations.
    pub created: Option<Created>,
    pub spec: String,
    /// The spec was edited (false: the account was already in it).
    pub spec_changed: bool,
    /// `<out>/<short_name>`.
    pub dir: String,
    pub written: Vec<String>,
    pub unchanged: usize,
    pub removed: Vec<String>,
    /// What is left to apply, in order (empty when nothing changed).
    pub steps: Vec<String>,
    /// `--apply`: what was deployed and verified (null without --apply).
    pub applied: Option<Applied>,
}

#[derive(Debug, serde::Serialize)]
pub struct Created {
    pub account: String,
    pub name: String,
    pub ou: Option<String>,
}

/// What `--apply` did.
#[derive(Debug, Default, serde::Serialize)]
pub struct Applied {
    pub stack: String,
    /// The stack's final status (null when the deploy did not run).
    pub stack_status: Option<String>,
    pub public_access_block: bool,
    /// The account verifies (no finding at high or above).
    pub verified: bool,
    #[serde(serialize_with = "crate::envelope::serialize_findings")]
    pub findings: Vec<crate::audit::Finding>,
}

/// Prints a text line, or nothing in `--format json`.
fn say(json: bool, line: impl std::fmt::Display) {
    if !json {
        println!("{line}");
    }
}

pub fn run(mut args: Args) -> anyhow::Result<ExitCode> {
    let json = args.format == super::TextFormat::Json;
    let mut out = OnboardJson {
        apply: args.apply,
        spec: crate::envelope::path(&args.env),
        ..OnboardJson::default()
    };
    let (code, env_name) = onboard(&mut args, &mut out)?;
    if json {
        let findings = out
            .applied
            .as_ref()
            .map(|a| a.findings.clone())
            .unwrap_or_default();
        let mut summary = crate::envelope::Summary::new(code)
            .count("written", out.written.len())
            .count("unchanged", out.unchanged)
            .count("removed", out.removed.len())
            .count("steps", out.steps.len());
        if out.applied.is_some() {
            summary = summary.findings(&findings);
        }
        crate::envelope::Envelope::new("onboard", Some(&env_name), summary, &out).print()?;
    }
    Ok(crate::envelope::exit(code))
}

fn onboard(args: &mut Args, out: &mut OnboardJson) -> anyhow::Result<(u8, String)> {
    let json = args.format == super::TextFormat::Json;
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
        let id = create(args, out)?;
        args.account = Some(id);
    }
    let account_owned = args.account.clone().unwrap_or_default();
    let account = account_owned.as_str();
    out.account = account_owned.clone();
    anyhow::ensure!(
        account != env.primary_account,
        "{account} is the primary account of {} ({}): it cannot also be a storage account",
        env.name,
        args.env.display()
    );
    let renderer = Renderer::new()?;
    let out_dir = args.out.join(&env.short_name);
    out.dir = crate::envelope::path(&out_dir);
    let current = renderer.render(&env)?;
    if env.storage_accounts.iter().any(|a| a == account) {
        if output::check(&out_dir, &current).is_empty() && !args.apply {
            out.unchanged = current.len();
            say(
                json,
                format_args!(
                    "nothing to do: {account} is already a storage account of {} and `{}` is up to date",
                    env.name,
                    out_dir.display()
                ),
            );
            return Ok((0, env.name));
        }
        let report = output::write(&out_dir, &current)
            .with_context(|| format!("writing `{}`", out_dir.display()))?;
        out.written = crate::envelope::paths(&report.written);
        out.unchanged = report.unchanged;
        out.removed = crate::envelope::paths(&report.removed);
        if report.written.is_empty() && report.removed.is_empty() {
            say(
                json,
                format_args!(
                    "{account} is already in `{}` and `{}` is up to date",
                    args.env.display(),
                    out_dir.display()
                ),
            );
        } else {
            say(
                json,
                format_args!(
                    "{account} is already in `{}`; `{}` was not up to date and was re-rendered ({} written, {} removed)",
                    args.env.display(),
                    out_dir.display(),
                    report.written.len(),
                    report.removed.len()
                ),
            );
            out.steps = steps(&args.env, &env, &out_dir, account, &report.written);
            print_steps(json, &out.steps);
        }
        if args.apply {
            return Ok((apply(args, &env, &out_dir, out)?, env.name));
        }
        return Ok((0, env.name));
    }
    let new_text = onboard::add_account(&args.env, &text, account)?;
    let change = onboard::plan_change(&args.env, new_text, &args.out).with_context(|| {
        format!(
            "adding {account} would make `{}` invalid; nothing was written",
            args.env.display()
        )
    })?;
    super::print_warnings(&change.warnings);
    let report = onboard::apply_change(&args.env, &change, Order::GeneratedFirst, Some(&current))?;
    out.spec_changed = true;
    out.written = crate::envelope::paths(&report.written);
    out.unchanged = report.unchanged;
    out.removed = crate::envelope::paths(&report.removed);
    say(
        json,
        format_args!(
            "added {account} to storage.accounts in `{}` ({} storage accounts); `{}`: {} written, {} unchanged, {} removed",
            args.env.display(),
            change.env.storage_accounts.len(),
            change.out_dir.display(),
            report.written.len(),
            report.unchanged,
            report.removed.len()
        ),
    );
    out.steps = steps(
        &args.env,
        &change.env,
        &change.out_dir,
        account,
        &report.written,
    );
    print_steps(json, &out.steps);
    if args.apply {
        return Ok((apply(args, &change.env, &change.out_dir, out)?, env.name));
    }
    Ok((0, env.name))
}

/// `--apply`: deploy the storage stack into the account, then verify it.
fn apply(
    args: &Args,
    env: &Environment,
    out_dir: &Path,
    out: &mut OnboardJson,
) -> anyhow::Result<u8> {
    let json = args.format == super::TextFormat::Json;
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
    let base = args.live.load(&rt, "onboard", &env.region)?;
    let role_arn = format!("arn:aws:iam::{account}:role/{role}");
    let stack = env.storage_stack_name();
    let applied = out.applied.insert(Applied {
        stack: stack.clone(),
        ..Applied::default()
    });
    rt.block_on(async {
        // The organization's guardrails first: a stack the SCPs would stop, or a
        // chain they would break, is refused before anything is deployed.
        guardrails(env, &base, account, role)
            .await
            .map_err(|e| StepFailed(anyhow::anyhow!("{e}\n{left}")))?;
        let session = base
            .assume(&role_arn, None)
            .await
            .map_err(|e| StepFailed(anyhow::anyhow!("{e}\n{left}")))?;
        if let Some(code) = super::adopt::onboard_existing(json, args.adopt, env, &session, account, &stack, &template, args.timeout)
            .await
            .map_err(|e| StepFailed(anyhow::anyhow!("{e}\n{left}")))?
        {
            return Ok(if code == ExitCode::SUCCESS { 0 } else { 1 });
        }
        let status = crate::onboard::deploy::deploy_stack(
            &session,
            &stack,
            &template,
            std::time::Duration::from_secs(args.timeout),
            &super::progress::stderr("onboard"),
        )
        .await
        .map_err(|e| StepFailed(anyhow::anyhow!("deploying {stack} into {account}: {e}\n{left}")))?;
        say(json, format_args!("stack {stack} in {account}: {status}"));
        applied.stack_status = Some(status.to_string());
        crate::onboard::deploy::put_account_public_access_block(&session, account)
            .await
            .map_err(|e| {
                StepFailed(anyhow::anyhow!(
                    "account-level Block Public Access in {account}: {e}\nleft: {}",
                    crate::onboard::deploy::account_public_access_block_command(account)
                ))
            })?;
        applied.public_access_block = true;
        say(json, format_args!("account-level Block Public Access in {account}: on (all four flags)"));
        let findings = crate::verify::storage_account(env, &base, role, account).await;
        for f in &findings {
            say(json, format_args!("{} {:?} {}: {}", f.check_id, f.severity, f.resource, f.message));
        }
        let bad = findings
            .iter()
            .filter(|f| f.severity >= crate::audit::Severity::High)
            .count();
        applied.verified = bad == 0;
        applied.findings = findings;
        if bad == 0 {
            say(
                json,
                format_args!(
                    "verified {account}: S3BucketManager and S3BucketManagement match what was rendered; left: apply the primary stack if it changed, then xacct verify --env {}",
                    args.env.display()
                ),
            );
            Ok(0)
        } else {
            eprintln!(
                "xacct onboard: the stack is deployed but {account} does not verify ({bad} finding(s))"
            );
            Ok(1)
        }
    })
}

/// Refuses (naming each blocking policy, its attachment and statement) when the
/// organization's SCPs or RCPs would block the storage stack's deployment in
/// `account` or a request of the provisioning chain; an account in no
/// organization has no guardrails. An organization the caller may not read is
/// refused too: the check cannot be skipped silently.
async fn guardrails(
    env: &Environment,
    aws: &crate::aws::Aws,
    account: &str,
    role: &str,
) -> anyhow::Result<()> {
    use crate::org::live::{OrgReadError, READ_PERMISSIONS, read};
    let accounts = crate::audit::input::env_accounts(env);
    let s = match read(&aws.organizations(), &accounts, "").await {
        Ok(s) => s,
        Err(OrgReadError::NotInOrganization(_)) => return Ok(()),
        Err(e) => anyhow::bail!(
            "cannot read the organization's guardrails before deploying into {account}: {e}; the caller needs {READ_PERMISSIONS}"
        ),
    };
    let input = crate::audit::Input::from_env(env);
    let expect = input.expect.clone().with_org(&s);
    let mut reqs = crate::org::guardrails::deployment(&expect, account, role, &s);
    reqs.extend(
        crate::org::guardrails::intended(&input, &s)
            .into_iter()
            .filter(|r| {
                r.caller_account.as_deref() == Some(account) || r.resource_account == account
            }),
    );
    let blocked = crate::org::guardrails::check_requests(&reqs, &s);
    if blocked.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = blocked
        .iter()
        .map(|f| format!("  {} {}", f.check_id, f.message))
        .collect();
    anyhow::bail!(
        "refusing to deploy into {account}: the organization's guardrails would block it ({} finding(s)):\n{}\nchange or exempt the guardrail, then run onboard --apply again",
        blocked.len(),
        lines.join("\n")
    )
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

fn print_steps(json: bool, steps: &[String]) {
    say(json, "Apply, in this order:");
    for (i, step) in steps.iter().enumerate() {
        say(json, format_args!("  {}. {step}", i + 1));
    }
}

/// `--create`: CreateAccount (tagged `ambra-storage`), wait for it, move it to
/// the OU. Returns the new account ID. Nothing local is changed here.
fn create(args: &Args, out: &mut OnboardJson) -> anyhow::Result<String> {
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
    let request = crate::onboard::create::NewAccount {
        email,
        name,
        ou: args.ou.as_deref(),
        timeout: std::time::Duration::from_secs(args.timeout),
    };
    let base = args
        .live
        .load(&rt, "onboard", crate::contract::ORGANIZATIONS_REGION)?;
    let id = rt.block_on(async {
        let aws = super::live::management_session(
            base,
            args.management_role.as_deref(),
            args.external_id.as_deref(),
        )
        .await
        .map_err(|e| e.next("nothing was changed locally"))?;
        crate::onboard::create::create_account(&aws, &request, &|state, elapsed| {
            eprintln!(
                "xacct onboard: creating account {name:?}: {state} ({}s)",
                elapsed.as_secs()
            );
        })
        .await
    })?;
    say(
        args.format == super::TextFormat::Json,
        format_args!(
            "created account {id} ({name}), tagged {}{}",
            crate::contract::STORAGE_ACCOUNT_TAG,
            args.ou
                .as_deref()
                .map(|o| format!(", in {o}"))
                .unwrap_or_default()
        ),
    );
    out.created = Some(Created {
        account: id.clone(),
        name: name.to_owned(),
        ou: args.ou.clone(),
    });
    Ok(id)
}
