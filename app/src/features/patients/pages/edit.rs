//! `/patients/:id/edit`: a patient's demographics and identifiers, autosaved
//! as a draft while typed.

use super::super::api::{get_patient, UpdatePatient};
use super::super::dto::PatientDto;
use super::form::{DraftOffer, FormError, PatientFieldInputs, PatientFields};
use crate::error::AppError;
use crate::features::drafts::hook::use_autosave;
use crate::ui::{error_view, text, AppLayout};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};

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
    let fields = PatientFields::of_patient(&p);
    let autosave = use_autosave(format!("patient-edit:{id}"));
    let save = ServerAction::<UpdatePatient>::new();
    let error = FormError::of(save.value());
    let navigate = use_navigate();
    let a = autosave.clone();
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            // The server dropped the draft with the save; dropping it again
            // removes one an autosave may have written while the save ran.
            a.discard();
            navigate(&format!("/patients/{}", saved.id), Default::default());
        }
    });
    let status = autosave.status;
    let a = autosave.clone();
    let back = format!("/patients/{id}");
    view! {
        <h1>{format!("Edit {}", p.full_name)}</h1>
        <p class="mono">{p.mr_number}</p>
        <DraftOffer autosave fields/>
        <ActionForm action=save attr:class="patient-form" on:input=move |_| fields.save_to(&a)>
            <input type="hidden" name="id" value=id/>
            <PatientFieldInputs fields error/>
            <p class="error" role="alert">{move || error.general()}</p>
            <p class="hint" aria-live="polite">{move || status.get()}</p>
            <div class="actions">
                <button type="submit" disabled=move || save.pending().get()>"Save"</button>
                <a href=back>"Cancel"</a>
            </div>
        </ActionForm>
    }
}
