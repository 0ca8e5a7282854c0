//! The signed-in page frame: header (clinic, user, sign out), navigation, main.

use super::text;
use crate::features::auth::api::{current_user, Logout};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

#[component]
pub fn AppLayout(children: Children) -> impl IntoView {
    let me = Resource::new(|| (), |()| current_user());
    let logout = ServerAction::<Logout>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            navigate("/login", Default::default());
        }
    });
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
                            }
                        })
                }}
            </Suspense>
            <ActionForm action=logout>
                <button type="submit" class="secondary">{text::SIGN_OUT}</button>
            </ActionForm>
        </header>
        <nav class="mainnav" aria-label="Main">
            <a href="/patients">{text::NAV_PATIENTS}</a>
        </nav>
        <main>{children()}</main>
    }
}
