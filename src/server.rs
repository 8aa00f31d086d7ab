//! Starting and stopping the server.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::api;
use crate::auth::authenticate::root_key;
use crate::auth::sigv4::SigningKeyCache;
use crate::config::{AuthMode, Config};
use crate::http;
use crate::state::{App, AppState, LastUsedTracker};
use crate::store::Store;

/// How often recorded access-key use is written to the store.
const LAST_USED_FLUSH: Duration = Duration::from_secs(2);
/// Expired sessions are pruned every this many flushes (a minute).
const SESSION_PRUNE_TICKS: u64 = 30;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the database: {0}")]
    Store(String),
    #[error("invalid seed file {0}")]
    Seed(crate::seed::SeedError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A started server: its address, and the handle that stops it.
pub struct Running {
    pub addr: SocketAddr,
    pub app: App,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting, finishes in-flight requests, flushes and closes the store.
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = self.task.await;
    }

    /// Waits until the server stops on its own (after SIGTERM/SIGINT when started by `run_until_signal`).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Builds the state for `config`: opens the store and applies migrations.
/// The seed file of `--init` is read and built first (on a scratch store, through the API's own
/// handlers): an invalid one stops the start before the database is even opened. The seed's state
/// is written (in one transaction) only into a database that holds no state yet; one that does
/// keeps its state (`POST /_localiam/reset` goes back to the seed).
pub async fn build_app(config: Config) -> Result<App, StartError> {
    let seed = match &config.init {
        Some(path) => Some(
            crate::seed::build_file(&config, path)
                .await
                .map_err(StartError::Seed)?,
        ),
        None => None,
    };
    let store = Store::open(&config.db)
        .await
        .map_err(|e| StartError::Store(e.to_string()))?;
    if let (Some(seed), Some(path)) = (&seed, &config.init) {
        if store.read().accounts().next().is_none() {
            let state = seed.clone();
            store
                .write(move |tx| {
                    tx.put_all(&state);
                    Ok::<_, crate::store::StoreError>(())
                })
                .await
                .map_err(|e| StartError::Store(e.to_string()))?;
            tracing::info!(file = %path.display(), "seed file applied");
        } else {
            tracing::info!(
                file = %path.display(),
                "the database already holds state: the seed file is not applied again (POST /_localiam/reset returns to it)"
            );
        }
    }
    Ok(App::new(AppState {
        seed,
        ..app_state(config, store)
    }))
}

/// The shared state of a server on `store` (with no seed).
pub fn app_state(config: Config, store: Store) -> AppState {
    AppState {
        root_key: root_key(&config),
        started: time::OffsetDateTime::now_utc(),
        config,
        store,
        registry: api::registry(),
        signing_keys: SigningKeyCache::default(),
        last_used: LastUsedTracker::default(),
        activity: Default::default(),
        policies: crate::authz::PolicyCache::default(),
        plans: crate::authz::PlanCache::default(),
        decisions: crate::authz::decisions::DecisionLog::default(),
        metrics: crate::metrics::Metrics::default(),
        seed: None,
        console: Default::default(),
    }
}

/// Starts serving `config.listen` in the background; stops on `Running::stop` or when `signal` resolves.
pub async fn start(
    config: Config,
    signal: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<Running, StartError> {
    let addr = config.listen;
    let limits = config.limits.clone();
    let app = build_app(config).await?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let router = http::router(app.clone());
    let flusher = tokio::spawn(flush_last_used(app.clone()));
    let app2 = app.clone();
    let task = tokio::spawn(async move {
        let shutdown = async move {
            tokio::select! {
                _ = rx => {}
                _ = signal => {}
            }
        };
        http::conn::serve(listener, router, limits, shutdown).await;
        flusher.abort();
        api::access_keys::flush_last_used(&app2).await;
        crate::activity::flush(&app2).await;
        app2.store.close().await;
        tracing::info!("stopped");
    });
    if app.config.auth == AuthMode::Open && !local.ip().is_loopback() {
        tracing::warn!(
            address = %local,
            "auth mode `open` on a non-loopback address: anyone who can reach {local} is the \
             root user of every account, can read every secret and reset the state; use \
             --auth strict, audit or enforce (LOCALIAM_AUTH) outside a laptop or a test container"
        );
    }
    tracing::info!(address = %local, "localiam ready on http://{local}");
    Ok(Running {
        addr: local,
        app,
        shutdown: tx,
        task,
    })
}

/// The background chores: writes recorded key use and the access advisor's data, and every
/// minute forgets expired sessions, service last accessed reports and delegation requests.
async fn flush_last_used(app: App) {
    let mut tick = tokio::time::interval(LAST_USED_FLUSH);
    let mut n: u64 = 0;
    loop {
        tick.tick().await;
        api::access_keys::flush_last_used(&app).await;
        crate::activity::flush(&app).await;
        if n.is_multiple_of(SESSION_PRUNE_TICKS) {
            let now = time::OffsetDateTime::now_utc();
            api::sts::prune_expired(&app, now).await;
            api::access_advisor::prune_expired(&app, now).await;
            api::delegation::prune_expired(&app, now).await;
        }
        n = n.wrapping_add(1);
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down");
}
