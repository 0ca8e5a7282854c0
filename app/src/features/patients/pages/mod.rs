//! Patient list / search and the patient record page.

use super::api::{get_patient, list_patients, UpdatePatient};
use super::dto::{PatientDto, PatientPageDto};
use crate::error::AppError;
use crate::features::drafts::hook::{use_autosave, Autosave};
use crate::ui::{action_error, error_view, text, AppLayout};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use serde::{Deserialize, Serialize};

#[component]
pub fn PatientsPage() -> impl IntoView {
    let (query, set_query) = signal(String::new());
    let (page, set_page) = signal(0u32);
    let results = Resource::new(
        move || (query.get(), page.get()),
        |(q, p)| list_patients(q, p),
    );
    let navigate = use_navigate();
    // Keyboard-first: Enter opens the first result.
    let open_first = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let first = results
            .get_untracked()
            .and_then(Result::ok)
            .and_then(|p| p.patients.into_iter().next());
        if let Some(p) = first {
            navigate(&format!("/patients/{}", p.id), Default::default());
        }
    };
    view! {
        <AppLayout>
            <h1>"Patients"</h1>
            <form class="search" role="search" on:submit=open_first>
                <label for="patient-search">"Search patients"</label>
                <input
                    id="patient-search"
                    type="search"
                    placeholder="Name or MR number"
                    autocomplete="off"
                    autofocus
                    prop:value=query
                    on:input=move |ev| {
                        set_query.set(event_target_value(&ev));
                        set_page.set(0);
                    }
                />
            </form>
            <Transition fallback=|| view! { <p>{text::LOADING}</p> }>
                {move || {
                    results
                        .get()
                        .map(|r| match r {
                            Ok(found) => view! { <PatientTable found set_page/> }.into_any(),
                            Err(e) => error_view(e),
                        })
                }}
            </Transition>
        </AppLayout>
    }
}

#[component]
fn PatientTable(found: PatientPageDto, set_page: WriteSignal<u32>) -> impl IntoView {
    let PatientPageDto {
        patients,
        page,
        has_more,
    } = found;
    if patients.is_empty() {
        return view! { <p class="empty">"No patients match. Check the spelling or search by MR number."</p> }
            .into_any();
    }
    view! {
        <table class="patients">
            <thead>
                <tr>
                    <th scope="col">"MR number"</th>
                    <th scope="col">"Name"</th>
                    <th scope="col" class="wide-only">"Father / husband"</th>
                    <th scope="col">"Sex"</th>
                    <th scope="col">"Age"</th>
                </tr>
            </thead>
            <tbody>
                {patients
                    .into_iter()
                    .map(|p| {
                        view! {
                            <tr>
                                <td class="mono">{p.mr_number}</td>
                                <td>
                                    <a href=format!("/patients/{}", p.id)>{p.full_name}</a>
                                </td>
                                <td class="wide-only">{p.father_or_husband_name}</td>
                                <td>{p.sex}</td>
                                <td>{p.age_years.map(|a| a.to_string()).unwrap_or_default()}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        <div class="pager">
            <button
                type="button"
                class="secondary"
                disabled=page == 0
                on:click=move |_| set_page.update(|p| *p = p.saturating_sub(1))
            >
                "Previous"
            </button>
            <span>{format!("Page {}", page + 1)}</span>
            <button type="button" class="secondary" disabled=!has_more on:click=move |_| set_page.update(|p| *p += 1)>
                "Next"
            </button>
        </div>
    }
    .into_any()
}

#[component]
pub fn PatientPage() -> impl IntoView {
    let params = use_params_map();
    let patient = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        get_patient,
    );
    view! {
        <AppLayout>
            <Suspense fallback=|| view! { <p>{text::LOADING}</p> }>
                {move || {
                    patient
                        .get()
                        .map(|r| match r {
                            Ok(p) => view! { <PatientCard p/> }.into_any(),
                            Err(AppError::NotFound) => {
                                view! {
                                    <h1>"Patient not found"</h1>
                                    <p>
                                        "No patient with this link exists in your clinic. "
                                        <a href="/patients">"Back to patients"</a>
                                    </p>
                                }
                                    .into_any()
                            }
                            Err(e) => error_view(e),
                        })
                }}
            </Suspense>
        </AppLayout>
    }
}

#[component]
fn PatientCard(p: PatientDto) -> impl IntoView {
    view! {
        <article class="patient-card" aria-labelledby="patient-name">
            <h1 id="patient-name">{p.full_name}</h1>
            <dl>
                <dt>"MR number"</dt>
                <dd class="mono">{p.mr_number}</dd>
                <dt>"Father / husband"</dt>
                <dd>{p.father_or_husband_name}</dd>
                <dt>"Sex"</dt>
                <dd>{p.sex}</dd>
                <dt>"Date of birth"</dt>
                <dd>
                    {p.date_of_birth.unwrap_or_else(|| "Not recorded".to_owned())}
                    {p.age_years.map(|a| format!(" ({a} years)"))}
                </dd>
            </dl>
            <p class="actions">
                <a class="button" href=format!("/patients/{}/edit", p.id)>"Edit details"</a>
                <a href="/patients">"Back to patients"</a>
            </p>
        </article>
    }
}

/// What the edit form keeps in its draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct EditDraft {
    full_name: String,
    father_or_husband_name: String,
    sex: String,
    date_of_birth: String,
}

#[component]
pub fn PatientEditPage() -> impl IntoView {
    let params = use_params_map();
    let patient = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        get_patient,
    );
    view! {
        <AppLayout>
            <Suspense fallback=|| view! { <p>{text::LOADING}</p> }>
                {move || {
                    patient
                        .get()
                        .map(|r| match r {
                            Ok(p) => view! { <PatientEditForm p/> }.into_any(),
                            Err(AppError::NotFound) => view! { <h1>"Patient not found"</h1> }.into_any(),
                            Err(e) => error_view(e),
                        })
                }}
            </Suspense>
        </AppLayout>
    }
}

#[component]
fn PatientEditForm(p: PatientDto) -> impl IntoView {
    let id = p.id.clone();
    let full_name = RwSignal::new(p.full_name.clone());
    let guardian = RwSignal::new(p.father_or_husband_name.clone());
    let sex = RwSignal::new(p.sex_code.clone());
    let dob = RwSignal::new(p.date_of_birth_iso.clone());
    let autosave: Autosave = use_autosave(format!("patient-edit:{id}"));
    let current = move || EditDraft {
        full_name: full_name.get_untracked(),
        father_or_husband_name: guardian.get_untracked(),
        sex: sex.get_untracked(),
        date_of_birth: dob.get_untracked(),
    };
    let a = autosave.clone();
    let changed = move || {
        if let Ok(json) = serde_json::to_string(&current()) {
            a.changed(json);
        }
    };
    let a = autosave.clone();
    let restore = move |_| {
        if let Some(d) = a.offered.get_untracked() {
            if let Ok(draft) = serde_json::from_str::<EditDraft>(&d.payload) {
                full_name.set(draft.full_name);
                guardian.set(draft.father_or_husband_name);
                sex.set(draft.sex);
                dob.set(draft.date_of_birth);
            }
        }
        a.offered.set(None);
    };
    let a = autosave.clone();
    let discard = move |_| a.discard();
    let save = ServerAction::<UpdatePatient>::new();
    let error = action_error(save.value());
    let navigate = use_navigate();
    let a = autosave.clone();
    let back = format!("/patients/{id}");
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            a.forget_pending();
            navigate(&format!("/patients/{}", saved.id), Default::default());
        }
    });
    let offered = autosave.offered;
    let status = autosave.status;
    let on_input = {
        let changed = changed.clone();
        move |_| changed()
    };
    view! {
        <h1>{format!("Edit {}", p.full_name)}</h1>
        <p class="mono">{p.mr_number.clone()}</p>
        <Show when=move || offered.get().is_some()>
            <div class="draft-offer" role="status">
                <span>
                    {move || {
                        offered
                            .get()
                            .map(|d| format!("You have unsaved changes from {}.", d.saved_at))
                    }}
                </span>
                <button type="button" on:click=restore>"Restore draft"</button>
                <button type="button" class="secondary" on:click=discard.clone()>"Discard draft"</button>
            </div>
        </Show>
        <ActionForm action=save attr:class="edit-form" on:input=on_input>
            <input type="hidden" name="id" value=id.clone()/>
            <label for="full_name">"Full name"</label>
            <input id="full_name" name="full_name" required maxlength="200" prop:value=full_name on:input=move |ev| full_name.set(event_target_value(&ev))/>
            <label for="father_or_husband_name">"Father / husband name"</label>
            <input id="father_or_husband_name" name="father_or_husband_name" maxlength="200" prop:value=guardian on:input=move |ev| guardian.set(event_target_value(&ev))/>
            <label for="sex">"Sex"</label>
            <select id="sex" name="sex" prop:value=sex on:change=move |ev| { sex.set(event_target_value(&ev)); changed(); }>
                <option value="female">"Female"</option>
                <option value="male">"Male"</option>
                <option value="other">"Other"</option>
            </select>
            <label for="date_of_birth">"Date of birth"</label>
            <input id="date_of_birth" name="date_of_birth" type="date" prop:value=dob on:input=move |ev| dob.set(event_target_value(&ev))/>
            <p class="error" role="alert">{error}</p>
            <p class="hint" aria-live="polite">{move || status.get()}</p>
            <div class="actions">
                <button type="submit" disabled=move || save.pending().get()>"Save"</button>
                <a href=back.clone()>"Cancel"</a>
            </div>
        </ActionForm>
    }
}
