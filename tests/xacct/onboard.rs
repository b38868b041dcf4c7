//! `xacct onboard`: spec edits, re-renders, `--apply` (stack, verify, adopt refusal) and `--create`.

use crate::support::live_cli::*;

#[test]
fn onboard_updates_spec_keeping_comments_renders_and_reruns_as_noop() {
    let w = Work::new();
    // Start from the committed generated/dev, as a real checkout would.
    std::fs::remove_dir_all(&w.out).unwrap();
    copy_tree(&root().join("generated/dev"), &w.out.join("dev"));
    let before = std::fs::read_to_string(&w.spec).unwrap();

    let r = w.run(None, &["onboard", "--account", NEW]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains(&format!("added {NEW}")), "{}", r.stdout);
    assert!(r.stdout.contains("Apply, in this order:"), "{}", r.stdout);
    assert!(r.stdout.contains(&format!(
        "arn:aws:iam::{NEW}:role/OrganizationAccountAccessRole"
    )));
    assert!(r.stdout.contains("primary/terraform apply"), "{}", r.stdout);

    // Only the accounts line changed; every comment is kept.
    let after = std::fs::read_to_string(&w.spec).unwrap();
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(before.lines().count(), after.lines().count());
    assert_eq!(
        changed,
        vec![(
            r#"accounts = ["100000000002", "100000000003"]"#,
            r#"accounts = ["100000000002", "100000000003", "100000000004"]"#
        )]
    );
    assert!(after.contains("# Non-production needs at least 2 storage accounts (seed 000)."));

    // generated/ covers the new account and is exactly what render produces.
    w.check_clean();
    let dev = w.out.join("dev");
    assert!(
        dev.join(format!("storage/cloudformation/parameters/{NEW}.json"))
            .exists()
    );
    let tfvars = std::fs::read_to_string(dev.join("primary/terraform/terraform.tfvars")).unwrap();
    assert!(tfvars.contains(NEW), "{tfvars}");

    // Re-running changes nothing.
    let state = w.state();
    let r = w.run(None, &["onboard", "--account", NEW]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("nothing to do"), "{}", r.stdout);
    assert_eq!(w.state(), state);
}

#[test]
fn onboard_rerun_repairs_stale_generated_files() {
    let w = Work::new();
    assert_eq!(w.run(None, &["onboard", "--account", NEW]).code, 0);
    let tfvars = w.out.join("dev/primary/terraform/terraform.tfvars");
    std::fs::write(&tfvars, "tampered\n").unwrap();
    let r = w.run(None, &["onboard", "--account", NEW]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("re-rendered"), "{}", r.stdout);
    w.check_clean();
}

#[test]
fn onboard_bad_input_exits_2_and_changes_nothing() {
    let w = Work::new();
    let state = w.state();
    for (account, want) in [
        ("12345", "not an AWS account ID"),
        ("10000000000x", "not an AWS account ID"),
        ("1000000000041", "not an AWS account ID"),
        ("100000000001", "is the primary account"),
    ] {
        let r = w.run(None, &["onboard", "--account", account]);
        assert_eq!(r.code, 2, "{account}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains(want), "{account}: {}", r.stderr);
        assert_eq!(w.state(), state, "{account} changed files");
    }
    // Unknown spec.
    let missing = w.root.join("nope.toml");
    let r = xacct(
        None,
        &[
            "onboard",
            "--env",
            missing.to_str().unwrap(),
            "--account",
            NEW,
            "--out",
            w.o(),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("nope.toml"), "{}", r.stderr);
    // An invalid spec is reported, and neither it nor generated/ is touched.
    let bad = std::fs::read_to_string(&w.spec)
        .unwrap()
        .replace("memory_mb = 256", "memory_mb = 1");
    std::fs::write(&w.spec, &bad).unwrap();
    let state = w.state();
    let r = w.run(None, &["onboard", "--account", NEW]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("lambda.memory_mb"), "{}", r.stderr);
    assert_eq!(w.state(), state);
}

#[test]
fn onboard_write_failure_leaves_the_spec_unchanged() {
    let w = Work::new();
    // A file where a rendered folder must go: writing generated/ fails.
    let dev = w.out.join("dev");
    std::fs::remove_dir_all(dev.join("storage")).unwrap();
    std::fs::write(dev.join("storage"), "in the way\n").unwrap();
    let before = std::fs::read_to_string(&w.spec).unwrap();
    let r = w.run(None, &["onboard", "--account", NEW]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("the spec was not changed"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_to_string(&w.spec).unwrap(), before);
}

#[test]
fn onboard_apply_deploys_the_stack_verifies_and_reruns() {
    let m = moto_with(&[(NEW, &[])]);
    let w = Work::new();
    let run = || w.run(Some(&m), &["onboard", "--account", NEW, "--apply"]);
    let r = run();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("stack xacct-dev-storage in 100000000004: CREATE_COMPLETE"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!("verified {NEW}")),
        "{}",
        r.stdout
    );
    // The role really is in the new account.
    rt().block_on(async {
        let c = in_account(&base(&m), NEW).await;
        let role = aws_sdk_iam::Client::new(&c)
            .get_role()
            .role_name("S3BucketManager")
            .send()
            .await
            .unwrap();
        assert_eq!(
            role.role().unwrap().arn(),
            format!("arn:aws:iam::{NEW}:role/S3BucketManager")
        );
        // The account-level Block Public Access CloudFormation cannot express.
        let on = xacct::verify::storage::account_public_access_block(&deploy::session(&c), NEW)
            .await
            .unwrap();
        assert!(
            on,
            "account-level Block Public Access not fully on in {NEW}"
        );
    });
    assert!(
        r.stdout
            .contains(&format!("account-level Block Public Access in {NEW}: on")),
        "{}",
        r.stdout
    );
    w.check_clean();
    // Re-run: the stack is up to date, the account still verifies.
    let state = w.state();
    let r = run();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(&format!("verified {NEW}")),
        "{}",
        r.stdout
    );
    assert_eq!(w.state(), state);
}

#[test]
fn onboard_apply_stack_failure_is_exit_1_and_says_what_is_left() {
    // The bootstrap role may do anything but create the stack.
    let m = moto_with(&[(NEW, &[])]);
    let (key, secret) = rt().block_on(async {
        let b = base(&m);
        let c = in_account(&b, NEW).await;
        aws_sdk_iam::Client::new(&c)
            .put_role_policy()
            .role_name("OrganizationAccountAccessRole")
            .policy_name("no-create-stack")
            .policy_document(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"cloudformation:CreateStack","Resource":"*"}]}"#,
            )
            .send()
            .await
            .unwrap();
        let iam = aws_sdk_iam::Client::new(&b);
        iam.create_user().user_name("onboarder").send().await.unwrap();
        iam.put_user_policy()
            .user_name("onboarder")
            .policy_name("all")
            .policy_document(deploy::ALLOW_ALL)
            .send()
            .await
            .unwrap();
        let k = iam.create_access_key().user_name("onboarder").send().await.unwrap();
        let k = k.access_key().unwrap();
        (k.access_key_id().to_owned(), k.secret_access_key().to_owned())
    });
    m.enforce_iam();
    let w = Work::new();
    let r = xacct_as(
        Some(&m),
        (&key, &secret),
        &[
            "onboard",
            "--env",
            w.s(),
            "--out",
            w.o(),
            "--account",
            NEW,
            "--apply",
        ],
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("cloudformation:CreateStack")
            && r.stderr.contains("left: deploy the storage stack"),
        "{}",
        r.stderr
    );
    // Spec and generated/ are consistent: both name the account.
    assert!(std::fs::read_to_string(&w.spec).unwrap().contains(NEW));
    w.check_clean();
}

#[test]
fn onboard_apply_into_an_account_with_the_role_stops_without_adopt_and_changes_nothing() {
    let m = moto_with(&[(NEW, &[])]);
    // The seed's S3BucketManager: trust on the primary account root, s3:* on *.
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::100000000001:root"},"Action":"sts:AssumeRole"}]}"#;
    rt().block_on(async {
        let c = in_account(&base(&m), NEW).await;
        let iam = aws_sdk_iam::Client::new(&c);
        iam.create_role()
            .role_name("S3BucketManager")
            .assume_role_policy_document(trust)
            .send()
            .await
            .unwrap();
        let p = iam
            .create_policy()
            .policy_name("S3BucketManagement")
            .policy_document(crate::support::legacy::WIDE_S3)
            .send()
            .await
            .unwrap();
        iam.attach_role_policy()
            .role_name("S3BucketManager")
            .policy_arn(p.policy().unwrap().arn().unwrap())
            .send()
            .await
            .unwrap();
    });
    let w = Work::new();
    let r = w.run(Some(&m), &["onboard", "--account", NEW, "--apply"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("re-run with --adopt"), "{}", r.stderr);
    assert!(
        r.stderr.contains("nothing was changed in AWS"),
        "{}",
        r.stderr
    );
    // The access change is shown, with a concrete request.
    assert!(
        r.stdout.contains("NARROWER") && r.stdout.contains("S3BucketManager trust"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("removed: today"), "{}", r.stdout);
    // Nothing changed in AWS: no stack, the role and its policy as they were.
    rt().block_on(async {
        let c = in_account(&base(&m), NEW).await;
        let cfn = aws_sdk_cloudformation::Client::new(&c);
        assert!(
            cfn.describe_stacks()
                .stack_name("xacct-dev-storage")
                .send()
                .await
                .is_err(),
            "a stack was created"
        );
        let iam = aws_sdk_iam::Client::new(&c);
        let role = xacct::adopt::read::role(&iam, "S3BucketManager")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            role.trust,
            xacct::iam::PolicyDocument::from_json(trust).unwrap()
        );
        assert_eq!(role.attached.len(), 1);
        assert_eq!(
            role.attached[0].1,
            xacct::iam::PolicyDocument::from_json(crate::support::legacy::WIDE_S3).unwrap()
        );
    });
    assert!(std::fs::read_to_string(&w.spec).unwrap().contains(NEW));
    w.check_clean();
}

/// `onboard --create ... --apply` in one command. moto 5.2.1's CreateAccount
/// creates `OrganizationAccountAccessRole` in the new account (trusting the
/// management account root), as real Organizations does, so the bootstrap
/// role exists when the same run deploys the stack and verifies through it.
#[test]
fn onboard_create_apply_creates_tags_moves_deploys_verifies_in_one_run() {
    use aws_sdk_organizations::types::Tag;
    let m = Moto::start();
    let b = base(&m);
    // Two existing storage accounts of the organization, tagged: the spec lists them.
    let (root_id, ou, existing) = rt().block_on(async {
        let (root_id, ou) = org_with_storage_ou(&b).await;
        let org = aws_sdk_organizations::Client::new(&b);
        let mut existing = Vec::new();
        for name in ["ambra-storage-1", "ambra-storage-2"] {
            let id = org
                .create_account()
                .account_name(name)
                .email(format!("{name}@example.com"))
                .tags(
                    Tag::builder()
                        .key("ambra-storage")
                        .value("true")
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .unwrap()
                .create_account_status()
                .unwrap()
                .account_id()
                .unwrap()
                .to_owned();
            existing.push(id);
        }
        (root_id, ou, existing)
    });
    let w = Work::with_spec(&dev_spec_with(&[&existing[0], &existing[1]]));
    let r = w.run(
        Some(&m),
        &[
            "onboard",
            "--create",
            "--email",
            "storage-3@example.com",
            "--name",
            "ambra-storage-3",
            "--ou",
            &ou,
            "--apply",
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let id = r
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("created account "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("{}", r.stdout))
        .to_owned();
    assert!(xacct::model::is_account_id(&id), "{id}");
    assert!(!existing.contains(&id));
    // Spec and generated/ name it.
    assert!(
        std::fs::read_to_string(&w.spec)
            .unwrap()
            .contains(&format!("\"{id}\""))
    );
    w.check_clean();
    assert!(
        w.out
            .join(format!("dev/storage/cloudformation/parameters/{id}.json"))
            .exists()
    );
    // Stack deployed through the bootstrap role and verified, in the same run.
    assert!(
        r.stdout
            .contains(&format!("stack xacct-dev-storage in {id}: CREATE_COMPLETE")),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(&format!("verified {id}")), "{}", r.stdout);
    rt().block_on(async {
        // Tagged, and in the OU (moved from the root).
        let org = aws_sdk_organizations::Client::new(&b);
        let parents = org.list_parents().child_id(&id).send().await.unwrap();
        assert_eq!(parents.parents()[0].id(), Some(ou.as_str()));
        assert_ne!(ou, root_id);
        let tags = org
            .list_tags_for_resource()
            .resource_id(&id)
            .send()
            .await
            .unwrap();
        assert!(
            tags.tags()
                .iter()
                .any(|t| t.key() == "ambra-storage" && t.value() == "true")
        );
        // The role the stack created is in the new account.
        let c = in_account(&b, &id).await;
        let iam = aws_sdk_iam::Client::new(&c);
        let role = iam
            .get_role()
            .role_name("S3BucketManager")
            .send()
            .await
            .unwrap();
        assert_eq!(
            role.role().unwrap().arn(),
            format!("arn:aws:iam::{id}:role/S3BucketManager")
        );
        let policies = iam
            .list_attached_role_policies()
            .role_name("S3BucketManager")
            .send()
            .await
            .unwrap();
        assert!(
            policies
                .attached_policies()
                .iter()
                .any(|p| p.policy_name() == Some("S3BucketManagement")),
            "{policies:?}"
        );
    });
    // `accounts`: every tagged account is in the spec and vice versa.
    let r = xacct(Some(&m), &["accounts", "--env", w.s()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with(&id))
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert!(
        line.contains("ACTIVE") && line.contains("true") && line.contains("yes"),
        "{line}"
    );
    assert!(
        r.stdout.contains("in sync: 3 storage account(s)"),
        "{}",
        r.stdout
    );

    // Re-running for the created account (without --create) has nothing left to change.
    let state = w.state();
    let r = w.run(Some(&m), &["onboard", "--account", &id, "--apply"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains(&format!("verified {id}")), "{}", r.stdout);
    assert_eq!(w.state(), state);

    // Bad input for --create: exit 2, nothing changed.
    let r = w.run(
        Some(&m),
        &[
            "onboard",
            "--create",
            "--email",
            "no-at-sign",
            "--name",
            "x",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(w.state(), state);
    let r = w.run(
        Some(&m),
        &[
            "onboard",
            "--create",
            "--email",
            "a@example.com",
            "--name",
            "x",
            "--ou",
            "storage",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--ou must be an OU ID"), "{}", r.stderr);
    assert_eq!(w.state(), state);
}

/// An identity policy with everything `onboard --create` calls in
/// Organizations except `organizations:CreateAccount`.
const NO_CREATE_ACCOUNT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["organizations:Describe*","organizations:List*","organizations:TagResource","organizations:MoveAccount","sts:AssumeRole","sts:GetCallerIdentity"],"Resource":"*"}]}"#;

/// Organizations refuses CreateAccount (moto enforcing IAM: the caller's
/// policy does not allow it), directly and through --management-role: exit 1,
/// a message naming the call, and neither the spec nor generated/ touched.
///
/// moto cannot report a FAILED DescribeCreateAccountStatus (5.2.1's
/// `FakeAccount.create_account_status` is always SUCCEEDED), so that branch is
/// covered by a unit test of the status handling in `src/cmd/onboard.rs`.
#[test]
fn onboard_create_denied_by_organizations_is_exit_1_and_changes_nothing() {
    let m = Moto::start_with_auth(1000);
    let b = base(&m);
    let (ou, key, secret, role) = rt().block_on(async {
        let (_, ou) = org_with_storage_ou(&b).await;
        let iam = aws_sdk_iam::Client::new(&b);
        iam.create_user()
            .user_name("onboarder")
            .send()
            .await
            .unwrap();
        iam.put_user_policy()
            .user_name("onboarder")
            .policy_name("no-create-account")
            .policy_document(NO_CREATE_ACCOUNT)
            .send()
            .await
            .unwrap();
        let k = iam
            .create_access_key()
            .user_name("onboarder")
            .send()
            .await
            .unwrap();
        let k = k.access_key().unwrap();
        // The management role ("Master role" of seed 002), trusting the user.
        iam.create_role()
            .role_name("xacct-org-admin")
            .assume_role_policy_document(format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:user/onboarder"}},"Action":"sts:AssumeRole"}}]}}"#,
                moto::DEFAULT_ACCOUNT
            ))
            .send()
            .await
            .unwrap();
        iam.put_role_policy()
            .role_name("xacct-org-admin")
            .policy_name("no-create-account")
            .policy_document(NO_CREATE_ACCOUNT)
            .send()
            .await
            .unwrap();
        (
            ou,
            k.access_key_id().to_owned(),
            k.secret_access_key().to_owned(),
            format!("arn:aws:iam::{}:role/xacct-org-admin", moto::DEFAULT_ACCOUNT),
        )
    });
    m.enforce_iam();
    let w = Work::new();
    let state = w.state();
    let create = [
        "onboard",
        "--env",
        w.s(),
        "--out",
        w.o(),
        "--create",
        "--email",
        "storage-3@example.com",
        "--name",
        "ambra-storage-3",
        "--ou",
        &ou,
        "--apply",
    ];
    for extra in [
        vec![],
        vec!["--management-role", role.as_str(), "--external-id", "x"],
    ] {
        let args = [&create[..], &extra].concat();
        let r = xacct_as(Some(&m), (&key, &secret), &args);
        assert_eq!(r.code, 1, "{extra:?}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains("organizations:CreateAccount")
                && r.stderr.contains("not authorized")
                && r.stderr.contains("nothing was changed locally"),
            "{extra:?}: {}",
            r.stderr
        );
        assert!(!r.stdout.contains("created account"), "{}", r.stdout);
        assert_eq!(w.state(), state, "{extra:?} changed files");
    }
    // The same key may read the organization (the denial is CreateAccount's
    // alone), and no account was created: only the management account exists.
    rt().block_on(async {
        let c = b
            .to_builder()
            .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(
                aws_sdk_sts::config::Credentials::new(&key, &secret, None, None, "test"),
            ))
            .build();
        let accounts = aws_sdk_organizations::Client::new(&c)
            .list_accounts()
            .send()
            .await
            .unwrap();
        let ids: Vec<_> = accounts.accounts().iter().filter_map(|a| a.id()).collect();
        assert_eq!(ids, [moto::DEFAULT_ACCOUNT]);
    });
}
