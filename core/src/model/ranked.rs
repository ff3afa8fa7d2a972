//! A forest's trees laid out for scoring by threshold rank: the batch path of `ebb score` and
//! the dashboard (issue 13: forest scoring within 3x the boosted model's), and a forest's
//! single-row path too, so a loaded forest holds its nodes in this layout only.
//!
//! Why a third layout: a forest walks ~15 levels per tree against gbdt's ~5, so its block walk
//! is bound by how many nodes and row values stay in the nearest cache. A forest's split
//! thresholds are few per feature (they come from at most 255 histogram bins), so each row value
//! can be replaced once per block by its *rank*, the number of the forest's thresholds of that
//! feature below it. Then `x <= threshold` is exactly `rank(x) <= index of the threshold`, for
//! every value including the thresholds themselves, so scores are equal bit for bit. A node
//! shrinks from 16 bytes ([`crate::model::packed`]) to 8 and a row value from 8 bytes to 2: a
//! 3,600-node tree fits in 29 KB, a 512-row block of 30 features in 30 KB. Both walks (a block
//! of rows, one row through every tree) are the schedulers [`crate::model::packed`] shares.

use alloc::vec;
use alloc::vec::Vec;

use crate::model::packed::{breadth_first, missing_flag, sum_trees, walk_block, MISSING_LEFT};
use crate::model::tree::Tree;

/// Rank of a missing value (NaN, or a feature past the end of a short row); never a threshold's
/// index, so `rank <= index` is false for it and the node's missing direction decides.
const MISSING: u16 = u16::MAX;
/// [`Node::feature`] of a leaf.
const LEAF: u16 = u16::MAX;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Node {
    /// A split's left child (the right child follows it), or'ed with [`MISSING_LEFT`]; a leaf's
    /// index in [`RankedTrees::values`].
    children: u32,
    /// Split feature, or [`LEAF`].
    feature: u16,
    /// Index of the split threshold among the forest's thresholds of `feature`.
    rank: u16,
}

/// The trees of a forest with thresholds replaced by their ranks; sums leaf values in tree
/// order, as the trees themselves would, so scores are equal bit for bit.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedTrees {
    /// Per feature, the distinct thresholds of every split on it, ascending.
    thresholds: Vec<Vec<f64>>,
    nodes: Vec<Node>,
    roots: Vec<u32>,
    values: Vec<f64>,
}

impl RankedTrees {
    /// Lays out `trees` (kept in order), children renumbered breadth first so each node's two
    /// children are adjacent. `None` when ranks cannot express them: a NaN threshold, a feature
    /// index or a per-feature threshold count that does not fit 16 bits, or over 2^31 nodes.
    /// Callers then keep the value-comparing layout.
    pub fn new(trees: &[Tree]) -> Option<Self> {
        let mut thresholds: Vec<Vec<f64>> = Vec::new();
        for tree in trees {
            for node in (0..tree.n_nodes()).filter(|&n| !tree.is_leaf(n)) {
                let (f, t) = (tree.feature[node] as usize, tree.threshold[node]);
                if f >= usize::from(LEAF) || t.is_nan() {
                    return None;
                }
                if thresholds.len() <= f {
                    thresholds.resize(f + 1, Vec::new());
                }
                thresholds[f].push(t);
            }
        }
        for list in &mut thresholds {
            list.sort_unstable_by(f64::total_cmp);
            // -0.0 and 0.0 compare equal, so they are one threshold.
            list.dedup_by(|a, b| a == b);
            if list.len() > usize::from(MISSING) {
                return None;
            }
        }
        let total: usize = trees.iter().map(Tree::n_nodes).sum();
        if total >= MISSING_LEFT as usize {
            return None;
        }
        let mut values = Vec::new();
        let leaf = Node {
            children: 0,
            feature: LEAF,
            rank: 0,
        };
        let (nodes, roots) = breadth_first(trees, leaf, |tree, node, first| {
            let Some(first) = first else {
                values.push(tree.value[node]);
                return Node {
                    children: values.len() as u32 - 1,
                    ..leaf
                };
            };
            let f = tree.feature[node] as usize;
            // The threshold is in the list: its index is the count of smaller ones.
            let rank = thresholds[f].partition_point(|&u| u < tree.threshold[node]) as u16;
            Node {
                children: first as u32 | missing_flag(tree, node),
                feature: f as u16,
                rank,
            }
        });
        Some(RankedTrees {
            thresholds,
            nodes,
            roots,
            values,
        })
    }

    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.roots.len()
    }

    /// `start` plus every tree's output for `row`, added in tree order: equal bit for bit to
    /// adding [`Tree::predict`] over the trees. Features past the end of a short row count as
    /// missing. The row's values are ranked once (a binary search per feature the forest
    /// splits on, far fewer steps than the walk), then every tree walks the 8-byte nodes.
    pub fn sum(&self, start: f64, row: &[f64]) -> f64 {
        let ranks = self.ranks(row, row.len(), 1);
        let nf = self.thresholds.len();
        sum_trees(
            start,
            &self.roots,
            |at| self.step(&ranks, nf, 0, at),
            |at| self.leaf_value(at),
        )
    }

    /// Adds every tree's output for each row of a row-major `block` (`width` values per row)
    /// to `acc`, tree by tree, in tree order: equal bit for bit to summing
    /// [`Tree::predict`] over the trees. Rows shorter than a split's feature read it as
    /// missing.
    pub fn add_to_block(&self, block: &[f64], width: usize, acc: &mut [f64]) {
        let n = acc.len();
        let ranks = self.ranks(block, width, n);
        let nf = self.thresholds.len();
        for &root in &self.roots {
            walk_block(
                n,
                root as usize,
                |r, at| self.step(&ranks, nf, r, at),
                |r, at| acc[r] += self.leaf_value(at),
            );
        }
    }

    /// The rank of every value the trees split on, `n` rows of `self.thresholds.len()` each.
    fn ranks(&self, block: &[f64], width: usize, n: usize) -> Vec<u16> {
        let nf = self.thresholds.len();
        let mut ranks = vec![MISSING; n * nf];
        for (r, out) in ranks.chunks_exact_mut(nf.max(1)).enumerate().take(n) {
            for (f, (rank, list)) in out.iter_mut().zip(&self.thresholds).enumerate() {
                if f >= width {
                    break;
                }
                let x = block.get(r * width + f).copied().unwrap_or(f64::NAN);
                if !x.is_nan() {
                    // Thresholds below x; `x <= t_i` exactly when this is at most i.
                    *rank = list.partition_point(|&t| t < x) as u16;
                }
            }
        }
        ranks
    }

    /// The child of node `at` that row `r` goes to, or `None` at a leaf; branch-free apart from
    /// the leaf test.
    #[inline(always)]
    fn step(&self, ranks: &[u16], nf: usize, r: usize, at: usize) -> Option<usize> {
        let node = self.nodes.get(at).filter(|n| n.feature != LEAF)?;
        let x = ranks
            .get(r * nf + node.feature as usize)
            .copied()
            .unwrap_or(MISSING);
        let go_left = (x <= node.rank) | ((x == MISSING) & (node.children & MISSING_LEFT != 0));
        Some((node.children & !MISSING_LEFT) as usize + usize::from(!go_left))
    }

    fn leaf_value(&self, at: usize) -> f64 {
        self.nodes
            .get(at)
            .and_then(|n| self.values.get(n.children as usize))
            .copied()
            .unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// Thresholds and values drawn from one small grid (with -0.0, 0.0 and the infinities), so
    /// rows often sit exactly on a threshold and trees share thresholds.
    const GRID: [f64; 9] = [
        f64::NEG_INFINITY,
        -1.5,
        -0.5,
        -0.0,
        0.0,
        0.25,
        0.5,
        1.5,
        f64::INFINITY,
    ];

    fn random_tree(rng: &mut Rng, features: usize, splits: usize) -> Tree {
        let mut tree = Tree::leaf(rng.next_f64(), 1.0);
        for _ in 0..splits {
            let leaves: Vec<usize> = (0..tree.n_nodes()).filter(|&n| tree.is_leaf(n)).collect();
            let node = leaves[rng.below(leaves.len())];
            tree.split(
                node,
                rng.below(features),
                GRID[rng.below(GRID.len())],
                rng.next_f64() < 0.5,
                (rng.next_f64(), 1.0),
                (rng.next_f64(), 1.0),
            );
        }
        tree
    }

    fn value(rng: &mut Rng) -> f64 {
        match rng.below(10) {
            0 => f64::NAN,
            1 => rng.next_f64() * 4.0 - 2.0,
            _ => GRID[rng.below(GRID.len())],
        }
    }

    #[test]
    fn adds_like_the_trees_bit_for_bit() {
        let mut rng = Rng::new(5);
        let features = 6;
        let mut trees: Vec<Tree> = (0..17)
            .map(|i| random_tree(&mut rng, features, 1 + (5 * i) % 30))
            .collect();
        trees.insert(3, Tree::leaf(0.75, 1.0));
        let ranked = RankedTrees::new(&trees).expect("grid thresholds rank");
        // Fewer rows than lanes, a few lanes' worth, and a ragged count; full and short rows.
        for (n, width) in [
            (0, features),
            (1, features),
            (5, features),
            (61, features),
            (19, 4),
        ] {
            let block: Vec<f64> = (0..n * width).map(|_| value(&mut rng)).collect();
            let mut acc = vec![0.125; n];
            ranked.add_to_block(&block, width, &mut acc);
            for (r, a) in acc.iter().enumerate() {
                let mut row = block[r * width..(r + 1) * width].to_vec();
                row.resize(features, f64::NAN);
                let expected = trees.iter().fold(0.125, |s, t| s + t.predict(&row));
                assert_eq!(a.to_bits(), expected.to_bits(), "{n} rows, row {r}");
                // One row at a time, short rows as they are: the same bits.
                let single = ranked.sum(0.125, &block[r * width..(r + 1) * width]);
                assert_eq!(single.to_bits(), expected.to_bits(), "{n} rows, row {r}");
            }
        }
    }

    #[test]
    fn a_forest_of_single_leaves_adds_their_values() {
        let trees = [Tree::leaf(0.25, 1.0), Tree::leaf(0.5, 2.0)];
        let ranked = RankedTrees::new(&trees).expect("leaves rank");
        let mut acc = [0.0; 3];
        ranked.add_to_block(&[1.0, f64::NAN, 3.0], 1, &mut acc);
        assert_eq!(acc, [0.75; 3]);
        assert_eq!(ranked.sum(0.0, &[]), 0.75);
        assert_eq!(ranked.n_trees(), 2);
    }

    #[test]
    fn a_nan_threshold_keeps_the_value_layout() {
        let mut tree = Tree::leaf(0.5, 2.0);
        tree.split(0, 0, f64::NAN, true, (0.0, 1.0), (1.0, 1.0));
        assert!(RankedTrees::new(&[tree]).is_none());
    }
}
