//! The activity feed: recording what someone did (in the transaction of the change itself), listing
//! what a viewer may see with cursor pagination, and per-viewer read state.
//!
//! Visibility: the actor, their mentors and admins; nobody else.

use crate::accounts::service::Caller;
use crate::accounts::users;
use crate::events::DurableEvent;
use crate::feed::{self, Activity, FeedFilter, FeedPage, NewActivity};
use crate::model::{Millis, Role, User, UserId};
use crate::protocol::{Position, Topic};
use crate::server::db::{fetch_in, internal, Db};
use crate::server::realtime::{log, Change};
use crate::{with_conn, with_db, with_tx, AppError};

/// What to record: the kind, what it is about, a title and optional details.
pub struct Record<'a> {
    pub kind: &'a str,
    pub subject: Option<String>,
    pub title: String,
    pub details: Option<String>,
}

/// Writes an activity for `actor` in `change` and emits its events (the actor's stream and the
/// admins' feed), published with the change.
pub async fn record(
    change: &mut Change<'_>,
    actor: &User,
    what: Record<'_>,
) -> Result<Activity, AppError> {
    let now = change.now();
    let day = crate::learning::analytics::format_day(crate::learning::analytics::local_day(
        &actor.time_zone,
        now,
    ));
    let id: i64 = with_tx!(change.tx(), conn => sqlx::query_scalar(
        "INSERT INTO activities (user_id, kind, subject, title, details, day, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
        .bind(actor.id).bind(what.kind).bind(&what.subject).bind(&what.title).bind(&what.details)
        .bind(&day).bind(now)
        .fetch_one(&mut *conn).await.map_err(internal)?);
    let activity = Activity {
        id,
        user_id: actor.id,
        actor_name: actor.display_name.clone(),
        kind: what.kind.to_string(),
        subject: what.subject,
        title: what.title,
        details: what.details,
        day,
        created_at: now,
        read: false,
    };
    let event = DurableEvent::ActivityCreated(activity.clone());
    for topic in [Topic::User(actor.id), Topic::Role(Role::Admin)] {
        change.emit(topic, &event).await?;
    }
    Ok(activity)
}

/// Records an activity for a user through the API: admins (or an admin's token with the
/// `activities:write` scope) for anyone, and users for themselves.
pub async fn record_for(
    db: &Db,
    hub: &crate::server::realtime::Hub,
    caller: &Caller,
    input: &NewActivity,
) -> Result<Activity, AppError> {
    caller.require_scope(crate::accounts::api_tokens::Scope::ActivitiesWrite)?;
    if !caller.is(Role::Admin) && caller.user.id != input.user_id {
        return Err(AppError::Forbidden);
    }
    // The app's own kinds are recorded by the app only, so the feed cannot be forged through the API.
    let kind = feed::kind(&input.kind).and_then(|k| {
        if feed::kinds::RESERVED.contains(&k.as_str()) {
            Err(crate::FieldError::new(
                "kind",
                "Studyhall records this kind itself; use your own, such as course.completed.",
            ))
        } else {
            Ok(k)
        }
    });
    let title = crate::validate::text("title", &input.title, feed::TITLE_MAX);
    let details =
        crate::validate::optional_text("details", input.details.as_deref(), feed::DETAILS_MAX);
    let subject = crate::validate::optional_text("subject", input.subject.as_deref(), 80);
    crate::validate::collect([
        kind.as_ref().err().cloned(),
        title.as_ref().err().cloned(),
        details.as_ref().err().cloned(),
        subject.as_ref().err().cloned(),
    ])?;
    let actor = users::find(db, input.user_id)
        .await?
        .ok_or_else(|| AppError::validation("user_id", "There is no such user."))?;
    let kind = kind.unwrap();
    let mut change = Change::begin(db, hub).await?;
    let activity = record(
        &mut change,
        &actor,
        Record {
            kind: &kind,
            subject: subject.unwrap(),
            title: title.unwrap(),
            details: details.unwrap(),
        },
    )
    .await?;
    change.commit().await?;
    Ok(activity)
}

/// The SQL condition for "activities `a` the viewer ($1) may see".
fn visible(role: Role) -> &'static str {
    match role {
        Role::Admin => "1 = 1",
        Role::Mentor => {
            "(a.user_id = $1 OR a.user_id IN (SELECT student_id FROM mentor_assignments WHERE mentor_id = $1))"
        }
        Role::Student => "a.user_id = $1",
    }
}

/// "Not read by the viewer ($1)": own activities count as read.
const UNREAD: &str = "(a.user_id <> $1 AND COALESCE(\
    (SELECT NOT r.is_read FROM activity_reads r WHERE r.viewer_id = $1 AND r.activity_id = a.id), \
    a.id > COALESCE((SELECT m.read_through FROM feed_marks m WHERE m.viewer_id = $1), 0)))";

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    user_id: i64,
    actor_name: String,
    kind: String,
    subject: Option<String>,
    title: String,
    details: Option<String>,
    day: String,
    created_at: i64,
    unread: bool,
}

impl From<Row> for Activity {
    fn from(r: Row) -> Activity {
        Activity {
            id: r.id,
            user_id: r.user_id,
            actor_name: r.actor_name,
            kind: r.kind,
            subject: r.subject,
            title: r.title,
            details: r.details,
            day: r.day,
            created_at: r.created_at,
            read: !r.unread,
        }
    }
}

/// The feed's live streams for the caller and where each stands, to subscribe from with the first
/// page: admins `role:admin`; students their own `user:{id}`; mentors their own and each student's.
pub async fn streams(db: &Db, caller: &Caller) -> Result<Vec<(Topic, Position)>, AppError> {
    let topics: Vec<Topic> = match caller.user.role {
        Role::Admin => vec![Topic::Role(Role::Admin)],
        Role::Student => vec![Topic::User(caller.user.id)],
        Role::Mentor => std::iter::once(caller.user.id)
            .chain(users::students_of(db, caller.user.id).await?)
            .map(Topic::User)
            .collect(),
    };
    let mut streams = Vec::with_capacity(topics.len());
    for topic in topics {
        let head = log::head(db, topic).await?;
        let at = Position {
            epoch: head.epoch,
            offset: head.head,
        };
        streams.push((topic, at));
    }
    Ok(streams)
}

/// A page of the feed the caller may see, newest first, with the caller's unread count.
pub async fn list(db: &Db, caller: &Caller, filter: &FeedFilter) -> Result<FeedPage, AppError> {
    let (items, next) = items(db, caller, filter).await?;
    Ok(FeedPage {
        unread: unread_count(db, &caller.user).await?,
        items,
        next,
    })
}

/// A page of the feed the caller may see, newest first, and the id the next page starts before; without
/// the unread count (a count over everything visible), for views that show none.
pub async fn items(
    db: &Db,
    caller: &Caller,
    filter: &FeedFilter,
) -> Result<(Vec<Activity>, Option<i64>), AppError> {
    let viewer = &caller.user;
    if let Some(student) = filter.user_id {
        if !may_see(db, viewer, student).await? {
            return Err(AppError::Forbidden);
        }
    }
    let limit = filter.limit.unwrap_or(30).clamp(1, feed::PAGE_MAX);
    let kind = filter.kind.clone().unwrap_or_default();
    let sql = format!(
        "SELECT a.id, a.user_id, u.display_name AS actor_name, a.kind, a.subject, a.title, a.details, \
         a.day, a.created_at, CASE WHEN {UNREAD} THEN 1 = 1 ELSE 1 = 0 END AS unread \
         FROM activities a JOIN users u ON u.id = a.user_id \
         WHERE {} AND a.id < $2 AND ($3 = '' OR a.kind = $3) AND ($4 = 0 OR a.user_id = $4) \
         AND ($5 = 0 OR ({UNREAD})) ORDER BY a.id DESC LIMIT $6",
        visible(viewer.role)
    );
    let rows = with_db!(db, pool => sqlx::query_as::<_, Row>(&sql)
        .bind(viewer.id).bind(filter.before.unwrap_or(i64::MAX)).bind(&kind)
        .bind(filter.user_id.unwrap_or(0)).bind(i64::from(filter.unread)).bind(limit + 1)
        .fetch_all(pool).await)
    .map_err(internal)?;
    let more = rows.len() as i64 > limit;
    let items: Vec<Activity> = rows
        .into_iter()
        .take(limit as usize)
        .map(Activity::from)
        .collect();
    let next = if more {
        items.last().map(|a| a.id)
    } else {
        None
    };
    Ok((items, next))
}

pub async fn unread_count(db: &Db, viewer: &User) -> Result<i64, AppError> {
    let sql = format!(
        "SELECT COUNT(*) FROM activities a WHERE {} AND {UNREAD}",
        visible(viewer.role)
    );
    with_db!(db, pool => sqlx::query_scalar(&sql).bind(viewer.id).fetch_one(pool).await)
        .map_err(internal)
}

/// Whether `viewer` may see `student`'s activity and analytics: themselves, their mentors, admins.
pub async fn may_see(db: &Db, viewer: &User, student: UserId) -> Result<bool, AppError> {
    Ok(match viewer.role {
        Role::Admin => true,
        _ if viewer.id == student => true,
        Role::Mentor => users::students_of(db, viewer.id).await?.contains(&student),
        Role::Student => false,
    })
}

/// Marks activities read (or unread) for the caller. Ids the caller cannot see are ignored.
pub async fn mark(db: &Db, caller: &Caller, ids: &[i64], read: bool) -> Result<(), AppError> {
    if ids.len() > 200 {
        return Err(AppError::validation("ids", "Mark at most 200 at a time."));
    }
    let viewer = &caller.user;
    let visible_sql = format!(
        "SELECT a.id FROM activities a WHERE a.id = $2 AND {}",
        visible(viewer.role)
    );
    let mut tx = db.begin().await?;
    for id in ids {
        let mut conn = tx.conn();
        with_conn!(&mut conn, c => {
            let seen: Option<i64> = sqlx::query_scalar(&visible_sql).bind(viewer.id).bind(id)
                .fetch_optional(&mut *c).await.map_err(internal)?;
            if seen.is_some() {
                sqlx::query("INSERT INTO activity_reads (viewer_id, activity_id, is_read) VALUES ($1, $2, $3) \
                             ON CONFLICT (viewer_id, activity_id) DO UPDATE SET is_read = excluded.is_read")
                    .bind(viewer.id).bind(id).bind(read).execute(&mut *c).await.map_err(internal)?;
            }
        });
    }
    tx.commit().await
}

/// Marks everything the caller can see right now as read.
pub async fn mark_all_read(db: &Db, caller: &Caller) -> Result<(), AppError> {
    let viewer = caller.user.id;
    let mut tx = db.begin().await?;
    with_tx!(&mut tx, c => {
        let max: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM activities")
            .fetch_one(&mut *c).await.map_err(internal)?;
        sqlx::query("INSERT INTO feed_marks (viewer_id, read_through) VALUES ($1, $2) \
                     ON CONFLICT (viewer_id) DO UPDATE SET read_through = excluded.read_through")
            .bind(viewer).bind(max.unwrap_or(0)).execute(&mut *c).await.map_err(internal)?;
        sqlx::query("DELETE FROM activity_reads WHERE viewer_id = $1")
            .bind(viewer).execute(&mut *c).await.map_err(internal)?;
    });
    tx.commit().await
}

/// When each of `users` last did something, for those who did: one query per 500 users ([`fetch_in`]).
pub async fn last_activity_of(
    db: &Db,
    users: &[UserId],
) -> Result<std::collections::HashMap<UserId, Millis>, AppError> {
    let rows: Vec<(UserId, Millis)> = fetch_in(db, users, |list| {
        format!("SELECT user_id, MAX(created_at) FROM activities WHERE user_id IN ({list}) GROUP BY user_id")
    })
    .await?;
    Ok(rows.into_iter().collect())
}
