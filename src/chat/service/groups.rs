//! Study groups: creating one (any person), the directory (mine, invitations, public ones to join),
//! a group's page, joining (public groups, or private ones by invitation) within the member limit,
//! inviting and declining, and the owner's handover and archive. Leaving and removing members are
//! the room's (`rooms::leave`, `rooms::remove_member`), which keep the member count with the members.
//!
//! The limit holds under any number of concurrent joins: a join takes a seat with one conditional
//! `UPDATE` on the group's row (row-locked on PostgreSQL, a serialized write on SQLite) before it
//! adds the member, in the same transaction.

use super::rooms::{join, part, room_name};
use super::*;
use crate::chat::groups::{
    validate_limit, GroupDetail, GroupDirectory, GroupMember, GroupSummary, NewGroup, RoomChanged,
    Standing,
};
use crate::chat::rules::may_talk;
use crate::chat::LeftBecause;
use crate::events::DurableEvent;
use crate::notifications::service::{deliver, Item};
use crate::notifications::{Kind, Priority};
use crate::protocol::Topic;
use crate::server::db::Db;
use crate::server::realtime::{Change, Hub};
use crate::with_tx;

const GROUP_SELECT: &str =
    "SELECT r.id, r.name, r.description, r.created_at, r.last_message_at, r.archived_at, \
     g.public, g.member_limit, g.member_count, o.id AS owner_id, o.display_name AS owner_name, \
     cm.role AS my_role, \
     EXISTS (SELECT 1 FROM study_group_invitations i WHERE i.room_id = r.id AND i.user_id = $1) AS invited \
     FROM study_groups g JOIN chat_rooms r ON r.id = g.room_id \
     LEFT JOIN chat_members om ON om.room_id = r.id AND om.role = 'owner' \
     LEFT JOIN users o ON o.id = om.user_id \
     LEFT JOIN chat_members cm ON cm.room_id = r.id AND cm.user_id = $1";

#[derive(sqlx::FromRow)]
struct GroupRow {
    id: i64,
    name: String,
    description: String,
    created_at: i64,
    last_message_at: Option<i64>,
    archived_at: Option<i64>,
    public: bool,
    member_limit: i64,
    member_count: i64,
    owner_id: Option<i64>,
    owner_name: Option<String>,
    my_role: Option<String>,
    invited: bool,
}

impl GroupRow {
    fn into_summary(self) -> GroupSummary {
        let standing = match self.my_role.as_deref().and_then(MemberRole::parse) {
            Some(role) => Standing::Member(role),
            None if self.invited => Standing::Invited,
            None => Standing::Outside,
        };
        GroupSummary {
            room: Room {
                id: self.id,
                kind: RoomKind::Group,
                name: self.name,
                description: self.description,
                cohort_id: None,
                peer: None,
                created_at: self.created_at,
                last_message_at: self.last_message_at,
                archived: self.archived_at.is_some(),
            },
            public: self.public,
            member_limit: self.member_limit,
            member_count: self.member_count,
            owner: self.owner_id.map(|id| Author {
                id,
                display_name: self.owner_name.unwrap_or_default(),
            }),
            standing,
        }
    }
}

/// Groups as `user` sees them, selected by `filter` (a `WHERE` clause on the query above; `$2` is
/// `room` when given).
async fn groups_where(
    conn: &mut Conn<'_>,
    user: UserId,
    filter: &str,
    room: Option<RoomId>,
) -> Result<Vec<GroupSummary>, AppError> {
    let sql = format!("{GROUP_SELECT} {filter}");
    let rows: Vec<GroupRow> = with_conn!(conn, c => {
        let mut q = sqlx::query_as(&sql).bind(user);
        if let Some(room) = room {
            q = q.bind(room);
        }
        q.fetch_all(&mut *c).await.map_err(internal)?
    });
    Ok(rows.into_iter().map(GroupRow::into_summary).collect())
}

/// One group as `user` sees it: a member or invitee always, anyone while it is public and not
/// archived; otherwise 404, as if there were no such group.
async fn visible_group(
    conn: &mut Conn<'_>,
    user: UserId,
    room: RoomId,
) -> Result<GroupSummary, AppError> {
    let group = groups_where(conn, user, "WHERE r.id = $2", Some(room))
        .await?
        .pop()
        .ok_or_else(|| AppError::not_found("group"))?;
    match group.standing {
        Standing::Member(_) | Standing::Invited => Ok(group),
        Standing::Outside if group.public && !group.room.archived => Ok(group),
        Standing::Outside => Err(AppError::not_found("group")),
    }
}

/// Creates a study group with the caller as its owner and only member.
pub async fn create_group(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    new: &NewGroup,
) -> Result<GroupSummary, AppError> {
    let me = person(caller)?;
    // Every field's problem at once.
    let limit = validate_limit(new.member_limit);
    let (name, description) = match (room_name(&new.name, &new.description), &limit) {
        (Ok(names), Ok(_)) => names,
        (Err(AppError::Validation { mut fields }), limit) => {
            fields.extend(limit.clone().err());
            return Err(AppError::Validation { fields });
        }
        (Err(e), _) => return Err(e),
        (Ok(_), Err(e)) => {
            return Err(AppError::Validation {
                fields: vec![e.clone()],
            })
        }
    };
    let limit = new.member_limit;
    let mut change = Change::begin(db, hub).await?;
    let now = change.now();
    let room: i64 = with_tx!(change.tx(), c => {
        let room: i64 = sqlx::query_scalar(
            "INSERT INTO chat_rooms (kind, name, description, created_by, created_at) \
             VALUES ('group', $1, $2, $3, $4) RETURNING id")
            .bind(&name).bind(&description).bind(me.id).bind(now)
            .fetch_one(&mut *c).await.map_err(internal)?;
        sqlx::query("INSERT INTO study_groups (room_id, public, member_limit) VALUES ($1, $2, $3)")
            .bind(room).bind(new.public).bind(limit)
            .execute(&mut *c).await.map_err(internal)?;
        room
    });
    enter(&mut change, room, me.id, MemberRole::Owner).await?;
    let made = visible_group(&mut change.conn(), me.id, room).await?;
    change.commit().await?;
    Ok(made)
}

/// The caller's groups (newest activity first), the invitations waiting for them, and the public
/// groups they could join (with room first).
pub async fn directory(db: &Db, caller: &Caller) -> Result<GroupDirectory, AppError> {
    let me = person(caller)?;
    let mut pooled = db.acquire().await?;
    let mut conn = pooled.conn();
    let mine = groups_where(
        &mut conn,
        me.id,
        "WHERE cm.user_id IS NOT NULL ORDER BY COALESCE(r.last_message_at, r.created_at) DESC, r.id DESC",
        None,
    )
    .await?;
    let invitations = groups_where(
        &mut conn,
        me.id,
        "WHERE cm.user_id IS NULL AND r.archived_at IS NULL AND EXISTS \
         (SELECT 1 FROM study_group_invitations i WHERE i.room_id = r.id AND i.user_id = $1) \
         ORDER BY r.id DESC",
        None,
    )
    .await?;
    let open = groups_where(
        &mut conn,
        me.id,
        "WHERE cm.user_id IS NULL AND g.public AND r.archived_at IS NULL \
         ORDER BY CASE WHEN g.member_count < g.member_limit THEN 0 ELSE 1 END, \
         COALESCE(r.last_message_at, r.created_at) DESC, r.id DESC LIMIT 200",
        None,
    )
    .await?;
    Ok(GroupDirectory {
        mine,
        invitations,
        open,
    })
}

/// A group's page: the group, its members (owner first, then by name) and, for its moderators, who
/// is invited.
pub async fn group(db: &Db, caller: &Caller, room: RoomId) -> Result<GroupDetail, AppError> {
    let me = person(caller)?;
    let mut pooled = db.acquire().await?;
    let mut conn = pooled.conn();
    let group = visible_group(&mut conn, me.id, room).await?;
    let members: Vec<(i64, String, String, i64)> = with_conn!(&mut conn, c => sqlx::query_as(
        "SELECT u.id, u.display_name, m.role, m.joined_at FROM chat_members m \
         JOIN users u ON u.id = m.user_id WHERE m.room_id = $1 \
         ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'moderator' THEN 1 ELSE 2 END, u.display_name, u.id")
        .bind(room).fetch_all(&mut *c).await.map_err(internal)?);
    let moderates = matches!(group.standing, Standing::Member(r) if r.moderates());
    let invited: Vec<(i64, String)> = if moderates {
        with_conn!(&mut conn, c => sqlx::query_as(
            "SELECT u.id, u.display_name FROM study_group_invitations i JOIN users u ON u.id = i.user_id \
             WHERE i.room_id = $1 ORDER BY u.display_name, u.id")
            .bind(room).fetch_all(&mut *c).await.map_err(internal)?)
    } else {
        Vec::new()
    };
    Ok(GroupDetail {
        group,
        members: members
            .into_iter()
            .map(|(id, display_name, role, joined_at)| GroupMember {
                person: Author { id, display_name },
                role: MemberRole::parse(&role).unwrap_or(MemberRole::Member),
                joined_at,
            })
            .collect(),
        invited: invited
            .into_iter()
            .map(|(id, display_name)| Author { id, display_name })
            .collect(),
    })
}

/// Takes a seat in `room`'s group and adds `user` as `role`; 409 when the group is full. Answers
/// whether they were added (false if they were a member already).
async fn enter(
    change: &mut Change<'_>,
    room: RoomId,
    user: UserId,
    role: MemberRole,
) -> Result<bool, AppError> {
    let seated = with_tx!(change.tx(), c => sqlx::query(
        "UPDATE study_groups SET member_count = member_count + 1 \
         WHERE room_id = $1 AND member_count < member_limit")
        .bind(room).execute(&mut *c).await.map_err(internal)?.rows_affected());
    if seated == 0 {
        return Err(AppError::Conflict {
            message: "This group is full. Ask its owner to make room, or choose another group."
                .into(),
        });
    }
    let added = join(change, room, &[user], role).await?;
    if added.is_empty() {
        seats_freed(change, room, 1).await?;
    }
    with_tx!(change.tx(), c => sqlx::query(
        "DELETE FROM study_group_invitations WHERE room_id = $1 AND user_id = $2")
        .bind(room).bind(user).execute(&mut *c).await.map(|_| ()).map_err(internal)?);
    Ok(!added.is_empty())
}

/// Gives back `n` seats of `room`'s group (its members left); nothing for other kinds of room.
pub(super) async fn seats_freed(
    change: &mut Change<'_>,
    room: RoomId,
    n: usize,
) -> Result<(), AppError> {
    if n == 0 {
        return Ok(());
    }
    with_tx!(change.tx(), c => sqlx::query(
        "UPDATE study_groups SET member_count = member_count - $2 WHERE room_id = $1")
        .bind(room).bind(n as i64).execute(&mut *c).await.map(|_| ()).map_err(internal)?);
    Ok(())
}

/// Joins a group: a public one in one click, a private one when invited (this accepts the
/// invitation). A private group the caller was not invited to answers 404; a full one 409.
pub async fn join_group(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    room: RoomId,
) -> Result<GroupSummary, AppError> {
    let me = person(caller)?;
    let mut change = Change::begin(db, hub).await?;
    let group = visible_group(&mut change.conn(), me.id, room).await?;
    if group.room.archived {
        return Err(AppError::Conflict {
            message: "This group is archived: it takes no new members.".into(),
        });
    }
    if !matches!(group.standing, Standing::Member(_)) {
        enter(&mut change, room, me.id, MemberRole::Member).await?;
    }
    let now = visible_group(&mut change.conn(), me.id, room).await?;
    change.commit().await?;
    Ok(now)
}

/// Declines an invitation (nothing happens if there was none).
pub async fn decline(db: &Db, caller: &Caller, room: RoomId) -> Result<(), AppError> {
    let me = person(caller)?;
    let mut tx = db.begin().await?;
    with_tx!(&mut tx, c => sqlx::query(
        "DELETE FROM study_group_invitations WHERE room_id = $1 AND user_id = $2")
        .bind(room).bind(me.id).execute(&mut *c).await.map(|_| ()).map_err(internal)?);
    tx.commit().await
}

/// Invites someone to a group: its owner and moderators may (any member of a public group). The
/// invitee must be someone the inviter may talk to ([`may_talk`]); they are told by notification.
pub async fn invite(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    room: RoomId,
    user: UserId,
) -> Result<(), AppError> {
    let me = person(caller)?;
    let mut change = Change::begin(db, hub).await?;
    let group = visible_group(&mut change.conn(), me.id, room).await?;
    let allowed = match group.standing {
        Standing::Member(role) => role.moderates() || group.public,
        _ => false,
    };
    if !allowed {
        return Err(AppError::Forbidden);
    }
    if group.room.archived {
        return Err(AppError::Conflict {
            message: "This group is archived: it takes no new members.".into(),
        });
    }
    if !may_talk_between(&mut change.conn(), me.id, user).await? {
        return Err(AppError::validation(
            "user_id",
            "You can invite people from your cohort, your mentors and your groups.",
        ));
    }
    if membership(&mut change.conn(), room, user).await.is_ok() {
        return Err(AppError::Conflict {
            message: "They are a member already.".into(),
        });
    }
    let now = change.now();
    let fresh = with_tx!(change.tx(), c => sqlx::query(
        "INSERT INTO study_group_invitations (room_id, user_id, invited_by, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (room_id, user_id) DO NOTHING")
        .bind(room).bind(user).bind(me.id).bind(now)
        .execute(&mut *c).await.map_err(internal)?.rows_affected());
    if fresh > 0 {
        let item = Item {
            kind: Kind::Social,
            priority: Priority::Normal,
            title: format!("Invitation to “{}”", group.room.name),
            message: format!(
                "{} invited you to join the study group “{}”.",
                me.display_name, group.room.name
            ),
            link: Some(format!("/chat/groups/{room}")),
            expires_at: None,
            sender_id: Some(me.id),
            dedupe_key: None,
        };
        deliver(&mut change, user, &item).await?;
    }
    change.commit().await.map(|_| ())
}

/// Hands a group over to another member, who becomes its owner; the former owner stays as a
/// moderator. Only the owner may.
pub async fn hand_over(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    room: RoomId,
    to: UserId,
) -> Result<GroupSummary, AppError> {
    let me = person(caller)?;
    let mut change = Change::begin(db, hub).await?;
    let group = visible_group(&mut change.conn(), me.id, room).await?;
    if group.standing != Standing::Member(MemberRole::Owner) {
        return Err(AppError::Forbidden);
    }
    if to == me.id {
        return Err(AppError::validation("user_id", "Choose another member."));
    }
    membership(&mut change.conn(), room, to)
        .await
        .map_err(|_| AppError::validation("user_id", "Choose one of the group's members."))?;
    with_tx!(change.tx(), c => {
        sqlx::query("UPDATE chat_members SET role = 'moderator' WHERE room_id = $1 AND user_id = $2")
            .bind(room).bind(me.id).execute(&mut *c).await.map_err(internal)?;
        sqlx::query("UPDATE chat_members SET role = 'owner' WHERE room_id = $1 AND user_id = $2")
            .bind(room).bind(to).execute(&mut *c).await.map_err(internal)?;
    });
    let now = visible_group(&mut change.conn(), me.id, room).await?;
    change.commit().await?;
    Ok(now)
}

/// Archives a group (its owner, or an admin who is a member): its history stays readable to its
/// members, it takes no messages or members, and it leaves the directory. Pending invitations go.
pub async fn archive(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    room: RoomId,
) -> Result<GroupSummary, AppError> {
    let me = person(caller)?;
    let mut change = Change::begin(db, hub).await?;
    let group = visible_group(&mut change.conn(), me.id, room).await?;
    let may = match group.standing {
        Standing::Member(role) => role == MemberRole::Owner || caller.is(crate::model::Role::Admin),
        _ => false,
    };
    if !may {
        return Err(AppError::Forbidden);
    }
    if group.room.archived {
        return Ok(group);
    }
    let now = change.now();
    let members: Vec<i64> = with_tx!(change.tx(), c => {
        sqlx::query("UPDATE chat_rooms SET archived_at = $2 WHERE id = $1")
            .bind(room).bind(now).execute(&mut *c).await.map_err(internal)?;
        sqlx::query("DELETE FROM study_group_invitations WHERE room_id = $1")
            .bind(room).execute(&mut *c).await.map_err(internal)?;
        sqlx::query_scalar("SELECT user_id FROM chat_members WHERE room_id = $1 ORDER BY user_id")
            .bind(room).fetch_all(&mut *c).await.map_err(internal)?
    });
    let changed = DurableEvent::ChatRoomChanged(RoomChanged {
        room_id: room,
        name: group.room.name.clone(),
        description: group.room.description.clone(),
        archived: true,
    });
    change.emit(Topic::Room(room), &changed).await?;
    for member in members {
        change.emit(Topic::User(member), &changed).await?;
    }
    let now = visible_group(&mut change.conn(), me.id, room).await?;
    change.commit().await?;
    Ok(now)
}

/// People the caller could invite to `room`: those they may talk to who are not in it or invited,
/// by name (at most 200).
pub async fn invitable(db: &Db, caller: &Caller, room: RoomId) -> Result<Vec<Author>, AppError> {
    let me = person(caller)?;
    let mut pooled = db.acquire().await?;
    let mut conn = pooled.conn();
    visible_group(&mut conn, me.id, room).await?;
    let Some(mine) = party(&mut conn, me.id).await? else {
        return Ok(Vec::new());
    };
    // Everyone the rule could allow, found through the relations it looks at; the rule decides.
    let mut ids = std::collections::BTreeSet::new();
    ids.extend(mine.mentoring.iter().copied());
    let everyone = caller.is(Role::Admin);
    with_conn!(&mut conn, c => {
        let admins: Vec<i64> = sqlx::query_scalar(if everyone {
            "SELECT id FROM users"
        } else {
            "SELECT id FROM users WHERE role = 'admin'"
        })
        .fetch_all(&mut *c).await.map_err(internal)?;
        ids.extend(admins);
        for cohort in &mine.cohorts {
            let people: Vec<i64> = sqlx::query_scalar(
                "SELECT id FROM users WHERE cohort_id = $1 UNION SELECT m.mentor_id FROM mentor_assignments m \
                 JOIN users s ON s.id = m.student_id WHERE s.cohort_id = $1")
                .bind(cohort).fetch_all(&mut *c).await.map_err(internal)?;
            ids.extend(people);
        }
        for group in &mine.groups {
            let people: Vec<i64> = sqlx::query_scalar("SELECT user_id FROM chat_members WHERE room_id = $1")
                .bind(group).fetch_all(&mut *c).await.map_err(internal)?;
            ids.extend(people);
        }
    });
    let mut found = Vec::new();
    for id in ids {
        if id == me.id || found.len() >= 200 {
            continue;
        }
        let (name, taken): (Option<String>, bool) = with_conn!(&mut conn, c => sqlx::query_as(
            "SELECT u.display_name, EXISTS (SELECT 1 FROM chat_members m WHERE m.room_id = $2 AND m.user_id = u.id) \
             OR EXISTS (SELECT 1 FROM study_group_invitations i WHERE i.room_id = $2 AND i.user_id = u.id) \
             FROM users u WHERE u.id = $1")
            .bind(id).bind(room).fetch_optional(&mut *c).await.map_err(internal)?
            .map(|(n, t): (String, bool)| (Some(n), t)).unwrap_or((None, true)));
        let Some(display_name) = name.filter(|_| !taken) else {
            continue;
        };
        if let Some(other) = party(&mut conn, id).await? {
            if may_talk(&mine, &other) {
                found.push(Author { id, display_name });
            }
        }
    }
    found.sort_by(|a, b| a.display_name.cmp(&b.display_name).then(a.id.cmp(&b.id)));
    Ok(found)
}

/// Removes `users` from a group's room and gives back their seats.
pub(super) async fn part_group(
    change: &mut Change<'_>,
    room: RoomId,
    users: &[UserId],
    because: LeftBecause,
) -> Result<(), AppError> {
    let removed = part(change, room, users, because).await?;
    seats_freed(change, room, removed.len()).await
}
