//! Runs the real `terraform` CLI on a private copy of a generated root module.
//!
//! Include it from any test crate with
//! `crate::support::terraform` (std only, plus `serde_json`
//! and `tempfile`, which the `xacct` crate already has).
//!
//! What it guarantees:
//! - The committed tree is never written to: [`Terraform::new`] copies the root
//!   module and every local module it references (`source = "../../modules/..."`,
//!   followed recursively) into a fresh temp dir, keeping their relative layout.
//! - Offline: providers come from a local filesystem mirror through a CLI config
//!   file (`TF_CLI_CONFIG_FILE`) with `filesystem_mirror` and `direct { exclude }`,
//!   so `init` never contacts a registry; `CHECKPOINT_DISABLE=1`.
//! - Parallel-safe: each instance has its own copy, hence its own `.terraform`,
//!   lock file and state.
//! - A missing `terraform` or mirror makes the test fail with an install hint.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const TERRAFORM_HINT: &str =
    "install terraform >= 1.5 (see .ci/run), or point XACCT_TERRAFORM at the binary";
pub const MIRROR_HINT: &str = "no local Terraform provider mirror found: set XACCT_TF_MIRROR to a directory that holds \
     registry.terraform.io/hashicorp/aws/<version>/<os_arch>/ (e.g. `terraform providers mirror /opt/tf-plugins` \
     on a connected machine, see .ci/run)";

/// The `terraform` binary: `XACCT_TERRAFORM`, else the first `terraform` on `PATH`.
/// Panics with [`TERRAFORM_HINT`] if there is none or it is older than 1.5.
pub fn terraform_bin() -> PathBuf {
    let bin = match std::env::var_os("XACCT_TERRAFORM") {
        Some(p) => PathBuf::from(p),
        None => find_on_path("terraform")
            .unwrap_or_else(|| panic!("`terraform` not found on PATH: {TERRAFORM_HINT}")),
    };
    let out = command(&bin)
        .args(["version", "-json"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}. {TERRAFORM_HINT}", bin.display()));
    let text = String::from_utf8_lossy(&out.stdout);
    let version = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["terraform_version"].as_str().map(str::to_owned))
        .unwrap_or_else(|| {
            panic!(
                "`{} version -json` gave no version ({text}). {TERRAFORM_HINT}",
                bin.display()
            )
        });
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    assert!(
        (major, minor) >= (1, 5),
        "terraform {version} is too old: {TERRAFORM_HINT}"
    );
    bin
}

/// A `terraform` command with what every test run sets: no update check, no
/// prompts, and a Go garbage collector that runs a quarter as often. Terraform
/// and its provider plugins (one process per provider configuration) were a
/// third of the integration suite's CPU, and about a fifth of theirs was
/// collection (docs/benchmarks.md); each process lives seconds, so the larger
/// heap costs nothing that lasts.
pub fn command(bin: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.stdin(Stdio::null())
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0")
        .env("GOGC", "400");
    cmd
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The provider mirror: `XACCT_TF_MIRROR`, else the first of the usual plugin
/// directories that holds a `registry.terraform.io` folder. Panics with [`MIRROR_HINT`].
pub fn provider_mirror() -> PathBuf {
    if let Some(p) = std::env::var_os("XACCT_TF_MIRROR") {
        let p = PathBuf::from(p);
        assert!(
            p.join("registry.terraform.io").is_dir(),
            "XACCT_TF_MIRROR={} has no registry.terraform.io folder. {MIRROR_HINT}",
            p.display()
        );
        return p;
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let xdg_data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".local/share")));
    let mut candidates = vec![PathBuf::from("/opt/tf-plugins")];
    if let Some(h) = &home {
        candidates.push(h.join(".terraform.d/plugins"));
    }
    if let Some(x) = &xdg_data {
        candidates.push(x.join("terraform/plugins"));
    }
    candidates.extend([
        PathBuf::from("/usr/local/share/terraform/plugins"),
        PathBuf::from("/usr/share/terraform/plugins"),
    ]);
    candidates
        .into_iter()
        .find(|c| c.join("registry.terraform.io").is_dir())
        .unwrap_or_else(|| panic!("{MIRROR_HINT}"))
}

/// The CLI config text: providers only from `mirror`, never from the network.
pub fn cli_config(mirror: &Path) -> String {
    let path = hcl_string(&mirror.display().to_string());
    format!(
        r#"provider_installation {{
  filesystem_mirror {{
    path    = {path}
    include = ["registry.terraform.io/*/*"]
  }}
  direct {{
    exclude = ["registry.terraform.io/*/*"]
  }}
}}
"#
    )
}

/// A quoted HCL string literal.
pub fn hcl_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '$' => out.push_str("$$"),
            '%' => out.push_str("%%"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Local module sources (`source = "./..."` / `"../..."`) in the `.tf` files of `dir`.
fn local_module_sources(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.extension().is_none_or(|e| e != "tf") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        for line in text.lines() {
            let line = line.trim();
            let Some(rest) = line.strip_prefix("source") else {
                continue;
            };
            let Some(value) = rest.trim_start().strip_prefix('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"');
            if value.starts_with("./") || value.starts_with("../") {
                out.push(value.to_owned());
            }
        }
    }
    out
}

/// The root and every local module it reaches, canonicalized.
fn module_closure(root: &Path) -> BTreeSet<PathBuf> {
    let root = root
        .canonicalize()
        .unwrap_or_else(|e| panic!("Terraform root {} does not exist: {e}", root.display()));
    let mut seen = BTreeSet::new();
    let mut queue = vec![root];
    while let Some(dir) = queue.pop() {
        if !seen.insert(dir.clone()) {
            continue;
        }
        for src in local_module_sources(&dir) {
            let target = dir.join(&src).canonicalize().unwrap_or_else(|e| {
                panic!(
                    "module source {src:?} in {} does not resolve: {e}",
                    dir.display()
                )
            });
            queue.push(target);
        }
    }
    seen
}

fn common_ancestor(paths: &BTreeSet<PathBuf>) -> PathBuf {
    let mut it = paths.iter();
    let mut base = it.next().expect("at least the root").clone();
    for p in it {
        while !p.starts_with(&base) {
            base = base.parent().expect("absolute paths share /").to_owned();
        }
    }
    base
}

/// Copies the files of `from` (recursively, minus Terraform working state) into `to`.
fn copy_module(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("create {}: {e}", to.display()));
    for entry in std::fs::read_dir(from)
        .unwrap_or_else(|e| panic!("read {}: {e}", from.display()))
        .flatten()
    {
        let name = entry.file_name();
        let n = name.to_string_lossy();
        if n == ".terraform"
            || n.ends_with(".tfstate")
            || n.ends_with(".tfstate.backup")
            || n.ends_with("_override.tf")
        {
            continue;
        }
        let src = entry.path();
        let dst = to.join(&name);
        if src.is_dir() {
            copy_module(&src, &dst);
        } else {
            std::fs::copy(&src, &dst)
                .unwrap_or_else(|e| panic!("copy {} -> {}: {e}", src.display(), dst.display()));
        }
    }
}

/// What one terraform run did.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// Panics with the whole output unless the run succeeded.
    pub fn assert_ok(self, what: &str) -> Run {
        assert!(
            self.success(),
            "{what}: `terraform {}` failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            self.args.join(" "),
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }
}

/// One private working copy of a Terraform root module.
pub struct Terraform {
    bin: PathBuf,
    tmp: tempfile::TempDir,
    /// The copied root module (run terraform here).
    dir: PathBuf,
    /// Where the copy of the root's closure starts (`generated/<env>/` for generated roots).
    base: PathBuf,
    /// The original root, for messages.
    source: PathBuf,
    cli_config: PathBuf,
    env: Vec<(String, String)>,
}

impl Terraform {
    /// Copies `root` (e.g. `generated/dev/primary/terraform`) and the local modules
    /// it references into a temp dir and writes the offline CLI config there.
    pub fn new(root: impl AsRef<Path>) -> Terraform {
        let root = root.as_ref();
        let bin = terraform_bin();
        let mirror = provider_mirror();
        let closure = module_closure(root);
        let canon_root = root
            .canonicalize()
            .expect("root canonicalizes (checked above)");
        let common = common_ancestor(&closure);
        let tmp = tempfile::Builder::new()
            .prefix("xacct-tf-")
            .tempdir()
            .expect("create a temp dir");
        let base = tmp.path().join("tree");
        for dir in &closure {
            let rel = dir.strip_prefix(&common).expect("common ancestor");
            copy_module(dir, &base.join(rel));
        }
        let dir = base.join(canon_root.strip_prefix(&common).expect("common ancestor"));
        let cli_config = tmp.path().join("terraform.rc");
        std::fs::write(&cli_config, cli_config_text(&mirror)).expect("write the CLI config");
        Terraform {
            bin,
            dir,
            base,
            source: root.to_owned(),
            cli_config,
            env: Vec::new(),
            tmp,
        }
    }

    /// Adds environment variables for every later run (e.g. `Moto::env()`).
    pub fn envs<K: Into<String>, V: Into<String>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.env
            .extend(vars.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// The copied root module.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The top of the copied tree (root plus modules).
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// The temp dir that holds the copy (free for test files such as a zip).
    pub fn scratch(&self) -> &Path {
        self.tmp.path()
    }

    /// Writes `<name>` into the copied root; `name` must end in `_override.tf`.
    pub fn write_override(&self, name: &str, hcl: &str) -> PathBuf {
        assert!(
            name.ends_with("_override.tf"),
            "override files end in _override.tf: {name}"
        );
        let p = self.dir.join(name);
        std::fs::write(&p, hcl).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
        p
    }

    /// Runs `terraform <args>` in the copied root; never panics on a failed run.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_in(&self.dir, args)
    }

    fn run_in(&self, dir: &Path, args: &[&str]) -> Run {
        let mut cmd = command(&self.bin);
        cmd.args(args)
            .current_dir(dir)
            // No host AWS identity or profile may leak into a test.
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("TF_WORKSPACE")
            .env_remove("TF_PLUGIN_CACHE_DIR")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("TF_DATA_DIR", self.dir.join(".terraform"));
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let started = Instant::now();
        let out: Output = cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}. {TERRAFORM_HINT}", self.bin.display()));
        Run {
            args: args.iter().map(|s| (*s).to_owned()).collect(),
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: started.elapsed(),
        }
    }

    fn what(&self, step: &str) -> String {
        format!("{step} of {}", self.source.display())
    }

    /// `terraform fmt -check -recursive -diff` over the copied root and its modules.
    pub fn fmt_check(&self) -> Run {
        self.run_in(
            &self.base,
            &["fmt", "-check", "-recursive", "-diff", "-no-color"],
        )
        .assert_ok(&self.what("fmt -check"))
    }

    /// Offline `terraform init` from the mirror (no backend: local state in the copy).
    pub fn init(&self) -> Run {
        self.run(&["init", "-backend=false", "-no-color", "-input=false"])
            .assert_ok(&self.what("init"))
    }

    /// `terraform validate`; panics with the diagnostics unless valid.
    pub fn validate(&self) -> Run {
        let run = self.run(&["validate", "-json", "-no-color"]);
        let report: serde_json::Value =
            serde_json::from_str(&run.stdout).unwrap_or(serde_json::Value::Null);
        assert!(
            run.success() && report["valid"] == serde_json::Value::Bool(true),
            "{}: not valid:\n{}\n{}",
            self.what("validate"),
            run.stdout,
            run.stderr
        );
        run
    }

    fn var_args(vars: &[(&str, &str)]) -> Vec<String> {
        vars.iter().map(|(k, v)| format!("-var={k}={v}")).collect()
    }

    /// Writes `override_hcl` (if any) as `xacct_test_override.tf`, then
    /// `terraform apply -auto-approve` with `-var k=v` for each of `vars`.
    /// Run [`Terraform::init`] first.
    pub fn apply(&self, vars: &[(&str, &str)], override_hcl: Option<&str>) -> Run {
        if let Some(hcl) = override_hcl {
            self.write_override("xacct_test_override.tf", hcl);
        }
        let vars = Self::var_args(vars);
        let mut args = vec!["apply", "-auto-approve", "-no-color", "-input=false"];
        args.extend(vars.iter().map(String::as_str));
        self.run(&args).assert_ok(&self.what("apply"))
    }

    /// `terraform plan -out` then `terraform show -json` of that plan.
    pub fn show_plan_json(&self, vars: &[(&str, &str)]) -> serde_json::Value {
        let vars = Self::var_args(vars);
        let plan = "xacct-test.tfplan";
        let mut args = vec!["plan", "-no-color", "-input=false", "-out", plan];
        args.extend(vars.iter().map(String::as_str));
        self.run(&args).assert_ok(&self.what("plan"));
        let run = self
            .run(&["show", "-json", "-no-color", plan])
            .assert_ok(&self.what("show -json"));
        serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{}: not JSON: {e}", self.what("show -json")))
    }

    /// `terraform output -json` as a map of output name to value.
    pub fn outputs(&self) -> serde_json::Map<String, serde_json::Value> {
        let run = self
            .run(&["output", "-json", "-no-color"])
            .assert_ok(&self.what("output"));
        let v: serde_json::Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{}: not JSON: {e}", self.what("output")));
        v.as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, o)| (k.clone(), o["value"].clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `(alias or None for the default configuration)` of every `provider "aws"` block
    /// in the root's `.tf` files (overrides excluded), in file order.
    pub fn aws_provider_configs(&self) -> Vec<Option<String>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .expect("read the copied root")
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|e| e == "tf")
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().ends_with("_override.tf"))
            })
            .collect();
        files.sort();
        let mut out = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            let mut in_block: Option<Option<String>> = None;
            for line in text.lines() {
                let t = line.trim();
                if line.starts_with("provider \"aws\"") {
                    in_block = Some(None);
                } else if let Some(cur) = in_block.as_mut() {
                    if let Some(v) = t.strip_prefix("alias") {
                        let v = v
                            .trim_start()
                            .trim_start_matches('=')
                            .trim()
                            .trim_matches('"');
                        *cur = Some(v.to_owned());
                    }
                    if line.starts_with('}') {
                        out.push(in_block.take().expect("inside a block"));
                    }
                }
            }
        }
        out
    }
}

fn cli_config_text(mirror: &Path) -> String {
    cli_config(mirror)
}

/// How the test override changes one `provider "aws"` configuration.
#[derive(Debug, Clone)]
pub struct ProviderOverride {
    /// `None`: the default (unaliased) configuration.
    pub alias: Option<String>,
    /// Replace the configuration's `assume_role` block with this role (`None`: keep it).
    pub assume_role_arn: Option<String>,
}

/// Services whose endpoint the override points at moto.
pub const MOTO_SERVICES: &[&str] = &[
    "iam",
    "sts",
    "s3",
    "lambda",
    "logs",
    "organizations",
    "cloudformation",
    "s3control",
];

/// An `*_override.tf` body that sends every listed provider configuration to the
/// moto server at `endpoint` with static test credentials.
///
/// Terraform merges override blocks into the block with the same alias; nested
/// blocks (`endpoints`, `assume_role`) replace the original's of the same type.
/// No `skip_credentials_validation` / `skip_requesting_account_id`: the provider
/// calls moto's STS, so `allowed_account_ids` is really checked.
pub fn moto_provider_override(
    endpoint: &str,
    access_key: &str,
    secret_key: &str,
    providers: &[ProviderOverride],
) -> String {
    let ep = hcl_string(endpoint);
    let mut out = String::from(
        "# Written by the xacct tests: point the AWS provider at a local moto server.\n",
    );
    for p in providers {
        out.push_str("\nprovider \"aws\" {\n");
        if let Some(alias) = &p.alias {
            out.push_str(&format!("  alias = {}\n", hcl_string(alias)));
        }
        out.push_str(&format!("  access_key = {}\n", hcl_string(access_key)));
        out.push_str(&format!("  secret_key = {}\n", hcl_string(secret_key)));
        out.push_str("  skip_metadata_api_check = true\n");
        out.push_str("  s3_use_path_style       = true\n");
        if let Some(role) = &p.assume_role_arn {
            out.push_str(&format!(
                "\n  assume_role {{\n    role_arn     = {}\n    session_name = \"xacct-tests\"\n  }}\n",
                hcl_string(role)
            ));
        }
        out.push_str("\n  endpoints {\n");
        for s in MOTO_SERVICES {
            out.push_str(&format!("    {s} = {ep}\n"));
        }
        out.push_str("  }\n}\n");
    }
    out
}

/// An HTTP forward proxy on 127.0.0.1 that sends every connection to `endpoint`
/// (moto) unchanged. The AWS provider's S3 Control client puts the account ID
/// before the endpoint's host (`http://<account>.127.0.0.1:<port>/...`), which
/// resolves nowhere; with `HTTP_PROXY` pointing here, Go proxies exactly those
/// requests (loopback hosts are never proxied) and moto's werkzeug accepts the
/// absolute-form request line. Returns the proxy's URL; the listener lives as
/// long as the test process.
pub fn host_prefix_proxy(endpoint: &str) -> String {
    use std::net::{TcpListener, TcpStream};
    let target = endpoint
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
    let url = format!("http://{}", listener.local_addr().expect("proxy address"));
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(upstream) = TcpStream::connect(&target) else {
                continue;
            };
            let (Ok(mut c2), Ok(mut u2)) = (client.try_clone(), upstream.try_clone()) else {
                continue;
            };
            let (mut c, mut u) = (client, upstream);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c, &mut u);
                let _ = u.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut u2, &mut c2);
                let _ = c2.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    url
}
