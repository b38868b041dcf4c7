//! `xacct`: specs -> validated model -> IAM documents -> rendered artifacts,
//! plus the offline audit, the live verifier and onboarding built on them.
//! See ARCHITECTURE.md for the map.

pub mod adopt;
pub mod audit;
pub mod aws;
pub mod capacity;
pub mod checks;
pub mod cmd;
pub use xacct_contract as contract;
pub mod envelope;
pub mod eval;
pub mod iam;
pub mod model;
pub mod onboard;
pub mod progress;
pub mod render;
pub mod sarif;
pub mod spec;
pub mod verify;
