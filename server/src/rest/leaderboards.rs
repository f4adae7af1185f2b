//! `/api/v1/leaderboards`: the boards the caller may open, and one board (the school's or a cohort's,
//! by week, month or all time; this period or the last) as the caller sees it; `/api/v1/me/leaderboard`
//! (hiding one's name from other students); the zones boards are cut in (`/api/v1/admin/school`,
//! `/api/v1/admin/cohorts/{id}/time-zone`).

use super::{ApiResult, AuthCaller, Json, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::routing::{get, put};
use axum::Router;
use serde::Deserialize;
use studyhall::leaderboard::service as leaderboard;
use studyhall::leaderboard::{
    Board, BoardChoices, Period, Scope, ScopeChoice, Which, DEFAULT_LIMIT,
};
use studyhall::model::CohortId;
use studyhall::AppError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/leaderboards", get(choices))
        .route("/leaderboards/school/{period}", get(school))
        .route("/leaderboards/cohorts/{cohort}/{period}", get(cohort))
        .route("/me/leaderboard", get(my_name).put(hide_my_name))
        .route("/admin/school", put(set_school))
        .route("/admin/cohorts/{cohort}/time-zone", put(set_cohort_zone))
}

#[derive(Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct Hidden {
    hidden: bool,
}

async fn my_name(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
) -> ApiResult<Json<Hidden>> {
    let hidden = leaderboard::hidden(state.services.accounts.db(), &caller.user).await?;
    Ok(Json(Hidden { hidden }))
}

async fn hide_my_name(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Json(body): Json<Hidden>,
) -> ApiResult<Json<Hidden>> {
    let hidden =
        leaderboard::set_hidden(state.services.accounts.db(), &caller.user, body.hidden).await?;
    Ok(Json(Hidden { hidden }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct School {
    name: String,
    time_zone: String,
}

async fn set_school(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Json(body): Json<School>,
) -> ApiResult<Json<ScopeChoice>> {
    let db = state.services.accounts.db();
    Ok(Json(
        leaderboard::set_school(db, &caller.user, &body.name, &body.time_zone).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Zone {
    time_zone: String,
}

async fn set_cohort_zone(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(cohort): Path<CohortId>,
    Json(body): Json<Zone>,
) -> ApiResult<Json<ScopeChoice>> {
    let db = state.services.accounts.db();
    Ok(Json(
        leaderboard::set_cohort_zone(db, &caller.user, cohort, &body.time_zone).await?,
    ))
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
    read(state, caller, Scope::Global, &p, page).await
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
