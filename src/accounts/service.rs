//! Accounts and sessions: registration, sign-in, token authentication, sign-out, password and profile
//! changes. Every adapter (server functions, REST) authenticates through [`Accounts`].

use crate::accounts::sessions::{self, ActiveSession, NewSession};
use crate::accounts::throttle::{self, ThrottleSettings};
use crate::accounts::tokens::{Claims, TokenSigner};
use crate::accounts::{password, users};
use crate::accounts::{ApiScope, ProfileInput, RegisterInput, SessionKind, SessionSummary};
use crate::model::{CohortId, Millis, Role, User};
use crate::server::db::Db;
use crate::server::{now_ms, ClientInfo};
use crate::validate;
use crate::{AppError, FieldError};
use std::str::FromStr;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Lifetime of a browser token. Past half of it the server issues a fresh one in the cookie; an
    /// expired browser token is still renewed while its session is active (idle and absolute limits
    /// below), so this sets how often the cookie turns over and when long-lived connections must
    /// re-authenticate, not how long a session lasts.
    pub token_ttl_ms: Millis,
    /// A browser session ends after this long without a request.
    pub idle_ttl_ms: Millis,
    /// A browser session ends this long after sign-in, however active.
    pub max_ttl_ms: Millis,
    /// Lifetime of a bearer token (and of its session) from the JSON sign-in endpoint.
    pub api_token_ttl_ms: Millis,
    /// How often a session's last-seen time (and its idle expiry) is written, at most: each write
    /// takes SQLite's single write lock, so a page read writes once in this long, not every time.
    pub touch_interval_ms: Millis,
    pub throttle: ThrottleSettings,
}

impl Default for AuthSettings {
    fn default() -> Self {
        const MIN: Millis = 60 * 1000;
        Self {
            token_ttl_ms: 15 * MIN,
            idle_ttl_ms: 7 * 24 * 60 * MIN,
            max_ttl_ms: 30 * 24 * 60 * MIN,
            api_token_ttl_ms: 24 * 60 * MIN,
            touch_interval_ms: 5 * MIN,
            throttle: ThrottleSettings::default(),
        }
    }
}

/// A signed token and when it stops being accepted.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at: Millis,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub session_id: String,
    pub session_handle: String,
    pub kind: SessionKind,
    /// When the presented token expires.
    pub token_expires_at: Millis,
    /// For an API token: what it may do. `None` for a signed-in session, which may do anything its
    /// user may.
    pub scopes: Option<Vec<ApiScope>>,
}

impl Caller {
    pub fn is(&self, role: Role) -> bool {
        self.user.role == role
    }

    /// Refuses an API token without `scope`; sessions pass.
    pub fn require_scope(&self, scope: ApiScope) -> Result<(), AppError> {
        match &self.scopes {
            Some(scopes) if !scopes.contains(&scope) => Err(AppError::Forbidden),
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    pub session_handle: String,
    pub token: IssuedToken,
}

#[derive(Debug, Clone)]
pub struct Authenticated {
    pub caller: Caller,
    /// A fresh token when the presented browser token is past half its life.
    pub renewed: Option<IssuedToken>,
}

#[derive(Clone, Debug)]
pub struct Accounts {
    db: Db,
    signer: TokenSigner,
    settings: Arc<AuthSettings>,
}

/// Full time-zone check against the IANA database (the shared validator checks only the shape).
pub fn time_zone(raw: &str) -> Result<String, FieldError> {
    let value = validate::time_zone_shape(raw)?;
    chrono_tz::Tz::from_str(&value)
        .map(|tz| tz.name().to_string())
        .map_err(|_| FieldError::new("time_zone", "Choose a time zone from the list."))
}

/// Every IANA time-zone name, for pickers.
pub fn time_zone_names() -> Vec<&'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect()
}

/// Validates and inserts a user with any role; used by self-registration and by admins.
pub async fn create_user(
    db: &Db,
    email: &str,
    display_name: &str,
    password_plain: &str,
    tz: &str,
    role: Role,
    cohort_id: Option<CohortId>,
) -> Result<User, AppError> {
    let email = validate::email(email);
    let name = validate::display_name(display_name);
    let pw = validate::password("password", password_plain);
    let tz = time_zone(tz);
    validate::collect([
        email.as_ref().err().cloned(),
        name.as_ref().err().cloned(),
        pw.err(),
        tz.as_ref().err().cloned(),
    ])?;
    let (email, name, tz) = (email.unwrap(), name.unwrap(), tz.unwrap());
    let hash = password::hash(password_plain.to_string()).await?;
    users::insert(
        db,
        users::NewUser {
            email: &email,
            display_name: &name,
            role,
            time_zone: &tz,
            password_hash: &hash,
            cohort_id,
        },
        now_ms(),
    )
    .await
}

impl Accounts {
    pub fn new(db: Db, signer: TokenSigner, settings: AuthSettings) -> Self {
        Self {
            db,
            signer,
            settings: Arc::new(settings),
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// Self-registration: always a student.
    pub async fn register(&self, input: &RegisterInput) -> Result<User, AppError> {
        create_user(
            &self.db,
            &input.email,
            &input.display_name,
            &input.password,
            &input.time_zone,
            Role::Student,
            None,
        )
        .await
    }

    /// Checks credentials (throttled per account and per address) and starts a session.
    pub async fn sign_in(
        &self,
        email: &str,
        password_plain: &str,
        kind: SessionKind,
        client: &ClientInfo,
    ) -> Result<SignedIn, AppError> {
        let account = email.trim().to_lowercase();
        let ip = client.ip.clone().unwrap_or_else(|| "unknown".into());
        if account.is_empty() || password_plain.is_empty() {
            return Err(AppError::Validation {
                fields: [
                    account
                        .is_empty()
                        .then(|| FieldError::new("email", "Enter your email address.")),
                    password_plain
                        .is_empty()
                        .then(|| FieldError::new("password", "Enter your password.")),
                ]
                .into_iter()
                .flatten()
                .collect(),
            });
        }
        let now = now_ms();
        throttle::check(&self.db, &self.settings.throttle, &account, &ip, now).await?;
        // Count the attempt before the (slow) password check, so parallel guesses cannot all slip
        // under the limit; a success below forgives it.
        throttle::record_failure(&self.db, &account, &ip, now).await?;
        let found = users::find_with_hash(&self.db, &account).await?;
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), Some(hash)),
            None => (None, None),
        };
        let ok = password::verify(password_plain.to_string(), hash).await;
        let user = match (ok, user) {
            (true, Some(user)) => user,
            _ => {
                tracing::info!(%ip, "failed sign-in");
                return Err(AppError::InvalidCredentials);
            }
        };
        if user.disabled {
            return Err(AppError::AccountDisabled);
        }
        throttle::clear_account(&self.db, &account).await?;
        users::touch_last_seen(&self.db, user.id, now).await?;
        let (session, token) = self.start_session(&user, kind, client, now).await?;
        // The security log on the profile page, not the feed (sign-ins there were only noise).
        crate::accounts::sign_ins::record(&self.db, user.id, kind, client, now).await;
        tracing::info!(user = user.id, kind = kind.as_str(), "signed in");
        Ok(SignedIn {
            user,
            session_handle: session.handle,
            token,
        })
    }

    async fn start_session(
        &self,
        user: &User,
        kind: SessionKind,
        client: &ClientInfo,
        now: Millis,
    ) -> Result<(ActiveSession, IssuedToken), AppError> {
        let (idle, max) = match kind {
            SessionKind::Browser => (self.settings.idle_ttl_ms, self.settings.max_ttl_ms),
            SessionKind::Api => (
                self.settings.api_token_ttl_ms,
                self.settings.api_token_ttl_ms,
            ),
        };
        let session = sessions::create(
            &self.db,
            NewSession {
                user_id: user.id,
                kind,
                idle_ttl_ms: idle,
                max_ttl_ms: max,
                user_agent: client.user_agent.as_deref(),
                ip: client.ip.as_deref(),
            },
            now,
        )
        .await?;
        let token = self.issue(&session, now);
        Ok((session, token))
    }

    fn issue(&self, session: &ActiveSession, now: Millis) -> IssuedToken {
        let expires_at = match session.kind {
            SessionKind::Browser => (now + self.settings.token_ttl_ms).min(session.expires_at),
            SessionKind::Api => session.expires_at,
        };
        let claims = Claims {
            sub: session.user_id.to_string(),
            sid: session.id.clone(),
            kind: session.kind,
            iat: now / 1000,
            exp: expires_at / 1000,
        };
        IssuedToken {
            token: self.signer.sign(&claims),
            expires_at: (expires_at / 1000) * 1000,
        }
    }

    /// Resolves a presented token to its caller. Browser tokens past half their life are renewed from
    /// the session; bearer tokens are good until they expire. Revoked or expired sessions and disabled
    /// users are refused.
    pub async fn authenticate(&self, token: &str) -> Result<Authenticated, AppError> {
        let now = now_ms();
        let claims = self
            .signer
            .verify(token)
            .map_err(|_| AppError::Unauthenticated)?;
        let user_id = claims.user_id().ok_or(AppError::Unauthenticated)?;
        if claims.kind == SessionKind::Api && claims.expires_at_ms() <= now {
            return Err(AppError::Unauthenticated);
        }
        let session = sessions::find_active(&self.db, &claims.sid, now)
            .await?
            .filter(|s| s.user_id == user_id && s.kind == claims.kind)
            .ok_or(AppError::Unauthenticated)?;
        let user = users::find(&self.db, user_id)
            .await?
            .filter(|u| !u.disabled)
            .ok_or(AppError::Unauthenticated)?;
        // Bookkeeping, not the request's business: a touch that fails (SQLite's write lock busy past
        // its timeout) is logged and the request goes on; the next one due tries again. Never more
        // often than half the idle limit, so a session in use cannot lapse between two touches.
        let every = self
            .settings
            .touch_interval_ms
            .min(self.settings.idle_ttl_ms / 2);
        if now - session.last_seen_at >= every {
            if let Err(e) =
                sessions::touch(&self.db, &session.id, now, self.settings.idle_ttl_ms).await
            {
                tracing::warn!(error = ?e, user = user.id, "could not touch the session; going on");
            } else if let Err(e) = users::touch_last_seen(&self.db, user.id, now).await {
                tracing::warn!(error = ?e, user = user.id, "could not store last-seen; going on");
            }
        }
        let renewed = (session.kind == SessionKind::Browser
            && claims.expires_at_ms() - now < self.settings.token_ttl_ms / 2)
            .then(|| self.issue(&session, now));
        let token_expires_at = renewed
            .as_ref()
            .map_or(claims.expires_at_ms(), |t| t.expires_at);
        Ok(Authenticated {
            caller: Caller {
                user,
                session_id: session.id,
                session_handle: session.handle,
                kind: session.kind,
                token_expires_at,
                scopes: None,
            },
            renewed,
        })
    }

    pub async fn sign_out(&self, caller: &Caller) -> Result<(), AppError> {
        sessions::revoke(&self.db, &caller.session_id, now_ms()).await?;
        tracing::info!(user = caller.user.id, "signed out");
        Ok(())
    }

    /// Changes the caller's password and signs out every other session of theirs.
    pub async fn change_password(
        &self,
        caller: &Caller,
        current: &str,
        new: &str,
    ) -> Result<u64, AppError> {
        validate::collect([validate::password("new_password", new).err()])?;
        // Guessing the current password from a stolen session is throttled like signing in.
        let account = caller.user.email.clone();
        let key = format!("password-change:{}", caller.user.id);
        let now = now_ms();
        throttle::check(&self.db, &self.settings.throttle, &account, &key, now).await?;
        let hash = users::password_hash(&self.db, caller.user.id).await?;
        if !password::verify(current.to_string(), Some(hash)).await {
            throttle::record_failure(&self.db, &account, &key, now).await?;
            return Err(AppError::validation(
                "current_password",
                "Your current password is not correct.",
            ));
        }
        if current == new {
            return Err(AppError::validation(
                "new_password",
                "Choose a password different from the current one.",
            ));
        }
        let new_hash = password::hash(new.to_string()).await?;
        users::set_password_hash(&self.db, caller.user.id, &new_hash, now).await?;
        let revoked =
            sessions::revoke_all(&self.db, caller.user.id, Some(&caller.session_id), now).await?;
        tracing::info!(user = caller.user.id, revoked, "password changed");
        Ok(revoked)
    }

    pub async fn update_profile(
        &self,
        caller: &Caller,
        input: &ProfileInput,
    ) -> Result<User, AppError> {
        let name = validate::display_name(&input.display_name);
        let tz = time_zone(&input.time_zone);
        validate::collect([name.as_ref().err().cloned(), tz.as_ref().err().cloned()])?;
        users::set_profile(&self.db, caller.user.id, &name.unwrap(), &tz.unwrap()).await?;
        users::get(&self.db, caller.user.id).await
    }

    pub async fn my_sessions(&self, caller: &Caller) -> Result<Vec<SessionSummary>, AppError> {
        sessions::list_active(&self.db, &caller.user, Some(&caller.session_id), now_ms()).await
    }

    pub async fn revoke_my_session(&self, caller: &Caller, handle: &str) -> Result<(), AppError> {
        if sessions::revoke_by_handle(&self.db, caller.user.id, handle, now_ms()).await? {
            Ok(())
        } else {
            Err(AppError::not_found("That session"))
        }
    }
}
