//! Server functions for announcements: the latest ones, and posting, editing and deleting them.

#[cfg(feature = "ssr")]
use super::ssr;
use leptos::prelude::*;
use studyhall::announcements::{Announcement, AnnouncementsSnapshot};
use studyhall::AppError;

/// The latest announcements and the log position they are current to.
#[server(endpoint = "announcements/latest")]
pub async fn latest_announcements() -> Result<AnnouncementsSnapshot, AppError> {
    studyhall::announcements::service::snapshot(ssr::services()?.accounts.db(), &ssr::caller()?)
        .await
}

#[server(endpoint = "announcements/post")]
pub async fn post_announcement(
    title: String,
    body: String,
    request_key: Option<String>,
) -> Result<Announcement, AppError> {
    let services = ssr::services()?;
    studyhall::announcements::service::post_once(
        services.accounts.db(),
        &services.hub,
        &ssr::caller()?,
        &title,
        &body,
        request_key.as_deref(),
    )
    .await
}

#[server(endpoint = "announcements/edit")]
pub async fn edit_announcement(
    id: i64,
    title: String,
    body: String,
) -> Result<Announcement, AppError> {
    let services = ssr::services()?;
    studyhall::announcements::service::edit(
        services.accounts.db(),
        &services.hub,
        &ssr::caller()?,
        id,
        &title,
        &body,
    )
    .await
}

#[server(endpoint = "announcements/delete")]
pub async fn delete_announcement(id: i64) -> Result<(), AppError> {
    let services = ssr::services()?;
    studyhall::announcements::service::delete(
        services.accounts.db(),
        &services.hub,
        &ssr::caller()?,
        id,
    )
    .await
}
