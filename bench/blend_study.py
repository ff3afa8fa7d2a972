"""Would averaging two gbdt variants beat each alone? Reads bench/size_study.sh's results (run with
--predictions: each row's test-fold probability), averages the variants' log-odds row by row on
the same outer folds and prints, per table, each fold's ROC-AUC and PR-AUC of the blend paired
with the baseline variant (BENCHMARKS.md, "gbdt levers on small tables: blending two shapes").

  bench/.venv/bin/python bench/blend_study.py --study bench/out/size_study15 \
      --mlc-folds bench/out/repeated --baseline l7_ff08 --blend l7_ff08+sym6_rows_fixed1000

A blend is `a+b` (equal weights on the log-odds); several may be given, comma-separated.
"""

import argparse
import json
import os

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

MLC = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mlc_churn.csv")
SEEDS = (42, 43, 44)


def labels(csv):
    import pandas as pd

    return (pd.read_csv(csv, usecols=["churn"]).churn.astype(str).str.lower().isin(["yes", "1", "true"])).values


def folds_files(study, table, mlc_folds):
    """The folds files of a table, in the order of its result files _1, _2, _3."""
    directory = mlc_folds if table == "mlc" and mlc_folds else study
    return [os.path.join(directory, f"{table}_{s}.folds") for s in SEEDS]


def oof(study, table, variant, i):
    with open(os.path.join(study, f"{table}_{variant}_{i}.json")) as f:
        result = json.load(f)["results"][0]
    p = np.array([np.nan if v is None else v for v in result["oof_probabilities"]], dtype=float)
    return np.log(p) - np.log1p(-p)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--study", required=True)
    ap.add_argument("--mlc-folds")
    ap.add_argument("--tables", default="mlc2000,gen2000,mlc,gen5000")
    ap.add_argument("--baseline", default="l7_ff08")
    ap.add_argument("--blend", required=True)
    a = ap.parse_args()
    print("| table | variant | ROC-AUC | PR-AUC | Δ ROC-AUC vs baseline | paired SE | ahead | Δ PR-AUC |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for table in a.tables.split(","):
        csv = MLC if table == "mlc" else os.path.join(a.study, f"{table}.csv")
        y = labels(csv)
        names = [a.baseline] + a.blend.split(",")
        per = {n: ([], []) for n in names}
        for i, path in enumerate(folds_files(a.study, table, a.mlc_folds), start=1):
            fold = np.loadtxt(path, dtype=int)
            scores = {}
            for n in names:
                parts = [oof(a.study, table, v, i) for v in n.split("+")]
                scores[n] = np.mean(parts, axis=0)
            for k in sorted(set(fold[fold >= 0])):
                test = fold == k
                for n in names:
                    per[n][0].append(roc_auc_score(y[test], scores[n][test]))
                    per[n][1].append(average_precision_score(y[test], scores[n][test]))
        base_roc, base_pr = map(np.array, per[a.baseline])
        for n in names:
            roc, pr = map(np.array, per[n])
            d = roc - base_roc
            paired = "" if n == a.baseline else (
                f"{d.mean():+.4f} | {d.std(ddof=1) / np.sqrt(len(d)):.4f} | {(d > 0).sum()}/{len(d)} | "
                f"{(pr - base_pr).mean():+.4f}"
            )
            print(f"| {table} | {n} | {roc.mean():.4f} | {pr.mean():.4f} | {paired or ' |  |  | '} |")


if __name__ == "__main__":
    main()
