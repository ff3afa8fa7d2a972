//! Validation splits: which rows train and which rows test in each fold. Stratified k-fold for
//! exchangeable rows, group k-fold so that one customer's rows never sit on both sides, and
//! time-ordered splits (a holdout and rolling-origin folds) so that a model is only ever tested
//! on rows later than the ones it learned from. Splitting on both customers and time is left to
//! the caller, who can intersect a time split with groups hashed by [`hash_group`].
//!
//! Row indices are 0-based positions in the inputs and are returned sorted; error messages
//! name rows 1-based, as a spreadsheet does.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use hashbrown::HashMap;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::metrics::{check_labels, sort_key};
use crate::rng::Rng;

/// One train/test partition of the rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fold {
    /// Rows to fit on, ascending.
    pub train: Vec<usize>,
    /// Rows to evaluate on, ascending.
    pub test: Vec<usize>,
}

fn invalid(name: &'static str, message: String) -> Error {
    Error::InvalidParameter {
        name: name.into(),
        message,
    }
}

fn check_folds(k: usize) -> Result<()> {
    if k < 2 {
        return Err(invalid(
            "folds",
            format!("k-fold validation needs at least 2 folds, got {k}: use 5"),
        ));
    }
    Ok(())
}

/// Turns a fold number per row into folds (each row is tested in its own fold only).
fn folds_from_assignment(fold_of: &[usize], k: usize) -> Vec<Fold> {
    let mut folds: Vec<Fold> = (0..k)
        .map(|_| Fold {
            train: Vec::new(),
            test: Vec::new(),
        })
        .collect();
    for (row, &f) in fold_of.iter().enumerate() {
        for (j, fold) in folds.iter_mut().enumerate() {
            if j == f {
                fold.test.push(row);
            } else {
                fold.train.push(row);
            }
        }
    }
    folds
}

/// `k` folds that each hold close to `1/k` of every class: the rows of each class are shuffled
/// (seeded) and dealt round-robin, the deal continuing from one class to the next, so per fold
/// both the class counts and the total sizes differ by at most one row. Needs `k >= 2` and at
/// least `k` rows of each class.
pub fn stratified_kfold(y: &[f64], k: usize, seed: u64) -> Result<Vec<Fold>> {
    check_labels(y)?;
    check_folds(k)?;
    let mut classes: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
    for (row, &label) in y.iter().enumerate() {
        classes[usize::from(label == 1.0)].push(row);
    }
    for (class, rows) in classes.iter().enumerate() {
        if rows.is_empty() {
            return Err(invalid(
                "folds",
                format!("class `{class}` has no rows: stratified folds need both classes"),
            ));
        }
        if rows.len() < k {
            return Err(invalid(
                "folds",
                format!(
                    "class `{class}` has only {} rows: use at most {} folds",
                    rows.len(),
                    rows.len()
                ),
            ));
        }
    }
    let root = Rng::new(seed);
    let mut fold_of = vec![0; y.len()];
    let mut next = 0;
    for (class, rows) in classes.iter_mut().enumerate() {
        root.fork(class as u64).shuffle(rows);
        for &row in rows.iter() {
            fold_of[row] = next;
            next = (next + 1) % k;
        }
    }
    Ok(folds_from_assignment(&fold_of, k))
}

/// Rows and churners of one group (customer).
#[derive(Clone, Copy)]
struct GroupStats {
    rows: usize,
    positives: usize,
    /// Seeded tie-breaker between groups of equal size.
    key: u64,
}

/// `k` folds in which every group (customer, see [`hash_group`]) lies wholly on one side.
///
/// Heuristic (greedy, largest first): groups are ordered by churners, then rows, descending,
/// with a seeded random order among equals. A group with churners goes to the fold with the
/// fewest churners so far (then the fewest rows, then the lowest fold number); a group without
/// churners goes to the fold with the fewest rows (then the lowest number). Churners are thus
/// spread as evenly as their grouping allows and fold sizes evened out by the many small
/// groups; a fold gets no churner only when fewer than `k` groups contain one. Needs at least
/// `k` distinct groups.
pub fn group_kfold(y: &[f64], groups: &[u64], k: usize, seed: u64) -> Result<Vec<Fold>> {
    check_labels(y)?;
    if groups.len() != y.len() {
        return Err(invalid(
            "groups",
            format!(
                "{} labels but {} group ids: pass one customer id per row",
                y.len(),
                groups.len()
            ),
        ));
    }
    check_folds(k)?;
    let mut rng = Rng::new(seed);
    let mut index: HashMap<u64, usize> = HashMap::new();
    let mut stats: Vec<GroupStats> = Vec::new();
    let mut group_of = Vec::with_capacity(y.len());
    for (&g, &label) in groups.iter().zip(y) {
        let id = *index.entry(g).or_insert_with(|| {
            stats.push(GroupStats {
                rows: 0,
                positives: 0,
                key: rng.next_u64(),
            });
            stats.len() - 1
        });
        if let Some(s) = stats.get_mut(id) {
            s.rows += 1;
            s.positives += usize::from(label == 1.0);
        }
        group_of.push(id);
    }
    if stats.len() < k {
        return Err(invalid(
            "folds",
            format!(
                "only {} distinct customers (groups) for {k} folds: use at most {} folds, or split by rows",
                stats.len(),
                stats.len()
            ),
        ));
    }
    let mut order: Vec<usize> = (0..stats.len()).collect();
    order.sort_by(|&a, &b| {
        let (sa, sb) = (&stats[a], &stats[b]);
        sb.positives
            .cmp(&sa.positives)
            .then(sb.rows.cmp(&sa.rows))
            .then(sa.key.cmp(&sb.key))
            .then(a.cmp(&b))
    });
    // (positives, rows) per fold.
    let mut load = vec![(0usize, 0usize); k];
    let mut fold_of_group = vec![0; stats.len()];
    for &g in &order {
        let s = stats[g];
        // min_by_key returns the first minimum, so ties go to the lowest fold number.
        let target = if s.positives > 0 {
            (0..k).min_by_key(|&f| load[f])
        } else {
            (0..k).min_by_key(|&f| load[f].1)
        }
        .unwrap_or(0);
        load[target].0 += s.positives;
        load[target].1 += s.rows;
        fold_of_group[g] = target;
    }
    let fold_of: Vec<usize> = group_of.iter().map(|&g| fold_of_group[g]).collect();
    Ok(folds_from_assignment(&fold_of, k))
}

/// Rows ordered by time (ties in row order) with their sorted times; rejects empty input and
/// NaN or infinite times.
fn time_order(times: &[f64]) -> Result<(Vec<usize>, Vec<f64>)> {
    if times.is_empty() {
        return Err(invalid(
            "times",
            String::from("there are no rows to split: pass at least two timed rows"),
        ));
    }
    if let Some(row) = times.iter().position(|t| !t.is_finite()) {
        return Err(invalid(
            "times",
            format!(
                "row {}: time {} is not a finite number: fill in or drop rows without a date before a time split",
                row + 1,
                times[row]
            ),
        ));
    }
    let mut keyed: Vec<(u64, usize)> = times
        .iter()
        .enumerate()
        .map(|(i, &t)| (sort_key(t), i))
        .collect();
    keyed.sort_unstable();
    let order: Vec<usize> = keyed.into_iter().map(|(_, i)| i).collect();
    let sorted = order.iter().map(|&i| times[i]).collect();
    Ok((order, sorted))
}

fn fold_from_sorted(order: &[usize], train_end: usize, test_end: usize) -> Fold {
    let mut train = order[..train_end].to_vec();
    let mut test = order[train_end..test_end].to_vec();
    train.sort_unstable();
    test.sort_unstable();
    Fold { train, test }
}

/// A holdout of the latest `test_fraction` of rows by time. Rows sharing the time at the cut
/// all go to one side: whichever keeps the test set closest to the requested size (the test
/// side on an exact tie), provided both sides keep at least one row. So every training time is
/// strictly before every test time.
pub fn time_split(times: &[f64], test_fraction: f64) -> Result<Fold> {
    let (order, sorted) = time_order(times)?;
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        return Err(invalid(
            "test_fraction",
            format!("{test_fraction} is not strictly between 0 and 1: use 0.2 to test on the latest fifth"),
        ));
    }
    let n = sorted.len();
    let requested = ((n as f64 * test_fraction) + 0.5) as usize;
    let want = n - requested.clamp(1, n.saturating_sub(1).max(1));
    let cut = sorted[want.min(n - 1)];
    // Test starts at `with_ties` when the cut time goes to the test side, else at `without`.
    let with_ties = sorted.partition_point(|&t| t < cut);
    let without = sorted.partition_point(|&t| t <= cut);
    if with_ties == 0 && without == n {
        return Err(invalid(
            "times",
            format!("every row has the same time {cut}: a time split needs two distinct times"),
        ));
    }
    let ties_to_test = with_ties > 0 && (without == n || want - with_ties <= without - want);
    let start = if ties_to_test { with_ties } else { without };
    Ok(fold_from_sorted(&order, start, n))
}

/// `n_folds` expanding-window folds in time order. The first training window holds about
/// `min_train_fraction` of the rows; the rest is cut into `n_folds` consecutive test blocks of
/// about equal size, and each fold trains on every row before its test block. Cuts fall only
/// between distinct times (at the one nearest the even cut that still leaves room for the
/// remaining folds), so within a fold every training time is strictly before every test time.
/// Needs more distinct times than folds.
pub fn rolling_origin(times: &[f64], n_folds: usize, min_train_fraction: f64) -> Result<Vec<Fold>> {
    let (order, sorted) = time_order(times)?;
    if n_folds == 0 {
        return Err(invalid(
            "folds",
            String::from("rolling-origin validation needs at least 1 fold: use 3"),
        ));
    }
    if !(min_train_fraction > 0.0 && min_train_fraction < 1.0) {
        return Err(invalid(
            "min_train_fraction",
            format!("{min_train_fraction} is not strictly between 0 and 1: use 0.5"),
        ));
    }
    let n = sorted.len();
    // Positions where a new distinct time begins: the only places a cut may go.
    let starts: Vec<usize> = (1..n).filter(|&i| sorted[i] != sorted[i - 1]).collect();
    if starts.len() < n_folds {
        return Err(invalid(
            "folds",
            format!(
                "{} distinct times allow at most {} rolling-origin folds: use fewer folds",
                starts.len() + 1,
                starts.len()
            ),
        ));
    }
    let first = ((n as f64 * min_train_fraction) + 0.5) as usize;
    let rest = n.saturating_sub(first);
    let mut cuts = Vec::with_capacity(n_folds + 1);
    // Index into `starts` of the previous cut; each cut must use a later one.
    let mut lowest = 0;
    for i in 0..n_folds {
        let target = first + i * rest / n_folds;
        let highest = starts.len() - (n_folds - i);
        let after = starts
            .partition_point(|&s| s < target)
            .clamp(lowest, highest);
        let chosen = if after > lowest
            && target.abs_diff(starts[after - 1]) < starts[after].abs_diff(target)
        {
            after - 1
        } else {
            after
        };
        cuts.push(starts[chosen]);
        lowest = chosen + 1;
    }
    cuts.push(n);
    Ok(cuts
        .windows(2)
        .map(|w| fold_from_sorted(&order, w[0], w[1]))
        .collect())
}

/// FNV-1a (64-bit) hash of a customer id, for [`group_kfold`]. Byte-wise integer arithmetic,
/// so the same id hashes the same on every target and in every release.
pub fn hash_group(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn labels(n: usize, every: usize) -> Vec<f64> {
        (0..n)
            .map(|i| f64::from(u8::from(i % every == 0)))
            .collect()
    }

    /// Every row is tested exactly once, and train is the complement of test.
    fn assert_partition(folds: &[Fold], n: usize) {
        let mut tested = vec![0; n];
        for f in folds {
            assert!(f.test.windows(2).all(|w| w[0] < w[1]));
            assert!(f.train.windows(2).all(|w| w[0] < w[1]));
            assert_eq!(f.train.len() + f.test.len(), n);
            for &r in &f.test {
                tested[r] += 1;
                assert!(f.train.binary_search(&r).is_err());
            }
        }
        assert!(tested.iter().all(|&c| c == 1));
    }

    fn positives(y: &[f64], rows: &[usize]) -> usize {
        rows.iter().filter(|&&r| y[r] == 1.0).count()
    }

    #[test]
    fn stratified_folds_partition_and_balance() {
        let y = labels(103, 7);
        let folds = stratified_kfold(&y, 5, 1).unwrap();
        assert_eq!(folds.len(), 5);
        assert_partition(&folds, y.len());
        let pos: Vec<usize> = folds.iter().map(|f| positives(&y, &f.test)).collect();
        let size: Vec<usize> = folds.iter().map(|f| f.test.len()).collect();
        for counts in [&pos, &size] {
            assert!(counts.iter().max().unwrap() - counts.iter().min().unwrap() <= 1);
        }
        assert_eq!(stratified_kfold(&y, 5, 1).unwrap(), folds);
        assert_ne!(stratified_kfold(&y, 5, 2).unwrap(), folds);
    }

    #[test]
    fn stratified_errors() {
        let y = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let e = stratified_kfold(&y, 5, 0).unwrap_err();
        assert_eq!(
            e,
            Error::InvalidParameter {
                name: "folds".into(),
                message: String::from("class `1` has only 3 rows: use at most 3 folds"),
            }
        );
        assert!(stratified_kfold(&y, 1, 0).is_err());
        assert!(stratified_kfold(&y, 3, 0).is_ok());
        assert!(stratified_kfold(&[0.0; 10], 2, 0).is_err());
        assert!(stratified_kfold(&[], 2, 0).is_err());
        assert!(stratified_kfold(&[0.0, 1.0, 0.5, 1.0], 2, 0).is_err());
    }

    #[test]
    fn group_folds_keep_customers_together() {
        // 60 customers with 2 or 3 rows; a customer's rows are scattered through the file.
        let n = 150;
        let groups: Vec<u64> = (0..n)
            .map(|i| hash_group(&format!("c{}", i * 7 % 60)))
            .collect();
        let y: Vec<f64> = (0..n)
            .map(|i| f64::from(u8::from((i * 7 % 60) % 5 == 0)))
            .collect();
        let folds = group_kfold(&y, &groups, 4, 9).unwrap();
        assert_partition(&folds, n);
        for f in &folds {
            for &r in &f.test {
                assert!(f.train.iter().all(|&t| groups[t] != groups[r]));
            }
            assert!(positives(&y, &f.test) > 0);
        }
        let sizes: Vec<usize> = folds.iter().map(|f| f.test.len()).collect();
        let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
        assert!(hi - lo <= 4, "{sizes:?}");
        assert_eq!(group_kfold(&y, &groups, 4, 9).unwrap(), folds);
        assert_ne!(group_kfold(&y, &groups, 4, 10).unwrap(), folds);
    }

    #[test]
    fn group_errors() {
        let y = [0.0, 1.0, 0.0, 1.0];
        let e = group_kfold(&y, &[1, 1, 2, 2], 3, 0).unwrap_err();
        assert!(format!("{e}").contains("only 2 distinct customers"), "{e}");
        assert!(group_kfold(&y, &[1, 2, 3], 2, 0).is_err());
        assert!(group_kfold(&y, &[1, 2, 3, 4], 1, 0).is_err());
        assert!(group_kfold(&y, &[1, 1, 2, 2], 2, 0).is_ok());
    }

    #[test]
    fn time_split_keeps_the_latest_rows_for_test() {
        let times: Vec<f64> = (0..10).map(|i| f64::from((i * 3) % 10)).collect();
        let fold = time_split(&times, 0.3).unwrap();
        let mut all = [fold.train.clone(), fold.test.clone()].concat();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(fold.test.len(), 3);
        assert!(fold.test.iter().all(|&r| times[r] >= 7.0));
        // Ties at the cut move together: 3 rows at time 2 and the cut falls among them.
        let times = [1.0, 2.0, 2.0, 2.0, 3.0];
        let fold = time_split(&times, 0.4).unwrap();
        assert_eq!(fold.test, [4]);
        let fold = time_split(&times, 0.6).unwrap();
        assert_eq!(fold.test, [1, 2, 3, 4]);
        // Cut at the smallest time: ties must go to the test side only if train keeps a row.
        let fold = time_split(&[5.0, 5.0, 5.0, 6.0], 0.9).unwrap();
        assert_eq!(fold.test, [3]);
    }

    #[test]
    fn time_split_errors() {
        let e = time_split(&[1.0, f64::NAN, 2.0], 0.5).unwrap_err();
        assert!(format!("{e}").contains("row 2"), "{e}");
        assert!(time_split(&[1.0, 1.0, 1.0], 0.5).is_err());
        assert!(time_split(&[1.0, 2.0], 0.0).is_err());
        assert!(time_split(&[1.0, 2.0], 1.0).is_err());
        assert!(time_split(&[1.0], 0.5).is_err());
        assert!(time_split(&[], 0.5).is_err());
    }

    #[test]
    fn rolling_origin_expands_forward() {
        let times: Vec<f64> = (0..100).map(|i| f64::from((i * 37 % 100) / 4)).collect();
        let folds = rolling_origin(&times, 4, 0.5).unwrap();
        assert_eq!(folds.len(), 4);
        let mut tested = vec![0; times.len()];
        for (i, f) in folds.iter().enumerate() {
            let max_train = f.train.iter().map(|&r| times[r]).fold(f64::MIN, f64::max);
            let min_test = f.test.iter().map(|&r| times[r]).fold(f64::MAX, f64::min);
            assert!(max_train < min_test);
            assert!(!f.test.is_empty());
            f.test.iter().for_each(|&r| tested[r] += 1);
            if let Some(next) = folds.get(i + 1) {
                let mut grown = f.train.clone();
                grown.extend(&f.test);
                grown.sort_unstable();
                assert_eq!(next.train, grown);
            }
        }
        assert_eq!(folds[0].train.len(), 52);
        assert_eq!(tested.iter().filter(|&&c| c == 1).count(), 48);
        assert!(tested.iter().all(|&c| c <= 1));
    }

    #[test]
    fn rolling_origin_errors() {
        let e = rolling_origin(&[1.0, 1.0, 2.0, 2.0], 2, 0.5).unwrap_err();
        assert!(format!("{e}").contains("at most 1"), "{e}");
        assert!(rolling_origin(&[1.0, 2.0, 3.0], 0, 0.5).is_err());
        assert!(rolling_origin(&[1.0, 2.0, 3.0], 1, 1.0).is_err());
        assert!(rolling_origin(&[1.0, f64::INFINITY], 1, 0.5).is_err());
        // As many folds as distinct times allow still works, one time per test block.
        let folds = rolling_origin(&[3.0, 1.0, 2.0, 1.0], 2, 0.1).unwrap();
        assert_eq!(folds[0].test, [2]);
        assert_eq!(folds[1].test, [0]);
    }

    #[test]
    fn fnv1a_reference_values() {
        assert_eq!(hash_group(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash_group("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash_group("foobar"), 0x8594_4171_f739_67e8);
    }

    proptest! {
        #[test]
        fn time_folds_are_ordered(
            times in proptest::collection::vec(0u8..12, 2..60),
            fraction in 0.05f64..0.95,
            n_folds in 1usize..4,
        ) {
            let times: Vec<f64> = times.into_iter().map(f64::from).collect();
            let latest = |rows: &[usize]| rows.iter().map(|&r| times[r]).fold(f64::MIN, f64::max);
            let earliest = |rows: &[usize]| rows.iter().map(|&r| times[r]).fold(f64::MAX, f64::min);
            if let Ok(f) = time_split(&times, fraction) {
                prop_assert!(!f.train.is_empty() && !f.test.is_empty());
                prop_assert!(latest(&f.train) < earliest(&f.test));
            }
            if let Ok(folds) = rolling_origin(&times, n_folds, fraction) {
                prop_assert_eq!(folds.len(), n_folds);
                for f in &folds {
                    prop_assert!(!f.train.is_empty() && !f.test.is_empty());
                    prop_assert!(latest(&f.train) < earliest(&f.test));
                }
            }
        }
    }
}
