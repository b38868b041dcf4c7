//! Beyond policies: the resource attributes the setup relies on, read from
//! plans, CloudFormation templates and the committed Terraform. Buckets
//! (Block Public Access, object ownership, default encryption, the PHR
//! bucket's versioning), the function URL's CORS, and Lambda invoke
//! permissions (principal, source conditions, URL auth type). Pure: values in,
//! findings out.

use super::{Check, Finding, Input};

pub use crate::checks::attributes::*;

/// Where a resource comes from: a plan address or template logical ID, and
/// the file and line when known.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Place {
    pub name: String,
    pub file: Option<String>,
    pub line: Option<usize>,
}

impl Place {
    pub fn new(name: impl Into<String>) -> Self {
        Place {
            name: name.into(),
            ..Place::default()
        }
    }

    pub fn at(name: impl Into<String>, file: &str, line: Option<usize>) -> Self {
        Place {
            name: name.into(),
            file: Some(file.to_owned()),
            line,
        }
    }
}

/// The four Block Public Access flags; a flag that is not set is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlockPublic {
    pub block_public_acls: bool,
    pub block_public_policy: bool,
    pub ignore_public_acls: bool,
    pub restrict_public_buckets: bool,
}

impl BlockPublic {
    /// The names of the flags that are off.
    pub fn off(&self) -> Vec<&'static str> {
        [
            ("BlockPublicAcls", self.block_public_acls),
            ("BlockPublicPolicy", self.block_public_policy),
            ("IgnorePublicAcls", self.ignore_public_acls),
            ("RestrictPublicBuckets", self.restrict_public_buckets),
        ]
        .into_iter()
        .filter(|(_, on)| !on)
        .map(|(n, _)| n)
        .collect()
    }
}

/// An S3 bucket and the settings that protect it (`None`: not configured).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Bucket {
    pub place: Place,
    pub account: String,
    pub bucket: String,
    pub block_public: Option<BlockPublic>,
    pub ownership: Option<String>,
    /// The default encryption's SSE algorithm.
    pub encryption: Option<String>,
    /// `Enabled`, `Suspended`, `Disabled`.
    pub versioning: Option<String>,
    /// Where each setting is written (a separate Terraform resource, a template
    /// property), when it is not at the bucket itself: `block_public`,
    /// `ownership`, `encryption`, `versioning`.
    pub settings_at: Vec<(&'static str, Place)>,
}

impl Bucket {
    /// Where setting `what` is written, else the bucket.
    pub fn at(&self, what: &str) -> &Place {
        self.settings_at
            .iter()
            .find(|(k, _)| *k == what)
            .map_or(&self.place, |(_, p)| p)
    }
}

/// A function URL's CORS configuration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cors {
    pub place: Place,
    pub account: String,
    pub allow_origins: Vec<String>,
    pub allow_credentials: bool,
}

/// One Lambda invoke permission.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Permission {
    pub place: Place,
    pub account: String,
    pub action: String,
    pub principal: String,
    pub source_arn: Option<String>,
    pub source_account: Option<String>,
    pub principal_org_id: Option<String>,
    pub function_url_auth_type: Option<String>,
    /// `InvokedViaFunctionUrl` (CloudFormation) / `invoked_via_function_url`
    /// (Terraform provider 6.x); `None` where the source cannot express it
    /// (Terraform provider 5.x: the documented gap, docs/runtime.md "Invokers through
    /// the URL only").
    pub invoked_via_function_url: Option<bool>,
}

/// A value the audit could not read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Undecided {
    pub place: Place,
    pub account: String,
    /// What could not be read, and why.
    pub what: String,
    /// The check of the document or setting it belongs to; default [`CANNOT_DECIDE`].
    pub check: Option<&'static str>,
}

fn finding(check: Check, account: &str, place: &Place, message: String) -> Finding {
    Finding {
        counterexample: None,
        check_id: check.id,
        severity: check.severity,
        account: account.to_owned(),
        resource: place.name.clone(),
        message,
        statement: None,
        file: place.file.clone(),
        line: place.line,
    }
}

/// Runs the attribute checks over `input`.
pub fn check(input: &Input, out: &mut Vec<Finding>) {
    let e = &input.expect;
    for b in &input.buckets {
        let who = format!("bucket {}", b.bucket);
        match &b.block_public {
            None => out.push(finding(
                BUCKET_PUBLIC_ACCESS_BLOCK,
                &b.account,
                b.at("block_public"),
                format!("{who} has no Block Public Access configuration"),
            )),
            Some(bp) if !bp.off().is_empty() => out.push(finding(
                BUCKET_PUBLIC_ACCESS_BLOCK,
                &b.account,
                b.at("block_public"),
                format!("{who}: Block Public Access {} off", bp.off().join(", ")),
            )),
            Some(_) => {}
        }
        if b.ownership.as_deref() != Some("BucketOwnerEnforced") {
            out.push(finding(
                BUCKET_OWNERSHIP,
                &b.account,
                b.at("ownership"),
                format!(
                    "{who}: object ownership is {}, must be BucketOwnerEnforced",
                    b.ownership.as_deref().unwrap_or("not set")
                ),
            ));
        }
        let encrypted = b
            .encryption
            .as_deref()
            .is_some_and(|a| matches!(a, "AES256" | "aws:kms" | "aws:kms:dsse"));
        if !encrypted {
            out.push(finding(
                BUCKET_ENCRYPTION,
                &b.account,
                b.at("encryption"),
                format!(
                    "{who}: default encryption is {}, must be AES256 or aws:kms",
                    b.encryption.as_deref().unwrap_or("not configured")
                ),
            ));
        }
        let phr = !e.phr_bucket.is_empty() && b.bucket == e.phr_bucket;
        if phr && b.versioning.as_deref() != Some("Enabled") {
            out.push(finding(
                PHR_VERSIONING,
                &b.account,
                b.at("versioning"),
                format!(
                    "PHR {who}: versioning is {}, must be Enabled",
                    b.versioning.as_deref().unwrap_or("not configured")
                ),
            ));
        }
    }
    for c in &input.url_cors {
        let wild: Vec<&str> = c
            .allow_origins
            .iter()
            .map(String::as_str)
            .filter(|o| o.contains('*'))
            .collect();
        if !wild.is_empty() {
            out.push(finding(
                FUNCTION_URL_CORS,
                &c.account,
                &c.place,
                format!(
                    "function URL CORS allows origin {}{}",
                    wild.join(", "),
                    if c.allow_credentials {
                        " with credentials"
                    } else {
                        ""
                    }
                ),
            ));
        }
    }
    for p in &input.permissions {
        let principal = p.principal.trim();
        let scoped = p.source_arn.is_some() || p.source_account.is_some();
        let wildcard = principal.is_empty() || principal.contains('*');
        let service = principal.ends_with(".amazonaws.com");
        if wildcard && !(scoped || p.principal_org_id.is_some()) {
            out.push(finding(
                INVOKE_PRINCIPAL,
                &p.account,
                &p.place,
                format!(
                    "{} is granted to principal `{}` without SourceArn, SourceAccount or PrincipalOrgID",
                    p.action,
                    if principal.is_empty() { "*" } else { principal }
                ),
            ));
        } else if service && !scoped {
            out.push(finding(
                INVOKE_PRINCIPAL,
                &p.account,
                &p.place,
                format!(
                    "{} is granted to service {principal} without SourceArn or SourceAccount (confused deputy)",
                    p.action
                ),
            ));
        }
        let action = p.action.to_ascii_lowercase();
        let covers_url = action == "*"
            || action == "lambda:*"
            || action == "lambda:invokefunctionurl"
            || (action.contains('*')
                && "lambda:invokefunctionurl".starts_with(action.trim_end_matches('*')));
        let auth_iam = p
            .function_url_auth_type
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case("AWS_IAM"));
        let covers_invoke = action == "*"
            || action == "lambda:*"
            || action == "lambda:invokefunction"
            || (action.contains('*')
                && "lambda:invokefunction".starts_with(action.trim_end_matches('*')));
        let aws_principal = !principal.is_empty() && principal != "*" && !service;
        if covers_invoke && aws_principal && p.invoked_via_function_url == Some(false) {
            out.push(finding(
                INVOKE_NOT_VIA_URL,
                &p.account,
                &p.place,
                format!(
                    "{} for {principal} is a plain grant: it also allows a direct Invoke outside the function URL; set InvokedViaFunctionUrl: true (Terraform provider >= 6: invoked_via_function_url = true)",
                    p.action
                ),
            ));
        }
        if covers_url && !auth_iam {
            out.push(finding(
                INVOKE_URL_AUTH,
                &p.account,
                &p.place,
                format!(
                    "{} for {principal}: FunctionUrlAuthType is {}, must be AWS_IAM",
                    p.action,
                    p.function_url_auth_type.as_deref().unwrap_or("not set")
                ),
            ));
        }
    }
    for u in &input.undecided {
        let check = u
            .check
            .and_then(|id| CHECKS.iter().chain(super::CHECKS).find(|c| c.id == id))
            .copied()
            .unwrap_or(CANNOT_DECIDE);
        out.push(finding(check, &u.account, &u.place, u.what.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean_bucket() -> Bucket {
        Bucket {
            place: Place::new("b"),
            account: "1".into(),
            bucket: "phr".into(),
            block_public: Some(BlockPublic {
                block_public_acls: true,
                block_public_policy: true,
                ignore_public_acls: true,
                restrict_public_buckets: true,
            }),
            ownership: Some("BucketOwnerEnforced".into()),
            encryption: Some("AES256".into()),
            versioning: Some("Enabled".into()),
            settings_at: Vec::new(),
        }
    }

    fn ids(input: &Input) -> Vec<&'static str> {
        let mut out = Vec::new();
        check(input, &mut out);
        out.iter().map(|f| f.check_id).collect()
    }

    #[test]
    fn bucket_settings_each_have_their_check() {
        let mut input = Input::default();
        input.expect.phr_bucket = "phr".into();
        input.buckets.push(clean_bucket());
        assert!(ids(&input).is_empty());
        type Case = (fn(&mut Bucket), &'static str);
        let cases: [Case; 5] = [
            (|b| b.block_public = None, "XA042"),
            (
                |b| b.block_public.as_mut().unwrap().restrict_public_buckets = false,
                "XA042",
            ),
            (|b| b.ownership = Some("ObjectWriter".into()), "XA043"),
            (|b| b.encryption = None, "XA044"),
            (|b| b.versioning = Some("Suspended".into()), "XA045"),
        ];
        for (mutate, id) in cases {
            let mut i = input.clone();
            mutate(&mut i.buckets[0]);
            assert_eq!(ids(&i), vec![id]);
        }
    }

    #[test]
    fn permissions_need_scoped_principals_and_iam_auth() {
        let mut input = Input::default();
        let ok = Permission {
            place: Place::new("p"),
            action: "lambda:InvokeFunctionUrl".into(),
            principal: "arn:aws:iam::1:role/x".into(),
            function_url_auth_type: Some("AWS_IAM".into()),
            ..Permission::default()
        };
        input.permissions.push(ok.clone());
        assert!(ids(&input).is_empty());
        input.permissions[0].principal = "*".into();
        assert_eq!(ids(&input), vec!["XA047"]);
        input.permissions[0].source_account = Some("1".into());
        assert!(ids(&input).is_empty());
        input.permissions[0] = Permission {
            function_url_auth_type: None,
            ..ok.clone()
        };
        assert_eq!(ids(&input), vec!["XA048"]);
        input.permissions[0] = Permission {
            principal: "s3.amazonaws.com".into(),
            action: "lambda:InvokeFunction".into(),
            ..ok.clone()
        };
        assert_eq!(ids(&input), vec!["XA047"]);
        // An invoker's plain InvokeFunction (issue 22), where the source can say.
        let invoke = Permission {
            action: "lambda:InvokeFunction".into(),
            function_url_auth_type: None,
            invoked_via_function_url: Some(false),
            ..ok
        };
        input.permissions[0] = invoke.clone();
        assert_eq!(ids(&input), vec!["XA071"]);
        input.permissions[0].action = "lambda:Invoke*".into();
        assert_eq!(ids(&input), vec!["XA071", "XA048"]);
        input.permissions[0] = Permission {
            invoked_via_function_url: Some(true),
            ..invoke.clone()
        };
        assert!(ids(&input).is_empty());
        input.permissions[0] = Permission {
            invoked_via_function_url: None,
            ..invoke
        };
        assert!(
            ids(&input).is_empty(),
            "Terraform provider 5: the documented gap"
        );
    }
}
