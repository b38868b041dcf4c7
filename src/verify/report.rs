//! Output of `xacct verify`: the audit's finding table plus a per-account
//! summary (SARIF: `crate::sarif::verify`; JSON: `crate::envelope`).

use super::{ChainPath, Report};
use crate::audit;

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// The per-account summary table.
pub fn summary(r: &Report) -> String {
    let mut out = String::new();
    let path = match r.chain_path {
        ChainPath::Direct => "direct (verifier -> Lambda role -> S3BucketManager)",
        ChainPath::SelfTest => "Lambda self-test (verifier may not assume the Lambda role)",
        ChainPath::None => "not exercised",
    };
    out.push_str(&format!(
        "environment {}  caller {}  trust chain: {path}\n",
        r.environment,
        r.caller.as_deref().unwrap_or("-")
    ));
    out.push_str(&format!(
        "{:<14} {:<8} {:<9} {:<6} {:>8} {:>8} {:>9} {:<21} {:<6} {:>8} {}\n",
        "ACCOUNT",
        "KIND",
        "REACHABLE",
        "CHAIN",
        "PREFIXED",
        "TOTAL",
        "HEADROOM",
        "S3 QUOTA (SOURCE)",
        "CANARY",
        "FINDINGS",
        "WORST"
    ));
    for a in &r.accounts {
        let yn = |b: Option<bool>| b.map_or("-", |b| if b { "ok" } else { "FAIL" });
        out.push_str(&format!(
            "{:<14} {:<8} {:<9} {:<6} {:>8} {:>8} {:>9} {:<21} {:<6} {:>8} {}\n",
            a.account,
            a.kind,
            if a.reachable { "yes" } else { "NO" },
            yn(a.chain_ok),
            opt(a.prefix_buckets),
            opt(a.total_buckets),
            opt(a.headroom),
            match (a.s3_bucket_quota, a.quota_source) {
                (Some(q), Some(s)) => format!("{q} ({})", s.label()),
                _ => "-".to_owned(),
            },
            yn(a.canary),
            a.findings,
            opt(a.worst)
        ));
    }
    out
}

/// Findings, then the summary.
pub fn table(r: &Report) -> String {
    let mut out = audit::report::table(&r.findings);
    out.push('\n');
    out.push_str(&summary(r));
    out
}
