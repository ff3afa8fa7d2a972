//! Bearer-token checks. Predictions and reads need the API token (or the admin token); the
//! registry, experiments, labels and deletions need the admin token; when `METRICS_TOKEN` is
//! set, `/metrics` and the model details of `/v1/app-info` need it (or the API or admin token).
//! Tokens are compared in constant time and never echoed or logged.

use crate::error::ApiError;

/// Who a route is for, from the least to the most trusted: a token of one level also opens the
/// routes of every level below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Anyone: health, the API description.
    Public,
    /// Whoever watches the service (`METRICS_TOKEN`, e.g. Prometheus): metrics and the model
    /// details of app-info. Public while `METRICS_TOKEN` is unset.
    Metrics,
    /// Callers scoring customers (`API_TOKEN`). Monitoring and `GET /v1/models/{id}` already
    /// show more than metrics do, so this token opens the metrics routes too.
    Api,
    /// Operators changing state (`ADMIN_TOKEN`).
    Admin,
}

impl Role {
    /// The token a role's routes ask for, in error messages.
    fn token_name(self) -> &'static str {
        match self {
            Role::Public => "no",
            Role::Metrics => "the metrics",
            Role::Api => "the API",
            Role::Admin => "the admin",
        }
    }
}

/// The configured secrets.
#[derive(Clone)]
pub struct Tokens {
    /// `API_TOKEN`.
    pub api: Option<String>,
    /// `ADMIN_TOKEN`.
    pub admin: Option<String>,
    /// `METRICS_TOKEN`: unset (or empty) keeps `/metrics` and all of app-info public.
    pub metrics: Option<String>,
}

impl Tokens {
    /// Whether `METRICS_TOKEN` is set, so the metrics routes need a token.
    pub fn metrics_protected(&self) -> bool {
        self.metrics.as_deref().is_some_and(|s| !s.is_empty())
    }
}

impl core::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never print the secrets themselves.
        let shown = |s: &Option<String>| s.as_ref().map(|_| "<set>");
        f.debug_struct("Tokens")
            .field("api", &shown(&self.api))
            .field("admin", &shown(&self.admin))
            .field("metrics", &shown(&self.metrics))
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
    if role == Role::Public || (role == Role::Metrics && !tokens.metrics_protected()) {
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
    // Every secret is compared, so the time taken does not say which one matched.
    let (admin, api, metrics) = (
        matches(&tokens.admin),
        matches(&tokens.api),
        matches(&tokens.metrics),
    );
    let caller = if admin {
        Role::Admin
    } else if api {
        Role::Api
    } else if metrics {
        Role::Metrics
    } else {
        return Err(ApiError::unauthorized(
            "the token is not valid for this route",
        ));
    };
    if caller >= role {
        Ok(())
    } else if role == Role::Admin {
        Err(ApiError::unauthorized(format!(
            "this route changes state and needs the admin token, not {} token",
            caller.token_name()
        )))
    } else {
        Err(ApiError::unauthorized(format!(
            "this route needs {} token (or the admin token), not {} token",
            role.token_name(),
            caller.token_name()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens {
            api: Some("api-secret".into()),
            admin: Some("admin-secret".into()),
            metrics: Some("metrics-secret".into()),
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
        assert!(e.message.contains("admin token, not the API token"), "{e}");
        assert!(authorize(None, Role::Public, &t).is_ok());
        assert!(authorize(Some("Bearer wrong"), Role::Public, &t).is_ok());
    }

    #[test]
    fn the_metrics_token_opens_the_metrics_level_only() {
        let t = tokens();
        assert!(authorize(Some("Bearer metrics-secret"), Role::Metrics, &t).is_ok());
        assert!(authorize(Some("Bearer api-secret"), Role::Metrics, &t).is_ok());
        assert!(authorize(Some("Bearer admin-secret"), Role::Metrics, &t).is_ok());
        assert_eq!(authorize(None, Role::Metrics, &t).unwrap_err().status, 401);
        let e = authorize(Some("Bearer metrics-secret"), Role::Api, &t).unwrap_err();
        assert!(e.message.contains("needs the API token"), "{e}");
        let e = authorize(Some("Bearer metrics-secret"), Role::Admin, &t).unwrap_err();
        assert!(
            e.message.contains("admin token, not the metrics token"),
            "{e}"
        );
        let unset = Tokens {
            metrics: None,
            ..tokens()
        };
        assert!(authorize(None, Role::Metrics, &unset).is_ok());
        assert!(authorize(Some("Bearer wrong"), Role::Metrics, &unset).is_ok());
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
            metrics: Some(String::new()),
        };
        assert!(authorize(Some("Bearer x"), Role::Api, &t).is_err());
        assert!(authorize(Some("Bearer x"), Role::Admin, &t).is_err());
        assert!(authorize(Some("Bearer "), Role::Api, &t).is_err());
        // An empty METRICS_TOKEN is no token: the metrics routes stay public.
        assert!(!t.metrics_protected());
        assert!(authorize(None, Role::Metrics, &t).is_ok());
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
