//! Autosaved drafts: server functions and the `use_autosave` hook any form can
//! use (save a few seconds after the last change, on lock and when the form
//! goes away; offer the draft back when the form opens again).

pub mod api;
pub mod hook;
