//! Chat search on SQLite (FTS5) and PostgreSQL (full-text search): a word finds a message only for
//! the rooms' members, every word is required, a word's start is enough, edits move a message in the
//! index and deletions take it out, and no query text is read as the index's own syntax.

mod chat_support;

use chat_support::*;
use studyhall::both_backends;
use studyhall::chat::groups::NewGroup;
use studyhall::chat::service as chat;
use studyhall::testing::TestDb;
use studyhall::AppError;

both_backends!(
    search_finds_words_only_in_the_callers_rooms,
    |t: TestDb| async move {
        let (db, hub) = (&t.db, hub());
        let s = school(db).await;
        let ana_ben = chat::open_direct(db, &hub, &s.ana, s.ben.user.id)
            .await
            .unwrap()
            .room
            .id;
        let ana_maya = chat::open_direct(db, &hub, &s.ana, s.maya.user.id)
            .await
            .unwrap()
            .room
            .id;
        let group = NewGroup {
            name: "Library".into(),
            description: String::new(),
            public: true,
            member_limit: 5,
        };
        let cys = chat::create_group(db, &hub, &s.cy, &group)
            .await
            .unwrap()
            .room
            .id;
        let checker = chat::send(
            db,
            &hub,
            &s.ana,
            ana_ben,
            &text("a1", "The **borrow** checker rejects this"),
        )
        .await
        .unwrap();
        chat::send(
            db,
            &hub,
            &s.cy,
            cys,
            &text("c1", "Borrowing books at the library"),
        )
        .await
        .unwrap();
        let question = chat::send(
            db,
            &hub,
            &s.maya,
            ana_maya,
            &text("m1", "A checker question for you"),
        )
        .await
        .unwrap();
        let secret = chat::send(
            db,
            &hub,
            &s.ben,
            ana_ben,
            &text("b1", "borrow my secret notes"),
        )
        .await
        .unwrap();
        chat::delete(db, &hub, &s.ben, ana_ben, secret.id)
            .await
            .unwrap();

        let found = |c, q: &'static str| {
            let db = db.clone();
            async move {
                chat::search(&db, c, q, None)
                    .await
                    .unwrap()
                    .hits
                    .into_iter()
                    .map(|h| h.message_id)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            found(&s.ana, "borrow").await,
            [checker.id],
            "not Cy's room, not the deleted one"
        );
        assert_eq!(
            found(&s.ana, "BORR").await,
            [checker.id],
            "a word's start, any case"
        );
        assert_eq!(
            found(&s.ana, "checker").await,
            [question.id, checker.id],
            "newest first"
        );
        assert_eq!(
            found(&s.ana, "checker borrow").await,
            [checker.id],
            "every word required"
        );
        assert!(
            found(&s.cy, "checker").await.is_empty(),
            "not a member of Ana's rooms"
        );
        assert_eq!(found(&s.cy, "borrow").await.len(), 1);
        assert!(found(&s.max, "borrow").await.is_empty());
        // Index syntax is only punctuation here.
        assert_eq!(
            found(&s.ana, r#""borrow*" AND (checker"#).await,
            Vec::<i64>::new(),
            "'and' is a word too"
        );
        assert_eq!(found(&s.ana, r#"checker: "borrow"^*"#).await, [checker.id]);

        let hit = &chat::search(db, &s.ana, "question", None)
            .await
            .unwrap()
            .hits[0];
        assert_eq!((hit.room_id, hit.room_name.as_str()), (ana_maya, "Maya"));
        assert_eq!(hit.excerpt, "A checker question for you");
        assert_eq!(hit.author.as_ref().map(|a| a.id), Some(s.maya.user.id));

        chat::edit(
            db,
            &hub,
            &s.ana,
            ana_ben,
            checker.id,
            "The lifetime checker rejects this",
        )
        .await
        .unwrap();
        assert!(
            found(&s.ana, "borrow").await.is_empty(),
            "the edit left the old words"
        );
        assert_eq!(found(&s.ana, "lifetime").await, [checker.id]);

        assert!(matches!(
            chat::search(db, &s.ana, " ** ", None).await,
            Err(AppError::Validation { .. })
        ));
        // The next page: older than the last hit.
        assert_eq!(
            chat::search(db, &s.ana, "checker", Some(question.id))
                .await
                .unwrap()
                .hits[0]
                .message_id,
            checker.id
        );
    }
);
