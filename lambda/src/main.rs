//! `bootstrap` for `provided.al2023`: builds the configuration and the client
//! set once, then serves function-URL requests. All logic lives in the library.

use std::sync::Arc;

use lambda_http::{Error, Request, service_fn};
use xacct_provisioner::{Config, Provisioner, aws::Clients, handler};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("AWS_LAMBDA_LOG_LEVEL")
                .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .init();
    let cfg = Config::from_env()
        .inspect_err(|e| tracing::error!(event = "config_invalid", error = %e))?;
    let clients = Clients::from_env(&cfg).await;
    let provisioner = Arc::new(Provisioner::new(cfg, clients));
    lambda_http::run(service_fn(move |req: Request| {
        let p = Arc::clone(&provisioner);
        async move { handler::handle(&p, req).await }
    }))
    .await
}
