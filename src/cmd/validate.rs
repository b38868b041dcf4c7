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
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    for path in &args.env {
        let loaded = Environment::load(
            path,
            LoadOptions {
                strict: args.strict,
            },
        )?;
        super::print_warnings(&loaded.warnings);
        println!(
            "{}: ok ({} storage account(s), {})",
            path.display(),
            loaded.env.storage_accounts.len(),
            if loaded.env.discover {
                "discovery"
            } else {
                "explicit list"
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
