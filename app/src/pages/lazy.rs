//! The pages that load their code on first visit. With `cargo leptos build --split`, each route below
//! is its own WASM chunk: a browser opening the dashboard downloads the dashboard's code and nothing
//! else, and fetches a page's chunk the first time it shows that page (or hydrates it).

use super::{
    activity::ActivityPage,
    admin_tokens::ApiTokensPage,
    admin_users::AdminUsersPage,
    chat::{ChatPage, GroupPage, GroupsPage},
    leaderboard::LeaderboardPage,
    learning::LearningPage,
    login::LoginPage,
    notifications::NotificationsPage,
    profile::ProfilePage,
    register::RegisterPage,
};
use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// A route type per page. The page's data loads inside the page (its resources are serialized into
/// the server-rendered HTML), so a route needs no `data` of its own.
macro_rules! lazy_pages {
    ($($route:ident => $page:ident,)+) => {$(
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page /> }.into_any()
            }
        }
    )+};
}

lazy_pages! {
    LoginRoute => LoginPage,
    RegisterRoute => RegisterPage,
    ProfileRoute => ProfilePage,
    AdminUsersRoute => AdminUsersPage,
    ApiTokensRoute => ApiTokensPage,
    LearningRoute => LearningPage,
    ActivityRoute => ActivityPage,
    LeaderboardRoute => LeaderboardPage,
    NotificationsRoute => NotificationsPage,
    ChatRoute => ChatPage,
    GroupsRoute => GroupsPage,
    GroupRoute => GroupPage,
}
