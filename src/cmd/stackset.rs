//! `xacct stackset`: print (or, with `--apply`, run) the steps that deploy the
//! rendered storage-account template as a service-managed StackSet with
//! automatic deployment to the storage OU.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::StepFailed;
use super::live::{LiveArgs, runtime};
use crate::onboard::stackset::{self, TEMPLATE};
use crate::render::{Renderer, output};

/// Deploy the storage stack to an OU as a service-managed StackSet (auto-deployment on).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Environment spec.
    #[arg(long, value_name = "FILE")]
    pub env: PathBuf,
    /// Organizational unit (or root) to target; repeat for several.
    #[arg(long, value_name = "OU")]
    pub ou: Vec<String>,
    /// Make the calls (CreateStackSet or UpdateStackSet, CreateStackInstances) instead of printing them.
    #[arg(long)]
    pub apply: bool,
    /// Role in the management account to make the calls through (default: current credentials).
    #[arg(long, value_name = "ARN", requires = "apply")]
    pub management_role: Option<String>,
    /// `sts:ExternalId` for --management-role.
    #[arg(long, value_name = "ID", requires = "management_role")]
    pub external_id: Option<String>,
    /// Output root the environment was rendered into (`<out>/<short_name>/`).
    #[arg(long, value_name = "DIR", default_value = "generated")]
    pub out: PathBuf,
    /// Seconds to wait for each stack set operation.
    #[arg(long, value_name = "SECS", default_value_t = 900)]
    pub timeout: u64,
    #[command(flatten)]
    pub live: LiveArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let env = super::load_env(&args.env)?;
    for ou in &args.ou {
        super::live::check_ou_id(ou)?;
    }
    if let Some(r) = &args.management_role {
        super::live::check_role_arn("--management-role", r)?;
    }
    // The stack set deploys what `generated/` holds: it must be what the spec renders.
    let out_dir = args.out.join(&env.short_name);
    let files = Renderer::new()?.render(&env)?;
    let drift = output::check(&out_dir, &files);
    anyhow::ensure!(
        drift.is_empty(),
        "`{}` is not what `{}` renders ({} difference(s)): run `xacct render --env {}` first",
        out_dir.display(),
        args.env.display(),
        drift.len(),
        args.env.display()
    );
    let template_path = out_dir.join(TEMPLATE);
    if !args.apply {
        println!(
            "# With management-account credentials (StackSets trusted access once per organization: aws cloudformation activate-organizations-access)."
        );
        println!("# Service-managed stack sets never deploy to the management account itself.");
        for c in stackset::commands(&env, &template_path.display().to_string(), &args.ou) {
            println!("{c}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    anyhow::ensure!(
        !args.ou.is_empty(),
        "--apply needs at least one --ou (the storage OU)"
    );
    anyhow::ensure!(
        env.phr_in_primary(),
        "{}: the PHR bucket is in storage account {}: --apply does not set its per-account CreatePhrBucket override; run the printed commands instead (xacct stackset --env {} --ou ...)",
        args.env.display(),
        env.phr.account,
        args.env.display()
    );
    let template = std::fs::read_to_string(&template_path)
        .with_context(|| format!("cannot read `{}`", template_path.display()))?;
    let rt = runtime()?;
    let base = args.live.load(&rt, "stackset", &env.region)?;
    let applied = rt.block_on(async {
        let aws = super::live::management_session(
            base,
            args.management_role.as_deref(),
            args.external_id.as_deref(),
        )
        .await
        .map_err(|e| StepFailed(anyhow::anyhow!("{e}; nothing was changed")))?;
        let org = aws.organizations();
        stackset::apply(
            &aws,
            &org,
            &env,
            &template,
            &args.ou,
            std::time::Duration::from_secs(args.timeout),
            &super::progress::stderr("stackset"),
        )
        .await
        .map_err(anyhow::Error::from)
    })?;
    for l in &applied.lines {
        println!("{l}");
    }
    println!(
        "{} stack instance(s) of {}:",
        applied.instances.len(),
        env.storage_stack_name()
    );
    for i in &applied.instances {
        println!("  {i}");
    }
    Ok(ExitCode::SUCCESS)
}
