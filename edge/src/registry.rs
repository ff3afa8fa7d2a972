//! The model registry's rules: which versions exist, which one is active, the history of
//! activations (so a rollback knows where to go) and the running experiment. The worker keeps
//! this state as one JSON document in Workers KV (key [`REGISTRY_KEY`]) and each artifact under
//! [`model_key`]; the transitions here are pure so they are tested without a runtime.

use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::experiment::Experiment;
use crate::model::ModelSummary;
use crate::request::BodyLimit;

/// KV key of the registry document.
pub const REGISTRY_KEY: &str = "registry";
/// Largest accepted artifact upload (Workers KV stores values up to 25 MiB).
pub const MAX_MODEL_BYTES: usize = 24 << 20;
/// The body limit of `PUT /v1/models/{id}`.
pub const ARTIFACT_LIMIT: BodyLimit = BodyLimit {
    bytes: MAX_MODEL_BYTES,
    advice: "Workers KV stores values up to 25 MiB; train a smaller model (fewer trees)",
};
/// Activations kept in the history.
const MAX_HISTORY: usize = 200;

/// KV key of one artifact.
pub fn model_key(version: &str) -> String {
    format!("model:{version}")
}

/// A registered version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredModel {
    /// Model id (content hash).
    pub version: String,
    /// `logistic`, `forest` or `gbdt`.
    pub family: String,
    /// Cross-validated ROC-AUC at training.
    pub cv_roc_auc: f64,
    /// Decision threshold.
    pub threshold: f64,
    /// Artifact size in bytes.
    pub bytes: usize,
    /// Upload time (ms since the Unix epoch).
    pub uploaded_at_ms: u64,
}

/// What happened to the active version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// `POST /v1/models/{id}/activate`.
    Activate,
    /// `POST /v1/rollback`.
    Rollback,
}

/// One change of the active version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activation {
    /// The version that became active.
    pub version: String,
    /// The version active before, if any.
    pub previous: Option<String>,
    /// Activation or rollback.
    pub action: Action,
    /// When (ms since the Unix epoch).
    pub at_ms: u64,
}

/// The registry document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Registry {
    /// Registered versions, oldest first.
    pub models: Vec<RegisteredModel>,
    /// The version serving traffic.
    pub active: Option<String>,
    /// Changes of the active version, oldest first.
    pub history: Vec<Activation>,
    /// The running A/B experiment.
    pub experiment: Option<Experiment>,
}

/// Whether an upload added a version or found it already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registered {
    /// A new version.
    Added,
    /// The same content was uploaded before (ids are content hashes, so this is a no-op).
    AlreadyPresent,
}

impl Registry {
    /// Parses the stored document (`None` when the registry is new).
    pub fn from_stored(json: Option<&str>) -> Result<Self, ApiError> {
        match json {
            None => Ok(Registry::default()),
            Some(text) => serde_json::from_str(text).map_err(|e| {
                ApiError::unavailable(format!(
                    "the stored registry document is unreadable ({e}): restore it or re-upload the models"
                ))
            }),
        }
    }

    /// The document to store.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Whether `version` is registered.
    pub fn contains(&self, version: &str) -> bool {
        self.models.iter().any(|m| m.version == version)
    }

    /// The entry of `version`.
    pub fn get(&self, version: &str) -> Option<&RegisteredModel> {
        self.models.iter().find(|m| m.version == version)
    }

    /// Records an uploaded, validated artifact. `url_id` is the id in the request path and
    /// must be the artifact's own id, so a client cannot file a model under another name.
    pub fn register(
        &mut self,
        url_id: &str,
        summary: &ModelSummary,
        bytes: usize,
        now_ms: u64,
    ) -> Result<Registered, ApiError> {
        if url_id != summary.version {
            return Err(ApiError::bad_request(format!(
                "the URL names `{url_id}` but the artifact's model_id is `{}`: PUT it to /v1/models/{}",
                summary.version, summary.version
            )));
        }
        if self.contains(url_id) {
            return Ok(Registered::AlreadyPresent);
        }
        self.models.push(RegisteredModel {
            version: summary.version.clone(),
            family: summary.family.to_string(),
            cv_roc_auc: summary.cv_roc_auc,
            threshold: summary.threshold,
            bytes,
            uploaded_at_ms: now_ms,
        });
        Ok(Registered::Added)
    }

    /// Makes `version` the active one.
    pub fn activate(&mut self, version: &str, now_ms: u64) -> Result<&Activation, ApiError> {
        if !self.contains(version) {
            return Err(unknown(version));
        }
        self.record(version.to_string(), Action::Activate, now_ms);
        Ok(self.history.last().expect("just recorded"))
    }

    /// Goes back to the version active before the current one. Rolled-back versions are
    /// skipped, so rolling back twice walks two steps back rather than toggling.
    pub fn rollback(&mut self, now_ms: u64) -> Result<&Activation, ApiError> {
        let stack = self.activation_stack();
        let target = match stack.len() {
            0 => return Err(ApiError::conflict("no model has been activated yet")),
            1 => {
                return Err(ApiError::conflict(format!(
                    "`{}` is the first activated version: there is nothing to roll back to",
                    stack[0]
                )))
            }
            n => stack[n - 2].clone(),
        };
        self.record(target, Action::Rollback, now_ms);
        Ok(self.history.last().expect("just recorded"))
    }

    /// Active versions in order, with rolled-back ones removed: the top is the current one.
    fn activation_stack(&self) -> Vec<String> {
        let mut stack: Vec<String> = Vec::new();
        for a in &self.history {
            match a.action {
                Action::Activate => {
                    if stack.last() != Some(&a.version) {
                        stack.push(a.version.clone());
                    }
                }
                Action::Rollback => {
                    stack.pop();
                    if stack.last() != Some(&a.version) {
                        stack.push(a.version.clone());
                    }
                }
            }
        }
        stack
    }

    fn record(&mut self, version: String, action: Action, now_ms: u64) {
        let previous = self.active.replace(version.clone());
        self.history.push(Activation {
            version,
            previous,
            action,
            at_ms: now_ms,
        });
        if self.history.len() > MAX_HISTORY {
            // Drop the oldest: a rollback reaches back at most MAX_HISTORY changes.
            let drop = self.history.len() - MAX_HISTORY;
            self.history.drain(..drop);
        }
    }

    /// Versions to try when the active one cannot be loaded: every version that was active
    /// before, most recent first (a rolled-back version still served once, and serving it
    /// beats serving nothing; the response says it is degraded).
    pub fn fallbacks(&self) -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        for a in self.history.iter().rev() {
            for v in [Some(&a.version), a.previous.as_ref()]
                .into_iter()
                .flatten()
            {
                if self.active.as_ref() != Some(v) && !seen.contains(v) {
                    seen.push(v.clone());
                }
            }
        }
        seen
    }
}

/// 404 for a version that is not registered.
pub fn unknown(version: &str) -> ApiError {
    ApiError::not_found(format!(
        "model `{version}` is not registered: GET /v1/models lists the versions"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(version: &str) -> ModelSummary {
        ModelSummary {
            version: version.into(),
            family: "gbdt",
            threshold: 0.4,
            cv_roc_auc: 0.8,
            cv_recall: 0.5,
            training_rows: 10,
            created_at: "2026-01-01".into(),
            id_field: "customer_id".into(),
            inputs: Vec::new(),
        }
    }

    fn registry(versions: &[&str]) -> Registry {
        let mut r = Registry::default();
        for v in versions {
            assert_eq!(
                r.register(v, &summary(v), 100, 1).unwrap(),
                Registered::Added
            );
        }
        r
    }

    #[test]
    fn register_checks_the_id_and_is_idempotent() {
        let mut r = registry(&["m-a"]);
        assert_eq!(
            r.register("m-a", &summary("m-a"), 100, 2).unwrap(),
            Registered::AlreadyPresent
        );
        assert_eq!(r.models.len(), 1);
        let e = r.register("m-x", &summary("m-b"), 100, 2).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.message.contains("m-b"));
    }

    #[test]
    fn activate_and_rollback_walk_the_history() {
        let mut r = registry(&["m-a", "m-b", "m-c"]);
        assert_eq!(r.rollback(1).unwrap_err().status, 409);
        r.activate("m-a", 1).unwrap();
        assert_eq!(r.rollback(2).unwrap_err().status, 409);
        r.activate("m-b", 3).unwrap();
        r.activate("m-c", 4).unwrap();
        assert_eq!(r.fallbacks(), ["m-b", "m-a"]);
        let back = r.rollback(5).unwrap();
        assert_eq!(
            (back.version.as_str(), back.previous.as_deref()),
            ("m-b", Some("m-c"))
        );
        assert_eq!(r.rollback(6).unwrap().version, "m-a");
        assert_eq!(r.active.as_deref(), Some("m-a"));
        assert_eq!(r.rollback(7).unwrap_err().status, 409);
        assert_eq!(r.fallbacks(), ["m-b", "m-c"]);
        assert_eq!(r.history.len(), 5);
        assert_eq!(r.activate("m-z", 8).unwrap_err().status, 404);
    }

    #[test]
    fn reactivating_the_active_version_does_not_stack() {
        let mut r = registry(&["m-a", "m-b"]);
        r.activate("m-a", 1).unwrap();
        r.activate("m-b", 2).unwrap();
        r.activate("m-b", 3).unwrap();
        assert_eq!(r.rollback(4).unwrap().version, "m-a");
    }

    #[test]
    fn the_document_round_trips() {
        let mut r = registry(&["m-a"]);
        r.activate("m-a", 1).unwrap();
        let back = Registry::from_stored(Some(&r.to_json())).unwrap();
        assert_eq!(back, r);
        assert_eq!(Registry::from_stored(None).unwrap(), Registry::default());
        assert_eq!(
            Registry::from_stored(Some("{oops")).unwrap_err().status,
            503
        );
    }
}
