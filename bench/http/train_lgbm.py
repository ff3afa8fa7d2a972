"""Trains the baseline of bench/http.sh: LightGBM, 300 trees of at most 31 leaves (learning rate
0.05, Ebb's boosting defaults otherwise; no early stopping) on every row of the CSV.

  python train_lgbm.py CSV OUT_DIR      -> OUT_DIR/lgbm.txt, OUT_DIR/lgbm_meta.json
"""

import json
import os
import sys
import time

import lightgbm as lgb
import numpy as np
import pandas as pd

from features import FEATURES, TARGET, codes, levels, prepare, vector

TREES = 300


def main() -> None:
    data, out = sys.argv[1], sys.argv[2]
    raw = pd.read_csv(data)
    cats = levels(raw)
    x = prepare(raw, cats)
    y = raw[TARGET].astype(str).str.lower().isin({"yes", "true", "1"}).astype(int)
    params = {
        "objective": "binary",
        "learning_rate": 0.05,
        "num_leaves": 31,
        "min_data_in_leaf": 20,
        "max_bin": 255,
        "seed": 42,
        "num_threads": 1,
        "verbose": -1,
    }
    started = time.perf_counter()
    booster = lgb.train(params, lgb.Dataset(x, y), num_boost_round=TREES)
    seconds = time.perf_counter() - started
    # Serving builds its inputs without pandas (features.vector): same predictions?
    check = raw.head(500).drop(columns=[TARGET])
    by_frame = booster.predict(prepare(check, cats), num_threads=1)
    lookup = codes(cats)
    records = [{k: v for k, v in r.items() if not pd.isna(v)} for r in check.to_dict("records")]
    by_vector = np.array([booster.predict(vector(r, lookup), num_threads=1)[0] for r in records])
    gap = float(np.max(np.abs(by_frame - by_vector)))
    if gap > 1e-12:
        sys.exit(f"lightgbm: serving inputs disagree with training inputs (max gap {gap})")
    os.makedirs(out, exist_ok=True)
    booster.save_model(os.path.join(out, "lgbm.txt"))
    with open(os.path.join(out, "lgbm_meta.json"), "w") as f:
        json.dump({"categories": cats, "features": FEATURES, "trees": booster.num_trees()}, f)
    print(f"lightgbm: {booster.num_trees()} trees, {len(x)} rows, fit {seconds:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
