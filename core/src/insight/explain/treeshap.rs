//! Path-dependent TreeSHAP, Algorithm 2 of Lundberg et al. (2018): the reference kernel, and the
//! one used for trees with a leaf of more than 32 distinct path features (see `fast` for the
//! quadrature form used otherwise).

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::error::{Error, Result};
use crate::model::tree::{Tree, LEAF};

#[derive(Debug, Clone, Copy, Default)]
pub(super) struct PathElem {
    pub(super) feature: usize,
    pub(super) zero: f64,
    pub(super) one: f64,
    pub(super) weight: f64,
}

/// Per-tree data computed once: each internal node's left share of training cover (0.5 where
/// a node saw no cover, so the expectation stays defined) and the tree's expected value under
/// the same shares, which makes additivity exact.
#[derive(Debug, Clone)]
pub(super) struct TreeInfo {
    pub(super) left_share: Vec<f64>,
    pub(super) expected: f64,
    pub(super) depth: usize,
}

impl TreeInfo {
    pub(super) fn new(tree: &Tree) -> Self {
        let n = tree.n_nodes();
        let mut left_share = vec![0.5; n];
        let mut expected = tree.value.clone();
        // Children come after parents: a reverse sweep sees children first.
        for node in (0..n).rev() {
            if tree.feature[node] != LEAF {
                let (l, r) = (tree.left[node] as usize, tree.right[node] as usize);
                let total = tree.cover[l] + tree.cover[r];
                if total > 0.0 {
                    left_share[node] = tree.cover[l] / total;
                }
                let s = left_share[node];
                expected[node] = s * expected[l] + (1.0 - s) * expected[r];
            }
        }
        TreeInfo {
            left_share,
            expected: expected.first().copied().unwrap_or(0.0),
            depth: tree.depth(),
        }
    }
}

/// What an explainer precomputes. It holds no references into the artifact (the trees are
/// Checks what the explainer relies on: parallel arrays of one length, split features within
/// the row, children after their parent (so recursion ends and reverse sweeps see children
/// first).
pub(super) fn check_tree(tree: &Tree, n_features: usize) -> Result<()> {
    let n = tree.n_nodes();
    let lengths = [
        tree.threshold.len(),
        tree.default_left.len(),
        tree.left.len(),
        tree.right.len(),
        tree.value.len(),
        tree.cover.len(),
    ];
    let bad = |message: String| Err(Error::Artifact { message });
    if n == 0 || lengths.iter().any(|&l| l != n) {
        return bad(
            "a tree's node arrays are empty or of different lengths: retrain the model".into(),
        );
    }
    for node in 0..n {
        let f = tree.feature[node];
        if f == LEAF {
            continue;
        }
        let (l, r) = (tree.left[node] as usize, tree.right[node] as usize);
        if f as usize >= n_features || l <= node || r <= node || l >= n || r >= n {
            return bad(format!(
                "tree node {node} has an invalid split (feature {f}, children {l}, {r}): retrain the model"
            ));
        }
    }
    Ok(())
}

/// Adds one tree's path-dependent TreeSHAP values for `x` into `phi`.
pub(super) fn tree_shap(
    tree: &Tree,
    info: &TreeInfo,
    x: &[f64],
    phi: &mut [f64],
    path: &mut [PathElem],
) {
    if tree.feature.first().is_none_or(|&f| f == LEAF) {
        // A single leaf is its own expectation: nothing to attribute.
        return;
    }
    recurse(tree, info, x, phi, path, 0, 0, 0, 1.0, 1.0, usize::MAX);
}

/// One step of Algorithm 2. `path[start..start + depth]` holds the parent's path (depth
/// elements); this call extends it in a fresh copy at `start + depth` so siblings keep theirs.
#[allow(clippy::too_many_arguments)]
fn recurse(
    tree: &Tree,
    info: &TreeInfo,
    x: &[f64],
    phi: &mut [f64],
    path: &mut [PathElem],
    node: usize,
    start: usize,
    depth: usize,
    zero: f64,
    one: f64,
    feature: usize,
) {
    let here = start + depth;
    path.copy_within(start..here, here);
    let mut depth = depth;
    extend(&mut path[here..], depth, zero, one, feature);
    let f = tree.feature[node];
    if f == LEAF {
        let m = &path[here..here + depth + 1];
        let v = tree.value[node];
        for i in 1..=depth {
            let e = m[i];
            if e.one == e.zero {
                continue;
            }
            let w = unwound_sum(m, depth, i);
            phi[e.feature] += w * (e.one - e.zero) * v;
        }
        return;
    }
    let f = f as usize;
    let xv = x.get(f).copied().unwrap_or(f64::NAN);
    let go_left = tree.goes_left(node, xv);
    let (l, r) = (tree.left[node] as usize, tree.right[node] as usize);
    let s = info.left_share[node];
    let (hot, cold, hot_share, cold_share) = if go_left {
        (l, r, s, 1.0 - s)
    } else {
        (r, l, 1.0 - s, s)
    };
    // A feature met again on the path is taken out first and re-entered with its fractions
    // multiplied, so it is counted once.
    let (mut inc_zero, mut inc_one) = (1.0, 1.0);
    if let Some(k) = (1..=depth).find(|&k| path[here + k].feature == f) {
        inc_zero = path[here + k].zero;
        inc_one = path[here + k].one;
        unwind(&mut path[here..], depth, k);
        depth -= 1;
    }
    let next = here;
    let child_depth = depth + 1;
    // A branch with both fractions zero (no cover, not followed) zeroes every permutation
    // weight below it, so it adds nothing and is skipped (this also keeps UNWIND from dividing
    // by a zero fraction).
    let hot_zero = inc_zero * hot_share;
    if hot_zero != 0.0 || inc_one != 0.0 {
        recurse(
            tree,
            info,
            x,
            phi,
            path,
            hot,
            next,
            child_depth,
            hot_zero,
            inc_one,
            f,
        );
    }
    let cold_zero = inc_zero * cold_share;
    if cold_zero != 0.0 {
        recurse(
            tree,
            info,
            x,
            phi,
            path,
            cold,
            next,
            child_depth,
            cold_zero,
            0.0,
            f,
        );
    }
}

/// EXTEND: grows a path of `depth` elements by one whose fractions are (`zero`, `one`),
/// updating the permutation weights.
fn extend(m: &mut [PathElem], depth: usize, zero: f64, one: f64, feature: usize) {
    m[depth] = PathElem {
        feature,
        zero,
        one,
        weight: if depth == 0 { 1.0 } else { 0.0 },
    };
    let n = (depth + 1) as f64;
    for i in (0..depth).rev() {
        m[i + 1].weight += one * m[i].weight * (i + 1) as f64 / n;
        m[i].weight = zero * m[i].weight * (depth - i) as f64 / n;
    }
}

/// UNWIND: removes element `k` from a path of `depth + 1` elements, undoing its EXTEND.
fn unwind(m: &mut [PathElem], depth: usize, k: usize) {
    let (one, zero) = (m[k].one, m[k].zero);
    let n = (depth + 1) as f64;
    let mut next = m[depth].weight;
    for j in (0..depth).rev() {
        if one != 0.0 {
            let t = m[j].weight;
            m[j].weight = next * n / ((j + 1) as f64 * one);
            next = t - m[j].weight * zero * (depth - j) as f64 / n;
        } else {
            m[j].weight = m[j].weight * n / (zero * (depth - j) as f64);
        }
    }
    for j in k..depth {
        m[j].feature = m[j + 1].feature;
        m[j].zero = m[j + 1].zero;
        m[j].one = m[j + 1].one;
    }
}

/// Sum of the weights the path would have after UNWIND of element `k`, without changing it.
fn unwound_sum(m: &[PathElem], depth: usize, k: usize) -> f64 {
    let (one, zero) = (m[k].one, m[k].zero);
    let n = (depth + 1) as f64;
    let mut total = 0.0;
    if one != 0.0 {
        let mut next = m[depth].weight;
        for j in (0..depth).rev() {
            let w = next * n / ((j + 1) as f64 * one);
            total += w;
            next = m[j].weight - w * zero * (depth - j) as f64 / n;
        }
    } else {
        for j in (0..depth).rev() {
            total += m[j].weight * n / (zero * (depth - j) as f64);
        }
    }
    total
}
