//! System-wide announcements: an admin posts, edits or deletes one; the row and its event on the
//! `announcements` topic are one [`Change`] (written together, published after the commit).

use crate::accounts::service::Caller;
use crate::announcements::{Announcement, AnnouncementsSnapshot, ANNOUNCEMENTS_LATEST};
use crate::events::{DurableEvent, Removed};
use crate::model::{Role, User};
use crate::protocol::{Position, Topic};
use crate::server::db::{internal, Db};
use crate::server::idempotency::{self, Claim, Key};
use crate::server::realtime::{log, Change, Hub};
use crate::{with_db, with_tx, AppError};

pub const TITLE_MAX: usize = 120;
pub const BODY_MAX: usize = 2000;

pub async fn post(
    db: &Db,
    hub: &Hub,
    actor: &Caller,
    title: &str,
    body: &str,
) -> Result<Announcement, AppError> {
    post_once(db, hub, actor, title, body, None).await
}

/// Posts at most once per idempotency key: a repeat of `key` answers the first request's
/// announcement and publishes nothing (see [`crate::server::idempotency`]).
pub async fn post_once(
    db: &Db,
    hub: &Hub,
    actor: &Caller,
    title: &str,
    body: &str,
    key: Option<&str>,
) -> Result<Announcement, AppError> {
    if !actor.is(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let key = Key::parse(key)?;
    write(db, hub, &actor.user, title, body, key.as_ref()).await
}

/// Validates and writes an announcement by `author` without asking who they are (demo seeding).
pub async fn store(
    db: &Db,
    hub: &Hub,
    author: &User,
    title: &str,
    body: &str,
) -> Result<Announcement, AppError> {
    write(db, hub, author, title, body, None).await
}

/// The write behind [`store`] and [`post_once`]: the row and its event in one change. A repeat of
/// `key` answers the first announcement and writes nothing.
async fn write(
    db: &Db,
    hub: &Hub,
    author: &User,
    title: &str,
    body: &str,
    key: Option<&Key>,
) -> Result<Announcement, AppError> {
    let (title, body) = validated(title, body)?;
    let mut change = Change::begin(db, hub).await?;
    let now = change.now();
    let ticket =
        match idempotency::claim(change.tx(), author.id, "announcements.post", key, now).await? {
            Claim::Done(first) => return Ok(first),
            Claim::New(ticket) => ticket,
        };
    let id: i64 = with_tx!(change.tx(), conn => sqlx::query_scalar(
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
    let offset = change
        .emit_with(Topic::Announcements, |offset| {
            announcement.offset = offset;
            DurableEvent::AnnouncementCreated(announcement.clone())
        })
        .await?
        .offset;
    with_tx!(change.tx(), conn => sqlx::query("UPDATE announcements SET log_offset = $2 WHERE id = $1")
        .bind(id).bind(offset).execute(&mut *conn).await.map(|_| ()).map_err(internal)?);
    idempotency::finish(change.tx(), ticket, &announcement).await?;
    change.commit().await?;
    Ok(announcement)
}

/// The trimmed title and body, or every field's problem at once.
fn validated(title: &str, body: &str) -> Result<(String, String), AppError> {
    let (title, body) = (
        crate::validate::text("title", title, TITLE_MAX),
        crate::validate::text("body", body, BODY_MAX),
    );
    crate::validate::collect([title.as_ref().err().cloned(), body.as_ref().err().cloned()])?;
    // Both are Ok here: `collect` answered every error above.
    Ok((title.unwrap_or_default(), body.unwrap_or_default()))
}

/// Replaces an announcement's title and body (admins). Its `announcement.updated` event carries the
/// whole announcement with its original offset, so a client replaces it in place; a snapshot taken
/// meanwhile already has the new text and applying the event again changes nothing.
pub async fn edit(
    db: &Db,
    hub: &Hub,
    actor: &Caller,
    id: i64,
    title: &str,
    body: &str,
) -> Result<Announcement, AppError> {
    if !actor.is(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let (title, body) = validated(title, body)?;
    let mut change = Change::begin(db, hub).await?;
    let row: Option<(Option<i64>, i64, i64)> = with_tx!(change.tx(), conn => sqlx::query_as(
        "UPDATE announcements SET title = $2, body = $3 WHERE id = $1 \
         RETURNING author_id, created_at, log_offset")
        .bind(id).bind(&title).bind(&body)
        .fetch_optional(&mut *conn).await.map_err(internal)?);
    let Some((author, created_at, offset)) = row else {
        return Err(AppError::not_found("announcement"));
    };
    let author_name: Option<String> = with_tx!(change.tx(), conn => sqlx::query_scalar(
        "SELECT display_name FROM users WHERE id = $1")
        .bind(author).fetch_optional(&mut *conn).await.map_err(internal)?);
    let announcement = Announcement {
        id,
        title,
        body,
        author_name,
        created_at,
        offset,
    };
    let updated = DurableEvent::AnnouncementUpdated(announcement.clone());
    change.emit(Topic::Announcements, &updated).await?;
    change.commit().await?;
    Ok(announcement)
}

/// Deletes an announcement (admins); its `announcement.deleted` event names the id.
pub async fn delete(db: &Db, hub: &Hub, actor: &Caller, id: i64) -> Result<(), AppError> {
    if !actor.is(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let mut change = Change::begin(db, hub).await?;
    let gone = with_tx!(change.tx(), conn => sqlx::query("DELETE FROM announcements WHERE id = $1")
        .bind(id).execute(&mut *conn).await.map(|r| r.rows_affected()).map_err(internal)?);
    if gone == 0 {
        return Err(AppError::not_found("announcement"));
    }
    let deleted = DurableEvent::AnnouncementDeleted(Removed { id });
    change.emit(Topic::Announcements, &deleted).await?;
    change.commit().await?;
    Ok(())
}

/// The newest [`ANNOUNCEMENTS_LATEST`] announcements and the position they are current to, for anyone
/// signed in (the caller is proof of that). Reading the head first makes the pair consistent: a row is
/// included only if its event is at or before the head, and everything after the head arrives live.
pub async fn snapshot(db: &Db, _caller: &Caller) -> Result<AnnouncementsSnapshot, AppError> {
    let limit = ANNOUNCEMENTS_LATEST as i64;
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
