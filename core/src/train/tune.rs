//! Hyper-parameter tuning of gradient boosting and the choice of a class-imbalance strategy.
//!
//! The tuner owns the search: seeded random configurations over the boosting knobs that matter
//! most on churn tables (learning rate, leaves, leaf size, column and row sampling, L2), raced by
//! successive halving on the number of boosting rounds, each configuration scored by the same
//! validation folds as [`crate::train::train`] (rolling-origin with a time column, grouped when
//! customers repeat, stratified otherwise), with the feature pipeline fitted inside each fold.
//! The pipeline does not depend on the boosting knobs, so each fold's matrices are built once and
//! shared by every trial.
//!
//! After the search the best configuration is trained under each [`Imbalance`] strategy and the
//! winner is picked by out-of-fold ROC-AUC first, calibrated log loss second (see
//! [`TuneOutput::imbalance_explanation`] for the wording a user reads).
//!
//! Trial `i` draws its configuration from `Rng::new(seed).fork(i)`, so the same seed always
//! proposes and scores the same trials. The budget is counted in trials and boosting rounds, never in
//! seconds, so the same seed gives the same model on every machine and in the browser.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::data::schema::Schema;
use crate::data::table::Table;
use crate::error::{Error, Result};
use crate::features::{FeatureParams, Target};
use crate::metrics::{average_precision, log_loss, roc_auc};
use crate::model::boost::{BoostParams, CategoricalSplits, TreeShape};
use crate::progress::Reporter;
use crate::rng::Rng;
use crate::train::{choose_calibration, fold_rows, labels, make_folds, sized_boost};

/// Strategies whose ROC-AUC is within this of the best count as tied on ranking; calibrated log
/// loss then decides. Out-of-fold AUCs of one configuration rarely differ by more than noise.
pub const AUC_TIE: f64 = 0.002;

/// How the minority class (churners) is weighted in training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Imbalance {
    /// Every row counts once.
    None,
    /// Each class weighs `n / (2 n_class)` (scikit-learn's `balanced`).
    Balanced,
    /// Churners weigh `n_neg / n_pos`, retained customers 1.
    PositiveWeight,
}

impl Imbalance {
    /// Every strategy, in comparison order (the simplest first, which also wins exact ties).
    pub const ALL: [Imbalance; 3] = [
        Imbalance::None,
        Imbalance::Balanced,
        Imbalance::PositiveWeight,
    ];

    /// The name used in output (`none`, `balanced`, `positive_weight`).
    pub fn name(self) -> &'static str {
        match self {
            Imbalance::None => "none",
            Imbalance::Balanced => "balanced",
            Imbalance::PositiveWeight => "positive_weight",
        }
    }

    /// The strategy of a [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Imbalance> {
        Imbalance::ALL.into_iter().find(|i| i.name() == name)
    }

    /// Boosting parameters that train with this strategy on labels `y`.
    ///
    /// Both weighted strategies give churners `n_neg / n_pos` times the weight of other rows; the
    /// balanced one also multiplies every weight by `c = n / (2 n_neg)`. In boosting, scaling all
    /// weights by `c` is exactly the same as dividing the L2 penalty, the minimum leaf hessian
    /// and the minimum split gain by `c`, so both are expressed through [`BoostParams`] alone and
    /// the final model can be trained by [`crate::train::train`] like any other. When a class is
    /// absent the parameters are returned unweighted (training then reports the missing class).
    pub fn apply(self, params: &BoostParams, y: &[f64]) -> BoostParams {
        let n_pos = y.iter().filter(|&&v| v > 0.5).count();
        let n_neg = y.len() - n_pos;
        let mut out = params.clone().with_scale_pos_weight(1.0);
        // An averaged member is weighted as the configuration it averages with.
        out.average_with = params
            .average_with
            .as_ref()
            .map(|member| Box::new(self.apply(member, y)));
        if n_pos == 0 || n_neg == 0 {
            return out;
        }
        let ratio = n_neg as f64 / n_pos as f64;
        match self {
            Imbalance::None => {}
            Imbalance::PositiveWeight => out.scale_pos_weight = ratio,
            Imbalance::Balanced => {
                let c = y.len() as f64 / (2.0 * n_neg as f64);
                out.scale_pos_weight = ratio;
                out.lambda_l2 /= c;
                out.min_sum_hessian_in_leaf /= c;
                out.min_gain_to_split /= c;
            }
        }
        out
    }
}

/// Settings of a tuning run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuneParams {
    /// Configurations to try (the first is always `base` itself, so tuning never loses the
    /// defaults).
    pub trials: usize,
    /// Race configurations by successive halving; `false` evaluates every one at `max_trees`.
    pub halving: bool,
    /// Halving rate: each rung keeps the best `1/eta` and gives them `eta` times the rounds.
    pub eta: usize,
    /// Boosting rounds of the last rung (and of the final model).
    pub max_trees: usize,
    /// Fewest rounds a rung may use: halving adds rungs only while the first stays above this.
    pub min_trees: usize,
    /// Validation folds (as in training).
    pub folds: usize,
    /// Master seed of the search and of every fit.
    pub seed: u64,
    /// The knobs not searched, and the configuration of trial 0.
    pub base: BoostParams,
    /// Size `base` to the table as `ebb train` sizes its defaults ([`crate::train::sized_boost`]:
    /// where it holds the library defaults, 7 leaves and 80% of the features under 20,000 rows,
    /// symmetric trees above), so trial 0 is the model `ebb train` fits and tuning never scores
    /// below it; `false` tries `base` as given.
    #[serde(default = "size_rule")]
    pub sized: bool,
    /// After the search, compare the [`Imbalance`] strategies on the best configuration (what
    /// `ebb tune` does); `false` keeps it unweighted and skips that comparison, which costs as
    /// many rounds again as the search (`bench/size_study.sh` measures the search alone this
    /// way).
    #[serde(default = "compare_imbalance")]
    pub compare_imbalance: bool,
}

fn compare_imbalance() -> bool {
    true
}

fn size_rule() -> bool {
    true
}

impl Default for TuneParams {
    fn default() -> Self {
        TuneParams {
            trials: 9,
            halving: true,
            eta: 3,
            max_trees: 300,
            min_trees: 20,
            folds: 5,
            seed: 42,
            base: BoostParams::default(),
            compare_imbalance: true,
            sized: true,
        }
    }
}

impl TuneParams {
    /// Sets [`TuneParams::trials`].
    pub fn with_trials(mut self, trials: usize) -> Self {
        self.trials = trials;
        self
    }

    /// Sets [`TuneParams::halving`].
    pub fn with_halving(mut self, halving: bool) -> Self {
        self.halving = halving;
        self
    }

    /// Sets [`TuneParams::eta`].
    pub fn with_eta(mut self, eta: usize) -> Self {
        self.eta = eta;
        self
    }

    /// Sets [`TuneParams::max_trees`].
    pub fn with_max_trees(mut self, trees: usize) -> Self {
        self.max_trees = trees;
        self
    }

    /// Sets [`TuneParams::min_trees`].
    pub fn with_min_trees(mut self, trees: usize) -> Self {
        self.min_trees = trees;
        self
    }

    /// Sets [`TuneParams::folds`].
    pub fn with_folds(mut self, folds: usize) -> Self {
        self.folds = folds;
        self
    }

    /// Sets [`TuneParams::seed`].
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets [`TuneParams::base`].
    pub fn with_base(mut self, base: BoostParams) -> Self {
        self.base = base;
        self
    }

    /// Sizes `base` to the table (the default), or not ([`TuneParams::sized`]).
    pub fn with_sized(mut self, sized: bool) -> Self {
        self.sized = sized;
        self
    }

    /// These parameters with [`TuneParams::sized`]'s rule applied for a table of `rows` rows.
    pub fn sized_for(&self, rows: usize) -> TuneParams {
        let mut out = self.clone();
        if self.sized {
            out.base = sized_boost(&self.base, rows);
            out.sized = false;
        }
        out
    }

    /// Sets [`TuneParams::compare_imbalance`].
    pub fn with_compare_imbalance(mut self, compare: bool) -> Self {
        self.compare_imbalance = compare;
        self
    }

    /// Boosting rounds the search runs per fold, over every rung (the imbalance comparison
    /// not included): the budget in the units a user can check.
    pub fn search_rounds(&self) -> usize {
        self.schedule()
            .iter()
            .map(|&(configs, trees)| configs * trees)
            .sum()
    }

    fn check(&self) -> Result<()> {
        let bad = |name: &'static str, message: String| {
            Err(Error::InvalidParameter {
                name: name.into(),
                message,
            })
        };
        if self.trials == 0 {
            return bad("trials", "must be at least 1".into());
        }
        if self.folds < 2 {
            return bad(
                "folds",
                format!("need at least 2 folds, got {}", self.folds),
            );
        }
        if self.eta < 2 {
            return bad("eta", format!("must be at least 2, got {}", self.eta));
        }
        if self.max_trees == 0 || self.min_trees == 0 {
            return bad("max_trees", "tree budgets must be at least 1".into());
        }
        Ok(())
    }

    /// The rungs as `(configurations, rounds)`: with halving, `trials` configurations at the
    /// fewest rounds, then the best `1/eta` at `eta` times the rounds, up to `max_trees`.
    pub fn schedule(&self) -> Vec<(usize, usize)> {
        let eta = self.eta.max(2);
        let mut rungs = 1u32;
        if self.halving {
            while let Some(step) = eta.checked_pow(rungs) {
                if self.trials / step == 0 || self.max_trees / step < self.min_trees {
                    break;
                }
                rungs += 1;
            }
        }
        (0..rungs)
            .map(|r| {
                let configs = self.trials.div_ceil(eta.pow(r));
                let trees = self.max_trees / eta.pow(rungs - 1 - r);
                (configs, trees.max(1))
            })
            .collect()
    }
}

/// Out-of-fold quality of one evaluation (uncalibrated probabilities).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrialScore {
    /// ROC-AUC.
    pub roc_auc: f64,
    /// Average precision.
    pub pr_auc: f64,
    /// Mean cross-entropy.
    pub log_loss: f64,
}

/// One evaluation of one configuration at one rung.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// Configuration number (0 is the base configuration).
    pub config: usize,
    /// Halving rung (0 = fewest rounds).
    pub rung: usize,
    /// The configuration, with `n_trees` set to this rung's rounds.
    pub params: BoostParams,
    /// Cross-validated quality.
    pub cv: TrialScore,
    /// Seconds the evaluation took by the caller's clock (`None` without a clock).
    pub seconds: Option<f64>,
}

/// The best configuration trained under one imbalance strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImbalanceResult {
    /// The strategy.
    pub strategy: Imbalance,
    /// Churner weight relative to other rows on all training rows (1 for `none`).
    pub positive_weight: f64,
    /// Out-of-fold quality before calibration.
    pub cv: TrialScore,
    /// Held-out log loss after the calibration training would choose.
    pub calibrated_log_loss: f64,
    /// The calibration chosen and the losses it compared.
    pub calibration: String,
}

/// What tuning found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuneOutput {
    /// Every evaluation, in the order run.
    pub trials: Vec<Trial>,
    /// Index into `trials` of the best evaluation of the highest rung reached.
    pub best_trial: usize,
    /// The best configuration under each imbalance strategy, in [`Imbalance::ALL`] order (empty
    /// when [`TuneParams::compare_imbalance`] is off).
    pub imbalance: Vec<ImbalanceResult>,
    /// The strategy kept.
    pub chosen_imbalance: Imbalance,
    /// Why it was kept, in words.
    pub imbalance_explanation: String,
    /// Parameters of the final model: the best configuration at `max_trees` rounds with the
    /// chosen strategy applied to all training labels.
    pub best: BoostParams,
    /// How the folds were made.
    pub validation: String,
}

/// One fold's matrices, built once and shared by every trial.
struct FoldData {
    x_train: Array2<f64>,
    /// Per feature, its number of level codes when categorical splits are native, else 0.
    codes: Vec<usize>,
    y_train: Vec<f64>,
    x_test: Array2<f64>,
    test_rows: Vec<usize>,
}

/// `lo..hi` on a log scale.
fn log_uniform(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    libm::exp(libm::log(lo) + rng.next_f64() * (libm::log(hi) - libm::log(lo)))
}

/// Configuration `i` of the search: `base` for 0, otherwise a draw from the search space.
fn config(base: &BoostParams, seed: u64, i: usize) -> BoostParams {
    if i == 0 {
        return base.clone();
    }
    let mut rng = Rng::new(seed).fork(i as u64);
    let mut p = base.clone();
    // The search draws leaf counts, so its trees grow leaf-wise, alone, whatever trial 0 is.
    p.tree_shape = TreeShape::LeafWise;
    p.average_with = None;
    p.learning_rate = log_uniform(&mut rng, 0.01, 0.3);
    p.num_leaves = libm::round(log_uniform(&mut rng, 4.0, 64.0)) as usize;
    p.min_data_in_leaf = libm::round(log_uniform(&mut rng, 5.0, 100.0)) as usize;
    p.feature_fraction = 0.5 + 0.5 * rng.next_f64();
    if rng.chance(0.5) {
        p.bagging_freq = 1;
        p.bagging_fraction = 0.5 + 0.5 * rng.next_f64();
    } else {
        p.bagging_freq = 0;
        p.bagging_fraction = 1.0;
    }
    p.lambda_l2 = if rng.chance(0.3) {
        0.0
    } else {
        log_uniform(&mut rng, 1e-3, 10.0)
    };
    p
}

/// Out-of-fold probabilities of `params` under `imbalance` (`NaN` for rows never tested).
fn out_of_fold(
    folds: &[FoldData],
    n: usize,
    params: &BoostParams,
    imbalance: Imbalance,
    seed: u64,
    progress: &mut Reporter<'_>,
) -> Result<Vec<f64>> {
    let mut oof = alloc::vec![f64::NAN; n];
    for (k, fold) in folds.iter().enumerate() {
        let fitted = imbalance
            .apply(params, &fold.y_train)
            .with_seed(seed.wrapping_add(k as u64))
            .fit_categorical_with_progress(
                fold.x_train.view(),
                &fold.codes,
                &fold.y_train,
                None,
                &mut progress.part(k, folds.len()).with_context(&format!(
                    "fold {}/{}",
                    k + 1,
                    folds.len()
                )),
            )?;
        for (&r, row) in fold.test_rows.iter().zip(fold.x_test.rows()) {
            oof[r] = match row.as_slice() {
                Some(slice) => fitted.predict_proba(slice),
                None => fitted.predict_proba(&row.to_vec()),
            };
        }
    }
    Ok(oof)
}

/// Labels and probabilities of the rows that were tested.
fn tested(y: &[f64], oof: &[f64]) -> (Vec<f64>, Vec<f64>) {
    y.iter()
        .zip(oof)
        .filter(|(_, p)| !p.is_nan())
        .map(|(&a, &b)| (a, b))
        .unzip()
}

fn score(y: &[f64], p: &[f64]) -> Result<TrialScore> {
    Ok(TrialScore {
        roc_auc: roc_auc(y, p)?,
        pr_auc: average_precision(y, p)?,
        log_loss: log_loss(y, p)?,
    })
}

/// Best first: higher ROC-AUC, then lower log loss, then the earlier configuration.
fn better(a: &Trial, b: &Trial) -> core::cmp::Ordering {
    b.cv.roc_auc
        .total_cmp(&a.cv.roc_auc)
        .then(a.cv.log_loss.total_cmp(&b.cv.log_loss))
        .then(a.config.cmp(&b.config))
}

/// Picks the imbalance strategy: highest ROC-AUC, strategies within [`AUC_TIE`] of it decided by
/// calibrated log loss; explains the choice.
fn choose_imbalance(results: &[ImbalanceResult]) -> (usize, String) {
    let best_auc = results
        .iter()
        .map(|r| r.cv.roc_auc)
        .fold(f64::NEG_INFINITY, f64::max);
    let tied: Vec<usize> = (0..results.len())
        .filter(|&i| results[i].cv.roc_auc >= best_auc - AUC_TIE)
        .collect();
    let winner = tied
        .iter()
        .copied()
        .min_by(|&a, &b| {
            results[a]
                .calibrated_log_loss
                .total_cmp(&results[b].calibrated_log_loss)
                .then(a.cmp(&b))
        })
        .unwrap_or(0);
    let w = &results[winner];
    let others: Vec<String> = results
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != winner)
        .map(|(_, r)| {
            format!(
                "{} {:.4} / {:.4}",
                r.strategy.name(),
                r.cv.roc_auc,
                r.calibrated_log_loss
            )
        })
        .collect();
    let how = if tied.len() == 1 {
        format!(
            "{} ranks churners best: CV ROC-AUC {:.4}, more than {AUC_TIE} above the others",
            w.strategy.name(),
            w.cv.roc_auc
        )
    } else {
        let names: Vec<&str> = tied.iter().map(|&i| results[i].strategy.name()).collect();
        format!(
            "ROC-AUC is within {AUC_TIE} for {}, so calibrated log loss decides: {} has the lowest ({:.4})",
            names.join(", "),
            w.strategy.name(),
            w.calibrated_log_loss
        )
    };
    let text = format!(
        "{how} (others, ROC-AUC / calibrated log loss: {}). Class weights shift raw probabilities \
         towards churn, so raw log loss favours no weighting; calibration undoes that shift, so \
         strategies are compared on ranking first and calibrated log loss second.",
        others.join("; ")
    );
    (winner, text)
}

/// Tunes boosting on a clean table (quarantined rows set aside). `progress` hears about each
/// evaluation and every boosting round inside it, and may stop the run ([`Error::Cancelled`]);
/// `clock` returns seconds (to report each trial's time) or `None`.
pub fn tune(
    table: &Table,
    schema: &Schema,
    params: &TuneParams,
    progress: &mut Reporter<'_>,
    clock: &dyn Fn() -> Option<f64>,
) -> Result<TuneOutput> {
    params.check()?;
    let params = &params.sized_for(table.n_rows());
    let y = labels(table, schema)?;
    let n = y.len();
    let (folds, validation) = make_folds(table, schema, &y, params.folds, params.seed)?;
    let mut data = Vec::with_capacity(folds.len());
    for (k, fold) in folds.iter().enumerate() {
        let (train_rows, test_rows, y_train) = fold_rows(table, &y, fold);
        // The same pipeline, seed for seed, as training's boosting fits in this fold.
        let (pipeline, x_train) = FeatureParams::for_target(Target::Trees)
            .with_seed(params.seed.wrapping_add(k as u64))
            .with_native_categorical(params.base.categorical == CategoricalSplits::Native)
            .fit_transform(train_rows, schema, &y_train)?;
        let (x_test, errors) = pipeline.transform_table(test_rows)?;
        if let Some((_, e)) = errors.into_iter().next() {
            return Err(e);
        }
        data.push(FoldData {
            codes: pipeline.feature_codes(),
            x_train,
            y_train,
            x_test,
            test_rows: fold.test.clone(),
        });
    }

    let schedule = params.schedule();
    // Progress is counted in boosting rounds (times folds, the same for every evaluation): the
    // whole search at most, then each imbalance strategy at the full round count. Early
    // stopping only makes the fraction jump ahead.
    let strategies: &[Imbalance] = if params.compare_imbalance {
        &Imbalance::ALL
    } else {
        &[]
    };
    let imbalance_rounds = (strategies.len() * params.max_trees) as f64;
    let total_rounds = params.search_rounds() as f64 + imbalance_rounds;
    let mut rounds_done = 0.0;
    let mut trials: Vec<Trial> = Vec::new();
    let mut alive: Vec<usize> = (0..params.trials).collect();
    let mut last_rung = 0;
    for (rung, &(_, trees)) in schedule.iter().enumerate() {
        let stage = format!(
            "tuning rung {} of {} ({trees} rounds)",
            rung + 1,
            schedule.len()
        );
        let first = trials.len();
        for (done, &c) in alive.iter().enumerate() {
            let p = config(&params.base, params.seed, c).with_n_trees(trees);
            let t0 = clock();
            let mut part = progress
                .sub(
                    rounds_done / total_rounds,
                    (rounds_done + trees as f64) / total_rounds,
                )
                .with_context(&format!("configuration {}/{}", done + 1, alive.len()));
            part.report(&stage, 0.0, "")?;
            let oof = out_of_fold(&data, n, &p, Imbalance::None, params.seed, &mut part)?;
            rounds_done += trees as f64;
            let (yt, pt) = tested(&y, &oof);
            let cv = score(&yt, &pt)?;
            trials.push(Trial {
                config: c,
                rung,
                params: p,
                cv,
                seconds: match (t0, clock()) {
                    (Some(a), Some(b)) => Some(b - a),
                    _ => None,
                },
            });
            last_rung = rung;
        }
        let mut ranked: Vec<&Trial> = trials[first..].iter().collect();
        ranked.sort_by(|a, b| better(a, b));
        let keep = ranked.len().div_ceil(params.eta).max(1);
        alive = ranked.iter().take(keep).map(|t| t.config).collect();
    }
    let best_trial = (0..trials.len())
        .filter(|&i| trials[i].rung == last_rung)
        .min_by(|&a, &b| better(&trials[a], &trials[b]))
        .ok_or_else(|| Error::InvalidParameter {
            name: "seconds".into(),
            message: "no trial finished within the budget: allow more seconds".into(),
        })?;

    let best_config = trials[best_trial]
        .params
        .clone()
        .with_n_trees(params.max_trees);
    let mut imbalance = Vec::with_capacity(strategies.len());
    let search_end = 1.0 - imbalance_rounds / total_rounds;
    let mut comparison = progress.sub(search_end, 1.0);
    for (i, &strategy) in strategies.iter().enumerate() {
        let mut part = comparison
            .part(i, strategies.len())
            .with_context(strategy.name());
        part.report("comparing imbalance strategies", 0.0, "")?;
        let oof = out_of_fold(&data, n, &best_config, strategy, params.seed, &mut part)?;
        let (yt, pt) = tested(&y, &oof);
        let cv = score(&yt, &pt)?;
        let (_, calibration, calibrated_log_loss) = choose_calibration(&pt, &yt)?;
        imbalance.push(ImbalanceResult {
            strategy,
            positive_weight: strategy.apply(&best_config, &y).scale_pos_weight,
            cv,
            calibrated_log_loss,
            calibration,
        });
    }
    let (chosen_imbalance, imbalance_explanation) = if params.compare_imbalance {
        progress.report("comparing imbalance strategies", 1.0, "done")?;
        let (winner, text) = choose_imbalance(&imbalance);
        (imbalance[winner].strategy, text)
    } else {
        progress.report("tuning", 1.0, "done")?;
        (
            Imbalance::None,
            "not compared: the search kept every row at weight 1".into(),
        )
    };
    Ok(TuneOutput {
        best: chosen_imbalance.apply(&best_config, &y),
        trials,
        best_trial,
        imbalance,
        chosen_imbalance,
        imbalance_explanation,
        validation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::family::Family;
    use crate::train::tests::data;
    use crate::train::{train, TrainParams};

    fn small() -> TuneParams {
        TuneParams::default()
            .with_trials(4)
            .with_folds(2)
            .with_max_trees(40)
            .with_min_trees(10)
            .with_seed(7)
    }

    fn run(table: &Table, schema: &Schema, params: &TuneParams) -> TuneOutput {
        let out =
            tune(table, schema, params, &mut Reporter::silent(), &|| None).expect("tuning runs");
        crate::testing::assert_round_trip(&out);
        out
    }

    #[test]
    fn schedule_halves_configs_and_multiplies_rounds() {
        let p = TuneParams::default();
        assert_eq!(p.schedule(), alloc::vec![(9, 33), (3, 100), (1, 300)]);
        assert_eq!(small().schedule(), alloc::vec![(4, 13), (2, 40)]);
        assert_eq!(
            p.clone().with_halving(false).schedule(),
            alloc::vec![(9, 300)]
        );
        // A floor on rounds stops the rungs before configurations run out.
        assert_eq!(
            p.with_trials(81).with_min_trees(50).schedule(),
            alloc::vec![(81, 100), (27, 300)]
        );
    }

    #[test]
    fn same_seed_same_trials_and_halving_promotes_the_best() {
        let (table, schema) = data(600);
        let a = run(&table, &schema, &small());
        let b = run(&table, &schema, &small());
        assert_eq!(a, b);
        let c = run(&table, &schema, &small().with_seed(8));
        assert_ne!(a.trials[1].params, c.trials[1].params);

        let rung0: Vec<&Trial> = a.trials.iter().filter(|t| t.rung == 0).collect();
        let rung1: Vec<&Trial> = a.trials.iter().filter(|t| t.rung == 1).collect();
        assert_eq!((rung0.len(), rung1.len()), (4, 2));
        assert_eq!(rung0[0].params.n_trees, 13);
        assert_eq!(rung1[0].params.n_trees, 40);
        let mut ranked = rung0.clone();
        ranked.sort_by(|x, y| better(x, y));
        let mut promoted: Vec<usize> = rung1.iter().map(|t| t.config).collect();
        let mut top: Vec<usize> = ranked[..2].iter().map(|t| t.config).collect();
        promoted.sort_unstable();
        top.sort_unstable();
        assert_eq!(promoted, top);
        // The best comes from the last rung and beats or ties every other evaluation there.
        let best = &a.trials[a.best_trial];
        assert_eq!(best.rung, 1);
        assert!(rung1.iter().all(|t| t.cv.roc_auc <= best.cv.roc_auc));
        assert_eq!(a.best.n_trees, 40);
    }

    #[test]
    fn trial_zero_scores_exactly_like_training() {
        // Sized, trial 0 is what `ebb train` fits by default (7 leaves and 80% of the features
        // on this small table); unsized, the base exactly as given. Either way it scores as
        // training scores the same configuration.
        let (table, schema) = data(500);
        let base = BoostParams::default().with_n_trees(30);
        for sized in [true, false] {
            let params = small()
                .with_trials(1)
                .with_halving(false)
                .with_max_trees(30)
                .with_base(base.clone())
                .with_sized(sized);
            let tuned = run(&table, &schema, &params);
            let trial_zero = &tuned.trials[0].params;
            let leaves = if sized { 7 } else { 31 };
            assert_eq!(trial_zero.num_leaves, leaves, "sized: {sized}");
            let trained = train(
                &table,
                &schema,
                &TrainParams {
                    families: alloc::vec![Family::Gbdt],
                    folds: 2,
                    seed: 7,
                    boost: base.clone(),
                    sized,
                    ..TrainParams::default()
                },
                &mut Reporter::silent(),
                &|| None,
            )
            .expect("training");
            let cv = &trained.metrics.models[0].cv;
            assert_eq!(tuned.trials[0].cv.roc_auc, cv.roc_auc, "sized: {sized}");
            assert_eq!(tuned.trials[0].cv.log_loss, cv.log_loss, "sized: {sized}");
            assert_eq!(tuned.validation, trained.metrics.validation);
        }
    }

    #[test]
    fn the_search_grows_leaf_wise_trees_over_a_symmetric_trial_zero() {
        let base = BoostParams::default().with_tree_shape(TreeShape::Symmetric);
        assert_eq!(config(&base, 7, 0).tree_shape, TreeShape::Symmetric);
        assert!((1..6).all(|i| config(&base, 7, i).tree_shape == TreeShape::LeafWise));
        // The draws themselves do not depend on trial 0's shape.
        let leaf_wise = BoostParams::default();
        assert!((1..6).all(|i| config(&base, 7, i) == config(&leaf_wise, 7, i)));
    }

    #[test]
    fn imbalance_comparison_is_reported_and_consistent() {
        let (table, schema) = data(600);
        let out = run(&table, &schema, &small().with_trials(2));
        let names: Vec<Imbalance> = out.imbalance.iter().map(|r| r.strategy).collect();
        assert_eq!(names, Imbalance::ALL.to_vec());
        assert_eq!(out.imbalance[0].positive_weight, 1.0);
        assert!(
            out.imbalance[2].positive_weight > 2.0,
            "{:?}",
            out.imbalance
        );
        let chosen = out
            .imbalance
            .iter()
            .find(|r| r.strategy == out.chosen_imbalance)
            .expect("chosen strategy is among the compared");
        let best_auc = out
            .imbalance
            .iter()
            .map(|r| r.cv.roc_auc)
            .fold(0.0, f64::max);
        assert!(chosen.cv.roc_auc >= best_auc - AUC_TIE);
        assert!(out
            .imbalance_explanation
            .contains(out.chosen_imbalance.name()));
        assert!(out.imbalance_explanation.contains("calibrat"));
        assert_eq!(out.best.scale_pos_weight, chosen.positive_weight);
    }

    #[test]
    fn balanced_weights_equal_rescaled_penalties() {
        let y = [1.0, 0.0, 0.0, 0.0];
        let base = BoostParams::default().with_lambda_l2(1.0);
        let b = Imbalance::Balanced.apply(&base, &y);
        assert_eq!(b.scale_pos_weight, 3.0);
        // c = 4 / (2 * 3): both classes' weights scaled by c is L2 divided by c.
        assert!((b.lambda_l2 - 1.5).abs() < 1e-12);
        let p = Imbalance::PositiveWeight.apply(&base, &y);
        assert_eq!((p.scale_pos_weight, p.lambda_l2), (3.0, 1.0));
        let none = Imbalance::None.apply(&base.clone().with_scale_pos_weight(5.0), &y);
        assert_eq!(none.scale_pos_weight, 1.0);
        // One class only: nothing to weight.
        assert_eq!(Imbalance::Balanced.apply(&base, &[0.0, 0.0]).lambda_l2, 1.0);
    }

    #[test]
    fn bad_settings_are_rejected() {
        let (table, schema) = data(200);
        for p in [
            small().with_trials(0),
            small().with_folds(1),
            small().with_eta(1),
        ] {
            assert!(matches!(
                tune(&table, &schema, &p, &mut Reporter::silent(), &|| None),
                Err(Error::InvalidParameter { .. })
            ));
        }
    }
}
