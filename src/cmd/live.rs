//! What the live commands (`verify`, `capacity`, `onboard`, `offboard`,
//! `accounts`, `stackset`) share: the AWS options, the management-account
//! session, role name/ARN checks and the runtime they run on.

use anyhow::Context;

use crate::verify::{Aws, Target};

/// Where and how to reach AWS; the audit role read in each storage account.
#[derive(Debug, Clone, clap::Args)]
pub struct LiveArgs {
    /// AWS profile (otherwise the standard credential chain).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region of the calls (default: the chain's, else the spec's).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Endpoint for every AWS service (emulators); S3 then uses path-style addressing.
    #[arg(long, value_name = "URL", value_parser = crate::aws::parse_endpoint_url)]
    pub endpoint_url: Option<String>,
}

impl LiveArgs {
    /// Where to reach AWS, for `command` (sessions are named `xacct-<command>`).
    pub fn target(&self, command: &'static str) -> Target {
        Target {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            command,
        }
    }

    /// Loads the base configuration for `command` and checks the local setup
    /// (endpoint, profile, credentials) before any AWS call: a problem there is
    /// [`crate::aws::SetupError`], exit code 2, with the fix.
    pub async fn load_async(
        &self,
        command: &'static str,
        default_region: &str,
    ) -> Result<Aws, crate::aws::SetupError> {
        let target = self.target(command);
        let aws = Aws::load(&target, default_region).await;
        crate::aws::preflight(&aws, &target).await?;
        Ok(aws)
    }

    /// [`LiveArgs::load_async`] on `rt`.
    pub fn load(
        &self,
        rt: &tokio::runtime::Runtime,
        command: &'static str,
        default_region: &str,
    ) -> Result<Aws, crate::aws::SetupError> {
        rt.block_on(self.load_async(command, default_region))
    }
}

/// The session for management-account calls: `aws` itself, or `role` assumed
/// from it with the optional ExternalId (`--management-role`, `--external-id`).
pub async fn management_session(
    aws: Aws,
    role: Option<&str>,
    external_id: Option<&str>,
) -> Result<Aws, crate::aws::AwsError> {
    match role {
        None => Ok(aws),
        Some(r) => aws.assume(r, external_id).await.map_err(|e| {
            e.next("check --management-role and --external-id, and that the role trusts you")
        }),
    }
}

/// `--ou`: an Organizations OU ID (`ou-...`) or root ID (`r-...`).
pub fn check_ou_id(ou: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        crate::onboard::stackset::is_ou_id(ou),
        "--ou must be an OU ID like ou-ab12-cd34ef56 or a root ID like r-ab12 (got {ou:?})"
    );
    Ok(())
}

/// An IAM role name: 1-64 of `[A-Za-z0-9+=,.@_-]`.
pub fn check_role_name(flag: &str, name: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        crate::contract::is_role_name(name),
        "{flag} must be a role name: {} (got {name:?})",
        crate::contract::ROLE_NAME_RULE
    );
    Ok(())
}

/// An IAM role ARN (`arn:aws:iam::<account>:role/<name>`), e.g. `--management-role`.
pub fn check_role_arn(flag: &str, arn: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        arn.starts_with("arn:aws:iam::") && arn.contains(":role/"),
        "{flag} must be a role ARN (arn:aws:iam::<account>:role/<name>), got {arn:?}"
    );
    Ok(())
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
