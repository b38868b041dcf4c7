//! The request-context model: which condition keys AWS always sets, which
//! values a key can take, and the value a counterexample shows for an
//! always-present key no document tests. One table, used by the decision
//! procedure ([`super::decide`]) and by the tests that cross-check it.
//!
//! Sources: the IAM User Guide, "AWS global condition context keys"
//! (`reference_policies_condition-keys.html`): its *Availability* line says
//! "This key is always included in the request context" for each key of
//! [`ALWAYS_PRESENT`]. The principal keys (`aws:PrincipalArn`,
//! `aws:PrincipalAccount`, `aws:PrincipalServiceName`) are modelled on the
//! principal itself (see `decide`), so they are not listed here.

/// Keys (lowercased) that are in the context of every request, with the value
/// a counterexample shows when no document tests the key.
pub const ALWAYS_PRESENT: &[(&str, &str)] = &[
    ("aws:securetransport", "true"),
    ("aws:viaawsservice", "false"),
    ("aws:principalisawsservice", "false"),
    ("aws:requestedregion", "us-east-1"),
    ("aws:currenttime", "2026-01-01T00:00:00Z"),
    ("aws:epochtime", "1767225600"),
];

/// Keys (lowercased) whose value is `true` or `false`.
const BOOLEAN: &[&str] = &[
    "aws:securetransport",
    "aws:viaawsservice",
    "aws:principalisawsservice",
    "aws:multifactorauthpresent",
];

/// Keys AWS sets from what it knows (accounts, ARNs, IDs, regions, service
/// names, the auth type): never the empty string. Every other key is one the
/// caller can influence (tags, `sts:ExternalId`, `s3:prefix`, ...), and may be
/// empty: AWS allows empty tag values, and `s3:prefix` is empty on a plain listing.
const NON_EMPTY: &[&str] = &[
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceowner",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principaltype",
    "aws:resourceaccount",
    "aws:resourceorgid",
    "aws:resourceorgpaths",
    "aws:requestedregion",
    "aws:currenttime",
    "aws:epochtime",
    "aws:sourceip",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:vpcsourceip",
    "aws:userid",
    "aws:username",
    "aws:calledvia",
    "aws:calledviafirst",
    "aws:calledvialast",
    "aws:federatedprovider",
    "aws:tokenissuetime",
    "aws:multifactorauthage",
    "kms:viaservice",
    "kms:calleraccount",
    "lambda:functionurlauthtype",
    "lambda:functionarn",
    "s3:authtype",
    "s3:signatureversion",
    "s3:tlsversion",
    "s3:resourceaccount",
];

/// What values a key can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// `true` or `false`.
    Boolean,
    /// Any string but the empty one.
    NonEmpty,
    /// Any string, the empty one included.
    Any,
}

/// The domain of a condition key (any case).
pub fn domain(key: &str) -> Domain {
    let k = key.to_ascii_lowercase();
    if BOOLEAN.contains(&k.as_str()) {
        Domain::Boolean
    } else if NON_EMPTY.contains(&k.as_str()) {
        Domain::NonEmpty
    } else {
        Domain::Any
    }
}

/// Whether AWS sets the key on every request (any case).
pub fn always_present(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ALWAYS_PRESENT.iter().any(|(a, _)| *a == k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_consistent() {
        assert!(always_present("aws:SecureTransport"));
        assert!(!always_present("aws:PrincipalTag/team"));
        assert_eq!(domain("aws:SecureTransport"), Domain::Boolean);
        assert_eq!(domain("aws:PrincipalTag/team"), Domain::Any);
        assert_eq!(domain("aws:SourceAccount"), Domain::NonEmpty);
        for (k, v) in ALWAYS_PRESENT {
            assert_eq!(*k, k.to_ascii_lowercase());
            match domain(k) {
                Domain::Boolean => assert!(*v == "true" || *v == "false", "{k}"),
                Domain::NonEmpty => assert!(!v.is_empty(), "{k}"),
                Domain::Any => {}
            }
        }
    }
}
