//! The S3 bucket provisioning Lambda. Filled in by the provisioning-runtime issue.
#[path = "../../src/contract.rs"]
#[allow(dead_code)]
mod contract;

fn main() {
    eprintln!(
        "{} provisioner: not implemented yet (contract v{})",
        contract::MANAGED_BY_VALUE,
        contract::API_VERSION
    );
    std::process::exit(1);
}
