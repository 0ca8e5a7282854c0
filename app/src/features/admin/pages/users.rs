//! `/admin/users`: every user with roles and sign-in state, the per-user
//! actions, and the new-user form.

use super::{AdminNav, ConfirmButton};
use crate::error::AppError;
use crate::features::admin::api::{
    create_user, list_roles, list_users, reset_password, reset_second_factor, set_user_active,
    set_user_roles, sign_out_everywhere, unlock_user, RolesDto, UserDto,
};
use crate::ui::{error_view, text, AppLayout};
use leptos::prelude::*;

/// The built-in roles (key, name) for the role pickers when the role list
/// cannot be loaded (it needs `roles.manage`); core's `Role` table is the
/// source, a test keeps the two equal.
const BUILTIN_ROLES: [(&str, &str); 6] = [
    ("admin", "Clinic admin"),
    ("doctor", "Doctor"),
    ("operator", "Front desk"),
    ("pharmacist", "Pharmacist"),
    ("lab_tech", "Lab technician"),
    ("auditor", "Auditor (read-only)"),
];

/// The roles a user can be given: (key for the server, name to show).
fn role_options(roles: Option<Result<RolesDto, AppError>>) -> Vec<(String, String)> {
    match roles {
        Some(Ok(dto)) => dto.roles.into_iter().map(|r| (r.key, r.name)).collect(),
        _ => BUILTIN_ROLES
            .iter()
            .map(|&(k, n)| (k.to_owned(), n.to_owned()))
            .collect(),
    }
}

/// Creates a user: (username, full name, comma-separated roles) →
/// (username, one-time password).
type CreateUserAction = Action<(String, String, String), Result<(String, String), AppError>>;

/// One action on one user, from a row of the table.
#[derive(Debug, Clone)]
enum Command {
    SetRoles {
        id: String,
        username: String,
        roles: String,
    },
    SetActive {
        id: String,
        username: String,
        active: bool,
    },
    ResetPassword {
        username: String,
    },
    ResetSecondFactor {
        id: String,
        username: String,
    },
    Unlock {
        username: String,
    },
    SignOutEverywhere {
        username: String,
    },
}

impl Command {
    fn is_roles(&self) -> bool {
        matches!(self, Command::SetRoles { .. })
    }
}

/// What a finished command tells the admin.
#[derive(Debug, Clone)]
struct Done {
    message: String,
    /// A reset password's one-time password, shown once: (username, password).
    one_time: Option<(String, String)>,
}

impl Done {
    fn say(message: String) -> Self {
        Done {
            message,
            one_time: None,
        }
    }
}

async fn run(command: Command) -> Result<Done, AppError> {
    Ok(match command {
        Command::SetRoles {
            id,
            username,
            roles,
        } => {
            set_user_roles(id, roles).await?;
            Done::say(format!(
                "Roles of {username} saved. They apply from the next request."
            ))
        }
        Command::SetActive {
            id,
            username,
            active,
        } => {
            set_user_active(id, active.to_string()).await?;
            Done::say(if active {
                format!("{username} is enabled and can sign in again.")
            } else {
                format!("{username} is disabled; their sessions have ended.")
            })
        }
        Command::ResetPassword { username } => {
            let password = reset_password(username.clone()).await?;
            Done {
                message: format!("The password of {username} is reset."),
                one_time: Some((username, password)),
            }
        }
        Command::ResetSecondFactor { id, username } => {
            reset_second_factor(id).await?;
            Done::say(format!(
                "Two-step sign-in of {username} is reset: they set it up again at their next sign-in."
            ))
        }
        Command::Unlock { username } => {
            unlock_user(username.clone()).await?;
            Done::say(format!("{username} is unlocked."))
        }
        Command::SignOutEverywhere { username } => {
            let n = sign_out_everywhere(username.clone()).await?;
            Done::say(format!(
                "{username} is signed out everywhere ({n} session(s) ended)."
            ))
        }
    })
}

/// A one-time password, shown once with what to do with it.
#[component]
fn OneTimePassword(
    /// The field's id (the page can show two: a new user's and a reset one).
    id: &'static str,
    username: String,
    password: String,
) -> impl IntoView {
    view! {
        <div class="notice one-time">
            <label for=id>{format!("One-time password for {username}")}</label>
            <input id=id class="mono" readonly value=password autocomplete="off" spellcheck="false"/>
            <p>"Hand this to the user; they must change it at first sign-in. It is not shown again."</p>
        </div>
    }
}

/// Checkboxes for the roles in `options`, checked as in `chosen`.
#[component]
fn RoleChecks(options: Vec<(String, String)>, chosen: RwSignal<Vec<String>>) -> impl IntoView {
    view! {
        <fieldset class="checks">
            <legend>"Roles"</legend>
            {options
                .into_iter()
                .map(|(key, name)| {
                    let k = key.clone();
                    view! {
                        <label class="check">
                            <input
                                type="checkbox"
                                prop:checked=move || chosen.read().contains(&k)
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    chosen
                                        .update(|c| {
                                            c.retain(|r| *r != key);
                                            if on {
                                                c.push(key.clone());
                                            }
                                        });
                                }
                            />
                            {name}
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    // The row whose roles are being edited, and the roles ticked there.
    let editing = RwSignal::new(None::<String>);
    let edit_roles = RwSignal::new(Vec::<String>::new());
    let command = Action::new(move |c: &Command| {
        let c = c.clone();
        async move {
            let closes_editor = c.is_roles();
            let done = run(c).await?;
            if closes_editor {
                editing.set(None);
            }
            Ok::<_, AppError>(done)
        }
    });
    // The last command's kind: a failed role change shows its error in the
    // role editor, anything else above the table.
    let last_was_roles = RwSignal::new(false);
    let dispatch = move |c: Command| {
        last_was_roles.set(c.is_roles());
        command.dispatch(c);
    };

    // The new-user form (kept as typed when the server refuses it).
    let username = RwSignal::new(String::new());
    let display_name = RwSignal::new(String::new());
    let new_roles = RwSignal::new(Vec::<String>::new());
    let create = Action::new(move |(u, n, r): &(String, String, String)| {
        let (u, n, r) = (u.clone(), n.clone(), r.clone());
        async move {
            let password = create_user(u.clone(), n, r).await?;
            username.set(String::new());
            display_name.set(String::new());
            new_roles.set(Vec::new());
            Ok::<_, AppError>((u, password))
        }
    });
    let users = Resource::new(
        move || (command.version().get(), create.version().get()),
        |_| list_users(),
    );
    let roles = Resource::new(|| (), |()| list_roles());

    let error_of = move |roles_editor: bool| {
        command
            .value()
            .get()
            .and_then(Result::err)
            .filter(|_| last_was_roles.get() == roles_editor)
            .map(|e| e.to_string())
    };
    let done = move || command.value().get().and_then(Result::ok);

    view! {
        <AppLayout>
            <AdminNav/>
            <h1>"Users"</h1>
            <div class="status-line" aria-live="polite">
                {move || {
                    done()
                        .map(|d| {
                            view! {
                                <p class="notice">{d.message}</p>
                                {d.one_time.map(|(username, password)| view! { <OneTimePassword id="reset-password" username password/> })}
                            }
                        })
                }}
            </div>
            <p class="error" role="alert">{move || error_of(false)}</p>
            <Transition fallback=|| view! { <p>{text::LOADING}</p> }>
                {move || {
                    let options = role_options(roles.get());
                    users
                        .get()
                        .map(|r| match r {
                            Ok(list) => {
                                view! {
                                    <div class="table-scroll">
                                        <table class="list users" aria-label="Users">
                                            <thead>
                                                <tr>
                                                    <th scope="col">"Username"</th>
                                                    <th scope="col">"Name"</th>
                                                    <th scope="col">"Roles"</th>
                                                    <th scope="col">"Active"</th>
                                                    <th scope="col">"Two-step sign-in"</th>
                                                    <th scope="col">"Last sign-in"</th>
                                                    <th scope="col">"Sign-in lock"</th>
                                                    <th scope="col">"Actions"</th>
                                                </tr>
                                            </thead>
                                            {list
                                                .into_iter()
                                                .map(|u| {
                                                    view! {
                                                        <UserRows
                                                            u
                                                            options=options.clone()
                                                            editing
                                                            edit_roles
                                                            dispatch=Callback::new(dispatch)
                                                            roles_error=Signal::derive(move || error_of(true))
                                                            saving=command.pending()
                                                        />
                                                    }
                                                })
                                                .collect_view()}
                                        </table>
                                    </div>
                                }
                                    .into_any()
                            }
                            Err(e) => error_view(e),
                        })
                }}
            </Transition>

            // Only for someone who may manage users.
            <Transition fallback=|| ()>
                {move || {
                    let options = role_options(roles.get());
                    users
                        .get()
                        .map(|r| {
                            r.is_ok()
                                .then(|| {
                                    view! {
                                        <NewUserForm
                                            options
                                            username
                                            display_name
                                            chosen=new_roles
                                            create
                                        />
                                    }
                                })
                        })
                }}
            </Transition>
        </AppLayout>
    }
}

/// The new-user form: username, full name and roles; shows the one-time
/// password once the user exists. What was typed stays when it is refused.
#[component]
fn NewUserForm(
    options: Vec<(String, String)>,
    username: RwSignal<String>,
    display_name: RwSignal<String>,
    chosen: RwSignal<Vec<String>>,
    create: CreateUserAction,
) -> impl IntoView {
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch((
            username.get_untracked(),
            display_name.get_untracked(),
            chosen.get_untracked().join(","),
        ));
    };
    let error = move || {
        create
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    };
    let created = move || create.value().get().and_then(Result::ok);
    view! {
        <section aria-labelledby="new-user-title">
            <h2 id="new-user-title">"New user"</h2>
            <form class="inline-form" aria-labelledby="new-user-title" on:submit=submit>
                <label for="new-username">"Username"</label>
                <input
                    id="new-username"
                    required
                    maxlength="64"
                    autocapitalize="none"
                    autocomplete="off"
                    spellcheck="false"
                    prop:value=username
                    on:input=move |ev| username.set(event_target_value(&ev))
                />
                <label for="new-display-name">"Full name"</label>
                <input
                    id="new-display-name"
                    required
                    maxlength="200"
                    autocomplete="off"
                    prop:value=display_name
                    on:input=move |ev| display_name.set(event_target_value(&ev))
                />
                <RoleChecks options chosen/>
                <p class="error" role="alert">{error}</p>
                <button type="submit" disabled=move || create.pending().get()>"Create user"</button>
            </form>
            {move || {
                created()
                    .map(|(username, password)| {
                        view! { <OneTimePassword id="new-user-password" username password/> }
                    })
            }}
        </section>
    }
}

/// One user's row and, while editing, the role editor under it.
#[component]
fn UserRows(
    u: UserDto,
    options: Vec<(String, String)>,
    editing: RwSignal<Option<String>>,
    edit_roles: RwSignal<Vec<String>>,
    dispatch: Callback<Command>,
    roles_error: Signal<Option<String>>,
    saving: Memo<bool>,
) -> impl IntoView {
    let UserDto {
        id,
        username,
        display_name,
        roles,
        role_labels,
        active,
        totp_enrolled,
        must_change_password,
        last_login,
        lock_state,
    } = u;
    let is_editing = {
        let id = id.clone();
        Memo::new(move |_| editing.read().as_deref() == Some(id.as_str()))
    };
    let open_editor = {
        let (id, roles) = (id.clone(), roles.clone());
        move |_| {
            if is_editing.get_untracked() {
                editing.set(None);
            } else {
                edit_roles.set(roles.clone());
                editing.set(Some(id.clone()));
            }
        }
    };
    let locked = !lock_state.is_empty();
    let (uid, uname) = (StoredValue::new(id), StoredValue::new(username.clone()));
    let save_roles = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        dispatch.run(Command::SetRoles {
            id: uid.get_value(),
            username: uname.get_value(),
            roles: edit_roles.get_untracked().join(","),
        });
    };
    let editor_title = format!("Roles of {username}");
    view! {
        <tbody>
            <tr>
                <th scope="row" class="mono">{username.clone()}</th>
                <td>{display_name}</td>
                <td>{role_labels.join(", ")}</td>
                <td>{if active { "Yes" } else { "Disabled" }}</td>
                <td>{if totp_enrolled { "Set up" } else { "Not set up" }}</td>
                <td>
                    {last_login}
                    {must_change_password.then_some(" (must change password)")}
                </td>
                <td>{lock_state}</td>
                <td class="actions">
                    <button
                        type="button"
                        class="secondary"
                        aria-label=format!("Edit roles of {username}")
                        aria-expanded=move || is_editing.get().to_string()
                        on:click=open_editor
                    >
                        "Edit roles"
                    </button>
                    {if active {
                        view! {
                            <ConfirmButton
                                label="Disable"
                                name=format!("Disable {username}")
                                question=format!("Disable {username}? Their sessions end at once and they cannot sign in until enabled again.")
                                confirm="Yes, disable"
                                on_confirm=Callback::new(move |()| {
                                    dispatch.run(Command::SetActive { id: uid.get_value(), username: uname.get_value(), active: false });
                                })
                            />
                        }
                            .into_any()
                    } else {
                        view! {
                            <button
                                type="button"
                                class="secondary"
                                aria-label=format!("Enable {username}")
                                on:click=move |_| {
                                    dispatch.run(Command::SetActive { id: uid.get_value(), username: uname.get_value(), active: true });
                                }
                            >
                                "Enable"
                            </button>
                        }
                            .into_any()
                    }}
                    <ConfirmButton
                        label="Reset password"
                        name=format!("Reset password of {username}")
                        question=format!("Reset the password of {username}? The old one stops working; you get a one-time password to hand over.")
                        confirm="Yes, reset password"
                        on_confirm=Callback::new(move |()| {
                            dispatch.run(Command::ResetPassword { username: uname.get_value() });
                        })
                    />
                    {totp_enrolled.then(|| view! {
                        <ConfirmButton
                            label="Reset 2FA"
                            name=format!("Reset two-step sign-in of {username}")
                            question=format!("Reset two-step sign-in of {username} (for a lost phone)? They set it up again at their next sign-in.")
                            confirm="Yes, reset 2FA"
                            on_confirm=Callback::new(move |()| {
                                dispatch.run(Command::ResetSecondFactor { id: uid.get_value(), username: uname.get_value() });
                            })
                        />
                    })}
                    {locked.then(|| view! {
                        <button
                            type="button"
                            class="secondary"
                            aria-label=format!("Unlock {username}")
                            on:click=move |_| dispatch.run(Command::Unlock { username: uname.get_value() })
                        >
                            "Unlock"
                        </button>
                    })}
                    <ConfirmButton
                        label="Sign out everywhere"
                        name=format!("Sign out {username} everywhere")
                        question=format!("End every session of {username} now?")
                        confirm="Yes, sign out"
                        on_confirm=Callback::new(move |()| {
                            dispatch.run(Command::SignOutEverywhere { username: uname.get_value() });
                        })
                    />
                </td>
            </tr>
            <Show when=move || is_editing.get()>
                <tr class="editor">
                    <td colspan="8">
                        <form aria-label=editor_title.clone() on:submit=save_roles>
                            <RoleChecks options=options.clone() chosen=edit_roles/>
                            <p class="error" role="alert">{move || roles_error.get()}</p>
                            <button type="submit" disabled=move || saving.get()>"Save roles"</button>
                            <button type="button" class="secondary" on:click=move |_| editing.set(None)>
                                "Cancel"
                            </button>
                        </form>
                    </td>
                </tr>
            </Show>
        </tbody>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::BUILTIN_ROLES;
    use healipro_core::rbac::Role;

    #[test]
    fn fallback_roles_are_core_built_in_roles() {
        let core: Vec<(&str, &str)> = Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect();
        assert_eq!(core, BUILTIN_ROLES.to_vec());
    }
}
