//! Server functions for the notification bell and page, sending notifications, and API tokens.

#[cfg(feature = "ssr")]
use super::ssr_prelude::*;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use studyhall::accounts::{ApiScope, ApiTokenSummary, CreatedApiToken};
use studyhall::notifications::{
    InboxCounts, InboxSnapshot, NewNotification, NotificationFilter, NotificationPage, Preferences,
};
use studyhall::AppError;

#[server(endpoint = "inbox/snapshot")]
pub async fn load_inbox() -> Result<InboxSnapshot, AppError> {
    studyhall::notifications::service::snapshot(services()?.accounts.db(), &caller()?).await
}

#[server(endpoint = "inbox/page", input = Json)]
pub async fn notifications_page(filter: NotificationFilter) -> Result<NotificationPage, AppError> {
    studyhall::notifications::service::list(services()?.accounts.db(), &caller()?, &filter).await
}

#[server(endpoint = "inbox/seen")]
pub async fn mark_seen() -> Result<InboxCounts, AppError> {
    let services = services()?;
    studyhall::notifications::service::mark_seen(services.accounts.db(), &services.hub, &caller()?)
        .await
}

/// What an inbox action applies to: some ids, or everything.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Which {
    All,
    Ids(Vec<i64>),
}

#[cfg(feature = "ssr")]
fn target(which: Which) -> studyhall::notifications::service::Target {
    use studyhall::notifications::service::Target;
    match which {
        Which::All => Target::All,
        Which::Ids(ids) => Target::Ids(ids),
    }
}

#[server(endpoint = "inbox/read", input = Json)]
pub async fn mark_read(which: Which, read: bool) -> Result<InboxCounts, AppError> {
    let services = services()?;
    studyhall::notifications::service::mark_read(
        services.accounts.db(),
        &services.hub,
        &caller()?,
        target(which),
        read,
    )
    .await
}

#[server(endpoint = "inbox/delete", input = Json)]
pub async fn delete_notifications(which: Which) -> Result<InboxCounts, AppError> {
    let services = services()?;
    studyhall::notifications::service::delete(
        services.accounts.db(),
        &services.hub,
        &caller()?,
        target(which),
    )
    .await
}

#[server(endpoint = "inbox/preferences", input = Json)]
pub async fn save_preferences(preferences: Preferences) -> Result<Preferences, AppError> {
    let services = services()?;
    studyhall::notifications::service::set_preferences(
        services.accounts.db(),
        &services.hub,
        &caller()?,
        &preferences,
    )
    .await
}

/// How many people a send reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sent {
    pub recipients: usize,
    pub delivered: usize,
}

#[server(endpoint = "notifications/send", input = Json)]
pub async fn send_notification(
    notification: NewNotification,
    request_key: Option<String>,
) -> Result<Sent, AppError> {
    let services = services()?;
    let report = studyhall::notifications::service::send_once(
        services.accounts.db(),
        &services.hub,
        &caller()?,
        &notification,
        request_key.as_deref(),
    )
    .await?;
    Ok(Sent {
        recipients: report.recipients,
        delivered: report.delivered,
    })
}

#[server(endpoint = "admin/tokens")]
pub async fn api_tokens() -> Result<Vec<ApiTokenSummary>, AppError> {
    studyhall::accounts::api_tokens::list(services()?.accounts.db(), &caller()?).await
}

#[server(endpoint = "admin/tokens/create", input = Json)]
pub async fn create_api_token(
    name: String,
    scopes: Vec<ApiScope>,
) -> Result<CreatedApiToken, AppError> {
    studyhall::accounts::api_tokens::create(services()?.accounts.db(), &caller()?, &name, &scopes)
        .await
}

#[server(endpoint = "admin/tokens/revoke", input = Json)]
pub async fn revoke_api_token(id: i64) -> Result<(), AppError> {
    studyhall::accounts::api_tokens::revoke(services()?.accounts.db(), &caller()?, id).await
}

/// People the caller may send to as one user, by name or email (the person picker); at most ten.
#[server(endpoint = "notifications/people")]
pub async fn addressable_people(
    query: String,
) -> Result<Vec<studyhall::notifications::Recipient>, AppError> {
    studyhall::notifications::service::addressable(services()?.accounts.db(), &caller()?, &query)
        .await
}

/// Cohorts the caller may address: all of them for admins, their students' for mentors.
#[server(endpoint = "notifications/cohorts")]
pub async fn addressable_cohorts() -> Result<Vec<studyhall::model::Cohort>, AppError> {
    studyhall::notifications::service::addressable_cohorts(services()?.accounts.db(), &caller()?)
        .await
}
