//! `xacct capacity`: accounts needed for N customers at growth G (configured
//! maximum and S3 quota), and each storage account's live bucket count and headroom.

use std::path::PathBuf;
use std::process::ExitCode;

use super::live::{LiveArgs, check_role_name, runtime};
use crate::capacity;
use crate::onboard::live;

/// Capacity planning and live headroom per storage account.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Environment spec.
    #[arg(long, value_name = "FILE")]
    pub env: PathBuf,
    /// Customers to plan for (default: the spec's `capacity.expected_customers`).
    #[arg(long, value_name = "N")]
    pub customers: Option<u64>,
    /// Growth factor (default: the spec's `capacity.growth_factor`, else 1.0).
    #[arg(long, value_name = "G")]
    pub growth: Option<f64>,
    /// Print the arithmetic only; do not read bucket counts from AWS.
    #[arg(long)]
    pub offline: bool,
    /// Read-only role assumed in each storage account to count its buckets.
    #[arg(long, value_name = "NAME", default_value = crate::contract::DEFAULT_BOOTSTRAP_ROLE)]
    pub audit_role: String,
    #[command(flatten)]
    pub live: LiveArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    check_role_name("--audit-role", &args.audit_role)?;
    let env = super::load_env(&args.env)?;
    let customers = args.customers.or(env
        .capacity
        .as_ref()
        .map(|c| u64::from(c.expected_customers)));
    let growth = args
        .growth
        .or(env.capacity.as_ref().map(|c| c.growth_factor))
        .unwrap_or(1.0);
    let mut out = String::new();
    match customers {
        Some(n) => {
            let plan = capacity::plan(n, growth, env.max_buckets_per_account, env.s3_bucket_quota)?;
            for l in plan.lines(env.storage_accounts.len()) {
                out.push_str(&l);
                out.push('\n');
            }
        }
        None => out.push_str(
            "no customer figure: pass --customers N (or set capacity.expected_customers)\n",
        ),
    }
    print!("{out}");
    if args.offline {
        return Ok(ExitCode::SUCCESS);
    }
    anyhow::ensure!(
        !env.storage_accounts.is_empty(),
        "{} lists no storage accounts to count (discovery mode): see `xacct accounts`",
        args.env.display()
    );
    let rt = runtime()?;
    let aws = args.live.load(&rt, "capacity", &env.region);
    let counts = rt.block_on(live::all_counts(
        &aws,
        &args.audit_role,
        &env,
        &env.storage_accounts,
    ));
    let max = u64::from(env.max_buckets_per_account);
    let quota = u64::from(env.s3_bucket_quota);
    println!();
    println!(
        "{:<14} {:>9} {:>9} {:>9} {:>12}",
        "account", "customer", "all", "headroom", "quota left"
    );
    let (mut failed, mut used) = (0usize, 0u64);
    for (acct, r) in &counts {
        match r {
            Ok(c) => {
                used += c.customer;
                println!(
                    "{acct:<14} {:>9} {:>9} {:>9} {:>12}",
                    c.customer,
                    c.total,
                    max as i64 - c.customer as i64,
                    quota as i64 - c.total as i64
                );
            }
            Err(e) => {
                failed += 1;
                println!("{acct:<14} unreachable: {e}");
            }
        }
    }
    let reachable = counts.len() - failed;
    println!(
        "total: {used} customer bucket(s) in {reachable} reachable account(s), {} of {} free",
        (reachable as u64 * max).saturating_sub(used),
        reachable as u64 * max
    );
    if failed > 0 {
        eprintln!("xacct capacity: {failed} account(s) could not be read");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
