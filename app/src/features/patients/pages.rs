//! Patient list / search and the patient record page; the registration and
//! edit forms are in `register` and `edit`, their shared fields in `form`.

mod edit;
mod form;
mod register;

pub use edit::PatientEditPage;
pub use register::PatientRegisterPage;

use super::api::{get_patient, list_patients};
use super::dto::{PatientDto, PatientPageDto};
use crate::error::AppError;
use crate::features::audit::pages::PatientAccess;
use crate::ui::{error_view, text, AppLayout, CurrentUser};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};

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
            <div class="page-head">
                <h1>"Patients"</h1>
                <RegisterLink/>
            </div>
            <form class="search" role="search" on:submit=open_first>
                <label for="patient-search">"Search patients"</label>
                <input
                    id="patient-search"
                    type="search"
                    placeholder="Name, MR number, CNIC or phone"
                    aria-describedby="patient-search-hint"
                    autocomplete="off"
                    autofocus
                    prop:value=query
                    on:input=move |ev| {
                        set_query.set(event_target_value(&ev));
                        set_page.set(0);
                    }
                />
                <p class="hint" id="patient-search-hint">
                    "A CNIC or phone number finds exact matches; names match from the start."
                </p>
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

/// "Register patient", for users who may register patients (the server
/// checks anyway).
#[component]
fn RegisterLink() -> impl IntoView {
    let me = use_context::<CurrentUser>().map(|c| c.0);
    view! {
        <Suspense fallback=|| ()>
            {move || {
                me.and_then(|m| m.get())
                    .and_then(Result::ok)
                    .flatten()
                    .filter(|m| m.may("patients.write"))
                    .map(|_| view! { <a class="button" href="/patients/new">"Register patient"</a> })
            }}
        </Suspense>
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
        return view! { <p class="empty">"No patients match. Check the spelling, or search by MR number, CNIC or phone."</p> }
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
                    <th scope="col">"CNIC"</th>
                    <th scope="col">"Phone"</th>
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
                                <td class="mono">{p.cnic}</td>
                                <td class="mono">{p.phone}</td>
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
                            Ok(p) => {
                                let patient_id = p.id.clone();
                                view! {
                                    <PatientCard p/>
                                    <PatientAccess patient_id/>
                                }
                                    .into_any()
                            }
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

/// A recorded value, or "Not recorded".
fn or_not_recorded(value: String) -> String {
    if value.is_empty() {
        "Not recorded".to_owned()
    } else {
        value
    }
}

#[component]
fn PatientCard(p: PatientDto) -> impl IntoView {
    let mono = |v: &str| (!v.is_empty()).then_some("mono");
    let (cnic_class, phone_class) = (mono(&p.cnic), mono(&p.phone));
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
                <dt>"CNIC"</dt>
                <dd class=cnic_class>{or_not_recorded(p.cnic)}</dd>
                <dt>"Phone"</dt>
                <dd class=phone_class>{or_not_recorded(p.phone)}</dd>
                <dt>"Address"</dt>
                <dd class="address">{or_not_recorded(p.address)}</dd>
            </dl>
            <p class="actions">
                <a class="button" href=format!("/patients/{}/edit", p.id)>"Edit details"</a>
                <a href="/patients">"Back to patients"</a>
            </p>
        </article>
    }
}
