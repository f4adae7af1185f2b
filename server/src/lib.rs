//! The Studyhall process: configuration, the HTTP router with its middleware, the REST adapters,
//! background jobs, and start-up/shutdown. `main.rs` only reads the configuration and calls [`run`].

// Leptos view types nest deeply; the router's layout needs more than the default 128.
#![recursion_limit = "256"]

pub mod assets;
pub mod config;
mod error;
mod health;
mod http;
pub mod jobs;
pub mod rest;
mod router;
mod state;
pub mod telemetry;
pub mod ws;

use axum::serve::ListenerExt;
use config::Config;
use std::net::SocketAddr;
use studyhall::accounts::service::Accounts;
use studyhall::accounts::tokens::TokenSigner;
use studyhall::server::cluster::Cluster;
use studyhall::server::db::Db;
use studyhall::server::web::Services;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::task::TaskTracker;

pub use state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("could not open the database: {0}")]
    Database(#[from] studyhall::server::db::ConnectError),
    #[error("could not seed demo data: {0}")]
    Demo(studyhall::AppError),
    #[error("could not listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Serve(std::io::Error),
    #[error("could not set up the Redis bus: {0}")]
    Redis(String),
}

/// A started server: its bound address and a handle to stop it.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub services: Services,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<Result<(), std::io::Error>>,
    /// WebSocket connections' tasks and the background jobs.
    tasks: TaskTracker,
    /// The loop that keeps this node in step with the others (ends when it leaves them).
    in_step: JoinHandle<()>,
}

impl RunningServer {
    /// Stops in an order where nothing can query after the pool closes: stop accepting and tell
    /// the jobs (the `shutdown` flag), close every socket, wait for the requests in flight, the
    /// sockets' tasks and the jobs to end, store last-seen for who was connected, close the pool.
    /// (Closing the pool while sockets and jobs still ran logged 478 "closed pool" errors.)
    pub async fn shutdown(self) -> Result<(), StartError> {
        let _ = self.shutdown.send(true);
        // WebSockets close with 1001 (they are not requests the graceful shutdown waits for); who
        // was connected gets last-seen below, in one statement. A socket upgraded from now on is
        // refused by the hub before it touches the database.
        let online = self.services.hub.close_all();
        let result = self.task.await.unwrap_or(Ok(()));
        self.tasks.close();
        self.tasks.wait().await;
        // Every socket has left: the other nodes drop this one's presence at once, and one of them
        // takes the jobs (the lease is given back before the pool closes).
        self.services.cluster().leave(&self.services.hub).await;
        let _ = self.in_step.await;
        let db = self.services.accounts.db();
        if let Err(e) = studyhall::accounts::users::touch_last_seen_many(
            db,
            &online,
            studyhall::server::now_ms(),
        )
        .await
        {
            tracing::warn!(error = ?e, "could not store last-seen times at shutdown");
        }
        db.close().await;
        result.map_err(StartError::Serve)
    }

    /// Waits until the server stops on its own (it only does on an I/O error) or `signal` resolves.
    pub async fn run_until(
        self,
        signal: impl std::future::Future<Output = ()>,
    ) -> Result<(), StartError> {
        signal.await;
        tracing::info!("shutting down");
        self.shutdown().await
    }
}

/// Opens the database, seeds demo data if asked, and serves on `listener` until shut down.
pub async fn start(config: Config, listener: TcpListener) -> Result<RunningServer, StartError> {
    let addr = listener.local_addr().map_err(StartError::Serve)?;
    let db = Db::connect(&config.database_url, config.db_max_connections).await?;
    tracing::info!(backend = db.backend().as_str(), "database ready");
    if config.demo_data {
        let logins = studyhall::server::demo::seed_if_empty(&db)
            .await
            .map_err(StartError::Demo)?;
        if !logins.is_empty() {
            tracing::info!(
                "demo data created; sign in with any of these (password {:?}):",
                studyhall::server::demo::DEMO_PASSWORD
            );
            for login in &logins {
                tracing::info!("  {:<8} {}", login.role.as_str(), login.email);
            }
        }
    }
    let origins = config.effective_origins(addr);
    let cluster = match &config.cluster {
        None => Cluster::solo(config.node_id.clone()),
        Some(settings) => Cluster::join(config.node_id.clone(), settings.clone())
            .map_err(|e| StartError::Redis(e.to_string()))?,
    };
    tracing::info!(
        node = cluster.node(),
        clustered = config.cluster.is_some(),
        "node ready"
    );
    let bus = cluster.bus();
    let services = Services {
        hub: studyhall::server::realtime::Hub::new(config.hub, bus),
        accounts: Accounts::new(
            db,
            TokenSigner::new(config.secret.expose()),
            config.auth.clone(),
        ),
        shared: std::sync::Arc::new(studyhall::server::web::Shared {
            secure_cookies: origins.iter().all(|o| o.starts_with("https://")),
            chat: studyhall::chat::service::ChatServices {
                settings: config.chat,
                files: Box::new(studyhall::server::storage::FsBlobStore::new(
                    config.data_dir.join("attachments"),
                )),
            },
            cluster,
            leaderboards: Default::default(),
        }),
    };
    let (shutdown, mut shutdown_rx) = watch::channel(false);
    let tasks = TaskTracker::new();
    let app = router::build(&config, services.clone(), origins, addr, tasks.clone());
    let node = services.clone();
    let in_step = tokio::spawn(async move {
        let db = node.accounts.db().clone();
        node.cluster().run(node.hub.clone(), db).await;
    });
    tasks.spawn(studyhall::leaderboard::service::keep_up(
        services.clone(),
        shutdown.subscribe(),
    ));
    jobs::spawn(
        services.clone(),
        jobs::JobSettings::from(&config),
        shutdown.subscribe(),
        &tasks,
    );
    let task = tokio::spawn(async move {
        // No Nagle: a streamed page leaves in several writes, and with Nagle each write after the
        // first waited for the client's delayed ACK (up to 40 ms on Linux). WebSocket frames are
        // batched by the connection task already, so they gain nothing from Nagle either.
        let listener = listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!("could not set TCP_NODELAY: {e}");
            }
        });
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = shutdown_rx.wait_for(|stop| *stop).await;
        })
        .await
    });
    tracing::info!("listening on http://{addr}");
    Ok(RunningServer {
        addr,
        services,
        shutdown,
        task,
        tasks,
        in_step,
    })
}

/// Binds the configured address and runs until Ctrl-C or SIGTERM.
pub async fn run(config: Config) -> Result<(), StartError> {
    let addr = config.listen;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let server = start(config, listener).await?;
    server.run_until(shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
