//! `xacct adopt`: import what already exists instead of recreating it, and
//! show the access change of applying before anything is applied (see
//! `crate::adopt`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::adopt::{self, Options, Report, Verdict};

use super::live::{LiveArgs, check_role_name, runtime};

/// Output format of `adopt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// Find the rendered resources that already exist, write import blocks for them, and show the access change.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Environment spec.
    #[arg(long, value_name = "FILE")]
    pub env: PathBuf,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Read-only role assumed in each storage account to read its IAM.
    #[arg(long, value_name = "NAME", default_value = crate::contract::DEFAULT_BOOTSTRAP_ROLE)]
    pub audit_role: String,
    /// Output root: files go to `<out>/<short_name>/`.
    #[arg(long, value_name = "DIR", default_value = "generated")]
    pub out: PathBuf,
    /// Remove the files a previous `adopt` wrote (after `terraform apply` imported
    /// the resources); no AWS calls.
    #[arg(long)]
    pub clean: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Storage accounts read at the same time.
    #[arg(long, value_name = "N", default_value_t = adopt::DEFAULT_CONCURRENCY as u16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let env = super::load_env(&args.env)?;
    check_role_name("--audit-role", &args.audit_role)?;
    let dir = args.out.join(&env.short_name);
    if args.clean {
        let removed = adopt::clean(&dir)?;
        let mut out = std::io::stdout().lock();
        if removed.is_empty() {
            writeln!(
                out,
                "xacct adopt --clean: nothing to remove in {}",
                dir.display()
            )?;
        }
        for p in removed {
            writeln!(out, "removed {}", p.display())?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let opts = Options {
        target: args.live.target("adopt"),
        audit_role: args.audit_role,
        concurrency: usize::from(args.concurrency),
    };
    let rt = runtime()?;
    let mut report = rt.block_on(adopt::run(&env, &opts));
    let files = adopt::files(&env, &mut report, &dir)?;
    // Never write from a partial read: an unread account would lose its blocks.
    let written = if report.errors.is_empty() {
        let (w, removed) = adopt::imports::write(&dir, &files)?;
        Some((w, removed))
    } else {
        None
    };
    let code = u8::from(report.failed());
    let text = match args.format {
        Format::Json => crate::envelope::Envelope::new(
            "adopt",
            Some(&report.environment),
            crate::envelope::Summary::new(code)
                .count("imports", report.imports.len())
                .count("to_create", report.to_create.len())
                .count("access", report.access.len())
                .count("unmanaged", report.unmanaged.len())
                .count("errors", report.errors.len()),
            &report,
        )
        .to_json(),
        Format::Table => table(&report, written.as_ref(), &dir),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(crate::envelope::exit(code))
}

type Written = (Vec<PathBuf>, Vec<PathBuf>);

/// The report as text.
pub fn table(r: &Report, written: Option<&Written>, dir: &std::path::Path) -> String {
    let mut s = format!("xacct adopt: {}\n", r.environment);
    s.push_str(&sections(r));
    tail(&mut s, r, written, dir);
    s
}

/// What exists, the access change, unmanaged resources, the function's
/// configuration and the CloudFormation commands.
pub fn sections(r: &Report) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "\nExisting resources to import ({}):\n",
        r.imports.len()
    ));
    if r.imports.is_empty() {
        s.push_str("  none\n");
    }
    for i in &r.imports {
        s.push_str(&format!(
            "  {:<13} {:<18} {}  <- {}\n",
            i.account, i.root, i.address, i.id
        ));
    }
    if !r.to_create.is_empty() {
        s.push_str(&format!(
            "\nNot found, created by the next apply ({}):\n",
            r.to_create.len()
        ));
        for c in &r.to_create {
            s.push_str(&format!("  {c}\n"));
        }
    }
    s.push_str("\nAccess change when the rendered documents are applied:\n");
    if r.access.is_empty() {
        s.push_str("  nothing to compare (no existing document)\n");
    }
    for c in &r.access {
        let v = match c.verdict {
            Verdict::Equivalent => "equivalent",
            Verdict::Narrower => "NARROWER",
            Verdict::Wider => "WIDER",
            Verdict::Both => "NARROWER+WIDER",
            Verdict::Undecided => "UNDECIDED",
        };
        s.push_str(&format!("  {:<13} {:<14} {}\n", c.account, v, c.document));
        let by = |j: &Option<serde_json::Value>| {
            j.as_ref()
                .map(|j| format!("\n               granted by {j}"))
                .unwrap_or_default()
        };
        if let Some(x) = &c.removed {
            s.push_str(&format!(
                "      removed: today {}; denied after apply{}\n",
                x.describe(),
                by(&c.removed_by)
            ));
        }
        if let Some(x) = &c.added {
            s.push_str(&format!(
                "      added:   after apply {}; denied today{}\n",
                x.describe(),
                by(&c.added_by)
            ));
        }
        if c.verdict == Verdict::Undecided
            || (c.removed.is_none() && c.added.is_none() && c.verdict != Verdict::Equivalent)
        {
            s.push_str(&format!("      {}\n", c.message));
        }
    }
    if !r.unmanaged.is_empty() {
        s.push_str("\nExisting, not managed by xacct (applying leaves them):\n");
        for u in &r.unmanaged {
            s.push_str(&format!(
                "  {:<13} {:<19} {} ({}): {}\n",
                u.account, u.kind, u.name, u.on_apply, u.note
            ));
        }
    }
    if let Some(l) = &r.lambda_configuration {
        s.push_str(&format!(
            "\nFunction configuration{}:\n",
            if l.seed_names {
                " (the seed's variable names; applying renames them to xacct's)"
            } else {
                ""
            }
        ));
        for v in &l.variables {
            let shown = match (&v.value, v.status) {
                (_, "secret") => "(not shown)".to_owned(),
                (Some(x), _) => format!("{x:?}"),
                (None, _) => String::new(),
            };
            s.push_str(&format!(
                "  {:<28} -> {:<30} {:<12} {}{}\n",
                v.name,
                v.xacct_name.unwrap_or("(not rendered: removed)"),
                v.status,
                shown,
                v.spec
                    .as_ref()
                    .filter(|_| v.status == "differs")
                    .map(|x| format!(" (spec: {x:?})"))
                    .unwrap_or_default()
            ));
        }
        for f in &l.findings {
            s.push_str(&format!("  finding: {f}\n"));
        }
    }
    if !r.cloudformation.is_empty() {
        s.push_str("\nCloudFormation users (instead of Terraform), per stack:\n");
        for c in &r.cloudformation {
            s.push_str(&format!("  {} {}:\n", c.account, c.stack));
            for cmd in &c.commands {
                s.push_str(&format!("    {cmd}\n"));
            }
            for b in &c.not_importable {
                s.push_str(&format!(
                    "    note: {b} exists but references a resource that does not; deploy, then import it by hand\n"
                ));
            }
        }
    }
    s
}

fn tail(s: &mut String, r: &Report, written: Option<&Written>, dir: &std::path::Path) {
    for e in &r.errors {
        s.push_str(&format!("\nerror: {}: {}\n", e.account, e.message));
    }
    match written {
        None => s.push_str(&format!(
            "\nNothing written under {}: an account could not be read.\n",
            dir.display()
        )),
        Some((w, removed)) => {
            for p in w {
                s.push_str(&format!("\nwrote {}", p.display()));
            }
            for p in removed {
                s.push_str(&format!("\nremoved {}", p.display()));
            }
            if w.is_empty() && removed.is_empty() {
                s.push_str(&format!("\n{} is up to date", dir.display()));
            }
            s.push('\n');
        }
    }
    s.push_str(&if r.changes_access {
        "\nApplying changes access (see above): review it before `terraform apply` (exit 1).\n"
            .to_owned()
    } else if r.errors.is_empty() {
        "\nApplying changes no access (exit 0).\n".to_owned()
    } else {
        "\nSome accounts could not be read (exit 1).\n".to_owned()
    });
}

/// `onboard --apply` into an account that already has the storage role or
/// policy (and no stack): prints what exists and the access change; without
/// `adopt` stops (exit 1, nothing changed); with it imports them into the
/// stack. `None`: carry on with the ordinary deploy. With `json` (onboard
/// `--format json`) the text goes to stderr so stdout stays pure JSON.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn onboard_existing(
    json: bool,
    adopt: bool,
    env: &crate::model::Environment,
    session: &crate::aws::Aws,
    account: &str,
    stack: &str,
    template: &str,
    timeout: u64,
) -> Result<Option<ExitCode>, crate::aws::AwsError> {
    use crate::adopt::onboard as ob;
    if ob::stack_exists(session, stack).await? {
        return Ok(None);
    }
    let existing = ob::existing(session, account).await?;
    if existing.role.is_none() && existing.policy.is_none() {
        return Ok(None);
    }
    let docs = crate::iam::documents::Documents::build(env);
    let (changes, unmanaged) = crate::adopt::access::storage(&docs, &existing);
    let report = Report {
        environment: env.name.clone(),
        imports: crate::adopt::imports::storage(env, &existing),
        to_create: Vec::new(),
        access: changes,
        unmanaged,
        lambda_configuration: None,
        cloudformation: Vec::new(),
        errors: Vec::new(),
        changes_access: false,
    };
    let say = |text: String| {
        if json {
            eprint!("{text}");
        } else {
            print!("{text}");
        }
    };
    say(format!(
        "{account} already has {}:\n{}",
        contract_names(&existing),
        sections(&report)
    ));
    if !adopt {
        eprintln!(
            "xacct onboard: {account} already has {} and no stack {stack}; nothing was changed in AWS. Review the access change above, then re-run with --adopt to import the existing resources into the stack (they are never deleted or replaced)",
            contract_names(&existing)
        );
        return Ok(Some(ExitCode::from(1)));
    }
    let Some(req) = ob::import_request(env, template, &existing) else {
        return Ok(None);
    };
    for b in &req.not_importable {
        say(format!(
            "note: {b} cannot be imported in this step; the stack update creates or updates it\n"
        ));
    }
    let status = ob::import(
        session,
        &req,
        std::time::Duration::from_secs(timeout),
        &super::progress::stderr("onboard"),
    )
    .await?;
    say(format!(
        "imported {} into {stack} in {account}: {status}\n",
        req.resources
            .iter()
            .map(|r| r.logical_id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(None)
}

fn contract_names(s: &crate::adopt::read::Storage) -> String {
    match (s.role.is_some(), s.policy.is_some()) {
        (true, true) => "S3BucketManager and S3BucketManagement",
        (true, false) => "S3BucketManager",
        _ => "S3BucketManagement",
    }
    .to_owned()
}
