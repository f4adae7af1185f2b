//! Server functions for the learning log, dashboards and the activity feed.

#[cfg(feature = "ssr")]
use super::ssr_prelude::*;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use studyhall::feed::{Activity, FeedFilter, FeedPage};
use studyhall::learning::{
    Analytics, Goal, LearningSession, LearningSnapshot, SessionCursor, SessionPage, Skill,
    StudentRow, SystemFigures,
};
use studyhall::protocol::Position;
use studyhall::AppError;

/// What the student's dashboard shows, current to one position of their stream.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StudentDashboard {
    pub analytics: Analytics,
    pub recent: Vec<Activity>,
    pub position: Position,
}

#[server(endpoint = "learning/dashboard")]
pub async fn load_student_dashboard() -> Result<StudentDashboard, AppError> {
    use studyhall::feed::service as activity;
    use studyhall::learning::service as learning;
    let services = services()?;
    let caller = caller()?;
    let db = services.accounts.db();
    // The position comes first: anything after it arrives live (figures replace, activities
    // are de-duplicated by id).
    let (analytics, position) = learning::analytics_of(db, &caller, caller.user.id).await?;
    let (recent, _) = activity::items(
        db,
        &caller,
        &FeedFilter {
            user_id: Some(caller.user.id),
            limit: Some(6),
            ..Default::default()
        },
    )
    .await?;
    Ok(StudentDashboard {
        analytics,
        recent,
        position,
    })
}

#[server(endpoint = "learning/mentor-rows")]
pub async fn mentor_rows() -> Result<Vec<StudentRow>, AppError> {
    studyhall::learning::service::mentor_rows(services()?.accounts.db(), &caller()?).await
}

#[server(endpoint = "learning/system-figures")]
pub async fn load_system_figures() -> Result<(SystemFigures, Position), AppError> {
    let services = services()?;
    let online = services.hub.online_users() as i64;
    studyhall::learning::analytics::system_snapshot(services.accounts.db(), &caller()?, online)
        .await
}

#[server(endpoint = "learning/snapshot")]
pub async fn load_learning() -> Result<LearningSnapshot, AppError> {
    studyhall::learning::service::snapshot(services()?.accounts.db(), &caller()?).await
}

/// The caller's sessions after `before` (a snapshot's `more_sessions` or a page's `next`).
#[server(endpoint = "learning/sessions", input = Json)]
pub async fn load_sessions(before: SessionCursor) -> Result<SessionPage, AppError> {
    studyhall::learning::service::sessions_page(
        services()?.accounts.db(),
        &caller()?,
        Some(&before),
        None,
    )
    .await
}

#[cfg(feature = "ssr")]
fn minutes_of(hours: &str, minutes: &str) -> Result<i64, AppError> {
    let parse = |raw: &str| -> Option<i64> {
        let raw = raw.trim();
        if raw.is_empty() {
            Some(0)
        } else {
            raw.parse::<i64>().ok().filter(|n| (0..=1440).contains(n))
        }
    };
    match (parse(hours), parse(minutes)) {
        (Some(h), Some(m)) => Ok(h * 60 + m),
        _ => Err(AppError::validation(
            "minutes",
            "Enter whole hours and minutes.",
        )),
    }
}

#[server(endpoint = "learning/sessions/save")]
pub async fn save_session(
    id: Option<i64>,
    day: String,
    hours: String,
    minutes: String,
    topic: String,
    note: Option<String>,
    /// A new session is made once per key (`RequestKey`); an edit ignores it.
    request_key: Option<String>,
) -> Result<LearningSession, AppError> {
    use studyhall::learning::service as learning;
    use studyhall::learning::SessionInput;
    let services = services()?;
    let input = SessionInput {
        day,
        minutes: minutes_of(&hours, &minutes)?,
        topic,
        note,
    };
    let (db, hub, caller) = (services.accounts.db(), &services.hub, caller()?);
    match id {
        None => learning::log_session_once(db, hub, &caller, &input, request_key.as_deref()).await,
        Some(id) => learning::update_session(db, hub, &caller, id, &input).await,
    }
}

/// What a learning-page delete or toggle applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LearningItem {
    Session(i64),
    Goal(i64),
    Skill(i64),
}

#[server(endpoint = "learning/delete", input = Json)]
pub async fn delete_learning_item(item: LearningItem) -> Result<(), AppError> {
    use studyhall::learning::service as learning;
    let services = services()?;
    let (db, hub, caller) = (services.accounts.db(), &services.hub, caller()?);
    match item {
        LearningItem::Session(id) => learning::delete_session(db, hub, &caller, id).await,
        LearningItem::Goal(id) => learning::delete_goal(db, hub, &caller, id).await,
        LearningItem::Skill(id) => learning::delete_skill(db, hub, &caller, id).await,
    }
}

#[server(endpoint = "learning/goals/set")]
pub async fn set_goal(
    title: String,
    target_day: Option<String>,
    request_key: Option<String>,
) -> Result<Goal, AppError> {
    use studyhall::learning::GoalInput;
    let services = services()?;
    studyhall::learning::service::set_goal_once(
        services.accounts.db(),
        &services.hub,
        &caller()?,
        &GoalInput { title, target_day },
        request_key.as_deref(),
    )
    .await
}

#[server(endpoint = "learning/goals/edit")]
pub async fn edit_goal(
    id: i64,
    title: String,
    target_day: Option<String>,
) -> Result<Goal, AppError> {
    use studyhall::learning::GoalInput;
    let services = services()?;
    studyhall::learning::service::update_goal(
        services.accounts.db(),
        &services.hub,
        &caller()?,
        id,
        &GoalInput { title, target_day },
    )
    .await
}

#[server(endpoint = "learning/goals/complete", input = Json)]
pub async fn complete_goal(id: i64, completed: bool) -> Result<Goal, AppError> {
    let services = services()?;
    studyhall::learning::service::complete_goal(
        services.accounts.db(),
        &services.hub,
        &caller()?,
        id,
        completed,
    )
    .await
}

#[server(endpoint = "learning/skills/add")]
pub async fn add_skill(name: String, request_key: Option<String>) -> Result<Skill, AppError> {
    let services = services()?;
    studyhall::learning::service::add_skill_once(
        services.accounts.db(),
        &services.hub,
        &caller()?,
        &name,
        request_key.as_deref(),
    )
    .await
}

/// A page of the feed, plus (on the first page) where each of the viewer's feed streams stands, so live
/// arrivals continue exactly after it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FeedView {
    pub page: FeedPage,
    pub streams: Vec<(studyhall::protocol::Topic, Position)>,
}

#[server(endpoint = "activity/page", input = Json)]
pub async fn load_feed(filter: FeedFilter) -> Result<FeedView, AppError> {
    use studyhall::feed::service as activity;
    let services = services()?;
    let caller = caller()?;
    let db = services.accounts.db();
    let streams = match filter.before {
        None => activity::streams(db, &caller).await?,
        Some(_) => Vec::new(),
    };
    let page = activity::list(db, &caller, &filter).await?;
    Ok(FeedView { page, streams })
}

#[server(endpoint = "activity/mark", input = Json)]
pub async fn mark_activities(ids: Vec<i64>, all: bool, read: bool) -> Result<i64, AppError> {
    use studyhall::feed::service as activity;
    let services = services()?;
    let caller = caller()?;
    let db = services.accounts.db();
    if all {
        activity::mark_all_read(db, &caller).await?;
    } else {
        activity::mark(db, &caller, &ids, read).await?;
    }
    activity::unread_count(db, &caller.user).await
}
