//! The ferry scope server: hosts scopes and runs the export protocol.
//!
//! An export is opened, fed objects through negotiation and pack upload,
//! prepared (closure, fast-forward and tag checks) and committed (all ref
//! compare-and-swaps in one metadata transaction). The server keeps no
//! state between requests apart from its stores and takes no lock that
//! outlives a request. Abandoned exports expire, and a background sweep
//! aborts them and removes objects that only they uploaded.
//!
//! Entry points: [`serve`] runs until Ctrl-C or SIGTERM; [`Server::bind`] and
//! [`Server::run_until`] give control over shutdown; [`TestServer`] runs a
//! server on its own thread for tests and reports its port.

mod collect;
pub mod config;
pub mod error;
mod export;
pub mod failpoints;
mod fetch;
pub mod fsck;
mod graph;
mod routes;
pub mod state;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub use config::{Limits, ServerConfig};
pub use state::Stores;

use state::AppState;

/// Failures to start or run a server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The data directory cannot be created.
    #[error("cannot create data directory {path}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The object store failed to open.
    #[error("cannot open the object store")]
    Objects(#[from] ferry_store::ObjectStoreError),
    /// The metadata database failed to open.
    #[error("cannot open the metadata database")]
    Metadata(#[from] ferry_store::StoreError),
    /// The listen address cannot be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("the server failed")]
    Serve(#[source] std::io::Error),
}

/// A server bound to its address, not yet serving.
pub struct Server {
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
}

impl Server {
    /// Opens the embedded stores under `config.data_dir` and binds
    /// `config.listen`.
    pub async fn bind(config: ServerConfig) -> Result<Self, ServerError> {
        let stores = Stores::open_embedded(&config.data_dir)?;
        Self::bind_with(config, stores).await
    }

    /// Binds `config.listen` and serves from `stores`.
    pub async fn bind_with(config: ServerConfig, stores: Stores) -> Result<Self, ServerError> {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| ServerError::Bind {
                addr: config.listen,
                source,
            })?;
        let state = Arc::new(AppState { stores, config });
        Ok(Self { state, listener })
    }

    /// Returns the bound address, with the real port when 0 was requested.
    pub fn local_addr(&self) -> Result<SocketAddr, ServerError> {
        self.listener.local_addr().map_err(ServerError::Serve)
    }

    /// Serves until `shutdown` completes, then finishes the requests in
    /// flight. A background task runs expiry and collection meanwhile.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let addr = self.local_addr()?;
        let sweeper = tokio::spawn(sweep(self.state.clone()));
        tracing::info!(%addr, data_dir = %self.state.config.data_dir.display(), "server started");
        let app = routes::router(self.state);
        let result = axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(ServerError::Serve);
        sweeper.abort();
        tracing::info!(%addr, "server stopped");
        result
    }
}

/// Runs expiry and collection every sweep interval.
async fn sweep(state: Arc<AppState>) {
    let mut interval = tokio::time::interval(state.config.sweep_interval);
    interval.tick().await;
    loop {
        interval.tick().await;
        let app = state.clone();
        match tokio::task::spawn_blocking(move || collect::run(&app)).await {
            Ok(Ok(report)) if report.expired + report.removed > 0 => tracing::info!(
                expired = report.expired,
                removed = report.removed,
                "sweep finished"
            ),
            Ok(Ok(_)) => {}
            // The cause was logged when the error was built.
            Ok(Err(_)) => {}
            Err(error) => tracing::error!(error = %error, "sweep task failed"),
        }
    }
}

/// Serves with `config` on the embedded stores until Ctrl-C or SIGTERM.
pub async fn serve(config: ServerConfig) -> Result<(), ServerError> {
    let server = Server::bind(config).await?;
    server.run_until(shutdown_signal()).await
}

/// Completes on Ctrl-C, or on SIGTERM where there are Unix signals.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(error) => {
                tracing::error!(error = %error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("interrupted; stopping"),
        () = terminate => tracing::info!("terminated; stopping"),
    }
}

/// A server on its own thread and runtime, stopped when dropped. Tests use
/// it from plain synchronous code.
pub struct TestServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server on the embedded stores of `config`.
    pub fn start(config: ServerConfig) -> Result<Self, ServerError> {
        let stores = Stores::open_embedded(&config.data_dir)?;
        Self::start_with(config, stores)
    }

    /// Starts a server on `stores`.
    pub fn start_with(config: ServerConfig, stores: Stores) -> Result<Self, ServerError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(ServerError::Serve)?;
        let server = runtime.block_on(Server::bind_with(config, stores))?;
        let addr = server.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(error) = runtime.block_on(server.run_until(shutdown)) {
                tracing::error!(error = %error, "test server failed");
            }
        });
        Ok(Self {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Returns the address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Returns the base URL, such as `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
