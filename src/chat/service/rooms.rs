//! Rooms and membership: the caller's room list and an opened room's snapshot, direct rooms (one per
//! pair of people who may talk), channels (admins), cohort rooms kept in step with the cohort, adding,
//! removing and leaving, muting. Joining and leaving are events on the member's own `user:{id}`.

use super::*;
use crate::chat::{
    LeftBecause, ReadMark, RoomLeft, RoomSnapshot, HISTORY_PAGE, ROOM_DESCRIPTION_MAX,
    ROOM_NAME_MAX,
};
use crate::events::DurableEvent;
use crate::model::{CohortId, Position};
use crate::protocol::Topic;
use crate::server::db::Db;
use crate::server::realtime::{log, Change, Hub};
use crate::with_tx;

/// The caller's rooms, newest activity first, each with its unread count.
pub async fn list(db: &Db, caller: &Caller) -> Result<Vec<RoomSummary>, AppError> {
    let me = person(caller)?;
    let mut pooled = db.acquire().await?;
    summaries(&mut pooled.conn(), me.id, None).await
}

/// An opened room: its newest messages, members, read marks and where its events resume. The
/// position is read first, so an event that lands while the rest is read is replayed, not missed
/// (the snapshot ignores what it already has).
pub async fn snapshot(db: &Db, caller: &Caller, room: RoomId) -> Result<RoomSnapshot, AppError> {
    let me = person(caller)?;
    let mut pooled = db.acquire().await?;
    let mut conn = pooled.conn();
    membership(&mut conn, room, me.id).await?;
    let head = log::head(db, Topic::Room(room)).await?;
    let summary = summary(&mut conn, me.id, room).await?;
    let members: Vec<(i64, String)> = with_conn!(&mut conn, c => sqlx::query_as(
        "SELECT u.id, u.display_name FROM chat_members m JOIN users u ON u.id = m.user_id \
         WHERE m.room_id = $1 ORDER BY u.display_name, u.id")
        .bind(room).fetch_all(&mut *c).await.map_err(internal)?);
    let reads: Vec<(i64, i64)> = with_conn!(&mut conn, c => sqlx::query_as(
        "SELECT user_id, last_read_id FROM chat_members WHERE room_id = $1 ORDER BY user_id")
        .bind(room).fetch_all(&mut *c).await.map_err(internal)?);
    let page = super::messages::page(&mut conn, room, None, HISTORY_PAGE).await?;
    let peer_last_seen: Option<i64> = match &summary.room.peer {
        Some(peer) => with_conn!(&mut conn, c => sqlx::query_scalar(
            "SELECT last_seen_at FROM users WHERE id = $1")
            .bind(peer.id).fetch_optional(&mut *c).await.map_err(internal)?)
        .flatten(),
        None => None,
    };
    Ok(RoomSnapshot {
        viewer: me.id,
        summary,
        members: members
            .into_iter()
            .map(|(id, display_name)| Author { id, display_name })
            .collect(),
        page,
        reads: reads
            .into_iter()
            .map(|(user_id, last_read_id)| ReadMark {
                user_id,
                last_read_id,
            })
            .collect(),
        position: Position {
            epoch: head.epoch,
            offset: head.head,
        },
        peer_last_seen,
    })
}

/// The direct room of the caller and `other`, made the first time either opens it. Only people who
/// may talk ([`crate::chat::rules::may_talk`]) have one; anyone else, or no such person, is 403 alike.
pub async fn open_direct(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    other: UserId,
) -> Result<RoomSummary, AppError> {
    let me = person(caller)?;
    if other == me.id {
        return Err(AppError::validation(
            "user_id",
            "Choose someone other than yourself.",
        ));
    }
    let mut change = Change::begin(db, hub).await?;
    if !may_talk_between(&mut change.conn(), me.id, other).await? {
        return Err(AppError::Forbidden);
    }
    let room = ensure_direct(&mut change, me.id, other).await?;
    let mine = summary(&mut change.conn(), me.id, room).await?;
    change.commit().await?;
    Ok(mine)
}

/// The direct room of `a` and `b` in `change`, made (and both told) if they had none. The caller has
/// checked that they may talk: an admin's mentor assignment, or [`open_direct`]'s rule.
pub async fn ensure_direct(
    change: &mut Change<'_>,
    a: UserId,
    b: UserId,
) -> Result<RoomId, AppError> {
    let now = change.now();
    let key = format!("{}:{}", a.min(b), a.max(b));
    let made: Option<i64> = with_tx!(change.tx(), c => sqlx::query_scalar(
        "INSERT INTO chat_rooms (kind, name, direct_key, created_by, created_at) VALUES ('direct', '', $1, $2, $3) \
         ON CONFLICT (direct_key) DO NOTHING RETURNING id")
        .bind(&key).bind(a).bind(now).fetch_optional(&mut *c).await.map_err(internal)?);
    match made {
        Some(room) => {
            join(change, room, &[a, b], MemberRole::Member).await?;
            Ok(room)
        }
        None => Ok(with_tx!(change.tx(), c => sqlx::query_scalar(
            "SELECT id FROM chat_rooms WHERE direct_key = $1")
            .bind(&key).fetch_one(&mut *c).await.map_err(internal)?)),
    }
}

/// Adds `users` to `room` as `role` (those already members stay as they are) and tells each new
/// member's tabs; answers who was added.
pub(super) async fn join(
    change: &mut Change<'_>,
    room: RoomId,
    users: &[UserId],
    role: MemberRole,
) -> Result<Vec<UserId>, AppError> {
    let now = change.now();
    let mut added = Vec::new();
    for &user in users {
        let n = with_tx!(change.tx(), c => sqlx::query(
            "INSERT INTO chat_members (room_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (room_id, user_id) DO NOTHING")
            .bind(room).bind(user).bind(role.as_str()).bind(now)
            .execute(&mut *c).await.map_err(internal)?.rows_affected());
        if n > 0 {
            added.push(user);
        }
    }
    for &user in &added {
        let joined = summary(&mut change.conn(), user, room).await?;
        change
            .emit(Topic::User(user), &DurableEvent::ChatRoomJoined(joined))
            .await?;
    }
    Ok(added)
}

/// Removes `users` from `room` and tells each one's tabs why; answers who was removed.
pub(super) async fn part(
    change: &mut Change<'_>,
    room: RoomId,
    users: &[UserId],
    because: LeftBecause,
) -> Result<Vec<UserId>, AppError> {
    let mut removed = Vec::new();
    for &user in users {
        let n = with_tx!(change.tx(), c => sqlx::query(
            "DELETE FROM chat_members WHERE room_id = $1 AND user_id = $2")
            .bind(room).bind(user).execute(&mut *c).await.map_err(internal)?.rows_affected());
        if n > 0 {
            removed.push(user);
            let left = DurableEvent::ChatRoomLeft(RoomLeft {
                room_id: room,
                because,
            });
            change.emit(Topic::User(user), &left).await?;
            change.revoke(user, Topic::Room(room));
        }
    }
    Ok(removed)
}

pub(super) fn room_name(name: &str, description: &str) -> Result<(String, String), AppError> {
    let (name, description) = (
        crate::validate::text("name", name, ROOM_NAME_MAX),
        crate::validate::optional_text("description", Some(description), ROOM_DESCRIPTION_MAX),
    );
    crate::validate::collect([
        name.as_ref().err().cloned(),
        description.as_ref().err().cloned(),
    ])?;
    Ok((
        name.unwrap_or_default(),
        description.ok().flatten().unwrap_or_default(),
    ))
}

/// A channel made by an admin, who owns it, with `members` (any active people) in it.
pub async fn create_channel(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    name: &str,
    description: &str,
    members: &[UserId],
) -> Result<RoomSummary, AppError> {
    let me = person(caller)?;
    if !caller.is(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let (name, description) = room_name(name, description)?;
    let mut change = Change::begin(db, hub).await?;
    let now = change.now();
    let members = active_people(&mut change.conn(), members).await?;
    let room: i64 = with_tx!(change.tx(), c => sqlx::query_scalar(
        "INSERT INTO chat_rooms (kind, name, description, created_by, created_at) VALUES ('channel', $1, $2, $3, $4) RETURNING id")
        .bind(&name).bind(&description).bind(me.id).bind(now).fetch_one(&mut *c).await.map_err(internal)?);
    join(&mut change, room, &[me.id], MemberRole::Owner).await?;
    let others: Vec<UserId> = members.into_iter().filter(|id| *id != me.id).collect();
    join(&mut change, room, &others, MemberRole::Member).await?;
    let mine = summary(&mut change.conn(), me.id, room).await?;
    change.commit().await?;
    Ok(mine)
}

/// The ids among `ids` of existing, enabled accounts; 422 naming the field if any is not.
async fn active_people(conn: &mut Conn<'_>, ids: &[UserId]) -> Result<Vec<UserId>, AppError> {
    let mut found = Vec::with_capacity(ids.len());
    for &id in ids {
        let disabled_at: Option<Option<i64>> = with_conn!(conn, c => sqlx::query_scalar(
            "SELECT disabled_at FROM users WHERE id = $1")
            .bind(id).fetch_optional(&mut *c).await.map_err(internal)?);
        if disabled_at != Some(None) {
            return Err(AppError::validation(
                "members",
                "Choose members from the list of people.",
            ));
        }
        if !found.contains(&id) {
            found.push(id);
        }
    }
    Ok(found)
}

/// Adds people to a channel (its moderators and owner). Direct and cohort rooms have the members
/// their kind gives them and take no one by hand.
pub async fn add_members(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    room: RoomId,
    users: &[UserId],
) -> Result<Vec<UserId>, AppError> {
    let me = person(caller)?;
    let mut change = Change::begin(db, hub).await?;
    moderating_a_channel(&mut change.conn(), room, me.id).await?;
    let users = active_people(&mut change.conn(), users).await?;
    let added = join(&mut change, room, &users, MemberRole::Member).await?;
    change.commit().await?;
    Ok(added)
}

/// Removes someone from a channel or a study group (its moderators and owner, not the owner
/// themself); their open pages are told at once, and from then on the room is not theirs to read.
pub async fn remove_member(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    room: RoomId,
    user: UserId,
) -> Result<(), AppError> {
    let me = person(caller)?;
    let mut change = Change::begin(db, hub).await?;
    let role = membership(&mut change.conn(), room, me.id).await?;
    let kind = kind_of(&mut change.conn(), room).await?;
    if !matches!(kind, RoomKind::Channel | RoomKind::Group) || !role.moderates() {
        return Err(AppError::Forbidden);
    }
    let theirs = membership(&mut change.conn(), room, user).await?;
    if theirs == MemberRole::Owner {
        return Err(AppError::Conflict {
            message: "The owner cannot be removed; hand the room over first.".into(),
        });
    }
    leave_room(&mut change, room, kind, user, LeftBecause::Removed).await?;
    change.commit().await?;
    Ok(())
}

/// The caller leaves a channel or a study group (not its owner). Direct and cohort rooms are left by
/// muting them.
pub async fn leave(db: &Db, hub: &Hub, caller: &Caller, room: RoomId) -> Result<(), AppError> {
    let me = person(caller)?;
    let mut change = Change::begin(db, hub).await?;
    let role = membership(&mut change.conn(), room, me.id).await?;
    let kind = kind_of(&mut change.conn(), room).await?;
    match kind {
        RoomKind::Channel | RoomKind::Group if role != MemberRole::Owner => {}
        RoomKind::Channel | RoomKind::Group => {
            return Err(AppError::Conflict {
                message: "The owner cannot leave; hand the room over first.".into(),
            })
        }
        _ => {
            return Err(AppError::Conflict {
                message: "Direct and cohort rooms cannot be left; mute them instead.".into(),
            })
        }
    }
    leave_room(&mut change, room, kind, me.id, LeftBecause::Left).await?;
    change.commit().await?;
    Ok(())
}

/// Takes `user` out of `room`; a study group also gets their seat back.
async fn leave_room(
    change: &mut Change<'_>,
    room: RoomId,
    kind: RoomKind,
    user: UserId,
    because: LeftBecause,
) -> Result<(), AppError> {
    if kind == RoomKind::Group {
        super::groups::part_group(change, room, &[user], because).await
    } else {
        part(change, room, &[user], because).await.map(|_| ())
    }
}

/// Mutes or unmutes a room for the caller (no notifications from it; its unread count stays).
pub async fn set_muted(
    db: &Db,
    caller: &Caller,
    room: RoomId,
    muted: bool,
) -> Result<RoomSummary, AppError> {
    let me = person(caller)?;
    let mut tx = db.begin().await?;
    membership(&mut tx.conn(), room, me.id).await?;
    with_tx!(&mut tx, c => sqlx::query("UPDATE chat_members SET muted = $3 WHERE room_id = $1 AND user_id = $2")
        .bind(room).bind(me.id).bind(muted).execute(&mut *c).await.map(|_| ()).map_err(internal)?);
    let mine = summary(&mut tx.conn(), me.id, room).await?;
    tx.commit().await?;
    Ok(mine)
}

/// Refuses unless `user` moderates `room` and it is a channel (the only kind whose members are
/// chosen by hand); 404 for a non-member.
async fn moderating_a_channel(
    conn: &mut Conn<'_>,
    room: RoomId,
    user: UserId,
) -> Result<(), AppError> {
    let role = membership(conn, room, user).await?;
    if kind_of(conn, room).await? == RoomKind::Channel && role.moderates() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

async fn kind_of(conn: &mut Conn<'_>, room: RoomId) -> Result<RoomKind, AppError> {
    let kind: String = with_conn!(conn, c => sqlx::query_scalar(
        "SELECT kind FROM chat_rooms WHERE id = $1")
        .bind(room).fetch_one(&mut *c).await.map_err(internal)?);
    RoomKind::parse(&kind).ok_or_else(|| AppError::internal(format_args!("room kind {kind:?}")))
}

/// Brings a cohort's room in step with the cohort, in `change`: made the first time, its members the
/// cohort's enabled students and their mentors, newcomers told they joined and those gone told they
/// were removed. Every change to a cohort's people calls this for each cohort it touches.
pub async fn sync_cohort(change: &mut Change<'_>, cohort: CohortId) -> Result<(), AppError> {
    let now = change.now();
    let name: Option<String> = with_tx!(change.tx(), c => sqlx::query_scalar(
        "SELECT name FROM cohorts WHERE id = $1")
        .bind(cohort).fetch_optional(&mut *c).await.map_err(internal)?);
    let Some(name) = name else {
        return Ok(());
    };
    with_tx!(change.tx(), c => sqlx::query(
        "INSERT INTO chat_rooms (kind, name, cohort_id, created_at) VALUES ('cohort', $1, $2, $3) \
         ON CONFLICT (cohort_id) DO NOTHING")
        .bind(&name).bind(cohort).bind(now).execute(&mut *c).await.map(|_| ()).map_err(internal)?);
    let (room, wanted, present) = with_tx!(change.tx(), c => {
        let room: i64 = sqlx::query_scalar("SELECT id FROM chat_rooms WHERE cohort_id = $1")
            .bind(cohort).fetch_one(&mut *c).await.map_err(internal)?;
        let wanted: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM users WHERE cohort_id = $1 AND role = 'student' AND disabled_at IS NULL \
             UNION SELECT m.mentor_id FROM mentor_assignments m JOIN users s ON s.id = m.student_id \
             JOIN users t ON t.id = m.mentor_id \
             WHERE s.cohort_id = $1 AND s.role = 'student' AND s.disabled_at IS NULL AND t.disabled_at IS NULL")
            .bind(cohort).fetch_all(&mut *c).await.map_err(internal)?;
        let present: Vec<i64> = sqlx::query_scalar("SELECT user_id FROM chat_members WHERE room_id = $1")
            .bind(room).fetch_all(&mut *c).await.map_err(internal)?;
        (room, wanted, present)
    });
    let newcomers: Vec<UserId> = wanted
        .iter()
        .copied()
        .filter(|u| !present.contains(u))
        .collect();
    let gone: Vec<UserId> = present
        .iter()
        .copied()
        .filter(|u| !wanted.contains(u))
        .collect();
    join(change, room, &newcomers, MemberRole::Member).await?;
    part(change, room, &gone, LeftBecause::Removed).await?;
    Ok(())
}
