//! `use_autosave`: the client half of drafts. A form calls `changed(payload)`
//! on every edit; the draft is saved a few seconds after typing pauses, at
//! once when the idle warning appears, and when the form goes away (lock,
//! navigation). When the form opens, `offered` holds the saved draft, if any.

use super::api::{discard_draft, get_draft, save_draft, DraftDto};
use crate::ui::layout::IdleFlush;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Seconds after the last change before the draft is saved.
const SAVE_AFTER: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct Autosave {
    /// The draft found when the form opened (until restored or discarded).
    pub offered: RwSignal<Option<DraftDto>>,
    /// "Draft saved 14:05" and the like, for a quiet status line.
    pub status: RwSignal<String>,
    key: Arc<str>,
    pending: Arc<Mutex<Option<String>>>,
    generation: RwSignal<u64>,
}

impl Autosave {
    /// Records a change; the save follows when typing pauses.
    pub fn changed(&self, payload: String) {
        *self.pending.lock().expect("draft lock") = Some(payload);
        self.status.set("Unsaved changes".to_owned());
        self.generation.update(|g| *g += 1);
        let generation = self.generation.get_untracked();
        let this = self.clone();
        set_timeout(
            move || {
                if this.generation.try_get_untracked() == Some(generation) {
                    this.flush();
                }
            },
            SAVE_AFTER,
        );
    }

    /// Saves now if anything is unsaved.
    pub fn flush(&self) {
        let Some(payload) = self.pending.lock().expect("draft lock").take() else {
            return;
        };
        let key = self.key.to_string();
        let status = self.status;
        spawn_local(async move {
            let text = match save_draft(key, payload).await {
                Ok(()) => format!("Draft saved {}", clock_text()),
                Err(e) => format!("Draft not saved: {e}"),
            };
            status.try_set(text);
        });
    }

    /// Throws the server-side draft away (after a successful save of the form,
    /// or when the user declines the offered draft).
    pub fn discard(&self) {
        self.pending.lock().expect("draft lock").take();
        self.offered.set(None);
        let key = self.key.to_string();
        spawn_local(async move {
            let _ = discard_draft(key).await;
        });
    }

    /// Stops autosaving what is pending (the form was just saved for real).
    pub fn forget_pending(&self) {
        self.pending.lock().expect("draft lock").take();
        self.status.set(String::new());
    }
}

fn clock_text() -> String {
    let d = js_sys::Date::new_0();
    format!("{:02}:{:02}", d.get_hours(), d.get_minutes())
}

pub fn use_autosave(form_key: String) -> Autosave {
    let autosave = Autosave {
        offered: RwSignal::new(None),
        status: RwSignal::new(String::new()),
        key: Arc::from(form_key),
        pending: Arc::new(Mutex::new(None)),
        generation: RwSignal::new(0),
    };
    // Offer a saved draft back (browser only: drafts are fetched after hydration).
    let a = autosave.clone();
    Effect::new(move |_| {
        let a = a.clone();
        spawn_local(async move {
            if let Ok(Some(draft)) = get_draft(a.key.to_string()).await {
                a.offered.try_set(Some(draft));
            }
        });
    });
    // Save at once when the idle warning appears.
    if let Some(IdleFlush(flush)) = use_context::<IdleFlush>() {
        let a = autosave.clone();
        Effect::new(move |prev: Option<u32>| {
            let n = flush.get();
            if prev.is_some_and(|p| p != n) {
                a.flush();
            }
            n
        });
    }
    // Save when the form goes away (lock screen, navigation). Plain data
    // only: signals may already be gone when this runs.
    let pending = autosave.pending.clone();
    let key = autosave.key.clone();
    on_cleanup(move || {
        if let Some(payload) = pending.lock().expect("draft lock").take() {
            let key = key.to_string();
            spawn_local(async move {
                let _ = save_draft(key, payload).await;
            });
        }
    });
    autosave
}
