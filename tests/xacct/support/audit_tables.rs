//! Shared by tests/xacct/audit_decide.rs and benches/audit.rs: the environments, the
//! insecure mutations and the equivalent rewrites, and how to apply them.

#![allow(dead_code)]

use std::path::Path;

use xacct::audit::Input;
use xacct::iam::PolicyDocument;
use xacct::iam::documents::Documents;
use xacct::model::Environment;

/// `(tag, spec)`: the three environments, discovery mode and the external-ID variant.
pub const ENVS: &[(&str, &str)] = &[
    ("dev", "environments/dev.toml"),
    ("uat", "environments/uat.toml"),
    ("prod", "environments/prod.toml"),
    ("disc", "tests/inputs/discovery.toml"),
    ("xid", "tests/inputs/external_id.toml"),
    ("two", "tests/inputs/two_accounts.toml"),
    ("phrst", "tests/inputs/phr_in_storage.toml"),
];

pub fn load(tag: &str) -> (Environment, Input, Documents) {
    let spec = ENVS.iter().find(|(t, _)| *t == tag).expect("known tag").1;
    let env = Environment::load(Path::new(spec), Default::default())
        .expect("spec loads")
        .env;
    let input = Input::from_env(&env);
    let docs = Documents::build(&env);
    (env, input, docs)
}

pub fn target<'a>(i: &'a mut Input, t: &str) -> &'a mut PolicyDocument {
    match t {
        "trust" => &mut i.storage[0].trust.as_mut().unwrap().doc,
        "mgmt" => &mut i.storage[0].management.as_mut().unwrap().doc,
        "exec" => &mut i.lambda_execution.as_mut().unwrap().doc,
        "ltrust" => &mut i.lambda_trust.as_mut().unwrap().doc,
        "url" => &mut i.function_url_policy.as_mut().unwrap().doc,
        "phr" => &mut i.bucket_policies[0].doc.doc,
        "customer" => &mut i.bucket_policies[1].doc.doc,
        other => panic!("unknown target {other}"),
    }
}

/// Replaces `{P}` primary, `{S}` first storage account, `{X}` prefix, `{PHR}`,
/// `{F}` function ARN, `{R}` Lambda role ARN, `{C}` example customer bucket.
pub fn subst(s: &str, env: &Environment) -> String {
    s.replace("{P}", &env.primary_account)
        .replace("{S}", &env.storage_accounts[0])
        .replace("{X}", &env.bucket_prefix)
        .replace("{PHR}", &env.phr.bucket)
        .replace("{F}", &env.function_arn())
        .replace("{R}", &env.lambda_role_arn())
        .replace("{C}", &xacct::iam::documents::example_bucket(env))
}

/// Applies one edit: `+{json}` appends a statement; `N={json}` replaces statement N;
/// `-N` removes statement N; `s/from/to/` rewrites the document's JSON text.
pub fn apply(doc: &mut PolicyDocument, edit: &str) {
    if let Some(j) = edit.strip_prefix('+') {
        doc.statement
            .push(serde_json::from_str(j).unwrap_or_else(|e| panic!("{j}: {e}")));
    } else if let Some(n) = edit.strip_prefix('-') {
        doc.statement.remove(n.parse().unwrap());
    } else if let Some(rest) = edit.strip_prefix("s|") {
        let parts: Vec<&str> = rest.splitn(3, '|').collect();
        let text = serde_json::to_string(&doc).unwrap();
        assert!(text.contains(parts[0]), "{} not in {text}", parts[0]);
        let text = text.replace(parts[0], parts[1]);
        *doc = PolicyDocument::from_json(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
    } else if let Some((n, j)) = edit.split_once('=') {
        doc.statement[n.parse::<usize>().unwrap()] = serde_json::from_str(j).unwrap();
    } else {
        panic!("bad edit {edit}");
    }
}

/// `(env, document, edit, expected check ID)`: one insecure mutation per line.
#[rustfmt::skip]
pub const MUTATIONS: &[(&str, &str, &str, &str)] = &[
    // S3BucketManager trust: who may assume it.
    ("dev", "trust", r#"s|{R}"|arn:aws:iam::{P}:role/*"|"#, "XA003"),
    ("dev", "trust", r#"s|{R}"|arn:aws:iam::{P}:role/s3-bucket-provisioning-*"|"#, "XA003"),
    ("dev", "trust", r#"s|{R}"|arn:aws:iam::{P}:role/s3-bucket-provisioning-dev-executio?"|"#, "XA023"),
    ("dev", "trust", r#"s|"ArnEquals"|"ArnNotEqualsIfExists"|"#, "XA003"),
    ("dev", "trust", r#"s|"ArnEquals":{"aws:PrincipalArn":"{R}"}|"ArnLike":{"aws:PrincipalArn":["{R}","arn:aws:iam::{P}:role/ambra-*"]}|"#, "XA003"),
    ("dev", "trust", r#"+{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{P}:role/ambra-v3services-dev"},"Action":"sts:AssumeRole"}"#, "XA003"),
    ("dev", "trust", r#"+{"Effect":"Allow","Principal":{"AWS":"{P}"},"Action":"sts:AssumeRole","Condition":{"StringLike":{"aws:PrincipalArn":"*"}}}"#, "XA003"),
    ("dev", "trust", r#"+{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalAccount":"{P}"}}}"#, "XA003"),
    ("dev", "trust", r#"+{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}"#, "XA003"),
    ("dev", "trust", r#"+{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{S}:root"},"Action":"sts:AssumeRole"}"#, "XA003"),
    ("dev", "trust", r#"+{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}"#, "XA003"),
    ("dev", "trust", r#"+{"Effect":"Allow","NotPrincipal":{"AWS":"{R}"},"Action":"sts:AssumeRole"}"#, "XA003"),
    ("dev", "trust", r#"+{"Effect":"Allow","Principal":{"AWS":"{R}"},"Action":"sts:TagSession"}"#, "XA003"),
    ("dev", "trust", r#"s|"ArnEquals":{"aws:PrincipalArn":"{R}"}|"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::{P}:role/admin*"}|"#, "XA003"),
    ("dev", "trust", r#"s|"ArnEquals":{"aws:PrincipalArn":"{R}"}|"StringLike":{"aws:PrincipalArn":"arn:aws:iam::{P}:*"}|"#, "XA003"),
    ("dev", "trust", r#"s|"ArnEquals":{"aws:PrincipalArn":"{R}"}|"Null":{"aws:PrincipalArn":"false"}|"#, "XA003"),
    ("dev", "trust", r#"s|"ArnEquals":{"aws:PrincipalArn":"{R}"}|"ForAnyValue:StringEquals":{"aws:TagKeys":"x"}|"#, "XA003"),
    ("dev", "trust", r#"s|"ArnEquals":{"aws:PrincipalArn":"{R}"}|"StringEqualsIfExists":{"sts:ExternalId":"x"}|"#, "XA003"),
    ("dev", "trust", r#"s|"ArnEquals":{"aws:PrincipalArn":"{R}"}|"Bool":{"aws:SecureTransport":"true"}|"#, "XA003"),
    ("dev", "trust", r#"s|"ArnEquals":{"aws:PrincipalArn":"{R}"}|"StringLike":{"aws:RequestedRegion":"us-*"}|"#, "XA003"),
    ("dev", "trust", r#"s|"ArnEquals":{"aws:PrincipalArn":"{R}"}|"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}|"#, "XA022"),
    ("dev", "trust", r#"s|"{R}"|"arn:aws:iam::${aws:PrincipalAccount}:role/x"|"#, "XA022"),
    ("uat", "trust", r#"s|"StringEquals":{"sts:ExternalId":"ambra-uat-provisioning"}|"StringLike":{"sts:ExternalId":"*"}|"#, "XA023"),
    ("uat", "trust", r#"s|"ArnEquals"|"ForAnyValue:ArnNotLike"|"#, "XA022"),
    ("uat", "trust", r#"s|{R}"|arn:aws:iam::{P}:role/*"|"#, "XA003"),
    ("uat", "trust", r#"+{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{P}:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"ambra-uat-provisioning"}}}"#, "XA003"),
    ("prod", "trust", r#"s|{R}"|arn:aws:iam::{P}:role/?*"|"#, "XA003"),
    ("prod", "trust", r#"+{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}"#, "XA003"),
    ("xid", "trust", r#"s|"StringEquals":{"sts:ExternalId":"fixture-external-id"}|"StringEqualsIgnoreCase":{"sts:ExternalId":"FIXTURE-external-id"}|"#, "XA023"),
    ("xid", "trust", r#"s|{R}"|arn:aws:iam::{P}:user/*"|"#, "XA003"),
    ("disc", "trust", r#"s|{R}"|arn:aws:iam::{P}:role/*"|"#, "XA003"),
    // Lambda execution role: which roles it may assume, and what else.
    ("dev", "exec", r#"s|arn:aws:iam::100000000002:role/S3BucketManager|arn:aws:iam::10000000000?:role/S3BucketManager|"#, "XA002"),
    ("dev", "exec", r#"s|arn:aws:iam::100000000002:role/S3BucketManager|arn:aws:iam::*:role/S3BucketManager|"#, "XA002"),
    ("dev", "exec", r#"s|arn:aws:iam::100000000002:role/S3BucketManager|arn:aws:iam::100000000002:role/S3Bucket*|"#, "XA002"),
    ("dev", "exec", r#"+{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::{P}:role/*"}"#, "XA002"),
    ("dev", "exec", r#"+{"Effect":"Allow","Action":"sts:*","Resource":"arn:aws:iam::999999999999:role/x"}"#, "XA002"),
    ("dev", "exec", r#"+{"Effect":"Allow","NotAction":"s3:*","Resource":"arn:aws:iam::999999999999:role/x"}"#, "XA002"),
    ("dev", "exec", r#"+{"Effect":"Allow","Action":"sts:AssumeRole","NotResource":"arn:aws:iam::{S}:role/S3BucketManager"}"#, "XA002"),
    ("dev", "exec", r#"+{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*","Condition":{"StringEquals":{"aws:ResourceOrgID":"o-abc"}}}"#, "XA002"),
    ("dev", "exec", r#"+{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*","Condition":{"StringLike":{"aws:ResourceAccount":"10000000000*"}}}"#, "XA002"),
    ("dev", "exec", r#"+{"Effect":"Allow","Action":"logs:*","Resource":"*"}"#, "XA024"),
    ("dev", "exec", r#"+{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"arn:aws:logs:us-east-1:{P}:log-group:*"}"#, "XA024"),
    ("dev", "exec", r#"+{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{PHR}/*"}"#, "XA024"),
    ("dev", "exec", r#"+{"Effect":"Allow","Action":"sns:Publish","Resource":"arn:aws:sns:us-east-1:{P}:ops"}"#, "XA024"),
    ("dev", "exec", r#"+{"Effect":"Allow","Action":"iam:PassRole","Resource":"{R}"}"#, "XA024"),
    ("dev", "exec", r#"+{"Effect":"Allow","Action":"organizations:ListAccounts","Resource":"*"}"#, "XA024"),
    ("dev", "exec", r#"+{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}}"#, "XA024"),
    ("dev", "exec", r#"+{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:us-east-1:{P}:table/t"}"#, "XA024"),
    ("uat", "exec", r#"s|arn:aws:iam::200000000002:role/S3BucketManager|arn:aws:iam::2000000000??:role/S3BucketManager|"#, "XA002"),
    ("prod", "exec", r#"s|arn:aws:iam::300000000010:role/S3BucketManager|arn:aws:iam::3000000000*:role/S3BucketManager|"#, "XA002"),
    ("disc", "exec", r#"s|"StringEquals":{"aws:ResourceOrgID":"o-fixtureorg1"}|"StringLike":{"aws:ResourceOrgID":"o-*"}|"#, "XA002"),
    ("disc", "exec", r#"s|arn:aws:iam::*:role/S3BucketManager|arn:aws:iam::*:role/*|"#, "XA002"),
    ("disc", "exec", r#"s|account/o-fixtureorg1/*|account/*|"#, "XA024"),
    ("xid", "exec", r#"+{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::{P}:role/admin"}"#, "XA002"),
    // S3BucketManagement.
    ("dev", "mgmt", r#"+{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{X}-*/*"}"#, "XA025"),
    ("dev", "mgmt", r#"+{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::{X}-*"}"#, "XA025"),
    ("dev", "mgmt", r#"+{"Effect":"Allow","Action":"s3:List*","Resource":"arn:aws:s3:::{X}-*"}"#, "XA025"),
    ("dev", "mgmt", r#"+{"Effect":"Allow","Action":"s3:*Policy","Resource":"arn:aws:s3:::{X}-*"}"#, "XA007"),
    ("dev", "mgmt", r#"+{"Effect":"Allow","Action":"s3:Put*","Resource":"arn:aws:s3:::{X}-*"}"#, "XA007"),
    ("dev", "mgmt", r#"+{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::{X}-*/*"}"#, "XA007"),
    ("dev", "mgmt", r#"+{"Effect":"Allow","Action":"s3:PutBucketWebsite","Resource":"arn:aws:s3:::{X}-*"}"#, "XA007"),
    ("dev", "mgmt", r#"+{"Effect":"Allow","Action":"s3:DeleteBucketPolicy","Resource":"arn:aws:s3:::{X}-a*"}"#, "XA007"),
    ("dev", "mgmt", r#"+{"Effect":"Allow","Action":"s3:CreateBucket","Resource":"arn:aws:s3:::{PHR}"}"#, "XA005"),
    ("dev", "mgmt", r#"+{"Effect":"Allow","Action":"s3:PutBucketPolicy","Resource":"arn:aws:s3:::*-dev-*"}"#, "XA005"),
    ("dev", "mgmt", r#"+{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::{X}?*"}"#, "XA005"),
    ("dev", "mgmt", r#"+{"Effect":"Allow","Action":"s3:ListBucket","NotResource":"arn:aws:s3:::{X}-*"}"#, "XA005"),
    ("dev", "mgmt", r#"+{"Effect":"Allow","NotAction":"s3:DeleteBucket","Resource":"arn:aws:s3:::{X}-*"}"#, "XA006"),
    ("dev", "mgmt", r#"+{"Effect":"Allow","Action":"iam:CreateRole","Resource":"*"}"#, "XA006"),
    ("dev", "mgmt", r#"+{"Effect":"Allow","Action":"kms:*","Resource":"*"}"#, "XA006"),
    ("dev", "mgmt", r#"+{"Effect":"Allow","Action":"S3:GETOBJECT","Resource":"arn:aws:s3:::{X}-*/*"}"#, "XA025"),
    ("dev", "mgmt", r#"+{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:ResourceAccount":"{S}"}}}"#, "XA005"),
    ("dev", "mgmt", r#"+{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringLike":{"s3:prefix":"x*"}}}"#, "XA005"),
    ("dev", "mgmt", r#"s|arn:aws:s3:::ambra-dev-xacct-canary-*|arn:aws:s3:::ambra-dev-*|"#, "XA007"),
    ("dev", "mgmt", r#"s|"s3:DeleteBucket"|["s3:DeleteBucket","s3:DeleteBucketPolicy"]|"#, "XA007"),
    ("dev", "mgmt", r#"s|"s3:PutBucketPolicy",||"#, "XA004"),
    ("dev", "mgmt", r#"s|"s3:ListAllMyBuckets"|"s3:ListBucket"|"#, "XA004"),
    ("dev", "mgmt", r#"s|arn:aws:s3:::ambra-dev-*"|arn:aws:s3:::ambra-dev-a*"|"#, "XA004"),
    ("dev", "mgmt", r#"+{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}}"#, "XA004"),
    ("dev", "mgmt", r#"+{"Effect":"Deny","Action":"s3:CreateBucket","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}"#, "XA004"),
    ("dev", "mgmt", r#"+{"Effect":"Allow","Action":"s3:CreateBucket","Resource":"arn:aws:s3:::ambra-dev-x*"}"#, "XA070"),
    ("dev", "mgmt", r#"s|"account-regional"|"global"|"#, "XA070"),
    ("dev", "mgmt", r#"s|"StringEquals":{"s3:x-amz-bucket-namespace"|"StringEqualsIfExists":{"s3:x-amz-bucket-namespace"|"#, "XA070"),
    ("dev", "mgmt", r#"s|"StringEquals":{"s3:x-amz-bucket-namespace":"account-regional"}|"StringLike":{"s3:x-amz-bucket-namespace":"*"}|"#, "XA070"),
    ("dev", "mgmt", r#"s|"Resource":"arn:aws:s3:::ambra-dev-*-us-east-1-an"|"Resource":"arn:aws:s3:::ambra-dev-*"|"#, "XA070"),
    ("dev", "mgmt", r#"+{"Effect":"Deny","Action":"s3:PutBucketTagging","Resource":"arn:aws:s3:::ambra-dev-z*"}"#, "XA004"),
    ("uat", "mgmt", r#"+{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{X}-*/*"}"#, "XA025"),
    ("uat", "mgmt", r#"s|arn:aws:s3:::ambra-uat-*"|arn:aws:s3:::ambra-*"|"#, "XA005"),
    ("prod", "mgmt", r#"+{"Effect":"Allow","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::{X}-*"}"#, "XA007"),
    ("prod", "mgmt", r#"+{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::*/*"}"#, "XA005"),
    ("disc", "mgmt", r#"+{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::{X}-*"}"#, "XA007"),
    ("xid", "mgmt", r#"+{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{X}-*/*"}"#, "XA025"),
    // Unknown actions (not in the catalog).
    ("dev", "mgmt", r#"+{"Effect":"Allow","Action":"s3:GetObjekt","Resource":"arn:aws:s3:::{X}-*/*"}"#, "XA026"),
    ("dev", "exec", r#"+{"Effect":"Allow","Action":"logs:PutLogEvent","Resource":"arn:aws:logs:us-east-1:{P}:log-group:/aws/lambda/x:*"}"#, "XA026"),
    ("prod", "trust", r#"s|"sts:AssumeRole"|["sts:AssumeRole","sts:AssumeRoles"]|"#, "XA026"),
    // Lambda execution trust.
    ("dev", "ltrust", r#"s|"StringEquals":{"aws:SourceAccount":"{P}"}|"StringLike":{"aws:SourceAccount":"*"}|"#, "XA020"),
    ("dev", "ltrust", r#"s|"StringEquals"|"StringEqualsIfExists"|"#, "XA020"),
    ("dev", "ltrust", r#"+{"Effect":"Allow","Principal":{"Service":"edgelambda.amazonaws.com"},"Action":"sts:AssumeRole"}"#, "XA020"),
    ("dev", "ltrust", r#"+{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{P}:role/ci"},"Action":"sts:AssumeRole"}"#, "XA020"),
    ("prod", "ltrust", r#"+{"Effect":"Allow","Principal":{"AWS":"{P}"},"Action":"sts:AssumeRole"}"#, "XA020"),
    // Function URL / function policy.
    ("dev", "url", r#"s|"StringEquals":{"lambda:FunctionUrlAuthType":"AWS_IAM"}|"StringLike":{"lambda:FunctionUrlAuthType":"*"}|"#, "XA014"),
    ("dev", "url", r#"+{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{P}:role/other"},"Action":"lambda:InvokeFunction","Resource":"{F}"}"#, "XA012"),
    ("dev", "url", r#"+{"Effect":"Allow","Principal":{"AWS":"{P}"},"Action":"lambda:InvokeFunctionUrl","Resource":"{F}","Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"AWS_IAM"}}}"#, "XA012"),
    ("dev", "url", r#"+{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{P}:role/ambra-v3services-dev"},"Action":"lambda:UpdateFunctionCode","Resource":"{F}"}"#, "XA012"),
    ("dev", "url", r#"+{"Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"{F}"}"#, "XA012"),
    ("dev", "url", r#"+{"Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl","Resource":"{F}","Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"NONE"}}}"#, "XA014"),
    ("dev", "url", r#"-1"#, "XA013"),
    ("uat", "url", r#"+{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"lambda:InvokeFunction","Resource":"{F}:*"}"#, "XA012"),
    // Bucket policies.
    ("dev", "phr", r#"+{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{P}:role/other"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{PHR}/*"}"#, "XA015"),
    ("dev", "phr", r#"+{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{P}:role/ambra-storage-dev"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::{PHR}/*"}"#, "XA015"),
    ("dev", "phr", r#"+{"Effect":"Allow","Principal":{"AWS":"{P}"},"Action":"s3:*","Resource":"arn:aws:s3:::{PHR}"}"#, "XA015"),
    ("dev", "phr", r#"s|"Bool":{"aws:SecureTransport":"false"}|"StringEquals":{"aws:RequestedRegion":"us-east-1"}|"#, "XA016"),
    ("dev", "phr", r#"s|"Action":"s3:*"|"Action":"s3:Get*"|"#, "XA016"),
    ("dev", "phr", r#"-2"#, "XA017"),
    ("dev", "customer", r#"+{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{C}/*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}"#, "XA015"),
    ("dev", "customer", r#"s|"arn:aws:s3:::{C}","arn:aws:s3:::{C}/*"]|"arn:aws:s3:::{C}"]|"#, "XA016"),
    ("prod", "customer", r#"+{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::{C}"}"#, "XA015"),
    ("uat", "phr", r#"+{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{PHR}/*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/ambra-*"}}}"#, "XA015"),
];

/// `(env, document, edit)`: rewrites that keep or narrow access; all must audit clean.
#[rustfmt::skip]
pub const EQUIVALENT: &[(&str, &str, &str)] = &[
    ("dev", "mgmt", r#"s|"Sid":"ManageCustomerBuckets",||"#),
    ("dev", "mgmt", r#"s|"s3:CreateBucket"|"S3:CREATEBUCKET"|"#),
    ("dev", "mgmt", r#"s|"s3:ListAllMyBuckets"|["s3:listallmybuckets"]|"#),
    ("dev", "mgmt", r#"+{"Effect":"Deny","Action":"s3:DeleteBucket","NotResource":"arn:aws:s3:::ambra-dev-xacct-canary-*"}"#),
    ("dev", "mgmt", r#"+{"Effect":"Deny","NotAction":"s3:*","Resource":"*"}"#),
    ("dev", "mgmt", r#"+{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}}"#),
    ("dev", "mgmt", r#"+{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#),
    ("dev", "mgmt", r#"+{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:ResourceAccount":"{S}"}}}"#),
    ("dev", "mgmt", r#"+{"Effect":"Allow","Action":"s3:CreateBucket","Resource":"arn:aws:s3:::ambra-dev-x*-us-east-1-an","Condition":{"StringEquals":{"s3:x-amz-bucket-namespace":"account-regional"}}}"#),
    ("dev", "mgmt", r#"s|"StringEquals":{"s3:x-amz-bucket-namespace"|"StringEquals":{"S3:X-AMZ-BUCKET-NAMESPACE"|"#),
    ("dev", "mgmt", r#"s|"Resource":"arn:aws:s3:::ambra-dev-*"|"Resource":"arn:aws:s3:::ambra-dev-*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}|"#),
    ("dev", "mgmt", r#"s|"Resource":"arn:aws:s3:::ambra-dev-*"|"Resource":"arn:aws:s3:::ambra-dev-*","Condition":{"StringEqualsIfExists":{"aws:ResourceAccount":"{S}"}}|"#),
    ("dev", "mgmt", r#"s|"Resource":"arn:aws:s3:::ambra-dev-*"|"Resource":"arn:aws:s3:::ambra-dev-*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["owner"]}}|"#),
    ("dev", "trust", r#"s|"arn:aws:iam::100000000001:root"|"100000000001"|"#),
    ("dev", "trust", r#"s|"ArnEquals":{"aws:PrincipalArn"|"ArnEquals":{"AWS:PRINCIPALARN"|"#),
    ("dev", "trust", r#"s|"ArnEquals"|"ArnLike"|"#),
    ("dev", "trust", r#"s|"ArnEquals"|"StringEquals"|"#),
    ("dev", "trust", r#"s|"ArnEquals"|"ArnEqualsIfExists"|"#),
    ("dev", "trust", r#"s|"Principal":{"AWS":"arn:aws:iam::100000000001:root"}|"Principal":{"AWS":["arn:aws:iam::100000000001:root"]}|"#),
    ("dev", "trust", r#"s|"Principal":{"AWS":"arn:aws:iam::100000000001:root"}|"Principal":{"AWS":"{R}"}|"#),
    ("dev", "trust", r#"+{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{"ArnNotEquals":{"aws:PrincipalArn":"{R}"}}}"#),
    ("dev", "trust", r#"s|"ArnEquals":{"aws:PrincipalArn":"{R}"}|"ArnEquals":{"aws:PrincipalArn":"{R}"},"Null":{"aws:PrincipalArn":"false"}|"#),
    ("dev", "trust", r#"s|"ArnEquals":{"aws:PrincipalArn":"{R}"}|"ArnEquals":{"aws:PrincipalArn":"{R}"},"StringEquals":{"aws:ResourceAccount":"{S}","aws:PrincipalAccount":"{P}"}|"#),
    ("dev", "trust", r#"s|"ArnEquals":{"aws:PrincipalArn":"{R}"}|"ArnEquals":{"aws:PrincipalArn":"{R}"},"StringEquals":{"aws:RequestedRegion":"us-east-1"}|"#),
    ("dev", "exec", r#"s|"Sid":"AssumeStorageRoles",||"#),
    ("dev", "exec", r#"0={"Effect":"Allow","Action":"STS:AssumeRole","Resource":["arn:aws:iam::100000000003:role/S3BucketManager","arn:aws:iam::100000000002:role/S3BucketManager"]}"#),
    ("dev", "exec", r#"+{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::100000000003:role/S3BucketManager"}"#),
    ("dev", "exec", r#"s|"Action":"sts:AssumeRole"|"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:ResourceAccount":["100000000002","100000000003"]}}|"#),
    ("dev", "exec", r#"+{"Effect":"Deny","Action":"iam:*","Resource":"*"}"#),
    ("dev", "ltrust", r#"s|"Service":"lambda.amazonaws.com"|"Service":["lambda.amazonaws.com"]|"#),
    ("dev", "ltrust", r#"s|"StringEquals":{"aws:SourceAccount":"{P}"}|"StringEquals":{"aws:SourceAccount":"{P}"},"ArnLike":{"aws:SourceArn":"{F}"}|"#),
    ("dev", "url", r#"s|"Principal":{"AWS":"arn:aws:iam::100000000001:role/ambra-v3services-dev"}|"Principal":{"AWS":["arn:aws:iam::100000000001:role/ambra-v3services-dev"]}|"#),
    ("dev", "url", r#"s|"lambda:FunctionUrlAuthType"|"LAMBDA:FUNCTIONURLAUTHTYPE"|"#),
    ("dev", "phr", r#"s|"Sid":"ReaderPrincipalsList",||"#),
    ("dev", "phr", r#"+{"Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::{PHR}"}"#),
    ("dev", "phr", r#"s|"Action":"s3:GetObject"|"Action":"s3:GetObject","Condition":{"Bool":{"aws:SecureTransport":"true"}}|"#),
    ("dev", "customer", r#"s|"Action":["s3:GetBucketLocation","s3:ListBucket"]|"Action":["S3:ListBucket","s3:getbucketlocation"]|"#),
    ("uat", "trust", r#"s|"arn:aws:iam::200000000001:root"|"200000000001"|"#),
    ("uat", "trust", r#"s|"StringEquals":{"sts:ExternalId"|"StringEquals":{"STS:EXTERNALID"|"#),
    ("uat", "mgmt", r#"+{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}}"#),
    ("prod", "trust", r#"s|"ArnEquals"|"ArnLike"|"#),
    ("prod", "exec", r#"s|"Action":"sts:AssumeRole"|"Action":["sts:AssumeRole"]|"#),
    ("disc", "exec", r#"s|"StringEquals":{"aws:ResourceOrgID"|"StringEquals":{"aws:resourceorgid"|"#),
    ("disc", "exec", r#"+{"Effect":"Deny","Action":"sts:AssumeRole","Resource":"arn:aws:iam::555555555555:role/*"}"#),
    ("xid", "trust", r#"s|"StringEquals":{"sts:ExternalId":"fixture-external-id"}|"StringEquals":{"sts:ExternalId":["fixture-external-id"]}|"#),
    ("xid", "mgmt", r#"s|"Sid":"CountBucketsForCapacity",||"#),
];
