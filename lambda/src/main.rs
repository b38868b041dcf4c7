//! `bootstrap` for `provided.al2023`: reads and checks the configuration, then
//! serves function-URL requests. All logic lives in the library.
//!
//! Init does only what can fail fast and cheaply (logging, the environment
//! variables). The SDK configuration and clients (credential chain, TLS roots,
//! HTTP connector) are built by the first request, once per container, so the
//! runtime asks for its first event within milliseconds of process start.

use std::sync::Arc;

use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::{Error, service_fn};
use tokio::sync::OnceCell;
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
    let cfg = Arc::new(
        Config::from_env()
            .inspect_err(|e| tracing::error!(event = "config_invalid", error = %e))?,
    );
    let provisioner: Arc<OnceCell<Provisioner>> = Arc::new(OnceCell::new());
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<serde_json::Value>| {
        let cell = Arc::clone(&provisioner);
        let cfg = Arc::clone(&cfg);
        async move {
            let p = cell
                .get_or_init(|| async {
                    let started = std::time::Instant::now();
                    let clients = Clients::from_env(&cfg).await;
                    tracing::info!(
                        event = "clients_ready",
                        elapsed_ms = started.elapsed().as_millis() as u64
                    );
                    Provisioner::new((*cfg).clone(), clients)
                })
                .await;
            // Not lambda_http::run: no event may make the runtime panic
            // (handler::handle_event checks the raw event first).
            handler::handle_event(p, ev.payload, ev.context).await
        }
    }))
    .await
}
