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

/// The stable, machine-readable `error` of an answer. Every code the API can answer is one of
/// these ([`ErrorCode::ALL`]); `worker/openapi.yaml` lists the same set, which
/// `edge/tests/api_docs.rs` checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 400 `bad_request`.
    BadRequest,
    /// 400 `invalid_fields`.
    InvalidFields,
    /// 401 `unauthorized`.
    Unauthorized,
    /// 403 `forbidden`.
    Forbidden,
    /// 404 `not_found`.
    NotFound,
    /// 405 `method_not_allowed`.
    MethodNotAllowed,
    /// 409 `conflict`.
    Conflict,
    /// 413 `payload_too_large`.
    PayloadTooLarge,
    /// 503 `unavailable`.
    Unavailable,
    /// 503 `registry_busy`.
    RegistryBusy,
    /// 500 `misconfigured`.
    Misconfigured,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 11] = [
        ErrorCode::BadRequest,
        ErrorCode::InvalidFields,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Conflict,
        ErrorCode::PayloadTooLarge,
        ErrorCode::Unavailable,
        ErrorCode::RegistryBusy,
        ErrorCode::Misconfigured,
    ];

    /// The code as it appears in answers, metrics and the OpenAPI file.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::InvalidFields => "invalid_fields",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::RegistryBusy => "registry_busy",
            ErrorCode::Misconfigured => "misconfigured",
        }
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl core::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The words of a storage error that say what went wrong without quoting the statement: D1's
/// error prefixes, SQLite's result codes (a longer extended code such as `SQLITE_IOERR_READ`
/// contains its primary one) and the few fixed SQLite and D1 messages an operator acts on.
const STORAGE_ERROR_WORDS: [&str; 32] = [
    "D1_ERROR",
    "D1_TYPE_ERROR",
    "D1_COLUMN_NOTFOUND",
    "D1_EXEC_ERROR",
    "D1_DUMP_ERROR",
    "D1_SESSION_ERROR",
    "SQLITE_ERROR",
    "SQLITE_INTERNAL",
    "SQLITE_PERM",
    "SQLITE_ABORT",
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_NOMEM",
    "SQLITE_READONLY",
    "SQLITE_INTERRUPT",
    "SQLITE_IOERR",
    "SQLITE_CORRUPT",
    "SQLITE_FULL",
    "SQLITE_CANTOPEN",
    "SQLITE_CONSTRAINT",
    "SQLITE_SCHEMA",
    "SQLITE_TOOBIG",
    "SQLITE_MISMATCH",
    "SQLITE_RANGE",
    "SQLITE_NOTADB",
    "SQLITE_AUTH",
    "no such table",
    "no such column",
    "database is locked",
    "Network connection lost",
    "exceeded timeout",
    "overloaded",
];

/// What kind of storage failure an error is, in words that cannot carry a customer's data or a
/// token: `variant` (the runtime's name for the error's kind, e.g. `D1`) and those of
/// [`STORAGE_ERROR_WORDS`] that `detail` (the error's whole text) contains, never `detail`
/// itself. D1's messages can quote what a statement was bound to (SQLite's JSON path errors
/// quote the path, D1's type errors the value), and here that is customer ids and inputs.
pub fn storage_error_kind(variant: &str, detail: &str) -> String {
    let words: Vec<&str> = STORAGE_ERROR_WORDS
        .into_iter()
        .filter(|w| detail.contains(w))
        .collect();
    if words.is_empty() {
        variant.to_string()
    } else {
        format!("{variant}: {}", words.join(", "))
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
    pub error: ErrorCode,
    /// A sentence for the person integrating the API.
    pub message: String,
    /// Every problem found, by field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

impl ApiError {
    fn new(status: u16, error: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            error,
            message: message.into(),
            problems: Vec::new(),
        }
    }

    /// 400: the body is not what the route expects.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, ErrorCode::BadRequest, message)
    }

    /// 400 listing every field that is wrong.
    pub fn invalid_fields(problems: Vec<Problem>) -> Self {
        let n = problems.len();
        ApiError {
            problems,
            ..Self::new(
                400,
                ErrorCode::InvalidFields,
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
        Self::new(401, ErrorCode::Unauthorized, message)
    }

    /// 403: the caller is known and refused (a browser page on an origin not allowed).
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, ErrorCode::Forbidden, message)
    }

    /// 404: no such route, model or resource.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, ErrorCode::NotFound, message)
    }

    /// 405: the route exists but not with this method.
    pub fn method_not_allowed(allowed: &str) -> Self {
        Self::new(
            405,
            ErrorCode::MethodNotAllowed,
            format!("this route accepts {allowed}"),
        )
    }

    /// 409: the request conflicts with the registry's state.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(409, ErrorCode::Conflict, message)
    }

    /// 413: body or batch too large.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(413, ErrorCode::PayloadTooLarge, message)
    }

    /// 503: the service cannot answer right now (no usable model, storage unreachable).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, ErrorCode::Unavailable, message)
    }

    /// 503 `registry_busy`: a registry change kept losing the race to other admins' changes
    /// and was given up without being written; the client retries it (`Retry-After`).
    pub fn registry_busy(message: impl Into<String>) -> Self {
        Self::new(503, ErrorCode::RegistryBusy, message)
    }

    /// 500: the deployment's configuration is wrong; the message names the setting to fix.
    pub fn misconfigured(message: impl Into<String>) -> Self {
        Self::new(500, ErrorCode::Misconfigured, message)
    }

    /// The JSON body.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| {
            // Serialising plain strings cannot fail; keep a valid body, with the same code,
            // regardless (codes are plain identifiers: nothing to escape).
            format!(
                r#"{{"error":"{}","message":"the error's message could not be written"}}"#,
                self.error
            )
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
    fn all_holds_every_code_once() {
        // The match has no wildcard: a new code fails to compile here until it has a place.
        let position = |c: ErrorCode| match c {
            ErrorCode::BadRequest => 0,
            ErrorCode::InvalidFields => 1,
            ErrorCode::Unauthorized => 2,
            ErrorCode::Forbidden => 3,
            ErrorCode::NotFound => 4,
            ErrorCode::MethodNotAllowed => 5,
            ErrorCode::Conflict => 6,
            ErrorCode::PayloadTooLarge => 7,
            ErrorCode::Unavailable => 8,
            ErrorCode::RegistryBusy => 9,
            ErrorCode::Misconfigured => 10,
        };
        for (k, code) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(position(*code), k, "{code}");
        }
        let texts: std::collections::BTreeSet<_> =
            ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(texts.len(), ErrorCode::ALL.len());
    }

    #[test]
    fn a_storage_error_kind_never_quotes_the_statement() {
        // What local D1 answered when a trigger evaluated a customer id as a JSON path.
        let detail = "D1: D1Error {\n    cause: JsValue(Error: bad JSON path: 'cust-7e1f': \
                      SQLITE_ERROR\n        at D1DatabaseSessionAlwaysPrimary._sendOrThrow)\n}";
        assert_eq!(storage_error_kind("D1", detail), "D1: SQLITE_ERROR");
        assert_eq!(
            storage_error_kind(
                "UnknownJsError",
                "D1_TYPE_ERROR: Type 'object' not supported for value 'tok-9a'"
            ),
            "UnknownJsError: D1_TYPE_ERROR"
        );
        assert_eq!(
            storage_error_kind("D1", "D1_ERROR: no such table: labels: SQLITE_ERROR"),
            "D1: D1_ERROR, SQLITE_ERROR, no such table"
        );
        assert_eq!(
            storage_error_kind("JsError", "fetch to https://hooks.example/T0/secret failed"),
            "JsError"
        );
    }

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
