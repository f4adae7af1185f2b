//! Server functions for the caller's own account: overview, profile, password, sessions and sign-ins.

#[cfg(feature = "ssr")]
use super::ssr;
use leptos::prelude::*;
use studyhall::accounts::{AccountOverview, SessionSummary};
use studyhall::model::User;
use studyhall::AppError;

#[server(endpoint = "account/overview")]
pub async fn load_overview() -> Result<AccountOverview, AppError> {
    let services = ssr::services()?;
    studyhall::accounts::overview::for_caller(services.accounts.db(), &ssr::caller()?).await
}

#[server(endpoint = "account/profile")]
pub async fn update_profile(display_name: String, time_zone: String) -> Result<User, AppError> {
    use studyhall::accounts::ProfileInput;
    let services = ssr::services()?;
    services
        .accounts
        .update_profile(
            &ssr::caller()?,
            &ProfileInput {
                display_name,
                time_zone,
            },
        )
        .await
}

/// Changes the password; returns how many other sessions were signed out.
#[server(endpoint = "account/password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<u64, AppError> {
    let services = ssr::services()?;
    services
        .accounts
        .change_password(&ssr::caller()?, &current_password, &new_password)
        .await
}

#[server(endpoint = "account/sessions")]
pub async fn my_sessions() -> Result<Vec<SessionSummary>, AppError> {
    ssr::services()?.accounts.my_sessions(&ssr::caller()?).await
}

/// The caller's own newest sign-ins (the security log on the profile page).
#[server(endpoint = "account/sign-ins")]
pub async fn recent_sign_ins() -> Result<Vec<studyhall::accounts::SignIn>, AppError> {
    let services = ssr::services()?;
    let caller = ssr::caller()?;
    studyhall::accounts::sign_ins::recent(services.accounts.db(), caller.user.id, 20).await
}

#[server(endpoint = "account/sessions/revoke")]
pub async fn revoke_session(handle: String) -> Result<(), AppError> {
    ssr::services()?
        .accounts
        .revoke_my_session(&ssr::caller()?, &handle)
        .await
}

#[server(endpoint = "time-zones")]
pub async fn time_zones() -> Result<Vec<String>, AppError> {
    Ok(studyhall::accounts::service::time_zone_names()
        .into_iter()
        .map(str::to_string)
        .collect())
}
