//! Every route of the edge API against every kind of caller, with what each gets: one table
//! checked twice, natively against the auth rules (`edge/tests/auth.rs`) and over HTTP against
//! the worker in `wrangler dev` (`tests/tests/worker.rs`).

/// The tokens both checks configure.
pub const API_TOKEN: &str = "test-api-token";
/// `ADMIN_TOKEN`.
pub const ADMIN_TOKEN: &str = "test-admin-token";
/// `METRICS_TOKEN` (when the check sets it).
pub const METRICS_TOKEN: &str = "test-metrics-token";
/// A bearer token that is none of them.
pub const WRONG_TOKEN: &str = "not-a-configured-token";

/// What a caller gets from a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Past the auth check: the route's whole answer.
    Full,
    /// `/v1/app-info`'s public part only (status and active version).
    StatusOnly,
    /// 401.
    Refused,
}

use Outcome::{Full as OK, Refused as NO, StatusOnly as STATUS};

/// The callers, in the order of a row's outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// No `Authorization` header.
    NoToken,
    /// A bearer token that is not configured.
    Wrong,
    /// `METRICS_TOKEN` (with it unset, just another unknown token).
    Metrics,
    /// `API_TOKEN`.
    Api,
    /// `ADMIN_TOKEN`.
    Admin,
}

/// The table's columns.
pub const CALLERS: [Caller; 5] = [
    Caller::NoToken,
    Caller::Wrong,
    Caller::Metrics,
    Caller::Api,
    Caller::Admin,
];

impl Caller {
    /// The bearer token this caller sends.
    pub fn token(self) -> Option<&'static str> {
        match self {
            Caller::NoToken => None,
            Caller::Wrong => Some(WRONG_TOKEN),
            Caller::Metrics => Some(METRICS_TOKEN),
            Caller::Api => Some(API_TOKEN),
            Caller::Admin => Some(ADMIN_TOKEN),
        }
    }
}

/// One route: a request to it and what each caller gets.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// HTTP method.
    pub method: &'static str,
    /// Path (ids are placeholders no fresh worker knows).
    pub path: &'static str,
    /// A body that changes nothing on a fresh worker once past auth.
    pub body: Option<&'static str>,
    /// What a caller past auth gets from a fresh worker (no model published): the handler's
    /// own answer, which shows the request really got through.
    pub fresh_status: u16,
    /// Outcomes by caller ([`CALLERS`] order) with `METRICS_TOKEN` set.
    pub with_metrics_token: [Outcome; 5],
    /// The same with `METRICS_TOKEN` unset: the metrics routes are public.
    pub without_metrics_token: [Outcome; 5],
}

const fn row(
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    fresh_status: u16,
    with_metrics_token: [Outcome; 5],
    without_metrics_token: [Outcome; 5],
) -> Row {
    Row {
        method,
        path,
        body,
        fresh_status,
        with_metrics_token,
        without_metrics_token,
    }
}

const PUBLIC: [Outcome; 5] = [OK, OK, OK, OK, OK];
const METRICS: [Outcome; 5] = [NO, NO, OK, OK, OK];
const API: [Outcome; 5] = [NO, NO, NO, OK, OK];
const ADMIN: [Outcome; 5] = [NO, NO, NO, NO, OK];

/// Every route (columns: no token, wrong token, metrics token, API token, admin token).
pub const ROUTES: &[Row] = &[
    row("GET", "/v1/health", None, 503, PUBLIC, PUBLIC),
    row("GET", "/v1/openapi.yaml", None, 200, PUBLIC, PUBLIC),
    row(
        "GET",
        "/v1/app-info",
        None,
        200,
        [STATUS, NO, OK, OK, OK],
        PUBLIC,
    ),
    row("GET", "/metrics", None, 200, METRICS, PUBLIC),
    row(
        "POST",
        "/v1/predict",
        Some(r#"{"customer_id": "C-auth"}"#),
        503,
        API,
        API,
    ),
    row(
        "POST",
        "/v1/predict/batch",
        Some(r#"{"customers": [{"customer_id": "C-auth"}]}"#),
        503,
        API,
        API,
    ),
    row("GET", "/v1/models", None, 200, API, API),
    row("GET", "/v1/models/m-auth", None, 404, API, API),
    row("GET", "/v1/experiment", None, 200, API, API),
    row("GET", "/v1/monitoring", None, 503, API, API),
    row("PUT", "/v1/models/m-auth", Some("{}"), 400, ADMIN, ADMIN),
    row(
        "POST",
        "/v1/models/m-auth/activate",
        None,
        404,
        ADMIN,
        ADMIN,
    ),
    row("POST", "/v1/rollback", None, 409, ADMIN, ADMIN),
    row("PUT", "/v1/experiment", Some("{}"), 400, ADMIN, ADMIN),
    row("DELETE", "/v1/experiment", None, 404, ADMIN, ADMIN),
    row(
        "POST",
        "/v1/labels",
        Some(r#"{"labels": []}"#),
        400,
        ADMIN,
        ADMIN,
    ),
    row("DELETE", "/v1/customers/C-auth", None, 200, ADMIN, ADMIN),
];
