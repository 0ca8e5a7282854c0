//! Shared widgets.

pub mod layout;
pub mod text;

pub use layout::AppLayout;
