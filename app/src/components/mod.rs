//! Shared components: the signed-in layout and header, the theme toggle, form fields and alerts.

pub mod bell;
pub mod chart;
pub mod form;
pub mod layout;
pub mod theme;
