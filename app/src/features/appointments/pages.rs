//! `/appointments`: the day view per doctor (actions on each row), the
//! booking panel (doctor, date, free slot, patient) and walk-ins with their
//! token. `/appointments/queue`: a doctor's token queue with "Call next".
//! Both refresh every few seconds so the desk sees the live status; rows are
//! keyed so a refresh keeps the keyboard focus where it was.

use super::api::{
    add_exception, book, call_next, change_status, day_list, doctor_hours, list_doctors,
    list_exceptions, patients_seen, reschedule, set_hours, slots, walk_in, withdraw_exception,
};
use super::dto::{AppointmentDto, DayDto, DoctorDto, ExceptionDto, HoursDto, SlotDto};
use super::text;
use crate::error::AppError;
use crate::features::patients::api::list_patients;
use crate::ui::{error_view, AppLayout, CurrentUser};
use leptos::prelude::*;

/// Whether the signed-in user holds `permission` (hiding is convenience;
/// the server checks). Only inside [`AppLayout`], which provides the user.
fn may(permission: &'static str) -> impl Fn() -> bool + Copy + Send + Sync + 'static {
    let me = use_context::<CurrentUser>().map(|c| c.0);
    move || {
        me.and_then(|m| m.get())
            .and_then(Result::ok)
            .flatten()
            .is_some_and(|m| m.may(permission))
    }
}

/// How often the day view and the queue ask for news.
const POLL: std::time::Duration = std::time::Duration::from_secs(5);

/// A counter that goes up every [`POLL`] in the browser (effects do not run
/// on the server); resources that read it refetch.
fn poll_tick() -> RwSignal<u32> {
    let tick = RwSignal::new(0u32);
    Effect::new(move |_| {
        let handle = set_interval_with_handle(move || tick.update(|t| *t += 1), POLL).ok();
        on_cleanup(move || {
            if let Some(h) = handle {
                h.clear();
            }
        });
    });
    tick
}

/// Arrow keys move between the enabled buttons of a group (slot pickers).
fn arrow_keys(ev: leptos::ev::KeyboardEvent) {
    use leptos::wasm_bindgen::JsCast;
    let forward = match ev.key().as_str() {
        "ArrowRight" | "ArrowDown" => true,
        "ArrowLeft" | "ArrowUp" => false,
        _ => return,
    };
    let Some(current) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    else {
        return;
    };
    let mut next = if forward {
        current.next_element_sibling()
    } else {
        current.previous_element_sibling()
    };
    while let Some(el) = next {
        if !el.has_attribute("disabled") {
            if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
                ev.prevent_default();
                let _ = el.focus();
            }
            return;
        }
        next = if forward {
            el.next_element_sibling()
        } else {
            el.previous_element_sibling()
        };
    }
}

fn doctor_options(doctors: Option<Result<Vec<DoctorDto>, AppError>>) -> Vec<DoctorDto> {
    doctors.and_then(Result::ok).unwrap_or_default()
}

/// The queue's doctor when none is picked: the signed-in doctor, else the
/// first listed ("" when there are none).
fn default_doctor(list: &[DoctorDto]) -> String {
    list.iter()
        .find(|d| d.me)
        .or(list.first())
        .map(|d| d.id.clone())
        .unwrap_or_default()
}

/// A done message as a status line, a refusal as an alert.
fn outcome_view(m: Result<String, String>) -> AnyView {
    match m {
        Ok(m) => view! { <p class="ok" role="status">{m}</p> }.into_any(),
        Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
    }
}

fn token_text(a: &AppointmentDto) -> String {
    a.token.map(|t| t.to_string()).unwrap_or_default()
}

/// A row's identity for keyed lists: a changed row (status, token or a
/// rescheduled time) is drawn anew, an unchanged one keeps its DOM (and
/// focus).
fn row_key(a: &AppointmentDto) -> (String, String, Option<i32>, Option<String>) {
    (a.id.clone(), a.status.clone(), a.token, a.time.clone())
}

/// Opens the browser's print dialog (the print stylesheet hides the
/// navigation and the controls).
fn print_page(_: leptos::ev::MouseEvent) {
    if let Ok(w) = leptos::prelude::window().print() {
        let () = w;
    }
}

/// One doctor's slots on a day as buttons (arrow keys move between the free
/// ones); `chosen` holds the pressed one.
fn slot_buttons(list: Vec<SlotDto>, chosen: RwSignal<Option<SlotDto>>) -> AnyView {
    view! {
        <div class="slot-list" role="group" aria-label="Slots" on:keydown=arrow_keys>
            {list
                .into_iter()
                .map(|s| {
                    let label = if s.taken { format!("{} (taken)", s.time) } else { s.time.clone() };
                    let at = s.starts_at.clone();
                    let pressed = move || chosen.get().is_some_and(|c| c.starts_at == at);
                    let taken = s.taken;
                    view! {
                        <button
                            type="button"
                            class="slot"
                            disabled=taken
                            aria-pressed=move || pressed().to_string()
                            on:click=move |_| chosen.set(Some(s.clone()))
                        >
                            {label}
                        </button>
                    }
                })
                .collect_view()}
        </div>
    }
    .into_any()
}

/// One status change from a row: (appointment id, status, note).
type StatusChange = (String, String, String);

#[component]
pub fn AppointmentsPage() -> impl IntoView {
    view! {
        <AppLayout>
            <AppointmentsBody/>
        </AppLayout>
    }
}

#[component]
fn AppointmentsBody() -> impl IntoView {
    let doctors = Resource::new(|| (), |()| list_doctors());
    let view_day = RwSignal::new(String::new());
    let view_doctor = RwSignal::new(String::new());
    let changed = RwSignal::new(0u32);
    let tick = poll_tick();
    let day = Resource::new(
        move || (view_day.get(), view_doctor.get(), changed.get(), tick.get()),
        |(d, doc, _, _)| day_list(d, doc),
    );
    let status = Action::new(|(id, s, note): &StatusChange| {
        change_status(id.clone(), s.clone(), note.clone())
    });
    let cancelling = RwSignal::new(None::<String>);
    let reason = RwSignal::new(String::new());
    let status_error = RwSignal::new(None::<String>);
    Effect::new(move |_| match status.value().get() {
        Some(Ok(_)) => {
            status_error.set(None);
            cancelling.set(None);
            reason.set(String::new());
            changed.update(|c| *c += 1);
        }
        Some(Err(e)) => status_error.set(Some(e.to_string())),
        None => {}
    });
    let may_manage = may("schedules.manage");
    let rows = move || {
        day.get()
            .and_then(Result::ok)
            .map(|d| d.appointments)
            .unwrap_or_default()
    };
    let rescheduling = RwSignal::new(None::<String>);
    // Made here, not inside the Suspense below that shows them: resources
    // must be created in the same order on the server and in the browser.
    let ahead = Resource::new(
        move || changed.get(),
        |_| list_exceptions(String::new(), String::new()),
    );
    let hours_doctor = RwSignal::new(String::new());
    let current_hours = Resource::new(
        move || hours_doctor.get(),
        |d| async move {
            if d.is_empty() {
                return Ok((d, Vec::new()));
            }
            let hours = doctor_hours(d.clone()).await?;
            Ok::<_, AppError>((d, hours))
        },
    );
    view! {
        <div class="page-head">
            <h1>{text::TITLE}</h1>
            <a href="/appointments/queue" class="no-print">"Today's queue"</a>
            <a href="/appointments/day" class="no-print">{text::DAY_SHEET_TITLE}</a>
            <a href="/appointments/report" class="no-print">{text::REPORT_TITLE}</a>
            <button type="button" class="secondary no-print" on:click=print_page>"Print"</button>
        </div>
        <DayFilters id_prefix="day-view" view_day view_doctor day doctors/>
        {move || status_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        <Transition fallback=|| view! { <p>{crate::ui::text::LOADING}</p> }>
            {move || match day.get() {
                Some(Err(e)) => Some(error_view(e)),
                Some(Ok(d)) if d.appointments.is_empty() => {
                    Some(view! { <p class="empty">{text::NO_APPOINTMENTS}</p> }.into_any())
                }
                _ => None,
            }}
            <table class="appointments" aria-label="Appointments of the day">
                <thead>
                    <tr>
                        <th scope="col">"Time"</th>
                        <th scope="col">"Token"</th>
                        <th scope="col">"Patient"</th>
                        <th scope="col">"MR number"</th>
                        <th scope="col">"Doctor"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col" class="no-print">"Actions"</th>
                    </tr>
                </thead>
                <tbody>
                    <For each=rows key=row_key let:a>
                        <AppointmentRow a status cancelling reason rescheduling changed/>
                    </For>
                </tbody>
            </table>
        </Transition>
        <BookPanel doctors changed/>
        // Read inside Suspense, as the user loads: server and browser agree.
        <Suspense fallback=|| ()>
            {move || {
                let manage = may_manage();
                view! {
                    <LeaveSection doctors changed ahead manage/>
                    {manage.then(|| view! { <HoursForm doctors changed hours_doctor current_hours/> })}
                }
            }}
        </Suspense>
    }
}

#[component]
fn AppointmentRow(
    a: AppointmentDto,
    status: Action<StatusChange, Result<AppointmentDto, AppError>>,
    cancelling: RwSignal<Option<String>>,
    reason: RwSignal<String>,
    rescheduling: RwSignal<Option<String>>,
    changed: RwSignal<u32>,
) -> impl IntoView {
    let id = a.id.clone();
    let go = move |s: &'static str| {
        let id = id.clone();
        move |_| {
            status.dispatch((id.clone(), s.to_owned(), String::new()));
        }
    };
    let row_id = a.id.clone();
    let is_cancelling = move || cancelling.get().as_deref() == Some(row_id.as_str());
    let open_cancel = {
        let id = a.id.clone();
        move |_| {
            reason.set(String::new());
            cancelling.set(Some(id.clone()));
        }
    };
    let confirm_cancel = {
        let id = a.id.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            status.dispatch((id.clone(), "cancelled".to_owned(), reason.get_untracked()));
        }
    };
    let who = format!("{} ({})", a.patient_name, a.mr_number);
    let (arrive_label, no_show_label, cancel_label, done_label, move_label) = (
        format!("Arrived: {who}"),
        format!("No-show: {who}"),
        format!("Cancel: {who}"),
        format!("Done: {who}"),
        format!("Reschedule: {who}"),
    );
    let move_id = a.id.clone();
    let is_moving = move || rescheduling.get().as_deref() == Some(move_id.as_str());
    let open_move = {
        let id = a.id.clone();
        move |_| rescheduling.set(Some(id.clone()))
    };
    let moving = a.clone();
    view! {
        <tr class=format!("status-{}", a.status)>
            <td class="mono">{a.time.clone().unwrap_or_else(|| "walk-in".to_owned())}</td>
            <td class="token">{token_text(&a)}</td>
            <td>{a.patient_name.clone()}</td>
            <td class="mono">{a.mr_number.clone()}</td>
            <td>{a.doctor_name.clone()}</td>
            <td>
                {a.status_label.clone()}
                {(!a.cancel_reason.is_empty()).then(|| format!(" — {}", a.cancel_reason))}
            </td>
            <td class="actions no-print">
                {a.can_arrive.then(|| view! { <button type="button" aria-label=arrive_label on:click=go("arrived")>"Arrived"</button> })}
                {a.can_no_show.then(|| view! { <button type="button" class="secondary" aria-label=no_show_label on:click=go("no_show")>"No-show"</button> })}
                {a.can_done.then(|| view! { <button type="button" aria-label=done_label on:click=go("done")>"Done"</button> })}
                {a.can_reschedule.then(|| view! { <button type="button" class="secondary" aria-label=move_label on:click=open_move>"Reschedule"</button> })}
                {a.can_cancel.then(|| view! { <button type="button" class="secondary" aria-label=cancel_label on:click=open_cancel>"Cancel"</button> })}
                <Show when=is_cancelling>
                    <form class="cancel-form" on:submit=confirm_cancel.clone()>
                        <label>
                            {text::CANCEL_REASON}
                            <input
                                type="text"
                                required
                                autofocus
                                prop:value=move || reason.get()
                                on:input=move |ev| reason.set(event_target_value(&ev))
                            />
                        </label>
                        <button type="submit" class="danger">"Confirm cancel"</button>
                        <button type="button" class="secondary" on:click=move |_| cancelling.set(None)>"Keep"</button>
                    </form>
                </Show>
            </td>
        </tr>
        <Show when=is_moving.clone()>
            <tr class="reschedule-row no-print">
                <td colspan="7">
                    <ReschedulePanel a=moving.clone() rescheduling changed/>
                </td>
            </tr>
        </Show>
    }
}

/// Moves a booked appointment: a day (its own by default), that day's free
/// slots of its doctor, and "Move here". A conflict shows the server's
/// message and keeps the choice.
#[component]
fn ReschedulePanel(
    a: AppointmentDto,
    rescheduling: RwSignal<Option<String>>,
    changed: RwSignal<u32>,
) -> impl IntoView {
    let date = RwSignal::new(a.day.clone());
    let chosen = RwSignal::new(None::<SlotDto>);
    let again = RwSignal::new(0u32);
    let doctor = a.doctor_id.clone();
    let free = Resource::new(
        move || (date.get(), again.get()),
        move |(day, _)| slots(doctor.clone(), day),
    );
    let moving = Action::new(|(id, at): &(String, String)| reschedule(id.clone(), at.clone()));
    let message = RwSignal::new(None::<String>);
    Effect::new(move |_| match moving.value().get() {
        Some(Ok(_)) => {
            message.set(None);
            rescheduling.set(None);
            changed.update(|c| *c += 1);
        }
        Some(Err(e)) => {
            message.set(Some(e.to_string()));
            again.update(|c| *c += 1);
        }
        None => {}
    });
    let id = a.id.clone();
    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match chosen.get_untracked() {
            None => message.set(Some(text::CHOOSE_SLOT.to_owned())),
            Some(s) => {
                moving.dispatch((id.clone(), s.starts_at));
            }
        }
    };
    let date_id = format!("move-date-{}", a.id);
    view! {
        <form class="reschedule-form" aria-label=format!("Reschedule {} ({})", a.patient_name, a.mr_number) on:submit=confirm>
            <p class="hint">
                {format!(
                    "Move {} ({}) with {}, now {} at {}.",
                    a.patient_name,
                    a.mr_number,
                    a.doctor_name,
                    a.day,
                    a.time.clone().unwrap_or_default(),
                )}
            </p>
            <label for=date_id.clone()>"New day"</label>
            <input
                id=date_id
                type="date"
                prop:value=move || date.get()
                on:change=move |ev| {
                    date.set(event_target_value(&ev));
                    chosen.set(None);
                }
            />
            <fieldset class="slots">
                <legend>"Free slots that day"</legend>
                <Transition fallback=|| view! { <p>{crate::ui::text::LOADING}</p> }>
                    {move || match free.get() {
                        None => ().into_any(),
                        Some(Err(e)) => error_view(e),
                        Some(Ok(list)) if list.is_empty() => {
                            view! { <p class="hint">{text::NO_SLOTS}</p> }.into_any()
                        }
                        Some(Ok(list)) => slot_buttons(list, chosen),
                    }}
                </Transition>
            </fieldset>
            <p class="chosen" role="status">
                {move || format!("New slot: {}", chosen.get().map(|s| s.time).unwrap_or_else(|| "none".to_owned()))}
            </p>
            {move || message.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
            <div class="actions">
                <button type="submit" disabled=move || moving.pending().get()>"Move here"</button>
                <button type="button" class="secondary" on:click=move |_| rescheduling.set(None)>"Keep as is"</button>
            </div>
        </form>
    }
}

/// Book (doctor, date, free slot, patient) or register a walk-in.
#[component]
fn BookPanel(
    doctors: Resource<Result<Vec<DoctorDto>, AppError>>,
    changed: RwSignal<u32>,
) -> impl IntoView {
    let doctor = RwSignal::new(String::new());
    let date = RwSignal::new(String::new());
    let chosen = RwSignal::new(None::<SlotDto>);
    // The fields stay disabled until the page is interactive (effects run
    // only in the browser, after hydration): typing into them earlier would
    // be lost.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    let query = RwSignal::new(String::new());
    let patient = RwSignal::new(None::<(String, String)>);
    let free = Resource::new(
        move || (doctor.get(), date.get(), changed.get()),
        |(doc, day, _)| async move {
            if doc.is_empty() {
                Ok(Vec::new())
            } else {
                slots(doc, day).await
            }
        },
    );
    // Each answer carries the query it answers: Enter must not pick a match
    // of what was typed a moment earlier.
    let found = Resource::new(
        move || query.get(),
        |q| async move {
            let list = if q.trim().chars().count() < 2 {
                Vec::new()
            } else {
                list_patients(q.clone(), 0).await?.patients
            };
            Ok::<_, AppError>((q, list))
        },
    );
    let enter_pressed = RwSignal::new(false);
    Effect::new(move |_| {
        if !enter_pressed.get() {
            return;
        }
        if let Some(Ok((q, list))) = found.get() {
            if q == query.get_untracked() {
                enter_pressed.set(false);
                if let Some(p) = list.into_iter().next() {
                    patient.set(Some((p.id, format!("{} ({})", p.full_name, p.mr_number))));
                }
            }
        }
    });
    let booking =
        Action::new(|(p, d, s): &(String, String, String)| book(p.clone(), d.clone(), s.clone()));
    let walking = Action::new(|(p, d): &(String, String)| walk_in(p.clone(), d.clone()));
    let message = RwSignal::new(None::<Result<String, String>>);
    let token = RwSignal::new(None::<(i32, String)>);
    Effect::new(move |_| match booking.value().get() {
        Some(Ok(a)) => {
            message.set(Some(Ok(format!(
                "Booked {} ({}) with {} at {} on {}.",
                a.patient_name,
                a.mr_number,
                a.doctor_name,
                a.time.unwrap_or_default(),
                a.day
            ))));
            chosen.set(None);
            changed.update(|c| *c += 1);
        }
        Some(Err(e)) => message.set(Some(Err(e.to_string()))),
        None => {}
    });
    Effect::new(move |_| match walking.value().get() {
        Some(Ok(a)) => {
            message.set(None);
            token.set(Some((
                a.token.unwrap_or_default(),
                format!("{} ({}) for {}", a.patient_name, a.mr_number, a.doctor_name),
            )));
            changed.update(|c| *c += 1);
        }
        Some(Err(e)) => {
            token.set(None);
            message.set(Some(Err(e.to_string())));
        }
        None => {}
    });
    // Enter picks the first match of what is typed, once it has arrived.
    let choose_first = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        enter_pressed.set(true);
    };
    let need = move || -> Result<(String, String), String> {
        let p = patient
            .get_untracked()
            .ok_or_else(|| text::CHOOSE_PATIENT.to_owned())?;
        let d = doctor.get_untracked();
        if d.is_empty() {
            return Err(text::CHOOSE_DOCTOR.to_owned());
        }
        Ok((p.0, d))
    };
    let on_book = move |_| match (need(), chosen.get_untracked()) {
        (Err(e), _) => message.set(Some(Err(e))),
        (Ok(_), None) => message.set(Some(Err(text::CHOOSE_SLOT.to_owned()))),
        (Ok((p, d)), Some(s)) => {
            booking.dispatch((p, d, s.starts_at));
        }
    };
    let on_walk_in = move |_| match need() {
        Err(e) => message.set(Some(Err(e))),
        Ok((p, d)) => {
            walking.dispatch((p, d));
        }
    };
    view! {
        <section class="book-panel no-print" aria-labelledby="book-heading">
            <h2 id="book-heading">"Book or walk-in"</h2>
            <div class="book-fields">
                <div>
                    <label for="book-doctor">"Doctor"</label>
                    <select id="book-doctor" disabled=move || !ready.get() on:change=move |ev| {
                        doctor.set(event_target_value(&ev));
                        chosen.set(None);
                    }>
                        <option value="">"Choose a doctor"</option>
                        <DoctorOptions doctors/>
                    </select>
                </div>
                <div>
                    <label for="book-date">"Date"</label>
                    <input
                        id="book-date"
                        type="date"
                        prop:value=move || date.get()
                        on:change=move |ev| {
                            date.set(event_target_value(&ev));
                            chosen.set(None);
                        }
                    />
                </div>
            </div>
            <fieldset class="slots">
                <legend>"Free slots"</legend>
                <Transition fallback=|| view! { <p>{crate::ui::text::LOADING}</p> }>
                    {move || {
                        if doctor.get().is_empty() {
                            return view! { <p class="hint">{text::CHOOSE_DOCTOR}</p> }.into_any();
                        }
                        match free.get() {
                            None => ().into_any(),
                            Some(Err(e)) => error_view(e),
                            Some(Ok(list)) if list.is_empty() => {
                                view! { <p class="hint">{text::NO_SLOTS}</p> }.into_any()
                            }
                            Some(Ok(list)) => slot_buttons(list, chosen),
                        }
                    }}
                </Transition>
            </fieldset>
            <form class="patient-pick" role="search" on:submit=choose_first>
                <label for="book-patient">"Patient (MR number or name)"</label>
                <input
                        id="book-patient"
                    disabled=move || !ready.get()
                        type="search"
                        autocomplete="off"
                        prop:value=move || query.get()
                        on:input=move |ev| query.set(event_target_value(&ev))
                    />
                <p class="hint">"Enter chooses the first match."</p>
            </form>
            <Transition fallback=|| ()>
                {move || {
                    found
                        .get()
                        .map(|r| match r {
                            Err(e) => error_view(e),
                            Ok((_, list)) => {
                                view! {
                                    <ul class="patient-matches">
                                        {list
                                            .into_iter()
                                            .take(6)
                                            .map(|p| {
                                                let label = format!("{} ({})", p.full_name, p.mr_number);
                                                let pick = (p.id.clone(), label.clone());
                                                view! {
                                                    <li>
                                                        <button type="button" class="secondary" on:click=move |_| patient.set(Some(pick.clone()))>
                                                            {format!("Choose {label}")}
                                                        </button>
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                    </ul>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
            <p class="chosen" role="status">
                {move || {
                    let p = patient.get().map(|(_, l)| l).unwrap_or_else(|| "none".to_owned());
                    let s = chosen.get().map(|s| s.time).unwrap_or_else(|| "none".to_owned());
                    format!("Patient: {p} · Slot: {s}")
                }}
            </p>
            <div class="actions">
                <button type="button" on:click=on_book disabled=move || booking.pending().get()>"Book"</button>
                <button type="button" class="secondary" on:click=on_walk_in disabled=move || walking.pending().get()>
                    "Walk-in"
                </button>
            </div>
            {move || {
                message
                    .get()
                    .map(outcome_view)
            }}
            {move || {
                token
                    .get()
                    .map(|(t, who)| {
                        view! {
                            <div class="token-issued" role="status">
                                <span class="token-big" aria-label=format!("Token {t}")>{t}</span>
                                <span>{format!("Token {t}: {who}")}</span>
                            </div>
                        }
                    })
            }}
        </section>
    }
}

#[component]
pub fn QueuePage() -> impl IntoView {
    view! {
        <AppLayout>
            <QueueBody/>
        </AppLayout>
    }
}

#[component]
fn QueueBody() -> impl IntoView {
    let doctors = Resource::new(|| (), |()| list_doctors());
    let picked = RwSignal::new(String::new());
    // The picked doctor; else the signed-in doctor; else the first listed.
    let doctor = move || {
        let p = picked.get();
        if p.is_empty() {
            default_doctor(&doctor_options(doctors.get()))
        } else {
            p
        }
    };
    let changed = RwSignal::new(0u32);
    let tick = poll_tick();
    let queue = Resource::new(
        move || (doctor(), changed.get(), tick.get()),
        |(doc, _, _)| async move {
            // Before the doctors have loaded (as on the server's first
            // render), find the default doctor here: the first answer must
            // already be their queue, not an empty one.
            let doc = if doc.is_empty() {
                default_doctor(&list_doctors().await?)
            } else {
                doc
            };
            if doc.is_empty() {
                return Ok(Vec::new());
            }
            let day = day_list(String::new(), doc).await?;
            let mut tokens: Vec<AppointmentDto> = day
                .appointments
                .into_iter()
                .filter(|a| a.token.is_some())
                .collect();
            tokens.sort_by_key(|a| a.token);
            Ok::<_, AppError>(tokens)
        },
    );
    let next = Action::new(|doc: &String| call_next(doc.clone()));
    let called = move || match next.value().get() {
        Some(Ok(Some(a))) => Some(Ok(format!(
            "Token {}: {} ({}), please come in.",
            token_text(&a),
            a.patient_name,
            a.mr_number
        ))),
        Some(Ok(None)) => Some(Ok(text::NOBODY_WAITING.to_owned())),
        Some(Err(e)) => Some(Err(e.to_string())),
        None => None,
    };
    Effect::new(move |_| {
        if let Some(Ok(_)) = next.value().get() {
            changed.update(|c| *c += 1);
        }
    });
    let rows = move || queue.get().and_then(Result::ok).unwrap_or_default();
    view! {
        <div class="page-head">
            <h1>{text::QUEUE_TITLE}</h1>
            <a href="/appointments">"Appointments"</a>
        </div>
        <div class="day-filters">
            <label for="queue-doctor">"Doctor"</label>
            <div>
                <select
                    id="queue-doctor"
                    prop:value=doctor
                    on:change=move |ev| picked.set(event_target_value(&ev))
                >
                    <DoctorOptions doctors/>
                </select>
            </div>
            <button
                type="button"
                disabled=move || next.pending().get()
                on:click=move |_| {
                    next.dispatch(doctor());
                }
            >
                "Call next"
            </button>
        </div>
        {move || {
            called()
                .map(outcome_view)
        }}
        <Transition fallback=|| view! { <p>{crate::ui::text::LOADING}</p> }>
            {move || match queue.get() {
                Some(Err(e)) => Some(error_view(e)),
                Some(Ok(q)) if q.is_empty() => Some(view! { <p class="empty">{text::QUEUE_EMPTY}</p> }.into_any()),
                _ => None,
            }}
            <ol class="queue" aria-label="Queue by token">
                <For each=rows key=row_key let:a>
                    <li class=format!("status-{}", a.status)>
                        <span class="token-big">{token_text(&a)}</span>
                        <span class="who">{format!("{} ({})", a.patient_name, a.mr_number)}</span>
                        <span class="state">{a.status_label.clone()}</span>
                    </li>
                </For>
            </ol>
        </Transition>
    }
}

/// A doctor's weekly hours, with the doctor they answer for.
type HoursResource = Resource<Result<(String, Vec<HoursDto>), AppError>>;

/// The ISO weekdays (1 = Monday) and their names.
const WEEKDAYS: [(u8, &str); 7] = [
    (1, "Mon"),
    (2, "Tue"),
    (3, "Wed"),
    (4, "Thu"),
    (5, "Fri"),
    (6, "Sat"),
    (7, "Sun"),
];

/// Replaces a doctor's weekly hours with one block on the ticked days
/// (admins and the front desk: schedules.manage).
#[component]
fn HoursForm(
    doctors: Resource<Result<Vec<DoctorDto>, AppError>>,
    changed: RwSignal<u32>,
    /// The doctor chosen, and their current hours (with the doctor they
    /// answer for).
    hours_doctor: RwSignal<String>,
    current_hours: HoursResource,
) -> impl IntoView {
    let (doctor, current) = (hours_doctor, current_hours);
    let days = RwSignal::new(vec![1u8, 2, 3, 4, 5, 6]);
    let starts = RwSignal::new("09:00".to_owned());
    let ends = RwSignal::new("13:00".to_owned());
    let minutes = RwSignal::new("15".to_owned());
    let fee = RwSignal::new(String::new());
    let note = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok((d, hours))) = current.get() {
            if d.is_empty() || d != doctor.get_untracked() {
                return;
            }
            if hours.is_empty() {
                note.set(Some(text::HOURS_NONE.to_owned()));
                days.set(Vec::new());
                return;
            }
            note.set(prefill_note(&hours));
            if let Some(first) = hours.first() {
                let mut ticked: Vec<u8> = hours.iter().map(|h| h.weekday).collect();
                ticked.dedup();
                days.set(ticked);
                starts.set(first.starts.clone());
                ends.set(first.ends.clone());
                minutes.set(first.slot_minutes.to_string());
                fee.set(first.fee_pkr.map(|f| f.to_string()).unwrap_or_default());
            }
        }
    });
    type HoursArgs = (String, String, String, String, String, String);
    let save = Action::new(|args: &HoursArgs| {
        let (d, w, s, e, m, f) = args.clone();
        set_hours(d, w, s, e, m, f)
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            changed.update(|c| *c += 1);
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let weekdays = days
            .get_untracked()
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(",");
        save.dispatch((
            doctor.get_untracked(),
            weekdays,
            starts.get_untracked(),
            ends.get_untracked(),
            minutes.get_untracked(),
            fee.get_untracked(),
        ));
    };
    view! {
        <details class="hours-form no-print">
            <summary>{text::HOURS_TITLE}</summary>
            <form on:submit=submit>
                <p class="hint">{text::HOURS_HINT}</p>
                <label for="hours-doctor">"Doctor for hours"</label>
                <select id="hours-doctor" required on:change=move |ev| doctor.set(event_target_value(&ev))>
                    <option value="">"Choose a doctor"</option>
                    <DoctorOptions doctors/>
                </select>
                {move || note.get().map(|n| view! { <p class="hint" role="status">{n}</p> })}
                <fieldset class="weekdays">
                    <legend>"Days"</legend>
                    {WEEKDAYS
                        .into_iter()
                        .map(|(n, name)| {
                            let id = format!("hours-day-{n}");
                            view! {
                                <span class="weekday">
                                    <input
                                        type="checkbox"
                                        id=id.clone()
                                        prop:checked=move || days.get().contains(&n)
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            days.update(|d| {
                                                d.retain(|x| *x != n);
                                                if on {
                                                    d.push(n);
                                                    d.sort_unstable();
                                                }
                                            });
                                        }
                                    />
                                    <label for=id>{name}</label>
                                </span>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <div class="book-fields">
                    <div>
                        <label for="hours-from">"From"</label>
                        <input id="hours-from" type="time" prop:value=move || starts.get() on:input=move |ev| starts.set(event_target_value(&ev))/>
                    </div>
                    <div>
                        <label for="hours-to">"To"</label>
                        <input id="hours-to" type="time" prop:value=move || ends.get() on:input=move |ev| ends.set(event_target_value(&ev))/>
                    </div>
                    <div>
                        <label for="hours-slot">"Slot minutes"</label>
                        <input id="hours-slot" type="number" min="5" max="240" prop:value=move || minutes.get() on:input=move |ev| minutes.set(event_target_value(&ev))/>
                    </div>
                    <div>
                        <label for="hours-fee">"Fee (PKR, optional)"</label>
                        <input id="hours-fee" type="number" min="0" step="1" prop:value=move || fee.get() on:input=move |ev| fee.set(event_target_value(&ev))/>
                    </div>
                </div>
                <button type="submit" disabled=move || save.pending().get()>"Save hours"</button>
                {move || {
                    save.value()
                        .get()
                        .map(|r| match r {
                            Ok(()) => view! { <p class="ok" role="status">{text::HOURS_SAVED}</p> }.into_any(),
                            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                        })
                }}
            </form>
        </details>
    }
}

/// What the hours form says about the hours it loaded.
fn prefill_note(hours: &[HoursDto]) -> Option<String> {
    let first = hours.first()?;
    let same = hours.iter().all(|h| {
        h.starts == first.starts
            && h.ends == first.ends
            && h.slot_minutes == first.slot_minutes
            && h.fee_pkr == first.fee_pkr
    });
    let mut days: Vec<u8> = hours.iter().map(|h| h.weekday).collect();
    days.dedup();
    Some(if same && days.len() == hours.len() {
        text::HOURS_LOADED.to_owned()
    } else {
        let blocks: Vec<String> = hours
            .iter()
            .map(|h| {
                let name = WEEKDAYS
                    .iter()
                    .find(|(n, _)| *n == h.weekday)
                    .map_or("?", |(_, name)| name);
                format!("{name} {}–{}", h.starts, h.ends)
            })
            .collect();
        format!("{} ({}).", text::HOURS_DIFFER, blocks.join(", "))
    })
}

/// Leave and holidays ahead: the list for everyone at the desk; adding and
/// withdrawing (with a confirmation) for schedules.manage.
#[component]
fn LeaveSection(
    doctors: Resource<Result<Vec<DoctorDto>, AppError>>,
    changed: RwSignal<u32>,
    ahead: Resource<Result<Vec<ExceptionDto>, AppError>>,
    manage: bool,
) -> impl IntoView {
    let doctor = RwSignal::new(String::new());
    let first = RwSignal::new(String::new());
    let last = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    type LeaveArgs = (String, String, String, String);
    let adding = Action::new(|(d, f, l, r): &LeaveArgs| {
        add_exception(d.clone(), f.clone(), l.clone(), r.clone())
    });
    let withdrawing = Action::new(|id: &String| withdraw_exception(id.clone()));
    let confirming = RwSignal::new(None::<String>);
    let message = RwSignal::new(None::<Result<String, String>>);
    Effect::new(move |_| match adding.value().get() {
        Some(Ok(_)) => {
            message.set(Some(Ok(text::LEAVE_ADDED.to_owned())));
            reason.set(String::new());
            changed.update(|c| *c += 1);
        }
        Some(Err(e)) => message.set(Some(Err(e.to_string()))),
        None => {}
    });
    Effect::new(move |_| match withdrawing.value().get() {
        Some(Ok(_)) => {
            confirming.set(None);
            message.set(Some(Ok(text::WITHDRAWN.to_owned())));
            changed.update(|c| *c += 1);
        }
        Some(Err(e)) => message.set(Some(Err(e.to_string()))),
        None => {}
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        adding.dispatch((
            doctor.get_untracked(),
            first.get_untracked(),
            last.get_untracked(),
            reason.get_untracked(),
        ));
    };
    let rows = move || ahead.get().and_then(Result::ok).unwrap_or_default();
    view! {
        <section class="leave-panel no-print" aria-labelledby="leave-heading">
            <h2 id="leave-heading">{text::LEAVE_TITLE}</h2>
            {manage.then(|| view! {
                <form class="leave-form" on:submit=submit>
                    <p class="hint">{text::LEAVE_HINT}</p>
                    <div class="book-fields">
                        <div>
                            <label for="leave-doctor">"Doctor on leave"</label>
                            <select id="leave-doctor" on:change=move |ev| doctor.set(event_target_value(&ev))>
                                <option value="">{text::WHOLE_CLINIC}</option>
                                <DoctorOptions doctors/>
                            </select>
                        </div>
                        <div>
                            <label for="leave-first">"First day"</label>
                            <input id="leave-first" type="date" required prop:value=move || first.get() on:input=move |ev| first.set(event_target_value(&ev))/>
                        </div>
                        <div>
                            <label for="leave-last">"Last day (optional)"</label>
                            <input id="leave-last" type="date" prop:value=move || last.get() on:input=move |ev| last.set(event_target_value(&ev))/>
                        </div>
                        <div>
                            <label for="leave-reason">"Reason"</label>
                            <input id="leave-reason" type="text" required maxlength="200" prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))/>
                        </div>
                    </div>
                    <button type="submit" disabled=move || adding.pending().get()>"Add leave or holiday"</button>
                </form>
            })}
            {move || {
                message
                    .get()
                    .map(outcome_view)
            }}
            <Transition fallback=|| view! { <p>{crate::ui::text::LOADING}</p> }>
                {move || match ahead.get() {
                    Some(Err(e)) => Some(error_view(e)),
                    Some(Ok(l)) if l.is_empty() => Some(view! { <p class="empty">{text::NO_LEAVE}</p> }.into_any()),
                    _ => None,
                }}
                <ul class="exceptions" aria-label="Leave and holidays ahead">
                    <For each=rows key=|e: &ExceptionDto| e.id.clone() let:e>
                        <ExceptionItem e manage confirming withdrawing/>
                    </For>
                </ul>
            </Transition>
        </section>
    }
}

#[component]
fn ExceptionItem(
    e: ExceptionDto,
    manage: bool,
    confirming: RwSignal<Option<String>>,
    withdrawing: Action<String, Result<ExceptionDto, AppError>>,
) -> impl IntoView {
    let days = if e.first_day == e.last_day {
        e.first_day.clone()
    } else {
        format!("{} to {}", e.first_day, e.last_day)
    };
    let what = format!("{}: {days}", e.who);
    let id = e.id.clone();
    let asking = move || confirming.get().as_deref() == Some(id.as_str());
    let open = {
        let id = e.id.clone();
        move |_| confirming.set(Some(id.clone()))
    };
    let confirm = {
        let id = e.id.clone();
        move |_| {
            withdrawing.dispatch(id.clone());
        }
    };
    let label = format!("Withdraw: {what}");
    // The confirmation takes the focus when it appears (keyboard users).
    let confirm_button = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(b) = confirm_button.get() {
            let _ = b.focus();
        }
    });
    view! {
        <li>
            <span class="who">{what.clone()}</span>
            <span class="reason">{format!(" — {}", e.reason)}</span>
            {manage.then(|| view! {
                <button type="button" class="secondary" aria-label=label on:click=open>"Withdraw"</button>
                <Show when=asking.clone()>
                    <span class="confirm" role="group" aria-label="Confirm withdrawing">
                        <span>{text::WITHDRAW_CONFIRM}</span>
                        <button type="button" class="danger" node_ref=confirm_button on:click=confirm.clone()>"Confirm withdraw"</button>
                        <button type="button" class="secondary" on:click=move |_| confirming.set(None)>"Keep"</button>
                    </span>
                </Show>
            })}
        </li>
    }
}

/// `/appointments/day`: the printable day sheet, per doctor or all doctors,
/// with the day's no-shows listed after.
#[component]
pub fn DaySheetPage() -> impl IntoView {
    view! {
        <AppLayout>
            <DaySheetBody/>
        </AppLayout>
    }
}

#[component]
fn DaySheetBody() -> impl IntoView {
    let doctors = Resource::new(|| (), |()| list_doctors());
    let view_day = RwSignal::new(String::new());
    let view_doctor = RwSignal::new(String::new());
    let day = Resource::new(
        move || (view_day.get(), view_doctor.get()),
        |(d, doc)| day_list(d, doc),
    );
    view! {
        <div class="page-head">
            <h1>{text::DAY_SHEET_TITLE}</h1>
            <a href="/appointments" class="no-print">"Appointments"</a>
            <button type="button" class="no-print" on:click=print_page>"Print"</button>
        </div>
        <DayFilters id_prefix="sheet" view_day view_doctor day doctors/>
        <Transition fallback=|| view! { <p>{crate::ui::text::LOADING}</p> }>
            {move || day.get().map(|r| match r {
                Err(e) => error_view(e),
                Ok(d) => day_sheet(&d.day, d.appointments),
            })}
        </Transition>
    }
}

/// The sheet: one table per doctor (time, token, patient, MR number,
/// status), then the no-shows.
fn day_sheet(day: &str, list: Vec<AppointmentDto>) -> AnyView {
    let mut by_doctor: Vec<(String, Vec<AppointmentDto>)> = Vec::new();
    for a in &list {
        match by_doctor.last_mut() {
            Some((id, rows)) if *id == a.doctor_id => rows.push(a.clone()),
            _ => by_doctor.push((a.doctor_id.clone(), vec![a.clone()])),
        }
    }
    let no_shows: Vec<AppointmentDto> =
        list.into_iter().filter(|a| a.status == "no_show").collect();
    let heading = format!("{} — {day}", text::DAY_SHEET_TITLE);
    view! {
        <p class="sheet-day">{heading}</p>
        {by_doctor.is_empty().then(|| view! { <p class="empty">{text::NO_APPOINTMENTS}</p> })}
        {by_doctor
            .into_iter()
            .map(|(_, rows)| {
                let name = rows[0].doctor_name.clone();
                view! {
                    <section class="sheet-doctor">
                        <h2>{name.clone()}</h2>
                        <table class="appointments" aria-label=format!("Day sheet of {name}")>
                            <thead>
                                <tr>
                                    <th scope="col">"Time"</th>
                                    <th scope="col">"Token"</th>
                                    <th scope="col">"Patient"</th>
                                    <th scope="col">"MR number"</th>
                                    <th scope="col">"Status"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows
                                    .into_iter()
                                    .map(|a| view! {
                                        <tr class=format!("status-{}", a.status)>
                                            <td class="mono">{a.time.clone().unwrap_or_else(|| "walk-in".to_owned())}</td>
                                            <td class="token">{token_text(&a)}</td>
                                            <td>{a.patient_name.clone()}</td>
                                            <td class="mono">{a.mr_number.clone()}</td>
                                            <td>{a.status_label.clone()}</td>
                                        </tr>
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </section>
                }
            })
            .collect_view()}
        <section class="sheet-no-shows" aria-labelledby="no-shows-heading">
            <h2 id="no-shows-heading">{text::NO_SHOWS}</h2>
            {if no_shows.is_empty() {
                view! { <p class="empty">{text::NO_NO_SHOWS}</p> }.into_any()
            } else {
                view! {
                    <ul class="no-shows" aria-label="No-shows of the day">
                        {no_shows
                            .into_iter()
                            .map(|a| view! {
                                <li>
                                    {format!(
                                        "{} {} ({}) with {}",
                                        a.time.clone().unwrap_or_default(),
                                        a.patient_name,
                                        a.mr_number,
                                        a.doctor_name,
                                    )}
                                </li>
                            })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
    }
    .into_any()
}

/// `/appointments/report`: patients seen per doctor per day over a range
/// (each view is audited).
#[component]
pub fn ReportPage() -> impl IntoView {
    view! {
        <AppLayout>
            <ReportBody/>
        </AppLayout>
    }
}

#[component]
fn ReportBody() -> impl IntoView {
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    // The range asked for; the report loads again only on "Show".
    let asked = RwSignal::new((String::new(), String::new()));
    let report = Resource::new(move || asked.get(), |(f, t)| patients_seen(f, t));
    Effect::new(move |_| {
        if let Some(Ok(r)) = report.get() {
            from.set(r.from);
            to.set(r.to);
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        asked.set((from.get_untracked(), to.get_untracked()));
    };
    view! {
        <div class="page-head">
            <h1>{text::REPORT_TITLE}</h1>
            <a href="/appointments" class="no-print">"Appointments"</a>
            <button type="button" class="secondary no-print" on:click=print_page>"Print"</button>
        </div>
        <p class="hint">{text::REPORT_HINT}</p>
        <form class="day-filters no-print" on:submit=submit>
            <label for="report-from">"From"</label>
            <div>
                <input id="report-from" type="date" prop:value=move || from.get() on:input=move |ev| from.set(event_target_value(&ev))/>
            </div>
            <label for="report-to">"To"</label>
            <div>
                <input id="report-to" type="date" prop:value=move || to.get() on:input=move |ev| to.set(event_target_value(&ev))/>
            </div>
            <button type="submit">"Show"</button>
        </form>
        <Transition fallback=|| view! { <p>{crate::ui::text::LOADING}</p> }>
            {move || report.get().map(|r| match r {
                Err(e) => error_view(e),
                Ok(r) if r.rows.is_empty() => view! { <p class="empty">{text::REPORT_EMPTY}</p> }.into_any(),
                Ok(r) => {
                    let (done, no_show, cancelled) = r.rows.iter().fold((0, 0, 0), |t, x| {
                        (t.0 + x.done, t.1 + x.no_show, t.2 + x.cancelled)
                    });
                    view! {
                        <table class="appointments report" aria-label=format!("Patients seen {} to {}", r.from, r.to)>
                            <thead>
                                <tr>
                                    <th scope="col">"Day"</th>
                                    <th scope="col">"Doctor"</th>
                                    <th scope="col">"Done"</th>
                                    <th scope="col">"No-show"</th>
                                    <th scope="col">"Cancelled"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {r.rows
                                    .into_iter()
                                    .map(|x| view! {
                                        <tr>
                                            <td class="mono">{x.day}</td>
                                            <td>{x.doctor_name}</td>
                                            <td class="num">{x.done}</td>
                                            <td class="num">{x.no_show}</td>
                                            <td class="num">{x.cancelled}</td>
                                        </tr>
                                    })
                                    .collect_view()}
                            </tbody>
                            <tfoot>
                                <tr>
                                    <th scope="row" colspan="2">"Total"</th>
                                    <td class="num">{done}</td>
                                    <td class="num">{no_show}</td>
                                    <td class="num">{cancelled}</td>
                                </tr>
                            </tfoot>
                        </table>
                    }
                    .into_any()
                }
            })}
        </Transition>
    }
}

/// The day and doctor a day list shows (the appointments page and the day
/// sheet): an empty day is today, as the server answers it.
#[component]
fn DayFilters(
    id_prefix: &'static str,
    view_day: RwSignal<String>,
    view_doctor: RwSignal<String>,
    day: Resource<Result<DayDto, AppError>>,
    doctors: Resource<Result<Vec<DoctorDto>, AppError>>,
) -> impl IntoView {
    let date_id = format!("{id_prefix}-date");
    let doctor_id = format!("{id_prefix}-doctor");
    view! {
        <div class="day-filters no-print">
            <label for=date_id.clone()>"Day"</label>
            <div>
                <input
                    id=date_id
                    type="date"
                    prop:value=move || {
                        let v = view_day.get();
                        if v.is_empty() { day.get().and_then(Result::ok).map(|d| d.day).unwrap_or_default() } else { v }
                    }
                    on:change=move |ev| view_day.set(event_target_value(&ev))
                />
            </div>
            <label for=doctor_id.clone()>"Show doctor"</label>
            <div>
                <select id=doctor_id on:change=move |ev| view_doctor.set(event_target_value(&ev))>
                    <option value="">{text::ALL_DOCTORS}</option>
                    <DoctorOptions doctors/>
                </select>
            </div>
        </div>
    }
}

/// The listed doctors as `<option>`s of a select (after its own first option).
#[component]
fn DoctorOptions(doctors: Resource<Result<Vec<DoctorDto>, AppError>>) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            {move || {
                doctor_options(doctors.get())
                    .into_iter()
                    .map(|d| view! { <option value=d.id>{d.name}</option> })
                    .collect_view()
            }}
        </Transition>
    }
}
