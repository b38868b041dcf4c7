//! `xacct init --from-function NAME`: a starting environment spec from a
//! deployed function (see `crate::adopt::init`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::adopt::init;
use crate::model::{Environment, LoadOptions};

use super::live::{LiveArgs, check_role_name, runtime};

/// Write a starting `environments/<env>.toml` from a deployed function.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The deployed provisioning function (in the caller's account and region).
    #[arg(long, value_name = "NAME")]
    pub from_function: String,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Role assumed in each storage account to list its buckets (bucket prefix).
    #[arg(long, value_name = "NAME", default_value = crate::contract::DEFAULT_BOOTSTRAP_ROLE)]
    pub audit_role: String,
    /// The spec to write (default `<environments>/<short_name>.toml`).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Folder of the default output file.
    #[arg(long, value_name = "DIR", default_value = "environments")]
    pub environments: PathBuf,
    /// `environment.short_name` (default: derived from the environment name).
    #[arg(long, value_name = "NAME")]
    pub short_name: Option<String>,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    check_role_name("--audit-role", &args.audit_role)?;
    let rt = runtime()?;
    let aws = args.live.load(&rt, "init", "us-east-1")?;
    let facts = rt
        .block_on(init::read(&aws, &args.from_function, &args.audit_role))
        .map_err(|e| anyhow::Error::new(e).context("reading the function"))?;
    let draft = init::draft(&args.from_function, &facts, args.short_name.as_deref());
    let path = args
        .out
        .clone()
        .unwrap_or_else(|| args.environments.join(format!("{}.toml", draft.short_name)));
    anyhow::ensure!(
        args.force || !path.exists(),
        "`{}` exists: pass --force to overwrite it, or --out to write elsewhere",
        path.display()
    );
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| crate::render::output::WriteError {
            path: parent.to_owned(),
            error: e,
        })?;
    }
    std::fs::write(&path, &draft.text)
        .map_err(|e| crate::render::output::WriteError {
            path: path.clone(),
            error: e,
        })
        .context("writing the spec")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "wrote {}", path.display())?;
    for (field, why) in &draft.todo {
        writeln!(out, "needs a human: `{field}`: {why}")?;
    }
    match Environment::from_str(&path, &draft.text, LoadOptions::default()) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                writeln!(out, "warning: {w}")?;
            }
            writeln!(
                out,
                "{} passes `xacct validate`; next: `xacct adopt --env {}`",
                path.display(),
                path.display()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            writeln!(
                out,
                "{} does not validate yet; fill in the fields above, then run `xacct validate --env {}`:\n{e}",
                path.display(),
                path.display()
            )?;
            Ok(ExitCode::from(1))
        }
    }
}
