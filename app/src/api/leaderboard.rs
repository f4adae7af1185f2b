//! Server functions for the leaderboard page: the boards the viewer may open, one board as they see
//! it, and hiding their own name from other students.

#[cfg(feature = "ssr")]
use super::ssr;
use leptos::prelude::*;
use studyhall::leaderboard::{Board, BoardChoices, Which};
#[cfg(feature = "ssr")]
use studyhall::leaderboard::{Period, Scope};
use studyhall::AppError;

#[server(endpoint = "leaderboard/choices")]
pub async fn leaderboard_choices() -> Result<BoardChoices, AppError> {
    studyhall::leaderboard::service::choices(ssr::services()?.accounts.db(), &ssr::caller()?.user)
        .await
}

/// `scope` is `school` or `cohort:{id}`; `period` `week`, `month` or `all-time`.
#[server(endpoint = "leaderboard/board")]
pub async fn leaderboard_board(
    scope: String,
    period: String,
    which: Which,
    offset: u32,
    limit: u32,
) -> Result<Board, AppError> {
    let services = ssr::services()?;
    let caller = ssr::caller()?;
    let scope = Scope::parse(&scope).ok_or_else(|| AppError::BadRequest {
        message: format!("There is no {scope:?} board: use school or cohort:{{id}}."),
    })?;
    let period = Period::parse(&period).ok_or_else(|| AppError::BadRequest {
        message: format!("There is no {period:?} leaderboard: use week, month or all-time."),
    })?;
    services
        .leaderboards()
        .board(
            services.accounts.db(),
            &caller.user,
            scope,
            period,
            which,
            offset as usize,
            limit as usize,
            studyhall::server::now_ms(),
        )
        .await
}

/// Whether the viewer hides their name from other students.
#[server(endpoint = "leaderboard/hidden")]
pub async fn leaderboard_hidden() -> Result<bool, AppError> {
    studyhall::leaderboard::service::hidden(ssr::services()?.accounts.db(), &ssr::caller()?.user)
        .await
}

/// Hides the viewer's name from other students (or shows it again).
#[server(endpoint = "leaderboard/hide")]
pub async fn hide_on_leaderboard(hidden: bool) -> Result<bool, AppError> {
    studyhall::leaderboard::service::set_hidden(
        ssr::services()?.accounts.db(),
        &ssr::caller()?.user,
        hidden,
    )
    .await
}
