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
use std::time::Duration;

/// Quiet time after the last keystroke before the box searches.
const SEARCH_AFTER: Duration = Duration::from_millis(250);

/// The row the arrow keys have reached, as an element id (the box's
/// `aria-activedescendant`).
fn result_row_id(index: usize) -> String {
    format!("patient-result-{index}")
}

/// Moves a highlight through `count` rows by `step` (±1), wrapping at both
/// ends; nothing highlighted starts at the first row (down) or the last (up).
fn step_highlight(current: Option<usize>, count: usize, step: isize) -> Option<usize> {
    if count == 0 {
        return None;
    }
    Some(match (current, step > 0) {
        (None, true) => 0,
        (None, false) => count - 1,
        (Some(i), true) => (i + 1) % count,
        (Some(i), false) => (i + count - 1) % count,
    })
}

/// What the list shows: the search text it answers (so the page knows whether
/// the rows are for what is in the box now) and the page of patients.
type Found = (String, Result<PatientPageDto, AppError>);

#[component]
pub fn PatientsPage() -> impl IntoView {
    // What is in the box, and the search last sent for it (text, page): the
    // box searches once typing pauses, not on every keystroke.
    let typed = RwSignal::new(String::new());
    let request = RwSignal::new((String::new(), 0u32));
    // Each keystroke bumps the generation; a pause timer whose generation is
    // no longer current does nothing, so only the latest text is searched.
    // (The resource drops a response overtaken by a newer request, too.)
    let generation = RwSignal::new(0u64);
    let results: Resource<Found> = Resource::new(
        move || request.get(),
        |(q, p)| async move {
            let found = list_patients(q.clone(), p).await;
            (q, found)
        },
    );
    let highlight = RwSignal::new(None::<usize>);
    // Enter was pressed before the rows for the latest text arrived.
    let open_when_ready = RwSignal::new(false);

    let search_now = move || {
        generation.update(|g| *g += 1);
        let text = typed.get_untracked();
        if request.with_untracked(|(q, p)| *q != text || *p != 0) {
            request.set((text, 0));
        }
    };
    let on_input = move |ev: leptos::ev::Event| {
        typed.set(event_target_value(&ev));
        highlight.set(None);
        open_when_ready.set(false);
        generation.update(|g| *g += 1);
        let current = generation.get_untracked();
        set_timeout(
            move || {
                if generation.try_get_untracked() == Some(current) {
                    search_now();
                }
            },
            SEARCH_AFTER,
        );
    };
    let shown = move || {
        results
            .get_untracked()
            .and_then(|(q, r)| r.ok().map(|found| (q, found.patients)))
    };
    let navigate = use_navigate();
    let open = move |p: &PatientDto| navigate(&format!("/patients/{}", p.id), Default::default());
    // New rows: the highlight belonged to the old ones. And if Enter is
    // waiting for them, open the first.
    let open_ready = open.clone();
    Effect::new(move |_| {
        let Some((q, r)) = results.get() else { return };
        highlight.set(None);
        if open_when_ready.get_untracked() && q == typed.get_untracked() {
            open_when_ready.set(false);
            if let Some(first) = r.ok().and_then(|found| found.patients.into_iter().next()) {
                open_ready(&first);
            }
        }
    });
    // Enter: the highlighted row, else the first row for what is typed (when
    // it arrives, if the search is still under way).
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some((q, patients)) = shown() else {
            open_when_ready.set(true);
            search_now();
            return;
        };
        if let Some(p) = highlight.get_untracked().and_then(|i| patients.get(i)) {
            open(p);
        } else if q == typed.get_untracked() {
            if let Some(first) = patients.first() {
                open(first);
            }
        } else {
            open_when_ready.set(true);
            search_now();
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let step = match ev.key().as_str() {
            "ArrowDown" => 1,
            "ArrowUp" => -1,
            "Escape" => {
                ev.prevent_default();
                typed.set(String::new());
                highlight.set(None);
                open_when_ready.set(false);
                search_now();
                return;
            }
            _ => return,
        };
        ev.prevent_default();
        let count = shown().map_or(0, |(_, patients)| patients.len());
        let next = step_highlight(highlight.get_untracked(), count, step);
        highlight.set(next);
        if let Some(row) = next.and_then(|i| document().get_element_by_id(&result_row_id(i))) {
            row.scroll_into_view_with_bool(false);
        }
    };
    let set_page = move |page: u32| request.update(|(_, p)| *p = page);
    view! {
        <AppLayout>
            <div class="page-head">
                <h1>"Patients"</h1>
                <RegisterLink/>
            </div>
            <form class="search" role="search" on:submit=on_submit>
                <label for="patient-search">"Search patients"</label>
                <input
                    id="patient-search"
                    type="search"
                    placeholder="Name, MR number, CNIC or phone"
                    aria-describedby="patient-search-hint"
                    aria-controls="patient-results"
                    aria-activedescendant=move || highlight.get().map(result_row_id)
                    autocomplete="off"
                    autofocus
                    prop:value=typed
                    on:input=on_input
                    on:keydown=on_keydown
                />
                <p class="hint" id="patient-search-hint">
                    "A CNIC or phone number finds exact matches; names are found even when spelt differently. "
                    "Down and Up arrows choose a patient, Enter opens, Escape clears."
                </p>
            </form>
            <Transition fallback=|| view! { <p>{text::LOADING}</p> }>
                {move || {
                    results
                        .get()
                        .map(|(_, r)| match r {
                            Ok(found) => view! { <PatientTable found highlight set_page/> }.into_any(),
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
fn PatientTable(
    found: PatientPageDto,
    highlight: RwSignal<Option<usize>>,
    set_page: impl Fn(u32) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let PatientPageDto {
        patients,
        page,
        has_more,
    } = found;
    if patients.is_empty() {
        return view! { <p class="empty">"No patients match. Check the spelling, or search by MR number, CNIC or phone."</p> }
            .into_any();
    }
    let names: Vec<String> = patients
        .iter()
        .map(|p| format!("{}, {}", p.full_name, p.mr_number))
        .collect();
    view! {
        <p class="visually-hidden" role="status">
            {move || {
                highlight
                    .get()
                    .and_then(|i| names.get(i))
                    .map(|n| format!("{n} chosen; Enter opens the record."))
            }}
        </p>
        <table class="patients" id="patient-results">
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
                    .enumerate()
                    .map(|(i, p)| {
                        let chosen = move || highlight.get() == Some(i);
                        view! {
                            <tr
                                id=result_row_id(i)
                                class:highlighted=chosen
                                aria-current=move || chosen().then_some("true")
                            >
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
                on:click=move |_| set_page(page.saturating_sub(1))
            >
                "Previous"
            </button>
            <span>{format!("Page {}", page + 1)}</span>
            <button type="button" class="secondary" disabled=!has_more on:click=move |_| set_page(page + 1)>
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
                    {match (p.date_of_birth, p.age_label) {
                        (Some(d), Some(a)) => format!("{d} ({a})"),
                        (None, Some(a)) if p.age_estimated => format!("Not known (about {a})"),
                        _ => "Not recorded".to_owned(),
                    }}
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

#[cfg(test)]
mod tests {
    use super::step_highlight;

    #[test]
    fn arrows_wrap_through_the_rows() {
        // (current, rows, step) → highlighted row
        let cases = [
            (None, 3, 1, Some(0)),
            (None, 3, -1, Some(2)),
            (Some(0), 3, 1, Some(1)),
            (Some(2), 3, 1, Some(0)),
            (Some(0), 3, -1, Some(2)),
            (Some(1), 3, -1, Some(0)),
            (Some(0), 1, 1, Some(0)),
            (None, 0, 1, None),
            (Some(4), 0, -1, None),
        ];
        for (current, count, step, want) in cases {
            assert_eq!(
                step_highlight(current, count, step),
                want,
                "{current:?} of {count}, step {step}"
            );
        }
    }
}
