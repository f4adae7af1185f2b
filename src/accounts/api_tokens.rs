//! API tokens for integrations: admins create them (the secret is shown once), they are stored as a
//! SHA-256 hash, carry scopes, act for the admin who made them and stop working when revoked or when
//! that admin is no longer an active admin.

use crate::accounts::service::Caller;
use crate::accounts::users;
use crate::accounts::{ApiTokenSummary, CreatedApiToken, SessionKind};
use crate::model::{Millis, Role};
use crate::server::db::{internal, Db};
use crate::{with_db, AppError};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub use crate::accounts::ApiScope as Scope;

/// Every API token starts with this, so it is recognisable in logs and secret scanners.
pub const PREFIX: &str = "sht_";
pub const NAME_MAX: usize = 80;
/// How often `last_used_at` is written for a busy token (like a session's touch, see
/// `AuthSettings::touch_interval_ms`: each write takes SQLite's write lock).
const TOUCH_INTERVAL_MS: Millis = 5 * 60_000;

fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn require_admin(caller: &Caller) -> Result<(), AppError> {
    // Tokens cannot mint or see tokens: only a signed-in admin can.
    if caller.is(Role::Admin) && caller.scopes.is_none() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    name: String,
    prefix: String,
    owner_name: String,
    scopes: String,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

fn parse_scopes(raw: &str) -> Vec<Scope> {
    raw.split_whitespace().filter_map(Scope::parse).collect()
}

impl From<Row> for ApiTokenSummary {
    fn from(r: Row) -> Self {
        ApiTokenSummary {
            id: r.id,
            name: r.name,
            prefix: r.prefix,
            owner_name: r.owner_name,
            scopes: parse_scopes(&r.scopes),
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

const SELECT: &str = "SELECT t.id, t.name, t.prefix, u.display_name AS owner_name, t.scopes, t.created_at, \
                      t.last_used_at, t.revoked_at FROM api_tokens t JOIN users u ON u.id = t.owner_id";

pub async fn create(
    db: &Db,
    caller: &Caller,
    name: &str,
    scopes: &[Scope],
) -> Result<CreatedApiToken, AppError> {
    require_admin(caller)?;
    let name = name.trim();
    let name_error = if name.is_empty() {
        Some(crate::FieldError::new(
            "name",
            "Name the token after the integration that will use it.",
        ))
    } else if name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        Some(crate::FieldError::new(
            "name",
            format!("Use up to {NAME_MAX} printable characters."),
        ))
    } else {
        None
    };
    let scope_error = scopes
        .is_empty()
        .then(|| crate::FieldError::new("scopes", "Choose at least one scope."));
    crate::validate::collect([name_error, scope_error])?;
    let mut scopes = scopes.to_vec();
    scopes.sort();
    scopes.dedup();
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    use base64::Engine;
    let token = format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    );
    let prefix: String = token.chars().take(PREFIX.len() + 6).collect();
    let scope_text = scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let now = crate::server::now_ms();
    let id: i64 = with_db!(db, pool => sqlx::query_scalar(
        "INSERT INTO api_tokens (name, token_hash, prefix, owner_id, scopes, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
        .bind(name).bind(hash(&token)).bind(&prefix).bind(caller.user.id).bind(&scope_text).bind(now)
        .fetch_one(pool).await)
    .map_err(internal)?;
    Ok(CreatedApiToken {
        token,
        summary: ApiTokenSummary {
            id,
            name: name.to_string(),
            prefix,
            owner_name: caller.user.display_name.clone(),
            scopes,
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        },
    })
}

pub async fn list(db: &Db, caller: &Caller) -> Result<Vec<ApiTokenSummary>, AppError> {
    require_admin(caller)?;
    let sql = format!("{SELECT} ORDER BY t.revoked_at IS NOT NULL, t.id DESC");
    let rows = with_db!(db, pool => sqlx::query_as::<_, Row>(&sql).fetch_all(pool).await)
        .map_err(internal)?;
    Ok(rows.into_iter().map(ApiTokenSummary::from).collect())
}

pub async fn revoke(db: &Db, caller: &Caller, id: i64) -> Result<(), AppError> {
    require_admin(caller)?;
    let now = crate::server::now_ms();
    let changed = with_db!(db, pool => sqlx::query(
        "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(id).bind(now).execute(pool).await.map(|r| r.rows_affected()))
    .map_err(internal)?;
    if changed == 0 {
        return Err(AppError::not_found("That active token"));
    }
    Ok(())
}

/// Resolves a presented token to a caller acting for its owner with the token's scopes.
pub async fn authenticate(db: &Db, token: &str) -> Result<Caller, AppError> {
    if !token.starts_with(PREFIX) || token.len() > 100 {
        return Err(AppError::Unauthenticated);
    }
    // id, owner, scopes, last used, revoked
    type TokenRow = (i64, i64, String, Option<i64>, Option<i64>);
    let row: Option<TokenRow> = with_db!(db, pool => sqlx::query_as(
        "SELECT id, owner_id, scopes, last_used_at, revoked_at FROM api_tokens WHERE token_hash = $1")
        .bind(hash(token)).fetch_optional(pool).await)
    .map_err(internal)?;
    let (id, owner_id, scopes, last_used_at, revoked_at) = row.ok_or(AppError::Unauthenticated)?;
    if revoked_at.is_some() {
        return Err(AppError::Unauthenticated);
    }
    let owner = users::find(db, owner_id)
        .await?
        .filter(|u| !u.disabled && u.role == Role::Admin)
        .ok_or(AppError::Unauthenticated)?;
    let now = crate::server::now_ms();
    if last_used_at.is_none_or(|at| now - at >= TOUCH_INTERVAL_MS) {
        // Bookkeeping: a failed write is logged, and the request goes on.
        let written = with_db!(db, pool => sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
            .bind(id).bind(now).execute(pool).await.map(|_| ()));
        if let Err(e) = written {
            tracing::warn!(error = %e, token = id, "could not store the token's last use; going on");
        }
    }
    Ok(Caller {
        user: owner,
        session_id: String::new(),
        session_handle: format!("token-{id}"),
        kind: SessionKind::Api,
        token_expires_at: Millis::MAX,
        scopes: Some(parse_scopes(&scopes)),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_are_hex_sha256() {
        assert_eq!(
            super::hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
