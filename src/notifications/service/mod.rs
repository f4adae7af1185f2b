//! Notifications: delivering them (respecting mutes, once per dedupe key), the owner's inbox (snapshot,
//! pages, seen/read/delete/clear), preferences, and expiry. Every change to an inbox appends an event
//! with the new counts on `inbox:{id}`, in the change's own transaction, so every open tab follows.
//!
//! Only the owner reads or changes an inbox; admins and mentors may only send.

use crate::accounts::service::Caller;
use crate::accounts::users;
use crate::accounts::ApiScope;
use crate::events::DurableEvent;
use crate::model::{Millis, Role, UserId};
use crate::notifications::{
    self, Audience, InboxChange, InboxCounts, InboxEvent, InboxSnapshot, Kind, NewNotification,
    Notification, NotificationFilter, NotificationPage, Preferences, Priority,
};
use crate::protocol::{Position, Topic};
use crate::server::db::{internal, Conn, Db, Tx};
use crate::server::idempotency::{self, Claim, Key};
use crate::server::realtime::{log, Change, Hub};
use crate::{with_conn, with_db, with_tx, AppError, FieldError};

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

const SELECT: &str =
    "SELECT n.id, n.kind, n.priority, n.title, n.message, n.link, s.display_name AS sender_name, \
     n.created_at, n.expires_at, n.seen_at, n.read_at FROM notifications n \
     LEFT JOIN users s ON s.id = n.sender_id";

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    kind: String,
    priority: String,
    title: String,
    message: String,
    link: Option<String>,
    sender_name: Option<String>,
    created_at: i64,
    expires_at: Option<i64>,
    seen_at: Option<i64>,
    read_at: Option<i64>,
}

impl Row {
    fn into_notification(self) -> Notification {
        Notification {
            id: self.id,
            kind: Kind::parse(&self.kind).unwrap_or(Kind::System),
            priority: Priority::parse(&self.priority).unwrap_or(Priority::Normal),
            title: self.title,
            message: self.message,
            link: self.link,
            sender_name: self.sender_name,
            created_at: self.created_at,
            expires_at: self.expires_at,
            seen_at: self.seen_at,
            read_at: self.read_at,
        }
    }
}

pub async fn counts(
    conn: &mut Conn<'_>,
    user: UserId,
    now: Millis,
) -> Result<InboxCounts, AppError> {
    let (total, unseen, unread): (i64, i64, i64) = with_conn!(conn, c => sqlx::query_as(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN seen_at IS NULL THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN read_at IS NULL THEN 1 ELSE 0 END), 0) FROM notifications \
         WHERE user_id = $1 AND (expires_at IS NULL OR expires_at > $2)")
        .bind(user).bind(now).fetch_one(&mut *c).await.map_err(internal)?);
    Ok(InboxCounts {
        unseen,
        unread,
        total,
    })
}

/// Emits an inbox event for `user` carrying the counts after the change; returns the counts.
async fn inbox_event(
    change: &mut Change<'_>,
    user: UserId,
    what: InboxChange,
) -> Result<InboxCounts, AppError> {
    let now = change.now();
    let counts = counts(&mut change.conn(), user, now).await?;
    let event = DurableEvent::inbox(InboxEvent {
        change: what,
        counts,
    });
    change.emit(Topic::Inbox(user), &event).await?;
    Ok(counts)
}

pub async fn preferences(conn: &mut Conn<'_>, user: UserId) -> Result<Preferences, AppError> {
    let row: Option<(String, bool, bool)> = with_conn!(conn, c => sqlx::query_as(
        "SELECT muted_kinds, sound, desktop FROM notification_preferences WHERE user_id = $1")
        .bind(user).fetch_optional(&mut *c).await.map_err(internal)?);
    Ok(match row {
        None => Preferences::default(),
        Some((muted, sound, desktop)) => Preferences {
            muted: muted
                .split_whitespace()
                .filter_map(Kind::parse)
                .filter(|k| k.can_mute())
                .collect(),
            sound,
            desktop,
        },
    })
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

fn owner(caller: &Caller) -> Result<UserId, AppError> {
    caller.require_scope(ApiScope::NotificationsRead)?;
    Ok(caller.user.id)
}

/// The bell: the newest unexpired notifications, counts, preferences, and the inbox position.
pub async fn snapshot(db: &Db, caller: &Caller) -> Result<InboxSnapshot, AppError> {
    let user = owner(caller)?;
    let head = log::head(db, Topic::Inbox(user)).await?;
    let now = crate::server::now_ms();
    let page = list(
        db,
        caller,
        &NotificationFilter {
            limit: Some(notifications::BELL_SIZE as i64),
            ..Default::default()
        },
    )
    .await?;
    let mut pooled = db.acquire().await?;
    let mut conn = pooled.conn();
    Ok(InboxSnapshot {
        items: page.items,
        counts: counts(&mut conn, user, now).await?,
        preferences: preferences(&mut conn, user).await?,
        position: Position {
            epoch: head.epoch,
            offset: head.head,
        },
    })
}

/// A page of the caller's unexpired notifications, newest first.
pub async fn list(
    db: &Db,
    caller: &Caller,
    filter: &NotificationFilter,
) -> Result<NotificationPage, AppError> {
    let user = owner(caller)?;
    let limit = filter.limit.unwrap_or(20).clamp(1, 100);
    let sql = format!(
        "{SELECT} WHERE n.user_id = $1 AND (n.expires_at IS NULL OR n.expires_at > $2) AND n.id < $3 \
         AND ($4 = 0 OR n.read_at IS NULL) AND ($5 = '' OR n.kind = $5) AND ($6 = '' OR n.priority = $6) \
         ORDER BY n.id DESC LIMIT $7"
    );
    let rows = with_db!(db, pool => sqlx::query_as::<_, Row>(&sql)
        .bind(user).bind(crate::server::now_ms()).bind(filter.before.unwrap_or(i64::MAX))
        .bind(i64::from(filter.unread)).bind(filter.kind.map_or("", Kind::as_str))
        .bind(filter.priority.map_or("", Priority::as_str)).bind(limit + 1)
        .fetch_all(pool).await)
    .map_err(internal)?;
    let more = rows.len() as i64 > limit;
    let items: Vec<Notification> = rows
        .into_iter()
        .take(limit as usize)
        .map(Row::into_notification)
        .collect();
    let next = if more {
        items.last().map(|n| n.id)
    } else {
        None
    };
    Ok(NotificationPage { items, next })
}

/// Which notifications a change applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    All,
    Ids(Vec<i64>),
}

impl Target {
    fn checked(self) -> Result<Target, AppError> {
        match &self {
            Target::Ids(ids) if ids.is_empty() => Err(AppError::validation(
                "ids",
                "Choose at least one notification.",
            )),
            Target::Ids(ids) if ids.len() > 200 => {
                Err(AppError::validation("ids", "Change at most 200 at a time."))
            }
            _ => Ok(self),
        }
    }

    /// The ids to apply a per-id statement to; `None` for everything.
    fn ids(&self) -> Option<&[i64]> {
        match self {
            Target::All => None,
            Target::Ids(ids) => Some(ids),
        }
    }
}

/// Runs `sql` (with $1 = owner, $2 = now, $3 = id when per id) for the target; returns rows changed.
async fn apply(
    tx: &mut Tx,
    sql_all: &str,
    sql_one: &str,
    user: UserId,
    now: Millis,
    target: &Target,
) -> Result<u64, AppError> {
    let mut changed = 0;
    match target.ids() {
        None => {
            changed += with_tx!(&mut *tx, c => sqlx::query(sql_all).bind(user).bind(now)
                .execute(&mut *c).await.map_err(internal)?.rows_affected());
        }
        Some(ids) => {
            for id in ids {
                changed += with_tx!(&mut *tx, c => sqlx::query(sql_one).bind(user).bind(now).bind(id)
                    .execute(&mut *c).await.map_err(internal)?.rows_affected());
            }
        }
    }
    Ok(changed)
}

/// Ends an inbox change: emits its event with the counts after it, commits and publishes.
async fn commit_change(
    mut change: Change<'_>,
    user: UserId,
    what: InboxChange,
) -> Result<InboxCounts, AppError> {
    let counts = inbox_event(&mut change, user, what).await?;
    change.commit().await?;
    Ok(counts)
}

/// Marks every unseen notification seen (the bell was opened). No event if nothing changed.
pub async fn mark_seen(db: &Db, hub: &Hub, caller: &Caller) -> Result<InboxCounts, AppError> {
    let user = owner(caller)?;
    let mut change = Change::begin(db, hub).await?;
    let now = change.now();
    change.lock(Topic::Inbox(user)).await?;
    let changed = with_tx!(change.tx(), c => sqlx::query(
        "UPDATE notifications SET seen_at = $2 WHERE user_id = $1 AND seen_at IS NULL")
        .bind(user).bind(now).execute(&mut *c).await.map_err(internal)?.rows_affected());
    if changed == 0 {
        let c = counts(&mut change.conn(), user, now).await?;
        change.commit().await?;
        return Ok(c);
    }
    let what = InboxChange::Marked {
        ids: vec![],
        all: true,
        seen_at: Some(now),
        read: None,
        at: now,
    };
    commit_change(change, user, what).await
}

/// Marks notifications read or unread (reading also marks them seen).
pub async fn mark_read(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    target: Target,
    read: bool,
) -> Result<InboxCounts, AppError> {
    let user = owner(caller)?;
    let target = target.checked()?;
    let mut change = Change::begin(db, hub).await?;
    let now = change.now();
    change.lock(Topic::Inbox(user)).await?;
    let (all, one) = if read {
        (
            "UPDATE notifications SET read_at = $2, seen_at = COALESCE(seen_at, $2) WHERE user_id = $1 AND read_at IS NULL",
            "UPDATE notifications SET read_at = $2, seen_at = COALESCE(seen_at, $2) WHERE user_id = $1 AND id = $3 AND read_at IS NULL",
        )
    } else {
        (
            "UPDATE notifications SET read_at = NULL WHERE user_id = $1 AND read_at IS NOT NULL AND $2 = $2",
            "UPDATE notifications SET read_at = NULL WHERE user_id = $1 AND id = $3 AND read_at IS NOT NULL AND $2 = $2",
        )
    };
    let changed = apply(change.tx(), all, one, user, now, &target).await?;
    if changed == 0 {
        // Nothing of the caller's changed (already in that state, or not theirs): no event.
        let c = counts(&mut change.conn(), user, now).await?;
        change.commit().await?;
        return Ok(c);
    }
    let (ids, all) = match target {
        Target::All => (vec![], true),
        Target::Ids(ids) => (ids, false),
    };
    let what = InboxChange::Marked {
        ids,
        all,
        seen_at: read.then_some(now),
        read: Some(read),
        at: now,
    };
    commit_change(change, user, what).await
}

/// Deletes notifications (all of them: "clear all").
pub async fn delete(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    target: Target,
) -> Result<InboxCounts, AppError> {
    // Tokens may list and mark, never delete.
    if caller.scopes.is_some() {
        return Err(AppError::Forbidden);
    }
    let user = owner(caller)?;
    let target = target.checked()?;
    let mut change = Change::begin(db, hub).await?;
    let now = change.now();
    change.lock(Topic::Inbox(user)).await?;
    let deleted = apply(
        change.tx(),
        "DELETE FROM notifications WHERE user_id = $1 AND $2 = $2",
        "DELETE FROM notifications WHERE user_id = $1 AND id = $3 AND $2 = $2",
        user,
        now,
        &target,
    )
    .await?;
    // Naming only ids that are not yours (or gone) is a 404, never a hint that they exist.
    if deleted == 0 && target != Target::All {
        return Err(AppError::not_found("That notification"));
    }
    let what = match target {
        Target::All => InboxChange::Cleared,
        Target::Ids(ids) => InboxChange::Deleted { ids },
    };
    commit_change(change, user, what).await
}

/// Saves the caller's preferences (system notifications cannot be muted).
pub async fn set_preferences(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    prefs: &Preferences,
) -> Result<Preferences, AppError> {
    let user = owner(caller)?;
    if prefs.muted.contains(&Kind::System) {
        return Err(AppError::validation(
            "muted",
            "System notifications cannot be muted.",
        ));
    }
    let mut muted = prefs.muted.clone();
    muted.sort();
    muted.dedup();
    let saved = Preferences {
        muted,
        sound: prefs.sound,
        desktop: prefs.desktop,
    };
    let text = saved
        .muted
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let mut change = Change::begin(db, hub).await?;
    change.lock(Topic::Inbox(user)).await?;
    with_tx!(change.tx(), c => sqlx::query(
        "INSERT INTO notification_preferences (user_id, muted_kinds, sound, desktop) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id) DO UPDATE SET muted_kinds = excluded.muted_kinds, sound = excluded.sound, \
         desktop = excluded.desktop")
        .bind(user).bind(&text).bind(saved.sound).bind(saved.desktop)
        .execute(&mut *c).await.map(|_| ()).map_err(internal)?);
    let what = InboxChange::Preferences {
        preferences: saved.clone(),
    };
    commit_change(change, user, what).await?;
    Ok(saved)
}

/// Deletes expired notifications and tells each owner's tabs (with fresh counts). Returns how many.
pub async fn purge_expired(db: &Db, hub: &Hub, now: Millis) -> Result<usize, AppError> {
    let expired: Vec<(i64, i64)> = with_db!(db, pool => sqlx::query_as(
        "SELECT user_id, id FROM notifications WHERE expires_at IS NOT NULL AND expires_at <= $1 \
         ORDER BY user_id, id LIMIT 5000")
        .bind(now).fetch_all(pool).await)
    .map_err(internal)?;
    let mut by_user: std::collections::BTreeMap<UserId, Vec<i64>> = Default::default();
    for (user, id) in &expired {
        by_user.entry(*user).or_default().push(*id);
    }
    for (user, ids) in by_user {
        let mut change = Change::begin_at(db, hub, now).await?;
        change.lock(Topic::Inbox(user)).await?;
        for id in &ids {
            with_tx!(change.tx(), c => sqlx::query("DELETE FROM notifications WHERE id = $1")
                .bind(id).execute(&mut *c).await.map(|_| ()).map_err(internal)?);
        }
        inbox_event(&mut change, user, InboxChange::Expired { ids }).await?;
        change.commit().await?;
    }
    Ok(expired.len())
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
