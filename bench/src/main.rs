//! `ebb-bench`: Ebb's side of the benchmark against LightGBM, XGBoost and scikit-learn
//! (`bench/run.sh` runs both sides; `bench/reference.py` is the other one).
//!
//! ```text
//! ebb-bench generate --rows 100000 --seed 7 --out synth.csv
//! ebb-bench run --data d.csv --folds d.folds --target churn [--id customer_id]
//!               [--time snapshot_date] --name synth --out ebb_synth.json
//!               [--models gbdt,forest,logistic] [--no-scoring]   (also gbdt_native, gbdt_encoded:
//!               the gbdt defaults with that handling of categorical columns; gbdt_tuned: `ebb
//!               tune`'s search on the fold's training rows, then the best configuration fitted,
//!               with the budget of `EBB_BENCH_TUNE`, e.g. `{"trials": 9, "max_trees": 300}`;
//!               gbdt_sized: the gbdt defaults sized to the fold's training rows as `ebb train`
//!               sizes them; --predictions adds each row's test-fold probability, for blending)
//! ebb-bench drift --model model.json --data current.csv [--repeats 3] --out drift.json
//! ebb-bench explain --data synth.csv --rows 1000 --out ebb_explain.json --matrix features.csv
//! ebb-bench progress --data synth.csv [--models gbdt,forest,logistic] [--folds 2]
//! ebb-bench whatif --model m.json --record '{...}' --set field=value --actionable a,b [--repeats 50]
//! ebb-bench folds --data d.csv --target churn [--cv 5] [--seed 42] --out d.folds
//! ebb-bench forest-study --data d.csv --folds a.folds,b.folds --target churn [--id ..] [--time ..]
//!               --name mlc_churn [--trees 50,100,150,200,300] [--leaf 5000,2000]
//!               [--depth none,16,12] --out study.json
//! ```
//!
//! `run` reads the folds file written by `bench/splits.py` (per data row: the fold in which it is
//! a test row, or -1), and for every fold infers the schema and fits the feature pipeline on the
//! fold's training rows, fits each model family with its default parameters (only the model
//! fit is timed, so the numbers compare with the references' `fit` calls on the same matrix
//! rows), and evaluates ROC-AUC and PR-AUC (average precision) on the fold's test rows. On the
//! first fold it also scores 1,000,000 rows (the test rows repeated, in chunks the size of the
//! test set as a streaming scorer would see them) from raw table cells: pipeline transform plus
//! prediction, once in a one-thread pool and once with all threads; and it measures the JSON
//! size of the fitted model and of the fitted pipeline.
//!
//! `folds` writes a folds file in `run`'s format without Python: core's seeded stratified
//! k-fold (`data::split::stratified_kfold`), so the size study's generated tables need no venv.
//!
//! `drift` (for `bench/drift.sh`) times `monitor::drift_of_table` in-process on a table already
//! parsed, the median of `--repeats` runs, with artifact loading and CSV parsing timed apart,
//! and writes every column's verdict with the columns the synthetic drift really shifts.
//!
//! `explain` trains a 300-tree, 31-leaf boosted artifact (no early stopping, 2 folds) on the
//! whole file, then times exact TreeSHAP on one thread: `--rows` rows from the feature matrix
//! (explanation only), the same rows from raw cells (transform + explanation), and the edge
//! worker's case, one raw record to a calibrated probability plus its top 3 reasons, per call.
//! It writes the model's feature matrix and labels as CSV (`--matrix`) so `bench/explain.py`
//! can train LightGBM on exactly the same features and time `shap`'s TreeExplainer.
//!
//! `progress` measures how soon a cancel is heard: it runs `workflow::prepare_bytes` and
//! `workflow::train` per family on one thread (as in the browser's worker), timestamps every
//! progress report, and prints the longest stretches without one (a cancel waits at most that
//! long), then cancels a second run at 50% and times how long it takes to return `Cancelled`.
//!
//! `forest-study` (issue 13: the forest's defaults) fits, on every test fold of every folds file,
//! one forest per leaf rule x depth cap with the largest `--trees` count, and evaluates each
//! prefix of its trees (a forest's first k trees are the k-tree forest of the same seed: every
//! tree draws from its own stream), so a tree-count curve costs one fit. A leaf rule `D` is
//! `ebb train`'s `min_samples_leaf = max(3, training rows / D)` (0: always 3). Per point it
//! prints the mean test ROC-AUC over all folds and the scoring work: mean nodes a test row
//! visits across the trees, and nodes per tree.
//!
//! `whatif` times, in-process on one thread, what the dashboard's What-if view asks of core per
//! edit: `workflow::whatif::what_if` (the record before and after one `--set`, top 5 reasons)
//! and `workflow::whatif::suggest` over the `--actionable` fields, the median of `--repeats`,
//! with the explainer built once (as the view's worker keeps it); `bench/web.mjs` prints it
//! beside the browser's times.

use std::fs;
use std::time::Instant;

use ebb_core::data::ingest::{read_csv, CsvOptions};
use ebb_core::data::schema::{infer, InferOptions};
use ebb_core::data::split::stratified_kfold;
use ebb_core::data::synth::{drifted_columns, generate_csv, SynthParams};
use ebb_core::data::table::Table;
use ebb_core::features::{FeatureParams, FittedPipeline, Target};
use ebb_core::insight::explain::Explainer;
use ebb_core::metrics::{average_precision, roc_auc};
use ebb_core::model::boost::{BoostModel, BoostParams, CategoricalSplits};
use ebb_core::model::family::{Family, Model};
use ebb_core::model::forest::{ForestModel, ForestParams};
use ebb_core::model::linear::{LogisticModel, LogisticParams};
use ebb_core::monitor::{drift_of_table, DriftParams, Verdict};
use ebb_core::progress::Reporter;
use ebb_core::serve::artifact::Artifact;
use ebb_core::train::sized_boost;
use ebb_core::train::tune::{tune, TuneParams};
use ebb_core::train::{labels, TrainParams};
use ebb_core::workflow::{self, prepare_bytes, DataFormat, PrepareOptions, RunInfo};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde_json::{json, Value};

const SCORE_ROWS: usize = 1_000_000;
const FAMILIES: [&str; 3] = ["gbdt", "forest", "logistic"];

type Res<T> = Result<T, String>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("generate") => generate(&Flags::parse(&args[1..])),
        Some("run") => run(&Flags::parse(&args[1..])),
        Some("drift") => drift(&Flags::parse(&args[1..])),
        Some("explain") => explain(&Flags::parse(&args[1..])),
        Some("progress") => progress(&Flags::parse(&args[1..])),
        Some("whatif") => whatif(&Flags::parse(&args[1..])),
        Some("forest-study") => forest_study(&Flags::parse(&args[1..])),
        Some("folds") => write_folds(&Flags::parse(&args[1..])),
        _ => Err(
            "usage: ebb-bench generate|run|drift|explain|progress|whatif|forest-study|folds --flag value ... (see the source's doc)"
                .into(),
        ),
    };
    if let Err(e) = result {
        eprintln!("ebb-bench: {e}");
        std::process::exit(1);
    }
}

/// `--name value` pairs and bare `--switch`es.
struct Flags(Vec<(String, Option<String>)>);

impl Flags {
    fn parse(args: &[String]) -> Flags {
        let mut out = Vec::new();
        let mut it = args.iter().peekable();
        while let Some(a) = it.next() {
            let name = a.trim_start_matches("--").to_string();
            let value = it.next_if(|v| !v.starts_with("--")).cloned();
            out.push((name, value));
        }
        Flags(out)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }

    fn need(&self, name: &str) -> Res<&str> {
        self.get(name)
            .ok_or_else(|| format!("--{name} is required"))
    }

    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }

    fn number(&self, name: &str) -> Res<u64> {
        let v = self.need(name)?;
        v.parse().map_err(|_| format!("--{name} {v}: not a number"))
    }
}

fn generate(flags: &Flags) -> Res<()> {
    let rows = usize::try_from(flags.number("rows")?).map_err(|e| e.to_string())?;
    let params = SynthParams::default()
        .with_n_customers(rows)
        .with_seed(flags.number("seed")?);
    let mut csv = String::new();
    generate_csv(&params, &mut |s| csv.push_str(s)).map_err(|e| e.to_string())?;
    let out = flags.need("out")?;
    fs::write(out, csv).map_err(|e| format!("{out}: {e}"))
}

fn drift(flags: &Flags) -> Res<()> {
    let (model, data) = (flags.need("model")?, flags.need("data")?);
    let repeats = match flags.get("repeats") {
        Some(_) => flags.number("repeats")?.max(1),
        None => 3,
    };
    let start = Instant::now();
    let text = fs::read_to_string(model).map_err(|e| format!("{model}: {e}"))?;
    let artifact = Artifact::from_json(&text).map_err(ebb_err)?;
    let load_model_s = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let bytes = fs::read(data).map_err(|e| format!("{data}: {e}"))?;
    let table = read_csv(&bytes, &CsvOptions::default()).map_err(ebb_err)?;
    let read_csv_s = start.elapsed().as_secs_f64();
    let mut runs = Vec::new();
    let mut report = None;
    for _ in 0..repeats {
        let start = Instant::now();
        let out = drift_of_table(
            &artifact,
            &table,
            &DriftParams::default(),
            &mut Reporter::silent(),
        )
        .map_err(ebb_err)?;
        runs.push(start.elapsed().as_secs_f64());
        report = Some(out.report);
    }
    let report = report.ok_or("no drift run")?;
    let mut sorted = runs.clone();
    sorted.sort_by(f64::total_cmp);
    let verdicts: serde_json::Map<String, Value> = report
        .columns
        .iter()
        .map(|c| (c.name.clone(), json!(c.verdict.as_str())))
        .collect();
    let flagged: Vec<&str> = report
        .columns
        .iter()
        .filter(|c| c.verdict != Verdict::Ok)
        .map(|c| c.name.as_str())
        .collect();
    let result = json!({
        "rows": table.n_rows(),
        "load_model_s": load_model_s,
        "read_csv_s": read_csv_s,
        "drift_s": sorted[sorted.len() / 2],
        "drift_runs_s": runs,
        "flagged": flagged,
        "verdicts": verdicts,
        "dataset_verdict": report.dataset_verdict.as_str(),
        "truly_shifted": drifted_columns(),
    });
    let out = flags.need("out")?;
    fs::write(out, result.to_string()).map_err(|e| format!("{out}: {e}"))
}

/// A fitted model of one family.
enum Fitted {
    Gbdt(BoostModel),
    Forest(ForestModel),
    Logistic(LogisticModel),
}

impl Fitted {
    /// `codes`: per feature, its number of level codes for native categorical splits, else 0.
    /// `boost`: the boosting parameters of a gbdt family (see [`boost_params`]).
    fn fit(
        family: &str,
        boost: BoostParams,
        x: ArrayView2<f64>,
        codes: &[usize],
        y: &[f64],
    ) -> Res<Fitted> {
        let e = |e: ebb_core::Error| format!("{family}: {e}");
        Ok(match family {
            "gbdt" | "gbdt_native" | "gbdt_encoded" | "gbdt_tuned" | "gbdt_sized" => Fitted::Gbdt(
                boost
                    .fit_categorical_with_progress(x, codes, y, None, &mut Reporter::silent())
                    .map_err(e)?,
            ),
            "forest" => Fitted::Forest(ForestParams::default().fit(x, y, None).map_err(e)?),
            "logistic" => Fitted::Logistic(LogisticParams::default().fit(x, y, None).map_err(e)?),
            other => return Err(format!("unknown model family `{other}`")),
        })
    }

    fn predict(&self, x: ArrayView2<f64>) -> Res<Vec<f64>> {
        Ok(match self {
            Fitted::Gbdt(m) => m.predict_proba_matrix(x),
            Fitted::Forest(m) => m.predict_proba_matrix(x).map_err(|e| e.to_string())?,
            Fitted::Logistic(m) => m.predict_proba_matrix(x),
        })
    }

    fn json_bytes(&self) -> Res<usize> {
        let json = match self {
            Fitted::Gbdt(m) => serde_json::to_vec(m),
            Fitted::Forest(m) => serde_json::to_vec(m),
            Fitted::Logistic(m) => serde_json::to_vec(m),
        };
        json.map(|j| j.len()).map_err(|e| e.to_string())
    }

    /// Boosting rounds kept (trees in the model), for comparing with LightGBM's early stopping.
    fn rounds(&self) -> Option<usize> {
        match self {
            Fitted::Gbdt(m) => Some(m.trees.len()),
            _ => None,
        }
    }
}

/// Boosting's parameters for family `gbdt` (the defaults), `gbdt_native` or `gbdt_encoded`
/// (the defaults with that handling of categorical columns), so one run compares both. The
/// environment variable `EBB_BENCH_BOOST` (a JSON object of `BoostParams` fields, e.g.
/// `{"cat_l2": 20}`) overrides fields, to measure settings without rebuilding.
fn boost_params(family: &str) -> BoostParams {
    let mut p = BoostParams::default();
    if let Ok(text) = std::env::var("EBB_BENCH_BOOST") {
        let mut value = serde_json::to_value(&p).expect("parameters serialise");
        let extra: serde_json::Map<String, Value> =
            serde_json::from_str(&text).expect("EBB_BENCH_BOOST is a JSON object");
        for (k, v) in extra {
            value[k] = v;
        }
        p = serde_json::from_value(value).expect("EBB_BENCH_BOOST holds BoostParams fields");
    }
    match family {
        "gbdt_native" => p.with_categorical(CategoricalSplits::Native),
        "gbdt_encoded" => p.with_categorical(CategoricalSplits::Encoded),
        _ => p,
    }
}

/// Family `gbdt_tuned`: `ebb tune`'s search (core's `train::tune::tune`, the defaults' budget or
/// `EBB_BENCH_TUNE`'s, a JSON object of `TuneParams` fields) on a fold's training rows, whose
/// best configuration (imbalance strategy applied) is then fitted like the default gbdt.
fn tuned_params(train: &Table, schema: &ebb_core::data::schema::Schema) -> Res<BoostParams> {
    let mut params = TuneParams::default();
    if let Ok(text) = std::env::var("EBB_BENCH_TUNE") {
        let mut value = serde_json::to_value(&params).expect("parameters serialise");
        let extra: serde_json::Map<String, Value> =
            serde_json::from_str(&text).map_err(|e| format!("EBB_BENCH_TUNE: {e}"))?;
        for (k, v) in extra {
            value[k] = v;
        }
        params = serde_json::from_value(value).map_err(|e| format!("EBB_BENCH_TUNE: {e}"))?;
    }
    let out = tune(train, schema, &params, &mut Reporter::silent(), &|| None).map_err(ebb_err)?;
    Ok(out.best)
}

/// `folds`: core's seeded stratified k-fold as a folds file (one test fold per data row).
fn write_folds(flags: &Flags) -> Res<()> {
    let data = flags.need("data")?;
    let bytes = fs::read(data).map_err(|e| format!("{data}: {e}"))?;
    let table = read_csv(&bytes, &CsvOptions::default()).map_err(ebb_err)?;
    let options = InferOptions::new()
        .with_target(flags.need("target")?)
        .with_require_target(true);
    let schema = infer(&table, &options).map_err(ebb_err)?.schema;
    let spec = schema.target.as_ref().ok_or("no target in the schema")?;
    let y = complete_labels(spec.labels(&table).map_err(ebb_err)?)?;
    let k = flags.get("cv").map_or(Ok(5), |_| flags.number("cv"))? as usize;
    let seed = flags.get("seed").map_or(Ok(42), |_| flags.number("seed"))?;
    let mut fold_of = vec![-1i64; y.len()];
    for (i, fold) in stratified_kfold(&y, k, seed)
        .map_err(ebb_err)?
        .iter()
        .enumerate()
    {
        fold.test.iter().for_each(|&r| fold_of[r] = i as i64);
    }
    let text: String = fold_of.iter().map(|f| format!("{f}\n")).collect();
    let out = flags.need("out")?;
    fs::write(out, text).map_err(|e| format!("{out}: {e}"))
}

fn target_of(family: &str) -> Target {
    if family == "logistic" {
        Target::Linear
    } else {
        Target::Trees
    }
}

fn ebb_err(e: ebb_core::Error) -> String {
    e.to_string()
}

/// Fold statistics of one family.
#[derive(Default)]
struct Stats {
    roc: Vec<f64>,
    pr: Vec<f64>,
    fit: Vec<f64>,
    fit_cpu: Vec<f64>,
    pipeline_fit: Vec<f64>,
    rounds: Vec<usize>,
    /// Each row's test-fold probability (`NaN` for rows in no test fold), kept with
    /// `--predictions` so that variants can be blended afterwards on the same folds.
    oof: Vec<f64>,
}

fn run(flags: &Flags) -> Res<()> {
    let data = flags.need("data")?;
    let folds_path = flags.need("folds")?;
    let name = flags.need("name")?;
    let bytes = fs::read(data).map_err(|e| format!("{data}: {e}"))?;
    let table = read_csv(&bytes, &CsvOptions::default()).map_err(ebb_err)?;
    drop(bytes);
    let folds: Vec<i64> = fs::read_to_string(folds_path)
        .map_err(|e| format!("{folds_path}: {e}"))?
        .lines()
        .map(|l| {
            l.trim()
                .parse()
                .map_err(|_| format!("{folds_path}: bad line `{l}`"))
        })
        .collect::<Res<_>>()?;
    if folds.len() != table.n_rows() {
        return Err(format!(
            "{folds_path} has {} lines but {data} has {} rows",
            folds.len(),
            table.n_rows()
        ));
    }
    let mut options = InferOptions::new()
        .with_target(flags.need("target")?)
        .with_require_target(true);
    if let Some(id) = flags.get("id") {
        options = options.with_id(id);
    }
    if let Some(time) = flags.get("time") {
        options = options.with_time(time);
    }
    let families: Vec<&str> = match flags.get("models") {
        Some(list) => list.split(',').filter(|f| !f.is_empty()).collect(),
        None => FAMILIES.to_vec(),
    };
    let scoring = !flags.has("no-scoring");
    let threads = rayon::current_num_threads();

    let mut test_folds: Vec<i64> = folds.iter().copied().filter(|&f| f >= 0).collect();
    test_folds.sort_unstable();
    test_folds.dedup();
    let first = *test_folds
        .first()
        .ok_or("the folds file names no test fold")?;
    let predictions = flags.has("predictions");
    let mut stats: Vec<Stats> = families
        .iter()
        .map(|_| Stats {
            oof: vec![f64::NAN; if predictions { table.n_rows() } else { 0 }],
            ..Stats::default()
        })
        .collect();
    let mut extra: Vec<serde_json::Map<String, Value>> =
        families.iter().map(|_| serde_json::Map::new()).collect();
    let mut train_rows = 0;
    let mut test_rows = 0;
    let mut notes = Vec::new();

    for &k in &test_folds {
        let train = table.filter_rows(|r| folds[r] != k);
        let test = table.filter_rows(|r| folds[r] == k);
        if k == first {
            (train_rows, test_rows) = (train.n_rows(), test.n_rows());
        }
        let inference = infer(&train, &options).map_err(ebb_err)?;
        let schema = inference.schema;
        if k == first {
            notes = inference.notes;
        }
        let spec = schema
            .target
            .as_ref()
            .ok_or("no target in the inferred schema")?;
        let y_train = complete_labels(spec.labels(&train).map_err(ebb_err)?)?;
        let y_test = complete_labels(spec.labels(&test).map_err(ebb_err)?)?;

        for (i, family) in families.iter().enumerate() {
            let t = Instant::now();
            let boost = match *family {
                "gbdt_tuned" => tuned_params(&train, &schema)?,
                // `ebb train`'s gbdt: the defaults sized to the fold's training rows.
                "gbdt_sized" => sized_boost(&boost_params(family), train.n_rows()),
                _ => boost_params(family),
            };
            let native =
                family.starts_with("gbdt") && boost.categorical == CategoricalSplits::Native;
            let (pipeline, x) = FeatureParams::for_target(target_of(family))
                .with_native_categorical(native)
                .fit_transform(&train, &schema, &y_train)
                .map_err(ebb_err)?;
            let pipeline_fit = t.elapsed().as_secs_f64();
            let (t, cpu) = (Instant::now(), cpu_seconds());
            let model = Fitted::fit(family, boost, x.view(), &pipeline.feature_codes(), &y_train)?;
            let fit = t.elapsed().as_secs_f64();
            let fit_cpu = cpu_seconds() - cpu;
            drop(x);
            let (x_test, errors) = pipeline.transform_table(&test).map_err(ebb_err)?;
            if let Some((row, e)) = errors.first() {
                return Err(format!("test row {row}: {e}"));
            }
            let p = model.predict(x_test.view())?;
            let s = &mut stats[i];
            s.roc.push(roc_auc(&y_test, &p).map_err(ebb_err)?);
            s.pr.push(average_precision(&y_test, &p).map_err(ebb_err)?);
            s.fit.push(fit);
            s.fit_cpu.push(fit_cpu);
            s.pipeline_fit.push(pipeline_fit);
            s.rounds.extend(model.rounds());
            if predictions {
                let test_rows = (0..table.n_rows()).filter(|&r| folds[r] == k);
                test_rows.zip(&p).for_each(|(r, &p)| s.oof[r] = p);
            }
            eprintln!(
                "ebb-bench: {name} fold {k}: {family}: roc {:.4} fit {fit:.2}s{}",
                s.roc[s.roc.len() - 1],
                model
                    .rounds()
                    .map(|r| format!(" rounds {r}"))
                    .unwrap_or_default()
            );
            if k == first {
                let e = &mut extra[i];
                e.insert("model_bytes".into(), json!(model.json_bytes()?));
                let pipeline_bytes = serde_json::to_vec(&pipeline).map_err(|e| e.to_string())?;
                e.insert("pipeline_bytes".into(), json!(pipeline_bytes.len()));
                e.insert("features".into(), json!(pipeline.n_features()));
                if let Fitted::Gbdt(m) = &model {
                    e.insert("training_log".into(), json!(m.training_log));
                }
                if scoring {
                    for (label, n) in [("1t", 1), ("all", threads)] {
                        let cpu = cpu_seconds();
                        let (total, predict) = score_seconds(&pipeline, &model, &test, n)?;
                        let cpu = cpu_seconds() - cpu;
                        e.insert(format!("score_1m_seconds_{label}"), json!(total));
                        e.insert(format!("score_1m_cpu_seconds_{label}"), json!(cpu));
                        e.insert(format!("predict_1m_seconds_{label}"), json!(predict));
                        eprintln!(
                            "ebb-bench: {name}: {family}: 1M rows {total:.2}s ({n} threads, \
                             predict {predict:.2}s)"
                        );
                    }
                }
            }
        }
    }

    let version = env!("CARGO_PKG_VERSION");
    let results: Vec<Value> = families
        .iter()
        .zip(stats.iter().zip(extra))
        .map(|(family, (s, mut e))| {
            e.insert("key".into(), json!(format!("ebb_{family}")));
            e.insert("model".into(), json!(format!("Ebb {family}")));
            e.insert("family".into(), json!(family));
            e.insert("library".into(), json!(format!("ebb-core {version}")));
            e.insert("roc_auc".into(), json!(mean(&s.roc)));
            e.insert("pr_auc".into(), json!(mean(&s.pr)));
            e.insert("fit_seconds".into(), json!(mean(&s.fit)));
            e.insert("fit_cpu_seconds".into(), json!(mean(&s.fit_cpu)));
            e.insert("pipeline_fit_seconds".into(), json!(mean(&s.pipeline_fit)));
            let rounds = (!s.rounds.is_empty()).then(|| s.rounds.clone());
            e.insert("rounds".into(), json!(rounds));
            e.insert(
                "folds".into(),
                json!({"roc_auc": s.roc, "pr_auc": s.pr, "fit_seconds": s.fit}),
            );
            if predictions {
                // JSON has no NaN: rows in no test fold are null.
                let oof: Vec<Option<f64>> =
                    s.oof.iter().map(|p| (!p.is_nan()).then_some(*p)).collect();
                e.insert("oof_probabilities".into(), json!(oof));
            }
            Value::Object(e)
        })
        .collect();
    let out = json!({
        "side": "ebb",
        "dataset": name,
        "data": data,
        "rows": table.n_rows(),
        "test_folds": test_folds.len(),
        "train_rows_fold0": train_rows,
        "test_rows_fold0": test_rows,
        "threads": threads,
        "load_average": load_average(),
        "schema_notes": notes,
        "results": results,
    });
    let path = flags.need("out")?;
    let text = serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?;
    fs::write(path, text).map_err(|e| format!("{path}: {e}"))?;
    eprintln!("ebb-bench: wrote {path}");
    Ok(())
}

fn complete_labels(labels: Vec<Option<f64>>) -> Res<Vec<f64>> {
    labels
        .into_iter()
        .enumerate()
        .map(|(r, l)| l.ok_or_else(|| format!("row {r} has no target value")))
        .collect()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// The 1, 5 and 15 minute load averages: other work on the machine inflates wall-clock times.
fn load_average() -> Vec<f64> {
    fs::read_to_string("/proc/loadavg")
        .map(|s| {
            s.split_whitespace()
                .take(3)
                .filter_map(|v| v.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// CPU seconds (user + system, all threads) this process has used so far, from
/// `/proc/self/stat` in clock ticks of 1/100 s (Linux's fixed `USER_HZ`); 0 where unavailable.
/// Unlike wall-clock time it barely moves when other processes compete for the cores.
fn cpu_seconds() -> f64 {
    let Ok(stat) = fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name start at field 3; utime and stime are 14, 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Seconds to score `SCORE_ROWS` rows (the `test` rows repeated, one chunk per repetition) from
/// raw cells in a pool of `threads` threads: (transform + predict, predict alone).
fn score_seconds(
    pipeline: &FittedPipeline,
    model: &Fitted,
    test: &Table,
    threads: usize,
) -> Res<(f64, f64)> {
    let n = test.n_rows();
    if n == 0 {
        return Err("no test rows to score".into());
    }
    let mut chunks: Vec<&Table> = vec![test; SCORE_ROWS / n];
    let tail = test.filter_rows(|r| r < SCORE_ROWS % n);
    if tail.n_rows() > 0 {
        chunks.push(&tail);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| e.to_string())?;
    pool.install(|| {
        let t = Instant::now();
        let matrices: Vec<Array2<f64>> = chunks
            .par_iter()
            .map(|chunk| {
                let (x, errors) = pipeline.transform_table(*chunk).map_err(ebb_err)?;
                match errors.first() {
                    Some((row, e)) => Err(format!("scoring row {row}: {e}")),
                    None => Ok(x),
                }
            })
            .collect::<Res<_>>()?;
        let transform = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let scored: usize = matrices
            .par_iter()
            .map(|x| model.predict(x.view()).map(|p| p.len()))
            .collect::<Res<Vec<usize>>>()?
            .iter()
            .sum();
        let predict = t.elapsed().as_secs_f64();
        if scored != SCORE_ROWS {
            return Err(format!("scored {scored} rows instead of {SCORE_ROWS}"));
        }
        Ok((transform + predict, predict))
    })
}

/// Trees and leaves of the explained model (the shape `bench/explain.py` gives LightGBM).
const EXPLAIN_TREES: usize = 300;
const EXPLAIN_LEAVES: usize = 31;

fn explain(flags: &Flags) -> Res<()> {
    let data = flags.need("data")?;
    let rows = usize::try_from(flags.number("rows")?).map_err(|e| e.to_string())?;
    let bytes = fs::read(data).map_err(|e| format!("{data}: {e}"))?;
    let options = PrepareOptions {
        target: Some("churn".into()),
        id: Some("customer_id".into()),
        time: Some("snapshot_date".into()),
        require_target: true,
        format: Some(DataFormat::Csv),
        schema: None,
    };
    let prepared = prepare_bytes(&bytes, &options, &mut Reporter::silent()).map_err(ebb_err)?;
    drop(bytes);
    let (clean, schema) = (&prepared.clean, &prepared.schema);
    let mut params = TrainParams::default()
        .with_families(vec![Family::Gbdt])
        .with_folds(2)
        .with_seed(1);
    params.boost.n_trees = EXPLAIN_TREES;
    params.boost.num_leaves = EXPLAIN_LEAVES;
    params.boost.early_stopping_rounds = None;
    // Exactly this shape, whatever the file's size (not the size rule's leaves).
    params.sized = false;
    let t = Instant::now();
    let artifact = workflow::train(
        &prepared,
        &params,
        &RunInfo::default(),
        &|| None,
        &mut Reporter::silent(),
    )
    .map_err(ebb_err)?
    .artifact;
    eprintln!(
        "ebb-bench: explain: trained on {} rows in {:.1}s",
        clean.n_rows(),
        t.elapsed().as_secs_f64()
    );
    let Model::Gbdt(model) = &artifact.model else {
        return Err("expected a boosted model".into());
    };
    let leaves: usize = model.trees.iter().map(|t| t.n_leaves()).sum();
    let depth = model.trees.iter().map(|t| t.depth()).max().unwrap_or(0);
    let (mean_leaf_depth, mean_distinct) = leaf_paths(&model.trees);

    let t = Instant::now();
    let explainer = Explainer::new(&artifact).map_err(ebb_err)?;
    let build_ms = t.elapsed().as_secs_f64() * 1e3;
    let (x, _) = artifact.pipeline.transform_table(clean).map_err(ebb_err)?;
    let rows = rows.min(clean.n_rows());
    let mut ws = explainer.workspace();

    // Explanation alone, from model features; also checks additivity on every row.
    let mut max_gap: f64 = 0.0;
    let mut feature_rows = Vec::with_capacity(rows);
    for r in 0..rows {
        let row = x.row(r);
        feature_rows.push(row.iter().copied().collect::<Vec<f64>>());
    }
    let (t, cpu) = (Instant::now(), cpu_seconds());
    for row in &feature_rows {
        let raw = explainer.explain_features(row, &mut ws).map_err(ebb_err)?;
        let sum: f64 = ws.feature_contributions().iter().sum();
        max_gap = max_gap.max((explainer.base_value() + sum - raw).abs());
    }
    let features_s = t.elapsed().as_secs_f64();
    let features_cpu = cpu_seconds() - cpu;

    // From raw cells: pipeline transform + explanation.
    let indices = artifact.pipeline.column_indices(clean).map_err(ebb_err)?;
    let time_index = artifact
        .pipeline
        .time_column
        .as_deref()
        .and_then(|t| clean.column_index(t));
    let records: Vec<(Vec<_>, Option<f64>)> = (0..rows)
        .map(|r| {
            let values = indices.iter().map(|&c| clean.value(r, c)).collect();
            (values, artifact.pipeline.row_snapshot(clean, time_index, r))
        })
        .collect();
    let (t, cpu) = (Instant::now(), cpu_seconds());
    for (values, snapshot) in &records {
        explainer
            .explain_values_into(values, *snapshot, &mut ws)
            .map_err(ebb_err)?;
    }
    let values_s = t.elapsed().as_secs_f64();
    let values_cpu = cpu_seconds() - cpu;

    // The worker's case: one record in, calibrated probability and top-3 reasons out, timed
    // call by call.
    let mut calls = Vec::with_capacity(rows);
    let mut reasons = 0;
    for (values, snapshot) in &records {
        let t = Instant::now();
        let e = explainer
            .explain_values(values, *snapshot)
            .map_err(ebb_err)?;
        let top = e.top_reasons(3);
        calls.push(t.elapsed().as_secs_f64() * 1e6);
        reasons += top.len();
    }
    calls.sort_by(f64::total_cmp);
    let pct = |q: f64| calls[((calls.len() - 1) as f64 * q).round() as usize];
    let one_row = json!({
        "mean_us": mean(&calls),
        "median_us": pct(0.5),
        "p90_us": pct(0.9),
        "p99_us": pct(0.99),
        "reasons_per_call": reasons as f64 / rows.max(1) as f64,
    });

    if let Some(path) = flags.get("matrix") {
        let y = labels(clean, schema).map_err(ebb_err)?;
        let mut csv = artifact.pipeline.feature_names().join(",");
        csv.push_str(",label\n");
        for (row, label) in x.rows().into_iter().zip(&y) {
            for v in row {
                if !v.is_nan() {
                    csv.push_str(&format!("{v}"));
                }
                csv.push(',');
            }
            csv.push_str(&format!("{label}\n"));
        }
        fs::write(path, csv).map_err(|e| format!("{path}: {e}"))?;
    }

    let out = json!({
        "side": "ebb",
        "data": data,
        "train_rows": clean.n_rows(),
        "features": artifact.pipeline.n_features(),
        "trees": model.trees.len(),
        "leaves": leaves,
        "max_depth": depth,
        "explained_rows": rows,
        "explainer_build_ms": build_ms,
        "explain_ms_per_row": features_s * 1e3 / rows.max(1) as f64,
        "explain_raw_ms_per_row": values_s * 1e3 / rows.max(1) as f64,
        "explain_cpu_ms_per_row": features_cpu * 1e3 / rows.max(1) as f64,
        "explain_raw_cpu_ms_per_row": values_cpu * 1e3 / rows.max(1) as f64,
        "mean_leaf_depth": mean_leaf_depth,
        "mean_leaf_distinct_features": mean_distinct,
        "one_row_top3": one_row,
        "max_additivity_gap": max_gap,
        "threads": 1,
        "load_average": load_average(),
    });
    let path = flags.need("out")?;
    let text = serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?;
    fs::write(path, &text).map_err(|e| format!("{path}: {e}"))?;
    eprintln!("ebb-bench: wrote {path}");
    println!("{text}");
    Ok(())
}

/// Mean depth and mean number of distinct split features over the root-to-leaf paths of all
/// leaves (what exact TreeSHAP's cost per leaf grows with).
fn leaf_paths(trees: &[ebb_core::model::tree::Tree]) -> (f64, f64) {
    let (mut leaves, mut depth, mut distinct) = (0usize, 0usize, 0usize);
    for tree in trees {
        let mut paths: Vec<Vec<u32>> = vec![Vec::new(); tree.n_nodes()];
        for node in 0..tree.n_nodes() {
            if tree.is_leaf(node) {
                let mut features = paths[node].clone();
                depth += features.len();
                features.sort_unstable();
                features.dedup();
                distinct += features.len();
                leaves += 1;
                continue;
            }
            let mut path = paths[node].clone();
            path.push(tree.feature[node]);
            paths[tree.left[node] as usize] = path.clone();
            paths[tree.right[node] as usize] = path;
        }
    }
    let n = leaves.max(1) as f64;
    (depth as f64 / n, distinct as f64 / n)
}

/// One progress report: when it came (seconds since the start) and what it said.
struct Heard {
    at: f64,
    what: String,
}

/// Runs `work` with a reporter that timestamps every report and answers `Stop` once the
/// fraction reaches `stop_at`; returns the reports, the outcome, and how long it took to return
/// after `Stop` was answered.
fn timed<T>(
    stop_at: Option<f64>,
    work: impl FnOnce(&mut Reporter) -> ebb_core::Result<T>,
) -> (Vec<Heard>, ebb_core::Result<T>, Option<f64>) {
    let started = Instant::now();
    let mut heard = Vec::new();
    let mut stopped = None;
    let mut sink = |p: &ebb_core::progress::Progress| {
        let at = started.elapsed().as_secs_f64();
        heard.push(Heard {
            at,
            what: format!("{:.3} {} {}", p.fraction, p.stage, p.message),
        });
        match stop_at {
            Some(f) if p.fraction >= f => {
                stopped.get_or_insert(at);
                ebb_core::progress::Control::Stop
            }
            _ => ebb_core::progress::Control::Continue,
        }
    };
    let result = work(&mut Reporter::new(&mut sink));
    let returned = started.elapsed().as_secs_f64();
    (heard, result, stopped.map(|at| returned - at))
}

fn progress(flags: &Flags) -> Res<()> {
    let data = flags.need("data")?;
    let bytes = fs::read(data).map_err(|e| format!("{data}: {e}"))?;
    let folds = flags
        .get("folds")
        .unwrap_or("2")
        .parse::<usize>()
        .map_err(|e| e.to_string())?;
    let families = flags.get("models").unwrap_or("gbdt,forest,logistic");
    // The browser's worker has one thread: measure what it would wait.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| e.to_string())?;
    let options = PrepareOptions {
        require_target: true,
        ..PrepareOptions::default()
    };
    let run_info = RunInfo {
        created_at: "2026-01-01T00:00:00Z".into(),
        ebb_version: "bench".into(),
    };
    let (heard, prepared, _) = pool.install(|| timed(None, |r| prepare_bytes(&bytes, &options, r)));
    let prepared = prepared.map_err(ebb_err)?;
    let mut runs = vec![("prepare".to_string(), heard, None)];
    for family in families.split(',') {
        let family_of =
            Family::from_name(family).ok_or_else(|| format!("{family}: no such family"))?;
        let params = TrainParams::default()
            .with_families(vec![family_of])
            .with_folds(folds);
        let clock = || None;
        let train = |stop: Option<f64>| {
            pool.install(|| {
                timed(stop, |r| {
                    workflow::train(&prepared, &params, &run_info, &clock, r)
                })
            })
        };
        let (heard, result, _) = train(None);
        result.map_err(ebb_err)?;
        let (_, cancelled, after_stop) = train(Some(0.5));
        let latency = match (cancelled, after_stop) {
            (Err(ebb_core::Error::Cancelled { .. }), Some(seconds)) => Some(seconds),
            (Err(e), _) => return Err(format!("{family}: cancelled run failed otherwise: {e}")),
            (Ok(_), _) => return Err(format!("{family}: the run ignored Stop")),
        };
        runs.push((format!("train {family}"), heard, latency));
    }
    println!("| run | reports | total s | longest gap s | between | cancel at 50% |");
    println!("|---|---:|---:|---:|---|---:|");
    for (name, heard, latency) in &runs {
        let gap = heard
            .windows(2)
            .max_by(|a, b| (a[1].at - a[0].at).total_cmp(&(b[1].at - b[0].at)));
        let (gap_s, between) = gap.map_or((0.0, String::new()), |w| {
            (
                w[1].at - w[0].at,
                format!("`{}` → `{}`", w[0].what, w[1].what),
            )
        });
        let total = heard.last().map_or(0.0, |h| h.at);
        let cancel = latency.map_or("–".into(), |s| format!("{:.0} ms", s * 1000.0));
        println!(
            "| {name} | {} | {total:.2} | {gap_s:.3} | {between} | {cancel} |",
            heard.len()
        );
    }
    Ok(())
}

fn whatif(f: &Flags) -> Res<()> {
    use ebb_core::workflow::whatif::{self, Edit, Record};
    let text = fs::read_to_string(f.need("model")?).map_err(|e| e.to_string())?;
    let artifact = Artifact::from_json(&text).map_err(|e| e.to_string())?;
    let record: Record = serde_json::from_str(f.need("record")?).map_err(|e| e.to_string())?;
    let (field, value) = f
        .need("set")?
        .split_once('=')
        .ok_or("--set: expected field=value")?;
    let edits = [Edit {
        field: field.to_string(),
        value: Some(value.to_string()),
    }];
    let actionable: Vec<String> = f
        .need("actionable")?
        .split(',')
        .map(str::to_string)
        .collect();
    let repeats: usize = f
        .get("repeats")
        .unwrap_or("50")
        .parse()
        .map_err(|_| "--repeats")?;
    let started = Instant::now();
    let explainer = Explainer::new(&artifact).map_err(|e| e.to_string())?;
    let build_ms = started.elapsed().as_secs_f64() * 1e3;
    let median = |mut xs: Vec<f64>| {
        xs.sort_by(f64::total_cmp);
        xs[xs.len() / 2]
    };
    let mut edit_ms = Vec::with_capacity(repeats);
    let mut suggest_ms = Vec::with_capacity(repeats);
    let mut probability = 0.0;
    for _ in 0..repeats.max(1) {
        let t = Instant::now();
        let w = whatif::what_if(&explainer, &record, &edits, 5).map_err(|e| e.to_string())?;
        edit_ms.push(t.elapsed().as_secs_f64() * 1e3);
        probability = w.after.probability;
        let t = Instant::now();
        whatif::suggest(&explainer, &record, &edits, &actionable).map_err(|e| e.to_string())?;
        suggest_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "{}",
        json!({
            "trees": artifact.model.trees().len(),
            "explainer_build_ms": build_ms,
            "what_if_ms": median(edit_ms),
            "suggest_ms": median(suggest_ms),
            "probability": probability,
        })
    );
    Ok(())
}

/// Comma-separated numbers of `--name`, or `default` when the flag is absent.
fn list_flag<T: std::str::FromStr>(flags: &Flags, name: &str, default: &str) -> Res<Vec<T>> {
    flags
        .get(name)
        .unwrap_or(default)
        .split(',')
        .map(|v| {
            v.parse()
                .map_err(|_| format!("--{name}: `{v}` is not a number"))
        })
        .collect()
}

/// One forest setting of the study and what it measured, point by point of `--trees`.
struct StudyPoint {
    leaf: usize,
    depth: Option<usize>,
    roc: Vec<Vec<f64>>,
    visits: Vec<Vec<f64>>,
    nodes: Vec<f64>,
    fit_cpu: Vec<f64>,
}

fn forest_study(flags: &Flags) -> Res<()> {
    let data = flags.need("data")?;
    let name = flags.need("name")?;
    let counts: Vec<usize> = list_flag(flags, "trees", "50,100,150,200,300")?;
    let leaves: Vec<usize> = list_flag(flags, "leaf", "5000")?;
    let depths: Vec<Option<usize>> = flags
        .get("depth")
        .unwrap_or("none")
        .split(',')
        .map(|v| match v {
            "none" => Ok(None),
            d => d
                .parse()
                .map(Some)
                .map_err(|_| format!("--depth: `{d}` is neither a number nor none")),
        })
        .collect::<Res<_>>()?;
    let max_trees = *counts.iter().max().ok_or("--trees is empty")?;
    let bytes = fs::read(data).map_err(|e| format!("{data}: {e}"))?;
    let table = read_csv(&bytes, &CsvOptions::default()).map_err(ebb_err)?;
    drop(bytes);
    let mut options = InferOptions::new()
        .with_target(flags.need("target")?)
        .with_require_target(true);
    if let Some(id) = flags.get("id") {
        options = options.with_id(id);
    }
    if let Some(time) = flags.get("time") {
        options = options.with_time(time);
    }
    let n_counts = counts.len();
    let mut points: Vec<StudyPoint> = leaves
        .iter()
        .flat_map(|&leaf| {
            depths.iter().map(move |&depth| StudyPoint {
                leaf,
                depth,
                roc: vec![Vec::new(); n_counts],
                visits: vec![Vec::new(); n_counts],
                nodes: Vec::new(),
                fit_cpu: Vec::new(),
            })
        })
        .collect();
    for folds_path in flags.need("folds")?.split(',') {
        let folds: Vec<i64> = fs::read_to_string(folds_path)
            .map_err(|e| format!("{folds_path}: {e}"))?
            .lines()
            .map(|l| {
                l.trim()
                    .parse()
                    .map_err(|_| format!("{folds_path}: bad line `{l}`"))
            })
            .collect::<Res<_>>()?;
        if folds.len() != table.n_rows() {
            return Err(format!(
                "{folds_path} does not have one line per row of {data}"
            ));
        }
        let mut test_folds: Vec<i64> = folds.iter().copied().filter(|&f| f >= 0).collect();
        test_folds.sort_unstable();
        test_folds.dedup();
        for &k in &test_folds {
            let train = table.filter_rows(|r| folds[r] != k);
            let test = table.filter_rows(|r| folds[r] == k);
            let schema = infer(&train, &options).map_err(ebb_err)?.schema;
            let spec = schema
                .target
                .as_ref()
                .ok_or("no target in the inferred schema")?;
            let y_train = complete_labels(spec.labels(&train).map_err(ebb_err)?)?;
            let y_test = complete_labels(spec.labels(&test).map_err(ebb_err)?)?;
            let (pipeline, x) = FeatureParams::for_target(Target::Trees)
                .fit_transform(&train, &schema, &y_train)
                .map_err(ebb_err)?;
            let (x_test, errors) = pipeline.transform_table(&test).map_err(ebb_err)?;
            if let Some((row, e)) = errors.first() {
                return Err(format!("test row {row}: {e}"));
            }
            let x_test = x_test.as_standard_layout().into_owned();
            let rows: Vec<&[f64]> = x_test
                .outer_iter()
                .map(|r| r.to_slice().unwrap_or(&[]))
                .collect();
            for point in &mut points {
                let min_leaf = match point.leaf {
                    0 => 3,
                    d => 3.max(y_train.len() / d),
                };
                let cpu = cpu_seconds();
                let forest = ForestParams::default()
                    .with_n_trees(max_trees)
                    .with_min_samples_leaf(min_leaf)
                    .with_max_depth(point.depth)
                    .fit(x.view(), &y_train, None)
                    .map_err(ebb_err)?;
                point.fit_cpu.push(cpu_seconds() - cpu);
                // Prefix sums in tree order: the k-tree forest's probabilities exactly.
                let mut sums = vec![0.0; rows.len()];
                let mut visited = 0usize;
                let mut nodes = 0usize;
                for (t, tree) in forest.trees.iter().enumerate() {
                    let depth = node_depths(tree);
                    nodes += tree.n_nodes();
                    for (s, row) in sums.iter_mut().zip(&rows) {
                        let leaf = tree.leaf_index(row);
                        *s += tree.value[leaf];
                        visited += depth[leaf];
                    }
                    if let Some(i) = counts.iter().position(|&c| c == t + 1) {
                        let p: Vec<f64> = sums.iter().map(|s| s / (t + 1) as f64).collect();
                        point.roc[i].push(roc_auc(&y_test, &p).map_err(ebb_err)?);
                        point.visits[i].push(visited as f64 / rows.len() as f64);
                    }
                }
                point.nodes.push(nodes as f64 / forest.trees.len() as f64);
                eprintln!(
                    "ebb-bench: {name} {folds_path} fold {k}: leaf {min_leaf} depth {:?}: \
                     roc@{max_trees} {:.4}",
                    point.depth,
                    point.roc[counts.len() - 1]
                        .last()
                        .copied()
                        .unwrap_or(f64::NAN)
                );
            }
        }
    }
    let mut results = Vec::new();
    for p in &points {
        for (i, &trees) in counts.iter().enumerate() {
            let line = json!({
                "leaf_divisor": p.leaf,
                "max_depth": p.depth,
                "trees": trees,
                "roc_auc": mean(&p.roc[i]),
                "folds_roc_auc": p.roc[i],
                "nodes_visited_per_row": mean(&p.visits[i]),
                "nodes_per_tree": mean(&p.nodes),
                "fit_cpu_seconds_all_trees": mean(&p.fit_cpu),
            });
            println!(
                "{name}\tleaf {}\tdepth {}\ttrees {trees}\troc {:.5}\tvisits/row {:.0}\tnodes/tree {:.0}",
                p.leaf,
                p.depth.map_or("none".into(), |d| d.to_string()),
                mean(&p.roc[i]),
                mean(&p.visits[i]),
                mean(&p.nodes)
            );
            results.push(line);
        }
    }
    let out =
        json!({"dataset": name, "data": data, "load_average": load_average(), "results": results});
    let path = flags.need("out")?;
    let text = serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?;
    fs::write(path, text).map_err(|e| format!("{path}: {e}"))
}

/// Depth of every node of a tree whose children come after their parent (as trees grow).
fn node_depths(tree: &ebb_core::model::tree::Tree) -> Vec<usize> {
    let mut depth = vec![0; tree.n_nodes()];
    for node in 0..tree.n_nodes() {
        if !tree.is_leaf(node) {
            depth[tree.left[node] as usize] = depth[node] + 1;
            depth[tree.right[node] as usize] = depth[node] + 1;
        }
    }
    depth
}
