//! `xacct explain`: which documents answer one request and how.

use super::{Doc, Input, StatementInfo, statement_info};
use crate::contract;
use crate::eval::{self, Caller, Named, Outcome, Request};

/// `xacct explain`: which documents answer a request and how.
pub fn explain(input: &Input, caller: &Caller, action: &str, resource: &str) -> Explanation {
    let e = &input.expect;
    let req = Request::new(caller.clone(), action, resource);
    let caller_arn = match caller {
        Caller::Aws(a) => a.as_str(),
        _ => "",
    };
    // Identity policies of the caller, when the caller is one of ours.
    let mut identity: Vec<&Doc> = Vec::new();
    if caller_arn == e.lambda_role_arn {
        identity.extend(input.lambda_execution.iter());
    }
    for acct in &input.storage {
        if caller_arn == contract::storage_role_arn(&acct.account) {
            identity.extend(acct.management.iter());
        }
    }
    let id_named: Vec<Named<'_>> = identity
        .iter()
        .map(|d| Named::identity(&d.name, &d.doc))
        .collect();
    // The resource policy governing the resource, if we have one.
    let mut resource_doc: Option<&Doc> = None;
    for acct in &input.storage {
        if resource == contract::storage_role_arn(&acct.account) {
            resource_doc = acct.trust.as_ref();
        }
    }
    if resource == e.lambda_role_arn {
        resource_doc = input.lambda_trust.as_ref();
    }
    if resource == e.function_arn || resource.starts_with(&format!("{}:", e.function_arn)) {
        resource_doc = input.function_url_policy.as_ref();
    }
    for b in &input.bucket_policies {
        let arn = contract::bucket_arn(&b.bucket);
        if resource == arn || resource.starts_with(&format!("{arn}/")) {
            resource_doc = Some(&b.doc);
        }
    }
    let decision = match resource_doc {
        Some(rd) => eval::combine(
            &id_named,
            caller,
            Named::resource(&rd.name, &rd.doc),
            Some(rd.account.as_str()).filter(|a| !a.is_empty()),
            &req,
        ),
        None => eval::evaluate(&id_named, &req),
    };
    let statements = decision
        .statements
        .iter()
        .filter_map(|s| {
            let doc = input
                .all_docs()
                .into_iter()
                .find(|d| d.name == s.document)?;
            statement_info(doc, s.index)
        })
        .collect();
    Explanation {
        outcome: decision.outcome,
        identity_documents: identity.iter().map(|d| d.name.clone()).collect(),
        resource_document: resource_doc.map(|d| d.name.clone()),
        statements,
        unsupported: decision.unsupported,
    }
}

/// The answer of [`explain`].
#[derive(Debug, Clone)]
pub struct Explanation {
    pub outcome: Outcome,
    pub identity_documents: Vec<String>,
    pub resource_document: Option<String>,
    pub statements: Vec<StatementInfo>,
    pub unsupported: Vec<String>,
}
