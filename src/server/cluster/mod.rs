//! Several nodes as one: the node's id, the bus between nodes (Redis pub/sub when configured, the
//! in-process bus for a node alone), limits counted across nodes, the lease that picks the one node
//! that runs the background jobs, and the loop that keeps a node in step (heartbeats, dead nodes'
//! presence ending, the catch-up from the log). docs/DEPLOY.md describes the deployment.

pub mod job_runs;
pub mod lease;
pub mod limits;
pub mod redis_bus;
pub mod wire;

pub use lease::JobLease;
pub use limits::ClusterLimits;
pub use redis_bus::{BusStatus, RedisBus};

use crate::accounts::users;
use crate::server::db::Db;
use crate::server::now_ms;
use crate::server::realtime::catch_up::catch_up_once;
use crate::server::realtime::{Bus, Hub, InProcessBus};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How a node joins the others (from `STUDYHALL_REDIS_URL` and its companions).
#[derive(Debug, Clone)]
pub struct ClusterSettings {
    pub redis_url: String,
    /// Prefix of every Redis key and channel (several deployments may share one Redis).
    pub prefix: String,
    /// A node not heard from for this long is dead: its users' presence ends.
    pub node_ttl: Duration,
    /// How often the log's heads are compared with what this node delivered.
    pub catch_up_every: Duration,
}

/// How often a node says it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(1);

/// How a node reaches the others: not at all, or through Redis.
enum Link {
    Alone(Arc<InProcessBus>),
    Redis(Box<(RedisBus, ClusterLimits, ClusterSettings)>),
}

/// A node's place in the cluster (or alone).
pub struct Cluster {
    node: String,
    link: Link,
    lease: JobLease,
    stop: watch::Sender<bool>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("node", &self.node)
            .field("redis", &self.redis().is_some())
            .field("lease", &self.lease)
            .finish()
    }
}

/// A node id: random, so a restarted process is a new node (its old presence expires as a whole).
pub fn new_node_id() -> String {
    use rand::Rng;
    format!("n-{:08x}", rand::thread_rng().gen::<u32>())
}

impl Cluster {
    /// A node alone: the in-process bus, the jobs always here.
    pub fn solo(node: String) -> Cluster {
        Cluster {
            link: Link::Alone(Arc::new(InProcessBus::new(&node))),
            node,
            lease: JobLease::solo(),
            stop: watch::Sender::new(false),
        }
    }

    /// A node of several, joined through Redis. Fails only for a URL Redis's client rejects; an
    /// unreachable Redis is retried in the background. Needs a tokio runtime.
    pub fn join(node: String, settings: ClusterSettings) -> Result<Cluster, redis::RedisError> {
        let client = redis::Client::open(settings.redis_url.as_str())?;
        let stop = watch::Sender::new(false);
        let bus = RedisBus::start(client.clone(), &settings.prefix, &node, stop.subscribe());
        let limits = ClusterLimits::new(client, &settings.prefix, &node);
        Ok(Cluster {
            node,
            link: Link::Redis(Box::new((bus, limits, settings))),
            lease: JobLease::shared(),
            stop,
        })
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    fn redis(&self) -> Option<(&RedisBus, &ClusterLimits, &ClusterSettings)> {
        match &self.link {
            Link::Redis(parts) => Some((&parts.0, &parts.1, &parts.2)),
            Link::Alone(_) => None,
        }
    }

    /// The bus the hub publishes to.
    pub fn bus(&self) -> Arc<dyn Bus> {
        match &self.link {
            Link::Redis(parts) => Arc::new(parts.0.clone()),
            Link::Alone(bus) => bus.clone(),
        }
    }

    /// Limits counted across nodes (`None` for a node alone).
    pub fn limits(&self) -> Option<&ClusterLimits> {
        self.redis().map(|(_, limits, _)| limits)
    }

    /// The Redis bus's state, when there is one.
    pub fn bus_status(&self) -> Option<&BusStatus> {
        self.redis().map(|(bus, ..)| bus.status())
    }

    /// Whether this node runs the background jobs now.
    pub fn runs_jobs(&self) -> bool {
        self.lease.is_held()
    }

    /// Keeps this node in step with the others until [`Cluster::leave`]: the jobs' lease, a
    /// heartbeat every second (which also ends the presence of nodes not heard from), the catch-up
    /// from the log, and snapshots asked for each time the bus reconnects. Returns at once for a
    /// node alone.
    pub async fn run(&self, hub: Hub, db: Db) {
        let Some((bus, limits, settings)) = self.redis() else {
            return;
        };
        let lease = self.lease.hold(db.clone(), self.stop.subscribe());
        let keep_in_step = async {
            let mut stop = self.stop.subscribe();
            let mut beat = tokio::time::interval(HEARTBEAT);
            let mut check = tokio::time::interval(settings.catch_up_every);
            for tick in [&mut beat, &mut check] {
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            }
            let mut connects = bus.connects();
            loop {
                tokio::select! {
                    _ = beat.tick() => {
                        hub.heartbeat();
                        limits.beat(settings.node_ttl).await;
                        // A node that hears nobody (its Redis subscription is down or just back)
                        // cannot tell a dead node from a silent bus: it judges no one until it has
                        // heard two heartbeats' worth.
                        if bus.status().subscribed_for() < HEARTBEAT * 2 {
                            continue;
                        }
                        let offline = hub.expire_nodes(settings.node_ttl);
                        if !offline.is_empty() {
                            // They were last seen when their node was last heard from.
                            let at = now_ms() - settings.node_ttl.as_millis() as i64;
                            if let Err(e) = users::touch_last_seen_many(&db, &offline, at).await {
                                tracing::warn!(cause = ?e, "could not store last-seen for a dead node's users");
                            }
                        }
                    }
                    _ = check.tick() => catch_up(&db, &hub).await,
                    changed = connects.changed() => {
                        if changed.is_err() {
                            break;
                        }
                        hub.request_snapshots();
                        catch_up(&db, &hub).await;
                    }
                    _ = stopped(&mut stop) => break,
                }
            }
        };
        tokio::join!(lease, keep_in_step);
    }

    /// Leaves the cluster: the other nodes drop this node's presence at once, the lease goes to
    /// another node, the bus's queue is flushed (for at most half a second), and its tasks end.
    pub async fn leave(&self, hub: &Hub) {
        if let Some((bus, ..)) = self.redis() {
            hub.leave_cluster();
            bus.flush(Duration::from_millis(500)).await;
        }
        let _ = self.stop.send(true);
    }
}

/// Resolves once `stop` is set (the guard `wait_for` returns is not held across an await).
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

async fn catch_up(db: &Db, hub: &Hub) {
    match catch_up_once(db, hub).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            events = n,
            "caught up from the log what the bus had not brought"
        ),
        Err(e) => tracing::warn!(cause = ?e, "catch-up failed; will retry"),
    }
}
