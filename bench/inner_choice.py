"""Would choosing between two gbdt configurations per table by cross-validation keep the better
one's gain? For every outer fold of bench/size_study.sh's tables, this cross-validates both
configurations on the fold's training rows alone (ebb-bench run on 5 inner stratified folds, as
`ebb train` would), picks the one with the higher inner ROC-AUC, and scores the pick with the outer
test ROC-AUC that the size study recorded for it (standard library only).

  python3 bench/inner_choice.py --study bench/out/size_study14 --mlc-folds bench/out/repeated \
      --first l7_ff08 --second l7_ff08_rows_l2_10 [--tables mlc,gen2000,mlc2000,gen5000]

--study is the size study's output directory (EBB_STUDY_OUT; its tables, folds and results);
--first and --second name two of its variants (bench/size_study.sh's table of EBB_BENCH_BOOST).
"""

import argparse
import csv
import json
import math
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = (42, 43, 44)


def variant_json(name: str) -> str:
    """The EBB_BENCH_BOOST object of a size-study variant, read from bench/size_study.sh."""
    text = open(os.path.join(ROOT, "bench", "size_study.sh")).read()
    return re.search(r"\[" + re.escape(name) + r"\]='([^']*)'", text).group(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--study", required=True)
    ap.add_argument("--mlc-folds", required=True, help="bench/repeated.sh's folds (mlc_SEED.folds)")
    ap.add_argument("--mlc", default=os.path.join(ROOT, "..", "shared", "data", "mlc_churn.csv"))
    ap.add_argument("--first", required=True)
    ap.add_argument("--second", required=True)
    ap.add_argument("--tables", default="mlc,gen2000,mlc2000,gen5000")
    ap.add_argument("--bench", default=os.path.join(ROOT, "target", "release", "ebb-bench"))
    a = ap.parse_args()
    variants = {v: variant_json(v) for v in (a.first, a.second)}

    def table(t):
        if t == "mlc":
            return a.mlc, [os.path.join(a.mlc_folds, f"mlc_{s}.folds") for s in SEEDS]
        return os.path.join(a.study, f"{t}.csv"), [os.path.join(a.study, f"{t}_{s}.folds") for s in SEEDS]

    def inner(job):
        t, si, k = job
        data, folds = table(t)
        work = os.path.join(a.study, "inner", f"{t}_{si}_{k}")
        os.makedirs(work, exist_ok=True)
        outer = [int(line) for line in open(folds[si]).read().split()]
        rows = list(csv.reader(open(data)))
        with open(os.path.join(work, "train.csv"), "w", newline="") as out:
            w = csv.writer(out)
            w.writerow(rows[0])
            w.writerows(r for r, f in zip(rows[1:], outer) if f != k)
        run = lambda *args, env=None: subprocess.run(
            [a.bench, *args], env=dict(os.environ, **(env or {})), check=True, capture_output=True
        )
        train, inner_folds = os.path.join(work, "train.csv"), os.path.join(work, "train.folds")
        run("folds", "--data", train, "--target", "churn", "--seed", "42", "--out", inner_folds)
        roc = {}
        for v, boost in variants.items():
            dest = os.path.join(work, f"{v}.json")
            run("run", "--data", train, "--folds", inner_folds, "--target", "churn", "--name", t,
                "--no-scoring", "--models", "gbdt", "--out", dest, env={"EBB_BENCH_BOOST": boost})
            roc[v] = json.load(open(dest))["results"][0]["roc_auc"]
        return roc

    def outer_roc(t, v):
        out = []
        for i in (1, 2, 3):
            path = os.path.join(a.study, f"{t}_{v}_{i}.json")
            out += json.load(open(path))["results"][0]["folds"]["roc_auc"]
        return out

    print(f"| table | {a.first} | {a.second} | chosen per fold | Δ chosen − {a.first} | {a.second} chosen |")
    print("|---|---:|---:|---:|---:|---:|")
    for t in a.tables.split(","):
        jobs = [(t, si, k) for si in range(len(SEEDS)) for k in range(5)]
        with ThreadPoolExecutor(2) as pool:
            picks = [r[a.second] > r[a.first] for r in pool.map(inner, jobs)]
        first, second = outer_roc(t, a.first), outer_roc(t, a.second)
        chosen = [s if p else f for f, s, p in zip(first, second, picks)]
        d = [c - f for c, f in zip(chosen, first)]
        mean = lambda xs: sum(xs) / len(xs)
        se = math.sqrt(sum((x - mean(d)) ** 2 for x in d) / (len(d) - 1) / len(d))
        print(f"| {t} | {mean(first):.4f} | {mean(second):.4f} | {mean(chosen):.4f} | "
              f"{mean(d):+.4f} ± {se:.4f} | {sum(picks)}/{len(picks)} |")


if __name__ == "__main__":
    main()
