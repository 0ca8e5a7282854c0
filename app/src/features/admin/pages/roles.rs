//! `/admin/roles`: built-in roles (read-only), custom roles (hospital plan:
//! create, edit, delete), and the matrix of which role may do what.

use super::{AdminNav, ConfirmButton};
use crate::error::AppError;
use crate::features::admin::api::{delete_role, list_roles, save_role, RoleDto, RolesDto};
use crate::ui::{error_view, text, AppLayout};
use leptos::prelude::*;

/// Saves the custom-role form: (id, name, comma-separated permissions) →
/// the saved role's name.
type SaveRoleAction = Action<(String, String, String), Result<String, AppError>>;

/// The custom-role form: empty `id` creates a role.
#[derive(Debug, Clone, Copy)]
struct RoleForm {
    id: RwSignal<String>,
    name: RwSignal<String>,
    permissions: RwSignal<Vec<String>>,
}

impl RoleForm {
    fn load(self, role: Option<&RoleDto>) {
        // Custom role keys are `role:<uuid>`; the server wants the uuid.
        let id = role
            .and_then(|r| r.key.strip_prefix("role:"))
            .unwrap_or_default();
        self.id.set(id.to_owned());
        self.name
            .set(role.map(|r| r.name.clone()).unwrap_or_default());
        self.permissions
            .set(role.map(|r| r.permissions.clone()).unwrap_or_default());
    }
}

#[component]
pub fn RolesPage() -> impl IntoView {
    let form = RoleForm {
        id: RwSignal::new(String::new()),
        name: RwSignal::new(String::new()),
        permissions: RwSignal::new(Vec::new()),
    };
    let save = Action::new(move |(id, name, permissions): &(String, String, String)| {
        let (id, name, permissions) = (id.clone(), name.clone(), permissions.clone());
        async move {
            save_role(id, name.clone(), permissions).await?;
            form.load(None);
            Ok::<_, AppError>(name)
        }
    });
    let delete = Action::new(|id: &String| delete_role(id.clone()));
    let roles = Resource::new(
        move || (save.version().get(), delete.version().get()),
        |_| list_roles(),
    );
    let saved = move || {
        save.value()
            .get()
            .and_then(Result::ok)
            .map(|name| format!("Role “{name}” saved."))
    };
    // A refused delete stays on screen only until the next save.
    Effect::new(move |_| {
        if save.version().get() > 0 {
            delete.value().set(None);
        }
    });
    let delete_error = move || {
        delete
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    };
    view! {
        <AppLayout>
            <AdminNav/>
            <h1>"Roles"</h1>
            <p class="hint">
                "A user may hold several roles and may do what any of them allows. Built-in roles cannot be changed."
            </p>
            <Transition fallback=|| view! { <p>{text::LOADING}</p> }>
                {move || {
                    roles
                        .get()
                        .map(|r| match r {
                            Ok(dto) => view! { <RolesView dto form save delete/> }.into_any(),
                            Err(e) => error_view(e),
                        })
                }}
            </Transition>
            <p class="notice" role="status">{saved}</p>
            <p class="error" role="alert">{delete_error}</p>
        </AppLayout>
    }
}

#[component]
fn RolesView(
    dto: RolesDto,
    form: RoleForm,
    save: SaveRoleAction,
    delete: Action<String, Result<(), AppError>>,
) -> impl IntoView {
    let RolesDto {
        custom_allowed,
        roles,
        permissions,
    } = dto;
    let matrix = view! { <RoleMatrix roles=roles.clone() permissions=permissions.clone()/> };
    let rows = roles
        .into_iter()
        .map(|role| {
            // Custom role keys are `role:<uuid>`; the server wants the uuid.
            let id = role.key.strip_prefix("role:").unwrap_or_default().to_owned();
            let name = role.name.clone();
            let editable = custom_allowed && !role.builtin;
            let for_edit = StoredValue::new(role.clone());
            view! {
                <tr>
                    <th scope="row">{role.name.clone()}</th>
                    <td>{if role.builtin { "Built-in" } else { "Custom" }}</td>
                    <td>
                        {if role.holders.is_empty() {
                            "Nobody".to_owned()
                        } else {
                            role.holders.join(", ")
                        }}
                    </td>
                    <td class="actions">
                        {editable
                            .then(|| {
                                view! {
                                    <button
                                        type="button"
                                        class="secondary"
                                        aria-label=format!("Edit role {name}")
                                        on:click=move |_| form.load(Some(&for_edit.get_value()))
                                    >
                                        "Edit"
                                    </button>
                                    <ConfirmButton
                                        label="Delete"
                                        name=format!("Delete role {name}")
                                        question=format!("Delete the role “{name}”? Only a role nobody holds can be deleted.")
                                        confirm="Yes, delete"
                                        on_confirm=Callback::new(move |()| {
                                            delete.dispatch(id.clone());
                                        })
                                    />
                                }
                            })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="roles-title">
            <h2 id="roles-title">"Roles of this clinic"</h2>
            <div class="table-scroll">
                <table class="list" aria-label="Roles">
                    <thead>
                        <tr>
                            <th scope="col">"Role"</th>
                            <th scope="col">"Kind"</th>
                            <th scope="col">"Held by"</th>
                            <th scope="col">"Actions"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
        {if custom_allowed {
            view! { <RoleEditor permissions form save/> }.into_any()
        } else {
            view! {
                <p class="notice">
                    "Custom roles are part of the hospital plan. On this plan, give each user one or more of the built-in roles."
                </p>
            }
                .into_any()
        }}
        <section aria-labelledby="matrix-title">
            <h2 id="matrix-title">"Who may do what"</h2>
            {matrix}
        </section>
    }
}

/// Creates or edits a custom role: a name and its permissions.
#[component]
fn RoleEditor(
    permissions: Vec<(String, String)>,
    form: RoleForm,
    save: SaveRoleAction,
) -> impl IntoView {
    let error = move || {
        save.value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch((
            form.id.get_untracked(),
            form.name.get_untracked(),
            form.permissions.get_untracked().join(","),
        ));
    };
    let title = move || {
        if form.id.read().is_empty() {
            "New custom role".to_owned()
        } else {
            format!("Edit role “{}”", form.name.read())
        }
    };
    view! {
        <section aria-labelledby="role-form-title">
            <h2 id="role-form-title">{title}</h2>
            <form class="inline-form" aria-labelledby="role-form-title" on:submit=submit>
                <label for="role-name">"Role name"</label>
                <input
                    id="role-name"
                    required
                    maxlength="60"
                    autocomplete="off"
                    prop:value=form.name
                    on:input=move |ev| form.name.set(event_target_value(&ev))
                />
                <fieldset class="checks">
                    <legend>"Permissions"</legend>
                    {permissions
                        .into_iter()
                        .map(|(name, label)| {
                            let n = name.clone();
                            view! {
                                <label class="check">
                                    <input
                                        type="checkbox"
                                        prop:checked=move || form.permissions.read().contains(&n)
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            form.permissions
                                                .update(|p| {
                                                    p.retain(|x| *x != name);
                                                    if on {
                                                        p.push(name.clone());
                                                    }
                                                });
                                        }
                                    />
                                    {label}
                                </label>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <p class="error" role="alert">{error}</p>
                <button type="submit" disabled=move || save.pending().get()>"Save role"</button>
                <Show when=move || !form.id.read().is_empty()>
                    <button type="button" class="secondary" on:click=move |_| form.load(None)>
                        "Cancel editing"
                    </button>
                </Show>
            </form>
        </section>
    }
}

/// Roles (columns) × permissions (rows), built-in and custom.
#[component]
fn RoleMatrix(roles: Vec<RoleDto>, permissions: Vec<(String, String)>) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table id="role-matrix" class="list matrix" aria-label="Permissions of each role">
                <thead>
                    <tr>
                        <th scope="col">"Permission"</th>
                        {roles.iter().map(|r| view! { <th scope="col">{r.name.clone()}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {permissions
                        .into_iter()
                        .map(|(name, label)| {
                            view! {
                                <tr>
                                    <th scope="row">
                                        {label}
                                        <span class="perm-name mono">{name.clone()}</span>
                                    </th>
                                    {roles
                                        .iter()
                                        .map(|r| {
                                            let yes = r.permissions.contains(&name);
                                            view! {
                                                <td class="mark">
                                                    {yes.then(|| view! { <span role="img" aria-label="allowed">"✔"</span> })}
                                                </td>
                                            }
                                        })
                                        .collect_view()}
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
