//! The model registry's rules: which versions exist, which one is active, the history of
//! activations (so a rollback knows where to go) and the running experiment. The worker keeps
//! this state as one JSON document in a D1 row with a version number, and each artifact in
//! Workers KV under [`model_key`]; the transitions here are pure so they are tested without a
//! runtime.
//!
//! Changes are serialised by compare-and-swap ([`update`]): read the document and its version,
//! apply the change, write it only if the version is still the one read, else read again and
//! redo the change on what the other writer left. KV cannot do this (it has no conditional
//! write, so two admins' read-modify-writes could each overwrite the other's change).

use serde::Serialize;

use crate::error::ApiError;
use crate::experiment::Experiment;
use crate::model::ModelSummary;
use crate::request::BodyLimit;

/// KV key where deployments before D1 kept the registry document: imported into D1 once,
/// when D1 has none yet, and never read again.
pub const REGISTRY_KEY: &str = "registry";
/// Tries of one change before it is given up with 503 `registry_busy`. A try only fails when
/// another change was written since its read, so with fewer than this many admins writing at
/// once every change goes through; beyond that, back-off spreads them out.
pub const WRITE_ATTEMPTS: u32 = 12;
/// Longest wait between two tries (ms).
const MAX_BACK_OFF_MS: f64 = 200.0;
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
#[derive(Debug, Clone, PartialEq, Serialize)]
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

ebb_core::map_struct!(RegisteredModel {
    version,
    family,
    cv_roc_auc,
    threshold,
    bytes,
    uploaded_at_ms,
});

/// What happened to the active version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// `POST /v1/models/{id}/activate`.
    Activate,
    /// `POST /v1/rollback`.
    Rollback,
}

ebb_core::unit_enum!(Action { Activate as "activate", Rollback as "rollback" });

/// One change of the active version.
#[derive(Debug, Clone, PartialEq, Serialize)]
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

ebb_core::map_struct!(Activation {
    version,
    previous,
    action,
    at_ms,
});

/// The registry document.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
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

ebb_core::map_struct!(Registry {
    models,
    active,
    history,
    experiment,
});

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
            // From bytes like every body the worker reads: one serde_json reader in the wasm.
            Some(text) => serde_json::from_slice(text.as_bytes()).map_err(|e| {
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
        check_id(url_id, summary)?;
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

/// `url_id`, the id in the request path, must be the artifact's own id, so a client cannot
/// file a model under another name.
pub fn check_id(url_id: &str, summary: &ModelSummary) -> Result<(), ApiError> {
    if url_id == summary.version {
        return Ok(());
    }
    Err(ApiError::bad_request(format!(
        "the URL names `{url_id}` but the artifact's model_id is `{}`: PUT it to /v1/models/{}",
        summary.version, summary.version
    )))
}

/// The registry as stored, with the version number of the stored copy (one more per write).
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned {
    /// The document.
    pub registry: Registry,
    /// Its version.
    pub version: u64,
}

/// Where the registry document lives: versioned, with a conditional write.
// `async fn` in a public trait has no `Send` bound on its futures; the worker runs on one
// thread (wasm), so none is wanted.
#[allow(async_fn_in_trait)]
pub trait RegistryStore {
    /// The current document and its version.
    async fn load(&self) -> Result<Versioned, ApiError>;
    /// Stores `registry` as version `expected + 1` if the stored version is still `expected`;
    /// `false` (nothing written) when another write came first.
    async fn swap(&self, expected: u64, registry: &Registry) -> Result<bool, ApiError>;
    /// Waits `ms` milliseconds.
    async fn sleep(&self, ms: u64);
    /// A uniform random number in [0, 1), for the back-off's jitter.
    fn random(&self) -> f64;
}

/// Applies `change` to the stored registry by compare-and-swap: on a lost race the document is
/// read again and `change` runs again on it (so it must only depend on the registry it is
/// given), after a random back-off. Returns `change`'s value and the document as written (or as
/// read, when `change` left it as it was: nothing is written then). An error from `change` is
/// returned as is, with nothing written; after [`WRITE_ATTEMPTS`] lost races, 503
/// `registry_busy`.
pub async fn update<S: RegistryStore, T>(
    store: &S,
    mut change: impl FnMut(&mut Registry) -> Result<T, ApiError>,
) -> Result<(T, Versioned), ApiError> {
    for attempt in 0..WRITE_ATTEMPTS {
        if attempt > 0 {
            store.sleep(back_off_ms(attempt, store.random())).await;
        }
        let stored = store.load().await?;
        let mut next = stored.registry.clone();
        let value = change(&mut next)?;
        if next == stored.registry {
            return Ok((value, stored));
        }
        if store.swap(stored.version, &next).await? {
            let version = stored.version + 1;
            return Ok((
                value,
                Versioned {
                    registry: next,
                    version,
                },
            ));
        }
    }
    Err(ApiError::registry_busy(format!(
        "the model registry changed under this request {WRITE_ATTEMPTS} times in a row (other admin changes are in progress); nothing was changed: retry in a moment"
    )))
}

/// The wait before try `attempt` (1 = the first retry): "full jitter", a random share of a
/// ceiling that doubles from 5 ms up to [`MAX_BACK_OFF_MS`], so writers that collided once are
/// unlikely to collide again.
pub fn back_off_ms(attempt: u32, random: f64) -> u64 {
    let ceiling = (5.0 * 2f64.powi(attempt.saturating_sub(1).min(16) as i32)).min(MAX_BACK_OFF_MS);
    (ceiling * random.clamp(0.0, 1.0)).round() as u64
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
    use crate::ErrorCode;
    use std::cell::{Cell, RefCell};

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

    /// An in-memory store where a rival admin writes between this writer's read and its
    /// swap on the first `rivals` tries.
    struct Racy {
        stored: RefCell<Versioned>,
        rivals: Cell<u32>,
        swaps: Cell<u32>,
        slept: RefCell<Vec<u64>>,
    }

    impl Racy {
        fn new(registry: Registry, rivals: u32) -> Self {
            Racy {
                stored: RefCell::new(Versioned {
                    registry,
                    version: 7,
                }),
                rivals: Cell::new(rivals),
                swaps: Cell::new(0),
                slept: RefCell::new(Vec::new()),
            }
        }
    }

    impl RegistryStore for Racy {
        async fn load(&self) -> Result<Versioned, ApiError> {
            Ok(self.stored.borrow().clone())
        }

        async fn swap(&self, expected: u64, registry: &Registry) -> Result<bool, ApiError> {
            self.swaps.set(self.swaps.get() + 1);
            let mut stored = self.stored.borrow_mut();
            if self.rivals.get() > 0 {
                // The rival's change lands first: it activates the next version never active
                // (or, when there is none, changes nothing visible here).
                self.rivals.set(self.rivals.get() - 1);
                let next = stored
                    .registry
                    .models
                    .iter()
                    .map(|m| m.version.clone())
                    .find(|v| !stored.registry.history.iter().any(|a| &a.version == v));
                if let Some(next) = next {
                    stored.registry.activate(&next, 1).unwrap();
                }
                stored.version += 1;
            }
            if stored.version != expected {
                return Ok(false);
            }
            *stored = Versioned {
                registry: registry.clone(),
                version: expected + 1,
            };
            Ok(true)
        }

        async fn sleep(&self, ms: u64) {
            self.slept.borrow_mut().push(ms);
        }

        fn random(&self) -> f64 {
            0.5
        }
    }

    /// Runs a future that never waits (the in-memory store's never do).
    fn run<F: std::future::Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(out) => out,
            std::task::Poll::Pending => panic!("the in-memory store never waits"),
        }
    }

    #[test]
    fn a_change_that_loses_a_race_is_redone_on_the_winner_s_document() {
        let store = Racy::new(registry(&["m-a", "m-b", "m-c"]), 2);
        let (activation, written) = run(update(&store, |r| r.activate("m-c", 9).cloned())).unwrap();
        // Both rivals' activations (m-a, then m-b) are kept, and ours follows them.
        assert_eq!(activation.previous.as_deref(), Some("m-b"));
        let history: Vec<&str> = written
            .registry
            .history
            .iter()
            .map(|a| a.version.as_str())
            .collect();
        assert_eq!(history, ["m-a", "m-b", "m-c"]);
        assert_eq!(written.version, 10);
        assert_eq!(*store.stored.borrow(), written);
        assert_eq!(store.swaps.get(), 3);
        assert_eq!(*store.slept.borrow(), [3, 5]);
    }

    #[test]
    fn a_change_that_always_loses_is_refused_as_busy_without_writing() {
        let store = Racy::new(registry(&["m-a", "m-b", "m-c"]), u32::MAX);
        let mut tries = 0;
        let e = run(update(&store, |r| {
            tries += 1;
            r.experiment = None;
            r.register("m-z", &summary("m-z"), 1, 1)
        }))
        .unwrap_err();
        assert_eq!((e.status, e.error), (503, ErrorCode::RegistryBusy));
        assert!(e.message.contains("retry"), "{e}");
        assert_eq!(tries, WRITE_ATTEMPTS);
        assert!(!store.stored.borrow().registry.contains("m-z"));
    }

    #[test]
    fn an_unchanged_registry_or_a_refused_change_writes_nothing() {
        let store = Racy::new(registry(&["m-a"]), 0);
        let (outcome, read) =
            run(update(&store, |r| r.register("m-a", &summary("m-a"), 1, 1))).unwrap();
        assert_eq!((outcome, read.version), (Registered::AlreadyPresent, 7));
        let e = run(update(&store, |r| r.rollback(1).cloned())).unwrap_err();
        assert_eq!(e.status, 409);
        assert_eq!(store.swaps.get(), 0);
    }

    #[test]
    fn back_off_grows_to_a_ceiling_with_jitter() {
        assert_eq!(back_off_ms(1, 1.0), 5);
        assert_eq!(back_off_ms(3, 1.0), 20);
        assert_eq!(back_off_ms(3, 0.5), 10);
        assert_eq!(back_off_ms(40, 0.999), 200);
        assert_eq!(back_off_ms(2, 0.0), 0);
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
