//! The S3 bucket provisioning Lambda (seed 000): one bucket per customer,
//! spread over the storage accounts, reached through `sts:AssumeRole` of their
//! `S3BucketManager` role.
//!
//! Layout: [`config`] reads the Lambda environment (pure), [`api`] parses and
//! answers the function-URL contract v1 (pure), [`core`] makes the decisions
//! (pure: account order, freshness, listing margin; time from a
//! [`core::Clock`]), [`aws`] builds the small client set once per container,
//! [`service`] runs the decisions over those clients and [`handler`] glues an
//! HTTP request to it. `main` only builds and runs.
//!
//! **This crate knows nothing about tera, clap, IAM, Lambda or CloudFormation
//! SDKs, or the `xacct` CLI**; it shares only the `xacct-contract` crate with it.

pub use xacct_contract as contract;

pub mod api;
pub mod aws;
pub mod config;
pub mod core;
pub mod handler;
pub mod service;
pub mod state;

pub use config::Config;
pub use service::Provisioner;
