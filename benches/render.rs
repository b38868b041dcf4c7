//! Rendering an environment with 1,000 storage accounts (target: under 1 s, release).
//! Run: `cargo bench --bench render`.

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use xacct::model::{Environment, LoadOptions};
use xacct::render::Renderer;

/// A production-shaped spec with `n` storage accounts.
pub fn spec_with_accounts(n: usize) -> String {
    let accounts: Vec<String> = (0..n)
        .map(|i| format!("\"{:012}\"", 500_000_000_000u64 + i as u64))
        .collect();
    format!(
        r#"[environment]
name = "production"
short_name = "big"
production = true
region = "us-east-1"
primary_account = "400000000001"

[storage]
accounts = [{}]
max_buckets_per_account = 10000
bucket_prefix = "ambra-big"

[phr]
account = "400000000001"
bucket = "ambra-phr-big"

[lambda]
function_name = "provisioner-big"
memory_mb = 512
timeout_seconds = 60
log_retention_days = 365

[access]
invoker_principals = ["arn:aws:iam::400000000001:role/app"]
reader_principals = ["arn:aws:iam::400000000001:role/reader"]
"#,
        accounts.join(", ")
    )
}

fn bench(c: &mut Criterion) {
    let text = spec_with_accounts(1000);
    let renderer = Renderer::new().unwrap();
    let mut group = c.benchmark_group("render");
    group.sample_size(20);
    group.bench_function("load+validate 1000 accounts", |b| {
        b.iter(|| {
            Environment::from_str(Path::new("big.toml"), &text, LoadOptions::default()).unwrap()
        })
    });
    let env = Environment::from_str(Path::new("big.toml"), &text, LoadOptions::default())
        .unwrap()
        .env;
    group.bench_function("render 1000 accounts", |b| {
        b.iter(|| renderer.render(&env).unwrap())
    });
    group.bench_function("load+render+write 1000 accounts", |b| {
        let dir = tempfile::tempdir().unwrap();
        b.iter(|| {
            let env = Environment::from_str(Path::new("big.toml"), &text, LoadOptions::default())
                .unwrap()
                .env;
            let files = renderer.render(&env).unwrap();
            xacct::render::output::write(dir.path(), &files).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
