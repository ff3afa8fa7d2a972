//! `ebb tune`: search boosting parameters on the training folds, compare imbalance strategies,
//! and optionally train and save the final model with the winners.

use std::path::PathBuf;

use clap::Args;
use ebb_core::train::tune::{tune, TuneOutput, TuneParams};
use ebb_core::workflow::{self, RunInfo};

use crate::commands::train::{print_summary, summary_json};
use crate::io::{now_iso, print_json, render_table};
use crate::progress::ProgressBar;
use crate::{CliError, CliResult, ColumnArgs};
use ebb_core::progress::Reporter;

#[derive(Args)]
pub struct TuneArgs {
    /// Training data (CSV or JSON array of records).
    data: PathBuf,
    #[command(flatten)]
    columns: ColumnArgs,
    /// Configurations to try. The budget is counted in trials and rounds, never in seconds, so
    /// the same seed tunes to the same model on every machine.
    #[arg(long, default_value_t = 9)]
    trials: usize,
    /// Boosting rounds of the last halving rung and of the final model.
    #[arg(long, default_value_t = 300)]
    max_trees: usize,
    /// Evaluate every configuration at full rounds instead of successive halving.
    #[arg(long)]
    no_halving: bool,
    /// Cross-validation folds.
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// Seed of the search and of every fit.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Train the final model with the best parameters and save it here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

fn params_row(p: &ebb_core::model::boost::BoostParams) -> Vec<String> {
    vec![
        format!("{:.4}", p.learning_rate),
        p.num_leaves.to_string(),
        p.min_data_in_leaf.to_string(),
        format!("{:.2}", p.feature_fraction),
        if p.bagging_freq > 0 {
            format!("{:.2}", p.bagging_fraction)
        } else {
            "off".into()
        },
        format!("{:.4}", p.lambda_l2),
    ]
}

fn print_tuning(out: &TuneOutput) {
    println!("validation: {}", out.validation);
    let rows: Vec<Vec<String>> = out
        .trials
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut row = vec![
                format!(
                    "{}{}",
                    t.config,
                    if i == out.best_trial { " *" } else { "" }
                ),
                t.rung.to_string(),
                t.params.n_trees.to_string(),
            ];
            row.extend(params_row(&t.params));
            row.extend([
                format!("{:.4}", t.cv.roc_auc),
                format!("{:.4}", t.cv.pr_auc),
                format!("{:.4}", t.cv.log_loss),
                t.seconds.map(|s| format!("{s:.1}s")).unwrap_or_default(),
            ]);
            row
        })
        .collect();
    print!(
        "{}",
        render_table(
            &[
                "trial",
                "rung",
                "trees",
                "lr",
                "leaves",
                "min_leaf",
                "feat_frac",
                "bagging",
                "l2",
                "roc_auc",
                "pr_auc",
                "log_loss",
                "time"
            ],
            &rows
        )
    );
    println!("\nimbalance strategies (best configuration, out of fold):");
    let rows: Vec<Vec<String>> = out
        .imbalance
        .iter()
        .map(|r| {
            vec![
                format!(
                    "{}{}",
                    r.strategy.name(),
                    if r.strategy == out.chosen_imbalance {
                        " *"
                    } else {
                        ""
                    }
                ),
                format!("{:.3}", r.positive_weight),
                format!("{:.4}", r.cv.roc_auc),
                format!("{:.4}", r.cv.pr_auc),
                format!("{:.4}", r.cv.log_loss),
                format!("{:.4}", r.calibrated_log_loss),
            ]
        })
        .collect();
    print!(
        "{}",
        render_table(
            &[
                "strategy",
                "pos_weight",
                "roc_auc",
                "pr_auc",
                "log_loss",
                "calibrated_log_loss"
            ],
            &rows
        )
    );
    println!("{}", out.imbalance_explanation);
    println!("best: {}", out.best);
}

pub fn run(args: TuneArgs) -> CliResult {
    let params = TuneParams::default()
        .with_trials(args.trials)
        .with_halving(!args.no_halving)
        .with_max_trees(args.max_trees)
        .with_folds(args.folds)
        .with_seed(args.seed);
    let prepared = super::prepare(&args.data, &args.columns, true, None, args.json)?;
    let mut bar = ProgressBar::new(args.json);
    let started = std::time::Instant::now();
    let clock = || Some(started.elapsed().as_secs_f64());
    let mut reporter = Reporter::new(&mut bar);
    let (out, trained) = match &args.out {
        Some(path) => {
            let run = RunInfo {
                created_at: now_iso(),
                ebb_version: env!("CARGO_PKG_VERSION").to_string(),
            };
            let tuned = workflow::tune_and_train(&prepared, &params, &run, &clock, &mut reporter)
                .map_err(|e| CliError::core(&args.data, e))?;
            let json = tuned
                .trained
                .artifact
                .to_json()
                .map_err(|e| CliError::other(e.to_string()))?;
            crate::write_file(path, &json)?;
            (tuned.search, Some((tuned.trained, path)))
        }
        None => {
            let out = tune(
                &prepared.clean,
                &prepared.schema,
                &params,
                &mut reporter,
                &clock,
            )
            .map_err(|e| CliError::core(&args.data, e))?;
            (out, None)
        }
    };
    bar.finish();
    if args.json {
        let mut v = serde_json::to_value(&out).map_err(|e| CliError::other(e.to_string()))?;
        v["seconds"] = serde_json::json!(started.elapsed().as_secs_f64());
        v["model"] = trained
            .as_ref()
            .map_or(serde_json::Value::Null, |(t, path)| summary_json(t, path));
        print_json(&v);
    } else {
        print_tuning(&out);
        if let Some((t, path)) = &trained {
            println!();
            print_summary(t, path);
        }
    }
    Ok(())
}
