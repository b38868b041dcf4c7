//! `xacct audit`: the offline permission audit of an environment's documents
//! and the committed files that ship (`--env`), of a Terraform plan (`--plan`)
//! or of CloudFormation templates (`--template`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::audit::{self, Expect, Finding, Input, Severity, plan, report, shipped, template};
use crate::envelope::{self, Envelope, Summary};
use crate::model::{Environment, LoadOptions};

/// Output formats of `xacct audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Sarif,
}

/// Audit the IAM documents of an environment (or a Terraform plan) offline.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).multiple(true).args(["env", "plan", "template"])))]
pub struct Args {
    /// Environment spec: audits the documents built from it and the committed
    /// `generated/<env>/` files; with `--plan`, states the intent the plan is judged against.
    #[arg(long, value_name = "FILE")]
    pub env: Option<PathBuf>,
    /// Terraform plan JSON (`terraform show -json plan.out`), repeatable (primary and storage roots).
    #[arg(long, value_name = "FILE")]
    pub plan: Vec<PathBuf>,
    /// CloudFormation template (YAML or JSON, xacct's or hand-written), repeatable;
    /// the intent comes from `--env` or is inferred from the templates' Lambda.
    #[arg(long, value_name = "FILE")]
    pub template: Vec<PathBuf>,
    /// Parameter values for `--template`: `[{"ParameterKey": .., "ParameterValue": ..}]`
    /// or `{"Key": "value"}`; repeatable, later files win. Parameters without a value use their Default.
    #[arg(long, value_name = "FILE", requires = "template")]
    pub parameters: Vec<PathBuf>,
    /// Root of the rendered output; `<dir>/<short_name>/` is scanned.
    #[arg(long, value_name = "DIR", default_value = "generated")]
    pub generated: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value = "high")]
    pub fail_on: super::FailOn,
    /// Organization snapshot (`xacct org snapshot`): its SCPs and RCPs are
    /// evaluated over the provisioning chain and its accounts widen the zone of
    /// trust. Default: `<folder of the spec>/<short_name>.org.json` when it exists.
    #[arg(long, value_name = "FILE", conflicts_with = "no_org")]
    pub org: Option<PathBuf>,
    /// Ignore the organization snapshot beside the spec.
    #[arg(long)]
    pub no_org: bool,
    /// Print how long each phase of `--env` took (on stderr).
    #[arg(long)]
    pub timings: bool,
}

/// The organization snapshot an audit uses: `--org`, else the file beside the
/// spec when it exists, none with `--no-org`. A named or present file that
/// cannot be read is an input error (exit 2), never silently skipped.
pub fn org_snapshot(
    org: Option<&Path>,
    no_org: bool,
    spec: Option<&Path>,
) -> anyhow::Result<Option<(crate::org::Snapshot, String)>> {
    if no_org {
        return Ok(None);
    }
    let path = match (org, spec) {
        (Some(p), _) => p.to_owned(),
        (None, Some(spec)) => {
            let env = Environment::load(spec, LoadOptions::default())?.env;
            let p = crate::org::default_path(spec, &env.short_name);
            if !p.exists() {
                return Ok(None);
            }
            p
        }
        (None, None) => return Ok(None),
    };
    let s = crate::org::Snapshot::load(&path)?;
    Ok(Some((s, path.display().to_string())))
}

/// The guardrail findings of an input under a snapshot, and the mitigations
/// noted on `findings` (never removed: a finding stays a finding).
pub fn with_org(
    input: &Input,
    org: Option<&(crate::org::Snapshot, String)>,
    findings: &mut Vec<Finding>,
) {
    if let Some((s, source)) = org {
        crate::org::guardrails::annotate(s, findings);
        findings.extend(crate::org::guardrails::check(input, s, source));
    }
}

/// Every file under `dir`, as `(path, text)`, sorted; binary files are skipped.
pub fn read_tree(dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in
            std::fs::read_dir(&d).with_context(|| format!("cannot list `{}`", d.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                out.push((path.display().to_string(), text));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The audit input of `--env`: the documents built from the spec plus the
/// committed rendered files under `<generated>/<short_name>/`.
pub fn env_input(spec: &Path, generated: &Path) -> anyhow::Result<Input> {
    let env = Environment::load(spec, LoadOptions::default())?.env;
    let dir = committed_dir(spec, generated, &env)?;
    let mut input = Input::from_env(&env);
    input.add_texts(read_tree(&dir)?);
    Ok(input)
}

/// `<generated>/<short_name>/`, which must exist.
fn committed_dir(spec: &Path, generated: &Path, env: &Environment) -> anyhow::Result<PathBuf> {
    let dir = generated.join(&env.short_name);
    anyhow::ensure!(
        dir.is_dir(),
        "rendered files `{}` not found: run `xacct render --env {}` first or pass --generated",
        dir.display(),
        spec.display()
    );
    Ok(dir)
}

/// The findings of `--env`: the spec's documents, the committed files under
/// `<generated>/<short_name>/` (policies, Terraform, CloudFormation), and every
/// committed file that differs from the render (XA040).
pub fn env_findings(spec: &Path, generated: &Path) -> anyhow::Result<Vec<Finding>> {
    env_findings_org(spec, generated, None, &mut Vec::new())
}

/// How long each phase of an `--env` audit took, in order.
pub type Timings = Vec<(&'static str, std::time::Duration)>;

/// [`env_findings`] under an organization snapshot (and its source, for messages):
/// the zone of trust widened to the organization, the guardrail findings
/// (XA060-XA065) added and the mitigations noted.
pub fn env_findings_org(
    spec: &Path,
    generated: &Path,
    org: Option<&(crate::org::Snapshot, String)>,
    timings: &mut Timings,
) -> anyhow::Result<Vec<Finding>> {
    let mut clock = std::time::Instant::now();
    let mut lap = |what: &'static str, timings: &mut Timings| {
        timings.push((what, clock.elapsed()));
        clock = std::time::Instant::now();
    };
    let env = Environment::load(spec, LoadOptions::default())?.env;
    let dir = committed_dir(spec, generated, &env)?;
    // The files are read while the spec's input and documents are built.
    let (files, mut input, documents) = std::thread::scope(|s| {
        let files = audit::spawn(s, || read_tree(&dir));
        let input = Input::from_env(&env);
        let documents = crate::iam::documents::Documents::build(&env);
        (audit::joined(files), input, documents)
    });
    let files = files?;
    input.add_texts(files.clone());
    if let Some((s, _)) = org {
        input.expect = input.expect.clone().with_org(s);
    }
    lap("load and read the committed files", timings);
    std::thread::scope(|scope| {
        // The spec's own documents do not depend on the committed files: they
        // are audited on a second thread while the files are parsed, and the
        // files' audits then find most answers decided (`decide::find`
        // remembers them across threads). The render, and its comparison with
        // the committed files, runs on a third.
        let spec_audit = audit::spawn(scope, || audit::run_with_rendered(&input, &documents));
        let render = audit::spawn(scope, || -> anyhow::Result<_> {
            let rendered = crate::render::Renderer::new()?
                .render(&env)
                .with_context(|| format!("rendering `{}`", spec.display()))?;
            let drift = shipped::drift(
                &dir,
                &rendered,
                &env.primary_account,
                &spec.display().to_string(),
            );
            Ok((rendered, drift))
        });
        let mut shipped = shipped::read(&dir.display().to_string(), &files, &env);
        lap("parse the committed files", timings);
        if let Some((s, _)) = org {
            for i in &mut shipped.inputs {
                i.expect = i.expect.clone().with_org(s);
            }
        }
        let (rendered, drift) = audit::joined(render)?;
        lap("render and drift check (its thread joined)", timings);
        // The floor is the render read back. When every committed file is the
        // render byte for byte (no drift), that is what was just parsed.
        let floor = if drift.is_empty() {
            audit::Floor {
                documents: documents.clone(),
                settings: shipped
                    .inputs
                    .iter()
                    .flat_map(|i| i.settings.iter().cloned())
                    .collect(),
            }
        } else {
            audit::Floor::of(&env, &rendered)
        };
        lap("the floor (render read back)", timings);
        let spec_findings = audit::joined(spec_audit);
        let mut findings = shipped::merge(spec_findings, &shipped, &floor);
        lap("audit every source against the floor", timings);
        findings.extend(drift);
        with_org(&input, org, &mut findings);
        lap("drift and organization", timings);
        Ok(findings)
    })
}

/// The audit input of `--template` (with the intent of `--env` when given).
pub fn template_input(
    templates: &[PathBuf],
    parameters: &[PathBuf],
    spec: Option<&Path>,
) -> anyhow::Result<Input> {
    let expect = match spec {
        Some(s) => Some(Expect::from_env(
            &Environment::load(s, LoadOptions::default())?.env,
        )),
        None => None,
    };
    let mut params = std::collections::BTreeMap::new();
    for p in parameters {
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("cannot read parameters `{}`", p.display()))?;
        params.extend(template::parse_parameters(&p.display().to_string(), &text)?);
    }
    let mut sources = Vec::new();
    for t in templates {
        let text = std::fs::read_to_string(t)
            .with_context(|| format!("cannot read template `{}`", t.display()))?;
        sources.push(template::Source {
            file: t.display().to_string(),
            text: text.into(),
            parameters: params.clone(),
            ..template::Source::default()
        });
    }
    template::input_from_templates(&sources, expect)
        .context("cannot read the templates' IAM documents")
}

/// The audit input of `--plan` (with the intent of `--env` when given).
pub fn plan_input(plans: &[PathBuf], spec: Option<&Path>) -> anyhow::Result<Input> {
    let expect = match spec {
        Some(s) => Some(Expect::from_env(
            &Environment::load(s, LoadOptions::default())?.env,
        )),
        None => None,
    };
    let mut parsed = Vec::new();
    for p in plans {
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("cannot read plan `{}`", p.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text).with_context(|| {
            format!(
                "plan `{}` is not JSON (use `terraform show -json`)",
                p.display()
            )
        })?;
        parsed.push((p.display().to_string(), value));
    }
    plan::input_from_plans(parsed, expect).context("cannot read the plan's IAM documents")
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // With the environment known, every document is also compared with the
    // rendered one by the access it grants (no new access).
    // ... and every security setting with the rendered one (no weaker setting).
    let rendered = match args.env.as_deref() {
        Some(spec) if !(args.plan.is_empty() && args.template.is_empty()) => Some(
            audit::Floor::build(&Environment::load(spec, LoadOptions::default())?.env)?,
        ),
        _ => None,
    };
    let org = org_snapshot(args.org.as_deref(), args.no_org, args.env.as_deref())?;
    let run = |input: &Input| {
        let mut input = input.clone();
        if let Some((s, _)) = &org {
            input.expect = input.expect.clone().with_org(s);
        }
        let mut f = match &rendered {
            Some(floor) => audit::run_with_floor(&input, floor),
            None => audit::run(&input),
        };
        with_org(&input, org.as_ref(), &mut f);
        f
    };
    let mut findings = Vec::new();
    if !args.plan.is_empty() {
        findings.extend(run(&plan_input(&args.plan, args.env.as_deref())?));
    }
    if !args.template.is_empty() {
        findings.extend(run(&template_input(
            &args.template,
            &args.parameters,
            args.env.as_deref(),
        )?));
    }
    if args.plan.is_empty() && args.template.is_empty() {
        let spec = args
            .env
            .as_deref()
            .context("--env, --plan or --template is required")?;
        let mut timings = Timings::new();
        let started = std::time::Instant::now();
        findings = env_findings_org(spec, &args.generated, org.as_ref(), &mut timings)?;
        if args.timings {
            for (what, d) in &timings {
                eprintln!("timings {what}: {d:?}");
            }
            eprintln!("timings total: {:?}", started.elapsed());
        }
    }
    let loaded = match args.env.as_deref() {
        Some(spec) => Some(Environment::load(spec, LoadOptions::default())?.env),
        None => None,
    };
    let short_name = loaded.as_ref().map(|e| e.short_name.clone());
    let kind = if !args.plan.is_empty() {
        "audit-plan"
    } else if !args.template.is_empty() {
        "audit-template"
    } else {
        "audit"
    };
    let sources = crate::sarif::Sources {
        spec: args.env.clone(),
        generated: short_name.as_ref().map(|s| args.generated.join(s)),
        plans: args.plan.clone(),
        templates: args.template.clone(),
        live: false,
        category: Some(format!(
            "xacct/{kind}/{}/",
            short_name.as_deref().unwrap_or("no-env")
        )),
    };
    let code = u8::from(
        findings
            .iter()
            .any(|f| f.severity >= Severity::from(args.fail_on)),
    );
    let text = match args.format {
        Format::Table => report::table(&findings),
        Format::Json => Envelope::new(
            "audit",
            loaded.as_ref().map(|e| e.name.as_str()),
            Summary::new(code).findings(&findings),
            AuditJson {
                fail_on: Severity::from(args.fail_on),
                findings: envelope::findings(&findings),
            },
        )
        .to_json(),
        Format::Sarif => crate::sarif::audit(&findings, sources),
    };
    use std::io::Write;
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(envelope::exit(code))
}

/// `audit --format json`: the envelope's own fields.
#[derive(serde::Serialize)]
struct AuditJson<'a> {
    /// The `--fail-on` threshold `summary.exit_code` was computed against.
    fail_on: Severity,
    findings: Vec<envelope::Finding<'a>>,
}
