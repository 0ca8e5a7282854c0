//! Sign-in pages: password, second factor, TOTP set-up, password change, and
//! the lock screen.

use super::api::{enrolment, ChangePassword, ConfirmEnrolment, Login, VerifyCode};
use super::dto::NextStepDto;
use crate::error::AppError;
use crate::ui::{action_error, error_view, text};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

/// Follows a sign-in step's answer to the next page; a pending step the
/// server names (e.g. a forced password change) wins over `fallback`.
fn follow<S>(value: S, next: impl Fn(&NextStepDto) -> Option<String> + 'static)
where
    S: Get<Value = Option<Result<NextStepDto, AppError>>> + Clone + 'static,
{
    let navigate = use_navigate();
    Effect::new(move |_| {
        let target = match value.get() {
            Some(Ok(v)) => next(&v),
            Some(Err(AppError::SignInIncomplete { next })) => Some(next),
            _ => None,
        };
        if let Some(path) = target {
            navigate(&path, Default::default());
        }
    });
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    follow(login.value(), |n| Some(n.next.clone()));
    let error = action_error(login.value());
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

/// The code field shared by the second-factor page and the lock screen.
#[component]
fn CodeField() -> impl IntoView {
    view! {
        <label for="code">"Authenticator code"</label>
        <input id="code" name="code" required inputmode="numeric" autocomplete="one-time-code" autocapitalize="none" autofocus/>
        <p class="hint">"The 6-digit code from your authenticator app, or one of your recovery codes."</p>
    }
}

#[component]
pub fn CodePage() -> impl IntoView {
    let verify = ServerAction::<VerifyCode>::new();
    follow(verify.value(), |n| Some(n.next.clone()));
    let error = action_error(verify.value());
    view! {
        <main class="login">
            <h1>"Two-step sign-in"</h1>
            <div class="card">
                <ActionForm action=verify>
                    <CodeField/>
                    <p class="error" role="alert">{error}</p>
                    <button type="submit" disabled=move || verify.pending().get()>"Continue"</button>
                </ActionForm>
                <p><a href="/login">"Sign in as someone else"</a></p>
            </div>
        </main>
    }
}

#[component]
pub fn EnrolPage() -> impl IntoView {
    let setup = Resource::new(|| (), |()| enrolment());
    let confirm = ServerAction::<ConfirmEnrolment>::new();
    let error = action_error(confirm.value());
    let codes = move || confirm.value().get().and_then(Result::ok);
    view! {
        <main class="login wide">
            <h1>"Set up two-step sign-in"</h1>
            <div class="card">
                <Show
                    when=move || codes().is_none()
                    fallback=move || {
                        view! {
                            <h2>"Your recovery codes"</h2>
                            <p>
                                "Each code works once if you lose your phone. Write them down or print them now: they are not shown again."
                            </p>
                            <ul class="recovery-codes">
                                {codes().unwrap_or_default().into_iter().map(|c| view! { <li class="mono">{c}</li> }).collect_view()}
                            </ul>
                            <a class="button" href="/patients">"I have saved them — continue"</a>
                        }
                    }
                >
                    <p>
                        "Your role needs a second step at sign-in. Scan this QR code with an authenticator app (Google Authenticator, Microsoft Authenticator, Aegis…), then type the 6-digit code it shows."
                    </p>
                    <Suspense fallback=|| view! { <p>{text::LOADING}</p> }>
                        {move || {
                            setup
                                .get()
                                .map(|r| match r {
                                    Ok(e) => {
                                        view! {
                                            <div class="qr" inner_html=e.qr_svg></div>
                                            <p>"Or enter this key by hand:"</p>
                                            <p class="mono secret" data-testid="totp-secret">{e.secret}</p>
                                        }
                                            .into_any()
                                    }
                                    Err(e) => error_view(e),
                                })
                        }}
                    </Suspense>
                    <ActionForm action=confirm>
                        <CodeField/>
                        <p class="error" role="alert">{error}</p>
                        <button type="submit" disabled=move || confirm.pending().get()>"Confirm"</button>
                    </ActionForm>
                </Show>
            </div>
        </main>
    }
}

#[component]
pub fn PasswordPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    follow(change.value(), |n| Some(n.next.clone()));
    let error = action_error(change.value());
    view! {
        <main class="login">
            <h1>"Change your password"</h1>
            <div class="card">
                <ActionForm action=change>
                    <label for="current_password">"Current password"</label>
                    <input id="current_password" name="current_password" type="password" required autocomplete="current-password"/>
                    <label for="new_password">"New password"</label>
                    <input id="new_password" name="new_password" type="password" required minlength="12" autocomplete="new-password"/>
                    <label for="confirm_password">"New password again"</label>
                    <input id="confirm_password" name="confirm_password" type="password" required minlength="12" autocomplete="new-password"/>
                    <p class="hint">"At least 12 characters. A few unrelated words are strong and easy to remember; common passwords are refused."</p>
                    <p class="error" role="alert">{error}</p>
                    <button type="submit" disabled=move || change.pending().get()>"Change password"</button>
                </ActionForm>
                <p><a href="/patients">"Cancel"</a></p>
            </div>
        </main>
    }
}

/// The lock screen. The page that was open has been unmounted; signing in
/// again as the same user returns to it (where drafts are offered back).
#[component]
pub fn LockedPage() -> impl IntoView {
    let query = use_query_map();
    let q = move |k: &str| query.read().get(k).unwrap_or_default();
    let clinic_code = q("c");
    let username = q("u");
    let who = format!("Signed in as {username} ({clinic_code}).");
    let clinic_code = StoredValue::new(clinic_code);
    let username = StoredValue::new(username);
    let next = q("next");
    let back_to = if next.starts_with('/') && !next.starts_with("//") {
        next
    } else {
        "/patients".to_owned()
    };
    // End the old session on the server too (it is idle-expired there already,
    // or about to be); drafts were saved when the warning appeared.
    Effect::new(move |_| {
        leptos::task::spawn_local(async {
            let _ = super::api::lock_session().await;
        });
    });
    let login = ServerAction::<Login>::new();
    let verify = ServerAction::<VerifyCode>::new();
    let needs_code =
        move || matches!(login.value().get(), Some(Ok(ref n)) if n.next == "/signin/code");
    let back = back_to.clone();
    follow(login.value(), move |n| match n.next.as_str() {
        "/signin/code" => None,
        "/patients" => Some(back.clone()),
        other => Some(other.to_owned()),
    });
    let back = back_to.clone();
    follow(verify.value(), move |n| {
        Some(if n.next == "/patients" {
            back.clone()
        } else {
            n.next.clone()
        })
    });
    let login_error = action_error(login.value());
    let code_error = action_error(verify.value());
    view! {
        <main class="login locked">
            <h1>"Screen locked"</h1>
            <div class="card">
                <p>
                    "This screen was locked after a period of no activity. "
                    {who}
                </p>
                <Show
                    when=move || !needs_code()
                    fallback=move || {
                        view! {
                            <ActionForm action=verify>
                                <CodeField/>
                                <p class="error" role="alert">{code_error}</p>
                                <button type="submit">"Unlock"</button>
                            </ActionForm>
                        }
                    }
                >
                    <ActionForm action=login>
                        <input type="hidden" name="clinic_code" value=clinic_code.get_value()/>
                        <input type="hidden" name="username" value=username.get_value()/>
                        <label for="password">"Password"</label>
                        <input id="password" name="password" type="password" required autocomplete="current-password" autofocus/>
                        <p class="error" role="alert">{login_error}</p>
                        <button type="submit" disabled=move || login.pending().get()>"Unlock"</button>
                    </ActionForm>
                </Show>
                <p><a href="/login">"Not you? Sign in as someone else"</a></p>
            </div>
        </main>
    }
}
