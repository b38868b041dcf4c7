//! `xacct org snapshot`: the organization around an environment (issue 20),
//! read live and written as a deterministic, reviewable JSON file that
//! `xacct audit --env` then uses offline; `--check` compares the file with
//! the live organization.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use super::StepFailed;
use super::live::{LiveArgs, check_role_arn, management_session, runtime};
use crate::org::live::{OrgReadError, read};
use crate::org::{Snapshot, default_path, drift, rfc3339};

/// The organization around an environment: SCPs, RCPs and the accounts' paths.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: OrgCommand,
    /// Output format (json: the envelope, command `org`).
    #[arg(long, value_enum, default_value_t, global = true)]
    pub format: super::TextFormat,
}

#[derive(Debug, clap::Subcommand)]
pub enum OrgCommand {
    /// Read the organization (root, OUs, every environment account's path, every
    /// SCP and RCP on those paths) and write it as JSON, or compare with --check.
    #[command(
        after_help = "Examples:\n  xacct org snapshot --env environments/prod.toml\n  xacct org snapshot --env environments/prod.toml --check\n  xacct org snapshot --env environments/prod.toml --out /tmp/prod.org.json --management-role arn:aws:iam::111111111111:role/xacct-org-read\n\nExit codes: 0 written or in sync, 1 drift (--check) or a failed AWS step, 2 usage or input error."
    )]
    Snapshot(SnapshotArgs),
}

#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    /// Environment spec.
    #[arg(long, value_name = "FILE")]
    pub env: PathBuf,
    /// Snapshot file (default: `<folder of the spec>/<short_name>.org.json`).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Compare the file with the live organization instead of writing it: exit 1 on drift.
    #[arg(long)]
    pub check: bool,
    /// Role in the management account to read Organizations through (default: current credentials).
    #[arg(long, value_name = "ARN")]
    pub management_role: Option<String>,
    /// `sts:ExternalId` for --management-role.
    #[arg(long, value_name = "ID", requires = "management_role")]
    pub external_id: Option<String>,
    #[command(flatten)]
    pub live: LiveArgs,
}

/// `org --format json`: the envelope's own fields.
#[derive(Debug, serde::Serialize)]
struct OrgJson {
    /// `snapshot` (written or unchanged) or `check`.
    action: &'static str,
    file: String,
    organization_id: String,
    /// The file was (re)written by this run.
    written: bool,
    /// What differs between the file and the live organization (`--check`; empty otherwise).
    changes: Vec<String>,
    /// Environment accounts that are not in the organization.
    outside: Vec<String>,
    policies: usize,
}

/// When the snapshot is read: `SOURCE_DATE_EPOCH` when set (reproducible
/// runs), else the system clock.
fn now() -> String {
    let epoch = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default()
        });
    rfc3339(epoch)
}

/// Writes `text` to `path` atomically (a temp file beside it, then rename).
fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("org.json")
    ));
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            StepFailed(anyhow::anyhow!(
                "cannot write the organization snapshot `{}`: {e}; check the folder exists and is writable, or pass --out",
                path.display()
            ))
        })?;
    Ok(())
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let OrgCommand::Snapshot(a) = args.command;
    snapshot(a, args.format)
}

fn snapshot(args: SnapshotArgs, format: super::TextFormat) -> anyhow::Result<ExitCode> {
    let env = super::load_env(&args.env)?;
    if let Some(r) = &args.management_role {
        check_role_arn("--management-role", r)?;
    }
    let path = args
        .out
        .clone()
        .unwrap_or_else(|| default_path(&args.env, &env.short_name));
    // --check needs a readable file before any AWS call.
    let file = if args.check {
        Some(Snapshot::load(&path).with_context(|| "--check compares an existing snapshot")?)
    } else {
        None
    };
    let rt = runtime()?;
    let aws = rt
        .block_on(management_session(
            args.live.load(&rt, "org", &env.region)?,
            args.management_role.as_deref(),
            args.external_id.as_deref(),
        ))
        .map_err(|e| StepFailed(anyhow::anyhow!(e)))?;
    let accounts = crate::audit::input::env_accounts(&env);
    let live = match rt.block_on(read(&aws.organizations(), &accounts, &now())) {
        Ok(s) => s,
        Err(OrgReadError::NotInOrganization(m)) => {
            return Err(StepFailed(anyhow::anyhow!(
                "the caller's account is not in an AWS Organization ({m}): there is nothing to snapshot; without a snapshot `xacct audit` uses the environment's accounts as the zone of trust"
            ))
            .into());
        }
        Err(e) => return Err(StepFailed(anyhow::anyhow!(e)).into()),
    };
    let (code, written, changes) = match &file {
        Some(f) => {
            let changes = drift(f, &live);
            (u8::from(!changes.is_empty()), false, changes)
        }
        None => {
            // An unchanged organization leaves the file byte-identical (read_at included).
            let same = std::fs::read_to_string(&path)
                .ok()
                .and_then(|t| Snapshot::from_json(&path, &t).ok())
                .is_some_and(|old| {
                    Snapshot {
                        read_at: live.read_at.clone(),
                        ..old
                    } == live
                });
            if !same {
                write_atomic(&path, &live.to_json())?;
            }
            (0, !same, Vec::new())
        }
    };
    if format == super::TextFormat::Json {
        crate::envelope::Envelope::new(
            "org",
            Some(&env.name),
            crate::envelope::Summary::new(code)
                .count("changes", changes.len())
                .count("outside", live.outside.len())
                .count("policies", live.policies.len()),
            OrgJson {
                action: if args.check { "check" } else { "snapshot" },
                file: crate::envelope::path(&path),
                organization_id: live.organization_id.clone(),
                written,
                changes,
                outside: live.outside.clone(),
                policies: live.policies.len(),
            },
        )
        .print()?;
        return Ok(crate::envelope::exit(code));
    }
    for a in &live.outside {
        eprintln!(
            "xacct: environment account {a} is not in organization {}",
            live.organization_id
        );
    }
    if args.check {
        if changes.is_empty() {
            println!(
                "{}: in sync with organization {} ({} SCP/RCP on the environment's paths)",
                path.display(),
                live.organization_id,
                live.policies.len()
            );
        } else {
            println!(
                "{}: the organization changed since the snapshot ({} change(s)); run `xacct org snapshot --env {}` and review the diff:",
                path.display(),
                changes.len(),
                args.env.display()
            );
            for c in &changes {
                println!("  {c}");
            }
        }
    } else {
        println!(
            "{}: organization {} ({} account(s), {} SCP/RCP on the environment's paths){}",
            path.display(),
            live.organization_id,
            live.accounts.len(),
            live.policies.len(),
            if written { "" } else { ", unchanged" }
        );
    }
    Ok(crate::envelope::exit(code))
}
