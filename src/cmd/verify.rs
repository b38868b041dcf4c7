//! `xacct verify`: confirms against AWS that what is deployed is what was
//! rendered, and that the trust chain works (see `crate::verify`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::audit::Severity;
use crate::envelope::{self, Envelope, Summary};
use crate::verify::{self, Options, report};

use super::audit::Format;
use super::live::{LiveArgs, check_role_name, runtime};

/// Verify a deployed environment live, account by account.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Environment spec the deployment was rendered from.
    #[arg(long, value_name = "FILE")]
    pub env: PathBuf,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Create, configure, check and delete a canary bucket in each storage account.
    #[arg(long)]
    pub canary: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value = "high")]
    pub fail_on: super::FailOn,
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
    let env = super::load_env(&args.env)?;
    check_role_name("--audit-role", &args.audit_role)?;
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
        target: args.live.target("verify"),
        canary: args.canary,
        concurrency: usize::from(args.concurrency),
        audit_role: args.audit_role,
        progress: super::progress::stderr("verify"),
    };
    let rt = runtime()?;
    let aws = args.live.load(&rt, "verify", &env.region)?;
    let r = rt.block_on(verify::run_with(&env, &opts, aws))?;
    let code = u8::from(
        r.findings
            .iter()
            .any(|f| f.severity >= Severity::from(args.fail_on)),
    );
    let text = match args.format {
        Format::Table => report::table(&r),
        Format::Json => Envelope::new(
            "verify",
            Some(&env.name),
            Summary::new(code)
                .findings(&r.findings)
                .count("accounts", r.accounts.len())
                .count(
                    "unreachable",
                    r.accounts.iter().filter(|a| !a.reachable).count(),
                ),
            VerifyJson {
                fail_on: Severity::from(args.fail_on),
                caller: r.caller.as_deref(),
                chain_path: r.chain_path,
                accounts: &r.accounts,
                findings: envelope::findings(&r.findings),
            },
        )
        .to_json(),
        Format::Sarif => {
            // The rendered files next to the spec's repository: `generated/<short_name>`.
            let generated = crate::sarif::repo_root(Some(&args.env))
                .join("generated")
                .join(&env.short_name);
            crate::sarif::verify(&r, &args.env, Some(&generated))
        }
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(envelope::exit(code))
}

/// `verify --format json`: the envelope's own fields.
#[derive(serde::Serialize)]
struct VerifyJson<'a> {
    /// The `--fail-on` threshold `summary.exit_code` was computed against.
    fail_on: Severity,
    /// The ARN the checks ran as (null when the primary account was unreachable).
    caller: Option<&'a str>,
    chain_path: verify::ChainPath,
    /// One entry per account, with `finding_count` and `worst` (a severity or null).
    accounts: &'a [verify::AccountSummary],
    findings: Vec<envelope::Finding<'a>>,
}
