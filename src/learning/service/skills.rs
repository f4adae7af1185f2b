//! A student's skills: add (one name once, told apart by the unique constraint) and delete.

use super::*;

pub async fn add_skill(db: &Db, hub: &Hub, caller: &Caller, name: &str) -> Result<Skill, AppError> {
    add_skill_once(db, hub, caller, name, None).await
}

pub async fn add_skill_once(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    name: &str,
    key: Option<&str>,
) -> Result<Skill, AppError> {
    let key = Key::parse(key)?;
    create_skill(db, hub, caller, name, key.as_ref(), crate::server::now_ms()).await
}

pub async fn add_skill_at(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    name: &str,
    now: Millis,
) -> Result<Skill, AppError> {
    create_skill(db, hub, caller, name, None, now).await
}

async fn create_skill(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    name: &str,
    key: Option<&Key>,
    now: Millis,
) -> Result<Skill, AppError> {
    let user = student(caller)?;
    let name = crate::validate::text("name", name, model::SKILL_NAME_MAX)
        .map_err(|e| AppError::Validation { fields: vec![e] })?;
    let mut change = Change::begin_at(db, hub, now).await?;
    change.lock(Topic::User(user.id)).await?;
    let ticket = match idempotency::claim(change.tx(), user.id, "learning.skill", key, now).await? {
        Claim::Done(skill) => return Ok(skill),
        Claim::New(ticket) => ticket,
    };
    let (id, created_at): (i64, i64) = with_tx!(change.tx(), c => sqlx::query_as(
        "INSERT INTO skills (user_id, name, created_at) VALUES ($1, $2, $3) RETURNING id, created_at")
        .bind(user.id).bind(&name).bind(now)
        .fetch_one(&mut *c).await
        .map_err(|e| unique_or_internal(e, Unique::SkillName, "name", "You have already added that skill."))?);
    let skill = Skill {
        id,
        user_id: user.id,
        name,
        created_at,
    };
    idempotency::finish(change.tx(), ticket, &skill).await?;
    activity::record(
        &mut change,
        user,
        Record {
            kind: kinds::SKILL_ADDED,
            subject: Some(format!("skill:{}", skill.id)),
            title: format!("{} added a skill: {}", user.display_name, skill.name),
            details: None,
        },
    )
    .await?;
    finish(
        change,
        user,
        LearningChange::SkillAdded {
            skill: skill.clone(),
        },
    )
    .await?;
    Ok(skill)
}

pub async fn delete_skill(db: &Db, hub: &Hub, caller: &Caller, id: i64) -> Result<(), AppError> {
    let user = student(caller)?;
    delete_owned(
        db,
        hub,
        user,
        "DELETE FROM skills WHERE id = $1 AND user_id = $2",
        id,
        "That skill",
        LearningChange::SkillDeleted { id },
    )
    .await
}
