//! Logistic regression: an L2-penalised linear model of the log-odds of churn, fitted by
//! Newton's method (iteratively reweighted least squares).
//!
//! The objective is that of scikit-learn's `LogisticRegression(C = 1 / l2)`:
//!
//! ```text
//! sum_i  w_i * logloss(y_i, b + x_i · β)  +  0.5 * l2 * ||β||²
//! ```
//!
//! where `w_i` is the row's class weight times its sample weight and the intercept `b` is not
//! penalised. Each Newton step solves `(Xᵀ D X + l2 I') d = -g` by Cholesky (`I'` leaves the
//! intercept out); a backtracking line search keeps every step a descent step, which matters on
//! (nearly) separable data where the full Newton step overshoots.
//!
//! Linear models need complete rows: impute missing values before fitting or predicting.
//! The shared link functions [`sigmoid`](super::sigmoid) and [`logit`](super::logit) live in
//! [`crate::model`].

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use core::ops::Range;

use hashbrown::HashMap;
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::{check_weights, logit, sigmoid, softplus, ClassWeight};
use crate::error::{Error, Result};
use crate::progress::Reporter;

/// Stage name of logistic fits in progress updates.
const STAGE: &str = "fitting logistic";

/// Armijo constant: a step must achieve this fraction of the decrease its slope promises.
const ARMIJO: f64 = 1e-4;
/// The line search gives up below this step length (the direction is then useless).
const MIN_STEP: f64 = 1e-10;
/// Rows per chunk of a pass over the data (a floor; see [`Problem::chunking`]).
const MIN_CHUNK_ROWS: usize = 2048;
/// Passes never split the data into more chunks than this (so a chunk has at least
/// `n / MAX_CHUNKS` rows, and big tables still give every thread work).
const MAX_CHUNKS: usize = 64;
/// At most this many chunks of a pass are computed at once (one per thread, up to this cap):
/// each holds its own `d x d` Hessian until it is added into the total. Single-threaded builds
/// compute one chunk at a time.
#[cfg(any(feature = "parallel", test))]
const MAX_CHUNKS_AT_ONCE: usize = 8;

/// Settings of a logistic regression fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticParams {
    /// L2 penalty on the coefficients (never the intercept). `1.0` gives the same objective as
    /// scikit-learn's `LogisticRegression(C=1.0)`; `0.0` fits without a penalty, which has no
    /// finite solution on separable data.
    pub l2: f64,
    /// Per-class weighting, multiplied into the sample weights.
    pub class_weight: ClassWeight,
    /// Maximum number of Newton steps.
    pub max_iter: usize,
    /// Convergence tolerance. The fit stops when the largest gradient component is at most
    /// `tol` times the total row weight (the gradient of the mean loss is below `tol`), or when
    /// the Newton decrement predicts a loss change of at most `tol` relative to the loss (one
    /// final full step is then taken, which Newton's quadratic convergence makes very accurate).
    pub tol: f64,
}

impl Default for LogisticParams {
    fn default() -> Self {
        LogisticParams {
            l2: 1.0,
            class_weight: ClassWeight::None,
            max_iter: 100,
            tol: 1e-8,
        }
    }
}

impl LogisticParams {
    /// Sets the L2 penalty on the coefficients (`1 / C` in scikit-learn terms).
    pub fn with_l2(mut self, l2: f64) -> Self {
        self.l2 = l2;
        self
    }

    /// Sets the class weighting.
    pub fn with_class_weight(mut self, class_weight: ClassWeight) -> Self {
        self.class_weight = class_weight;
        self
    }

    /// Sets the maximum number of Newton steps.
    pub fn with_max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// Sets the convergence tolerance (see [`LogisticParams::tol`]).
    pub fn with_tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Fits the model to `x` (rows × features, no missing values), labels `y` (0 or 1) and
    /// optional non-negative per-row `sample_weight`.
    pub fn fit(
        &self,
        x: ArrayView2<f64>,
        y: &[f64],
        sample_weight: Option<&[f64]>,
    ) -> Result<LogisticModel> {
        self.fit_with_progress(&x, y, sample_weight, &mut Reporter::silent())
    }

    /// [`LogisticParams::fit`], reporting every Newton iteration (and checking for a stop between
    /// chunks of rows inside each pass over the data, which on big tables is the slow part) to
    /// `progress`; returns [`Error::Cancelled`] when it asks to stop. Reporting never changes
    /// the model.
    ///
    /// `x` is a matrix (`&x.view()`) or any other [`DesignRows`], such as a [`CompactMatrix`]:
    /// the fit reads it a row at a time, so the same rows give the same model.
    pub fn fit_with_progress(
        &self,
        x: &dyn DesignRows,
        y: &[f64],
        sample_weight: Option<&[f64]>,
        progress: &mut Reporter<'_>,
    ) -> Result<LogisticModel> {
        self.validate()?;
        validate_data(x, y, sample_weight)?;
        let w = self.class_weight.weights(y, sample_weight);
        let (mut w_neg, mut w_pos) = (0.0, 0.0);
        for (&label, &wi) in y.iter().zip(&w) {
            if label > 0.5 {
                w_pos += wi;
            } else {
                w_neg += wi;
            }
        }
        for (total, class) in [(w_neg, 0), (w_pos, 1)] {
            if total <= 0.0 {
                return Err(Error::InvalidParameter {
                    name: "sample_weight".into(),
                    message: format!(
                        "every row of class {class} has zero weight; give some of them a positive weight"
                    ),
                });
            }
        }
        let total_weight = w_neg + w_pos;

        let problem = Problem {
            x,
            y,
            w: &w,
            l2: self.l2,
        };
        let p = x.n_features();
        let mut beta = vec![0.0; p + 1];
        // Starting from the weighted base rate makes the first step a small one.
        beta[p] = logit(w_pos / total_weight);
        // Between chunks of a pass: only a stop check, at the fraction already reached.
        let mut check = |done: f64, iterations: usize| {
            progress.report(STAGE, done, &format!("iteration {iterations}"))
        };
        let mut done = 0.0;
        let mut current = problem.pass(&beta, true, &mut || check(done, 0))?;
        let target = self.tol * total_weight;
        let start = max_abs(&current.grad);
        let mut iterations = 0;
        let mut converged = false;
        loop {
            // Newton's method closes the gap to the tolerance geometrically, so the share of the
            // gradient's log-distance covered is a fair estimate of the work done.
            let closed = libm::log(start / max_abs(&current.grad)) / libm::log(start / target);
            done = (iterations as f64 / self.max_iter as f64).max(if closed.is_finite() {
                closed
            } else {
                0.0
            });
            check(done, iterations)?;
            if max_abs(&current.grad) <= self.tol * total_weight {
                converged = true;
                break;
            }
            if iterations >= self.max_iter {
                break;
            }
            let Some(step) = solve_spd(&current.hess, p + 1, &current.grad) else {
                break;
            };
            // `solve_spd` returns H⁻¹g, so the descent direction is its negative.
            let slope = -dot(&current.grad, &step);
            if slope.is_nan() || slope >= 0.0 {
                break;
            }
            if -0.5 * slope <= self.tol * current.loss.abs() {
                let candidate = axpy(&beta, -1.0, &step);
                if problem
                    .pass(&candidate, false, &mut || check(done, iterations))?
                    .loss
                    <= current.loss
                {
                    beta = candidate;
                    iterations += 1;
                }
                converged = true;
                break;
            }
            let mut t = 1.0;
            let mut accepted = None;
            while t >= MIN_STEP {
                let candidate = axpy(&beta, -t, &step);
                let loss = problem
                    .pass(&candidate, false, &mut || check(done, iterations))?
                    .loss;
                if loss <= current.loss + ARMIJO * t * slope {
                    accepted = Some(candidate);
                    break;
                }
                t *= 0.5;
            }
            let Some(next) = accepted else {
                break;
            };
            beta = next;
            iterations += 1;
            current = problem.pass(&beta, true, &mut || check(done, iterations))?;
        }
        progress.report(STAGE, 1.0, &format!("{iterations} iterations"))?;

        let intercept = beta.pop().unwrap_or(0.0);
        Ok(LogisticModel {
            intercept,
            coefficients: beta,
            iterations,
            converged,
        })
    }

    fn validate(&self) -> Result<()> {
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "l2".into(),
                message: format!(
                    "{} is not a penalty; use a finite value >= 0 (default 1)",
                    self.l2
                ),
            });
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "tol".into(),
                message: format!(
                    "{} is not a tolerance; use a finite value >= 0 (default 1e-8)",
                    self.tol
                ),
            });
        }
        if self.max_iter == 0 {
            return Err(Error::InvalidParameter {
                name: "max_iter".into(),
                message: "must be at least 1 (default 100)".into(),
            });
        }
        if let ClassWeight::Positive(w) = self.class_weight {
            if !(w.is_finite() && w > 0.0) {
                return Err(Error::InvalidParameter {
                    name: "class_weight".into(),
                    message: format!("positive-class weight {w} must be finite and > 0"),
                });
            }
        }
        Ok(())
    }
}

/// Checks shapes, labels, weights and that `x` has no missing or infinite values.
fn validate_data(x: &dyn DesignRows, y: &[f64], sample_weight: Option<&[f64]>) -> Result<()> {
    let n = x.n_rows();
    if n == 0 {
        return Err(Error::EmptyInput);
    }
    if y.len() != n {
        return Err(Error::InvalidParameter {
            name: "y".into(),
            message: format!(
                "has {} labels but x has {n} rows; pass one label per row",
                y.len()
            ),
        });
    }
    if let Some(sw) = sample_weight {
        check_weights("sample_weight", sw, n)?;
    }
    super::check_labels(y)?;
    let mut row = vec![0.0; x.n_features()];
    for i in 0..n {
        x.read_row(i, &mut row);
        if let Some((j, v)) = row.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            let message = if v.is_nan() {
                format!(
                    "row {}, feature {}: value is missing (NaN); logistic regression needs complete rows, so impute missing values first",
                    i + 1,
                    j + 1
                )
            } else {
                format!(
                    "row {}, feature {}: value {v} is infinite; replace or cap it before fitting",
                    i + 1,
                    j + 1
                )
            };
            return Err(Error::InvalidParameter {
                name: "x".into(),
                message,
            });
        }
    }
    Ok(())
}

/// A fitted logistic regression: `P(churn) = sigmoid(intercept + row · coefficients)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogisticModel {
    /// The unpenalised constant term, in log-odds.
    pub intercept: f64,
    /// One weight per feature column, in log-odds per unit of the feature.
    pub coefficients: Vec<f64>,
    /// Newton steps taken.
    pub iterations: usize,
    /// Whether the tolerance was met within `max_iter` steps.
    pub converged: bool,
}

crate::map_struct!(LogisticModel {
    intercept,
    coefficients,
    iterations,
    converged,
});

impl LogisticModel {
    /// The log-odds of churn for one row. `NaN` if the row's length differs from the number of
    /// coefficients or it holds a missing value.
    pub fn predict_raw(&self, row: &[f64]) -> f64 {
        if row.len() != self.coefficients.len() {
            return f64::NAN;
        }
        self.intercept + dot(row, &self.coefficients)
    }

    /// The probability of churn for one row (see [`LogisticModel::predict_raw`] for `NaN`).
    pub fn predict_proba(&self, row: &[f64]) -> f64 {
        sigmoid(self.predict_raw(row))
    }

    /// The probability of churn for every row of `x`.
    pub fn predict_proba_matrix(&self, x: ArrayView2<f64>) -> Vec<f64> {
        x.rows()
            .into_iter()
            .map(|row| match row.as_slice() {
                Some(slice) => self.predict_proba(slice),
                None => self.predict_proba(&row.to_vec()),
            })
            .collect()
    }
}

/// The rows a fit reads, one at a time: a dense matrix, or a [`CompactMatrix`].
pub trait DesignRows: Sync {
    /// Number of rows.
    fn n_rows(&self) -> usize;
    /// Number of features (columns).
    fn n_features(&self) -> usize;
    /// Writes row `i`'s features into `out` (length [`DesignRows::n_features`]).
    fn read_row(&self, i: usize, out: &mut [f64]);
}

impl DesignRows for ArrayView2<'_, f64> {
    fn n_rows(&self) -> usize {
        self.nrows()
    }

    fn n_features(&self) -> usize {
        self.ncols()
    }

    fn read_row(&self, i: usize, out: &mut [f64]) {
        for (dst, &v) in out.iter_mut().zip(self.row(i).iter()) {
            *dst = v;
        }
    }
}

/// A design matrix filled one column at a time, each column stored as compactly as its values
/// allow without changing any float: a column of only `0.0` and `1.0` (one-hot levels, missing
/// indicators: over half of a churn table's features) takes one bit a row; a column of at most
/// 256 (65,536) distinct values (counts, ages in days, scores: most of the rest) one (two) bytes
/// a row indexing its values; any other column keeps its `f64`s. Rows read back bit for bit as
/// the columns were given, so a fit on it equals a fit on the dense matrix.
#[derive(Debug, Clone)]
pub struct CompactMatrix {
    n_rows: usize,
    columns: Vec<CompactColumn>,
}

#[derive(Debug, Clone)]
enum CompactColumn {
    Floats(Vec<f64>),
    /// Row `i` is `1.0` when bit `i % 64` of word `i / 64` is set, else `0.0`.
    Bits(Vec<u64>),
    /// Row `i` is `values[codes[i]]`.
    Bytes {
        values: Vec<f64>,
        codes: Vec<u8>,
    },
    Shorts {
        values: Vec<f64>,
        codes: Vec<u16>,
    },
}

impl CompactMatrix {
    /// A matrix of `n_rows` rows and no column yet.
    pub fn new(n_rows: usize) -> Self {
        CompactMatrix {
            n_rows,
            columns: Vec::new(),
        }
    }

    /// Appends the next column (one value per row).
    pub fn push_column(&mut self, column: &[f64]) {
        debug_assert_eq!(column.len(), self.n_rows);
        self.columns.push(CompactColumn::of(column));
    }
}

impl CompactColumn {
    fn of(column: &[f64]) -> Self {
        // Values are told apart by bit pattern, not `==`: `-0.0` must stay `-0.0`.
        let (zero, one) = (0.0f64.to_bits(), 1.0f64.to_bits());
        if column
            .iter()
            .all(|v| v.to_bits() == zero || v.to_bits() == one)
        {
            let mut bits = vec![0u64; column.len().div_ceil(64)];
            for (i, v) in column.iter().enumerate() {
                if v.to_bits() == one {
                    bits[i / 64] |= 1 << (i % 64);
                }
            }
            return CompactColumn::Bits(bits);
        }
        let mut index: HashMap<u64, u16> = HashMap::new();
        let mut values = Vec::new();
        let mut codes = Vec::with_capacity(column.len());
        for v in column {
            let code = match index.get(&v.to_bits()) {
                Some(&code) => code,
                None if values.len() <= usize::from(u16::MAX) => {
                    let code = values.len() as u16;
                    index.insert(v.to_bits(), code);
                    values.push(*v);
                    code
                }
                None => return CompactColumn::Floats(column.to_vec()),
            };
            codes.push(code);
        }
        if values.len() <= 256 {
            let codes = codes.iter().map(|&c| c as u8).collect();
            CompactColumn::Bytes { values, codes }
        } else {
            CompactColumn::Shorts { values, codes }
        }
    }
}

impl DesignRows for CompactMatrix {
    fn n_rows(&self) -> usize {
        self.n_rows
    }

    fn n_features(&self) -> usize {
        self.columns.len()
    }

    fn read_row(&self, i: usize, out: &mut [f64]) {
        for (dst, column) in out.iter_mut().zip(&self.columns) {
            *dst = match column {
                CompactColumn::Floats(values) => values[i],
                CompactColumn::Bits(bits) if bits[i / 64] >> (i % 64) & 1 == 1 => 1.0,
                CompactColumn::Bits(_) => 0.0,
                CompactColumn::Bytes { values, codes } => values[usize::from(codes[i])],
                CompactColumn::Shorts { values, codes } => values[usize::from(codes[i])],
            };
        }
    }
}

/// The penalised, weighted log loss of one data set, evaluated in fixed chunks of rows.
struct Problem<'x, 'd> {
    x: &'x dyn DesignRows,
    y: &'d [f64],
    w: &'d [f64],
    l2: f64,
}

/// Loss, gradient and Hessian (row-major, dimension `features + 1`, intercept last) of a pass.
/// `grad` and `hess` are empty for a loss-only pass.
struct Pass {
    loss: f64,
    grad: Vec<f64>,
    hess: Vec<f64>,
}

impl Problem<'_, '_> {
    /// The number of chunks and rows per chunk. It depends on the row count only, never on the
    /// thread count, so sums come out bit-identical with and without the `parallel` feature.
    fn chunking(&self) -> (usize, usize) {
        let n = self.x.n_rows();
        let chunks = n.div_ceil(MIN_CHUNK_ROWS).clamp(1, MAX_CHUNKS);
        (chunks, n.div_ceil(chunks))
    }

    /// The objective at `beta` (coefficients then intercept), with its gradient and Hessian
    /// when `derivatives` is set. `check` runs between groups of chunks (one chunk per thread)
    /// and stops the pass when it fails: on 100k rows a pass is long enough to matter.
    ///
    /// Each group's chunks are added into the total as soon as the group is done, in chunk
    /// order: the same additions in the same order as summing all chunks at the end, so the
    /// result does not depend on the group size (thread count), while only one group's
    /// Hessians are ever held.
    fn pass(
        &self,
        beta: &[f64],
        derivatives: bool,
        check: &mut dyn FnMut() -> Result<()>,
    ) -> Result<Pass> {
        let n = self.x.n_rows();
        let (chunks, len) = self.chunking();
        let run = |c: usize| self.chunk_pass(beta, c * len..((c + 1) * len).min(n), derivatives);
        #[cfg(feature = "parallel")]
        let group = rayon::current_num_threads().clamp(1, MAX_CHUNKS_AT_ONCE);
        #[cfg(not(feature = "parallel"))]
        let group = 1;
        let d = beta.len();
        let p = d - 1;
        let size = |len: usize| if derivatives { len } else { 0 };
        let mut total = Pass {
            loss: 0.0,
            grad: vec![0.0; size(d)],
            hess: vec![0.0; size(d * d)],
        };
        let mut parts: Vec<Pass> = Vec::with_capacity(group);
        let mut first = 0;
        while first < chunks {
            if first > 0 {
                check()?;
            }
            let end = (first + group).min(chunks);
            #[cfg(feature = "parallel")]
            {
                use rayon::prelude::*;
                // An indexed parallel extend keeps chunk order.
                parts.par_extend((first..end).into_par_iter().map(run));
            }
            #[cfg(not(feature = "parallel"))]
            parts.extend((first..end).map(run));
            // Chunk order, whatever the scheduling: the sums stay bit-identical across builds.
            for part in parts.drain(..) {
                total.loss += part.loss;
                add_into(&mut total.grad, &part.grad);
                add_into(&mut total.hess, &part.hess);
            }
            first = end;
        }
        let coefs = &beta[..p];
        total.loss += 0.5 * self.l2 * dot(coefs, coefs);
        if derivatives {
            for (j, &b) in coefs.iter().enumerate() {
                total.grad[j] += self.l2 * b;
                total.hess[j * d + j] += self.l2;
            }
            // Chunks fill the upper triangle only.
            for a in 0..d {
                for b in 0..a {
                    total.hess[a * d + b] = total.hess[b * d + a];
                }
            }
        }
        Ok(total)
    }

    fn chunk_pass(&self, beta: &[f64], rows: Range<usize>, derivatives: bool) -> Pass {
        let d = beta.len();
        let size = |len: usize| if derivatives { len } else { 0 };
        let mut out = Pass {
            loss: 0.0,
            grad: vec![0.0; size(d)],
            hess: vec![0.0; size(d * d)],
        };
        // The row with a trailing 1 for the intercept.
        let mut xi = vec![1.0; d];
        for i in rows {
            let (wi, yi) = (self.w[i], self.y[i]);
            if wi == 0.0 {
                continue;
            }
            self.x.read_row(i, &mut xi[..d - 1]);
            let z = dot(&xi, beta);
            let positive = yi > 0.5;
            out.loss += wi * softplus(if positive { -z } else { z });
            if !derivatives {
                continue;
            }
            let prob = sigmoid(z);
            let residual = wi * (prob - yi);
            for (g, &v) in out.grad.iter_mut().zip(&xi) {
                *g += residual * v;
            }
            let curvature = wi * prob * (1.0 - prob);
            if curvature == 0.0 {
                continue;
            }
            for (a, &xa) in xi.iter().enumerate() {
                let ha = curvature * xa;
                // One-hot features are mostly zero; skipping them is exact.
                if ha == 0.0 {
                    continue;
                }
                for (h, &xb) in out.hess[a * d + a..(a + 1) * d].iter_mut().zip(&xi[a..]) {
                    *h += ha * xb;
                }
            }
        }
        out
    }
}

/// Solves `a · s = b` for a symmetric positive definite `a` (`d × d`, row-major) by Cholesky.
/// If `a` is not numerically positive definite (collinear or constant features without a
/// penalty), a ridge growing from a tiny fraction of the largest diagonal entry is added until
/// it is. `None` only if the matrix holds non-finite values.
pub(crate) fn solve_spd(a: &[f64], d: usize, b: &[f64]) -> Option<Vec<f64>> {
    let max_diag = (0..d).map(|i| a[i * d + i].abs()).fold(0.0, f64::max);
    let mut ridge = 0.0;
    for _ in 0..12 {
        if let Some(l) = cholesky(a, d, ridge) {
            return Some(cholesky_solve(&l, d, b));
        }
        ridge = if ridge == 0.0 {
            1e-12 * max_diag.max(f64::MIN_POSITIVE)
        } else {
            ridge * 100.0
        };
    }
    None
}

/// The lower Cholesky factor of `a + ridge·I`, or `None` if a pivot is not safely positive.
fn cholesky(a: &[f64], d: usize, ridge: f64) -> Option<Vec<f64>> {
    let mut l = vec![0.0; d * d];
    for j in 0..d {
        let diag = a[j * d + j] + ridge;
        let pivot = diag - dot(&l[j * d..j * d + j], &l[j * d..j * d + j]);
        // A pivot that is a rounding-error fraction of its diagonal means a (near) singular
        // matrix whose solution would be noise.
        if !(pivot.is_finite() && pivot > 1e-13 * diag.abs()) {
            return None;
        }
        let ljj = libm::sqrt(pivot);
        l[j * d + j] = ljj;
        for i in j + 1..d {
            let s = a[i * d + j] - dot(&l[i * d..i * d + j], &l[j * d..j * d + j]);
            l[i * d + j] = s / ljj;
        }
    }
    Some(l)
}

/// Solves `L Lᵀ s = b` given the lower factor `L`.
fn cholesky_solve(l: &[f64], d: usize, b: &[f64]) -> Vec<f64> {
    let mut s = b.to_vec();
    for i in 0..d {
        let known = dot(&l[i * d..i * d + i], &s[..i]);
        s[i] = (s[i] - known) / l[i * d + i];
    }
    for i in (0..d).rev() {
        let known: f64 = (i + 1..d).map(|k| l[k * d + i] * s[k]).sum();
        s[i] = (s[i] - known) / l[i * d + i];
    }
    s
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `a + t·b`.
fn axpy(a: &[f64], t: f64, b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x + t * y).collect()
}

fn add_into(dst: &mut [f64], src: &[f64]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d += s;
    }
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Recorder;
    use crate::rng::Rng;
    use ndarray::Array2;

    #[test]
    fn progress_checks_inside_passes_and_changes_nothing() {
        // 10,000 rows are 5 chunks of a pass: each pass checks between its chunk groups.
        let (x, y) = synthetic(3, 10_000, &[1.0, -2.0, 0.5, 0.0], -1.0);
        let params = LogisticParams::default();
        let mut rec = Recorder::never_stopping();
        let model = params
            .fit_with_progress(&x.view(), &y, None, &mut Reporter::new(&mut rec))
            .unwrap();
        rec.assert_complete();
        let (chunks, _) = Problem {
            x: &x.view(),
            y: &y,
            w: &y,
            l2: 1.0,
        }
        .chunking();
        assert_eq!(chunks, 5);
        #[cfg(not(feature = "parallel"))]
        assert!(
            rec.fractions.len() >= 4 * model.iterations,
            "{:?}",
            rec.fractions
        );
        let silent = params.fit(x.view(), &y, None).unwrap();
        assert_eq!(model, silent);
    }

    #[test]
    fn a_compact_matrix_reads_back_every_float_and_fits_the_same_model() {
        // More rows than 16-bit codes can index, so column 0 (normal draws) stays `f64`s.
        let (mut x, y) = synthetic(6, 70_000, &[1.0, -0.5, 0.8, 0.2], -0.7);
        // A 0/1 column (bits); one with a negative zero, which must not come back as `0.0`, among
        // three values (bytes); one of 1,000 values (shorts).
        for r in 0..x.nrows() {
            x[[r, 1]] = if r % 3 == 0 { 1.0 } else { 0.0 };
            x[[r, 2]] = [-0.0, 1.0, 0.0][r % 3];
            x[[r, 3]] = (r % 1000) as f64 * 0.37;
        }
        let mut compact = CompactMatrix::new(x.nrows());
        for f in 0..x.ncols() {
            compact.push_column(&x.column(f).to_vec());
        }
        let kinds: Vec<_> = compact
            .columns
            .iter()
            .map(|c| match c {
                CompactColumn::Floats(_) => "floats",
                CompactColumn::Bits(_) => "bits",
                CompactColumn::Bytes { .. } => "bytes",
                CompactColumn::Shorts { .. } => "shorts",
            })
            .collect();
        assert_eq!(kinds, ["floats", "bits", "bytes", "shorts"]);
        let mut row = vec![0.0; x.ncols()];
        for r in 0..x.nrows() {
            compact.read_row(r, &mut row);
            let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&row), bits(&x.row(r).to_vec()), "row {r}");
        }
        let params = LogisticParams::default();
        let dense = params.fit(x.view(), &y, None).unwrap();
        let from_compact = params
            .fit_with_progress(&compact, &y, None, &mut Reporter::silent())
            .unwrap();
        assert_eq!(dense, from_compact);
    }

    #[test]
    fn a_pass_adds_its_chunks_in_chunk_order() {
        // 40,000 rows are 20 chunks: more than one group of chunks at once in any build.
        let (x, y) = synthetic(4, 40_000, &[0.5, -1.0, 2.0], 0.3);
        let w: Vec<f64> = (0..y.len()).map(|i| 1.0 + (i % 3) as f64).collect();
        let problem = Problem {
            x: &x.view(),
            y: &y,
            w: &w,
            l2: 0.0,
        };
        let (chunks, len) = problem.chunking();
        assert!(chunks > MAX_CHUNKS_AT_ONCE, "{chunks}");
        let beta = [0.1, -0.2, 0.3, 0.05];
        let mut checks = 0;
        let total = problem
            .pass(&beta, true, &mut || {
                checks += 1;
                Ok(())
            })
            .unwrap();
        assert!(checks > 0);
        let d = beta.len();
        let (mut loss, mut grad, mut hess) = (0.0, vec![0.0; d], vec![0.0; d * d]);
        for c in 0..chunks {
            let part = problem.chunk_pass(&beta, c * len..((c + 1) * len).min(y.len()), true);
            loss += part.loss;
            add_into(&mut grad, &part.grad);
            add_into(&mut hess, &part.hess);
        }
        assert_eq!(total.loss.to_bits(), loss.to_bits());
        assert_eq!(total.grad, grad);
        // The pass mirrors the upper triangle the chunks fill.
        for a in 0..d {
            for b in a..d {
                assert_eq!(total.hess[a * d + b].to_bits(), hess[a * d + b].to_bits());
                assert_eq!(total.hess[b * d + a].to_bits(), hess[a * d + b].to_bits());
            }
        }
    }

    #[test]
    fn a_fit_cancelled_at_half_stops_at_once() {
        let (x, y) = synthetic(3, 10_000, &[1.0, -2.0, 0.5, 0.0], -1.0);
        let mut rec = Recorder::stopping_at(0.5);
        let err = LogisticParams::default()
            .with_tol(1e-12)
            .fit_with_progress(&x.view(), &y, None, &mut Reporter::new(&mut rec))
            .unwrap_err();
        assert_eq!(
            err,
            Error::Cancelled {
                stage: STAGE.into()
            }
        );
        // Newton's method halves the log-distance to a tight tolerance in a step or two.
        rec.assert_stopped_within(0.5);
    }

    /// `n` rows of standard normal features with labels drawn from a logistic link.
    fn synthetic(seed: u64, n: usize, coefs: &[f64], intercept: f64) -> (Array2<f64>, Vec<f64>) {
        let mut rng = Rng::new(seed);
        let p = coefs.len();
        let x = Array2::from_shape_fn((n, p), |_| rng.normal());
        let y = x
            .rows()
            .into_iter()
            .map(|r| {
                let z = intercept + dot(r.as_slice().unwrap(), coefs);
                if rng.chance(sigmoid(z)) {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        (x, y)
    }

    /// Gradient of the documented objective, computed independently of the fitting code.
    fn objective_gradient(
        m: &LogisticModel,
        x: &Array2<f64>,
        y: &[f64],
        w: &[f64],
        l2: f64,
    ) -> Vec<f64> {
        let p = x.ncols();
        let mut g = vec![0.0; p + 1];
        for ((row, &yi), &wi) in x.rows().into_iter().zip(y).zip(w) {
            let r = wi * (m.predict_proba(row.as_slice().unwrap()) - yi);
            for j in 0..p {
                g[j] += r * row[j];
            }
            g[p] += r;
        }
        for (gj, c) in g.iter_mut().zip(&m.coefficients) {
            *gj += l2 * c;
        }
        g
    }

    #[test]
    fn recovers_known_coefficients() {
        let truth = [1.5, -2.0, 0.5, 0.0];
        let (x, y) = synthetic(1, 20_000, &truth, -1.0);
        let m = LogisticParams::default().fit(x.view(), &y, None).unwrap();
        assert!(m.converged && m.iterations < 15, "{m:?}");
        for (c, t) in m.coefficients.iter().zip(truth) {
            assert!((c - t).abs() < 0.08, "{:?}", m.coefficients);
        }
        assert!((m.intercept + 1.0).abs() < 0.08, "{}", m.intercept);
    }

    #[test]
    fn gradient_vanishes_at_the_solution_with_weights_and_penalty() {
        let (x, y) = synthetic(2, 3_000, &[0.8, -0.4, 1.2], 0.3);
        let mut rng = Rng::new(22);
        let sw: Vec<f64> = (0..y.len()).map(|_| 2.0 * rng.next_f64()).collect();
        let params = LogisticParams::default()
            .with_l2(25.0)
            .with_class_weight(ClassWeight::Positive(3.0));
        let m = params.fit(x.view(), &y, Some(&sw)).unwrap();
        assert!(m.converged);
        let w = params.class_weight.weights(&y, Some(&sw));
        let g = objective_gradient(&m, &x, &y, &w, 25.0);
        let total: f64 = w.iter().sum();
        assert!(max_abs(&g) / total < 1e-10, "{g:?}");
    }

    #[test]
    fn integer_sample_weights_equal_duplicated_rows() {
        let (x, y) = synthetic(3, 400, &[1.0, -1.0], 0.0);
        let sw: Vec<f64> = (0..y.len()).map(|i| (i % 3) as f64).collect();
        let weighted = LogisticParams::default()
            .fit(x.view(), &y, Some(&sw))
            .unwrap();
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for (i, row) in x.rows().into_iter().enumerate() {
            for _ in 0..i % 3 {
                rows.extend(row.iter().copied());
                labels.push(y[i]);
            }
        }
        let dup = Array2::from_shape_vec((labels.len(), 2), rows).unwrap();
        let expanded = LogisticParams::default()
            .fit(dup.view(), &labels, None)
            .unwrap();
        for (a, b) in weighted.coefficients.iter().zip(&expanded.coefficients) {
            assert!((a - b).abs() < 1e-9);
        }
        assert!((weighted.intercept - expanded.intercept).abs() < 1e-9);
    }

    #[test]
    fn class_weights_shift_the_intercept() {
        let (x, y) = synthetic(4, 5_000, &[1.0, 0.5], -2.5);
        let fit = |cw| {
            LogisticParams::default()
                .with_l2(0.0)
                .with_class_weight(cw)
                .fit(x.view(), &y, None)
                .unwrap()
        };
        let plain = fit(ClassWeight::None);
        let balanced = fit(ClassWeight::Balanced);
        let up = fit(ClassWeight::Positive(4.0));
        let down = fit(ClassWeight::Positive(0.5));
        assert!(balanced.intercept > plain.intercept + 1.0);
        assert!(up.intercept > plain.intercept + 1.0);
        assert!(down.intercept < plain.intercept - 0.3);
        // Without a penalty, up-weighting positives by w moves only the intercept, by about ln w.
        assert!((up.intercept - plain.intercept - libm::log(4.0)).abs() < 0.15);
        // Balanced is Positive(n_neg / n_pos) times a constant, which only rescales the loss.
        let n_pos = y.iter().filter(|&&v| v > 0.5).count() as f64;
        let ratio = fit(ClassWeight::Positive((y.len() as f64 - n_pos) / n_pos));
        assert!((ratio.intercept - balanced.intercept).abs() < 1e-7);
    }

    #[test]
    fn intercept_is_not_penalised() {
        let x = Array2::<f64>::zeros((10, 0));
        let y = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let m = LogisticParams::default()
            .with_l2(1e6)
            .fit(x.view(), &y, None)
            .unwrap();
        assert!((m.intercept - logit(0.2)).abs() < 1e-12);
        assert!((m.predict_proba(&[]) - 0.2).abs() < 1e-12);
    }

    #[test]
    fn separable_data_stays_finite() {
        let x = Array2::from_shape_fn((40, 1), |(i, _)| i as f64 - 19.5);
        let y: Vec<f64> = (0..40).map(|i| if i >= 20 { 1.0 } else { 0.0 }).collect();
        let m = LogisticParams::default().fit(x.view(), &y, None).unwrap();
        assert!(m.converged && m.coefficients[0].is_finite() && m.coefficients[0] > 0.0);
        let probs = m.predict_proba_matrix(x.view());
        assert!(probs.iter().all(|p| (0.0..=1.0).contains(p)));
        assert!(probs.windows(2).all(|w| w[0] <= w[1]));
        // Without a penalty the optimum is at infinity: the fit must still end with numbers.
        let free = LogisticParams::default()
            .with_l2(0.0)
            .fit(x.view(), &y, None)
            .unwrap();
        assert!(free.coefficients[0].is_finite() && free.intercept.is_finite());
        assert!(free.coefficients[0] > m.coefficients[0]);
        assert!(free
            .predict_proba_matrix(x.view())
            .iter()
            .all(|p| !p.is_nan()));
    }

    #[test]
    fn collinear_features_without_penalty_still_fit() {
        let (x1, y) = synthetic(5, 500, &[1.0], 0.0);
        let x = Array2::from_shape_fn((500, 3), |(i, j)| match j {
            0 => x1[(i, 0)],
            1 => 2.0 * x1[(i, 0)],
            _ => 0.0,
        });
        let m = LogisticParams::default()
            .with_l2(0.0)
            .fit(x.view(), &y, None)
            .unwrap();
        let reference = LogisticParams::default()
            .with_l2(0.0)
            .fit(x1.view(), &y, None)
            .unwrap();
        let slope = m.coefficients[0] + 2.0 * m.coefficients[1];
        assert!((slope - reference.coefficients[0]).abs() < 1e-4, "{m:?}");
        assert!(m.coefficients[2].abs() < 1e-9);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let x = Array2::from_shape_fn((4, 2), |(i, j)| (i + j) as f64);
        let y = [0.0, 1.0, 0.0, 1.0];
        let p = LogisticParams::default();
        let is_param = |r: Result<LogisticModel>, name: &str| matches!(r, Err(Error::InvalidParameter { name: n, .. }) if n == name);
        assert!(is_param(p.fit(x.view(), &y[..3], None), "y"));
        assert!(is_param(p.fit(x.view(), &[0.0, 2.0, 0.0, 1.0], None), "y"));
        assert!(is_param(p.fit(x.view(), &[0.0; 4], None), "y"));
        assert!(is_param(
            p.fit(x.view(), &y, Some(&[1.0; 3])),
            "sample_weight"
        ));
        assert!(is_param(
            p.fit(x.view(), &y, Some(&[1.0, -1.0, 1.0, 1.0])),
            "sample_weight"
        ));
        assert!(is_param(
            p.fit(x.view(), &y, Some(&[1.0, 0.0, 1.0, 0.0])),
            "sample_weight"
        ));
        let mut holey = x.clone();
        holey[(2, 1)] = f64::NAN;
        match p.fit(holey.view(), &y, None) {
            Err(Error::InvalidParameter { name, message }) if name == "x" => {
                assert!(message.contains("row 3, feature 2") && message.contains("impute"))
            }
            other => panic!("{other:?}"),
        }
        holey[(2, 1)] = f64::INFINITY;
        assert!(is_param(p.fit(holey.view(), &y, None), "x"));
        let empty = Array2::<f64>::zeros((0, 2));
        assert_eq!(p.fit(empty.view(), &[], None), Err(Error::EmptyInput));
        assert!(is_param(
            p.clone().with_l2(-1.0).fit(x.view(), &y, None),
            "l2"
        ));
        assert!(is_param(
            p.clone().with_tol(f64::NAN).fit(x.view(), &y, None),
            "tol"
        ));
        assert!(is_param(
            p.clone().with_max_iter(0).fit(x.view(), &y, None),
            "max_iter"
        ));
        let neg = p.with_class_weight(ClassWeight::Positive(0.0));
        assert!(is_param(neg.fit(x.view(), &y, None), "class_weight"));
    }

    #[test]
    fn prediction_shapes_and_round_trip() {
        let (x, y) = synthetic(6, 300, &[0.7, -0.2], 0.1);
        let m = LogisticParams::default().fit(x.view(), &y, None).unwrap();
        let batch = m.predict_proba_matrix(x.view());
        let column_major = x.t().to_owned();
        let strided = m.predict_proba_matrix(column_major.t());
        for (i, row) in x.rows().into_iter().enumerate() {
            let p = m.predict_proba(row.as_slice().unwrap());
            assert_eq!(batch[i], p);
            assert_eq!(strided[i], p);
            assert!((logit(p) - m.predict_raw(row.as_slice().unwrap())).abs() < 1e-9);
        }
        assert!(m.predict_raw(&[1.0]).is_nan(), "wrong row length");
        let json = serde_json::to_string(&m).unwrap();
        let back: LogisticModel = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
    }

    /// smartcore minimises `sum_i logloss + 0.5 * alpha * ||β||²` with an unpenalised
    /// intercept (no division by n), so `alpha = l2` gives the same objective. It uses L-BFGS,
    /// so agreement is limited by its stopping rule rather than by the objective.
    #[test]
    fn agrees_with_smartcore() {
        use smartcore::linalg::basic::arrays::Array;
        use smartcore::linalg::basic::matrix::DenseMatrix;
        use smartcore::linear::logistic_regression::{
            LogisticRegression, LogisticRegressionParameters,
        };

        let (x, y) = synthetic(7, 800, &[1.2, -0.7, 0.3], -0.5);
        for l2 in [1.0, 30.0] {
            let ours = LogisticParams::default()
                .with_l2(l2)
                .fit(x.view(), &y, None)
                .unwrap();
            let rows: Vec<Vec<f64>> = x.rows().into_iter().map(|r| r.to_vec()).collect();
            let dm = DenseMatrix::from_2d_vec(&rows).unwrap();
            let labels: Vec<i32> = y.iter().map(|&v| v as i32).collect();
            let params = LogisticRegressionParameters::default().with_alpha(l2);
            let theirs = LogisticRegression::fit(&dm, &labels, params).unwrap();
            let coefs: Vec<f64> = (0..3).map(|j| *theirs.coefficients().get((0, j))).collect();
            let intercept = *theirs.intercept().get((0, 0));
            let mut worst: f64 = 0.0;
            for row in &rows {
                let p_theirs = sigmoid(intercept + dot(row, &coefs));
                worst = worst.max((ours.predict_proba(row) - p_theirs).abs());
            }
            assert!(worst < 1e-6, "l2 = {l2}: max |Δp| = {worst}");
        }
    }
}
