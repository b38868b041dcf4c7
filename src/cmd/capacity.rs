//! `xacct capacity`: accounts needed for N customers at growth G (configured
//! maximum and S3 quota), each storage account's live bucket count and
//! headroom, and its capacity counter in the provisioning-state table compared
//! with that count (drift); `--reconcile` corrects drifting counters.

use std::path::PathBuf;
use std::process::ExitCode;

use super::live::{LiveArgs, check_role_name, runtime};
use crate::aws::{self, Aws, AwsError, state};
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
    /// Set every drifting (or missing) capacity counter to the account's
    /// listing plus its creates in flight, with conditional writes.
    #[arg(long, conflicts_with = "offline")]
    pub reconcile: bool,
    /// Read-only role assumed in each storage account to count its buckets.
    #[arg(long, value_name = "NAME", default_value = crate::contract::DEFAULT_BOOTSTRAP_ROLE)]
    pub audit_role: String,
    /// Output format (json: the plan, each account's counts and counter, what was reconciled).
    #[arg(long, value_enum, default_value_t)]
    pub format: super::TextFormat,
    #[command(flatten)]
    pub live: LiveArgs,
}

/// `capacity --format json`: the envelope's own fields.
#[derive(Debug, Default, serde::Serialize)]
struct CapacityJson {
    offline: bool,
    reconcile: bool,
    /// The arithmetic; null without a customer figure.
    plan: Option<PlanJson>,
    /// Live counts, one per storage account (empty with `--offline`).
    accounts: Vec<AccountJson>,
    /// The provisioning-state table (null with `--offline`).
    state_table: Option<TableJson>,
    /// Accounts whose counter differs from the listing (or is missing, with `--reconcile`).
    drifting: Vec<String>,
    reconciled: Vec<ReconciledJson>,
    /// Accounts `--reconcile` could not correct, with the reason.
    unresolved: Vec<AccountError>,
}

#[derive(Debug, serde::Serialize)]
struct PlanJson {
    #[serde(flatten)]
    plan: capacity::Plan,
    accounts_in_spec: usize,
    /// Accounts to onboard to reach `accounts_configured` (0: enough).
    accounts_to_add: u64,
}

#[derive(Debug, Default, serde::Serialize)]
struct AccountJson {
    account: String,
    /// Null when the account could not be read (then `error` says why).
    customer_buckets: Option<u64>,
    total_buckets: Option<u64>,
    /// `max_buckets_per_account` minus customer buckets.
    headroom: Option<i64>,
    /// The S3 bucket quota minus all buckets.
    quota_left: Option<i64>,
    /// The capacity counter in the state table (null: none or unreadable).
    counter: Option<u64>,
    /// Counter minus listing beyond creates in flight (0: none).
    drift: Option<i64>,
    error: Option<String>,
}

#[derive(Debug, serde::Serialize)]
struct TableJson {
    name: String,
    error: Option<String>,
}

#[derive(Debug, serde::Serialize)]
struct ReconciledJson {
    account: String,
    before: Option<u64>,
    after: u64,
}

#[derive(Debug, serde::Serialize)]
struct AccountError {
    account: String,
    error: String,
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
    let text = args.format == super::TextFormat::Text;
    let mut json = CapacityJson {
        offline: args.offline,
        reconcile: args.reconcile,
        ..CapacityJson::default()
    };
    let mut out = String::new();
    match customers {
        Some(n) => {
            let plan = capacity::plan(n, growth, env.max_buckets_per_account, env.s3_bucket_quota)?;
            for l in plan.lines(env.storage_accounts.len()) {
                out.push_str(&l);
                out.push('\n');
            }
            let have = env.storage_accounts.len();
            json.plan = Some(PlanJson {
                accounts_to_add: plan.accounts_configured.saturating_sub(have as u64),
                accounts_in_spec: have,
                plan,
            });
        }
        None => out.push_str(
            "no customer figure: pass --customers N (or set capacity.expected_customers)\n",
        ),
    }
    if text {
        print!("{out}");
    }
    if args.offline {
        if !text {
            print_json(&env, 0, json)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    anyhow::ensure!(
        !env.storage_accounts.is_empty(),
        "{} lists no storage accounts to count (discovery mode): see `xacct accounts`",
        args.env.display()
    );
    let rt = runtime()?;
    let aws = args.live.load(&rt, "capacity", &env.region)?;
    let counts = rt.block_on(live::all_counts(
        &aws,
        &args.audit_role,
        &env,
        &env.storage_accounts,
    ));
    let table = state::Table::new(&aws, &env.region, &env.state_table_name());
    let state = rt.block_on(table.read(&env.storage_accounts));
    json.state_table = Some(TableJson {
        name: table.name().to_string(),
        error: state.as_ref().err().map(ToString::to_string),
    });
    let max = u64::from(env.max_buckets_per_account);
    let quota = u64::from(env.s3_bucket_quota);
    if text {
        println!();
        println!(
            "{:<14} {:>9} {:>9} {:>9} {:>12} {:>8} {:>6}",
            "account", "customer", "all", "headroom", "quota left", "counter", "drift"
        );
    }
    let (mut failed, mut used) = (0usize, 0u64);
    let mut drifting = Vec::new();
    for (acct, r) in &counts {
        match r {
            Ok(c) => {
                used += c.customer;
                let drift = state.as_ref().ok().and_then(|s| s.drift(acct, c.customer));
                let (counter, excess) = match drift {
                    Some(d) => (d.counter.to_string(), d.excess().to_string()),
                    None => ("-".to_owned(), "-".to_owned()),
                };
                if drift.is_some_and(|d| d.excess() != 0)
                    || (args.reconcile && state.is_ok() && drift.is_none())
                {
                    drifting.push(acct.clone());
                }
                let headroom = max as i64 - c.customer as i64;
                let quota_left = quota as i64 - c.total as i64;
                if text {
                    println!(
                        "{acct:<14} {:>9} {:>9} {headroom:>9} {quota_left:>12} {counter:>8} {excess:>6}",
                        c.customer, c.total,
                    );
                }
                json.accounts.push(AccountJson {
                    account: acct.clone(),
                    customer_buckets: Some(c.customer),
                    total_buckets: Some(c.total),
                    headroom: Some(headroom),
                    quota_left: Some(quota_left),
                    counter: drift.map(|d| d.counter),
                    drift: drift.map(|d| d.excess()),
                    error: None,
                });
            }
            Err(e) => {
                failed += 1;
                if text {
                    println!("{acct:<14} unreachable: {e}");
                }
                json.accounts.push(AccountJson {
                    account: acct.clone(),
                    error: Some(e.to_string()),
                    ..AccountJson::default()
                });
            }
        }
    }
    let reachable = counts.len() - failed;
    let free = (reachable as u64 * max).saturating_sub(used);
    if text {
        println!(
            "total: {used} customer bucket(s) in {reachable} reachable account(s), {free} of {} free",
            reachable as u64 * max
        );
    }
    if let Err(e) = &state {
        failed += 1;
        eprintln!(
            "xacct capacity: cannot read the capacity counters in table {}: {e}",
            table.name()
        );
    }
    let mut unresolved = 0usize;
    if !drifting.is_empty() && !args.reconcile {
        unresolved = drifting.len();
        if text {
            println!(
                "drift: the counter of {} differs from its listing (creates in flight allowed for); `xacct capacity --reconcile` corrects it",
                drifting.join(", ")
            );
        }
    }
    if args.reconcile {
        for acct in &drifting {
            let names = rt.block_on(customer_names(
                &aws,
                &args.audit_role,
                &env.bucket_prefix,
                acct,
            ));
            let fixed = match names {
                Ok(names) => rt.block_on(table.reconcile(acct, &names)),
                Err(e) => Err(e),
            };
            match fixed {
                Ok((before, after)) => {
                    if text {
                        println!(
                            "reconciled {acct}: counter {} -> {after}",
                            before.map_or("(none)".to_owned(), |b| b.to_string())
                        );
                    }
                    json.reconciled.push(ReconciledJson {
                        account: acct.clone(),
                        before,
                        after,
                    });
                }
                Err(e) => {
                    unresolved += 1;
                    eprintln!("xacct capacity: could not reconcile {acct}: {e}");
                    json.unresolved.push(AccountError {
                        account: acct.clone(),
                        error: e.to_string(),
                    });
                }
            }
        }
        if drifting.is_empty() && state.is_ok() && text {
            println!("reconcile: every counter matches its listing");
        }
    }
    if failed > 0 {
        eprintln!("xacct capacity: {failed} account(s) or the state table could not be read");
    }
    let code = u8::from(failed > 0 || unresolved > 0);
    json.drifting = drifting;
    if !text {
        print_json(&env, code, json)?;
    }
    Ok(crate::envelope::exit(code))
}

fn print_json(env: &crate::model::Environment, code: u8, json: CapacityJson) -> anyhow::Result<()> {
    let used: u64 = json
        .accounts
        .iter()
        .filter_map(|a| a.customer_buckets)
        .sum();
    let reachable = json.accounts.iter().filter(|a| a.error.is_none()).count() as u64;
    let free = (reachable * u64::from(env.max_buckets_per_account)).saturating_sub(used);
    crate::envelope::Envelope::new(
        "capacity",
        Some(&env.name),
        crate::envelope::Summary::new(code)
            .count("accounts", json.accounts.len())
            .count(
                "unreachable",
                json.accounts.iter().filter(|a| a.error.is_some()).count(),
            )
            .count("customer_buckets", used)
            .count("free", free)
            .count("drifting", json.drifting.len())
            .count("reconciled", json.reconciled.len()),
        json,
    )
    .print()?;
    Ok(())
}

/// The customer bucket names of one account, listed through the audit role.
async fn customer_names(
    base: &Aws,
    audit_role: &str,
    prefix: &str,
    account: &str,
) -> Result<Vec<String>, AwsError> {
    let arn = format!("arn:aws:iam::{account}:role/{audit_role}");
    let audit = aws::audit_session(base, &arn, account).await?;
    Ok(aws::bucket_names(&audit.s3())
        .await?
        .into_iter()
        .filter(|n| crate::contract::is_customer_bucket(prefix, n))
        .collect())
}
