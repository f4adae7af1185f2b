//! Shared components: the signed-in layout and header, the theme toggle, form fields and alerts, the
//! confirm dialog and status message.

pub mod bell;
pub mod celebrate;
pub mod chart;
pub mod confirm;
pub mod form;
pub mod layout;
pub mod person_picker;
pub mod theme;
pub mod time;
