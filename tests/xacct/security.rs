//! Issue 15 controls proven with the offline evaluator (`xacct::eval`) where
//! moto cannot: moto authorises `PutPublicAccessBlock` on a bucket as
//! `s3:CreateBucket` and does not apply Block Public Access to bucket policies,
//! so "S3BucketManager cannot turn Block Public Access off" is decided here on
//! the rendered documents (the moto side is in `verify.rs` and `lambda/tests/iam.rs`).

use xacct::contract;
use xacct::eval::{Caller, Named, Request, evaluate};
use xacct::iam::documents::Documents;
use xacct::iam::{PolicyDocument, Statement};
use xacct::model::Environment;

fn env(short: &str) -> Environment {
    let spec = crate::repo()
        .join("environments")
        .join(format!("{short}.toml"));
    Environment::load(&spec, Default::default()).unwrap().env
}

fn manager(acct: &str) -> Caller {
    Caller::Aws(format!(
        "arn:aws:sts::{acct}:assumed-role/{}/s",
        contract::STORAGE_ROLE_NAME
    ))
}

/// The requests that would make a customer bucket public without a bucket
/// policy: Block Public Access off (bucket or account; the `Delete...` APIs are
/// authorised by the same `Put...` actions) and ACLs.
fn public_requests(env: &Environment) -> Vec<(&'static str, String)> {
    let bucket = contract::bucket_arn(&xacct::iam::documents::example_bucket(env));
    let acct = &env.storage_accounts[0];
    vec![
        ("s3:PutBucketPublicAccessBlock", bucket.clone()),
        (
            "s3:PutAccountPublicAccessBlock",
            format!("arn:aws:s3:::account/{acct}"),
        ),
        ("s3:PutAccountPublicAccessBlock", "*".to_owned()),
        ("s3:PutBucketAcl", bucket.clone()),
        ("s3:PutObjectAcl", format!("{bucket}/scan.dcm")),
    ]
}

#[test]
fn s3_bucket_manager_cannot_turn_public_access_block_off_or_write_acls() {
    for short in ["dev", "uat", "prod"] {
        let env = env(short);
        let d = Documents::build(&env);
        let acct = &env.storage_accounts[0];
        let docs = [Named::identity("S3BucketManagement", &d.storage_management)];
        for (action, resource) in public_requests(&env) {
            let dec = evaluate(&docs, &Request::new(manager(acct), action, &resource));
            assert!(
                !dec.allowed(),
                "{short}: {action} on {resource} allowed: {dec:?}"
            );
        }
        // The runtime's own writes are still allowed.
        let bucket = contract::bucket_arn(&xacct::iam::documents::example_bucket(&env));
        for step in contract::BUCKET_STEPS {
            let dec = evaluate(&docs, &Request::new(manager(acct), step.action(), &bucket));
            assert!(dec.allowed(), "{short}: {} refused: {dec:?}", step.action());
        }
    }
}

/// The Deny wins over any Allow added later (a broadened statement, an attached
/// `s3:*` policy): removing it is what makes the requests allowed again.
#[test]
fn the_explicit_deny_holds_against_an_added_allow_and_is_what_blocks() {
    let env = env("dev");
    let d = Documents::build(&env);
    let acct = &env.storage_accounts[0];
    let broad = PolicyDocument::new(vec![
        Statement::allow("Broad").actions(["s3:*"]).resources(["*"]),
    ]);
    let with_deny = [
        Named::identity("S3BucketManagement", &d.storage_management),
        Named::identity("extra", &broad),
    ];
    let mut no_deny_doc = d.storage_management.clone();
    no_deny_doc
        .statement
        .retain(|s| s.sid.as_deref() != Some("NeverChangePublicAccess"));
    let without_deny = [
        Named::identity("S3BucketManagement", &no_deny_doc),
        Named::identity("extra", &broad),
    ];
    for (action, resource) in public_requests(&env) {
        let req = Request::new(manager(acct), action, &resource);
        let dec = evaluate(&with_deny, &req);
        assert!(!dec.allowed(), "{action}: {dec:?}");
        assert!(
            dec.statements
                .iter()
                .any(|s| s.sid.as_deref() == Some("NeverChangePublicAccess")),
            "{action}: the Deny is cited: {dec:?}"
        );
        assert!(evaluate(&without_deny, &req).allowed(), "{action}");
    }
}

// ------------------------------------------------------------ no escalation

fn deployer_decides(
    env: &Environment,
    action: &str,
    resource: &str,
    boundary: Option<&str>,
) -> bool {
    let d = Documents::build(env);
    let docs = [Named::identity("deployer", &d.deployer)];
    let caller = Caller::Aws(format!(
        "arn:aws:iam::{}:role/ci-deployer",
        env.primary_account
    ));
    let mut req = Request::new(caller, action, resource);
    if let Some(b) = boundary {
        req = req.with("iam:PermissionsBoundary", [b]);
    }
    evaluate(&docs, &req).allowed()
}

/// moto evaluates only `sts:ExternalId` among condition keys (a statement with
/// any other key never matches under its enforcement), so the
/// `iam:PermissionsBoundary` conditions are decided with the offline evaluator.
#[test]
fn the_deployer_cannot_grant_permissions_outside_the_boundary() {
    for short in ["dev", "uat", "prod"] {
        let env = env(short);
        let role = env.lambda_role_arn();
        let other = format!("arn:aws:iam::{}:role/anything-else", env.primary_account);
        let boundary = env.boundary_policy_arn();
        let wider = format!(
            "arn:aws:iam::{}:policy/AdministratorAccess",
            env.primary_account
        );
        // Inline policy on a role without the boundary (or with another one): no.
        for b in [None, Some(wider.as_str())] {
            for r in [&role, &other] {
                for action in [
                    "iam:PutRolePolicy",
                    "iam:CreateRole",
                    "iam:AttachRolePolicy",
                ] {
                    assert!(
                        !deployer_decides(&env, action, r, b),
                        "{short}: {action} on {r} with {b:?}"
                    );
                }
            }
        }
        // Removing or swapping the boundary, widening the boundary itself: no.
        for (action, resource, b) in [
            (
                "iam:DeleteRolePermissionsBoundary",
                role.as_str(),
                Some(boundary.as_str()),
            ),
            (
                "iam:PutRolePermissionsBoundary",
                role.as_str(),
                Some(wider.as_str()),
            ),
            ("iam:CreatePolicyVersion", boundary.as_str(), None),
            ("iam:SetDefaultPolicyVersion", boundary.as_str(), None),
            ("iam:DeletePolicy", boundary.as_str(), None),
        ] {
            assert!(
                !deployer_decides(&env, action, resource, b),
                "{short}: {action} on {resource}"
            );
        }
        // What applying the primary stack needs is still allowed.
        for (action, resource, b) in [
            ("iam:CreatePolicy", boundary.as_str(), None),
            ("iam:GetPolicyVersion", boundary.as_str(), None),
            ("iam:CreateRole", role.as_str(), Some(boundary.as_str())),
            ("iam:PutRolePolicy", role.as_str(), Some(boundary.as_str())),
            (
                "iam:DeleteRolePolicy",
                role.as_str(),
                Some(boundary.as_str()),
            ),
            ("iam:GetRole", role.as_str(), Some(boundary.as_str())),
            (
                "iam:UpdateAssumeRolePolicy",
                role.as_str(),
                Some(boundary.as_str()),
            ),
        ] {
            assert!(
                deployer_decides(&env, action, resource, b),
                "{short}: {action} on {resource} refused"
            );
        }
    }
}

/// The boundary caps the role at exactly what the runtime needs: every statement
/// of the execution policy is inside it, and a broad policy added to the role
/// gains nothing outside it (effective = identity ∩ boundary).
#[test]
fn the_boundary_caps_the_execution_role_at_the_runtime_needs() {
    for short in ["dev", "uat", "prod"] {
        let env = env(short);
        let d = Documents::build(&env);
        assert_eq!(d.execution_boundary, d.lambda_execution, "{short}");
        let role = Caller::Aws(format!(
            "arn:aws:sts::{}:assumed-role/{}/fn",
            env.primary_account,
            env.lambda_role_name()
        ));
        let boundary = [Named::identity("boundary", &d.execution_boundary)];
        for (action, resource) in [
            ("iam:CreateUser", "*".to_owned()),
            ("s3:GetObject", format!("arn:aws:s3:::{}/x", env.phr.bucket)),
            (
                "sts:AssumeRole",
                format!(
                    "arn:aws:iam::{}:role/OrganizationAccountAccessRole",
                    env.primary_account
                ),
            ),
        ] {
            let dec = evaluate(&boundary, &Request::new(role.clone(), action, &resource));
            assert!(
                !dec.allowed(),
                "{short}: the boundary allows {action} on {resource}"
            );
        }
    }
}

/// prod renders the customer-managed key (`security.kms_key`): its policy
/// audits clean (XA027, XA028), and each widening is caught by XA027 with a
/// counterexample the plain evaluator confirms on the widened policy; a reader
/// left without the S3 path is XA028.
#[test]
fn kms_key_policy_is_audited_and_every_widening_is_caught() {
    use xacct::audit::{self, Input};
    let env = env("prod");
    assert!(env.security.kms_key, "prod turns the key on");
    let input = Input::from_env(&env);
    let clean = audit::run(&input);
    assert!(clean.is_empty(), "{clean:#?}");
    let key = Documents::build(&env).kms_key_policy.unwrap();
    let idx = |sid: &str| {
        key.statement
            .iter()
            .position(|s| s.sid.as_deref() == Some(sid))
            .unwrap()
    };
    let reader = idx("ReadersDecryptPhrObjectsThroughS3");
    let admin = idx("KeyAdministrationByTheAccount");
    let logs = idx("LogsEncryptsTheFunctionLogGroup");
    let via_s3 = idx("AccountUsesKeyThroughS3ForPhrBucket");
    type Mutation = Box<dyn Fn(&mut PolicyDocument)>;
    let foreign = "arn:aws:iam::999999999999:role/intruder";
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "foreign reader",
            Box::new(move |d: &mut PolicyDocument| {
                let st = &mut d.statement[reader];
                st.principal = Some(xacct::iam::Principal::aws([
                    "arn:aws:iam::300000000001:role/ambra-storage-prod",
                    foreign,
                ]));
                st.condition.get_mut("StringEquals").unwrap().insert(
                    "kms:CallerAccount".into(),
                    xacct::iam::Values::many(["300000000001", "999999999999"]),
                );
            }),
        ),
        (
            "reader outside S3",
            Box::new(move |d: &mut PolicyDocument| {
                let st = &mut d.statement[reader];
                st.condition
                    .get_mut("StringEquals")
                    .unwrap()
                    .remove("kms:ViaService");
            }),
        ),
        (
            "grants for the account",
            Box::new(move |d: &mut PolicyDocument| {
                let st = &mut d.statement[admin];
                let mut a = st.action.clone().unwrap();
                a.0.push("kms:CreateGrant".into());
                st.action = Some(a);
            }),
        ),
        (
            "logs for any log group",
            Box::new(move |d: &mut PolicyDocument| {
                d.statement[logs].condition.clear();
            }),
        ),
        (
            "another bucket through S3",
            Box::new(move |d: &mut PolicyDocument| {
                let st = &mut d.statement[via_s3];
                st.condition.get_mut("ArnLike").unwrap().insert(
                    "kms:EncryptionContext:aws:s3:arn".into(),
                    xacct::iam::Values::one("arn:aws:s3:::*"),
                );
            }),
        ),
    ];
    for (name, mutate) in &cases {
        let mut i = input.clone();
        let doc = i.kms_key_policy.as_mut().unwrap();
        mutate(&mut doc.doc);
        let widened = doc.doc.clone();
        let f = audit::run(&i);
        let hit = f
            .iter()
            .find(|f| f.check_id == "XA027")
            .unwrap_or_else(|| panic!("{name}: no XA027 in {f:#?}"));
        let req = hit
            .counterexample
            .as_ref()
            .expect("counterexample")
            .request();
        assert!(
            evaluate(&[Named::resource("key", &widened)], &req).allowed(),
            "{name}: the counterexample is not allowed by the widened policy: {req:?}"
        );
        let want = audit::intent::kms_key(&i.expect);
        assert!(
            !evaluate(&[Named::resource("intent", &want)], &req).allowed(),
            "{name}: the counterexample is within the intent: {req:?}"
        );
    }
    // A reader the key does not serve (prod's reader is in the primary account,
    // so the account's S3 statement serves it too: both go).
    let mut i = input.clone();
    let doc = i.kms_key_policy.as_mut().unwrap();
    doc.doc.statement.remove(reader.max(via_s3));
    doc.doc.statement.remove(reader.min(via_s3));
    let f = audit::run(&i);
    assert!(
        f.iter()
            .any(|f| f.check_id == "XA028" && f.message.contains("ambra-storage-prod")),
        "{f:#?}"
    );
}

/// The deployer's statements for the `[security]` controls exist only when the
/// control is on, and none of them can switch a control off.
#[test]
fn deployer_can_not_switch_security_controls_off() {
    let prod = env("prod");
    let dev = env("dev");
    let d = Documents::build(&prod).deployer;
    let deployer = Caller::Aws("arn:aws:iam::300000000001:role/deployer".into());
    let allowed = |doc: &PolicyDocument, action: &str, resource: &str| {
        evaluate(
            &[Named::identity("deployer", doc)],
            &Request::new(deployer.clone(), action, resource),
        )
        .allowed()
    };
    let key = "arn:aws:kms:us-east-1:300000000001:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let trail = prod.trail_arn();
    let csc = "arn:aws:lambda:us-east-1:300000000001:code-signing-config:csc-0123456789abcdef0";
    let function = prod.function_arn();
    for (action, resource) in [
        ("kms:CreateKey", "*"),
        ("kms:EnableKeyRotation", key),
        ("kms:PutKeyPolicy", key),
        ("cloudtrail:CreateTrail", trail.as_str()),
        ("cloudtrail:StartLogging", trail.as_str()),
        ("s3:PutAccountPublicAccessBlock", "*"),
        ("lambda:CreateCodeSigningConfig", "*"),
        ("lambda:PutFunctionCodeSigningConfig", function.as_str()),
        ("lambda:GetCodeSigningConfig", csc),
    ] {
        assert!(
            allowed(&d, action, resource),
            "prod deployer needs {action} on {resource}"
        );
        assert!(
            !allowed(&Documents::build(&dev).deployer, action, resource),
            "dev (controls off) deployer must not have {action}"
        );
    }
    for (action, resource) in [
        ("kms:DisableKeyRotation", key),
        ("kms:Decrypt", key),
        ("kms:CreateGrant", key),
        ("cloudtrail:StopLogging", trail.as_str()),
        ("cloudtrail:DeleteTrail", trail.as_str()),
        ("lambda:DeleteFunctionCodeSigningConfig", function.as_str()),
        ("lambda:DeleteCodeSigningConfig", csc),
    ] {
        assert!(
            !allowed(&d, action, resource),
            "deployer may {action} on {resource}"
        );
    }
}
