//! Fast exact path-dependent TreeSHAP with per-leaf tables computed once per tree (the idea of
//! Fast TreeSHAP v2, Yang 2021, in a closed form of our own).
//!
//! For one leaf with value `v`, let `U` be the distinct features on its path (`d` of them), `z_j`
//! the product of the cover shares of the path's branches on feature `j`, and `A ⊆ U` the
//! features whose every split on the path the row follows. The leaf's game is a product game,
//! and its Shapley values reduce to
//!
//! - `j ∉ A`: `−v · Z(A) · F(A)`,
//! - `j ∈ A`: `v · (1 − z_j) · Z(A) · F(A \ {j})`,
//!
//! with `Z(A) = Π_{k ∈ U∖A} z_k` and `F(T) = Σ_{k=0}^{|T|} k!(d−k−1)!/d! · e_{|T|−k}(z_T)`
//! (`e_m` the elementary symmetric polynomial of the `z` of `T`). `v · F(T)` depends on the row
//! only through `T`, so it is tabulated once per leaf for all `2^d` subsets. Explaining a row then
//! costs one pass over the nodes (which subset `A` each leaf sees) and `O(d)` per leaf, instead
//! of Algorithm 2's `O(d²)` path updates with divisions per leaf.
//!
//! Memory is bounded: a leaf's table has `2^d` entries, so a tree gets tables only when every
//! leaf has at most [`MAX_UNIQUE`] distinct path features and the tree needs at most
//! [`TREE_ENTRIES`] entries (512 KiB), and one explainer holds at most [`TOTAL_ENTRIES`]
//! entries (16 MiB) over all its trees. Other trees keep the plain Algorithm 2 of the parent
//! module, which is exact too; the choice depends only on the model, so one model is always
//! explained the same way on every target.

use alloc::vec;
use alloc::vec::Vec;

use crate::model::tree::{Tree, LEAF};

/// Most distinct features on one leaf's path for which a table is built (4,096 entries).
pub(super) const MAX_UNIQUE: usize = 12;
/// Most table entries (f64) for one tree.
pub(super) const TREE_ENTRIES: usize = 1 << 16;
/// Most table entries (f64) for all trees of one explainer.
pub(super) const TOTAL_ENTRIES: usize = 1 << 21;

/// One leaf's slice of a [`FastTree`]'s flat arrays.
#[derive(Debug, Clone)]
struct Leaf {
    node: u32,
    /// First of its distinct features in `features`, `zero` and `one_minus_zero`.
    start: u32,
    /// Number of distinct features `d`.
    len: u32,
    /// First of its `2^d` entries in `table`.
    table: u32,
}

/// A tree's precomputed tables.
#[derive(Debug, Clone)]
pub(super) struct FastTree {
    /// Per internal node: the bit of its feature's position on the path when the node is the
    /// feature's first split on the path, else 0 (a repeated feature keeps its earlier state).
    first_bit: Vec<u32>,
    /// Per internal node: the bit of its feature's position on the path.
    bit: Vec<u32>,
    leaves: Vec<Leaf>,
    features: Vec<u32>,
    zero: Vec<f64>,
    one_minus_zero: Vec<f64>,
    /// `v · F(T)` per leaf and subset `T` (a bit mask over the leaf's distinct features).
    table: Vec<f64>,
}

/// Reusable buffers for building tables.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    path: Vec<(u32, bool)>,
    poly: Vec<f64>,
}

impl FastTree {
    /// The tables of `tree` (children after parents, features checked), or `None` when the
    /// tree would need more than [`TREE_ENTRIES`] entries or more than `budget` remain.
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
        // Per node: distinct features on the path from the root to it (excluding its own
        // split) and their count; positions follow first occurrence, so they agree on every
        // path through a node.
        let mut distinct = vec![0u32; n];
        let mut first_bit = vec![0u32; n];
        let mut bit = vec![0u32; n];
        let mut entries = 0usize;
        for node in 0..n {
            let f = tree.feature[node];
            if f == LEAF {
                let d = distinct[node] as usize;
                if d > MAX_UNIQUE {
                    return None;
                }
                entries += 1 << d;
                if entries > TREE_ENTRIES.min(budget) {
                    return None;
                }
                continue;
            }
            let (l, r) = (tree.left[node] as usize, tree.right[node] as usize);
            parent[l] = node as u32;
            parent[r] = node as u32;
            // The earlier split on the same feature, if any, fixes the position.
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
            // Positions beyond the mask width only occur on leaves past MAX_UNIQUE, which
            // make the tree fall back above.
            bit[node] = 1u32.checked_shl(position).unwrap_or(0);
            first_bit[node] = if added == 1 { bit[node] } else { 0 };
            distinct[l] = count + added;
            distinct[r] = count + added;
        }
        let mut fast = FastTree {
            first_bit,
            bit,
            leaves: Vec::new(),
            features: Vec::new(),
            zero: Vec::new(),
            one_minus_zero: Vec::new(),
            table: Vec::with_capacity(entries),
        };
        for node in 0..n {
            if tree.feature[node] == LEAF {
                fast.add_leaf(tree, left_share, &parent, node, distinct[node] as usize, scratch);
            }
        }
        Some(fast)
    }

    fn add_leaf(
        &mut self,
        tree: &Tree,
        left_share: &[f64],
        parent: &[u32],
        leaf: usize,
        d: usize,
        scratch: &mut Scratch,
    ) {
        let start = self.features.len();
        self.leaves.push(Leaf {
            node: leaf as u32,
            start: start as u32,
            len: d as u32,
            table: self.table.len() as u32,
        });
        // Root-to-leaf path as (split node, went left).
        scratch.path.clear();
        let mut child = leaf;
        while parent[child] != u32::MAX {
            let p = parent[child] as usize;
            scratch.path.push((p as u32, tree.left[p] as usize == child));
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
        // Shapley weights k!(d−k−1)!/d! for coalitions of k of the other d − 1 features.
        let fact = |k: usize| (1..=k).fold(1.0, |a, i| a * i as f64);
        let weights: Vec<f64> = (0..d)
            .map(|k| fact(k) * fact(d - k - 1) / fact(d))
            .collect();
        // Elementary symmetric polynomials of every subset, built from the subset without its
        // highest feature: e(T) = e(T ∖ {j}) · (1 + z_j t).
        let width = d + 1;
        scratch.poly.clear();
        scratch.poly.resize((1 << d) * width, 0.0);
        scratch.poly[0] = 1.0;
        let value = tree.value[leaf];
        self.table.push(value * weights.first().copied().unwrap_or(0.0));
        for mask in 1usize..1 << d {
            let top = usize::BITS - 1 - mask.leading_zeros();
            let prev = (mask ^ (1 << top)) * width;
            let z = zero[top as usize];
            let here = mask * width;
            let size = mask.count_ones() as usize;
            for k in (0..=size).rev() {
                let lower = if k == 0 {
                    0.0
                } else {
                    scratch.poly[prev + k - 1]
                };
                scratch.poly[here + k] = scratch.poly[prev + k] + z * lower;
            }
            // The full set never needs a value: with every feature followed there is no
            // feature outside A, and A ∖ {j} is smaller.
            let f = if size < d {
                (0..=size)
                    .map(|k| weights[k] * scratch.poly[here + size - k])
                    .sum::<f64>()
            } else {
                0.0
            };
            self.table.push(value * f);
        }
    }

    /// Adds the tree's Shapley values for row `x` into `phi`. `masks` needs one slot per node.
    pub(super) fn shap(&self, tree: &Tree, x: &[f64], phi: &mut [f64], masks: &mut [u32]) {
        let n = tree.n_nodes().min(masks.len());
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
        for leaf in &self.leaves {
            let a = masks.get(leaf.node as usize).copied().unwrap_or(0) as usize;
            let (s, d) = (leaf.start as usize, leaf.len as usize);
            let features = &self.features[s..s + d];
            let zero = &self.zero[s..s + d];
            let one_minus_zero = &self.one_minus_zero[s..s + d];
            let table = &self.table[leaf.table as usize..leaf.table as usize + (1 << d)];
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
            let outside = -z_out * table[a];
            for (p, (&f, &omz)) in features.iter().zip(one_minus_zero).enumerate() {
                let b = 1 << p;
                phi[f as usize] += if a & b != 0 {
                    omz * z_out * table[a ^ b]
                } else {
                    outside
                };
            }
        }
    }

    /// Table entries held.
    pub(super) fn entries(&self) -> usize {
        self.table.len()
    }
}
