//! The signed-in user, loaded once per page load (blocking SSR, so protected pages can redirect with
//! a real 302 before any HTML is sent).

use crate::api;
use leptos::prelude::*;
use studyhall::model::User;
use studyhall::AppError;

#[derive(Clone, Copy)]
pub struct Session(pub Resource<Result<Option<User>, AppError>>);

pub fn provide_session() {
    let resource = Resource::new_blocking(|| (), |_| api::current_user());
    provide_context(Session(resource));
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

/// The signed-in user inside [`crate::components::layout::SignedInLayout`].
#[derive(Clone)]
pub struct CurrentUser(pub User);

pub fn use_current_user() -> User {
    expect_context::<CurrentUser>().0
}
