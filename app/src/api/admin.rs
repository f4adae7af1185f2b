//! Server functions for the admin page: the user table, creating users and cohorts, one change at a time.

#[cfg(feature = "ssr")]
use super::ssr;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use studyhall::accounts::AdminUserRow;
use studyhall::model::{Cohort, CohortId, Page, Role, User, UserId};
use studyhall::AppError;

/// Filters for the admin table, as sent by the page.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdminQuery {
    pub search: String,
    pub role: Option<Role>,
    pub page: i64,
}

#[server(endpoint = "admin/users", input = Json)]
pub async fn admin_users(query: AdminQuery) -> Result<Page<AdminUserRow>, AppError> {
    use studyhall::accounts::UserFilter;
    let services = ssr::services()?;
    let filter = UserFilter {
        search: Some(query.search),
        role: query.role,
        cohort_id: None,
        page: query.page,
    };
    studyhall::accounts::admin::list_users(services.accounts.db(), &ssr::caller()?, &filter).await
}

/// Cohorts and mentors, for the admin page's pickers.
#[server(endpoint = "admin/options")]
pub async fn admin_options() -> Result<(Vec<Cohort>, Vec<User>), AppError> {
    use studyhall::accounts::admin;
    let services = ssr::services()?;
    let caller = ssr::caller()?;
    let db = services.accounts.db();
    Ok((
        admin::list_cohorts(db, &caller).await?,
        admin::list_mentors(db, &caller).await?,
    ))
}

#[server(endpoint = "admin/users/create")]
pub async fn admin_create_user(
    email: String,
    display_name: String,
    password: String,
    role: Role,
    cohort_id: Option<String>,
) -> Result<User, AppError> {
    use studyhall::accounts::NewUserInput;
    let services = ssr::services()?;
    let cohort_id = match cohort_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(s) => Some(
            s.parse()
                .map_err(|_| AppError::validation("cohort_id", "Choose a cohort from the list."))?,
        ),
    };
    studyhall::accounts::admin::create(
        services.accounts.db(),
        &services.hub,
        &ssr::caller()?,
        &NewUserInput {
            email,
            display_name,
            password,
            time_zone: "UTC".into(),
            role,
            cohort_id,
        },
    )
    .await
}

/// One change to one user, from the admin table.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum AdminChange {
    Role(Role),
    Cohort(Option<CohortId>),
    Mentors(Vec<UserId>),
    Disabled(bool),
    RevokeSessions,
}

#[server(endpoint = "admin/users/change", input = Json)]
pub async fn admin_change_user(user_id: UserId, change: AdminChange) -> Result<(), AppError> {
    use studyhall::accounts::admin;
    let services = ssr::services()?;
    let caller = ssr::caller()?;
    let (db, hub) = (services.accounts.db(), &services.hub);
    match change {
        AdminChange::Role(role) => admin::set_role(db, hub, &caller, user_id, role).await,
        AdminChange::Cohort(cohort) => admin::set_cohort(db, hub, &caller, user_id, cohort).await,
        AdminChange::Mentors(ids) => admin::set_mentors(db, hub, &caller, user_id, &ids).await,
        AdminChange::Disabled(disabled) => {
            admin::set_disabled(db, hub, &caller, user_id, disabled).await
        }
        AdminChange::RevokeSessions => admin::revoke_sessions(db, &caller, user_id)
            .await
            .map(|_| ()),
    }
}

#[server(endpoint = "admin/cohorts/create")]
pub async fn admin_create_cohort(name: String) -> Result<Cohort, AppError> {
    let services = ssr::services()?;
    studyhall::accounts::admin::create_cohort(services.accounts.db(), &ssr::caller()?, &name).await
}
