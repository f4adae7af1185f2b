//! The frame of every signed-in page: the header (product name, navigation, slots for the notification
//! bell and connection status, theme toggle, user menu) and the sign-in guard.

use super::bell::{provide_inbox, NotificationBell};
use super::confirm::{provide_confirm, ConfirmHost};
use super::theme::ThemeToggle;
use crate::realtime::status::ConnectionStatus;
use crate::session::{use_session, CurrentUser};
use crate::{api, browser};
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect};
use leptos_router::hooks::use_location;
use studyhall::model::{Role, User};
use studyhall::AppError;

/// Renders its child route for a signed-in user; anyone else goes to the sign-in page and comes back.
#[component]
pub fn SignedInLayout() -> impl IntoView {
    let session = use_session().0;
    let location = use_location();
    // On the server the caller is known before any HTML is sent: answer with a real redirect.
    #[cfg(feature = "ssr")]
    if crate::api::ssr::request_auth().caller.is_none() {
        let here = location.pathname.get_untracked() + &location.search.get_untracked();
        leptos_axum::redirect(&format!("/login?next={}", js_escape_query(&here)));
    }
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match session.await {
                    Ok(Some(user)) => signed_in(user, view! { <Outlet /> }),
                    Ok(None) | Err(AppError::Unauthenticated) => {
                        let here = location.pathname.get_untracked() + &location.search.get_untracked();
                        let next = js_escape_query(&here);
                        view! { <Redirect path=format!("/login?next={next}") /> }.into_any()
                    }
                    Err(e) => view! {
                        <main id="main" class="mx-auto max-w-xl p-8">
                            <h1 class="text-xl font-semibold">"Studyhall is having trouble"</h1>
                            <p role="alert" class="mt-2">{e.to_string()}</p>
                        </main>
                    }
                        .into_any(),
                }
            })}
        </Suspense>
    }
}

/// Shows `children` in the signed-in frame for a signed-in user and bare for anyone else, without
/// sending anyone to sign in: for pages outside the signed-in routes (the 404 page).
#[component]
pub fn SignedInIfAny(children: ChildrenFn) -> impl IntoView {
    let session = use_session().0;
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match session.await {
                    Ok(Some(user)) => signed_in(user, children.with_value(|c| c())),
                    _ => view! {
                        <main id="main" tabindex="-1" class="mx-auto max-w-6xl px-4 py-8 focus:outline-none">
                            {children.with_value(|c| c())}
                        </main>
                    }
                        .into_any(),
                }
            })}
        </Suspense>
    }
}

/// The signed-in frame around `content`: the user, inbox and confirm dialog in context, the header,
/// the main region with an error boundary, and the confirm dialog's host.
fn signed_in(user: User, content: impl IntoView + 'static) -> AnyView {
    provide_context(CurrentUser(user.clone()));
    provide_inbox(user.id);
    crate::pages::chat::list::provide_chat_rooms(user.id);
    provide_confirm();
    view! {
        <Header user />
        <main id="main" tabindex="-1" class="mx-auto max-w-6xl px-4 py-8 focus:outline-none">
            <ErrorBoundary fallback=|errors| view! {
                <div role="alert" class="card">
                    <h1 class="text-xl font-semibold">"Something went wrong on this page"</h1>
                    <ul class="mt-2 list-disc pl-5">
                        {move || errors.get().into_iter().map(|(_, e)| view! { <li>{e.to_string()}</li> }).collect_view()}
                    </ul>
                    <a href="/" class="link mt-3 inline-block">"Back to your dashboard"</a>
                </div>
            }>
                {content}
            </ErrorBoundary>
        </main>
        <ConfirmHost />
    }
    .into_any()
}

/// Percent-encodes a path for a query value.
fn js_escape_query(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The navigation's chat link, with the unread total over the rooms not muted, live.
#[component]
fn ChatNavLink() -> impl IntoView {
    let rooms = crate::pages::chat::list::use_chat_rooms();
    let unread = move || rooms.map(|r| r.unread_total()).unwrap_or(0);
    view! {
        <NavLink href="/chat" label="Chat">
            <Transition fallback=|| ()>
                {move || (unread() > 0).then(|| view! {
                    <span class="ml-1 rounded-full bg-indigo-600 px-1.5 text-xs font-semibold text-white" data-testid="chat-unread">
                        {unread()}<span class="sr-only">" unread"</span>
                    </span>
                })}
            </Transition>
        </NavLink>
    }
}

#[component]
fn NavLink(
    href: &'static str,
    label: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let location = use_location();
    let current = move || {
        let path = location.pathname.get();
        let active = if href == "/" {
            path == "/"
        } else {
            path.starts_with(href)
        };
        active.then_some("page")
    };
    view! {
        <a href=href aria-current=current class="nav-link">
            {label}
            {children.map(|c| c())}
        </a>
    }
}

#[component]
fn Header(user: User) -> impl IntoView {
    let nav_open = RwSignal::new(false);
    let is_admin = user.role == Role::Admin;
    let is_student = user.role == Role::Student;
    view! {
        <a href="#main" class="skip-link">"Skip to content"</a>
        <header class="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
            // `relative`: on phones the bell's panel spans this row rather than hanging off the screen.
            <div class="relative mx-auto flex max-w-6xl flex-wrap items-center gap-3 px-4 py-3">
                <button
                    type="button"
                    class="icon-button md:hidden"
                    aria-controls="primary-nav"
                    aria-expanded=move || if nav_open.get() { "true" } else { "false" }
                    aria-label="Menu"
                    on:click=move |_| nav_open.update(|o| *o = !*o)
                >
                    <span aria-hidden="true">"☰"</span>
                </button>
                <a href="/" class="text-lg font-bold tracking-tight text-indigo-700 dark:text-indigo-300">"Studyhall"</a>
                <nav
                    id="primary-nav"
                    aria-label="Main"
                    class=move || {
                        if nav_open.get() {
                            "order-last flex w-full flex-col gap-1 md:order-none md:flex md:w-auto md:flex-row"
                        } else {
                            "order-last hidden w-full flex-col gap-1 md:order-none md:flex md:w-auto md:flex-row"
                        }
                    }
                    on:click=move |_| nav_open.set(false)
                >
                    <NavLink href="/" label="Dashboard" />
                    {is_student.then(|| view! { <NavLink href="/learning" label="Learning" /> })}
                    <NavLink href="/activity" label="Activity" />
                    <NavLink href="/leaderboard" label="Leaderboard" />
                    <ChatNavLink />
                    <NavLink href="/notifications" label="Notifications" />
                    {is_admin.then(|| view! {
                        <NavLink href="/admin/users" label="Users" />
                        <NavLink href="/admin/tokens" label="API tokens" />
                    })}
                </nav>
                <div class="ml-auto flex items-center gap-2">
                    <ConnectionStatus />
                    <NotificationBell />
                    <ThemeToggle />
                    <UserMenu user />
                </div>
            </div>
        </header>
    }
}

#[component]
fn UserMenu(user: User) -> impl IntoView {
    let open = RwSignal::new(false);
    let logout = ServerAction::<api::Logout>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            browser::go_to("/login");
        }
    });
    view! {
        <div
            class="relative"
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    open.set(false);
                }
            }
        >
            <button
                type="button"
                class="menu-button"
                data-testid="user-menu"
                aria-haspopup="true"
                aria-expanded=move || if open.get() { "true" } else { "false" }
                aria-controls="user-menu-panel"
                on:click=move |_| open.update(|o| *o = !*o)
            >
                <span class="max-w-[10rem] truncate">{user.display_name.clone()}</span>
                <span aria-hidden="true">"▾"</span>
            </button>
            <div
                id="user-menu-panel"
                class="absolute right-0 z-20 mt-2 w-56 rounded-md border border-slate-200 bg-white p-1 shadow-lg dark:border-slate-700 dark:bg-slate-900"
                hidden=move || !open.get()
            >
                <p class="px-3 py-2 text-xs text-slate-500 dark:text-slate-400">
                    {user.email.clone()} <br /> {user.role.label()}
                </p>
                <a href="/profile" class="menu-item" on:click=move |_| open.set(false)>
                    "Profile"
                </a>
                <ActionForm action=logout>
                    <button type="submit" class="menu-item w-full text-left" data-testid="sign-out">
                        "Sign out"
                    </button>
                </ActionForm>
            </div>
        </div>
    }
}
