//! Snapshot + live: a page renders complete from a snapshot (on the server, for SSR), then, once
//! hydrated, follows the snapshot's topic from the position the snapshot is current to. Nothing is
//! missed between snapshot and subscription, nothing is applied twice, and a reset refetches.

#[cfg(feature = "hydrate")]
use super::{use_realtime, Delivery};
use leptos::prelude::*;
use serde::{de::DeserializeOwned, Serialize};
use std::future::Future;
use studyhall::protocol::{Position, Topic};
use studyhall::AppError;

/// A value loaded by `fetch` together with the log position it is current to, then kept current from
/// `topic`: `apply` folds each new event (name, data) into it. Returns the current value (`None` while
/// the first load is in flight).
pub fn use_live_snapshot<T, F, Fut>(
    topic: Topic,
    fetch: F,
    apply: impl Fn(&mut T, &str, &serde_json::Value) + 'static,
) -> Signal<Option<Result<T, AppError>>>
where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(T, Position), AppError>> + Send + 'static,
{
    let reloads = RwSignal::new(0u32);
    let snapshot = Resource::new(move || reloads.get(), move |_| fetch());
    // The value as updated live; `None` until the snapshot has been taken over in the browser.
    let live: RwSignal<Option<T>> = RwSignal::new(None);
    #[cfg(feature = "hydrate")]
    follow(topic, snapshot, live, reloads, apply);
    #[cfg(not(feature = "hydrate"))]
    let _ = (topic, apply);
    Signal::derive(move || match live.get() {
        Some(v) => Some(Ok(v)),
        None => snapshot.get().map(|r| r.map(|(v, _)| v)),
    })
}

/// Browser only: once the snapshot is in, subscribe from its position and fold events into `live`.
#[cfg(feature = "hydrate")]
fn follow<T>(
    topic: Topic,
    snapshot: Resource<Result<(T, Position), AppError>>,
    live: RwSignal<Option<T>>,
    reloads: RwSignal<u32>,
    apply: impl Fn(&mut T, &str, &serde_json::Value) + 'static,
) where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    let realtime = use_realtime();
    let apply = std::rc::Rc::new(apply);
    let subscription = StoredValue::new_local(None::<super::Subscription>);
    Effect::new(move |_| {
        let Some(Ok((value, position))) = snapshot.get() else {
            return;
        };
        live.set(Some(value));
        // Events at or before this offset are already in the snapshot.
        let applied = StoredValue::new_local(position.clone());
        let apply = apply.clone();
        let sub = realtime.subscribe(topic, Some(position), move |delivery| match delivery {
            Delivery::Event {
                offset,
                event,
                data,
            } => {
                let through = applied.get_value();
                if offset <= through.offset {
                    return;
                }
                applied.update_value(|p| p.offset = offset);
                live.update(|v| {
                    if let Some(v) = v {
                        apply(v, &event, &data);
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
