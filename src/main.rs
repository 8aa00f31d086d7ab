use clap::Parser;
use localiam::config::{Command, Config, LogFormat};
use localiam::server;
use tracing_subscriber::EnvFilter;

fn main() -> std::process::ExitCode {
    limit_malloc_arenas();
    let config = Config::parse();
    if let Some(Command::Healthcheck { timeout }) = config.command {
        return localiam::healthcheck::main(config.listen, timeout);
    }
    let filter = EnvFilter::try_from_env("LOCALIAM_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // Log lines are written by a background thread so a request never waits on stdout: a request
    // appends its line to a buffer, the thread writes what gathered in one write a few ms later
    // (no wake-up per line; past 4 MiB waiting, lines are dropped, not waited for).
    let (writer, _log_guard) = localiam::log_writer::batched(std::io::stdout());
    match config.log_format {
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_writer(writer)
            .with_env_filter(filter)
            .init(),
        // Colours only on a terminal, with tracing_subscriber's own formatter.
        LogFormat::Text if std::io::IsTerminal::is_terminal(&std::io::stdout()) => {
            tracing_subscriber::fmt()
                .with_ansi(true)
                .with_writer(writer)
                .with_env_filter(filter)
                .init()
        }
        // Elsewhere the same lines without colours, written by a formatter of our own: the
        // default one's styles and nested `write!`s were an eighth of a request's instructions.
        LogFormat::Text => tracing_subscriber::fmt()
            .with_ansi(false)
            .fmt_fields(localiam::log_format::TextFields)
            .event_format(localiam::log_format::TextFormat::default())
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
                // Also on stderr: the log line may be JSON, or filtered out.
                eprintln!("localiam: cannot start: {e}");
                std::process::ExitCode::FAILURE
            }
        }
    })
}

/// At most two malloc arenas (glibc's default is eight per core): with one per thread that
/// allocated, the model loaded at start (decoded on one thread, indexed on another) left about
/// 25 MiB of free but unreturnable memory spread over them; on two cores more arenas buy nothing.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const M_ARENA_MAX: std::os::raw::c_int = -8;
        extern "C" {
            fn mallopt(
                param: std::os::raw::c_int,
                value: std::os::raw::c_int,
            ) -> std::os::raw::c_int;
        }
        // SAFETY: mallopt only sets a malloc tunable; called first thing, before other threads.
        unsafe {
            mallopt(M_ARENA_MAX, 2);
        }
    }
}
