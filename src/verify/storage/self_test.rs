//! The Lambda's self-test answer applied to the storage accounts (the chain
//! path when the verifier may not assume the execution role).

use super::*;

/// Applies the Lambda's self-test answer to the storage accounts.
pub fn apply_self_test(
    ctx: &Ctx,
    storage: &mut [Result],
    st: SelfTest,
    findings: &mut Vec<Finding>,
) {
    let primary = ctx.env.primary_account.as_str();
    let fn_arn = ctx.env.function_arn();
    let reports = match st {
        Ok(r) => r,
        Err(e) => {
            findings.push(finding(
                checks::SELF_TEST,
                primary,
                &fn_arn,
                format!("self-test: {e}"),
                None,
            ));
            return;
        }
    };
    for r in storage.iter_mut() {
        let acct = r.summary.account.clone();
        let role_arn = contract::storage_role_arn(&acct);
        let rep: Option<&AccountReport> = reports.iter().find(|a| a.account_id == acct);
        let Some(rep) = rep else {
            r.findings.push(finding(
                checks::SELF_TEST,
                &acct,
                &fn_arn,
                "the self-test did not report this storage account",
                None,
            ));
            continue;
        };
        r.summary.chain_ok = Some(rep.trust_ok);
        if !rep.trust_ok {
            r.findings.push(finding(
                checks::CHAIN_ASSUME,
                &acct,
                &role_arn,
                format!(
                    "self-test: the Lambda cannot assume {role_arn}: {}",
                    rep.error.as_deref().unwrap_or("no reason given")
                ),
                None,
            ));
            continue;
        }
        match rep.bucket_count {
            Some(n) => {
                // The self-test counts prefix buckets only; the quota check uses the same count.
                capacity(ctx, &acct, n as u64, n as u64, r);
            }
            None => r.findings.push(finding(
                checks::CHAIN_LIST,
                &acct,
                &role_arn,
                format!(
                    "self-test could not count buckets: {}",
                    rep.error.as_deref().unwrap_or("no reason given")
                ),
                None,
            )),
        }
    }
}
