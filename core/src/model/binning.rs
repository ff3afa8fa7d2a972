//! Feature binning for histogram-based tree learning (random forest and boosting).
//!
//! Each feature's values are mapped once to at most 255 ordered bins whose upper bounds sit
//! halfway between neighbouring distinct training values; missing values (`NaN`) get a bin of
//! their own after the value bins. A split "bin <= b" is then exactly "x <= upper_bound[b]", so a
//! tree learned on bins predicts on raw values with no loss.
//!
//! A categorical feature given as level codes `0..n` (see [`BinMapper::learn_categorical`]) gets
//! one bin per code, so its bin *is* its code, whatever rows the mapper saw.

use alloc::vec;
use alloc::vec::Vec;
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Largest number of value bins per feature (bins are stored as `u8`, and the missing bin
/// takes the index after the last value bin).
pub const MAX_BINS: usize = 255;

/// Rows sampled (evenly spaced, so deterministic) to place bin bounds on big tables; more
/// rows move quantiles very little and would only cost sort time.
const BIN_SAMPLE_ROWS: usize = 200_000;

/// Per-feature bin upper bounds learned from training data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinMapper {
    /// `upper_bounds[f][b]`: largest value that falls in bin `b` of feature `f`; the last bound
    /// is `f64::INFINITY` so every finite value has a bin.
    upper_bounds: Vec<Vec<f64>>,
    /// Per feature, whether its values are level codes split as sets, not thresholds.
    #[serde(default)]
    categorical: Vec<bool>,
}

impl BinMapper {
    /// Learns bins for every column of `x` with at most `max_bins` value bins per feature.
    pub fn fit(x: ArrayView2<f64>, max_bins: usize) -> Result<Self> {
        check_max_bins(max_bins)?;
        let n_rows = x.nrows();
        let fit_one = |f: usize| column_bounds(n_rows, |r| x[[r, f]], max_bins);
        #[cfg(feature = "parallel")]
        let upper_bounds: Vec<Vec<f64>> = {
            use rayon::prelude::*;
            (0..x.ncols()).into_par_iter().map(fit_one).collect()
        };
        #[cfg(not(feature = "parallel"))]
        let upper_bounds: Vec<Vec<f64>> = (0..x.ncols()).map(fit_one).collect();
        let categorical = vec![false; upper_bounds.len()];
        Ok(BinMapper {
            upper_bounds,
            categorical,
        })
    }

    /// A mapper of no feature yet, to learn one column at a time with
    /// [`BinMapper::learn_column`].
    pub fn empty(max_bins: usize) -> Result<Self> {
        check_max_bins(max_bins)?;
        Ok(BinMapper {
            upper_bounds: Vec::new(),
            categorical: Vec::new(),
        })
    }

    /// Learns the bins of the next feature from `column`, or from its rows `rows` (in that
    /// order) when given: the bounds [`BinMapper::fit`] learns for that column of a matrix
    /// holding just those rows. `max_bins` must have passed [`BinMapper::empty`].
    pub fn learn_column(&mut self, column: &[f64], rows: Option<&[usize]>, max_bins: usize) {
        let bounds = match rows {
            None => column_bounds(column.len(), |r| column[r], max_bins),
            Some(rows) => column_bounds(rows.len(), |r| column[rows[r]], max_bins),
        };
        self.upper_bounds.push(bounds);
        self.categorical.push(false);
    }

    /// Adds the next feature as a categorical one whose values are level codes `0..n_codes`
    /// (`2..=MAX_BINS` of them): bin `c` holds exactly code `c` (bounds halfway between codes),
    /// so bins need no data and every split of bins is a set of codes.
    pub fn learn_categorical(&mut self, n_codes: usize) {
        debug_assert!((2..=MAX_BINS).contains(&n_codes));
        let mut bounds: Vec<f64> = (1..n_codes).map(|c| c as f64 - 0.5).collect();
        bounds.push(f64::INFINITY);
        self.upper_bounds.push(bounds);
        self.categorical.push(true);
    }

    /// Whether feature `f` holds level codes ([`BinMapper::learn_categorical`]).
    pub fn is_categorical(&self, f: usize) -> bool {
        self.categorical.get(f).copied().unwrap_or(false)
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.upper_bounds.len()
    }

    /// Number of value bins of feature `f` (the missing bin is extra).
    pub fn n_bins(&self, f: usize) -> usize {
        self.upper_bounds[f].len()
    }

    /// Index of feature `f`'s missing-value bin.
    pub fn missing_bin(&self, f: usize) -> u8 {
        self.upper_bounds[f].len() as u8
    }

    /// The bin of value `x` in feature `f`.
    pub fn bin(&self, f: usize, x: f64) -> u8 {
        if x.is_nan() {
            return self.missing_bin(f);
        }
        let bounds = &self.upper_bounds[f];
        // First bin whose upper bound is >= x; the last bound is +inf so this always exists.
        bounds.partition_point(|&ub| ub < x).min(bounds.len() - 1) as u8
    }

    /// The raw-value threshold equivalent to "bin <= `bin`" for feature `f`. The last value
    /// bin's open upper end is reported as `f64::MAX` (every finite value passes, as with
    /// infinity) because model artifacts are JSON, which has no infinities.
    pub fn threshold(&self, f: usize, bin: u8) -> f64 {
        self.upper_bounds[f][bin as usize].min(f64::MAX)
    }

    /// Bins a whole matrix, column-major (all rows of feature 0, then feature 1, ...), which is
    /// the order histogram construction reads.
    pub fn transform(&self, x: ArrayView2<f64>) -> BinnedMatrix {
        let n_rows = x.nrows();
        let bin_column =
            |f: usize| -> Vec<u8> { (0..n_rows).map(|r| self.bin(f, x[[r, f]])).collect() };
        #[cfg(feature = "parallel")]
        let columns: Vec<Vec<u8>> = {
            use rayon::prelude::*;
            (0..x.ncols()).into_par_iter().map(bin_column).collect()
        };
        #[cfg(not(feature = "parallel"))]
        let columns: Vec<Vec<u8>> = (0..x.ncols()).map(bin_column).collect();
        let mut binned = BinnedMatrix::with_capacity(n_rows, columns.len());
        for c in columns {
            binned.bins.extend_from_slice(&c);
            binned.n_features += 1;
        }
        binned
    }
}

fn check_max_bins(max_bins: usize) -> Result<()> {
    if !(2..=MAX_BINS).contains(&max_bins) {
        return Err(Error::InvalidParameter {
            name: "max_bins".into(),
            message: alloc::format!("must be between 2 and {MAX_BINS}, got {max_bins}"),
        });
    }
    Ok(())
}

/// Bounds of one feature whose `n_rows` values are `value(0..n_rows)`: on big tables only an
/// evenly spaced sample of them is sorted (see [`BIN_SAMPLE_ROWS`]).
fn column_bounds(n_rows: usize, value: impl Fn(usize) -> f64, max_bins: usize) -> Vec<f64> {
    let stride = n_rows.div_ceil(BIN_SAMPLE_ROWS).max(1);
    let mut values: Vec<f64> = (0..n_rows)
        .step_by(stride)
        .map(value)
        .filter(|v| !v.is_nan())
        .collect();
    values.sort_unstable_by(f64::total_cmp);
    feature_bounds(&values, max_bins)
}

/// Places up to `max_bins` bins over sorted non-missing values: one bin per distinct value when
/// they are few, otherwise bins of roughly equal row counts that never split a distinct value.
fn feature_bounds(sorted: &[f64], max_bins: usize) -> Vec<f64> {
    let mut distinct: Vec<(f64, usize)> = Vec::new();
    for &v in sorted {
        match distinct.last_mut() {
            Some((last, count)) if *last == v => *count += 1,
            _ => distinct.push((v, 1)),
        }
    }
    if distinct.len() <= 1 {
        return vec![f64::INFINITY];
    }
    let mut bounds = Vec::new();
    if distinct.len() <= max_bins {
        for w in distinct.windows(2) {
            bounds.push(midpoint(w[0].0, w[1].0));
        }
    } else {
        let total = sorted.len();
        let mut in_bin = 0usize;
        let mut seen = 0usize;
        for i in 0..distinct.len() - 1 {
            in_bin += distinct[i].1;
            seen += distinct[i].1;
            let bins_left = max_bins - 1 - bounds.len();
            if bins_left == 0 {
                break;
            }
            // Re-target on what remains so one heavy value early on does not starve later bins.
            let target = (total - seen + in_bin) / (bins_left + 1);
            if in_bin >= target.max(1) {
                bounds.push(midpoint(distinct[i].0, distinct[i + 1].0));
                in_bin = 0;
            }
        }
    }
    bounds.push(f64::INFINITY);
    bounds
}

fn midpoint(a: f64, b: f64) -> f64 {
    let m = a + (b - a) / 2.0;
    // Guard against rounding up to b, which would put b in the lower bin.
    if m >= b {
        a
    } else {
        m
    }
}

/// A binned matrix in column-major order.
#[derive(Debug, Clone)]
pub struct BinnedMatrix {
    n_rows: usize,
    n_features: usize,
    bins: Vec<u8>,
}

impl BinnedMatrix {
    /// A matrix of `n_rows` rows and no feature yet, with room for `n_features` columns
    /// appended by [`BinnedMatrix::push_column`] (reserved at once: growing would copy).
    pub fn with_capacity(n_rows: usize, n_features: usize) -> Self {
        BinnedMatrix {
            n_rows,
            n_features: 0,
            bins: Vec::with_capacity(n_rows * n_features),
        }
    }

    /// Appends the next feature: `column`'s values (or those of its rows `rows`, in that
    /// order) binned by `mapper`'s bins of the same feature.
    pub fn push_column(&mut self, mapper: &BinMapper, column: &[f64], rows: Option<&[usize]>) {
        let f = self.n_features;
        match rows {
            None => self.bins.extend(column.iter().map(|&v| mapper.bin(f, v))),
            Some(rows) => self
                .bins
                .extend(rows.iter().map(|&r| mapper.bin(f, column[r]))),
        }
        self.n_features += 1;
        debug_assert_eq!(self.bins.len(), self.n_rows * self.n_features);
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// All rows' bins of feature `f`.
    pub fn column(&self, f: usize) -> &[u8] {
        &self.bins[f * self.n_rows..(f + 1) * self.n_rows]
    }

    /// The same bins row by row: row `r`'s bins of every feature are
    /// `[r * n_features..(r + 1) * n_features]`.
    pub fn row_major(&self) -> Vec<u8> {
        let mut out = vec![0u8; self.n_rows * self.n_features];
        for f in 0..self.n_features {
            for (r, &b) in self.column(f).iter().enumerate() {
                out[r * self.n_features + f] = b;
            }
        }
        out
    }

    /// Bin of row `r`, feature `f`.
    pub fn get(&self, r: usize, f: usize) -> u8 {
        self.bins[f * self.n_rows + r]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use proptest::prelude::*;

    #[test]
    fn few_distinct_values_get_one_bin_each_and_missing_its_own() {
        let x = Array2::from_shape_vec((6, 1), vec![1.0, 2.0, 2.0, 3.0, f64::NAN, 1.0]).unwrap();
        let m = BinMapper::fit(x.view(), 255).unwrap();
        assert_eq!(m.n_bins(0), 3);
        assert_eq!(m.bin(0, 1.0), 0);
        assert_eq!(m.bin(0, 2.0), 1);
        assert_eq!(m.bin(0, 3.0), 2);
        assert_eq!(m.bin(0, 99.0), 2);
        assert_eq!(m.bin(0, f64::NAN), 3);
        assert_eq!(m.missing_bin(0), 3);
        let b = m.transform(x.view());
        assert_eq!(b.column(0), &[0, 1, 1, 2, 3, 0]);
    }

    #[test]
    fn many_values_respect_max_bins_and_balance_counts() {
        let x = Array2::from_shape_fn((10_000, 1), |(r, _)| r as f64);
        let m = BinMapper::fit(x.view(), 16).unwrap();
        assert!(m.n_bins(0) <= 16);
        let b = m.transform(x.view());
        let mut counts = vec![0usize; m.n_bins(0)];
        for &v in b.column(0) {
            counts[v as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (500..=800).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn columns_of_some_rows_bin_like_a_copy_of_those_rows() {
        // 450k rows so the bin sample's stride (every 3rd row) differs between the subset and
        // the whole matrix, as it does for boosting's early-stopping split of a big table.
        let n = 450_000;
        let x = Array2::from_shape_fn((n, 2), |(r, c)| match c {
            0 => ((r * 7919) % 1000) as f64,
            _ if r % 11 == 0 => f64::NAN,
            _ => (r % 37) as f64 * 0.5,
        });
        let rows: Vec<usize> = (0..n).filter(|r| r % 5 != 0).collect();
        let copy = x.select(ndarray::Axis(0), &rows);
        let mut by_column = BinMapper::empty(64).unwrap();
        let mut whole = BinMapper::empty(64).unwrap();
        let columns: Vec<Vec<f64>> = (0..2).map(|f| x.column(f).to_vec()).collect();
        for column in &columns {
            by_column.learn_column(column, Some(&rows), 64);
            whole.learn_column(column, None, 64);
        }
        let from_copy = BinMapper::fit(copy.view(), 64).unwrap();
        assert_eq!(by_column, from_copy);
        assert_eq!(whole, BinMapper::fit(x.view(), 64).unwrap());
        assert_ne!(by_column, whole);
        let mut binned = BinnedMatrix::with_capacity(rows.len(), 2);
        for column in &columns {
            binned.push_column(&by_column, column, Some(&rows));
        }
        let from_copy = from_copy.transform(copy.view());
        assert_eq!(binned.n_features(), 2);
        for f in 0..2 {
            assert_eq!(binned.column(f), from_copy.column(f));
        }
    }

    #[test]
    fn categorical_codes_bin_to_themselves() {
        let mut m = BinMapper::empty(16).unwrap();
        m.learn_column(&[1.0, 2.0], None, 16);
        m.learn_categorical(40);
        assert!(!m.is_categorical(0) && m.is_categorical(1));
        assert_eq!(m.n_bins(1), 40);
        for c in 0..40u8 {
            assert_eq!(m.bin(1, c as f64), c);
        }
        assert_eq!(m.bin(1, f64::NAN), m.missing_bin(1));
    }

    #[test]
    fn bad_max_bins_is_an_error() {
        let x = Array2::<f64>::zeros((3, 1));
        assert!(BinMapper::fit(x.view(), 1).is_err());
        assert!(BinMapper::fit(x.view(), 256).is_err());
        assert!(BinMapper::empty(1).is_err());
        assert!(BinMapper::empty(256).is_err());
    }

    proptest! {
        /// The property trees rely on: bin(x) <= b exactly when x <= threshold(b).
        #[test]
        fn threshold_matches_bin_order(values in prop::collection::vec(-1e6f64..1e6, 2..400),
                                       max_bins in 2usize..64, probe in -2e6f64..2e6) {
            let n = values.len();
            let x = Array2::from_shape_vec((n, 1), values).unwrap();
            let m = BinMapper::fit(x.view(), max_bins).unwrap();
            for b in 0..m.n_bins(0) as u8 {
                let t = m.threshold(0, b);
                prop_assert_eq!(m.bin(0, probe) <= b, probe <= t);
                for r in 0..n {
                    prop_assert_eq!(m.bin(0, x[[r, 0]]) <= b, x[[r, 0]] <= t);
                }
            }
        }
    }
}
