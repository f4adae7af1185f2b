//! What the chat service tests share: a hub, people, the little school they live in (two cohorts, a
//! mentor, an unrelated mentor, an admin), message drafts, and the events a topic holds.
#![allow(dead_code)] // each test file uses its part

use std::sync::Arc;
use studyhall::accounts::service::Caller;
use studyhall::accounts::{cohorts, users};
use studyhall::chat::NewMessage;
use studyhall::events::DurableEvent;
use studyhall::model::Role;
use studyhall::protocol::Topic;
use studyhall::server::db::Db;
use studyhall::server::now_ms;
use studyhall::server::realtime::{log, Hub, HubSettings, InProcessBus};

pub fn hub() -> Hub {
    Hub::new(HubSettings::default(), Arc::new(InProcessBus::default()))
}

pub async fn person(db: &Db, name: &str, role: Role, cohort: Option<i64>) -> Caller {
    let email = format!("{}@example.com", name.to_lowercase());
    let user = users::insert(
        db,
        users::NewUser {
            email: &email,
            display_name: name,
            role,
            time_zone: "UTC",
            password_hash: "not-a-hash",
            cohort_id: cohort,
        },
        now_ms(),
    )
    .await
    .unwrap();
    studyhall::testing::caller(user)
}

pub fn text(client_id: &str, body: &str) -> NewMessage {
    NewMessage {
        client_id: client_id.into(),
        body: body.into(),
        reply_to: None,
        attachments: vec![],
    }
}

/// Every event on `topic` after `after`, decoded.
pub async fn events_after(db: &Db, topic: Topic, after: i64) -> Vec<DurableEvent> {
    let head = log::head(db, topic).await.unwrap();
    log::read(db, topic, &head.epoch, after, head.head, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| DurableEvent::decode(&e.event, e.data).unwrap())
        .collect()
}

/// Ana and Ben in cohort A, Cy in cohort B, Maya mentoring Ana, Max an unrelated mentor, Ada admin.
pub struct School {
    pub ana: Caller,
    pub ben: Caller,
    pub cy: Caller,
    pub maya: Caller,
    pub max: Caller,
    pub ada: Caller,
    pub cohort_a: i64,
}

pub async fn school(db: &Db) -> School {
    let a = cohorts::insert(db, "Cohort A", now_ms()).await.unwrap().id;
    let b = cohorts::insert(db, "Cohort B", now_ms()).await.unwrap().id;
    let s = School {
        ana: person(db, "Ana", Role::Student, Some(a)).await,
        ben: person(db, "Ben", Role::Student, Some(a)).await,
        cy: person(db, "Cy", Role::Student, Some(b)).await,
        maya: person(db, "Maya", Role::Mentor, None).await,
        max: person(db, "Max", Role::Mentor, None).await,
        ada: person(db, "Ada", Role::Admin, None).await,
        cohort_a: a,
    };
    users::replace_mentors(db, s.ana.user.id, &[s.maya.user.id], now_ms())
        .await
        .unwrap();
    s
}
