//! The workflow every face calls: one function per step, so the CLI, the edge worker and the
//! browser dashboard run the same code and only render the answers differently.
//!
//! ```text
//! bytes | Table ──prepare──► Prepared { schema, notes, quality, clean, quarantined }
//! Prepared ──hold_out──► (training part, test table)             (`ebb pipeline`'s split)
//! Prepared ──train──► Trained { artifact, summary }               (the one place an artifact is made)
//! Prepared ──tune_and_train──► Tuned { search, trained }          (`ebb tune --out`)
//! Artifact + labelled Table ──evaluate──► Evaluation { metrics (with confusion), skipped rows }
//! Artifact + Table + business inputs ──decide──► Decision { profit curve, threshold, contacts }
//! Artifact + Table + group column ──fairness──► FairnessAudit { rates and ratios per group }
//! Artifact + Table + k, value ──segments──► Segments { personas: size, risk, value, traits }
//! ```
//!
//! Options and results are `Serialize + Deserialize`, so a web page can pass them to a Web
//! Worker as they are. Long steps take a [`Reporter`] for progress and cancellation.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::data::datetime::parse_datetime;
use crate::data::ingest::{read_csv_with_progress, read_json, CsvOptions};
use crate::data::quality::{report, split_quarantine, QualityReport};
use crate::data::schema::{infer, InferOptions, Schema, SchemaCheck};
use crate::data::split::{stratified_kfold, time_split};
use crate::data::table::{parse_number, Table};
use crate::error::{Error, Result};
use crate::metrics::{evaluate as metrics_of, Report};
use crate::model::family::Family;
use crate::progress::Reporter;
use crate::serve::artifact::{data_hash, Artifact, TrainingMetadata};
use crate::serve::scorer::{ArtifactRef, Labels, Scorer, SkippedRow};
use crate::train::tune::{tune, TuneOutput, TuneParams};
use crate::train::{labels, TrainParams};

mod decide;
#[cfg(test)]
mod fixture;
pub mod whatif;
pub use decide::{
    contacts_csv, customer_id, decide, ContactRow, CustomerValue, DecideOptions, Decision,
    CONTACTS_CSV_HEADER,
};
mod groups;
pub use groups::{
    fairness, segments, FairnessAudit, FairnessOptions, SegmentOptions, Segments, SEGMENT_SEED,
};

/// How the bytes given to [`prepare_bytes`] are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataFormat {
    /// CSV (delimiter sniffed among `,` `;` tab `|`).
    Csv,
    /// A JSON array of flat records.
    Json,
}

/// What [`prepare`] is told about the data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PrepareOptions {
    /// The target column; detected by name when `None`.
    pub target: Option<String>,
    /// The customer-id column; detected when `None`.
    pub id: Option<String>,
    /// The time / snapshot column (turns on time-based validation).
    pub time: Option<String>,
    /// Fail unless a target is found and some row is clean (training needs both).
    pub require_target: bool,
    /// A saved schema to enforce instead of inferring one (the column overrides are then
    /// unused): the data is checked against it and reported by its types.
    pub schema: Option<Schema>,
    /// For [`prepare_bytes`]: the format; `None` reads a JSON array when the first character
    /// (after a byte-order mark and whitespace) is `[`, CSV otherwise.
    pub format: Option<DataFormat>,
}

/// A table read, typed and checked: what validation shows and training starts from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Prepared {
    /// The schema used (inferred, or the saved one).
    pub schema: Schema,
    /// Why inference decided as it did (or that the schema was given).
    pub notes: Vec<String>,
    /// The data-quality report of every row; `quality.quarantine.entries` holds each
    /// quarantined row's source row number and reasons.
    pub quality: QualityReport,
    /// How the data differs from the saved schema, when one was given.
    pub schema_check: Option<SchemaCheck>,
    /// Rows that passed validation.
    pub clean: Table,
    /// Rows set aside (bad cells, a missing or unknown target): never trained on, never dropped
    /// silently.
    pub quarantined: Table,
    /// SHA-256 of the data's bytes (hex), recorded in the artifact; empty when unknown.
    pub data_hash: String,
}

/// Reads `bytes` (CSV or a JSON array of records) and prepares the table ([`prepare`]).
pub fn prepare_bytes(
    bytes: &[u8],
    options: &PrepareOptions,
    reporter: &mut Reporter,
) -> Result<Prepared> {
    reporter.report("reading", 0.0, "")?;
    let format = options.format.unwrap_or_else(|| sniff_format(bytes));
    let table = match format {
        DataFormat::Json => read_json(bytes)?,
        DataFormat::Csv => {
            read_csv_with_progress(bytes, &CsvOptions::default(), &mut reporter.sub(0.0, 0.3))?
        }
    };
    let message = format!("{} rows", table.n_rows());
    reporter.report("reading", 0.3, &message)?;
    prepare(
        table,
        data_hash(bytes),
        options,
        &mut reporter.sub(0.3, 1.0),
    )
}

fn sniff_format(bytes: &[u8]) -> DataFormat {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => DataFormat::Json,
        _ => DataFormat::Csv,
    }
}

/// Types and checks a table: infers its schema (or enforces `options.schema`), builds the
/// quality report and splits off quarantined rows. `data_hash` is the SHA-256 of the bytes the
/// table came from (the caller may have streamed them), empty when unknown.
pub fn prepare(
    table: Table,
    data_hash: String,
    options: &PrepareOptions,
    reporter: &mut Reporter,
) -> Result<Prepared> {
    reporter.report("inferring the schema", 0.0, "")?;
    let (schema, notes, schema_check) = match &options.schema {
        Some(saved) => (
            saved.clone(),
            vec![String::from("schema loaded from file, not inferred")],
            Some(saved.check(&table)),
        ),
        None => {
            let inference = infer(
                &table,
                &InferOptions {
                    target: options.target.clone(),
                    id: options.id.clone(),
                    time: options.time.clone(),
                    require_target: options.require_target,
                    ..InferOptions::default()
                },
            )?;
            (inference.schema, inference.notes, None)
        }
    };
    reporter.report("checking quality", 0.2, "")?;
    let quality = report(&table, &schema);
    reporter.report("setting rows aside", 0.9, "")?;
    let (clean, quarantined) = split_quarantine(table, &quality);
    if options.require_target && clean.n_rows() == 0 {
        let first = quality.quarantine.entries.first();
        return Err(Error::AllQuarantined {
            rows: quarantined.n_rows(),
            first_row: first.map_or(0, |e| e.source_row),
            reason: first.map(|e| e.reasons.join("; ")).unwrap_or_default(),
        });
    }
    reporter.report("prepared", 1.0, "")?;
    Ok(Prepared {
        schema,
        notes,
        quality,
        schema_check,
        clean,
        quarantined,
        data_hash,
    })
}

/// Share of clean rows [`hold_out`] keeps for testing.
pub const HOLD_OUT_SHARE: f64 = 0.2;

/// `prepared` split for an honest test: the training part (same schema, quality and quarantine)
/// and the held-out rows the model never sees — the latest fifth by the time column when the
/// schema has one, otherwise one stratified fifth drawn with `seed`.
pub fn hold_out(prepared: &Prepared, seed: u64) -> Result<(Prepared, Table)> {
    let clean = &prepared.clean;
    let test_rows = match &prepared.schema.time_column {
        Some(t) => {
            let col = clean
                .column_index(t)
                .ok_or_else(|| Error::MissingColumn { column: t.clone() })?;
            // Unreadable times are quarantined already; NaN keeps any left over out of order.
            let times: Vec<f64> = (0..clean.n_rows())
                .map(|r| {
                    let raw = clean.raw(r, col);
                    parse_datetime(raw)
                        .or_else(|| parse_number(raw))
                        .unwrap_or(f64::NAN)
                })
                .collect();
            time_split(&times, HOLD_OUT_SHARE)?.test
        }
        None => {
            let y = labels(clean, &prepared.schema)?;
            // One fold of five is the stratified fifth.
            stratified_kfold(&y, 5, seed)?.swap_remove(0).test
        }
    };
    let mut is_test = vec![false; clean.n_rows()];
    test_rows.iter().for_each(|&r| is_test[r] = true);
    let train = Prepared {
        schema: prepared.schema.clone(),
        notes: prepared.notes.clone(),
        quality: prepared.quality.clone(),
        schema_check: prepared.schema_check.clone(),
        clean: clean.filter_rows(|r| !is_test[r]),
        quarantined: prepared.quarantined.clone(),
        data_hash: prepared.data_hash.clone(),
    };
    Ok((train, clean.filter_rows(|r| is_test[r])))
}

/// What the caller knows about a training run that the engine cannot (it has no clock).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// When the artifact is made, ISO 8601 (part of the content hash: fix it for reproducible
    /// model ids).
    pub created_at: String,
    /// Version of the program training (recorded in the artifact).
    pub ebb_version: String,
}

/// One compared model family in a [`TrainSummary`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FamilySummary {
    /// `logistic`, `forest` or `gbdt`.
    pub name: String,
    /// Out-of-fold metrics.
    pub cv: Report,
    /// Seconds its cross-validation took by the caller's clock, `None` without one.
    pub fit_seconds: Option<f64>,
}

/// What a training run did, for people and tools (`ebb train --json` prints it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSummary {
    /// Every family compared, in comparison order.
    pub models: Vec<FamilySummary>,
    /// The family kept.
    pub chosen: String,
    /// The artifact's model id.
    pub model_id: String,
    /// The decision threshold.
    pub threshold: f64,
    /// The calibration kept and why.
    pub calibration: String,
    /// How the folds were made.
    pub validation: String,
    /// Calibrated out-of-fold metrics at the threshold.
    pub calibrated_cv: Report,
    /// Clean rows trained on.
    pub rows: usize,
    /// Rows set aside by validation.
    pub quarantined_rows: usize,
}

/// A trained model: the artifact to save and what the run did.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The model artifact.
    pub artifact: Artifact,
    /// The run's summary.
    pub summary: TrainSummary,
    /// Calibrated out-of-fold probability per clean training row (`NaN` where a row was never
    /// in a test fold), for calibration and threshold views.
    pub oof_probabilities: Vec<f64>,
}

/// Cross-validates `params`' families on `prepared`'s clean rows, keeps the best, calibrates it
/// and makes the artifact: the one place an artifact is assembled. `clock` gives seconds for
/// the fit times (or `None`); `reporter` receives progress and may cancel.
pub fn train(
    prepared: &Prepared,
    params: &TrainParams,
    run: &RunInfo,
    clock: &dyn Fn() -> Option<f64>,
    reporter: &mut Reporter,
) -> Result<Trained> {
    let output = fit(prepared, params, clock, reporter)?;
    let fit_seconds = output.fit_seconds.clone();
    let oof_probabilities = output.oof_probabilities.clone();
    let metadata = TrainingMetadata {
        rows: prepared.clean.n_rows(),
        quarantined_rows: prepared.quarantined.n_rows(),
        seed: params.seed,
        data_hash: prepared.data_hash.clone(),
        created_at: run.created_at.clone(),
        ebb_version: run.ebb_version.clone(),
        feature_names: Vec::new(),
    };
    let artifact = output.into_artifact(prepared.schema.clone(), metadata)?;
    let m = &artifact.metrics;
    let summary = TrainSummary {
        models: m
            .models
            .iter()
            .zip(fit_seconds)
            .map(|(r, fit_seconds)| FamilySummary {
                name: r.name.clone(),
                cv: r.cv.clone(),
                fit_seconds,
            })
            .collect(),
        chosen: m.chosen.clone(),
        model_id: artifact.model_id.clone(),
        threshold: artifact.threshold,
        calibration: m.calibration.clone(),
        validation: m.validation.clone(),
        calibrated_cv: m.calibrated_cv.clone(),
        rows: artifact.metadata.rows,
        quarantined_rows: artifact.metadata.quarantined_rows,
    };
    Ok(Trained {
        artifact,
        summary,
        oof_probabilities,
    })
}

/// What `ebb tune --out` makes: the search, and the model trained with its winner.
#[derive(Debug, Clone)]
pub struct Tuned {
    /// Every trial, the imbalance comparison and the parameters kept.
    pub search: TuneOutput,
    /// Gradient boosting trained with `search.best` (its weighting included) on the same folds
    /// and seed.
    pub trained: Trained,
}

/// Share of the progress bar the search takes; the final cross-validated fit takes the rest.
const SEARCH_SHARE: f64 = 0.8;

/// Tunes gradient boosting on `prepared`'s clean rows (seeded trials raced by successive
/// halving, then the imbalance strategies), then trains and calibrates the boosted model with
/// the best parameters as [`train`] does. A budget in trials and rounds, never in seconds,
/// keeps the same seed giving the same model everywhere.
pub fn tune_and_train(
    prepared: &Prepared,
    params: &TuneParams,
    run: &RunInfo,
    clock: &dyn Fn() -> Option<f64>,
    reporter: &mut Reporter,
) -> Result<Tuned> {
    let search = tune(
        &prepared.clean,
        &prepared.schema,
        params,
        &mut reporter.sub(0.0, SEARCH_SHARE),
        clock,
    )?;
    let train_params = TrainParams {
        families: vec![Family::Gbdt],
        folds: params.folds,
        seed: params.seed,
        boost: search.best.clone(),
        // The search sized its trial 0 already ([`TuneParams::sized`]); the best configuration
        // is trained exactly as it was scored.
        sized: false,
        ..TrainParams::default()
    };
    let trained = train(
        prepared,
        &train_params,
        run,
        clock,
        &mut reporter.sub(SEARCH_SHARE, 1.0),
    )?;
    Ok(Tuned { search, trained })
}

/// The one call of [`crate::train::train`]: progress and cancel go straight through `reporter`.
fn fit(
    prepared: &Prepared,
    params: &TrainParams,
    clock: &dyn Fn() -> Option<f64>,
    reporter: &mut Reporter,
) -> Result<crate::train::TrainOutput> {
    crate::train::train(&prepared.clean, &prepared.schema, params, reporter, clock)
}

/// A model's performance on labelled data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The evaluated model's id.
    pub model_id: String,
    /// Metrics on the scored, labelled rows at the model's threshold; `metrics.confusion` is the
    /// confusion matrix there.
    pub metrics: Report,
    /// Rows left out with the reason: values the model cannot read, a missing target, or a
    /// target value the model does not know.
    pub skipped: Vec<SkippedRow>,
}

/// Scores `table` with `artifact` and compares the scores with the table's labels, read by
/// the model's target mapping (`Yes`/`No` also reads `1`/`0`, `true`/`false`). Fails when the
/// table has no target column, or when no row can be both scored and labelled (saying what the
/// target column holds against what the model knows).
pub fn evaluate<A: ArtifactRef>(
    artifact: A,
    table: &Table,
    reporter: &mut Reporter,
) -> Result<Evaluation> {
    reporter.report("scoring", 0.0, "")?;
    let scorer = Scorer::new(artifact);
    let scored = scorer.score_rows(table, Labels::Required)?;
    reporter.report("measuring", 0.8, "")?;
    let (y, p): (Vec<f64>, Vec<f64>) = scored.labelled().map(|(_, y, p)| (y, p)).unzip();
    let metrics = metrics_of(&y, &p, scorer.artifact().threshold)?;
    reporter.report("evaluated", 1.0, "")?;
    Ok(Evaluation {
        model_id: scorer.artifact().model_id.to_string(),
        metrics,
        skipped: scored.skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ingest::write_csv_record;
    use crate::data::synth::{generate_table, SynthParams};
    use crate::model::family::Family;
    use crate::progress::{Control, Progress, Sink};

    /// A progress sink that keeps every update and stops at the first stage containing
    /// `stop_at`.
    struct Recorder {
        seen: Vec<Progress>,
        stop_at: Option<&'static str>,
    }

    impl Recorder {
        fn new(stop_at: Option<&'static str>) -> Self {
            Recorder {
                seen: Vec::new(),
                stop_at,
            }
        }
    }

    impl Sink for Recorder {
        fn update(&mut self, p: &Progress) -> Control {
            self.seen.push(p.clone());
            if self.stop_at.is_some_and(|s| p.stage.contains(s)) {
                Control::Stop
            } else {
                Control::Continue
            }
        }
    }

    fn csv_of(table: &Table) -> Vec<u8> {
        let mut out = String::new();
        write_csv_record(&mut out, table.names().iter().map(String::as_str), b',');
        for r in 0..table.n_rows() {
            write_csv_record(&mut out, (0..table.n_cols()).map(|c| table.raw(r, c)), b',');
        }
        out.into_bytes()
    }

    fn quick() -> TrainParams {
        let mut params = TrainParams::default()
            .with_families(vec![Family::Gbdt])
            .with_folds(2)
            .with_seed(3);
        params.boost.n_trees = 20;
        params.boost.early_stopping_rounds = None;
        params
    }

    fn options() -> PrepareOptions {
        PrepareOptions {
            target: Some("churn".into()),
            require_target: true,
            ..PrepareOptions::default()
        }
    }

    #[test]
    fn bytes_to_artifact_to_evaluation() {
        let table =
            generate_table(&SynthParams::default().with_n_customers(600).with_seed(5)).unwrap();
        let bytes = csv_of(&table);
        let mut recorder = Recorder::new(None);
        let mut reporter = Reporter::new(&mut recorder);
        let prepared = prepare_bytes(&bytes, &options(), &mut reporter.part(0, 3)).unwrap();
        assert_eq!(prepared.data_hash, data_hash(&bytes));
        assert_eq!(
            prepared.clean.n_rows() + prepared.quarantined.n_rows(),
            table.n_rows()
        );
        let (train_part, test) = hold_out(&prepared, 3).unwrap();
        assert_eq!(
            train_part.clean.n_rows() + test.n_rows(),
            prepared.clean.n_rows()
        );
        assert_eq!(test.n_rows(), prepared.clean.n_rows() / 5);
        let run = RunInfo {
            created_at: "2026-01-01T00:00:00Z".into(),
            ebb_version: "test".into(),
        };
        let trained = train(
            &train_part,
            &quick(),
            &run,
            &|| None,
            &mut reporter.part(1, 3),
        )
        .unwrap();
        let artifact = &trained.artifact;
        assert_eq!(trained.summary.model_id, artifact.model_id);
        assert_eq!(trained.summary.rows, train_part.clean.n_rows());
        assert_eq!(
            artifact.metadata.feature_names,
            artifact.pipeline.feature_names()
        );
        // The same artifact again: content-hashed, so the id is reproducible.
        let again = train(
            &train_part,
            &quick(),
            &run,
            &|| None,
            &mut Reporter::silent(),
        )
        .unwrap();
        assert_eq!(again.artifact.model_id, artifact.model_id);

        let evaluation = evaluate(artifact, &test, &mut reporter.part(2, 3)).unwrap();
        assert_eq!(evaluation.metrics.n, test.n_rows());
        assert!(evaluation.skipped.is_empty());
        assert!(evaluation.metrics.roc_auc > 0.6, "{:?}", evaluation.metrics);
        let c = &evaluation.metrics.confusion;
        assert_eq!(c.tp + c.fp + c.tn + c.fn_, test.n_rows());
        let seen = &recorder.seen;
        assert!(seen.windows(2).all(|w| w[0].fraction <= w[1].fraction));
        assert!(seen.iter().any(|p| p.stage.starts_with("cross-validating")));
    }

    #[test]
    fn evaluation_reads_equivalent_labels_and_names_unknown_ones() {
        let table =
            generate_table(&SynthParams::default().with_n_customers(400).with_seed(8)).unwrap();
        let prepared = prepare(table, String::new(), &options(), &mut Reporter::silent()).unwrap();
        let target = prepared.schema.target.clone().unwrap();
        let trained = train(
            &prepared,
            &quick(),
            &RunInfo::default(),
            &|| None,
            &mut Reporter::silent(),
        )
        .unwrap();
        let col = prepared.clean.column_index("churn").unwrap();
        let relabel = |yes: &str, no: &str| {
            let mut t = Table::new(prepared.clean.names().to_vec()).unwrap();
            for r in 0..prepared.clean.n_rows() {
                let cells: Vec<&str> = (0..prepared.clean.n_cols())
                    .map(
                        |c| match (c == col, target.label(prepared.clean.raw(r, c))) {
                            (true, Some(1.0)) => yes,
                            (true, _) => no,
                            (false, _) => prepared.clean.raw(r, c),
                        },
                    )
                    .collect();
                t.push_row(prepared.clean.source_row(r), cells).unwrap();
            }
            t
        };
        let base = evaluate(&trained.artifact, &prepared.clean, &mut Reporter::silent()).unwrap();
        for (yes, no) in [("TRUE", "false"), ("Yes", "NO")] {
            let other = evaluate(
                &trained.artifact,
                &relabel(yes, no),
                &mut Reporter::silent(),
            )
            .unwrap();
            assert_eq!(other.metrics, base.metrics, "{yes}/{no}");
        }
        let err = evaluate(
            &trained.artifact,
            &relabel("left", "stayed"),
            &mut Reporter::silent(),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("`stayed`, `left`"), "{text}");
        assert!(
            text.contains(&format!(
                "the model knows `{}` = churned, `{}` = stayed",
                target.positive, target.negative
            )),
            "{text}"
        );
    }

    #[test]
    fn saved_schema_all_quarantined_json_and_cancel() {
        let table =
            generate_table(&SynthParams::default().with_n_customers(60).with_seed(1)).unwrap();
        let prepared = prepare(
            table.clone(),
            String::new(),
            &options(),
            &mut Reporter::silent(),
        )
        .unwrap();
        // A saved schema is enforced, not re-inferred, and the check travels with the result.
        let enforced = PrepareOptions {
            schema: Some(prepared.schema.clone()),
            ..PrepareOptions::default()
        };
        let again = prepare(
            table.clone(),
            String::new(),
            &enforced,
            &mut Reporter::silent(),
        )
        .unwrap();
        assert!(again.schema_check.as_ref().unwrap().is_usable());
        assert_eq!(again.notes, ["schema loaded from file, not inferred"]);

        // Options and results cross a serde boundary (a Web Worker message) unchanged.
        let json = serde_json::to_string(&enforced).unwrap();
        assert_eq!(
            serde_json::from_str::<PrepareOptions>(&json).unwrap(),
            enforced
        );
        let back: Prepared = serde_json::from_str(&serde_json::to_string(&again).unwrap()).unwrap();
        assert_eq!(back.quality, again.quality);
        assert_eq!(back.clean.n_rows(), again.clean.n_rows());

        // Every target missing: nothing to train on, said with the first row's reason.
        let json = br#"[{"x": 1, "churn": null}, {"x": 2, "churn": "?"}]"#;
        let mut schema = prepared.schema.clone();
        schema.columns.clear();
        let only_target = PrepareOptions {
            schema: Some(schema),
            require_target: true,
            ..PrepareOptions::default()
        };
        let err = prepare_bytes(json, &only_target, &mut Reporter::silent()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::AllQuarantined {
                    rows: 2,
                    first_row: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("target `churn` is missing"),
            "{err}"
        );

        // A cancel during training comes back as Cancelled, with no artifact.
        let mut stop = Recorder::new(Some("cross-validating"));
        let err = train(
            &prepared,
            &quick(),
            &RunInfo::default(),
            &|| None,
            &mut Reporter::new(&mut stop),
        )
        .unwrap_err();
        assert!(matches!(err, Error::Cancelled { .. }), "{err:?}");
    }

    #[test]
    fn a_tuned_model_is_the_best_configuration_as_scored() {
        // Trial 0 is `ebb train`'s sized default here (600 rows: 7 leaves); whichever trial
        // wins, the saved model grows exactly its configuration, not a re-sized one.
        let table =
            generate_table(&SynthParams::default().with_n_customers(600).with_seed(3)).unwrap();
        let prepared = prepare(table, String::new(), &options(), &mut Reporter::silent()).unwrap();
        let params = crate::train::tune::TuneParams::default()
            .with_trials(3)
            .with_max_trees(40)
            .with_folds(2)
            .with_seed(5);
        let tuned = tune_and_train(
            &prepared,
            &params,
            &RunInfo::default(),
            &|| None,
            &mut Reporter::silent(),
        )
        .unwrap();
        assert_eq!(tuned.search.trials[0].params.num_leaves, 7);
        // Trained as scored: the final cross-validation repeats the chosen strategy's scores.
        let chosen = tuned
            .search
            .imbalance
            .iter()
            .find(|r| r.strategy == tuned.search.chosen_imbalance)
            .unwrap();
        let family = &tuned.trained.summary.models[0];
        assert_eq!(family.cv.roc_auc, chosen.cv.roc_auc);
        assert_eq!(family.cv.log_loss, chosen.cv.log_loss);
    }
}
