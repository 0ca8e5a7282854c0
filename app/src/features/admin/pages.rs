//! The admin console's pages and its sub-navigation: users and roles (in
//! `users` and `roles`), workstations (`/admin`) and settings & security.

mod roles;
mod users;

pub use roles::RolesPage;
pub use users::UsersPage;

use super::api::{
    get_settings, list_workstations, security_overview, BindWorkstation, DeleteWorkstation,
    SaveSettings, SaveWorkstation, UnlockUser,
};
use crate::ui::{action_error, error_view, text, AppLayout, CurrentUser};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The admin pages: (path, link text, permission the page needs).
const ADMIN_PAGES: &[(&str, &str, &str)] = &[
    ("/admin/users", "Users", "users.manage"),
    ("/admin/roles", "Roles", "roles.manage"),
    ("/admin", "Workstations", "workstations.manage"),
    ("/admin/security", "Settings & security", "settings.manage"),
];

/// The admin sub-navigation: the admin pages the user may open.
#[component]
fn AdminNav() -> impl IntoView {
    let me = use_context::<CurrentUser>().map(|c| c.0);
    let pathname = use_location().pathname;
    view! {
        <nav class="subnav" aria-label="Admin">
            <Suspense fallback=|| ()>
                {move || {
                    let me = me.and_then(|m| m.get()).and_then(Result::ok).flatten();
                    ADMIN_PAGES
                        .iter()
                        .filter(|(_, _, permission)| me.as_ref().is_none_or(|m| m.may(permission)))
                        .map(|&(href, label, _)| {
                            view! {
                                <a href=href aria-current=move || (pathname.get() == href).then_some("page")>
                                    {label}
                                </a>
                            }
                        })
                        .collect_view()
                }}
            </Suspense>
        </nav>
    }
}

/// Confirms a consequential action in place (no browser dialog): the first
/// press asks, the second carries it out.
#[component]
fn ConfirmButton(
    /// The button's text.
    label: &'static str,
    /// Its accessible name, naming whom it acts on ("Disable ali").
    name: String,
    /// What happens, asked before doing it.
    question: String,
    /// The confirming button's text ("Yes, disable").
    confirm: &'static str,
    on_confirm: Callback<()>,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    let (name, question) = (StoredValue::new(name), StoredValue::new(question));
    move || {
        if asking.get() {
            view! {
                <span class="confirm" role="group" aria-label=name.get_value()>
                    <span>{question.get_value()}</span>
                    <button
                        type="button"
                        class="danger"
                        on:click=move |_| {
                            asking.set(false);
                            on_confirm.run(());
                        }
                    >
                        {confirm}
                    </button>
                    <button type="button" class="secondary" on:click=move |_| asking.set(false)>
                        "Cancel"
                    </button>
                </span>
            }
            .into_any()
        } else {
            view! {
                <button type="button" class="secondary" aria-label=name.get_value() on:click=move |_| asking.set(true)>
                    {label}
                </button>
            }
                .into_any()
        }
    }
}

/// `/admin`: the clinic's workstations, and binding this browser to one.
#[component]
pub fn WorkstationsPage() -> impl IntoView {
    let save_ws = ServerAction::<SaveWorkstation>::new();
    let delete_ws = ServerAction::<DeleteWorkstation>::new();
    let bind_ws = ServerAction::<BindWorkstation>::new();
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
    let ws_error = action_error(save_ws.value());
    let list_error = {
        let (delete_error, bind_error) = (
            action_error(delete_ws.value()),
            action_error(bind_ws.value()),
        );
        move || delete_error.get().or_else(|| bind_error.get())
    };
    view! {
        <AppLayout>
            <AdminNav/>
            <h1>"Workstations"</h1>
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
                                    <div class="table-scroll">
                                        <table class="list" aria-label="Workstations">
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
                                                                <th scope="row">{w.name.clone()}</th>
                                                                <td>{w.location}</td>
                                                                <td>{format!("{} min", w.idle_minutes)}</td>
                                                                <td>{if w.bound { "Yes" } else { "No" }}</td>
                                                                <td class="actions">
                                                                    <ActionForm action=bind_ws>
                                                                        <input type="hidden" name="id" value=id/>
                                                                        <button type="submit" class="secondary" aria-label=format!("Bind this browser to {}", w.name)>
                                                                            "Bind this browser"
                                                                        </button>
                                                                    </ActionForm>
                                                                    <ConfirmButton
                                                                        label="Delete"
                                                                        name=format!("Delete {name}")
                                                                        question=format!("Delete workstation “{name}”?")
                                                                        confirm="Yes, delete"
                                                                        on_confirm=Callback::new(move |()| {
                                                                            delete_ws.dispatch(DeleteWorkstation { id: id2.clone() });
                                                                        })
                                                                    />
                                                                </td>
                                                            </tr>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                }
                                    .into_any()
                            }
                            Err(e) => error_view(e),
                        })
                }}
            </Transition>
            <p class="error" role="alert">{list_error}</p>
            <section aria-labelledby="ws-new-title">
                <h2 id="ws-new-title">"Add a workstation"</h2>
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
        </AppLayout>
    }
}

/// `/admin/security`: security settings, throttled and locked accounts, the
/// sign-in log and refused actions.
#[component]
pub fn SecurityPage() -> impl IntoView {
    let save_settings = ServerAction::<SaveSettings>::new();
    let unlock = ServerAction::<UnlockUser>::new();
    let settings = Resource::new(move || save_settings.version().get(), |_| get_settings());
    let security = Resource::new(move || unlock.version().get(), |_| security_overview());
    let settings_error = action_error(save_settings.value());
    let unlock_error = action_error(unlock.value());
    view! {
        <AppLayout>
            <AdminNav/>
            <h1>"Settings & security"</h1>
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

            <MrPrefixSection/>

            <section aria-labelledby="signin-title">
                <h2 id="signin-title">"Sign-in security"</h2>
                <Transition fallback=|| view! { <p>{text::LOADING}</p> }>
                    {move || {
                        security
                            .get()
                            .map(|r| match r {
                                Ok(s) => view! { <SecurityTables s unlock/> }.into_any(),
                                Err(e) => error_view(e),
                            })
                    }}
                </Transition>
                <p class="error" role="alert">{unlock_error}</p>
            </section>
        </AppLayout>
    }
}

#[component]
fn SecurityTables(s: super::api::SecurityDto, unlock: ServerAction<UnlockUser>) -> impl IntoView {
    view! {
        <h3>"Throttled and locked accounts"</h3>
        {if s.throttled.is_empty() {
            view! { <p>"None."</p> }.into_any()
        } else {
            view! {
                <div class="table-scroll">
                    <table class="list" aria-label="Throttled and locked accounts">
                        <thead>
                            <tr>
                                <th scope="col">"Username"</th>
                                <th scope="col">"Failed attempts"</th>
                                <th scope="col">"Locked"</th>
                                <th scope="col">"Actions"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {s
                                .throttled
                                .into_iter()
                                .map(|(user, failures, minutes)| {
                                    view! {
                                        <tr>
                                            <th scope="row">{user.clone()}</th>
                                            <td>{failures}</td>
                                            <td>{minutes.map_or_else(|| "No".to_owned(), |m| format!("{m} more min"))}</td>
                                            <td>
                                                <ActionForm action=unlock>
                                                    <input type="hidden" name="username" value=user.clone()/>
                                                    <button type="submit" class="secondary" aria-label=format!("Unlock {user}")>
                                                        "Unlock"
                                                    </button>
                                                </ActionForm>
                                            </td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                </div>
            }
                .into_any()
        }}
        <h3>"Refused actions"</h3>
        {if s.denials.is_empty() {
            view! { <p>"None."</p> }.into_any()
        } else {
            view! {
                <div class="table-scroll">
                    <table class="list" aria-label="Refused actions">
                        <thead>
                            <tr>
                                <th scope="col">"When"</th>
                                <th scope="col">"Username"</th>
                                <th scope="col">"Permission it needed"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {s
                                .denials
                                .into_iter()
                                .map(|(at, user, permission)| {
                                    view! {
                                        <tr>
                                            <td>{at}</td>
                                            <td>{user}</td>
                                            <td class="mono">{permission}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                </div>
            }
                .into_any()
        }}
        <h3>"Recent sign-in events"</h3>
        <div class="table-scroll">
            <table class="list events" aria-label="Recent sign-in events">
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
        </div>
    }
}

/// The prefix of the clinic's MR numbers (`MR-000123`, `HP-000124`).
#[component]
fn MrPrefixSection() -> impl IntoView {
    use crate::features::patients::api::{get_mr_prefix, SaveMrPrefix};
    let save = ServerAction::<SaveMrPrefix>::new();
    let current = Resource::new(move || save.version().get(), |_| get_mr_prefix());
    let error = action_error(save.value());
    let saved = move || {
        save.value()
            .get()
            .and_then(Result::ok)
            .map(|p| format!("Saved. New patients' numbers start with {p}."))
    };
    view! {
        <section aria-labelledby="mr-title">
            <h2 id="mr-title">"Patient numbers"</h2>
            <p class="hint">
                "New patients get the next number after this prefix; numbers already given stay. 1 to 6 letters, optionally a dash."
            </p>
            <Transition fallback=|| view! { <p>{text::LOADING}</p> }>
                {move || {
                    current
                        .get()
                        .map(|r| match r {
                            Ok(prefix) => {
                                view! {
                                    <ActionForm action=save attr:class="inline-form">
                                        <label for="mr-prefix">"MR number prefix"</label>
                                        <input id="mr-prefix" name="mr_prefix" value=prefix maxlength="7" autocomplete="off" required/>
                                        <p class="error" role="alert">{error}</p>
                                        <p class="hint" role="status">{saved}</p>
                                        <button type="submit">"Save prefix"</button>
                                    </ActionForm>
                                }
                                    .into_any()
                            }
                            Err(e) => error_view(e),
                        })
                }}
            </Transition>
        </section>
    }
}
