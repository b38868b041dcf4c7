//! `xacct verify`: confirms against AWS that what is deployed is what was
//! rendered, and that the trust chain works (see `crate::verify`).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::audit::Severity;
use crate::model::{Environment, LoadOptions};
use crate::verify::{self, Options, Target, report};

/// Output formats of `xacct verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Sarif,
}

/// Verify a deployed environment live, account by account.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Environment spec the deployment was rendered from.
    #[arg(long, value_name = "FILE")]
    pub env: PathBuf,
    /// AWS profile (otherwise the standard credential chain).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region of the calls (default: the chain's, else the spec's).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Endpoint for every AWS service (emulators); S3 then uses path-style addressing.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Create, configure, check and delete a canary bucket in each storage account.
    #[arg(long)]
    pub canary: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value = "high")]
    pub fail_on: Severity,
    /// Storage accounts checked at the same time (each has about 3 sequential
    /// round trips; STS and IAM rate limits are per account, and every storage
    /// account is a different account).
    #[arg(long, value_name = "N", default_value_t = verify::DEFAULT_CONCURRENCY, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Read-only role assumed in each storage account to read its IAM.
    #[arg(long, value_name = "NAME", default_value = crate::contract::DEFAULT_BOOTSTRAP_ROLE)]
    pub audit_role: String,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let loaded = Environment::load(&args.env, LoadOptions::default())?;
    crate::cmd::print_warnings(&loaded.warnings);
    let env = loaded.env;
    let role_ok = !args.audit_role.is_empty()
        && args.audit_role.len() <= 64
        && args
            .audit_role
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    anyhow::ensure!(
        role_ok,
        "--audit-role must be a role name: 1-64 of [A-Za-z0-9+=,.@_-] (got {:?})",
        args.audit_role
    );
    anyhow::ensure!(
        !args.canary || env.allow_canary,
        "--canary needs `storage.allow_canary = true` in {}: without it S3BucketManager may not delete the canary bucket",
        args.env.display()
    );
    anyhow::ensure!(
        !env.discover || !env.storage_accounts.is_empty(),
        "{} discovers its storage accounts through AWS Organizations; list them in storage.accounts to verify them",
        args.env.display()
    );
    let opts = Options {
        target: Target {
            profile: args.profile,
            region: args.region,
            endpoint_url: args.endpoint_url,
        },
        canary: args.canary,
        concurrency: usize::from(args.concurrency),
        audit_role: args.audit_role,
        progress: Some(std::io::stderr().is_terminal()),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let r = rt.block_on(verify::run(&env, &opts));
    let text = match args.format {
        Format::Table => report::table(&r),
        Format::Json => report::json(&r),
        Format::Sarif => report::sarif(&r, &args.env.display().to_string()),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(if r.findings.iter().any(|f| f.severity >= args.fail_on) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
