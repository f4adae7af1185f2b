//! Demo data for a fresh database outside production: an admin, two mentors and a dozen students in
//! two cohorts, with mentor assignments, and four weeks of learning history (sessions, goals, skills)
//! written through the same services as real use, so activities, figures and milestone notifications
//! are what they would have been.

use crate::accounts::service::Caller;
use crate::accounts::SessionKind;
use crate::accounts::{cohorts, password, users};
use crate::learning::{analytics, service as learning};
use crate::learning::{GoalInput, SessionInput};
use crate::model::{Millis, Role, User};
use crate::notifications::service as notifications;
use crate::notifications::{Audience, Kind, NewNotification, Priority};
use crate::server::db::Db;
use crate::server::now_ms;
use crate::server::realtime::{Hub, HubSettings, InProcessBus};
use crate::AppError;
use std::sync::Arc;

pub const DEMO_PASSWORD: &str = "studyhall-demo";

/// A demo account to print at start-up.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub email: String,
    pub role: Role,
}

const STUDENTS: [(&str, &str); 12] = [
    ("Ana Souza", "America/Sao_Paulo"),
    ("Ben Carter", "Europe/London"),
    ("Chen Wei", "Asia/Shanghai"),
    ("Dara Okafor", "Africa/Lagos"),
    ("Elif Yilmaz", "Europe/Istanbul"),
    ("Farah Haddad", "Asia/Beirut"),
    ("Gustav Lind", "Europe/Stockholm"),
    ("Hana Sato", "Asia/Tokyo"),
    ("Ivan Petrov", "Europe/Sofia"),
    ("Jade Martin", "Europe/Paris"),
    ("Kofi Mensah", "Africa/Accra"),
    ("Lucia Rossi", "Europe/Rome"),
];

/// Seeds the demo data if the database has no users; returns the sign-ins it created (empty otherwise).
pub async fn seed_if_empty(db: &Db) -> Result<Vec<DemoLogin>, AppError> {
    if users::count(db).await? > 0 {
        return Ok(Vec::new());
    }
    let now = now_ms();
    // One hash for every demo account: they share the password, and argon2 is slow on purpose.
    let hash = password::hash(DEMO_PASSWORD.to_string()).await?;
    let mut logins = Vec::new();
    let mut students = Vec::new();
    let mut add = |email: String, role: Role| {
        logins.push(DemoLogin { email, role });
    };
    let cohort_a = cohorts::insert(db, "Spring Cohort", now).await?;
    let cohort_b = cohorts::insert(db, "Autumn Cohort", now).await?;
    let new =
        |email: &'static str, name: &'static str, role, tz: &'static str, cohort| users::NewUser {
            email,
            display_name: name,
            role,
            time_zone: tz,
            password_hash: &hash,
            cohort_id: cohort,
        };
    let admin = users::insert(
        db,
        new(
            "admin@studyhall.test",
            "Avery Admin",
            Role::Admin,
            "UTC",
            None,
        ),
        now,
    )
    .await?;
    let admin_user = admin.clone();
    let hub = Hub::new(HubSettings::default(), Arc::new(InProcessBus::default()));
    crate::announcements::service::store(
        db,
        &hub,
        &admin,
        "Welcome to Studyhall",
        "Log what you learn, keep your streak, and ask your mentor when you are stuck.",
    )
    .await?;
    add(admin.email, Role::Admin);
    let mentor_a = users::insert(
        db,
        new(
            "mentor.maya@studyhall.test",
            "Maya Mentor",
            Role::Mentor,
            "Europe/Lisbon",
            Some(cohort_a.id),
        ),
        now,
    )
    .await?;
    let mentor_b = users::insert(
        db,
        new(
            "mentor.omar@studyhall.test",
            "Omar Mentor",
            Role::Mentor,
            "America/New_York",
            Some(cohort_b.id),
        ),
        now,
    )
    .await?;
    add(mentor_a.email.clone(), Role::Mentor);
    add(mentor_b.email.clone(), Role::Mentor);
    for (i, (name, tz)) in STUDENTS.iter().enumerate() {
        let first = name.split(' ').next().unwrap_or("student").to_lowercase();
        let email = format!("{first}@studyhall.test");
        let (cohort, mentor) = if i % 2 == 0 {
            (&cohort_a, &mentor_a)
        } else {
            (&cohort_b, &mentor_b)
        };
        let student = users::insert(
            db,
            users::NewUser {
                email: &email,
                display_name: name,
                role: Role::Student,
                time_zone: tz,
                password_hash: &hash,
                cohort_id: Some(cohort.id),
            },
            now,
        )
        .await?;
        users::replace_mentors(db, student.id, &[mentor.id], now).await?;
        if i < 2 {
            add(student.email.clone(), Role::Student);
        }
        students.push(student);
    }
    seed_history(db, &students, now).await?;
    seed_chat(
        db,
        &hub,
        &[cohort_a.id, cohort_b.id],
        &students,
        [&mentor_a, &mentor_b],
    )
    .await?;
    let send = |audience, kind, priority, title: &str, message: &str, link: &str| NewNotification {
        audience,
        kind,
        priority,
        title: title.into(),
        message: message.into(),
        link: Some(link.into()),
        ttl_secs: None,
    };
    notifications::send(
        db,
        &hub,
        &caller(mentor_a.clone()),
        &send(
            Audience::MyStudents,
            Kind::Social,
            Priority::Normal,
            "Office hours on Thursday",
            "Bring the exercise you are stuck on; 17:00 Lisbon time.",
            "/learning",
        ),
    )
    .await?;
    notifications::send(
        db,
        &hub,
        &caller(admin_user),
        &send(
            Audience::Everyone,
            Kind::System,
            Priority::High,
            "Welcome to Studyhall",
            "Notifications arrive here live. Mute the kinds you do not want in Settings.",
            "/notifications",
        ),
    )
    .await?;
    Ok(logins)
}

/// Each cohort's room, a direct room for every student and their mentor, and a few messages.
async fn seed_chat(
    db: &Db,
    hub: &Hub,
    cohorts: &[i64],
    students: &[User],
    mentors: [&User; 2],
) -> Result<(), AppError> {
    use crate::chat::service as chat;
    use crate::chat::{NewMessage, RoomKind};
    for &cohort in cohorts {
        let mut change = crate::server::realtime::Change::begin(db, hub).await?;
        chat::sync_cohort(&mut change, cohort).await?;
        change.commit().await?;
    }
    let say = |client_id: &str, body: &str| NewMessage {
        client_id: client_id.into(),
        body: body.into(),
        reply_to: None,
        attachments: vec![],
    };
    for (i, student) in students.iter().enumerate() {
        let mentor = mentors[i % 2];
        let direct = chat::open_direct(db, hub, &caller(student.clone()), mentor.id).await?;
        if i < 2 {
            let first = student.display_name.split(' ').next().unwrap_or("there");
            let hello =
                format!("Hi {first}! How is the week going? Tell me if anything is blocking you.");
            chat::send(
                db,
                hub,
                &caller(mentor.clone()),
                direct.room.id,
                &say("demo-hello", &hello),
            )
            .await?;
        }
    }
    let maya = caller(mentors[0].clone());
    let cohort_room = chat::list(db, &maya)
        .await?
        .into_iter()
        .find(|r| r.room.kind == RoomKind::Cohort)
        .map(|r| r.room.id);
    if let (Some(room), Some(student)) = (cohort_room, students.first()) {
        chat::send(
            db,
            hub,
            &maya,
            room,
            &say(
                "demo-welcome",
                "Welcome to the **Spring Cohort** room! Ask questions here; answers help everyone.",
            ),
        )
        .await?;
        chat::send(db, hub, &caller(student.clone()), room, &say("demo-question",
            "Is anyone else on the ownership chapter? The `borrow checker` examples in section 4 confuse me.")).await?;
    }
    seed_groups(db, hub, students).await
}

/// A public study group with two members and a message, and a private one whose owner invited the
/// first student (the demo's Ana), so the directory shows every section.
async fn seed_groups(db: &Db, hub: &Hub, students: &[User]) -> Result<(), AppError> {
    use crate::chat::groups::NewGroup;
    use crate::chat::service as chat;
    let (Some(first), Some(second), Some(third)) =
        (students.first(), students.get(1), students.get(2))
    else {
        return Ok(());
    };
    let group = |name: &str, description: &str, public, member_limit| NewGroup {
        name: name.into(),
        description: description.into(),
        public,
        member_limit,
    };
    let circle = chat::create_group(
        db,
        hub,
        &caller(second.clone()),
        &group(
            "Rust reading circle",
            "One chapter of the Rust book a week; we compare notes on Fridays.",
            true,
            8,
        ),
    )
    .await?;
    chat::join_group(db, hub, &caller(third.clone()), circle.room.id).await?;
    let note = crate::chat::NewMessage {
        client_id: "demo-circle".into(),
        body: "Chapter 4 this week: *ownership*. Post your questions here before Friday.".into(),
        reply_to: None,
        attachments: vec![],
    };
    chat::send(db, hub, &caller(second.clone()), circle.room.id, &note).await?;
    if let Some(mate) = students
        .iter()
        .skip(1)
        .find(|s| s.cohort_id == first.cohort_id)
    {
        let prep = chat::create_group(
            db,
            hub,
            &caller(mate.clone()),
            &group(
                "Exam prep",
                "Past papers, timed, every Tuesday evening.",
                false,
                6,
            ),
        )
        .await?;
        chat::invite(db, hub, &caller(mate.clone()), prep.room.id, first.id).await?;
    }
    Ok(())
}

fn caller(user: User) -> Caller {
    Caller {
        user,
        session_id: String::new(),
        session_handle: String::new(),
        kind: SessionKind::Browser,
        token_expires_at: Millis::MAX,
        scopes: None,
    }
}

const TOPICS: [&str; 6] = ["Rust", "SQL", "Algorithms", "Web APIs", "Testing", "Git"];
const GOALS: [&str; 4] = [
    "Finish the ownership chapter",
    "Build a REST API",
    "Solve 20 practice problems",
    "Write tests for the todo app",
];
const DAY_MS: Millis = 24 * 3600 * 1000;

enum Step {
    Session(SessionInput),
    Goal(&'static str),
    CompleteGoal(&'static str),
    Skill(&'static str),
}

/// Four weeks of history per student, replayed in time order across students so the feed's order
/// (by id) matches time. Each student has a pattern of their own; most have a streak running today.
async fn seed_history(db: &Db, students: &[User], now: Millis) -> Result<(), AppError> {
    let hub = Hub::new(HubSettings::default(), Arc::new(InProcessBus::default()));
    let mut steps: Vec<(Millis, usize, Step)> = Vec::new();
    for (i, student) in students.iter().enumerate() {
        for back in (0..28i64).rev() {
            let streaking = back < 4 + (i as i64 % 5) && i % 4 != 3;
            let skip = (i as i64 * 7 + back * 3) % 5 == 0;
            if !streaking && skip {
                continue;
            }
            let at = now - back * DAY_MS - ((i as i64 * 37) % 300) * 60_000;
            let day = analytics::format_day(analytics::local_day(&student.time_zone, at));
            steps.push((
                at,
                i,
                Step::Session(SessionInput {
                    day,
                    minutes: 15 + ((i as i64 * 13 + back * back * 3 + i as i64 * back) % 9) * 10,
                    topic: TOPICS[(i + back as usize) % TOPICS.len()].to_string(),
                    note: (back % 6 == 0).then(|| "Worked through the exercises.".to_string()),
                }),
            ));
        }
        let base = now - 26 * DAY_MS + i as i64 * 3_600_000;
        steps.push((base, i, Step::Skill(TOPICS[i % TOPICS.len()])));
        steps.push((base + DAY_MS, i, Step::Goal(GOALS[i % GOALS.len()])));
        steps.push((
            base + 6 * DAY_MS,
            i,
            Step::CompleteGoal(GOALS[i % GOALS.len()]),
        ));
        steps.push((
            base + 9 * DAY_MS,
            i,
            Step::Skill(TOPICS[(i + 2) % TOPICS.len()]),
        ));
        steps.push((
            base + 12 * DAY_MS,
            i,
            Step::Goal(GOALS[(i + 1) % GOALS.len()]),
        ));
    }
    steps.sort_by_key(|(at, i, _)| (*at, *i));
    let mut goals = std::collections::HashMap::new();
    for (at, i, step) in steps {
        let who = caller(students[i].clone());
        match step {
            Step::Session(input) => {
                learning::log_session_at(db, &hub, &who, &input, at).await?;
            }
            Step::Skill(name) => {
                learning::add_skill_at(db, &hub, &who, name, at).await?;
            }
            Step::Goal(title) => {
                let input = GoalInput {
                    title: title.into(),
                    target_day: None,
                };
                let goal = learning::set_goal_at(db, &hub, &who, &input, at).await?;
                goals.insert((i, title), goal.id);
            }
            Step::CompleteGoal(title) => {
                if let Some(id) = goals.get(&(i, title)) {
                    learning::complete_goal_at(db, &hub, &who, *id, true, at).await?;
                }
            }
        }
    }
    Ok(())
}
