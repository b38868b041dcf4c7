//! `xacct diff`: the access a change grants or removes, for a pull request.
//!
//! The base side is a git revision (`--base REF`, default the merge base of
//! `HEAD` with `main`, else `HEAD`) or a checkout (`--base-dir DIR`); the head
//! side is the working tree. Each side's `environments/*.toml` and committed
//! `generated/` are read (git is only asked to list and print files of the
//! revision), then compared by `crate::diff`. No credentials, no network.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, bail};

use crate::audit::Severity;
use crate::diff::{self, EnvDiff, Side, report};
use crate::envelope::{self, Envelope, Summary};
use crate::model::{Environment, LoadOptions};

/// Output formats of `xacct diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For the terminal.
    Text,
    /// A pull-request comment.
    Markdown,
    /// The JSON envelope (`"command": "diff"`).
    Json,
}

/// Compare the access the working tree ships with a base revision's.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Git revision of the base side (default: the merge base of HEAD with `main`, else HEAD).
    #[arg(long, value_name = "REF", conflicts_with = "base_dir")]
    pub base: Option<String>,
    /// A checkout of the base side (its `environments/` and `generated/`), instead of a revision.
    #[arg(long, value_name = "DIR")]
    pub base_dir: Option<PathBuf>,
    /// Environment specs to compare, by their path in the working tree (default:
    /// every `environments/*.toml` of either side).
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub env: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Exit 1 when new access or a weakened setting is at or above this severity
    /// (new access is high or critical, a weakened setting medium to critical).
    #[arg(long, value_enum, default_value = "low")]
    pub fail_on: super::FailOn,
}

/// The files of one side: `environments/*.toml` and `generated/**`, by path
/// relative to the project directory.
#[derive(Debug, Default)]
struct Tree {
    files: BTreeMap<String, String>,
}

fn git(args: &[&str]) -> anyhow::Result<Vec<u8>> {
    let out = Command::new("git")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context(
            "cannot run `git`: install git, or pass --base-dir DIR with a checkout of the base",
        )?;
    if !out.status.success() {
        bail!(
            "`git {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}

/// `--base`, else the merge base of HEAD with `main`, else HEAD; with its commit.
fn base_revision(base: Option<&str>) -> anyhow::Result<(String, String)> {
    let rev = match base {
        Some(b) => b.to_owned(),
        None => match git(&["merge-base", "HEAD", "main"]) {
            Ok(out) => String::from_utf8_lossy(&out).trim().to_owned(),
            Err(_) => "HEAD".to_owned(),
        },
    };
    let commit = git(&["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")])
        .with_context(|| {
            format!("--base `{rev}` is not a commit of this repository: name a branch, tag or commit (e.g. --base origin/main)")
        })?;
    let label = base.unwrap_or(if rev == "HEAD" {
        "HEAD"
    } else {
        "merge base with main"
    });
    Ok((
        label.to_owned(),
        String::from_utf8_lossy(&commit).trim().to_owned(),
    ))
}

/// The files of `commit` under `environments/` and `generated/` (paths relative
/// to the current directory), read with one `ls-tree` and one `cat-file --batch`.
fn git_tree(commit: &str) -> anyhow::Result<Tree> {
    let list = git(&[
        "ls-tree",
        "-r",
        "-z",
        commit,
        "--",
        "environments",
        "generated",
    ])?;
    let mut entries = Vec::new();
    for rec in list.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let rec = String::from_utf8_lossy(rec);
        let Some((meta, path)) = rec.split_once('\t') else {
            continue;
        };
        let mut m = meta.split(' ');
        let (_, kind, sha) = (m.next(), m.next(), m.next());
        if kind == Some("blob")
            && let Some(sha) = sha
        {
            entries.push((path.to_owned(), sha.to_owned()));
        }
    }
    let mut child = Command::new("git")
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run `git cat-file`")?;
    let mut stdin = child.stdin.take().context("git cat-file has no stdin")?;
    let input: String = entries.iter().map(|(_, sha)| format!("{sha}\n")).collect();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().context("reading `git cat-file`")?;
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("writing to `git cat-file` panicked"))?
        .context("writing to `git cat-file`")?;
    if !out.status.success() {
        bail!(
            "`git cat-file --batch` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let mut tree = Tree::default();
    let mut rest = &out.stdout[..];
    for (path, _) in &entries {
        let nl = rest
            .iter()
            .position(|b| *b == b'\n')
            .context("`git cat-file --batch` answered less than asked")?;
        let header = String::from_utf8_lossy(&rest[..nl]).into_owned();
        let size: usize = header
            .split(' ')
            .nth(2)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("`git cat-file --batch`: unexpected header `{header}`"))?;
        let body = rest
            .get(nl + 1..nl + 1 + size)
            .context("`git cat-file --batch` answered less than asked")?;
        if let Ok(text) = std::str::from_utf8(body) {
            tree.files.insert(path.clone(), text.to_owned());
        }
        rest = rest.get(nl + 1 + size + 1..).unwrap_or_default();
    }
    Ok(tree)
}

/// The files of a checkout (`--base-dir`).
fn dir_tree(dir: &Path) -> anyhow::Result<Tree> {
    anyhow::ensure!(
        dir.is_dir(),
        "--base-dir `{}` is not a directory: pass a checkout of the base revision",
        dir.display()
    );
    let mut tree = Tree::default();
    for sub in ["environments", "generated"] {
        let d = dir.join(sub);
        if !d.is_dir() {
            continue;
        }
        for (p, text) in super::audit::read_tree(&d)? {
            let rel = Path::new(&p)
                .strip_prefix(dir)
                .map(|r| r.to_string_lossy().replace('\\', "/"))
                .unwrap_or(p);
            tree.files.insert(rel, text);
        }
    }
    Ok(tree)
}

fn rel(p: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let p = p.strip_prefix(&cwd).unwrap_or(p);
    let s = p.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").unwrap_or(&s).to_owned()
}

/// The committed files of `generated/<short>/` in `tree`, relative to that folder.
fn generated_of(tree: &Tree, short: &str) -> Option<Vec<(String, String)>> {
    let prefix = format!("generated/{short}/");
    let v: Vec<(String, String)> = tree
        .files
        .range(prefix.clone()..)
        .take_while(|(p, _)| p.starts_with(&prefix))
        .map(|(p, t)| (p[prefix.len()..].to_owned(), t.clone()))
        .collect();
    (!v.is_empty()).then_some(v)
}

/// The spec paths to compare.
fn specs(args: &Args, base: &Tree) -> anyhow::Result<Vec<String>> {
    if !args.env.is_empty() {
        return Ok(args.env.iter().map(|p| rel(p)).collect());
    }
    let mut v: Vec<String> = base.files.keys().filter(|p| is_spec(p)).cloned().collect();
    if let Ok(rd) = std::fs::read_dir("environments") {
        for e in rd.flatten() {
            let p = format!("environments/{}", e.file_name().to_string_lossy());
            if is_spec(&p) {
                v.push(p);
            }
        }
    }
    v.sort();
    v.dedup();
    Ok(v)
}

fn is_spec(p: &str) -> bool {
    p.strip_prefix("environments/")
        .is_some_and(|n| !n.contains('/') && n.ends_with(".toml"))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let (base_label, base) = match &args.base_dir {
        Some(d) => (format!("directory {}", d.display()), dir_tree(d)?),
        None => {
            let (label, commit) = base_revision(args.base.as_deref())?;
            let short = commit.get(..12).unwrap_or(&commit).to_owned();
            (format!("{label} ({short})"), git_tree(&commit)?)
        }
    };
    let head_label = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Ok(h) => format!("working tree (HEAD {})", String::from_utf8_lossy(&h).trim()),
        Err(_) => "working tree".to_owned(),
    };
    let read_at = std::time::Instant::now();
    let renderer = crate::render::Renderer::new()?;
    let mut envs: Vec<EnvDiff> = Vec::new();
    for spec in specs(&args, &base)? {
        let path = PathBuf::from(&spec);
        let new = if path.is_file() {
            let env = Environment::load(&path, LoadOptions::default())?.env;
            let dir = Path::new("generated").join(&env.short_name);
            let committed = if dir.is_dir() {
                Some(
                    super::audit::read_tree(&dir)?
                        .into_iter()
                        .filter_map(|(p, t)| {
                            let r = Path::new(&p).strip_prefix(&dir).ok()?;
                            Some((r.to_string_lossy().replace('\\', "/"), t))
                        })
                        .collect::<Vec<_>>(),
                )
            } else {
                None
            };
            let rendered = renderer
                .render(&env)
                .with_context(|| format!("rendering `{spec}`"))?;
            Some(Side::build(env, committed.as_deref(), Some(&rendered)))
        } else if !args.env.is_empty() {
            bail!(
                "--env `{spec}` not found in the working tree: name a spec file (e.g. environments/dev.toml)"
            );
        } else {
            None
        };
        let old = match base.files.get(&spec) {
            Some(text) => {
                let env = Environment::from_str(&path, text, LoadOptions::default())
                    .with_context(|| format!("the base side's `{spec}` ({base_label})"))?
                    .env;
                let committed = generated_of(&base, &env.short_name);
                Some(Side::build(env, committed.as_deref(), None))
            }
            None => None,
        };
        if old.is_none() && new.is_none() {
            continue;
        }
        envs.push(diff::compare(old.as_ref(), new.as_ref(), &spec));
    }
    let fail = Severity::from(args.fail_on);
    let code = u8::from(envs.iter().any(|e| e.worst().is_some_and(|w| w >= fail)));
    let text = match args.format {
        Format::Text => report::text(&envs, &base_label, &head_label),
        Format::Markdown => report::markdown(&envs, &base_label, &head_label),
        Format::Json => {
            let t = report::totals(&envs);
            Envelope::new(
                "diff",
                (envs.len() == 1).then(|| envs[0].environment.as_str()),
                Summary::new(code)
                    .count("environments", envs.len())
                    .count("new_access", t.new_access)
                    .count("critical", t.critical)
                    .count("removed_access", t.removed_access)
                    .count("settings_weakened", t.settings_weakened)
                    .count("settings_strengthened", t.settings_strengthened)
                    .count("undecided", t.undecided),
                DiffJson {
                    base: &base_label,
                    head: &head_label,
                    fail_on: fail,
                    verdict: t.verdict(),
                    environments: report::ordered(&envs),
                },
            )
            .to_json()
        }
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    if std::env::var_os("XACCT_DIFF_TIMINGS").is_some() {
        let _ = writeln!(
            std::io::stderr(),
            "xacct diff: reading the base {:?}, comparing {:?}",
            read_at - started,
            read_at.elapsed()
        );
    }
    Ok(envelope::exit(code))
}

/// `diff --format json`: the envelope's own fields.
#[derive(serde::Serialize)]
struct DiffJson<'a> {
    base: &'a str,
    head: &'a str,
    /// The `--fail-on` threshold `summary.exit_code` was computed against.
    fail_on: Severity,
    /// The verdict line of the markdown comment.
    verdict: String,
    /// Most severe first.
    environments: Vec<&'a EnvDiff>,
}
