//! `xacct accounts`: the Organizations accounts tagged `ambra-storage`,
//! diffed against the spec's storage accounts.

use std::path::PathBuf;
use std::process::ExitCode;

use super::StepFailed;
use super::live::{LiveArgs, check_role_arn, management_session, runtime};
use crate::contract;
use crate::onboard::live;

/// Output formats of `xacct accounts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// List tagged Organizations accounts and diff them against the spec.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Environment spec.
    #[arg(long, value_name = "FILE")]
    pub env: PathBuf,
    /// Role in the management account to read Organizations through (default: current credentials).
    #[arg(long, value_name = "ARN")]
    pub management_role: Option<String>,
    /// `sts:ExternalId` for --management-role.
    #[arg(long, value_name = "ID", requires = "management_role")]
    pub external_id: Option<String>,
    /// Output format (json: the accounts, the differences and `in_sync`).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub live: LiveArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let env = super::load_env(&args.env)?;
    if let Some(r) = &args.management_role {
        check_role_arn("--management-role", r)?;
    }
    let rt = runtime()?;
    let aws = rt
        .block_on(management_session(
            args.live.load(&rt, "accounts", &env.region)?,
            args.management_role.as_deref(),
            args.external_id.as_deref(),
        ))
        .map_err(|e| StepFailed(anyhow::anyhow!(e)))?;
    let org = aws.organizations();
    let accounts = rt
        .block_on(live::org_accounts(&org))
        .map_err(|e| StepFailed(anyhow::anyhow!(e)))?;
    if args.format == Format::Json {
        let report = live::AccountsReport::new(&accounts, &env.storage_accounts);
        let code = u8::from(!report.in_sync);
        crate::envelope::Envelope::new(
            "accounts",
            Some(&env.name),
            crate::envelope::Summary::new(code)
                .count("accounts", report.accounts.len())
                .count("missing_from_spec", report.missing_from_spec.len())
                .count("missing_tag", report.missing_tag.len())
                .count("suspended", report.suspended.len())
                .count("not_in_organization", report.not_in_organization.len()),
            &report,
        )
        .print()?;
        return Ok(crate::envelope::exit(code));
    }
    println!(
        "{:<14} {:<10} {:<8} {:<7} name",
        "account", "status", "tag", "in spec"
    );
    for a in &accounts {
        let in_spec = env.storage_accounts.contains(&a.id);
        if !(in_spec || a.tag.is_some()) {
            continue;
        }
        println!(
            "{:<14} {:<10} {:<8} {:<7} {}",
            a.id,
            a.status,
            a.tag.as_deref().unwrap_or("-"),
            if in_spec { "yes" } else { "no" },
            a.name
        );
    }
    let drift = live::diff(&accounts, &env.storage_accounts);
    for d in &drift {
        println!("{d}");
    }
    if drift.is_empty() {
        println!(
            "in sync: {} storage account(s) in `{}`, all tagged `{}` and ACTIVE",
            env.storage_accounts.len(),
            args.env.display(),
            contract::STORAGE_ACCOUNT_TAG
        );
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(1))
    }
}
