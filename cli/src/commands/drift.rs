//! `ebb drift`: compares a current batch with the training reference stored in a model artifact
//! (per-column distribution drift, score drift and, when the batch has labels, performance).

use std::path::PathBuf;

use clap::Args;
use ebb_core::monitor::{drift_of_table, ColumnDrift, DriftParams, DriftReport};

use crate::io::{print_json, read_artifact, read_table, render_table};
use crate::progress::ProgressBar;
use crate::{CliError, CliResult};

#[derive(Args)]
pub struct DriftArgs {
    /// Model artifact (JSON) written by `ebb train`.
    model: PathBuf,
    /// Current customers (CSV or JSON array of records), with the target column for performance.
    current: PathBuf,
    /// Bootstrap resamples of the performance confidence intervals.
    #[arg(long, default_value_t = 200)]
    bootstrap: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.3}")).unwrap_or_else(|| "-".into())
}

fn p_text(p: f64) -> String {
    if p < 0.001 {
        "<0.001".into()
    } else {
        format!("{p:.3}")
    }
}

fn column_row(c: &ColumnDrift) -> Vec<String> {
    let (test, p, distance) = match (&c.ks, &c.chi_square) {
        (Some(ks), _) => (
            format!("KS {:.3}", ks.statistic),
            p_text(ks.p_value),
            format!("W1/sd {}", opt(c.wasserstein)),
        ),
        (None, Some(chi)) => (
            format!("chi2 {:.1} ({} dof)", chi.statistic, chi.dof),
            p_text(chi.p_value),
            format!("JS {}", opt(c.js_distance)),
        ),
        (None, None) => ("-".into(), "-".into(), "-".into()),
    };
    let mut notes: Vec<String> = Vec::new();
    if !c.new_categories.is_empty() {
        let names: Vec<String> = c
            .new_categories
            .iter()
            .take(3)
            .map(|l| format!("{} ({})", l.level, l.count))
            .collect();
        notes.push(format!("new: {}", names.join(", ")));
    }
    if !c.vanished_categories.is_empty() {
        notes.push(format!("gone: {}", c.vanished_categories.join(", ")));
    }
    if let (Some(a), Some(b)) = (c.reference_mean, c.current_mean) {
        notes.push(format!("mean {a:.3} -> {b:.3}"));
    }
    vec![
        c.name.clone(),
        c.verdict.as_str().into(),
        opt(c.psi),
        test,
        p,
        distance,
        format!(
            "{:.3} -> {:.3}",
            c.missing.reference_rate, c.missing.current_rate
        ),
        notes.join("; "),
    ]
}

fn print_text(r: &DriftReport, skipped: usize, note: Option<&str>) {
    println!(
        "model {}: {} reference rows vs {} current rows",
        r.model_id, r.reference_rows, r.current_rows
    );
    let rows: Vec<Vec<String>> = r.columns.iter().map(column_row).collect();
    print!(
        "{}",
        render_table(
            &["column", "verdict", "psi", "test", "p", "distance", "missing", "notes"],
            &rows
        )
    );
    let s = &r.score_drift;
    println!(
        "score: {} (PSI {:.3}, KS {:.3} p {}, mean {:.3} -> {:.3}, {} rows scored)",
        s.verdict.as_str(),
        s.psi,
        s.ks.statistic,
        p_text(s.ks.p_value),
        s.reference_mean,
        s.current_mean,
        s.current_scored
    );
    if skipped > 0 {
        println!("{skipped} rows could not be scored (their values still count)");
    }
    if let Some(p) = &r.performance {
        println!(
            "performance on {} labelled rows ({:.0}% intervals):",
            p.rows,
            p.confidence * 100.0
        );
        for (name, m) in [("roc_auc", &p.roc_auc), ("recall", &p.recall)] {
            println!(
                "  {name}: {:.4} [{:.4}, {:.4}] vs training {:.4}{}",
                m.current,
                m.ci_low,
                m.ci_high,
                m.training,
                if m.degraded { "  DEGRADED" } else { "" }
            );
        }
    }
    if let Some(n) = note {
        println!("performance not computed: {n}");
    }
    println!(
        "dataset: {} ({} of {} columns drifted, {} warn)",
        r.dataset_verdict.as_str(),
        r.drifted_columns,
        r.columns.len(),
        r.warned_columns
    );
    println!("{}", r.recommendation);
}

pub fn run(args: DriftArgs) -> CliResult {
    let artifact = read_artifact(&args.model)?;
    let (table, _) = read_table(&args.current)?;
    let params = DriftParams::default()
        .with_n_boot(args.bootstrap)
        .with_seed(args.seed);
    let mut bar = ProgressBar::new(args.json);
    let outcome = drift_of_table(&artifact, &table, &params, &mut bar.reporter())
        .map_err(|e| CliError::core(&args.current, e));
    bar.finish();
    let outcome = outcome?;
    if args.json {
        let mut v =
            serde_json::to_value(&outcome.report).map_err(|e| CliError::other(e.to_string()))?;
        v["unscored_rows"] = serde_json::json!(outcome.unscored.len());
        v["unscored_examples"] =
            serde_json::json!(outcome.unscored.iter().take(10).collect::<Vec<_>>());
        if let Some(note) = &outcome.performance_note {
            v["performance_note"] = serde_json::json!(note);
        }
        print_json(&v);
    } else {
        print_text(
            &outcome.report,
            outcome.unscored.len(),
            outcome.performance_note.as_deref(),
        );
    }
    Ok(())
}
