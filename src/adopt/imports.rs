//! Which rendered resources already exist, as Terraform `import` blocks
//! (Terraform >= 1.5) and CloudFormation resources to import, and the files
//! `xacct adopt` writes for them.
//!
//! Files (all under `generated/<env>/`, listed in `.xacct-adopt` so that
//! `--clean` removes exactly them and `render --check` can name them):
//! - `primary/terraform/imports.tf`, `storage/terraform/imports.tf`;
//! - `primary/cloudformation/import/resources.json` and `template.yaml`, and
//!   `storage/cloudformation/import/<account>.json` and `template-<account>.yaml`:
//!   the `--resources-to-import` file and a template holding only the imported
//!   resources (an IMPORT change set may not create anything).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::read::{BucketState, Primary, Storage, storage_policy_arn};
use crate::contract;
use crate::iam::documents::Documents;
use crate::model::Environment;
use crate::render::output::{WriteError, with_path};

/// The manifest of the files `adopt` wrote, relative to `generated/<env>/`.
pub const ADOPT_MANIFEST: &str = ".xacct-adopt";
pub const PRIMARY_ROOT: &str = "primary/terraform";
pub const STORAGE_ROOT: &str = "storage/terraform";
pub const IMPORTS_FILE: &str = "imports.tf";

/// One existing resource that a rendered resource describes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Import {
    /// The Terraform root, relative to `generated/<env>/`.
    pub root: &'static str,
    pub account: String,
    /// Terraform address in that root.
    pub address: String,
    /// Terraform import ID.
    pub id: String,
    /// The same resource in the CloudFormation template, when it is a resource there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloudformation: Option<CfnImport>,
}

/// One entry of `--resources-to-import`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CfnImport {
    pub stack: String,
    #[serde(rename = "LogicalResourceId")]
    pub logical_id: String,
    #[serde(rename = "ResourceType")]
    pub resource_type: &'static str,
    #[serde(rename = "ResourceIdentifier")]
    pub identifier: BTreeMap<String, String>,
}

fn cfn(stack: &str, logical: &str, ty: &'static str, key: &str, value: &str) -> Option<CfnImport> {
    Some(CfnImport {
        stack: stack.to_owned(),
        logical_id: logical.to_owned(),
        resource_type: ty,
        identifier: BTreeMap::from([(key.to_owned(), value.to_owned())]),
    })
}

/// `InvokeFunctionUrl0` -> `invoke_function_url_0` (the renderer's resource names).
pub fn snake(s: &str) -> String {
    let mut out = String::new();
    let mut prev_digit = false;
    for (i, c) in s.chars().enumerate() {
        if (c.is_ascii_uppercase() || (c.is_ascii_digit() && !prev_digit)) && i > 0 {
            out.push('_');
        }
        prev_digit = c.is_ascii_digit();
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The Sids of the rendered function permissions.
pub fn rendered_sids(docs: &Documents) -> Vec<String> {
    docs.function_url_policy
        .statement
        .iter()
        .filter_map(|s| s.sid.clone())
        .collect()
}

fn bucket_imports(
    out: &mut Vec<Import>,
    root: &'static str,
    account: &str,
    module: &str,
    b: &BucketState,
    stack: &str,
) {
    let mut push = |res: &str, present: bool, cf: Option<CfnImport>| {
        if present {
            out.push(Import {
                root,
                account: account.to_owned(),
                address: format!("{module}.{res}.this"),
                id: b.name.clone(),
                cloudformation: cf,
            });
        }
    };
    push(
        "aws_s3_bucket",
        true,
        cfn(stack, "PhrBucket", "AWS::S3::Bucket", "BucketName", &b.name),
    );
    push(
        "aws_s3_bucket_public_access_block",
        b.public_access_block,
        None,
    );
    push(
        "aws_s3_bucket_ownership_controls",
        b.ownership_controls,
        None,
    );
    push(
        "aws_s3_bucket_server_side_encryption_configuration",
        b.encryption,
        None,
    );
    push("aws_s3_bucket_versioning", b.versioning, None);
    push(
        "aws_s3_bucket_policy",
        b.policy.is_some(),
        cfn(
            stack,
            "PhrBucketPolicy",
            "AWS::S3::BucketPolicy",
            "Bucket",
            &b.name,
        ),
    );
}

/// The imports of the primary root.
pub fn primary(env: &Environment, docs: &Documents, p: &Primary) -> Vec<Import> {
    let mut out = Vec::new();
    let stack = env.primary_stack_name();
    let acct = &p.account;
    let mut push = |address: String, id: String, cf: Option<CfnImport>| {
        out.push(Import {
            root: PRIMARY_ROOT,
            account: acct.clone(),
            address,
            id,
            cloudformation: cf,
        })
    };
    let role = env.lambda_role_name();
    if let Some(r) = &p.role {
        push(
            "aws_iam_role.lambda_execution".into(),
            role.clone(),
            cfn(&stack, "ExecutionRole", "AWS::IAM::Role", "RoleName", &role),
        );
        let inline = format!("{}-permissions", env.lambda.function_name);
        if r.inline.iter().any(|(n, _)| *n == inline) {
            push(
                "aws_iam_role_policy.lambda_execution".into(),
                format!("{role}:{inline}"),
                None,
            );
        }
    }
    if p.log_group {
        let name = env.log_group_name();
        push(
            "aws_cloudwatch_log_group.lambda".into(),
            name.clone(),
            cfn(
                &stack,
                "LogGroup",
                "AWS::Logs::LogGroup",
                "LogGroupName",
                &name,
            ),
        );
    }
    if let Some(f) = &p.function {
        push(
            "aws_lambda_function.provisioner".into(),
            f.name.clone(),
            cfn(
                &stack,
                "Function",
                "AWS::Lambda::Function",
                "FunctionName",
                &f.name,
            ),
        );
        if f.url_auth.is_some() {
            push(
                "aws_lambda_function_url.provisioner".into(),
                f.name.clone(),
                cfn(
                    &stack,
                    "FunctionUrl",
                    "AWS::Lambda::Url",
                    "FunctionArn",
                    &f.arn,
                ),
            );
        }
        let existing: Vec<&str> = f
            .policy
            .iter()
            .flat_map(|d| d.statement.iter().filter_map(|s| s.sid.as_deref()))
            .collect();
        for sid in rendered_sids(docs) {
            if existing.contains(&sid.as_str()) {
                push(
                    format!("aws_lambda_permission.{}", snake(&sid)),
                    format!("{}/{sid}", f.name),
                    None,
                );
            }
        }
    }
    if let Some(b) = &p.phr {
        bucket_imports(&mut out, PRIMARY_ROOT, acct, "module.phr_bucket", b, &stack);
    }
    out
}

/// The imports of one storage account in the storage root.
pub fn storage(env: &Environment, s: &Storage) -> Vec<Import> {
    let mut out = Vec::new();
    let stack = env.storage_stack_name();
    let module = format!("module.account_{}", s.account);
    let policy_arn = storage_policy_arn(&s.account);
    let role = contract::STORAGE_ROLE_NAME;
    let mut push = |res: &str, id: String, cf: Option<CfnImport>| {
        out.push(Import {
            root: STORAGE_ROOT,
            account: s.account.clone(),
            address: format!("{module}.{res}"),
            id,
            cloudformation: cf,
        })
    };
    if s.role.is_some() {
        push(
            "aws_iam_role.s3_bucket_manager",
            role.to_owned(),
            cfn(&stack, role, "AWS::IAM::Role", "RoleName", role),
        );
    }
    if s.policy.is_some() {
        push(
            "aws_iam_policy.s3_bucket_management",
            policy_arn.clone(),
            cfn(
                &stack,
                contract::STORAGE_POLICY_NAME,
                "AWS::IAM::ManagedPolicy",
                "PolicyArn",
                &policy_arn,
            ),
        );
    }
    if let Some(r) = &s.role
        && r.attached.iter().any(|(a, _)| *a == policy_arn)
    {
        push(
            "aws_iam_role_policy_attachment.s3_bucket_management",
            format!("{role}/{policy_arn}"),
            None,
        );
    }
    if let Some(b) = &s.phr {
        bucket_imports(
            &mut out,
            STORAGE_ROOT,
            &s.account,
            &format!("{module}.module.phr_bucket[0]"),
            b,
            &stack,
        );
    }
    out
}

/// `imports.tf` of one root; `None` when nothing there exists.
pub fn imports_tf(spec: &str, imports: &[&Import]) -> Option<String> {
    if imports.is_empty() {
        return None;
    }
    let mut s = format!(
        "# Written by `xacct adopt` from the environment spec `{spec}`: resources that\n\
         # already exist, so that `terraform apply` imports them instead of creating them\n\
         # (Terraform >= 1.5). Remove with `xacct adopt --clean` after the apply.\n"
    );
    let mut account = "";
    for i in imports {
        if i.account != account && i.root == STORAGE_ROOT {
            s.push_str(&format!("\n# Account {}\n", i.account));
        }
        account = &i.account;
        s.push_str(&format!(
            "\nimport {{\n  to = {}\n  id = {}\n}}\n",
            i.address,
            hcl_string(&i.id)
        ));
    }
    Some(s)
}

fn hcl_string(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '$' => o.push_str("$$"),
            '%' => o.push_str("%%"),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// The resources of a CloudFormation template (top-level keys under
/// `Resources:`) as `(logical id, text of the block)`, and the text before and
/// after the section.
fn template_blocks(template: &str) -> (String, Vec<(String, String)>, String) {
    let mut head = String::new();
    let mut tail = String::new();
    let mut blocks: Vec<(String, String)> = Vec::new();
    let mut state = 0; // 0 head, 1 resources, 2 tail
    for line in template.lines() {
        match state {
            0 => {
                head.push_str(line);
                head.push('\n');
                if line == "Resources:" {
                    state = 1;
                }
            }
            1 => {
                if !line.is_empty() && !line.starts_with(' ') {
                    state = 2;
                    tail.push_str(line);
                    tail.push('\n');
                } else if let Some(id) = line
                    .strip_prefix("  ")
                    .filter(|l| !l.starts_with(' '))
                    .and_then(|l| l.strip_suffix(':'))
                {
                    blocks.push((id.to_owned(), format!("{line}\n")));
                } else if let Some((_, b)) = blocks.last_mut() {
                    b.push_str(line);
                    b.push('\n');
                }
            }
            _ => {
                tail.push_str(line);
                tail.push('\n');
            }
        }
    }
    (head, blocks, tail)
}

/// The template for an IMPORT change set: only the resources to import (an
/// IMPORT change set cannot create anything), no outputs, `DependsOn` on
/// resources left out dropped. Returns the template and the logical IDs that
/// cannot be imported in this step because they reference a resource that
/// does not exist yet.
pub fn import_template(template: &str, ids: &[String]) -> (String, Vec<String>) {
    let (head, blocks, _tail) = template_blocks(template);
    let all: Vec<&str> = blocks.iter().map(|(id, _)| id.as_str()).collect();
    let mut keep: Vec<String> = ids.to_vec();
    // A kept resource that references a resource not kept cannot be imported now.
    let mut blocked = Vec::new();
    loop {
        let mut changed = false;
        for (id, text) in &blocks {
            if !keep.contains(id) {
                continue;
            }
            // A `Key: !Ref Missing` line is dropped from the import template
            // (an import does not compare properties; the stack update after
            // it sets them); a reference inside a list or a `!Sub` blocks.
            let refs_missing = all.iter().any(|other| {
                !keep.iter().any(|k| k == other)
                    && text
                        .lines()
                        .any(|l| references(l, other) && droppable(l, other).is_none())
            });
            if refs_missing {
                keep.retain(|k| k != id);
                blocked.push(id.clone());
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut out = head;
    for (id, text) in &blocks {
        if !keep.contains(id) {
            continue;
        }
        let mut t = String::new();
        for line in text.lines() {
            if let Some(dep) = line.trim().strip_prefix("DependsOn: ")
                && !keep.iter().any(|k| k == dep.trim())
            {
                continue;
            }
            if line.trim().starts_with("- ")
                && all
                    .iter()
                    .any(|o| !keep.iter().any(|k| k == o) && line.trim() == format!("- {o}"))
            {
                continue; // a `DependsOn` list item naming a resource left out
            }
            if all
                .iter()
                .any(|o| !keep.iter().any(|k| k == o) && droppable(line, o).is_some())
            {
                continue;
            }
            t.push_str(line);
            t.push('\n');
        }
        out.push_str(&t);
    }
    (out, blocked)
}

/// Whether a template line refers to resource `id`.
fn references(line: &str, id: &str) -> bool {
    line.contains(&format!("!GetAtt {id}."))
        || line.trim_end().ends_with(&format!("!Ref {id}"))
        || line.contains(&format!("!Ref {id} "))
        || line.contains(&format!("${{{id}}}"))
        || line.contains(&format!("${{{id}."))
}

/// `Some(())` when the line is a whole `Key: !Ref id` / `Key: !GetAtt id.Attr`
/// property that can be left out of an import template.
fn droppable(line: &str, id: &str) -> Option<()> {
    let (key, value) = line.trim().split_once(": ")?;
    if key.is_empty() || key.starts_with('-') || key.contains(' ') {
        return None;
    }
    let v = value.trim();
    (v == format!("!Ref {id}") || (v.starts_with(&format!("!GetAtt {id}.")) && !v.contains(' ')))
        .then_some(())
}

/// One file `adopt` writes: path relative to `generated/<env>/`, contents.
#[derive(Debug, Clone, PartialEq)]
pub struct AdoptFile {
    pub path: PathBuf,
    pub contents: String,
}

/// Files listed in `generated/<env>/.xacct-adopt` (relative paths).
pub fn adopt_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_to_string(dir.join(ADOPT_MANIFEST))
        .map(|t| {
            t.lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .filter(|l| !l.contains("..") && !l.starts_with('/'))
                .map(PathBuf::from)
                .collect()
        })
        .unwrap_or_default()
}

/// `render --check`: each file `adopt` wrote under `dir` that exists, with
/// why it is stale (`None`: current). An import into a storage account that
/// the spec no longer lists is stale (Terraform would reject the block).
pub fn check(dir: &Path, env: &Environment) -> Vec<(PathBuf, Option<String>)> {
    let mut out = Vec::new();
    for rel in adopt_files(dir) {
        let path = dir.join(&rel);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let gone: Vec<&str> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("to = module.account_"))
            .filter_map(|l| l.split('.').next())
            .filter(|a| !env.storage_accounts.iter().any(|s| s == a))
            .collect();
        let stale = (!gone.is_empty())
            .then(|| format!("imports into account(s) {gone:?} that the spec no longer lists"));
        out.push((path, stale));
    }
    out
}

/// Writes `files` under `dir` (only those that differ), removes files a
/// previous `adopt` wrote that are no longer wanted, and rewrites the adopt
/// manifest. Returns `(written, removed)`.
pub fn write(dir: &Path, files: &[AdoptFile]) -> Result<(Vec<PathBuf>, Vec<PathBuf>), WriteError> {
    let old = adopt_files(dir);
    let mut written = Vec::new();
    let mut removed = Vec::new();
    for f in files {
        let path = dir.join(&f.path);
        if std::fs::read_to_string(&path).is_ok_and(|c| c == f.contents) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| with_path(e, parent))?;
        }
        crate::render::output::write_atomic(&path, &f.contents)?;
        written.push(path);
    }
    for o in old {
        if !files.iter().any(|f| f.path == o) {
            let path = dir.join(&o);
            if path.is_file() {
                std::fs::remove_file(&path).map_err(|e| with_path(e, &path))?;
                removed.push(path);
            }
        }
    }
    let manifest = dir.join(ADOPT_MANIFEST);
    if files.is_empty() {
        if manifest.is_file() {
            std::fs::remove_file(&manifest).map_err(|e| with_path(e, &manifest))?;
        }
    } else {
        let mut m =
            String::from("# Files written by `xacct adopt` (removed by `xacct adopt --clean`).\n");
        for f in files {
            m.push_str(&f.path.to_string_lossy());
            m.push('\n');
        }
        if std::fs::read_to_string(&manifest).ok().as_deref() != Some(m.as_str()) {
            std::fs::write(&manifest, m).map_err(|e| with_path(e, &manifest))?;
        }
    }
    cleanup_empty_dirs(dir);
    Ok((written, removed))
}

fn cleanup_empty_dirs(dir: &Path) {
    for d in [
        "primary/cloudformation/import",
        "storage/cloudformation/import",
    ] {
        let p = dir.join(d);
        if p.read_dir().is_ok_and(|mut r| r.next().is_none()) {
            let _ = std::fs::remove_dir(&p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_matches_the_renderer() {
        assert_eq!(snake("InvokeFunctionUrl0"), "invoke_function_url_0");
        assert_eq!(snake("InvokeFunction12"), "invoke_function_12");
    }

    #[test]
    fn import_template_keeps_only_imported_resources_and_drops_dangling_depends_on() {
        let t = "Parameters:\n  X:\n    Type: String\n\nResources:\n  Role:\n    Type: AWS::IAM::Role\n\n  LogGroup:\n    Type: AWS::Logs::LogGroup\n\n  Function:\n    Type: AWS::Lambda::Function\n    DependsOn: LogGroup\n    Properties:\n      Role: !GetAtt Role.Arn\n\nOutputs:\n  A:\n    Value: !Ref Function\n";
        let (out, blocked) = import_template(t, &["Role".into(), "Function".into()]);
        assert!(blocked.is_empty());
        assert!(out.contains("  Role:\n") && out.contains("  Function:\n"));
        assert!(!out.contains("LogGroup") && !out.contains("Outputs"));
        let (out, blocked) = import_template(t, &["Function".into()]);
        assert_eq!(blocked, vec!["Function".to_owned()]);
        assert!(!out.contains("Function:"));
    }

    #[test]
    fn hcl_strings_escape_interpolation() {
        assert_eq!(hcl_string("a${b}\"%{"), "\"a$${b}\\\"%%{\"");
    }
}
