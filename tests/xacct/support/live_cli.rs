//! What the live-command tests (onboard, offboard, capacity, accounts, stackset)
//! share: the real binary against moto, a temp copy of the dev spec and its
//! generated files, moto set up with audit roles, buckets and an organization.

pub(crate) use std::collections::BTreeMap;
pub(crate) use std::path::{Path, PathBuf};
pub(crate) use std::process::Command;

pub(crate) use crate::support::fs::copy_tree;
pub(crate) use crate::support::moto;
pub(crate) use crate::support::verify_deploy as deploy;

pub(crate) use deploy::{STORAGE_A, STORAGE_B, base, in_account, root, rt, s3};
pub(crate) use moto::Moto;

pub(crate) const NEW: &str = "100000000004";

pub(crate) use crate::support::cli::Out;

/// Runs the real binary with moto's default credentials (or none).
pub(crate) fn xacct(m: Option<&Moto>, args: &[&str]) -> Out {
    xacct_as(m, (moto::ACCESS_KEY, moto::SECRET_KEY), args)
}

/// Runs the real binary with the given access key (when `m` is given).
pub(crate) fn xacct_as(m: Option<&Moto>, (key, secret): (&str, &str), args: &[&str]) -> Out {
    use crate::support::cli::{Env, run};
    let env = match m {
        Some(m) => Env::Aws {
            endpoint: &m.endpoint,
            key,
            secret,
            token: None,
        },
        None => Env::Clean,
    };
    run(args, None, env)
}

/// Every file under `dir` with its contents.
pub(crate) fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    out
}

/// A temp dir with `dev.toml` (a copy of environments/dev.toml) and `generated/dev/`.
pub(crate) struct Work {
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) root: PathBuf,
    pub(crate) spec: PathBuf,
    pub(crate) out: PathBuf,
}

impl Work {
    pub(crate) fn new() -> Work {
        Work::with_spec(&std::fs::read_to_string(root().join("environments/dev.toml")).unwrap())
    }

    pub(crate) fn with_spec(text: &str) -> Work {
        let dir = tempfile::tempdir().unwrap();
        let root_dir = dir.path().to_owned();
        let spec = root_dir.join("dev.toml");
        std::fs::write(&spec, text).unwrap();
        let out = root_dir.join("generated");
        let w = Work {
            _dir: dir,
            root: root_dir,
            spec,
            out,
        };
        let r = w.run(None, &["render"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        w
    }

    pub(crate) fn s(&self) -> &str {
        self.spec.to_str().unwrap()
    }

    /// `xacct <args[0]> --env <spec> --out <generated> <args[1..]>`.
    pub(crate) fn run(&self, m: Option<&Moto>, args: &[&str]) -> Out {
        let mut all = vec![args[0], "--env", self.s(), "--out", self.o()];
        all.extend_from_slice(&args[1..]);
        xacct(m, &all)
    }

    pub(crate) fn o(&self) -> &str {
        self.out.to_str().unwrap()
    }

    pub(crate) fn state(&self) -> BTreeMap<PathBuf, String> {
        snapshot(&self.root)
    }

    pub(crate) fn check_clean(&self) {
        let r = self.run(None, &["render", "--check"]);
        assert_eq!(
            r.code, 0,
            "render --check not clean:\n{}{}",
            r.stdout, r.stderr
        );
    }
}

/// moto with the audit role in the given storage accounts and buckets in them,
/// and the dev environment's state table in the caller's account.
pub(crate) fn moto_with(accounts: &[(&str, &[&str])]) -> Moto {
    let m = Moto::start();
    let rt = rt();
    rt.block_on(async {
        let b = base(&m);
        let env = deploy::load(&root().join("environments/dev.toml"));
        deploy::create_state_table(&b, &env).await;
        for (acct, buckets) in accounts {
            let c = in_account(&b, acct).await;
            aws_sdk_iam::Client::new(&c)
                .create_role()
                .role_name("OrganizationAccountAccessRole")
                .assume_role_policy_document(format!(
                    r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"sts:AssumeRole"}}]}}"#,
                    moto::DEFAULT_ACCOUNT
                ))
                .send()
                .await
                .unwrap();
            let s3 = s3(&c);
            for name in *buckets {
                s3.create_bucket().bucket(*name).send().await.unwrap();
            }
        }
    });
    m
}

/// An organization (moto's default account is its management account) with a
/// `storage` OU under the root; returns (root ID, OU ID).
pub(crate) async fn org_with_storage_ou(b: &aws_config::SdkConfig) -> (String, String) {
    let org = aws_sdk_organizations::Client::new(b);
    org.create_organization().send().await.unwrap();
    let root_id = org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_owned();
    let ou = org
        .create_organizational_unit()
        .parent_id(&root_id)
        .name("storage")
        .send()
        .await
        .unwrap()
        .organizational_unit()
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    (root_id, ou)
}

/// A dev spec whose storage accounts are `accounts`.
pub(crate) fn dev_spec_with(accounts: &[&str]) -> String {
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
}
