//! `/patients/new`: registering a patient. When someone on file may be the
//! same person (same CNIC or phone, or a very similar name, father's name and
//! age), nothing is saved: they are listed with the reason, to open one of
//! them or to register anyway (families often share a phone).

use super::super::api::RegisterPatient;
use super::super::dto::{DuplicateDto, RegistrationDto};
use super::super::NEW_PATIENT_DRAFT;
use super::form::{DraftOffer, FormError, PatientDraft, PatientFieldInputs, PatientFields};
use crate::features::drafts::hook::use_autosave;
use crate::ui::AppLayout;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

#[component]
pub fn PatientRegisterPage() -> impl IntoView {
    view! {
        <AppLayout>
            <RegisterForm/>
        </AppLayout>
    }
}

#[component]
fn RegisterForm() -> impl IntoView {
    let fields = PatientFields::new(PatientDraft::default());
    let autosave = use_autosave(NEW_PATIENT_DRAFT.to_owned());
    let register = ServerAction::<RegisterPatient>::new();
    let error = FormError::of(register.value());
    let duplicates = Signal::derive(move || match register.value().get() {
        Some(Ok(RegistrationDto::PossibleDuplicates(same))) => Some(same),
        _ => None,
    });
    let navigate = use_navigate();
    let a = autosave.clone();
    Effect::new(move |_| {
        if let Some(Ok(RegistrationDto::Registered(p))) = register.value().get() {
            // The server dropped the draft with the save; dropping it again
            // removes one an autosave may have written while the save ran.
            a.discard();
            navigate(&format!("/patients/{}", p.id), Default::default());
        }
    });
    let register_anyway = Callback::new(move |()| {
        let d = fields.draft();
        register.dispatch(RegisterPatient {
            full_name: d.full_name,
            father_or_husband_name: d.father_or_husband_name,
            sex: d.sex,
            date_of_birth: d.date_of_birth,
            age: d.age,
            cnic: d.cnic,
            phone: d.phone,
            address: d.address,
            register_anyway: true,
        });
    });
    let pending = register.pending();
    let status = autosave.status;
    let a = autosave.clone();
    view! {
        <h1>"Register patient"</h1>
        <DraftOffer autosave fields/>
        <ActionForm action=register attr:class="patient-form" on:input=move |_| fields.save_to(&a)>
            <PatientFieldInputs fields error/>
            <p class="error" role="alert">{move || error.general()}</p>
            <p class="hint" aria-live="polite">{move || status.get()}</p>
            {move || {
                duplicates
                    .get()
                    .map(|same| view! { <Duplicates same register_anyway pending/> })
            }}
            <div class="actions">
                <button type="submit" disabled=move || pending.get()>"Register"</button>
                <a href="/patients">"Cancel"</a>
            </div>
        </ActionForm>
    }
}

/// The patients on file who may be the one being registered, and why.
#[component]
fn Duplicates(
    same: Vec<DuplicateDto>,
    register_anyway: Callback<()>,
    pending: Memo<bool>,
) -> impl IntoView {
    let rows = same
        .into_iter()
        .map(|DuplicateDto { patient: p, reason }| {
            let age = p.age_label.clone();
            let open_name = format!("Open existing {} {}", p.mr_number, p.full_name);
            let guardian = (!p.father_or_husband_name.is_empty())
                .then(|| format!("Father / husband: {}", p.father_or_husband_name));
            view! {
                <tr>
                    <td class="mono">{p.mr_number}</td>
                    <td>
                        <span class="name">{p.full_name}</span>
                        <span class="detail">{guardian}</span>
                    </td>
                    <td>{age}</td>
                    <td class="mono">
                        <span class="detail">{p.cnic}</span>
                        <span class="detail">{p.phone}</span>
                    </td>
                    <td class="reason">{reason}</td>
                    <td>
                        <a class="button secondary" href=format!("/patients/{}", p.id) aria-label=open_name>
                            "Open existing"
                        </a>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="duplicates" aria-labelledby="duplicates-title">
            <div role="alert">
                <h2 id="duplicates-title">"This patient may already be registered"</h2>
            </div>
            <p>
                "Nothing was saved. Open the existing record if it is the same person; register anyway if it is someone else (family members often share a phone, and names repeat)."
            </p>
            <div class="table-scroll">
                <table class="list">
                    <thead>
                        <tr>
                            <th scope="col">"MR number"</th>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Age"</th>
                            <th scope="col">"CNIC and phone"</th>
                            <th scope="col">"Why"</th>
                            <th scope="col">
                                <span class="visually-hidden">"Open"</span>
                            </th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <button type="button" class="secondary" disabled=move || pending.get() on:click=move |_| register_anyway.run(())>
                "Register anyway"
            </button>
        </section>
    }
}
