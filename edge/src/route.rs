//! Which route a method and path name, and who may call it.

use crate::auth::{authorize, Role, Tokens};
use crate::ApiError;

/// A matched route. Ids in paths are carried along; `pattern` names the route in metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /v1/health`
    Health,
    /// `GET /v1/app-info` (its status is public; its model details follow [`Role::Metrics`])
    AppInfo,
    /// `GET /metrics`
    Metrics,
    /// `GET /v1/openapi.yaml`
    OpenApi,
    /// `POST /v1/predict`
    Predict,
    /// `POST /v1/predict/batch`
    PredictBatch,
    /// `GET /v1/models`
    ListModels,
    /// `GET /v1/models/{id}`
    GetModel(String),
    /// `PUT /v1/models/{id}`
    PutModel(String),
    /// `POST /v1/models/{id}/activate`
    Activate(String),
    /// `POST /v1/rollback`
    Rollback,
    /// `GET /v1/experiment`
    GetExperiment,
    /// `PUT /v1/experiment`
    PutExperiment,
    /// `DELETE /v1/experiment`
    EndExperiment,
    /// `POST /v1/labels`
    Labels,
    /// `GET /v1/monitoring`
    Monitoring,
    /// `DELETE /v1/customers/{id}`
    DeleteCustomer(String),
}

/// How much of its answer a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Everything the route answers.
    Full,
    /// `/v1/app-info` without a token while `METRICS_TOKEN` is set: status and active version.
    StatusOnly,
}

/// The query string of a full request URL (after `?`, before any `#`; empty without one).
pub fn query_of(url: &str) -> &str {
    let url = url.split('#').next().unwrap_or_default();
    url.split_once('?').map_or("", |(_, query)| query)
}

impl Route {
    /// Matches `method` and `path` (without the query string).
    pub fn parse(method: &str, path: &str) -> Result<Route, ApiError> {
        let route = match (method, segments(path).as_slice()) {
            ("GET", ["v1", "health"]) => Route::Health,
            ("GET", ["v1", "app-info"]) => Route::AppInfo,
            ("GET", ["metrics"]) => Route::Metrics,
            ("GET", ["v1", "openapi.yaml"]) => Route::OpenApi,
            ("POST", ["v1", "predict"]) => Route::Predict,
            ("POST", ["v1", "predict", "batch"]) => Route::PredictBatch,
            ("GET", ["v1", "models"]) => Route::ListModels,
            ("GET", ["v1", "models", id]) => Route::GetModel(decode_id(id)?),
            ("PUT", ["v1", "models", id]) => Route::PutModel(decode_id(id)?),
            ("POST", ["v1", "models", id, "activate"]) => Route::Activate(decode_id(id)?),
            ("POST", ["v1", "rollback"]) => Route::Rollback,
            ("GET", ["v1", "experiment"]) => Route::GetExperiment,
            ("PUT", ["v1", "experiment"]) => Route::PutExperiment,
            ("DELETE", ["v1", "experiment"]) => Route::EndExperiment,
            ("POST", ["v1", "labels"]) => Route::Labels,
            ("GET", ["v1", "monitoring"]) => Route::Monitoring,
            ("DELETE", ["v1", "customers", id]) => Route::DeleteCustomer(decode_id(id)?),
            (_, segs) => {
                return Err(match allowed_methods(segs) {
                    Some(allowed) => ApiError::method_not_allowed(allowed),
                    None => ApiError::not_found(format!(
                        "no route {method} {path}: see /v1/openapi.yaml for the API"
                    )),
                })
            }
        };
        Ok(route)
    }

    /// The route's pattern, for metrics labels.
    pub fn pattern(&self) -> &'static str {
        match self {
            Route::Health => "/v1/health",
            Route::AppInfo => "/v1/app-info",
            Route::Metrics => "/metrics",
            Route::OpenApi => "/v1/openapi.yaml",
            Route::Predict => "/v1/predict",
            Route::PredictBatch => "/v1/predict/batch",
            Route::ListModels => "/v1/models",
            Route::GetModel(_) | Route::PutModel(_) => "/v1/models/{id}",
            Route::Activate(_) => "/v1/models/{id}/activate",
            Route::Rollback => "/v1/rollback",
            Route::GetExperiment | Route::PutExperiment | Route::EndExperiment => "/v1/experiment",
            Route::Labels => "/v1/labels",
            Route::Monitoring => "/v1/monitoring",
            Route::DeleteCustomer(_) => "/v1/customers/{id}",
        }
    }

    /// Who may call it: reading needs the API token, changing state the admin token.
    pub fn role(&self) -> Role {
        match self {
            Route::Health | Route::OpenApi => Role::Public,
            Route::AppInfo | Route::Metrics => Role::Metrics,
            Route::Predict
            | Route::PredictBatch
            | Route::ListModels
            | Route::GetModel(_)
            | Route::GetExperiment
            | Route::Monitoring => Role::Api,
            Route::PutModel(_)
            | Route::Activate(_)
            | Route::Rollback
            | Route::PutExperiment
            | Route::EndExperiment
            | Route::Labels
            | Route::DeleteCustomer(_) => Role::Admin,
        }
    }

    /// Checks the caller's `Authorization` header against the route's role.
    pub fn authorize(&self, header: Option<&str>, tokens: &Tokens) -> Result<Access, ApiError> {
        // app-info's status stays public so the page and uptime checks need no token; a caller
        // that sends one wants the details, and a wrong token is refused rather than ignored.
        if *self == Route::AppInfo && header.is_none() && tokens.metrics_protected() {
            return Ok(Access::StatusOnly);
        }
        authorize(header, self.role(), tokens).map(|()| Access::Full)
    }
}

/// The methods `path` accepts (`"GET, PUT"`), or `None` when no route has that path.
pub fn methods_of(path: &str) -> Option<&'static str> {
    allowed_methods(&segments(path))
}

fn segments(path: &str) -> Vec<&str> {
    path.trim_end_matches('/').split('/').skip(1).collect()
}

/// Methods a known path accepts, for a 405 instead of a 404.
fn allowed_methods(segments: &[&str]) -> Option<&'static str> {
    match segments {
        ["v1", "health"] | ["v1", "app-info"] | ["metrics"] | ["v1", "openapi.yaml"] => Some("GET"),
        ["v1", "predict"] | ["v1", "predict", "batch"] | ["v1", "rollback"] | ["v1", "labels"] => {
            Some("POST")
        }
        ["v1", "models"] | ["v1", "monitoring"] => Some("GET"),
        ["v1", "models", _] => Some("GET, PUT"),
        ["v1", "models", _, "activate"] => Some("POST"),
        ["v1", "experiment"] => Some("GET, PUT, DELETE"),
        ["v1", "customers", _] => Some("DELETE"),
        _ => None,
    }
}

/// Percent-decodes an id from a path segment; ids are printable and short.
fn decode_id(segment: &str) -> Result<String, ApiError> {
    let id = crate::request::query_param(&format!("id={segment}"), "id").unwrap_or_default();
    if id.is_empty() || id.len() > 200 || id.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "`{segment}` is not a valid id (1 to 200 printable characters)"
        )));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_of_a_url() {
        assert_eq!(query_of("http://h:8787/v1/predict?explain=3"), "explain=3");
        assert_eq!(
            query_of("https://h/v1/monitoring?hours=2&limit=5#x"),
            "hours=2&limit=5"
        );
        assert_eq!(query_of("https://h/v1/predict"), "");
        assert_eq!(query_of("https://h/v1/predict#a?b"), "");
        assert_eq!(query_of("https://h/v1/predict?"), "");
    }

    #[test]
    fn routes_and_roles() {
        assert_eq!(Route::parse("POST", "/v1/predict").unwrap(), Route::Predict);
        assert_eq!(
            Route::parse("POST", "/v1/predict/").unwrap(),
            Route::Predict
        );
        assert_eq!(
            Route::parse("POST", "/v1/models/m-abc/activate").unwrap(),
            Route::Activate("m-abc".into())
        );
        assert_eq!(
            Route::parse("DELETE", "/v1/customers/C%2042").unwrap(),
            Route::DeleteCustomer("C 42".into())
        );
        assert_eq!(Route::Predict.role(), Role::Api);
        assert_eq!(Route::PutModel("x".into()).role(), Role::Admin);
        assert_eq!(Route::Health.role(), Role::Public);
        assert_eq!(Route::GetModel("x".into()).pattern(), "/v1/models/{id}");
    }

    #[test]
    fn unknown_paths_are_404_and_wrong_methods_405() {
        let e = Route::parse("GET", "/v1/predict").unwrap_err();
        assert_eq!(e.status, 405);
        assert!(e.message.contains("POST"));
        assert_eq!(Route::parse("GET", "/v2/predict").unwrap_err().status, 404);
        assert_eq!(
            Route::parse("PATCH", "/v1/models/x").unwrap_err().status,
            405
        );
        assert_eq!(
            Route::parse("DELETE", "/v1/customers/%01")
                .unwrap_err()
                .status,
            400
        );
    }
}
