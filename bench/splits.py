"""Writes the train/test assignment that both benchmark sides (Python and Rust) read, so every
library is fitted and evaluated on exactly the same rows.

The output has one line per data row of the CSV: the index of the fold in which the row is a
test row, or -1 for a row that is only ever used for training. A model for fold k is fitted on
every row whose value is not k and evaluated on the rows whose value is k.

  time split:  python splits.py --data d.csv --target churn --time snapshot_date --out d.folds
               the latest snapshot dates form the test set (fold 0): as many whole dates as
               bring the test share closest to --test-share; earlier dates are training rows.
  stratified:  python splits.py --data d.csv --target churn --cv 5 --out d.folds
"""

import argparse
import sys

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold


def time_split(times: pd.Series, test_share: float) -> np.ndarray:
    dates = pd.to_datetime(times, errors="raise")
    counts = dates.value_counts().sort_index(ascending=False)
    n = len(dates)
    taken, best, best_gap = 0, None, float("inf")
    # Whole dates only: a snapshot month is never split between train and test.
    for date, count in counts.items():
        taken += count
        gap = abs(taken / n - test_share)
        if gap < best_gap:
            best, best_gap = date, gap
        elif taken / n > test_share:
            break
    folds = np.where(dates >= best, 0, -1)
    if folds.min() == 0 or folds.max() == -1:
        sys.exit("splits.py: the time column has a single date; a time split needs several")
    return folds


def stratified(y: np.ndarray, k: int, seed: int) -> np.ndarray:
    folds = np.full(len(y), -1)
    for i, (_, test) in enumerate(StratifiedKFold(k, shuffle=True, random_state=seed).split(y, y)):
        folds[test] = i
    return folds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--time", help="time column: split by time instead of stratified CV")
    ap.add_argument("--test-share", type=float, default=0.2)
    ap.add_argument("--cv", type=int, default=5)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    df = pd.read_csv(a.data, dtype=str, keep_default_na=False)
    if a.time:
        folds = time_split(df[a.time], a.test_share)
    else:
        y = df[a.target].str.strip().str.lower().to_numpy()
        folds = stratified(y, a.cv, a.seed)
    np.savetxt(a.out, folds, fmt="%d")
    test = (folds == 0).sum()
    print(f"splits: {a.out}: {len(folds)} rows, fold 0 tests {test} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
