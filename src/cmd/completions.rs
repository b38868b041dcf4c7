//! `xacct completions <shell>`: a completion script for bash, zsh, fish,
//! PowerShell or elvish, from the same clap definition the binary parses with.

use std::process::ExitCode;

use clap::CommandFactory;

/// Print a shell completion script to stdout.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut cmd = super::Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "xacct", &mut std::io::stdout().lock());
    Ok(ExitCode::SUCCESS)
}
