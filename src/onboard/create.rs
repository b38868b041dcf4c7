//! `onboard --create`: Organizations `CreateAccount` (tagged `ambra-storage`),
//! wait for it, tag it again and move it to the OU. Nothing local is changed
//! here, and nothing is printed: progress goes through a callback.

use std::time::{Duration, Instant};

use aws_sdk_organizations::types::Tag;

use crate::aws::{Aws, AwsError};
use crate::contract;

/// The account to create.
#[derive(Debug, Clone)]
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub name: &'a str,
    /// OU (or root) to move the account into.
    pub ou: Option<&'a str>,
    /// How long to wait for `CreateAccount` to finish.
    pub timeout: Duration,
}

/// Creates the account and returns its ID. `waiting` is called with the
/// request's state and the time waited so far, every poll (10 s).
///
/// Errors say what is left: before the account exists, "nothing was changed
/// locally"; after, how to continue with `--account`.
pub async fn create_account(
    aws: &Aws,
    req: &NewAccount<'_>,
    waiting: &(dyn Fn(&str, Duration) + Sync),
) -> Result<String, AwsError> {
    let org = aws.organizations();
    let name = req.name;
    let nothing = "nothing was changed locally";
    let tag = Tag::builder()
        .key(contract::STORAGE_ACCOUNT_TAG)
        .value("true")
        .build()
        .map_err(|e| AwsError::new("organizations:CreateAccount", name, e.to_string()))?;
    let out = org
        .create_account()
        .email(req.email)
        .account_name(name)
        .tags(tag.clone())
        .send()
        .await
        .map_err(|e| AwsError::sdk("organizations:CreateAccount", name, &e).next(nothing))?;
    let request = out
        .create_account_status()
        .and_then(|s| s.id())
        .ok_or_else(|| {
            AwsError::new("organizations:CreateAccount", name, "no request ID").next(nothing)
        })?
        .to_owned();
    let started = Instant::now();
    let api = "organizations:DescribeCreateAccountStatus";
    let id = loop {
        let st = org
            .describe_create_account_status()
            .create_account_request_id(&request)
            .send()
            .await
            .map_err(|e| AwsError::sdk(api, &request, &e).next(nothing))?;
        let st = st
            .create_account_status()
            .ok_or_else(|| AwsError::new(api, &request, "no status in the answer").next(nothing))?;
        match create_outcome(st) {
            Ok(Some(id)) => break id,
            Ok(None) => {}
            Err(reason) => {
                return Err(AwsError::new(
                    "organizations:CreateAccount",
                    name,
                    format!("creating account {name:?} failed: {reason}"),
                )
                .next(nothing));
            }
        }
        if started.elapsed() > req.timeout {
            return Err(AwsError::new(
                api,
                &request,
                format!(
                    "account {name:?} not created after {}s",
                    req.timeout.as_secs()
                ),
            )
            .next("re-run later with --account once it exists"));
        }
        let state = st.state().map(|s| s.as_str()).unwrap_or("unknown");
        waiting(state, started.elapsed());
        tokio::time::sleep(Duration::from_secs(10)).await;
    };
    if !contract::is_account_id(&id) {
        return Err(AwsError::new(
            "organizations:CreateAccount",
            name,
            format!("returned account ID {id:?}"),
        ));
    }
    let left =
        format!("account {id} exists; re-run with --account {id} (without --create) to continue");
    org.tag_resource()
        .resource_id(&id)
        .tags(tag)
        .send()
        .await
        .map_err(|e| AwsError::sdk("organizations:TagResource", &id, &e).next(&left))?;
    if let Some(ou) = req.ou {
        let parents = org
            .list_parents()
            .child_id(&id)
            .send()
            .await
            .map_err(|e| AwsError::sdk("organizations:ListParents", &id, &e).next(&left))?;
        let parent = parents
            .parents()
            .first()
            .and_then(|p| p.id())
            .ok_or_else(|| {
                AwsError::new(
                    "organizations:ListParents",
                    &id,
                    "the new account has no parent",
                )
                .next(&left)
            })?
            .to_owned();
        if parent != ou {
            org.move_account()
                .account_id(&id)
                .source_parent_id(&parent)
                .destination_parent_id(ou)
                .send()
                .await
                .map_err(|e| {
                    AwsError::sdk("organizations:MoveAccount", format!("{id} to {ou}"), &e)
                        .next(&left)
                })?;
        }
    }
    Ok(id)
}

crate::message_error! {
    /// Why Organizations reports an account creation FAILED (`EMAIL_ALREADY_EXISTS`, ...).
    CreateFailed
}

/// What a `DescribeCreateAccountStatus` answer means: `Ok(Some(id))` created,
/// `Ok(None)` still in progress, `Err(reason)` failed (for example
/// `EMAIL_ALREADY_EXISTS` or `ACCOUNT_LIMIT_EXCEEDED`).
fn create_outcome(
    st: &aws_sdk_organizations::types::CreateAccountStatus,
) -> Result<Option<String>, CreateFailed> {
    use aws_sdk_organizations::types::CreateAccountState;
    match st.state() {
        Some(CreateAccountState::Succeeded) => {
            Ok(Some(st.account_id().unwrap_or_default().to_owned()))
        }
        Some(CreateAccountState::Failed) => Err(CreateFailed(
            st.failure_reason()
                .map(|r| r.as_str().to_owned())
                .unwrap_or_else(|| "no reason given".to_owned()),
        )),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::{CreateFailed, create_outcome};
    use aws_sdk_organizations::types::{
        CreateAccountFailureReason, CreateAccountState, CreateAccountStatus,
    };

    #[test]
    fn create_account_status_outcomes() {
        let st = |state, reason: Option<CreateAccountFailureReason>, id: Option<&str>| {
            CreateAccountStatus::builder()
                .state(state)
                .set_failure_reason(reason)
                .set_account_id(id.map(str::to_owned))
                .build()
        };
        assert_eq!(
            create_outcome(&st(CreateAccountState::InProgress, None, None)),
            Ok(None)
        );
        assert_eq!(
            create_outcome(&st(
                CreateAccountState::Succeeded,
                None,
                Some("100000000004")
            )),
            Ok(Some("100000000004".to_owned()))
        );
        assert_eq!(
            create_outcome(&st(
                CreateAccountState::Failed,
                Some(CreateAccountFailureReason::EmailAlreadyExists),
                None
            )),
            Err(CreateFailed("EMAIL_ALREADY_EXISTS".to_owned()))
        );
        assert_eq!(
            create_outcome(&st(CreateAccountState::Failed, None, None)),
            Err(CreateFailed("no reason given".to_owned()))
        );
    }
}
