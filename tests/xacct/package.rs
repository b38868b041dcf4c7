//! `xacct package`: the zip holds exactly one executable `bootstrap` at its root.

use std::io::Read;

use xacct::cmd::package;

#[test]
fn zip_has_an_executable_bootstrap_at_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("bootstrap-built");
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&binary, &payload).unwrap();
    let out = dir.path().join("target/lambda/bootstrap.zip");

    let size = package::write_zip(&binary, &out).unwrap();
    assert_eq!(size, std::fs::metadata(&out).unwrap().len());

    let mut zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    assert_eq!(zip.len(), 1);
    let mut entry = zip.by_index(0).unwrap();
    assert_eq!(entry.name().unwrap(), "bootstrap");
    assert!(entry.is_file());
    assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
    let mut back = Vec::new();
    entry.read_to_end(&mut back).unwrap();
    assert_eq!(back, payload);
    assert!(!dir.path().join("target/lambda/bootstrap.zip.tmp").exists());
}

#[test]
fn a_dynamically_linked_binary_is_detected() {
    // Any system binary is dynamically linked against glibc.
    let ls = ["/bin/ls", "/usr/bin/ls"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("ls");
    assert!(!package::is_static_elf(std::path::Path::new(ls)).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let not_elf = dir.path().join("x");
    std::fs::write(&not_elf, b"#!/bin/sh\n").unwrap();
    let err = package::is_static_elf(&not_elf).unwrap_err().to_string();
    assert!(err.contains("not a 64-bit ELF"), "{err}");
}

#[test]
fn a_missing_binary_names_the_path_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let err = package::write_zip(&dir.path().join("nope"), &dir.path().join("o.zip")).unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("nope") && msg.contains("xacct package"),
        "{msg}"
    );
}

/// With code signing in the spec, `xacct package` prints the exact signing
/// step (upload, `aws signer start-signing-job` with the spec's profile, the
/// signed object to deploy); without it, nothing. It never calls AWS.
#[test]
fn signing_step_follows_the_spec() {
    let load = |p: &str| {
        xacct::model::Environment::load(&crate::repo().join(p), Default::default())
            .unwrap()
            .env
    };
    let prod = load("environments/prod.toml");
    let zip = std::path::Path::new("target/lambda/bootstrap.zip");
    let steps = package::signing_steps(&prod, zip, "ambra-code-prod").expect("prod signs");
    for want in [
        "aws s3api put-object --region us-east-1 --bucket ambra-code-prod --key s3-bucket-provisioning-prod/bootstrap.zip --body target/lambda/bootstrap.zip",
        "aws signer start-signing-job --region us-east-1 --profile-name xacct_prod --profile-owner 300000000001",
        "prefix=s3-bucket-provisioning-prod/signed/",
        "a1b2c3d4e5",
    ] {
        assert!(steps.contains(want), "{want:?} missing from:\n{steps}");
    }
    assert!(package::signing_steps(&load("environments/dev.toml"), zip, "b").is_none());
}
