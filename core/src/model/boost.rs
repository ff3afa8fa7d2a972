//! Gradient-boosted decision trees for binary classification: the product's main model.
//!
//! The design follows LightGBM's split of concerns: features are binned once
//! ([`crate::model::binning`]), the [`objective`] turns scores into gradients and hessians of the
//! log-loss, the [`learner`] grows each tree leaf-wise from [`histogram`]s of those gradients,
//! and [`BoostParams::fit`] runs the boosting loop with shrinkage, optional row bagging and
//! per-tree column sampling, and early stopping on a validation set.
//!
//! Early stopping without an explicit validation set holds out a stratified, seeded fraction of
//! the rows, finds the best number of rounds on it, then refits on every row for that many
//! rounds (see [`BoostParams::fit`] for why).

mod histogram;
mod learner;
mod objective;

use alloc::boxed::Box;
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use self::histogram::{CategoricalRules, SplitRules};
use self::learner::{predict_binned, GrowConfig, TreeLearner};
use self::objective::{base_score, gradients, log_loss, sigmoid};
use super::packed::PackedTrees;
use crate::error::{Error, Result};
use crate::model::binning::{BinMapper, BinnedMatrix, MAX_BINS};
use crate::model::tree::{Tree, LEAF};
use crate::progress::Reporter;
use crate::rng::Rng;

/// Stage name of boosting fits in progress updates.
const STAGE: &str = "fitting gbdt";

/// Share of a fit with early stopping spent finding the number of rounds on the hold-out; the
/// refit on all rows gets the rest (it trains at most as many rounds on 10% more rows).
const PROBE_SHARE: f64 = 0.6;

/// Only every this many rounds (and the best round) is kept in [`BoostModel::training_log`], so
/// the artifact stays small.
const LOG_EVERY: usize = 10;

/// How boosting sees a categorical input column.
///
/// Native is the default: against the encoding it ties in accuracy and fits in about half the
/// CPU time, since one histogram feature replaces a column per one-hot level (BENCHMARKS.md,
/// "Native categorical splits").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoricalSplits {
    /// One feature of level codes per column, split as sets of levels (LightGBM's native
    /// categorical splits: a node's levels ordered by smoothed mean gradient, the ordered list
    /// cut at the best point scanning from either end; see [`BoostParams::max_cat_threshold`]
    /// and the fields after it).
    #[default]
    Native,
    /// The feature pipeline's encoding for trees: one-hot columns for up to 12 levels, one
    /// out-of-fold target-encoded column above.
    Encoded,
}

/// What a split's gain weighs each side's squared gradient sum against.
///
/// Both gains are `G_left² / (m_left + λ) + G_right² / (m_right + λ) − G² / (m + λ)` over a
/// side's gradient sum `G` and mass `m`; leaf values are Newton steps (`−G / (H + λ)`) either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitGain {
    /// The mass is the hessian sum `H` (LightGBM's and XGBoost's second-order gain).
    #[default]
    Hessian,
    /// The mass is the number of rows: every row counts the same, so a split is not drawn to
    /// rows the model already predicts with confidence (whose hessians are small). Row weights
    /// still enter through the gradients. On mlc_churn it raised ROC-AUC by about 0.002 with
    /// `lambda_l2` 3 to 10, and lost on the other tables of the size study, so it is not a
    /// default (BENCHMARKS.md, "gbdt levers: CatBoost's edge and symmetric trees").
    Rows,
}

/// How each boosting tree grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TreeShape {
    /// Best-first: the leaf whose split gains most is split next, up to `num_leaves` leaves
    /// (LightGBM's growth).
    #[default]
    LeafWise,
    /// Symmetric (oblivious): level by level, every leaf of a level takes the same cut, for
    /// `max_depth` levels ([`SYMMETRIC_DEPTH`] when unset; `num_leaves` is not used). A leaf
    /// whose side would be empty or too small stays a leaf. CatBoost's default trees; `ebb train`'s
    /// from 20,000 rows (`train::sized_tree_shape`).
    Symmetric,
}

/// Levels of a symmetric tree when `max_depth` is unset (CatBoost's default depth).
pub const SYMMETRIC_DEPTH: usize = 6;

/// Deepest symmetric tree: a level keeps a histogram per open leaf, `2^(depth - 1)` of them.
const MAX_SYMMETRIC_DEPTH: usize = 8;

/// Hyper-parameters of gradient boosting. Defaults follow LightGBM's, with early stopping on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoostParams {
    /// Maximum number of boosting rounds (trees).
    pub n_trees: usize,
    /// Shrinkage applied to every tree's leaf values.
    pub learning_rate: f64,
    /// Maximum leaves per tree (trees grow best-first up to this).
    pub num_leaves: usize,
    /// Maximum tree depth; `None` for no limit beyond `num_leaves`.
    pub max_depth: Option<usize>,
    /// Minimum training rows in a leaf.
    pub min_data_in_leaf: usize,
    /// Minimum hessian mass in a leaf.
    pub min_sum_hessian_in_leaf: f64,
    /// L2 penalty on leaf values.
    pub lambda_l2: f64,
    /// Minimum gain for a split to be made.
    pub min_gain_to_split: f64,
    /// Fraction of features each tree may use (drawn per tree).
    pub feature_fraction: f64,
    /// Fraction of rows each bag holds (used when `bagging_freq > 0`).
    pub bagging_fraction: f64,
    /// Draw a new bag every this many rounds; 0 disables bagging.
    pub bagging_freq: usize,
    /// Weight multiplier for positive rows (class weighting).
    pub scale_pos_weight: f64,
    /// Maximum value bins per feature (2..=255).
    pub max_bins: usize,
    /// Stop when the validation loss has not improved for this many rounds; `None` trains all
    /// `n_trees` rounds.
    pub early_stopping_rounds: Option<usize>,
    /// Fraction of rows held out (stratified) for early stopping when no validation set is given.
    pub validation_fraction: f64,
    /// Seed for the hold-out, bagging and column sampling.
    pub seed: u64,
    /// How categorical columns are encoded and split (see [`CategoricalSplits`]); only the
    /// training workflow reads it, which builds the features.
    #[serde(default)]
    pub categorical: CategoricalSplits,
    /// Native categorical splits: most levels on the side a split's scan fills (LightGBM
    /// `max_cat_threshold`).
    #[serde(default = "default_max_cat_threshold")]
    pub max_cat_threshold: usize,
    /// Native categorical splits: pseudo-hessian smoothing a level's mean gradient when levels
    /// are ordered; levels with fewer rows go right (LightGBM `cat_smooth`).
    #[serde(default = "default_cat_smooth")]
    pub cat_smooth: f64,
    /// Native categorical splits: extra L2 penalty on a categorical split's children
    /// (LightGBM `cat_l2`).
    #[serde(default = "default_cat_l2")]
    pub cat_l2: f64,
    /// Native categorical splits: rows each group of levels added to a side must hold
    /// (LightGBM `min_data_per_group`).
    #[serde(default = "default_min_data_per_group")]
    pub min_data_per_group: usize,
    /// What a split's gain is measured against (see [`SplitGain`]).
    #[serde(default)]
    pub split_gain: SplitGain,
    /// How trees grow (see [`TreeShape`]).
    #[serde(default)]
    pub tree_shape: TreeShape,
    /// A second configuration trained on the same rows and bins, averaged with this one: the
    /// model holds both members' trees with their values halved and the mean of their base
    /// scores, so it scores, is explained (exactly) and serves as one boosted model. It trains a
    /// fixed number of rounds (no early stopping) with the same `max_bins`; `ebb train` gives
    /// small tables such a member (symmetric trees) beside its leaf-wise trees
    /// ([`crate::train::sized_boost`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_with: Option<Box<BoostParams>>,
}

fn default_max_cat_threshold() -> usize {
    CategoricalRules::default().max_levels
}

fn default_cat_smooth() -> f64 {
    CategoricalRules::default().smooth
}

fn default_cat_l2() -> f64 {
    CategoricalRules::default().l2
}

fn default_min_data_per_group() -> usize {
    CategoricalRules::default().min_data_per_group as usize
}

impl Default for BoostParams {
    fn default() -> Self {
        BoostParams {
            n_trees: 500,
            learning_rate: 0.05,
            num_leaves: 31,
            max_depth: None,
            min_data_in_leaf: 20,
            min_sum_hessian_in_leaf: 1e-3,
            lambda_l2: 0.0,
            min_gain_to_split: 0.0,
            feature_fraction: 1.0,
            bagging_fraction: 1.0,
            bagging_freq: 0,
            scale_pos_weight: 1.0,
            max_bins: MAX_BINS,
            early_stopping_rounds: Some(50),
            validation_fraction: 0.1,
            seed: 42,
            categorical: CategoricalSplits::default(),
            max_cat_threshold: default_max_cat_threshold(),
            cat_smooth: default_cat_smooth(),
            cat_l2: default_cat_l2(),
            min_data_per_group: default_min_data_per_group(),
            split_gain: SplitGain::default(),
            tree_shape: TreeShape::default(),
            average_with: None,
        }
    }
}

macro_rules! builder {
    ($($(#[$doc:meta])* $name:ident: $field:ident: $ty:ty;)*) => {
        $($(#[$doc])* pub fn $name(mut self, v: $ty) -> Self { self.$field = v; self })*
    };
}

/// The knobs tuning searches, in words: `learning_rate 0.0500, num_leaves 31, ...`, then the
/// tree shape when it is not leaf-wise and the averaged member when there is one, so a tuned or
/// sized configuration reads as what it trains.
impl core::fmt::Display for BoostParams {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "learning_rate {:.4}, num_leaves {}, min_data_in_leaf {}, feature_fraction {:.2}, bagging_fraction {:.2} (freq {}), lambda_l2 {:.4}, scale_pos_weight {:.3}, {} rounds",
            self.learning_rate,
            self.num_leaves,
            self.min_data_in_leaf,
            self.feature_fraction,
            self.bagging_fraction,
            self.bagging_freq,
            self.lambda_l2,
            self.scale_pos_weight,
            self.n_trees
        )?;
        if self.tree_shape == TreeShape::Symmetric {
            write!(f, ", symmetric trees of {} levels", self.symmetric_depth())?;
        }
        if let Some(member) = &self.average_with {
            write!(
                f,
                "; averaged with {} rounds of {} (lambda_l2 {:.4})",
                member.n_trees,
                match member.tree_shape {
                    TreeShape::Symmetric =>
                        alloc::format!("symmetric trees of {} levels", member.symmetric_depth()),
                    TreeShape::LeafWise => alloc::format!("trees of {} leaves", member.num_leaves),
                },
                member.lambda_l2
            )?;
        }
        Ok(())
    }
}

impl BoostParams {
    builder! {
        /// Sets [`BoostParams::n_trees`].
        with_n_trees: n_trees: usize;
        /// Sets [`BoostParams::learning_rate`].
        with_learning_rate: learning_rate: f64;
        /// Sets [`BoostParams::num_leaves`].
        with_num_leaves: num_leaves: usize;
        /// Sets [`BoostParams::max_depth`].
        with_max_depth: max_depth: Option<usize>;
        /// Sets [`BoostParams::min_data_in_leaf`].
        with_min_data_in_leaf: min_data_in_leaf: usize;
        /// Sets [`BoostParams::min_sum_hessian_in_leaf`].
        with_min_sum_hessian_in_leaf: min_sum_hessian_in_leaf: f64;
        /// Sets [`BoostParams::lambda_l2`].
        with_lambda_l2: lambda_l2: f64;
        /// Sets [`BoostParams::min_gain_to_split`].
        with_min_gain_to_split: min_gain_to_split: f64;
        /// Sets [`BoostParams::feature_fraction`].
        with_feature_fraction: feature_fraction: f64;
        /// Sets [`BoostParams::bagging_fraction`].
        with_bagging_fraction: bagging_fraction: f64;
        /// Sets [`BoostParams::bagging_freq`].
        with_bagging_freq: bagging_freq: usize;
        /// Sets [`BoostParams::scale_pos_weight`].
        with_scale_pos_weight: scale_pos_weight: f64;
        /// Sets [`BoostParams::max_bins`].
        with_max_bins: max_bins: usize;
        /// Sets [`BoostParams::early_stopping_rounds`].
        with_early_stopping_rounds: early_stopping_rounds: Option<usize>;
        /// Sets [`BoostParams::validation_fraction`].
        with_validation_fraction: validation_fraction: f64;
        /// Sets [`BoostParams::seed`].
        with_seed: seed: u64;
        /// Sets [`BoostParams::categorical`].
        with_categorical: categorical: CategoricalSplits;
        /// Sets [`BoostParams::max_cat_threshold`].
        with_max_cat_threshold: max_cat_threshold: usize;
        /// Sets [`BoostParams::cat_smooth`].
        with_cat_smooth: cat_smooth: f64;
        /// Sets [`BoostParams::cat_l2`].
        with_cat_l2: cat_l2: f64;
        /// Sets [`BoostParams::min_data_per_group`].
        with_min_data_per_group: min_data_per_group: usize;
        /// Sets [`BoostParams::split_gain`].
        with_split_gain: split_gain: SplitGain;
        /// Sets [`BoostParams::tree_shape`].
        with_tree_shape: tree_shape: TreeShape;
        /// Sets [`BoostParams::average_with`].
        with_average_with: average_with: Option<Box<BoostParams>>;
    }

    /// Levels of a symmetric tree: `max_depth`, or [`SYMMETRIC_DEPTH`] when it is unset.
    pub fn symmetric_depth(&self) -> usize {
        self.max_depth.unwrap_or(SYMMETRIC_DEPTH)
    }

    fn check(&self) -> Result<()> {
        let bad = |name: &'static str, message: &str| {
            Err(Error::InvalidParameter {
                name: name.into(),
                message: message.into(),
            })
        };
        let in_unit = |v: f64| v > 0.0 && v <= 1.0;
        if self.n_trees == 0 {
            return bad("n_trees", "must be at least 1");
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad("learning_rate", "must be a positive number, e.g. 0.05");
        }
        if self.num_leaves < 2 {
            return bad("num_leaves", "must be at least 2");
        }
        if self.max_depth == Some(0) {
            return bad("max_depth", "must be at least 1, or unset for no limit");
        }
        if self.tree_shape == TreeShape::Symmetric
            && self.max_depth.is_some_and(|d| d > MAX_SYMMETRIC_DEPTH)
        {
            return bad(
                "max_depth",
                "must be at most 8 with symmetric trees (each level doubles the histograms kept), e.g. 6",
            );
        }
        if !(self.min_sum_hessian_in_leaf >= 0.0 && self.min_sum_hessian_in_leaf.is_finite()) {
            return bad("min_sum_hessian_in_leaf", "must be a non-negative number");
        }
        if !(self.lambda_l2 >= 0.0 && self.lambda_l2.is_finite()) {
            return bad("lambda_l2", "must be a non-negative number");
        }
        if !(self.min_gain_to_split >= 0.0 && self.min_gain_to_split.is_finite()) {
            return bad("min_gain_to_split", "must be a non-negative number");
        }
        if !in_unit(self.feature_fraction) {
            return bad("feature_fraction", "must be in (0, 1]");
        }
        if !in_unit(self.bagging_fraction) {
            return bad("bagging_fraction", "must be in (0, 1]");
        }
        if !(self.scale_pos_weight.is_finite() && self.scale_pos_weight > 0.0) {
            return bad("scale_pos_weight", "must be a positive number, e.g. 1.0");
        }
        if !(2..=MAX_BINS).contains(&self.max_bins) {
            return bad("max_bins", "must be between 2 and 255");
        }
        if self.max_cat_threshold == 0 {
            return bad("max_cat_threshold", "must be at least 1, e.g. 32");
        }
        if !(self.cat_smooth >= 0.0 && self.cat_smooth.is_finite()) {
            return bad("cat_smooth", "must be a non-negative number, e.g. 10");
        }
        if !(self.cat_l2 >= 0.0 && self.cat_l2.is_finite()) {
            return bad("cat_l2", "must be a non-negative number, e.g. 10");
        }
        if self.early_stopping_rounds == Some(0) {
            return bad(
                "early_stopping_rounds",
                "must be at least 1, or unset to disable early stopping",
            );
        }
        if !(self.validation_fraction > 0.0 && self.validation_fraction < 1.0) {
            return bad(
                "validation_fraction",
                "must be strictly between 0 and 1, e.g. 0.1",
            );
        }
        if let Some(member) = &self.average_with {
            member.check()?;
            if member.average_with.is_some() {
                return bad(
                    "average_with",
                    "averages with one configuration, which may not average with another",
                );
            }
            if member.early_stopping_rounds.is_some() {
                return bad(
                    "average_with",
                    "trains a fixed number of rounds: set its early_stopping_rounds to none",
                );
            }
            if member.max_bins != self.max_bins {
                return bad(
                    "average_with",
                    "shares the bins of the fit: give it the same max_bins",
                );
            }
        }
        Ok(())
    }

    /// Trains on `x` (rows × features, `NaN` = missing) and labels `y` (0.0 / 1.0), with
    /// optional non-negative per-row weights.
    ///
    /// With early stopping on, a stratified seeded `validation_fraction` of the rows is held out
    /// to find the number of rounds, and the model is then refitted on all rows for that many
    /// rounds. Refitting beat keeping the hold-out model in our experiments (telecom churn, 5,000
    /// rows, 5-fold CV ROC-AUC 0.9250 vs 0.9229; LightGBM's defaults 0.9241): on small tables the
    /// held-out rows are worth more as training data than the small mismatch in round count costs.
    /// When a class has too few rows to hold any out, all `n_trees` rounds are trained.
    pub fn fit(
        &self,
        x: ArrayView2<f64>,
        y: &[f64],
        sample_weight: Option<&[f64]>,
    ) -> Result<BoostModel> {
        self.fit_with_progress(x, y, sample_weight, &mut Reporter::silent())
    }

    /// [`BoostParams::fit`], reporting every round to `progress` and stopping with
    /// [`Error::Cancelled`] when it asks to. Reporting never changes the model.
    pub fn fit_with_progress(
        &self,
        x: ArrayView2<f64>,
        y: &[f64],
        sample_weight: Option<&[f64]>,
        progress: &mut Reporter<'_>,
    ) -> Result<BoostModel> {
        self.fit_categorical_with_progress(x, &[], y, sample_weight, progress)
    }

    /// [`BoostParams::fit_with_progress`] where column `f` of `x` holds level codes split as
    /// sets of levels when `codes[f] > 0` (its number of codes, as
    /// [`crate::features::FittedPipeline::feature_codes`] gives; columns past the end of
    /// `codes` are numeric).
    pub fn fit_categorical_with_progress(
        &self,
        x: ArrayView2<f64>,
        codes: &[usize],
        y: &[f64],
        sample_weight: Option<&[f64]>,
        progress: &mut Reporter<'_>,
    ) -> Result<BoostModel> {
        self.check()?;
        check_shape(x.nrows(), x.ncols())?;
        check_labels(y, x.nrows(), "y")?;
        let mut bins = self.bins(y, x.ncols())?;
        let mut column = Vec::with_capacity(x.nrows());
        for f in 0..x.ncols() {
            column.clear();
            column.extend(x.column(f).iter().copied());
            match codes.get(f).copied().unwrap_or(0) {
                0 => bins.push_column(&column),
                n => bins.push_categorical_column(&column, n)?,
            }
        }
        self.fit_bins_with_progress(bins, y, sample_weight, progress)
    }

    /// Empty bins of a fit on labels `y` (one per row) and `n_features` features, to fill one
    /// feature column at a time ([`BoostBins::push_column`]) and train with
    /// [`BoostParams::fit_bins_with_progress`]: boosting reads only bins, so a caller that
    /// produces features column by column never needs the `f64` matrix, 8 bytes per cell where
    /// a bin takes 1 (two with early stopping, whose split has bins of its own).
    pub fn bins(&self, y: &[f64], n_features: usize) -> Result<BoostBins> {
        self.check()?;
        check_shape(y.len(), n_features)?;
        check_labels(y, y.len(), "y")?;
        let holdout = match self.early_stopping_rounds {
            Some(_) => stratified_holdout(y, self.validation_fraction, self.seed),
            None => None,
        };
        Ok(BoostBins {
            max_bins: self.max_bins,
            n_features,
            mapper: BinMapper::empty(self.max_bins)?,
            binned: BinnedMatrix::with_capacity(y.len(), n_features),
            holdout: holdout
                .map(|(train, valid)| -> Result<Holdout> {
                    Ok(Holdout {
                        mapper: BinMapper::empty(self.max_bins)?,
                        train_bins: BinnedMatrix::with_capacity(train.len(), n_features),
                        valid_bins: BinnedMatrix::with_capacity(valid.len(), n_features),
                        train,
                        valid,
                    })
                })
                .transpose()?,
        })
    }

    /// [`BoostParams::fit_with_progress`] on features already binned by [`BoostParams::bins`]
    /// (with these same parameters and labels `y`): the same model as fitting the matrix those
    /// columns make up.
    pub fn fit_bins_with_progress(
        &self,
        bins: BoostBins,
        y: &[f64],
        sample_weight: Option<&[f64]>,
        progress: &mut Reporter<'_>,
    ) -> Result<BoostModel> {
        self.check()?;
        if bins.binned.n_rows() != y.len() || bins.binned.n_features() != bins.n_features {
            return Err(Error::InvalidParameter {
                name: "bins".into(),
                message: format!(
                    "hold {} of {} feature columns for {} rows, but {} labels were given; fill every column of the bins made for these labels",
                    bins.binned.n_features(),
                    bins.n_features,
                    bins.binned.n_rows(),
                    y.len()
                ),
            });
        }
        let w = self.weights(y, sample_weight)?;
        let BoostBins {
            mapper,
            binned,
            holdout,
            ..
        } = bins;
        let Some(member) = &self.average_with else {
            return self.fit_member(&mapper, &binned, holdout, y, &w, progress);
        };
        // Progress is shared by rounds: this configuration's at most, then the member's.
        let share = self.n_trees as f64 / (self.n_trees + member.n_trees) as f64;
        let first = self.fit_member(
            &mapper,
            &binned,
            holdout,
            y,
            &w,
            &mut progress.sub(0.0, share),
        )?;
        let member = BoostParams {
            seed: self.seed,
            ..(**member).clone()
        };
        let w = member.weights(y, sample_weight)?;
        let second = member.train(
            (&mapper, &binned),
            y,
            &w,
            None,
            &mut progress.sub(share, 1.0).with_context("averaged member"),
        )?;
        progress.report(STAGE, 1.0, "done")?;
        Ok(BoostModel::average(first, second))
    }

    /// One configuration's fit of [`BoostParams::fit_bins_with_progress`] (without
    /// [`BoostParams::average_with`]): early stopping on the hold-out and a refit, or all rounds.
    fn fit_member(
        &self,
        mapper: &BinMapper,
        binned: &BinnedMatrix,
        holdout: Option<Holdout>,
        y: &[f64],
        w: &[f64],
        progress: &mut Reporter<'_>,
    ) -> Result<BoostModel> {
        if let Some(h) = holdout {
            let take = |idx: &[usize], v: &[f64]| idx.iter().map(|&i| v[i]).collect::<Vec<_>>();
            let (yt, yv) = (take(&h.train, y), take(&h.valid, y));
            let (wt, wv) = (take(&h.train, w), take(&h.valid, w));
            let probe = self.train(
                (&h.mapper, &h.train_bins),
                &yt,
                &wt,
                Some((&h.valid_bins, &yv, &wv)),
                &mut progress
                    .sub(0.0, PROBE_SHARE)
                    .with_context("early stopping"),
            )?;
            // The split's bins are done with: free them before the refit.
            drop(h);
            let mut full = if probe.best_iteration == 0 {
                BoostModel::constant(base_score(y, w), binned.n_features(), mapper)
            } else {
                BoostParams {
                    n_trees: probe.best_iteration,
                    ..self.clone()
                }
                .train(
                    (mapper, binned),
                    y,
                    w,
                    None,
                    &mut progress.sub(PROBE_SHARE, 1.0).with_context("refit"),
                )?
            };
            full.training_log = probe.training_log;
            progress.report(STAGE, 1.0, "done")?;
            return Ok(full);
        }
        self.train((mapper, binned), y, w, None, progress)
    }

    /// Trains on `x`/`y` and uses the given validation set for early stopping (or only for the
    /// training log when `early_stopping_rounds` is `None`). Validation rows are weighted by
    /// `scale_pos_weight` like training rows.
    pub fn fit_with_validation(
        &self,
        x: ArrayView2<f64>,
        y: &[f64],
        sample_weight: Option<&[f64]>,
        x_valid: ArrayView2<f64>,
        y_valid: &[f64],
    ) -> Result<BoostModel> {
        self.check()?;
        check_shape(x.nrows(), x.ncols())?;
        check_labels(y, x.nrows(), "y")?;
        let w = self.weights(y, sample_weight)?;
        if x_valid.ncols() != x.ncols() {
            return Err(Error::InvalidParameter {
                name: "x_valid".into(),
                message: format!(
                    "has {} feature columns but the training matrix has {}; build both with the same feature pipeline",
                    x_valid.ncols(),
                    x.ncols()
                ),
            });
        }
        if x_valid.nrows() == 0 {
            return Err(Error::InvalidParameter {
                name: "x_valid".into(),
                message: "the validation set holds no rows".into(),
            });
        }
        check_labels(y_valid, x_valid.nrows(), "y_valid")?;
        let wv: Vec<f64> = y_valid
            .iter()
            .map(|&yi| {
                if yi == 1.0 {
                    self.scale_pos_weight
                } else {
                    1.0
                }
            })
            .collect();
        let mapper = BinMapper::fit(x, self.max_bins)?;
        self.train(
            (&mapper, &mapper.transform(x)),
            y,
            &w,
            Some((&mapper.transform(x_valid), y_valid, &wv)),
            &mut Reporter::silent(),
        )
    }

    /// Checks the sample weights (labels are checked already) and returns the effective
    /// per-row weights.
    fn weights(&self, y: &[f64], sample_weight: Option<&[f64]>) -> Result<Vec<f64>> {
        let w: Vec<f64> = match sample_weight {
            None => vec![1.0; y.len()],
            Some(sw) => {
                if sw.len() != y.len() {
                    return Err(Error::InvalidParameter {
                        name: "sample_weight".into(),
                        message: format!("has {} weights for {} rows", sw.len(), y.len()),
                    });
                }
                if let Some(i) = sw.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
                    return Err(Error::InvalidParameter {
                        name: "sample_weight".into(),
                        message: format!(
                            "row {}: weight {} must be a finite non-negative number",
                            i + 1,
                            sw[i]
                        ),
                    });
                }
                sw.to_vec()
            }
        };
        let w: Vec<f64> = w
            .iter()
            .zip(y)
            .map(|(&wi, &yi)| {
                if yi == 1.0 {
                    wi * self.scale_pos_weight
                } else {
                    wi
                }
            })
            .collect();
        let mass = |class: f64| {
            y.iter()
                .zip(&w)
                .filter(|(&yi, _)| yi == class)
                .map(|(_, &wi)| wi)
                .sum::<f64>()
        };
        for (class, name) in [(1.0, "positive (1)"), (0.0, "negative (0)")] {
            if mass(class) <= 0.0 {
                return Err(Error::BadTarget {
                    column: "target".into(),
                    message: format!(
                        "no {name} rows with positive weight: training needs both churned and retained customers"
                    ),
                });
            }
        }
        Ok(w)
    }

    /// The boosting loop on already-checked inputs, reporting before every round (and once
    /// binning is done) so a stop is seen within one round's work.
    fn train(
        &self,
        (mapper, binned): (&BinMapper, &BinnedMatrix),
        y: &[f64],
        w: &[f64],
        valid: Option<(&BinnedMatrix, &[f64], &[f64])>,
        progress: &mut Reporter<'_>,
    ) -> Result<BoostModel> {
        let n_rows = binned.n_rows();
        let n_features = binned.n_features();
        progress.report(STAGE, 0.0, "features binned")?;
        let base = base_score(y, w);
        let mut scores = vec![base; n_rows];
        let mut gh = vec![[0.0; 2]; n_rows];
        let mut valid_scores = valid
            .as_ref()
            .map_or(Vec::new(), |(b, ..)| vec![base; b.n_rows()]);

        let cfg = GrowConfig {
            num_leaves: self.num_leaves,
            max_depth: self.max_depth,
            symmetric_depth: (self.tree_shape == TreeShape::Symmetric)
                .then(|| self.symmetric_depth()),
            learning_rate: self.learning_rate,
            rules: SplitRules {
                lambda_l2: self.lambda_l2,
                min_data_in_leaf: self.min_data_in_leaf.min(u32::MAX as usize) as u32,
                min_sum_hessian: self.min_sum_hessian_in_leaf,
                min_gain: self.min_gain_to_split,
                gain: self.split_gain,
                categorical: CategoricalRules {
                    max_levels: self.max_cat_threshold,
                    smooth: self.cat_smooth,
                    l2: self.cat_l2,
                    min_data_per_group: self.min_data_per_group.min(u32::MAX as usize) as u32,
                    ..CategoricalRules::default()
                },
            },
        };
        let mut learner = TreeLearner::new(mapper, binned, cfg.histogram_slots());
        let rng = Rng::new(self.seed);
        let (bag_rng, column_rng) = (rng.fork(1), rng.fork(2));
        let bagging = self.bagging_freq > 0 && self.bagging_fraction < 1.0;
        let (mut in_bag, mut out_of_bag): (Vec<u32>, Vec<u32>) = (Vec::new(), Vec::new());
        let n_active = ((self.feature_fraction * n_features as f64) as usize).clamp(1, n_features);
        let mut active: Vec<usize> = (0..n_features).collect();

        let mut trees = Vec::new();
        let mut gains: Vec<Vec<(usize, f64)>> = Vec::new();
        let mut log = Vec::new();
        let mut best = valid
            .as_ref()
            .map(|(_, yv, wv)| (0usize, log_loss(&valid_scores, yv, wv)));

        for round in 0..self.n_trees {
            if round > 0 {
                progress.step(
                    STAGE,
                    round,
                    self.n_trees,
                    &format!("round {round}/{}", self.n_trees),
                )?;
            }
            gradients(&scores, y, w, &mut gh);
            if bagging && round % self.bagging_freq == 0 {
                let mut r = bag_rng.fork(round as u64);
                in_bag.clear();
                out_of_bag.clear();
                for i in 0..n_rows as u32 {
                    if r.chance(self.bagging_fraction) {
                        in_bag.push(i);
                    } else {
                        out_of_bag.push(i);
                    }
                }
            }
            if n_active < n_features {
                let mut r = column_rng.fork(round as u64);
                active = (0..n_features).collect();
                r.shuffle(&mut active);
                active.truncate(n_active);
                active.sort_unstable();
            }
            let bag = bagging.then_some(in_bag.as_slice());
            let grown = learner.grow(binned, mapper, &gh, bag, &active, &cfg);
            if grown.tree.n_leaves() == 1 && !bagging && n_active == n_features {
                // No leaf can be split and nothing random changes next round: more rounds would
                // add the same near-zero constant.
                break;
            }
            for (node, rows) in learner.leaf_rows() {
                let v = grown.tree.value[node];
                for &r in rows {
                    scores[r as usize] += v;
                }
            }
            if bagging {
                for &r in &out_of_bag {
                    scores[r as usize] += predict_binned(&grown, mapper, binned, r as usize);
                }
            }
            if let Some((vb, ..)) = &valid {
                for (r, s) in valid_scores.iter_mut().enumerate() {
                    *s += predict_binned(&grown, mapper, vb, r);
                }
            }
            trees.push(grown.tree);
            gains.push(grown.gains);

            if let (Some((_, yv, wv)), Some((best_round, best_loss))) = (&valid, &mut best) {
                let loss = log_loss(&valid_scores, yv, wv);
                let iteration = round + 1;
                if loss < *best_loss {
                    *best_loss = loss;
                    *best_round = iteration;
                }
                if iteration % LOG_EVERY == 0 {
                    log.push((iteration, loss));
                }
                if let Some(patience) = self.early_stopping_rounds {
                    if iteration - *best_round >= patience {
                        break;
                    }
                }
            }
        }
        let best_iteration = match (best, self.early_stopping_rounds) {
            (Some((round, loss)), Some(_)) => {
                trees.truncate(round);
                if !log.iter().any(|&(i, _)| i == round) {
                    log.push((round, loss));
                    log.sort_by_key(|&(i, _)| i);
                }
                round
            }
            _ => trees.len(),
        };
        progress.report(STAGE, 1.0, &format!("{} rounds", trees.len()))?;
        let mut gain_importance = vec![0.0; n_features];
        for tree_gains in gains.iter().take(best_iteration) {
            for &(f, g) in tree_gains {
                gain_importance[f] += g;
            }
        }
        Ok(BoostModel {
            base_score: base,
            trees,
            n_features,
            best_iteration,
            training_log: log,
            gain_importance,
            categories: level_codes(mapper),
        })
    }
}

/// Per feature, its number of level codes when categorical, else 0; empty when no feature is
/// categorical (as models of earlier builds have it).
fn level_codes(mapper: &BinMapper) -> Vec<u32> {
    let n = mapper.n_features();
    if !(0..n).any(|f| mapper.is_categorical(f)) {
        return Vec::new();
    }
    (0..n)
        .map(|f| {
            if mapper.is_categorical(f) {
                mapper.n_bins(f) as u32
            } else {
                0
            }
        })
        .collect()
}

/// Boosting's training rows binned, filled one feature column at a time: made by
/// [`BoostParams::bins`], trained by [`BoostParams::fit_bins_with_progress`].
#[derive(Debug)]
pub struct BoostBins {
    max_bins: usize,
    /// Features the fit expects.
    n_features: usize,
    /// Bins learned on all rows, and all rows binned by them (the refit's, or the only fit's).
    mapper: BinMapper,
    binned: BinnedMatrix,
    /// The early-stopping split, when early stopping is on and both classes can spare rows.
    holdout: Option<Holdout>,
}

/// The early-stopping split: its training rows get bins learned on them alone (as a fit on a
/// table of just those rows would), its validation rows are binned by those.
#[derive(Debug)]
struct Holdout {
    train: Vec<usize>,
    valid: Vec<usize>,
    mapper: BinMapper,
    train_bins: BinnedMatrix,
    valid_bins: BinnedMatrix,
}

impl BoostBins {
    /// Adds the next feature as a categorical one, split as sets of levels: per row a level
    /// code, a whole number below `n_codes` (`NaN` = missing), as
    /// [`crate::features::CategoricalEncoder::Codes`] writes them. `n_codes` must be between 2
    /// and 255.
    pub fn push_categorical_column(&mut self, column: &[f64], n_codes: usize) -> Result<()> {
        if !(2..=MAX_BINS).contains(&n_codes) {
            return Err(Error::InvalidParameter {
                name: "n_codes".into(),
                message: format!(
                    "a categorical feature needs 2 to {MAX_BINS} level codes, got {n_codes}"
                ),
            });
        }
        debug_assert_eq!(column.len(), self.binned.n_rows());
        self.mapper.learn_categorical(n_codes);
        self.binned.push_column(&self.mapper, column, None);
        if let Some(h) = &mut self.holdout {
            h.mapper.learn_categorical(n_codes);
            h.train_bins.push_column(&h.mapper, column, Some(&h.train));
            h.valid_bins.push_column(&h.mapper, column, Some(&h.valid));
        }
        Ok(())
    }

    /// Adds the next feature column (one value per row, `NaN` = missing). The caller may drop
    /// it afterwards: only its bins are kept.
    pub fn push_column(&mut self, column: &[f64]) {
        debug_assert_eq!(column.len(), self.binned.n_rows());
        let max_bins = self.max_bins;
        let all = |mapper: &mut BinMapper, binned: &mut BinnedMatrix| {
            mapper.learn_column(column, None, max_bins);
            binned.push_column(mapper, column, None);
        };
        let split = |h: &mut Holdout| {
            h.mapper.learn_column(column, Some(&h.train), max_bins);
            h.train_bins.push_column(&h.mapper, column, Some(&h.train));
            h.valid_bins.push_column(&h.mapper, column, Some(&h.valid));
        };
        let (mapper, binned, holdout) = (&mut self.mapper, &mut self.binned, &mut self.holdout);
        // The two binnings are independent: on two threads a column costs the larger of them.
        #[cfg(feature = "parallel")]
        rayon::join(
            || all(mapper, binned),
            || {
                if let Some(h) = holdout {
                    split(h)
                }
            },
        );
        #[cfg(not(feature = "parallel"))]
        {
            all(mapper, binned);
            if let Some(h) = holdout {
                split(h)
            }
        }
    }
}

/// Checks the size of a training set: some rows, at most `u32::MAX` of them, some features.
fn check_shape(n_rows: usize, n_features: usize) -> Result<()> {
    if n_rows == 0 {
        return Err(Error::EmptyInput);
    }
    if n_features == 0 {
        return Err(Error::InvalidParameter {
            name: "x".into(),
            message: "the matrix has no feature columns; keep at least one feature".into(),
        });
    }
    if n_rows > u32::MAX as usize {
        return Err(Error::InvalidParameter {
            name: "x".into(),
            message: format!("{n_rows} rows is more than boosting supports (4,294,967,295)"),
        });
    }
    Ok(())
}

/// Splits row indices into (train, validation) with `fraction` of each class in validation, or
/// `None` when a class is too small to give up a row.
fn stratified_holdout(y: &[f64], fraction: f64, seed: u64) -> Option<(Vec<usize>, Vec<usize>)> {
    let mut rng = Rng::new(seed).fork(0);
    let (mut train, mut valid) = (Vec::new(), Vec::new());
    for class in [0.0, 1.0] {
        let mut rows: Vec<usize> = (0..y.len()).filter(|&i| y[i] == class).collect();
        let n_valid = libm::round(fraction * rows.len() as f64) as usize;
        if n_valid == 0 || n_valid >= rows.len() {
            return None;
        }
        rng.shuffle(&mut rows);
        valid.extend_from_slice(&rows[..n_valid]);
        train.extend_from_slice(&rows[n_valid..]);
    }
    // Keep the original row order so the binned training matrix reads like the input.
    train.sort_unstable();
    valid.sort_unstable();
    Some((train, valid))
}

/// Checks that labels are 0/1, one per row.
fn check_labels(y: &[f64], n_rows: usize, name: &'static str) -> Result<()> {
    if y.len() != n_rows {
        return Err(Error::InvalidParameter {
            name: name.into(),
            message: format!("has {} labels but the matrix has {n_rows} rows", y.len()),
        });
    }
    if let Some(i) = y.iter().position(|&v| v != 0.0 && v != 1.0) {
        return Err(Error::BadTarget {
            column: name.into(),
            message: format!(
                "row {}: label {} is not 0 or 1; encode the target as 0 (stayed) / 1 (churned) and drop rows without a label",
                i + 1,
                y[i]
            ),
        });
    }
    Ok(())
}

/// A trained boosted ensemble. Scores are log-odds: `base_score` plus every tree's output
/// (the learning rate is already folded into leaf values).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoostModel {
    /// Log-odds of the weighted positive rate of the training rows.
    pub base_score: f64,
    /// The trees, in boosting order.
    pub trees: Vec<Tree>,
    /// Number of input features.
    pub n_features: usize,
    /// Number of rounds kept (the best round under early stopping).
    pub best_iteration: usize,
    /// `(round, validation log-loss)` every few rounds and at the best round; empty without
    /// a validation set.
    pub training_log: Vec<(usize, f64)>,
    /// Per feature, the total split gain it brought over all trees.
    pub gain_importance: Vec<f64>,
    /// Per feature, its number of level codes when it is categorical and split as sets of
    /// levels ([`Tree::categories`]), else 0; empty when no feature is (and in artifacts of
    /// builds before native categorical splits).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<u32>,
}

crate::map_struct!(BoostModel {
    base_score,
    trees,
    n_features,
    best_iteration,
    training_log,
    gain_importance,
    categories = Default::default(),
});

impl BoostModel {
    fn constant(base_score: f64, n_features: usize, mapper: &BinMapper) -> Self {
        BoostModel {
            base_score,
            trees: Vec::new(),
            n_features,
            best_iteration: 0,
            training_log: Vec::new(),
            gain_importance: vec![0.0; n_features],
            categories: level_codes(mapper),
        }
    }

    /// The average of two models fitted on the same features ([`BoostParams::average_with`]):
    /// every tree of both with its values halved and the mean base score, so its log-odds are
    /// the mean of theirs and its Shapley values the mean of theirs. Rounds and the training
    /// log are `first`'s (the rounds the final fit of `ebb train` repeats).
    fn average(first: BoostModel, second: BoostModel) -> BoostModel {
        let halve = |mut tree: Tree| {
            tree.value.iter_mut().for_each(|v| *v *= 0.5);
            tree
        };
        let gain_importance = first
            .gain_importance
            .iter()
            .zip(&second.gain_importance)
            .map(|(a, b)| 0.5 * (a + b))
            .collect();
        BoostModel {
            base_score: 0.5 * (first.base_score + second.base_score),
            trees: first
                .trees
                .into_iter()
                .chain(second.trees)
                .map(halve)
                .collect(),
            n_features: first.n_features,
            best_iteration: first.best_iteration,
            training_log: first.training_log,
            gain_importance,
            categories: first.categories,
        }
    }

    /// The log-odds score of one row. Features past the end of a short row count as missing.
    pub fn predict_raw(&self, row: &[f64]) -> f64 {
        // Four trees walked in step: each walk is a chain of dependent loads, and interleaving
        // independent chains lets the CPU overlap them. Leaf values are still added in tree
        // order, so the sum is the same bit for bit.
        const LANES: usize = 4;
        let mut score = self.base_score;
        let mut groups = self.trees.chunks_exact(LANES);
        for group in &mut groups {
            let mut nodes = [0usize; LANES];
            let mut walking = true;
            while walking {
                walking = false;
                for (t, n) in group.iter().zip(nodes.iter_mut()) {
                    if let Some(next) = step(t, row, *n) {
                        *n = next;
                        walking = true;
                    }
                }
            }
            for (t, &n) in group.iter().zip(&nodes) {
                score += t.value.get(n).copied().unwrap_or(0.0);
            }
        }
        for t in groups.remainder() {
            let mut n = 0usize;
            while let Some(next) = step(t, row, n) {
                n = next;
            }
            score += t.value.get(n).copied().unwrap_or(0.0);
        }
        score
    }

    /// The churn probability of one row.
    pub fn predict_proba(&self, row: &[f64]) -> f64 {
        sigmoid(self.predict_raw(row))
    }

    /// [`BoostModel::predict_proba`] walking `packed`, this model's trees from
    /// [`PackedTrees::with_ranks`]: the same value bit for bit, faster.
    pub fn predict_proba_packed(&self, packed: &PackedTrees, row: &[f64]) -> f64 {
        sigmoid(packed.sum(self.base_score, row))
    }

    /// Churn probabilities of a row-major block of full rows (`n_features` values each) into
    /// `out`, tree by tree; equal bit for bit to [`BoostModel::predict_proba`] per row.
    pub fn predict_proba_block(&self, block: &[f64], out: &mut [f64]) {
        out.fill(self.base_score);
        for tree in &self.trees {
            tree.accumulate(block, self.n_features, out);
        }
        out.iter_mut().for_each(|o| *o = sigmoid(*o));
    }

    /// Churn probabilities of every row of `x`.
    pub fn predict_proba_matrix(&self, x: ArrayView2<f64>) -> Vec<f64> {
        let score_rows = |rows: ArrayView2<f64>, out: &mut [f64]| {
            let mut buf = Vec::new();
            for (row, o) in rows.outer_iter().zip(out) {
                *o = match row.as_slice() {
                    Some(r) => self.predict_proba(r),
                    None => {
                        buf.clear();
                        buf.extend(row.iter().copied());
                        self.predict_proba(&buf)
                    }
                };
            }
        };
        let mut out = vec![0.0; x.nrows()];
        // Rows are scored independently, so chunking cannot change any value.
        #[cfg(feature = "parallel")]
        {
            use ndarray::Axis;
            use rayon::prelude::*;
            const CHUNK: usize = 1024;
            let chunks: Vec<ArrayView2<f64>> = x.axis_chunks_iter(Axis(0), CHUNK).collect();
            chunks
                .into_par_iter()
                .zip(out.par_chunks_mut(CHUNK))
                .for_each(|(rows, o)| score_rows(rows, o));
        }
        #[cfg(not(feature = "parallel"))]
        score_rows(x, &mut out);
        out
    }

    /// Per feature, the total split gain over all trees, normalised to sum to 1 (all zeros when
    /// no split was made).
    pub fn feature_gain_importance(&self) -> Vec<f64> {
        let total: f64 = self.gain_importance.iter().sum();
        if total > 0.0 {
            self.gain_importance.iter().map(|g| g / total).collect()
        } else {
            vec![0.0; self.gain_importance.len()]
        }
    }
}

/// The child of `node` that `row` goes to, or `None` at a leaf.
#[inline(always)]
fn step(tree: &Tree, row: &[f64], node: usize) -> Option<usize> {
    let f = *tree.feature.get(node).filter(|&&f| f != LEAF)?;
    let x = row.get(f as usize).copied().unwrap_or(f64::NAN);
    Some(if tree.goes_left(node, x) {
        tree.left[node]
    } else {
        tree.right[node]
    } as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// Rank-based ROC-AUC with ties counted half.
    fn auc(y: &[f64], p: &[f64]) -> f64 {
        let (mut wins, mut pairs) = (0.0, 0.0);
        for (i, &pi) in p.iter().enumerate() {
            for (j, &pj) in p.iter().enumerate() {
                if y[i] == 1.0 && y[j] == 0.0 {
                    pairs += 1.0;
                    wins += if pi > pj {
                        1.0
                    } else if pi == pj {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        wins / pairs
    }

    /// XOR of the signs of features 0 and 1 with 2% label noise (best possible AUC 0.98), plus
    /// noise features.
    use crate::progress::Recorder;

    fn xor_data(n: usize, seed: u64) -> (Array2<f64>, Vec<f64>) {
        let mut rng = Rng::new(seed);
        let x = Array2::from_shape_fn((n, 5), |_| rng.next_f64() * 2.0 - 1.0);
        let y = (0..n)
            .map(|r| {
                let clean = (x[[r, 0]] * x[[r, 1]] > 0.0) as u8 as f64;
                if rng.chance(0.02) {
                    1.0 - clean
                } else {
                    clean
                }
            })
            .collect();
        (x, y)
    }

    #[test]
    fn progress_is_monotone_and_reporting_changes_nothing() {
        let (x, y) = xor_data(1500, 1);
        let params = BoostParams::default();
        let mut rec = Recorder::never_stopping();
        let model = params
            .fit_with_progress(x.view(), &y, None, &mut Reporter::new(&mut rec))
            .unwrap();
        rec.assert_complete();
        // Every round of the hold-out run and of the refit is reported.
        assert!(
            rec.fractions.len() > 2 * model.best_iteration,
            "{}",
            rec.fractions.len()
        );
        let silent = params.fit(x.view(), &y, None).unwrap();
        assert_eq!(
            serde_json::to_string(&model).unwrap(),
            serde_json::to_string(&silent).unwrap()
        );
    }

    #[test]
    fn a_fit_cancelled_at_half_stops_within_a_round() {
        let (x, y) = xor_data(1500, 1);
        let params = BoostParams::default()
            .with_n_trees(60)
            .with_early_stopping_rounds(None);
        let mut rec = Recorder::stopping_at(0.5);
        let err = params
            .fit_with_progress(x.view(), &y, None, &mut Reporter::new(&mut rec))
            .unwrap_err();
        assert_eq!(
            err,
            Error::Cancelled {
                stage: STAGE.into()
            }
        );
        // The stop came at the first round at or past 50%: one round is 1/60 of the fit.
        rec.assert_stopped_within(1.0 / 60.0 + 1e-12);
        assert_eq!(rec.fractions.len(), 1 + 30);
    }

    #[test]
    fn learns_an_xor_interaction() {
        let (x, y) = xor_data(3000, 1);
        let (xt, yt) = xor_data(1000, 2);
        let model = BoostParams::default().fit(x.view(), &y, None).unwrap();
        let p = model.predict_proba_matrix(xt.view());
        let a = auc(&yt, &p);
        assert!(a > 0.95, "held-out AUC {a}");
        assert!(model.best_iteration > 0 && model.best_iteration == model.trees.len());
        let imp = model.feature_gain_importance();
        assert!(
            imp[0] + imp[1] > 0.8,
            "signal features should dominate: {imp:?}"
        );
    }

    #[test]
    fn missing_values_carry_signal_through_default_directions() {
        let mut rng = Rng::new(5);
        let n = 2000;
        let y: Vec<f64> = (0..n).map(|_| rng.chance(0.3) as u8 as f64).collect();
        let x = Array2::from_shape_fn((n, 2), |(r, c)| {
            if c == 0 && y[r] == 1.0 {
                f64::NAN
            } else {
                rng.normal()
            }
        });
        let model = BoostParams::default().fit(x.view(), &y, None).unwrap();
        assert!(model.predict_proba(&[f64::NAN, 0.0]) > 0.9);
        assert!(model.predict_proba(&[0.5, 0.0]) < 0.1);
        assert!(model.predict_proba(&[-3.0, 0.0]) < 0.1);
        // A row shorter than the model's features counts the rest as missing, not a panic.
        assert!(model.predict_proba(&[]) > 0.9);
    }

    #[test]
    fn early_stopping_stops_on_pure_noise() {
        let mut rng = Rng::new(8);
        let x = Array2::from_shape_fn((1000, 4), |_| rng.normal());
        let y: Vec<f64> = (0..1000).map(|_| rng.chance(0.5) as u8 as f64).collect();
        let model = BoostParams::default()
            .with_n_trees(300)
            .fit(x.view(), &y, None)
            .unwrap();
        assert!(model.trees.len() < 100, "kept {} trees", model.trees.len());
        assert!(!model.training_log.is_empty());
    }

    #[test]
    fn validation_set_drives_best_iteration() {
        let (x, y) = xor_data(1500, 3);
        let (xv, yv) = xor_data(500, 4);
        let p = BoostParams::default()
            .with_n_trees(400)
            .with_learning_rate(0.3);
        let model = p
            .fit_with_validation(x.view(), &y, None, xv.view(), &yv)
            .unwrap();
        assert!(model.best_iteration < 400);
        assert_eq!(model.trees.len(), model.best_iteration);
        let best = model
            .training_log
            .iter()
            .find(|(i, _)| *i == model.best_iteration);
        let min = model
            .training_log
            .iter()
            .map(|l| l.1)
            .fold(f64::INFINITY, f64::min);
        assert_eq!(best.map(|l| l.1), Some(min));
    }

    #[test]
    fn trees_respect_shape_limits_and_record_hessian_cover() {
        let (x, y) = xor_data(1000, 6);
        let model = BoostParams::default()
            .with_num_leaves(7)
            .with_max_depth(Some(2))
            .with_early_stopping_rounds(None)
            .with_n_trees(20)
            .fit(x.view(), &y, None)
            .unwrap();
        assert_eq!(model.trees.len(), 20);
        for t in &model.trees {
            assert!(t.n_leaves() <= 4 && t.depth() <= 2);
            for n in 0..t.n_nodes() {
                if !t.is_leaf(n) {
                    let (l, r) = (t.left[n] as usize, t.right[n] as usize);
                    assert!((t.cover[n] - t.cover[l] - t.cover[r]).abs() < 1e-6 * t.cover[n]);
                }
            }
        }
        // The first tree's root saw every row at the base rate p: hessian mass n·p·(1−p).
        let p = sigmoid(model.base_score);
        let root = model.trees[0].cover[0];
        assert!((root - 1000.0 * p * (1.0 - p)).abs() < 1e-6, "{root}");
    }

    #[test]
    fn same_seed_same_model_and_bagging_seed_matters() {
        let (x, y) = xor_data(800, 7);
        let p = BoostParams::default()
            .with_bagging_fraction(0.7)
            .with_bagging_freq(1)
            .with_feature_fraction(0.6)
            .with_n_trees(40);
        let json =
            |p: &BoostParams| serde_json::to_string(&p.fit(x.view(), &y, None).unwrap()).unwrap();
        assert_eq!(json(&p), json(&p));
        assert_ne!(json(&p), json(&p.clone().with_seed(99)));
    }

    /// The row-count gain is read from parameters written before it existed (as the
    /// second-order default), learns the XOR interaction too, and grows other trees.
    #[test]
    fn the_row_count_gain_is_an_opt_in_that_learns() {
        let mut old = serde_json::to_value(BoostParams::default()).unwrap();
        old.as_object_mut().unwrap().remove("split_gain");
        let old: BoostParams = serde_json::from_value(old).unwrap();
        assert_eq!(old.split_gain, SplitGain::Hessian);
        let mut rows = serde_json::to_value(BoostParams::default()).unwrap();
        rows["split_gain"] = "rows".into();
        let rows: BoostParams = serde_json::from_value(rows).unwrap();
        assert_eq!(
            rows,
            BoostParams::default().with_split_gain(SplitGain::Rows)
        );

        let (x, y) = xor_data(1500, 3);
        let (xt, yt) = xor_data(1500, 4);
        let fit = |p: &BoostParams| p.clone().with_n_trees(60).fit(x.view(), &y, None).unwrap();
        let (hessian, by_rows) = (fit(&old), fit(&rows));
        let test_auc = |m: &BoostModel| auc(&yt, &m.predict_proba_matrix(xt.view()));
        assert!(test_auc(&by_rows) > 0.9, "{}", test_auc(&by_rows));
        assert_ne!(
            serde_json::to_string(&hessian.trees).unwrap(),
            serde_json::to_string(&by_rows.trees).unwrap()
        );
    }

    /// Symmetric trees ask each level one question: every split node at one depth tests the
    /// same feature and threshold, no tree is deeper than `max_depth`, and two levels learn XOR.
    #[test]
    fn symmetric_trees_share_each_levels_cut_and_learn_xor() {
        let (x, y) = xor_data(1500, 3);
        let (xt, yt) = xor_data(1500, 4);
        let params = BoostParams::default()
            .with_tree_shape(TreeShape::Symmetric)
            .with_max_depth(Some(3))
            .with_n_trees(60);
        let model = params.fit(x.view(), &y, None).unwrap();
        let test_auc = auc(&yt, &model.predict_proba_matrix(xt.view()));
        assert!(test_auc > 0.95, "{test_auc}");
        for t in &model.trees {
            // Walk level by level from the root.
            let mut level = vec![0usize];
            for depth in 0..=3 {
                let splits: Vec<usize> = level
                    .iter()
                    .copied()
                    .filter(|&n| t.feature[n] != LEAF)
                    .collect();
                if depth == 3 {
                    assert!(splits.is_empty(), "deeper than max_depth");
                }
                if let Some(&first) = splits.first() {
                    for &n in &splits {
                        assert_eq!(t.feature[n], t.feature[first]);
                        assert_eq!(t.threshold[n], t.threshold[first]);
                        assert_eq!(t.default_left[n], t.default_left[first]);
                    }
                }
                level = splits
                    .iter()
                    .flat_map(|&n| [t.left[n] as usize, t.right[n] as usize])
                    .collect();
            }
        }
        let deep = BoostParams::default()
            .with_tree_shape(TreeShape::Symmetric)
            .with_max_depth(Some(9));
        assert!(deep.fit(x.view(), &y, None).is_err());
    }

    #[test]
    fn an_averaged_model_scores_the_mean_of_its_members() {
        let (x, y) = xor_data(1200, 21);
        let (xt, _) = xor_data(300, 22);
        let leaf_wise = BoostParams::default().with_num_leaves(7).with_seed(5);
        let member = BoostParams::default()
            .with_tree_shape(TreeShape::Symmetric)
            .with_split_gain(SplitGain::Rows)
            .with_n_trees(40)
            .with_early_stopping_rounds(None);
        let averaged = leaf_wise
            .clone()
            .with_average_with(Some(Box::new(member.clone())));
        let both = averaged.fit(x.view(), &y, None).unwrap();
        let first = leaf_wise.fit(x.view(), &y, None).unwrap();
        // The member is fitted with the outer seed (it draws nothing at these settings).
        let second = member.with_seed(5).fit(x.view(), &y, None).unwrap();
        assert_eq!(both.trees.len(), first.trees.len() + second.trees.len());
        assert_eq!(both.best_iteration, first.best_iteration);
        assert_eq!(both.training_log, first.training_log);
        for row in xt.rows() {
            let row = row.to_vec();
            let mean = 0.5 * (first.predict_raw(&row) + second.predict_raw(&row));
            assert!((both.predict_raw(&row) - mean).abs() < 1e-12);
        }
        // Saved and loaded, it is the same model.
        let json = serde_json::to_string(&averaged).unwrap();
        assert_eq!(
            serde_json::from_str::<BoostParams>(&json).unwrap(),
            averaged
        );
        // A member must train fixed rounds on the same bins, and average with nothing more.
        let refused = |member: BoostParams| {
            let p = leaf_wise.clone().with_average_with(Some(Box::new(member)));
            match p.fit(x.view(), &y, None) {
                Err(Error::InvalidParameter { name, .. }) => name,
                other => panic!("{other:?}"),
            }
        };
        let fixed = BoostParams::default().with_early_stopping_rounds(None);
        assert_eq!(refused(BoostParams::default()), "average_with");
        assert_eq!(refused(fixed.clone().with_max_bins(63)), "average_with");
        let nested = fixed
            .clone()
            .with_average_with(Some(Box::new(fixed.clone())));
        assert_eq!(refused(nested), "average_with");
        assert_eq!(refused(fixed.with_learning_rate(-1.0)), "learning_rate");
    }

    #[test]
    fn parameters_read_as_the_trees_they_train() {
        let leaf_wise = BoostParams::default();
        let text = alloc::format!("{leaf_wise}");
        assert!(
            text.starts_with("learning_rate 0.0500, num_leaves 31,"),
            "{text}"
        );
        assert!(text.ends_with("500 rounds"), "{text}");
        let symmetric = leaf_wise.clone().with_tree_shape(TreeShape::Symmetric);
        assert!(alloc::format!("{symmetric}").ends_with("500 rounds, symmetric trees of 6 levels"));
        let member = symmetric
            .with_max_depth(Some(5))
            .with_n_trees(300)
            .with_lambda_l2(3.0);
        let averaged = leaf_wise.with_average_with(Some(Box::new(member)));
        assert!(
            alloc::format!("{averaged}")
                .ends_with("500 rounds; averaged with 300 rounds of symmetric trees of 5 levels (lambda_l2 3.0000)"),
            "{averaged}"
        );
    }

    #[test]
    fn class_weighting_raises_positive_probabilities() {
        let (x, y) = xor_data(1000, 9);
        let mean_pos = |m: &BoostModel| {
            let p = m.predict_proba_matrix(x.view());
            let pos: Vec<f64> = p
                .iter()
                .zip(&y)
                .filter(|(_, &yi)| yi == 1.0)
                .map(|(&pi, _)| pi)
                .collect();
            pos.iter().sum::<f64>() / pos.len() as f64
        };
        let p = BoostParams::default()
            .with_n_trees(30)
            .with_early_stopping_rounds(None);
        let plain = mean_pos(&p.fit(x.view(), &y, None).unwrap());
        let scaled = mean_pos(
            &p.clone()
                .with_scale_pos_weight(4.0)
                .fit(x.view(), &y, None)
                .unwrap(),
        );
        let w: Vec<f64> = y
            .iter()
            .map(|&yi| if yi == 1.0 { 4.0 } else { 1.0 })
            .collect();
        let weighted = mean_pos(&p.fit(x.view(), &y, Some(&w)).unwrap());
        assert!(scaled > plain + 0.05, "{scaled} vs {plain}");
        assert!(
            (weighted - scaled).abs() < 1e-9,
            "both routes weight the same rows"
        );
    }

    #[test]
    fn invalid_inputs_are_errors() {
        let (x, y) = xor_data(50, 10);
        let p = BoostParams::default();
        assert!(matches!(
            p.fit(x.view(), &y[..49], None),
            Err(Error::InvalidParameter { .. })
        ));
        assert!(matches!(
            p.fit(x.view(), &[1.0; 50], None),
            Err(Error::BadTarget { .. })
        ));
        let mut nan = y.clone();
        nan[3] = f64::NAN;
        let err = p.fit(x.view(), &nan, None).unwrap_err();
        assert!(alloc::format!("{err}").contains("row 4"), "{err}");
        let empty = Array2::<f64>::zeros((0, 5));
        assert_eq!(p.fit(empty.view(), &[], None), Err(Error::EmptyInput));
        // Bins missing a feature column, or trained with other labels, are refused.
        let mut bins = p.bins(&y, x.ncols()).unwrap();
        bins.push_column(&x.column(0).to_vec());
        let err = p
            .fit_bins_with_progress(bins, &y, None, &mut Reporter::silent())
            .unwrap_err();
        assert!(
            alloc::format!("{err}").contains("hold 1 of 5 feature columns"),
            "{err}"
        );
        let mut bins = p.bins(&y, x.ncols()).unwrap();
        for f in 0..x.ncols() {
            bins.push_column(&x.column(f).to_vec());
        }
        assert!(matches!(
            p.fit_bins_with_progress(bins, &y[..49], None, &mut Reporter::silent()),
            Err(Error::InvalidParameter { .. })
        ));
        assert!(p.fit(x.view(), &y, Some(&[1.0; 3])).is_err());
        assert!(p.fit(x.view(), &y, Some(&[-1.0; 50])).is_err());
        assert!(p
            .clone()
            .with_learning_rate(0.0)
            .fit(x.view(), &y, None)
            .is_err());
        assert!(p
            .clone()
            .with_num_leaves(1)
            .fit(x.view(), &y, None)
            .is_err());
        assert!(p
            .clone()
            .with_max_bins(256)
            .fit(x.view(), &y, None)
            .is_err());
        assert!(p
            .clone()
            .with_validation_fraction(1.0)
            .fit(x.view(), &y, None)
            .is_err());
        let xv = Array2::<f64>::zeros((5, 4));
        assert!(p
            .fit_with_validation(x.view(), &y, None, xv.view(), &[0.0; 5])
            .is_err());
    }

    #[test]
    fn row_and_block_scoring_agree_bit_for_bit() {
        // 23 trees: four-tree groups plus a remainder in the row path, tree by tree in the
        // block path; both must add the same values in the same order.
        let (x, y) = xor_data(2_000, 5);
        let model = BoostParams::default()
            .with_n_trees(23)
            .fit(x.view(), &y, None)
            .unwrap();
        assert_eq!(model.trees.len(), 23);
        let block: Vec<f64> = x.iter().copied().collect();
        let mut out = vec![0.0; x.nrows()];
        model.predict_proba_block(&block, &mut out);
        for (r, &b) in out.iter().enumerate() {
            let row = x.row(r).to_vec();
            assert_eq!(model.predict_proba(&row).to_bits(), b.to_bits(), "row {r}");
            let sum = model
                .trees
                .iter()
                .fold(model.base_score, |s, t| s + t.predict(&row));
            assert_eq!(model.predict_raw(&row).to_bits(), sum.to_bits(), "row {r}");
        }
    }

    #[test]
    fn serde_round_trip_preserves_predictions_exactly() {
        let mut rng = Rng::new(12);
        let n = 600;
        let y: Vec<f64> = (0..n).map(|_| rng.chance(0.4) as u8 as f64).collect();
        // Feature 1 is missing or constant, so the model splits "present vs missing" and needs
        // a threshold JSON can hold.
        let x = Array2::from_shape_fn((n, 2), |(r, c)| match c {
            0 => rng.normal() + y[r],
            _ if y[r] == 1.0 && rng.chance(0.8) => f64::NAN,
            _ => 1.0,
        });
        let model = BoostParams::default().fit(x.view(), &y, None).unwrap();
        let back: BoostModel =
            serde_json::from_str(&serde_json::to_string(&model).unwrap()).unwrap();
        assert_eq!(back, model);
        let a = model.predict_proba_matrix(x.view());
        assert_eq!(a, back.predict_proba_matrix(x.view()));
        // A non-contiguous view scores the same rows the same way.
        let xt = x.t().to_owned();
        assert_eq!(a, model.predict_proba_matrix(xt.t()));
        assert_eq!(a[7], model.predict_proba(&[x[[7, 0]], x[[7, 1]]]));
    }

    /// Column 0 holds level codes 0..40 of which an unordered third churns (code order
    /// carries no signal), column 1 noise; 5% of codes are missing (those churn too).
    fn level_data(n: usize, seed: u64) -> (Array2<f64>, Vec<f64>) {
        let mut rng = Rng::new(seed);
        let churny = |c: usize| c.is_multiple_of(3);
        let mut y = Vec::with_capacity(n);
        let x = Array2::from_shape_fn((n, 2), |(_, c)| {
            if c == 1 {
                return rng.normal();
            }
            let code = rng.below(40);
            let missing = rng.chance(0.05);
            let p = if missing || churny(code) { 0.7 } else { 0.1 };
            y.push(rng.chance(p) as u8 as f64);
            if missing {
                f64::NAN
            } else {
                code as f64
            }
        });
        (x, y)
    }

    #[test]
    fn native_categorical_splits_learn_unordered_levels() {
        let (x, y) = level_data(6_000, 21);
        let (xt, yt) = level_data(3_000, 22);
        let codes = [40, 0];
        let p = BoostParams::default().with_n_trees(60);
        let fit = |p: &BoostParams| {
            p.fit_categorical_with_progress(x.view(), &codes, &y, None, &mut Reporter::silent())
                .unwrap()
        };
        let native = fit(&p);
        assert_eq!(native.categories, [40, 0]);
        assert!(categorical_splits(&native) > 0, "no categorical split");
        // The best possible AUC here is about 0.83.
        let a_native = auc(&yt, &native.predict_proba_matrix(xt.view()));
        assert!(a_native > 0.8, "native AUC {a_native}");
        assert!(p.fit(x.view(), &y, None).unwrap().categories.is_empty());
        // Missing codes churn: they follow the churny side.
        assert!(native.predict_proba(&[f64::NAN, 0.0]) > 0.5);
        assert!(native.predict_proba(&[0.0, 0.0]) > 0.5, "code 0 churns");
        assert!(native.predict_proba(&[1.0, 0.0]) < 0.3, "code 1 does not");
        // Same seed, same model; scoring by row, block and packed trees agree bit for bit.
        assert_eq!(
            serde_json::to_string(&fit(&p)).unwrap(),
            serde_json::to_string(&native).unwrap()
        );
        assert_block_matches_rows(&native, &xt);
        let packed = PackedTrees::with_ranks(&native.trees);
        for row in xt.rows() {
            let row = row.to_vec();
            assert_eq!(
                native.predict_proba_packed(&packed, &row).to_bits(),
                native.predict_proba(&row).to_bits()
            );
        }
        let back: BoostModel =
            serde_json::from_str(&serde_json::to_string(&native).unwrap()).unwrap();
        assert_eq!(back, native);
        // Bad code counts are refused.
        let mut bins = p.bins(&y, 2).unwrap();
        assert!(bins
            .push_categorical_column(&x.column(0).to_vec(), 1)
            .is_err());
        assert!(bins
            .push_categorical_column(&x.column(0).to_vec(), 256)
            .is_err());
    }

    /// A symmetric tree's level cuts a categorical feature as a set of levels too, ordered by
    /// the level's sums over all its leaves; the model scores the same by row and by block.
    #[test]
    fn symmetric_trees_split_levels_as_sets() {
        let (x, y) = level_data(6_000, 21);
        let (xt, yt) = level_data(3_000, 22);
        let model = BoostParams::default()
            .with_n_trees(60)
            .with_tree_shape(TreeShape::Symmetric)
            .fit_categorical_with_progress(x.view(), &[40, 0], &y, None, &mut Reporter::silent())
            .unwrap();
        assert!(categorical_splits(&model) > 0, "no categorical split");
        let a = auc(&yt, &model.predict_proba_matrix(xt.view()));
        assert!(a > 0.8, "symmetric AUC {a}");
        assert!(
            model.predict_proba(&[1.0, 0.0]) < 0.3,
            "code 1 does not churn"
        );
        assert_block_matches_rows(&model, &xt);
    }

    /// Nodes of `model` that split a categorical feature as a set of levels.
    fn categorical_splits(model: &BoostModel) -> usize {
        model
            .trees
            .iter()
            .flat_map(|t| (0..t.categories.len()).filter_map(|n| t.left_levels(n)))
            .count()
    }

    /// Scoring `x` as one block gives each row's own probability, bit for bit.
    fn assert_block_matches_rows(model: &BoostModel, x: &Array2<f64>) {
        let block: Vec<f64> = x.iter().copied().collect();
        let mut out = vec![0.0; x.nrows()];
        model.predict_proba_block(&block, &mut out);
        for (r, &b) in out.iter().enumerate() {
            let one = model.predict_proba(&x.row(r).to_vec());
            assert_eq!(one.to_bits(), b.to_bits(), "row {r}");
        }
    }

    #[cfg(feature = "parallel")]
    #[test]
    fn one_thread_and_many_threads_give_the_same_model() {
        let (x, y) = xor_data(20_000, 13);
        let leaf_wise = BoostParams::default()
            .with_n_trees(15)
            .with_bagging_fraction(0.8)
            .with_bagging_freq(2);
        let symmetric = leaf_wise.clone().with_tree_shape(TreeShape::Symmetric);
        for p in [leaf_wise, symmetric] {
            let many = p.fit(x.view(), &y, None).unwrap();
            let one = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .unwrap()
                .install(|| p.fit(x.view(), &y, None))
                .unwrap();
            assert_eq!(
                serde_json::to_string(&one).unwrap(),
                serde_json::to_string(&many).unwrap()
            );
            assert_eq!(
                one.predict_proba_matrix(x.view()),
                many.predict_proba_matrix(x.view())
            );
        }
    }
}
