//! `/api/v1/leaderboards`: the boards the caller may open, and one board (the school's or a cohort's,
//! by week, month or all time; this period or the last) as the caller sees it.

use super::{ApiResult, AuthCaller, Json, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use studyhall::leaderboard::service as leaderboard;
use studyhall::leaderboard::{Board, BoardChoices, Period, Scope, Which, DEFAULT_LIMIT};
use studyhall::model::CohortId;
use studyhall::AppError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/leaderboards", get(choices))
        .route("/leaderboards/school/{period}", get(school))
        .route("/leaderboards/cohorts/{cohort}/{period}", get(cohort))
}

async fn choices(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
) -> ApiResult<Json<BoardChoices>> {
    let db = state.services.accounts.db();
    Ok(Json(leaderboard::choices(db, &caller.user).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Page {
    #[serde(default)]
    which: Which,
    offset: Option<usize>,
    limit: Option<usize>,
}

fn period(raw: &str) -> Result<Period, AppError> {
    Period::parse(raw).ok_or_else(|| AppError::BadRequest {
        message: format!("There is no {raw:?} leaderboard: use week, month or all-time."),
    })
}

async fn school(
    state: State<AppState>,
    caller: AuthCaller,
    Path(p): Path<String>,
    Query(page): Query<Page>,
) -> ApiResult<Json<Board>> {
    read(state, caller, Scope::School, &p, page).await
}

async fn cohort(
    state: State<AppState>,
    caller: AuthCaller,
    Path((cohort, p)): Path<(CohortId, String)>,
    Query(page): Query<Page>,
) -> ApiResult<Json<Board>> {
    if cohort < 1 {
        return Err(AppError::not_found("That cohort").into());
    }
    read(state, caller, Scope::Cohort(cohort), &p, page).await
}

async fn read(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    scope: Scope,
    p: &str,
    page: Page,
) -> ApiResult<Json<Board>> {
    let s = &state.services;
    let board = s
        .leaderboards()
        .board(
            s.accounts.db(),
            &caller.user,
            scope,
            period(p)?,
            page.which,
            page.offset.unwrap_or(0),
            page.limit.unwrap_or(DEFAULT_LIMIT),
            studyhall::server::now_ms(),
        )
        .await?;
    Ok(Json(board))
}
