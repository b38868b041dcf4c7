//! Test harness shared by the workspace's tests, examples and benchmarks (a
//! dev-dependency only; nothing ships with it):
//! - [`moto`]: a real moto server per test on 127.0.0.1, IAM enforcement, the
//!   request recorder;
//! - [`runtime_api`]: a Lambda Runtime API emulator on 127.0.0.1 for the real
//!   `bootstrap` binary;
//! - [`latency`]: a loopback proxy that holds every request N ms (benchmarks).
//!
//! Depends on `std` and `serde_json` only. A missing tool (moto) fails the test
//! and says how to install it; it never passes silently.

pub mod latency;
pub mod moto;
pub mod runtime_api;
