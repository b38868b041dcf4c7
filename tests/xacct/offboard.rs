//! `xacct offboard`: refuses while customer buckets remain, then removes and re-renders.

use crate::support::live_cli::*;

#[test]
fn offboard_refuses_while_buckets_remain_then_removes_and_rerenders() {
    let m = moto_with(&[(NEW, &["ambra-dev-kept"])]);
    let text = std::fs::read_to_string(root().join("environments/dev.toml"))
        .unwrap()
        .replace(
            r#"accounts = ["100000000002", "100000000003"]"#,
            r#"accounts = ["100000000002", "100000000003", "100000000004"]"#,
        );
    let w = Work::with_spec(&text);
    let state = w.state();
    let off = |acct: &str| w.run(Some(&m), &["offboard", "--account", acct]);

    let r = off(NEW);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("still holds 1 customer bucket(s)"),
        "{}",
        r.stderr
    );
    assert_eq!(w.state(), state);

    // Empty it (by hand: xacct never deletes buckets), then offboard.
    rt().block_on(async {
        let c = in_account(&base(&m), NEW).await;
        s3(&c)
            .delete_bucket()
            .bucket("ambra-dev-kept")
            .send()
            .await
            .unwrap();
        // A canary left behind does not count as a customer bucket.
        s3(&c)
            .create_bucket()
            .bucket("ambra-dev-xacct-canary-0a")
            .send()
            .await
            .unwrap();
    });
    let r = off(NEW);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains(&format!("removed {NEW}")), "{}", r.stdout);
    let after = std::fs::read_to_string(&w.spec).unwrap();
    assert_eq!(
        after,
        std::fs::read_to_string(root().join("environments/dev.toml")).unwrap()
    );
    w.check_clean();
    assert!(
        !w.out
            .join(format!("dev/storage/cloudformation/parameters/{NEW}.json"))
            .exists()
    );

    // Again: nothing to do.
    let state = w.state();
    let r = off(NEW);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("nothing to do"), "{}", r.stdout);
    // Below the non-production minimum of 2: input error, nothing changed.
    let r = off(STORAGE_A);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("at least 2 storage accounts"),
        "{}",
        r.stderr
    );
    // Bad account ID.
    assert_eq!(off("1234").code, 2);
    assert_eq!(w.state(), state);
}

#[test]
fn offboard_unreachable_account_is_a_failed_step() {
    let m = moto_with(&[]);
    let text = std::fs::read_to_string(root().join("environments/dev.toml"))
        .unwrap()
        .replace(
            r#"accounts = ["100000000002", "100000000003"]"#,
            r#"accounts = ["100000000002", "100000000003", "100000000004"]"#,
        );
    let w = Work::with_spec(&text);
    let state = w.state();
    let r = w.run(Some(&m), &["offboard", "--account", NEW]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("nothing was changed"), "{}", r.stderr);
    assert_eq!(w.state(), state);
}
