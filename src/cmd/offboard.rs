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
    /// Output format (json: what was written, the bucket counts, the steps left to apply).
    #[arg(long, value_enum, default_value_t)]
    pub format: super::TextFormat,
    #[command(flatten)]
    pub live: LiveArgs,
}

/// `offboard --format json`: the envelope's own fields.
#[derive(Debug, Default, serde::Serialize)]
struct OffboardJson {
    /// The account offboarded (12 digits).
    account: String,
    spec: String,
    /// The account was removed from the spec (false: nothing to do, or refused).
    spec_changed: bool,
    /// Refused: the account still holds customer buckets (nothing was changed).
    refused: bool,
    /// Buckets of the account with the customer prefix, and all its buckets
    /// (null when the account was not counted).
    customer_buckets: Option<u64>,
    total_buckets: Option<u64>,
    dir: Option<String>,
    written: Vec<String>,
    unchanged: usize,
    removed: Vec<String>,
    /// What is left to apply, in order.
    steps: Vec<String>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut out = OffboardJson {
        account: args.account.clone(),
        spec: crate::envelope::path(&args.env),
        ..OffboardJson::default()
    };
    let (code, env_name) = offboard(&args, &mut out)?;
    if args.format == super::TextFormat::Json {
        crate::envelope::Envelope::new(
            "offboard",
            Some(&env_name),
            crate::envelope::Summary::new(code)
                .count("written", out.written.len())
                .count("unchanged", out.unchanged)
                .count("removed", out.removed.len())
                .count("steps", out.steps.len()),
            &out,
        )
        .print()?;
    } else {
        for (i, step) in out.steps.iter().enumerate() {
            if i == 0 {
                println!("Apply, in this order:");
            }
            println!("  {}. {step}", i + 1);
        }
    }
    Ok(crate::envelope::exit(code))
}

fn offboard(args: &Args, out: &mut OffboardJson) -> anyhow::Result<(u8, String)> {
    let text_out = args.format == super::TextFormat::Text;
    onboard::check_account(&args.account)?;
    check_role_name("--audit-role", &args.audit_role)?;
    let text = std::fs::read_to_string(&args.env)
        .with_context(|| format!("cannot read `{}`", args.env.display()))?;
    let env = Environment::from_str(&args.env, &text, LoadOptions::default())?.env;
    let account = args.account.as_str();
    let Some(new_text) = onboard::remove_account(&args.env, &text, account)? else {
        if text_out {
            println!(
                "nothing to do: {account} is not a storage account of {} (`{}`)",
                env.name,
                args.env.display()
            );
        }
        return Ok((0, env.name));
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
    out.customer_buckets = Some(counts.customer);
    out.total_buckets = Some(counts.total);
    if counts.customer > 0 {
        eprintln!(
            "xacct offboard: refusing: {account} still holds {} customer bucket(s) `{}-*`; nothing was changed (xacct never deletes buckets: move or delete them first)",
            counts.customer, env.bucket_prefix
        );
        out.refused = true;
        return Ok((1, env.name));
    }
    let report = onboard::apply_change(&args.env, &change, Order::SpecFirst, None)?;
    let d = change.out_dir.display();
    out.spec_changed = true;
    out.dir = Some(crate::envelope::path(&change.out_dir));
    out.written = crate::envelope::paths(&report.written);
    out.unchanged = report.unchanged;
    out.removed = crate::envelope::paths(&report.removed);
    if text_out {
        println!(
            "removed {account} from storage.accounts in `{}` ({} storage accounts left); `{d}`: {} written, {} unchanged, {} removed",
            args.env.display(),
            change.env.storage_accounts.len(),
            report.written.len(),
            report.unchanged,
            report.removed.len()
        );
    }
    out.steps = vec![
        format!(
            "Review and commit `{}` and `{d}/` (git diff).",
            args.env.display()
        ),
        format!(
            "Primary account {}: terraform -chdir={d}/primary/terraform apply (or deploy {d}/primary/cloudformation/primary.yaml), so the Lambda stops using {account}.",
            env.primary_account
        ),
        format!(
            "Optional, in {account}: aws cloudformation delete-stack --stack-name {} (removes S3BucketManager only; its buckets, if any appear later, are never deleted by xacct).",
            env.storage_stack_name()
        ),
    ];
    if env.discover {
        out.steps.push(format!(
            "Remove the `{}` tag from {account} in AWS Organizations, or discovery will keep using it.",
            crate::contract::STORAGE_ACCOUNT_TAG
        ));
    }
    Ok((0, env.name))
}
