//! The patient form shared by registration and editing: its fields as
//! signals, what its draft keeps, and each validation error shown beside the
//! field it is about. What was typed stays in the signals when the server
//! refuses it, so a mistake loses nothing.

use super::super::dto::PatientDto;
use crate::error::AppError;
use crate::features::drafts::hook::Autosave;
use leptos::html;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the patient form keeps in its draft. Fields missing from a draft
/// saved by an older form restore as empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(super) struct PatientDraft {
    pub full_name: String,
    pub father_or_husband_name: String,
    pub sex: String,
    pub date_of_birth: String,
    pub age: String,
    pub cnic: String,
    pub phone: String,
    pub address: String,
}

/// The form's fields, named as the server functions name their arguments.
#[derive(Debug, Clone, Copy)]
pub(super) struct PatientFields {
    pub full_name: RwSignal<String>,
    pub guardian: RwSignal<String>,
    pub sex: RwSignal<String>,
    pub dob: RwSignal<String>,
    pub age: RwSignal<String>,
    pub cnic: RwSignal<String>,
    pub phone: RwSignal<String>,
    pub address: RwSignal<String>,
}

impl PatientFields {
    pub fn new(d: PatientDraft) -> Self {
        PatientFields {
            full_name: RwSignal::new(d.full_name),
            guardian: RwSignal::new(d.father_or_husband_name),
            sex: RwSignal::new(d.sex),
            dob: RwSignal::new(d.date_of_birth),
            age: RwSignal::new(d.age),
            cnic: RwSignal::new(d.cnic),
            phone: RwSignal::new(d.phone),
            address: RwSignal::new(d.address),
        }
    }

    pub fn of_patient(p: &PatientDto) -> Self {
        PatientFields::new(PatientDraft {
            full_name: p.full_name.clone(),
            father_or_husband_name: p.father_or_husband_name.clone(),
            sex: p.sex_code.clone(),
            date_of_birth: p.date_of_birth_iso.clone(),
            age: p.age_input.clone(),
            cnic: p.cnic.clone(),
            phone: p.phone.clone(),
            address: p.address.clone(),
        })
    }

    /// The values as typed (not tracked: for drafts and submissions).
    pub fn draft(self) -> PatientDraft {
        PatientDraft {
            full_name: self.full_name.get_untracked(),
            father_or_husband_name: self.guardian.get_untracked(),
            sex: self.sex.get_untracked(),
            date_of_birth: self.dob.get_untracked(),
            age: self.age.get_untracked(),
            cnic: self.cnic.get_untracked(),
            phone: self.phone.get_untracked(),
            address: self.address.get_untracked(),
        }
    }

    pub fn restore(self, d: PatientDraft) {
        self.full_name.set(d.full_name);
        self.guardian.set(d.father_or_husband_name);
        self.sex.set(d.sex);
        self.dob.set(d.date_of_birth);
        self.age.set(d.age);
        self.cnic.set(d.cnic);
        self.phone.set(d.phone);
        self.address.set(d.address);
    }

    /// Records the current values in the draft (call on every edit).
    pub fn save_to(self, autosave: &Autosave) {
        if let Ok(json) = serde_json::to_string(&self.draft()) {
            autosave.changed(json);
        }
    }
}

/// The fields the form shows: a validation error about one of them is shown
/// beside it, any other error in the form's alert line.
const FIELDS: [&str; 8] = [
    "full_name",
    "father_or_husband_name",
    "sex",
    "date_of_birth",
    "age",
    "cnic",
    "phone",
    "address",
];

/// The last error of the form's server action.
#[derive(Clone, Copy)]
pub(super) struct FormError(Signal<Option<AppError>>);

impl FormError {
    pub fn of<T, S>(value: S) -> Self
    where
        T: Clone + Send + Sync + 'static,
        S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
    {
        FormError(Signal::derive(move || value.get().and_then(Result::err)))
    }

    /// The message about `field`, if the last error is about it.
    fn field(self, field: &str) -> Option<String> {
        match self.0.get() {
            Some(AppError::Validation { field: f, message }) if f == field => Some(message),
            _ => None,
        }
    }

    /// The message no field shows (the session ended, the server is down…).
    pub fn general(self) -> Option<String> {
        match self.0.get()? {
            AppError::Validation { field, .. } if FIELDS.contains(&field.as_str()) => None,
            other => Some(other.to_string()),
        }
    }
}

/// A text input with its label and the error about it.
#[component]
fn TextField(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    error: FormError,
    node_ref: NodeRef<html::Input>,
    /// An example of the expected format.
    #[prop(optional)]
    placeholder: Option<&'static str>,
    #[prop(optional)] inputmode: Option<&'static str>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                name=id
                type=kind
                node_ref=node_ref
                maxlength="200"
                autocomplete="off"
                required=required
                placeholder=placeholder
                inputmode=inputmode
                aria-describedby=format!("{id}-error")
                aria-invalid=move || error.field(id).map(|_| "true")
                prop:value=value
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            <p class="field-error" id=format!("{id}-error")>{move || error.field(id)}</p>
        </div>
    }
}

/// The sex choice; `selected` on the options as well as the select's value,
/// so the right option shows however the select is created.
#[component]
fn SexField(
    value: RwSignal<String>,
    error: FormError,
    node_ref: NodeRef<html::Select>,
) -> impl IntoView {
    let option = move |code: &'static str, label: &'static str| {
        view! { <option value=code selected=move || value.get() == code>{label}</option> }
    };
    view! {
        <div class="field">
            <label for="sex">"Sex"</label>
            <select
                id="sex"
                name="sex"
                required
                node_ref=node_ref
                aria-describedby="sex-error"
                aria-invalid=move || error.field("sex").map(|_| "true")
                prop:value=value
                on:input=move |ev| value.set(event_target_value(&ev))
            >
                <option value="" disabled selected=move || value.get().is_empty()>"Choose…"</option>
                {option("female", "Female")}
                {option("male", "Male")}
                {option("other", "Other")}
            </select>
            <p class="field-error" id="sex-error">{move || error.field("sex")}</p>
        </div>
    }
}

#[component]
fn AddressField(
    value: RwSignal<String>,
    error: FormError,
    node_ref: NodeRef<html::Textarea>,
) -> impl IntoView {
    view! {
        <div class="field wide">
            <label for="address">"Address"</label>
            <textarea
                id="address"
                name="address"
                rows="3"
                autocomplete="off"
                node_ref=node_ref
                aria-describedby="address-error"
                aria-invalid=move || error.field("address").map(|_| "true")
                prop:value=value
                on:input=move |ev| value.set(event_target_value(&ev))
            ></textarea>
            <p class="field-error" id="address-error">{move || error.field("address")}</p>
        </div>
    }
}

/// The patient's demographics and identifiers. The first field takes the
/// focus when the form opens; a refused field takes it after a save.
#[component]
pub(super) fn PatientFieldInputs(fields: PatientFields, error: FormError) -> impl IntoView {
    let name_ref = NodeRef::<html::Input>::new();
    let guardian_ref = NodeRef::<html::Input>::new();
    let sex_ref = NodeRef::<html::Select>::new();
    let dob_ref = NodeRef::<html::Input>::new();
    let age_ref = NodeRef::<html::Input>::new();
    let cnic_ref = NodeRef::<html::Input>::new();
    let phone_ref = NodeRef::<html::Input>::new();
    let address_ref = NodeRef::<html::Textarea>::new();
    Effect::new(move |_| {
        if let Some(el) = name_ref.get() {
            let _ = el.focus();
        }
    });
    Effect::new(move |_| {
        let Some(AppError::Validation { field, .. }) = error.0.get() else {
            return;
        };
        let _ = match field.as_str() {
            "full_name" => name_ref.get_untracked().map(|e| e.focus()),
            "father_or_husband_name" => guardian_ref.get_untracked().map(|e| e.focus()),
            "sex" => sex_ref.get_untracked().map(|e| e.focus()),
            "date_of_birth" => dob_ref.get_untracked().map(|e| e.focus()),
            "age" => age_ref.get_untracked().map(|e| e.focus()),
            "cnic" => cnic_ref.get_untracked().map(|e| e.focus()),
            "phone" => phone_ref.get_untracked().map(|e| e.focus()),
            "address" => address_ref.get_untracked().map(|e| e.focus()),
            _ => None,
        };
    });
    view! {
        <div class="fields">
            <TextField id="full_name" label="Full name" value=fields.full_name error node_ref=name_ref required=true/>
            <TextField
                id="father_or_husband_name"
                label="Father / husband name"
                value=fields.guardian
                error
                node_ref=guardian_ref
            />
            <SexField value=fields.sex error node_ref=sex_ref/>
            <TextField id="date_of_birth" label="Date of birth" value=fields.dob error node_ref=dob_ref kind="date"/>
            <TextField
                id="age"
                label="or age, if the date is not known"
                value=fields.age
                error
                node_ref=age_ref
                placeholder="34, or 8m for a baby"
            />
            <TextField
                id="cnic"
                label="CNIC"
                value=fields.cnic
                error
                node_ref=cnic_ref
                placeholder="35202-1234567-1"
                inputmode="numeric"
            />
            <TextField
                id="phone"
                label="Phone"
                value=fields.phone
                error
                node_ref=phone_ref
                placeholder="0300-1234567"
                kind="tel"
            />
            <AddressField value=fields.address error node_ref=address_ref/>
        </div>
    }
}

/// Offers back a draft found when the form opened.
#[component]
pub(super) fn DraftOffer(autosave: Autosave, fields: PatientFields) -> impl IntoView {
    let offered = autosave.offered;
    let restore = move |_| {
        if let Some(d) = offered.get_untracked() {
            if let Ok(draft) = serde_json::from_str::<PatientDraft>(&d.payload) {
                fields.restore(draft);
            }
        }
        offered.set(None);
    };
    let discard = move |_| autosave.discard();
    view! {
        <Show when=move || offered.get().is_some()>
            <div class="draft-offer" role="status">
                <span>
                    {move || {
                        offered.get().map(|d| format!("You have unsaved changes from {}.", d.saved_at))
                    }}
                </span>
                <button type="button" on:click=restore>"Restore draft"</button>
                <button type="button" class="secondary" on:click=discard.clone()>"Discard draft"</button>
            </div>
        </Show>
    }
}
