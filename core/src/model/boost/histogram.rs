//! Gradient histograms: per feature bin, the sums of gradient, hessian and row count over the
//! rows of one leaf, and the search for the best split of a leaf from its histogram.
//!
//! All features' bins live in one flat buffer per leaf (feature `f` owns
//! `offsets[f]..offsets[f + 1]`, its last slot being the missing-value bin) so a buffer can be
//! reused from tree to tree and split into disjoint per-feature slices for parallel building.

use alloc::vec::Vec;

use crate::model::binning::{BinMapper, BinnedMatrix};

/// Gradient statistics of a set of rows.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Sums {
    pub g: f64,
    pub h: f64,
    pub n: u32,
}

impl Sums {
    fn add(self, o: Sums) -> Sums {
        Sums {
            g: self.g + o.g,
            h: self.h + o.h,
            n: self.n + o.n,
        }
    }

    fn sub(self, o: Sums) -> Sums {
        Sums {
            g: self.g - o.g,
            h: self.h - o.h,
            n: self.n.saturating_sub(o.n),
        }
    }
}

/// Where each feature's bins sit in a flat histogram buffer.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    offsets: Vec<usize>,
}

impl Layout {
    pub fn new(mapper: &BinMapper) -> Self {
        let mut offsets = Vec::with_capacity(mapper.n_features() + 1);
        offsets.push(0);
        for f in 0..mapper.n_features() {
            // Value bins plus the missing bin.
            offsets.push(offsets[f] + mapper.n_bins(f) + 1);
        }
        Layout { offsets }
    }

    pub fn total_bins(&self) -> usize {
        self.offsets.last().copied().unwrap_or(0)
    }

    fn range(&self, f: usize) -> core::ops::Range<usize> {
        self.offsets[f]..self.offsets[f + 1]
    }
}

/// Below this many (row, feature) updates a leaf's histogram is built on one thread: spawning
/// tasks would cost more than it saves. Either path gives the same sums.
#[cfg(feature = "parallel")]
const PARALLEL_MIN_WORK: usize = 64 * 1024;

/// Fills one feature's histogram slice. `gh` is either indexed by row (when `rows` is `None`,
/// meaning every row in order) or already gathered in the order of `rows`.
fn build_feature(hist: &mut [Sums], column: &[u8], rows: Option<&[u32]>, gh: &[[f64; 2]]) {
    hist.fill(Sums::default());
    match rows {
        None => {
            for (&b, &[g, h]) in column.iter().zip(gh) {
                let s = &mut hist[b as usize];
                s.g += g;
                s.h += h;
                s.n += 1;
            }
        }
        Some(rows) => {
            for (&r, &[g, h]) in rows.iter().zip(gh) {
                let s = &mut hist[column[r as usize] as usize];
                s.g += g;
                s.h += h;
                s.n += 1;
            }
        }
    }
}

/// Builds the histograms of the `active` features of one leaf into `hist`.
pub(crate) fn build(
    hist: &mut [Sums],
    layout: &Layout,
    binned: &BinnedMatrix,
    active: &[usize],
    rows: Option<&[u32]>,
    gh: &[[f64; 2]],
) {
    let mut slices: Vec<(usize, &mut [Sums])> = Vec::with_capacity(active.len());
    let mut rest = hist;
    let mut consumed = 0;
    for &f in active {
        let range = layout.range(f);
        let (_, tail) = rest.split_at_mut(range.start - consumed);
        let (slice, tail) = tail.split_at_mut(range.len());
        slices.push((f, slice));
        rest = tail;
        consumed = range.end;
    }
    let one = |(f, slice): (usize, &mut [Sums])| build_feature(slice, binned.column(f), rows, gh);
    #[cfg(feature = "parallel")]
    {
        let n = rows.map_or(binned.n_rows(), <[u32]>::len);
        if n * active.len() >= PARALLEL_MIN_WORK {
            use rayon::prelude::*;
            slices.into_par_iter().for_each(one);
            return;
        }
    }
    slices.into_iter().for_each(one);
}

/// Turns a parent's histogram into its larger child's by removing the smaller child's.
pub(crate) fn subtract(parent: &mut [Sums], child: &[Sums], layout: &Layout, active: &[usize]) {
    for &f in active {
        let range = layout.range(f);
        for (p, c) in parent[range.clone()].iter_mut().zip(&child[range]) {
            *p = p.sub(*c);
        }
    }
}

/// Limits a split must respect.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SplitRules {
    pub lambda_l2: f64,
    pub min_data_in_leaf: u32,
    pub min_sum_hessian: f64,
    pub min_gain: f64,
}

impl SplitRules {
    fn score(&self, s: Sums) -> f64 {
        s.g * s.g / (s.h + self.lambda_l2)
    }

    fn allows(&self, s: Sums) -> bool {
        s.n >= self.min_data_in_leaf && s.h >= self.min_sum_hessian
    }
}

/// The best way found to split a leaf.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Split {
    pub gain: f64,
    pub feature: usize,
    /// Rows with value bin `<= bin` go left.
    pub bin: u8,
    /// Whether rows in the missing bin go left.
    pub default_left: bool,
    pub left: Sums,
    pub right: Sums,
}

/// The best split of one feature, trying the missing bin on both sides. When the leaf has no
/// missing values for this feature, missing values (seen only at prediction time) follow the
/// side with more hessian mass, i.e. the side most training rows took.
fn best_for_feature(hist: &[Sums], f: usize, total: Sums, rules: &SplitRules) -> Option<Split> {
    let (values, missing) = hist.split_at(hist.len() - 1);
    let missing = missing[0];
    let parent = rules.score(total);
    let mut best: Option<Split> = None;
    let mut consider = |left: Sums, right: Sums, bin: usize, default_left: bool| {
        if !rules.allows(left) || !rules.allows(right) {
            return;
        }
        let gain = rules.score(left) + rules.score(right) - parent;
        if gain > rules.min_gain && gain > best.map_or(0.0, |b| b.gain) {
            best = Some(Split {
                gain,
                feature: f,
                bin: bin as u8,
                default_left,
                left,
                right,
            });
        }
    };
    let mut acc = Sums::default();
    for (b, &s) in values.iter().enumerate() {
        acc = acc.add(s);
        if acc.n == 0 {
            continue;
        }
        let right = total.sub(acc);
        if missing.n == 0 {
            if right.n == 0 {
                break;
            }
            consider(acc, right, b, acc.h >= right.h);
        } else {
            consider(acc, right, b, false);
            let with_missing = acc.add(missing);
            consider(with_missing, total.sub(with_missing), b, true);
        }
    }
    best
}

/// The best split of a leaf over the `active` features (ties keep the earlier feature, so the
/// result does not depend on evaluation order).
pub(crate) fn best_split(
    hist: &[Sums],
    layout: &Layout,
    active: &[usize],
    total: Sums,
    rules: &SplitRules,
) -> Option<Split> {
    let mut best: Option<Split> = None;
    for &f in active {
        if let Some(s) = best_for_feature(&hist[layout.range(f)], f, total, rules) {
            if best.is_none_or(|b| s.gain > b.gain) {
                best = Some(s);
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(g: f64, h: f64, n: u32) -> Sums {
        Sums { g, h, n }
    }

    const RULES: SplitRules = SplitRules {
        lambda_l2: 0.0,
        min_data_in_leaf: 1,
        min_sum_hessian: 0.0,
        min_gain: 0.0,
    };

    #[test]
    fn finds_the_separating_bin_and_sends_missing_where_it_helps() {
        // Bins 0,1 hold negatives (g > 0), bin 2 positives, the missing bin positives.
        let hist = [
            s(2.0, 1.0, 4),
            s(2.0, 1.0, 4),
            s(-2.0, 1.0, 4),
            s(-2.0, 1.0, 4),
        ];
        let total = hist.iter().fold(Sums::default(), |a, &b| a.add(b));
        let best = best_for_feature(&hist, 3, total, &RULES).unwrap();
        assert_eq!((best.feature, best.bin, best.default_left), (3, 1, false));
        assert_eq!(best.left, s(4.0, 2.0, 8));
        assert!((best.gain - 16.0).abs() < 1e-12, "{}", best.gain);
    }

    #[test]
    fn without_missing_rows_missing_follows_the_heavier_side() {
        let hist = [s(3.0, 1.0, 2), s(-1.0, 3.0, 6), s(0.0, 0.0, 0)];
        let total = hist.iter().fold(Sums::default(), |a, &b| a.add(b));
        let best = best_for_feature(&hist, 0, total, &RULES).unwrap();
        assert_eq!(best.bin, 0);
        assert!(!best.default_left, "right side has more hessian");
    }

    #[test]
    fn rules_block_small_leaves() {
        let hist = [s(2.0, 1.0, 1), s(-2.0, 1.0, 9), s(0.0, 0.0, 0)];
        let total = hist.iter().fold(Sums::default(), |a, &b| a.add(b));
        let strict = SplitRules {
            min_data_in_leaf: 2,
            ..RULES
        };
        assert!(best_for_feature(&hist, 0, total, &strict).is_none());
        assert!(best_for_feature(&hist, 0, total, &RULES).is_some());
    }
}
