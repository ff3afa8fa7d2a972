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
//! `O(leaves · d²)` for Algorithm 2. The work is three loops, each doing the same steps for
//! every element, so that which child is a leaf never decides a branch: splits down (the factor
//! of the branch into each split, its product, its weights), leaves (a leaf's terms in its
//! parent's sum and contribution), splits up (sum below and contribution from the children's
//! terms, then the split's own terms for its parent). Memory: a copy of the splits and leaves
//! with the branch into each, plus `q` numbers per split on a feature already split on above
//! it. Trees with a leaf of more than [`MAX_UNIQUE`] distinct features keep Algorithm 2. Every operation runs in a fixed order, so a model is
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

/// The branch from a split into one of its children: what the branch's factor needs besides
/// the row's decisions at the split.
#[derive(Debug, Clone)]
struct Branch {
    /// The split it leaves.
    parent: u32,
    /// 0 for the parent's left branch, 1 for its right.
    side: u32,
    /// Cover share of the branch.
    share: f64,
    /// `share` times the cover share of the parent's feature's earlier branches on the path (1
    /// when none): the factor's `z` when the row followed those.
    zero: f64,
    /// The parent's row of `inverse_old` for the feature's old factor (row 0, all ones, when
    /// the parent's feature was not split on above it).
    inverse: u32,
}

/// One internal node, with what both passes read of it in one place.
#[derive(Debug, Clone)]
struct Split {
    threshold: f64,
    feature: u32,
    /// Left and right child as a slot: a split index, or the number of splits plus a leaf
    /// index (leaves have slots in the per-row terms, so both children are read alike).
    children: [u32; 2],
    /// Index in `repeats`, or [`FIRST`].
    repeat: u32,
    /// Its row of the per-row corrections: its own when it is some repeat's `below` (the
    /// leaves under that repeat are taken out of its sum), else the row after the splits',
    /// which stays zero (subtracting zero gives the same bits as not subtracting, and which
    /// splits are corrected is too irregular for a branch).
    correction: u32,
    /// What this split's own step needs of its feature's earlier splits, set for every split so
    /// that the kernel has no branch on whether there are any: the slot whose state says
    /// whether the row followed them all (the root, always open, when none), and the row of
    /// `inverse_old` for the old factor (row 0, all ones, when none). Multiplying by these
    /// ones gives the same bits as leaving them out.
    watch: u32,
    inverse: u32,
    default_left: bool,
    /// The branch into this split (the root's is never read).
    into: Branch,
}

/// A leaf: its value and the branch into it.
#[derive(Debug, Clone)]
struct Leaf {
    value: f64,
    into: Branch,
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

/// A tree's precomputed data: its splits in tree order (parents first), its leaves, and what
/// repeated splits on one feature need.
#[derive(Debug, Clone)]
pub(super) struct FastTree {
    /// Index of the tree's rule in [`RULE_SIZES`].
    rule: usize,
    splits: Vec<Split>,
    leaves: Vec<Leaf>,
    repeats: Vec<Repeat>,
    /// Ones at the rule's points, then per repeat `1 / (t + (1 − t) · zero)` at them.
    inverse_old: Vec<f64>,
    /// The splits that are some repeat's `below`, in tree order.
    targets: Vec<u32>,
    /// Per split, the level codes a categorical split sends left (empty for a threshold);
    /// empty when the tree has no categorical split.
    levels: Vec<Vec<u32>>,
}

/// Reusable per-row buffers, grown on demand.
#[derive(Debug, Clone, Default)]
pub(super) struct Buffers {
    /// Per split: the row goes left; the row has left an earlier branch on its feature; the
    /// row followed every branch on the feature of the split above it, through to it.
    goes_left: Vec<bool>,
    left_before: Vec<bool>,
    open: Vec<bool>,
    /// Per split: `Σ weighted`, and the `o − z` of the branch into it.
    weighted_sum: Vec<f64>,
    open_minus_zero: Vec<f64>,
    /// Per slot (splits, then leaves): the child's term in its parent's contribution.
    term_phi: Vec<f64>,
    /// Arrays of `q` values: per split the path product, the factor of the branch into it and
    /// the weights times the product; per split and one more the correction; per slot the
    /// child's term in its parent's sum below.
    quad: Vec<f64>,
}

impl Buffers {
    /// Buffers sized for trees of up to `slots` nodes with rules of up to `points` points.
    pub(super) fn with_capacity(slots: usize, points: usize) -> Self {
        Buffers {
            goes_left: vec![false; slots],
            left_before: vec![false; slots],
            open: vec![false; slots],
            weighted_sum: vec![0.0; slots],
            open_minus_zero: vec![0.0; slots],
            term_phi: vec![0.0; slots],
            quad: vec![0.0; 5 * slots * points],
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
        // Per node, the branch into it, set when its parent (earlier in tree order) is read.
        let root = Branch {
            parent: 0,
            side: 0,
            share: 1.0,
            zero: 1.0,
            inverse: 0,
        };
        let mut into = vec![root; n];
        let mut splits = Vec::with_capacity(n_splits as usize);
        let mut leaves = Vec::with_capacity(n_leaves as usize);
        let mut levels = Vec::new();
        let mut repeats = Vec::new();
        let mut widest = 0;
        for node in 0..n {
            let f = tree.feature[node];
            if f == LEAF {
                widest = widest.max(distinct[node]);
                leaves.push(Leaf {
                    value: tree.value[node],
                    into: into[node].clone(),
                });
                continue;
            }
            let (l, r) = (tree.left[node] as usize, tree.right[node] as usize);
            parent_node[l] = node as u32;
            parent_node[r] = node as u32;
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
            let shares = [left_share[node], 1.0 - left_share[node]];
            for (side, child) in [l, r].into_iter().enumerate() {
                into[child] = Branch {
                    parent: index[node],
                    side: side as u32,
                    share: shares[side],
                    zero: zero * shares[side],
                    inverse,
                };
            }
            if !tree.categories.is_empty() {
                levels.push(tree.categories[node].clone());
            }
            splits.push(Split {
                threshold: tree.threshold[node],
                feature: f,
                children: [index[l], index[r]],
                repeat,
                correction: n_splits,
                watch,
                inverse,
                default_left: tree.default_left[node],
                into: into[node].clone(),
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
        for rep in &repeats {
            splits[rep.below as usize].correction = rep.below;
        }
        let targets = (0..n_splits)
            .filter(|&i| splits[i as usize].correction == i)
            .collect();
        Some(FastTree {
            rule,
            splits,
            leaves,
            repeats,
            inverse_old,
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
        self.splits.len() + self.leaves.len()
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
            *buffers = Buffers::with_capacity(slots, Q);
        }
        if buffers.quad.len() < 5 * slots * Q {
            buffers.quad.resize(5 * slots * Q, 0.0);
        }
        let goes = &mut buffers.goes_left[..k];
        let left_before = &mut buffers.left_before[..k];
        let open = &mut buffers.open[..k];
        let weighted_sum = &mut buffers.weighted_sum[..k];
        let open_minus_zero = &mut buffers.open_minus_zero[..k];
        let term_phi = &mut buffers.term_phi[..slots];
        let (quad, _) = buffers.quad.as_chunks_mut::<Q>();
        let (product, quad) = quad.split_at_mut(k);
        let (factor, quad) = quad.split_at_mut(k);
        let (weighted, quad) = quad.split_at_mut(k);
        let (correction, quad) = quad.split_at_mut(k + 1);
        let term_below = &mut quad[..slots];
        let inverses: &[[f64; Q]] = self.inverse_old.as_chunks::<Q>().0;
        // The factor of branch `b` at the points, given the row's decision at its parent and
        // whether the row left an earlier branch on the parent's feature (the factor is then
        // the cover share alone); whether the row has then followed every branch on the
        // feature; and the branch's `o − z`. With earlier splits on the feature the new factor
        // is divided by the old one (`inverse`); without, zero and inverse hold ones. Both
        // forms are computed and picked: which one applies depends on the row.
        let branch = |b: &Branch, go_left: bool, left: bool| -> ([f64; Q], bool, f64) {
            let followed = go_left == (b.side == 0);
            // 1 or 0 by conversion, not `select`: the compiler turns a select on `followed`,
            // which is the row's coin flip, into a branch.
            let o = f64::from(u8::from(followed));
            let inverse = &inverses[b.inverse as usize];
            let mut m = [0.0; Q];
            for q in 0..Q {
                m[q] = select(
                    left,
                    b.share,
                    (o * t[q] + one_minus_t[q] * b.zero) * inverse[q],
                );
            }
            let open = followed & !left;
            // When the row left an earlier branch, the old factor is (1 − t)·zero and
            // o − z = −zero·share: the zeros cancel, leaving 1/(1 − t) (in `weighted`) and
            // −share.
            // For a branch the row did not follow `0 − zero` is `−zero` (up to the sign of a
            // zero, which the contribution's sum, starting at +0, drops).
            let zero = select(left, b.share, b.zero);
            (m, open, f64::from(u8::from(open)) - zero)
        };

        // Down, splits in tree order: the factor of the branch into each split and the product
        // of factors along its path; then the split's own decision and its weights times the
        // product without the feature's earlier factor (every child's dot product takes them).
        product[0] = [1.0; Q];
        open[0] = true;
        for (i, s) in self.splits.iter().enumerate() {
            if i > 0 {
                let b = &s.into;
                let parent = b.parent as usize;
                let (m, is_open, o_minus_z) = branch(b, goes[parent], left_before[parent]);
                open[i] = is_open;
                open_minus_zero[i] = o_minus_z;
                factor[i] = m;
                let p = product[parent];
                for q in 0..Q {
                    product[i][q] = p[q] * m[q];
                }
            }
            goes[i] = goes_left(s, self.levels.get(i), x);
            // Whether the row has left one of the feature's earlier branches (the root, watched
            // when there are none, is open).
            let left = !open[s.watch as usize];
            left_before[i] = left;
            let p = &product[i];
            let inverse = &inverses[s.inverse as usize];
            for q in 0..Q {
                weighted[i][q] =
                    select(left, w_over_one_minus_t[q] * p[q], w[q] * p[q] * inverse[q]);
            }
            weighted_sum[i] = weighted[i].iter().sum::<f64>();
        }

        // Leaves: a leaf's term in its parent's sum below is its factor times its value, and
        // its dot product with the parent's weights is its value times their sum (that order
        // of rounding).
        for (l, leaf) in self.leaves.iter().enumerate() {
            let b = &leaf.into;
            let parent = b.parent as usize;
            let (m, _, o_minus_z) = branch(b, goes[parent], left_before[parent]);
            let v = leaf.value;
            for q in 0..Q {
                term_below[k + l][q] = m[q] * v;
            }
            term_phi[k + l] = o_minus_z * (v * weighted_sum[parent]);
        }

        // Up, splits in reverse: each split's sum below and contribution from its children's
        // terms (a child split's come first), then its own terms for its parent.
        for &target in &self.targets {
            correction[target as usize] = [0.0; Q];
        }
        correction[k] = [0.0; Q];
        for (i, s) in self.splits.iter().enumerate().rev() {
            let [left_child, right_child] = s.children.map(|c| c as usize);
            let mut sum = [0.0; Q];
            for q in 0..Q {
                sum[q] += term_below[left_child][q];
            }
            for q in 0..Q {
                sum[q] += term_below[right_child][q];
            }
            let mut contribution = 0.0;
            contribution += term_phi[left_child];
            contribution += term_phi[right_child];
            if let Some(slot) = phi.get_mut(s.feature as usize) {
                *slot += contribution;
            }
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
                    at = self.splits[at].into.parent as usize;
                }
                for q in 0..Q {
                    correction[target][q] += scaled[q];
                }
            }
            if i == 0 {
                break;
            }
            // The weighted dot product with the parent's weights of the sum below, without the
            // leaves under later splits on the parent's feature.
            let parent = &weighted[s.into.parent as usize];
            let d = &correction[s.correction as usize];
            let mut dot = 0.0;
            for q in 0..Q {
                dot += parent[q] * (sum[q] - d[q]);
            }
            term_phi[i] = open_minus_zero[i] * dot;
            let m = &factor[i];
            for q in 0..Q {
                term_below[i][q] = m[q] * sum[q];
            }
        }
    }
}
