//! Audit of a synthetic 1,000-storage-account environment (target < 200 ms release).

use std::hint::black_box;
use std::path::Path;

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
        audit::run(&i)
    };
    assert!(findings.is_empty(), "{}", audit::report::table(&findings));
    c.bench_function("audit 1000 storage accounts (build + checks)", |b| {
        b.iter(|| {
            let mut i = Input::from_env(black_box(&env));
            i.add_texts(texts.clone());
            black_box(audit::run(&i))
        })
    });
    let input = Input::from_env(&env);
    c.bench_function("audit 1000 storage accounts (checks only)", |b| {
        b.iter(|| black_box(audit::run(black_box(&input))))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
