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
//! rule, or tabulated per repeated split when the tree is prepared.
//!
//! Cost per row and tree: `O(nodes · q)` multiply-adds on arrays of length `q` (vectorised),
//! against `O(leaves · d²)` for Algorithm 2. Memory: a few numbers per node, plus `q` per split
//! on a feature already split on above it. Trees with a leaf of more than [`MAX_UNIQUE`]
//! distinct features keep Algorithm 2. Every operation runs in a fixed order, so a model is
//! explained identically on every target.

use alloc::vec;
use alloc::vec::Vec;

use crate::model::tree::{Tree, LEAF};

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
    /// The child of the nearest earlier split on the feature, on the way to this split: its
    /// state says whether the row followed every earlier branch, and the leaves under this
    /// split are taken out of its sum.
    below: u32,
}

/// A tree's precomputed data.
#[derive(Debug, Clone)]
pub(super) struct FastTree {
    /// Index of the tree's rule in [`RULE_SIZES`].
    rule: usize,
    parent: Vec<u32>,
    /// Per node: its index in `repeats`, or [`FIRST`].
    repeat: Vec<u32>,
    repeats: Vec<Repeat>,
    /// Per repeat, `1 / (t + (1 − t) · zero)` at the rule's points.
    inverse_old: Vec<f64>,
    /// Per node: whether it is some repeat's `below` (its sum needs a correction).
    corrected: Vec<bool>,
    /// The nodes marked in `corrected`.
    targets: Vec<u32>,
}

/// Reusable per-row buffers, grown on demand.
#[derive(Debug, Clone, Default)]
pub(super) struct Buffers {
    /// Per node: whether the row followed every branch on the feature of the split above it.
    open: Vec<bool>,
    /// Four arrays of `nodes × q` values: path products, branch factors, sums below, and
    /// corrections.
    quad: Vec<f64>,
}

impl Buffers {
    /// Buffers sized for trees of up to `nodes` nodes with rules of up to `points` points.
    pub(super) fn with_capacity(nodes: usize, points: usize) -> Self {
        Buffers {
            open: vec![false; nodes],
            quad: vec![0.0; 4 * nodes * points],
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
        let mut parent = vec![u32::MAX; n];
        let mut distinct = vec![0usize; n];
        let mut repeat = vec![FIRST; n];
        let mut repeats = Vec::new();
        let mut corrected = vec![false; n];
        let mut widest = 0;
        for node in 0..n {
            let f = tree.feature[node];
            if f == LEAF {
                widest = widest.max(distinct[node]);
                continue;
            }
            let (l, r) = (tree.left[node] as usize, tree.right[node] as usize);
            parent[l] = node as u32;
            parent[r] = node as u32;
            // Walk up: the share of the feature's earlier branches, and the nearest one.
            let (mut child, mut zero, mut below) = (node, 1.0, None);
            while parent[child] != u32::MAX {
                let p = parent[child] as usize;
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
            let added = match below {
                Some(below) => {
                    repeat[node] = repeats.len() as u32;
                    repeats.push(Repeat {
                        zero,
                        below: below as u32,
                    });
                    corrected[below] = true;
                    0
                }
                None => 1,
            };
            distinct[l] = distinct[node] + added;
            distinct[r] = distinct[node] + added;
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
        let targets = (0..n as u32).filter(|&c| corrected[c as usize]).collect();
        Some(FastTree {
            rule,
            parent,
            repeat,
            repeats,
            inverse_old,
            corrected,
            targets,
        })
    }

    /// Points of the tree's rule.
    pub(super) fn points(&self) -> usize {
        RULE_SIZES[self.rule]
    }

    /// Adds the tree's Shapley values for row `x` into `phi`.
    pub(super) fn shap(
        &self,
        tree: &Tree,
        left_share: &[f64],
        rules: &Rules,
        x: &[f64],
        phi: &mut [f64],
        buffers: &mut Buffers,
    ) {
        let rule = &rules.0[self.rule];
        match RULE_SIZES[self.rule] {
            2 => self.shap_with::<2>(tree, left_share, rule, x, phi, buffers),
            3 => self.shap_with::<3>(tree, left_share, rule, x, phi, buffers),
            4 => self.shap_with::<4>(tree, left_share, rule, x, phi, buffers),
            5 => self.shap_with::<5>(tree, left_share, rule, x, phi, buffers),
            6 => self.shap_with::<6>(tree, left_share, rule, x, phi, buffers),
            8 => self.shap_with::<8>(tree, left_share, rule, x, phi, buffers),
            12 => self.shap_with::<12>(tree, left_share, rule, x, phi, buffers),
            _ => self.shap_with::<16>(tree, left_share, rule, x, phi, buffers),
        }
    }

    fn shap_with<const Q: usize>(
        &self,
        tree: &Tree,
        left_share: &[f64],
        rule: &Rule,
        x: &[f64],
        phi: &mut [f64],
        buffers: &mut Buffers,
    ) {
        let n = tree.n_nodes();
        let (Ok(t), Ok(one_minus_t), Ok(w), Ok(w_over_one_minus_t)) = (
            <&[f64; Q]>::try_from(rule.t.as_slice()),
            <&[f64; Q]>::try_from(rule.one_minus_t.as_slice()),
            <&[f64; Q]>::try_from(rule.w.as_slice()),
            <&[f64; Q]>::try_from(rule.w_over_one_minus_t.as_slice()),
        ) else {
            return;
        };
        if buffers.open.len() < n {
            buffers.open.resize(n, false);
        }
        if buffers.quad.len() < 4 * n * Q {
            buffers.quad.resize(4 * n * Q, 0.0);
        }
        let open = &mut buffers.open[..n];
        let (quad, _) = buffers.quad.as_chunks_mut::<Q>();
        let (product, quad) = quad.split_at_mut(n);
        let (factor, quad) = quad.split_at_mut(n);
        let (below, quad) = quad.split_at_mut(n);
        let correction = &mut quad[..n];
        let inverse_old = |i: usize| -> &[f64; Q] {
            let all: &[[f64; Q]] = self.inverse_old.as_chunks::<Q>().0;
            &all[i]
        };

        // Down: the row's branch states and the product of factors along every path (leaves
        // need only their factor).
        product[0] = [1.0; Q];
        for node in 0..n {
            let f = tree.feature[node];
            if f == LEAF {
                continue;
            }
            let xv = x.get(f as usize).copied().unwrap_or(f64::NAN);
            let go_left = if xv.is_nan() {
                tree.default_left[node]
            } else {
                xv <= tree.threshold[node]
            };
            let (l, r) = (tree.left[node] as usize, tree.right[node] as usize);
            let share = left_share[node];
            let parent_product = product[node];
            for (child, followed, share) in [(l, go_left, share), (r, !go_left, 1.0 - share)] {
                let o = if followed { 1.0 } else { 0.0 };
                let mut m = [0.0; Q];
                match self.repeat[node] {
                    FIRST => {
                        open[child] = followed;
                        for q in 0..Q {
                            m[q] = o * t[q] + one_minus_t[q] * share;
                        }
                    }
                    i => {
                        let rep = &self.repeats[i as usize];
                        if open[rep.below as usize] {
                            open[child] = followed;
                            let z = rep.zero * share;
                            let inv = inverse_old(i as usize);
                            for q in 0..Q {
                                m[q] = (o * t[q] + one_minus_t[q] * z) * inv[q];
                            }
                        } else {
                            // Already left on this feature: only its cover share shrinks.
                            open[child] = false;
                            m = [share; Q];
                        }
                    }
                }
                factor[child] = m;
                if tree.feature[child] != LEAF {
                    let mut p = [0.0; Q];
                    for q in 0..Q {
                        p[q] = parent_product[q] * m[q];
                    }
                    product[child] = p;
                }
            }
        }

        // Up: sums below each split, and every split's contribution.
        for &target in &self.targets {
            correction[target as usize] = [0.0; Q];
        }
        for node in (0..n).rev() {
            let f = tree.feature[node];
            if f == LEAF {
                continue;
            }
            let (l, r) = (tree.left[node] as usize, tree.right[node] as usize);
            let share = left_share[node];
            let p = &product[node];
            // Weights times the product without this feature's earlier factor; the cover share
            // of the earlier branches enters each child's coefficient o − z.
            let mut weighted = [0.0; Q];
            let mut zero_before = 1.0;
            match self.repeat[node] {
                FIRST => {
                    for q in 0..Q {
                        weighted[q] = w[q] * p[q];
                    }
                }
                i => {
                    let rep = &self.repeats[i as usize];
                    if open[rep.below as usize] {
                        zero_before = rep.zero;
                        let inv = inverse_old(i as usize);
                        for q in 0..Q {
                            weighted[q] = w[q] * p[q] * inv[q];
                        }
                    } else {
                        // The old factor is (1 − t)·zero and o − z = −zero·share: the zeros
                        // cancel, leaving 1/(1 − t) and −share.
                        for q in 0..Q {
                            weighted[q] = w_over_one_minus_t[q] * p[q];
                        }
                    }
                }
            }
            let mut contribution = 0.0;
            let mut sum = [0.0; Q];
            for (child, share) in [(l, share), (r, 1.0 - share)] {
                let m = &factor[child];
                let dot = if tree.feature[child] == LEAF {
                    let v = tree.value[child];
                    for q in 0..Q {
                        sum[q] += m[q] * v;
                    }
                    v * weighted.iter().sum::<f64>()
                } else {
                    let b = &below[child];
                    let mut dot = 0.0;
                    if self.corrected[child] {
                        let c = &correction[child];
                        for q in 0..Q {
                            dot += weighted[q] * (b[q] - c[q]);
                        }
                    } else {
                        for q in 0..Q {
                            dot += weighted[q] * b[q];
                        }
                    }
                    for q in 0..Q {
                        sum[q] += m[q] * b[q];
                    }
                    dot
                };
                let zero = zero_before * share;
                let open_minus_zero = if open[child] { 1.0 - zero } else { -zero };
                contribution += open_minus_zero * dot;
            }
            if let Some(slot) = phi.get_mut(f as usize) {
                *slot += contribution;
            }
            below[node] = sum;
            if let Some(rep) = self.repeats.get(self.repeat[node] as usize) {
                // This split's leaves leave the sum of the earlier split's child: scale them by
                // the factors in between and hand them up (descendants come first going up).
                let target = rep.below as usize;
                let mut scaled = sum;
                let mut at = node;
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
