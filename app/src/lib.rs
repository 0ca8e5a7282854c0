//! Healipro's web UI: routes, pages and server functions, compiled twice —
//! with `ssr` into the server, with `hydrate` into the browser's WASM.
// Leptos views are nested generic types; the admin pages' tables go deeper
// than the default limit when the hydrate build lays them out.
#![recursion_limit = "256"]

pub mod error;
pub mod features;
#[cfg(feature = "ssr")]
pub mod server;
pub mod ui;

use features::admin::pages::{RolesPage, SecurityPage, UsersPage, WorkstationsPage};
use features::appointments::pages::{AppointmentsPage, DaySheetPage, QueuePage, ReportPage};
use features::audit::pages::AuditPage;
use features::auth::pages::{CodePage, EnrolPage, LockedPage, LoginPage, PasswordPage};
use features::patients::pages::{PatientEditPage, PatientPage, PatientRegisterPage, PatientsPage};
use features::sections::pages::SectionPage;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// The HTML document around the app (server side).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en" dir="ltr">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/healipro.css"/>
        <Title text="Healipro"/>
        <Router>
            <Routes fallback=|| view! { <main><h1>"Page not found"</h1><a href="/patients">"Go to patients"</a></main> }>
                <Route path=path!("/") view=|| view! { <Redirect path="/patients"/> }/>
                <Route path=path!("/login") view=LoginPage/>
                <Route path=path!("/signin/code") view=CodePage/>
                <Route path=path!("/signin/enrol") view=EnrolPage ssr=SsrMode::Async/>
                <Route path=path!("/account/password") view=PasswordPage/>
                <Route path=path!("/locked") view=LockedPage/>
                <Route path=path!("/patients") view=PatientsPage ssr=SsrMode::Async/>
                // Before `/patients/:id`, which would take "new" for an id.
                <Route path=path!("/patients/new") view=PatientRegisterPage ssr=SsrMode::Async/>
                <Route path=path!("/patients/:id") view=PatientPage ssr=SsrMode::Async/>
                <Route path=path!("/patients/:id/edit") view=PatientEditPage ssr=SsrMode::Async/>
                <Route path=path!("/appointments") view=AppointmentsPage ssr=SsrMode::Async/>
                <Route path=path!("/appointments/queue") view=QueuePage ssr=SsrMode::Async/>
                <Route path=path!("/appointments/day") view=DaySheetPage ssr=SsrMode::Async/>
                <Route path=path!("/appointments/report") view=ReportPage ssr=SsrMode::Async/>
                <Route path=path!("/admin") view=WorkstationsPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/users") view=UsersPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/roles") view=RolesPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/security") view=SecurityPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/audit") view=AuditPage ssr=SsrMode::Async/>
                <Route path=path!("/section/:slug") view=SectionPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}
