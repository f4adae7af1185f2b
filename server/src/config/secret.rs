//! The token-signing secret (never printed), the development secret kept in the data directory, and
//! redacting passwords from database URLs.

use super::source::{invalid, ConfigError, Source};
use std::fmt;
use std::path::Path;

/// The token-signing secret. Never printed.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(bytes)
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Hides the password in a database URL (`postgres://user:pw@host/db`).
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => {
                    format!("{}{}:<redacted>{}", &url[..scheme + 3], user, &url[at..])
                }
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// The signing secret: `STUDYHALL_SECRET`, required in production; in development one kept in the data
/// directory.
pub(super) fn read<F: Fn(&str) -> Option<String>>(
    src: &Source<F>,
    production: bool,
    data_dir: &Path,
) -> Result<Secret, ConfigError> {
    Ok(match src.get("STUDYHALL_SECRET") {
        Some(s) if s.len() >= 32 => Secret::new(s.into_bytes()),
        Some(_) => {
            return Err(invalid(
                "STUDYHALL_SECRET",
                "must be at least 32 characters",
            ))
        }
        None if production => {
            return Err(ConfigError::Production(
                "STUDYHALL_SECRET must be set in production (at least 32 random characters)".into(),
            ))
        }
        None => load_or_create_dev_secret(data_dir)?,
    })
}

/// In development the secret is generated once and kept in the data directory (mode 0600).
fn load_or_create_dev_secret(data_dir: &Path) -> Result<Secret, ConfigError> {
    use base64::Engine;
    use rand::RngCore;
    let path = data_dir.join("secret.key");
    let io = |source| ConfigError::Io {
        path: path.clone(),
        source,
    };
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_string();
        if existing.len() >= 32 {
            return Ok(Secret::new(existing.into_bytes()));
        }
    }
    std::fs::create_dir_all(data_dir).map_err(|source| ConfigError::Io {
        path: data_dir.to_path_buf(),
        source,
    })?;
    let mut bytes = [0u8; 48];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    std::fs::write(&path, &secret).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    Ok(Secret::new(secret.into_bytes()))
}
