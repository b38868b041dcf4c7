use std::path::Path;

use xacct::model::{Environment, LoadOptions, Severity, SpecError};

fn base() -> String {
    crate::read(&crate::input("two_accounts.toml"))
}

fn load(text: &str, strict: bool) -> Result<xacct::model::Loaded, SpecError> {
    Environment::from_str(
        Path::new("environments/broken.toml"),
        text,
        LoadOptions { strict },
    )
}

/// Every error names the file, the field and the rule.
fn assert_rejected(case: &str, text: &str, field: &str, rule: &str) {
    match load(text, false) {
        Err(SpecError::Invalid { diagnostics, .. }) => {
            let hit = diagnostics
                .iter()
                .find(|d| d.field == field)
                .unwrap_or_else(|| panic!("{case}: no error for `{field}` in {diagnostics:#?}"));
            assert!(
                hit.rule.contains(rule),
                "{case}: `{}` lacks {rule:?}",
                hit.rule
            );
            let shown = hit.to_string();
            assert!(
                shown.contains("environments/broken.toml") && shown.contains(field),
                "{case}: {shown}"
            );
        }
        Err(other) => panic!("{case}: expected a validation error, got {other}"),
        Ok(_) => panic!("{case}: spec was accepted"),
    }
}

#[test]
fn every_rule_names_its_field() {
    let b = base();
    let long_prefix = "p".repeat(xacct::contract::PREFIX_MAX + 1);
    #[rustfmt::skip]
    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("short account id", b.replace("primary_account = \"111111111111\"", "primary_account = \"11111\""), "environment.primary_account", "12 digits"),
        ("letters in account id", b.replace("\"222222222222\", ", "\"22222222222a\", "), "storage.accounts[0]", "12 digits"),
        ("duplicate storage account", b.replace("\"333333333333\"]", "\"222222222222\"]"), "storage.accounts", "duplicate"),
        ("one account outside production", b.replace("[\"222222222222\", \"333333333333\"]", "[\"222222222222\"]"), "storage.accounts", "at least 2"),
        ("primary used as storage", b.replace("\"333333333333\"]", "\"111111111111\"]"), "storage.accounts[1]", "primary account"),
        ("prefix charset", b.replace("bucket_prefix = \"fixture-two\"", "bucket_prefix = \"Fixture_Two\""), "storage.bucket_prefix", "lowercase"),
        ("prefix too long for generated names", b.replace("bucket_prefix = \"fixture-two\"", &format!("bucket_prefix = \"{long_prefix}\"")), "storage.bucket_prefix", "longest generated name"),
        ("prefix reserved", b.replace("bucket_prefix = \"fixture-two\"", "bucket_prefix = \"sthree-two\""), "storage.bucket_prefix", "reserved prefix"),
        ("prefix double hyphen", b.replace("bucket_prefix = \"fixture-two\"", "bucket_prefix = \"fix--two\""), "storage.bucket_prefix", "no '--'"),
        ("phr bucket as IP", b.replace("bucket = \"fixture-phr-two\"", "bucket = \"192.168.5.4\""), "phr.bucket", "IP address"),
        ("phr bucket reserved suffix", b.replace("bucket = \"fixture-phr-two\"", "bucket = \"fixture-phr-s3alias\""), "phr.bucket", "reserved suffix"),
        ("phr bucket too long", b.replace("bucket = \"fixture-phr-two\"", &format!("bucket = \"{}\"", "b".repeat(64))), "phr.bucket", "63"),
        ("phr bucket uppercase", b.replace("bucket = \"fixture-phr-two\"", "bucket = \"Fixture-PHR\""), "phr.bucket", "lowercase"),
        ("phr bucket under customer prefix", b.replace("bucket = \"fixture-phr-two\"", "bucket = \"fixture-two-phr\""), "phr.bucket", "customer bucket prefix"),
        ("phr account elsewhere", b.replace("[phr]\naccount = \"111111111111\"", "[phr]\naccount = \"444444444444\""), "phr.account", "primary account or one of storage.accounts"),
        ("principal not an ARN", b.replace("role/app\"]", "role/app\", \"app-role\"]"), "access.invoker_principals[1]", "IAM ARN"),
        ("principal short account", b.replace("\"arn:aws:iam::111111111111:role/app\"", "\"arn:aws:iam::1111:role/app\""), "access.invoker_principals[0]", "12 digits"),
        ("wildcard principal", b.replace("\"arn:aws:iam::111111111111:role/storage-reader\"", "\"*\""), "access.reader_principals[0]", "wildcards"),
        ("principal wildcard role", b.replace("role/storage-reader", "role/*"), "access.reader_principals[0]", "wildcards"),
        ("no invokers", b.replace("invoker_principals = [\"arn:aws:iam::111111111111:role/app\"]", "invoker_principals = []"), "access.invoker_principals", "at least one"),
        ("max buckets above default quota", b.replace("max_buckets_per_account = 1000", "max_buckets_per_account = 20000"), "storage.max_buckets_per_account", "quota"),
        ("max buckets zero", b.replace("max_buckets_per_account = 1000", "max_buckets_per_account = 0"), "storage.max_buckets_per_account", "at least 1"),
        ("quota above S3 maximum", b.replace("max_buckets_per_account = 1000", "max_buckets_per_account = 1000\ns3_bucket_quota = 2000000"), "storage.s3_bucket_quota", "1000000"),
        ("namespace spelled wrong", b.replace("bucket_prefix = \"fixture-two\"", "bucket_prefix = \"fixture-two\"\nbucket_namespace = \"regional\""), "storage.bucket_namespace", "account-regional"),
        ("namespace in another case", b.replace("bucket_prefix = \"fixture-two\"", "bucket_prefix = \"fixture-two\"\nbucket_namespace = \"Account-Regional\""), "storage.bucket_namespace", "\"global\""),
        ("prefix too long for the namespace suffix", b.replace("bucket_prefix = \"fixture-two\"", &format!("bucket_prefix = \"{}\"\nbucket_namespace = \"account-regional\"", "p".repeat(xacct::contract::namespaced_prefix_max("us-east-1") + 1))), "storage.bucket_prefix", "account regional namespace"),
        ("discovery without organization", b.replace("max_buckets_per_account = 1000", "max_buckets_per_account = 1000\ndiscover = true"), "storage.organization_id", "required"),
        ("bad organization id", b.replace("max_buckets_per_account = 1000", "max_buckets_per_account = 1000\norganization_id = \"org-1\""), "storage.organization_id", "o-"),
        ("bad region", b.replace("region = \"us-east-1\"", "region = \"useast1\""), "environment.region", "region"),
        ("bad short name", b.replace("short_name = \"two\"", "short_name = \"../two\""), "environment.short_name", "[a-z0-9-]"),
        ("memory out of range", b.replace("memory_mb = 256", "memory_mb = 64"), "lambda.memory_mb", "128"),
        ("timeout out of range", b.replace("timeout_seconds = 30", "timeout_seconds = 901"), "lambda.timeout_seconds", "900"),
        ("log retention not allowed", b.replace("log_retention_days = 30", "log_retention_days = 31"), "lambda.log_retention_days", "retention"),
        ("function name too long", b.replace("function_name = \"provisioner-two\"", &format!("function_name = \"{}\"", "f".repeat(60))), "lambda.function_name", "64"),
        ("bad external id", b.replace("max_buckets_per_account = 1000", "max_buckets_per_account = 1000\nexternal_id = \"x\""), "storage.external_id", "2-1224"),
        ("bad topic arn", b.replace("log_retention_days = 30", "log_retention_days = 30\nops_topic_arn = \"ops\""), "lambda.ops_topic_arn", "SNS topic ARN"),
        ("growth below one", format!("{b}\n[capacity]\nexpected_customers = 10\ngrowth_factor = 0.5\n"), "capacity.growth_factor", ">= 1.0"),
        ("kms key with phr in a storage account", format!("{}\n[security]\nkms_key = true\n", b.replace("[phr]\naccount = \"111111111111\"", "[phr]\naccount = \"222222222222\"")), "security.kms_key", "next step: set phr.account to the primary account"),
        ("trail with phr in a storage account", format!("{}\n[security]\ncloudtrail = true\n", b.replace("[phr]\naccount = \"111111111111\"", "[phr]\naccount = \"222222222222\"")), "security.cloudtrail", "log bucket"),
        ("signing profile not an arn", format!("{b}\n[security]\ncode_signing_profile_version_arn = \"xacct_prod\"\n"), "security.code_signing_profile_version_arn", "next step: copy the profile version ARN"),
        ("signing profile without version", format!("{b}\n[security]\ncode_signing_profile_version_arn = \"arn:aws:signer:us-east-1:111111111111:/signing-profiles/xacct\"\n"), "security.code_signing_profile_version_arn", "/signing-profiles/<name>/<version>"),
        ("signing profile short account", format!("{b}\n[security]\ncode_signing_profile_version_arn = \"arn:aws:signer:us-east-1:1111:/signing-profiles/xacct/a1b2c3d4e5\"\n"), "security.code_signing_profile_version_arn", "12 digits"),
        ("signing profile bad version", format!("{b}\n[security]\ncode_signing_profile_version_arn = \"arn:aws:signer:us-east-1:111111111111:/signing-profiles/xacct/v1\"\n"), "security.code_signing_profile_version_arn", "version 10"),
    ];
    for (case, text, field, rule) in &cases {
        assert_ne!(text, &b, "{case}: the edit did not apply");
        assert_rejected(case, text, field, rule);
    }
}

/// Every `[security]` control is off by default and each can be turned on.
#[test]
fn security_controls_are_off_by_default_and_load_when_set() {
    let off = load(&base(), false).unwrap().env.security;
    assert_eq!(off, xacct::model::Security::default());
    let arn = "arn:aws:signer:us-east-1:111111111111:/signing-profiles/xacct_two/a1b2c3d4e5";
    let text = format!(
        "{}\n[security]\nkms_key = true\ncloudtrail = true\nprimary_account_public_access_block = true\ncode_signing_profile_version_arn = \"{arn}\"\n",
        base()
    );
    let on = load(&text, false).unwrap().env.security;
    assert!(on.kms_key && on.cloudtrail && on.primary_account_public_access_block);
    assert_eq!(on.code_signing_profile_version_arn.as_deref(), Some(arn));
    // An unknown key is a parse error that names it.
    match load(&format!("{}\n[security]\nkms = true\n", base()), false) {
        Err(SpecError::Parse { message, .. }) => assert!(message.contains("kms"), "{message}"),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn base_fixture_is_valid() {
    let loaded = load(&base(), true).expect("fixture is valid");
    assert!(loaded.warnings.is_empty());
}

#[test]
fn all_errors_are_reported_at_once() {
    let text = base()
        .replace(
            "primary_account = \"111111111111\"",
            "primary_account = \"1\"",
        )
        .replace("memory_mb = 256", "memory_mb = 1");
    let Err(SpecError::Invalid { diagnostics, .. }) = load(&text, false) else {
        panic!("expected errors");
    };
    let fields: Vec<&str> = diagnostics.iter().map(|d| d.field.as_str()).collect();
    assert!(
        fields.contains(&"environment.primary_account"),
        "{fields:?}"
    );
    assert!(fields.contains(&"lambda.memory_mb"), "{fields:?}");
}

#[test]
fn capacity_warns_and_fails_when_strict() {
    let text = format!(
        "{}\n[capacity]\nexpected_customers = 1500\ngrowth_factor = 2.0\n",
        base()
    );
    let loaded = load(&text, false).expect("a capacity shortfall is only a warning");
    let w = &loaded.warnings[0];
    assert_eq!(w.severity, Severity::Warning);
    assert_eq!(w.field, "storage.accounts");
    assert!(
        w.rule.contains("2000 < 1500 customers x 2 growth = 3000"),
        "{}",
        w.rule
    );
    assert!(w.rule.contains("add 1 more storage account"), "{}", w.rule);
    match load(&text, true) {
        Err(SpecError::Invalid { diagnostics, .. }) => {
            assert!(diagnostics[0].rule.contains("capacity"))
        }
        other => panic!("strict must fail: {other:?}"),
    }
}

#[test]
fn seed_production_figures_fit() {
    // Seed 000: ~5,000 customers, double for growth, 1,000 buckets per account => 10 accounts.
    let loaded = Environment::load(
        &crate::repo().join("environments/prod.toml"),
        LoadOptions { strict: true },
    )
    .expect("prod spec is valid and has room for its expected customers");
    assert_eq!(loaded.env.storage_accounts.len(), 10);
    assert_eq!(loaded.env.total_capacity(), 10_000);
}

#[test]
fn parse_errors_name_the_key() {
    let b = base();
    let cases = [
        (
            b.replace("memory_mb = 256", "memory_mb = 256\nmemroy_mb = 1"),
            "memroy_mb",
        ),
        (
            b.replace(
                "max_buckets_per_account = 1000",
                "max_buckets_per_account = \"many\"",
            ),
            "max_buckets_per_account",
        ),
        (
            b.replace("bucket_prefix = \"fixture-two\"\n", ""),
            "bucket_prefix",
        ),
    ];
    for (text, key) in cases {
        match load(&text, false) {
            Err(e @ SpecError::Parse { .. }) => {
                let msg = e.to_string();
                assert!(msg.contains(key) && msg.contains("broken.toml"), "{msg}");
            }
            other => panic!("expected a parse error naming {key}, got {other:?}"),
        }
    }
}
