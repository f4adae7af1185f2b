//! Server functions: thin adapters from the browser to the core services. Each one authenticates from
//! the request (the server's auth layer has already resolved the caller) and maps errors to [`AppError`].
//!
//! Endpoints are fixed (`/api/<name>`) so that they are stable across builds and testable over HTTP.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use studyhall::accounts::{AccountOverview, AdminUserRow, SessionSummary};
use studyhall::announcements::{Announcement, AnnouncementsSnapshot};
use studyhall::model::{Cohort, CohortId, Page, Role, User, UserId};
use studyhall::AppError;

pub mod inbox;
#[cfg(feature = "ssr")]
pub mod inputs;
pub mod learning;

/// What the submodules' server functions use on the server.
#[cfg(feature = "ssr")]
mod ssr_prelude {
    pub use super::ssr::{caller, services};
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Request context for server functions.
    use http::header::{HeaderValue, ACCEPT, SET_COOKIE};
    use leptos::prelude::*;
    use studyhall::accounts::service::Caller;
    use studyhall::server::web::{RequestAuth, Services};
    use studyhall::AppError;

    pub fn services() -> Result<Services, AppError> {
        use_context::<Services>().ok_or_else(|| {
            AppError::internal("Services are missing from the server function context")
        })
    }

    pub fn request_auth() -> RequestAuth {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<RequestAuth>().cloned())
            .unwrap_or_default()
    }

    pub fn caller() -> Result<Caller, AppError> {
        request_auth().caller.ok_or(AppError::Unauthenticated)
    }

    pub fn set_cookie(value: &str) {
        if let (Some(res), Ok(v)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            HeaderValue::from_str(value),
        ) {
            res.append_header(SET_COOKIE, v);
        }
    }

    /// The resources (and other reactive handles) made for one request. Server rendering walks a
    /// page's views more than once and each walk runs the views' closures anew; without this every
    /// walk made, loaded and serialized its resources again (measured on the dashboard: 63 queries
    /// before loaders were shared, each of five resources serialized three times after).
    #[derive(Clone, Default)]
    pub struct RequestMemo {
        handles: std::sync::Arc<
            std::sync::Mutex<
                std::collections::HashMap<String, Box<dyn std::any::Any + Send + Sync>>,
            >,
        >,
        /// The request's root owner: handles are made under it, so they live as long as the request
        /// (a walk may run inside an effect of `Suspense`, whose next run disposes what it made).
        owner: Option<Owner>,
    }

    /// The handle `create` made the first time `key` was asked for in this request (a resource, a
    /// live snapshot: `Copy` handles into the request's reactive arena). Outside a request it
    /// simply calls `create`.
    pub fn once_per_request<T: Copy + Send + Sync + 'static>(
        key: impl FnOnce() -> String,
        create: impl FnOnce() -> T,
    ) -> T {
        let Some(memo) = use_context::<RequestMemo>() else {
            return create();
        };
        let key = key();
        if let Some(found) = memo
            .handles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .and_then(|h| h.downcast_ref::<T>())
        {
            return *found;
        }
        // Not under the lock: `create` may create other per-request handles.
        let made = match &memo.owner {
            Some(owner) => owner.with(create),
            None => create(),
        };
        memo.handles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, Box::new(made));
        made
    }

    /// Called once per request (the router's context function).
    pub fn provide_request_memo() {
        provide_context(RequestMemo {
            owner: Owner::current(),
            ..Default::default()
        });
    }

    /// A plain HTML form post (before hydration, or without JavaScript) rather than a fetch.
    pub fn is_plain_form_post() -> bool {
        use_context::<http::request::Parts>()
            .and_then(|p| {
                p.headers
                    .get(ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            })
            .is_some_and(|accept| !accept.contains("application/json"))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_handle_is_made_once_per_request_and_outlives_the_walk_that_made_it() {
            let request = Owner::new();
            request.with(|| {
                provide_request_memo();
                // The first walk runs inside an owner of its own (as `Suspense`'s effect does)…
                let walk = Owner::new();
                let first =
                    walk.with(|| once_per_request(|| "counter".into(), || RwSignal::new(1)));
                walk.cleanup();
                // …and a later walk gets the same handle, still alive after that owner's cleanup.
                let again = once_per_request(|| "counter".into(), || RwSignal::new(2));
                assert_eq!(again.try_get(), Some(1), "the first walk's handle, alive");
                assert_eq!(first.try_get(), Some(1));
                let other = once_per_request(|| "other".into(), || RwSignal::new(3));
                assert_eq!(other.get_untracked(), 3, "another key makes its own");
            });
            Owner::new().with(|| {
                provide_request_memo();
                let next = once_per_request(|| "counter".into(), || RwSignal::new(4));
                assert_eq!(next.get_untracked(), 4, "a new request makes it afresh");
            });
            // Outside a request there is nothing to keep it in.
            Owner::new().with(|| {
                let a = once_per_request(|| "counter".into(), || RwSignal::new(5));
                let b = once_per_request(|| "counter".into(), || RwSignal::new(6));
                assert_eq!((a.get_untracked(), b.get_untracked()), (5, 6));
            });
        }
    }
}

/// Server rendering walks a page's views more than once per request (Leptos's `Suspense` walks its
/// children to find what they load, walks them again once that has loaded, then renders them), and
/// each walk runs the closures that build components anew. A resource made in a component would be
/// made, loaded and serialized into the page on every walk (measured: each of the dashboard's
/// resources three times, 20 KB of its 47 KB). Components make theirs through this instead, so the
/// server makes each once per request, under the request's root owner; `key` names the call site
/// and anything the handle depends on. In the browser, which builds each view once, it is just
/// `create()`.
pub fn once_per_request<T: Copy + Send + Sync + 'static>(
    key: impl FnOnce() -> String,
    create: impl FnOnce() -> T,
) -> T {
    #[cfg(feature = "ssr")]
    return ssr::once_per_request(key, create);
    #[cfg(not(feature = "ssr"))]
    {
        let _ = key;
        create()
    }
}

/// `Resource::new(source, fetcher)`, made once per request on the server (see [`once_per_request`]);
/// `key` names the call site.
pub fn request_resource<S, T, Fut>(
    key: &'static str,
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<Result<T, AppError>>
where
    S: PartialEq + Clone + Send + Sync + 'static,
    T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, AppError>> + Send + 'static,
{
    once_per_request(
        || key.into(),
        || Resource::new(source, move |s| logged(fetcher(s))),
    )
}

/// A page's load, whose internal error (on the server) is logged here, where server rendering puts
/// it into the page. In the browser a load is a server function's request, logged by the server
/// when it answered.
pub async fn logged<T>(
    load: impl std::future::Future<Output = Result<T, AppError>>,
) -> Result<T, AppError> {
    let result = load.await;
    #[cfg(feature = "ssr")]
    if let Err(e) = &result {
        e.log_if_internal();
    }
    result
}

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
        services.secure_cookies,
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
        services.secure_cookies,
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
        services.secure_cookies,
    ));
    if ssr::is_plain_form_post() {
        leptos_axum::redirect("/login");
    }
    Ok(())
}

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
    let db = services.accounts.db();
    match change {
        AdminChange::Role(role) => admin::set_role(db, &caller, user_id, role).await,
        AdminChange::Cohort(cohort) => admin::set_cohort(db, &caller, user_id, cohort).await,
        AdminChange::Mentors(ids) => admin::set_mentors(db, &caller, user_id, &ids).await,
        AdminChange::Disabled(disabled) => {
            admin::set_disabled(db, &caller, user_id, disabled).await
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
