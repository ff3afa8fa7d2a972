//! The one tree representation: flat node arrays shared by the random forest and gradient
//! boosting, used for prediction and (later) TreeSHAP.
//!
//! Node 0 is the root. An internal node sends a row left when its feature value is `<=`
//! `threshold`, and sends missing (`NaN`) values the learned `default_left` way. Every node keeps
//! its `value` (the leaf output, or for internal nodes the cover-weighted value of the subtree)
//! and its `cover` (training weight / hessian mass that reached it), which TreeSHAP needs.
//!
//! A boosted tree may also split a categorical feature natively: the feature's value is a level
//! code (`0, 1, ...`, see [`crate::features::CategoricalEncoder::Codes`]) and the node sends
//! left exactly the codes listed in [`Tree::categories`] (missing values still follow
//! `default_left`, any other value goes right).

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use serde::Serialize;

/// Marker in [`Tree::feature`] for a leaf.
pub const LEAF: u32 = u32::MAX;

/// Most trees, nodes and levels an ensemble may have to be loaded (see [`Tree::check`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeBounds {
    /// Trees in one ensemble.
    pub trees: usize,
    /// Nodes in one tree.
    pub nodes_per_tree: usize,
    /// Nodes over all trees of the ensemble.
    pub total_nodes: usize,
    /// Depth of the deepest leaf (the root is at depth 0).
    pub depth: usize,
}

/// Checks an ensemble's trees with [`Tree::check`] within `bounds`; the message starts with the
/// field path under the model (`trees[3].left[17] = ...`).
pub fn check_trees(
    trees: &[Tree],
    n_features: usize,
    bounds: &TreeBounds,
) -> core::result::Result<(), String> {
    if trees.len() > bounds.trees {
        return Err(format!(
            "trees: {} trees, more than the {} an ensemble may have",
            trees.len(),
            bounds.trees
        ));
    }
    let mut total = 0usize;
    for (t, tree) in trees.iter().enumerate() {
        total = total.saturating_add(tree.feature.len());
        if total > bounds.total_nodes {
            return Err(format!(
                "trees: more than the {} nodes an ensemble may have in all",
                bounds.total_nodes
            ));
        }
        tree.check(n_features, bounds.nodes_per_tree, bounds.depth)
            .map_err(|e| format!("trees[{t}].{e}"))?;
    }
    Ok(())
}

/// A binary decision tree in flat arrays (struct-of-arrays keeps prediction cache-friendly and
/// the JSON artifact compact).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tree {
    /// Split feature per node, or [`LEAF`].
    pub feature: Vec<u32>,
    /// Split threshold per node: `x <= threshold` goes left. Unused for leaves.
    pub threshold: Vec<f64>,
    /// Where missing values go per node.
    pub default_left: Vec<bool>,
    /// Left child index per node (0 for leaves; the root is never a child).
    pub left: Vec<u32>,
    /// Right child index per node (0 for leaves).
    pub right: Vec<u32>,
    /// Output of a leaf; for internal nodes the cover-weighted mean of the subtree's output.
    pub value: Vec<f64>,
    /// Training mass (sum of weights or hessians) that reached the node.
    pub cover: Vec<f64>,
    /// Per node, the level codes a categorical split sends left (ascending); empty for a
    /// numeric split or a leaf. The whole list is empty when no node splits a categorical,
    /// which keeps artifacts of earlier builds (that have no such field) loading, scoring and
    /// saving as they did.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<Vec<u32>>,
}

crate::map_struct!(Tree {
    feature,
    threshold,
    default_left,
    left,
    right,
    value,
    cover,
    categories = Vec::new(),
});

/// Whether a non-missing value `x` of a categorical feature is one of the level codes in
/// `left` (sorted): a code is a whole number, so anything else (or an unknown code) is not.
#[inline]
pub fn in_levels(left: &[u32], x: f64) -> bool {
    let code = x as u32;
    code as f64 == x && left.binary_search(&code).is_ok()
}

impl Tree {
    /// A tree that is a single leaf.
    pub fn leaf(value: f64, cover: f64) -> Self {
        Tree {
            feature: vec![LEAF],
            threshold: vec![0.0],
            default_left: vec![true],
            left: vec![0],
            right: vec![0],
            value: vec![value],
            cover: vec![cover],
            categories: Vec::new(),
        }
    }

    /// [`Tree::split`] on a categorical feature: rows whose level code is in `left_levels`
    /// (ascending, not empty) go left, missing values go left when `default_left`.
    pub fn split_categorical(
        &mut self,
        node: usize,
        feature: usize,
        left_levels: Vec<u32>,
        default_left: bool,
        left: (f64, f64),
        right: (f64, f64),
    ) -> (usize, usize) {
        debug_assert!(!left_levels.is_empty() && left_levels.windows(2).all(|w| w[0] < w[1]));
        let children = self.split(node, feature, 0.0, default_left, left, right);
        self.categories.resize(self.n_nodes(), Vec::new());
        self.categories[node] = left_levels;
        children
    }

    /// The level codes node `node` sends left, when it splits a categorical feature.
    #[inline]
    pub fn left_levels(&self, node: usize) -> Option<&[u32]> {
        self.categories
            .get(node)
            .filter(|l| !l.is_empty())
            .map(Vec::as_slice)
    }

    /// Whether value `x` of the node's feature goes left at split `node`.
    #[inline]
    pub fn goes_left(&self, node: usize, x: f64) -> bool {
        if x.is_nan() {
            self.default_left[node]
        } else if let Some(left) = self.left_levels(node) {
            in_levels(left, x)
        } else {
            x <= self.threshold[node]
        }
    }

    /// Turns leaf `node` into a split and appends its two children as leaves; returns their
    /// indices `(left, right)`. The node's own value becomes the cover-weighted mean of the two.
    #[allow(clippy::too_many_arguments)]
    pub fn split(
        &mut self,
        node: usize,
        feature: usize,
        threshold: f64,
        default_left: bool,
        (left_value, left_cover): (f64, f64),
        (right_value, right_cover): (f64, f64),
    ) -> (usize, usize) {
        debug_assert!(self.is_leaf(node));
        let l = self.push_leaf(left_value, left_cover);
        let r = self.push_leaf(right_value, right_cover);
        self.feature[node] = feature as u32;
        self.threshold[node] = threshold;
        self.default_left[node] = default_left;
        self.left[node] = l as u32;
        self.right[node] = r as u32;
        let total = left_cover + right_cover;
        if total > 0.0 {
            self.value[node] = (left_value * left_cover + right_value * right_cover) / total;
        }
        (l, r)
    }

    fn push_leaf(&mut self, value: f64, cover: f64) -> usize {
        self.feature.push(LEAF);
        self.threshold.push(0.0);
        self.default_left.push(true);
        self.left.push(0);
        self.right.push(0);
        self.value.push(value);
        self.cover.push(cover);
        if !self.categories.is_empty() {
            self.categories.push(Vec::new());
        }
        self.feature.len() - 1
    }

    /// Sets a leaf's output (boosting computes it after the structure is grown).
    pub fn set_leaf_value(&mut self, node: usize, value: f64) {
        self.value[node] = value;
    }

    /// Recomputes internal nodes' values as cover-weighted means of their children (after leaf
    /// values changed, e.g. shrinkage).
    pub fn refresh_internal_values(&mut self) {
        // Children always have larger indices than their parent, so a reverse sweep works.
        for n in (0..self.n_nodes()).rev() {
            if !self.is_leaf(n) {
                let (l, r) = (self.left[n] as usize, self.right[n] as usize);
                let total = self.cover[l] + self.cover[r];
                if total > 0.0 {
                    self.value[n] =
                        (self.value[l] * self.cover[l] + self.value[r] * self.cover[r]) / total;
                }
            }
        }
    }

    /// Number of nodes.
    pub fn n_nodes(&self) -> usize {
        self.feature.len()
    }

    /// Number of leaves.
    pub fn n_leaves(&self) -> usize {
        self.feature.iter().filter(|&&f| f == LEAF).count()
    }

    /// Whether `node` is a leaf.
    pub fn is_leaf(&self, node: usize) -> bool {
        self.feature[node] == LEAF
    }

    /// The leaf a row lands in.
    pub fn leaf_index(&self, row: &[f64]) -> usize {
        let mut n = 0usize;
        while self.feature[n] != LEAF {
            let x = row[self.feature[n] as usize];
            n = if self.goes_left(n, x) {
                self.left[n]
            } else {
                self.right[n]
            } as usize;
        }
        n
    }

    /// The tree's output for one row.
    pub fn predict(&self, row: &[f64]) -> f64 {
        self.value[self.leaf_index(row)]
    }

    /// Adds this tree's output for every row of a row-major `block` (`width` values per row) to
    /// `acc`. Scoring tree by tree over a block keeps one tree's nodes in cache for many rows,
    /// which is several times faster than row by row over all trees; each row still receives
    /// the same additions in the same order, so results are identical.
    pub fn accumulate(&self, block: &[f64], width: usize, acc: &mut [f64]) {
        for (a, row) in acc.iter_mut().zip(block.chunks_exact(width)) {
            *a += self.predict(row);
        }
    }

    /// Depth of the deepest leaf (a single leaf has depth 0).
    pub fn depth(&self) -> usize {
        let mut depth = vec![0usize; self.n_nodes()];
        let mut max = 0;
        for n in 0..self.n_nodes() {
            if !self.is_leaf(n) {
                for c in [self.left[n] as usize, self.right[n] as usize] {
                    depth[c] = depth[n] + 1;
                    max = max.max(depth[c]);
                }
            }
        }
        max
    }
}

impl Tree {
    /// Checks that the arrays describe a tree every walk can trust, as a loaded artifact must:
    /// equal lengths, at most `max_nodes` nodes, every split on a feature below `n_features`,
    /// finite numbers, leaves without children, and children in range, after their parent and
    /// each with exactly one parent (so a walk always moves forward and ends, and a recursive
    /// walk visits each node once), no deeper than `max_depth`. Returns what is wrong, naming
    /// the field and index (`left[17] = 3 ...`).
    pub fn check(
        &self,
        n_features: usize,
        max_nodes: usize,
        max_depth: usize,
    ) -> core::result::Result<(), String> {
        let n = self.feature.len();
        if n == 0 {
            return Err("feature: a tree needs at least one node".into());
        }
        if n > max_nodes {
            return Err(format!(
                "feature: {n} nodes, more than the {max_nodes} a tree may have"
            ));
        }
        for (name, len) in [
            ("threshold", self.threshold.len()),
            ("default_left", self.default_left.len()),
            ("left", self.left.len()),
            ("right", self.right.len()),
            ("value", self.value.len()),
            ("cover", self.cover.len()),
        ] {
            if len != n {
                return Err(format!(
                    "{name}: {len} entries but `feature` has {n} (one per node)"
                ));
            }
        }
        if !self.categories.is_empty() && self.categories.len() != n {
            return Err(format!(
                "categories: {} entries but `feature` has {n} (one per node, or none at all)",
                self.categories.len()
            ));
        }
        let mut has_parent = vec![false; n];
        let mut depth = vec![0usize; n];
        for i in 0..n {
            for (name, x) in [
                ("threshold", self.threshold[i]),
                ("value", self.value[i]),
                ("cover", self.cover[i]),
            ] {
                if !x.is_finite() {
                    return Err(format!("{name}[{i}] = {x} is not a finite number"));
                }
            }
            if self.cover[i] < 0.0 {
                return Err(format!("cover[{i}] = {} is negative", self.cover[i]));
            }
            let (l, r) = (self.left[i], self.right[i]);
            if self.feature[i] == LEAF {
                if l != 0 || r != 0 {
                    return Err(format!(
                        "left[{i}] = {l}, right[{i}] = {r}: node {i} is a leaf and cannot have children"
                    ));
                }
                if self.left_levels(i).is_some() {
                    return Err(format!(
                        "categories[{i}]: node {i} is a leaf and cannot list levels going left"
                    ));
                }
                continue;
            }
            if let Some(levels) = self.left_levels(i) {
                if let Some(w) = levels.windows(2).position(|w| w[0] >= w[1]) {
                    return Err(format!(
                        "categories[{i}][{}] = {}: level codes must be listed in ascending order, each once",
                        w + 1,
                        levels[w + 1]
                    ));
                }
            }
            let f = self.feature[i] as usize;
            if f >= n_features {
                return Err(format!(
                    "feature[{i}] = {f} is out of range: the model has {n_features} features"
                ));
            }
            for (name, c) in [("left", l), ("right", r)] {
                let c = c as usize;
                if c <= i || c >= n {
                    return Err(format!(
                        "{name}[{i}] = {c} is not a node after {i} (children follow their parent among the {n} nodes; anything else could loop)"
                    ));
                }
                if has_parent[c] {
                    return Err(format!(
                        "{name}[{i}] = {c}: node {c} already has a parent (every node but the root has exactly one)"
                    ));
                }
                has_parent[c] = true;
                depth[c] = depth[i] + 1;
                if depth[c] > max_depth {
                    return Err(format!(
                        "{name}[{i}] = {c}: node {c} is deeper than the {max_depth} levels a tree may have"
                    ));
                }
            }
        }
        // Children come after their parent, so node k > 0 without a parent is unreachable.
        if let Some(k) = has_parent.iter().skip(1).position(|&p| !p) {
            return Err(format!(
                "feature: node {} is not reachable from the root",
                k + 1
            ));
        }
        Ok(())
    }
}

/// Checks the categorical splits of `trees` against `codes`, the number of level codes of each
/// feature (0, or past the end, for a numeric feature): a categorical split must be on a
/// categorical feature and list only its codes. The message names the tree and node
/// (`trees[3].categories[17] ...`).
pub fn check_categories(trees: &[Tree], codes: &[u32]) -> core::result::Result<(), String> {
    for (t, tree) in trees.iter().enumerate() {
        for node in 0..tree.categories.len() {
            let Some(levels) = tree.left_levels(node) else {
                continue;
            };
            let f = tree.feature[node] as usize;
            let n = codes.get(f).copied().unwrap_or(0);
            if n == 0 {
                return Err(format!(
                    "trees[{t}].categories[{node}]: node {node} lists levels going left, but feature {f} is not categorical"
                ));
            }
            if let Some(&bad) = levels.iter().find(|&&c| c >= n) {
                return Err(format!(
                    "trees[{t}].categories[{node}]: level code {bad} is out of range: feature {f} has {n} level codes (0 to {})",
                    n - 1
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_predict_and_missing_direction() {
        let mut t = Tree::leaf(0.0, 10.0);
        let (l, r) = t.split(0, 1, 2.5, false, (-1.0, 4.0), (1.0, 6.0));
        assert_eq!(t.predict(&[0.0, 2.5]), -1.0);
        assert_eq!(t.predict(&[0.0, 3.0]), 1.0);
        assert_eq!(
            t.predict(&[0.0, f64::NAN]),
            1.0,
            "missing follows default_left = false"
        );
        assert!((t.value[0] - 0.2).abs() < 1e-12);
        let (ll, _) = t.split(l, 0, 0.0, true, (-2.0, 1.0), (-0.5, 3.0));
        assert_eq!(t.predict(&[f64::NAN, 1.0]), -2.0);
        assert_eq!(t.leaf_index(&[f64::NAN, 1.0]), ll);
        assert_eq!(t.n_leaves(), 3);
        assert_eq!(t.depth(), 2);
        t.set_leaf_value(r, 2.0);
        t.refresh_internal_values();
        assert!((t.value[0] - (-0.875 * 4.0 + 2.0 * 6.0) / 10.0).abs() < 1e-12);
    }

    #[test]
    fn categorical_splits_send_listed_codes_left_and_are_checked() {
        let mut t = Tree::leaf(0.0, 10.0);
        assert!(t.categories.is_empty());
        let (l, r) = t.split_categorical(0, 1, vec![0, 3], true, (-1.0, 4.0), (1.0, 6.0));
        assert_eq!(t.categories.len(), 3);
        for (x, want) in [
            (0.0, l),
            (3.0, l),
            (1.0, r),
            (2.0, r),
            (4.0, r),
            (3.5, r),
            (-1.0, r),
            (f64::NAN, l),
        ] {
            assert_eq!(t.leaf_index(&[0.0, x]), want, "code {x}");
        }
        // A numeric split below keeps the per-node list in step.
        let (ll, _) = t.split(l, 0, 0.5, false, (-2.0, 1.0), (0.0, 3.0));
        assert_eq!(t.categories.len(), t.n_nodes());
        assert_eq!(t.leaf_index(&[0.0, 3.0]), ll);
        assert_eq!(t.check(2, 100, 10), Ok(()));
        assert_eq!(check_categories(&[t.clone()], &[0, 4]), Ok(()));
        let err = check_categories(&[t.clone()], &[0, 3]).unwrap_err();
        assert!(
            err.starts_with("trees[0].categories[0]: level code 3 is out of range"),
            "{err}"
        );
        let err = check_categories(&[t.clone()], &[4, 0]).unwrap_err();
        assert!(err.contains("feature 1 is not categorical"), "{err}");
        let mut bad = t.clone();
        bad.categories[0] = vec![3, 0];
        assert!(bad
            .check(2, 100, 10)
            .unwrap_err()
            .starts_with("categories[0][1] = 0"));
        let mut bad = t.clone();
        bad.categories[r] = vec![1];
        assert!(bad.check(2, 100, 10).unwrap_err().contains("is a leaf"));
        bad.categories.pop();
        assert!(bad
            .check(2, 100, 10)
            .unwrap_err()
            .starts_with("categories: 4 entries"));
        // Without categorical splits the field is left out of the JSON, as earlier builds wrote it.
        let plain = Tree::leaf(1.0, 2.0);
        assert!(!serde_json::to_string(&plain)
            .unwrap()
            .contains("categories"));
        let back: Tree = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
    }
}
