//! Service tests for study groups, on SQLite and on PostgreSQL: public groups joined in one click and
//! opening talk between their members, the member limit under 20 concurrent joins, private groups by
//! invitation only (notified, declined, accepted), removal and leaving giving seats back, handing
//! over, and archiving.

mod chat_support;

use chat_support::*;
use futures_util::future::join_all;
use studyhall::accounts::service::Caller;
use studyhall::both_backends;
use studyhall::chat::groups::{NewGroup, Standing};
use studyhall::chat::service as chat;
use studyhall::chat::{LeftBecause, MemberRole, RoomId};
use studyhall::events::DurableEvent;
use studyhall::model::Role;
use studyhall::protocol::Topic;
use studyhall::server::db::Db;
use studyhall::server::realtime::log;
use studyhall::testing::TestDb;
use studyhall::{with_db, AppError};

fn group(name: &str, public: bool, member_limit: i64) -> NewGroup {
    NewGroup {
        name: name.into(),
        description: "We meet on Thursdays.".into(),
        public,
        member_limit,
    }
}

/// Members in the room's table and the group's count, which must agree.
async fn seats(db: &Db, room: RoomId) -> (i64, i64) {
    with_db!(db, pool => {
        let members: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM chat_members WHERE room_id = $1")
            .bind(room).fetch_one(pool).await.unwrap();
        let counted: i64 = sqlx::query_scalar("SELECT member_count FROM study_groups WHERE room_id = $1")
            .bind(room).fetch_one(pool).await.unwrap();
        (members, counted)
    })
}

both_backends!(
    a_public_group_is_listed_joined_in_one_click_and_opens_talk,
    |t: TestDb| async move {
        let (db, hub) = (&t.db, hub());
        let s = school(db).await;
        let made = chat::create_group(db, &hub, &s.ana, &group("Rust circle", true, 3))
            .await
            .unwrap();
        let room = made.room.id;
        assert_eq!(made.standing, Standing::Member(MemberRole::Owner));
        assert_eq!((made.member_count, made.member_limit), (1, 3));
        assert_eq!(made.owner.as_ref().map(|o| o.id), Some(s.ana.user.id));

        // Cy, of another cohort, may not talk with Ana, but finds the group and joins it.
        assert!(matches!(
            chat::open_direct(db, &hub, &s.cy, s.ana.user.id).await,
            Err(AppError::Forbidden)
        ));
        let dir = chat::directory(db, &s.cy).await.unwrap();
        assert_eq!(
            dir.open.iter().map(|g| g.room.id).collect::<Vec<_>>(),
            [room]
        );
        assert!(dir.mine.is_empty() && dir.invitations.is_empty());
        let since = log::head(db, Topic::User(s.cy.user.id)).await.unwrap().head;
        let joined = chat::join_group(db, &hub, &s.cy, room).await.unwrap();
        assert_eq!(joined.standing, Standing::Member(MemberRole::Member));
        assert_eq!(joined.member_count, 2);
        let told = events_after(db, Topic::User(s.cy.user.id), since).await;
        assert!(
            matches!(&told[..], [DurableEvent::ChatRoomJoined(r)] if r.room.id == room),
            "{told:?}"
        );
        let again = chat::join_group(db, &hub, &s.cy, room).await.unwrap();
        assert_eq!(again.member_count, 2, "joining twice takes one seat");
        assert!(chat::open_direct(db, &hub, &s.cy, s.ana.user.id)
            .await
            .is_ok());
        chat::send(db, &hub, &s.cy, room, &text("c1", "Hello circle"))
            .await
            .unwrap();

        // Full at three: the fourth is told so, and nothing changes.
        chat::join_group(db, &hub, &s.ben, room).await.unwrap();
        let full = chat::join_group(db, &hub, &s.maya, room).await;
        assert!(matches!(full, Err(AppError::Conflict { .. })), "{full:?}");
        assert_eq!(seats(db, room).await, (3, 3));
        let dir = chat::directory(db, &s.maya).await.unwrap();
        assert!(dir.open[0].is_full());

        // Leaving gives the seat back; the owner cannot leave without handing over.
        chat::leave(db, &hub, &s.cy, room).await.unwrap();
        assert_eq!(seats(db, room).await, (2, 2));
        assert!(matches!(
            chat::leave(db, &hub, &s.ana, room).await,
            Err(AppError::Conflict { .. })
        ));
        chat::join_group(db, &hub, &s.maya, room).await.unwrap();
        assert_eq!(seats(db, room).await, (3, 3));
    }
);

both_backends!(
    the_member_limit_holds_under_twenty_concurrent_joins,
    |t: TestDb| async move {
        let (db, hub) = (&t.db, hub());
        let s = school(db).await;
        let room = chat::create_group(db, &hub, &s.ana, &group("Busy", true, 5))
            .await
            .unwrap()
            .room
            .id;
        let mut students = Vec::new();
        for i in 0..20 {
            students.push(person(db, &format!("Joiner{i}"), Role::Student, None).await);
        }
        let results = join_all(students.iter().map(|c| chat::join_group(db, &hub, c, room))).await;
        let joined = results.iter().filter(|r| r.is_ok()).count();
        let full = results
            .iter()
            .filter(|r| matches!(r, Err(AppError::Conflict { .. })))
            .count();
        assert_eq!((joined, full), (4, 16), "{results:?}");
        assert_eq!(seats(db, room).await, (5, 5));
    }
);

both_backends!(
    a_private_group_is_by_invitation_only,
    |t: TestDb| async move {
        let (db, hub) = (&t.db, hub());
        let s = school(db).await;
        let room = chat::create_group(db, &hub, &s.ana, &group("Quiet corner", false, 10))
            .await
            .unwrap()
            .room
            .id;
        // Unseen and unjoinable by those not invited, as if it did not exist.
        assert!(chat::directory(db, &s.ben).await.unwrap().open.is_empty());
        assert!(matches!(
            chat::group(db, &s.ben, room).await,
            Err(AppError::NotFound { .. })
        ));
        assert!(matches!(
            chat::join_group(db, &hub, &s.ben, room).await,
            Err(AppError::NotFound { .. })
        ));
        // Only people the inviter may talk to can be invited.
        assert!(matches!(
            chat::invite(db, &hub, &s.ana, room, s.cy.user.id).await,
            Err(AppError::Validation { .. })
        ));
        let invitable = chat::invitable(db, &s.ana, room).await.unwrap();
        let names: Vec<&str> = invitable.iter().map(|p| p.display_name.as_str()).collect();
        assert_eq!(names, ["Ada", "Ben", "Maya"]);

        chat::invite(db, &hub, &s.ana, room, s.ben.user.id)
            .await
            .unwrap();
        let bell = studyhall::notifications::service::snapshot(db, &s.ben)
            .await
            .unwrap();
        assert!(
            bell.items[0].title.contains("Quiet corner")
                && bell.items[0].link.as_deref() == Some(&format!("/chat/groups/{room}")[..]),
            "{:?}",
            bell.items[0]
        );
        let dir = chat::directory(db, &s.ben).await.unwrap();
        assert_eq!(dir.invitations.len(), 1);
        assert_eq!(dir.invitations[0].standing, Standing::Invited);
        assert_eq!(
            chat::group(db, &s.ana, room).await.unwrap().invited[0].id,
            s.ben.user.id,
            "the owner sees who is invited"
        );
        chat::decline(db, &s.ben, room).await.unwrap();
        assert!(chat::directory(db, &s.ben)
            .await
            .unwrap()
            .invitations
            .is_empty());
        assert!(chat::join_group(db, &hub, &s.ben, room).await.is_err());

        chat::invite(db, &hub, &s.ana, room, s.ben.user.id)
            .await
            .unwrap();
        let joined = chat::join_group(db, &hub, &s.ben, room).await.unwrap();
        assert_eq!(joined.standing, Standing::Member(MemberRole::Member));
        assert!(chat::directory(db, &s.ben)
            .await
            .unwrap()
            .invitations
            .is_empty());
        // A plain member of a private group does not invite.
        assert!(matches!(
            chat::invite(db, &hub, &s.ben, room, s.maya.user.id).await,
            Err(AppError::Forbidden)
        ));
        assert!(chat::group(db, &s.ben, room)
            .await
            .unwrap()
            .invited
            .is_empty());
    }
);

async fn removed_event(db: &Db, who: &Caller, since: i64) -> Vec<DurableEvent> {
    events_after(db, Topic::User(who.user.id), since).await
}

both_backends!(
    the_owner_removes_hands_over_and_archives,
    |t: TestDb| async move {
        let (db, hub) = (&t.db, hub());
        let s = school(db).await;
        let room = chat::create_group(db, &hub, &s.ana, &group("Exam prep", true, 10))
            .await
            .unwrap()
            .room
            .id;
        for c in [&s.ben, &s.cy, &s.maya] {
            chat::join_group(db, &hub, c, room).await.unwrap();
        }
        // A member removes no one; the owner does, and the seat comes back.
        assert!(matches!(
            chat::remove_member(db, &hub, &s.cy, room, s.ben.user.id).await,
            Err(AppError::Forbidden)
        ));
        let since = log::head(db, Topic::User(s.cy.user.id)).await.unwrap().head;
        chat::remove_member(db, &hub, &s.ana, room, s.cy.user.id)
            .await
            .unwrap();
        let told = removed_event(db, &s.cy, since).await;
        assert!(matches!(
            &told[..],
            [DurableEvent::ChatRoomLeft(l)] if l.room_id == room && l.because == LeftBecause::Removed
        ));
        assert_eq!(seats(db, room).await, (3, 3));

        // Handing over: Ben owns it, Ana moderates, and only the owner archives.
        assert!(matches!(
            chat::hand_over(db, &hub, &s.ben, room, s.ben.user.id).await,
            Err(AppError::Forbidden)
        ));
        let after = chat::hand_over(db, &hub, &s.ana, room, s.ben.user.id)
            .await
            .unwrap();
        assert_eq!(after.standing, Standing::Member(MemberRole::Moderator));
        assert_eq!(after.owner.map(|o| o.id), Some(s.ben.user.id));
        assert!(matches!(
            chat::archive(db, &hub, &s.ana, room).await,
            Err(AppError::Forbidden)
        ));
        let since = log::head(db, Topic::User(s.maya.user.id))
            .await
            .unwrap()
            .head;
        let archived = chat::archive(db, &hub, &s.ben, room).await.unwrap();
        assert!(archived.room.archived);
        let told = removed_event(db, &s.maya, since).await;
        assert!(
            matches!(&told[..], [DurableEvent::ChatRoomChanged(c)] if c.room_id == room && c.archived),
            "{told:?}"
        );
        // History stays for members; nothing new comes in, and it leaves the directory.
        assert!(
            chat::snapshot(db, &s.maya, room)
                .await
                .unwrap()
                .summary
                .room
                .archived
        );
        assert!(matches!(
            chat::send(db, &hub, &s.maya, room, &text("m1", "still here?")).await,
            Err(AppError::Conflict { .. })
        ));
        assert!(chat::directory(db, &s.cy).await.unwrap().open.is_empty());
        assert!(chat::join_group(db, &hub, &s.cy, room).await.is_err());
    }
);

both_backends!(a_new_group_names_every_problem, |t: TestDb| async move {
    let (db, hub) = (&t.db, hub());
    let s = school(db).await;
    for limit in [1, 51] {
        let Err(AppError::Validation { fields }) =
            chat::create_group(db, &hub, &s.ana, &group("  ", true, limit)).await
        else {
            panic!("refused");
        };
        let named: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(named, ["name", "member_limit"]);
    }
    let token = Caller {
        scopes: Some(vec![]),
        ..s.ana.clone()
    };
    assert!(matches!(
        chat::create_group(db, &hub, &token, &group("Bot", true, 5)).await,
        Err(AppError::Forbidden)
    ));
});
