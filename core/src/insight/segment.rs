//! Customer segments ("personas"): k-means++ clusters of customers on standardised inputs, each
//! described by its size, mean churn risk, mean value and the inputs that set it apart.
//!
//! # Feature space
//!
//! [`FeatureSpace::fit`] builds one matrix from the model's raw input columns, independent of
//! the model family: numeric, boolean and date columns (dates as ages in days, as the model
//! reads them) are mean-imputed and standardised to mean 0 and standard deviation 1 over the
//! data given; categorical columns with at most [`SegmentParams::max_one_hot_levels`] training
//! levels become one 0/1 column per level (a level outside them sets none). Constant columns
//! and categorical columns with more levels are left out and listed in `skipped_columns`.
//!
//! # Clustering
//!
//! [`KMeansParams::fit`] is Lloyd's algorithm started from k-means++ seeds (the first centre
//! uniformly at random, each next one with probability proportional to the squared distance
//! to the nearest centre chosen so far), restarted [`KMeansParams::n_init`] times with forked
//! seeds, keeping the lowest inertia (sum of squared distances to the assigned centre). A
//! cluster left empty is moved to the point farthest from its centre.
//!
//! Without a fixed `k`, every `k` in `min_k..=max_k` is fitted on a seeded sample of at most
//! [`SegmentParams::sample_size`] rows and scored by the mean silhouette on that sample
//! (`(b - a) / max(a, b)` per row, with `a` the mean distance to its own cluster and `b` the
//! smallest mean distance to another cluster; 0 for a row alone in its cluster); the best `k`
//! (the smallest on ties) is then fitted on all rows.
//!
//! # Description
//!
//! Segments are numbered by falling mean risk. For each segment and feature, the standardised
//! mean difference is `(segment mean - overall mean) / overall standard deviation` of the
//! feature's column in the matrix; the [`SegmentParams::top_features`] largest in absolute value
//! describe the segment, with means in the column's own units (shares for a level).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::data::table::Table;
use crate::error::{Error, Result};
use crate::features::{categorical_levels, level_text, numeric_value, Encoder, FittedPipeline};
use crate::rng::Rng;

/// Settings of k-means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KMeansParams {
    /// Number of clusters.
    pub k: usize,
    /// Most Lloyd iterations per start (default 100).
    pub max_iter: usize,
    /// k-means++ restarts; the lowest inertia wins (default 4).
    pub n_init: usize,
    /// Seed of the k-means++ draws.
    pub seed: u64,
}

impl KMeansParams {
    /// `k` clusters with the default iteration and restart counts.
    pub fn new(k: usize) -> Self {
        KMeansParams {
            k,
            max_iter: 100,
            n_init: 4,
            seed: 0,
        }
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the most iterations per start.
    pub fn with_max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// Sets the number of restarts.
    pub fn with_n_init(mut self, n_init: usize) -> Self {
        self.n_init = n_init;
        self
    }

    /// Clusters the rows of `x` (no missing values). Returns the fitted centres and each row's
    /// cluster.
    pub fn fit(&self, x: ArrayView2<f64>) -> Result<(KMeans, Vec<usize>)> {
        let n = x.nrows();
        if self.k == 0 || self.k > n {
            return Err(Error::InvalidParameter {
                name: "k".into(),
                message: format!(
                    "k must be between 1 and the number of rows ({n}), got {}",
                    self.k
                ),
            });
        }
        if self.n_init == 0 || self.max_iter == 0 {
            return Err(Error::InvalidParameter {
                name: "n_init".into(),
                message: "k-means needs at least one start and one iteration".to_string(),
            });
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "x".into(),
                message: "k-means needs finite values: impute missing values first".to_string(),
            });
        }
        let x = x.as_standard_layout();
        let rows: Vec<&[f64]> = x.rows().into_iter().filter_map(|r| r.to_slice()).collect();
        let root = Rng::new(self.seed);
        let mut best: Option<(KMeans, Vec<usize>)> = None;
        for start in 0..self.n_init {
            let mut rng = root.fork(start as u64);
            let fitted = lloyd(&rows, x.ncols(), self.k, self.max_iter, &mut rng);
            if best
                .as_ref()
                .is_none_or(|(b, _)| fitted.0.inertia < b.inertia)
            {
                best = Some(fitted);
            }
        }
        best.ok_or_else(|| Error::InvalidParameter {
            name: "n_init".into(),
            message: "k-means needs at least one start".to_string(),
        })
    }
}

/// Fitted k-means centres.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KMeans {
    /// Centres, one row per cluster.
    #[serde(with = "matrix")]
    pub centroids: Array2<f64>,
    /// Sum of squared distances of the rows to their centres.
    pub inertia: f64,
    /// Lloyd iterations of the kept start.
    pub iterations: usize,
}

impl KMeans {
    /// The cluster of the nearest centre to `row` (ties go to the lower cluster number).
    pub fn predict(&self, row: &[f64]) -> usize {
        nearest(&self.centroids, row).0
    }
}

/// Serde for a centroid matrix as its rows (`[[f64]]`): ndarray's own serde support is not
/// built into this crate.
mod matrix {
    use alloc::vec::Vec;
    use ndarray::Array2;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(m: &Array2<f64>, s: S) -> Result<S::Ok, S::Error> {
        let rows: Vec<Vec<f64>> = m.rows().into_iter().map(|r| r.to_vec()).collect();
        rows.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Array2<f64>, D::Error> {
        let rows = Vec::<Vec<f64>>::deserialize(d)?;
        let cols = rows.first().map_or(0, Vec::len);
        if rows.iter().any(|r| r.len() != cols) {
            return Err(D::Error::custom("centroid rows differ in length"));
        }
        let n = rows.len();
        Array2::from_shape_vec((n, cols), rows.concat()).map_err(D::Error::custom)
    }
}

fn squared_distance(a: &[f64], b: impl IntoIterator<Item = f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

fn nearest(centroids: &Array2<f64>, row: &[f64]) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (c, centre) in centroids.rows().into_iter().enumerate() {
        let d = squared_distance(row, centre.iter().copied());
        if d < best.1 {
            best = (c, d);
        }
    }
    best
}

fn lloyd(
    rows: &[&[f64]],
    d: usize,
    k: usize,
    max_iter: usize,
    rng: &mut Rng,
) -> (KMeans, Vec<usize>) {
    let n = rows.len();
    let mut centroids = Array2::<f64>::zeros((k, d));
    // k-means++ seeding.
    let first = rng.below(n);
    centroids
        .row_mut(0)
        .iter_mut()
        .zip(rows[first])
        .for_each(|(c, v)| *c = *v);
    let mut closest: Vec<f64> = rows
        .iter()
        .map(|r| squared_distance(r, centroids.row(0).iter().copied()))
        .collect();
    for c in 1..k {
        let pick = if closest.iter().sum::<f64>() > 0.0 {
            rng.weighted_index(&closest)
        } else {
            rng.below(n)
        };
        centroids
            .row_mut(c)
            .iter_mut()
            .zip(rows[pick])
            .for_each(|(t, v)| *t = *v);
        for (dist, r) in closest.iter_mut().zip(rows) {
            *dist = dist.min(squared_distance(r, centroids.row(c).iter().copied()));
        }
    }
    let mut labels = vec![usize::MAX; n];
    let mut iterations = 0;
    let mut inertia;
    loop {
        iterations += 1;
        let mut changed = false;
        inertia = 0.0;
        let mut distance = vec![0.0; n];
        for (i, r) in rows.iter().enumerate() {
            let (c, dist) = nearest(&centroids, r);
            changed |= labels[i] != c;
            labels[i] = c;
            distance[i] = dist;
            inertia += dist;
        }
        if !changed || iterations > max_iter {
            break;
        }
        let mut sums = Array2::<f64>::zeros((k, d));
        let mut sizes = vec![0usize; k];
        for (r, &c) in rows.iter().zip(&labels) {
            sizes[c] += 1;
            sums.row_mut(c)
                .iter_mut()
                .zip(*r)
                .for_each(|(s, v)| *s += v);
        }
        for (c, &size) in sizes.iter().enumerate() {
            if size == 0 {
                // Move the empty cluster to the worst-served point, which then leaves its cluster.
                let far = (0..n)
                    .max_by(|&a, &b| distance[a].total_cmp(&distance[b]).then(b.cmp(&a)))
                    .unwrap_or(0);
                distance[far] = 0.0;
                centroids
                    .row_mut(c)
                    .iter_mut()
                    .zip(rows[far])
                    .for_each(|(t, v)| *t = *v);
            } else {
                centroids
                    .row_mut(c)
                    .iter_mut()
                    .zip(sums.row(c))
                    .for_each(|(t, s)| *t = s / size as f64);
            }
        }
    }
    (
        KMeans {
            centroids,
            inertia,
            iterations: iterations.min(max_iter),
        },
        labels,
    )
}

/// Mean silhouette of `labels` on the rows of `x` (Euclidean distance). Needs at least two
/// clusters among the labels.
pub fn silhouette(x: ArrayView2<f64>, labels: &[usize]) -> Result<f64> {
    if labels.len() != x.nrows() {
        return Err(Error::InvalidParameter {
            name: "labels".into(),
            message: format!("expected {} labels, got {}", x.nrows(), labels.len()),
        });
    }
    silhouette_of_distances(&distance_matrix(x), labels)
}

/// All pairwise Euclidean distances of the rows of `x`, row-major `n x n`.
fn distance_matrix(x: ArrayView2<f64>) -> Vec<f64> {
    let rows: Vec<Vec<f64>> = x.rows().into_iter().map(|r| r.to_vec()).collect();
    let n = rows.len();
    let mut distances = vec![0.0; n * n];
    for i in 0..n {
        for j in (i + 1)..n {
            let d = libm::sqrt(squared_distance(&rows[i], rows[j].iter().copied()));
            distances[i * n + j] = d;
            distances[j * n + i] = d;
        }
    }
    distances
}

fn silhouette_of_distances(distances: &[f64], labels: &[usize]) -> Result<f64> {
    let n = labels.len();
    let k = labels.iter().max().map_or(0, |m| m + 1);
    let mut sizes = vec![0usize; k];
    labels.iter().for_each(|&l| sizes[l] += 1);
    if sizes.iter().filter(|&&s| s > 0).count() < 2 {
        return Err(Error::InvalidParameter {
            name: "labels".into(),
            message: "the silhouette needs at least two non-empty clusters".to_string(),
        });
    }
    let mut total = 0.0;
    let mut sums = vec![0.0; k];
    for i in 0..n {
        sums.iter_mut().for_each(|s| *s = 0.0);
        for (j, &l) in labels.iter().enumerate() {
            sums[l] += distances[i * n + j];
        }
        let own = labels[i];
        if sizes[own] < 2 {
            continue;
        }
        let a = sums[own] / (sizes[own] - 1) as f64;
        let b = (0..k)
            .filter(|&c| c != own && sizes[c] > 0)
            .map(|c| sums[c] / sizes[c] as f64)
            .fold(f64::INFINITY, f64::min);
        let m = a.max(b);
        if m > 0.0 {
            total += (b - a) / m;
        }
    }
    Ok(total / n as f64)
}

/// How the raw inputs become the clustering matrix (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSpace {
    /// Feature names: the input column, or `column=level` for a level of a categorical one.
    pub names: Vec<String>,
    /// The input column of each feature.
    pub columns: Vec<String>,
    /// Mean of each feature over the data, in the column's units (a share for a level).
    pub means: Vec<f64>,
    /// Standard deviation of each feature over the data, in the column's units.
    pub stds: Vec<f64>,
    /// Whether each feature is standardised (numeric) or a 0/1 level.
    pub standardised: Vec<bool>,
    /// Input columns left out (constant, all missing, or too many levels).
    pub skipped_columns: Vec<String>,
}

/// One feature's raw values before scaling.
enum Raw {
    Number {
        column: String,
        values: Vec<f64>,
    },
    Level {
        column: String,
        level: String,
        values: Vec<f64>,
    },
}

impl FeatureSpace {
    /// Builds the feature space from `table` (which must hold the pipeline's input columns) and
    /// returns it with the matrix (rows of `table` by features).
    pub fn fit(
        pipeline: &FittedPipeline,
        table: &Table,
        max_one_hot_levels: usize,
    ) -> Result<(FeatureSpace, Array2<f64>)> {
        let n = table.n_rows();
        if n == 0 {
            return Err(Error::EmptyInput);
        }
        let indices = pipeline.column_indices(table)?;
        let time_index = pipeline
            .time_column
            .as_deref()
            .and_then(|t| table.column_index(t));
        let snapshots: Vec<f64> = (0..n)
            .map(|r| {
                pipeline
                    .row_snapshot(table, time_index, r)
                    .unwrap_or(pipeline.default_snapshot)
            })
            .collect();
        let mut raws = Vec::new();
        let mut skipped = Vec::new();
        for (input, &col) in pipeline.inputs.iter().zip(&indices) {
            match &input.encoder {
                Encoder::Numeric(_) => {
                    let values: Vec<f64> = (0..n)
                        .map(|r| numeric_value(input.kind, table.value(r, col), snapshots[r]))
                        .collect();
                    raws.push(Raw::Number {
                        column: input.name.clone(),
                        values,
                    });
                }
                Encoder::Categorical(_) => {
                    let levels = categorical_levels(&input.encoder);
                    if levels.len() > max_one_hot_levels || levels.is_empty() {
                        skipped.push(input.name.clone());
                        continue;
                    }
                    let mut scratch = String::new();
                    let of_row: Vec<Option<usize>> = (0..n)
                        .map(|r| {
                            level_text(table.value(r, col), &mut scratch)
                                .and_then(|t| levels.iter().position(|l| l == t))
                        })
                        .collect();
                    for (i, level) in levels.iter().enumerate() {
                        raws.push(Raw::Level {
                            column: input.name.clone(),
                            level: level.clone(),
                            values: of_row.iter().map(|&o| f64::from(o == Some(i))).collect(),
                        });
                    }
                }
            }
        }
        let mut space = FeatureSpace {
            names: Vec::new(),
            columns: Vec::new(),
            means: Vec::new(),
            stds: Vec::new(),
            standardised: Vec::new(),
            skipped_columns: Vec::new(),
        };
        let mut kept: Vec<Vec<f64>> = Vec::new();
        for raw in raws {
            let (name, column, mut values, standardise) = match raw {
                Raw::Number { column, values } => (column.clone(), column, values, true),
                Raw::Level {
                    column,
                    level,
                    values,
                } => (format!("{column}={level}"), column, values, false),
            };
            let present: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
            let mean = present.iter().sum::<f64>() / present.len().max(1) as f64;
            let var = present.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>()
                / present.len().max(1) as f64;
            let std = libm::sqrt(var);
            if present.is_empty() || std <= 0.0 {
                if !space.skipped_columns.contains(&column) && standardise {
                    space.skipped_columns.push(column);
                }
                continue;
            }
            for v in &mut values {
                let filled = if v.is_nan() { mean } else { *v };
                *v = if standardise {
                    (filled - mean) / std
                } else {
                    filled
                };
            }
            space.names.push(name);
            space.columns.push(column);
            space.means.push(mean);
            space.stds.push(std);
            space.standardised.push(standardise);
            kept.push(values);
        }
        space.skipped_columns.extend(skipped);
        if kept.is_empty() {
            return Err(Error::InvalidParameter {
                name: "data".into(),
                message: "no input column varies in this data, so there is nothing to segment on"
                    .to_string(),
            });
        }
        let d = kept.len();
        let x = Array2::from_shape_fn((n, d), |(r, j)| kept[j][r]);
        Ok((space, x))
    }
}

/// Settings of [`segment`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentParams {
    /// A fixed number of segments; `None` chooses it by silhouette.
    pub k: Option<usize>,
    /// Smallest `k` tried (default 2).
    pub min_k: usize,
    /// Largest `k` tried (default 8).
    pub max_k: usize,
    /// Most rows in the silhouette sample (default 2,000).
    pub sample_size: usize,
    /// Categorical columns with more training levels are left out (default 10).
    pub max_one_hot_levels: usize,
    /// Features listed per segment (default 3).
    pub top_features: usize,
    /// Seed of the sample and of k-means++.
    pub seed: u64,
}

impl Default for SegmentParams {
    fn default() -> Self {
        SegmentParams {
            k: None,
            min_k: 2,
            max_k: 8,
            sample_size: 2_000,
            max_one_hot_levels: 10,
            top_features: 3,
            seed: 0,
        }
    }
}

impl SegmentParams {
    /// Fixes the number of segments.
    pub fn with_k(mut self, k: Option<usize>) -> Self {
        self.k = k;
        self
    }

    /// Sets the range of `k` tried.
    pub fn with_k_range(mut self, min_k: usize, max_k: usize) -> Self {
        self.min_k = min_k;
        self.max_k = max_k;
        self
    }

    /// Sets the silhouette sample size.
    pub fn with_sample_size(mut self, size: usize) -> Self {
        self.sample_size = size;
        self
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets how many features describe each segment.
    pub fn with_top_features(mut self, top: usize) -> Self {
        self.top_features = top;
        self
    }

    /// Clusters the rows of a standardised matrix: returns the chosen `k`, the silhouette of
    /// each `k` tried (empty when `k` was fixed), the silhouette of the final clustering on the
    /// sample, and each row's cluster.
    pub fn cluster(&self, x: ArrayView2<f64>) -> Result<Clustering> {
        let n = x.nrows();
        if n < 3 {
            return Err(Error::InvalidParameter {
                name: "data".into(),
                message: format!("segmenting needs at least 3 customers, got {n}"),
            });
        }
        if self.sample_size < 3 {
            return Err(Error::InvalidParameter {
                name: "sample_size".into(),
                message: format!(
                    "the silhouette sample needs at least 3 rows, got {}",
                    self.sample_size
                ),
            });
        }
        let root = Rng::new(self.seed);
        let mut sample: Vec<usize> = (0..n).collect();
        if n > self.sample_size {
            root.fork(0).shuffle(&mut sample);
            sample.truncate(self.sample_size);
            sample.sort_unstable();
        }
        let sx = x.select(ndarray::Axis(0), &sample);
        let m = sample.len();
        let distances = distance_matrix(sx.view());
        let mut by_k = Vec::new();
        let k = match self.k {
            Some(k) => {
                if k < 2 || k > n {
                    return Err(Error::InvalidParameter {
                        name: "k".into(),
                        message: format!(
                            "k must be between 2 and the number of customers ({n}), got {k}"
                        ),
                    });
                }
                k
            }
            None => {
                if self.min_k < 2 || self.min_k > self.max_k {
                    return Err(Error::InvalidParameter {
                        name: "k".into(),
                        message: format!(
                            "the range of k must satisfy 2 <= min <= max, got {}..={}",
                            self.min_k, self.max_k
                        ),
                    });
                }
                let mut best = (self.min_k, f64::NEG_INFINITY);
                for k in self.min_k..=self.max_k.min(m - 1) {
                    let (_, labels) = KMeansParams::new(k)
                        .with_seed(root.fork(k as u64).next_u64())
                        .fit(sx.view())?;
                    let s = silhouette_of_distances(&distances, &labels).unwrap_or(0.0);
                    by_k.push((k, s));
                    if s > best.1 {
                        best = (k, s);
                    }
                }
                best.0
            }
        };
        let (model, labels) = KMeansParams::new(k)
            .with_seed(root.fork(1_000).next_u64())
            .fit(x)?;
        let sample_labels: Vec<usize> = sample.iter().map(|&r| labels[r]).collect();
        let silhouette = silhouette_of_distances(&distances, &sample_labels).unwrap_or(0.0);
        Ok(Clustering {
            k,
            silhouette_by_k: by_k,
            silhouette,
            model,
            labels,
        })
    }
}

/// The outcome of [`SegmentParams::cluster`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clustering {
    /// Number of clusters used.
    pub k: usize,
    /// `(k, mean silhouette on the sample)` for each `k` tried.
    pub silhouette_by_k: Vec<(usize, f64)>,
    /// Mean silhouette of the final clustering on the sample.
    pub silhouette: f64,
    /// The final k-means fit.
    pub model: KMeans,
    /// Each row's cluster.
    pub labels: Vec<usize>,
}

/// An input that sets a segment apart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distinction {
    /// Feature name (`column` or `column=level`).
    pub feature: String,
    /// The input column it comes from.
    pub column: String,
    /// `(segment mean - overall mean) / overall standard deviation`.
    pub standardised_difference: f64,
    /// Mean in the segment, in the column's units (a share for a level).
    pub segment_mean: f64,
    /// Mean over all customers.
    pub overall_mean: f64,
}

/// One segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// Segment number (0 = highest mean risk).
    pub id: usize,
    /// Customers in it.
    pub size: usize,
    /// `size / customers`.
    pub share: f64,
    /// Mean churn probability.
    pub mean_risk: f64,
    /// Mean customer value.
    pub mean_value: f64,
    /// Sum of `probability * value`: the value expected to churn.
    pub value_at_risk: f64,
    /// The inputs that set it apart, largest first.
    pub distinctions: Vec<Distinction>,
}

/// The segmentation of a customer table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segmentation {
    /// Number of segments.
    pub k: usize,
    /// `(k, silhouette)` for each `k` tried; empty when `k` was given.
    pub silhouette_by_k: Vec<(usize, f64)>,
    /// Mean silhouette of the segments on the sample.
    pub silhouette: f64,
    /// Rows in the silhouette sample.
    pub sample_size: usize,
    /// The feature space clustered on.
    pub space: FeatureSpace,
    /// Segments by falling mean risk.
    pub segments: Vec<Segment>,
    /// Each row's segment id.
    pub assignments: Vec<usize>,
}

/// Segments the customers of `table` (the model's input columns) with their churn
/// probabilities `risk` and values `value` (one per row).
pub fn segment(
    pipeline: &FittedPipeline,
    table: &Table,
    risk: &[f64],
    value: &[f64],
    params: &SegmentParams,
) -> Result<Segmentation> {
    let n = table.n_rows();
    if risk.len() != n || value.len() != n {
        return Err(Error::InvalidParameter {
            name: "risk".into(),
            message: format!(
                "expected one probability and one value per row ({n}), got {} and {}",
                risk.len(),
                value.len()
            ),
        });
    }
    let (space, x) = FeatureSpace::fit(pipeline, table, params.max_one_hot_levels)?;
    let clustering = params.cluster(x.view())?;
    let k = clustering.k;
    let d = x.ncols();
    let mut sizes = vec![0usize; k];
    let mut risk_sum = vec![0.0; k];
    let mut value_sum = vec![0.0; k];
    let mut at_risk = vec![0.0; k];
    let mut sums = Array2::<f64>::zeros((k, d));
    for (r, &c) in clustering.labels.iter().enumerate() {
        sizes[c] += 1;
        risk_sum[c] += risk[r];
        value_sum[c] += value[r];
        at_risk[c] += risk[r] * value[r];
        sums.row_mut(c)
            .iter_mut()
            .zip(x.row(r))
            .for_each(|(s, v)| *s += v);
    }
    let mut segments: Vec<Segment> = (0..k)
        .filter(|&c| sizes[c] > 0)
        .map(|c| {
            let size = sizes[c] as f64;
            let mut distinctions: Vec<Distinction> = (0..d)
                .map(|j| {
                    let m = sums[[c, j]] / size;
                    let (smd, segment_mean) = if space.standardised[j] {
                        (m, space.means[j] + m * space.stds[j])
                    } else {
                        ((m - space.means[j]) / space.stds[j], m)
                    };
                    Distinction {
                        feature: space.names[j].clone(),
                        column: space.columns[j].clone(),
                        standardised_difference: smd,
                        segment_mean,
                        overall_mean: space.means[j],
                    }
                })
                .collect();
            distinctions.sort_by(|a, b| {
                b.standardised_difference
                    .abs()
                    .total_cmp(&a.standardised_difference.abs())
                    .then(a.feature.cmp(&b.feature))
            });
            distinctions.truncate(params.top_features);
            Segment {
                id: c,
                size: sizes[c],
                share: size / n as f64,
                mean_risk: risk_sum[c] / size,
                mean_value: value_sum[c] / size,
                value_at_risk: at_risk[c],
                distinctions,
            }
        })
        .collect();
    segments.sort_by(|a, b| b.mean_risk.total_cmp(&a.mean_risk).then(a.id.cmp(&b.id)));
    let mut renumber = vec![0; k];
    for (new, s) in segments.iter_mut().enumerate() {
        renumber[s.id] = new;
        s.id = new;
    }
    let assignments = clustering.labels.iter().map(|&c| renumber[c]).collect();
    Ok(Segmentation {
        k: segments.len(),
        silhouette_by_k: clustering.silhouette_by_k,
        silhouette: clustering.silhouette,
        sample_size: params.sample_size.min(n),
        space,
        segments,
        assignments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `per` points around each of `centres` (a ring of small offsets), shuffled.
    fn blobs(centres: &[[f64; 2]], per: usize, seed: u64) -> (Array2<f64>, Vec<usize>) {
        let mut rng = Rng::new(seed);
        let mut rows = Vec::new();
        for (c, centre) in centres.iter().enumerate() {
            for _ in 0..per {
                rows.push((
                    c,
                    [
                        centre[0] + 0.3 * rng.normal(),
                        centre[1] + 0.3 * rng.normal(),
                    ],
                ));
            }
        }
        rng.shuffle(&mut rows);
        let x = Array2::from_shape_fn((rows.len(), 2), |(r, j)| rows[r].1[j]);
        (x, rows.iter().map(|r| r.0).collect())
    }

    /// Whether two labellings agree up to renaming.
    fn same_partition(a: &[usize], b: &[usize]) -> bool {
        let mut map = hashbrown::HashMap::new();
        let mut back = hashbrown::HashMap::new();
        a.iter()
            .zip(b)
            .all(|(x, y)| *map.entry(*x).or_insert(*y) == *y && *back.entry(*y).or_insert(*x) == *x)
    }

    const FOUR: [[f64; 2]; 4] = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]];

    #[test]
    fn kmeans_recovers_well_separated_clusters() {
        let (x, truth) = blobs(&FOUR, 50, 1);
        let (model, labels) = KMeansParams::new(4).with_seed(3).fit(x.view()).unwrap();
        assert!(same_partition(&labels, &truth));
        assert_eq!(model.centroids.nrows(), 4);
        // Each centre lands near a true centre.
        for centre in FOUR {
            let (_, d) = nearest(&model.centroids, &centre);
            assert!(d < 0.1, "{d}");
        }
        assert_eq!(
            model.predict(&[9.8, 10.1]),
            labels[truth.iter().position(|&t| t == 3).unwrap()]
        );
    }

    #[test]
    fn silhouette_picks_the_true_k() {
        for (centres, per) in [(&FOUR[..], 40), (&FOUR[..3], 50)] {
            let (x, truth) = blobs(centres, per, 5);
            let c = SegmentParams::default()
                .with_seed(2)
                .cluster(x.view())
                .unwrap();
            assert_eq!(c.k, centres.len(), "{:?}", c.silhouette_by_k);
            assert_eq!(c.silhouette_by_k.len(), 7);
            assert!(same_partition(&c.labels, &truth));
            assert!(c.silhouette > 0.8, "{}", c.silhouette);
        }
    }

    #[test]
    fn silhouette_by_hand() {
        // Two pairs on a line: {0, 1} and {10, 11}.
        let x = Array2::from_shape_vec((4, 1), vec![0.0, 1.0, 10.0, 11.0]).unwrap();
        // Row 0: a = 1, b = (10 + 11) / 2 = 10.5, s = 9.5 / 10.5; row 1: a = 1, b = 9.5.
        let s = silhouette(x.view(), &[0, 0, 1, 1]).unwrap();
        let expected = (9.5 / 10.5 + 8.5 / 9.5) / 2.0;
        assert!((s - expected).abs() < 1e-12, "{s} {expected}");
        assert!(silhouette(x.view(), &[0, 0, 0, 0]).is_err());
    }

    #[test]
    fn same_seed_same_segments_and_sampling() {
        let (x, _) = blobs(&FOUR, 60, 9);
        let params = SegmentParams::default().with_sample_size(100).with_seed(4);
        let a = params.cluster(x.view()).unwrap();
        let b = params.cluster(x.view()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.k, 4);
        let one = KMeansParams::new(3).with_seed(8).fit(x.view()).unwrap();
        assert_eq!(
            one,
            KMeansParams::new(3).with_seed(8).fit(x.view()).unwrap()
        );
    }

    #[test]
    fn bad_parameters_are_errors() {
        let (x, _) = blobs(&FOUR, 3, 1);
        assert!(KMeansParams::new(0).fit(x.view()).is_err());
        assert!(KMeansParams::new(13).fit(x.view()).is_err());
        let mut nan = x.clone();
        nan[[0, 0]] = f64::NAN;
        assert!(KMeansParams::new(2).fit(nan.view()).is_err());
        assert!(SegmentParams::default()
            .with_k(Some(1))
            .cluster(x.view())
            .is_err());
        assert!(SegmentParams::default()
            .with_k_range(5, 3)
            .cluster(x.view())
            .is_err());
        // Fewer distinct points than k still gives k clusters without panicking.
        let same = Array2::from_elem((5, 2), 1.0);
        let (_, labels) = KMeansParams::new(3).fit(same.view()).unwrap();
        assert_eq!(labels.len(), 5);
    }

    #[test]
    fn segments_of_a_table_are_described_by_their_inputs() {
        use crate::data::schema::{ColumnKind, ColumnSchema, Schema};
        use crate::features::{FeatureParams, Target};
        // Two personas: cheap young monthly customers and expensive older annual ones.
        let mut t = Table::new(vec!["fee".into(), "age".into(), "billing".into()]).unwrap();
        let mut rng = Rng::new(1);
        let mut y = Vec::new();
        for i in 0..120 {
            let young = i % 2 == 0;
            let fee = if young { 10.0 } else { 40.0 } + rng.normal();
            let age = if young { 22.0 } else { 60.0 } + 2.0 * rng.normal();
            let billing = if young { "monthly" } else { "annual" };
            t.push_row(
                i + 1,
                [
                    format!("{fee}").as_str(),
                    format!("{age}").as_str(),
                    billing,
                ],
            )
            .unwrap();
            y.push(f64::from(young));
        }
        let col = |name: &str, kind| ColumnSchema {
            name: name.into(),
            kind,
            categories: Vec::new(),
            nullable: false,
        };
        let schema = Schema {
            columns: vec![
                col("fee", ColumnKind::Numeric),
                col("age", ColumnKind::Numeric),
                col("billing", ColumnKind::Categorical),
            ],
            target: None,
            id_column: None,
            time_column: None,
        };
        let (pipeline, _) = FeatureParams::for_target(Target::Trees)
            .fit_transform(&t, &schema, &y)
            .unwrap();
        let risk: Vec<f64> = y.iter().map(|&v| if v > 0.5 { 0.4 } else { 0.1 }).collect();
        let value = vec![100.0; 120];
        let params = SegmentParams::default().with_top_features(4);
        let s = segment(&pipeline, &t, &risk, &value, &params).unwrap();
        assert_eq!(s.k, 2, "{:?}", s.silhouette_by_k);
        assert_eq!(
            s.space.names,
            ["fee", "age", "billing=annual", "billing=monthly"]
        );
        let risky = &s.segments[0];
        assert_eq!(risky.size, 60);
        assert!((risky.mean_risk - 0.4).abs() < 1e-12);
        assert!((risky.value_at_risk - 60.0 * 40.0).abs() < 1e-9);
        assert_eq!(risky.distinctions.len(), 4);
        let fee = s.segments[0]
            .distinctions
            .iter()
            .chain(&s.segments[1].distinctions)
            .find(|d| d.feature == "fee" && d.standardised_difference < 0.0)
            .expect("low fee sets the young segment apart");
        assert!((fee.segment_mean - 10.0).abs() < 1.0, "{fee:?}");
        assert!(s
            .assignments
            .iter()
            .zip(&y)
            .all(|(&a, &young)| (a == 0) == (young > 0.5)));
    }
}
