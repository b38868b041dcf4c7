//! The audit-role session: how every live command reads a storage account.

use super::{Aws, AwsError};

/// Assumes the audit role and confirms the session by reading the audit role
/// itself: it must exist in the account asked for (some emulators hand out
/// credentials for any role name; real AWS refuses `AssumeRole` already).
pub async fn audit_session(base: &Aws, role_arn: &str, acct: &str) -> Result<Aws, AwsError> {
    let audit = base.assume(role_arn, None).await.map_err(|e| {
        e.next(format!(
            "the audit role must exist in {acct} and trust the caller (--audit-role names it)"
        ))
    })?;
    confirm_audit_role(&audit, role_arn, acct).await?;
    Ok(audit)
}

/// `iam:GetRole` on the audit role with its own session: the role must exist
/// in `acct`.
pub async fn confirm_audit_role(audit: &Aws, role_arn: &str, acct: &str) -> Result<(), AwsError> {
    let name = role_arn.rsplit('/').next().unwrap_or_default();
    let role = audit
        .iam()
        .get_role()
        .role_name(name)
        .send()
        .await
        .map_err(|e| AwsError::sdk("iam:GetRole", role_arn, &e))?;
    let got = role.role().map(|r| r.arn()).unwrap_or_default();
    audit_role_in(got, acct)
}

/// The role the session reads must be in `acct`.
pub fn audit_role_in(got: &str, acct: &str) -> Result<(), AwsError> {
    if crate::contract::arn_account(got) != Some(acct) {
        return Err(AwsError::new(
            "iam:GetRole",
            got,
            format!("the assumed session reads role {got:?}, not one in account {acct}"),
        ));
    }
    Ok(())
}
