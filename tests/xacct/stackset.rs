//! `xacct stackset`: the printed commands and `--apply` against moto.

use crate::support::live_cli::*;

#[test]
fn stackset_prints_the_commands_for_the_rendered_template() {
    let w = Work::new();
    let template = format!("{}/dev/storage/cloudformation/storage-account.yaml", w.o());
    let r = w.run(
        None,
        &[
            "stackset",
            "--ou",
            "ou-ab12-cd34ef56",
            "--ou",
            "ou-ab12-ef56ab78",
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let commands: Vec<&str> = r.stdout.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        commands,
        [
            format!(
                "aws cloudformation create-stack-set --stack-set-name xacct-dev-storage --template-body file://{template} --permission-model SERVICE_MANAGED --auto-deployment Enabled=true,RetainStacksOnAccountRemoval=true --capabilities CAPABILITY_NAMED_IAM --region us-east-1"
            ),
            "aws cloudformation create-stack-instances --stack-set-name xacct-dev-storage --deployment-targets OrganizationalUnitIds=ou-ab12-cd34ef56,ou-ab12-ef56ab78 --regions us-east-1 --region us-east-1".to_owned(),
            // CloudFormation has no account-level Block Public Access resource.
            "aws s3control put-public-access-block --account-id <storage-account-id> --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true".to_owned(),
        ]
    );
    assert!(
        r.stdout.contains("activate-organizations-access"),
        "{}",
        r.stdout
    );
    // The template the command names is the rendered one.
    assert!(Path::new(&template).exists());

    // The PHR bucket in a storage account (uat): one more step, its override.
    let uat = root().join("environments/uat.toml");
    let out = root().join("generated");
    let r = xacct(
        None,
        &[
            "stackset",
            "--env",
            uat.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("--deployment-targets OrganizationalUnitIds=<storage-ou-id> --regions"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.lines().last().unwrap().starts_with(
            "aws cloudformation update-stack-instances --stack-set-name xacct-uat-storage --deployment-targets OrganizationalUnitIds=[<storage-ou-id>],Accounts=[200000000002],AccountFilterType=INTERSECTION --regions us-east-1 --parameter-overrides ParameterKey=CreatePhrBucket,ParameterValue=true"
        ),
        "{}",
        r.stdout
    );
    // ... which --apply does not do: input error before any AWS call.
    let r = xacct(
        None,
        &[
            "stackset",
            "--env",
            uat.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--ou",
            "ou-ab12-cd34ef56",
            "--apply",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("CreatePhrBucket"), "{}", r.stderr);

    // Bad input: exit 2.
    for (args, want) in [
        (vec!["--ou", "ou-AB12"], "--ou must be an OU ID"),
        (vec!["--apply"], "needs at least one --ou"),
    ] {
        let r = xacct(
            None,
            &[&["stackset", "--env", w.s(), "--out", w.o()][..], &args].concat(),
        );
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(want), "{args:?}: {}", r.stderr);
    }
    // A stale generated/ is refused: the stack set would deploy something else.
    let path = w
        .out
        .join("dev/storage/cloudformation/storage-account.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("S3BucketManager", "Other")).unwrap();
    let r = xacct(
        None,
        &[
            "stackset",
            "--env",
            w.s(),
            "--out",
            w.o(),
            "--ou",
            "ou-ab12-cd34ef56",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("xacct render"), "{}", r.stderr);
}

/// `stackset --apply` against moto 5.2.1, which implements SERVICE_MANAGED
/// stack sets with OU deployment targets (each account of the OU gets a stack
/// whose resources moto creates) but not automatic deployment: moto accepts
/// `AutoDeployment` and ignores it, so an account moved into the OU later gets
/// nothing there. That half is AWS's and is not tested here.
#[test]
fn stackset_apply_deploys_to_the_ou_accounts_and_reruns() {
    let m = Moto::start();
    let b = base(&m);
    let (ou, in_ou, outside) = rt().block_on(async {
        let (root_id, ou) = org_with_storage_ou(&b).await;
        let org = aws_sdk_organizations::Client::new(&b);
        let mut ids = Vec::new();
        for name in ["storage-1", "storage-2", "elsewhere"] {
            let id = org
                .create_account()
                .account_name(name)
                .email(format!("{name}@example.com"))
                .send()
                .await
                .unwrap()
                .create_account_status()
                .unwrap()
                .account_id()
                .unwrap()
                .to_owned();
            if name != "elsewhere" {
                org.move_account()
                    .account_id(&id)
                    .source_parent_id(&root_id)
                    .destination_parent_id(&ou)
                    .send()
                    .await
                    .unwrap();
            }
            ids.push(id);
        }
        let outside = ids.pop().unwrap();
        (ou, ids, outside)
    });
    let w = Work::with_spec(&dev_spec_with(&[&in_ou[0], &in_ou[1]]));
    let template_path = w
        .out
        .join("dev/storage/cloudformation/storage-account.yaml");
    let apply = |extra: &[&str]| {
        xacct(
            Some(&m),
            &[
                &[
                    "stackset",
                    "--env",
                    w.s(),
                    "--out",
                    w.o(),
                    "--ou",
                    &ou,
                    "--apply",
                ][..],
                extra,
            ]
            .concat(),
        )
    };
    let r = apply(&[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("created stack set xacct-dev-storage (SERVICE_MANAGED"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains(&format!("created stack instances for {ou} in us-east-1")),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("2 stack instance(s)"), "{}", r.stdout);
    let check = |template: &str| {
        rt().block_on(async {
            let cfn = aws_sdk_cloudformation::Client::new(&b);
            let set = cfn
                .describe_stack_set()
                .stack_set_name("xacct-dev-storage")
                .send()
                .await
                .unwrap();
            let set = set.stack_set().unwrap();
            assert_eq!(
                set.permission_model(),
                Some(&aws_sdk_cloudformation::types::PermissionModels::ServiceManaged)
            );
            assert_eq!(set.template_body(), Some(template));
            let instances = cfn
                .list_stack_instances()
                .stack_set_name("xacct-dev-storage")
                .send()
                .await
                .unwrap();
            let mut accounts: Vec<&str> = instances
                .summaries()
                .iter()
                .filter_map(|s| s.account())
                .collect();
            accounts.sort();
            let mut want: Vec<&str> = in_ou.iter().map(String::as_str).collect();
            want.sort();
            assert_eq!(accounts, want, "only the OU's accounts, once each");
        })
    };
    check(&std::fs::read_to_string(&template_path).unwrap());
    // The stacks really created the role in the OU's accounts, not elsewhere.
    rt().block_on(async {
        for id in &in_ou {
            let c = in_account(&b, id).await;
            let role = aws_sdk_iam::Client::new(&c)
                .get_role()
                .role_name("S3BucketManager")
                .send()
                .await
                .unwrap();
            assert_eq!(
                role.role().unwrap().arn(),
                format!("arn:aws:iam::{id}:role/S3BucketManager")
            );
        }
        let c = in_account(&b, &outside).await;
        assert!(
            aws_sdk_iam::Client::new(&c)
                .get_role()
                .role_name("S3BucketManager")
                .send()
                .await
                .is_err()
        );
    });

    // Re-run, through a management role: nothing to do.
    let mgmt = rt().block_on(async {
        aws_sdk_iam::Client::new(&b)
            .create_role()
            .role_name("xacct-org-admin")
            .assume_role_policy_document(deploy::ALLOW_ALL.replace(
                "\"Action\":\"*\",\"Resource\":\"*\"",
                "\"Principal\":{\"AWS\":\"*\"},\"Action\":\"sts:AssumeRole\"",
            ))
            .send()
            .await
            .unwrap();
        format!(
            "arn:aws:iam::{}:role/xacct-org-admin",
            moto::DEFAULT_ACCOUNT
        )
    });
    let state = w.state();
    let r = apply(&["--management-role", &mgmt, "--external-id", "x"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("stack set xacct-dev-storage is up to date"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains(&format!("{ou} already has its stack instances")),
        "{}",
        r.stdout
    );
    assert_eq!(w.state(), state);
    check(&std::fs::read_to_string(&template_path).unwrap());

    // A spec change that changes the storage template: the stack set is updated.
    let changed = std::fs::read_to_string(&w.spec).unwrap().replace(
        r#"function_name = "s3-bucket-provisioning-dev""#,
        r#"function_name = "s3-bucket-provisioning-dev2""#,
    );
    std::fs::write(&w.spec, changed).unwrap();
    let r = apply(&[]);
    assert_eq!(r.code, 2, "stale generated/ is refused: {}", r.stderr);
    let r = w.run(None, &["render"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let new_template = std::fs::read_to_string(&template_path).unwrap();
    assert!(new_template.contains("s3-bucket-provisioning-dev2-execution"));
    let r = apply(&[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("updated stack set xacct-dev-storage to the rendered template"),
        "{}",
        r.stdout
    );
    check(&new_template);
}
