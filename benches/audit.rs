//! Audit of a synthetic 1,000-storage-account environment (target < 200 ms
//! release), and the slowest audit over the mutation table (every decision of
//! one audit, so an upper bound on the slowest single decision; target < 50 ms).

#[path = "../tests/xacct/support/audit_tables.rs"]
mod tables;

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use xacct::audit::{self, Input};
use xacct::model::{Environment, LoadOptions};

/// dev.toml with 1,000 storage accounts.
fn big_env() -> Environment {
    let dev = std::fs::read_to_string("environments/dev.toml").expect("environments/dev.toml");
    let accounts: Vec<String> = (0..1000)
        .map(|i| format!("\"{:012}\"", 200_000_000_000u64 + i))
        .collect();
    let spec = dev.replace(
        r#"accounts = ["100000000002", "100000000003"]"#,
        &format!("accounts = [{}]", accounts.join(", ")),
    );
    assert!(spec.contains("200000000999"), "dev.toml layout changed");
    let env = Environment::from_str(Path::new("bench-1000.toml"), &spec, LoadOptions::default())
        .expect("synthetic spec validates")
        .env;
    assert_eq!(env.storage_accounts.len(), 1000);
    env
}

fn bench(c: &mut Criterion) {
    let env = big_env();
    let mut texts = xacct::cmd::audit::read_tree(Path::new("generated/dev")).unwrap();
    texts.retain(|(p, _)| !p.ends_with(".zip"));
    let findings = {
        let mut i = Input::from_env(&env);
        i.add_texts(texts.clone());
        audit::run_with_rendered(&i, &xacct::iam::documents::Documents::build(&env))
    };
    assert!(findings.is_empty(), "{}", audit::report::table(&findings));
    c.bench_function("audit 1000 storage accounts (build + checks)", |b| {
        b.iter(|| {
            // Cold, as one `xacct audit` run: no cells cached from the last iteration.
            xacct::eval::decide::forget_cells();
            let mut i = Input::from_env(black_box(&env));
            i.add_texts(texts.clone());
            black_box(audit::run(&i))
        })
    });
    let input = Input::from_env(&env);
    c.bench_function("audit 1000 storage accounts (checks only)", |b| {
        b.iter(|| {
            xacct::eval::decide::forget_cells();
            black_box(audit::run(black_box(&input)))
        })
    });
    let rendered = xacct::iam::documents::Documents::build(&env);
    c.bench_function(
        "audit 1000 storage accounts (checks + no new access)",
        |b| {
            b.iter(|| {
                xacct::eval::decide::forget_cells();
                black_box(audit::run_with_rendered(black_box(&input), &rendered))
            })
        },
    );
    slowest_mutation();
}

/// The slowest whole audit (all decisions) of one mutated environment, best of 5 runs each.
fn slowest_mutation() {
    let mut worst = (Duration::ZERO, "");
    for (tag, t, edit, _) in tables::MUTATIONS {
        let (env, mut input, docs) = tables::load(tag);
        tables::apply(tables::target(&mut input, t), &tables::subst(edit, &env));
        let mut best = Duration::MAX;
        for _ in 0..5 {
            xacct::eval::decide::forget_cells();
            let t0 = Instant::now();
            black_box(audit::run_with_rendered(&input, &docs));
            best = best.min(t0.elapsed());
        }
        if best > worst.0 {
            worst = (best, edit);
        }
    }
    println!(
        "slowest audit over {} mutations: {:.2} ms ({})",
        tables::MUTATIONS.len(),
        worst.0.as_secs_f64() * 1e3,
        worst.1
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
