//! Settings for running several nodes: `STUDYHALL_REDIS_URL` turns the Redis bus on; without it a
//! node runs alone. Several nodes need PostgreSQL: SQLite with Redis is refused here, at start-up.

use super::source::{invalid, ConfigError, Source};
use std::time::Duration;
use studyhall::server::cluster::ClusterSettings;
use studyhall::server::db::Backend;

/// The cluster settings, or `None` for a node alone.
pub(super) fn settings<F: Fn(&str) -> Option<String>>(
    src: &Source<F>,
    database_url: &str,
) -> Result<Option<ClusterSettings>, ConfigError> {
    let Some(redis_url) = src
        .get("STUDYHALL_REDIS_URL")
        .filter(|u| !u.trim().is_empty())
    else {
        return Ok(None);
    };
    let redis_url = redis_url.trim().to_string();
    if !(redis_url.starts_with("redis://") || redis_url.starts_with("rediss://")) {
        return Err(invalid(
            "STUDYHALL_REDIS_URL",
            "expected redis://host:port or rediss://host:port",
        ));
    }
    if Backend::of_url(database_url) != Some(Backend::Postgres) {
        return Err(invalid(
            "STUDYHALL_REDIS_URL",
            "several nodes need PostgreSQL (DATABASE_URL=postgres://…): one SQLite file cannot be \
             shared by several processes. Unset STUDYHALL_REDIS_URL to run one node on SQLite",
        ));
    }
    let prefix = src
        .get("STUDYHALL_REDIS_PREFIX")
        .unwrap_or_else(|| "studyhall".into());
    if prefix.is_empty()
        || !prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
    {
        return Err(invalid(
            "STUDYHALL_REDIS_PREFIX",
            "letters, digits and - _ . : only",
        ));
    }
    let node_ttl = src.duration("STUDYHALL_NODE_TTL", Duration::from_secs(5))?;
    if node_ttl < Duration::from_secs(2) {
        return Err(invalid(
            "STUDYHALL_NODE_TTL",
            "must be at least 2s (nodes beat every second)",
        ));
    }
    let catch_up_every = src.duration("STUDYHALL_CATCH_UP_INTERVAL", Duration::from_secs(1))?;
    if catch_up_every.is_zero() {
        return Err(invalid("STUDYHALL_CATCH_UP_INTERVAL", "must be above 0"));
    }
    Ok(Some(ClusterSettings {
        redis_url,
        prefix,
        node_ttl,
        catch_up_every,
    }))
}

/// This node's id: `STUDYHALL_NODE_ID`, or a random one.
pub(super) fn node_id<F: Fn(&str) -> Option<String>>(
    src: &Source<F>,
) -> Result<String, ConfigError> {
    match src.get("STUDYHALL_NODE_ID") {
        None => Ok(studyhall::server::cluster::new_node_id()),
        Some(id)
            if !id.is_empty()
                && id.len() <= 64
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) =>
        {
            Ok(id)
        }
        Some(_) => Err(invalid(
            "STUDYHALL_NODE_ID",
            "1 to 64 letters, digits, - _ or .",
        )),
    }
}
