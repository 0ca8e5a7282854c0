//! The sign-in page.

use super::api::Login;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = login.value().get() {
            navigate("/patients", Default::default());
        }
    });
    let error = move || {
        login
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    };
    view! {
        <main class="login">
            <h1>"Sign in to Healipro"</h1>
            <div class="card">
                <ActionForm action=login>
                    <label for="clinic_code">"Clinic code"</label>
                    <input id="clinic_code" name="clinic_code" required autocapitalize="none" autocomplete="organization"/>
                    <label for="username">"Username"</label>
                    <input id="username" name="username" required autocapitalize="none" autocomplete="username"/>
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" required autocomplete="current-password"/>
                    <p class="error" role="alert">{error}</p>
                    <button type="submit" disabled=move || login.pending().get()>"Sign in"</button>
                </ActionForm>
            </div>
        </main>
    }
}
