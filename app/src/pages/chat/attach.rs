//! Files in the conversation: the composer's "Attach" button and the files waiting to be sent with
//! their upload state, and a sent message's files (images shown with their size, other files as a
//! download). Files go up to `POST /api/v1/rooms/{id}/attachments` as soon as they are picked; the
//! message then names them by id.

use leptos::prelude::*;
use studyhall::chat::attachments::{
    format_size, Attachment, AttachmentKind, ATTACHMENTS_PER_MESSAGE,
};
use studyhall::chat::RoomId;
#[cfg(feature = "hydrate")]
use studyhall::AppError;

/// A file picked in the composer.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PickedFile {
    /// Local, to tell two files of the same name apart.
    pub key: u64,
    pub name: String,
    pub state: Upload,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub(super) enum Upload {
    Uploading,
    Ready(Attachment),
    Failed(String),
}

impl Upload {
    fn stage(&self) -> u8 {
        match self {
            Upload::Uploading => 0,
            Upload::Ready(_) => 1,
            Upload::Failed(_) => 2,
        }
    }
}

/// The composer's picked files.
#[derive(Clone, Copy)]
pub(super) struct PickedFiles(pub RwSignal<Vec<PickedFile>>);

impl PickedFiles {
    pub(super) fn new() -> Self {
        PickedFiles(RwSignal::new(Vec::new()))
    }

    /// Still uploading: the message waits for them.
    pub(super) fn busy(self) -> bool {
        self.0
            .with(|f| f.iter().any(|f| f.state == Upload::Uploading))
    }

    /// The uploaded files, to send.
    pub(super) fn ready(self) -> Vec<Attachment> {
        self.0.with_untracked(|f| {
            f.iter()
                .filter_map(|f| match &f.state {
                    Upload::Ready(a) => Some(a.clone()),
                    _ => None,
                })
                .collect()
        })
    }

    pub(super) fn clear(self) {
        self.0.set(Vec::new());
    }
}

/// The paperclip: picks files and uploads each at once.
#[component]
pub(super) fn AttachButton(room: RoomId, files: PickedFiles) -> impl IntoView {
    let input_id = format!("attach-{room}");
    let on_change = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(input) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            let Some(list) = input.files() else { return };
            for i in 0..list.length() {
                let Some(file) = list.get(i) else { continue };
                if files.0.with_untracked(Vec::len) >= ATTACHMENTS_PER_MESSAGE {
                    break;
                }
                let key = (js_sys::Math::random() * 1e15) as u64;
                files.0.update(|f| {
                    f.push(PickedFile {
                        key,
                        name: file.name(),
                        state: Upload::Uploading,
                    })
                });
                leptos::task::spawn_local(async move {
                    let state = match upload(room, &file).await {
                        Ok(a) => Upload::Ready(a),
                        Err(e) => Upload::Failed(e.to_string()),
                    };
                    files.0.update(|f| {
                        if let Some(x) = f.iter_mut().find(|x| x.key == key) {
                            x.state = state;
                        }
                    });
                });
            }
            // The same file may be picked again after it is removed.
            input.set_value("");
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let full = move || files.0.with(Vec::len) >= ATTACHMENTS_PER_MESSAGE;
    view! {
        <input id=input_id.clone() type="file" multiple class="peer sr-only" accept=AttachmentKind::accept_list()
            data-testid="attach-input" on:change=on_change disabled=full
            aria-describedby=format!("{input_id}-hint") />
        <label for=input_id.clone() class="button-secondary flex shrink-0 cursor-pointer items-center px-3 peer-focus-visible:ring-2 peer-focus-visible:ring-indigo-500" title="Attach images or PDFs"
            class:opacity-50=full>
            <svg aria-hidden="true" viewBox="0 0 24 24" class="h-5 w-5" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">
                <path d="M21 12.5l-8.5 8.5a5 5 0 01-7.07-7.07l9.19-9.2a3.5 3.5 0 014.95 4.95l-9.2 9.19a2 2 0 01-2.83-2.83l8.49-8.48"></path>
            </svg>
            <span class="sr-only">"Attach files"</span>
        </label>
        <span id=format!("{input_id}-hint") class="sr-only">
            {format!("Images (PNG, JPEG, WebP, GIF) or PDFs, up to {ATTACHMENTS_PER_MESSAGE} a message.")}
        </span>
    }
}

/// The picked files under the composer, each with its state and a button to remove it.
#[component]
pub(super) fn PickedList(files: PickedFiles) -> impl IntoView {
    view! {
        <Show when=move || !files.0.with(Vec::is_empty)>
            <ul class="flex flex-wrap gap-2 px-3 pt-2" aria-label="Files to send" data-testid="picked-files">
                <For each=move || files.0.get() key=|f| (f.key, f.state.stage()) let:f>
                    {
                        let key = f.key;
                        let (note, tone) = match &f.state {
                            Upload::Uploading => ("Uploading…".to_string(), "text-slate-500 dark:text-slate-400"),
                            Upload::Ready(a) => (format_size(a.size_bytes), "text-slate-500 dark:text-slate-400"),
                            Upload::Failed(why) => (why.clone(), "text-red-700 dark:text-red-400"),
                        };
                        let failed = matches!(f.state, Upload::Failed(_));
                        view! {
                            <li class="flex max-w-full items-center gap-2 rounded-md border border-slate-200 px-2 py-1 text-xs dark:border-slate-700"
                                data-testid="picked-file">
                                <span class="min-w-0 truncate font-medium">{f.name.clone()}</span>
                                <span class=tone role=failed.then_some("alert")>{note}</span>
                                <button type="button" class="link" aria-label=format!("Remove {}", f.name)
                                    on:click=move |_| files.0.update(|l| l.retain(|x| x.key != key))>"×"</button>
                            </li>
                        }
                    }
                </For>
            </ul>
        </Show>
    }
}

/// A sent message's files: images inline (at their own aspect ratio, so nothing jumps as they
/// load) with name and size, other files as a download link.
#[component]
pub(super) fn AttachmentList(files: Vec<Attachment>) -> impl IntoView {
    (!files.is_empty()).then(|| {
        view! {
            <ul class="mt-1 flex flex-wrap gap-2" data-testid="attachments">
                {files.into_iter().map(|a| {
                    let url = a.url();
                    let caption = a.caption();
                    if a.is_image() {
                        let link = url.clone();
                        let label = format!("Open {} ({caption})", a.name);
                        view! {
                            <li class="max-w-full">
                                <a href=link target="_blank" rel="noopener" class="block" aria-label=label>
                                    <img src=url alt=a.name.clone() loading="lazy" decoding="async"
                                        width=a.width height=a.height data-testid="attachment-image"
                                        class="h-auto max-h-64 max-w-full rounded-md border border-slate-200 dark:border-slate-700" />
                                </a>
                                <p class="mt-0.5 max-w-xs truncate text-xs text-slate-500 dark:text-slate-400">{a.name.clone()} " · " {caption.clone()}</p>
                            </li>
                        }.into_any()
                    } else {
                        view! {
                            <li class="max-w-full">
                                <a href=url download=a.name.clone() data-testid="attachment-file"
                                    class="flex max-w-xs items-center gap-2 rounded-md border border-slate-200 px-3 py-2 text-sm hover:bg-slate-50 dark:border-slate-700 dark:hover:bg-slate-800">
                                    <span aria-hidden="true">"📄"</span>
                                    <span class="min-w-0 flex-1 truncate">{a.name.clone()}</span>
                                    <span class="shrink-0 text-xs text-slate-500 dark:text-slate-400">{caption}</span>
                                </a>
                            </li>
                        }.into_any()
                    }
                }).collect_view()}
            </ul>
        }
    })
}

/// Uploads `file` to `room` (the session cookie and the page's Origin go with it, as with every
/// request of the page).
#[cfg(feature = "hydrate")]
async fn upload(room: RoomId, file: &web_sys::File) -> Result<Attachment, AppError> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let window = web_sys::window().ok_or(AppError::Network)?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(file);
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    let name = js_sys::encode_uri_component(&file.name());
    let url = format!("/api/v1/rooms/{room}/attachments?name={name}");
    let response = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
        .await
        .map_err(|_| AppError::Network)?
        .dyn_into::<web_sys::Response>()
        .map_err(|_| AppError::Network)?;
    let text = JsFuture::from(response.text().map_err(|_| AppError::Network)?)
        .await
        .map_err(|_| AppError::Network)?
        .as_string()
        .unwrap_or_default();
    if response.ok() {
        return serde_json::from_str(&text)
            .map_err(|_| AppError::internal("the server's answer to an upload"));
    }
    // The API's error body: {"code", "message", "fields"}.
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| "The file could not be uploaded.".into());
    Err(match response.status() {
        401 => AppError::Unauthenticated,
        413 => AppError::PayloadTooLarge { message },
        415 => AppError::UnsupportedMediaType { message },
        _ => AppError::BadRequest { message },
    })
}
