//! `xacct explain`: the decision for one request and the statements behind it.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::audit;
use crate::eval::{Caller, Outcome};

/// Evaluate one request offline against an environment's documents.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Environment spec.
    #[arg(long, value_name = "FILE")]
    pub env: PathBuf,
    /// Caller: an IAM ARN, a service (`lambda.amazonaws.com`) or `anonymous`.
    #[arg(long, value_name = "ARN")]
    pub principal: String,
    /// Action, e.g. `s3:CreateBucket`.
    #[arg(long)]
    pub action: String,
    /// Resource ARN, e.g. `arn:aws:s3:::ambra-dev-acme`.
    #[arg(long, value_name = "ARN")]
    pub resource: String,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let env = crate::model::Environment::load(&args.env, Default::default())?.env;
    let input = audit::Input::from_env(&env);
    let caller = if args.principal == "anonymous" || args.principal == "*" {
        Caller::Anonymous
    } else if args.principal.starts_with("arn:") {
        Caller::Aws(args.principal.clone())
    } else if args.principal.ends_with(".amazonaws.com") {
        Caller::Service(args.principal.clone())
    } else {
        anyhow::bail!(
            "--principal must be an IAM ARN, a service principal such as lambda.amazonaws.com, or `anonymous` (got {:?})",
            args.principal
        );
    };
    let e = audit::explain(&input, &caller, &args.action, &args.resource);
    let mut out = String::new();
    out.push_str(&format!(
        "{} {} on {}: {}\n",
        caller.describe(),
        args.action,
        args.resource,
        e.outcome
    ));
    out.push_str(&format!(
        "identity policies: {}\n",
        if e.identity_documents.is_empty() {
            "(none known for this principal)".to_owned()
        } else {
            e.identity_documents.join(", ")
        }
    ));
    out.push_str(&format!(
        "resource policy:   {}\n",
        e.resource_document.as_deref().unwrap_or("(none)")
    ));
    for s in &e.statements {
        out.push_str(&format!(
            "  {}#{}{}: {}\n",
            s.document,
            s.index,
            s.sid
                .as_deref()
                .map(|x| format!(" ({x})"))
                .unwrap_or_default(),
            s.json
        ));
    }
    for op in &e.unsupported {
        out.push_str(&format!(
            "  note: condition operator {op} not evaluated (treated as false)\n"
        ));
    }
    print!("{out}");
    // `explain` answers a question; the exit code says allowed (0) or denied (1).
    Ok(if e.outcome == Outcome::Allow {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
