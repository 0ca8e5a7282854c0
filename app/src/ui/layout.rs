//! The signed-in page frame: header (clinic, user, sign out), navigation, main
//! — and the idle timer. The timer counts down from the last user activity in
//! a signal, warns 60 s before the end (and saves drafts), then goes to the
//! lock screen (`/locked`): the page is unmounted, so no patient data stays in
//! the DOM. The server refuses the session after the same idle time on its own
//! clock; activity without requests sends a keep-alive so both agree.

use super::text;
use crate::error::AppError;
use crate::features::auth::api::{current_user, ping, Logout};
use crate::features::auth::dto::MeDto;
use crate::features::sections::SECTIONS;
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};

/// The signed-in user as the page frame loaded it, for pages that show or
/// hide things by permission (e.g. the admin sub-navigation).
#[derive(Clone, Copy)]
pub struct CurrentUser(pub Resource<Result<Option<MeDto>, AppError>>);

/// Bumped when the idle warning appears: forms with drafts save at once.
#[derive(Clone, Copy)]
pub struct IdleFlush(pub RwSignal<u32>);

/// Seconds of warning before the lock.
pub const WARN_SECS: f64 = 60.0;
/// Activity sends a keep-alive at most this often.
const PING_EVERY_MS: f64 = 10_000.0;

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// The lock screen's URL: who was signed in (not PHI) and where to return
/// after unlocking. Browser only (the lock happens in the browser).
pub fn lock_url(me: &MeDto, return_to: &str) -> String {
    let esc = |s: &str| String::from(js_sys::encode_uri_component(s));
    format!(
        "/locked?c={}&u={}&next={}",
        esc(&me.clinic_code),
        esc(&me.username),
        esc(return_to)
    )
}

#[component]
pub fn AppLayout(children: Children) -> impl IntoView {
    let me = Resource::new(|| (), |()| current_user());
    provide_context(CurrentUser(me));
    let logout = ServerAction::<Logout>::new();
    let navigate = use_navigate();
    let nav = navigate.clone();
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            nav("/login", Default::default());
        }
    });
    let flush = IdleFlush(RwSignal::new(0));
    provide_context(flush);

    // The idle timer (browser only: effects do not run on the server).
    let last_activity = RwSignal::new(0.0f64);
    let now = RwSignal::new(0.0f64);
    let last_ping = RwSignal::new(0.0f64);
    let idle_ms = move || {
        me.get()
            .and_then(Result::ok)
            .flatten()
            .map(|m| f64::from(m.idle_timeout_secs) * 1000.0)
    };
    let remaining_secs = move || {
        let idle = idle_ms()?;
        (last_activity.get() > 0.0).then(|| (idle - (now.get() - last_activity.get())) / 1000.0)
    };
    Effect::new(move |_| {
        let start = now_ms();
        last_activity.set(start);
        now.set(start);
        last_ping.set(start);
        let tick =
            set_interval_with_handle(move || now.set(now_ms()), std::time::Duration::from_secs(1))
                .ok();
        let activity = move || {
            let t = now_ms();
            last_activity.set(t);
            now.set(t);
            if t - last_ping.get_untracked() > PING_EVERY_MS {
                last_ping.set(t);
                leptos::task::spawn_local(async {
                    let _ = ping().await;
                });
            }
        };
        let handles = [
            window_event_listener(leptos::ev::keydown, move |_| activity()),
            window_event_listener(leptos::ev::pointerdown, move |_| activity()),
            window_event_listener(leptos::ev::wheel, move |_| activity()),
            window_event_listener(leptos::ev::touchstart, move |_| activity()),
        ];
        on_cleanup(move || {
            if let Some(t) = tick {
                t.clear();
            }
            for h in handles {
                h.remove();
            }
        });
    });
    // Warn (and save drafts) once per countdown; lock at zero.
    let warned = RwSignal::new(false);
    let location = use_location();
    let pathname = location.pathname;
    Effect::new(move |_| {
        let Some(left) = remaining_secs() else { return };
        if left > WARN_SECS {
            warned.set(false);
        } else if !warned.get_untracked() {
            warned.set(true);
            flush.0.update(|n| *n += 1);
        }
        if left <= 0.0 {
            if let Some(Ok(Some(m))) = me.get_untracked() {
                let here = format!(
                    "{}{}",
                    location.pathname.get_untracked(),
                    location.search.get_untracked()
                );
                navigate(&lock_url(&m, &here), Default::default());
            }
        }
    });
    let stay = move |_| {
        let t = now_ms();
        last_activity.set(t);
        now.set(t);
        last_ping.set(t);
        leptos::task::spawn_local(async {
            let _ = ping().await;
        });
    };

    view! {
        <header class="topbar">
            <a class="brand" href="/patients">{text::APP_NAME}</a>
            <Suspense fallback=|| ()>
                {move || {
                    me.get()
                        .and_then(Result::ok)
                        .flatten()
                        .map(|me| {
                            view! {
                                <span class="who">
                                    <span class="who-name">{me.display_name}</span>
                                    <span class="who-clinic">{me.clinic_name}</span>
                                </span>
                                <nav class="usernav" aria-label="Account">
                                    <a href="/account/password">"Change password"</a>
                                </nav>
                            }
                        })
                }}
            </Suspense>
            <ActionForm action=logout>
                <button type="submit" class="secondary">{text::SIGN_OUT}</button>
            </ActionForm>
        </header>
        // Only the sections the user may use (the server checks anyway).
        <nav class="mainnav" aria-label="Main">
            <Suspense fallback=|| ()>
                {move || {
                    me.get()
                        .and_then(Result::ok)
                        .flatten()
                        .map(|me| {
                            SECTIONS
                                .iter()
                                .filter(|s| me.may(s.permission))
                                .map(|s| {
                                    view! {
                                        <a
                                            href=s.href()
                                            aria-current=move || {
                                                s.is_current(&pathname.get()).then_some("page")
                                            }
                                        >
                                            {s.label}
                                        </a>
                                    }
                                })
                                .collect_view()
                        })
                }}
            </Suspense>
        </nav>
        <Show when=move || warned.get()>
            <div class="idle-warning" role="alertdialog" aria-live="assertive">
                <span>
                    {move || {
                        let left = remaining_secs().unwrap_or(0.0).max(0.0).ceil();
                        format!("No activity: this screen locks in {left} seconds.")
                    }}
                </span>
                <button type="button" on:click=stay>"Stay signed in"</button>
            </div>
        </Show>
        <main>{children()}</main>
    }
}
