//! `xacct`: specs -> validated model -> IAM documents -> rendered artifacts,
//! plus the offline audit, the live verifier and onboarding built on them.
//! See ARCHITECTURE.md for the map.

/// A typed error that carries its message (the rule broken, the call that
/// failed and what it said), for library functions whose callers only report
/// it; `From<String>` and `From<&str>` let `?` convert message-producing steps.
#[macro_export]
macro_rules! message_error {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[error("{0}")]
        pub struct $name(pub String);

        impl From<String> for $name {
            fn from(s: String) -> $name {
                $name(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> $name {
                $name(s.to_owned())
            }
        }
    };
}

pub mod adopt;
pub mod audit;
pub mod aws;
pub mod capacity;
pub mod checks;
pub mod cmd;
pub mod diff;
pub use xacct_contract as contract;
pub mod envelope;
pub mod eval;
pub mod iam;
pub mod model;
pub mod onboard;
pub mod org;
pub mod progress;
pub mod render;
pub mod sarif;
pub mod spec;
pub mod verify;
