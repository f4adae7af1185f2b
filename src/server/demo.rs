//! Demo data for a fresh database outside production: an admin, two mentors and a dozen students in
//! two cohorts, with mentor assignments. Later features add their demo data here.

use super::db::Db;
use super::{cohorts, now_ms, password, users};
use crate::model::Role;
use crate::AppError;

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
    super::announcements::store(
        db,
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
            add(student.email, Role::Student);
        }
    }
    Ok(logins)
}
