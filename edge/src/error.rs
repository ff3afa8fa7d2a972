//! The API's error responses: an HTTP status and a JSON body naming every problem.

use serde::Serialize;

/// One problem with one part of a request (`field` is a JSON path such as `tenure_months` or
/// `customers[3].plan`; empty when the problem is the request as a whole).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Where the problem is.
    pub field: String,
    /// What is wrong and what to send instead.
    pub message: String,
}

impl Problem {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An error answer: a 4xx or 503, or 500 for a worker whose configuration cannot be read;
/// never a panic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiError {
    /// HTTP status code.
    #[serde(skip)]
    pub status: u16,
    /// Stable machine-readable code, e.g. `invalid_fields`.
    pub error: &'static str,
    /// A sentence for the person integrating the API.
    pub message: String,
    /// Every problem found, by field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

impl ApiError {
    fn new(status: u16, error: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            error,
            message: message.into(),
            problems: Vec::new(),
        }
    }

    /// 400: the body is not what the route expects.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "bad_request", message)
    }

    /// 400 listing every field that is wrong.
    pub fn invalid_fields(problems: Vec<Problem>) -> Self {
        let n = problems.len();
        ApiError {
            problems,
            ..Self::new(
                400,
                "invalid_fields",
                format!(
                    "{n} field{} of the request {} invalid: see `problems`",
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "is" } else { "are" }
                ),
            )
        }
    }

    /// 401: missing or wrong token.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, "unauthorized", message)
    }

    /// 403: the caller is known and refused (a browser page on an origin not allowed).
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "forbidden", message)
    }

    /// 404: no such route, model or resource.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "not_found", message)
    }

    /// 405: the route exists but not with this method.
    pub fn method_not_allowed(allowed: &str) -> Self {
        Self::new(
            405,
            "method_not_allowed",
            format!("this route accepts {allowed}"),
        )
    }

    /// 409: the request conflicts with the registry's state.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(409, "conflict", message)
    }

    /// 413: body or batch too large.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(413, "payload_too_large", message)
    }

    /// 503: the service cannot answer right now (no usable model, storage unreachable).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "unavailable", message)
    }

    /// 503 `registry_busy`: a registry change kept losing the race to other admins' changes
    /// and was given up without being written; the client retries it (`Retry-After`).
    pub fn registry_busy(message: impl Into<String>) -> Self {
        Self::new(503, "registry_busy", message)
    }

    /// 500: the deployment's configuration is wrong; the message names the setting to fix.
    pub fn misconfigured(message: impl Into<String>) -> Self {
        Self::new(500, "misconfigured", message)
    }

    /// The JSON body.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| {
            // Serialising plain strings cannot fail; keep a valid body regardless.
            String::from(r#"{"error":"internal","message":"error body could not be written"}"#)
        })
    }
}

impl core::fmt::Display for ApiError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.error, self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_fields_lists_problems_in_the_body() {
        let e = ApiError::invalid_fields(vec![
            Problem::new("tenure", "expected a number"),
            Problem::new("plan", "expected a string"),
        ]);
        assert_eq!(e.status, 400);
        let body: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(body["error"], "invalid_fields");
        assert_eq!(body["problems"][1]["field"], "plan");
        assert!(body["message"].as_str().unwrap().starts_with("2 fields"));
        assert!(body.get("status").is_none());
    }
}
