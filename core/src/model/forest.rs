//! Random forest classifier: bagged Gini trees whose averaged leaf fractions give a churn
//! probability.
//!
//! This module owns forest training (bootstrap, per-node feature subsampling, Gini split search
//! over [`BinMapper`] bins with a learned direction for missing values), the out-of-bag
//! estimate, ensemble prediction and impurity-based feature importance. Trees are stored as
//! shared [`Tree`]s with raw-value thresholds, so scoring needs no bin mapper.
//!
//! Every tree draws from its own stream `Rng::new(seed).fork(tree_index)`, bootstrap first and
//! then feature subsets, so a seed gives the same forest with or without the `parallel`
//! feature and on any number of threads.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::binning::{BinMapper, BinnedMatrix, MAX_BINS};
use crate::model::compact::{canonical, LaidOut, ReadTrees, TreeLayout};
use crate::model::packed::PackedTrees;
use crate::model::tree::Tree;
use crate::progress::Reporter;
use crate::rng::Rng;

/// How far [`ForestModel::predict_raw`] and the out-of-bag log loss keep a probability from 0
/// and 1. A forest whose trees all agree outputs exactly 0 or 1; this bound keeps log-odds
/// finite (|logit| <= 13.8) without moving any probability a user could see in a report.
pub const PROBA_EPSILON: f64 = 1e-6;

/// Stage name of forest fits in progress updates.
const STAGE: &str = "fitting forest";

/// Trees grown between two progress reports (and two folds of their out-of-bag predictions into
/// the running sums): one per thread, so a stop is seen after about one tree's work and the
/// per-tree out-of-bag lists held at once stay few. Results never depend on it: trees are folded
/// in tree order.
fn trees_per_batch() -> usize {
    #[cfg(feature = "parallel")]
    {
        rayon::current_num_threads().max(1)
    }
    #[cfg(not(feature = "parallel"))]
    {
        1
    }
}

/// Rows scored together by [`ForestModel::predict_proba_matrix`]: enough to reuse each tree's
/// upper nodes from cache, few enough that the block's rows stay in cache too.
const PREDICT_BLOCK_ROWS: usize = 512;

/// How many features each node may try as split candidates.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub enum MaxFeatures {
    /// `floor(sqrt(n_features))`, at least 1 (the usual choice for classification).
    #[default]
    Sqrt,
    /// `floor(fraction * n_features)`, at least 1; the fraction must be in `(0, 1]`.
    Fraction(f64),
    /// Every feature (bagged trees without feature subsampling).
    All,
    /// Exactly this many features, between 1 and the number of features.
    Count(usize),
}

impl MaxFeatures {
    fn resolve(self, n_features: usize) -> Result<usize> {
        let invalid = |message| Error::InvalidParameter {
            name: "max_features".into(),
            message,
        };
        match self {
            MaxFeatures::Sqrt => Ok((libm::sqrt(n_features as f64) as usize).max(1)),
            MaxFeatures::All => Ok(n_features),
            MaxFeatures::Fraction(f) if f > 0.0 && f <= 1.0 => {
                Ok(((f * n_features as f64) as usize).max(1))
            }
            MaxFeatures::Fraction(f) => Err(invalid(format!(
                "fraction must be greater than 0 and at most 1, got {f}"
            ))),
            MaxFeatures::Count(k) if (1..=n_features).contains(&k) => Ok(k),
            MaxFeatures::Count(k) => Err(invalid(format!(
                "count must be between 1 and the number of features ({n_features}), got {k}"
            ))),
        }
    }
}

/// Random forest settings. Defaults follow common practice for probability estimates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForestParams {
    /// Number of trees (default 150). A forest's ROC-AUC plateaus well before 300 trees while
    /// its scoring and training cost grow with every tree: out of fold, 150 trees scored within
    /// 0.0006 of 300 on mlc_churn (3 x 5-fold CV) and within 0.0002 on 100,000 generated rows
    /// (time split), at half the nodes walked per row (BENCHMARKS.md, "Random forest: trees").
    /// `ebb train` gives tables of up to 5,000 rows 300 ([`crate::train::sized_forest_trees`]).
    pub n_trees: usize,
    /// Deepest allowed leaf; `None` grows until the other limits stop it (default).
    pub max_depth: Option<usize>,
    /// Fewest distinct training rows in a leaf (default 3). Leaves of one or two rows output
    /// only 0, ½ or 1; on noisy churn-like synthetic data three rows gave a slightly better
    /// held-out log loss and AUC than 1, 5, 10 or 20 (near noise-free labels favour 1).
    pub min_samples_leaf: usize,
    /// Fewest distinct training rows a node needs to be split (default 2).
    pub min_samples_split: usize,
    /// Features tried per node (default [`MaxFeatures::Sqrt`]).
    pub max_features: MaxFeatures,
    /// Train each tree on a bootstrap sample (default true); needed for the out-of-bag estimate.
    pub bootstrap: bool,
    /// Reweight classes so both carry the same total weight (default false). Applied on top of
    /// any `sample_weight` given to [`ForestParams::fit`], using weighted class totals.
    pub balanced_class_weight: bool,
    /// Value bins per feature for split finding, 2 to 255 (default 255).
    pub max_bins: usize,
    /// Seed of every random choice (default 42).
    pub seed: u64,
}

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams {
            n_trees: 150,
            max_depth: None,
            min_samples_leaf: 3,
            min_samples_split: 2,
            max_features: MaxFeatures::Sqrt,
            bootstrap: true,
            balanced_class_weight: false,
            max_bins: MAX_BINS,
            seed: 42,
        }
    }
}

impl ForestParams {
    /// Sets the number of trees.
    pub fn with_n_trees(mut self, n_trees: usize) -> Self {
        self.n_trees = n_trees;
        self
    }

    /// Sets the maximum depth (`None` for unlimited).
    pub fn with_max_depth(mut self, max_depth: Option<usize>) -> Self {
        self.max_depth = max_depth;
        self
    }

    /// Sets the fewest rows per leaf.
    pub fn with_min_samples_leaf(mut self, min_samples_leaf: usize) -> Self {
        self.min_samples_leaf = min_samples_leaf;
        self
    }

    /// Sets the fewest rows a node needs to be split.
    pub fn with_min_samples_split(mut self, min_samples_split: usize) -> Self {
        self.min_samples_split = min_samples_split;
        self
    }

    /// Sets how many features each node tries.
    pub fn with_max_features(mut self, max_features: MaxFeatures) -> Self {
        self.max_features = max_features;
        self
    }

    /// Turns bootstrap sampling on or off.
    pub fn with_bootstrap(mut self, bootstrap: bool) -> Self {
        self.bootstrap = bootstrap;
        self
    }

    /// Turns balanced class weighting on or off.
    pub fn with_balanced_class_weight(mut self, balanced: bool) -> Self {
        self.balanced_class_weight = balanced;
        self
    }

    /// Sets the number of value bins per feature.
    pub fn with_max_bins(mut self, max_bins: usize) -> Self {
        self.max_bins = max_bins;
        self
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Trains a forest on `x` (rows × features, `NaN` = missing) and labels `y` (0 or 1), with
    /// optional non-negative per-row weights.
    pub fn fit(
        &self,
        x: ArrayView2<f64>,
        y: &[f64],
        sample_weight: Option<&[f64]>,
    ) -> Result<ForestModel> {
        self.fit_with_progress(x, y, sample_weight, &mut Reporter::silent())
    }

    /// [`ForestParams::fit`], reporting after every batch of trees to `progress` and stopping
    /// with [`Error::Cancelled`] when it asks to. Reporting never changes the model.
    pub fn fit_with_progress(
        &self,
        x: ArrayView2<f64>,
        y: &[f64],
        sample_weight: Option<&[f64]>,
        progress: &mut Reporter<'_>,
    ) -> Result<ForestModel> {
        let (n_rows, n_features) = x.dim();
        self.check_params()?;
        check_data(x, y)?;
        let mtry = self.max_features.resolve(n_features)?;
        let weights = self.row_weights(y, sample_weight)?;
        let mapper = BinMapper::fit(x, self.max_bins)?;
        let binned = mapper.transform(x);
        let total_w: f64 = weights.iter().sum();
        let total_wp: f64 = weights.iter().zip(y).map(|(w, y)| w * y).sum();
        let grower = Grower {
            binned: &binned,
            mapper: &mapper,
            y,
            weights: &weights,
            params: self,
            mtry,
            prior: total_wp / total_w,
        };

        let master = Rng::new(self.seed);
        let mut trees = Vec::with_capacity(self.n_trees);
        let mut impurity_decrease = vec![0.0; n_features];
        let mut oob_sum = vec![0.0; n_rows];
        let mut oob_count = vec![0u32; n_rows];
        progress.report(STAGE, 0.0, "features binned")?;
        let batch = trees_per_batch();
        let mut start = 0;
        while start < self.n_trees {
            let end = (start + batch).min(self.n_trees);
            // Folding in tree order keeps every sum identical whatever the thread count.
            for grown in grow_batch(&grower, &master, start, end) {
                for (acc, g) in impurity_decrease.iter_mut().zip(&grown.impurity_decrease) {
                    *acc += g;
                }
                for (row, p) in grown.oob {
                    oob_sum[row as usize] += p;
                    oob_count[row as usize] += 1;
                }
                trees.push(grown.tree);
            }
            start = end;
            progress.step(
                STAGE,
                end,
                self.n_trees,
                &format!("tree {end}/{}", self.n_trees),
            )?;
        }

        let oob = if self.bootstrap {
            OobEstimate::from_sums(&oob_sum, &oob_count, y)
        } else {
            None
        };
        Ok(ForestModel {
            trees,
            n_features,
            impurity_decrease,
            oob,
            layout: TreeLayout::Compact,
        })
    }

    fn check_params(&self) -> Result<()> {
        let invalid = |name: &'static str, message: alloc::string::String| {
            Err(Error::InvalidParameter {
                name: name.into(),
                message,
            })
        };
        if self.n_trees == 0 {
            return invalid("n_trees", "must be at least 1".into());
        }
        if self.min_samples_leaf == 0 {
            return invalid("min_samples_leaf", "must be at least 1".into());
        }
        if self.min_samples_split < 2 {
            return invalid(
                "min_samples_split",
                format!("must be at least 2, got {}", self.min_samples_split),
            );
        }
        Ok(())
    }

    /// Per-row training weights: the caller's weights (or 1) times the balancing factor.
    fn row_weights(&self, y: &[f64], sample_weight: Option<&[f64]>) -> Result<Vec<f64>> {
        let mut weights = match sample_weight {
            None => vec![1.0; y.len()],
            Some(w) => {
                if w.len() != y.len() {
                    return Err(Error::InvalidParameter {
                        name: "sample_weight".into(),
                        message: format!(
                            "has {} values but there are {} rows; give one weight per row",
                            w.len(),
                            y.len()
                        ),
                    });
                }
                if let Some((r, v)) = w
                    .iter()
                    .enumerate()
                    .find(|(_, v)| !(v.is_finite() && **v >= 0.0))
                {
                    return Err(Error::InvalidParameter {
                        name: "sample_weight".into(),
                        message: format!(
                            "row {} has weight {v}; weights must be finite and non-negative",
                            r + 1
                        ),
                    });
                }
                w.to_vec()
            }
        };
        let pos: f64 = weights.iter().zip(y).map(|(w, y)| w * y).sum();
        let neg: f64 = weights.iter().sum::<f64>() - pos;
        if pos <= 0.0 || neg <= 0.0 {
            return Err(Error::InvalidParameter {
                name: "y".into(),
                message: "needs rows of both classes (1 = churned, 0 = retained) with positive \
                          weight; add examples of the missing class"
                    .into(),
            });
        }
        if self.balanced_class_weight {
            let total = pos + neg;
            let (w_pos, w_neg) = (total / (2.0 * pos), total / (2.0 * neg));
            for (w, y) in weights.iter_mut().zip(y) {
                *w *= if *y > 0.5 { w_pos } else { w_neg };
            }
        }
        Ok(weights)
    }
}

fn check_data(x: ArrayView2<f64>, y: &[f64]) -> Result<()> {
    let (n_rows, n_features) = x.dim();
    if n_rows == 0 {
        return Err(Error::EmptyInput);
    }
    if n_features == 0 {
        return Err(Error::InvalidParameter {
            name: "x".into(),
            message: "has no feature columns; keep at least one input column".into(),
        });
    }
    if y.len() != n_rows {
        return Err(Error::InvalidParameter {
            name: "y".into(),
            message: format!("has {} labels but x has {n_rows} rows", y.len()),
        });
    }
    if let Some((r, v)) = y.iter().enumerate().find(|(_, v)| **v != 0.0 && **v != 1.0) {
        return Err(Error::InvalidParameter {
            name: "y".into(),
            message: format!(
                "row {} has label {v}; labels must be 0 (retained) or 1 (churned)",
                r + 1
            ),
        });
    }
    for ((r, f), v) in x.indexed_iter() {
        if v.is_infinite() {
            return Err(Error::BadValue {
                row: r + 1,
                column: format!("feature {f}"),
                value: format!("{v}"),
                expected: "finite number (or empty for missing)".into(),
            });
        }
    }
    Ok(())
}

/// Grows trees `start..end`, in parallel when the feature is on; the result is in tree order.
fn grow_batch(grower: &Grower<'_>, master: &Rng, start: usize, end: usize) -> Vec<Grown> {
    let grow_one = |t: usize| grower.grow(master.fork(t as u64));
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        (start..end).into_par_iter().map(grow_one).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        (start..end).map(grow_one).collect()
    }
}

/// A trained random forest.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "StoredForest")]
pub struct ForestModel {
    /// The trees; a leaf's value is its weighted fraction of churned training rows. Training
    /// leaves them canonical ([`canonical`]), the form the artifact's compact encoding stores.
    pub trees: Vec<Tree>,
    /// Number of input features every row must have.
    pub n_features: usize,
    /// Per feature, the sum over trees of that feature's share of the tree's total weighted
    /// Gini decrease (each tree's shares add up to 1 unless it never split).
    pub impurity_decrease: Vec<f64>,
    /// Out-of-bag estimate, present when trained with bootstrap and some row was out of bag.
    pub oob: Option<OobEstimate>,
    /// How the artifact holds the trees: compact when trained by this build; a file saved by
    /// an earlier build keeps its node arrays, so it loads and re-saves with the same hash.
    pub layout: TreeLayout,
}

/// [`ForestModel`] as the artifact stores it: the layout is read from the shape of `trees`.
struct StoredForest {
    trees: ReadTrees,
    n_features: usize,
    impurity_decrease: Vec<f64>,
    oob: Option<OobEstimate>,
}

crate::map_struct!(StoredForest {
    trees,
    n_features,
    impurity_decrease,
    oob,
});

impl From<StoredForest> for ForestModel {
    fn from(stored: StoredForest) -> Self {
        ForestModel {
            trees: stored.trees.trees,
            n_features: stored.n_features,
            impurity_decrease: stored.impurity_decrease,
            oob: stored.oob,
            layout: stored.trees.layout,
        }
    }
}

impl Serialize for ForestModel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Stored<'a> {
            trees: LaidOut<'a>,
            n_features: usize,
            impurity_decrease: &'a [f64],
            oob: &'a Option<OobEstimate>,
        }
        Stored {
            trees: LaidOut {
                trees: &self.trees,
                layout: self.layout,
            },
            n_features: self.n_features,
            impurity_decrease: &self.impurity_decrease,
            oob: &self.oob,
        }
        .serialize(s)
    }
}

impl ForestModel {
    /// Churn probability of one row: the mean of the trees' leaf values, in `[0, 1]` and not
    /// clamped (exactly 0 or 1 when all trees agree). `row` must hold `n_features` values.
    pub fn predict_proba(&self, row: &[f64]) -> f64 {
        let sum = self.trees.iter().fold(0.0, |acc, t| acc + t.predict(row));
        sum / self.trees.len() as f64
    }

    /// [`ForestModel::predict_proba`] walking `packed`, this model's trees from
    /// [`PackedTrees::with_ranks`]: the same value bit for bit, faster.
    pub fn predict_proba_packed(&self, packed: &PackedTrees, row: &[f64]) -> f64 {
        packed.sum(0.0, row) / self.trees.len() as f64
    }

    /// Churn probabilities of a row-major block of full rows (`n_features` values each) into
    /// `out`, tree by tree; equal bit for bit to [`ForestModel::predict_proba`] per row.
    pub fn predict_proba_block(&self, block: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        for tree in &self.trees {
            tree.accumulate(block, self.n_features, out);
        }
        let n_trees = self.trees.len() as f64;
        out.iter_mut().for_each(|o| *o /= n_trees);
    }

    /// Log-odds of [`ForestModel::predict_proba`] after clamping it to
    /// `[PROBA_EPSILON, 1 - PROBA_EPSILON]`, so always finite.
    pub fn predict_raw(&self, row: &[f64]) -> f64 {
        let p = clamp_proba(self.predict_proba(row));
        libm::log(p / (1.0 - p))
    }

    /// Churn probabilities of every row of `x` (rows × features, `NaN` = missing).
    pub fn predict_proba_matrix(&self, x: ArrayView2<f64>) -> Result<Vec<f64>> {
        if x.ncols() != self.n_features {
            return Err(Error::SchemaMismatch {
                message: format!(
                    "the forest expects {} feature columns but got {}; prepare the data with \
                     the feature pipeline saved with the model",
                    self.n_features,
                    x.ncols()
                ),
            });
        }
        if self.n_features == 0 || self.trees.is_empty() {
            return Err(Error::Artifact {
                message: "the forest has no features or no trees; retrain the model".into(),
            });
        }
        // Rows of a standard-layout array are contiguous, so each is one slice.
        let x = x.as_standard_layout();
        let width = self.n_features;
        let data = x.as_slice().unwrap_or(&[]);
        let n_trees = self.trees.len() as f64;
        // Tree by tree over a block of rows keeps one tree's nodes in cache while it scores the
        // whole block; each row still adds the trees in order, exactly as `predict_proba` does.
        let score_block = |block: &[f64]| -> Vec<f64> {
            let mut acc = vec![0.0; block.len() / width];
            for tree in &self.trees {
                for (a, row) in acc.iter_mut().zip(block.chunks_exact(width)) {
                    *a += tree.predict(row);
                }
            }
            acc.iter().map(|a| a / n_trees).collect()
        };
        let block = PREDICT_BLOCK_ROWS * width;
        #[cfg(feature = "parallel")]
        let blocks: Vec<Vec<f64>> = {
            use rayon::prelude::*;
            data.par_chunks(block).map(score_block).collect()
        };
        #[cfg(not(feature = "parallel"))]
        let blocks: Vec<Vec<f64>> = data.chunks(block).map(score_block).collect();
        let out = blocks.concat();
        Ok(out)
    }

    /// Mean decrease in Gini impurity per feature, normalised to sum to 1 (all zeros when no
    /// tree ever split).
    pub fn feature_importance(&self) -> Vec<f64> {
        let total: f64 = self.impurity_decrease.iter().sum();
        if total > 0.0 {
            self.impurity_decrease.iter().map(|g| g / total).collect()
        } else {
            vec![0.0; self.impurity_decrease.len()]
        }
    }
}

fn clamp_proba(p: f64) -> f64 {
    p.clamp(PROBA_EPSILON, 1.0 - PROBA_EPSILON)
}

/// How well the forest predicts rows it did not train on, from each row's out-of-bag trees.
#[derive(Debug, Clone, Serialize)]
pub struct OobEstimate {
    /// Mean leaf value of the trees that did not see the row; `NaN` (`null` in JSON) for rows
    /// that were in every tree's bootstrap.
    #[serde(serialize_with = "nan_as_null::serialize")]
    pub oob_proba: Vec<f64>,
    /// Share of out-of-bag rows whose probability is on the right side of 0.5 (≥ 0.5 means 1).
    pub accuracy: f64,
    /// Mean log loss over out-of-bag rows, probabilities clamped by [`PROBA_EPSILON`].
    pub log_loss: f64,
    /// Area under the ROC curve over out-of-bag rows (ties count half); `NaN` (`null` in JSON)
    /// when those rows hold only one class.
    #[serde(serialize_with = "nan_as_null_scalar::serialize")]
    pub roc_auc: f64,
}

crate::map_struct!(OobEstimate {
    oob_proba via nan_as_null::Read,
    accuracy,
    log_loss,
    roc_auc via nan_as_null_scalar::Read,
});

impl OobEstimate {
    fn from_sums(sum: &[f64], count: &[u32], y: &[f64]) -> Option<Self> {
        let oob_proba: Vec<f64> = sum
            .iter()
            .zip(count)
            .map(|(s, &c)| if c > 0 { s / c as f64 } else { f64::NAN })
            .collect();
        let scored: Vec<(f64, f64)> = oob_proba
            .iter()
            .zip(y)
            .filter(|(p, _)| !p.is_nan())
            .map(|(p, y)| (*p, *y))
            .collect();
        if scored.is_empty() {
            return None;
        }
        let n = scored.len() as f64;
        let correct = scored
            .iter()
            .filter(|(p, y)| (*p >= 0.5) == (*y > 0.5))
            .count();
        let log_loss = scored
            .iter()
            .map(|(p, y)| {
                let p = clamp_proba(*p);
                -(y * libm::log(p) + (1.0 - y) * libm::log(1.0 - p))
            })
            .sum::<f64>()
            / n;
        Some(OobEstimate {
            oob_proba,
            accuracy: correct as f64 / n,
            log_loss,
            roc_auc: rank_auc(scored),
        })
    }
}

/// ROC AUC by the rank-sum (Mann–Whitney) formula with tied scores given their mean rank.
fn rank_auc(mut scored: Vec<(f64, f64)>) -> f64 {
    scored.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let n_pos = scored.iter().filter(|(_, y)| *y > 0.5).count() as f64;
    let n_neg = scored.len() as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return f64::NAN;
    }
    let mut pos_rank_sum = 0.0;
    let mut i = 0;
    while i < scored.len() {
        let mut j = i;
        while j < scored.len() && scored[j].0 == scored[i].0 {
            j += 1;
        }
        // Ranks are 1-based: rows i..j share the mean of ranks i+1..=j.
        let mean_rank = (i + 1 + j) as f64 / 2.0;
        let pos_in_tie = scored[i..j].iter().filter(|(_, y)| *y > 0.5).count();
        pos_rank_sum += mean_rank * pos_in_tie as f64;
        i = j;
    }
    (pos_rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg)
}

/// Serde for `Vec<f64>` that writes `NaN` as `null` and reads it back, because JSON has no NaN.
mod nan_as_null {
    use alloc::vec::Vec;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|x| if x.is_nan() { None } else { Some(*x) }))
    }

    /// A list read with `null` as `NaN`.
    pub struct Read(pub Vec<f64>);

    impl<'de> Deserialize<'de> for Read {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let v = Vec::<Option<f64>>::deserialize(d)?;
            Ok(Read(v.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect()))
        }
    }
}

/// The scalar twin of [`nan_as_null`].
mod nan_as_null_scalar {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        (if x.is_nan() { None } else { Some(*x) }).serialize(s)
    }

    /// A number read with `null` as `NaN`.
    pub struct Read(pub f64);

    impl<'de> Deserialize<'de> for Read {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            Ok(Read(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN)))
        }
    }
}

/// Row count, weight and positive weight of a set of rows.
#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    n: usize,
    w: f64,
    wp: f64,
}

impl Stats {
    fn add(self, o: Stats) -> Stats {
        Stats {
            n: self.n + o.n,
            w: self.w + o.w,
            wp: self.wp + o.wp,
        }
    }

    fn sub(self, o: Stats) -> Stats {
        Stats {
            n: self.n - o.n,
            w: self.w - o.w,
            wp: self.wp - o.wp,
        }
    }

    /// Half the weighted Gini impurity, `w · p(1-p)`: the constant factor 2 does not change
    /// which split is best, so it is applied only to reported gains.
    fn impurity(self) -> f64 {
        if self.w > 0.0 {
            (self.wp * (self.w - self.wp) / self.w).max(0.0)
        } else {
            0.0
        }
    }
}

/// A non-empty value bin of one feature within a node.
#[derive(Debug, Clone, Copy)]
struct BinStat {
    bin: u8,
    stats: Stats,
}

#[derive(Debug, Clone, Copy)]
struct Split {
    feature: usize,
    bin: u8,
    default_left: bool,
    score: f64,
}

/// Everything trees share: the binned data, labels, weights and settings.
struct Grower<'a> {
    binned: &'a BinnedMatrix,
    mapper: &'a BinMapper,
    y: &'a [f64],
    weights: &'a [f64],
    params: &'a ForestParams,
    mtry: usize,
    /// Weighted churn rate of the training set: the value of a node whose rows all weigh 0.
    prior: f64,
}

/// One grown tree with its importance shares and its out-of-bag `(row, leaf value)` pairs.
struct Grown {
    tree: Tree,
    impurity_decrease: Vec<f64>,
    oob: Vec<(u32, f64)>,
}

/// An in-bag row with its weight in this tree and weight × label. Kept together so the hot
/// loops read weights sequentially as they walk a node's rows.
#[derive(Debug, Clone, Copy)]
struct Entry {
    row: u32,
    w: f64,
    wp: f64,
}

/// A node waiting to be split: its rows are `rows[lo..hi]`, its out-of-bag rows `oob[olo..ohi]`.
struct Task {
    node: usize,
    lo: usize,
    hi: usize,
    olo: usize,
    ohi: usize,
    depth: usize,
    stats: Stats,
}

/// Per-tree buffers reused across nodes.
struct Scratch {
    features: Vec<usize>,
    hist: [Stats; 256],
    bins: Vec<BinStat>,
    missing: Stats,
    pairs: Vec<(u8, u32)>,
}

fn sum_stats(rows: &[Entry]) -> Stats {
    rows.iter().fold(Stats::default(), |acc, e| {
        acc.add(Stats {
            n: 1,
            w: e.w,
            wp: e.wp,
        })
    })
}

/// Draws `n` rows with replacement; entry `r` is how often row `r` was drawn.
fn bootstrap_counts(rng: &mut Rng, n: usize) -> Vec<u32> {
    let mut counts = vec![0u32; n];
    for _ in 0..n {
        counts[rng.below(n)] += 1;
    }
    counts
}

/// Moves items for which `goes_left` holds to the front; returns how many there are.
fn partition<T>(items: &mut [T], goes_left: impl Fn(&T) -> bool) -> usize {
    let mut i = 0;
    for j in 0..items.len() {
        if goes_left(&items[j]) {
            items.swap(i, j);
            i += 1;
        }
    }
    i
}

impl Grower<'_> {
    fn grow(&self, mut rng: Rng) -> Grown {
        let n = self.binned.n_rows();
        // Bootstrap multiplicity folds into the weight, so a row drawn twice counts twice in
        // every sum but once in row counts.
        let mut rows: Vec<Entry> = Vec::with_capacity(n);
        let mut oob: Vec<u32> = Vec::new();
        let counts = if self.params.bootstrap {
            bootstrap_counts(&mut rng, n)
        } else {
            vec![1; n]
        };
        for (r, &c) in counts.iter().enumerate() {
            if c > 0 {
                let w = c as f64 * self.weights[r];
                rows.push(Entry {
                    row: r as u32,
                    w,
                    wp: w * self.y[r],
                });
            } else {
                oob.push(r as u32);
            }
        }

        let root = sum_stats(&rows);
        let mut tree = Tree::leaf(self.value(root), root.w);
        let mut impurity_decrease = vec![0.0; self.binned.n_features()];
        let mut oob_out = Vec::with_capacity(oob.len());
        let mut scratch = Scratch {
            features: (0..self.binned.n_features()).collect(),
            hist: [Stats::default(); 256],
            bins: Vec::new(),
            missing: Stats::default(),
            pairs: Vec::new(),
        };
        let mut stack = vec![Task {
            node: 0,
            lo: 0,
            hi: rows.len(),
            olo: 0,
            ohi: oob.len(),
            depth: 0,
            stats: root,
        }];
        while let Some(t) = stack.pop() {
            let split = if self.can_split(&t) {
                self.best_split(&rows[t.lo..t.hi], t.stats, &mut rng, &mut scratch)
            } else {
                None
            };
            let Some(s) = split else {
                let v = self.value(t.stats);
                oob_out.extend(oob[t.olo..t.ohi].iter().map(|&r| (r, v)));
                continue;
            };
            let col = self.binned.column(s.feature);
            let missing = self.mapper.missing_bin(s.feature);
            let goes_left = |r: u32| {
                let b = col[r as usize];
                if b == missing {
                    s.default_left
                } else {
                    b <= s.bin
                }
            };
            let mid = t.lo + partition(&mut rows[t.lo..t.hi], |e| goes_left(e.row));
            let omid = t.olo + partition(&mut oob[t.olo..t.ohi], |&r| goes_left(r));
            // Exact sums over the partitioned rows (rather than histogram differences) keep
            // covers consistent and purity tests exact.
            let left = sum_stats(&rows[t.lo..mid]);
            let right = sum_stats(&rows[mid..t.hi]);
            impurity_decrease[s.feature] +=
                2.0 * (t.stats.impurity() - left.impurity() - right.impurity()).max(0.0);
            let (l, r) = tree.split(
                t.node,
                s.feature,
                self.mapper.threshold(s.feature, s.bin),
                s.default_left,
                (self.value(left), left.w),
                (self.value(right), right.w),
            );
            let depth = t.depth + 1;
            stack.push(Task {
                node: r,
                lo: mid,
                hi: t.hi,
                olo: omid,
                ohi: t.ohi,
                depth,
                stats: right,
            });
            stack.push(Task {
                node: l,
                lo: t.lo,
                hi: mid,
                olo: t.olo,
                ohi: omid,
                depth,
                stats: left,
            });
        }

        let total: f64 = impurity_decrease.iter().sum();
        if total > 0.0 {
            for g in &mut impurity_decrease {
                *g /= total;
            }
        }
        Grown {
            tree: canonical(&tree),
            impurity_decrease,
            oob: oob_out,
        }
    }

    fn value(&self, s: Stats) -> f64 {
        if s.w > 0.0 {
            s.wp / s.w
        } else {
            self.prior
        }
    }

    fn can_split(&self, t: &Task) -> bool {
        let p = self.params;
        t.stats.n >= p.min_samples_split
            && t.stats.n >= 2 * p.min_samples_leaf
            && p.max_depth.is_none_or(|d| t.depth < d)
            && t.stats.wp > 0.0
            && t.stats.wp < t.stats.w
    }

    /// Tries features in a fresh random order until `mtry` of them are non-constant in the
    /// node (constant ones do not use up the budget, so a node with any varying feature left
    /// can still split), and returns the split with the lowest child impurity.
    fn best_split(
        &self,
        rows: &[Entry],
        total: Stats,
        rng: &mut Rng,
        scratch: &mut Scratch,
    ) -> Option<Split> {
        let p = scratch.features.len();
        let mut tried = 0;
        let mut best: Option<Split> = None;
        for i in 0..p {
            if tried == self.mtry {
                break;
            }
            let j = i + rng.below(p - i);
            scratch.features.swap(i, j);
            let f = scratch.features[i];
            self.bin_stats(f, rows, scratch);
            if scratch.bins.len() + usize::from(scratch.missing.n > 0) < 2 {
                continue;
            }
            tried += 1;
            self.scan(f, total, scratch, &mut best);
        }
        best
    }

    /// Fills `scratch.bins` with feature `f`'s non-empty value bins in the node (ascending) and
    /// `scratch.missing` with its missing rows.
    fn bin_stats(&self, f: usize, rows: &[Entry], scratch: &mut Scratch) {
        let col = self.binned.column(f);
        let n_bins = self.mapper.n_bins(f);
        let missing_bin = self.mapper.missing_bin(f);
        scratch.bins.clear();
        scratch.missing = Stats::default();
        // Small deep nodes: sorting a few rows beats clearing and scanning a 256-bin histogram.
        if rows.len() * 4 < n_bins {
            scratch.pairs.clear();
            scratch.pairs.extend(
                rows.iter()
                    .enumerate()
                    .map(|(i, e)| (col[e.row as usize], i as u32)),
            );
            scratch.pairs.sort_unstable();
            for &(b, i) in &scratch.pairs {
                let e = rows[i as usize];
                let s = Stats {
                    n: 1,
                    w: e.w,
                    wp: e.wp,
                };
                if b == missing_bin {
                    scratch.missing = scratch.missing.add(s);
                } else {
                    match scratch.bins.last_mut() {
                        Some(last) if last.bin == b => last.stats = last.stats.add(s),
                        _ => scratch.bins.push(BinStat { bin: b, stats: s }),
                    }
                }
            }
            return;
        }
        let hist = &mut scratch.hist;
        hist[..=n_bins].fill(Stats::default());
        for e in rows {
            let h = &mut hist[col[e.row as usize] as usize];
            h.n += 1;
            h.w += e.w;
            h.wp += e.wp;
        }
        scratch.bins.extend(
            hist[..n_bins]
                .iter()
                .enumerate()
                .filter(|(_, s)| s.n > 0)
                .map(|(b, s)| BinStat {
                    bin: b as u8,
                    stats: *s,
                }),
        );
        scratch.missing = hist[n_bins];
    }

    /// Scores every "bin <= b" split of feature `f`, sending missing rows left and right, and
    /// updates `best`.
    fn scan(&self, f: usize, total: Stats, scratch: &Scratch, best: &mut Option<Split>) {
        let min_leaf = self.params.min_samples_leaf;
        let miss = scratch.missing;
        let bins = &scratch.bins;
        let mut consider = |left: Stats, bin: u8, default_left: bool| {
            let right = total.sub(left);
            if left.n < min_leaf || right.n < min_leaf || left.w <= 0.0 || right.w <= 0.0 {
                return;
            }
            let score = left.impurity() + right.impurity();
            if best.is_none_or(|b| score < b.score) {
                *best = Some(Split {
                    feature: f,
                    bin,
                    default_left,
                    score,
                });
            }
        };
        let mut left = Stats::default();
        for (k, b) in bins.iter().enumerate() {
            left = left.add(b.stats);
            let last = k + 1 == bins.len();
            if miss.n == 0 {
                if !last {
                    // No missing rows here to learn from: send future ones to the heavier side.
                    let heavier_left = left.w >= total.w - left.w;
                    consider(left, b.bin, heavier_left);
                }
            } else {
                consider(left, b.bin, false);
                if !last {
                    consider(left.add(miss), b.bin, true);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Recorder;
    use crate::rng::Rng;
    use ndarray::Array2;
    use proptest::prelude::*;

    /// `y = 1` when `x0 · x1 + noise > 0`: no single feature predicts it, only their interaction.
    /// Columns after the first two are pure noise.
    fn interaction(n: usize, n_features: usize, seed: u64) -> (Array2<f64>, Vec<f64>) {
        let mut rng = Rng::new(seed);
        let x = Array2::from_shape_fn((n, n_features), |_| rng.normal());
        let y = (0..n)
            .map(|r| {
                let z = x[[r, 0]] * x[[r, 1]] + 0.3 * rng.normal();
                if z > 0.0 {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        (x, y)
    }

    fn auc_of(model: &ForestModel, x: &Array2<f64>, y: &[f64]) -> f64 {
        let p = model.predict_proba_matrix(x.view()).unwrap();
        rank_auc(p.into_iter().zip(y.iter().copied()).collect())
    }

    fn small() -> ForestParams {
        ForestParams::default().with_n_trees(60)
    }

    #[test]
    fn batch_scoring_by_threshold_rank_equals_predict_proba_bit_for_bit() {
        use crate::model::family::Model;
        let (mut x, y) = interaction(800, 5, 9);
        // Missing values in training and scoring rows, so both missing directions are used.
        for r in (0..800).step_by(7) {
            x[[r, r % 5]] = f64::NAN;
        }
        let model = Model::Forest(small().fit(x.view(), &y, None).unwrap());
        let packed = model.pack();
        let Some(ranked) = packed.as_ref() else {
            panic!("a forest packs");
        };
        // Rows sitting exactly on split thresholds as well as between them.
        let Model::Forest(forest) = &model else {
            unreachable!()
        };
        let mut block: Vec<f64> = x.iter().copied().collect();
        for (i, t) in forest.trees.iter().flat_map(|t| &t.threshold).enumerate() {
            if i < 800 {
                block[i * 5 + i % 5] = *t;
            }
        }
        let mut out = vec![0.0; 800];
        model.predict_proba_block_packed(Some(ranked), &block, &mut out);
        for (r, (o, row)) in out.iter().zip(block.chunks_exact(5)).enumerate() {
            let expected = model.predict_proba(row).to_bits();
            assert_eq!(o.to_bits(), expected, "row {r}");
            // The single-row path walks the same (and only) ranked layout; short rows read
            // their missing features as missing.
            let single = model.predict_proba_packed(Some(ranked), row);
            assert_eq!(single.to_bits(), expected, "row {r}");
            let short = model.predict_proba_packed(Some(ranked), &row[..3]);
            assert_eq!(
                short.to_bits(),
                model
                    .predict_proba(&[row[0], row[1], row[2], f64::NAN, f64::NAN])
                    .to_bits(),
                "row {r}"
            );
        }
    }

    #[test]
    fn progress_reports_every_batch_and_changes_nothing() {
        let (x, y) = interaction(1000, 4, 1);
        let params = ForestParams::default().with_n_trees(24);
        let mut rec = Recorder::never_stopping();
        let model = params
            .fit_with_progress(x.view(), &y, None, &mut Reporter::new(&mut rec))
            .unwrap();
        rec.assert_complete();
        assert_eq!(
            rec.fractions.len(),
            1 + 24_usize.div_ceil(trees_per_batch())
        );
        let silent = params.fit(x.view(), &y, None).unwrap();
        assert_eq!(
            serde_json::to_string(&model).unwrap(),
            serde_json::to_string(&silent).unwrap()
        );
    }

    #[test]
    fn a_fit_cancelled_at_half_stops_within_a_batch_of_trees() {
        let (x, y) = interaction(1000, 4, 1);
        let n_trees = 8 * trees_per_batch();
        let params = ForestParams::default().with_n_trees(n_trees);
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
        // Stopped after the batch that reached 50%: 4 of 8 batches grown, no more.
        rec.assert_stopped_within(1e-12);
        assert_eq!(rec.fractions.len(), 1 + 4);
    }

    #[test]
    fn learns_an_interaction_and_oob_tracks_held_out() {
        let (x, y) = interaction(4000, 6, 1);
        let (xt, yt) = interaction(4000, 6, 2);
        let model = small().fit(x.view(), &y, None).unwrap();
        let auc = auc_of(&model, &xt, &yt);
        assert!(auc > 0.9, "held-out AUC {auc}");
        let oob = model.oob.as_ref().unwrap();
        // OOB AUC runs a little low (each row is scored by trees whose bootstrap lacks it,
        // which tilts them to the other class; about 0.03 here), never far off.
        assert!(
            (oob.roc_auc - auc).abs() < 0.05,
            "OOB {} vs {auc}",
            oob.roc_auc
        );
        assert!(oob.accuracy > 0.75 && oob.log_loss < 0.5, "{oob:?}");
        assert!(oob.oob_proba.iter().all(|p| (0.0..=1.0).contains(p)));
        let imp = model.feature_importance();
        assert!((imp.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!(
            imp[0].min(imp[1]) > imp[2..].iter().copied().fold(0.0, f64::max),
            "{imp:?}"
        );
        // Needs more rows than one prediction block to cover block boundaries.
        let matrix = model.predict_proba_matrix(xt.view()).unwrap();
        for r in (0..2000).step_by(37) {
            let row = xt.row(r).to_vec();
            assert_eq!(matrix[r], model.predict_proba(&row));
            let p = clamp_proba(model.predict_proba(&row));
            assert!((model.predict_raw(&row) - libm::log(p / (1.0 - p))).abs() < 1e-12);
        }
    }

    #[test]
    fn oob_proba_is_the_mean_of_trees_that_did_not_see_the_row() {
        let (mut x, y) = interaction(400, 4, 15);
        for r in (0..400).step_by(7) {
            x[[r, r % 4]] = f64::NAN;
        }
        let model = small()
            .with_n_trees(12)
            .with_seed(9)
            .fit(x.view(), &y, None)
            .unwrap();
        let oob = model.oob.unwrap();
        let master = Rng::new(9);
        let mut sum = vec![0.0; 400];
        let mut count = vec![0u32; 400];
        for (t, tree) in model.trees.iter().enumerate() {
            let bag = bootstrap_counts(&mut master.fork(t as u64), 400);
            for r in (0..400).filter(|&r| bag[r] == 0) {
                sum[r] += tree.predict(&x.row(r).to_vec());
                count[r] += 1;
            }
        }
        for r in 0..400 {
            if count[r] == 0 {
                assert!(oob.oob_proba[r].is_nan());
            } else {
                assert_eq!(oob.oob_proba[r], sum[r] / count[r] as f64, "row {r}");
            }
        }
    }

    #[test]
    fn missing_values_learn_their_own_direction() {
        // x0 decides the label; when x0 is missing the row is almost always a churner, which
        // only a learned missing direction can capture.
        let mut rng = Rng::new(5);
        let n = 1500;
        let mut x = Array2::from_shape_fn((n, 3), |_| rng.normal());
        let mut y = vec![0.0; n];
        for r in 0..n {
            if rng.chance(0.3) {
                x[[r, 0]] = f64::NAN;
                y[r] = if rng.chance(0.9) { 1.0 } else { 0.0 };
            } else {
                y[r] = if x[[r, 0]] > 0.0 { 1.0 } else { 0.0 };
            }
        }
        let model = small().fit(x.view(), &y, None).unwrap();
        let p_missing = model.predict_proba(&[f64::NAN, 0.0, 0.0]);
        let p_low = model.predict_proba(&[-2.0, 0.0, 0.0]);
        let p_high = model.predict_proba(&[2.0, 0.0, 0.0]);
        assert!(p_missing > 0.7, "{p_missing}");
        assert!(p_low < 0.15 && p_high > 0.85, "{p_low} {p_high}");
        let all_missing = model.predict_proba(&[f64::NAN; 3]);
        assert!((0.0..=1.0).contains(&all_missing));
        assert!(model.predict_raw(&[f64::NAN; 3]).is_finite());
    }

    #[test]
    fn same_seed_same_forest_other_seed_other_forest() {
        let (x, y) = interaction(400, 4, 3);
        let params = small().with_n_trees(20);
        let a = params.fit(x.view(), &y, None).unwrap();
        let b = params.fit(x.view(), &y, None).unwrap();
        let c = params.clone().with_seed(7).fit(x.view(), &y, None).unwrap();
        let json = |m: &ForestModel| serde_json::to_string(m).unwrap();
        assert_eq!(json(&a), json(&b));
        assert_ne!(json(&a), json(&c));
        let pa = a.predict_proba_matrix(x.view()).unwrap();
        let pc = c.predict_proba_matrix(x.view()).unwrap();
        assert!(pa.iter().zip(&pc).any(|(p, q)| p != q));
    }

    #[test]
    fn class_weighting_raises_positive_probabilities() {
        // About 15% churners; probabilities are compared on held-out rows, where leaves built
        // with heavier churners must show it.
        let rare = |n, seed| {
            let (x, y) = interaction(n, 4, seed);
            let y: Vec<f64> = (0..n)
                .map(|r| {
                    if y[r] > 0.5 && x[[r, 2]] > 0.0 {
                        1.0
                    } else {
                        0.0
                    }
                })
                .collect();
            (x, y)
        };
        // Pure leaves ignore weights, so leaves of at least 10 rows show the effect clearly.
        let leafy = || small().with_min_samples_leaf(10);
        let (x, y) = rare(1500, 4);
        let (xt, _) = rare(1000, 5);
        let mean = |m: &ForestModel| {
            let p = m.predict_proba_matrix(xt.view()).unwrap();
            p.iter().sum::<f64>() / p.len() as f64
        };
        let plain = mean(&leafy().fit(x.view(), &y, None).unwrap());
        let balanced = mean(
            &leafy()
                .with_balanced_class_weight(true)
                .fit(x.view(), &y, None)
                .unwrap(),
        );
        let w: Vec<f64> = y.iter().map(|&v| if v > 0.5 { 4.0 } else { 1.0 }).collect();
        let weighted = mean(&leafy().fit(x.view(), &y, Some(&w)).unwrap());
        assert!(balanced > plain + 0.05, "{balanced} vs {plain}");
        assert!(weighted > plain + 0.05, "{weighted} vs {plain}");
    }

    #[test]
    fn invalid_inputs_are_errors() {
        let (x, y) = interaction(50, 3, 6);
        let p = ForestParams::default().with_n_trees(2);
        let fit = |p: &ForestParams, x: ArrayView2<f64>, y: &[f64], w: Option<&[f64]>| {
            p.fit(x, y, w).is_err()
        };
        assert!(fit(&p, x.view(), &y[..49], None));
        assert!(fit(&p, x.view(), &vec![0.0; 50], None), "one class");
        let mut y2 = y.clone();
        y2[3] = 2.0;
        assert!(fit(&p, x.view(), &y2, None), "label not 0/1");
        assert!(fit(&p, x.view(), &y, Some(&[1.0; 49])));
        let mut w = vec![1.0; 50];
        w[1] = -1.0;
        assert!(fit(&p, x.view(), &y, Some(&w)));
        w[1] = f64::NAN;
        assert!(fit(&p, x.view(), &y, Some(&w)));
        let mut xi = x.clone();
        xi[[4, 1]] = f64::INFINITY;
        assert_eq!(
            p.fit(xi.view(), &y, None).unwrap_err(),
            Error::BadValue {
                row: 5,
                column: "feature 1".into(),
                value: "inf".into(),
                expected: "finite number (or empty for missing)".into(),
            }
        );
        assert!(fit(&p, Array2::<f64>::zeros((0, 3)).view(), &[], None));
        assert!(fit(&p, Array2::<f64>::zeros((50, 0)).view(), &y, None));
        for bad in [
            p.clone().with_n_trees(0),
            p.clone().with_min_samples_leaf(0),
            p.clone().with_min_samples_split(1),
            p.clone().with_max_bins(1),
            p.clone().with_max_bins(300),
            p.clone().with_max_features(MaxFeatures::Fraction(0.0)),
            p.clone().with_max_features(MaxFeatures::Fraction(f64::NAN)),
            p.clone().with_max_features(MaxFeatures::Count(0)),
            p.clone().with_max_features(MaxFeatures::Count(4)),
        ] {
            assert!(fit(&bad, x.view(), &y, None), "{bad:?}");
        }
        let model = p.fit(x.view(), &y, None).unwrap();
        assert!(model
            .predict_proba_matrix(Array2::<f64>::zeros((2, 4)).view())
            .is_err());
    }

    #[test]
    fn serde_round_trip_keeps_predictions_and_missing_oob() {
        let (mut x, y) = interaction(300, 4, 8);
        x[[0, 0]] = f64::NAN;
        // Three trees leave some rows in every bootstrap, so their OOB value is NaN.
        let model = small().with_n_trees(3).fit(x.view(), &y, None).unwrap();
        let oob = model.oob.as_ref().unwrap();
        assert!(oob.oob_proba.iter().any(|p| p.is_nan()));
        let json = serde_json::to_string(&model).unwrap();
        let back: ForestModel = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
        let (xt, _) = interaction(200, 4, 9);
        assert_eq!(
            model.predict_proba_matrix(xt.view()).unwrap(),
            back.predict_proba_matrix(xt.view()).unwrap()
        );
        let back_oob = back.oob.unwrap();
        for (a, b) in oob.oob_proba.iter().zip(&back_oob.oob_proba) {
            assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()));
        }
        assert_eq!(oob.roc_auc, back_oob.roc_auc);
    }

    #[test]
    fn an_oob_estimate_reads_null_as_nan_and_names_a_missing_field() {
        use alloc::string::ToString;
        let json = r#"{"oob_proba":[0.25,null],"accuracy":1.0,"log_loss":0.5,"roc_auc":null}"#;
        let oob: OobEstimate = serde_json::from_str(json).unwrap();
        assert_eq!(oob.oob_proba[0], 0.25);
        assert!(oob.oob_proba[1].is_nan() && oob.roc_auc.is_nan());
        assert_eq!(serde_json::to_string(&oob).unwrap(), json);
        let e =
            serde_json::from_str::<OobEstimate>(r#"{"accuracy":1.0,"log_loss":0.5}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "missing field `oob_proba` at line 1 column 31"
        );
        let e = serde_json::from_str::<OobEstimate>(r#"{"oob_proba":"x"}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid type: string \"x\", expected a sequence at line 1 column 16"
        );
    }

    #[test]
    fn covers_add_up_to_the_bootstrap_weight() {
        let (x, y) = interaction(500, 4, 10);
        let w: Vec<f64> = (0..500).map(|r| 0.5 + (r % 3) as f64).collect();
        let params = small().with_n_trees(8).with_max_depth(Some(6)).with_seed(3);
        let model = params.fit(x.view(), &y, Some(&w)).unwrap();
        let master = Rng::new(3);
        for (t, tree) in model.trees.iter().enumerate() {
            let counts = bootstrap_counts(&mut master.fork(t as u64), 500);
            let expected: f64 = counts.iter().zip(&w).map(|(&c, w)| c as f64 * w).sum();
            let leaves: f64 = (0..tree.n_nodes())
                .filter(|&n| tree.is_leaf(n))
                .map(|n| tree.cover[n])
                .sum();
            assert!(
                (leaves - expected).abs() < 1e-9 * expected,
                "{leaves} {expected}"
            );
            assert!((tree.cover[0] - expected).abs() < 1e-9 * expected);
            assert!(tree.depth() <= 6);
            for n in (0..tree.n_nodes()).filter(|&n| !tree.is_leaf(n)) {
                let (l, r) = (tree.left[n] as usize, tree.right[n] as usize);
                assert!((tree.cover[l] + tree.cover[r] - tree.cover[n]).abs() < 1e-9 * expected);
            }
        }
    }

    #[test]
    fn without_bootstrap_there_is_no_oob_and_trees_fit_the_training_set() {
        let (x, y) = interaction(300, 3, 11);
        let model = small()
            .with_n_trees(5)
            .with_bootstrap(false)
            .with_max_features(MaxFeatures::All)
            .with_min_samples_leaf(1)
            .fit(x.view(), &y, None)
            .unwrap();
        assert!(model.oob.is_none());
        // All rows, all features and leaves of one row: each tree fits the training labels up
        // to rows that share every bin.
        let p = model.predict_proba_matrix(x.view()).unwrap();
        let correct = p
            .iter()
            .zip(&y)
            .filter(|(p, y)| (**p >= 0.5) == (**y > 0.5))
            .count();
        assert!(correct >= 295, "{correct}");
    }

    #[test]
    fn close_to_smartcore_on_the_same_data() {
        use smartcore::ensemble::random_forest_classifier::{
            RandomForestClassifier, RandomForestClassifierParameters,
        };
        use smartcore::linalg::basic::matrix::DenseMatrix;
        let (x, y) = interaction(1500, 5, 12);
        let (xt, yt) = interaction(1500, 5, 13);
        let to_dense = |x: &Array2<f64>| {
            let rows: Vec<Vec<f64>> = x.outer_iter().map(|r| r.to_vec()).collect();
            DenseMatrix::from_2d_vec(&rows).unwrap()
        };
        let yi: Vec<i32> = y.iter().map(|&v| v as i32).collect();
        let sc_params = RandomForestClassifierParameters::default()
            .with_n_trees(60)
            .with_seed(1);
        let sc: RandomForestClassifier<f64, i32, DenseMatrix<f64>, Vec<i32>> =
            RandomForestClassifier::fit(&to_dense(&x), &yi, sc_params).unwrap();
        let sc_pred = sc.predict(&to_dense(&xt)).unwrap();
        let sc_acc = sc_pred
            .iter()
            .zip(&yt)
            .filter(|(p, y)| **p == **y as i32)
            .count() as f64
            / yt.len() as f64;
        let ours = small().fit(x.view(), &y, None).unwrap();
        let p = ours.predict_proba_matrix(xt.view()).unwrap();
        let acc = p
            .iter()
            .zip(&yt)
            .filter(|(p, y)| (**p >= 0.5) == (**y > 0.5))
            .count() as f64
            / yt.len() as f64;
        assert!((acc - sc_acc).abs() < 0.04, "ours {acc} smartcore {sc_acc}");
    }

    #[cfg(feature = "parallel")]
    #[test]
    fn thread_count_does_not_change_the_model() {
        let (x, y) = interaction(600, 5, 14);
        let params = small().with_n_trees(40);
        let fit = || serde_json::to_string(&params.fit(x.view(), &y, None).unwrap()).unwrap();
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(fit);
        let many = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap()
            .install(fit);
        assert_eq!(one, many);
        assert_eq!(one, fit());
    }

    proptest! {
        /// The rank formula equals the pairwise definition, ties counting half.
        #[test]
        fn rank_auc_matches_pairwise_count(
            pairs in prop::collection::vec((0u8..6, prop::bool::ANY), 2..60)
        ) {
            let scored: Vec<(f64, f64)> =
                pairs.iter().map(|&(s, y)| (s as f64, if y { 1.0 } else { 0.0 })).collect();
            let mut wins = 0.0;
            let mut total = 0.0;
            for a in scored.iter().filter(|p| p.1 > 0.5) {
                for b in scored.iter().filter(|p| p.1 < 0.5) {
                    total += 1.0;
                    wins += if a.0 > b.0 { 1.0 } else if a.0 == b.0 { 0.5 } else { 0.0 };
                }
            }
            let auc = rank_auc(scored);
            if total == 0.0 {
                prop_assert!(auc.is_nan());
            } else {
                prop_assert!((auc - wins / total).abs() < 1e-12);
            }
        }
    }
}
