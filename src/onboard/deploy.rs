//! `xacct onboard --apply`: deploys the rendered storage-account stack into one
//! account through the bootstrap role and waits for it (`cmd::onboard` then
//! verifies the account with `verify::storage_account`).

use std::time::{Duration, Instant};

use aws_sdk_cloudformation::types::{Capability, StackStatus};

use crate::aws::{self, Aws, AwsError};
use crate::progress::{Event, Progress};

/// Creates or updates `stack` from `template`; waits until it settles.
/// Returns the final status, or an error that lists the failed stack events.
pub async fn deploy_stack(
    session: &Aws,
    stack: &str,
    template: &str,
    timeout: Duration,
    progress: &Progress,
) -> Result<String, AwsError> {
    let cfn = session.cloudformation();
    let existing = match cfn.describe_stacks().stack_name(stack).send().await {
        Ok(o) => o.stacks().first().and_then(|s| s.stack_status().cloned()),
        Err(e) if aws::describe(&e).contains("does not exist") => None,
        Err(e) => return Err(AwsError::sdk("cloudformation:DescribeStacks", stack, &e)),
    };
    match existing {
        Some(StackStatus::RollbackComplete) => {
            return Err(AwsError::new(
                "cloudformation:DescribeStacks",
                stack,
                "the stack is ROLLBACK_COMPLETE from an earlier failed create",
            )
            .next(format!(
                "delete it (aws cloudformation delete-stack --stack-name {stack}) and run again"
            )));
        }
        Some(_) => {
            let r = cfn
                .update_stack()
                .stack_name(stack)
                .template_body(template)
                .capabilities(Capability::CapabilityNamedIam)
                .send()
                .await;
            if let Err(e) = r {
                let d = aws::describe(&e);
                if d.contains("No updates are to be performed") {
                    return Ok("UP_TO_DATE".to_owned());
                }
                return Err(AwsError::new("cloudformation:UpdateStack", stack, d));
            }
        }
        None => {
            cfn.create_stack()
                .stack_name(stack)
                .template_body(template)
                .capabilities(Capability::CapabilityNamedIam)
                .send()
                .await
                .map_err(|e| AwsError::sdk("cloudformation:CreateStack", stack, &e))?;
        }
    }
    let started = Instant::now();
    loop {
        let status = cfn
            .describe_stacks()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| AwsError::sdk("cloudformation:DescribeStacks", stack, &e))?
            .stacks()
            .first()
            .and_then(|s| s.stack_status().cloned())
            .ok_or_else(|| {
                AwsError::new(
                    "cloudformation:DescribeStacks",
                    stack,
                    "the stack disappeared",
                )
            })?;
        let s = status.as_str().to_owned();
        if !s.ends_with("_IN_PROGRESS") {
            if s == "CREATE_COMPLETE" || s == "UPDATE_COMPLETE" {
                return Ok(s);
            }
            return Err(AwsError::new(
                "cloudformation:DescribeStacks",
                stack,
                format!("the stack ended {s}:{}", failed_events(&cfn, stack).await),
            ));
        }
        wait_tick(
            started,
            timeout,
            stack,
            &format!("stack {stack}"),
            &s,
            progress,
        )
        .await?;
    }
}

/// One poll of a stack that is still in progress: fails once `timeout` has
/// passed, else reports the wait (`what`, `state`) and sleeps 5 s. Shared by
/// `onboard --apply` and its `--adopt` import.
pub(crate) async fn wait_tick(
    started: Instant,
    timeout: Duration,
    stack: &str,
    what: &str,
    state: &str,
    progress: &Progress,
) -> Result<(), AwsError> {
    if started.elapsed() > timeout {
        return Err(AwsError::new(
            "cloudformation:DescribeStacks",
            stack,
            format!("still {state} after {}s", timeout.as_secs()),
        )
        .next("raise --timeout, or watch the stack and run again"));
    }
    progress.emit(&Event::Waiting {
        what: what.to_owned(),
        state: state.to_owned(),
        seconds: started.elapsed().as_secs(),
    });
    tokio::time::sleep(Duration::from_secs(5)).await;
    Ok(())
}

async fn failed_events(cfn: &aws_sdk_cloudformation::Client, stack: &str) -> String {
    match cfn.describe_stack_events().stack_name(stack).send().await {
        Ok(o) => o
            .stack_events()
            .iter()
            .filter(|e| {
                e.resource_status()
                    .is_some_and(|s| s.as_str().ends_with("_FAILED"))
            })
            .map(|e| {
                format!(
                    "\n  {} {} {}: {}",
                    e.logical_resource_id().unwrap_or_default(),
                    e.resource_type().unwrap_or_default(),
                    e.resource_status().map(|s| s.as_str()).unwrap_or_default(),
                    e.resource_status_reason().unwrap_or_default()
                )
            })
            .collect(),
        Err(e) => format!(" (events unreadable: {})", aws::describe(&e)),
    }
}

/// Account-level Block Public Access, all four flags on, in the account of
/// `session` (`s3control:PutPublicAccessBlock`, IAM `s3:PutAccountPublicAccessBlock`).
/// CloudFormation has no resource for it, so `onboard --apply` applies it right
/// after the storage stack (Terraform has `aws_s3_account_public_access_block`
/// in the storage module; the StackSet path prints [`account_public_access_block_command`]).
pub async fn put_account_public_access_block(session: &Aws, account: &str) -> Result<(), AwsError> {
    use aws_sdk_s3control::types::PublicAccessBlockConfiguration;
    session
        .s3control()
        .put_public_access_block()
        .account_id(account)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(|e| AwsError::sdk("s3control:PutPublicAccessBlock", account, &e))?;
    Ok(())
}

/// The AWS CLI line that turns on the account-level Block Public Access in
/// `account` (run with credentials of that account, e.g. the bootstrap role).
pub fn account_public_access_block_command(account: &str) -> String {
    format!(
        "aws s3control put-public-access-block --account-id {account} --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true"
    )
}
