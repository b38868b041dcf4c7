//! `xacct explain`: the decision for one request and the statements behind it.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::audit::{self, explain};
use crate::envelope::{self, Envelope, Summary};
use crate::eval::{Caller, Outcome};

/// Evaluate one request offline against an environment's documents.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Environment spec.
    #[arg(long, value_name = "FILE")]
    pub env: PathBuf,
    /// Caller: an IAM ARN (`:root`, `:role/...`, `:user/...`), a 12-digit account,
    /// a service (`lambda.amazonaws.com`) or `anonymous`. Checked before evaluating.
    #[arg(long, value_name = "ARN")]
    pub principal: String,
    /// Action, e.g. `s3:CreateBucket`: a service and action of the shipped catalog.
    #[arg(long)]
    pub action: String,
    /// Resource ARN, e.g. `arn:aws:s3:::ambra-dev-acme` (or `*`).
    #[arg(long, value_name = "ARN")]
    pub resource: String,
    /// Output format (json: the decision, the request evaluated and the statements).
    #[arg(long, value_enum, default_value_t)]
    pub format: super::TextFormat,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // Malformed input is exit 2 before any decision (never a DENY).
    let caller = explain::parse_principal(&args.principal)?;
    let action = explain::check_action(&args.action)?;
    explain::check_resource(&args.resource)?;
    let env = crate::model::Environment::load(&args.env, Default::default())?.env;
    let input = audit::Input::from_env(&env);
    let e = audit::explain(&input, &caller, action, &args.resource);
    // `explain` answers a question; the exit code says allowed (0) or denied (1).
    let code = u8::from(e.outcome != Outcome::Allow);
    let request = audit::Counterexample {
        principal: match &caller {
            Caller::Aws(a) => a.clone(),
            Caller::Service(s) => format!("service:{s}"),
            Caller::Anonymous => "anonymous".to_owned(),
        },
        action: action.to_owned(),
        resource: e.resource.clone(),
        context: e.context.clone(),
    };
    if args.format == super::TextFormat::Json {
        Envelope::new(
            "explain",
            Some(&env.name),
            Summary::new(code).count("statements", e.statements.len()),
            ExplainJson {
                decision: match e.outcome {
                    Outcome::Allow => "allow",
                    Outcome::ExplicitDeny => "explicit_deny",
                    Outcome::ImplicitDeny => "implicit_deny",
                },
                allowed: e.outcome == Outcome::Allow,
                account: caller.account().and_then(envelope::account),
                request: &request,
                condition_keys: e
                    .condition_keys
                    .iter()
                    .map(|(key, values)| ConditionKey {
                        key,
                        values: values.as_deref(),
                    })
                    .collect(),
                identity_documents: &e.identity_documents,
                resource_document: e.resource_document.as_deref(),
                statements: &e.statements,
                unsupported: &e.unsupported,
            },
        )
        .print()?;
        return Ok(envelope::exit(code));
    }
    let mut out = String::new();
    out.push_str(&format!(
        "{} {} on {}: {}\n",
        caller.describe(),
        action,
        e.resource,
        e.outcome
    ));
    out.push_str("evaluated request:\n");
    out.push_str(&format!("  principal: {}\n", request.principal));
    out.push_str(&format!("  action:    {action}\n"));
    out.push_str(&format!("  resource:  {}\n", e.resource));
    if e.resource != args.resource {
        out.push_str(&format!(
            "             ({action} has no resource type: it is requested on `*`, not on {})\n",
            args.resource
        ));
    }
    if e.context.is_empty() {
        out.push_str("  context:   (no condition keys)\n");
    }
    for (i, (k, v)) in e.context.iter().enumerate() {
        out.push_str(&format!(
            "  {:<10} {k} = {}\n",
            if i == 0 { "context:" } else { "" },
            v.join(", ")
        ));
    }
    for (k, v) in &e.condition_keys {
        out.push_str(&format!(
            "  condition: {k} = {}\n",
            v.as_ref()
                .map_or("(absent from the request)".to_owned(), |v| v.join(", "))
        ));
    }
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
    out.push_str(if e.statements.is_empty() {
        "decided by: no statement (nothing allows this request)\n"
    } else {
        "decided by:\n"
    });
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
    Ok(envelope::exit(code))
}

/// `explain --format json`: the envelope's own fields.
#[derive(serde::Serialize)]
struct ExplainJson<'a> {
    /// `allow`, `explicit_deny` or `implicit_deny`.
    decision: &'static str,
    allowed: bool,
    /// The caller's account (null for services and anonymous).
    account: Option<&'a str>,
    /// The request evaluated, in the shape of a finding's `counterexample`.
    request: &'a audit::Counterexample,
    /// Condition keys the deciding statements test, with the request's values (null: absent).
    condition_keys: Vec<ConditionKey<'a>>,
    identity_documents: &'a [String],
    resource_document: Option<&'a str>,
    /// The statements that decided (allows for allow, denies for an explicit deny).
    statements: &'a [audit::StatementInfo],
    /// Condition operators not evaluated (treated as false).
    unsupported: &'a [String],
}

#[derive(serde::Serialize)]
struct ConditionKey<'a> {
    key: &'a str,
    values: Option<&'a [String]>,
}
