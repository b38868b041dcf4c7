//! `xacct stackset`: the storage-account stack as a service-managed StackSet
//! targeted at the storage OU, with automatic deployment, so an account that
//! joins the OU gets `S3BucketManager` without anyone running `onboard`.
//! [`commands`] prints the AWS CLI steps; [`apply`] makes the same calls
//! through the SDK from the management account, idempotently.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aws_sdk_cloudformation::types::{
    AutoDeployment, Capability, DeploymentTargets, PermissionModels, StackSetOperationStatus,
};

use crate::aws::{self, Aws, AwsError};
use crate::model::Environment;
use crate::progress::{Event, Progress};

/// Where the stack set's template lives relative to `generated/<env>/`.
pub const TEMPLATE: &str = "storage/cloudformation/storage-account.yaml";

/// Placeholder printed when no `--ou` is given.
pub const OU_PLACEHOLDER: &str = "<storage-ou-id>";

/// An OU ID (`ou-xxxx-xxxxxxxx`) or a root ID (`r-xxxx`), as CloudFormation
/// accepts them in `DeploymentTargets.OrganizationalUnitIds`.
pub fn is_ou_id(s: &str) -> bool {
    let lower_alnum = |p: &str, min: usize| {
        (min..=32).contains(&p.len())
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    };
    if let Some(rest) = s.strip_prefix("ou-") {
        match rest.split_once('-') {
            Some((a, b)) => lower_alnum(a, 4) && lower_alnum(b, 8),
            None => false,
        }
    } else if let Some(rest) = s.strip_prefix("r-") {
        lower_alnum(rest, 4)
    } else {
        false
    }
}

/// The AWS CLI commands, in order, run with management-account credentials
/// (`#` lines are comments). `template` is the path of the rendered template
/// as the user sees it.
pub fn commands(env: &Environment, template: &str, ous: &[String]) -> Vec<String> {
    let name = env.storage_stack_name();
    let region = &env.region;
    let targets = if ous.is_empty() {
        OU_PLACEHOLDER.to_owned()
    } else {
        ous.join(",")
    };
    let mut out = vec![
        format!(
            "aws cloudformation create-stack-set --stack-set-name {name} --template-body file://{template} --permission-model SERVICE_MANAGED --auto-deployment Enabled=true,RetainStacksOnAccountRemoval=true --capabilities CAPABILITY_NAMED_IAM --region {region}"
        ),
        format!(
            "aws cloudformation create-stack-instances --stack-set-name {name} --deployment-targets OrganizationalUnitIds={targets} --regions {region} --region {region}"
        ),
    ];
    out.push(
        "# Account-level Block Public Access (CloudFormation has no resource for it): in every storage account, with that account's credentials (xacct verify reports an account without it as XV036):".to_owned(),
    );
    out.push(crate::onboard::deploy::account_public_access_block_command(
        "<storage-account-id>",
    ));
    if !env.phr_in_primary() {
        out.push(format!(
            "# The PHR bucket's account {phr}, once the create-stack-instances operation has SUCCEEDED (aws cloudformation list-stack-set-operations --stack-set-name {name}):",
            phr = env.phr.account
        ));
        out.push(format!(
            "aws cloudformation update-stack-instances --stack-set-name {name} --deployment-targets OrganizationalUnitIds=[{targets}],Accounts=[{phr}],AccountFilterType=INTERSECTION --regions {region} --parameter-overrides ParameterKey=CreatePhrBucket,ParameterValue=true --region {region}",
            phr = env.phr.account
        ));
    }
    out
}

/// What [`apply`] did.
#[derive(Debug, Default)]
pub struct Applied {
    pub lines: Vec<String>,
    /// `account region status` of every stack instance, sorted.
    pub instances: Vec<String>,
}

fn auto_deployment() -> AutoDeployment {
    AutoDeployment::builder()
        .enabled(true)
        .retain_stacks_on_account_removal(true)
        .build()
}

/// Creates the stack set or brings its template and auto-deployment up to
/// date, then creates stack instances for each OU not yet covered. Errors say
/// what was already done.
pub async fn apply(
    session: &Aws,
    org: &aws_sdk_organizations::Client,
    env: &Environment,
    template: &str,
    ous: &[String],
    timeout: Duration,
    progress: &Progress,
) -> Result<Applied, AwsError> {
    let cfn = session.cloudformation();
    let name = env.storage_stack_name();
    let mut done = Applied::default();
    // The inner steps say `service:Action: message`; the error names the stack
    // set and what was already done.
    let left = |done: &Applied, e: String| {
        let (api, message) = match e.split_once(": ") {
            Some((api, m)) if api.contains(':') && !api.contains(' ') => {
                (api.to_owned(), m.to_owned())
            }
            _ => ("cloudformation".to_owned(), e.clone()),
        };
        let err = AwsError::new(api, format!("stack set {name}"), message);
        if done.lines.is_empty() {
            err.next("nothing was changed")
        } else {
            err.next(format!("done: {}", done.lines.join("; ")))
        }
    };

    let existing = match cfn.describe_stack_set().stack_set_name(&name).send().await {
        Ok(o) => o.stack_set().cloned(),
        Err(e) if aws::code(&e) == Some("StackSetNotFoundException") => None,
        Err(e) => {
            return Err(left(
                &done,
                format!("cloudformation:DescribeStackSet: {}", aws::describe(&e)),
            ));
        }
    };
    match existing {
        None => {
            cfn.create_stack_set()
                .stack_set_name(&name)
                .description(format!(
                    "S3BucketManager for the storage accounts of {} (xacct)",
                    env.name
                ))
                .template_body(template)
                .permission_model(PermissionModels::ServiceManaged)
                .auto_deployment(auto_deployment())
                .capabilities(Capability::CapabilityNamedIam)
                .send()
                .await
                .map_err(|e| {
                    left(
                        &done,
                        format!(
                            "cloudformation:CreateStackSet: {} (service-managed stack sets need trusted access: aws cloudformation activate-organizations-access)",
                            aws::describe(&e)
                        ),
                    )
                })?;
            done.lines.push(format!(
                "created stack set {name} (SERVICE_MANAGED, auto-deployment on)"
            ));
        }
        Some(set) => {
            if set.permission_model() == Some(&PermissionModels::SelfManaged) {
                return Err(AwsError::new(
                    "cloudformation:DescribeStackSet",
                    format!("stack set {name}"),
                    "it exists with the SELF_MANAGED permission model and cannot target an OU",
                )
                .next(
                    "delete it or deploy per account (xacct onboard --apply); nothing was changed",
                ));
            }
            // moto does not store AutoDeployment (None): only a reported `false` counts.
            let auto_off = set.auto_deployment().and_then(|a| a.enabled()) == Some(false);
            if set.template_body() != Some(template) || auto_off {
                let sent = cfn
                    .update_stack_set()
                    .stack_set_name(&name)
                    .template_body(template)
                    .auto_deployment(auto_deployment())
                    .capabilities(Capability::CapabilityNamedIam)
                    .send()
                    .await
                    .map(|o| o.operation_id().map(str::to_owned))
                    .map_err(|e| StackSetError(aws::describe(&e)));
                let op = finish(&cfn, &name, "UpdateStackSet", sent, timeout, progress)
                    .await
                    .map_err(|e| left(&done, e.0))?;
                done.lines.push(format!(
                    "updated stack set {name} to the rendered template{} (operation {op})",
                    if auto_off { ", auto-deployment on" } else { "" }
                ));
            } else {
                done.lines.push(format!("stack set {name} is up to date"));
            }
        }
    }

    // OUs already targeted: named by an instance (AWS), or every account of
    // the OU already has an instance in this region (emulators omit the OU).
    let instances = list_instances(&cfn, &name)
        .await
        .map_err(|e| left(&done, e.0))?;
    let mut to_create = Vec::new();
    for ou in ous {
        let named = instances.iter().any(|i| i.ou.as_deref() == Some(ou));
        let covered = named || {
            let members = ou_accounts(org, ou).await.map_err(|e| left(&done, e.0))?;
            !members.is_empty()
                && members.iter().all(|a| {
                    instances
                        .iter()
                        .any(|i| &i.account == a && i.region == env.region)
                })
        };
        if covered {
            done.lines
                .push(format!("{ou} already has its stack instances"));
        } else {
            to_create.push(ou.clone());
        }
    }
    if !to_create.is_empty() {
        let sent = cfn
            .create_stack_instances()
            .stack_set_name(&name)
            .deployment_targets(
                DeploymentTargets::builder()
                    .set_organizational_unit_ids(Some(to_create.clone()))
                    .build(),
            )
            .regions(&env.region)
            .send()
            .await
            .map(|o| o.operation_id().map(str::to_owned))
            .map_err(|e| StackSetError(aws::describe(&e)));
        let op = finish(&cfn, &name, "CreateStackInstances", sent, timeout, progress)
            .await
            .map_err(|e| left(&done, e.0))?;
        done.lines.push(format!(
            "created stack instances for {} in {} (operation {op})",
            to_create.join(", "),
            env.region
        ));
    }
    let instances = list_instances(&cfn, &name)
        .await
        .map_err(|e| left(&done, e.0))?;
    done.instances = instances
        .iter()
        .map(|i| format!("{} {} {}", i.account, i.region, i.status))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    Ok(done)
}

crate::message_error! {
    /// A stack set step that failed: the call and what AWS said.
    StackSetError
}

struct Instance {
    account: String,
    region: String,
    ou: Option<String>,
    status: String,
}

async fn list_instances(
    cfn: &aws_sdk_cloudformation::Client,
    name: &str,
) -> Result<Vec<Instance>, StackSetError> {
    let mut out = Vec::new();
    let mut pages = cfn
        .list_stack_instances()
        .stack_set_name(name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| format!("cloudformation:ListStackInstances: {}", aws::describe(&e)))?;
        for s in page.summaries() {
            out.push(Instance {
                account: s.account().unwrap_or_default().to_owned(),
                region: s.region().unwrap_or_default().to_owned(),
                ou: s.organizational_unit_id().map(str::to_owned),
                status: s
                    .status()
                    .map(|x| x.as_str().to_owned())
                    .unwrap_or_default(),
            });
        }
    }
    Ok(out)
}

/// The accounts directly in `ou`.
async fn ou_accounts(
    org: &aws_sdk_organizations::Client,
    ou: &str,
) -> Result<Vec<String>, StackSetError> {
    let mut out = Vec::new();
    let mut pages = org
        .list_accounts_for_parent()
        .parent_id(ou)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            format!(
                "organizations:ListAccountsForParent {ou}: {}",
                crate::aws::describe(&e)
            )
        })?;
        out.extend(
            page.accounts()
                .iter()
                .filter_map(|a| a.id().map(str::to_owned)),
        );
    }
    Ok(out)
}

/// Waits for a stack set operation to finish.
/// Waits for the operation a `call` started (its operation ID, or why it failed).
async fn finish(
    cfn: &aws_sdk_cloudformation::Client,
    name: &str,
    call: &str,
    sent: Result<Option<String>, StackSetError>,
    timeout: Duration,
    progress: &Progress,
) -> Result<String, StackSetError> {
    let op = sent
        .map_err(|e| format!("cloudformation:{call}: {e}"))?
        .unwrap_or_default();
    wait(cfn, name, &op, timeout, progress).await?;
    Ok(op)
}

async fn wait(
    cfn: &aws_sdk_cloudformation::Client,
    name: &str,
    op: &str,
    timeout: Duration,
    progress: &Progress,
) -> Result<(), StackSetError> {
    let started = Instant::now();
    loop {
        let o = cfn
            .describe_stack_set_operation()
            .stack_set_name(name)
            .operation_id(op)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "cloudformation:DescribeStackSetOperation {op}: {}",
                    aws::describe(&e)
                )
            })?;
        let op_ = o.stack_set_operation();
        match op_.and_then(|x| x.status()) {
            Some(StackSetOperationStatus::Succeeded) => return Ok(()),
            Some(s @ (StackSetOperationStatus::Failed | StackSetOperationStatus::Stopped)) => {
                return Err(StackSetError(format!(
                    "stack set operation {op} ended {}: {} (aws cloudformation list-stack-set-operation-results --stack-set-name {name} --operation-id {op})",
                    s.as_str(),
                    op_.and_then(|x| x.status_reason())
                        .unwrap_or("no reason given")
                )));
            }
            s => {
                if started.elapsed() > timeout {
                    return Err(StackSetError(format!(
                        "stack set operation {op} still {} after {}s",
                        s.map(|s| s.as_str()).unwrap_or("unknown"),
                        timeout.as_secs()
                    )));
                }
                progress.emit(&Event::Waiting {
                    what: format!("stack set operation {op}"),
                    state: s.map(|s| s.as_str()).unwrap_or("unknown").to_owned(),
                    seconds: started.elapsed().as_secs(),
                });
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ou_ids() {
        for ok in ["ou-ab12-cd34ef56", "r-ab12", "ou-abcd-0123456789abcdef"] {
            assert!(is_ou_id(ok), "{ok}");
        }
        for bad in [
            "",
            "ou-",
            "ou-ab1-cd34ef56",
            "ou-ab12-cd34ef5",
            "ou-AB12-cd34ef56",
            "ou-ab12cd34ef56",
            "r-ab1",
            "ou-ab12-cd34ef56 ",
            "123456789012",
        ] {
            assert!(!is_ou_id(bad), "{bad}");
        }
    }
}
