use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = xacct::cmd::Cli::parse();
    match xacct::cmd::run(cli) {
        Ok(code) => code,
        Err(err) => xacct::cmd::report(&err),
    }
}
