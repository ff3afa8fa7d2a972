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

/// Marks a child that is a leaf (the rest of the bits index `leaf_values`).
const LEAF_CHILD: u32 = 1 << 31;

/// One internal node, with what both passes read of it in one place.
#[derive(Debug, Clone)]
struct Split {
    threshold: f64,
    /// Cover share of the left branch.
    left_share: f64,
    feature: u32,
    /// Left and right child: a split index, or [`LEAF_CHILD`] and a leaf index.
    children: [u32; 2],
    /// Index in `repeats`, or [`FIRST`].
    repeat: u32,
    default_left: bool,
}

/// A tree's precomputed data: its splits in tree order (parents first), leaf values, and what
/// repeated splits on one feature need.
#[derive(Debug, Clone)]
pub(super) struct FastTree {
    /// Index of the tree's rule in [`RULE_SIZES`].
    rule: usize,
    splits: Vec<Split>,
    leaf_values: Vec<f64>,
    /// Per split, the split above it (the root points at itself).
    parent: Vec<u32>,
    repeats: Vec<Repeat>,
    /// Per repeat, `1 / (t + (1 − t) · zero)` at the rule's points.
    inverse_old: Vec<f64>,
    /// Per split: whether it is some repeat's `below` (its sum needs a correction).
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
    /// Per split: whether the row took its left branch.
    went_left: Vec<bool>,
    /// Per split: whether the row followed every branch on the feature of the split above it.
    open: Vec<bool>,
    /// Four arrays of `splits × q` values: path products, the factor of the branch into each
    /// split, sums below, and corrections.
    quad: Vec<f64>,
}

impl Buffers {
    /// Buffers sized for trees of up to `splits` splits with rules of up to `points` points.
    pub(super) fn with_capacity(splits: usize, points: usize) -> Self {
        Buffers {
            went_left: vec![false; splits],
            open: vec![false; splits],
            quad: vec![0.0; 4 * splits * points],
        }
    }
}

/// How a split's feature stands on the path above it.
#[derive(Clone, Copy)]
enum Earlier<'a, const Q: usize> {
    /// Not split on above.
    None,
    /// Split on above, every branch followed: the old factor is `t + (1 − t)·zero`.
    Followed(f64, &'a [f64; Q]),
    /// Split on above and some branch left: the old factor is `(1 − t)·zero`.
    Left,
}

impl FastTree {
    /// The data of `tree` (children after parents, features checked), or `None` for a single
    /// leaf or when a leaf has more than [`MAX_UNIQUE`] distinct features.
    pub(super) fn new(tree: &Tree, left_share: &[f64], rules: &Rules) -> Option<Self> {
        let n = tree.n_nodes();
        if n < 2 {
            return None;
        }
        // Node id -> split index or LEAF_CHILD | leaf index; tree order keeps parents first.
        let mut index = vec![0u32; n];
        let (mut n_splits, mut n_leaves) = (0u32, 0u32);
        for (node, slot) in index.iter_mut().enumerate() {
            if tree.feature[node] == LEAF {
                *slot = LEAF_CHILD | n_leaves;
                n_leaves += 1;
            } else {
                *slot = n_splits;
                n_splits += 1;
            }
        }
        let mut parent_node = vec![u32::MAX; n];
        let mut distinct = vec![0usize; n];
        let mut splits = Vec::with_capacity(n_splits as usize);
        let mut levels = Vec::new();
        let mut parent = Vec::with_capacity(n_splits as usize);
        let mut leaf_values = Vec::with_capacity(n_leaves as usize);
        let mut repeats = Vec::new();
        let mut widest = 0;
        for node in 0..n {
            let f = tree.feature[node];
            if f == LEAF {
                widest = widest.max(distinct[node]);
                leaf_values.push(tree.value[node]);
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
            if !tree.categories.is_empty() {
                levels.push(tree.categories[node].clone());
            }
            splits.push(Split {
                threshold: tree.threshold[node],
                left_share: left_share[node],
                feature: f,
                children: [index[l], index[r]],
                repeat,
                default_left: tree.default_left[node],
            });
        }
        if widest > MAX_UNIQUE {
            return None;
        }
        let rule = RULE_SIZES.iter().position(|&q| 2 * q >= widest)?;
        let t = &rules.0[rule].t;
        let inverse_old = repeats
            .iter()
            .flat_map(|rep| t.iter().map(move |&t| 1.0 / (t + (1.0 - t) * rep.zero)))
            .collect();
        let mut corrected = vec![false; splits.len()];
        for rep in &repeats {
            corrected[rep.below as usize] = true;
        }
        let targets = (0..splits.len() as u32)
            .filter(|&c| corrected[c as usize])
            .collect();
        Some(FastTree {
            rule,
            splits,
            leaf_values,
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

    /// Splits (internal nodes) of the tree.
    pub(super) fn n_splits(&self) -> usize {
        self.splits.len()
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

    /// How split `s`'s feature stands above it, given the branch states so far.
    fn earlier<'a, const Q: usize>(&'a self, s: &Split, open: &[bool]) -> Earlier<'a, Q> {
        let Some(rep) = self.repeats.get(s.repeat as usize) else {
            return Earlier::None;
        };
        if !open[rep.below as usize] {
            return Earlier::Left;
        }
        let inverse: &[[f64; Q]] = self.inverse_old.as_chunks::<Q>().0;
        Earlier::Followed(rep.zero, &inverse[s.repeat as usize])
    }

    fn shap_with<const Q: usize>(
        &self,
        rule: &Rule,
        x: &[f64],
        phi: &mut [f64],
        buffers: &mut Buffers,
    ) {
        let k = self.splits.len();
        let (Ok(t), Ok(one_minus_t), Ok(w), Ok(w_over_one_minus_t)) = (
            <&[f64; Q]>::try_from(rule.t.as_slice()),
            <&[f64; Q]>::try_from(rule.one_minus_t.as_slice()),
            <&[f64; Q]>::try_from(rule.w.as_slice()),
            <&[f64; Q]>::try_from(rule.w_over_one_minus_t.as_slice()),
        ) else {
            return;
        };
        if buffers.open.len() < k {
            buffers.open.resize(k, false);
            buffers.went_left.resize(k, false);
        }
        if buffers.quad.len() < 4 * k * Q {
            buffers.quad.resize(4 * k * Q, 0.0);
        }
        let open = &mut buffers.open[..k];
        let went_left = &mut buffers.went_left[..k];
        let (quad, _) = buffers.quad.as_chunks_mut::<Q>();
        let (product, quad) = quad.split_at_mut(k);
        let (factor, quad) = quad.split_at_mut(k);
        let (below, quad) = quad.split_at_mut(k);
        let correction = &mut quad[..k];
        // The factor of a branch the row follows or leaves, with cover share `share`, and
        // whether the row has then followed every branch on the feature.
        let branch = |earlier: Earlier<'_, Q>, followed: bool, share: f64| -> ([f64; Q], bool) {
            let o = if followed { 1.0 } else { 0.0 };
            let mut m = [0.0; Q];
            match earlier {
                Earlier::None => {
                    for q in 0..Q {
                        m[q] = o * t[q] + one_minus_t[q] * share;
                    }
                    (m, followed)
                }
                Earlier::Followed(zero, inverse) => {
                    let z = zero * share;
                    for q in 0..Q {
                        m[q] = (o * t[q] + one_minus_t[q] * z) * inverse[q];
                    }
                    (m, followed)
                }
                // Already left on this feature: only its cover share shrinks.
                Earlier::Left => ([share; Q], false),
            }
        };

        // Down: the row's branches and the product of factors along every path to a split.
        product[0] = [1.0; Q];
        for (i, s) in self.splits.iter().enumerate() {
            let xv = x.get(s.feature as usize).copied().unwrap_or(f64::NAN);
            let go_left = if xv.is_nan() {
                s.default_left
            } else if let Some(left) = self.levels.get(i).filter(|l| !l.is_empty()) {
                in_levels(left, xv)
            } else {
                xv <= s.threshold
            };
            went_left[i] = go_left;
            let earlier = self.earlier::<Q>(s, open);
            let p = product[i];
            for (side, &child) in s.children.iter().enumerate() {
                if child & LEAF_CHILD != 0 {
                    continue;
                }
                let share = if side == 0 {
                    s.left_share
                } else {
                    1.0 - s.left_share
                };
                let (m, child_open) = branch(earlier, go_left == (side == 0), share);
                let c = child as usize;
                open[c] = child_open;
                factor[c] = m;
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
            let earlier = self.earlier::<Q>(s, open);
            let p = &product[i];
            // Weights times the product without this feature's earlier factor; the cover share
            // of the earlier branches enters each child's coefficient o − z.
            let mut weighted = [0.0; Q];
            let mut zero_before = 1.0;
            match earlier {
                Earlier::None => {
                    for q in 0..Q {
                        weighted[q] = w[q] * p[q];
                    }
                }
                Earlier::Followed(zero, inverse) => {
                    zero_before = zero;
                    for q in 0..Q {
                        weighted[q] = w[q] * p[q] * inverse[q];
                    }
                }
                // The old factor is (1 − t)·zero and o − z = −zero·share: the zeros cancel,
                // leaving 1/(1 − t) and −share.
                Earlier::Left => {
                    for q in 0..Q {
                        weighted[q] = w_over_one_minus_t[q] * p[q];
                    }
                }
            }
            let go_left = went_left[i];
            let mut contribution = 0.0;
            let mut sum = [0.0; Q];
            // Σ weighted, the same for both leaf children: summed once.
            let mut weighted_sum = None;
            for (side, &child) in s.children.iter().enumerate() {
                let share = if side == 0 {
                    s.left_share
                } else {
                    1.0 - s.left_share
                };
                let (dot, child_open) = if child & LEAF_CHILD != 0 {
                    let v = self.leaf_values[(child & !LEAF_CHILD) as usize];
                    let (m, child_open) = branch(earlier, go_left == (side == 0), share);
                    for q in 0..Q {
                        sum[q] += m[q] * v;
                    }
                    let total = *weighted_sum.get_or_insert_with(|| weighted.iter().sum::<f64>());
                    (v * total, child_open)
                } else {
                    let c = child as usize;
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
                    for q in 0..Q {
                        sum[q] += m[q] * b[q];
                    }
                    (dot, open[c])
                };
                let zero = zero_before * share;
                let open_minus_zero = if child_open { 1.0 - zero } else { -zero };
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
