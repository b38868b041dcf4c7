//! `xacct package`: build the provisioning Lambda (`xacct-provisioner`, binary
//! `bootstrap`) for `provided.al2023` and write the deployment zip where the
//! generated Terraform expects it (`target/lambda/bootstrap.zip`).
//!
//! The binary is linked statically against glibc (`-C target-feature=+crt-static`
//! for `x86_64-unknown-linux-gnu`): `provided.al2023` ships an older glibc than
//! a current build machine, and a static binary does not care. Passing
//! `--target` explicitly keeps the flag off build scripts and proc macros.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::Context;

/// Rust target of the Lambda (x86_64 `provided.al2023`).
pub const TARGET: &str = "x86_64-unknown-linux-gnu";
/// Package and binary built.
pub const PACKAGE: &str = "xacct-provisioner";
pub const BINARY: &str = "bootstrap";
/// Unix mode of `bootstrap` inside the zip.
pub const BOOTSTRAP_MODE: u32 = 0o755;

/// Build the Lambda's release binary and write the `bootstrap` zip.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the zip.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "target/lambda/bootstrap.zip"
    )]
    pub out: PathBuf,
    /// Zip this already-built binary instead of running cargo.
    #[arg(long, value_name = "FILE")]
    pub binary: Option<PathBuf>,
    /// Cargo target directory of the build.
    #[arg(long, value_name = "DIR", default_value = "target")]
    pub target_dir: PathBuf,
    /// Environment spec: when it enforces code signing
    /// (`security.code_signing_profile_version_arn`), print the signing step.
    #[arg(long, value_name = "SPEC")]
    pub env: Option<PathBuf>,
    /// Versioned S3 bucket the zip is uploaded to for signing (with --env).
    #[arg(long, value_name = "BUCKET", requires = "env")]
    pub code_bucket: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // Read the spec first: a bad spec is a usage error before any build.
    let env = match &args.env {
        Some(path) => match crate::model::Environment::load(path, Default::default()) {
            Ok(l) => Some(l.env),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(2));
            }
        },
        None => None,
    };
    let binary = match args.binary {
        Some(b) => b,
        None => build(&args.target_dir)?,
    };
    if !is_static_elf(&binary)? {
        anyhow::bail!(
            "`{}` is dynamically linked; provided.al2023 needs a static binary (build with RUSTFLAGS=\"-C target-feature=+crt-static\" --target {TARGET})",
            binary.display()
        );
    }
    let size = write_zip(&binary, &args.out)?;
    println!(
        "wrote {} ({size} bytes, static `{BINARY}` from `{}`)",
        args.out.display(),
        binary.display()
    );
    if let Some(env) = &env {
        let bucket = args
            .code_bucket
            .as_deref()
            .unwrap_or("<versioned code bucket>");
        if let Some(steps) = signing_steps(env, &args.out, bucket) {
            println!("{steps}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The signing step for an environment that enforces code signing: upload the
/// zip to a versioned bucket, start an AWS Signer job with the spec's profile,
/// deploy the signed object. Printed, never run: xacct does not call Signer.
/// `None` when the spec does not set `security.code_signing_profile_version_arn`.
pub fn signing_steps(env: &crate::model::Environment, zip: &Path, bucket: &str) -> Option<String> {
    let arn = env.security.code_signing_profile_version_arn.as_deref()?;
    // arn:aws:signer:<region>:<account>:/signing-profiles/<name>/<version> (validated).
    let mut parts = arn.splitn(6, ':');
    let region = parts.nth(3).unwrap_or_default();
    let owner = parts.next().unwrap_or_default();
    let rest = parts.next().unwrap_or_default();
    let mut names = rest.trim_start_matches("/signing-profiles/").split('/');
    let (name, version) = (
        names.next().unwrap_or_default(),
        names.next().unwrap_or_default(),
    );
    let function = &env.lambda.function_name;
    let key = format!("{function}/bootstrap.zip");
    Some(format!(
        "code signing is enforced for {function} (security.code_signing_profile_version_arn = {arn}): Lambda refuses an unsigned zip. Sign it:
  aws s3api put-object --region {region} --bucket {bucket} --key {key} --body {zip}
  aws signer start-signing-job --region {region} --profile-name {name} --profile-owner {owner} --source 's3={{bucketName={bucket},key={key},version=<VersionId printed by put-object>}}' --destination 's3={{bucketName={bucket},prefix={function}/signed/}}'
  aws signer describe-signing-job --region {region} --job-id <jobId> (wait for status Succeeded; profile version must be {version})
then deploy s3://{bucket}/{function}/signed/<jobId>.zip: CloudFormation CodeS3Bucket={bucket} CodeS3Key={function}/signed/<jobId>.zip, or Terraform lambda_zip = the downloaded signed zip.
The signer needs signer:StartSigningJob on the profile and s3:GetObjectVersion/s3:PutObject on the bucket; the deployer policy has no signer action.",
        zip = zip.display()
    ))
}

/// Runs the static release build; returns the path of `bootstrap`.
pub fn build(target_dir: &Path) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut flags = std::env::var("RUSTFLAGS").unwrap_or_default();
    if !flags.contains("crt-static") {
        flags = format!("{flags} -C target-feature=+crt-static")
            .trim()
            .to_owned();
    }
    let status = Command::new(&cargo)
        .args([
            "build",
            "--release",
            "--locked",
            "-p",
            PACKAGE,
            "--bin",
            BINARY,
            "--target",
            TARGET,
            "--target-dir",
        ])
        .arg(target_dir)
        .env("RUSTFLAGS", flags)
        .status()
        .with_context(|| {
            format!(
                "cannot run `{}`; is cargo installed?",
                Path::new(&cargo).display()
            )
        })?;
    anyhow::ensure!(
        status.success(),
        "`cargo build --release -p {PACKAGE}` failed ({status}); see the compiler output above"
    );
    Ok(target_dir.join(TARGET).join("release").join(BINARY))
}

/// True when `path` is an ELF executable without a program interpreter
/// (`PT_INTERP`), i.e. statically linked (static-pie included).
pub fn is_static_elf(path: &Path) -> anyhow::Result<bool> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    anyhow::ensure!(
        bytes.len() >= 64 && bytes[..4] == *b"\x7fELF" && bytes[4] == 2,
        "`{}` is not a 64-bit ELF binary",
        path.display()
    );
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(bytes[0x20..0x28].try_into()?) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    for i in 0..phnum {
        let at = phoff + i * phentsize;
        let Some(ty) = bytes.get(at..at + 4) else {
            anyhow::bail!("`{}`: truncated program header table", path.display());
        };
        if u32::from_le_bytes(ty.try_into()?) == 3 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Writes `out` with one entry, `bootstrap` (mode 0755), holding `binary`.
/// Returns the zip's size in bytes.
pub fn write_zip(binary: &Path, out: &Path) -> anyhow::Result<u64> {
    let data = std::fs::read(binary).with_context(|| {
        format!(
            "cannot read the Lambda binary `{}`; run `xacct package` without --binary to build it",
            binary.display()
        )
    })?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
    }
    let tmp = out.with_extension("zip.tmp");
    let file = std::fs::File::create(&tmp)
        .with_context(|| format!("cannot create `{}`", tmp.display()))?;
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(BOOTSTRAP_MODE)
        .last_modified_time(zip::DateTime::default());
    zip.start_file(BINARY, options)
        .context("cannot start the zip entry")?;
    zip.write_all(&data).context("cannot write the zip entry")?;
    zip.finish().context("cannot finish the zip")?;
    std::fs::rename(&tmp, out).with_context(|| format!("cannot write `{}`", out.display()))?;
    Ok(std::fs::metadata(out)?.len())
}
