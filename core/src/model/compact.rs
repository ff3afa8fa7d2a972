//! The compact encoding of a random forest's trees in the model artifact.
//!
//! A forest holds hundreds of trees of thousands of nodes; written as [`Tree`]'s seven JSON
//! arrays (one number per line in the pretty-printed file) a node took ~160 bytes, and a forest
//! trained on 100k rows ran to tens of megabytes. Here a node takes about 3.5 bytes (4.7 in
//! base64), because most of a node is redundant:
//!
//! - **Structure**: nodes are written in preorder (a node, its left subtree, its right subtree),
//!   so child indices are implied and never stored.
//! - **Thresholds**: a forest only splits at its bin boundaries, so each feature's distinct
//!   thresholds are listed once (`thresholds[feature]`, ascending) and a split stores its index.
//! - **Leaves**: a leaf's value is its churned fraction `k / n` of a whole bootstrap weight `n`,
//!   so it is stored as the two integers; the division gives back the same `f64` bit for bit.
//!   A leaf that is not such a fraction (sample or class weights) is stored as raw `f64`s.
//! - **Internal values and covers** are derived from the children ([`canonical`]): a node's
//!   cover is the sum of its children's, its value their cover-weighted mean. Training makes
//!   its trees canonical, so saving and loading returns the same trees exactly.
//!
//! Each tree is one base64 string of these bytes (`u` = unsigned LEB128 varint):
//!
//! | node | bytes |
//! |---|---|
//! | leaf, fraction | `0`, `u(n)`, `u(k)`: value `k / n`, cover `n` (`k <= n`, `0 < n <= 2^53`) |
//! | leaf, raw | `1`, value and cover as little-endian `f64` |
//! | split | `u(2 + 2·feature + default_left)`, `u(i)`: threshold `thresholds[feature][i]` |
//!
//! Decoding is bounded by the input (a node is at least one byte, the walk uses an explicit
//! stack) and refuses truncated or trailing bytes, unknown features and threshold indices with
//! the tree and byte at fault; [`crate::model::tree::check_trees`] then checks the trees as it
//! checks every loaded tree.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use crate::model::tree::{Tree, LEAF};

const LEAF_FRACTION: u64 = 0;
const LEAF_RAW: u64 = 1;
const SPLIT: u64 = 2;
/// Largest leaf weight stored as an integer: every integer up to 2^53 is an exact `f64`.
const MAX_EXACT: u64 = 1 << 53;

/// `tree` with its nodes renumbered in preorder and each internal node's cover and value
/// derived from its children: the cover their sum, the value their cover-weighted mean (their
/// plain mean when both covers are 0). Predictions are unchanged; this is the form the compact
/// encoding stores, so a canonical tree survives saving and loading exactly.
pub fn canonical(tree: &Tree) -> Tree {
    let n = tree.n_nodes();
    let mut out = Tree {
        feature: Vec::with_capacity(n),
        threshold: Vec::with_capacity(n),
        default_left: Vec::with_capacity(n),
        left: Vec::with_capacity(n),
        right: Vec::with_capacity(n),
        value: Vec::with_capacity(n),
        cover: Vec::with_capacity(n),
        categories: Vec::new(),
    };
    // (node in `tree`, parent slot in `out` whose right child it is, if any).
    let mut stack = vec![(0usize, None::<usize>)];
    while let Some((node, right_of)) = stack.pop() {
        let slot = out.feature.len();
        if slot >= n || node >= n {
            // Not a tree (a loop, or a child out of range): nothing to reorder.
            return tree.clone();
        }
        if let Some(p) = right_of {
            out.right[p] = slot as u32;
        } else if slot > 0 {
            // Preorder: a node that is nobody's right child is the previous node's left child.
            out.left[slot - 1] = slot as u32;
        }
        out.feature.push(tree.feature[node]);
        out.threshold.push(tree.threshold[node]);
        out.default_left.push(tree.default_left[node]);
        out.left.push(0);
        out.right.push(0);
        out.value.push(tree.value[node]);
        out.cover.push(tree.cover[node]);
        if !tree.is_leaf(node) {
            stack.push((tree.right[node] as usize, Some(slot)));
            stack.push((tree.left[node] as usize, None));
        }
    }
    derive_internal(&mut out);
    out
}

/// Sets every internal node's cover and value from its children (see [`canonical`]); children
/// come after their parent in preorder, so one reverse sweep sees children first.
fn derive_internal(tree: &mut Tree) {
    for n in (0..tree.n_nodes()).rev() {
        if tree.is_leaf(n) {
            continue;
        }
        let (l, r) = (tree.left[n] as usize, tree.right[n] as usize);
        let (cl, cr) = (tree.cover[l], tree.cover[r]);
        let total = cl + cr;
        tree.cover[n] = total;
        tree.value[n] = if total > 0.0 {
            (tree.value[l] * cl + tree.value[r] * cr) / total
        } else {
            (tree.value[l] + tree.value[r]) / 2.0
        };
    }
}

/// The serialised form: per-feature threshold tables and one base64 string per tree.
#[derive(Serialize)]
struct Encoded {
    thresholds: Vec<Vec<f64>>,
    nodes: Vec<String>,
}

crate::map_struct!(Encoded, deny_unknown_fields { thresholds, nodes });

/// How a forest's trees are laid out in its artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TreeLayout {
    /// The compact encoding above, which every forest trained by this build is saved in.
    #[default]
    Compact,
    /// [`Tree`]'s own node arrays, as builds before the compact encoding saved forests. Such a
    /// file keeps loading, and is written back in the same layout: the content hash is taken
    /// over the re-serialised artifact, so converting it would make its own hash fail.
    NodeArrays,
}

/// A forest's trees for serialising, in the layout they were trained or read in.
pub struct LaidOut<'a> {
    /// The trees; for [`TreeLayout::Compact`] they must be canonical ([`canonical`]) to load
    /// back identical (any other tree loads back as its canonical form).
    pub trees: &'a [Tree],
    /// The layout to write.
    pub layout: TreeLayout,
}

impl Serialize for LaidOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.layout {
            TreeLayout::Compact => encode(self.trees)
                .map_err(serde::ser::Error::custom)?
                .serialize(s),
            TreeLayout::NodeArrays => self.trees.serialize(s),
        }
    }
}

/// A forest's trees as read, in either layout.
pub struct ReadTrees {
    /// The trees, exactly as stored.
    pub trees: Vec<Tree>,
    /// The layout they were stored in.
    pub layout: TreeLayout,
}

impl<'de> Deserialize<'de> for ReadTrees {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TreesVisitor)
    }
}

struct TreesVisitor;

impl<'de> Visitor<'de> for TreesVisitor {
    type Value = ReadTrees;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a forest's trees as `thresholds` and `nodes`, or as a list of trees")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ReadTrees, A::Error> {
        let encoded = Encoded::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(ReadTrees {
            trees: decode(&encoded).map_err(de::Error::custom)?,
            layout: TreeLayout::Compact,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ReadTrees, A::Error> {
        // Structure is not trusted here either: the artifact's validation checks these trees
        // (children in range and forward, features in range) as it checks every loaded tree.
        Ok(ReadTrees {
            trees: Vec::<Tree>::deserialize(de::value::SeqAccessDeserializer::new(seq))?,
            layout: TreeLayout::NodeArrays,
        })
    }
}

fn encode(trees: &[Tree]) -> Result<Encoded, String> {
    let n_features = trees
        .iter()
        .flat_map(|t| t.feature.iter())
        .filter(|&&f| f != LEAF)
        .map(|&f| f as usize + 1)
        .max()
        .unwrap_or(0);
    let mut thresholds = vec![Vec::new(); n_features];
    for t in trees {
        for (n, &f) in t.feature.iter().enumerate() {
            if f != LEAF {
                thresholds[f as usize].push(t.threshold[n]);
            }
        }
    }
    for list in &mut thresholds {
        list.sort_unstable_by(f64::total_cmp);
        list.dedup_by(|a, b| a.to_bits() == b.to_bits());
    }
    let nodes = trees
        .iter()
        .enumerate()
        .map(|(t, tree)| {
            encode_tree(tree, &thresholds)
                .map(|b| base64_encode(&b))
                .map_err(|e| format!("trees[{t}]: {e}"))
        })
        .collect::<Result<_, _>>()?;
    Ok(Encoded { thresholds, nodes })
}

/// The tree's bytes; an error (never a hang) when its children do not form a tree.
fn encode_tree(tree: &Tree, thresholds: &[Vec<f64>]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(4 * tree.n_nodes());
    if tree.n_nodes() == 0 {
        // Loading refuses it as a truncated tree, as validation refuses an empty one.
        return Ok(out);
    }
    let mut stack = vec![0usize];
    let mut visited = 0usize;
    while let Some(n) = stack.pop() {
        visited += 1;
        if n >= tree.n_nodes() || visited > tree.n_nodes() {
            return Err(format!(
                "node {n} is out of range or reached twice: the children do not form a tree"
            ));
        }
        if tree.is_leaf(n) {
            let (value, cover) = (tree.value[n], tree.cover[n]);
            match as_fraction(value, cover) {
                Some((n, k)) => {
                    put_varint(&mut out, LEAF_FRACTION);
                    put_varint(&mut out, n);
                    put_varint(&mut out, k);
                }
                None => {
                    put_varint(&mut out, LEAF_RAW);
                    out.extend_from_slice(&value.to_le_bytes());
                    out.extend_from_slice(&cover.to_le_bytes());
                }
            }
            continue;
        }
        let f = tree.feature[n] as usize;
        let list = &thresholds[f];
        let t = tree.threshold[n];
        // Present by construction: the tables hold every threshold of every tree.
        let index = list
            .binary_search_by(|x| x.total_cmp(&t))
            .unwrap_or_default();
        put_varint(
            &mut out,
            SPLIT + 2 * f as u64 + u64::from(tree.default_left[n]),
        );
        put_varint(&mut out, index as u64);
        stack.push(tree.right[n] as usize);
        stack.push(tree.left[n] as usize);
    }
    Ok(out)
}

/// `(n, k)` when `value` is exactly `k / n` for a whole cover `n > 0` and `k <= n`.
fn as_fraction(value: f64, cover: f64) -> Option<(u64, u64)> {
    // Whole: within (0, 2^53] the cast to u64 truncates, so only a whole number survives the
    // round trip (`f64::fract` needs std, and core is no_std).
    if !(cover > 0.0 && cover <= MAX_EXACT as f64 && (cover as u64) as f64 == cover) {
        return None;
    }
    if !(0.0..=1.0).contains(&value) {
        return None;
    }
    let k = libm::round(value * cover);
    (k / cover)
        .to_bits()
        .eq(&value.to_bits())
        .then_some((cover as u64, k as u64))
}

fn decode(encoded: &Encoded) -> Result<Vec<Tree>, String> {
    encoded
        .nodes
        .iter()
        .enumerate()
        .map(|(t, text)| {
            let bytes = base64_decode(text).map_err(|e| format!("trees.nodes[{t}]: {e}"))?;
            decode_tree(&bytes, &encoded.thresholds)
                .map_err(|(at, e)| format!("trees.nodes[{t}]: byte {at}: {e}"))
        })
        .collect()
}

fn decode_tree(bytes: &[u8], thresholds: &[Vec<f64>]) -> Result<Tree, (usize, String)> {
    let mut tree = Tree {
        feature: Vec::new(),
        threshold: Vec::new(),
        default_left: Vec::new(),
        left: Vec::new(),
        right: Vec::new(),
        value: Vec::new(),
        cover: Vec::new(),
        categories: Vec::new(),
    };
    let mut at = 0usize;
    // Splits still waiting for a child: `false` while their left subtree is being read.
    let mut open: Vec<(usize, bool)> = Vec::new();
    loop {
        let start = at;
        let fail = |e: &str| (start, String::from(e));
        let slot = tree.feature.len();
        if let Some((parent, right)) = open.last_mut() {
            if *right {
                tree.right[*parent] = slot as u32;
                open.pop();
            } else {
                tree.left[*parent] = slot as u32;
                *right = true;
            }
        }
        if slot > u32::MAX as usize - 1 {
            return Err(fail("too many nodes"));
        }
        let head = get_varint(bytes, &mut at).ok_or_else(|| fail("truncated node"))?;
        let (feature, threshold, default_left, value, cover) = match head {
            LEAF_FRACTION => {
                let n = get_varint(bytes, &mut at).ok_or_else(|| fail("truncated leaf"))?;
                let k = get_varint(bytes, &mut at).ok_or_else(|| fail("truncated leaf"))?;
                if n == 0 || n > MAX_EXACT || k > n {
                    return Err(fail(&format!(
                        "leaf fraction {k}/{n} needs 0 < n <= 2^53 and k <= n"
                    )));
                }
                (LEAF, 0.0, true, k as f64 / n as f64, n as f64)
            }
            LEAF_RAW => {
                let f64_at = |at: &mut usize| {
                    let b = bytes.get(*at..*at + 8)?;
                    *at += 8;
                    Some(f64::from_le_bytes(b.try_into().ok()?))
                };
                let value = f64_at(&mut at).ok_or_else(|| fail("truncated leaf"))?;
                let cover = f64_at(&mut at).ok_or_else(|| fail("truncated leaf"))?;
                (LEAF, 0.0, true, value, cover)
            }
            _ => {
                let code = head - SPLIT;
                let f = code / 2;
                let index = get_varint(bytes, &mut at).ok_or_else(|| fail("truncated split"))?;
                let list = usize::try_from(f)
                    .ok()
                    .and_then(|f| thresholds.get(f))
                    .ok_or_else(|| {
                        fail(&format!(
                            "split on feature {f}, which has no threshold table ({} tables)",
                            thresholds.len()
                        ))
                    })?;
                let threshold = usize::try_from(index)
                    .ok()
                    .and_then(|i| list.get(i))
                    .copied()
                    .ok_or_else(|| {
                        fail(&format!(
                            "threshold index {index} of feature {f}, which has {} thresholds",
                            list.len()
                        ))
                    })?;
                // Tables exist only below the feature count, far below u32::MAX (`LEAF`).
                (f as u32, threshold, code % 2 == 1, 0.0, 0.0)
            }
        };
        tree.feature.push(feature);
        tree.threshold.push(threshold);
        tree.default_left.push(default_left);
        tree.left.push(0);
        tree.right.push(0);
        tree.value.push(value);
        tree.cover.push(cover);
        if feature != LEAF {
            open.push((slot, false));
        }
        if open.is_empty() {
            break;
        }
    }
    if at != bytes.len() {
        return Err((
            at,
            format!("{} bytes after the tree's last node", bytes.len() - at),
        ));
    }
    derive_internal(&mut tree);
    Ok(tree)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// An unsigned LEB128 number at `*at`, or `None` when truncated or over 64 bits.
fn get_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        let part = u64::from(b & 0x7f);
        if shift == 63 && part > 1 {
            return None;
        }
        v |= part << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with `=` padding (RFC 4648).
fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return Err(format!(
            "base64 text of {} characters is not a multiple of 4",
            bytes.len()
        ));
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let quads = bytes.len() / 4;
    for (q, quad) in bytes.chunks_exact(4).enumerate() {
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && q + 1 != quads) {
            return Err(format!("misplaced `=` in base64 at character {}", 4 * q));
        }
        let mut n = 0u32;
        for (i, &c) in quad[..4 - pad].iter().enumerate() {
            let v = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                b'=' => {
                    return Err(format!(
                        "misplaced `=` in base64 at character {}",
                        4 * q + i
                    ))
                }
                _ => {
                    return Err(format!(
                        "character {} ({:?}) is not base64",
                        4 * q + i,
                        c as char
                    ))
                }
            };
            n |= u32::from(v) << (18 - 6 * i);
        }
        out.extend_from_slice(&n.to_be_bytes()[1..4 - pad]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use alloc::string::ToString;

    /// A random tree with fraction leaves (whole covers), raw leaves and missing directions.
    fn random_tree(rng: &mut Rng, features: usize, splits: usize) -> Tree {
        let leaf = |rng: &mut Rng| {
            if rng.chance(0.8) {
                let n = 1 + rng.below(500) as u64;
                let k = rng.below(n as usize + 1) as f64;
                (k / n as f64, n as f64)
            } else {
                (rng.next_f64() - 0.5, rng.next_f64() * 3.0)
            }
        };
        let (v, c) = leaf(rng);
        let mut tree = Tree::leaf(v, c);
        for _ in 0..splits {
            let leaves: Vec<usize> = (0..tree.n_nodes()).filter(|&n| tree.is_leaf(n)).collect();
            let node = leaves[rng.below(leaves.len())];
            let (l, r) = (leaf(rng), leaf(rng));
            tree.split(
                node,
                rng.below(features),
                // Few distinct thresholds, as bin boundaries are.
                rng.below(7) as f64 * 0.25 - 1.0,
                rng.chance(0.5),
                l,
                r,
            );
        }
        tree
    }

    fn json(trees: &[Tree]) -> String {
        serde_json::to_string(&encode(trees).unwrap()).unwrap()
    }

    fn load(text: &str) -> Result<Vec<Tree>, String> {
        let read: ReadTrees = serde_json::from_str(text).map_err(|e| e.to_string())?;
        assert_eq!(read.layout, TreeLayout::Compact);
        Ok(read.trees)
    }

    #[test]
    fn canonical_trees_round_trip_exactly_and_predict_as_before() {
        let mut rng = Rng::new(3);
        let trees: Vec<Tree> = (0..30).map(|i| random_tree(&mut rng, 9, i % 17)).collect();
        let canon: Vec<Tree> = trees.iter().map(canonical).collect();
        let back = load(&json(&trees)).unwrap();
        assert_eq!(back, canon);
        assert_eq!(json(&back), json(&trees));
        for (t, c) in trees.iter().zip(&canon) {
            assert_eq!(c.n_nodes(), t.n_nodes());
            assert_eq!(c.n_leaves(), t.n_leaves());
            c.check(9, usize::MAX, usize::MAX).unwrap();
            for _ in 0..50 {
                let row: Vec<f64> = (0..9)
                    .map(|_| {
                        if rng.chance(0.1) {
                            f64::NAN
                        } else {
                            rng.next_f64() * 2.0 - 1.0
                        }
                    })
                    .collect();
                assert_eq!(c.predict(&row).to_bits(), t.predict(&row).to_bits());
            }
            // Derived: the root covers everything, internal values are the covered means.
            let leaves: f64 = (0..c.n_nodes())
                .filter(|&n| c.is_leaf(n))
                .map(|n| c.cover[n])
                .sum();
            assert!((c.cover[0] - leaves).abs() < 1e-9 * (1.0 + leaves));
        }
    }

    #[test]
    fn fraction_leaves_take_a_few_bytes() {
        let mut tree = Tree::leaf(0.5, 10.0);
        tree.split(0, 3, 1.5, true, (2.0 / 7.0, 7.0), (1.0 / 3.0, 3.0));
        let bytes = encode_tree(&canonical(&tree), &[vec![], vec![], vec![], vec![1.5]]).unwrap();
        // Split: head 2 + 2·3 + 1 = 9, index 0; leaves: 0, n, k.
        assert_eq!(bytes, [9, 0, 0, 7, 2, 0, 3, 1]);
        let raw = Tree::leaf(0.1, 2.5);
        assert_eq!(encode_tree(&raw, &[]).unwrap().len(), 17);
        // A loop is an error, not a hang, and canonical leaves such a tree as it is.
        let mut looped = tree.clone();
        looped.left[0] = 0;
        assert!(encode_tree(&looped, &[vec![], vec![], vec![], vec![1.5]])
            .unwrap_err()
            .contains("do not form a tree"));
        assert_eq!(canonical(&looped), looped);
    }

    #[test]
    fn base64_matches_the_rfc_vectors_and_refuses_junk() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), coded);
            assert_eq!(base64_decode(coded).unwrap(), plain.as_bytes());
        }
        assert!(base64_decode("Zm9").unwrap_err().contains("multiple of 4"));
        assert!(base64_decode("Zm=v").unwrap_err().contains("misplaced"));
        assert!(base64_decode("Zg==Zm9v").unwrap_err().contains("misplaced"));
        assert!(base64_decode("Zm9*").unwrap_err().contains("not base64"));
    }

    #[test]
    fn bad_encodings_are_refused_with_the_tree_and_byte() {
        let thresholds = "[[0.5],[1.5,2.5]]";
        let doc = |nodes: &[u8]| {
            format!(
                "{{\"thresholds\":{thresholds},\"nodes\":[\"AAEA\",\"{}\"]}}",
                base64_encode(nodes)
            )
        };
        // Tree 0 is one leaf 0/1; tree 1 varies.
        let ok = load(&doc(&[4, 1, 0, 1, 0, 0, 2, 1])).unwrap();
        assert_eq!(ok[1].threshold[0], 2.5);
        assert_eq!(ok[1].cover[0], 3.0);
        assert!((ok[1].value[0] - 1.0 / 3.0).abs() < 1e-15);
        for (nodes, wanted) in [
            (
                &[4, 1, 0, 1, 0][..],
                "trees.nodes[1]: byte 5: truncated node",
            ),
            (
                &[4, 5, 0, 1, 0, 0, 1, 0][..],
                "threshold index 5 of feature 1",
            ),
            (
                &[8, 0][..],
                "split on feature 3, which has no threshold table",
            ),
            (&[0, 2, 3][..], "leaf fraction 3/2"),
            (&[0, 0, 0][..], "leaf fraction 0/0"),
            (
                &[0, 1, 0, 7][..],
                "byte 3: 1 bytes after the tree's last node",
            ),
            (&[1, 0, 0][..], "truncated leaf"),
            (&[0xff; 11][..], "truncated node"),
        ] {
            let err = load(&doc(nodes)).unwrap_err();
            assert!(err.contains(wanted), "{err} (wanted {wanted})");
        }
        assert!(load(r#"{"thresholds":[],"nodes":[],"x":1}"#).is_err());
    }
}
