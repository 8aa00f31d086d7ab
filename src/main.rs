use clap::Parser;
use localiam::config::{Config, LogFormat};
use localiam::server;
use tracing_subscriber::EnvFilter;

fn main() -> std::process::ExitCode {
    let config = Config::parse();
    let filter = EnvFilter::try_from_env("LOCALIAM_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // Log lines are written by a background thread so a request never waits on stdout.
    // The queue is preallocated: 8k lines keeps idle memory small (past that, lines are dropped, not waited for).
    // The thread writes what is queued into a buffer and flushes it whenever the queue is empty:
    // one write to stdout for many lines under load, each line at once when idle.
    let (writer, _log_guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(8192)
        .finish(std::io::BufWriter::with_capacity(
            32 * 1024,
            std::io::stdout(),
        ));
    match config.log_format {
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_writer(writer)
            .with_env_filter(filter)
            .init(),
        LogFormat::Text => tracing_subscriber::fmt()
            .with_writer(writer)
            .with_env_filter(filter)
            .init(),
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("localiam: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        match server::start(config, server::shutdown_signal()).await {
            Ok(running) => {
                running.wait().await;
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot start");
                std::process::ExitCode::FAILURE
            }
        }
    })
}
