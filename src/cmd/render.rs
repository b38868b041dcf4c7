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
    /// Print how long each phase took (on stderr).
    #[arg(long)]
    pub timings: bool,
    /// Output format (json: per environment what was written, or with
    /// `--check` the stale, missing and orphaned files).
    #[arg(long, value_enum, default_value_t)]
    pub format: super::TextFormat,
}

/// `render --format json`: the envelope's own fields.
#[derive(Debug, serde::Serialize)]
struct RenderJson {
    /// `--check`: nothing was written.
    check: bool,
    environments: Vec<EnvJson>,
}

/// One environment. Fields of the other mode are null: `written`, `unchanged`,
/// `removed` when rendering; `stale`, `missing`, `orphaned`, `adopt` with `--check`.
#[derive(Debug, Default, serde::Serialize)]
struct EnvJson {
    environment: String,
    spec: String,
    /// `<out>/<short_name>`.
    dir: String,
    /// Files the render produces.
    files: usize,
    written: Option<Vec<String>>,
    unchanged: Option<usize>,
    removed: Option<Vec<String>>,
    /// Committed files whose content differs from the render (and files of
    /// `xacct adopt` that import into an account the spec no longer has).
    stale: Option<Vec<String>>,
    /// Rendered files not on disk.
    missing: Option<Vec<String>>,
    /// Files of the previous render that are no longer rendered.
    orphaned: Option<Vec<String>>,
    /// Files written by `xacct adopt` (not rendered, not orphans).
    adopt: Option<Vec<String>>,
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
    let text = args.format == super::TextFormat::Text;
    let mut json = Vec::new();
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
        let mut entry = EnvJson {
            environment: env.name.clone(),
            spec: crate::envelope::path(spec),
            dir: crate::envelope::path(&dir),
            files: files.len(),
            ..EnvJson::default()
        };
        if args.check {
            let drift = output::check(&dir, &files);
            let (mut stale, mut missing, mut orphaned, mut adopt) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for d in &drift {
                if text {
                    println!("{d}");
                    if let output::Drift::Stale { diff, .. } = d {
                        println!("{diff}");
                    }
                }
                let p = crate::envelope::path(d.path());
                match d {
                    output::Drift::Stale { .. } => stale.push(p),
                    output::Drift::Missing(_) => missing.push(p),
                    output::Drift::Orphan(_) => orphaned.push(p),
                }
            }
            if drift.is_empty() && text {
                println!("{}: up to date ({} files)", dir.display(), files.len());
            }
            drifted += drift.len();
            // `xacct adopt`'s files: not rendered, not orphans; stale when they
            // import into an account the spec no longer has.
            for (path, why) in crate::adopt::imports::check(&dir, &env) {
                match why {
                    None => {
                        if text {
                            println!(
                                "adopt:   {} (written by `xacct adopt`; `xacct adopt --clean` removes it once the import is applied)",
                                path.display()
                            );
                        }
                        adopt.push(crate::envelope::path(&path));
                    }
                    Some(why) => {
                        if text {
                            println!(
                                "stale:   {} ({why}; run `xacct adopt` again)",
                                path.display()
                            );
                        }
                        stale.push(crate::envelope::path(&path));
                        drifted += 1;
                    }
                }
            }
            entry.stale = Some(stale);
            entry.missing = Some(missing);
            entry.orphaned = Some(orphaned);
            entry.adopt = Some(adopt);
        } else {
            let report = output::write(&dir, &files)?;
            if text {
                println!(
                    "{}: {} written, {} unchanged, {} removed",
                    dir.display(),
                    report.written.len(),
                    report.unchanged,
                    report.removed.len()
                );
            }
            entry.written = Some(crate::envelope::paths(&report.written));
            entry.unchanged = Some(report.unchanged);
            entry.removed = Some(crate::envelope::paths(&report.removed));
        }
        json.push(entry);
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
    let code = u8::from(drifted > 0);
    if !text {
        let sum = |f: fn(&EnvJson) -> Option<usize>| -> usize { json.iter().filter_map(f).sum() };
        let mut summary = crate::envelope::Summary::new(code)
            .count("environments", json.len())
            .count("files", json.iter().map(|e| e.files).sum::<usize>());
        summary = if args.check {
            summary
                .count("stale", sum(|e| e.stale.as_ref().map(Vec::len)))
                .count("missing", sum(|e| e.missing.as_ref().map(Vec::len)))
                .count("orphaned", sum(|e| e.orphaned.as_ref().map(Vec::len)))
        } else {
            summary
                .count("written", sum(|e| e.written.as_ref().map(Vec::len)))
                .count("unchanged", sum(|e| e.unchanged))
                .count("removed", sum(|e| e.removed.as_ref().map(Vec::len)))
        };
        let environment = match json.as_slice() {
            [one] => Some(one.environment.clone()),
            _ => None,
        };
        crate::envelope::Envelope::new(
            "render",
            environment.as_deref(),
            summary,
            RenderJson {
                check: args.check,
                environments: json,
            },
        )
        .print()?;
    } else if drifted > 0 {
        println!(
            "{drifted} file(s) differ from what the specs and templates render: run `xacct render --all` and commit generated/."
        );
    }
    Ok(crate::envelope::exit(code))
}
