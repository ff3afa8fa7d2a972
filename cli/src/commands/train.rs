//! `ebb train`: cross-validate the model families, keep the best, save the artifact.

use std::path::PathBuf;

use clap::Args;
use ebb_core::model::family::Family;
use ebb_core::serve::artifact::{Artifact, TrainingMetadata};
use ebb_core::train::{train, TrainParams};

use super::Prepared;
use crate::io::{now_iso, print_json, render_table};
use crate::progress::ProgressBar;
use crate::{CliError, CliResult, ColumnArgs};
use ebb_core::progress::Reporter;

#[derive(Args)]
pub struct TrainArgs {
    /// Training data (CSV or JSON array of records).
    pub data: PathBuf,
    #[command(flatten)]
    pub columns: ColumnArgs,
    /// Model family: gbdt, forest, logistic or all (compare all three, keep the best).
    #[arg(long, default_value = "all")]
    pub model: String,
    /// Cross-validation folds.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Seed of every random step (same seed, same model).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Exactly this many trees for gbdt and forest (gbdt then skips early stopping, which by
    /// default picks the count on a validation split, up to 500).
    #[arg(long)]
    pub trees: Option<usize>,
    /// Where to write the model artifact (JSON).
    #[arg(long)]
    pub out: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Parses `--model`.
pub fn families(model: &str) -> CliResult<Vec<Family>> {
    if model == "all" {
        return Ok(Family::ALL.to_vec());
    }
    model
        .split(',')
        .map(|m| {
            Family::from_name(m.trim()).ok_or_else(|| {
                CliError::input(format!(
                    "--model `{m}` is not one of gbdt, forest, logistic, all"
                ))
            })
        })
        .collect()
}

/// A trained artifact with the seconds each family's cross-validation took.
pub struct Trained {
    /// The artifact to save.
    pub artifact: Artifact,
    /// Cross-validation seconds per compared family, in comparison order.
    pub fit_seconds: Vec<Option<f64>>,
}

/// Trains on prepared data and assembles the artifact.
pub fn train_artifact(
    prepared: &Prepared,
    params: &TrainParams,
    quiet: bool,
) -> CliResult<Trained> {
    let mut bar = ProgressBar::new(quiet);
    let started = std::time::Instant::now();
    let clock = || Some(started.elapsed().as_secs_f64());
    let schema = &prepared.inference.schema;
    let output = train(
        &prepared.clean,
        schema,
        params,
        &mut Reporter::new(&mut bar),
        &clock,
    )
    .map_err(|e| CliError::input(e.to_string()))?;
    bar.finish();
    let metadata = TrainingMetadata {
        rows: prepared.clean.n_rows(),
        quarantined_rows: prepared.quarantined.n_rows(),
        seed: params.seed,
        data_hash: prepared.data_hash.clone(),
        created_at: now_iso(),
        ebb_version: env!("CARGO_PKG_VERSION").to_string(),
        feature_names: output.pipeline.feature_names(),
    };
    let fit_seconds = output.fit_seconds.clone();
    let artifact = Artifact::build(
        schema.clone(),
        output.pipeline,
        output.model,
        output.calibration,
        output.threshold,
        output.metrics,
        output.reference,
        metadata,
    )
    .map_err(|e| CliError::other(e.to_string()))?;
    Ok(Trained {
        artifact,
        fit_seconds,
    })
}

/// The JSON summary of a trained artifact (the contract other tools read).
pub fn summary_json(trained: &Trained, out: &std::path::Path) -> serde_json::Value {
    let artifact = &trained.artifact;
    let m = &artifact.metrics;
    let models: Vec<serde_json::Value> = m
        .models
        .iter()
        .zip(&trained.fit_seconds)
        .map(|(r, s)| serde_json::json!({"name": r.name, "cv": r.cv, "fit_seconds": s}))
        .collect();
    serde_json::json!({
        "models": models,
        "chosen": m.chosen,
        "model_id": artifact.model_id,
        "threshold": artifact.threshold,
        "calibration": m.calibration,
        "validation": m.validation,
        "calibrated_cv": m.calibrated_cv,
        "rows": artifact.metadata.rows,
        "quarantined_rows": artifact.metadata.quarantined_rows,
        "out": out,
    })
}

/// The text summary of a trained artifact.
pub fn print_summary(trained: &Trained, out: &std::path::Path) {
    let artifact = &trained.artifact;
    let m = &artifact.metrics;
    println!(
        "trained on {} rows ({} quarantined); validation: {}",
        artifact.metadata.rows, artifact.metadata.quarantined_rows, m.validation
    );
    let rows: Vec<Vec<String>> = m
        .models
        .iter()
        .zip(&trained.fit_seconds)
        .map(|(r, seconds)| {
            vec![
                format!("{}{}", r.name, if r.name == m.chosen { " *" } else { "" }),
                format!("{:.4}", r.cv.roc_auc),
                format!("{:.4}", r.cv.pr_auc),
                format!("{:.4}", r.cv.log_loss),
                format!("{:.4}", r.cv.best_f1),
                seconds.map(|s| format!("{s:.1}s")).unwrap_or_default(),
            ]
        })
        .collect();
    print!(
        "{}",
        render_table(
            &["model", "roc_auc", "pr_auc", "log_loss", "best_f1", "time"],
            &rows
        )
    );
    let c = &m.calibrated_cv;
    println!("calibration: {}", m.calibration);
    println!(
        "threshold {:.3}: precision {:.3}, recall {:.3}, f1 {:.3} (out of fold, calibrated)",
        artifact.threshold, c.precision, c.recall, c.f1
    );
    println!(
        "model {} ({}) saved to {}",
        artifact.model_id,
        m.chosen,
        out.display()
    );
}

pub fn run(args: TrainArgs) -> CliResult {
    let mut params = TrainParams::default()
        .with_families(families(&args.model)?)
        .with_folds(args.folds)
        .with_seed(args.seed);
    if let Some(trees) = args.trees {
        if trees == 0 {
            return Err(CliError::input("--trees must be at least 1"));
        }
        params.boost.n_trees = trees;
        params.boost.early_stopping_rounds = None;
        params.forest.n_trees = trees;
    }
    let prepared = super::prepare(&args.data, &args.columns, true)?;
    let trained = train_artifact(&prepared, &params, args.json)?;
    let json = trained
        .artifact
        .to_json()
        .map_err(|e| CliError::other(e.to_string()))?;
    crate::write_file(&args.out, &json)?;
    if args.json {
        print_json(&summary_json(&trained, &args.out));
    } else {
        print_summary(&trained, &args.out);
    }
    Ok(())
}
