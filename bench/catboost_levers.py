"""Which of CatBoost's defaults give it its edge on mlc_churn? CatBoost with its defaults and with
one default changed at a time, on the folds of bench/repeated.sh (scikit-learn StratifiedKFold,
5 folds, seeds 42 43 44: the folds the recorded references and Ebb's size study use), one thread,
seed 42; prints one JSON line per variant with the mean test ROC-AUC and PR-AUC and the fold
values (BENCHMARKS.md, "gbdt levers on small tables: CatBoost's edge").

  bench/.venv/bin/python bench/catboost_levers.py --data mlc_churn.csv [--variants default,lossguide7]
"""

import argparse
import json

import catboost
import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

CATEGORICAL = ["state", "area_code", "international_plan", "voice_mail_plan"]
LOSSGUIDE7 = dict(grow_policy="Lossguide", max_leaves=7)
EBB_LIKE = dict(
    score_function="L2",
    random_strength=0,
    bootstrap_type="No",
    one_hot_max_size=255,
    boost_from_average=True,
    learning_rate=0.015,
    iterations=1000,
)

# name -> CatBoostClassifier arguments over its defaults; "numeric" also gives the categorical
# columns as level codes (numbers, no target statistics).
VARIANTS = {
    "default": {},
    "plain": dict(boosting_type="Plain"),
    "ordered": dict(boosting_type="Ordered"),
    "depthwise6": dict(grow_policy="Depthwise", depth=6),
    "depth4": dict(depth=4),
    "depth3": dict(depth=3),
    "no_random_strength": dict(random_strength=0),
    "no_bagging": dict(bootstrap_type="No"),
    "l2_0": dict(l2_leaf_reg=0.001),
    "score_l2": dict(score_function="L2"),
    "drop_state": dict(),
    "onehot_all": dict(one_hot_max_size=255),
    "lossguide7": LOSSGUIDE7,
    "lossguide31": dict(grow_policy="Lossguide", max_leaves=31),
    "lossguide7_score_l2": dict(LOSSGUIDE7, score_function="L2"),
    "lossguide7_no_random_strength": dict(LOSSGUIDE7, random_strength=0),
    "lossguide7_no_bagging": dict(LOSSGUIDE7, bootstrap_type="No"),
    "lossguide7_l2_0": dict(LOSSGUIDE7, l2_leaf_reg=0.001),
    "lossguide7_rate05_300": dict(LOSSGUIDE7, learning_rate=0.05, iterations=300),
    "lossguide7_min_leaf20": dict(LOSSGUIDE7, min_data_in_leaf=20),
    "lossguide7_boost_from_average": dict(LOSSGUIDE7, boost_from_average=True),
    "lossguide7_ctr1": dict(LOSSGUIDE7, max_ctr_complexity=1),
    "lossguide7_borders32": dict(LOSSGUIDE7, border_count=32),
    "lossguide7_median_borders": dict(LOSSGUIDE7, feature_border_type="Median"),
    "lossguide7_numeric": LOSSGUIDE7,
    # Ebb's symmetric trees as far as CatBoost can be made to grow them (second-order split
    # score, no score noise, no row sampling, every categorical one-hot, start from the mean,
    # CatBoost's 1,000 rounds at a small rate), then CatBoost's defaults added back one at a time.
    "ebb_like": EBB_LIKE,
    "ebb_like_cosine": dict(EBB_LIKE, score_function="Cosine"),
    "ebb_like_noise": dict(EBB_LIKE, random_strength=1),
    "ebb_like_mvs": dict(EBB_LIKE, bootstrap_type="MVS", subsample=0.8),
    "ebb_like_ctr": dict(EBB_LIKE, one_hot_max_size=2),
    "ebb_like_from_zero": dict(EBB_LIKE, boost_from_average=False),
    "ebb_like_borders_median": dict(EBB_LIKE, feature_border_type="Median"),
}


def splits(y, prefix):
    """(train, test) row indices of 3 x 5 folds: scikit-learn's, or the folds files'."""
    for seed in (42, 43, 44):
        if prefix is None:
            yield from StratifiedKFold(5, shuffle=True, random_state=seed).split(y, y)
            continue
        fold = np.loadtxt(f"{prefix}_{seed}.folds", dtype=int)
        for k in sorted(set(fold[fold >= 0])):
            yield np.flatnonzero((fold >= 0) & (fold != k)), np.flatnonzero(fold == k)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument(
        "--folds",
        help="PREFIX of folds files PREFIX_42.folds .. PREFIX_44.folds (one test fold per row, as "
        "bench/size_study.sh writes them) instead of scikit-learn's folds",
    )
    a = ap.parse_args()
    df = pd.read_csv(a.data)
    y = (df.churn == "yes").astype(int).values
    x = df.drop(columns="churn")
    for name in a.variants.split(","):
        xv, cats = x.copy(), list(CATEGORICAL)
        if name == "drop_state":
            xv, cats = xv.drop(columns="state"), [c for c in cats if c != "state"]
        elif name == "lossguide7_numeric":
            for c in cats:
                xv[c] = xv[c].astype("category").cat.codes
            cats = []
        roc, pr = [], []
        for train, test in splits(y, a.folds):
            model = catboost.CatBoostClassifier(
                random_seed=42, thread_count=1, verbose=False, allow_writing_files=False, **VARIANTS[name]
            )
            model.fit(xv.iloc[train], y[train], cat_features=cats)
            p = model.predict_proba(xv.iloc[test])[:, 1]
            roc.append(roc_auc_score(y[test], p))
            pr.append(average_precision_score(y[test], p))
        print(json.dumps(dict(name=name, roc_auc=np.mean(roc), pr_auc=np.mean(pr), folds_roc_auc=roc)), flush=True)


if __name__ == "__main__":
    main()
