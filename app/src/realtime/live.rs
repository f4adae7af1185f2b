//! Snapshot + live: a page renders complete from a snapshot (on the server, for SSR), then, once
//! hydrated, follows the snapshot's topic from the position the snapshot is current to. Nothing is
//! missed between snapshot and subscription, nothing is applied twice, and a reset refetches.

#[cfg(feature = "hydrate")]
use super::{use_realtime, Delivery};
use leptos::prelude::*;
use serde::{de::DeserializeOwned, Serialize};
use std::future::Future;
use studyhall::events::{DurableEvent, Follow};
use studyhall::protocol::{Position, Topic};
use studyhall::AppError;

/// A value loaded by `fetch` together with the log position it is current to, then kept current from
/// `topic`: each new event is folded into it by its [`Follow`] implementation.
pub fn use_live_snapshot<T, F, Fut>(topic: Topic, fetch: F) -> LiveSnapshot<T>
where
    T: Follow + Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(T, Position), AppError>> + Send + 'static,
{
    use_live_snapshot_with(topic, fetch, |_, _| {})
}

/// Like [`use_live_snapshot`]; `before` also sees each new event, with the value it is about to
/// change (to toast what is news, say).
pub fn use_live_snapshot_with<T, F, Fut>(
    topic: Topic,
    fetch: F,
    before: impl Fn(&T, &DurableEvent) + 'static,
) -> LiveSnapshot<T>
where
    T: Follow + Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(T, Position), AppError>> + Send + 'static,
{
    crate::api::once_per_request(
        || format!("live {topic} {}", std::any::type_name::<T>()),
        move || {
            let reloads = RwSignal::new(0u32);
            let snapshot =
                Resource::new(move || reloads.get(), move |_| crate::api::logged(fetch()));
            // The value as updated live; `None` until the snapshot has been taken over in the browser.
            let live: RwSignal<Option<T>> = RwSignal::new(None);
            #[cfg(feature = "hydrate")]
            follow(topic, snapshot, live, reloads, before);
            #[cfg(not(feature = "hydrate"))]
            let _ = (topic, before);
            LiveSnapshot {
                snapshot,
                live,
                reloads,
            }
        },
    )
}

/// The current value of a live snapshot: `None` while the first load is in flight.
///
/// Every read happens in the caller's reactive context, never in a memo of its own: a resource read
/// there registers with the caller's `Suspense`/`Transition`, which is what makes the server wait for
/// the data before it sends the page. Reads borrow the value (no clone of the whole per figure).
pub struct LiveSnapshot<T: Send + Sync + 'static> {
    snapshot: Resource<Result<(T, Position), AppError>>,
    live: RwSignal<Option<T>>,
    reloads: RwSignal<u32>,
}

impl<T: Send + Sync + 'static> Clone for LiveSnapshot<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for LiveSnapshot<T> {}

impl<T> LiveSnapshot<T>
where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    /// Runs `f` on the current value, borrowed; tracked.
    pub fn with<R>(&self, f: impl FnOnce(Option<Result<&T, &AppError>>) -> R) -> R {
        self.live.with(|live| match live {
            Some(v) => f(Some(Ok(v))),
            None => self
                .snapshot
                .with(|s| f(s.as_ref().map(|r| r.as_ref().map(|(v, _)| v)))),
        })
    }

    /// `f` of the loaded value, or the default while loading or after an error; tracked.
    pub fn map_or_default<R: Default>(&self, f: impl FnOnce(&T) -> R) -> R {
        self.with(|s| s.and_then(Result::ok).map(f).unwrap_or_default())
    }

    /// Changes the live value in place (a page appending what it loaded on demand, say). Browser
    /// only: before the snapshot is taken over there is nothing to change, and `false` says so.
    pub fn update(&self, f: impl FnOnce(&mut T)) -> bool {
        self.live
            .try_update(|v| v.as_mut().map(f))
            .flatten()
            .is_some()
    }

    /// Loads the snapshot again (the value stays until the new one is in, then follows from its
    /// position), for when events alone cannot say what changed.
    pub fn reload(&self) {
        self.reloads.update(|n| *n += 1);
    }

    /// Whether the first load is done and how it went, without the value; tracked.
    pub fn status(&self) -> Option<Result<(), AppError>> {
        self.with(|s| s.map(|r| r.map(|_| ()).map_err(Clone::clone)))
    }
}

/// Browser only: once the snapshot is in, subscribe from its position and fold events into `live`.
#[cfg(feature = "hydrate")]
fn follow<T>(
    topic: Topic,
    snapshot: Resource<Result<(T, Position), AppError>>,
    live: RwSignal<Option<T>>,
    reloads: RwSignal<u32>,
    before: impl Fn(&T, &DurableEvent) + 'static,
) where
    T: Follow + Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    let realtime = use_realtime();
    let before = std::rc::Rc::new(before);
    let subscription = StoredValue::new_local(None::<super::Subscription>);
    Effect::new(move |_| {
        let Some(Ok((value, position))) = snapshot.get() else {
            return;
        };
        live.set(Some(value));
        // Events at or before this offset are already in the snapshot.
        let applied = StoredValue::new_local(position.clone());
        let before = before.clone();
        let sub = realtime.subscribe(topic, Some(position), move |delivery| match delivery {
            Delivery::Event { offset, event } => {
                let through = applied.get_value();
                if offset <= through.offset {
                    return;
                }
                applied.update_value(|p| p.offset = offset);
                let Some(event) = event else { return };
                live.update(|v| {
                    if let Some(v) = v {
                        before(v, &event);
                        v.apply(&event);
                    }
                });
            }
            Delivery::Reset { .. } => reloads.update(|n| *n += 1),
            _ => {}
        });
        // Replacing the subscription drops the old one (after a reload).
        subscription.set_value(Some(sub));
    });
    on_cleanup(move || subscription.set_value(None));
}
