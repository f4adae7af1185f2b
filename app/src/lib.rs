//! Studyhall's user interface: the HTML shell, the router, pages, components and the server functions
//! behind them. Compiled with `ssr` into the server and with `hydrate` into the browser's WASM.

#![recursion_limit = "256"]

pub mod api;
mod browser;
mod components;
mod format;
mod pages;
pub mod realtime;
mod session;

use components::layout::SignedInLayout;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{path, Lazy, SsrMode};
use pages::lazy::{
    ActivityRoute, AdminUsersRoute, ApiTokensRoute, ChatRoute, GroupRoute, GroupsRoute,
    LeaderboardRoute, LearningRoute, LoginRoute, NotificationsRoute, ProfileRoute, RegisterRoute,
};
use pages::{dashboard::DashboardPage, not_found::NotFound};

/// Applies the saved theme, or the system's, before first paint (no flash of the wrong theme).
const THEME_SCRIPT: &str =
    "(function(){try{var m=document.cookie.match(/(?:^|; )theme=(dark|light)/);\
var d=m?m[1]==='dark':window.matchMedia('(prefers-color-scheme: dark)').matches;\
document.documentElement.classList.toggle('dark',d);}catch(e){}})();";

/// The whole HTML document around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy(&options);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <script nonce=use_nonce() inner_html=THEME_SCRIPT></script>
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="stylesheet" id="leptos" href="/pkg/studyhall.css" />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
                <App />
            </body>
        </html>
    }
}

/// The page's policy: scripts only from this origin or carrying this response's nonce, WASM allowed,
/// no framing. In development the live-reload socket of `cargo leptos watch` is allowed too.
#[cfg(feature = "ssr")]
fn set_content_security_policy(options: &LeptosOptions) {
    use http::header::{HeaderValue, CONTENT_SECURITY_POLICY};
    let (Some(nonce), Some(res)) = (use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    let dev_reload = if options.env == leptos::config::Env::DEV {
        " ws://127.0.0.1:* ws://localhost:*"
    } else {
        ""
    };
    let csp = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; \
         connect-src 'self'{dev_reload}; frame-ancestors 'none'; base-uri 'self'; \
         form-action 'self'; object-src 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        res.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    session::provide_session();
    components::time::provide_clock();
    realtime::Realtime::provide();
    // The bell's badge (new notifications, `Inbox::badge`) leads the tab's title, so it shows from any
    // other tab; the inbox sets it, so title and badge cannot disagree.
    let unread = RwSignal::new(0i64);
    provide_context(components::bell::UnreadTitle(unread));
    let formatter = move |page: String| {
        let title = if page.is_empty() {
            "Studyhall".to_string()
        } else {
            format!("{page} · Studyhall")
        };
        // `try_get`: on the server leptos_meta formats the title after the page has rendered,
        // outside the request's sandboxed reactive arena (the thread may hold another request's
        // arena by then), and `get` panicked there about once in 3,000 pages under load. The server
        // never knows an unread count anyway (0 until the browser's inbox sets it).
        match unread.try_get().unwrap_or(0) {
            0 => title,
            n => format!("({n}) {title}"),
        }
    };
    view! {
        <Title formatter />
        <Router>
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=path!("/login") view={Lazy::<LoginRoute>::new()} />
                <Route path=path!("/register") view={Lazy::<RegisterRoute>::new()} />
                // Signed-in pages render complete on the server (their data loads in milliseconds) and
                // hydrate as one piece; out-of-order streaming of nested suspense is not worth it here.
                <ParentRoute path=path!("") view=SignedInLayout ssr=SsrMode::Async>
                    <Route path=path!("/") view=DashboardPage />
                    <Route path=path!("/profile") view={Lazy::<ProfileRoute>::new()} />
                    <Route path=path!("/admin/users") view={Lazy::<AdminUsersRoute>::new()} />
                    <Route path=path!("/admin/tokens") view={Lazy::<ApiTokensRoute>::new()} />
                    <Route path=path!("/learning") view={Lazy::<LearningRoute>::new()} />
                    <Route path=path!("/activity") view={Lazy::<ActivityRoute>::new()} />
                    <Route path=path!("/leaderboard") view={Lazy::<LeaderboardRoute>::new()} />
                    <Route path=path!("/notifications") view={Lazy::<NotificationsRoute>::new()} />
                    <Route path=path!("/chat") view={Lazy::<ChatRoute>::new()} />
                    <Route path=path!("/chat/groups") view={Lazy::<GroupsRoute>::new()} />
                    <Route path=path!("/chat/groups/:room") view={Lazy::<GroupRoute>::new()} />
                    <Route path=path!("/chat/:room") view={Lazy::<ChatRoute>::new()} />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
