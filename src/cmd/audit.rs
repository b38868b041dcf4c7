//! `xacct audit`: the offline permission audit of an environment's rendered
//! documents (`--env`) or of a Terraform plan (`--plan`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::audit::{self, Expect, Input, Severity, plan, report};
use crate::model::{Environment, LoadOptions};

/// Output formats of `xacct audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Sarif,
}

/// Audit the IAM documents of an environment (or a Terraform plan) offline.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).multiple(true).args(["env", "plan"])))]
pub struct Args {
    /// Environment spec: audits the documents built from it and the committed
    /// `generated/<env>/` files; with `--plan`, states the intent the plan is judged against.
    #[arg(long, value_name = "FILE")]
    pub env: Option<PathBuf>,
    /// Terraform plan JSON (`terraform show -json plan.out`), repeatable (primary and storage roots).
    #[arg(long, value_name = "FILE")]
    pub plan: Vec<PathBuf>,
    /// Root of the rendered output; `<dir>/<short_name>/` is scanned.
    #[arg(long, value_name = "DIR", default_value = "generated")]
    pub generated: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value = "high")]
    pub fail_on: Severity,
}

/// Every file under `dir`, as `(path, text)`, sorted; binary files are skipped.
pub fn read_tree(dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in
            std::fs::read_dir(&d).with_context(|| format!("cannot list `{}`", d.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                out.push((path.display().to_string(), text));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The audit input of `--env`: the documents built from the spec plus the
/// committed rendered files under `<generated>/<short_name>/`.
pub fn env_input(spec: &Path, generated: &Path) -> anyhow::Result<Input> {
    let env = Environment::load(spec, LoadOptions::default())?.env;
    let mut input = Input::from_env(&env);
    let dir = generated.join(&env.short_name);
    anyhow::ensure!(
        dir.is_dir(),
        "rendered files `{}` not found: run `xacct render --env {}` first or pass --generated",
        dir.display(),
        spec.display()
    );
    input.add_texts(read_tree(&dir)?);
    Ok(input)
}

/// The audit input of `--plan` (with the intent of `--env` when given).
pub fn plan_input(plans: &[PathBuf], spec: Option<&Path>) -> anyhow::Result<Input> {
    let expect = match spec {
        Some(s) => Some(Expect::from_env(
            &Environment::load(s, LoadOptions::default())?.env,
        )),
        None => None,
    };
    let mut parsed = Vec::new();
    for p in plans {
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("cannot read plan `{}`", p.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text).with_context(|| {
            format!(
                "plan `{}` is not JSON (use `terraform show -json`)",
                p.display()
            )
        })?;
        parsed.push((p.display().to_string(), value));
    }
    plan::input_from_plans(&parsed, expect).context("cannot read the plan's IAM documents")
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let input = if args.plan.is_empty() {
        let spec = args.env.as_deref().context("--env or --plan is required")?;
        env_input(spec, &args.generated)?
    } else {
        plan_input(&args.plan, args.env.as_deref())?
    };
    // With the environment known, also compare every document with the rendered one by access.
    let findings = match args.env.as_deref() {
        Some(spec) => {
            let env = Environment::load(spec, LoadOptions::default())?.env;
            audit::run_with_rendered(&input, &crate::iam::documents::Documents::build(&env))
        }
        None => audit::run(&input),
    };
    let artifact = args
        .plan
        .first()
        .or(args.env.as_ref())
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let text = match args.format {
        Format::Table => report::table(&findings),
        Format::Json => report::json(&findings),
        Format::Sarif => report::sarif(&findings, &artifact),
    };
    use std::io::Write;
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(if findings.iter().any(|f| f.severity >= args.fail_on) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
