//! The command line: one file per subcommand, each with a documented `Args`
//! struct and a `run` that returns the process exit code.
//!
//! Exit codes: 0 clean, 1 findings (or a failed AWS step), 2 usage or input error.

pub mod accounts;
pub mod adopt;
pub mod audit;
pub mod capacity;
pub mod completions;
pub mod diff;
pub mod explain;
pub mod init;
pub mod live;
pub mod offboard;
pub mod onboard;
pub mod org;
pub mod package;
pub mod progress;
pub mod render;
pub mod stackset;
pub mod validate;
pub mod verify;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Render, audit, verify and onboard the cross-account S3 bucket provisioning setup.
#[derive(Debug, Parser)]
#[command(name = "xacct", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 clean, 1 findings or a failed AWS step, 2 usage or input error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Print findings and results only: no progress, no warnings.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// No progress bar or progress lines (results and warnings still print).
    #[arg(long, global = true)]
    pub no_progress: bool,
}

/// How much the terminal is told besides results, set once from the global flags.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ui {
    pub quiet: bool,
    pub progress: bool,
}

static UI: std::sync::OnceLock<Ui> = std::sync::OnceLock::new();

/// The global output settings (defaults when `run` was not called, e.g. in tests).
pub fn ui() -> Ui {
    UI.get().copied().unwrap_or(Ui {
        quiet: false,
        progress: true,
    })
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render Terraform, CloudFormation and IAM JSON for one or all environments.
    #[command(
        after_help = "Examples:\n  xacct render --env environments/dev.toml\n  xacct render --all\n  xacct render --all --check"
    )]
    Render(render::Args),
    /// Check an environment spec without rendering anything.
    #[command(
        after_help = "Examples:\n  xacct validate --env environments/prod.toml\n  xacct validate --env environments/prod.toml --strict"
    )]
    Validate(validate::Args),
    /// Audit the IAM documents offline: rendered (`--env`) or planned (`--plan`).
    #[command(
        after_help = "Examples:\n  xacct audit --env environments/prod.toml\n  xacct audit --plan plan.json --env environments/dev.toml --format sarif\n\nExit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or input error."
    )]
    Audit(audit::Args),
    /// What a change grants or removes: the access, settings and capacity of the working tree against a base revision, decided exactly.
    #[command(
        after_help = "Examples:\n  xacct diff\n  xacct diff --base origin/main --format markdown\n  xacct diff --base-dir ../main-checkout --env environments/prod.toml --format json\n\nExit codes: 0 nothing granted or weakened, 1 new access or a weakened setting at or above --fail-on (or a comparison that cannot be decided), 2 usage or input error."
    )]
    Diff(diff::Args),
    /// Explain the decision for one request, with the statements behind it.
    #[command(
        after_help = "Examples:\n  xacct explain --env environments/dev.toml --principal arn:aws:iam::100000000002:role/S3BucketManager --action s3:CreateBucket --resource arn:aws:s3:::ambra-dev-acme"
    )]
    Explain(explain::Args),
    /// Build the provisioning Lambda and write its `bootstrap` zip.
    #[command(after_help = "Examples:\n  xacct package\n  xacct package --out /tmp/bootstrap.zip")]
    Package(package::Args),
    /// Verify a deployed environment live: roles, policies, function, PHR bucket, trust chain.
    #[command(
        after_help = "Examples:\n  xacct verify --env environments/dev.toml\n  xacct verify --env environments/dev.toml --canary --format json\n  xacct verify --env environments/dev.toml --endpoint-url http://127.0.0.1:5000\n\nExit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or input error."
    )]
    Verify(verify::Args),
    /// Accounts needed for N customers, and live bucket counts and headroom per storage account.
    #[command(
        after_help = "Examples:\n  xacct capacity --env environments/prod.toml --customers 5000 --growth 2\n  xacct capacity --env environments/dev.toml --offline\n  xacct capacity --env environments/dev.toml --reconcile\n\nExit codes: 0 ok, 1 an account or the state table could not be read or a counter drifts (without --reconcile) or could not be reconciled, 2 usage or input error."
    )]
    Capacity(capacity::Args),
    /// Add an existing account to an environment's storage accounts and re-render it.
    #[command(
        after_help = "Examples:\n  xacct onboard --env environments/prod.toml --account 123456789012\n\nExit codes: 0 done or nothing to do, 1 a failed AWS step, 2 bad input (account ID, primary account, spec)."
    )]
    Onboard(onboard::Args),
    /// Remove an empty storage account from an environment and re-render it (buckets are never deleted).
    #[command(
        after_help = "Examples:\n  xacct offboard --env environments/prod.toml --account 123456789012\n\nExit codes: 0 done or nothing to do, 1 the account still holds customer buckets or could not be read, 2 bad input."
    )]
    Offboard(offboard::Args),
    /// List Organizations accounts tagged `ambra-storage` and diff them against the spec.
    #[command(
        after_help = "Examples:\n  xacct accounts --env environments/prod.toml\n  xacct accounts --env environments/prod.toml --format json\n  xacct accounts --env environments/prod.toml --management-role arn:aws:iam::111111111111:role/xacct-org-read --external-id X\n\nExit codes: 0 in sync, 1 a difference or a failed AWS step, 2 usage or input error."
    )]
    Accounts(accounts::Args),
    /// Deploy the storage stack to an OU as a service-managed StackSet, so accounts joining the OU get it.
    #[command(
        after_help = "Examples:\n  xacct stackset --env environments/prod.toml --ou ou-ab12-cd34ef56\n  xacct stackset --env environments/prod.toml --ou ou-ab12-cd34ef56 --apply --management-role arn:aws:iam::111111111111:role/xacct-org-admin --external-id X\n\nExit codes: 0 printed or applied, 1 a failed AWS step, 2 usage or input error (OU ID, stale generated/)."
    )]
    Stackset(stackset::Args),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(
        after_help = "Examples:\n  xacct completions bash > /etc/bash_completion.d/xacct\n  xacct completions zsh > \"${fpath[1]}/_xacct\"\n  xacct completions fish > ~/.config/fish/completions/xacct.fish"
    )]
    Completions(completions::Args),
    /// Take over a setup that exists: import blocks for the rendered resources that exist, and the access change of applying.
    #[command(
        after_help = "Examples:\n  xacct adopt --env environments/prod.toml\n  xacct adopt --env environments/prod.toml --format json\n  xacct adopt --env environments/prod.toml --clean\n\nExit codes: 0 applying changes no access, 1 it does (or an account could not be read), 2 usage or input error."
    )]
    Adopt(adopt::Args),
    /// Write a starting environment spec from a deployed function (`--from-function NAME`).
    #[command(
        after_help = "Examples:\n  xacct init --from-function s3-bucket-provisioning --profile prod-admin\n  xacct init --from-function s3-bucket-provisioning --out environments/prod.toml --force\n\nExit codes: 0 written and valid, 1 written but fields need a human (named) or a failed AWS step, 2 usage or input error (an existing file without --force)."
    )]
    Init(init::Args),
    /// The organization around an environment: `org snapshot` reads its SCPs, RCPs and account paths for the audit.
    #[command(
        after_help = "Examples:\n  xacct org snapshot --env environments/prod.toml\n  xacct org snapshot --env environments/prod.toml --check\n\nExit codes: 0 written or in sync, 1 drift (--check) or a failed AWS step, 2 usage or input error."
    )]
    Org(org::Args),
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let _ = UI.set(Ui {
        quiet: cli.quiet,
        progress: !cli.quiet && !cli.no_progress,
    });
    match cli.command {
        Command::Render(args) => render::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Package(args) => package::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Capacity(args) => capacity::run(args),
        Command::Onboard(args) => onboard::run(args),
        Command::Offboard(args) => offboard::run(args),
        Command::Accounts(args) => accounts::run(args),
        Command::Stackset(args) => stackset::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Adopt(args) => adopt::run(args),
        Command::Init(args) => init::run(args),
        Command::Org(args) => org::run(args),
    }
}

/// `--fail-on`: the clap-facing twin of [`crate::audit::Severity`] (the library
/// knows nothing about clap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl From<FailOn> for crate::audit::Severity {
    fn from(f: FailOn) -> Self {
        use crate::audit::Severity;
        match f {
            FailOn::Info => Severity::Info,
            FailOn::Low => Severity::Low,
            FailOn::Medium => Severity::Medium,
            FailOn::High => Severity::High,
            FailOn::Critical => Severity::Critical,
        }
    }
}

/// `--format` of the commands whose text output is not a table: `text`
/// (alias `table`, the default) or `json` (the envelope of `crate::envelope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TextFormat {
    #[default]
    #[value(alias = "table")]
    Text,
    Json,
}

/// A step against AWS failed: exit code 1, not 2 (the input was fine).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct StepFailed(pub anyhow::Error);

/// Prints an error once, with its whole cause chain, and maps it to an exit code.
pub fn report(err: &anyhow::Error) -> ExitCode {
    if is_broken_pipe(err) {
        return ExitCode::SUCCESS;
    }
    let _ = writeln!(std::io::stderr(), "xacct: {err:#}");
    if is_step_failure(err) {
        ExitCode::from(1)
    } else {
        ExitCode::from(2)
    }
}

/// A failed AWS step or write: exit code 1. Anything else is a usage or input error (2).
fn is_step_failure(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.is::<StepFailed>()
            || e.is::<crate::aws::AwsError>()
            || e.is::<crate::render::output::WriteError>()
    })
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Loads and validates a spec with default options, printing its warnings.
pub(crate) fn load_env(path: &std::path::Path) -> anyhow::Result<crate::model::Environment> {
    let loaded = crate::model::Environment::load(path, crate::model::LoadOptions::default())?;
    print_warnings(&loaded.warnings);
    Ok(loaded.env)
}

/// Prints spec warnings to stderr (not with `--quiet`).
pub(crate) fn print_warnings(warnings: &[crate::model::Diagnostic]) {
    if ui().quiet {
        return;
    }
    let mut err = std::io::stderr().lock();
    for w in warnings {
        let _ = writeln!(err, "xacct: {w}");
    }
}
