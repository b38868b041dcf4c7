//! `xacct validate`: spec checks only.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::model::{Environment, LoadOptions};

/// Check an environment spec and print what is wrong.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Environment spec to check.
    #[arg(long, value_name = "FILE", required = true)]
    pub env: Vec<PathBuf>,
    /// Treat capacity warnings as errors.
    #[arg(long)]
    pub strict: bool,
    /// Output format (json: one entry per spec; an invalid spec is exit 2 on stderr).
    #[arg(long, value_enum, default_value_t)]
    pub format: super::TextFormat,
}

/// `validate --format json`: the envelope's own fields.
#[derive(Debug, serde::Serialize)]
struct ValidateJson {
    specs: Vec<SpecJson>,
}

/// One valid spec.
#[derive(Debug, serde::Serialize)]
struct SpecJson {
    file: String,
    environment: String,
    short_name: String,
    /// `explicit` (storage.accounts) or `discovery` (Organizations tag).
    mode: &'static str,
    storage_accounts: Vec<String>,
    /// Warnings, as printed on stderr.
    warnings: Vec<String>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut specs = Vec::new();
    for path in &args.env {
        let loaded = Environment::load(
            path,
            LoadOptions {
                strict: args.strict,
            },
        )?;
        super::print_warnings(&loaded.warnings);
        let mode = if loaded.env.discover {
            "discovery"
        } else {
            "explicit list"
        };
        if args.format == super::TextFormat::Text {
            println!(
                "{}: ok ({} storage account(s), {mode})",
                path.display(),
                loaded.env.storage_accounts.len(),
            );
        }
        specs.push(SpecJson {
            file: crate::envelope::path(path),
            environment: loaded.env.name.clone(),
            short_name: loaded.env.short_name.clone(),
            mode: if loaded.env.discover {
                "discovery"
            } else {
                "explicit"
            },
            storage_accounts: loaded.env.storage_accounts.clone(),
            warnings: loaded.warnings.iter().map(ToString::to_string).collect(),
        });
    }
    if args.format == super::TextFormat::Json {
        let environment = match specs.as_slice() {
            [one] => Some(one.environment.clone()),
            _ => None,
        };
        let warnings: usize = specs.iter().map(|s| s.warnings.len()).sum();
        crate::envelope::Envelope::new(
            "validate",
            environment.as_deref(),
            crate::envelope::Summary::new(0)
                .count("specs", specs.len())
                .count("warnings", warnings),
            ValidateJson { specs },
        )
        .print()?;
    }
    Ok(ExitCode::SUCCESS)
}
