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
    /// External access (XA062, with a counterexample) and accepted external
    /// principals (XA063) of the spec's documents, against the zone of trust.
    #[serde(serialize_with = "crate::envelope::serialize_findings")]
    external_access: Vec<crate::audit::Finding>,
}

/// The spec's external access: its documents against the zone of trust (the
/// organization snapshot beside the spec when there is one).
fn external_access(
    path: &std::path::Path,
    env: &Environment,
) -> anyhow::Result<Vec<crate::audit::Finding>> {
    let mut input = crate::audit::Input::from_env(env);
    if let Some((s, _)) = super::audit::org_snapshot(None, false, Some(path))? {
        input.expect = input.expect.clone().with_org(&s);
    }
    Ok(crate::audit::external::check(&input))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut specs = Vec::new();
    let mut code = 0u8;
    for path in &args.env {
        let loaded = Environment::load(
            path,
            LoadOptions {
                strict: args.strict,
            },
        )?;
        super::print_warnings(&loaded.warnings);
        let external = external_access(path, &loaded.env)?;
        let blocking = external
            .iter()
            .filter(|f| f.severity > crate::audit::Severity::Info)
            .count();
        if blocking > 0 {
            code = 1;
        }
        let mode = if loaded.env.discover {
            "discovery"
        } else {
            "explicit list"
        };
        if args.format == super::TextFormat::Text {
            for f in &external {
                println!(
                    "{}: {} [{}] {}",
                    path.display(),
                    f.check_id,
                    f.severity,
                    f.message
                );
            }
            if blocking == 0 {
                println!(
                    "{}: ok ({} storage account(s), {mode})",
                    path.display(),
                    loaded.env.storage_accounts.len(),
                );
            } else {
                println!(
                    "{}: {blocking} external access finding(s): a principal outside the zone of trust reaches the environment (remove it, or accept it in access.external_principals with a reason)",
                    path.display()
                );
            }
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
            external_access: external,
        });
    }
    if args.format == super::TextFormat::Json {
        let environment = match specs.as_slice() {
            [one] => Some(one.environment.clone()),
            _ => None,
        };
        let warnings: usize = specs.iter().map(|s| s.warnings.len()).sum();
        let external: usize = specs.iter().map(|s| s.external_access.len()).sum();
        crate::envelope::Envelope::new(
            "validate",
            environment.as_deref(),
            crate::envelope::Summary::new(code)
                .count("specs", specs.len())
                .count("warnings", warnings)
                .count("external_access", external),
            ValidateJson { specs },
        )
        .print()?;
    }
    Ok(crate::envelope::exit(code))
}
