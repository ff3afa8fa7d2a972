//! The tree learner: grows one tree leaf-wise (best-first) from gradient histograms.
//!
//! Each leaf owns a contiguous range of a row-index array; a split partitions that range stably
//! in place, so a leaf's rows stay in ascending order and its histogram reads the bin columns
//! almost sequentially. Only the smaller child's histogram is built from rows; the larger one is
//! the parent's minus the smaller's. All buffers live in the learner and are reused per tree.

use alloc::vec;
use alloc::vec::Vec;

use super::histogram::{self, Layout, Split, SplitRules, Sums};
use crate::model::binning::{BinMapper, BinnedMatrix};
use crate::model::tree::{Tree, LEAF};

/// Growth limits and shrinkage for one tree.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GrowConfig {
    pub num_leaves: usize,
    pub max_depth: Option<usize>,
    /// Grow symmetric trees of this depth instead (`num_leaves` and `max_depth` then unused).
    pub symmetric_depth: Option<usize>,
    pub learning_rate: f64,
    pub rules: SplitRules,
}

impl GrowConfig {
    fn leaf_value(&self, s: Sums) -> f64 {
        let denom = s.h + self.rules.lambda_l2;
        if denom > 0.0 {
            -s.g / denom * self.learning_rate
        } else {
            0.0
        }
    }

    /// Histograms a tree may need at once: one per leaf of a leaf-wise tree; a symmetric tree's
    /// levels need one per open leaf, at most the leaves of its last split level.
    pub fn histogram_slots(&self) -> usize {
        match self.symmetric_depth {
            Some(depth) => 1 << depth.saturating_sub(1),
            None => self.num_leaves,
        }
    }

    fn can_split(&self, leaf: &Leaf) -> bool {
        self.max_depth.is_none_or(|d| leaf.depth < d)
            && leaf.sums.n >= 2 * self.rules.min_data_in_leaf.max(1)
            && leaf.sums.h >= 2.0 * self.rules.min_sum_hessian
    }
}

/// A grown tree plus what training needs beside it.
pub(crate) struct Grown {
    pub tree: Tree,
    /// Per node, the split's bin threshold (for predicting binned rows); unused for leaves.
    pub split_bins: Vec<u8>,
    /// `(feature, gain)` of every split, for gain importance.
    pub gains: Vec<(usize, f64)>,
}

#[derive(Debug, Clone, Copy)]
struct Leaf {
    begin: usize,
    end: usize,
    node: usize,
    depth: usize,
    sums: Sums,
    best: Option<Split>,
}

/// Reusable state for growing trees on one binned training matrix.
pub(crate) struct TreeLearner {
    layout: Layout,
    /// One histogram buffer per possible leaf.
    pool: Vec<Vec<Sums>>,
    /// The training matrix's bins row by row (`n_features` a row): histograms of leaves below
    /// the root read their scattered rows from here ([`histogram::build`]).
    row_bins: Vec<u8>,
    indices: Vec<u32>,
    scratch: Vec<u32>,
    /// Gradients gathered in the order of the leaf being built.
    ordered: Vec<[f64; 2]>,
    leaves: Vec<Leaf>,
}

impl TreeLearner {
    /// A learner keeping `slots` histograms ([`GrowConfig::histogram_slots`]).
    pub fn new(mapper: &BinMapper, binned: &BinnedMatrix, slots: usize) -> Self {
        let n_rows = binned.n_rows();
        let layout = Layout::new(mapper);
        let pool = (0..slots.max(1))
            .map(|_| vec![Sums::default(); layout.total_bins()])
            .collect();
        TreeLearner {
            layout,
            pool,
            row_bins: binned.row_major(),
            indices: Vec::with_capacity(n_rows),
            scratch: vec![0; n_rows],
            ordered: Vec::with_capacity(n_rows),
            leaves: Vec::with_capacity(slots.max(1)),
        }
    }

    /// Builds leaf `slot`'s histogram from its rows.
    fn build_histogram(
        &mut self,
        slot: usize,
        begin: usize,
        end: usize,
        binned: &BinnedMatrix,
        active: &[usize],
        gh: &[[f64; 2]],
    ) {
        let rows = &self.indices[begin..end];
        let hist = &mut self.pool[slot];
        if rows.len() == binned.n_rows() {
            // Every row in order: read gradients and bins straight, no gather needed.
            histogram::build(hist, &self.layout, binned, &[], active, None, gh);
        } else {
            self.ordered.clear();
            self.ordered.extend(rows.iter().map(|&r| gh[r as usize]));
            histogram::build(
                hist,
                &self.layout,
                binned,
                &self.row_bins,
                active,
                Some(rows),
                &self.ordered,
            );
        }
    }

    fn find_split(
        &self,
        slot: usize,
        leaf: &Leaf,
        active: &[usize],
        cfg: &GrowConfig,
    ) -> Option<Split> {
        if !cfg.can_split(leaf) {
            return None;
        }
        histogram::best_split(
            &self.pool[slot],
            &self.layout,
            active,
            leaf.sums,
            &cfg.rules,
        )
    }

    /// Grows one tree on rows `bag` (all rows when `None`) using only `active` features.
    pub fn grow(
        &mut self,
        binned: &BinnedMatrix,
        mapper: &BinMapper,
        gh: &[[f64; 2]],
        bag: Option<&[u32]>,
        active: &[usize],
        cfg: &GrowConfig,
    ) -> Grown {
        let mut root = self.start(binned, gh, bag);
        if let Some(depth) = cfg.symmetric_depth {
            return self.grow_symmetric(root, binned, mapper, gh, active, cfg, depth);
        }
        let mut tree = Tree::leaf(cfg.leaf_value(root.sums), root.sums.h);
        let mut split_bins = vec![0u8];
        let mut gains = Vec::new();
        if cfg.num_leaves >= 2 && cfg.can_split(&root) {
            self.build_histogram(0, root.begin, root.end, binned, active, gh);
            root.best = self.find_split(0, &root, active, cfg);
        }
        self.leaves[0] = root;

        while self.leaves.len() < cfg.num_leaves {
            // Best-first: the leaf whose split gains most; ties keep the older leaf.
            let mut pick: Option<(usize, Split)> = None;
            for (i, leaf) in self.leaves.iter().enumerate() {
                if let Some(s) = leaf.best {
                    if pick.is_none_or(|(_, p)| s.gain > p.gain) {
                        pick = Some((i, s));
                    }
                }
            }
            let Some((slot, split)) = pick else { break };
            let new_slot = self.leaves.len();
            let (left, right) = self.split_leaf(
                slot,
                &split,
                &mut tree,
                &mut split_bins,
                binned,
                mapper,
                cfg,
            );
            gains.push((split.feature, split.gain));
            let wanted = self.leaves.len() < cfg.num_leaves
                && (cfg.can_split(&left) || cfg.can_split(&right));
            if !wanted {
                continue;
            }
            let left_smaller = left.end - left.begin <= right.end - right.begin;
            let small = if left_smaller { left } else { right };
            self.build_histogram(new_slot, small.begin, small.end, binned, active, gh);
            let (head, tail) = self.pool.split_at_mut(new_slot);
            histogram::subtract(&mut head[slot], &tail[0], &self.layout, active);
            if left_smaller {
                // The left child keeps the parent's slot, so its histogram must sit there.
                self.pool.swap(slot, new_slot);
            }
            self.leaves[slot].best = self.find_split(slot, &left, active, cfg);
            self.leaves[new_slot].best = self.find_split(new_slot, &right, active, cfg);
        }
        Grown {
            tree,
            split_bins,
            gains,
        }
    }

    /// Puts the rows of `bag` (all rows when `None`) in the index array as the root leaf, the
    /// only entry of `leaves`.
    fn start(&mut self, binned: &BinnedMatrix, gh: &[[f64; 2]], bag: Option<&[u32]>) -> Leaf {
        self.indices.clear();
        match bag {
            Some(rows) => self.indices.extend_from_slice(rows),
            None => self.indices.extend(0..binned.n_rows() as u32),
        }
        let mut sums = Sums::default();
        for &r in &self.indices {
            let [g, h] = gh[r as usize];
            sums.g += g;
            sums.h += h;
        }
        sums.n = self.indices.len() as u32;
        let root = Leaf {
            begin: 0,
            end: self.indices.len(),
            node: 0,
            depth: 0,
            sums,
            best: None,
        };
        self.leaves.clear();
        self.leaves.push(root);
        root
    }

    /// Grows a symmetric (oblivious) tree of `depth` levels from `root`: every open leaf of a
    /// level takes the same cut ([`histogram::best_level_split`]), so a level is one question
    /// asked of every row. A leaf whose side would be empty or break the split rules stays a
    /// leaf. The tree is stored like any other, so scoring and TreeSHAP read it unchanged.
    ///
    /// Why: one cut shared by a level's leaves is a strong prior against fitting noise
    /// (CatBoost's default trees); from 20,000 rows they beat leaf-wise trees on every table
    /// measured, so they are the default there (BENCHMARKS.md, "gbdt levers: CatBoost's edge and
    /// symmetric trees").
    #[allow(clippy::too_many_arguments)]
    fn grow_symmetric(
        &mut self,
        root: Leaf,
        binned: &BinnedMatrix,
        mapper: &BinMapper,
        gh: &[[f64; 2]],
        active: &[usize],
        cfg: &GrowConfig,
        depth: usize,
    ) -> Grown {
        let mut tree = Tree::leaf(cfg.leaf_value(root.sums), root.sums.h);
        let mut split_bins = vec![0u8];
        let mut gains = Vec::new();
        // Open leaves (index into `leaves`, histogram slot) and the slots not in use.
        let mut open: Vec<(usize, usize)> = Vec::new();
        let mut free: Vec<usize> = (1..self.pool.len()).rev().collect();
        if depth >= 1 && cfg.can_split(&root) {
            self.build_histogram(0, root.begin, root.end, binned, active, gh);
            open.push((0, 0));
        }
        for level in 0..depth {
            if open.is_empty() {
                break;
            }
            let views: Vec<(&[Sums], Sums)> = open
                .iter()
                .map(|&(i, slot)| (self.pool[slot].as_slice(), self.leaves[i].sums))
                .collect();
            let Some(cut) = histogram::best_level_split(&views, &self.layout, active, &cfg.rules)
            else {
                break;
            };
            let children_split = level + 1 < depth;
            let mut next = Vec::with_capacity(2 * open.len());
            for (i, slot) in core::mem::take(&mut open) {
                let sums = self.leaves[i].sums;
                let Some(split) = cut.on_leaf(&self.pool[slot], &self.layout, sums, &cfg.rules)
                else {
                    free.push(slot);
                    continue;
                };
                let right_index = self.leaves.len();
                let (left, right) =
                    self.split_leaf(i, &split, &mut tree, &mut split_bins, binned, mapper, cfg);
                gains.push((split.feature, split.gain));
                let (left_open, right_open) = (
                    children_split && cfg.can_split(&left),
                    children_split && cfg.can_split(&right),
                );
                if !left_open && !right_open {
                    free.push(slot);
                    continue;
                }
                // The smaller child's histogram from its rows, the larger's by subtraction in
                // the parent's slot, as in leaf-wise growth.
                let new_slot = free
                    .pop()
                    .expect("a level holds at most histogram_slots leaves");
                let left_smaller = left.end - left.begin <= right.end - right.begin;
                let small = if left_smaller { left } else { right };
                self.build_histogram(new_slot, small.begin, small.end, binned, active, gh);
                let (lo, hi) = (slot.min(new_slot), slot.max(new_slot));
                let (head, tail) = self.pool.split_at_mut(hi);
                if slot < new_slot {
                    histogram::subtract(&mut head[lo], &tail[0], &self.layout, active);
                } else {
                    histogram::subtract(&mut tail[0], &head[lo], &self.layout, active);
                }
                let (left_slot, right_slot) = if left_smaller {
                    (new_slot, slot)
                } else {
                    (slot, new_slot)
                };
                for (open_child, index, child_slot) in [
                    (left_open, i, left_slot),
                    (right_open, right_index, right_slot),
                ] {
                    if open_child {
                        next.push((index, child_slot));
                    } else {
                        free.push(child_slot);
                    }
                }
            }
            open = next;
        }
        Grown {
            tree,
            split_bins,
            gains,
        }
    }

    /// Splits leaf `i` by `split`: partitions its rows, adds the split to `tree`, and puts the
    /// left child in the leaf's place and the right child at the end of `leaves`.
    #[allow(clippy::too_many_arguments)]
    fn split_leaf(
        &mut self,
        i: usize,
        split: &Split,
        tree: &mut Tree,
        split_bins: &mut Vec<u8>,
        binned: &BinnedMatrix,
        mapper: &BinMapper,
        cfg: &GrowConfig,
    ) -> (Leaf, Leaf) {
        let parent = self.leaves[i];
        let mid = self.partition(parent.begin, parent.end, binned, mapper, split);
        let (ln, rn) = add_split(tree, split_bins, parent.node, split, mapper, cfg);
        let child = |begin, end, node, sums| Leaf {
            begin,
            end,
            node,
            depth: parent.depth + 1,
            sums,
            best: None,
        };
        let left = child(parent.begin, mid, ln, split.left);
        let right = child(mid, parent.end, rn, split.right);
        self.leaves[i] = left;
        self.leaves.push(right);
        (left, right)
    }

    /// Stable in-place partition of `indices[begin..end]` by the split; returns where the right
    /// part starts.
    fn partition(
        &mut self,
        begin: usize,
        end: usize,
        binned: &BinnedMatrix,
        mapper: &BinMapper,
        split: &Split,
    ) -> usize {
        let column = binned.column(split.feature);
        let missing = mapper.missing_bin(split.feature);
        // Where each of the 256 bins goes, looked up per row: the rows' sides follow no pattern,
        // so branching on them mispredicts about every other row, and each misprediction also
        // throws away the column loads of the rows after it, whose cache misses would otherwise
        // overlap.
        let goes_left: [bool; 256] = core::array::from_fn(|b| {
            let b = b as u8;
            if b == missing {
                split.default_left
            } else if let Some(levels) = &split.levels {
                levels.contains(b)
            } else {
                b <= split.bin
            }
        });
        let rows = &mut self.indices[begin..end];
        let (mut n_left, mut n_right) = (0, 0);
        for i in 0..rows.len() {
            let r = rows[i];
            let left = goes_left[usize::from(column[r as usize])];
            // Written to both sides, kept by one: `n_left <= i`, so `rows[n_left]` was read
            // already, and the order within each side is the rows' order either way.
            rows[n_left] = r;
            self.scratch[n_right] = r;
            n_left += usize::from(left);
            n_right += usize::from(!left);
        }
        rows[n_left..].copy_from_slice(&self.scratch[..n_right]);
        begin + n_left
    }

    /// The rows of each leaf of the tree just grown, with the leaf's node index.
    pub fn leaf_rows(&self) -> impl Iterator<Item = (usize, &[u32])> + '_ {
        self.leaves
            .iter()
            .map(|l| (l.node, &self.indices[l.begin..l.end]))
    }
}

/// Splits leaf `node` of `tree` by `split` (its children's values Newton steps of their sums),
/// recording the cut's bin for predicting binned rows; returns the children's nodes.
fn add_split(
    tree: &mut Tree,
    split_bins: &mut Vec<u8>,
    node: usize,
    split: &Split,
    mapper: &BinMapper,
    cfg: &GrowConfig,
) -> (usize, usize) {
    let f = split.feature;
    let left = (cfg.leaf_value(split.left), split.left.h);
    let right = (cfg.leaf_value(split.right), split.right.h);
    let children = match split.levels {
        // A categorical feature's bins are its level codes.
        Some(levels) => {
            tree.split_categorical(node, f, levels.to_vec(), split.default_left, left, right)
        }
        None => {
            let threshold = if split.bin as usize + 1 >= mapper.n_bins(f) {
                // "Every value left, missing right": the last bin's bound is +inf, which JSON
                // cannot hold, and every finite value is <= f64::MAX.
                f64::MAX
            } else {
                mapper.threshold(f, split.bin)
            };
            tree.split(node, f, threshold, split.default_left, left, right)
        }
    };
    split_bins[node] = split.bin;
    split_bins.resize(tree.n_nodes(), 0);
    children
}

/// A grown tree's output for row `r` of a matrix binned with the same mapper.
pub(crate) fn predict_binned(
    grown: &Grown,
    mapper: &BinMapper,
    binned: &BinnedMatrix,
    r: usize,
) -> f64 {
    let t = &grown.tree;
    let mut n = 0usize;
    while t.feature[n] != LEAF {
        let f = t.feature[n] as usize;
        let b = binned.get(r, f);
        let go_left = if b == mapper.missing_bin(f) {
            t.default_left[n]
        } else if let Some(levels) = t.left_levels(n) {
            levels.binary_search(&u32::from(b)).is_ok()
        } else {
            b <= grown.split_bins[n]
        };
        n = if go_left { t.left[n] } else { t.right[n] } as usize;
    }
    t.value[n]
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn partition_keeps_each_sides_rows_in_order_and_sends_missing_its_default_way() {
        // Values 0..=3 (one bin each) and every fifth row missing; the partitioned range starts
        // and ends inside the index array, whose rows outside it must stay where they are.
        let n = 40u32;
        let x = Array2::from_shape_fn((n as usize, 1), |(r, _)| match r % 5 {
            4 => f64::NAN,
            v => v as f64,
        });
        let mapper = BinMapper::fit(x.view(), 255).unwrap();
        let binned = mapper.transform(x.view());
        let mut learner = TreeLearner::new(&mapper, &binned, 4);
        for default_left in [false, true] {
            learner.indices = (0..n).collect();
            let split = Split {
                gain: 1.0,
                feature: 0,
                bin: 1,
                default_left,
                levels: None,
                left: Sums::default(),
                right: Sums::default(),
            };
            let (begin, end) = (3, 37);
            let mid = learner.partition(begin, end, &binned, &mapper, &split);
            let goes_left = |r: &u32| {
                let v = x[[*r as usize, 0]];
                if v.is_nan() {
                    default_left
                } else {
                    v <= 1.0
                }
            };
            let (left, right): (Vec<u32>, Vec<u32>) =
                (begin as u32..end as u32).partition(goes_left);
            assert_eq!(learner.indices[begin..mid], left[..]);
            assert_eq!(learner.indices[mid..end], right[..]);
            assert_eq!(learner.indices[..begin], [0, 1, 2]);
            assert_eq!(learner.indices[end..], [37, 38, 39]);
        }
    }
}
