//! Sending notifications: one delivery (mutes, dedupe keys), who a sender may address, sends to an
//! audience (once per idempotency key, within a mentor's hourly limit), and the rules' own items.

use super::*;

/// A notification to deliver to one user.
#[derive(Debug, Clone)]
pub struct Item {
    pub kind: Kind,
    pub priority: Priority,
    pub title: String,
    pub message: String,
    pub link: Option<String>,
    pub expires_at: Option<Millis>,
    pub sender_id: Option<UserId>,
    /// Delivered at most once per user and key (milestones, rules).
    pub dedupe_key: Option<String>,
}

/// How many recipients a send reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SendReport {
    pub recipients: usize,
    /// Those who had not muted the kind.
    pub delivered: usize,
}

/// Delivers one notification in `change` unless the user muted its kind or already has its dedupe
/// key; its event is published with the change.
pub async fn deliver(
    change: &mut Change<'_>,
    user: UserId,
    item: &Item,
) -> Result<Option<Notification>, AppError> {
    let now = change.now();
    let prefs = preferences(&mut change.conn(), user).await?;
    if prefs.muted.contains(&item.kind) {
        return Ok(None);
    }
    change.lock(Topic::Inbox(user)).await?;
    if let Some(key) = &item.dedupe_key {
        let fresh: Option<i64> = with_tx!(change.tx(), c => sqlx::query_scalar(
            "INSERT INTO notification_keys (user_id, key) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING user_id")
            .bind(user).bind(key).fetch_optional(&mut *c).await.map_err(internal)?);
        if fresh.is_none() {
            return Ok(None);
        }
    }
    let id: Option<i64> = with_tx!(change.tx(), c => sqlx::query_scalar(
        "INSERT INTO notifications (user_id, kind, priority, title, message, link, sender_id, \
         created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
        .bind(user).bind(item.kind.as_str()).bind(item.priority.as_str()).bind(&item.title)
        .bind(&item.message).bind(&item.link).bind(item.sender_id)
        .bind(now).bind(item.expires_at)
        .fetch_optional(&mut *c).await.map_err(internal)?);
    let Some(id) = id else {
        return Ok(None);
    };
    let sql = format!("{SELECT} WHERE n.id = $1");
    let notification = with_tx!(change.tx(), c => sqlx::query_as::<_, Row>(&sql).bind(id)
        .fetch_one(&mut *c).await.map_err(internal)?)
    .into_notification();
    let what = InboxChange::Created {
        notification: notification.clone(),
    };
    inbox_event(change, user, what).await?;
    Ok(Some(notification))
}

/// Validates a send request into the item to deliver.
fn item_from(input: &NewNotification, sender: UserId, now: Millis) -> Result<Item, AppError> {
    let title = crate::validate::text("title", &input.title, notifications::TITLE_MAX);
    let message = crate::validate::text("message", &input.message, notifications::MESSAGE_MAX);
    let link = notifications::link(input.link.as_deref());
    let ttl = match input.ttl_secs {
        Some(s) if !(1..=notifications::TTL_MAX_SECS).contains(&s) => Err(FieldError::new(
            "ttl_secs",
            "Choose an expiry between one second and one year.",
        )),
        other => Ok(other),
    };
    crate::validate::collect([
        title.as_ref().err().cloned(),
        message.as_ref().err().cloned(),
        link.as_ref().err().cloned(),
        ttl.as_ref().err().cloned(),
    ])?;
    Ok(Item {
        kind: input.kind,
        priority: input.priority,
        title: title.unwrap(),
        message: message.unwrap(),
        link: link.unwrap(),
        expires_at: ttl.unwrap().map(|s| now + s * 1000),
        sender_id: Some(sender),
        dedupe_key: None,
    })
}

/// Who an audience names, after checking that the caller may address it: admins anyone; mentors
/// their own students, one of them, or the students of a cohort one of their students is in (never as
/// `system`); nobody else.
async fn recipients(
    db: &Db,
    caller: &Caller,
    input: &NewNotification,
) -> Result<Vec<UserId>, AppError> {
    let mentor_target = |ids: Vec<UserId>| -> Result<Vec<UserId>, AppError> {
        if input.kind == Kind::System {
            return Err(AppError::validation(
                "kind",
                "Only administrators send system notifications.",
            ));
        }
        Ok(ids)
    };
    match (caller.user.role, &input.audience) {
        (Role::Admin, audience) => {
            let active = "disabled_at IS NULL";
            let ids: Vec<i64> = match audience {
                Audience::User { id } => with_db!(db, pool => sqlx::query_scalar(
                    &format!("SELECT id FROM users WHERE id = $1 AND {active}"))
                    .bind(id).fetch_all(pool).await),
                Audience::Cohort { id } => with_db!(db, pool => sqlx::query_scalar(
                    &format!("SELECT id FROM users WHERE cohort_id = $1 AND {active} ORDER BY id"))
                    .bind(id).fetch_all(pool).await),
                Audience::Role { role } => with_db!(db, pool => sqlx::query_scalar(
                    &format!("SELECT id FROM users WHERE role = $1 AND {active} ORDER BY id"))
                    .bind(role.as_str()).fetch_all(pool).await),
                Audience::Everyone => with_db!(db, pool => sqlx::query_scalar(
                    &format!("SELECT id FROM users WHERE {active} ORDER BY id"))
                    .fetch_all(pool).await),
                Audience::MyStudents => with_db!(db, pool => sqlx::query_scalar(
                    "SELECT student_id FROM mentor_assignments WHERE mentor_id = $1 ORDER BY student_id")
                    .bind(caller.user.id).fetch_all(pool).await),
            }
            .map_err(internal)?;
            if ids.is_empty() {
                if let Audience::User { .. } = audience {
                    return Err(AppError::validation(
                        "audience",
                        "There is no such active user.",
                    ));
                }
                // An empty cohort is a send to nobody; a cohort that does not exist is a mistake.
                if let Audience::Cohort { id } = audience {
                    let found: Option<i64> = with_db!(db, pool => sqlx::query_scalar(
                        "SELECT id FROM cohorts WHERE id = $1")
                        .bind(id).fetch_optional(pool).await)
                    .map_err(internal)?;
                    if found.is_none() {
                        return Err(AppError::validation("audience", "There is no such cohort."));
                    }
                }
            }
            Ok(ids)
        }
        (Role::Mentor, Audience::Cohort { id }) => {
            let mentored = crate::accounts::cohorts::mentored_by(db, caller.user.id).await?;
            if !mentored.iter().any(|c| c.id == *id) {
                return Err(AppError::Forbidden);
            }
            let ids: Vec<i64> = with_db!(db, pool => sqlx::query_scalar(
                "SELECT id FROM users WHERE cohort_id = $1 AND role = 'student' AND disabled_at IS NULL ORDER BY id")
                .bind(id).fetch_all(pool).await)
            .map_err(internal)?;
            mentor_target(ids)
        }
        (Role::Mentor, Audience::MyStudents) => {
            mentor_target(users::students_of(db, caller.user.id).await?)
        }
        (Role::Mentor, Audience::User { id }) => {
            if users::students_of(db, caller.user.id).await?.contains(id) {
                mentor_target(vec![*id])
            } else {
                Err(AppError::Forbidden)
            }
        }
        _ => Err(AppError::Forbidden),
    }
}

/// The people the caller may address as one user whose name or email contains `query` (case-insensitive;
/// empty lists the first ones by name), at most [`notifications::RECIPIENTS_MAX`]: admins any active user,
/// mentors their own active students, nobody else (403). The same rule [`recipients`] applies to a send.
pub async fn addressable(
    db: &Db,
    caller: &Caller,
    query: &str,
) -> Result<Vec<notifications::Recipient>, AppError> {
    caller.require_scope(ApiScope::NotificationsWrite)?;
    let query = query.trim();
    if query.chars().count() > 100 {
        return Err(AppError::validation(
            "query",
            "Search with at most 100 characters.",
        ));
    }
    // LIKE wildcards in the query are taken literally by dropping them (as the admin table does).
    let pattern = format!("%{}%", query.to_lowercase().replace(['\\', '%', '_'], ""));
    let matches =
        "(lower(u.display_name) LIKE $1 OR lower(u.email) LIKE $1) AND u.disabled_at IS NULL";
    let sql = match caller.user.role {
        Role::Admin => format!(
            "SELECT u.id, u.display_name, u.email, u.role FROM users u WHERE {matches} \
             ORDER BY lower(u.display_name), u.id LIMIT $2"
        ),
        Role::Mentor => format!(
            "SELECT u.id, u.display_name, u.email, u.role FROM mentor_assignments m \
             JOIN users u ON u.id = m.student_id WHERE m.mentor_id = $3 AND {matches} \
             ORDER BY lower(u.display_name), u.id LIMIT $2"
        ),
        Role::Student => return Err(AppError::Forbidden),
    };
    let rows: Vec<(i64, String, String, String)> = with_db!(db, pool => {
        let q = sqlx::query_as(&sql).bind(&pattern).bind(notifications::RECIPIENTS_MAX);
        let q = if caller.is(Role::Mentor) { q.bind(caller.user.id) } else { q };
        q.fetch_all(pool).await
    })
    .map_err(internal)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, display_name, email, role)| {
            Some(notifications::Recipient {
                id,
                display_name,
                email,
                role: Role::parse(&role)?,
            })
        })
        .collect())
}

/// The cohorts the caller may address: every cohort for admins, their students' cohorts for mentors,
/// none for students (403).
pub async fn addressable_cohorts(
    db: &Db,
    caller: &Caller,
) -> Result<Vec<crate::model::Cohort>, AppError> {
    caller.require_scope(ApiScope::NotificationsWrite)?;
    match caller.user.role {
        Role::Admin => crate::accounts::cohorts::list(db).await,
        Role::Mentor => crate::accounts::cohorts::mentored_by(db, caller.user.id).await,
        Role::Student => Err(AppError::Forbidden),
    }
}

/// Sends a notification to an audience: one row and one inbox event per recipient, in one transaction.
pub async fn send(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    input: &NewNotification,
) -> Result<SendReport, AppError> {
    send_once(db, hub, caller, input, None).await
}

/// Sends at most once per idempotency key: a repeat of `key` answers the first send's report and
/// delivers nothing (see [`crate::server::idempotency`]); it does not count against a mentor's hourly limit.
pub async fn send_once(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    input: &NewNotification,
    key: Option<&str>,
) -> Result<SendReport, AppError> {
    caller.require_scope(ApiScope::NotificationsWrite)?;
    if caller.is(Role::Student) {
        return Err(AppError::Forbidden);
    }
    let key = Key::parse(key)?;
    let now = crate::server::now_ms();
    let item = item_from(input, caller.user.id, now)?;
    let ids = recipients(db, caller, input).await?;
    let mut change = Change::begin_at(db, hub, now).await?;
    let scope = "notifications.send";
    let ticket =
        match idempotency::claim(change.tx(), caller.user.id, scope, key.as_ref(), now).await? {
            Claim::Done(first) => return Ok(first),
            Claim::New(ticket) => ticket,
        };
    if !caller.is(Role::Admin) {
        limit_sends(change.tx(), caller.user.id, now).await?;
    }
    let mut delivered = 0;
    for id in &ids {
        if deliver(&mut change, *id, &item).await?.is_some() {
            delivered += 1;
        }
    }
    let report = SendReport {
        recipients: ids.len(),
        delivered,
    };
    idempotency::finish(change.tx(), ticket, &report).await?;
    change.commit().await?;
    Ok(report)
}

/// How many sends a mentor may make in an hour (each send is one batch, whatever its audience).
pub const MENTOR_SENDS_PER_HOUR: i64 = 20;

/// Refuses a mentor's send past the hourly limit, counted in the send's own transaction from a log that
/// deletes and expiry do not touch. The sender's row is locked first on PostgreSQL so parallel sends
/// queue instead of all passing the check (SQLite writers are serialized already).
async fn limit_sends(tx: &mut Tx, sender: UserId, now: Millis) -> Result<(), AppError> {
    let since = now - 3_600_000;
    let lock = format!(
        "SELECT id FROM users WHERE id = $1{}",
        tx.backend().for_update()
    );
    with_tx!(&mut *tx, c => sqlx::query(&lock).bind(sender).execute(&mut *c).await.map(|_| ()))
        .map_err(internal)?;
    let (sends, oldest): (i64, Option<i64>) = with_tx!(&mut *tx, c => sqlx::query_as(
        "SELECT COUNT(*), MIN(sent_at) FROM notification_sends WHERE sender_id = $1 AND sent_at > $2")
        .bind(sender).bind(since).fetch_one(&mut *c).await.map_err(internal)?);
    if sends >= MENTOR_SENDS_PER_HOUR {
        let retry = oldest.map_or(3600, |o| ((o - since) / 1000).max(1)) as u64;
        return Err(AppError::RateLimited {
            message: format!(
                "You can send {MENTOR_SENDS_PER_HOUR} notifications an hour. Try again in {} minutes.",
                retry.div_ceil(60)
            ),
            retry_after_secs: retry,
        });
    }
    with_tx!(&mut *tx, c => sqlx::query("INSERT INTO notification_sends (sender_id, sent_at) VALUES ($1, $2)")
        .bind(sender).bind(now).execute(&mut *c).await.map(|_| ()).map_err(internal)?);
    Ok(())
}

/// Notifications sent by rules to a user, e.g. milestones (no sender).
pub fn rule(
    kind: Kind,
    priority: Priority,
    title: String,
    message: String,
    link: &str,
    key: String,
) -> Item {
    Item {
        kind,
        priority,
        title,
        message,
        link: Some(link.to_string()),
        expires_at: None,
        sender_id: None,
        dedupe_key: Some(key),
    }
}
