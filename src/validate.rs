//! Input validation shared by the browser (inline errors) and the server (the authority).
//!
//! Each function returns the normalised value or a [`FieldError`] for its field; `collect` turns several
//! results into one [`AppError::Validation`].

use crate::{AppError, FieldError};

pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 256;
pub const DISPLAY_NAME_MAX: usize = 80;
pub const EMAIL_MAX: usize = 254;
pub const COHORT_NAME_MAX: usize = 80;

/// Trimmed, lower-cased email. Case-insensitive uniqueness rests on this normalisation.
pub fn email(raw: &str) -> Result<String, FieldError> {
    let value = raw.trim().to_lowercase();
    let err = |m: &str| Err(FieldError::new("email", m));
    if value.is_empty() {
        return err("Enter your email address.");
    }
    if value.chars().count() > EMAIL_MAX {
        return err("That email address is too long.");
    }
    let Some((local, domain)) = value.split_once('@') else {
        return err("Enter an email address like name@example.com.");
    };
    let bad_char = |c: char| c.is_whitespace() || c.is_control() || c == '@';
    if local.is_empty()
        || domain.len() < 3
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || value.chars().filter(|c| *c == '@').count() != 1
        || local.chars().any(bad_char)
        || domain.chars().any(bad_char)
    {
        return err("Enter an email address like name@example.com.");
    }
    Ok(value)
}

pub fn display_name(raw: &str) -> Result<String, FieldError> {
    let value = raw.trim().to_string();
    if value.is_empty() {
        return Err(FieldError::new("display_name", "Enter your name."));
    }
    if value.chars().count() > DISPLAY_NAME_MAX {
        return Err(FieldError::new(
            "display_name",
            format!("Keep your name under {DISPLAY_NAME_MAX} characters."),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(
            "display_name",
            "Your name contains characters that cannot be shown.",
        ));
    }
    Ok(value)
}

/// Passwords are taken as typed (no trimming); only length and blankness are checked.
pub fn password(field: &str, raw: &str) -> Result<(), FieldError> {
    let len = raw.chars().count();
    if len < PASSWORD_MIN {
        return Err(FieldError::new(
            field,
            format!("Use at least {PASSWORD_MIN} characters."),
        ));
    }
    if len > PASSWORD_MAX {
        return Err(FieldError::new(
            field,
            format!("Use at most {PASSWORD_MAX} characters."),
        ));
    }
    if raw.trim().is_empty() {
        return Err(FieldError::new(field, "A password cannot be only spaces."));
    }
    Ok(())
}

/// Shape check only; the server also checks the name against the IANA database.
pub fn time_zone_shape(raw: &str) -> Result<String, FieldError> {
    let value = raw.trim().to_string();
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_-+".contains(c));
    if ok {
        Ok(value)
    } else {
        Err(FieldError::new(
            "time_zone",
            "Choose a time zone from the list.",
        ))
    }
}

pub fn cohort_name(raw: &str) -> Result<String, FieldError> {
    let value = raw.trim().to_string();
    if value.is_empty() {
        return Err(FieldError::new("name", "Enter a cohort name."));
    }
    if value.chars().count() > COHORT_NAME_MAX || value.chars().any(char::is_control) {
        return Err(FieldError::new(
            "name",
            format!("Use up to {COHORT_NAME_MAX} printable characters."),
        ));
    }
    Ok(value)
}

/// A post-sign-in destination: only a local path, never another site (`//evil.example`, `https://…`).
pub fn local_path(raw: &str) -> Option<String> {
    let ok = raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.starts_with("/\\")
        && raw.len() <= 512
        && !raw.chars().any(|c| c.is_control() || c == '\\');
    ok.then(|| raw.to_string())
}

/// Free text for a field: trimmed, not empty, at most `max` characters, no control characters other
/// than line breaks.
pub fn text(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        Err(FieldError::new(field, "This cannot be empty."))
    } else if value.chars().count() > max {
        Err(FieldError::new(
            field,
            format!("Keep it under {max} characters."),
        ))
    } else if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        Err(FieldError::new(field, "Remove the control characters."))
    } else {
        Ok(value.to_string())
    }
}

/// Like [`text`], for a field that may be left empty (`None`).
pub fn optional_text(
    field: &str,
    raw: Option<&str>,
    max: usize,
) -> Result<Option<String>, FieldError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => text(field, v, max).map(Some),
    }
}

/// Collects field errors; `Ok(())` when there are none.
pub fn collect(errors: impl IntoIterator<Item = Option<FieldError>>) -> Result<(), AppError> {
    let fields: Vec<FieldError> = errors.into_iter().flatten().collect();
    if fields.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation { fields })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(email("  Ana@Example.COM ").unwrap(), "ana@example.com");
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a na@example.com",
            "ana@@example.com",
            "ana@.com",
        ] {
            assert!(email(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(email(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn passwords_need_length_and_substance() {
        assert!(password("password", "short").is_err());
        assert!(password("password", "          ").is_err());
        assert!(password("password", &"x".repeat(PASSWORD_MAX + 1)).is_err());
        assert!(password("password", "correct horse").is_ok());
        assert_eq!(
            password("new_password", "x").unwrap_err().field,
            "new_password"
        );
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(display_name("  Ana  ").unwrap(), "Ana");
        assert!(display_name("   ").is_err());
        assert!(display_name(&"a".repeat(81)).is_err());
        assert!(display_name("Ana\u{7}").is_err());
    }

    #[test]
    fn only_local_paths_are_redirect_targets() {
        assert_eq!(local_path("/dashboard").as_deref(), Some("/dashboard"));
        assert_eq!(
            local_path("/admin/users?page=2").as_deref(),
            Some("/admin/users?page=2")
        );
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "dashboard",
            "",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn time_zone_shape_allows_iana_names() {
        assert!(time_zone_shape("Europe/Lisbon").is_ok());
        assert!(time_zone_shape("America/Argentina/Buenos_Aires").is_ok());
        assert!(time_zone_shape("Etc/GMT+3").is_ok());
        assert!(time_zone_shape("<script>").is_err());
        assert!(time_zone_shape("").is_err());
    }

    #[test]
    fn text_is_trimmed_bounded_and_printable() {
        assert_eq!(text("title", "  Hi  ", 10).unwrap(), "Hi");
        assert!(text("title", "   ", 10).is_err());
        assert!(text("title", "elevenchars", 10).is_err());
        assert!(text("title", "bell\u{7}", 10).is_err());
        assert_eq!(text("note", "two\nlines", 20).unwrap(), "two\nlines");
        assert_eq!(optional_text("note", Some("  "), 5).unwrap(), None);
    }

    #[test]
    fn collect_gathers_every_field() {
        let err = collect([
            email("nope").err(),
            display_name("Ana").err(),
            password("password", "short").err(),
        ])
        .unwrap_err();
        match err {
            AppError::Validation { fields } => {
                let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
                assert_eq!(names, ["email", "password"]);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(collect([None, None]).is_ok());
    }
}
