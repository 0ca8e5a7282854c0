//! The placeholder page of a section that arrives in a later release.

use super::api::open_section;
use crate::error::AppError;
use crate::ui::{error_view, text, AppLayout};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn SectionPage() -> impl IntoView {
    let params = use_params_map();
    let opened = Resource::new(
        move || params.read().get("slug").unwrap_or_default(),
        open_section,
    );
    view! {
        <AppLayout>
            <Suspense fallback=|| view! { <p>{text::LOADING}</p> }>
                {move || {
                    opened
                        .get()
                        .map(|r| match r {
                            Ok(label) => {
                                view! {
                                    <h1>{label.clone()}</h1>
                                    <p class="notice">
                                        {format!("{label} arrives in a later release of Healipro.")}
                                    </p>
                                }
                                    .into_any()
                            }
                            Err(AppError::Forbidden) => {
                                view! {
                                    <h1>"Not allowed"</h1>
                                    {error_view(AppError::Forbidden)}
                                    <p>"If your work needs this section, ask your clinic admin to change your roles."</p>
                                }
                                    .into_any()
                            }
                            Err(AppError::NotFound) => {
                                view! {
                                    <h1>"Page not found"</h1>
                                    <p>"There is no such section. Use the navigation above."</p>
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
