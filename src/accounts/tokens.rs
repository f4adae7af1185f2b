//! Signed session tokens (JWT, HS256). A token names a server-side session; the session record decides
//! whether it is still good, so revocation takes effect at once.

use crate::accounts::SessionKind;
use crate::model::{Millis, UserId};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id, as the JWT `sub` claim.
    pub sub: String,
    /// The session id (secret).
    pub sid: String,
    pub kind: SessionKind,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expires at, seconds since the epoch.
    pub exp: i64,
}

impl Claims {
    pub fn user_id(&self) -> Option<UserId> {
        self.sub.parse().ok()
    }

    pub fn expires_at_ms(&self) -> Millis {
        self.exp * 1000
    }
}

/// Signs and verifies tokens with the process's secret. `Debug` never shows the key.
#[derive(Clone)]
pub struct TokenSigner {
    encoding: Arc<EncodingKey>,
    decoding: Arc<DecodingKey>,
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenSigner { key: <redacted> }")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token is malformed or its signature is wrong")]
    Invalid,
}

impl TokenSigner {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            encoding: Arc::new(EncodingKey::from_secret(secret)),
            decoding: Arc::new(DecodingKey::from_secret(secret)),
        }
    }

    pub fn sign(&self, claims: &Claims) -> String {
        encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .expect("HS256 signing of plain claims cannot fail")
    }

    /// Verifies the signature and shape. Expiry is left to the caller, who knows whether an expired
    /// browser token may be renewed from its session.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        decode::<Claims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|_| TokenError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            sub: "7".into(),
            sid: "abc".into(),
            kind: SessionKind::Browser,
            iat: 1,
            exp: 2,
        }
    }

    #[test]
    fn tokens_verify_with_their_key_only() {
        let signer = TokenSigner::new(b"0123456789abcdef0123456789abcdef");
        let token = signer.sign(&claims());
        assert_eq!(signer.verify(&token).unwrap(), claims());
        assert_eq!(signer.verify(&token).unwrap().user_id(), Some(7));
        let other = TokenSigner::new(b"another secret of enough length!");
        assert_eq!(other.verify(&token), Err(TokenError::Invalid));
        let mut tampered = token.clone();
        tampered.pop();
        assert_eq!(signer.verify(&tampered), Err(TokenError::Invalid));
        assert!(!format!("{signer:?}").contains("0123"));
    }
}
