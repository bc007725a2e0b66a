//! The `builder-lambda` binary: reads its configuration, then serves the
//! one handler on the Lambda runtime or, with `LOCAL_HTTP`, on loopback.

use anyhow::Context as _;
use builder_lambda::config::Config;
use builder_lambda::state::State;

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let log = std::env::var("IF_LOG").unwrap_or_else(|_| "info".to_owned());
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&log)
                .with_context(|| format!("IF_LOG={log:?} is not a tracing filter"))?,
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let config = Config::from_env().await.context("configuration")?;
    let local = config.local_http;
    let state = State::open(config).context("opening the builder")?;
    match local {
        Some(addr) => builder_lambda::local::serve(state, addr).await,
        None => builder_lambda::lambda::run(state).await,
    }
}
