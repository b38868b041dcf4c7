//! `xacct capacity`: the arithmetic, live counts, counters and drift.

use crate::support::live_cli::*;

#[test]
fn capacity_prints_arithmetic_and_live_counts() {
    let m = moto_with(&[
        (
            STORAGE_A,
            &[
                "ambra-dev-a",
                "ambra-dev-b",
                "ambra-dev-xacct-canary-00ff",
                "unrelated-a",
            ],
        ),
        (STORAGE_B, &["ambra-dev-c"]),
    ]);
    let spec = root().join("environments/dev.toml");
    let r = xacct(
        Some(&m),
        &[
            "capacity",
            "--env",
            spec.to_str().unwrap(),
            "--customers",
            "5000",
            "--growth",
            "2",
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], "5000 customers x 2 growth = 10000 buckets");
    assert_eq!(
        lines[1],
        "configured: 1000 bucket(s) per account => 10 account(s) needed"
    );
    assert_eq!(
        lines[2],
        "quota-bound: S3 bucket quota 10000 per account => 1 account(s) needed"
    );
    assert_eq!(
        lines[3],
        "the spec lists 2 storage account(s): add 8 more (xacct onboard)"
    );
    let row = |acct: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(acct))
            .unwrap_or_else(|| panic!("{acct} missing:\n{}", r.stdout))
            .split_whitespace()
            .skip(1)
            .collect::<Vec<_>>()
            .join(" ")
    };
    // customer, all, headroom, quota left, counter, drift (no counters yet)
    assert_eq!(row(STORAGE_A), "2 4 998 9996 - -");
    assert_eq!(row(STORAGE_B), "1 1 999 9999 - -");
    assert!(
        r.stdout
            .contains("total: 3 customer bucket(s) in 2 reachable account(s), 1997 of 2000 free")
    );

    // Offline: the arithmetic only, from the spec's [capacity] (50 x 2).
    let r = xacct(
        None,
        &["capacity", "--env", spec.to_str().unwrap(), "--offline"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("50 customers x 2 growth = 100 buckets\n"),
        "{}",
        r.stdout
    );
    // Bad growth is an input error.
    let r = xacct(
        None,
        &[
            "capacity",
            "--env",
            spec.to_str().unwrap(),
            "--offline",
            "--growth",
            "0.5",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn capacity_reports_an_unreachable_account_with_exit_1() {
    // No audit role in STORAGE_B.
    let m = moto_with(&[(STORAGE_A, &[])]);
    let spec = root().join("environments/dev.toml");
    let r = xacct(Some(&m), &["capacity", "--env", spec.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(&format!("{STORAGE_B}   unreachable")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!(
            "{STORAGE_A}           0         0      1000        10000"
        )) && r.stdout.contains("in 1 reachable account(s)"),
        "{}",
        r.stdout
    );
}
