//! `xacct diff`: what a change grants or removes, decided exactly.
//!
//! A [`Side`] is what ships for one environment at one revision: the spec, the
//! documents read from the committed `generated/<env>/` files by the audit's
//! readers (`policies/*.json`, the Terraform roots, the CloudFormation
//! templates; [`crate::audit::shipped::read`]), and on the working tree also
//! the documents built from the spec by this binary (the render). A side allows
//! a request when **any** of its sources allows it: whichever of them gets
//! applied, the access is there. Documents are matched across sides by what
//! they are ([`DocKey`]: "Lambda execution policy", "S3BucketManager trust" of
//! an account, ...), and each pair is compared both ways with
//! [`eval::decide::find`]: new access is a request some source of the new side
//! allows and no source of the old side does; removed access the converse.
//!
//! Each direction is summarised as a few [`Line`]s: the statement that grants
//! it (principals, actions, resources, the conditions that still hold) and one
//! concrete example request. The next line is asked for with every statement
//! already described excluded, so lines never repeat and every new request is
//! covered by some line (up to [`MAX_LINES`] per document and direction).
//!
//! Pure: sides are built from values (spec, file texts, rendered files), no
//! git, no files, no AWS. `cmd/diff.rs` reads the revisions.

pub mod report;
pub mod settings;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::audit::shipped;
use crate::audit::{Counterexample, Doc, Input, Severity};
use crate::contract;
use crate::eval::decide::{self, Answer, Scope, Values};
use crate::eval::{self, Kind, Named, Request};
use crate::iam::{Effect, PolicyDocument, Statement};
use crate::model::Environment;
use crate::render::RenderedFile;

pub use settings::{Direction, Setting, SettingChange};

/// Lines per document and direction before "and more".
pub const MAX_LINES: usize = 6;
/// Values of one field shown in a line before "+N more".
pub const MAX_VALUES: usize = 5;

/// What a document is, independent of the file or address it was read from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct DocKey {
    /// `Lambda execution policy`, `S3BucketManager trust`, `PHR bucket policy`, ...
    pub document: String,
    /// The storage account, for the per-account documents.
    pub account: Option<String>,
}

/// One document as a source of a side has it.
#[derive(Debug, Clone, PartialEq)]
pub struct Src {
    /// Where it was read from (`policies/x.json`, a Terraform address, a template resource, `render`).
    pub source: String,
    pub doc: PolicyDocument,
}

/// Every source's copy of one document, and what the decision ranges over.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    pub kind: Kind,
    /// The role an identity policy is attached to.
    pub holder: Option<String>,
    /// Wildcard patterns of the resources a resource policy governs (empty: any).
    pub resources: Vec<String>,
    pub docs: Vec<Src>,
}

/// What ships for one environment at one revision.
#[derive(Debug, Clone)]
pub struct Side {
    pub env: Environment,
    pub docs: BTreeMap<DocKey, Slot>,
    pub settings: Vec<Setting>,
    /// Every resource's table settings as the readers found them (`audit::settings::TABLE`).
    pub table: Vec<crate::audit::settings::Res>,
    /// The same of the spec's render by this xacct (empty when it cannot be rendered).
    pub floor: Vec<crate::audit::settings::Res>,
    /// Committed files that differ from the render of the spec (working tree only).
    pub stale: Vec<String>,
    /// Committed files the readers could not read ("cannot decide" for what they hold).
    pub unreadable: Vec<String>,
    /// How the side was built, when it is not the committed files plus the render.
    pub note: Option<String>,
}

pub const LAMBDA_TRUST: &str = "Lambda execution role trust";
pub const LAMBDA_EXECUTION: &str = "Lambda execution policy";
pub const STORAGE_TRUST: &str = "S3BucketManager trust";
pub const STORAGE_MANAGEMENT: &str = "S3BucketManagement policy";
pub const PHR_BUCKET: &str = "PHR bucket policy";
pub const LOG_BUCKET: &str = "log bucket policy";
pub const CUSTOMER_BUCKET: &str = "customer bucket policy";
pub const FUNCTION_URL: &str = "function URL policy";
pub const KMS_KEY: &str = "KMS key policy";
/// A permissions boundary caps what its role may do and grants nothing: its
/// lines are shown, at severity info, and not counted as new or removed access.
pub const BOUNDARY: &str = "Lambda execution role permissions boundary";
pub const DEPLOYER: &str = "deployer policy";

/// The keys a key policy governs: the primary account's keys in the region.
fn key_arns(env: &Environment) -> String {
    format!("arn:aws:kms:{}:{}:key/*", env.region, env.primary_account)
}

/// The principal the deployer policy is evaluated for: the spec's first
/// deployer, else an illustrative role in the primary account.
fn deployer(env: &Environment) -> String {
    env.deployers
        .first()
        .cloned()
        .unwrap_or_else(|| format!("arn:aws:iam::{}:role/deployer", env.primary_account))
}

impl Side {
    /// A side from its spec, the committed files of `generated/<short_name>/`
    /// (`(path relative to that folder, text)`; `None`: none committed) and,
    /// on the working tree, the render of the spec by this binary.
    pub fn build(
        env: Environment,
        committed: Option<&[(String, String)]>,
        rendered: Option<&[RenderedFile]>,
    ) -> Side {
        let mut inputs: Vec<Input> = Vec::new();
        let mut stale = Vec::new();
        let mut unreadable = Vec::new();
        let mut note = None;
        if rendered.is_some() || committed.is_none() {
            inputs.push(Input::from_env(&env));
        }
        let dir = format!("generated/{}", env.short_name);
        if let Some(files) = committed {
            let files: Vec<(String, String)> = files
                .iter()
                .filter(|(p, _)| !p.ends_with(crate::render::MANIFEST))
                .map(|(p, t)| (format!("{dir}/{p}"), t.clone()))
                .collect();
            let s = shipped::read(&dir, &files, &env);
            unreadable.extend(s.findings.iter().map(|f| f.message.clone()));
            inputs.extend(s.inputs);
            if let Some(rendered) = rendered {
                stale = disagreeing(&files, rendered, &dir);
            }
        } else {
            note = Some(format!(
                "no committed {dir}/: the documents are the spec rendered by this xacct"
            ));
        }
        let mut docs = BTreeMap::new();
        for (i, input) in inputs.iter().enumerate() {
            collect(input, &env, i == 0 && rendered.is_some(), &mut docs);
        }
        let settings = settings::extract(&env, &inputs);
        let table = inputs.iter().flat_map(|i| i.settings.clone()).collect();
        let floor = match rendered {
            Some(files) => crate::audit::Floor::of(&env, files).settings,
            None => crate::audit::Floor::build(&env)
                .map(|f| f.settings)
                .unwrap_or_default(),
        };
        Side {
            env,
            docs,
            settings,
            table,
            floor,
            stale,
            unreadable,
            note,
        }
    }
}

/// Paths (under `dir`) where the committed files and the render disagree.
fn disagreeing(files: &[(String, String)], rendered: &[RenderedFile], dir: &str) -> Vec<String> {
    let committed: BTreeMap<&str, &str> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for f in rendered {
        let p = format!("{dir}/{}", f.path.display()).replace('\\', "/");
        if p.ends_with(crate::render::MANIFEST) {
            continue;
        }
        if committed.get(p.as_str()) != Some(&f.contents.as_str()) {
            out.push(p.clone());
        }
        seen.insert(p);
    }
    for p in committed.keys() {
        if !seen.contains(*p) && !p.ends_with("/.xacct-adopt") && !p.contains("/adopt/") {
            out.push((*p).to_owned());
        }
    }
    out
}

/// `Identity` when no statement names a principal.
fn kind_of(doc: &PolicyDocument) -> Kind {
    if doc
        .statement
        .iter()
        .any(|s| s.principal.is_some() || s.not_principal.is_some())
    {
        Kind::Resource
    } else {
        Kind::Identity
    }
}

fn add(
    out: &mut BTreeMap<DocKey, Slot>,
    key: DocKey,
    kind: Kind,
    holder: Option<String>,
    resources: Vec<String>,
    src: Src,
) {
    let slot = out.entry(key).or_insert_with(|| Slot {
        kind,
        holder,
        resources,
        docs: Vec::new(),
    });
    if !slot.docs.iter().any(|d| d.doc == src.doc) {
        slot.docs.push(src);
    }
}

fn key(document: &str, account: Option<&str>) -> DocKey {
    DocKey {
        document: document.to_owned(),
        account: account.map(str::to_owned),
    }
}

/// The documents of one source, by what they are.
fn collect(input: &Input, env: &Environment, render: bool, out: &mut BTreeMap<DocKey, Slot>) {
    let mut put =
        |k: DocKey, kind: Kind, holder: Option<String>, resources: Vec<String>, d: &Doc| {
            let source = if render {
                format!("render: {}", d.name)
            } else {
                d.name.clone()
            };
            add(
                out,
                k,
                kind,
                holder,
                resources,
                Src {
                    source,
                    doc: d.doc.clone(),
                },
            );
        };
    let lambda_role = env.lambda_role_arn();
    if let Some(d) = &input.lambda_trust {
        put(
            key(LAMBDA_TRUST, None),
            Kind::Resource,
            None,
            vec![lambda_role.clone()],
            d,
        );
    }
    if let Some(d) = &input.lambda_execution {
        put(
            key(LAMBDA_EXECUTION, None),
            Kind::Identity,
            Some(lambda_role.clone()),
            Vec::new(),
            d,
        );
    }
    for s in &input.storage {
        let role = contract::storage_role_arn(&s.account);
        if let Some(d) = &s.trust {
            put(
                key(STORAGE_TRUST, Some(&s.account)),
                Kind::Resource,
                None,
                vec![role.clone()],
                d,
            );
        }
        if let Some(d) = &s.management {
            put(
                key(STORAGE_MANAGEMENT, Some(&s.account)),
                Kind::Identity,
                Some(role.clone()),
                Vec::new(),
                d,
            );
        }
    }
    for b in &input.bucket_policies {
        let what = if b.bucket == env.phr.bucket {
            PHR_BUCKET
        } else if b.bucket == env.phr.log_bucket {
            LOG_BUCKET
        } else {
            CUSTOMER_BUCKET
        };
        let arn = contract::bucket_arn(&b.bucket);
        put(
            key(what, None),
            Kind::Resource,
            None,
            vec![arn.clone(), format!("{arn}/*")],
            &b.doc,
        );
    }
    if let Some(d) = &input.function_url_policy {
        let f = env.function_arn();
        put(
            key(FUNCTION_URL, None),
            Kind::Resource,
            None,
            vec![f.clone(), format!("{f}:*")],
            d,
        );
    }
    if let Some(d) = &input.kms_key_policy {
        put(
            key(KMS_KEY, None),
            Kind::Resource,
            None,
            vec![key_arns(env)],
            d,
        );
    }
    let dir = format!("generated/{}/", env.short_name);
    for d in &input.other_docs {
        let name = d.name.strip_prefix(&dir).unwrap_or(&d.name).to_owned();
        let name = name.strip_prefix("policies/").unwrap_or(&name).to_owned();
        let lower = name.to_ascii_lowercase();
        // The boundary and the deployer policy are read from every source under
        // their own names: one document each, with the role that holds it.
        if name == crate::iam::documents::KMS_KEY_POLICY_FILE {
            put(
                key(KMS_KEY, None),
                Kind::Resource,
                None,
                vec![key_arns(env)],
                d,
            );
            continue;
        }
        if name == "log-bucket-policy.json" {
            let arn = contract::bucket_arn(&env.phr.log_bucket);
            put(
                key(LOG_BUCKET, None),
                Kind::Resource,
                None,
                vec![arn.clone(), format!("{arn}/*")],
                d,
            );
            continue;
        }
        let (name, holder) = if lower.contains("boundary") {
            (BOUNDARY.to_owned(), Some(lambda_role.clone()))
        } else if lower.contains("deployer") && kind_of(&d.doc) == Kind::Identity {
            (DEPLOYER.to_owned(), Some(deployer(env)))
        } else {
            (name, None)
        };
        put(key(&name, None), kind_of(&d.doc), holder, Vec::new(), d);
    }
}

/// How a document's access changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The text changed, the access did not (a rewrite that means the same).
    Equivalent,
    Wider,
    Narrower,
    Both,
    /// The comparison could not be decided: review by hand (never reported as no change).
    Undecided,
}

/// A list of values, cut at [`MAX_VALUES`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shown {
    pub values: Vec<String>,
    /// How many more there are.
    pub more: usize,
}

impl Shown {
    fn of(mut v: Vec<String>) -> Self {
        let more = v.len().saturating_sub(MAX_VALUES);
        v.truncate(MAX_VALUES);
        Shown { values: v, more }
    }

    pub fn text(&self) -> String {
        let mut s = self.values.join(", ");
        if self.more > 0 {
            s.push_str(&format!(" (+{} more)", self.more));
        }
        s
    }
}

/// One readable line of new (or removed) access.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    pub severity: Severity,
    /// The source and statement that grants it (`policies/x.json #1 (Sid)`).
    pub statement: String,
    /// Principals (for an identity policy: the role holding it); values the
    /// other side does not name when there are any, else all of the statement's.
    pub principals: Shown,
    pub actions: Shown,
    pub resources: Shown,
    /// The statement's conditions, which still hold (`ArnLike aws:PrincipalArn = ...`).
    pub conditions: Vec<String>,
    /// A request this side allows and the other side does not (decided, re-checkable).
    pub example: Counterexample,
}

/// One compared document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocChange {
    pub document: String,
    /// Storage accounts this entry stands for (identical documents are decided once).
    pub accounts: Vec<String>,
    pub verdict: Verdict,
    pub new_access: Vec<Line>,
    pub removed_access: Vec<Line>,
    /// More lines than [`MAX_LINES`] exist in this direction.
    pub more_new: bool,
    pub more_removed: bool,
    /// Why it could not be decided, or how the sides were matched.
    pub note: Option<String>,
}

/// Capacity before and after.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacityChange {
    pub accounts_added: Vec<String>,
    pub accounts_removed: Vec<String>,
    pub accounts_before: usize,
    pub accounts_after: usize,
    pub discover_before: bool,
    pub discover_after: bool,
    pub max_per_account_before: u32,
    pub max_per_account_after: u32,
    /// `accounts x max_per_account` (0 in discovery mode: not known offline).
    pub total_before: u64,
    pub total_after: u64,
    /// Buckets needed for the expected customers (`capacity::plan`), when the spec says.
    pub needed_before: Option<u64>,
    pub needed_after: Option<u64>,
}

impl CapacityChange {
    pub fn changed(&self) -> bool {
        !self.accounts_added.is_empty()
            || !self.accounts_removed.is_empty()
            || self.max_per_account_before != self.max_per_account_after
            || self.needed_before != self.needed_after
            || self.discover_before != self.discover_after
    }

    /// The new side holds fewer buckets than its expected customers need.
    pub fn short(&self) -> bool {
        !self.discover_after && self.needed_after.is_some_and(|n| self.total_after < n)
    }
}

/// Whether an environment exists on both sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvStatus {
    Changed,
    Unchanged,
    Added,
    Removed,
}

/// The diff of one environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvDiff {
    pub environment: String,
    pub spec: String,
    pub status: EnvStatus,
    pub documents: Vec<DocChange>,
    pub settings: Vec<SettingChange>,
    pub capacity: CapacityChange,
    /// Committed files of the working tree that differ from the render (both are compared).
    pub stale: Vec<String>,
    /// Committed files that could not be read, per side (`base: ...`, `head: ...`).
    pub unreadable: Vec<String>,
    pub notes: Vec<String>,
}

/// Counts for the verdict line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub new_access: usize,
    pub critical: usize,
    pub removed_access: usize,
    pub settings_weakened: usize,
    pub settings_strengthened: usize,
    pub undecided: usize,
}

impl EnvDiff {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for d in self.documents.iter().filter(|d| d.document != BOUNDARY) {
            c.new_access += d.new_access.len();
            c.critical += d
                .new_access
                .iter()
                .filter(|l| l.severity == Severity::Critical)
                .count();
            c.removed_access += d.removed_access.len();
            c.undecided += usize::from(d.verdict == Verdict::Undecided);
        }
        for s in &self.settings {
            match s.change {
                settings::Change::Weakened => c.settings_weakened += 1,
                settings::Change::Strengthened => c.settings_strengthened += 1,
                settings::Change::Changed => {}
            }
        }
        c
    }

    /// The most severe thing this environment's change does (for ordering and `--fail-on`).
    pub fn worst(&self) -> Option<Severity> {
        let lines = self
            .documents
            .iter()
            .flat_map(|d| d.new_access.iter().map(|l| l.severity))
            .filter(|s| *s > Severity::Info);
        let undecided = self
            .documents
            .iter()
            .filter(|d| d.verdict == Verdict::Undecided)
            .map(|_| Severity::High);
        let weakened = self
            .settings
            .iter()
            .filter(|s| s.change == settings::Change::Weakened)
            .map(|s| s.severity);
        let unreadable = self.unreadable.iter().map(|_| Severity::High);
        lines
            .chain(undecided)
            .chain(weakened)
            .chain(unreadable)
            .max()
    }
}

impl Counts {
    pub fn add(&mut self, o: Counts) {
        self.new_access += o.new_access;
        self.critical += o.critical;
        self.removed_access += o.removed_access;
        self.settings_weakened += o.settings_weakened;
        self.settings_strengthened += o.settings_strengthened;
        self.undecided += o.undecided;
    }

    /// `Grants new access: 2 (1 critical) · removes 1 · settings weakened 0`.
    pub fn verdict(&self) -> String {
        let mut s = format!("Grants new access: {}", self.new_access);
        if self.critical > 0 {
            s.push_str(&format!(" ({} critical)", self.critical));
        }
        s.push_str(&format!(
            " · removes {} · settings weakened {}",
            self.removed_access, self.settings_weakened
        ));
        if self.undecided > 0 {
            s.push_str(&format!(" · cannot decide {}", self.undecided));
        }
        s
    }
}

/// The accounts of the setup (primary, storage, PHR) on either side: principals
/// elsewhere are foreign.
fn own_accounts(envs: &[&Environment]) -> Vec<String> {
    let mut v: Vec<String> = envs
        .iter()
        .flat_map(|e| {
            std::iter::once(e.primary_account.clone())
                .chain(std::iter::once(e.phr.account.clone()))
                .chain(e.storage_accounts.iter().cloned())
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Severity of new access: critical when the example's principal is anonymous
/// or outside the setup's accounts, or when a trust lets a principal other
/// than the intended callers assume a role; high otherwise.
fn severity_of(
    ex: &Counterexample,
    document: &str,
    own: &[String],
    intended: &[String],
) -> Severity {
    let p = ex.principal.as_str();
    if p == "anonymous" || p == "*" {
        return Severity::Critical;
    }
    if !p.starts_with("service:") {
        let foreign = eval::arn_account(p).is_none_or(|a| !own.iter().any(|o| o == a));
        if foreign {
            return Severity::Critical;
        }
    }
    let trust = document == LAMBDA_TRUST
        || document == STORAGE_TRUST
        || ex.action.to_ascii_lowercase().starts_with("sts:assumerole");
    if trust && !intended.iter().any(|i| i == p) {
        return Severity::Critical;
    }
    Severity::High
}

/// The callers the new spec intends to assume roles: the Lambda execution role
/// (into storage accounts), Lambda itself (into the execution role) and the verifiers.
fn intended_callers(env: &Environment) -> Vec<String> {
    let mut v = vec![
        env.lambda_role_arn(),
        "service:lambda.amazonaws.com".to_owned(),
    ];
    v.extend(env.verifiers.iter().cloned());
    v
}

/// Compares one environment. `old`/`new` are `None` for an environment added or removed.
pub fn compare(old: Option<&Side>, new: Option<&Side>, spec: &str) -> EnvDiff {
    let envs: Vec<&Environment> = [old, new].into_iter().flatten().map(|s| &s.env).collect();
    let own = own_accounts(&envs);
    let intended_new = new.map(|s| intended_callers(&s.env)).unwrap_or_default();
    let empty = BTreeMap::new();
    let od = old.map_or(&empty, |s| &s.docs);
    let nd = new.map_or(&empty, |s| &s.docs);
    let mut keys: Vec<&DocKey> = od.keys().chain(nd.keys()).collect();
    keys.sort();
    keys.dedup();
    // Storage documents of an account only one side has are compared with the
    // other side's first storage account: a new account gets the documents every
    // storage account has, and what that grants shows in the execution policy.
    let mut groups: Vec<(DocKey, Vec<String>, Option<String>)> = Vec::new();
    let mut seen: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for k in keys {
        let (o, n) = slots(od, nd, k, old, new);
        let note = match (&k.account, od.get(k), nd.get(k)) {
            (Some(acct), None, Some(_)) => o.map(|_| {
                format!("account {acct} added: compared with the storage accounts' documents on the base side")
            }),
            (Some(acct), Some(_), None) => n.map(|_| {
                format!("account {acct} removed: compared with the storage accounts' documents on the head side")
            }),
            _ => None,
        };
        if let (Some(o), Some(n)) = (o, n)
            && same_docs(o, n)
        {
            continue;
        }
        if k.account.is_some() {
            let fp = (k.document.clone(), fingerprint(o), fingerprint(n));
            if let Some(&i) = seen.get(&fp) {
                groups[i].1.extend(k.account.clone());
                continue;
            }
            seen.insert(fp, groups.len());
        }
        groups.push((k.clone(), k.account.iter().cloned().collect(), note));
    }
    let mut documents = Vec::new();
    for (k, accounts, note) in groups {
        let (o, n) = slots(od, nd, &k, old, new);
        let scope = scope_of(o, n);
        let kind = n.or(o).map_or(Kind::Identity, |s| s.kind);
        let none: Vec<Src> = Vec::new();
        let (odocs, ndocs) = (o.map_or(&none, |s| &s.docs), n.map_or(&none, |s| &s.docs));
        let fixed_holder = matches!(scope.principal, Values::Fixed(_));
        let grants = lines(ndocs, odocs, kind, &scope, |ex| {
            if k.document == BOUNDARY {
                Severity::Info
            } else if kind == Kind::Identity && !fixed_holder {
                Severity::High
            } else {
                severity_of(ex, &k.document, &own, &intended_new)
            }
        });
        // Removed access is reported, never failed on.
        let takes = lines(odocs, ndocs, kind, &scope, |_| Severity::Info);
        let (verdict, note) = match (&grants, &takes) {
            (Err(e), _) | (_, Err(e)) => (
                Verdict::Undecided,
                Some(format!(
                    "cannot decide the access change: {e}; review it by hand"
                )),
            ),
            (Ok(g), Ok(t)) => (
                match (g.0.is_empty(), t.0.is_empty()) {
                    (true, true) => Verdict::Equivalent,
                    (false, true) => Verdict::Wider,
                    (true, false) => Verdict::Narrower,
                    (false, false) => Verdict::Both,
                },
                note,
            ),
        };
        let (new_access, more_new) = grants.unwrap_or_default();
        let (removed_access, more_removed) = takes.unwrap_or_default();
        documents.push(DocChange {
            document: k.document.clone(),
            accounts,
            verdict,
            new_access,
            removed_access,
            more_new,
            more_removed,
            note,
        });
    }
    documents.sort_by(|a, b| {
        rank(b)
            .cmp(&rank(a))
            .then(a.document.cmp(&b.document))
            .then(a.accounts.cmp(&b.accounts))
    });
    let mut settings = settings::compare(
        old.map_or(&[][..], |s| &s.settings),
        new.map_or(&[][..], |s| &s.settings),
    );
    let explained = settings::compare_table(
        old.map_or(&[][..], |s| &s.floor),
        new.map_or(&[][..], |s| &s.floor),
        &[],
    );
    settings.extend(settings::compare_table(
        old.map_or(&[][..], |s| &s.table),
        new.map_or(&[][..], |s| &s.table),
        &explained,
    ));
    settings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then((a.change as u8).cmp(&(b.change as u8)))
            .then(a.setting.cmp(&b.setting))
    });
    let capacity = capacity(old.map(|s| &s.env), new.map(|s| &s.env));
    let status = match (old, new) {
        (None, Some(_)) => EnvStatus::Added,
        (Some(_), None) => EnvStatus::Removed,
        _ if documents.is_empty() && settings.is_empty() && !capacity.changed() => {
            EnvStatus::Unchanged
        }
        _ => EnvStatus::Changed,
    };
    let mut unreadable = Vec::new();
    let mut notes = Vec::new();
    for (label, s) in [("base", old), ("head", new)] {
        if let Some(s) = s {
            unreadable.extend(s.unreadable.iter().map(|u| format!("{label}: {u}")));
            notes.extend(s.note.iter().map(|n| format!("{label}: {n}")));
        }
    }
    EnvDiff {
        environment: new.or(old).map(|s| s.env.name.clone()).unwrap_or_default(),
        spec: spec.to_owned(),
        status,
        documents,
        settings,
        capacity,
        stale: new.map(|s| s.stale.clone()).unwrap_or_default(),
        unreadable,
        notes,
    }
}

/// The slots a document (by key) is decided with: for a storage account only
/// one side has, the other side's first storage account's.
pub fn slots<'a>(
    od: &'a BTreeMap<DocKey, Slot>,
    nd: &'a BTreeMap<DocKey, Slot>,
    k: &DocKey,
    old: Option<&Side>,
    new: Option<&Side>,
) -> (Option<&'a Slot>, Option<&'a Slot>) {
    let tmpl = |docs: &'a BTreeMap<DocKey, Slot>, side: Option<&Side>| -> Option<&'a Slot> {
        let a = side.and_then(|s| s.env.storage_accounts.first().cloned());
        a.and_then(|a| docs.get(&key(&k.document, Some(&a))))
            .or_else(|| {
                docs.iter()
                    .find(|(kk, _)| kk.document == k.document && kk.account.is_some())
                    .map(|(_, s)| s)
            })
    };
    match (&k.account, od.get(k), nd.get(k)) {
        (Some(_), None, Some(n)) => (tmpl(od, old), Some(n)),
        (Some(_), Some(o), None) => (Some(o), tmpl(nd, new)),
        (_, o, n) => (o, n),
    }
}

fn same_docs(a: &Slot, b: &Slot) -> bool {
    a.docs.len() == b.docs.len() && a.docs.iter().all(|d| b.docs.iter().any(|e| e.doc == d.doc))
}

fn fingerprint(s: Option<&Slot>) -> String {
    let mut v: Vec<String> = s
        .map(|s| s.docs.iter().map(|d| d.doc.to_compact_json()).collect())
        .unwrap_or_default();
    v.sort();
    v.join("\n")
}

fn rank(d: &DocChange) -> (Option<Severity>, usize, usize) {
    let worst = d
        .new_access
        .iter()
        .map(|l| l.severity)
        .max()
        .or((d.verdict == Verdict::Undecided).then_some(Severity::High));
    (worst, d.new_access.len(), d.removed_access.len())
}

/// The scope of a document's question: the union of both sides' resources,
/// the holder when both sides agree on it.
fn scope_of(o: Option<&Slot>, n: Option<&Slot>) -> Scope {
    let mut scope = Scope::open();
    let holders: Vec<&String> = [o, n]
        .into_iter()
        .flatten()
        .filter_map(|s| s.holder.as_ref())
        .collect();
    if let Some(h) = holders.first()
        && holders.iter().all(|x| x == h)
    {
        scope = scope.principal(Values::Fixed((*h).clone()));
    }
    let slots: Vec<&Slot> = [o, n].into_iter().flatten().collect();
    if !slots.is_empty() && slots.iter().all(|s| !s.resources.is_empty()) {
        let mut r: Vec<String> = slots.iter().flat_map(|s| s.resources.clone()).collect();
        r.sort();
        r.dedup();
        scope = scope.resource(Values::Like(r));
    }
    scope
}

/// The lines of access `this` allows and `other` does not, with whether more exist.
fn lines(
    this: &[Src],
    other: &[Src],
    kind: Kind,
    scope: &Scope,
    severity: impl Fn(&Counterexample) -> Severity,
) -> Result<(Vec<Line>, bool), decide::Undecided> {
    let mut out = Vec::new();
    // Statements already described: excluded from the next question.
    let mut described: Vec<PolicyDocument> = Vec::new();
    for (i, src) in this.iter().enumerate() {
        if other.iter().any(|o| o.doc == src.doc) || this[..i].iter().any(|d| d.doc == src.doc) {
            continue;
        }
        loop {
            let must = [Named {
                name: &src.source,
                kind,
                doc: &src.doc,
            }];
            let others: Vec<[Named<'_>; 1]> = other
                .iter()
                .map(|o| {
                    [Named {
                        name: &o.source,
                        kind,
                        doc: &o.doc,
                    }]
                })
                .chain(described.iter().map(|d| {
                    [Named {
                        name: "described",
                        kind,
                        doc: d,
                    }]
                }))
                .collect();
            let must_not: Vec<&[Named<'_>]> = others.iter().map(|a| &a[..]).collect();
            let req = match decide::find(&[&must], &must_not, scope) {
                Answer::Empty => break,
                Answer::Unknown(e) => {
                    return Err(decide::Undecided(format!("{}: {e}", src.source)));
                }
                Answer::Witness(r) => r,
            };
            if out.len() == MAX_LINES {
                return Ok((out, true));
            }
            let Some(idx) = allowing_statement(&must, &req) else {
                return Err(decide::Undecided(format!(
                    "{}: the decision's example is not allowed by the plain evaluator",
                    src.source
                )));
            };
            let st = &src.doc.statement[idx];
            let example = Counterexample::of(&req);
            out.push(Line {
                severity: severity(&example),
                statement: format!("{} {}", src.source, crate::audit::label(st, idx)),
                principals: principals_of(st, kind, scope, other),
                actions: narrowed(
                    values(st.action.as_ref(), st.not_action.as_ref(), "NotAction"),
                    other,
                    |s| values(s.action.as_ref(), s.not_action.as_ref(), "NotAction"),
                    true,
                ),
                resources: narrowed(
                    values(
                        st.resource.as_ref(),
                        st.not_resource.as_ref(),
                        "NotResource",
                    ),
                    other,
                    |s| values(s.resource.as_ref(), s.not_resource.as_ref(), "NotResource"),
                    false,
                ),
                conditions: conditions(st),
                example,
            });
            described.push(PolicyDocument::new(vec![st.clone()]));
        }
    }
    Ok((out, false))
}

/// The first Allow statement of `must` that allows `req`.
fn allowing_statement(must: &[Named<'_>], req: &Request) -> Option<usize> {
    let d = eval::evaluate(must, req);
    if !d.allowed() {
        return None;
    }
    d.statements.first().map(|s| s.index)
}

fn values(
    v: Option<&crate::iam::Values>,
    not: Option<&crate::iam::Values>,
    not_name: &str,
) -> Vec<String> {
    match (v, not) {
        (Some(v), _) => v.iter().map(str::to_owned).collect(),
        (None, Some(n)) => vec![format!(
            "{not_name} {}",
            n.iter().collect::<Vec<_>>().join(", ")
        )],
        (None, None) => Vec::new(),
    }
}

/// The values of `mine` the other side's Allow statements do not name (when
/// there are any), else all of them.
fn narrowed(
    mine: Vec<String>,
    other: &[Src],
    field: impl Fn(&Statement) -> Vec<String>,
    ignore_case: bool,
) -> Shown {
    let norm = |s: &str| {
        if ignore_case {
            s.to_ascii_lowercase()
        } else {
            s.to_owned()
        }
    };
    let theirs: std::collections::BTreeSet<String> = other
        .iter()
        .flat_map(|o| o.doc.statement.iter())
        .filter(|s| s.effect == Some(Effect::Allow))
        .flat_map(&field)
        .map(|v| norm(&v))
        .collect();
    let fresh: Vec<String> = mine
        .iter()
        .filter(|v| !theirs.contains(&norm(v)))
        .cloned()
        .collect();
    Shown::of(if fresh.is_empty() { mine } else { fresh })
}

fn principals_of(st: &Statement, kind: Kind, scope: &Scope, other: &[Src]) -> Shown {
    if kind == Kind::Identity {
        return Shown::of(vec![match &scope.principal {
            Values::Fixed(h) => h.clone(),
            _ => "whoever holds the policy".to_owned(),
        }]);
    }
    let flat = |p: Option<&crate::iam::Principal>, prefix: &str| -> Vec<String> {
        match p {
            None => Vec::new(),
            Some(crate::iam::Principal::Any) => vec![format!("{prefix}*")],
            Some(crate::iam::Principal::Map(m)) => m
                .iter()
                .flat_map(|(t, v)| {
                    v.iter().map(move |x| match t.as_str() {
                        "AWS" => format!("{prefix}{x}"),
                        _ => format!("{prefix}{t}:{x}"),
                    })
                })
                .collect(),
        }
    };
    let mine: Vec<String> = flat(st.principal.as_ref(), "")
        .into_iter()
        .chain(flat(st.not_principal.as_ref(), "NotPrincipal "))
        .collect();
    narrowed(mine, other, |s| flat(s.principal.as_ref(), ""), false)
}

fn conditions(st: &Statement) -> Vec<String> {
    st.condition
        .iter()
        .flat_map(|(op, keys)| {
            keys.iter().map(move |(k, v)| {
                format!("{op} {k} = {}", v.iter().collect::<Vec<_>>().join(" | "))
            })
        })
        .collect()
}

/// Accounts and capacity before and after.
pub fn capacity(old: Option<&Environment>, new: Option<&Environment>) -> CapacityChange {
    let accts = |e: Option<&Environment>| e.map(|e| e.storage_accounts.clone()).unwrap_or_default();
    let (oa, na) = (accts(old), accts(new));
    let needed = |e: Option<&Environment>| {
        let e = e?;
        let c = e.capacity.as_ref()?;
        crate::capacity::plan(
            u64::from(c.expected_customers),
            c.growth_factor,
            e.max_buckets_per_account,
            e.s3_bucket_quota,
        )
        .ok()
        .map(|p| p.buckets_needed)
    };
    let total = |e: Option<&Environment>| {
        e.filter(|e| !e.discover).map_or(0, |e| {
            e.storage_accounts.len() as u64 * u64::from(e.max_buckets_per_account)
        })
    };
    CapacityChange {
        accounts_added: na.iter().filter(|a| !oa.contains(a)).cloned().collect(),
        accounts_removed: oa.iter().filter(|a| !na.contains(a)).cloned().collect(),
        accounts_before: oa.len(),
        accounts_after: na.len(),
        discover_before: old.is_some_and(|e| e.discover),
        discover_after: new.is_some_and(|e| e.discover),
        max_per_account_before: old.map_or(0, |e| e.max_buckets_per_account),
        max_per_account_after: new.map_or(0, |e| e.max_buckets_per_account),
        total_before: total(old),
        total_after: total(new),
        needed_before: needed(old),
        needed_after: needed(new),
    }
}
