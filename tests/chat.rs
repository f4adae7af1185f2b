//! Service tests for chat, on SQLite and on PostgreSQL: who may open a room with whom, sends that
//! happen once, the limits, edits, tombstones, reactions under concurrency, read positions, what a
//! member who was away replays, and that an opened room plus its events equals a fresh one.

use futures_util::future::join_all;
use studyhall::accounts::service::Caller;
use studyhall::accounts::users;
use studyhall::both_backends;
use studyhall::chat::service as chat;
use studyhall::chat::{LeftBecause, NewMessage, RoomKind, RoomSnapshot};
use studyhall::events::{DurableEvent, Follow};
use studyhall::model::Role;
use studyhall::protocol::Topic;
use studyhall::server::db::Db;
use studyhall::server::now_ms;
use studyhall::server::realtime::Change;
use studyhall::testing::TestDb;
use studyhall::{with_db, AppError};

mod chat_support;

use chat_support::*;

both_backends!(
    direct_rooms_only_for_people_who_may_talk,
    |t: TestDb| async move {
        let db = &t.db;
        let hub = hub();
        let s = school(db).await;
        let id = |c: &Caller| c.user.id;
        for (a, b) in [
            (&s.ana, &s.ben),
            (&s.ana, &s.maya),
            (&s.ben, &s.maya),
            (&s.ada, &s.cy),
        ] {
            let room = chat::open_direct(db, &hub, a, id(b)).await.unwrap();
            assert_eq!(room.room.kind, RoomKind::Direct);
            assert_eq!(
                room.room.name, b.user.display_name,
                "named after the other person"
            );
            let again = chat::open_direct(db, &hub, b, id(a)).await.unwrap();
            assert_eq!(
                again.room.id, room.room.id,
                "one room per pair, whoever opens it"
            );
        }
        for (a, b) in [(&s.ana, &s.cy), (&s.ana, &s.max), (&s.cy, &s.maya)] {
            assert!(
                matches!(
                    chat::open_direct(db, &hub, a, id(b)).await,
                    Err(AppError::Forbidden)
                ),
                "{} and {}",
                a.user.display_name,
                b.user.display_name
            );
        }
        assert!(matches!(
            chat::open_direct(db, &hub, &s.ana, 999_999).await,
            Err(AppError::Forbidden)
        ));
        assert!(matches!(
            chat::open_direct(db, &hub, &s.ana, id(&s.ana)).await,
            Err(AppError::Validation { .. })
        ));
        // Each of the two was told once that the room is theirs.
        let joined = events_after(db, Topic::User(id(&s.ben)), 0).await;
        let rooms: Vec<_> = joined
            .iter()
            .filter_map(|e| match e {
                DurableEvent::ChatRoomJoined(r) => Some(r.room.id),
                _ => None,
            })
            .collect();
        assert_eq!(
            rooms.len(),
            2,
            "Ben's rooms with Ana and with Maya: {rooms:?}"
        );
        let list = chat::list(db, &s.ben).await.unwrap();
        assert_eq!(list.len(), 2);
    }
);

both_backends!(only_members_read_or_write_a_room, |t: TestDb| async move {
    let db = &t.db;
    let hub = hub();
    let s = school(db).await;
    let room = chat::open_direct(db, &hub, &s.ana, s.ben.user.id)
        .await
        .unwrap()
        .room
        .id;
    let sent = chat::send(db, &hub, &s.ana, room, &text("c1", "hello"))
        .await
        .unwrap();
    for outsider in [&s.cy, &s.maya, &s.ada] {
        let not_found = |r: Result<(), AppError>| matches!(r, Err(AppError::NotFound { .. }));
        let who = &outsider.user.display_name;
        assert!(
            not_found(chat::snapshot(db, outsider, room).await.map(|_| ())),
            "{who}"
        );
        assert!(
            not_found(
                chat::history(db, outsider, room, None, None)
                    .await
                    .map(|_| ())
            ),
            "{who}"
        );
        assert!(
            not_found(
                chat::send(db, &hub, outsider, room, &text("x", "hi"))
                    .await
                    .map(|_| ())
            ),
            "{who}"
        );
        assert!(
            not_found(
                chat::mark_read(db, &hub, outsider, room, sent.id)
                    .await
                    .map(|_| ())
            ),
            "{who}"
        );
        assert!(
            not_found(
                chat::toggle_reaction(db, &hub, outsider, room, sent.id, "👍")
                    .await
                    .map(|_| ())
            ),
            "{who}"
        );
        assert!(
            not_found(
                chat::delete(db, &hub, outsider, room, sent.id)
                    .await
                    .map(|_| ())
            ),
            "{who}"
        );
    }
    let mut token = s.ana.clone();
    token.scopes = Some(vec![]);
    assert!(
        matches!(chat::list(db, &token).await, Err(AppError::Forbidden)),
        "API tokens do not chat"
    );
    // The realtime rule agrees: members may subscribe, nobody else (admins neither).
    for (who, member) in [
        (&s.ana, true),
        (&s.ben, true),
        (&s.ada, false),
        (&s.cy, false),
    ] {
        let p = studyhall::server::realtime::principal::load(db, &who.user)
            .await
            .unwrap();
        assert_eq!(
            studyhall::access::can_subscribe(&p, &Topic::Room(room)),
            member,
            "{}",
            who.user.display_name
        );
    }
});

both_backends!(
    a_send_happens_once_and_within_the_limit,
    |t: TestDb| async move {
        let db = &t.db;
        let hub = hub();
        let s = school(db).await;
        let room = chat::open_direct(db, &hub, &s.ana, s.ben.user.id)
            .await
            .unwrap()
            .room
            .id;
        let first = chat::send(db, &hub, &s.ana, room, &text("same", "**hi**"))
            .await
            .unwrap();
        assert_eq!(first.html, "<p><strong>hi</strong></p>");
        let retry = chat::send(db, &hub, &s.ana, room, &text("same", "**hi**"))
            .await
            .unwrap();
        assert_eq!(retry, first, "a retry answers the first message");
        // Two tabs retrying at once still make one message.
        let twin = text("twin", "once");
        let (x, y) = tokio::join!(
            chat::send(db, &hub, &s.ana, room, &twin),
            chat::send(db, &hub, &s.ana, room, &twin),
        );
        assert_eq!(x.unwrap().id, y.unwrap().id);
        let posted = events_after(db, Topic::Room(room), 0)
            .await
            .into_iter()
            .filter(|e| matches!(e, DurableEvent::ChatMessagePosted(_)))
            .count();
        assert_eq!(posted, 2, "one event per message, none per retry");
        // A reply carries its quote; what the send answered is what the room stores.
        let reply = chat::send(
            db,
            &hub,
            &s.ben,
            room,
            &NewMessage {
                client_id: "re".into(),
                body: "answer".into(),
                reply_to: Some(first.id),
                attachments: vec![],
            },
        )
        .await
        .unwrap();
        let quote = reply.reply_to.clone().unwrap();
        assert_eq!(
            (
                quote.id,
                quote.excerpt.as_str(),
                quote.author_name.as_deref()
            ),
            (first.id, "**hi**", Some("Ana"))
        );
        let stored = chat::history(db, &s.ben, room, None, None).await.unwrap();
        assert_eq!(
            stored.messages.iter().find(|m| m.id == reply.id),
            Some(&reply)
        );
        let posted_event = events_after(db, Topic::Room(room), 0)
            .await
            .into_iter()
            .rev()
            .find_map(|e| match e {
                DurableEvent::ChatMessagePosted(m) => Some(m),
                _ => None,
            });
        assert_eq!(
            posted_event.as_ref(),
            Some(&reply),
            "the event carries the stored message"
        );
        // Ben's own id space is his: the same client id is a new message of his.
        let bens = chat::send(db, &hub, &s.ben, room, &text("same", "mine"))
            .await
            .unwrap();
        assert_ne!(bens.id, first.id);
        // The limit (2 a minute here; Ana has sent two): a third new message is refused with a wait,
        // a retry of one already sent is not.
        let limited = |n: &str| {
            let (db, hub, ana) = (db, &hub, &s.ana);
            let n = n.to_string();
            async move { chat::send_limited(db, hub, ana, room, &text(&n, "x"), 2).await }
        };
        let refused = limited("third").await;
        assert!(
            matches!(refused, Err(AppError::RateLimited { retry_after_secs, .. }) if retry_after_secs > 0),
            "{refused:?}"
        );
        assert_eq!(
            limited("same").await.unwrap().id,
            first.id,
            "a retry of a sent message is not counted"
        );
        for bad in ["", "   \n"] {
            assert!(matches!(
                chat::send(db, &hub, &s.ben, room, &text("b", bad)).await,
                Err(AppError::Validation { .. })
            ));
        }
        let long = "a".repeat(studyhall::chat::MESSAGE_MAX + 1);
        assert!(matches!(
            chat::send(db, &hub, &s.ben, room, &text("l", &long)).await,
            Err(AppError::Validation { .. })
        ));
        assert!(matches!(
            chat::send(db, &hub, &s.ben, room, &text("bad id!", "x")).await,
            Err(AppError::Validation { .. })
        ));
    }
);

both_backends!(edits_tombstones_and_moderators, |t: TestDb| async move {
    let db = &t.db;
    let hub = hub();
    let s = school(db).await;
    let channel = chat::create_channel(
        db,
        &hub,
        &s.ada,
        "Help",
        "Ask here",
        &[s.ana.user.id, s.ben.user.id],
    )
    .await
    .unwrap()
    .room
    .id;
    assert!(matches!(
        chat::create_channel(db, &hub, &s.maya, "Mine", "", &[]).await,
        Err(AppError::Forbidden)
    ));
    let m = chat::send(db, &hub, &s.ana, channel, &text("a1", "helo"))
        .await
        .unwrap();
    let edited = chat::edit(db, &hub, &s.ana, channel, m.id, "hello")
        .await
        .unwrap();
    assert_eq!(
        (edited.body.as_str(), edited.edited_at.is_some()),
        ("hello", true)
    );
    assert!(matches!(
        chat::edit(db, &hub, &s.ben, channel, m.id, "mine now").await,
        Err(AppError::Forbidden)
    ));
    // Past the window nobody edits.
    let old = chat::send(db, &hub, &s.ana, channel, &text("a2", "old"))
        .await
        .unwrap();
    let long_ago = now_ms() - studyhall::chat::EDIT_WINDOW_MS - 1_000;
    with_db!(db, pool => sqlx::query("UPDATE chat_messages SET created_at = $2 WHERE id = $1")
            .bind(old.id).bind(long_ago).execute(pool).await.map(|_| ()).unwrap());
    assert!(matches!(
        chat::edit(db, &hub, &s.ana, channel, old.id, "new").await,
        Err(AppError::Conflict { .. })
    ));
    // Ben may not delete Ana's message; the channel's owner may; a tombstone stays.
    assert!(matches!(
        chat::delete(db, &hub, &s.ben, channel, m.id).await,
        Err(AppError::Forbidden)
    ));
    chat::toggle_reaction(db, &hub, &s.ben, channel, m.id, "👍")
        .await
        .unwrap();
    let tomb = chat::delete(db, &hub, &s.ada, channel, m.id).await.unwrap();
    assert!(
        tomb.deleted_at.is_some()
            && tomb.body.is_empty()
            && tomb.html.is_empty()
            && tomb.reactions.is_empty()
    );
    assert_eq!(
        chat::delete(db, &hub, &s.ada, channel, m.id).await.unwrap(),
        tomb,
        "deleting again changes nothing"
    );
    let page = chat::history(db, &s.ben, channel, None, None)
        .await
        .unwrap();
    assert!(
        page.messages
            .iter()
            .any(|x| x.id == m.id && x.deleted_at.is_some()),
        "the tombstone is in history"
    );
    assert!(matches!(
        chat::edit(db, &hub, &s.ana, channel, m.id, "back").await,
        Err(AppError::Conflict { .. })
    ));
    // Leaving and removal: told on the member's own stream, and the room is no longer theirs.
    chat::remove_member(db, &hub, &s.ada, channel, s.ben.user.id)
        .await
        .unwrap();
    assert!(matches!(
        chat::snapshot(db, &s.ben, channel).await,
        Err(AppError::NotFound { .. })
    ));
    let left = events_after(db, Topic::User(s.ben.user.id), 0).await;
    assert!(left.iter().any(|e| matches!(e, DurableEvent::ChatRoomLeft(l) if l.room_id == channel && l.because == LeftBecause::Removed)));
    chat::leave(db, &hub, &s.ana, channel).await.unwrap();
    assert!(
        matches!(
            chat::leave(db, &hub, &s.ada, channel).await,
            Err(AppError::Conflict { .. })
        ),
        "the owner stays"
    );
});

both_backends!(
    concurrent_reactions_end_at_the_right_counts,
    |t: TestDb| async move {
        let db = &t.db;
        let hub = hub();
        let s = school(db).await;
        let mut people = Vec::new();
        for n in 0..12 {
            people.push(person(db, &format!("P{n}"), Role::Student, Some(s.cohort_a)).await);
        }
        let ids: Vec<i64> = people.iter().map(|p| p.user.id).collect();
        let room = chat::create_channel(db, &hub, &s.ada, "All", "", &ids)
            .await
            .unwrap()
            .room
            .id;
        let m = chat::send(db, &hub, &s.ada, room, &text("m", "react to me"))
            .await
            .unwrap();
        let toggle_all = |emoji: &'static str| {
            let hub = &hub;
            join_all(
                people
                    .iter()
                    .map(move |p| chat::toggle_reaction(db, hub, p, room, m.id, emoji)),
            )
        };
        for r in toggle_all("👍").await {
            r.unwrap();
        }
        for r in toggle_all("🎉").await {
            r.unwrap();
        }
        // Half take their thumbs back, at once.
        let half = people
            .iter()
            .step_by(2)
            .map(|p| chat::toggle_reaction(db, &hub, p, room, m.id, "👍"));
        for r in join_all(half).await {
            r.unwrap();
        }
        let now = chat::history(db, &s.ada, room, None, None)
            .await
            .unwrap()
            .messages[0]
            .reactions
            .clone();
        let counts: Vec<(String, usize)> = now
            .iter()
            .map(|r| (r.emoji.clone(), r.users.len()))
            .collect();
        assert_eq!(counts, vec![("👍".to_string(), 6), ("🎉".to_string(), 12)]);
        // The last event says the same, so a client following the room ends right too.
        let last = events_after(db, Topic::Room(room), 0)
            .await
            .into_iter()
            .rev()
            .find_map(|e| match e {
                DurableEvent::ChatReactionsChanged(r) => Some(r.reactions),
                _ => None,
            })
            .unwrap();
        assert_eq!(last, now);
        assert!(matches!(
            chat::toggle_reaction(db, &hub, &s.ada, room, m.id, "💩").await,
            Err(AppError::Validation { .. })
        ));
    }
);

both_backends!(
    reads_move_forward_and_unread_counts_follow,
    |t: TestDb| async move {
        let db = &t.db;
        let hub = hub();
        let s = school(db).await;
        let room = chat::open_direct(db, &hub, &s.ana, s.ben.user.id)
            .await
            .unwrap()
            .room
            .id;
        let mut sent = Vec::new();
        for n in 0..5 {
            sent.push(
                chat::send(db, &hub, &s.ana, room, &text(&format!("m{n}"), "hi"))
                    .await
                    .unwrap(),
            );
        }
        let unread = |c: &Caller| {
            let c = c.clone();
            async move { chat::list(db, &c).await.unwrap()[0].unread }
        };
        assert_eq!(unread(&s.ben).await, 5);
        assert_eq!(unread(&s.ana).await, 0, "one's own messages are read");
        chat::delete(db, &hub, &s.ana, room, sent[4].id)
            .await
            .unwrap();
        assert_eq!(unread(&s.ben).await, 4, "a deleted message is not unread");
        // Two tabs mark at once, one further than the other: the position ends at the further one.
        let (a, b) = tokio::join!(
            chat::mark_read(db, &hub, &s.ben, room, sent[3].id),
            chat::mark_read(db, &hub, &s.ben, room, sent[1].id),
        );
        a.unwrap();
        b.unwrap();
        let back = chat::mark_read(db, &hub, &s.ben, room, sent[0].id)
            .await
            .unwrap();
        assert_eq!(back.last_read_id, sent[3].id, "never backwards");
        assert_eq!(unread(&s.ben).await, 0);
        let future = chat::mark_read(db, &hub, &s.ben, room, i64::MAX)
            .await
            .unwrap();
        assert_eq!(
            future.last_read_id, sent[4].id,
            "no further than the newest message"
        );
        let reads = events_after(db, Topic::Room(room), 0)
            .await
            .into_iter()
            .filter_map(|e| match e {
                DurableEvent::ChatRead(m) => Some(m.last_read_id),
                _ => None,
            })
            .collect::<Vec<_>>();
        assert!(
            reads.windows(2).all(|w| w[0] < w[1]),
            "published marks only move forward: {reads:?}"
        );
    }
);

both_backends!(
    a_member_who_was_away_replays_everything_once,
    |t: TestDb| async move {
        let db = &t.db;
        let hub = hub();
        let s = school(db).await;
        let room = chat::create_channel(
            db,
            &hub,
            &s.ada,
            "Class",
            "",
            &[s.ana.user.id, s.ben.user.id],
        )
        .await
        .unwrap()
        .room
        .id;
        chat::send(db, &hub, &s.ana, room, &text("before", "before Ben left"))
            .await
            .unwrap();
        let mut away: RoomSnapshot = chat::snapshot(db, &s.ben, room).await.unwrap();
        let mut messages = Vec::new();
        for n in 0..50 {
            let who = if n % 2 == 0 { &s.ana } else { &s.ada };
            messages.push(
                chat::send(
                    db,
                    &hub,
                    who,
                    room,
                    &text(&format!("n{n}"), &format!("message {n}")),
                )
                .await
                .unwrap(),
            );
        }
        for m in messages
            .iter()
            .filter(|m| m.author.as_ref().unwrap().id == s.ana.user.id)
            .take(10)
        {
            chat::edit(
                db,
                &hub,
                &s.ana,
                room,
                m.id,
                &format!("{} (edited)", m.body),
            )
            .await
            .unwrap();
        }
        for m in messages.iter().take(10) {
            chat::toggle_reaction(db, &hub, &s.ada, room, m.id, "❤️")
                .await
                .unwrap();
        }
        chat::delete(db, &hub, &s.ada, room, messages[1].id)
            .await
            .unwrap();
        chat::mark_read(db, &hub, &s.ana, room, messages[49].id)
            .await
            .unwrap();
        // What Ben's client replays from his snapshot's position: every event once, in order.
        let replay = events_after(db, Topic::Room(room), away.position.offset).await;
        let posted = replay
            .iter()
            .filter(|e| matches!(e, DurableEvent::ChatMessagePosted(_)))
            .count();
        let edited = replay
            .iter()
            .filter(|e| matches!(e, DurableEvent::ChatMessageEdited(_)))
            .count();
        let reacted = replay
            .iter()
            .filter(|e| matches!(e, DurableEvent::ChatReactionsChanged(_)))
            .count();
        assert_eq!((posted, edited, reacted), (50, 10, 10));
        for e in &replay {
            away.apply(e);
        }
        // Applied twice (a resume that overlaps) it changes nothing more.
        for e in &replay {
            away.apply(e);
        }
        let fresh = chat::snapshot(db, &s.ben, room).await.unwrap();
        let newest: Vec<_> = away
            .page
            .messages
            .iter()
            .take(fresh.page.messages.len())
            .cloned()
            .collect();
        assert_eq!(
            newest, fresh.page.messages,
            "the followed room equals a fresh one"
        );
        assert_eq!(away.summary.unread, fresh.summary.unread);
        assert_eq!(
            fresh.summary.unread, 50,
            "Ben has read nothing: the first message, 50 new, one of them deleted"
        );
        let mut reads = away.reads.clone();
        reads.sort_by_key(|r| r.user_id);
        assert_eq!(reads, fresh.reads);
        // Removed, Ben's next snapshot is refused, and the log holds nothing addressed to him alone.
        chat::remove_member(db, &hub, &s.ada, room, s.ben.user.id)
            .await
            .unwrap();
        assert!(matches!(
            chat::snapshot(db, &s.ben, room).await,
            Err(AppError::NotFound { .. })
        ));
        let p = studyhall::server::realtime::principal::load(db, &s.ben.user)
            .await
            .unwrap();
        assert!(
            !studyhall::access::can_subscribe(&p, &Topic::Room(room)),
            "a resume after removal is refused"
        );
    }
);

both_backends!(a_cohort_room_follows_its_cohort, |t: TestDb| async move {
    let db = &t.db;
    let hub = hub();
    let s = school(db).await;
    let sync = || async {
        let mut change = Change::begin(db, &hub).await.unwrap();
        chat::sync_cohort(&mut change, s.cohort_a).await.unwrap();
        change.commit().await.unwrap();
    };
    sync().await;
    let room = chat::list(db, &s.ana).await.unwrap()[0].room.clone();
    assert_eq!(
        (room.kind, room.name.as_str()),
        (RoomKind::Cohort, "Cohort A")
    );
    let snapshot = chat::snapshot(db, &s.maya, room.id).await.unwrap();
    let names: Vec<_> = snapshot
        .members
        .iter()
        .map(|m| m.display_name.as_str())
        .collect();
    assert_eq!(
        names,
        ["Ana", "Ben", "Maya"],
        "the students and their mentor"
    );
    assert!(chat::list(db, &s.cy).await.unwrap().is_empty());
    // Ben moves to another cohort: he leaves the room, and is told.
    users::set_cohort(db, s.ben.user.id, None).await.unwrap();
    sync().await;
    assert!(matches!(
        chat::snapshot(db, &s.ben, room.id).await,
        Err(AppError::NotFound { .. })
    ));
    let told = events_after(db, Topic::User(s.ben.user.id), 0).await;
    assert!(told
        .iter()
        .any(|e| matches!(e, DurableEvent::ChatRoomLeft(l) if l.room_id == room.id)));
    sync().await;
    let again = chat::snapshot(db, &s.ana, room.id).await.unwrap();
    assert_eq!(again.members.len(), 2, "a second sync changes nothing");
    assert!(matches!(
        chat::leave(db, &hub, &s.ana, room.id).await,
        Err(AppError::Conflict { .. })
    ));
});

both_backends!(
    the_room_list_resumes_each_room_and_counts_what_follows_once,
    |t: TestDb| async move {
        use studyhall::chat::my_rooms::Applied;
        let db = &t.db;
        let hub = hub();
        let s = school(db).await;
        let room = chat::open_direct(db, &hub, &s.ana, s.ben.user.id)
            .await
            .unwrap()
            .room
            .id;
        chat::send(db, &hub, &s.ana, room, &text("a1", "before the list"))
            .await
            .unwrap();
        let mut bens = chat::my_rooms(db, &s.ben).await.unwrap();
        assert_eq!(bens.unread_total(), 1);
        let head = bens.head(room).unwrap().clone();
        assert_eq!(
            head.offset,
            studyhall::server::realtime::log::head(db, Topic::Room(room))
                .await
                .unwrap()
                .head
        );
        chat::send(db, &hub, &s.ana, room, &text("a2", "after the list"))
            .await
            .unwrap();
        // Everything on the topic from the start: what the list had is skipped, the rest counts once.
        let log = studyhall::server::realtime::log::head(db, Topic::Room(room))
            .await
            .unwrap();
        let events = studyhall::server::realtime::log::read(
            db,
            Topic::Room(room),
            &log.epoch,
            0,
            log.head,
            100,
        )
        .await
        .unwrap();
        for _ in 0..2 {
            for e in &events {
                let event = DurableEvent::decode(&e.event, e.data.clone()).unwrap();
                bens.apply_room(room, e.offset, &event);
            }
        }
        assert_eq!(bens.unread_total(), 2);
        assert_eq!(bens, {
            let mut fresh = chat::my_rooms(db, &s.ben).await.unwrap();
            fresh.heads = bens.heads.clone();
            fresh
        });
        // Ben reads it all in another tab: the list follows without asking again.
        let newest = chat::history(db, &s.ben, room, None, None)
            .await
            .unwrap()
            .messages[0]
            .id;
        chat::mark_read(db, &hub, &s.ben, room, newest)
            .await
            .unwrap();
        let after = events_after(db, Topic::Room(room), log.head).await;
        let read = &after[0];
        assert!(matches!(read, DurableEvent::ChatRead(_)));
        assert_eq!(bens.apply_room(room, log.head + 1, read), Applied::Changed);
        assert_eq!(bens.unread_total(), 0);
    }
);

/// The chat notifications in `who`'s inbox, newest first.
async fn chat_alerts(db: &Db, who: &Caller) -> Vec<studyhall::notifications::Notification> {
    studyhall::notifications::service::snapshot(db, who)
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|n| n.link.as_deref().is_some_and(|l| l.starts_with("/chat/")))
        .collect()
}

both_backends!(
    direct_messages_and_mentions_notify_whoever_is_not_online_once_per_window,
    |t: TestDb| async move {
        use studyhall::chat::groups::NewGroup;
        let db = &t.db;
        let hub = hub();
        let s = school(db).await;
        let dm = chat::open_direct(db, &hub, &s.ana, s.ben.user.id)
            .await
            .unwrap()
            .room
            .id;
        let first = chat::send(db, &hub, &s.ana, dm, &text("d1", "Are you coming?"))
            .await
            .unwrap();
        chat::send(db, &hub, &s.ana, dm, &text("d2", "Hello?"))
            .await
            .unwrap();
        let bens = chat_alerts(db, &s.ben).await;
        assert_eq!(bens.len(), 1, "one per room within the window: {bens:?}");
        assert_eq!(bens[0].title, "Ana wrote to you");
        assert_eq!(bens[0].message, "Are you coming?");
        assert_eq!(
            bens[0].link.as_deref(),
            Some(&format!("/chat/{dm}?message={}", first.id)[..])
        );
        assert!(
            chat_alerts(db, &s.ana).await.is_empty(),
            "not to the author"
        );

        // Online (following the room on this node): no notification; the page shows it live.
        let with_maya = chat::open_direct(db, &hub, &s.ana, s.maya.user.id)
            .await
            .unwrap()
            .room
            .id;
        let online = hub.connect(s.maya.user.id).unwrap();
        hub.subscribe(online.id, Topic::Room(with_maya));
        chat::send(db, &hub, &s.ana, with_maya, &text("m1", "See you at 5"))
            .await
            .unwrap();
        assert!(chat_alerts(db, &s.maya).await.is_empty());

        // In a group, only those mentioned, and not when they muted the room.
        let group = |name: &str| NewGroup {
            name: name.into(),
            description: String::new(),
            public: true,
            member_limit: 10,
        };
        let circle = chat::create_group(db, &hub, &s.cy, &group("Circle"))
            .await
            .unwrap()
            .room
            .id;
        for c in [&s.ana, &s.ben] {
            chat::join_group(db, &hub, c, circle).await.unwrap();
        }
        chat::set_muted(db, &s.ben, circle, true).await.unwrap();
        chat::send(
            db,
            &hub,
            &s.cy,
            circle,
            &text("c1", "@ana and @Ben, page 4 @nobody"),
        )
        .await
        .unwrap();
        let anas = chat_alerts(db, &s.ana).await;
        assert_eq!(anas.len(), 1, "{anas:?}");
        assert_eq!(anas[0].title, "Cy mentioned you in Circle");
        assert_eq!(
            chat_alerts(db, &s.ben).await.len(),
            1,
            "Ben muted the circle"
        );
        chat::send(db, &hub, &s.cy, circle, &text("c2", "no names here"))
            .await
            .unwrap();
        assert_eq!(chat_alerts(db, &s.ana).await.len(), 1);
    }
);

both_backends!(
    a_direct_room_says_when_the_other_person_was_last_online,
    |t: TestDb| async move {
        let db = &t.db;
        let hub = hub();
        let s = school(db).await;
        let room = chat::open_direct(db, &hub, &s.ana, s.ben.user.id)
            .await
            .unwrap()
            .room
            .id;
        let seen = |c| async move { chat::snapshot(db, c, room).await.unwrap().peer_last_seen };
        assert_eq!(seen(&s.ana).await, None, "Ben never connected");
        // What the socket stores when Ben's last connection closes.
        users::touch_last_seen(db, s.ben.user.id, 1_764_000_000_000)
            .await
            .unwrap();
        assert_eq!(seen(&s.ana).await, Some(1_764_000_000_000));
        assert_eq!(seen(&s.ben).await, None, "Ana never connected");
    }
);
