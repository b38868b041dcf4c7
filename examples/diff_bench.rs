//! `xacct diff` timings, excluding git (issue 21: the three bundled
//! environments under 1 s, a 1,000-storage-account environment under 5 s, release).
//!
//! Each case is what the command does per environment once the base's files
//! are in memory: parse both specs, read both sides' committed files with the
//! audit's readers, render the head, decide every changed document both ways.
//! The decision cells cache is emptied before each run (one `xacct diff` is cold).
//!
//! Run: `cargo run --release --example diff_bench` (from the repository root).

use std::path::Path;
use std::time::{Duration, Instant};

use xacct::diff::{self, Side};
use xacct::model::{Environment, LoadOptions};
use xacct::render::Renderer;

fn env_of(text: &str) -> Environment {
    Environment::from_str(
        Path::new("environments/x.toml"),
        text,
        LoadOptions::default(),
    )
    .expect("spec loads")
    .env
}

fn files(r: &Renderer, env: &Environment) -> Vec<(String, String)> {
    r.render(env)
        .expect("renders")
        .into_iter()
        .map(|f| (f.path.to_string_lossy().replace('\\', "/"), f.contents))
        .collect()
}

/// One environment: base spec and files, head spec and files; returns (time, new access lines).
fn case(
    base_text: &str,
    base_files: &[(String, String)],
    head_text: &str,
    head_files: &[(String, String)],
) -> (Duration, usize) {
    xacct::eval::decide::forget_cells();
    let t = Instant::now();
    let r = Renderer::new().expect("templates compile");
    let old = Side::build(env_of(base_text), Some(base_files), None);
    let head_env = env_of(head_text);
    let rendered = r.render(&head_env).expect("renders");
    let new = Side::build(head_env, Some(head_files), Some(&rendered));
    let d = diff::compare(Some(&old), Some(&new), "environments/x.toml");
    (t.elapsed(), d.counts().new_access)
}

fn best(runs: usize, f: impl Fn() -> (Duration, usize)) -> (Duration, usize) {
    (0..runs)
        .map(|_| f())
        .min_by_key(|(d, _)| *d)
        .expect("runs > 0")
}

/// prod.toml with `n` storage accounts (and capacity for them).
fn spec_with_accounts(prod: &str, n: usize) -> String {
    let accounts: Vec<String> = (0..n)
        .map(|i| format!("\"{:012}\"", 500_000_000_000u64 + i as u64))
        .collect();
    let line = prod
        .lines()
        .find(|l| l.starts_with("accounts = "))
        .expect("prod.toml lists its accounts");
    prod.replace(line, &format!("accounts = [{}]", accounts.join(", ")))
}

fn main() {
    let runs: usize = std::env::var("XACCT_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let r = Renderer::new().expect("templates compile");
    // The three bundled environments: their committed generated/ on both
    // sides (no change), then each with one storage account onboarded.
    let mut specs = Vec::new();
    for name in ["dev", "uat", "prod"] {
        let text = std::fs::read_to_string(format!("environments/{name}.toml"))
            .expect("run from the repository root");
        let env = env_of(&text);
        let dir = Path::new("generated").join(&env.short_name);
        let committed: Vec<(String, String)> = xacct::cmd::audit::read_tree(&dir)
            .expect("generated/ is committed")
            .into_iter()
            .filter_map(|(p, t)| {
                let rel = Path::new(&p).strip_prefix(&dir).ok()?;
                Some((rel.to_string_lossy().replace('\\', "/"), t))
            })
            .collect();
        let first = env.storage_accounts[0].clone();
        let onboarded = text.replacen(
            &format!("\"{first}\""),
            &format!("\"{first}\", \"999999999901\""),
            1,
        );
        let onboarded_files = files(&r, &env_of(&onboarded));
        specs.push((text, committed, onboarded, onboarded_files));
    }
    let (same, _) = best(runs, || {
        let mut total = (Duration::ZERO, 0);
        for (text, committed, _, _) in &specs {
            let (d, n) = case(text, committed, text, committed);
            total = (total.0 + d, total.1 + n);
        }
        total
    });
    let (onboard, lines) = best(runs, || {
        let mut total = (Duration::ZERO, 0);
        for (text, committed, on, on_files) in &specs {
            let (d, n) = case(text, committed, on, on_files);
            total = (total.0 + d, total.1 + n);
        }
        total
    });
    println!("bundled environments (dev, uat, prod), no change: {same:?} (target < 1 s)");
    println!(
        "bundled environments, one account onboarded in each: {onboard:?}, {lines} new-access lines (target < 1 s)"
    );
    // 1,000 storage accounts: no change, and the 1,000th account onboarded.
    let prod =
        std::fs::read_to_string("environments/prod.toml").expect("run from the repository root");
    let base_text = spec_with_accounts(&prod, 999);
    let big_text = spec_with_accounts(&prod, 1000);
    let base_files = files(&r, &env_of(&base_text));
    let big_files = files(&r, &env_of(&big_text));
    let (same, _) = best(runs, || case(&big_text, &big_files, &big_text, &big_files));
    let (on, n) = best(runs, || {
        case(&base_text, &base_files, &big_text, &big_files)
    });
    println!("1,000 storage accounts, no change: {same:?} (target < 5 s)");
    println!(
        "1,000 storage accounts, the 1,000th onboarded: {on:?}, {n} new-access line(s) (target < 5 s)"
    );
}
