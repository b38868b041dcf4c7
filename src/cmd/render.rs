//! `xacct render`: write (or `--check`) `generated/<env>/` for one or all environments.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use crate::model::{Environment, LoadOptions};
use crate::render::{Renderer, output};

/// Render the cross-account setup of one or all environments.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("which").args(["env", "all"])))]
pub struct Args {
    /// Environment spec to render (repeatable). Required unless `--all`, or
    /// `--check` (which then checks every environment).
    #[arg(long, value_name = "FILE", required_unless_present_any = ["all", "check"])]
    pub env: Vec<PathBuf>,
    /// Render every `*.toml` in the environments folder.
    #[arg(long)]
    pub all: bool,
    /// Folder searched by `--all`.
    #[arg(long, value_name = "DIR", default_value = "environments")]
    pub environments: PathBuf,
    /// Output root: each environment goes to `<out>/<short_name>/`.
    #[arg(long, value_name = "DIR", default_value = "generated")]
    pub out: PathBuf,
    /// Write nothing; exit 1 and list every stale, missing or orphaned file.
    #[arg(long)]
    pub check: bool,
    /// Treat capacity warnings as errors.
    #[arg(long)]
    pub strict: bool,
    /// Print how long each phase took.
    #[arg(long)]
    pub timings: bool,
}

/// The spec files `--all` renders, sorted.
pub fn all_specs(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut specs = Vec::new();
    for entry in std::fs::read_dir(dir)
        .with_context(|| format!("cannot list environment specs in `{}`", dir.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            specs.push(path);
        }
    }
    specs.sort();
    anyhow::ensure!(
        !specs.is_empty(),
        "no `*.toml` environment specs in `{}`",
        dir.display()
    );
    Ok(specs)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let specs = if args.all || args.env.is_empty() {
        all_specs(&args.environments)?
    } else {
        args.env.clone()
    };
    let renderer = Renderer::new()?;
    let mut drifted = 0usize;
    let mut seen = std::collections::BTreeMap::new();
    for spec in &specs {
        let t0 = Instant::now();
        let loaded = Environment::load(
            spec,
            LoadOptions {
                strict: args.strict,
            },
        )?;
        super::print_warnings(&loaded.warnings);
        let env = loaded.env;
        if let Some(other) = seen.insert(env.short_name.clone(), spec.clone()) {
            anyhow::bail!(
                "`{}` and `{}` both use environment.short_name = {:?}: each environment needs its own output folder",
                other.display(),
                spec.display(),
                env.short_name
            );
        }
        let t1 = Instant::now();
        let files = renderer
            .render(&env)
            .with_context(|| format!("rendering `{}`", spec.display()))?;
        let t2 = Instant::now();
        let dir = args.out.join(&env.short_name);
        if args.check {
            let drift = output::check(&dir, &files);
            for d in &drift {
                println!("{d}");
                if let output::Drift::Stale { diff, .. } = d {
                    println!("{diff}");
                }
            }
            if drift.is_empty() {
                println!("{}: up to date ({} files)", dir.display(), files.len());
            }
            drifted += drift.len();
        } else {
            let report = output::write(&dir, &files)?;
            println!(
                "{}: {} written, {} unchanged, {} removed",
                dir.display(),
                report.written.len(),
                report.unchanged,
                report.removed.len()
            );
        }
        if args.timings {
            eprintln!(
                "timings {}: load+validate {:?}, render {:?} ({} files), {} {:?}",
                env.short_name,
                t1 - t0,
                t2 - t1,
                files.len(),
                if args.check { "check" } else { "write" },
                t2.elapsed()
            );
        }
    }
    if args.timings {
        eprintln!("timings total: {:?}", started.elapsed());
    }
    if drifted > 0 {
        println!(
            "{drifted} file(s) differ from what the specs and templates render: run `xacct render --all` and commit generated/."
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
