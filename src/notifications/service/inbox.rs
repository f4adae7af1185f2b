//! The owner's inbox: the bell's snapshot, pages, marking seen and read, deleting, and expiry.

use super::*;

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
