//! What the HTTP adapters share: the session cookie, the per-request authentication result and the
//! services handed to server functions and handlers.

use crate::accounts::service::{Accounts, Caller};
use crate::server::realtime::Hub;
use crate::server::ClientInfo;

pub const SESSION_COOKIE: &str = "studyhall_session";

/// The session cookie: HttpOnly, SameSite=Lax, Secure when the site is served over https.
pub fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

pub fn clear_session_cookie(secure: bool) -> String {
    session_cookie("", 0, secure)
}

/// The value of one cookie in a `Cookie` request header.
pub fn find_cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// Set on every request by the server's authentication layer.
#[derive(Debug, Clone, Default)]
pub struct RequestAuth {
    /// A signed-in session (cookie or session bearer token).
    pub caller: Option<Caller>,
    /// An admin-made API token, limited to its scopes. Kept apart from `caller` so that only the REST
    /// routes that accept integrations ever see it (server functions and /ws never do).
    pub integration: Option<Caller>,
    pub client: ClientInfo,
}

/// The services server functions and handlers reach through context or state.
#[derive(Debug, Clone)]
pub struct Services {
    pub accounts: Accounts,
    /// The realtime hub: publish committed events here.
    pub hub: Hub,
    /// What is fixed at start-up (settings, stores), behind one pointer: every open socket holds a
    /// copy of `Services`, and `tests` in `server/src/ws` keep a connection within 512 bytes.
    pub shared: std::sync::Arc<Shared>,
}

/// See [`Services::shared`].
#[derive(Debug)]
pub struct Shared {
    /// Whether cookies get the `Secure` attribute (the site is served over https).
    pub secure_cookies: bool,
    /// Chat's limits and file storage.
    pub chat: crate::chat::service::ChatServices,
    /// This node's place among several (its id, limits across nodes, whether it runs the jobs).
    pub cluster: crate::server::cluster::Cluster,
    /// This node's leaderboards, kept up to date from the learning log.
    pub leaderboards: crate::leaderboard::service::Leaderboards,
}

impl Services {
    pub fn secure_cookies(&self) -> bool {
        self.shared.secure_cookies
    }

    pub fn chat(&self) -> &crate::chat::service::ChatServices {
        &self.shared.chat
    }

    pub fn cluster(&self) -> &crate::server::cluster::Cluster {
        &self.shared.cluster
    }

    pub fn leaderboards(&self) -> &crate::leaderboard::service::Leaderboards {
        &self.shared.leaderboards
    }

    /// Max-Age for a browser session cookie: it outlives the short token so the session can renew it.
    pub fn cookie_max_age_secs(&self) -> i64 {
        self.accounts.settings().idle_ttl_ms / 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_http_only_lax_and_secure_on_https() {
        let c = session_cookie("tok", 60, true);
        assert!(c.starts_with("studyhall_session=tok;"));
        for part in ["HttpOnly", "SameSite=Lax", "Secure", "Max-Age=60", "Path=/"] {
            assert!(c.contains(part), "{c}");
        }
        assert!(!session_cookie("tok", 60, false).contains("Secure"));
        assert!(clear_session_cookie(false).contains("Max-Age=0"));
    }

    #[test]
    fn cookies_are_found_by_name() {
        let h = "theme=dark; studyhall_session=abc.def; other=1";
        assert_eq!(find_cookie(h, SESSION_COOKIE), Some("abc.def"));
        assert_eq!(find_cookie(h, "missing"), None);
    }
}
