//! Fast exact path-dependent TreeSHAP: one pass down and one pass up a tree per row, a few
//! operations on a small vector per node, no per-leaf work and no division.
//!
//! For one leaf with value `v`, the distinct features `U` on its path (`d` of them) each have a
//! cover share `z_k` (the product of the shares of the path's branches on `k`) and an indicator
//! `o_k` (1 when the row follows every branch on `k`). The leaf's game is a product game, and
//! with `g_k(t) = o_k·t + z_k·(1 − t)` the Shapley weights `s!(d−s−1)!/d!` are Beta integrals, so
//!
//! `φ_j = v · (o_j − z_j) · ∫₀¹ Π_{k ∈ U∖{j}} g_k(t) dt`.
//!
//! The integrand is a polynomial of degree `d − 1`, so a Gauss–Legendre rule of `q ≥ d/2` points
//! integrates it exactly. At each point the product over the path factorises along the tree:
//! the pass down multiplies each node's vector `P` (the product of its path's factors at the
//! `q` points) by its branch's factor (or, on a feature split again, by the ratio of the
//! feature's new factor to its old one); the pass up sums `v · Π factors below a child` over the
//! leaves under it (`B`). A split's contribution to its feature is then `(o − z)` times the
//! weighted dot product of the parent's `P` without the feature's earlier factor and the
//! child's `B` restricted to leaves with no later split on the same feature (the mass under
//! such a later split, scaled by the factors in between, is subtracted: it belongs to that
//! split). Every factor's reciprocal that this needs is either `1/(1 − t)`, a constant of the
//! rule, or tabulated per repeated split when the tree is prepared. (Linear TreeShap, Yu et al.
//! 2022, also evaluates this integral form along the tree, with polynomials instead.)
//!
//! Cost per row and tree: `O(splits · q)` multiply-adds on arrays of length `q`, against
//! `O(leaves · d²)` for Algorithm 2; leaves are handled in their parent's step. Memory: a copy of
//! the splits and leaf values, plus `q` numbers per split on a feature already split on above it. Trees with a leaf of more than [`MAX_UNIQUE`]
//! distinct features keep Algorithm 2. Every operation runs in a fixed order, so a model is
//! explained identically on every target.

use alloc::vec;
use alloc::vec::Vec;

use crate::model::tree::{in_levels, Tree, LEAF};

/// Gauss–Legendre rule sizes compiled in; a tree uses the smallest exact for its widest leaf.
/// (Each size is a separate instantiation of the row loop, which costs code size in wasm.)
const RULE_SIZES: [usize; 8] = [2, 3, 4, 5, 6, 8, 12, 16];
/// Most distinct features on one leaf's path this module handles: a rule of `q` points is exact
/// up to degree `2q − 1`, and a leaf with `d` distinct features needs degree `d − 1`.
pub(super) const MAX_UNIQUE: usize = 2 * RULE_SIZES[RULE_SIZES.len() - 1];

/// Marks a split whose feature was not split on above it.
const FIRST: u32 = u32::MAX;

/// A Gauss–Legendre rule on `[0, 1]`: points `t`, `1 − t`, weights `w` and `w / (1 − t)`.
#[derive(Debug, Clone)]
struct Rule {
    t: Vec<f64>,
    one_minus_t: Vec<f64>,
    w: Vec<f64>,
    w_over_one_minus_t: Vec<f64>,
}

impl Rule {
    /// The `q`-point rule, by Newton's method on the Legendre polynomial (`libm`, so every
    /// target gets the same bits).
    fn new(q: usize) -> Self {
        let mut rule = Rule {
            t: Vec::with_capacity(q),
            one_minus_t: Vec::with_capacity(q),
            w: Vec::with_capacity(q),
            w_over_one_minus_t: Vec::with_capacity(q),
        };
        for i in 0..q {
            // Root i of P_q on [−1, 1], largest first; the cosine guess is within Newton's reach.
            let mut x = libm::cos(core::f64::consts::PI * (i as f64 + 0.75) / (q as f64 + 0.5));
            for _ in 0..100 {
                let (value, slope) = legendre(q, x);
                let step = value / slope;
                x -= step;
                if step.abs() <= 1e-16 {
                    break;
                }
            }
            let derivative = legendre(q, x).1;
            // Map [−1, 1] to [0, 1] with t = (1 − x) / 2, ascending in i.
            let t = (1.0 - x) / 2.0;
            let w = 1.0 / ((1.0 - x * x) * derivative * derivative);
            rule.t.push(t);
            rule.one_minus_t.push(1.0 - t);
            rule.w.push(w);
            rule.w_over_one_minus_t.push(w / (1.0 - t));
        }
        rule
    }
}

/// `(P_q(x), P_q'(x))` by the three-term recurrence.
fn legendre(q: usize, x: f64) -> (f64, f64) {
    let (mut previous, mut current) = (1.0, x);
    for k in 2..=q {
        let k = k as f64;
        let next = ((2.0 * k - 1.0) * x * current - (k - 1.0) * previous) / k;
        previous = current;
        current = next;
    }
    if q == 0 {
        return (1.0, 0.0);
    }
    (current, q as f64 * (x * current - previous) / (x * x - 1.0))
}

/// The rules of every compiled size, built once per explainer.
#[derive(Debug, Clone)]
pub(super) struct Rules(Vec<Rule>);

impl Default for Rules {
    fn default() -> Self {
        Rules(RULE_SIZES.iter().map(|&q| Rule::new(q)).collect())
    }
}

/// A split on a feature already split on above it.
#[derive(Debug, Clone)]
struct Repeat {
    /// Cover share of the feature's earlier branches on the path.
    zero: f64,
    /// The split below the nearest earlier split on the feature, on the way to this one (or
    /// this one): its state says whether the row followed every earlier branch, and the leaves
    /// under this split are taken out of its sum.
    below: u32,
}

/// One internal node, with what both passes read of it in one place.
#[derive(Debug, Clone)]
struct Split {
    threshold: f64,
    /// Cover share of the left and of the right branch (`1 − left`, computed once).
    shares: [f64; 2],
    feature: u32,
    /// Left and right child as a slot: a split index, or the number of splits plus a leaf
    /// index (a leaf has a slot too, so both passes treat every child alike).
    children: [u32; 2],
    /// Index in `repeats`, or [`FIRST`].
    repeat: u32,
    /// What both passes need of the feature's earlier splits, set for every split so that the
    /// kernel has no branch on whether there are any: their cover share (1 when none), the
    /// slot whose state says whether the row followed them all (the root, always open, when
    /// none), and the row of `inverse_old` for the old factor (row 0, all ones, when none).
    /// Multiplying by these ones gives the same bits as leaving them out.
    zero: f64,
    watch: u32,
    inverse: u32,
    default_left: bool,
}

/// Whether row `x` takes split `s`'s left branch: the tree's decision, in one place for both
/// passes (a missing or absent feature goes where the split sends missing values; a
/// categorical split, one with `levels`, sends the listed level codes left).
#[inline(always)]
fn goes_left(s: &Split, levels: Option<&Vec<u32>>, x: &[f64]) -> bool {
    let xv = x.get(s.feature as usize).copied().unwrap_or(f64::NAN);
    if xv.is_nan() {
        s.default_left
    } else if let Some(left) = levels.filter(|l| !l.is_empty()) {
        in_levels(left, xv)
    } else {
        xv <= s.threshold
    }
}

/// `if pick { a } else { b }` without a branch: which child is a leaf differs from split to
/// split and tree to tree, so a branch on it is mispredicted about as often as not.
#[inline(always)]
fn select(pick: bool, a: f64, b: f64) -> f64 {
    let mask = u64::from(pick).wrapping_neg();
    f64::from_bits((a.to_bits() & mask) | (b.to_bits() & !mask))
}

/// A tree's precomputed data: its splits in tree order (parents first), leaf values, and what
/// repeated splits on one feature need.
#[derive(Debug, Clone)]
pub(super) struct FastTree {
    /// Index of the tree's rule in [`RULE_SIZES`].
    rule: usize,
    splits: Vec<Split>,
    /// Per slot: 0 for a split, the leaf's value for a leaf.
    values: Vec<f64>,
    /// Per split, the split above it (the root points at itself).
    parent: Vec<u32>,
    repeats: Vec<Repeat>,
    /// Ones at the rule's points, then per repeat `1 / (t + (1 − t) · zero)` at them.
    inverse_old: Vec<f64>,
    /// Per slot (splits, then leaves): whether it is some repeat's `below` (its sum needs a
    /// correction).
    corrected: Vec<bool>,
    /// The splits marked in `corrected`.
    targets: Vec<u32>,
    /// Per split, the level codes a categorical split sends left (empty for a threshold);
    /// empty when the tree has no categorical split.
    levels: Vec<Vec<u32>>,
}

/// Reusable per-row buffers, grown on demand.
#[derive(Debug, Clone, Default)]
pub(super) struct Buffers {
    /// Per slot (splits, then leaves): whether the row followed every branch on the feature of
    /// the split above it.
    open: Vec<bool>,
    /// Four arrays of `slots × q` values: path products, the factor of the branch into each
    /// slot, sums below, and corrections.
    quad: Vec<f64>,
}

impl Buffers {
    /// Buffers sized for trees of up to `slots` nodes with rules of up to `points` points.
    pub(super) fn with_capacity(slots: usize, points: usize) -> Self {
        Buffers {
            open: vec![false; slots],
            quad: vec![0.0; 4 * slots * points],
        }
    }
}

impl FastTree {
    /// The data of `tree` (children after parents, features checked), or `None` for a single
    /// leaf or when a leaf has more than [`MAX_UNIQUE`] distinct features.
    pub(super) fn new(tree: &Tree, left_share: &[f64], rules: &Rules) -> Option<Self> {
        let n = tree.n_nodes();
        if n < 2 {
            return None;
        }
        // Node id -> slot: split index, or the number of splits plus the leaf index; tree order
        // keeps parents first.
        let n_splits = tree.feature.iter().filter(|&&f| f != LEAF).count() as u32;
        let mut index = vec![0u32; n];
        let (mut next_split, mut n_leaves) = (0u32, 0u32);
        for (node, slot) in index.iter_mut().enumerate() {
            if tree.feature[node] == LEAF {
                *slot = n_splits + n_leaves;
                n_leaves += 1;
            } else {
                *slot = next_split;
                next_split += 1;
            }
        }
        let mut parent_node = vec![u32::MAX; n];
        let mut distinct = vec![0usize; n];
        let mut splits = Vec::with_capacity(n_splits as usize);
        let mut levels = Vec::new();
        let mut parent = Vec::with_capacity(n_splits as usize);
        let mut values = vec![0.0; n_splits as usize];
        let mut repeats = Vec::new();
        let mut widest = 0;
        for node in 0..n {
            let f = tree.feature[node];
            if f == LEAF {
                widest = widest.max(distinct[node]);
                values.push(tree.value[node]);
                continue;
            }
            let (l, r) = (tree.left[node] as usize, tree.right[node] as usize);
            parent_node[l] = node as u32;
            parent_node[r] = node as u32;
            parent.push(match parent_node[node] {
                u32::MAX => 0,
                p => index[p as usize],
            });
            // Walk up: the share of the feature's earlier branches, and the nearest one.
            let (mut child, mut zero, mut below) = (node, 1.0, None);
            while parent_node[child] != u32::MAX {
                let p = parent_node[child] as usize;
                if tree.feature[p] == f {
                    zero *= if tree.left[p] as usize == child {
                        left_share[p]
                    } else {
                        1.0 - left_share[p]
                    };
                    below.get_or_insert(child);
                }
                child = p;
            }
            let repeat = match below {
                Some(below) => {
                    repeats.push(Repeat {
                        zero,
                        below: index[below],
                    });
                    repeats.len() as u32 - 1
                }
                None => FIRST,
            };
            let added = usize::from(repeat == FIRST);
            distinct[l] = distinct[node] + added;
            distinct[r] = distinct[node] + added;
            let (zero, watch, inverse) = match repeats.get(repeat as usize) {
                Some(rep) => (rep.zero, rep.below, repeat + 1),
                None => (1.0, 0, 0),
            };
            if !tree.categories.is_empty() {
                levels.push(tree.categories[node].clone());
            }
            splits.push(Split {
                threshold: tree.threshold[node],
                shares: [left_share[node], 1.0 - left_share[node]],
                feature: f,
                children: [index[l], index[r]],
                repeat,
                zero,
                watch,
                inverse,
                default_left: tree.default_left[node],
            });
        }
        if widest > MAX_UNIQUE {
            return None;
        }
        let rule = RULE_SIZES.iter().position(|&q| 2 * q >= widest)?;
        let t = &rules.0[rule].t;
        let inverse_old = t
            .iter()
            .map(|_| 1.0)
            .chain(
                repeats
                    .iter()
                    .flat_map(|rep| t.iter().map(move |&t| 1.0 / (t + (1.0 - t) * rep.zero))),
            )
            .collect();
        let mut corrected = vec![false; values.len()];
        for rep in &repeats {
            corrected[rep.below as usize] = true;
        }
        let targets = (0..corrected.len() as u32)
            .filter(|&c| corrected[c as usize])
            .collect();
        Some(FastTree {
            rule,
            splits,
            values,
            parent,
            repeats,
            inverse_old,
            corrected,
            targets,
            levels,
        })
    }

    /// Points of the tree's rule.
    pub(super) fn points(&self) -> usize {
        RULE_SIZES[self.rule]
    }

    /// Slots (splits and leaves) of the tree: what [`Buffers`] hold per row.
    pub(super) fn n_slots(&self) -> usize {
        self.values.len()
    }

    /// Adds the tree's Shapley values for row `x` into `phi`.
    pub(super) fn shap(&self, rules: &Rules, x: &[f64], phi: &mut [f64], buffers: &mut Buffers) {
        let rule = &rules.0[self.rule];
        match RULE_SIZES[self.rule] {
            2 => self.shap_with::<2>(rule, x, phi, buffers),
            3 => self.shap_with::<3>(rule, x, phi, buffers),
            4 => self.shap_with::<4>(rule, x, phi, buffers),
            5 => self.shap_with::<5>(rule, x, phi, buffers),
            6 => self.shap_with::<6>(rule, x, phi, buffers),
            8 => self.shap_with::<8>(rule, x, phi, buffers),
            12 => self.shap_with::<12>(rule, x, phi, buffers),
            _ => self.shap_with::<16>(rule, x, phi, buffers),
        }
    }

    fn shap_with<const Q: usize>(
        &self,
        rule: &Rule,
        x: &[f64],
        phi: &mut [f64],
        buffers: &mut Buffers,
    ) {
        let k = self.splits.len();
        let slots = self.n_slots();
        let (Ok(t), Ok(one_minus_t), Ok(w), Ok(w_over_one_minus_t)) = (
            <&[f64; Q]>::try_from(rule.t.as_slice()),
            <&[f64; Q]>::try_from(rule.one_minus_t.as_slice()),
            <&[f64; Q]>::try_from(rule.w.as_slice()),
            <&[f64; Q]>::try_from(rule.w_over_one_minus_t.as_slice()),
        ) else {
            return;
        };
        if buffers.open.len() < slots {
            buffers.open.resize(slots, false);
        }
        if buffers.quad.len() < 4 * slots * Q {
            buffers.quad.resize(4 * slots * Q, 0.0);
        }
        let open = &mut buffers.open[..slots];
        let (quad, _) = buffers.quad.as_chunks_mut::<Q>();
        let (product, quad) = quad.split_at_mut(slots);
        let (factor, quad) = quad.split_at_mut(slots);
        let (below, quad) = quad.split_at_mut(slots);
        let correction = &mut quad[..slots];
        let inverses: &[[f64; Q]] = self.inverse_old.as_chunks::<Q>().0;
        // Whether the row has left one of split `s`'s feature's earlier branches: its factor
        // is then the cover share alone (the root, watched when there are none, is open).
        let left_before = |s: &Split, open: &[bool]| !open[s.watch as usize];
        // The factor of a branch the row follows or leaves, with cover share `share`, and
        // whether the row has then followed every branch on the feature. With earlier splits
        // on the feature the new factor is divided by the old one (`inverse`); without, zero
        // and inverse are ones. Both forms are computed and picked: which one applies depends
        // on the row.
        let branch = |s: &Split, left: bool, followed: bool, share: f64| -> ([f64; Q], bool) {
            let o = select(followed, 1.0, 0.0);
            let z = s.zero * share;
            let inverse = &inverses[s.inverse as usize];
            let mut m = [0.0; Q];
            for q in 0..Q {
                m[q] = select(left, share, (o * t[q] + one_minus_t[q] * z) * inverse[q]);
            }
            (m, followed & !left)
        };

        // Down: the row's branches, the factor of every branch and the product of factors
        // along every path. Leaves get their factor here too (and a product nobody reads), so
        // every child takes the same steps: no branch on which children are leaves.
        open[0] = true;
        product[0] = [1.0; Q];
        for (i, s) in self.splits.iter().enumerate() {
            let go_left = goes_left(s, self.levels.get(i), x);
            let left = left_before(s, open);
            let p = product[i];
            for side in 0..2 {
                let (m, child_open) = branch(s, left, go_left == (side == 0), s.shares[side]);
                let c = s.children[side] as usize;
                open[c] = child_open;
                factor[c] = m;
                // A leaf's sum below is its value at every point (a split's is written going
                // up, before its parent reads it).
                below[c] = [self.values[c]; Q];
                for q in 0..Q {
                    product[c][q] = p[q] * m[q];
                }
            }
        }

        // Up: sums below each split, and every split's contribution.
        for &target in &self.targets {
            correction[target as usize] = [0.0; Q];
        }
        for (i, s) in self.splits.iter().enumerate().rev() {
            let left = left_before(s, open);
            let p = &product[i];
            let inverse = &inverses[s.inverse as usize];
            // Weights times the product without this feature's earlier factor; the cover share
            // of the earlier branches enters each child's coefficient o − z. When the row left
            // an earlier branch, the old factor is (1 − t)·zero and o − z = −zero·share: the
            // zeros cancel, leaving 1/(1 − t) and −share.
            let mut weighted = [0.0; Q];
            for q in 0..Q {
                weighted[q] = select(left, w_over_one_minus_t[q] * p[q], w[q] * p[q] * inverse[q]);
            }
            let zero_before = select(left, 1.0, s.zero);
            // Σ weighted: a leaf child's dot product is its value times it.
            let weighted_sum = weighted.iter().sum::<f64>();
            let mut contribution = 0.0;
            let mut sum = [0.0; Q];
            for side in 0..2 {
                let c = s.children[side] as usize;
                // A leaf's dot product is its value times Σ weighted (that order of rounding),
                // a split's is summed from `below`: both are computed and the right one picked.
                let leaf = c >= k;
                let v = self.values[c];
                let (b, m) = (&below[c], &factor[c]);
                let mut dot = 0.0;
                if self.corrected[c] {
                    let d = &correction[c];
                    for q in 0..Q {
                        dot += weighted[q] * (b[q] - d[q]);
                    }
                } else {
                    for q in 0..Q {
                        dot += weighted[q] * b[q];
                    }
                }
                let dot = select(leaf, v * weighted_sum, dot);
                for q in 0..Q {
                    sum[q] += m[q] * b[q];
                }
                let zero = zero_before * s.shares[side];
                let open_minus_zero = select(open[c], 1.0 - zero, -zero);
                contribution += open_minus_zero * dot;
            }
            if let Some(slot) = phi.get_mut(s.feature as usize) {
                *slot += contribution;
            }
            below[i] = sum;
            if let Some(rep) = self.repeats.get(s.repeat as usize) {
                // This split's leaves leave the sum of the earlier split's child: scale them by
                // the factors in between and hand them up (descendants come first going up).
                let target = rep.below as usize;
                let mut scaled = sum;
                let mut at = i;
                while at != target {
                    for q in 0..Q {
                        scaled[q] *= factor[at][q];
                    }
                    at = self.parent[at] as usize;
                }
                for q in 0..Q {
                    correction[target][q] += scaled[q];
                }
            }
        }
    }
}
