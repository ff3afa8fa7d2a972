//! Trees laid out for scoring by threshold rank: the batch path of `ebb score` and the
//! dashboard for forests and boosted models (issue 13: forest scoring within 3x the boosted
//! model's, `ebb score` within 0.5x pandas + LightGBM), and a forest's single-row path too, so a
//! loaded forest holds its nodes in this layout only.
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
//!
//! A boosted model's native categorical splits (a set of level codes goes left) rank too: a
//! feature that set splits test is ranked by its level code itself, and a set split's node
//! holds the index of its bitset instead of a threshold's. Its step tests both ways and picks by
//! the node's kind with arithmetic, not a branch: a gbdt (177 trees, ~5 set splits each) scored
//! a 200,000-row file in 0.77x the CPU of the 16-byte value layout, whose set test was a
//! branch on every step (BENCHMARKS.md, "Scoring speed").

use alloc::vec;
use alloc::vec::Vec;

use crate::model::packed::{
    breadth_first, missing_flag, push_set, sum_trees, walk_block, CATEGORICAL, CHILD, MISSING_LEFT,
    SET_WORDS,
};
use crate::model::tree::Tree;

/// Rank of a missing value (NaN, or a feature past the end of a short row); never a threshold's
/// index, so `rank <= index` is false for it and the node's missing direction decides.
const MISSING: u16 = u16::MAX;
/// [`Node::feature`] of a leaf.
const LEAF: u16 = u16::MAX;
/// Rank of a categorical feature's value that is no level code (a fraction, a negative, a code
/// past 255): in no set, so it goes right at every set split, as [`Tree::goes_left`] sends it.
const NO_LEVEL: u16 = 64 * SET_WORDS as u16;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Node {
    /// A split's left child (the right child follows it), or'ed with [`MISSING_LEFT`]; a leaf's
    /// index in [`RankedTrees::values`].
    children: u32,
    /// Split feature, or [`LEAF`].
    feature: u16,
    /// Index of the split threshold among the forest's thresholds of `feature`; at a
    /// categorical split (children or'ed with [`CATEGORICAL`]), the index of its set of
    /// left-going level codes in [`RankedTrees::sets`].
    rank: u16,
}

/// The trees of a forest with thresholds replaced by their ranks; sums leaf values in tree
/// order, as the trees themselves would, so scores are equal bit for bit.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedTrees {
    /// Per feature, the distinct thresholds of every split on it, ascending.
    thresholds: Vec<Vec<f64>>,
    /// Per feature, whether set splits test it: its rank is then the level code itself.
    categorical: Vec<bool>,
    /// Bitsets of the level codes set splits send left, [`SET_WORDS`] words each.
    sets: Vec<u64>,
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
        let mut categorical: Vec<bool> = Vec::new();
        let mut set_splits = 0usize;
        for tree in trees {
            for node in (0..tree.n_nodes()).filter(|&n| !tree.is_leaf(n)) {
                let (f, t) = (tree.feature[node] as usize, tree.threshold[node]);
                if f >= usize::from(LEAF) {
                    return None;
                }
                if thresholds.len() <= f {
                    thresholds.resize(f + 1, Vec::new());
                    categorical.resize(f + 1, false);
                }
                if tree.left_levels(node).is_some() {
                    categorical[f] = true;
                    set_splits += 1;
                } else if t.is_nan() {
                    return None;
                } else {
                    thresholds[f].push(t);
                }
            }
        }
        // A feature's rank is a threshold rank or a level code, not both; set indices fit 16 bits.
        if set_splits > usize::from(u16::MAX)
            || categorical
                .iter()
                .zip(&thresholds)
                .any(|(&c, list)| c && !list.is_empty())
        {
            return None;
        }
        for list in &mut thresholds {
            // Once per model load, a few hundred thresholds a feature: the shared sort for short
            // lists, so the edge worker carries no other `f64` sort (values equal under
            // `total_cmp` are the same bits, so any sort gives this order).
            crate::order::sort_by(list, f64::total_cmp);
            // -0.0 and 0.0 compare equal, so they are one threshold.
            list.dedup_by(|a, b| a == b);
            if list.len() > usize::from(MISSING) {
                return None;
            }
        }
        let total: usize = trees.iter().map(Tree::n_nodes).sum();
        if total > CHILD as usize {
            return None;
        }
        let mut values = Vec::new();
        let mut sets = Vec::new();
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
            let children = first as u32 | missing_flag(tree, node);
            match tree.left_levels(node) {
                Some(levels) => Node {
                    children: children | CATEGORICAL,
                    feature: f as u16,
                    rank: (push_set(&mut sets, levels) / SET_WORDS) as u16,
                },
                None => Node {
                    children,
                    feature: f as u16,
                    // The threshold is in the list: its index is the count of smaller ones.
                    rank: thresholds[f].partition_point(|&u| u < tree.threshold[node]) as u16,
                },
            }
        });
        Some(RankedTrees {
            thresholds,
            categorical,
            sets,
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
        if self.sets.is_empty() {
            sum_trees(
                start,
                &self.roots,
                |at| self.step(&ranks, nf, 0, at),
                |at| self.leaf_value(at),
            )
        } else {
            sum_trees(
                start,
                &self.roots,
                |at| self.step_with_sets(&ranks, nf, 0, at),
                |at| self.leaf_value(at),
            )
        }
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
            if self.sets.is_empty() {
                walk_block(
                    n,
                    root as usize,
                    |r, at| self.step(&ranks, nf, r, at),
                    |r, at| acc[r] += self.leaf_value(at),
                );
            } else {
                walk_block(
                    n,
                    root as usize,
                    |r, at| self.step_with_sets(&ranks, nf, r, at),
                    |r, at| acc[r] += self.leaf_value(at),
                );
            }
        }
    }

    /// The rank of every value the trees split on, `n` rows of `self.thresholds.len()` each.
    fn ranks(&self, block: &[f64], width: usize, n: usize) -> Vec<u16> {
        let nf = self.thresholds.len();
        let mut ranks = vec![MISSING; n * nf];
        for (r, out) in ranks.chunks_exact_mut(nf.max(1)).enumerate().take(n) {
            for (f, ((rank, list), &categorical)) in out
                .iter_mut()
                .zip(&self.thresholds)
                .zip(&self.categorical)
                .enumerate()
            {
                if f >= width {
                    break;
                }
                let x = block.get(r * width + f).copied().unwrap_or(f64::NAN);
                if x.is_nan() {
                    continue;
                }
                *rank = if categorical {
                    let code = x as u16;
                    if f64::from(code) == x && code < NO_LEVEL {
                        code
                    } else {
                        NO_LEVEL
                    }
                } else {
                    // Thresholds below x; `x <= t_i` exactly when this is at most i.
                    list.partition_point(|&t| t < x) as u16
                };
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
        Some((node.children & CHILD) as usize + usize::from(!go_left))
    }

    /// [`RankedTrees::step`] for trees with set splits: a set split tests the row's level
    /// code against its bitset. Both tests are made at every node and the node's kind picks one
    /// by arithmetic, so the step still has no branch but the leaf test.
    #[inline(always)]
    fn step_with_sets(&self, ranks: &[u16], nf: usize, r: usize, at: usize) -> Option<usize> {
        let node = self.nodes.get(at).filter(|n| n.feature != LEAF)?;
        let x = ranks
            .get(r * nf + node.feature as usize)
            .copied()
            .unwrap_or(MISSING);
        let categorical = node.children & CATEGORICAL != 0;
        // A threshold split reads set 0's words and ignores them.
        let word_at = (usize::from(node.rank) * SET_WORDS + usize::from(x / 64) % SET_WORDS)
            & 0usize.wrapping_sub(usize::from(categorical));
        let word = self.sets.get(word_at).copied().unwrap_or(0);
        let in_set = (x < NO_LEVEL) & (word >> (x % 64) & 1 != 0);
        let go_left = (categorical & in_set)
            | (!categorical & (x <= node.rank))
            | ((x == MISSING) & (node.children & MISSING_LEFT != 0));
        Some((node.children & CHILD) as usize + usize::from(!go_left))
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

    /// Every row of `block` (`width` values a row, short rows padded with missing values up to
    /// `features`) scores the same bits in a block and one at a time as the trees themselves.
    fn assert_scores_like_the_trees(
        ranked: &RankedTrees,
        trees: &[Tree],
        block: &[f64],
        width: usize,
        features: usize,
        base: f64,
    ) {
        let n = block.len() / width;
        let mut acc = vec![base; n];
        ranked.add_to_block(block, width, &mut acc);
        for (r, a) in acc.iter().enumerate() {
            let cells = &block[r * width..(r + 1) * width];
            let mut row = cells.to_vec();
            row.resize(features, f64::NAN);
            let expected = trees.iter().fold(base, |s, t| s + t.predict(&row));
            assert_eq!(a.to_bits(), expected.to_bits(), "{n} rows, row {r}");
            // One row at a time, short rows as they are: the same bits.
            let single = ranked.sum(base, cells);
            assert_eq!(single.to_bits(), expected.to_bits(), "{n} rows, row {r}");
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
            assert_scores_like_the_trees(&ranked, &trees, &block, width, features, 0.125);
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
    fn set_splits_rank_by_level_code_bit_for_bit() {
        let mut rng = Rng::new(9);
        // Feature 1 holds level codes (sets of codes up to 255 go left); the others numbers.
        let features = 4;
        let mut trees: Vec<Tree> = (0..11)
            .map(|i| {
                let mut tree = random_tree(&mut rng, features, 2 + i);
                // Threshold splits on feature 1 become set splits (a feature is one or the other).
                for node in 0..tree.n_nodes() {
                    if !tree.is_leaf(node) && tree.feature[node] == 1 {
                        tree.feature[node] = 0;
                    }
                }
                for _ in 0..3 {
                    let leaves: Vec<usize> =
                        (0..tree.n_nodes()).filter(|&n| tree.is_leaf(n)).collect();
                    let node = leaves[rng.below(leaves.len())];
                    let mut levels: Vec<u32> = (0..12).filter(|_| rng.next_f64() < 0.4).collect();
                    levels.push(64 + rng.below(192) as u32);
                    tree.split_categorical(
                        node,
                        1,
                        levels,
                        rng.next_f64() < 0.5,
                        (rng.next_f64(), 1.0),
                        (rng.next_f64(), 1.0),
                    );
                }
                tree
            })
            .collect();
        trees.insert(4, Tree::leaf(0.5, 1.0));
        let ranked = RankedTrees::new(&trees).expect("sets rank");
        assert!(!ranked.sets.is_empty());
        // Codes in and out of the sets, past 255, fractions, negatives, -0.0 and missing.
        let code = |rng: &mut Rng| match rng.below(14) {
            0 => f64::NAN,
            1 => 2.5,
            2 => -1.0,
            3 => -0.0,
            4 => 256.0 + rng.below(100) as f64,
            5 => 64.0 + rng.below(192) as f64,
            c => (c - 6) as f64,
        };
        for (n, width) in [(1, features), (45, features), (9, 1)] {
            let block: Vec<f64> = (0..n * width)
                .map(|i| {
                    if i % width == 1 {
                        code(&mut rng)
                    } else {
                        value(&mut rng)
                    }
                })
                .collect();
            assert_scores_like_the_trees(&ranked, &trees, &block, width, features, 0.0);
        }
    }

    #[test]
    fn a_feature_with_thresholds_and_sets_keeps_the_value_layout() {
        let mut tree = Tree::leaf(0.5, 2.0);
        let (left, _) = tree.split(0, 0, 1.5, true, (0.0, 1.0), (1.0, 1.0));
        tree.split_categorical(left, 0, vec![1, 3], false, (0.25, 1.0), (0.75, 1.0));
        assert!(RankedTrees::new(&[tree]).is_none());
    }

    #[test]
    fn a_nan_threshold_keeps_the_value_layout() {
        let mut tree = Tree::leaf(0.5, 2.0);
        tree.split(0, 0, f64::NAN, true, (0.0, 1.0), (1.0, 1.0));
        assert!(RankedTrees::new(&[tree]).is_none());
    }
}
