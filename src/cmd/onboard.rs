//! `xacct onboard`: add an existing account to an environment's storage
//! accounts. Validates the account and the resulting spec, re-renders
//! `generated/<env>/` in memory, writes it, then the spec (atomically), and
//! prints what to apply, in order. Re-running it is a no-op.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

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
    #[arg(long, value_name = "ID")]
    pub account: String,
    /// Output root: the environment is re-rendered into `<out>/<short_name>/`.
    #[arg(long, value_name = "DIR", default_value = "generated")]
    pub out: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    onboard::check_account(&args.account)?;
    let text = std::fs::read_to_string(&args.env)
        .with_context(|| format!("cannot read `{}`", args.env.display()))?;
    let env = Environment::from_str(&args.env, &text, LoadOptions::default())?.env;
    let account = args.account.as_str();
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
        if output::check(&out_dir, &current).is_empty() {
            println!(
                "nothing to do: {account} is already a storage account of {} and `{}` is up to date",
                env.name,
                out_dir.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        let report = output::write(&out_dir, &current)
            .with_context(|| format!("writing `{}`", out_dir.display()))?;
        println!(
            "{account} is already in `{}`; `{}` was not up to date and was re-rendered ({} written, {} removed)",
            args.env.display(),
            out_dir.display(),
            report.written.len(),
            report.removed.len()
        );
        print_steps(&args.env, &env, &out_dir, account, &report.written);
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
    Ok(ExitCode::SUCCESS)
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
