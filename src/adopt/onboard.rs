//! `onboard --apply` into an account that already has `S3BucketManager` (or
//! `S3BucketManagement`): what exists, the access change, and with `--adopt`
//! a CloudFormation IMPORT of the existing resources into the storage stack
//! (the stack's template keeps them with `DeletionPolicy: Retain`, so the
//! import never deletes or replaces the role). The update to the rendered
//! template follows as an ordinary stack update.

use std::time::{Duration, Instant};

use aws_sdk_cloudformation::types::{Capability, ChangeSetType, ResourceToImport};

use super::imports::{self, CfnImport};
use super::read::{self, Storage};
use crate::aws::{self, Aws, AwsError};
use crate::contract;
use crate::model::Environment;
use crate::progress::Progress;

/// The change set's name.
pub const CHANGE_SET: &str = "xacct-adopt";

/// One IMPORT change set.
#[derive(Debug, Clone, PartialEq)]
pub struct StackImport {
    pub stack: String,
    pub change_set: String,
    /// Only the resources to import (an IMPORT change set creates nothing).
    pub template: String,
    pub resources: Vec<CfnImport>,
    /// Existing resources that cannot be imported in this step.
    pub not_importable: Vec<String>,
}

/// `S3BucketManager` and `S3BucketManagement` in the session's account.
pub async fn existing(session: &Aws, account: &str) -> Result<Storage, AwsError> {
    let iam = session.iam();
    Ok(Storage {
        account: account.to_owned(),
        role: read::role(&iam, contract::STORAGE_ROLE_NAME).await?,
        policy: read::managed_policy(&iam, &read::storage_policy_arn(account)).await?,
        phr: None,
    })
}

/// Whether the stack exists (in any state but deleted).
pub async fn stack_exists(session: &Aws, stack: &str) -> Result<bool, AwsError> {
    match session
        .cloudformation()
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
    {
        Ok(o) => Ok(!o.stacks().is_empty()),
        Err(e) if aws::describe(&e).contains("does not exist") => Ok(false),
        Err(e) => Err(AwsError::sdk("cloudformation:DescribeStacks", stack, &e)),
    }
}

/// The IMPORT change set for what exists in `s` (`None`: nothing to import).
pub fn import_request(env: &Environment, template: &str, s: &Storage) -> Option<StackImport> {
    let mut resources: Vec<CfnImport> = imports::storage(env, s)
        .into_iter()
        .filter_map(|i| i.cloudformation)
        .collect();
    let ids: Vec<String> = resources.iter().map(|r| r.logical_id.clone()).collect();
    let (template, blocked) = imports::import_template(template, &ids);
    resources.retain(|r| !blocked.contains(&r.logical_id));
    (!resources.is_empty()).then(|| StackImport {
        stack: env.storage_stack_name(),
        change_set: CHANGE_SET.to_owned(),
        template,
        resources,
        not_importable: blocked,
    })
}

/// The SDK's `ResourcesToImport` of a request.
pub fn resources_to_import(req: &StackImport) -> Vec<ResourceToImport> {
    req.resources
        .iter()
        .map(|r| {
            ResourceToImport::builder()
                .resource_type(r.resource_type)
                .logical_resource_id(&r.logical_id)
                .set_resource_identifier(Some(r.identifier.clone().into_iter().collect()))
                .build()
        })
        .collect()
}

/// Creates the IMPORT change set, waits for it, executes it and waits for
/// `IMPORT_COMPLETE`. Returns the final stack status.
pub async fn import(
    session: &Aws,
    req: &StackImport,
    timeout: Duration,
    progress: &Progress,
) -> Result<String, AwsError> {
    let cfn = session.cloudformation();
    let stack = req.stack.as_str();
    cfn.create_change_set()
        .stack_name(stack)
        .change_set_name(&req.change_set)
        .change_set_type(ChangeSetType::Import)
        .template_body(&req.template)
        .set_resources_to_import(Some(resources_to_import(req)))
        .capabilities(Capability::CapabilityNamedIam)
        .send()
        .await
        .map_err(|e| AwsError::sdk("cloudformation:CreateChangeSet", stack, &e))?;
    let started = Instant::now();
    loop {
        let cs = cfn
            .describe_change_set()
            .stack_name(stack)
            .change_set_name(&req.change_set)
            .send()
            .await
            .map_err(|e| AwsError::sdk("cloudformation:DescribeChangeSet", stack, &e))?;
        let s = cs
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default();
        if s == "CREATE_COMPLETE" {
            break;
        }
        if s == "FAILED" {
            return Err(AwsError::new(
                "cloudformation:DescribeChangeSet",
                stack,
                format!(
                    "the IMPORT change set failed: {}",
                    cs.status_reason().unwrap_or("no reason given")
                ),
            ));
        }
        crate::onboard::deploy::wait_tick(
            started,
            timeout,
            stack,
            &format!("stack {stack} (import)"),
            &s,
            progress,
        )
        .await?;
    }
    cfn.execute_change_set()
        .stack_name(stack)
        .change_set_name(&req.change_set)
        .send()
        .await
        .map_err(|e| AwsError::sdk("cloudformation:ExecuteChangeSet", stack, &e))?;
    let started = Instant::now();
    loop {
        let s = cfn
            .describe_stacks()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| AwsError::sdk("cloudformation:DescribeStacks", stack, &e))?
            .stacks()
            .first()
            .and_then(|s| s.stack_status().map(|x| x.as_str().to_owned()))
            .unwrap_or_default();
        if s == "IMPORT_COMPLETE" {
            return Ok(s);
        }
        if !s.ends_with("_IN_PROGRESS") {
            return Err(AwsError::new(
                "cloudformation:DescribeStacks",
                stack,
                format!("the import ended {s}"),
            ));
        }
        crate::onboard::deploy::wait_tick(
            started,
            timeout,
            stack,
            &format!("stack {stack} (import)"),
            &s,
            progress,
        )
        .await?;
    }
}
