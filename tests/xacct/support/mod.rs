//! Test support for the `xacct` integration tests.

pub mod audit_tables; // environments, insecure mutations and equivalent rewrites (also benches/audit.rs)
pub mod cli; // the one runner of the real binary (cwd, environment, schema check)
pub mod fs; // copy a tree (the committed generated/ is never written)
pub mod lambda_proxy; // a loopback endpoint answering Invoke with the real provisioner
pub mod legacy; // the seed's hand-written setup, built in moto (adopt tests)
pub mod live_cli; // the live commands' tests: the binary against moto, a temp dev spec
pub mod sarif; // the official SARIF 2.1.0 schema and GitHub code scanning's requirements
pub mod schema; // docs/schema/xacct-output-v1.json: every --format json the tests produce
pub mod terraform; // the real terraform, offline, against a provider mirror
pub mod verify_deploy; // deploy generated/dev into moto with the SDK

pub use xacct_testkit::moto;
