//! `xacct offboard`: remove a storage account from an environment, refusing
//! while it still holds customer buckets. Buckets are never deleted.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::StepFailed;
use super::live::{LiveArgs, check_role_name, runtime};
use crate::model::{Environment, LoadOptions};
use crate::onboard::{self, Order, live};
use crate::render::Renderer;

/// Remove an empty storage account from an environment and re-render it.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Environment spec to update in place.
    #[arg(long, value_name = "FILE")]
    pub env: PathBuf,
    /// The account to remove (12 digits).
    #[arg(long, value_name = "ID")]
    pub account: String,
    /// Output root: the environment is re-rendered into `<out>/<short_name>/`.
    #[arg(long, value_name = "DIR", default_value = "generated")]
    pub out: PathBuf,
    /// Read-only role assumed in the account to count its buckets.
    #[arg(long, value_name = "NAME", default_value = crate::contract::DEFAULT_BOOTSTRAP_ROLE)]
    pub audit_role: String,
    #[command(flatten)]
    pub live: LiveArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    onboard::check_account(&args.account)?;
    check_role_name("--audit-role", &args.audit_role)?;
    let text = std::fs::read_to_string(&args.env)
        .with_context(|| format!("cannot read `{}`", args.env.display()))?;
    let env = Environment::from_str(&args.env, &text, LoadOptions::default())?.env;
    let account = args.account.as_str();
    let Some(new_text) = onboard::remove_account(&args.env, &text, account)? else {
        println!(
            "nothing to do: {account} is not a storage account of {} (`{}`)",
            env.name,
            args.env.display()
        );
        return Ok(ExitCode::SUCCESS);
    };
    let change = onboard::plan_change(&args.env, new_text, &args.out).with_context(|| {
        format!(
            "removing {account} would make `{}` invalid; nothing was written",
            args.env.display()
        )
    })?;
    super::print_warnings(&change.warnings);
    // Make sure the current render works too before touching anything.
    Renderer::new()?.render(&env)?;

    let rt = runtime()?;
    let aws = args.live.load(&rt, "offboard", &env.region)?;
    let counts = rt
        .block_on(live::account_counts(
            &aws,
            &args.audit_role,
            &env.bucket_prefix,
            account,
        ))
        .map_err(|e| {
            StepFailed(anyhow::anyhow!(
                "cannot count the buckets of {account}: {e}; nothing was changed"
            ))
        })?;
    if counts.customer > 0 {
        eprintln!(
            "xacct offboard: refusing: {account} still holds {} customer bucket(s) `{}-*`; nothing was changed (xacct never deletes buckets: move or delete them first)",
            counts.customer, env.bucket_prefix
        );
        return Ok(ExitCode::from(1));
    }
    let report = onboard::apply_change(&args.env, &change, Order::SpecFirst, None)?;
    let d = change.out_dir.display();
    println!(
        "removed {account} from storage.accounts in `{}` ({} storage accounts left); `{d}`: {} written, {} unchanged, {} removed",
        args.env.display(),
        change.env.storage_accounts.len(),
        report.written.len(),
        report.unchanged,
        report.removed.len()
    );
    println!("Apply, in this order:");
    println!(
        "  1. Review and commit `{}` and `{d}/` (git diff).",
        args.env.display()
    );
    println!(
        "  2. Primary account {}: terraform -chdir={d}/primary/terraform apply (or deploy {d}/primary/cloudformation/primary.yaml), so the Lambda stops using {account}.",
        env.primary_account
    );
    println!(
        "  3. Optional, in {account}: aws cloudformation delete-stack --stack-name {} (removes S3BucketManager only; its buckets, if any appear later, are never deleted by xacct).",
        env.storage_stack_name()
    );
    if env.discover {
        println!(
            "  4. Remove the `{}` tag from {account} in AWS Organizations, or discovery will keep using it.",
            crate::contract::STORAGE_ACCOUNT_TAG
        );
    }
    Ok(ExitCode::SUCCESS)
}
