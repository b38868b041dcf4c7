//! `xacct accounts`: Organizations accounts and tags against the spec.

use crate::support::live_cli::*;

#[test]
fn accounts_diffs_organizations_tags_against_the_spec() {
    use aws_sdk_organizations::types::Tag;
    let m = Moto::start();
    let rt = rt();
    let b = base(&m);
    // name -> (id)
    let ids: BTreeMap<&str, String> = rt.block_on(async {
        let org = aws_sdk_organizations::Client::new(&b);
        org.create_organization().send().await.unwrap();
        let mut ids = BTreeMap::new();
        for name in [
            "in-sync",
            "untagged",
            "not-in-spec",
            "suspended",
            "other",
            "second",
        ] {
            let out = org
                .create_account()
                .account_name(name)
                .email(format!("{name}@example.com"))
                .send()
                .await
                .unwrap();
            let id = out
                .create_account_status()
                .unwrap()
                .account_id()
                .unwrap()
                .to_owned();
            if name != "untagged" && name != "other" {
                org.tag_resource()
                    .resource_id(&id)
                    .tags(
                        Tag::builder()
                            .key("ambra-storage")
                            .value("true")
                            .build()
                            .unwrap(),
                    )
                    .send()
                    .await
                    .unwrap();
            }
            ids.insert(name, id);
        }
        org.close_account()
            .account_id(&ids["suspended"])
            .send()
            .await
            .unwrap();
        ids
    });
    let spec_with = |accounts: &[&str]| {
        let list = accounts
            .iter()
            .map(|a| format!("\"{a}\""))
            .collect::<Vec<_>>()
            .join(", ");
        std::fs::read_to_string(root().join("environments/dev.toml"))
            .unwrap()
            .replace(
                r#"accounts = ["100000000002", "100000000003"]"#,
                &format!("accounts = [{list}]"),
            )
    };
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("dev.toml");
    std::fs::write(
        &spec,
        spec_with(&[
            &ids["in-sync"],
            &ids["untagged"],
            &ids["suspended"],
            "100000000009",
        ]),
    )
    .unwrap();
    let r = xacct(Some(&m), &["accounts", "--env", spec.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let drift: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains(':') && !l.starts_with("account"))
        .collect();
    let has = |prefix: &str, id: &str| {
        drift
            .iter()
            .any(|l| l.starts_with(prefix) && l.contains(id))
    };
    assert!(has("missing the tag", &ids["untagged"]), "{}", r.stdout);
    assert!(
        has("missing from spec", &ids["not-in-spec"]),
        "{}",
        r.stdout
    );
    assert!(has("missing from spec", &ids["second"]), "{}", r.stdout);
    assert!(has("suspended", &ids["suspended"]), "{}", r.stdout);
    assert!(has("not in the org", "100000000009"), "{}", r.stdout);
    assert!(
        !drift.iter().any(|l| l.contains(&ids["in-sync"])),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains(&ids["other"]),
        "untagged, not in spec: not listed\n{}",
        r.stdout
    );
    assert_eq!(drift.len(), 5, "{}", r.stdout);

    // `--format table` is the default, byte for byte; `--format json` has the same content.
    let spec_s = spec.to_str().unwrap();
    let t = xacct(
        Some(&m),
        &["accounts", "--env", spec_s, "--format", "table"],
    );
    assert_eq!((t.code, &t.stdout), (1, &r.stdout));
    let j = xacct(Some(&m), &["accounts", "--env", spec_s, "--format", "json"]);
    assert_eq!(j.code, 1, "{}{}", j.stdout, j.stderr);
    let v: serde_json::Value = serde_json::from_str(&j.stdout).unwrap();
    let ids_of = |key: &str| -> Vec<String> {
        let mut out: Vec<String> = v[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key}: {v}"))
            .iter()
            .map(|x| x.as_str().unwrap().to_owned())
            .collect();
        out.sort();
        out
    };
    let sorted = |mut x: Vec<String>| {
        x.sort();
        x
    };
    assert_eq!(v["in_sync"], false);
    assert_eq!(ids_of("missing_tag"), [ids["untagged"].clone()]);
    assert_eq!(
        ids_of("missing_from_spec"),
        sorted(vec![ids["not-in-spec"].clone(), ids["second"].clone()])
    );
    assert_eq!(ids_of("suspended"), [ids["suspended"].clone()]);
    assert_eq!(ids_of("not_in_organization"), ["100000000009"]);
    let listed: BTreeMap<String, &serde_json::Value> = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["account"].as_str().unwrap().to_owned(), a))
        .collect();
    assert_eq!(listed.len(), 5, "{v}");
    assert!(!listed.contains_key(&ids["other"]));
    let a = listed[&ids["in-sync"]];
    assert_eq!(
        (&a["name"], &a["status"], &a["tagged"], &a["in_spec"]),
        (
            &serde_json::json!("in-sync"),
            &serde_json::json!("ACTIVE"),
            &serde_json::json!(true),
            &serde_json::json!(true)
        )
    );
    let a = listed[&ids["untagged"]];
    assert_eq!(
        (&a["tagged"], &a["in_spec"]),
        (&serde_json::json!(false), &serde_json::json!(true))
    );
    assert_eq!(listed[&ids["suspended"]]["status"], "SUSPENDED");

    // In sync: exactly the tagged ACTIVE accounts (the suspended one untagged).
    rt.block_on(async {
        aws_sdk_organizations::Client::new(&b)
            .untag_resource()
            .resource_id(&ids["suspended"])
            .tag_keys("ambra-storage")
            .send()
            .await
            .unwrap();
    });
    std::fs::write(
        &spec,
        spec_with(&[&ids["in-sync"], &ids["not-in-spec"], &ids["second"]]),
    )
    .unwrap();
    let r = xacct(Some(&m), &["accounts", "--env", spec.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("in sync: 3 storage account(s)"),
        "{}",
        r.stdout
    );
    let j = xacct(
        Some(&m),
        &[
            "accounts",
            "--env",
            spec.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(j.code, 0, "{}{}", j.stdout, j.stderr);
    let v: serde_json::Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(v["in_sync"], true);
    assert_eq!(v["accounts"].as_array().unwrap().len(), 3, "{v}");
    for key in [
        "missing_from_spec",
        "missing_tag",
        "suspended",
        "not_in_organization",
    ] {
        assert_eq!(v[key], serde_json::json!([]), "{key}");
    }

    // Through a management role.
    let mgmt = rt.block_on(async {
        let c = in_account(&b, moto::DEFAULT_ACCOUNT).await;
        aws_sdk_iam::Client::new(&c)
            .create_role()
            .role_name("xacct-org-read")
            .assume_role_policy_document(deploy::ALLOW_ALL.replace(
                "\"Action\":\"*\",\"Resource\":\"*\"",
                "\"Principal\":{\"AWS\":\"*\"},\"Action\":\"sts:AssumeRole\"",
            ))
            .send()
            .await
            .unwrap();
        format!("arn:aws:iam::{}:role/xacct-org-read", moto::DEFAULT_ACCOUNT)
    });
    let r = xacct(
        Some(&m),
        &[
            "accounts",
            "--env",
            spec.to_str().unwrap(),
            "--management-role",
            &mgmt,
            "--external-id",
            "x",
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains(&ids["in-sync"]), "{}", r.stdout);
}
