//! Gradient histograms: per feature bin, the sums of gradient, hessian and row count over the
//! rows of one leaf, and the search for the best split of a leaf from its histogram.
//!
//! All features' bins live in one flat buffer per leaf (feature `f` owns
//! `offsets[f]..offsets[f + 1]`, its last slot being the missing-value bin) so a buffer can be
//! reused from tree to tree and split into disjoint per-feature slices for parallel building.

use alloc::vec::Vec;

use super::SplitGain;
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

/// Where each feature's bins sit in a flat histogram buffer, and which features are
/// categorical (split as sets of bins).
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    offsets: Vec<usize>,
    categorical: Vec<bool>,
}

impl Layout {
    pub fn new(mapper: &BinMapper) -> Self {
        let mut offsets = Vec::with_capacity(mapper.n_features() + 1);
        offsets.push(0);
        for f in 0..mapper.n_features() {
            // Value bins plus the missing bin.
            offsets.push(offsets[f] + mapper.n_bins(f) + 1);
        }
        let categorical = (0..mapper.n_features())
            .map(|f| mapper.is_categorical(f))
            .collect();
        Layout {
            offsets,
            categorical,
        }
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

/// Features whose histograms one pass over every row (the root's) fills together, by columns.
///
/// Why: a histogram update is a load, an add and a store to the row's bin, and the next row
/// often falls in the same bin (a yes/no flag, a plan of four levels), so one feature's updates
/// form one long chain, each waiting for the previous store. Four features' updates are four
/// independent chains the CPU overlaps, and the gradients are read once for all four. Each bin
/// still receives its rows in row order, so the sums are the same bit for bit.
const FEATURES_PER_PASS: usize = 4;

/// Fills the histogram slices of `K` features in one pass over every row in order, `gh`
/// indexed by row.
fn build_features<const K: usize>(hists: [&mut [Sums]; K], columns: [&[u8]; K], gh: &[[f64; 2]]) {
    let mut hists = hists;
    for h in hists.iter_mut() {
        h.fill(Sums::default());
    }
    for (i, &[g, h]) in gh.iter().enumerate() {
        for k in 0..K {
            let s = &mut hists[k][columns[k][i] as usize];
            s.g += g;
            s.h += h;
            s.n += 1;
        }
    }
}

/// One pass of [`build_features`] over at most [`FEATURES_PER_PASS`] features.
fn build_group(group: Vec<(usize, &mut [Sums])>, binned: &BinnedMatrix, gh: &[[f64; 2]]) {
    let n = group.len();
    let mut it = group.into_iter().map(|(f, h)| (h, binned.column(f)));
    let mut next = || it.next().expect("a group holds 1 to 4 features");
    match n {
        4 => {
            let (a, b, c, d) = (next(), next(), next(), next());
            build_features([a.0, b.0, c.0, d.0], [a.1, b.1, c.1, d.1], gh)
        }
        3 => {
            let (a, b, c) = (next(), next(), next());
            build_features([a.0, b.0, c.0], [a.1, b.1, c.1], gh)
        }
        2 => {
            let (a, b) = (next(), next());
            build_features([a.0, b.0], [a.1, b.1], gh)
        }
        _ => {
            let a = next();
            build_features([a.0], [a.1], gh)
        }
    }
}

/// Fills the histogram slices of `features` (each with its feature index) from the gathered
/// rows `rows` of a leaf, reading each row's bins from the row-major copy `row_bins`
/// (`width` bins a row).
///
/// Why row-major here: a leaf below the root holds scattered rows, and reading a row's bin from
/// each feature's column touches one cache line per feature and row; the row's bins side by
/// side are one or two lines for all features. Each bin still receives its rows in row order,
/// so the sums are the same bit for bit as the column-wise pass.
fn build_rows(
    features: Vec<(usize, &mut [Sums])>,
    row_bins: &[u8],
    width: usize,
    rows: &[u32],
    gh: &[[f64; 2]],
) {
    let mut features = features;
    for (_, h) in features.iter_mut() {
        h.fill(Sums::default());
    }
    let mut chunks_ahead = rows.chunks(ROWS_AHEAD).skip(1);
    for (chunk, chunk_gh) in rows.chunks(ROWS_AHEAD).zip(gh.chunks(ROWS_AHEAD)) {
        if let Some(ahead) = chunks_ahead.next() {
            touch_rows(row_bins, width, ahead);
        }
        for (&r, &[g, h]) in chunk.iter().zip(chunk_gh) {
            let start = r as usize * width;
            let bins = &row_bins[start..start + width];
            for (f, hist) in features.iter_mut() {
                let s = &mut hist[bins[*f] as usize];
                s.g += g;
                s.h += h;
                s.n += 1;
            }
        }
    }
}

/// Rows whose bins [`build_rows`] loads one chunk before it adds them.
///
/// Why: a leaf's rows are scattered over the row-major copy (23 MB at 1,000,000 rows, far
/// beyond the caches), so nearly every row's bins are a cache miss, and a row's histogram
/// updates all wait for it. Loading the next chunk's rows together puts their misses in flight
/// at once, while this chunk's rows are added from lines already loaded.
const ROWS_AHEAD: usize = 16;

/// Loads the first and last bin of each of `rows` in `row_bins` (a row can straddle two
/// cache lines) so their lines are cached when the rows are added. `core` allows no `unsafe`
/// and the prefetch intrinsic is unstable, so these are plain loads that `black_box` keeps.
fn touch_rows(row_bins: &[u8], width: usize, rows: &[u32]) {
    let mut seen = 0u8;
    for &r in rows {
        let start = r as usize * width;
        seen ^= row_bins[start] ^ row_bins[start + width - 1];
    }
    core::hint::black_box(seen);
}

/// Builds the histograms of the `active` features of one leaf into `hist`: from every row in
/// order (`rows` is `None`, `gh` indexed by row) by columns, or from the leaf's rows `rows`
/// (`gh` gathered in their order) by `row_bins`, the matrix's row-major copy.
pub(crate) fn build(
    hist: &mut [Sums],
    layout: &Layout,
    binned: &BinnedMatrix,
    row_bins: &[u8],
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
    // Work is split by features, never by rows: a bin's sum is then one sequence of additions
    // in row order whatever the number of threads.
    #[cfg(feature = "parallel")]
    let tasks = if rows.map_or(binned.n_rows(), <[u32]>::len) * active.len() >= PARALLEL_MIN_WORK {
        rayon::current_num_threads().max(1)
    } else {
        1
    };
    #[cfg(not(feature = "parallel"))]
    let tasks = 1;
    let mut groups: Vec<Vec<(usize, &mut [Sums])>> = Vec::new();
    match rows {
        None => {
            // By columns, a few features a pass (see FEATURES_PER_PASS).
            let mut it = slices.into_iter().peekable();
            while it.peek().is_some() {
                groups.push(it.by_ref().take(FEATURES_PER_PASS).collect());
            }
        }
        Some(_) => {
            // By rows, one pass per task over its share of the features.
            let per_task = active.len().div_ceil(tasks).max(1);
            let mut it = slices.into_iter().peekable();
            while it.peek().is_some() {
                groups.push(it.by_ref().take(per_task).collect());
            }
        }
    }
    let width = binned.n_features();
    let one = |group: Vec<(usize, &mut [Sums])>| match rows {
        None => build_group(group, binned, gh),
        Some(rows) => build_rows(group, row_bins, width, rows, gh),
    };
    #[cfg(feature = "parallel")]
    if tasks > 1 {
        use rayon::prelude::*;
        groups.into_par_iter().for_each(one);
        return;
    }
    groups.into_iter().for_each(one);
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
    pub gain: SplitGain,
    pub categorical: CategoricalRules,
}

/// How categorical features are split (LightGBM's scheme): a leaf's levels are ordered by their
/// smoothed mean gradient and the ordered list is cut, scanning from both ends, so one pass over
/// at most `max_levels` levels finds a good subset without trying all `2^k` of them. Defaults
/// are LightGBM's but for `max_levels`: 4 instead of 32, because on both benchmark tables fewer
/// levels per cut fitted less noise (mlc_churn ROC-AUC 0.9209 at 32, 0.9223 at 8, 0.9225 at 4;
/// generated customers 0.8589 at 32, 0.8606 at 4; BENCHMARKS.md, "Native categorical splits").
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CategoricalRules {
    /// Most levels on the side a split's scan fills (LightGBM `max_cat_threshold`).
    pub max_levels: usize,
    /// Pseudo-hessian added when ordering levels, so a level seen a few times is not ranked
    /// by noise; levels with fewer rows than this are left out of the ordering and go right
    /// (LightGBM `cat_smooth`).
    pub smooth: f64,
    /// Extra L2 penalty on a categorical split's children, which can fit the labels more
    /// freely than one threshold (LightGBM `cat_l2`).
    pub l2: f64,
    /// Rows each group of levels added to a side must hold before that cut is scored
    /// (LightGBM `min_data_per_group`).
    pub min_data_per_group: u32,
    /// With at most this many levels present, each level alone is tried against the rest
    /// instead (LightGBM `max_cat_to_onehot`).
    pub one_vs_rest_max: usize,
}

impl Default for CategoricalRules {
    fn default() -> Self {
        CategoricalRules {
            max_levels: 4,
            smooth: 10.0,
            l2: 10.0,
            min_data_per_group: 100,
            one_vs_rest_max: 4,
        }
    }
}

impl SplitRules {
    fn score(&self, s: Sums) -> f64 {
        self.score_with(s, self.lambda_l2)
    }

    fn score_with(&self, s: Sums, l2: f64) -> f64 {
        match self.gain {
            SplitGain::Hessian => score_of::<false>(s, l2),
            SplitGain::Rows => score_of::<true>(s, l2),
        }
    }

    fn allows(&self, s: Sums) -> bool {
        s.n >= self.min_data_in_leaf && s.h >= self.min_sum_hessian
    }
}

/// A side's squared gradient sum over its mass plus `l2`: the mass is its rows when `ROWS`, else
/// its hessian sum ([`SplitGain`]). A constant parameter, so the threshold scan, which scores
/// every bin of every feature, does not test the gain kind per bin.
#[inline]
fn score_of<const ROWS: bool>(s: Sums, l2: f64) -> f64 {
    let mass = if ROWS { f64::from(s.n) } else { s.h };
    s.g * s.g / (mass + l2)
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
    /// For a categorical feature, the value bins (level codes) going left instead of `bin`.
    pub levels: Option<BinSet>,
    pub left: Sums,
    pub right: Sums,
}

/// A set of bins `0..=255` (a bin is a `u8`), as a bitset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct BinSet([u64; 4]);

impl BinSet {
    fn insert(&mut self, b: usize) {
        self.0[b / 64] |= 1 << (b % 64);
    }

    #[inline]
    pub fn contains(&self, b: u8) -> bool {
        self.0[b as usize / 64] & (1 << (b % 64)) != 0
    }

    /// The set as a tree node stores a categorical cut: the levels going left without the
    /// missing bin `missing_bin`, and whether missing goes left (it was in the set); `None` for
    /// missing alone on the left, which has no form in a tree.
    fn as_cut(self, missing_bin: usize) -> Option<(BinSet, bool)> {
        let default_left = self.contains(missing_bin as u8);
        let mut levels = self;
        levels.0[missing_bin / 64] &= !(1 << (missing_bin % 64));
        (levels != BinSet::default()).then_some((levels, default_left))
    }

    /// The bins in the set, ascending.
    pub fn to_vec(self) -> Vec<u32> {
        (0..=255u8)
            .filter(|&b| self.contains(b))
            .map(u32::from)
            .collect()
    }
}

/// The best split of one feature, trying the missing bin on both sides. When the leaf has no
/// missing values for this feature, missing values (seen only at prediction time) follow the
/// side with more hessian mass, i.e. the side most training rows took.
fn best_for_feature(hist: &[Sums], f: usize, total: Sums, rules: &SplitRules) -> Option<Split> {
    match rules.gain {
        SplitGain::Hessian => best_threshold::<false>(hist, f, total, rules),
        SplitGain::Rows => best_threshold::<true>(hist, f, total, rules),
    }
}

/// [`best_for_feature`] for one kind of gain (see [`score_of`]).
fn best_threshold<const ROWS: bool>(
    hist: &[Sums],
    f: usize,
    total: Sums,
    rules: &SplitRules,
) -> Option<Split> {
    let score = |s: Sums| score_of::<ROWS>(s, rules.lambda_l2);
    let (values, missing) = hist.split_at(hist.len() - 1);
    let missing = missing[0];
    let parent = score(total);
    let mut best: Option<Split> = None;
    let mut consider = |left: Sums, right: Sums, bin: usize, default_left: bool| {
        if !rules.allows(left) || !rules.allows(right) {
            return;
        }
        let gain = score(left) + score(right) - parent;
        if gain > rules.min_gain && gain > best.map_or(0.0, |b| b.gain) {
            best = Some(Split {
                gain,
                feature: f,
                bin: bin as u8,
                default_left,
                levels: None,
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

/// The best categorical split of one feature whose value bins are level codes. The missing bin
/// is ordered like a level (it goes left exactly when `default_left`); levels with fewer than
/// `smooth` rows, and a missing bin without rows, go right.
fn best_categorical(hist: &[Sums], f: usize, total: Sums, rules: &SplitRules) -> Option<Split> {
    let cat = &rules.categorical;
    let missing_bin = hist.len() - 1;
    let present: Vec<usize> = (0..hist.len()).filter(|&b| hist[b].n > 0).collect();
    if present.len() < 2 {
        return None;
    }
    let mut best: Option<Split> = None;
    let mut consider = |set: BinSet, left: Sums, gain: f64| {
        let right = total.sub(left);
        if !rules.allows(left) || !rules.allows(right) {
            return;
        }
        if gain > rules.min_gain && gain > best.map_or(0.0, |b| b.gain) {
            let Some((levels, default_left)) = set.as_cut(missing_bin) else {
                return;
            };
            best = Some(Split {
                gain,
                feature: f,
                bin: 0,
                default_left,
                levels: Some(levels),
                left,
                right,
            });
        }
    };
    let parent = rules.score(total);
    if present.len() <= cat.one_vs_rest_max {
        for &b in &present {
            let mut set = BinSet::default();
            set.insert(b);
            let left = hist[b];
            let gain = rules.score(left) + rules.score(total.sub(left)) - parent;
            consider(set, left, gain);
        }
        return best;
    }
    let (order, max_take) = scan_order(hist, present, cat);
    let used = order.len();
    let l2 = rules.lambda_l2 + cat.l2;
    for from_high in [false, true] {
        let mut set = BinSet::default();
        let mut left = Sums::default();
        let mut group = 0u32;
        for i in 0..used.min(max_take) {
            let b = if from_high {
                order[used - 1 - i]
            } else {
                order[i]
            };
            set.insert(b);
            left = left.add(hist[b]);
            group += hist[b].n;
            if !rules.allows(left) {
                continue;
            }
            let right = total.sub(left);
            if right.n < rules.min_data_in_leaf.max(cat.min_data_per_group) {
                break;
            }
            if group < cat.min_data_per_group {
                continue;
            }
            group = 0;
            // Children scored with the extra penalty against the plain parent score: a
            // categorical cut must beat a threshold by a margin to be chosen.
            let gain = rules.score_with(left, l2) + rules.score_with(right, l2) - parent;
            consider(set, left, gain);
        }
    }
    best
}

/// The levels a categorical cut's two scans walk, from either end: those of the `present` bins
/// with at least `smooth` rows, ascending by smoothed mean gradient (a stable sort on a total
/// order, so equal ratios keep bin order and the result is deterministic), and how many levels
/// each scan may take.
fn scan_order(hist: &[Sums], present: Vec<usize>, cat: &CategoricalRules) -> (Vec<usize>, usize) {
    let mut order: Vec<usize> = present
        .into_iter()
        .filter(|&b| hist[b].n as f64 >= cat.smooth)
        .collect();
    let ctr = |b: usize| hist[b].g / (hist[b].h + cat.smooth);
    order.sort_by(|&a, &b| ctr(a).total_cmp(&ctr(b)));
    let max_take = cat.max_levels.min(order.len().div_ceil(2).max(1));
    (order, max_take)
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
        let hist = &hist[layout.range(f)];
        let found = if layout.categorical[f] {
            best_categorical(hist, f, total, rules)
        } else {
            best_for_feature(hist, f, total, rules)
        };
        if let Some(s) = found {
            if best.is_none_or(|b| s.gain > b.gain) {
                best = Some(s);
            }
        }
    }
    best
}

/// The split every open leaf of one level of a symmetric tree takes: one feature and one cut,
/// chosen by the sum of the gains it makes in the leaves it can split.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LevelSplit {
    pub gain: f64,
    pub feature: usize,
    /// Rows with value bin `<= bin` go left (threshold features).
    pub bin: u8,
    /// Whether rows in the missing bin go left.
    pub default_left: bool,
    /// For a categorical feature, the value bins (level codes) going left instead of `bin`.
    pub levels: Option<BinSet>,
}

impl LevelSplit {
    /// This cut in one leaf (its histogram `hist`, its sums `total`): the leaf's own split, or
    /// `None` when a side would be empty or break the rules, and the leaf then stays a leaf.
    pub fn on_leaf(
        &self,
        hist: &[Sums],
        layout: &Layout,
        total: Sums,
        rules: &SplitRules,
    ) -> Option<Split> {
        let h = &hist[layout.range(self.feature)];
        let (values, missing) = h.split_at(h.len() - 1);
        let mut left = Sums::default();
        for (b, &s) in values.iter().enumerate() {
            let goes_left = match &self.levels {
                Some(set) => set.contains(b as u8),
                None => b <= usize::from(self.bin),
            };
            if goes_left {
                left = left.add(s);
            }
        }
        if self.default_left {
            left = left.add(missing[0]);
        }
        let right = total.sub(left);
        let gain = side_gain(left, right, total, rules, self.levels.is_some())?;
        Some(Split {
            gain,
            feature: self.feature,
            bin: self.bin,
            default_left: self.default_left,
            levels: self.levels,
            left,
            right,
        })
    }
}

/// One leaf's gain from splitting its rows `total` into `left` and `right`, or `None` when a side
/// is empty or breaks the rules; categorical cuts carry the extra L2 as in [`best_categorical`].
fn side_gain(
    left: Sums,
    right: Sums,
    total: Sums,
    rules: &SplitRules,
    categorical: bool,
) -> Option<f64> {
    let ok = |s: Sums| s.n > 0 && rules.allows(s);
    if !ok(left) || !ok(right) {
        return None;
    }
    let l2 = rules.lambda_l2
        + if categorical {
            rules.categorical.l2
        } else {
            0.0
        };
    Some(rules.score_with(left, l2) + rules.score_with(right, l2) - rules.score(total))
}

/// The best cut for one level of a symmetric tree over the `active` features: `leaves` holds each
/// open leaf's histogram and sums. A threshold's gain is summed over the leaves it can split (a
/// leaf whose side would be empty or too small adds nothing and stays a leaf); the missing bin
/// is tried on both sides and, when no leaf has missing values, follows the side with more
/// hessian mass. A categorical feature's cuts are LightGBM's ordered prefixes (see
/// [`best_categorical`]), its levels ordered once for the level by their sums over the leaves.
/// Ties keep the earlier feature and the lower cut.
pub(crate) fn best_level_split(
    leaves: &[(&[Sums], Sums)],
    layout: &Layout,
    active: &[usize],
    rules: &SplitRules,
) -> Option<LevelSplit> {
    let mut best: Option<LevelSplit> = None;
    let mut keep = |c: LevelSplit| {
        if c.gain > rules.min_gain && c.gain > best.map_or(0.0, |b| b.gain) {
            best = Some(c);
        }
    };
    let mut gains: Vec<[f64; 2]> = Vec::new();
    let mut left_hessian: Vec<f64> = Vec::new();
    for &f in active {
        let range = layout.range(f);
        let n_values = range.len() - 1;
        if layout.categorical[f] {
            for (set, default_left, gain) in level_categorical(leaves, range, rules) {
                keep(LevelSplit {
                    gain,
                    feature: f,
                    bin: 0,
                    default_left,
                    levels: Some(set),
                });
            }
            continue;
        }
        gains.clear();
        gains.resize(n_values, [0.0; 2]);
        left_hessian.clear();
        left_hessian.resize(n_values, 0.0);
        let (mut any_missing, mut total_hessian) = (false, 0.0);
        for (hist, total) in leaves {
            let h = &hist[range.clone()];
            let missing = h[n_values];
            any_missing |= missing.n > 0;
            total_hessian += total.h;
            let mut acc = Sums::default();
            for (b, &s) in h[..n_values].iter().enumerate() {
                acc = acc.add(s);
                left_hessian[b] += acc.h;
                if let Some(g) = side_gain(acc, total.sub(acc), *total, rules, false) {
                    gains[b][0] += g;
                }
                if missing.n > 0 {
                    let with = acc.add(missing);
                    if let Some(g) = side_gain(with, total.sub(with), *total, rules, false) {
                        gains[b][1] += g;
                    }
                } else if let Some(g) = side_gain(acc, total.sub(acc), *total, rules, false) {
                    gains[b][1] += g;
                }
            }
        }
        for (b, &[right, left]) in gains.iter().enumerate() {
            let default_left = if any_missing {
                left > right
            } else {
                left_hessian[b] >= total_hessian - left_hessian[b]
            };
            keep(LevelSplit {
                gain: if default_left { left } else { right },
                feature: f,
                bin: b as u8,
                default_left,
                levels: None,
            });
        }
    }
    best
}

/// A categorical feature's cuts for one level of a symmetric tree, each as (levels going left,
/// whether missing goes left, gain summed over the leaves).
fn level_categorical(
    leaves: &[(&[Sums], Sums)],
    range: core::ops::Range<usize>,
    rules: &SplitRules,
) -> Vec<(BinSet, bool, f64)> {
    let cat = &rules.categorical;
    let n_bins = range.len();
    let missing_bin = n_bins - 1;
    let mut summed = alloc::vec![Sums::default(); n_bins];
    for (hist, _) in leaves {
        for (s, &h) in summed.iter_mut().zip(&hist[range.clone()]) {
            *s = s.add(h);
        }
    }
    let present: Vec<usize> = (0..n_bins).filter(|&b| summed[b].n > 0).collect();
    if present.len() < 2 {
        return Vec::new();
    }
    let gain_of = |set: &BinSet| -> f64 {
        let mut gain = 0.0;
        for (hist, total) in leaves {
            let h = &hist[range.clone()];
            let left = (0..n_bins)
                .filter(|&b| set.contains(b as u8))
                .fold(Sums::default(), |a, b| a.add(h[b]));
            if let Some(g) = side_gain(left, total.sub(left), *total, rules, true) {
                gain += g;
            }
        }
        gain
    };
    let mut sets = Vec::new();
    if present.len() <= cat.one_vs_rest_max {
        for &b in &present {
            let mut set = BinSet::default();
            set.insert(b);
            sets.push(set);
        }
    } else {
        let (order, max_take) = scan_order(&summed, present, cat);
        let used = order.len();
        for from_high in [false, true] {
            let mut set = BinSet::default();
            for i in 0..used.min(max_take) {
                set.insert(if from_high {
                    order[used - 1 - i]
                } else {
                    order[i]
                });
                sets.push(set);
            }
        }
    }
    sets.into_iter()
        .filter_map(|set| {
            let (levels, default_left) = set.as_cut(missing_bin)?;
            Some((levels, default_left, gain_of(&set)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn s(g: f64, h: f64, n: u32) -> Sums {
        Sums { g, h, n }
    }

    const RULES: SplitRules = SplitRules {
        lambda_l2: 0.0,
        min_data_in_leaf: 1,
        min_sum_hessian: 0.0,
        min_gain: 0.0,
        gain: SplitGain::Hessian,
        categorical: CategoricalRules {
            max_levels: 32,
            smooth: 0.0,
            l2: 0.0,
            min_data_per_group: 1,
            one_vs_rest_max: 2,
        },
    };

    #[test]
    fn row_wise_and_column_wise_histograms_agree_bit_for_bit() {
        use crate::rng::Rng;
        use ndarray::Array2;
        // Five features (more than one column pass holds), one with few bins, some missing.
        let mut rng = Rng::new(3);
        let n = 3_000;
        let x = Array2::from_shape_fn((n, 5), |(_, c)| match c {
            0 => rng.below(3) as f64,
            1 if rng.chance(0.1) => f64::NAN,
            _ => rng.normal(),
        });
        let mapper = BinMapper::fit(x.view(), 255).unwrap();
        let binned = mapper.transform(x.view());
        let row_bins = binned.row_major();
        let layout = Layout::new(&mapper);
        let gh: Vec<[f64; 2]> = (0..n).map(|_| [rng.normal(), rng.normal().abs()]).collect();
        let all: Vec<usize> = (0..5).collect();
        let mut by_columns = vec![Sums::default(); layout.total_bins()];
        build(&mut by_columns, &layout, &binned, &[], &all, None, &gh);
        // The same rows, all of them in order, through the gathered path.
        let rows: Vec<u32> = (0..n as u32).collect();
        let mut by_rows = vec![Sums::default(); layout.total_bins()];
        build(
            &mut by_rows,
            &layout,
            &binned,
            &row_bins,
            &all,
            Some(&rows),
            &gh,
        );
        let bits = |h: &[Sums]| -> Vec<(u64, u64, u32)> {
            h.iter()
                .map(|s| (s.g.to_bits(), s.h.to_bits(), s.n))
                .collect()
        };
        assert_eq!(bits(&by_columns), bits(&by_rows));
        // A subset of rows and of features: each active feature's bins sum its rows alone.
        let some: Vec<u32> = (0..n as u32).filter(|r| r % 3 != 1).collect();
        let gathered: Vec<[f64; 2]> = some.iter().map(|&r| gh[r as usize]).collect();
        let active = [1, 3, 4];
        let mut hist = vec![Sums::default(); layout.total_bins()];
        build(
            &mut hist,
            &layout,
            &binned,
            &row_bins,
            &active,
            Some(&some),
            &gathered,
        );
        for &f in &active {
            let mut expect = vec![Sums::default(); layout.range(f).len()];
            for (&r, &[g, h]) in some.iter().zip(&gathered) {
                let s = &mut expect[binned.get(r as usize, f) as usize];
                s.g += g;
                s.h += h;
                s.n += 1;
            }
            assert_eq!(bits(&hist[layout.range(f)]), bits(&expect), "feature {f}");
        }
    }

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

    /// Bin 0 holds rows the model already predicts with confidence (a small hessian), bins 1
    /// and 2 uncertain rows pulling opposite ways: the second-order gain cuts off bin 0
    /// (1²/0.05 + 1²/5 = 20.2 against 4²/2.55 + 4²/2.5 = 12.7), the row-count gain cuts between
    /// the uncertain bins (4²/20 + 4²/10 = 2.4 against 1²/10 + 1²/20 = 0.15).
    #[test]
    fn the_row_count_gain_weighs_every_row_alike() {
        let hist = [
            s(-1.0, 0.05, 10),
            s(-3.0, 2.5, 10),
            s(4.0, 2.5, 10),
            s(0.0, 0.0, 0),
        ];
        let total = hist.iter().fold(Sums::default(), |a, &b| a.add(b));
        let hessian = best_for_feature(&hist, 0, total, &RULES).unwrap();
        assert_eq!(hessian.bin, 0);
        assert!((hessian.gain - 20.2).abs() < 1e-9, "{}", hessian.gain);
        let rows = SplitRules {
            gain: SplitGain::Rows,
            ..RULES
        };
        let by_rows = best_for_feature(&hist, 0, total, &rows).unwrap();
        assert_eq!(by_rows.bin, 1);
        assert!((by_rows.gain - 2.4).abs() < 1e-9, "{}", by_rows.gain);
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

    #[test]
    fn categorical_split_groups_levels_by_mean_gradient() {
        // Levels 0, 2, 4 hold positives (g < 0), 1, 3 negatives, missing rows lean positive.
        let hist = [
            s(-3.0, 1.0, 5),
            s(3.0, 1.0, 5),
            s(-2.0, 1.0, 5),
            s(2.0, 1.0, 5),
            s(-3.0, 1.0, 5),
            s(-1.0, 1.0, 5),
        ];
        let total = hist.iter().fold(Sums::default(), |a, &b| a.add(b));
        let best = best_categorical(&hist, 2, total, &RULES).unwrap();
        // Ordered by mean gradient: 0, 4, 2, missing, 3, 1; the high end {1, 3} wins.
        assert_eq!(best.levels.unwrap().to_vec(), [1, 3]);
        assert!(!best.default_left);
        // Gain of {1,3} vs the rest: 5²/2 + (-9)²/4 - (-4)²/6.
        assert!(
            (best.gain - (12.5 + 20.25 - 16.0 / 6.0)).abs() < 1e-9,
            "{}",
            best.gain
        );
        // A one-vs-rest search with few levels.
        let few = [s(-3.0, 1.0, 5), s(3.0, 1.0, 5), s(0.0, 0.0, 0)];
        let total = few.iter().fold(Sums::default(), |a, &b| a.add(b));
        let best = best_categorical(&few, 0, total, &RULES).unwrap();
        assert_eq!(best.levels.unwrap().to_vec().len(), 1);
        assert!(!best.default_left);
    }

    #[test]
    fn categorical_rules_skip_small_levels_and_limit_the_cut() {
        // Level 5 holds two rows: below `smooth` it is never on the left.
        let mut hist = vec![Sums::default(); 8];
        for (b, g) in [
            (0, -4.0),
            (1, -3.0),
            (2, 1.0),
            (3, 2.0),
            (4, 3.0),
            (5, -9.0),
        ] {
            hist[b] = s(g, 1.0, if b == 5 { 2 } else { 20 });
        }
        let total = hist.iter().fold(Sums::default(), |a, &b| a.add(b));
        let rules = SplitRules {
            categorical: CategoricalRules {
                smooth: 5.0,
                max_levels: 1,
                ..RULES.categorical
            },
            ..RULES
        };
        let best = best_categorical(&hist, 0, total, &rules).unwrap();
        let left = best.levels.unwrap().to_vec();
        assert_eq!(left.len(), 1, "{left:?}");
        assert!(!left.contains(&5));
    }
}
