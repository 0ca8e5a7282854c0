//! The admin page: workstations, security settings, locked accounts and the
//! sign-in log, and per-user password reset / sign out everywhere.

use super::api::{
    get_settings, list_workstations, security_overview, BindWorkstation, DeleteWorkstation,
    ResetPassword, SaveSettings, SaveWorkstation, SignOutEverywhere, UnlockUser,
};
use crate::ui::{action_error, error_view, text, AppLayout};
use leptos::prelude::*;

#[component]
pub fn AdminPage() -> impl IntoView {
    let save_ws = ServerAction::<SaveWorkstation>::new();
    let delete_ws = ServerAction::<DeleteWorkstation>::new();
    let bind_ws = ServerAction::<BindWorkstation>::new();
    let save_settings = ServerAction::<SaveSettings>::new();
    let unlock = ServerAction::<UnlockUser>::new();
    let reset = ServerAction::<ResetPassword>::new();
    let sign_out = ServerAction::<SignOutEverywhere>::new();
    let workstations = Resource::new(
        move || {
            (
                save_ws.version().get(),
                delete_ws.version().get(),
                bind_ws.version().get(),
            )
        },
        |_| list_workstations(),
    );
    let settings = Resource::new(move || save_settings.version().get(), |_| get_settings());
    let security = Resource::new(
        move || {
            (
                unlock.version().get(),
                reset.version().get(),
                sign_out.version().get(),
            )
        },
        |_| security_overview(),
    );
    let ws_error = action_error(save_ws.value());
    let settings_error = action_error(save_settings.value());
    let (reset_error, sign_out_error, unlock_error) = (
        action_error(reset.value()),
        action_error(sign_out.value()),
        action_error(unlock.value()),
    );
    let user_error = move || {
        reset_error
            .get()
            .or_else(|| sign_out_error.get())
            .or_else(|| unlock_error.get())
    };
    let reset_result = move || reset.value().get().and_then(Result::ok);
    view! {
        <AppLayout>
            <h1>"Clinic admin"</h1>
            <section aria-labelledby="ws-title">
                <h2 id="ws-title">"Workstations"</h2>
                <p class="hint">
                    "Each workstation locks after its own idle time. Bind a browser to a workstation from that device; unbound browsers use the clinic default."
                </p>
                <Transition fallback=|| view! { <p>{text::LOADING}</p> }>
                    {move || {
                        workstations
                            .get()
                            .map(|r| match r {
                                Ok(list) => {
                                    view! {
                                        <table>
                                            <thead>
                                                <tr>
                                                    <th scope="col">"Name"</th>
                                                    <th scope="col">"Location"</th>
                                                    <th scope="col">"Idle timeout"</th>
                                                    <th scope="col">"Bound"</th>
                                                    <th scope="col">"Actions"</th>
                                                </tr>
                                            </thead>
                                            <tbody>
                                                {list
                                                    .into_iter()
                                                    .map(|w| {
                                                        let id = w.id.clone();
                                                        let id2 = w.id.clone();
                                                        let name = w.name.clone();
                                                        view! {
                                                            <tr>
                                                                <td>{w.name}</td>
                                                                <td>{w.location}</td>
                                                                <td>{format!("{} min", w.idle_minutes)}</td>
                                                                <td>{if w.bound { "Yes" } else { "No" }}</td>
                                                                <td class="actions">
                                                                    <ActionForm action=bind_ws>
                                                                        <input type="hidden" name="id" value=id/>
                                                                        <button type="submit" class="secondary">"Bind this browser"</button>
                                                                    </ActionForm>
                                                                    <ActionForm
                                                                        action=delete_ws
                                                                        on:submit=move |ev| {
                                                                            let ok = window()
                                                                                .confirm_with_message(&format!("Delete workstation \"{name}\"?"))
                                                                                .unwrap_or(false);
                                                                            if !ok {
                                                                                ev.prevent_default();
                                                                            }
                                                                        }
                                                                    >
                                                                        <input type="hidden" name="id" value=id2/>
                                                                        <button type="submit" class="danger">"Delete"</button>
                                                                    </ActionForm>
                                                                </td>
                                                            </tr>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </tbody>
                                        </table>
                                    }
                                        .into_any()
                                }
                                Err(e) => error_view(e),
                            })
                    }}
                </Transition>
                <h3>"Add a workstation"</h3>
                <ActionForm action=save_ws attr:class="inline-form">
                    <input type="hidden" name="id" value=""/>
                    <label for="ws-name">"Name"</label>
                    <input id="ws-name" name="name" required maxlength="100" placeholder="Room 2 tablet"/>
                    <label for="ws-location">"Location"</label>
                    <input id="ws-location" name="location" maxlength="200" placeholder="Consultation room 2"/>
                    <label for="ws-idle">"Idle timeout (minutes)"</label>
                    <input id="ws-idle" name="idle_minutes" type="number" min="1" max="720" value="10" required/>
                    <p class="error" role="alert">{ws_error}</p>
                    <button type="submit">"Add workstation"</button>
                </ActionForm>
            </section>

            <section aria-labelledby="settings-title">
                <h2 id="settings-title">"Security settings"</h2>
                <Transition fallback=|| view! { <p>{text::LOADING}</p> }>
                    {move || {
                        settings
                            .get()
                            .map(|r| match r {
                                Ok(s) => {
                                    view! {
                                        <ActionForm action=save_settings attr:class="inline-form">
                                            <label class="check">
                                                <input type="checkbox" name="totp_all_roles" checked=s.totp_all_roles/>
                                                "Require two-step sign-in for every role (doctors and admins always need it)"
                                            </label>
                                            <label for="max-idle">"Maximum idle timeout (minutes)"</label>
                                            <input id="max-idle" name="max_idle_minutes" type="number" min="1" max="720" value=s.max_idle_minutes required/>
                                            <label for="default-idle">"Idle timeout of unbound browsers (minutes)"</label>
                                            <input id="default-idle" name="default_idle_minutes" type="number" min="1" max="720" value=s.default_idle_minutes required/>
                                            <p class="error" role="alert">{settings_error}</p>
                                            <button type="submit">"Save settings"</button>
                                        </ActionForm>
                                    }
                                        .into_any()
                                }
                                Err(e) => error_view(e),
                            })
                    }}
                </Transition>
            </section>

            <section aria-labelledby="users-title">
                <h2 id="users-title">"Users"</h2>
                <div class="inline-forms">
                    <ActionForm action=reset attr:class="inline-form">
                        <label for="reset-user">"Reset password of"</label>
                        <input id="reset-user" name="username" required autocapitalize="none" placeholder="username"/>
                        <button type="submit">"Reset password"</button>
                    </ActionForm>
                    <ActionForm action=sign_out attr:class="inline-form">
                        <label for="signout-user">"Sign out everywhere"</label>
                        <input id="signout-user" name="username" required autocapitalize="none" placeholder="username"/>
                        <button type="submit" class="secondary">"Sign out everywhere"</button>
                    </ActionForm>
                </div>
                {move || {
                    reset_result()
                        .map(|pw| {
                            view! {
                                <p class="notice" role="status">
                                    "One-time password (shown once; the user must change it at sign-in): "
                                    <span class="mono">{pw}</span>
                                </p>
                            }
                        })
                }}
                <p class="error" role="alert">{user_error}</p>
            </section>

            <section aria-labelledby="signin-title">
                <h2 id="signin-title">"Sign-in security"</h2>
                <Transition fallback=|| view! { <p>{text::LOADING}</p> }>
                    {move || {
                        security
                            .get()
                            .map(|r| match r {
                                Ok(s) => {
                                    view! {
                                        <h3>"Throttled and locked accounts"</h3>
                                        {if s.throttled.is_empty() {
                                            view! { <p>"None."</p> }.into_any()
                                        } else {
                                            view! {
                                                <table>
                                                    <thead>
                                                        <tr>
                                                            <th scope="col">"Username"</th>
                                                            <th scope="col">"Failed attempts"</th>
                                                            <th scope="col">"Locked"</th>
                                                            <th scope="col"></th>
                                                        </tr>
                                                    </thead>
                                                    <tbody>
                                                        {s
                                                            .throttled
                                                            .into_iter()
                                                            .map(|(user, failures, minutes)| {
                                                                view! {
                                                                    <tr>
                                                                        <td>{user.clone()}</td>
                                                                        <td>{failures}</td>
                                                                        <td>{minutes.map(|m| format!("{m} more min")).unwrap_or_else(|| "No".to_owned())}</td>
                                                                        <td>
                                                                            <ActionForm action=unlock>
                                                                                <input type="hidden" name="username" value=user/>
                                                                                <button type="submit" class="secondary">"Unlock"</button>
                                                                            </ActionForm>
                                                                        </td>
                                                                    </tr>
                                                                }
                                                            })
                                                            .collect_view()}
                                                    </tbody>
                                                </table>
                                            }
                                                .into_any()
                                        }}
                                        <h3>"Recent sign-in events"</h3>
                                        <table class="events">
                                            <thead>
                                                <tr>
                                                    <th scope="col">"When"</th>
                                                    <th scope="col">"Username"</th>
                                                    <th scope="col">"Address"</th>
                                                    <th scope="col">"Event"</th>
                                                </tr>
                                            </thead>
                                            <tbody>
                                                {s
                                                    .events
                                                    .into_iter()
                                                    .map(|(at, user, ip, outcome)| {
                                                        view! {
                                                            <tr>
                                                                <td>{at}</td>
                                                                <td>{user}</td>
                                                                <td class="mono">{ip}</td>
                                                                <td>{outcome.replace('_', " ")}</td>
                                                            </tr>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </tbody>
                                        </table>
                                    }
                                        .into_any()
                                }
                                Err(e) => error_view(e),
                            })
                    }}
                </Transition>
            </section>
        </AppLayout>
    }
}
