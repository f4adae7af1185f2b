//! Server functions for signing in, registering and signing out (the browser session cookie).

#[cfg(feature = "ssr")]
use super::ssr;
use leptos::prelude::*;
use studyhall::model::User;
use studyhall::AppError;

/// The signed-in user, or `None`.
#[server(endpoint = "session/current")]
pub async fn current_user() -> Result<Option<User>, AppError> {
    Ok(ssr::request_auth().caller.map(|c| c.user))
}

/// Signs in with a browser session cookie; returns where to go next.
#[server(endpoint = "session/login")]
pub async fn login(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<String, AppError> {
    use studyhall::accounts::SessionKind;
    let services = ssr::services()?;
    let auth = ssr::request_auth();
    let signed = services
        .accounts
        .sign_in(&email, &password, SessionKind::Browser, &auth.client)
        .await?;
    ssr::set_cookie(&studyhall::server::web::session_cookie(
        &signed.token.token,
        services.cookie_max_age_secs(),
        services.secure_cookies(),
    ));
    let next = next
        .as_deref()
        .and_then(studyhall::validate::local_path)
        .filter(|p| !p.starts_with("/login") && !p.starts_with("/register"))
        .unwrap_or_else(|| "/".to_string());
    if ssr::is_plain_form_post() {
        leptos_axum::redirect(&next);
    }
    Ok(next)
}

/// Creates a student account and signs it in.
#[server(endpoint = "session/register")]
pub async fn register(
    email: String,
    display_name: String,
    password: String,
    time_zone: String,
) -> Result<String, AppError> {
    use studyhall::accounts::{RegisterInput, SessionKind};
    let services = ssr::services()?;
    let auth = ssr::request_auth();
    let input = RegisterInput {
        email,
        display_name,
        password,
        time_zone,
    };
    services.accounts.register(&input).await?;
    let signed = services
        .accounts
        .sign_in(
            &input.email,
            &input.password,
            SessionKind::Browser,
            &auth.client,
        )
        .await?;
    ssr::set_cookie(&studyhall::server::web::session_cookie(
        &signed.token.token,
        services.cookie_max_age_secs(),
        services.secure_cookies(),
    ));
    if ssr::is_plain_form_post() {
        leptos_axum::redirect("/");
    }
    Ok("/".to_string())
}

#[server(endpoint = "session/logout")]
pub async fn logout() -> Result<(), AppError> {
    let services = ssr::services()?;
    if let Ok(caller) = ssr::caller() {
        services.accounts.sign_out(&caller).await?;
    }
    ssr::set_cookie(&studyhall::server::web::clear_session_cookie(
        services.secure_cookies(),
    ));
    if ssr::is_plain_form_post() {
        leptos_axum::redirect("/login");
    }
    Ok(())
}
