//! A read-only copy of an ensemble's trees laid out for scoring one row at a time, the edge
//! API's hot path. [`crate::model::tree::Tree`] stays the one representation that training,
//! artifacts and TreeSHAP use; this layout is rebuilt from it when a model is loaded to score.
//!
//! Why a second layout: walking a [`Tree`] touches five arrays per node (feature, threshold,
//! missing direction, left, right), so a 300-tree walk is bound by cache misses. Here a node is
//! 16 bytes (threshold or leaf value, feature, first child with the missing direction in its
//! top bit), the two children of a node sit side by side, and every tree lies in one array, so
//! a step is one load and a row's whole walk stays within a few hundred kilobytes.
//!
//! Forests are laid out by threshold rank instead ([`crate::model::ranked`], chosen by
//! [`PackedTrees::with_ranks`]), never both; boosted models keep this layout for single rows
//! and walk blocks by rank ([`PackedTrees::with_block_ranks`]). The two layouts share the
//! walks' schedulers
//! ([`walk_block`], [`sum_trees`]) and differ only in their step.

use alloc::vec::Vec;

use crate::model::ranked::RankedTrees;
use crate::model::tree::{Tree, LEAF};

/// Top bit of [`Node::children`]: missing values go left.
pub(crate) const MISSING_LEFT: u32 = 1 << 31;
/// Next bit of [`Node::children`]: the node splits a categorical feature, and its
/// `threshold_or_value` is where its set of left-going level codes starts in
/// [`PackedTrees::sets`].
pub(crate) const CATEGORICAL: u32 = 1 << 30;
/// The child index bits of [`Node::children`].
pub(crate) const CHILD: u32 = !(MISSING_LEFT | CATEGORICAL);
/// Words of one set of level codes: codes are below 256 (a bin is a `u8`).
pub(crate) const SET_WORDS: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Node {
    /// Split threshold (`x <= threshold` goes left), or the leaf's value.
    threshold_or_value: f64,
    /// Split feature, or [`LEAF`].
    feature: u32,
    /// Index of the left child (the right child follows it), or'ed with [`MISSING_LEFT`].
    children: u32,
}

/// The trees of an ensemble packed for single-row scoring; sums leaf values exactly as the
/// trees themselves would, in the same order, so scores are equal bit for bit.
#[derive(Debug, Clone, PartialEq)]
pub struct PackedTrees {
    /// The value layout's nodes and each tree's root among them; empty for a forest's trees
    /// ([`PackedTrees::with_ranks`]).
    nodes: Vec<Node>,
    roots: Vec<u32>,
    /// The trees by threshold rank, set by [`PackedTrees::with_ranks`] (every walk then goes
    /// through it) or [`PackedTrees::with_block_ranks`] (block walks go through it).
    ranked: Option<RankedTrees>,
    /// Bitsets of the level codes categorical splits send left, [`SET_WORDS`] words each.
    sets: Vec<u64>,
}

/// Lays out `trees` in one array, each tree breadth first so that a split's two children are
/// adjacent (the walks step to `first` or `first + 1`). `node_at(tree, node, first)` makes the
/// entry of `tree`'s node `node`, with `first` its left child's slot (`None` for a leaf); it is
/// called parents before children. Returns the array and each tree's root slot.
pub(crate) fn breadth_first<N: Copy>(
    trees: &[Tree],
    blank: N,
    mut node_at: impl FnMut(&Tree, usize, Option<usize>) -> N,
) -> (Vec<N>, Vec<u32>) {
    let total: usize = trees.iter().map(Tree::n_nodes).sum();
    let mut nodes = Vec::with_capacity(total);
    let mut roots = Vec::with_capacity(trees.len());
    // (node in the tree, its slot), parents before children.
    let mut queue = Vec::new();
    for tree in trees {
        let root = nodes.len();
        roots.push(root as u32);
        nodes.push(blank);
        queue.clear();
        queue.push((0usize, root));
        let mut next = 0;
        while next < queue.len() {
            let (node, slot) = queue[next];
            next += 1;
            if tree.is_leaf(node) {
                nodes[slot] = node_at(tree, node, None);
                continue;
            }
            let first = nodes.len();
            nodes.extend([blank, blank]);
            nodes[slot] = node_at(tree, node, Some(first));
            queue.push((tree.left[node] as usize, first));
            queue.push((tree.right[node] as usize, first + 1));
        }
    }
    (nodes, roots)
}

/// Appends the bitset of `levels` to `sets` ([`SET_WORDS`] words) and returns where it starts.
pub(crate) fn push_set(sets: &mut Vec<u64>, levels: &[u32]) -> usize {
    let at = sets.len();
    sets.resize(at + SET_WORDS, 0u64);
    // Checked artifacts hold codes below 256; others could never match.
    for &c in levels.iter().filter(|&&c| c < 64 * SET_WORDS as u32) {
        sets[at + c as usize / 64] |= 1 << (c % 64);
    }
    at
}

/// The child-index flag of a split whose missing values go left.
pub(crate) fn missing_flag(tree: &Tree, node: usize) -> u32 {
    if tree.default_left[node] {
        MISSING_LEFT
    } else {
        0
    }
}

impl PackedTrees {
    /// Packs `trees` (kept in order). Children are renumbered breadth first so that each
    /// node's two children are adjacent.
    pub fn new(trees: &[Tree]) -> Self {
        let mut sets = Vec::new();
        let leaf = Node {
            threshold_or_value: 0.0,
            feature: LEAF,
            children: 0,
        };
        let (nodes, roots) = breadth_first(trees, leaf, |tree, node, first| {
            let Some(first) = first else {
                return Node {
                    threshold_or_value: tree.value[node],
                    ..leaf
                };
            };
            let missing = missing_flag(tree, node);
            match tree.left_levels(node) {
                Some(levels) => {
                    let at = push_set(&mut sets, levels);
                    Node {
                        threshold_or_value: at as f64,
                        feature: tree.feature[node],
                        children: first as u32 | missing | CATEGORICAL,
                    }
                }
                None => Node {
                    threshold_or_value: tree.threshold[node],
                    feature: tree.feature[node],
                    children: first as u32 | missing,
                },
            }
        });
        PackedTrees {
            nodes,
            roots,
            ranked: None,
            sets,
        }
    }

    /// The trees by threshold rank ([`RankedTrees`]) when they can be ranked, else
    /// [`PackedTrees::new`]: for forests, whose deep trees are bound by cache, with few distinct
    /// thresholds per feature. Only one layout is kept: the ranked one scores single rows too
    /// ([`RankedTrees::sum`]), so a forest's nodes are held once, in 8 bytes each. Scores are
    /// the same bit for bit.
    pub fn with_ranks(trees: &[Tree]) -> Self {
        match RankedTrees::new(trees) {
            Some(ranked) => PackedTrees {
                nodes: Vec::new(),
                roots: Vec::new(),
                ranked: Some(ranked),
                sets: Vec::new(),
            },
            None => PackedTrees::new(trees),
        }
    }

    /// [`PackedTrees::new`] for single rows, and the trees by threshold rank for blocks when
    /// they can be ranked: for boosted models. A block walk by rank (set splits included) is
    /// faster than by value; a single row would first need a binary search per feature for
    /// its ranks, about what its walk of ~5 levels a tree saves, and an allocation per row
    /// (BENCHMARKS.md, "Scoring speed: the gbdt in the ranked layout"). Scores are the same
    /// bit for bit either way.
    pub fn with_block_ranks(trees: &[Tree]) -> Self {
        PackedTrees {
            ranked: RankedTrees::new(trees),
            ..PackedTrees::new(trees)
        }
    }

    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        match &self.ranked {
            Some(ranked) => ranked.n_trees(),
            None => self.roots.len(),
        }
    }

    /// `start` plus every tree's output for `row`, added in tree order. Features past the end
    /// of a short row count as missing.
    pub fn sum(&self, start: f64, row: &[f64]) -> f64 {
        match &self.ranked {
            Some(ranked) if self.nodes.is_empty() => ranked.sum(start, row),
            _ => sum_trees(
                start,
                &self.roots,
                |at| self.step(row, at),
                |at| self.leaf_value(at),
            ),
        }
    }

    /// Adds every tree's output for each row of a row-major `block` (`width` values per row)
    /// to `acc`, tree by tree: each row receives the same additions in the same order as
    /// [`PackedTrees::sum`], so the results are equal bit for bit. Rows shorter than a split's
    /// feature read it as missing.
    ///
    /// Why it is fast: one tree's nodes stay in cache for the whole block, and eight rows walk
    /// the tree at once with a branch-free step ([`walk_block`]), so the CPU overlaps eight
    /// chains of dependent loads instead of guessing (and half the time missing) one direction
    /// per level.
    pub fn add_to_block(&self, block: &[f64], width: usize, acc: &mut [f64]) {
        if let Some(ranked) = &self.ranked {
            return ranked.add_to_block(block, width, acc);
        }
        for &root in &self.roots {
            walk_block(
                acc.len(),
                root as usize,
                |r, at| self.step_in_block(block, width, r, at),
                |r, at| acc[r] += self.leaf_value(at),
            );
        }
    }

    /// The child of node `at` that row `r` of `block` goes to, or `None` at a leaf; branch-free
    /// apart from the leaf test.
    #[inline(always)]
    fn step_in_block(&self, block: &[f64], width: usize, r: usize, at: usize) -> Option<usize> {
        let node = self.nodes.get(at).filter(|n| n.feature != LEAF)?;
        let f = node.feature as usize;
        let x = if f < width {
            block.get(r * width + f).copied().unwrap_or(f64::NAN)
        } else {
            f64::NAN
        };
        let go_left = if node.children & CATEGORICAL != 0 {
            self.categorical_left(node, x)
        } else {
            // `x <= t` is false for NaN, which then goes where the node says.
            (x <= node.threshold_or_value) | (x.is_nan() & (node.children & MISSING_LEFT != 0))
        };
        Some((node.children & CHILD) as usize + usize::from(!go_left))
    }

    /// Whether `x` goes left at categorical split `node`: missing as the node says, a level
    /// code when it is in the node's set (as [`Tree::goes_left`] decides).
    #[inline]
    fn categorical_left(&self, node: &Node, x: f64) -> bool {
        if x.is_nan() {
            return node.children & MISSING_LEFT != 0;
        }
        let code = x as u32;
        if code as f64 != x || code as usize >= 64 * SET_WORDS {
            return false;
        }
        let at = node.threshold_or_value as usize + code as usize / 64;
        self.sets
            .get(at)
            .is_some_and(|w| w & (1 << (code % 64)) != 0)
    }

    fn leaf_value(&self, at: usize) -> f64 {
        self.nodes.get(at).map_or(0.0, |n| n.threshold_or_value)
    }

    /// The child of node `at` that `row` goes to, or `None` at a leaf.
    #[inline(always)]
    fn step(&self, row: &[f64], at: usize) -> Option<usize> {
        let node = self.nodes.get(at).filter(|n| n.feature != LEAF)?;
        let x = row.get(node.feature as usize).copied().unwrap_or(f64::NAN);
        let go_left = if node.children & CATEGORICAL != 0 {
            self.categorical_left(node, x)
        } else if x.is_nan() {
            node.children & MISSING_LEFT != 0
        } else {
            x <= node.threshold_or_value
        };
        Some((node.children & CHILD) as usize + usize::from(!go_left))
    }
}

/// Rows one block walk keeps in flight ([`walk_block`]).
const BLOCK_LANES: usize = 8;

/// The block walk both layouts share ([`PackedTrees::add_to_block`],
/// [`RankedTrees::add_to_block`]): walks rows `0..n` of one tree from `root` to their leaves,
/// [`BLOCK_LANES`] rows at a time, and calls `leaf(row, node)` once per row, at its leaf.
/// `step(row, node)` is the layout's step: the child the row goes to, or `None` at a leaf.
///
/// A lane whose row reached its leaf takes the next row, so lanes stay busy however lopsided
/// the tree (forest trees are: leaves sit between depth 5 and 30), and every lane is busy
/// while rows remain, so the hot loop has no idle test. Inlined into each layout, so the
/// closures compile to the same loop as one written out per layout.
#[inline(always)]
pub(crate) fn walk_block(
    n: usize,
    root: usize,
    step: impl Fn(usize, usize) -> Option<usize>,
    mut leaf: impl FnMut(usize, usize),
) {
    let lanes = n.min(BLOCK_LANES);
    let mut row = [0usize; BLOCK_LANES];
    let mut at = [root; BLOCK_LANES];
    for (lane, r) in row.iter_mut().enumerate().take(lanes) {
        *r = lane;
    }
    let mut next = lanes;
    while next < n {
        for lane in 0..lanes {
            match step(row[lane], at[lane]) {
                Some(child) => at[lane] = child,
                None => {
                    leaf(row[lane], at[lane]);
                    if next < n {
                        row[lane] = next;
                        at[lane] = root;
                        next += 1;
                    } else {
                        // Parked on the root until the tail below walks it again.
                        row[lane] = usize::MAX;
                    }
                }
            }
        }
    }
    // The last rows, each walked to its leaf.
    for lane in 0..lanes {
        let r = row[lane];
        if r == usize::MAX {
            continue;
        }
        let mut a = at[lane];
        while let Some(child) = step(r, a) {
            a = child;
        }
        leaf(r, a);
    }
}

/// The single-row walk both layouts share ([`PackedTrees::sum`], [`RankedTrees::sum`]):
/// `start` plus `leaf_value` of every tree's leaf for one row, added in tree order.
/// `step(node)` is the layout's step for that row.
///
/// Four trees are walked in step: each walk is a chain of dependent loads, and interleaving
/// independent chains lets the CPU overlap them. Leaf values are still added in tree order, so
/// the sum is the same bit for bit. (Stepping every tree of a group as deep as its deepest
/// leaf, without leaf tests, was tried: leaf-wise trees are lopsided, and it ran 2.3x the
/// instructions.)
#[inline(always)]
pub(crate) fn sum_trees(
    start: f64,
    roots: &[u32],
    step: impl Fn(usize) -> Option<usize>,
    leaf_value: impl Fn(usize) -> f64,
) -> f64 {
    const LANES: usize = 4;
    let mut score = start;
    let mut groups = roots.chunks_exact(LANES);
    for group in &mut groups {
        let mut at = [0usize; LANES];
        for (a, &root) in at.iter_mut().zip(group) {
            *a = root as usize;
        }
        let mut walking = true;
        while walking {
            walking = false;
            for a in &mut at {
                if let Some(next) = step(*a) {
                    *a = next;
                    walking = true;
                }
            }
        }
        for &a in &at {
            score += leaf_value(a);
        }
    }
    for &root in groups.remainder() {
        let mut a = root as usize;
        while let Some(next) = step(a) {
            a = next;
        }
        score += leaf_value(a);
    }
    score
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use alloc::vec;

    /// A random tree over `features` features with `splits` splits and some missing values.
    fn random_tree(rng: &mut Rng, features: usize, splits: usize) -> Tree {
        let mut tree = Tree::leaf(rng.next_f64() - 0.5, 1.0);
        for _ in 0..splits {
            let leaves: Vec<usize> = (0..tree.n_nodes()).filter(|&n| tree.is_leaf(n)).collect();
            let node = leaves[rng.below(leaves.len())];
            tree.split(
                node,
                rng.below(features),
                rng.next_f64() * 2.0 - 1.0,
                rng.next_f64() < 0.5,
                (rng.next_f64() - 0.5, 1.0),
                (rng.next_f64() - 0.5, 1.0),
            );
        }
        tree
    }

    /// A feature value in [-1, 1), missing (NaN) 15% of the time.
    fn value_or_missing(rng: &mut Rng) -> f64 {
        if rng.next_f64() < 0.15 {
            f64::NAN
        } else {
            rng.next_f64() * 2.0 - 1.0
        }
    }

    #[test]
    fn sums_like_the_trees_bit_for_bit() {
        let mut rng = Rng::new(7);
        let features = 6;
        // 23 trees: five groups of four plus a remainder, one of them a single leaf.
        let mut trees: Vec<Tree> = (0..22)
            .map(|i| random_tree(&mut rng, features, 1 + i % 13))
            .collect();
        trees.insert(5, Tree::leaf(0.25, 1.0));
        let packed = PackedTrees::new(&trees);
        assert_eq!(packed.n_trees(), 23);
        for r in 0..500 {
            // Short rows (missing trailing features) and NaNs take the missing direction.
            let width = if r % 7 == 0 { features - 2 } else { features };
            let row: Vec<f64> = (0..width).map(|_| value_or_missing(&mut rng)).collect();
            let mut padded = row.clone();
            padded.resize(features, f64::NAN);
            let expected = trees.iter().fold(0.5, |acc, t| acc + t.predict(&padded));
            assert_eq!(
                packed.sum(0.5, &row).to_bits(),
                expected.to_bits(),
                "row {r}"
            );
        }
    }

    #[test]
    fn block_scoring_adds_like_sum_bit_for_bit() {
        let mut rng = Rng::new(11);
        let features = 5;
        let mut trees: Vec<Tree> = (0..13)
            .map(|i| random_tree(&mut rng, features, 1 + (7 * i) % 40))
            .collect();
        trees.insert(2, Tree::leaf(-0.125, 1.0));
        let packed = PackedTrees::new(&trees);
        // Fewer rows than lanes, a few lanes' worth, and a ragged count.
        for n in [0, 1, 3, 8, 37] {
            let block: Vec<f64> = (0..n * features)
                .map(|_| value_or_missing(&mut rng))
                .collect();
            let mut acc = vec![0.25; n];
            packed.add_to_block(&block, features, &mut acc);
            for (r, a) in acc.iter().enumerate() {
                let row = &block[r * features..(r + 1) * features];
                assert_eq!(
                    a.to_bits(),
                    packed.sum(0.25, row).to_bits(),
                    "{n} rows, row {r}"
                );
            }
        }
    }

    #[test]
    fn categorical_splits_score_like_the_trees() {
        let mut rng = Rng::new(3);
        // Feature 0 holds level codes 0..9; the others numbers.
        let mut trees: Vec<Tree> = (0..9).map(|i| random_tree(&mut rng, 3, 2 + i)).collect();
        for tree in &mut trees {
            for _ in 0..3 {
                let leaves: Vec<usize> = (0..tree.n_nodes()).filter(|&n| tree.is_leaf(n)).collect();
                let node = leaves[rng.below(leaves.len())];
                let levels: Vec<u32> = (0..9).filter(|_| rng.next_f64() < 0.4).collect();
                if levels.is_empty() {
                    continue;
                }
                tree.split_categorical(
                    node,
                    0,
                    levels,
                    rng.next_f64() < 0.5,
                    (rng.next_f64() - 0.5, 1.0),
                    (rng.next_f64() - 0.5, 1.0),
                );
            }
        }
        let packed = PackedTrees::new(&trees);
        let features = 3;
        let rows: Vec<f64> = (0..200 * features)
            .map(|i| match (i % features, rng.below(12)) {
                (0, 10) => f64::NAN,
                (0, 11) => 2.5,
                (0, c) => c as f64,
                _ => value_or_missing(&mut rng),
            })
            .collect();
        let mut acc = vec![0.0; 200];
        packed.add_to_block(&rows, features, &mut acc);
        for (r, row) in rows.chunks_exact(features).enumerate() {
            let expected = trees.iter().fold(0.0, |a, t| a + t.predict(row));
            assert_eq!(
                packed.sum(0.0, row).to_bits(),
                expected.to_bits(),
                "row {r}"
            );
            assert_eq!(acc[r].to_bits(), expected.to_bits(), "row {r}");
        }
    }

    #[test]
    fn empty_ensemble_is_its_start() {
        assert_eq!(PackedTrees::new(&[]).sum(1.5, &[0.0]), 1.5);
    }
}
