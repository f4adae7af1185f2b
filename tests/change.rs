//! The unit of work: what a change emits reaches the log only if it commits, in emit order with
//! gapless offsets, and a change dropped half-way leaves nothing behind. On SQLite and PostgreSQL.

use std::sync::Arc;
use studyhall::both_backends;
use studyhall::events::{DurableEvent, Removed};
use studyhall::protocol::Topic;
use studyhall::server::realtime::{log, Change, Hub, HubSettings, InProcessBus, Outbound};
use studyhall::testing::TestDb;

fn removed(id: i64) -> DurableEvent {
    DurableEvent::AnnouncementDeleted(Removed { id })
}

both_backends!(
    a_change_reaches_the_log_only_when_it_commits,
    |t: TestDb| async move {
        let db = &t.db;
        let hub = Hub::new(HubSettings::default(), Arc::new(InProcessBus::default()));
        let topic = Topic::Announcements;
        let before = log::head(db, topic).await.unwrap().head;
        // A listener on the topic, as a connection is: what the hub offers lands in its mailbox.
        let listener = hub.connect(1).unwrap();
        hub.subscribe(listener.id, topic);
        let offered = || {
            std::iter::from_fn(|| listener.mailbox.try_recv())
                .map(|o| match o {
                    Outbound::Event(e) => e.offset,
                    Outbound::Frame(..) => -1,
                    Outbound::Revoked(_) => -2,
                })
                .collect::<Vec<i64>>()
        };

        // Emitted, then dropped (an error returned half-way): nothing stays, nothing is published.
        {
            let mut change = Change::begin(db, &hub).await.unwrap();
            let emitted = change.emit(topic, &removed(1)).await.unwrap();
            assert_eq!(emitted.offset, before + 1);
        }
        assert_eq!(log::head(db, topic).await.unwrap().head, before);
        assert_eq!(
            offered(),
            Vec::<i64>::new(),
            "a dropped change publishes nothing"
        );

        // Committed: both events, in the order emitted, with the next offsets (the dropped one's
        // offset was given back), and as the log stores them.
        let mut change = Change::begin(db, &hub).await.unwrap();
        change.emit(topic, &removed(2)).await.unwrap();
        change.emit(topic, &removed(3)).await.unwrap();
        assert_eq!(
            offered(),
            Vec::<i64>::new(),
            "nothing is published before the commit"
        );
        let published = change.commit().await.unwrap();
        assert_eq!(
            offered(),
            [before + 1, before + 2],
            "published after it, in order"
        );
        let offsets: Vec<i64> = published.iter().map(|e| e.offset).collect();
        assert_eq!(offsets, [before + 1, before + 2]);
        let head = log::head(db, topic).await.unwrap();
        let stored = log::read(db, topic, &head.epoch, before, head.head, 10)
            .await
            .unwrap();
        let decoded: Vec<DurableEvent> = stored
            .iter()
            .map(|e| DurableEvent::decode(&e.event, e.data.clone()).unwrap())
            .collect();
        assert_eq!(decoded, [removed(2), removed(3)]);
    }
);
