//! A stable sort for short lists that are not compute (problems of a request, the columns of a
//! drift report, a column's unseen levels, a model's field names), compiled once.
//!
//! `slice::sort_by` is compiled again for every element type and comparison (driftsort and
//! its merges, 3-5 KB of wasm each); these lists are at most a few thousand items, sorted once
//! per request or report. [`sort_by`] sorts their positions instead, through one non-generic
//! function, then moves the items: the same order as `slice::sort_by`, ties in their original
//! order (BENCHMARKS.md, "Worker wasm size, session 12").

use alloc::vec::Vec;
use core::cmp::Ordering;

/// Sorts `items` by `compare` exactly as `items.sort_by(compare)` does (stable).
pub fn sort_by<T>(items: &mut [T], compare: impl Fn(&T, &T) -> Ordering) {
    let mut order = sorted_positions(items.len(), &|a, b| compare(&items[a], &items[b]));
    permute(items, &mut order);
}

/// Sorts `items` by `key` exactly as `items.sort_by_key(key)` does (stable).
pub fn sort_by_key<T, K: Ord>(items: &mut [T], key: impl Fn(&T) -> K) {
    sort_by(items, |a, b| key(a).cmp(&key(b)));
}

/// The positions `0..n` in the order `compare` (of two positions) sorts them, stably.
fn sorted_positions(n: usize, compare: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| compare(a, b));
    order
}

/// Moves `items[order[k]]` to position `k` for every `k`, following each cycle of the
/// permutation once (`order` is used up as the record of positions done).
fn permute<T>(items: &mut [T], order: &mut [usize]) {
    const DONE: usize = usize::MAX;
    for start in 0..order.len() {
        let mut at = start;
        while order[at] != DONE {
            let from = order[at];
            order[at] = DONE;
            if from == start {
                break;
            }
            // `items[at]` holds the cycle's first item until it reaches its place.
            items.swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn the_order_is_the_standard_stable_sorts() {
        let mut rng = crate::rng::Rng::new(7);
        for n in [0usize, 1, 2, 3, 5, 17, 64, 300] {
            for _ in 0..20 {
                // Few distinct keys, so ties are common; the index tells tied items apart.
                let items: Vec<(u32, usize)> =
                    (0..n).map(|i| ((rng.next_u64() % 4) as u32, i)).collect();
                let mut ours = items.clone();
                let mut std = items.clone();
                sort_by(&mut ours, |a, b| b.0.cmp(&a.0));
                std.sort_by_key(|x| core::cmp::Reverse(x.0));
                assert_eq!(ours, std);
                let mut ours = items.clone();
                let mut std = items;
                sort_by_key(&mut ours, |x| x.0);
                std.sort_by_key(|x| x.0);
                assert_eq!(ours, std);
            }
        }
    }

    #[test]
    fn a_single_long_cycle_and_a_reversal_land_in_place() {
        let mut items = vec![5, 1, 2, 3, 4];
        sort_by(&mut items, |a, b| a.cmp(b));
        assert_eq!(items, vec![1, 2, 3, 4, 5]);
        let mut items: Vec<i32> = (0..10).rev().collect();
        sort_by_key(&mut items, |&x| x);
        assert_eq!(items, (0..10).collect::<Vec<_>>());
    }
}
