//! `/admin/audit`: the clinic's audit log for admins and auditors — filters
//! (person, patient by MR number, action, clinic dates, workstation), newest
//! first, paged by seq, each entry expandable to its decrypted details — and
//! the admin's signed export. Also the patient record's "Who accessed this
//! record" ([`PatientAccess`]).

use super::api::{audit_choices, patient_access, search_audit, ExportAudit};
use super::dto::{AuditChoicesDto, AuditDetailsDto, AuditEntryDto, AuditFilterDto, AuditPageDto};
use super::text;
use crate::ui::{action_error, error_view, AppLayout, CurrentUser};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// Whether the signed-in user (as the page frame loaded them) holds
/// `permission`. Only inside [`AppLayout`], which provides the user.
fn may(permission: &'static str) -> impl Fn() -> bool + Copy + Send + Sync + 'static {
    let me = use_context::<CurrentUser>().map(|c| c.0);
    move || {
        me.and_then(|m| m.get())
            .and_then(Result::ok)
            .flatten()
            .is_some_and(|m| m.may(permission))
    }
}

/// The filter form's fields.
#[derive(Clone, Copy)]
struct Fields {
    user: RwSignal<String>,
    patient: RwSignal<String>,
    action: RwSignal<String>,
    from: RwSignal<String>,
    to: RwSignal<String>,
    workstation: RwSignal<String>,
}

impl Fields {
    fn new(f: &AuditFilterDto) -> Self {
        Fields {
            user: RwSignal::new(f.user.clone()),
            patient: RwSignal::new(f.patient.clone()),
            action: RwSignal::new(f.action.clone()),
            from: RwSignal::new(f.from.clone()),
            to: RwSignal::new(f.to.clone()),
            workstation: RwSignal::new(f.workstation.clone()),
        }
    }

    fn snapshot(self) -> AuditFilterDto {
        AuditFilterDto {
            user: self.user.get_untracked(),
            patient: self.patient.get_untracked().trim().to_owned(),
            action: self.action.get_untracked(),
            from: self.from.get_untracked(),
            to: self.to.get_untracked(),
            workstation: self.workstation.get_untracked(),
        }
    }

    fn clear(self) {
        for s in [
            self.user,
            self.patient,
            self.action,
            self.from,
            self.to,
            self.workstation,
        ] {
            s.set(String::new());
        }
    }
}

#[component]
pub fn AuditPage() -> impl IntoView {
    // `?patient=<id>`: the link from a patient's record (an id, not PHI).
    let initial = AuditFilterDto {
        patient: use_query_map().with_untracked(|q| q.get("patient").unwrap_or_default()),
        ..AuditFilterDto::default()
    };
    let fields = Fields::new(&initial);
    let applied = RwSignal::new(initial);
    // The `before_seq` of each page shown so far: the last is the current
    // page's (none: the newest entries).
    let cursor = RwSignal::new(Vec::<i64>::new());
    let choices = Resource::new(|| (), |()| audit_choices());
    let page = Resource::new(
        move || {
            (
                applied.get(),
                cursor.with(|c| c.last().copied().unwrap_or(0)),
            )
        },
        |(f, before)| {
            search_audit(
                f.user,
                f.patient,
                f.action,
                f.from,
                f.to,
                f.workstation,
                before,
            )
        },
    );
    // A patient named by id (from the record's link) shows as its MR number.
    Effect::new(move |_| {
        page.with(|p| {
            if let Some(Ok(AuditPageDto {
                patient: Some(p), ..
            })) = p
            {
                if fields.patient.get_untracked() == p.id {
                    fields.patient.set(p.mr_number.clone());
                }
            }
        });
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        applied.set(fields.snapshot());
        cursor.set(Vec::new());
    };
    let clear = move |_| {
        fields.clear();
        applied.set(AuditFilterDto::default());
        cursor.set(Vec::new());
    };
    view! {
        <AppLayout>
            <div class="page-head">
                <h1>{text::TITLE}</h1>
            </div>
            <p class="hint">{text::INTRO}</p>
            <form class="audit-filters" role="search" aria-label=text::FILTERS on:submit=submit>
                <Transition fallback=|| view! { <p>{crate::ui::text::LOADING}</p> }>
                    {move || {
                        choices
                            .get()
                            .map(|r| match r {
                                Ok(c) => view! { <FilterFields c fields/> }.into_any(),
                                Err(e) => error_view(e),
                            })
                    }}
                </Transition>
                <div class="filter-actions">
                    <button type="submit">{text::SEARCH}</button>
                    <button type="button" class="secondary" on:click=clear>{text::CLEAR}</button>
                </div>
            </form>
            <Transition fallback=|| view! { <p>{crate::ui::text::LOADING}</p> }>
                {move || {
                    page.get()
                        .map(|r| match r {
                            Ok(p) => view! { <Results p cursor/> }.into_any(),
                            Err(e) => error_view(e),
                        })
                }}
            </Transition>
            <ExportIfAllowed/>
        </AppLayout>
    }
}

#[component]
fn FilterFields(c: AuditChoicesDto, fields: Fields) -> impl IntoView {
    let AuditChoicesDto {
        users,
        workstations,
        actions,
    } = c;
    let selected = |signal: RwSignal<String>, value: String| move || signal.get() == value;
    view! {
        <div class="fields">
            <div>
                <label for="audit-user">{text::PERSON}</label>
                <select
                    id="audit-user"
                    prop:value=fields.user
                    on:change=move |ev| fields.user.set(event_target_value(&ev))
                >
                    <option value="" selected=selected(fields.user, String::new())>{text::ANYONE}</option>
                    {users
                        .into_iter()
                        .map(|u| {
                            let label = if u.active {
                                format!("{} ({})", u.display_name, u.username)
                            } else {
                                format!("{} ({}, disabled)", u.display_name, u.username)
                            };
                            view! {
                                <option value=u.id.clone() selected=selected(fields.user, u.id)>
                                    {label}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <div>
                <label for="audit-patient">{text::PATIENT_MR}</label>
                <input
                    id="audit-patient"
                    autocomplete="off"
                    autocapitalize="characters"
                    spellcheck="false"
                    maxlength="64"
                    placeholder="MR-000123"
                    prop:value=fields.patient
                    on:input=move |ev| fields.patient.set(event_target_value(&ev))
                />
            </div>
            <div>
                <label for="audit-action">{text::ACTION}</label>
                <select
                    id="audit-action"
                    prop:value=fields.action
                    on:change=move |ev| fields.action.set(event_target_value(&ev))
                >
                    <option value="" selected=selected(fields.action, String::new())>{text::ANY_ACTION}</option>
                    {actions
                        .into_iter()
                        .map(|a| {
                            view! {
                                <option value=a.clone() selected=selected(fields.action, a.clone())>
                                    {a.clone()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <div>
                <label for="audit-from">{text::FROM}</label>
                <input
                    id="audit-from"
                    type="date"
                    prop:value=fields.from
                    on:input=move |ev| fields.from.set(event_target_value(&ev))
                />
            </div>
            <div>
                <label for="audit-to">{text::TO}</label>
                <input
                    id="audit-to"
                    type="date"
                    prop:value=fields.to
                    on:input=move |ev| fields.to.set(event_target_value(&ev))
                />
            </div>
            <div>
                <label for="audit-workstation">{text::WORKSTATION}</label>
                <select
                    id="audit-workstation"
                    prop:value=fields.workstation
                    on:change=move |ev| fields.workstation.set(event_target_value(&ev))
                >
                    <option value="" selected=selected(fields.workstation, String::new())>
                        {text::ANY_WORKSTATION}
                    </option>
                    {workstations
                        .into_iter()
                        .map(|(id, name)| {
                            view! {
                                <option value=id.clone() selected=selected(fields.workstation, id)>
                                    {name}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
        </div>
    }
}

/// A page of entries with the pager.
#[component]
fn Results(p: AuditPageDto, cursor: RwSignal<Vec<i64>>) -> impl IntoView {
    let AuditPageDto {
        entries,
        older,
        patient,
    } = p;
    let about = patient.map(|p| {
        view! {
            <p class="notice">
                {text::ABOUT_PATIENT} " " <span class="mono">{p.mr_number}</span> " (" {p.full_name} ")."
            </p>
        }
    });
    let newest = cursor.with_untracked(Vec::is_empty);
    let body = if entries.is_empty() {
        view! { <p class="empty">{if newest { text::NO_ENTRIES } else { text::NO_OLDER }}</p> }
            .into_any()
    } else {
        view! { <EntryTable entries show_patient=true label=text::ENTRIES/> }.into_any()
    };
    view! {
        {about}
        {body}
        <div class="pager">
            <button
                type="button"
                class="secondary"
                disabled=newest
                on:click=move |_| cursor.update(|c| {
                    c.pop();
                })
            >
                {text::NEWER}
            </button>
            <button
                type="button"
                class="secondary"
                disabled=older.is_none()
                on:click=move |_| {
                    if let Some(seq) = older {
                        cursor.update(|c| c.push(seq));
                    }
                }
            >
                {text::OLDER}
            </button>
        </div>
    }
}

/// Entries as a table; each row opens onto its full record.
#[component]
fn EntryTable(
    entries: Vec<AuditEntryDto>,
    show_patient: bool,
    label: &'static str,
) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class="list audit-entries" aria-label=label>
                <thead>
                    <tr>
                        <th scope="col">{text::WHEN}</th>
                        <th scope="col">{text::WHO}</th>
                        <th scope="col">{text::ACTION}</th>
                        {show_patient.then(|| view! { <th scope="col">{text::PATIENT}</th> })}
                        <th scope="col">{text::WHERE}</th>
                        <th scope="col">
                            <span class="visually-hidden">{text::DETAILS}</span>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {entries
                        .into_iter()
                        .map(|e| view! { <EntryRows e show_patient/> })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

fn or_dash(s: String) -> String {
    if s.is_empty() {
        "—".to_owned()
    } else {
        s
    }
}

/// An action name that may wrap after its dot on a narrow screen.
fn action_name(action: &str) -> impl IntoView {
    match action.split_once('.') {
        Some((head, tail)) => view! { {format!("{head}.")} <wbr/> {tail.to_owned()} }.into_any(),
        None => action.to_owned().into_any(),
    }
}

#[component]
fn EntryRows(e: AuditEntryDto, show_patient: bool) -> impl IntoView {
    let open = RwSignal::new(false);
    let columns = if show_patient { "6" } else { "5" };
    let details_id = format!("audit-entry-{}", e.seq);
    let who = if e.actor_display_name.is_empty() {
        or_dash(e.actor_username.clone())
    } else {
        e.actor_display_name.clone()
    };
    let patient = match (&e.patient_id, &e.patient_mr_number) {
        (Some(id), Some(mr)) => view! {
            <a class="mono" href=format!("/patients/{id}")>{mr.clone()}</a>
            <span class="detail">{e.patient_name.clone().unwrap_or_default()}</span>
        }
        .into_any(),
        (Some(_), None) => view! { <span>{text::UNKNOWN_PATIENT}</span> }.into_any(),
        (None, _) => view! { <span>"—"</span> }.into_any(),
    };
    let workstation = e
        .workstation_id
        .as_ref()
        .map(|id| {
            if e.workstation_name.is_empty() {
                format!("{} {}", text::DELETED_WORKSTATION, &id[..8.min(id.len())])
            } else {
                e.workstation_name.clone()
            }
        })
        .unwrap_or_else(|| text::NO_WORKSTATION.to_owned());
    let details = match e.details.clone() {
        AuditDetailsDto::None => view! { <span>{text::NO_DETAILS}</span> }.into_any(),
        AuditDetailsDto::Json(json) => view! { <pre class="details-json">{json}</pre> }.into_any(),
        AuditDetailsDto::Unreadable => {
            view! { <span class="error">{text::UNREADABLE}</span> }.into_any()
        }
    };
    let object = if e.object_type.is_empty() {
        "—".to_owned()
    } else {
        format!("{} {}", e.object_type, e.object_id)
    };
    let patient_full = e.patient_id.clone().map(|id| {
        let mr = e.patient_mr_number.clone().unwrap_or_default();
        let name = e.patient_name.clone().unwrap_or_default();
        view! {
            <dt>{text::PATIENT}</dt>
            <dd>{format!("{mr} {name}")} " " <span class="mono id">{id}</span></dd>
        }
    });
    let workstation_full = match &e.workstation_id {
        Some(id) => {
            view! { {workstation.clone()} " " <span class="mono id">{id.clone()}</span> }.into_any()
        }
        None => workstation.clone().into_any(),
    };
    let seq = e.seq;
    view! {
        <tr class="entry">
            <td>
                <time datetime=e.at_iso.clone()>{e.at.clone()}</time>
            </td>
            <td>
                <span class="name">{who}</span>
                <span class="detail mono">{e.actor_username.clone()}</span>
            </td>
            <td>
                <code>{action_name(&e.action)}</code>
            </td>
            {show_patient.then(|| view! { <td>{patient}</td> })}
            <td>
                <span class="name">{workstation}</span>
                <span class="detail mono">{or_dash(e.ip.clone())}</span>
            </td>
            <td class="toggle">
                <button
                    type="button"
                    class="secondary"
                    aria-expanded=move || open.get().to_string()
                    aria-controls=details_id.clone()
                    aria-label=format!("{} {seq}", text::DETAILS_OF)
                    on:click=move |_| open.update(|o| *o = !*o)
                >
                    {move || if open.get() { text::HIDE } else { text::DETAILS }}
                </button>
            </td>
        </tr>
        <tr class="entry-details" id=details_id hidden=move || !open.get()>
            <td colspan=columns>
                <dl>
                    <dt>{text::ENTRY}</dt>
                    <dd class="mono">{format!("#{seq}")}</dd>
                    <dt>{text::ROLES}</dt>
                    <dd>{or_dash(e.actor_roles.join(", "))}</dd>
                    <dt>{text::OBJECT}</dt>
                    <dd class="mono">{object}</dd>
                    {patient_full}
                    <dt>{text::WORKSTATION}</dt>
                    <dd>{workstation_full}</dd>
                    <dt>{text::ADDRESS}</dt>
                    <dd class="mono">{or_dash(e.ip)}</dd>
                    <dt>{text::DETAILS}</dt>
                    <dd>{details}</dd>
                </dl>
            </td>
        </tr>
    }
}

/// The export, for users who may export (the server checks anyway). Inside
/// the page frame, which provides the signed-in user.
#[component]
fn ExportIfAllowed() -> impl IntoView {
    let may_export = may("audit.export");
    view! {
        <Suspense fallback=|| ()>
            {move || may_export().then(|| view! { <ExportPanel/> })}
        </Suspense>
    }
}

/// The admin's export: clinic dates, then the browser saves the signed JSON
/// Lines file.
#[component]
fn ExportPanel() -> impl IntoView {
    let export = ServerAction::<ExportAudit>::new();
    let saved = RwSignal::new(None::<String>);
    let error = action_error(export.value());
    Effect::new(move |_| {
        export.value().with(|v| match v {
            Some(Ok(x)) => saved.set(Some(match download(&x.filename, &x.jsonl) {
                Ok(()) => format!(
                    "Saved {} — {} entries (#{} to #{}).",
                    x.filename, x.entries, x.first_seq, x.last_seq
                ),
                Err(why) => why,
            })),
            _ => saved.set(None),
        });
    });
    view! {
        <section class="audit-export" aria-labelledby="audit-export-title">
            <h2 id="audit-export-title">{text::EXPORT_TITLE}</h2>
            <p class="hint">{text::EXPORT_HINT}</p>
            <ActionForm action=export attr:class="export-form">
                <div>
                    <label for="export-from">{text::EXPORT_FROM}</label>
                    <input id="export-from" name="from" type="date"/>
                </div>
                <div>
                    <label for="export-to">{text::EXPORT_TO}</label>
                    <input id="export-to" name="to" type="date"/>
                </div>
                <button type="submit" disabled=move || export.pending().get()>
                    {move || if export.pending().get() { text::EXPORTING } else { text::EXPORT }}
                </button>
            </ActionForm>
            <p class="error" role="alert">{error}</p>
            <p class="notice" role="status">{move || saved.get()}</p>
        </section>
    }
}

/// Hands `text` to the browser as a file download (browser only).
fn download(filename: &str, text: &str) -> Result<(), String> {
    use leptos::wasm_bindgen::JsCast;
    let refused =
        |_| "The browser did not save the file. Try again, or use another browser.".to_owned();
    let parts = js_sys::Array::of1(&js_sys::JsString::from(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/x-ndjson");
    let blob =
        web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).map_err(refused)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(refused)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| refused(leptos::wasm_bindgen::JsValue::NULL))?;
    let body = document
        .body()
        .ok_or_else(|| refused(leptos::wasm_bindgen::JsValue::NULL))?;
    let link: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(refused)?
        .dyn_into()
        .map_err(|_| refused(leptos::wasm_bindgen::JsValue::NULL))?;
    link.set_href(&url);
    link.set_download(filename);
    body.append_child(&link).map_err(refused)?;
    link.click();
    link.remove();
    // Give the download time to start before the blob is released.
    set_timeout(
        move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        },
        std::time::Duration::from_secs(60),
    );
    Ok(())
}

/// "Who accessed this record" on a patient's page: the latest entries about
/// the patient, for users who may read the audit log (nothing at all for
/// others, and no request: the server would refuse them anyway).
#[component]
pub fn PatientAccess(patient_id: String) -> impl IntoView {
    let me = use_context::<CurrentUser>().map(|c| c.0);
    let id = patient_id.clone();
    let entries = Resource::new(
        move || id.clone(),
        move |id| async move {
            let allowed = match me {
                Some(me) => matches!(me.await, Ok(Some(m)) if m.may("audit.read")),
                None => false,
            };
            if allowed {
                patient_access(id).await.map(Some)
            } else {
                Ok(None)
            }
        },
    );
    let more = format!("/admin/audit?patient={patient_id}");
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let more = more.clone();
                entries
                    .get()
                    .map(|r| match r {
                        Ok(None) => ().into_any(),
                        Ok(Some(list)) => {
                            view! {
                                <section class="patient-access" aria-labelledby="patient-access-title">
                                    <h2 id="patient-access-title">{text::ACCESS_TITLE}</h2>
                                    {if list.is_empty() {
                                        view! { <p class="empty">{text::ACCESS_NONE}</p> }.into_any()
                                    } else {
                                        view! {
                                            <EntryTable entries=list show_patient=false label=text::ACCESS_TITLE/>
                                        }
                                            .into_any()
                                    }}
                                    <p>
                                        <a href=more>{text::ACCESS_MORE}</a>
                                    </p>
                                </section>
                            }
                                .into_any()
                        }
                        Err(e) => error_view(e),
                    })
            }}
        </Suspense>
    }
}
