//! A model loaded for serving: the artifact's [`Scorer`] plus what the API adds around it
//! (required fields, the customer-id field, top reasons, the inputs to log for monitoring).

use std::sync::{Arc, Mutex, OnceLock};

use ebb_core::data::schema::ColumnKind;
use ebb_core::insight::explain::{Explainer, Reason, Workspace};
use ebb_core::serve::artifact::Artifact;
use ebb_core::serve::scorer::{RiskBand, Scorer};
use serde::Serialize;

use crate::error::{ApiError, Problem};
use crate::request::{parse_customer, Record, REQUEST_LIMIT};

pub use ebb_core::serve::record::DEFAULT_ID_FIELD;

/// One customer read by a model (core's one reading of a JSON record): its inputs, id, ignored
/// fields and the inputs to log, from one pass over the request.
pub type Customer<'r> = ebb_core::serve::record::Record<'r>;

/// One input field as the API documents it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputField {
    /// Name as in the training CSV header.
    pub name: String,
    /// `numeric`, `boolean`, `categorical` or `datetime`.
    pub kind: &'static str,
    /// Whether a prediction must include it (the training data never missed it, so the model
    /// has not learned what a missing value means there).
    pub required: bool,
}

/// What the registry shows about a model without loading it again.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelSummary {
    /// The artifact's model id (its content hash), used as the version.
    pub version: String,
    /// `logistic`, `forest` or `gbdt`.
    pub family: &'static str,
    /// Decision threshold.
    pub threshold: f64,
    /// Cross-validated ROC-AUC of the calibrated model.
    pub cv_roc_auc: f64,
    /// Cross-validated recall at the threshold.
    pub cv_recall: f64,
    /// Training rows.
    pub training_rows: usize,
    /// When the artifact was trained.
    pub created_at: String,
    /// The customer-id field used for A/B arms and logs.
    pub id_field: String,
    /// Input fields.
    pub inputs: Vec<InputField>,
}

/// A parsed, validated artifact ready to score.
pub struct LoadedModel {
    /// Holds the artifact; the explainer shares it.
    scorer: Scorer<Arc<Artifact>>,
    /// Built on the first request for reasons (its tables take milliseconds), then kept.
    explainer: OnceLock<Result<Explainer<Arc<Artifact>>, String>>,
    /// The explainer's buffers, kept between requests (a request that finds them in use by
    /// another thread makes its own).
    workspace: Mutex<Option<Workspace>>,
    required: Vec<bool>,
    artifact_bytes: usize,
}

impl core::fmt::Debug for LoadedModel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LoadedModel")
            .field("version", &self.version())
            .field("id_field", &self.id_field())
            .field("artifact_bytes", &self.artifact_bytes)
            .finish()
    }
}

/// The answer for one customer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// The customer's id when the request carried one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// Calibrated probability of churning in the horizon.
    pub probability: f64,
    /// `low`, `medium` or `high`.
    pub risk_band: RiskBand,
    /// Whether to contact the customer (probability at or above the threshold).
    pub decision: bool,
    /// The model's decision threshold.
    pub threshold: f64,
    /// Version (model id) that scored this customer.
    pub model_version: String,
    /// A/B arm (`control` / `treatment`) when an experiment is running.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arm: Option<&'static str>,
    /// Top reasons when asked for with `?explain=K`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<Reason>>,
    /// Fields of the request the model does not use (a typo shows up here).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored_fields: Vec<String>,
}

impl LoadedModel {
    /// Parses and checks an artifact (format version, content hash, structure: see
    /// `ebb_core::serve::validate`).
    pub fn from_json(json: &str) -> Result<Self, ApiError> {
        // Core's loader checks the whole structure (including that the model takes the
        // pipeline's features), so nothing below can panic or loop on a crafted file.
        let artifact = Artifact::from_saved_json(json)
            .map_err(|e| ApiError::bad_request(format!("the model artifact was rejected: {e}")))?;
        if artifact.model.n_features() != artifact.pipeline.n_features() {
            return Err(ApiError::bad_request(format!(
                "the model artifact was rejected: the pipeline makes {} features but the model expects {}",
                artifact.pipeline.n_features(),
                artifact.model.n_features()
            )));
        }
        let required = artifact.required_fields();
        Ok(LoadedModel {
            scorer: Scorer::new(Arc::new(artifact)),
            explainer: OnceLock::new(),
            workspace: Mutex::new(None),
            required,
            artifact_bytes: json.len(),
        })
    }

    /// The artifact.
    pub fn artifact(&self) -> &Artifact {
        self.scorer.artifact()
    }

    /// The scorer (core's one reading of records and scoring path).
    pub fn scorer(&self) -> &Scorer<Arc<Artifact>> {
        &self.scorer
    }

    /// The version (model id).
    pub fn version(&self) -> &str {
        &self.artifact().model_id
    }

    /// Size of the artifact JSON in bytes.
    pub fn artifact_bytes(&self) -> usize {
        self.artifact_bytes
    }

    /// The field naming the customer.
    pub fn id_field(&self) -> &str {
        self.scorer.keys().id_field()
    }

    /// The body of `POST /v1/predict`, one customer as a JSON object, read straight into this
    /// model's inputs. A body that is not one (too large, empty, not JSON, not an object) gets
    /// the same error as [`parse_customer`] gives it.
    pub fn read<'b>(&self, body: &'b [u8]) -> Result<Customer<'b>, ApiError> {
        REQUEST_LIMIT.check(body)?;
        self.scorer.read_json(body).map_err(|e| {
            // Refused: the model-free reading names what is wrong in the API's words (the
            // typed reader accepts and refuses exactly the same bodies).
            parse_customer(body).err().unwrap_or_else(|| {
                ApiError::bad_request(format!(
                    "the body is not valid JSON: {e} (line {}, column {})",
                    e.line(),
                    e.column()
                ))
            })
        })
    }

    /// One customer of a batch (already parsed as a JSON object), read by the same reader as
    /// [`LoadedModel::read`].
    pub fn read_record<'r>(&self, record: &'r Record) -> Result<Customer<'r>, ApiError> {
        self.scorer
            .read_map(record)
            .map_err(|e| ApiError::bad_request(format!("the customer could not be read: {e}")))
    }

    /// The registry's description of this model.
    pub fn summary(&self) -> ModelSummary {
        let a = self.artifact();
        ModelSummary {
            version: a.model_id.clone(),
            family: a.family().name(),
            threshold: a.threshold,
            cv_roc_auc: a.metrics.calibrated_cv.roc_auc,
            cv_recall: a.metrics.calibrated_cv.recall,
            training_rows: a.metadata.rows,
            created_at: a.metadata.created_at.clone(),
            id_field: self.id_field().to_string(),
            inputs: a
                .pipeline
                .inputs
                .iter()
                .zip(&self.required)
                .map(|(input, &required)| InputField {
                    name: input.name.clone(),
                    kind: kind_name(input.kind),
                    required,
                })
                .collect(),
        }
    }

    /// Scores one customer; `reasons` > 0 adds that many SHAP reasons. Every problem with the
    /// record is returned at once, by field.
    pub fn predict(&self, customer: &Customer, reasons: usize) -> Result<Prediction, Vec<Problem>> {
        let pipeline = &self.artifact().pipeline;
        let mut problems: Vec<Problem> = pipeline
            .inputs
            .iter()
            .zip(&self.required)
            .enumerate()
            .filter(|&(i, (_, &required))| required && customer.is_absent(i))
            .map(|(_, (input, _))| {
                Problem::new(
                    input.name.clone(),
                    format!(
                        "is required: send a {} value (the model never saw it missing in training)",
                        kind_name(input.kind)
                    ),
                )
            })
            .collect();
        // The model features, kept for the explanation.
        let mut features = vec![0.0; pipeline.n_features()];
        let score = match self.scorer.score_record_into(customer, &mut features) {
            Ok(score) => Some(score),
            Err(errors) => {
                for e in errors {
                    if !problems.iter().any(|p| p.field == e.field) {
                        problems.push(Problem::new(e.field, e.message));
                    }
                }
                None
            }
        };
        let score = match score {
            Some(score) if problems.is_empty() => score,
            _ => {
                let position = |field: &str| pipeline.inputs.iter().position(|c| c.name == field);
                ebb_core::order::sort_by_key(&mut problems, |p| position(&p.field));
                return Err(problems);
            }
        };
        let reasons = if reasons == 0 {
            None
        } else {
            Some(self.reasons(customer, &features, reasons)?)
        };
        Ok(Prediction {
            customer_id: customer.customer_id().map(str::to_string),
            probability: score.probability,
            risk_band: score.risk_band,
            decision: score.decision,
            threshold: self.artifact().threshold,
            model_version: self.version().to_string(),
            arm: None,
            reasons,
            ignored_fields: customer.ignored_fields().to_vec(),
        })
    }

    fn reasons(
        &self,
        customer: &Customer,
        features: &[f64],
        k: usize,
    ) -> Result<Vec<Reason>, Vec<Problem>> {
        let explainer = self
            .explainer
            .get_or_init(|| {
                Explainer::new(Arc::clone(self.scorer.holder())).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|message| vec![Problem::new("", message.clone())])?;
        let kept = self.workspace.try_lock().ok().and_then(|mut w| w.take());
        let mut ws = kept.unwrap_or_else(|| explainer.workspace());
        let reasons = explainer.top_reasons(&customer.values(), features, k, &mut ws);
        if let Ok(mut slot) = self.workspace.try_lock() {
            *slot = Some(ws);
        }
        reasons.map_err(|e| vec![Problem::new("", e.to_string())])
    }

    /// The part of the customer monitoring needs later (the model's inputs and the snapshot
    /// column), as a JSON object: drift is computed from these raw values exactly as
    /// `ebb drift` computes it from a CSV.
    pub fn logged_inputs(&self, customer: &Customer) -> String {
        self.scorer.keys().logged_inputs(customer)
    }
}

fn kind_name(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Numeric => "numeric",
        ColumnKind::Boolean => "boolean",
        ColumnKind::Categorical => "categorical",
        ColumnKind::Datetime => "datetime",
        ColumnKind::Identifier => "identifier",
        ColumnKind::Text => "text",
    }
}
