//! Server-side session records: what makes a signed token good, and what revocation switches off.

use crate::accounts::{SessionKind, SessionSummary};
use crate::model::{Millis, User, UserId};
use crate::server::db::{internal, Db};
use crate::{with_db, AppError};
use rand::RngCore;

/// A session that is not revoked, not idle too long and not past its absolute end, with its user.
#[derive(Debug, Clone)]
pub struct ActiveSession {
    pub id: String,
    pub handle: String,
    pub kind: SessionKind,
    pub user_id: UserId,
    pub last_seen_at: Millis,
    pub expires_at: Millis,
}

pub struct NewSession<'a> {
    pub user_id: UserId,
    pub kind: SessionKind,
    pub idle_ttl_ms: Millis,
    pub max_ttl_ms: Millis,
    pub user_agent: Option<&'a str>,
    pub ip: Option<&'a str>,
}

fn random_token(bytes: usize) -> String {
    use base64::Engine;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

pub async fn create(db: &Db, new: NewSession<'_>, now: Millis) -> Result<ActiveSession, AppError> {
    let id = random_token(32);
    let handle = random_token(9);
    let expires_at = now + new.max_ttl_ms;
    let idle_expires_at = (now + new.idle_ttl_ms).min(expires_at);
    // Cap what a client can make us store.
    let user_agent = new
        .user_agent
        .map(|ua| ua.chars().take(300).collect::<String>());
    with_db!(db, pool => sqlx::query(
        "INSERT INTO sessions (id, handle, user_id, kind, created_at, last_seen_at, idle_expires_at, \
         expires_at, user_agent, ip) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9)")
        .bind(&id).bind(&handle).bind(new.user_id).bind(new.kind.as_str()).bind(now)
        .bind(idle_expires_at).bind(expires_at).bind(&user_agent).bind(new.ip)
        .execute(pool).await.map(|r| r.rows_affected()))
    .map_err(internal)?;
    Ok(ActiveSession {
        id,
        handle,
        kind: new.kind,
        user_id: new.user_id,
        last_seen_at: now,
        expires_at,
    })
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    handle: String,
    kind: String,
    user_id: i64,
    last_seen_at: i64,
    expires_at: i64,
}

/// The active session with this id, or `None` if it is unknown, revoked, expired or its user disabled.
pub async fn find_active(
    db: &Db,
    id: &str,
    now: Millis,
) -> Result<Option<ActiveSession>, AppError> {
    let row = with_db!(db, pool => sqlx::query_as::<_, SessionRow>(
        "SELECT s.id, s.handle, s.kind, s.user_id, s.last_seen_at, s.expires_at FROM sessions s \
         JOIN users u ON u.id = s.user_id \
         WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND s.idle_expires_at > $2 \
           AND u.disabled_at IS NULL")
        .bind(id).bind(now).fetch_optional(pool).await)
    .map_err(internal)?;
    Ok(row.and_then(|r| {
        Some(ActiveSession {
            kind: SessionKind::parse(&r.kind)?,
            id: r.id,
            handle: r.handle,
            user_id: r.user_id,
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at,
        })
    }))
}

/// Slides the idle expiry forward (never past the absolute end).
pub async fn touch(db: &Db, id: &str, now: Millis, idle_ttl_ms: Millis) -> Result<(), AppError> {
    let idle = now + idle_ttl_ms;
    let sql = format!(
        "UPDATE sessions SET last_seen_at = $2, idle_expires_at = {} WHERE id = $1",
        db.backend().least("$3", "expires_at")
    );
    with_db!(db, pool => sqlx::query(&sql).bind(id).bind(now).bind(idle).execute(pool).await.map(|r| r.rows_affected()))
        .map(|_| ())
        .map_err(internal)
}

pub async fn revoke(db: &Db, id: &str, now: Millis) -> Result<(), AppError> {
    with_db!(db, pool => sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(id).bind(now).execute(pool).await.map(|r| r.rows_affected()))
    .map(|_| ())
    .map_err(internal)
}

/// Revokes one of a user's sessions by its public handle. Returns whether one was revoked.
pub async fn revoke_by_handle(
    db: &Db,
    user_id: UserId,
    handle: &str,
    now: Millis,
) -> Result<bool, AppError> {
    with_db!(db, pool => sqlx::query(
        "UPDATE sessions SET revoked_at = $3 WHERE user_id = $1 AND handle = $2 AND revoked_at IS NULL")
        .bind(user_id).bind(handle).bind(now).execute(pool).await.map(|r| r.rows_affected()))
    .map(|n| n > 0)
    .map_err(internal)
}

/// Revokes every session of a user except, optionally, one. Returns how many were revoked.
pub async fn revoke_all(
    db: &Db,
    user_id: UserId,
    except: Option<&str>,
    now: Millis,
) -> Result<u64, AppError> {
    with_db!(db, pool => sqlx::query(
        "UPDATE sessions SET revoked_at = $3 WHERE user_id = $1 AND revoked_at IS NULL \
         AND ($2 IS NULL OR id <> $2)")
        .bind(user_id).bind(except).bind(now).execute(pool).await.map(|r| r.rows_affected()))
    .map_err(internal)
}

pub async fn list_active(
    db: &Db,
    user: &User,
    current: Option<&str>,
    now: Millis,
) -> Result<Vec<SessionSummary>, AppError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: String,
        handle: String,
        kind: String,
        created_at: i64,
        last_seen_at: i64,
        expires_at: i64,
        user_agent: Option<String>,
        ip: Option<String>,
    }
    let rows = with_db!(db, pool => sqlx::query_as::<_, Row>(
        "SELECT id, handle, kind, created_at, last_seen_at, expires_at, user_agent, ip FROM sessions \
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND idle_expires_at > $2 \
         ORDER BY last_seen_at DESC")
        .bind(user.id).bind(now).fetch_all(pool).await)
    .map_err(internal)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(SessionSummary {
                current: current == Some(r.id.as_str()),
                handle: r.handle,
                kind: SessionKind::parse(&r.kind)?,
                created_at: r.created_at,
                last_seen_at: r.last_seen_at,
                expires_at: r.expires_at,
                device: Some(crate::accounts::sign_ins::device(r.user_agent.as_deref())),
                user_agent: r.user_agent,
                ip: r.ip,
            })
        })
        .collect())
}

/// Deletes sessions that ended more than `keep_ms` ago (expired or revoked). Returns how many.
pub async fn purge_ended(db: &Db, now: Millis, keep_ms: Millis) -> Result<u64, AppError> {
    let cutoff = now - keep_ms;
    with_db!(db, pool => sqlx::query(
        "DELETE FROM sessions WHERE expires_at < $1 OR idle_expires_at < $1 OR revoked_at < $1")
        .bind(cutoff).execute(pool).await.map(|r| r.rows_affected()))
    .map_err(internal)
}
