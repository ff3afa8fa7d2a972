//! Bearer-token checks. Predictions need the API token (or the admin token); the registry,
//! experiments, labels and deletions need the admin token. Tokens are compared in constant
//! time and never echoed or logged.

use crate::error::ApiError;

/// Who a route is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Anyone: health, app info, metrics.
    Public,
    /// Callers scoring customers (`API_TOKEN`).
    Api,
    /// Operators changing state (`ADMIN_TOKEN`).
    Admin,
}

/// The configured secrets.
#[derive(Clone)]
pub struct Tokens {
    /// `API_TOKEN`.
    pub api: Option<String>,
    /// `ADMIN_TOKEN`.
    pub admin: Option<String>,
}

impl core::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never print the secrets themselves.
        f.debug_struct("Tokens")
            .field("api", &self.api.as_ref().map(|_| "<set>"))
            .field("admin", &self.admin.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// Equality whose running time depends only on the lengths, so a caller cannot learn a token
/// byte by byte from response times.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks the `Authorization` header for `role`.
pub fn authorize(header: Option<&str>, role: Role, tokens: &Tokens) -> Result<(), ApiError> {
    if role == Role::Public {
        return Ok(());
    }
    let presented = header
        .and_then(|h| {
            let (scheme, token) = h.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized("send the token as `Authorization: Bearer <token>`")
        })?;
    let matches = |secret: &Option<String>| {
        secret
            .as_deref()
            .is_some_and(|s| !s.is_empty() && constant_time_eq(s.as_bytes(), presented.as_bytes()))
    };
    let allowed = match role {
        Role::Public => true,
        Role::Api => matches(&tokens.api) | matches(&tokens.admin),
        Role::Admin => matches(&tokens.admin),
    };
    if allowed {
        Ok(())
    } else if role == Role::Admin && matches(&tokens.api) {
        Err(ApiError::unauthorized(
            "this route changes state and needs the admin token, not the API token",
        ))
    } else {
        Err(ApiError::unauthorized(
            "the token is not valid for this route",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens {
            api: Some("api-secret".into()),
            admin: Some("admin-secret".into()),
        }
    }

    #[test]
    fn roles_accept_their_tokens_only() {
        let t = tokens();
        assert!(authorize(Some("Bearer api-secret"), Role::Api, &t).is_ok());
        assert!(authorize(Some("bearer admin-secret"), Role::Api, &t).is_ok());
        assert!(authorize(Some("Bearer admin-secret"), Role::Admin, &t).is_ok());
        let e = authorize(Some("Bearer api-secret"), Role::Admin, &t).unwrap_err();
        assert_eq!(e.status, 401);
        assert!(e.message.contains("admin token"));
        assert!(authorize(None, Role::Public, &t).is_ok());
    }

    #[test]
    fn missing_malformed_and_wrong_tokens_are_401() {
        let t = tokens();
        for header in [
            None,
            Some(""),
            Some("api-secret"),
            Some("Basic api-secret"),
            Some("Bearer "),
            Some("Bearer api-secreT"),
        ] {
            let e = authorize(header, Role::Api, &t).unwrap_err();
            assert_eq!(e.status, 401, "{header:?}");
            assert!(
                !e.to_json().contains("secret"),
                "tokens never appear in errors"
            );
        }
    }

    #[test]
    fn unset_secrets_never_match() {
        let t = Tokens {
            api: Some(String::new()),
            admin: None,
        };
        assert!(authorize(Some("Bearer x"), Role::Api, &t).is_err());
        assert!(authorize(Some("Bearer x"), Role::Admin, &t).is_err());
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn debug_hides_secrets() {
        assert!(!format!("{:?}", tokens()).contains("secret"));
    }
}
