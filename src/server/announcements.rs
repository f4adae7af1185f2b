//! System-wide announcements: an admin posts one; the row and its event on the `announcements` topic are
//! written in one transaction, then the event is published to the hub.

use super::accounts::Caller;
use super::db::{internal, Db};
use super::realtime::StoredEvent;
use super::realtime::{log, Hub};
use crate::model::{Announcement, AnnouncementsSnapshot, Role, User};
use crate::protocol::{Position, Topic};
use crate::{with_db, with_tx, AppError};

pub const EVENT: &str = crate::server_events::ANNOUNCEMENT_CREATED;
pub const TITLE_MAX: usize = 120;
pub const BODY_MAX: usize = 2000;

pub async fn post(
    db: &Db,
    hub: &Hub,
    actor: &Caller,
    title: &str,
    body: &str,
) -> Result<Announcement, AppError> {
    if !actor.is(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let (announcement, event) = store(db, &actor.user, title, body).await?;
    hub.publish(&event);
    Ok(announcement)
}

/// Validates and writes an announcement and its event in one transaction. The caller publishes the
/// event (demo seeding has no one to publish to).
pub async fn store(
    db: &Db,
    author: &User,
    title: &str,
    body: &str,
) -> Result<(Announcement, StoredEvent), AppError> {
    let (title, body) = (
        crate::validate::text("title", title, TITLE_MAX),
        crate::validate::text("body", body, BODY_MAX),
    );
    crate::validate::collect([title.as_ref().err().cloned(), body.as_ref().err().cloned()])?;
    let (title, body) = (title.unwrap(), body.unwrap());
    let now = super::now_ms();
    let mut tx = db.begin().await?;
    let id: i64 = with_tx!(&mut tx, conn => sqlx::query_scalar(
        "INSERT INTO announcements (author_id, title, body, created_at, log_offset) VALUES ($1, $2, $3, $4, 0) RETURNING id")
        .bind(author.id).bind(&title).bind(&body).bind(now)
        .fetch_one(&mut *conn).await.map_err(internal)?);
    let mut announcement = Announcement {
        id,
        title,
        body,
        author_name: Some(author.display_name.clone()),
        created_at: now,
        offset: 0,
    };
    // The stored event names its own offset, as the row does.
    let event = log::append_with(&mut tx, Topic::Announcements, EVENT, now, |offset| {
        announcement.offset = offset;
        serde_json::to_value(&announcement).map_err(|_| AppError::Internal)
    })
    .await?;
    with_tx!(&mut tx, conn => sqlx::query("UPDATE announcements SET log_offset = $2 WHERE id = $1")
        .bind(id).bind(event.offset).execute(&mut *conn).await.map(|_| ()).map_err(internal)?);
    tx.commit().await?;
    Ok((announcement, event))
}

/// The newest announcements and the position they are current to. Reading the head first makes the
/// pair consistent: a row is included only if its event is at or before the head, and everything after
/// the head arrives live.
pub async fn snapshot(db: &Db, limit: i64) -> Result<AnnouncementsSnapshot, AppError> {
    let head = log::head(db, Topic::Announcements).await?;
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        title: String,
        body: String,
        author_name: Option<String>,
        created_at: i64,
        log_offset: i64,
    }
    let rows = with_db!(db, pool => sqlx::query_as::<_, Row>(
        "SELECT a.id, a.title, a.body, u.display_name AS author_name, a.created_at, a.log_offset \
         FROM announcements a LEFT JOIN users u ON u.id = a.author_id \
         WHERE a.log_offset <= $1 ORDER BY a.log_offset DESC LIMIT $2")
        .bind(head.head).bind(limit).fetch_all(pool).await)
    .map_err(internal)?;
    Ok(AnnouncementsSnapshot {
        items: rows
            .into_iter()
            .map(|r| Announcement {
                id: r.id,
                title: r.title,
                body: r.body,
                author_name: r.author_name,
                created_at: r.created_at,
                offset: r.log_offset,
            })
            .collect(),
        position: Position {
            epoch: head.epoch,
            offset: head.head,
        },
    })
}
