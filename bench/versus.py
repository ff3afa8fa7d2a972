"""Ebb's gbdt variant against the references, fold by fold on the same folds: reads
bench/size_study.sh's results (TABLE_VARIANT_1..3.json) and bench/reference.py's results written
beside them as ref_TABLE_SEED.json (seeds 42 43 44, in that order), and prints each reference's
ROC-AUC and PR-AUC, Ebb's, the ratio and the paired difference ± its standard error.

  python3 bench/versus.py --study bench/out/size_study15 --variant sized --tables mlc2000,gen2000,mlc,gen5000
"""

import argparse
import json
import math
import os

SEEDS = (42, 43, 44)


def folds(path, key=None):
    with open(path) as f:
        results = json.load(f)["results"]
    return {r["key"]: r["folds"] for r in results} if key is None else results[0]["folds"]


def mean(v):
    return sum(v) / len(v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--study", required=True)
    ap.add_argument("--variant", default="sized")
    ap.add_argument("--tables", default="mlc2000,gen2000,mlc,gen5000")
    a = ap.parse_args()
    print("| table | reference | its ROC-AUC | Ebb ROC-AUC | ratio | paired Δ ± SE (folds Ebb ahead) | its PR-AUC | Ebb PR-AUC |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for table in a.tables.split(","):
        ebb = {"roc_auc": [], "pr_auc": []}
        refs = {}
        for i, seed in enumerate(SEEDS, start=1):
            mine = folds(os.path.join(a.study, f"{table}_{a.variant}_{i}.json"), key=0)
            for m in ebb:
                ebb[m] += mine[m]
            for key, theirs in folds(os.path.join(a.study, f"ref_{table}_{seed}.json")).items():
                r = refs.setdefault(key, {"roc_auc": [], "pr_auc": []})
                for m in r:
                    r[m] += theirs[m]
        for key, r in refs.items():
            d = [x - y for x, y in zip(ebb["roc_auc"], r["roc_auc"])]
            se = math.sqrt(sum((x - mean(d)) ** 2 for x in d) / (len(d) - 1) / len(d))
            ahead = sum(x > 0 for x in d)
            print(
                f"| {table} | {key} | {mean(r['roc_auc']):.4f} | {mean(ebb['roc_auc']):.4f} | "
                f"{mean(ebb['roc_auc']) / mean(r['roc_auc']):.4f} | {mean(d):+.4f} ± {se:.4f} ({ahead}/{len(d)}) | "
                f"{mean(r['pr_auc']):.4f} | {mean(ebb['pr_auc']):.4f} |"
            )


if __name__ == "__main__":
    main()
