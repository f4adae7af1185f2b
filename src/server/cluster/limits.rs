//! Limits that hold across nodes, counted in Redis: the connections one user holds (a hash per
//! user, one field per node, written by each node from its hub's own count after every change; the
//! fields of nodes whose liveness key expired are ignored and removed), and the publishes one user
//! makes per minute (a counter per user and minute). When Redis does not answer in time the
//! answer is `None` and the node's own limits decide alone: a Redis outage never stops anyone.

use super::redis_bus::connection_config;
use crate::model::UserId;
use redis::aio::MultiplexedConnection;
use redis::{Client, Cmd, Script};
use std::time::Duration;
use tokio::sync::Mutex;

/// How long a limit check waits for Redis before letting the local limit decide.
const ANSWER_WITHIN: Duration = Duration::from_millis(300);
/// A user's connection hash outlives its last write by a day.
const CONNS_TTL_MS: u64 = 24 * 3600 * 1000;

/// Counts the connections of `KEYS[1]`'s user on live nodes (`ARGV[1]` this node, `ARGV[3]` the
/// liveness key prefix), drops dead nodes' fields, and takes one more for this node unless that
/// reaches the cap (`ARGV[2]`). Atomic: two nodes admitting at once cannot both take the last slot.
const ADMIT: &str = r"
local total = 0
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local node = fields[i]
  if node == ARGV[1] or redis.call('EXISTS', ARGV[3] .. node) == 1 then
    total = total + tonumber(fields[i + 1])
  else
    redis.call('HDEL', KEYS[1], node)
  end
end
if total >= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
";

/// One more publish by `KEYS[1]`'s user in this minute; the count so far.
const COUNT_PUBLISH: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], 120000) end
return n
";

pub struct ClusterLimits {
    client: Client,
    conn: Mutex<Option<MultiplexedConnection>>,
    prefix: String,
    node: String,
    admit: Script,
    count_publish: Script,
}

/// Sets this node's field of a user's connection hash to what its hub holds.
pub(super) fn write_count(key: &str, node: &str, conns: u32) -> Vec<Cmd> {
    if conns == 0 {
        return vec![redis::cmd("HDEL").arg(key).arg(node).to_owned()];
    }
    vec![
        redis::cmd("HSET").arg(key).arg(node).arg(conns).to_owned(),
        redis::cmd("PEXPIRE").arg(key).arg(CONNS_TTL_MS).to_owned(),
    ]
}

impl ClusterLimits {
    pub fn new(client: Client, prefix: &str, node: &str) -> ClusterLimits {
        ClusterLimits {
            client,
            conn: Mutex::new(None),
            prefix: prefix.to_string(),
            node: node.to_string(),
            admit: Script::new(ADMIT),
            count_publish: Script::new(COUNT_PUBLISH),
        }
    }

    /// A connection to Redis for a request, made on first use and after a failure.
    async fn connection(&self) -> Option<MultiplexedConnection> {
        let mut held = self.conn.lock().await;
        if held.is_none() {
            *held = self
                .client
                .get_multiplexed_async_connection_with_config(&connection_config())
                .await
                .ok();
        }
        held.clone()
    }

    async fn forget_connection(&self) {
        *self.conn.lock().await = None;
    }

    /// Whether `user` may open one more connection with `cap` across every node (and, if so, the
    /// slot is taken for this node). `None`: Redis did not answer in time.
    pub async fn admit_connection(&self, user: UserId, cap: usize) -> Option<bool> {
        let asked = async {
            let mut conn = self.connection().await?;
            self.admit
                .key(format!("{}:conns:{user}", self.prefix))
                .arg(&self.node)
                .arg(cap)
                .arg(format!("{}:node:", self.prefix))
                .arg(CONNS_TTL_MS)
                .invoke_async::<i64>(&mut conn)
                .await
                .ok()
        };
        match tokio::time::timeout(ANSWER_WITHIN, asked).await {
            Ok(Some(n)) => Some(n == 1),
            _ => {
                self.forget_connection().await;
                tracing::warn!(
                    user,
                    "connection cap not checked across nodes: Redis did not answer"
                );
                None
            }
        }
    }

    /// Counts one publish of `user`: whether it is within `per_minute` across every node this
    /// minute. `None`: Redis did not answer in time.
    pub async fn take_publish(&self, user: UserId, per_minute: u32, now_ms: i64) -> Option<bool> {
        let minute = now_ms / 60_000;
        let asked = async {
            let mut conn = self.connection().await?;
            self.count_publish
                .key(format!("{}:rate:{user}:{minute}", self.prefix))
                .invoke_async::<i64>(&mut conn)
                .await
                .ok()
        };
        match tokio::time::timeout(ANSWER_WITHIN, asked).await {
            Ok(Some(n)) => Some(n <= i64::from(per_minute)),
            _ => {
                self.forget_connection().await;
                None
            }
        }
    }

    /// Marks this node alive for `ttl` (its connection counts count while it is).
    pub async fn beat(&self, ttl: Duration) -> bool {
        let asked = async {
            let mut conn = self.connection().await?;
            redis::cmd("SET")
                .arg(format!("{}:node:{}", self.prefix, self.node))
                .arg(1)
                .arg("PX")
                .arg(ttl.as_millis() as u64)
                .query_async::<()>(&mut conn)
                .await
                .ok()
        };
        match tokio::time::timeout(ANSWER_WITHIN, asked).await {
            Ok(Some(())) => true,
            _ => {
                self.forget_connection().await;
                false
            }
        }
    }
}
