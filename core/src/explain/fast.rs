//! Fast exact path-dependent TreeSHAP: per-leaf data computed once per tree, then `O(d)` to
//! `O(|A|²)` work per leaf and row, with no division (in the spirit of Fast TreeSHAP v2, Yang
//! 2021, in a closed form of our own).
//!
//! For one leaf with value `v`, let `U` be the distinct features on its path (`d` of them), `z_j`
//! the product of the cover shares of the path's branches on feature `j`, and `A ⊆ U` the
//! features whose every split on the path the row follows. The leaf's game is a product game,
//! and its Shapley values reduce to
//!
//! - `j ∉ A`: `−v · Z(A) · F(A)`,
//! - `j ∈ A`: `v · (1 − z_j) · Z(A) · F(A ∖ {j})`,
//!
//! with `Z(A) = Π_{k ∈ U∖A} z_k` and `F(T) = Σ_{k=0}^{|T|} k!(d−k−1)!/d! · e_{|T|−k}(z_T)`
//! (`e_m` the elementary symmetric polynomial of the `z` of `T`). One forward sweep over the
//! nodes gives every leaf its `A`. `v · F(T)` depends on the row only through `T`, so for a leaf
//! with few distinct features it is tabulated for all `2^d` subsets and a row costs `O(d)`
//! look-ups; other leaves build `e(A)` (`O(|A|²)`) and get each `e(A ∖ {j})` by dividing out
//! `(1 + z_j t)` (`O(|A|)`). Algorithm 2 of the parent module needs `O(d²)` path updates with
//! divisions per leaf.
//!
//! Memory is bounded: tables only for leaves with at most [`TABLE_UNIQUE`] distinct features
//! (16 entries, 128 bytes each) and at most [`TOTAL_ENTRIES`] entries (8 MiB) per explainer, in
//! tree order; everything else is `O(path length)` per leaf. Trees with a leaf of more than
//! [`MAX_UNIQUE`] distinct features (the width of the bit masks) keep Algorithm 2. Which leaves
//! get tables depends only on the model, and every operation runs in a fixed order, so a model
//! is explained identically on every target.

use alloc::vec;
use alloc::vec::Vec;

use crate::model::tree::{Tree, LEAF};

/// Most distinct features on one leaf's path this module handles (bits of a `u64` mask).
pub(super) const MAX_UNIQUE: usize = 64;
/// Most distinct features of a leaf that gets a table (`2^4` entries).
pub(super) const TABLE_UNIQUE: usize = 4;
/// Most table entries (f64) for all trees of one explainer.
pub(super) const TOTAL_ENTRIES: usize = 1 << 20;

/// Marks a leaf without a table.
const NO_TABLE: u32 = u32::MAX;

/// One leaf's slice of a [`FastTree`]'s flat arrays.
#[derive(Debug, Clone)]
struct Leaf {
    node: u32,
    /// First of its distinct features in `features`, `zero` and `one_minus_zero`.
    start: u32,
    /// Number of distinct features `d`.
    len: u32,
    /// First of its `2^d` entries in `table`, or [`NO_TABLE`].
    table: u32,
    value: f64,
}

/// A tree's precomputed per-leaf data.
#[derive(Debug, Clone)]
pub(super) struct FastTree {
    /// Per internal node: the bit of its feature's position on the path when the node is the
    /// feature's first split on the path, else 0 (a repeated feature keeps its earlier state).
    first_bit: Vec<u64>,
    /// Per internal node: the bit of its feature's position on the path.
    bit: Vec<u64>,
    leaves: Vec<Leaf>,
    features: Vec<u32>,
    zero: Vec<f64>,
    one_minus_zero: Vec<f64>,
    /// Shapley weights `k!(d−k−1)!/d!`, `k < d`, for every `d` up to the tree's largest, the
    /// row of `d` starting at `d(d−1)/2`.
    weights: Vec<f64>,
    /// `v · F(T)` per tabled leaf and subset `T` (a bit mask over the leaf's features).
    table: Vec<f64>,
}

/// Reusable buffers for building tables.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    path: Vec<(u32, bool)>,
    poly: Vec<f64>,
}

fn weight_row(d: usize) -> core::ops::Range<usize> {
    d * d.saturating_sub(1) / 2..d * (d + 1) / 2
}

impl FastTree {
    /// The per-leaf data of `tree` (children after parents, features checked), with tables
    /// while `budget` entries remain, or `None` when a leaf has more than [`MAX_UNIQUE`]
    /// distinct features.
    pub(super) fn new(
        tree: &Tree,
        left_share: &[f64],
        budget: usize,
        scratch: &mut Scratch,
    ) -> Option<Self> {
        let n = tree.n_nodes();
        if n < 2 {
            return None;
        }
        let mut parent = vec![u32::MAX; n];
        // Per node: the number of distinct features on the path from the root to it
        // (excluding its own split). Positions follow first occurrence, so they agree on every
        // path through a node.
        let mut distinct = vec![0u32; n];
        let mut first_bit = vec![0u64; n];
        let mut bit = vec![0u64; n];
        let mut widest = 0;
        for node in 0..n {
            let f = tree.feature[node];
            if f == LEAF {
                let d = distinct[node] as usize;
                if d > MAX_UNIQUE {
                    return None;
                }
                widest = widest.max(d);
                continue;
            }
            let (l, r) = (tree.left[node] as usize, tree.right[node] as usize);
            parent[l] = node as u32;
            parent[r] = node as u32;
            let mut p = parent[node];
            let mut earlier = None;
            while p != u32::MAX {
                if tree.feature[p as usize] == f {
                    earlier = Some(p as usize);
                }
                p = parent[p as usize];
            }
            let count = distinct[node];
            let (position, added) = match earlier {
                Some(e) => (bit[e].trailing_zeros(), 0),
                None => (count, 1),
            };
            // Positions past the mask width only occur above leaves past MAX_UNIQUE, which
            // make the tree fall back above.
            bit[node] = 1u64.checked_shl(position).unwrap_or(0);
            first_bit[node] = if added == 1 { bit[node] } else { 0 };
            distinct[l] = count + added;
            distinct[r] = count + added;
        }
        let fact = |k: usize| (1..=k).fold(1.0, |a, i| a * i as f64);
        let weights = (0..=widest)
            .flat_map(|d| (0..d).map(move |k| (k, d)))
            .map(|(k, d)| fact(k) * fact(d - k - 1) / fact(d))
            .collect();
        let mut fast = FastTree {
            first_bit,
            bit,
            leaves: Vec::new(),
            features: Vec::new(),
            zero: Vec::new(),
            one_minus_zero: Vec::new(),
            weights,
            table: Vec::new(),
        };
        let mut budget = budget;
        for (node, &d) in distinct.iter().enumerate() {
            if tree.feature[node] == LEAF {
                let d = d as usize;
                let tabled = d <= TABLE_UNIQUE && (1 << d) <= budget;
                if tabled {
                    budget -= 1 << d;
                }
                fast.add_leaf(tree, left_share, &parent, node, d, tabled, scratch);
            }
        }
        Some(fast)
    }

    #[allow(clippy::too_many_arguments)]
    fn add_leaf(
        &mut self,
        tree: &Tree,
        left_share: &[f64],
        parent: &[u32],
        leaf: usize,
        d: usize,
        tabled: bool,
        scratch: &mut Scratch,
    ) {
        let start = self.features.len();
        let value = tree.value[leaf];
        self.leaves.push(Leaf {
            node: leaf as u32,
            start: start as u32,
            len: d as u32,
            table: if tabled {
                self.table.len() as u32
            } else {
                NO_TABLE
            },
            value,
        });
        // Root-to-leaf path as (split node, went left).
        scratch.path.clear();
        let mut child = leaf;
        while parent[child] != u32::MAX {
            let p = parent[child] as usize;
            scratch
                .path
                .push((p as u32, tree.left[p] as usize == child));
            child = p;
        }
        scratch.path.reverse();
        self.features.resize(start + d, 0);
        self.zero.resize(start + d, 1.0);
        for &(node, went_left) in &scratch.path {
            let node = node as usize;
            let position = self.bit[node].trailing_zeros() as usize;
            let share = if went_left {
                left_share[node]
            } else {
                1.0 - left_share[node]
            };
            self.features[start + position] = tree.feature[node];
            self.zero[start + position] *= share;
        }
        let zero = &self.zero[start..start + d];
        self.one_minus_zero.extend(zero.iter().map(|z| 1.0 - z));
        if !tabled {
            return;
        }
        let weights = &self.weights[weight_row(d)];
        // Elementary symmetric polynomials of every subset, built from the subset without its
        // highest feature: e(T) = e(T ∖ {j}) · (1 + z_j t).
        let width = d + 1;
        scratch.poly.clear();
        scratch.poly.resize((1 << d) * width, 0.0);
        scratch.poly[0] = 1.0;
        self.table
            .push(value * weights.first().copied().unwrap_or(0.0));
        for mask in 1usize..1 << d {
            let top = usize::BITS - 1 - mask.leading_zeros();
            let prev = (mask ^ (1 << top)) * width;
            let z = zero[top as usize];
            let here = mask * width;
            let size = mask.count_ones() as usize;
            scratch.poly[here] = 1.0;
            for k in 1..=size {
                scratch.poly[here + k] = scratch.poly[prev + k] + z * scratch.poly[prev + k - 1];
            }
            // The full set never needs a value: with every feature followed there is no
            // feature outside A, and A ∖ {j} is smaller.
            let f = if size < d {
                f_of(weights, &scratch.poly[here..here + size + 1])
            } else {
                0.0
            };
            self.table.push(value * f);
        }
    }

    /// Widest leaf (distinct features) of the tree: the polynomial buffer of
    /// [`FastTree::shap`] needs this length plus one.
    pub(super) fn widest(&self) -> usize {
        self.leaves
            .iter()
            .map(|l| l.len as usize)
            .max()
            .unwrap_or(0)
    }

    /// Adds the tree's Shapley values for row `x` into `phi`. `masks` needs one slot per node,
    /// `poly` [`FastTree::widest`]` + 1`.
    pub(super) fn shap(
        &self,
        tree: &Tree,
        x: &[f64],
        phi: &mut [f64],
        masks: &mut [u64],
        poly: &mut [f64],
    ) {
        let n = tree.n_nodes().min(masks.len());
        if n == 0 {
            return;
        }
        masks[0] = 0;
        // Children come after parents, so one forward sweep gives every node the set of path
        // features (by position) whose splits the row has followed so far.
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
            let (hot, cold) = if go_left { (l, r) } else { (r, l) };
            let m = masks[node];
            if let Some(slot) = masks.get_mut(hot) {
                *slot = m | self.first_bit[node];
            }
            if let Some(slot) = masks.get_mut(cold) {
                *slot = m & !self.bit[node];
            }
        }
        let e = poly;
        for leaf in &self.leaves {
            let a = masks.get(leaf.node as usize).copied().unwrap_or(0);
            let (s, d) = (leaf.start as usize, leaf.len as usize);
            let features = &self.features[s..s + d];
            let zero = &self.zero[s..s + d];
            let one_minus_zero = &self.one_minus_zero[s..s + d];
            let mut z_out = 1.0;
            for (p, &z) in zero.iter().enumerate() {
                if a & (1 << p) == 0 {
                    z_out *= z;
                }
            }
            if z_out == 0.0 {
                // A feature the row leaves has an uncovered branch here: no subset reaches it.
                continue;
            }
            if leaf.table != NO_TABLE {
                let t = leaf.table as usize;
                let table = &self.table[t..t + (1 << d)];
                let a = a as usize;
                let outside = -z_out * table[a];
                for (p, (&f, &omz)) in features.iter().zip(one_minus_zero).enumerate() {
                    let b = 1 << p;
                    phi[f as usize] += if a & b != 0 {
                        omz * z_out * table[a ^ b]
                    } else {
                        outside
                    };
                }
                continue;
            }
            let weights = &self.weights[weight_row(d)];
            // e(A), adding A's features in position order.
            let mut size = 0;
            e[0] = 1.0;
            for (p, &z) in zero.iter().enumerate() {
                if a & (1 << p) != 0 {
                    size += 1;
                    e[size] = z * e[size - 1];
                    for k in (1..size).rev() {
                        e[k] += z * e[k - 1];
                    }
                }
            }
            let e = &e[..=size];
            let vz = leaf.value * z_out;
            let outside = if size < d {
                -vz * f_of(weights, e)
            } else {
                0.0
            };
            let w = &weights[..size];
            for (p, ((&f, &z), &omz)) in features.iter().zip(zero).zip(one_minus_zero).enumerate() {
                if a & (1 << p) == 0 {
                    phi[f as usize] += outside;
                    continue;
                }
                // F(A ∖ {p}) while dividing e(A) by (1 + z_p t) (synthetic division):
                // q_0 = 1, q_k = e_k − z_p · q_{k−1}, F = Σ_k w_{size−1−k} · q_k.
                let mut q = 0.0;
                let mut f_sum = 0.0;
                for (&ek, &wk) in e.iter().zip(w.iter().rev()) {
                    q = ek - z * q;
                    f_sum += wk * q;
                }
                phi[f as usize] += omz * vz * f_sum;
            }
        }
    }

    /// Table entries held.
    pub(super) fn entries(&self) -> usize {
        self.table.len()
    }
}

/// `F(T) = Σ_k w_k · e_{|T|−k}(z_T)` from `e(T)` (`|T| + 1` coefficients, `|T| < d`).
fn f_of(weights: &[f64], e: &[f64]) -> f64 {
    let size = e.len() - 1;
    let mut f = 0.0;
    for (k, w) in weights.iter().take(size + 1).enumerate() {
        f += w * e[size - k];
    }
    f
}
