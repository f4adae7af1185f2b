//! The one error type that crosses every boundary: server functions, REST responses and the UI.
//!
//! Messages are written for the person using the app. An internal failure carries its [`Cause`] for
//! the server's log only: it is logged once, where the error becomes a response (REST, a server
//! function, server rendering, a WebSocket frame), inside that request's span and so with its request
//! id, and the user sees only [`AppError::Internal`]'s message.

use serde::{Deserialize, Serialize};
use server_fn::{codec::JsonEncoding, error::FromServerFnError, error::ServerFnErrorErr};

/// A problem with one input field, shown next to that field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Why an internal error happened, with where it was raised: kept for the server's log, never
/// serialized (so never sent or shown) and ignored when errors are compared (every internal error
/// reads the same to the person using the app).
#[derive(Clone, Default)]
pub struct Cause(Option<std::sync::Arc<str>>);

impl Cause {
    pub fn text(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl std::fmt::Debug for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(text) => write!(f, "{text:?}"),
            None => f.write_str("unknown"),
        }
    }
}

impl PartialEq for Cause {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Cause {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum AppError {
    /// One or more fields are invalid (HTTP 422).
    #[error("{}", validation_summary(fields))]
    Validation { fields: Vec<FieldError> },
    /// The request could not be understood at all (HTTP 400).
    #[error("{message}")]
    BadRequest { message: String },
    /// The body is larger than the server accepts (HTTP 413).
    #[error("{message}")]
    PayloadTooLarge { message: String },
    /// The body is not in the format the endpoint reads (HTTP 415).
    #[error("{message}")]
    UnsupportedMediaType { message: String },
    /// No valid session (HTTP 401).
    #[error("Please sign in to continue.")]
    Unauthenticated,
    /// Email and password do not match an account (HTTP 401).
    #[error("The email or password is incorrect.")]
    InvalidCredentials,
    /// The account exists but an admin disabled it (HTTP 403).
    #[error("This account has been disabled. Contact an administrator.")]
    AccountDisabled,
    /// Signed in, but not allowed (HTTP 403).
    #[error("You do not have permission to do that.")]
    Forbidden,
    /// A cross-site request was refused (HTTP 403).
    #[error("This request came from another site and was refused.")]
    CrossSite,
    /// HTTP 404.
    #[error("{what} was not found.")]
    NotFound { what: String },
    /// The change conflicts with existing data (HTTP 409).
    #[error("{message}")]
    Conflict { message: String },
    /// Too many attempts (HTTP 429).
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    /// Something failed on the server; its cause goes to the server log only (HTTP 500).
    #[error("Something went wrong on our side. Please try again.")]
    Internal {
        #[serde(skip)]
        cause: Cause,
    },
    /// The browser could not talk to the server (never produced by the server).
    #[error("Could not reach Studyhall. Check your connection and try again.")]
    Network,
}

fn validation_summary(fields: &[FieldError]) -> String {
    match fields {
        [] => "Some fields are invalid.".to_string(),
        [one] => one.message.clone(),
        many => format!("{} fields need attention.", many.len()),
    }
}

impl AppError {
    /// An internal failure caused by `cause` (a database error, say), raised here.
    #[track_caller]
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let at = std::panic::Location::caller();
        AppError::Internal {
            cause: Cause(Some(format!("{cause} (at {at})").into())),
        }
    }

    /// Whether this is an internal failure, whatever its cause.
    pub fn is_internal(&self) -> bool {
        matches!(self, AppError::Internal { .. })
    }

    /// Logs an internal failure's cause, once, where it becomes a response; anything else is the
    /// caller's doing and is not logged. Server only; in the browser a cause never arrives.
    pub fn log_if_internal(&self) {
        #[cfg(feature = "server")]
        if let AppError::Internal { cause } = self {
            tracing::error!(cause = cause.text().unwrap_or("unknown"), "internal error");
        }
    }

    pub fn validation(field: &str, message: &str) -> Self {
        AppError::Validation {
            fields: vec![FieldError::new(field, message)],
        }
    }

    pub fn not_found(what: &str) -> Self {
        AppError::NotFound {
            what: what.to_string(),
        }
    }

    /// The HTTP status this error answers with, in the REST API and from server functions (the
    /// server's `http::server_fns` layer gives their error responses this status, not server_fn's 500).
    pub fn status(&self) -> u16 {
        match self {
            AppError::Validation { .. } => 422,
            AppError::BadRequest { .. } => 400,
            AppError::PayloadTooLarge { .. } => 413,
            AppError::UnsupportedMediaType { .. } => 415,
            AppError::Unauthenticated | AppError::InvalidCredentials => 401,
            AppError::AccountDisabled | AppError::Forbidden | AppError::CrossSite => 403,
            AppError::NotFound { .. } => 404,
            AppError::Conflict { .. } => 409,
            AppError::RateLimited { .. } => 429,
            AppError::Internal { .. } => 500,
            AppError::Network => 503,
        }
    }

    /// The message for one field, if this is a validation error that names it.
    pub fn field_message(&self, field: &str) -> Option<String> {
        match self {
            AppError::Validation { fields } => fields
                .iter()
                .find(|f| f.field == field)
                .map(|f| f.message.clone()),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(detail) | ServerFnErrorErr::MissingArg(detail) => {
                undecodable(&detail)
            }
            // On the server this is the request's arguments failing to decode (size, content type
            // and UTF-8 were checked before, by the server's guard): the caller's mistake. In the
            // browser it is a response that did not decode, which is ours.
            #[cfg(feature = "server")]
            ServerFnErrorErr::Deserialization(detail) => undecodable(&detail),
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => AppError::Network,
            other => AppError::internal(format_args!("server function: {other}")),
        }
    }

    /// The error as a server function's response body: where an internal one is logged.
    fn ser(&self) -> server_fn::Bytes {
        use server_fn::Encodes;
        self.log_if_internal();
        <JsonEncoding as Encodes<Self>>::encode(self).unwrap_or_default()
    }
}

/// Arguments that did not decode, with the decoder's reason (serde's wording, which names the field
/// and what it expected), cut short because it may quote the input.
fn undecodable(detail: &str) -> AppError {
    const MAX: usize = 200;
    let detail = detail.trim();
    let mut reason: String = detail.chars().take(MAX).collect();
    if detail.chars().count() > MAX {
        reason.push('…');
    }
    AppError::BadRequest {
        message: if reason.is_empty() {
            "The request was incomplete or malformed.".to_string()
        } else {
            format!("The request was incomplete or malformed: {reason}")
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_errors_summarise_and_name_fields() {
        let err = AppError::Validation {
            fields: vec![
                FieldError::new("email", "Enter an email address."),
                FieldError::new("password", "Too short."),
            ],
        };
        assert_eq!(err.to_string(), "2 fields need attention.");
        assert_eq!(err.field_message("password").as_deref(), Some("Too short."));
        assert_eq!(err.field_message("name"), None);
        assert_eq!(err.status(), 422);
    }

    #[test]
    fn undecodable_arguments_are_a_400_that_says_why_never_internal() {
        let err =
            AppError::from_server_fn_error(ServerFnErrorErr::Args("missing field `title`".into()));
        assert_eq!(err.status(), 400);
        assert!(err.to_string().contains("missing field `title`"), "{err}");
        let long = AppError::from_server_fn_error(ServerFnErrorErr::MissingArg("x".repeat(5000)));
        assert!(
            long.to_string().chars().count() < 300,
            "the quoted input is cut"
        );
        #[cfg(feature = "server")]
        assert_eq!(
            AppError::from_server_fn_error(ServerFnErrorErr::Deserialization(
                "expected value at line 1 column 1".into()
            ))
            .status(),
            400
        );
        assert!(
            AppError::from_server_fn_error(ServerFnErrorErr::Serialization("boom".into()))
                .is_internal()
        );
        let too_big = AppError::PayloadTooLarge {
            message: "Too big.".into(),
        };
        assert_eq!(too_big.status(), 413);
        let json = serde_json::to_string(&too_big).unwrap();
        assert!(json.contains(r#""code":"payload_too_large""#), "{json}");
        let wrong_type = AppError::UnsupportedMediaType {
            message: "Send JSON.".into(),
        };
        assert_eq!(wrong_type.status(), 415);
        assert_eq!(
            serde_json::from_str::<AppError>(&serde_json::to_string(&wrong_type).unwrap()).unwrap(),
            wrong_type
        );
    }

    #[test]
    fn an_internal_cause_is_kept_for_the_log_and_never_sent() {
        let err = AppError::internal("database: password authentication failed for user x");
        let cause = match &err {
            AppError::Internal { cause } => cause.text().unwrap_or_default().to_string(),
            other => panic!("{other:?}"),
        };
        assert!(cause.contains("password authentication failed"), "{cause}");
        assert!(
            cause.contains("src/error.rs"),
            "where it was raised: {cause}"
        );
        assert_eq!(
            serde_json::to_string(&err).unwrap(),
            r#"{"code":"internal"}"#
        );
        assert_eq!(
            err.to_string(),
            "Something went wrong on our side. Please try again."
        );
        let back: AppError = serde_json::from_str(r#"{"code":"internal"}"#).unwrap();
        assert_eq!(back, err, "every internal error reads the same");
        assert_eq!(err.status(), 500);
    }

    #[test]
    fn errors_round_trip_through_json_with_a_code() {
        let err = AppError::RateLimited {
            message: "Slow down.".into(),
            retry_after_secs: 30,
        };
        let json = serde_json::to_string(&err).unwrap();
        assert!(json.contains(r#""code":"rate_limited""#), "{json}");
        assert_eq!(serde_json::from_str::<AppError>(&json).unwrap(), err);
    }
}
