//! checkov (the scanner platform teams gate CI on) over the whole committed
//! `generated/` tree, Terraform and CloudFormation in one run: no failed check.
//! Every check that does not apply is skipped inline next to its resource with
//! the reason (templates/; docs/security.md, "checkov skips", lists them). checkov takes
//! ~15-20 s here, so it runs once, and the time is printed.

use std::process::Command;
use std::time::Instant;

/// `XACCT_CHECKOV` (what `.ci/run` installs into its own virtualenv), else `checkov` on PATH.
fn checkov() -> String {
    std::env::var("XACCT_CHECKOV").unwrap_or_else(|_| "checkov".to_owned())
}

#[test]
fn checkov_passes_on_every_generated_file() {
    let bin = checkov();
    let started = Instant::now();
    let out = Command::new(&bin)
        .args(["-d", "generated", "--framework", "terraform", "cloudformation"])
        .args(["--compact", "--quiet", "-o", "json", "--skip-download"])
        .current_dir(crate::repo())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {bin} ({e}): install it with `python3 -m pip install checkov` (or run .ci/run)")
        });
    eprintln!(
        "checkov over generated/: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let reports: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "checkov output is not JSON ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let reports = match reports {
        serde_json::Value::Array(a) => a,
        one => vec![one],
    };
    let mut types = Vec::new();
    let mut failed = Vec::new();
    for r in &reports {
        let kind = r["check_type"].as_str().unwrap_or_default().to_owned();
        assert!(
            r["summary"]["passed"].as_u64().unwrap_or(0) > 0,
            "{kind}: nothing was checked"
        );
        for f in r["results"]["failed_checks"]
            .as_array()
            .into_iter()
            .flatten()
        {
            failed.push(format!(
                "{kind} {} {} {}: {}",
                f["check_id"].as_str().unwrap_or_default(),
                f["file_path"].as_str().unwrap_or_default(),
                f["resource"].as_str().unwrap_or_default(),
                f["check_name"].as_str().unwrap_or_default()
            ));
        }
        for s in r["results"]["skipped_checks"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let why = s["check_result"]["suppress_comment"]
                .as_str()
                .unwrap_or_default();
            assert!(
                why.len() > 10,
                "{kind} {} on {}: a skip needs its reason",
                s["check_id"],
                s["resource"]
            );
        }
        types.push(kind);
    }
    types.sort();
    assert_eq!(
        types,
        ["cloudformation", "terraform"],
        "both frameworks scanned"
    );
    assert!(
        failed.is_empty(),
        "checkov failed checks:\n{}",
        failed.join("\n")
    );
}
