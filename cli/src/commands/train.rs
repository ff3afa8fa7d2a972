//! `ebb train`: cross-validate the model families, keep the best, save the artifact.

use std::path::PathBuf;

use clap::Args;
use ebb_core::model::boost::CategoricalSplits;
use ebb_core::model::family::Family;
use ebb_core::train::tune::Imbalance;
use ebb_core::train::TrainParams;
use ebb_core::workflow::{self, Prepared, RunInfo, Trained};

use crate::io::{now_iso, print_json, render_table};
use crate::progress::ProgressBar;
use crate::{CliError, CliResult, ColumnArgs};

#[derive(Args)]
pub struct TrainArgs {
    /// Training data (CSV or JSON array of records).
    pub data: PathBuf,
    #[command(flatten)]
    pub columns: ColumnArgs,
    /// Model family: gbdt, forest, logistic or all (compare all three, keep the best). With two
    /// or more, their blend (`ensemble`) is compared too and kept when it wins out of fold.
    #[arg(long, default_value = "all")]
    pub model: String,
    /// Do not compare the ensemble of the families.
    #[arg(long)]
    pub no_ensemble: bool,
    /// Cross-validation folds.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Seed of every random step (same seed, same model).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Exactly this many trees for gbdt and forest (gbdt then skips early stopping, which by
    /// default picks the count on a validation split, up to 500). It fixes the models' shape:
    /// the size rule is off (gbdt grows 31 leaf-wise leaves at every size; see README, "Models and
    /// defaults").
    #[arg(long)]
    pub trees: Option<usize>,
    /// Class weighting of gradient boosting: none, balanced (each class weighs n / (2 n_class))
    /// or positive_weight (churners weigh n_retained / n_churned). Default: unweighted.
    #[arg(long)]
    pub imbalance: Option<String>,
    /// How gbdt sees categorical columns: native (one feature of level codes per column, split
    /// as sets of levels) or encoded (one-hot up to 12 levels, out-of-fold target encoding
    /// above). Default: the core default.
    #[arg(long)]
    pub categorical: Option<String>,
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

/// Parses `--categorical`.
pub fn categorical(name: &str) -> CliResult<CategoricalSplits> {
    match name {
        "native" => Ok(CategoricalSplits::Native),
        "encoded" => Ok(CategoricalSplits::Encoded),
        _ => Err(CliError::input(format!(
            "--categorical `{name}` is not one of native, encoded"
        ))),
    }
}

/// Parses `--imbalance`.
pub fn imbalance(name: &str) -> CliResult<Imbalance> {
    Imbalance::from_name(name).ok_or_else(|| {
        CliError::input(format!(
            "--imbalance `{name}` is not one of none, balanced, positive_weight"
        ))
    })
}

/// Trains on prepared data with core's [`workflow::train`], showing progress unless `quiet`.
pub fn train_artifact(
    prepared: &Prepared,
    params: &TrainParams,
    data: &std::path::Path,
    quiet: bool,
) -> CliResult<Trained> {
    let mut bar = ProgressBar::new(quiet);
    let started = std::time::Instant::now();
    let clock = || Some(started.elapsed().as_secs_f64());
    let run = RunInfo {
        created_at: now_iso(),
        ebb_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let trained = workflow::train(prepared, params, &run, &clock, &mut bar.reporter())
        .map_err(|e| CliError::core(data, e));
    bar.finish();
    trained
}

/// The JSON summary of a trained artifact (the contract other tools read).
pub fn summary_json(trained: &Trained, out: &std::path::Path) -> serde_json::Value {
    let mut summary = serde_json::to_value(&trained.summary).unwrap_or_default();
    summary["out"] = serde_json::json!(out);
    summary
}

/// The text summary of a trained artifact.
pub fn print_summary(trained: &Trained, out: &std::path::Path) {
    let m = &trained.summary;
    println!(
        "trained on {} rows ({} quarantined); validation: {}",
        m.rows, m.quarantined_rows, m.validation
    );
    let rows: Vec<Vec<String>> = m
        .models
        .iter()
        .map(|r| {
            vec![
                format!("{}{}", r.name, if r.name == m.chosen { " *" } else { "" }),
                format!("{:.4}", r.cv.roc_auc),
                format!("{:.4}", r.cv.pr_auc),
                format!("{:.4}", r.cv.log_loss),
                format!("{:.4}", r.cv.best_f1),
                r.fit_seconds
                    .map(|s| format!("{s:.1}s"))
                    .unwrap_or_default(),
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
        m.threshold, c.precision, c.recall, c.f1
    );
    println!(
        "model {} ({}) saved to {}",
        m.model_id,
        m.chosen,
        out.display()
    );
}

pub fn run(args: TrainArgs) -> CliResult {
    let mut params = TrainParams::default()
        .with_families(families(&args.model)?)
        .with_folds(args.folds)
        .with_seed(args.seed)
        .with_imbalance(args.imbalance.as_deref().map(imbalance).transpose()?)
        .with_ensemble(!args.no_ensemble);
    if let Some(mode) = &args.categorical {
        params.boost.categorical = categorical(mode)?;
    }
    if let Some(trees) = args.trees {
        if trees == 0 {
            return Err(CliError::input("--trees must be at least 1"));
        }
        params.boost.n_trees = trees;
        params.boost.early_stopping_rounds = None;
        params.forest.n_trees = trees;
        params.sized = false;
    }
    let prepared = super::prepare(&args.data, &args.columns, true, None, args.json)?;
    let trained = train_artifact(&prepared, &params, &args.data, args.json)?;
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
