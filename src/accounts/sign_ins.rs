//! The security log: each successful sign-in (when, from which device and address), shown to its owner
//! on the profile page. Sign-ins are not feed activities: they said nothing to mentors or admins and
//! filled dashboards and unread counts ("Ana signed in" seven times).

use crate::accounts::SessionKind;
use crate::model::{Millis, UserId};
use crate::server::db::{internal, Db};
use crate::server::ClientInfo;
use crate::{with_db, AppError};

/// How many sign-ins are kept per user (older ones are deleted as new ones come).
pub const KEPT: i64 = 50;

/// One sign-in as its owner sees it (shared with the browser, so in the model).
pub use crate::accounts::SignIn;

/// A user-agent string as people say it: "Chrome on Linux", "Safari on iPhone", "curl". Parsed with
/// woothee (a small, table-driven classifier) on the server only.
pub fn device(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.map(str::trim).filter(|u| !u.is_empty()) else {
        return "Unknown device".into();
    };
    // Not a browser woothee knows, or one it files only as a generic "HTTP Library" (curl, a
    // script, a test client): the agent's own first word says most.
    let first_word = || -> String {
        ua.split(['/', ' '])
            .next()
            .filter(|w| !w.is_empty())
            .unwrap_or("Unknown device")
            .chars()
            .take(40)
            .collect()
    };
    let Some(r) = woothee::parser::Parser::new().parse(ua) else {
        return first_word();
    };
    let known = |s: &str| !s.is_empty() && s != woothee::woothee::VALUE_UNKNOWN;
    match (known(r.name), known(r.os)) {
        (true, true) => format!("{} on {}", r.name, r.os),
        (true, false) if r.name == "HTTP Library" => first_word(),
        (true, false) => r.name.to_string(),
        (false, true) => r.os.to_string(),
        (false, false) => "Unknown device".into(),
    }
}

/// Writes a sign-in and trims the user's log to the newest [`KEPT`]. A failure is logged, never
/// returned: a sign-in must not fail over its log entry.
pub async fn record(db: &Db, user: UserId, kind: SessionKind, client: &ClientInfo, now: Millis) {
    let result: Result<(), sqlx::Error> = with_db!(db, pool => async {
        sqlx::query("INSERT INTO sign_ins (user_id, kind, at, user_agent, ip) VALUES ($1, $2, $3, $4, $5)")
            .bind(user).bind(kind.as_str()).bind(now)
            .bind(client.user_agent.as_deref().map(|u| u.chars().take(400).collect::<String>()))
            .bind(client.ip.as_deref())
            .execute(pool).await?;
        sqlx::query(
            "DELETE FROM sign_ins WHERE user_id = $1 AND id <= \
             (SELECT id FROM sign_ins WHERE user_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)")
            .bind(user).bind(KEPT).execute(pool).await?;
        Ok(())
    }
    .await);
    if let Err(e) = result {
        tracing::warn!(error = %e, user_id = user, "could not record a sign-in");
    }
}

/// The caller's newest sign-ins, newest first (only ever their own).
pub async fn recent(db: &Db, user: UserId, limit: i64) -> Result<Vec<SignIn>, AppError> {
    let rows: Vec<(i64, String, Option<String>, Option<String>)> = with_db!(db, pool => sqlx::query_as(
        "SELECT at, kind, user_agent, ip FROM sign_ins WHERE user_id = $1 ORDER BY id DESC LIMIT $2")
        .bind(user).bind(limit.clamp(1, KEPT)).fetch_all(pool).await)
    .map_err(internal)?;
    Ok(rows
        .into_iter()
        .filter_map(|(at, kind, ua, ip)| {
            Some(SignIn {
                at,
                kind: SessionKind::parse(&kind)?,
                device: device(ua.as_deref()),
                ip,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::device;

    #[test]
    fn user_agents_read_as_devices() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                      Chrome/120.0.0.0 Safari/537.36";
        assert_eq!(device(Some(chrome)), "Chrome on Linux");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(device(Some(iphone)), "Safari on iPhone");
        assert_eq!(device(Some("curl/8.5.0")), "curl");
        assert_eq!(device(None), "Unknown device");
        assert_eq!(device(Some("  ")), "Unknown device");
    }
}
