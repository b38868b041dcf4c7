//! Test vectors taken from the examples of the AWS IAM User Guide ("Policy
//! evaluation logic", "IAM JSON policy elements", "Condition operators") and
//! the S3 User Guide. One test per rule.

use super::*;

fn doc(json: &str) -> PolicyDocument {
    PolicyDocument::from_json(json).expect("test policy parses")
}

fn id(d: &PolicyDocument) -> Named<'_> {
    Named::identity("identity", d)
}

fn res(d: &PolicyDocument) -> Named<'_> {
    Named::resource("resource", d)
}

const ALICE: &str = "arn:aws:iam::111122223333:user/Alice";
const ROLE: &str = "arn:aws:iam::111122223333:role/Dev";

fn req(action: &str, resource: &str) -> Request {
    Request::new(Caller::Aws(ALICE.into()), action, resource)
}

#[test]
fn default_deny_when_nothing_matches() {
    let d = doc(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
    );
    let out = evaluate(&[id(&d)], &req("s3:PutObject", "arn:aws:s3:::b/k"));
    assert_eq!(out.outcome, Outcome::ImplicitDeny);
    assert!(out.statements.is_empty());
}

#[test]
fn explicit_deny_overrides_allow_and_cites_statement() {
    // IAM User Guide, "Explicit deny": an allow in one policy, a deny in another.
    let allow = doc(
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllowAll","Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
    );
    let deny = doc(
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyDelete","Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}"#,
    );
    let out = evaluate(
        &[id(&allow), Named::identity("guardrail", &deny)],
        &req("s3:DeleteBucket", "arn:aws:s3:::b"),
    );
    assert_eq!(out.outcome, Outcome::ExplicitDeny);
    assert_eq!(out.statements.len(), 1);
    assert_eq!(out.statements[0].document, "guardrail");
    assert_eq!(out.statements[0].sid.as_deref(), Some("DenyDelete"));
    assert_eq!(out.statements[0].label(), "guardrail#0 (DenyDelete)");
}

#[test]
fn action_match_is_case_insensitive_with_wildcards() {
    // "Action": "iam:*AccessKey*" from the Action element docs.
    let d = doc(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*AccessKey*","S3:get?ucket*"],"Resource":"*"}]}"#,
    );
    for a in [
        "iam:CreateAccessKey",
        "IAM:listaccesskeys",
        "s3:GetBucketPolicy",
    ] {
        assert!(evaluate(&[id(&d)], &req(a, "x")).allowed(), "{a}");
    }
    assert!(!evaluate(&[id(&d)], &req("iam:CreateUser", "x")).allowed());
    assert!(!evaluate(&[id(&d)], &req("s3:GetObject", "x")).allowed());
}

#[test]
fn not_action_allows_everything_else() {
    // NotAction docs: "Allow": everything except IAM.
    let d = doc(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}"#,
    );
    assert!(evaluate(&[id(&d)], &req("s3:CreateBucket", "arn:aws:s3:::x")).allowed());
    assert!(!evaluate(&[id(&d)], &req("iam:CreateUser", "*")).allowed());
}

#[test]
fn resource_match_is_case_sensitive_with_wildcards() {
    let d = doc(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/home/?lice/*"}]}"#,
    );
    let ok = "arn:aws:s3:::amzn-s3-demo-bucket/home/Alice/file.txt";
    assert!(evaluate(&[id(&d)], &req("s3:GetObject", ok)).allowed());
    let upper = "arn:aws:s3:::AMZN-S3-DEMO-BUCKET/home/Alice/file.txt";
    assert!(!evaluate(&[id(&d)], &req("s3:GetObject", upper)).allowed());
}

#[test]
fn not_resource_matches_everything_else() {
    let d = doc(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::HRBucket/Payroll","arn:aws:s3:::HRBucket/Payroll/*"]},{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
    );
    assert!(
        evaluate(
            &[id(&d)],
            &req("s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/x")
        )
        .allowed()
    );
    assert_eq!(
        evaluate(&[id(&d)], &req("s3:GetObject", "arn:aws:s3:::Other/x")).outcome,
        Outcome::ExplicitDeny
    );
}

#[test]
fn principal_account_id_and_root_mean_the_account() {
    // Principal docs: "AWS": "123456789012" and "arn:aws:iam::123456789012:root" are equivalent.
    for p in ["111122223333", "arn:aws:iam::111122223333:root"] {
        let d = doc(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{p}"}},"Action":"s3:GetObject","Resource":"*"}}]}}"#
        ));
        let out = evaluate(&[res(&d)], &req("s3:GetObject", "x"));
        assert!(out.allowed(), "{p}");
        assert!(out.statements[0].via_account, "{p}");
        let foreign = Request::new(
            Caller::Aws("arn:aws:iam::444455556666:role/X".into()),
            "s3:GetObject",
            "x",
        );
        assert!(!evaluate(&[res(&d)], &foreign).allowed(), "{p}");
    }
}

#[test]
fn principal_exact_arn_and_service_and_star() {
    let d = doc(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{ROLE}","Service":"lambda.amazonaws.com"}},"Action":"sts:AssumeRole"}}]}}"#
    ));
    let r = |c: Caller| Request::new(c, "sts:AssumeRole", "arn:aws:iam::111122223333:role/T");
    assert!(evaluate(&[res(&d)], &r(Caller::Aws(ROLE.into()))).allowed());
    assert!(!evaluate(&[res(&d)], &r(Caller::Aws(ALICE.into()))).allowed());
    assert!(
        evaluate(
            &[res(&d)],
            &r(Caller::Service("lambda.amazonaws.com".into()))
        )
        .allowed()
    );
    assert!(!evaluate(&[res(&d)], &r(Caller::Service("ec2.amazonaws.com".into()))).allowed());
    assert!(!evaluate(&[res(&d)], &r(Caller::Anonymous)).allowed());
    let star = doc(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"*"}]}"#,
    );
    let anon = Request::new(Caller::Anonymous, "s3:GetObject", "x");
    assert!(evaluate(&[res(&star)], &anon).allowed());
}

#[test]
fn unique_id_principal_matches_nobody() {
    // A deleted-and-recreated role: the trust keeps AROA..., which never matches the new role.
    let d = doc(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"AROADBQP57FF2AEXAMPLE"},"Action":"sts:AssumeRole"}]}"#,
    );
    let r = Request::new(Caller::Aws(ROLE.into()), "sts:AssumeRole", "t");
    assert!(!evaluate(&[res(&d)], &r).allowed());
}

#[test]
fn not_principal_with_deny_exempts_listed_principals() {
    // NotPrincipal docs: deny everyone except the named principals.
    let d = doc(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","NotPrincipal":{{"AWS":["{ROLE}"]}},"Action":"s3:*","Resource":"*"}},{{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}]}}"#
    ));
    let r = |c: &str| Request::new(Caller::Aws(c.into()), "s3:GetObject", "x");
    assert!(evaluate(&[res(&d)], &r(ROLE)).allowed());
    assert_eq!(
        evaluate(&[res(&d)], &r(ALICE)).outcome,
        Outcome::ExplicitDeny
    );
}

#[test]
fn resource_statement_without_principal_grants_nobody() {
    let d = doc(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
    );
    assert!(!evaluate(&[res(&d)], &req("s3:GetObject", "x")).allowed());
}

fn cond(op: &str, key: &str, val: &str) -> PolicyDocument {
    doc(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{{"{op}":{{"{key}":{val}}}}}}}]}}"#
    ))
}

fn allowed(d: &PolicyDocument, r: Request) -> bool {
    evaluate(&[id(d)], &r).allowed()
}

#[test]
fn string_equals_and_not_equals() {
    let d = cond("StringEquals", "aws:PrincipalTag/job", r#"["a","b"]"#);
    assert!(allowed(
        &d,
        req("s3:GetObject", "x").with("aws:PrincipalTag/job", ["b"])
    ));
    assert!(!allowed(
        &d,
        req("s3:GetObject", "x").with("aws:PrincipalTag/job", ["B"])
    ));
    let n = cond("StringNotEquals", "aws:PrincipalTag/job", r#"["a","b"]"#);
    assert!(allowed(
        &n,
        req("s3:GetObject", "x").with("aws:PrincipalTag/job", ["c"])
    ));
    assert!(!allowed(
        &n,
        req("s3:GetObject", "x").with("aws:PrincipalTag/job", ["a"])
    ));
}

#[test]
fn condition_keys_are_case_insensitive() {
    let d = cond("StringEquals", "AWS:SourceAccount", r#""111122223333""#);
    assert!(allowed(
        &d,
        req("s3:GetObject", "x").with("aws:sourceaccount", ["111122223333"])
    ));
}

#[test]
fn string_equals_ignore_case() {
    let d = cond("StringEqualsIgnoreCase", "aws:PrincipalTag/dept", r#""HR""#);
    assert!(allowed(
        &d,
        req("s3:GetObject", "x").with("aws:PrincipalTag/dept", ["hr"])
    ));
    let n = cond(
        "StringNotEqualsIgnoreCase",
        "aws:PrincipalTag/dept",
        r#""HR""#,
    );
    assert!(!allowed(
        &n,
        req("s3:GetObject", "x").with("aws:PrincipalTag/dept", ["hr"])
    ));
}

#[test]
fn string_like_and_not_like() {
    // StringLike example: "s3:prefix": ["", "home/", "home/${aws:username}/"] (wildcard form).
    let d = cond("StringLike", "s3:prefix", r#"["home/*","a?c"]"#);
    assert!(allowed(
        &d,
        req("s3:GetObject", "x").with("s3:prefix", ["home/alice/"])
    ));
    assert!(allowed(
        &d,
        req("s3:GetObject", "x").with("s3:prefix", ["abc"])
    ));
    assert!(!allowed(
        &d,
        req("s3:GetObject", "x").with("s3:prefix", ["work/"])
    ));
    let n = cond("StringNotLike", "s3:prefix", r#""home/*""#);
    assert!(!allowed(
        &n,
        req("s3:GetObject", "x").with("s3:prefix", ["home/x"])
    ));
    assert!(allowed(
        &n,
        req("s3:GetObject", "x").with("s3:prefix", ["work/x"])
    ));
}

#[test]
fn arn_operators_match_per_component_with_wildcards() {
    // ArnLike example: "aws:SourceArn": "arn:aws:sns:REGION:123456789012:TOPIC-ID" with wildcards.
    for op in ["ArnEquals", "ArnLike"] {
        let d = cond(
            op,
            "aws:SourceArn",
            r#""arn:aws:sns:*:123456789012:topic-?""#,
        );
        let ok = req("s3:GetObject", "x").with(
            "aws:SourceArn",
            ["arn:aws:sns:us-east-1:123456789012:topic-a"],
        );
        assert!(allowed(&d, ok), "{op}");
        let bad = req("s3:GetObject", "x").with(
            "aws:SourceArn",
            ["arn:aws:sns:us-east-1:999999999999:topic-a"],
        );
        assert!(!allowed(&d, bad), "{op}");
    }
    // `*` in the region component does not swallow the account component.
    assert!(!arn_like(
        "arn:aws:sns:*:topic",
        "arn:aws:sns:us-east-1:123:topic"
    ));
    for op in ["ArnNotEquals", "ArnNotLike"] {
        let d = cond(op, "aws:PrincipalArn", &format!(r#""{ROLE}""#));
        assert!(
            !allowed(
                &d,
                Request::new(Caller::Aws(ROLE.into()), "s3:GetObject", "x")
            ),
            "{op}"
        );
        assert!(allowed(&d, req("s3:GetObject", "x")), "{op}");
    }
}

#[test]
fn principal_arn_is_in_the_context() {
    let d = cond("ArnEquals", "aws:PrincipalArn", &format!(r#""{ROLE}""#));
    assert!(allowed(
        &d,
        Request::new(Caller::Aws(ROLE.into()), "s3:GetObject", "x")
    ));
    assert!(!allowed(&d, req("s3:GetObject", "x")));
}

#[test]
fn bool_condition() {
    // S3 docs: deny when "aws:SecureTransport": "false".
    let d = cond("Bool", "aws:SecureTransport", "false");
    assert!(allowed(
        &d,
        req("s3:GetObject", "x").with("aws:SecureTransport", ["false"])
    ));
    assert!(!allowed(
        &d,
        req("s3:GetObject", "x").with("aws:SecureTransport", ["true"])
    ));
    // Missing key: a non-negated condition is false.
    assert!(!allowed(&d, req("s3:GetObject", "x")));
}

#[test]
fn missing_key_makes_condition_false_and_negated_true() {
    let d = cond("StringEquals", "sts:ExternalId", r#""x-123""#);
    assert!(!allowed(&d, req("s3:GetObject", "x")));
    let n = cond("StringNotEquals", "sts:ExternalId", r#""x-123""#);
    assert!(allowed(&n, req("s3:GetObject", "x")));
}

#[test]
fn if_exists_is_true_when_key_missing() {
    let d = cond("StringEqualsIfExists", "ec2:InstanceType", r#""t2.micro""#);
    assert!(allowed(&d, req("s3:GetObject", "x")));
    assert!(allowed(
        &d,
        req("s3:GetObject", "x").with("ec2:InstanceType", ["t2.micro"])
    ));
    assert!(!allowed(
        &d,
        req("s3:GetObject", "x").with("ec2:InstanceType", ["m5.large"])
    ));
}

#[test]
fn null_checks_presence() {
    // Null docs: "aws:TokenIssueTime": "true" means the key is absent (long-term credentials).
    let absent = cond("Null", "aws:TokenIssueTime", r#""true""#);
    assert!(allowed(&absent, req("s3:GetObject", "x")));
    assert!(!allowed(
        &absent,
        req("s3:GetObject", "x").with("aws:TokenIssueTime", ["t"])
    ));
    let present = cond("Null", "aws:PrincipalOrgID", "false");
    assert!(allowed(
        &present,
        req("s3:GetObject", "x").with("aws:PrincipalOrgID", ["o-a"])
    ));
    assert!(!allowed(&present, req("s3:GetObject", "x")));
}

#[test]
fn for_any_value() {
    // "ForAnyValue:StringEquals": {"aws:TagKeys": ["environment","cost-center"]}
    let d = cond(
        "ForAnyValue:StringEquals",
        "aws:TagKeys",
        r#"["environment","cost-center"]"#,
    );
    assert!(allowed(
        &d,
        req("s3:GetObject", "x").with("aws:TagKeys", ["x", "environment"])
    ));
    assert!(!allowed(
        &d,
        req("s3:GetObject", "x").with("aws:TagKeys", ["x", "y"])
    ));
    // Missing key: false.
    assert!(!allowed(&d, req("s3:GetObject", "x")));
}

#[test]
fn for_all_values() {
    let d = cond(
        "ForAllValues:StringLike",
        "aws:TagKeys",
        r#"["environment","cost-*"]"#,
    );
    assert!(allowed(
        &d,
        req("s3:GetObject", "x").with("aws:TagKeys", ["environment", "cost-x"])
    ));
    assert!(!allowed(
        &d,
        req("s3:GetObject", "x").with("aws:TagKeys", ["environment", "owner"])
    ));
    // Missing key: true (the documented pitfall).
    assert!(allowed(&d, req("s3:GetObject", "x")));
}

#[test]
fn conditions_are_anded_across_operators_and_keys() {
    let d = doc(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-a","aws:SourceAccount":"1"},"Bool":{"aws:SecureTransport":"true"}}}]}"#,
    );
    let full = req("s3:GetObject", "x")
        .with("aws:PrincipalOrgID", ["o-a"])
        .with("aws:SourceAccount", ["1"])
        .with("aws:SecureTransport", ["true"]);
    assert!(allowed(&d, full.clone()));
    assert!(!allowed(&d, full.without("aws:SourceAccount")));
}

#[test]
fn unsupported_operator_is_false_and_reported() {
    let d = cond("NumericLessThan", "s3:max-keys", r#""10""#);
    let out = evaluate(
        &[id(&d)],
        &req("s3:GetObject", "x").with("s3:max-keys", ["5"]),
    );
    assert!(!out.allowed());
    assert_eq!(out.unsupported, vec!["NumericLessThan".to_owned()]);
}

fn trust_root(acct: &str, cond_arn: Option<&str>) -> PolicyDocument {
    let c = cond_arn
        .map(|a| format!(r#","Condition":{{"ArnEquals":{{"aws:PrincipalArn":"{a}"}}}}"#))
        .unwrap_or_default();
    doc(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{acct}:root"}},"Action":"sts:AssumeRole"{c}}}]}}"#
    ))
}

fn assume_id(target: &str) -> PolicyDocument {
    doc(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"{target}"}}]}}"#
    ))
}

#[test]
fn cross_account_assume_needs_trust_and_identity() {
    // "Cross-account policy evaluation logic": both sides must allow.
    let target = "arn:aws:iam::444455556666:role/Target";
    let trust = trust_root("111122223333", None);
    let ident = assume_id(target);
    let caller = Caller::Aws(ROLE.into());
    let t = Named::resource("trust", &trust);
    assert!(can_assume(&[id(&ident)], &caller, t, target, &[]).allowed());
    assert!(!can_assume(&[], &caller, t, target, &[]).allowed());
    let other = trust_root("999999999999", None);
    let o = Named::resource("trust", &other);
    assert!(!can_assume(&[id(&ident)], &caller, o, target, &[]).allowed());
}

#[test]
fn principal_arn_condition_narrows_account_trust() {
    let target = "arn:aws:iam::444455556666:role/Target";
    let trust = trust_root("111122223333", Some(ROLE));
    let ident = assume_id(target);
    let t = Named::resource("trust", &trust);
    assert!(can_assume(&[id(&ident)], &Caller::Aws(ROLE.into()), t, target, &[]).allowed());
    let other_role = Caller::Aws("arn:aws:iam::111122223333:role/Other".into());
    assert!(!can_assume(&[id(&ident)], &other_role, t, target, &[]).allowed());
    let root = Caller::Aws("arn:aws:iam::111122223333:root".into());
    assert!(!can_assume(&[], &root, t, target, &[]).allowed());
}

#[test]
fn same_account_assume_trust_is_always_required() {
    let target = "arn:aws:iam::111122223333:role/Target";
    let none = doc(r#"{"Version":"2012-10-17","Statement":[]}"#);
    let ident = assume_id(target);
    let caller = Caller::Aws(ROLE.into());
    // Identity allows but the trust does not: denied.
    let n = Named::resource("trust", &none);
    assert!(!can_assume(&[id(&ident)], &caller, n, target, &[]).allowed());
    // Trust names the role ARN: enough in the same account.
    let direct = doc(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{ROLE}"}},"Action":"sts:AssumeRole"}}]}}"#
    ));
    assert!(can_assume(&[], &caller, Named::resource("trust", &direct), target, &[]).allowed());
    // Trust names only the account: the identity policy must allow too.
    let acct = trust_root("111122223333", None);
    let a = Named::resource("trust", &acct);
    assert!(!can_assume(&[], &caller, a, target, &[]).allowed());
    assert!(can_assume(&[id(&ident)], &caller, a, target, &[]).allowed());
}

#[test]
fn external_id_condition() {
    // "How to use an external ID": StringEquals sts:ExternalId.
    let target = "arn:aws:iam::444455556666:role/Target";
    let trust = doc(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"Unique-ID"}}}]}"#,
    );
    let ident = assume_id(target);
    let caller = Caller::Aws(ROLE.into());
    let t = Named::resource("trust", &trust);
    assert!(!can_assume(&[id(&ident)], &caller, t, target, &[]).allowed());
    let ok = can_assume(
        &[id(&ident)],
        &caller,
        t,
        target,
        &[("sts:ExternalId", &["Unique-ID"])],
    );
    assert!(ok.allowed());
    assert_eq!(
        ok.statements.len(),
        2,
        "trust and identity statements are cited"
    );
}

#[test]
fn bucket_policy_and_identity_combination() {
    let bucket = "arn:aws:s3:::b/k";
    let bp = doc(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{ROLE}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}]}}"#
    ));
    let caller = Caller::Aws(ROLE.into());
    let r = Request::new(caller.clone(), "s3:GetObject", bucket);
    // Same account: the bucket policy naming the role is enough.
    assert!(combine(&[], &caller, res(&bp), Some("111122223333"), &r).allowed());
    // Cross account: the caller's identity policy must allow as well.
    assert!(!combine(&[], &caller, res(&bp), Some("444455556666"), &r).allowed());
    let ident = doc(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
    );
    assert!(combine(&[id(&ident)], &caller, res(&bp), Some("444455556666"), &r).allowed());
    // Anonymous needs the bucket policy to name "*".
    let anon = Request::new(Caller::Anonymous, "s3:GetObject", bucket);
    assert!(
        !combine(
            &[],
            &Caller::Anonymous,
            res(&bp),
            Some("111122223333"),
            &anon
        )
        .allowed()
    );
}

#[test]
fn tls_deny_in_bucket_policy() {
    // S3 docs: "DenyInsecureTransport" with Bool aws:SecureTransport false.
    let bp = doc(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}},{{"Effect":"Allow","Principal":{{"AWS":"{ROLE}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}]}}"#
    ));
    let caller = Caller::Aws(ROLE.into());
    let base = Request::new(caller.clone(), "s3:GetObject", "arn:aws:s3:::b/k");
    let tls = base.clone().with("aws:SecureTransport", ["true"]);
    let plain = base.with("aws:SecureTransport", ["false"]);
    assert!(combine(&[], &caller, res(&bp), Some("111122223333"), &tls).allowed());
    let out = combine(&[], &caller, res(&bp), Some("111122223333"), &plain);
    assert_eq!(out.outcome, Outcome::ExplicitDeny);
}

#[test]
fn glob_edge_cases() {
    assert!(glob("*", "", false));
    assert!(glob("a*b*c", "aXXbYYc", false));
    assert!(!glob("a*b*c", "aXXbYY", false));
    assert!(glob("s3:*", "S3:GetObject", true));
    assert!(!glob("s3:*", "S3:GetObject", false));
    assert!(glob("??", "ab", false));
    assert!(!glob("??", "abc", false));
}
