"""Accuracy and score stability of the model `ebb train` serves (the final fit on all rows), as
opposed to the cross-validated fold models whose out-of-fold scores `ebb train` reports.

  python3 bench/served.py --ebb before=PATH --ebb after=PATH [--mlc mlc_churn.csv]
                          [--seeds 1,2,3,42] [--folds mlc.folds] [--out served.json]

Stdlib only, so it runs without bench/.venv. For each `ebb` binary given:

- **mlc_churn, outer 5-fold**: the rows of each outer fold (a folds file from bench/splits.py,
  or by default a seeded stratified 5-fold split made here) are a test set the run never sees;
  `ebb train` (default settings: all three families, 5 inner folds) runs on the other rows with
  each `--seed`, and `ebb evaluate` scores the served model on the test rows. Reported: the mean
  test ROC-AUC of the served model and the mean inner cross-validated ROC-AUC `ebb train` prints.
- **self-drift**: `ebb generate --rows 4000` with seeds s and s+1 (three pairs); `ebb train
  --model gbdt` on the first, `ebb drift` of the model on the second. Same generator, no drift,
  so the score PSI should be near 0 (the verdict `drift` starts at 0.25). Also `ebb drift` of a
  gbdt model trained on mlc_churn against mlc_churn itself.
"""

import argparse
import csv
import io
import json
import os
import random
import subprocess
import sys
import tempfile


def run(*args) -> dict:
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def stratified_folds(labels, k, seed):
    """Fold index per row, each class shuffled with `seed` and dealt round-robin."""
    rng = random.Random(seed)
    folds = [0] * len(labels)
    for cls in sorted(set(labels)):
        rows = [i for i, v in enumerate(labels) if v == cls]
        rng.shuffle(rows)
        for j, r in enumerate(rows):
            folds[r] = j % k
    return folds


def trees(model_path):
    with open(model_path) as f:
        model = json.load(f)["model"]
    return len(model["trees"]) if "trees" in model else None


def mlc_outer(ebb, mlc, folds, seeds, tmp):
    with open(mlc, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    results = []
    for k in sorted(set(folds) - {-1}):
        paths = {}
        for part, keep in (("train", lambda v: v != k), ("test", lambda v: v == k)):
            buf = io.StringIO()
            w = csv.writer(buf)
            w.writerow(header)
            w.writerows(r for r, v in zip(body, folds) if keep(v))
            paths[part] = os.path.join(tmp, f"mlc_{part}_{k}.csv")
            with open(paths[part], "w") as f:
                f.write(buf.getvalue())
        for seed in seeds:
            model = os.path.join(tmp, "m.json")
            trained = run(ebb, "train", paths["train"], "--seed", str(seed), "--out", model, "--json")
            chosen = trained["chosen"]
            cv = next(m["cv"]["roc_auc"] for m in trained["models"] if m["name"] == chosen)
            test = run(ebb, "evaluate", model, paths["test"], "--json")["roc_auc"]
            results.append(dict(fold=k, seed=seed, chosen=chosen, trees=trees(model), cv_roc_auc=cv,
                                test_roc_auc=test))
            print(f"served: {ebb}: fold {k} seed {seed}: {chosen} ({trees(model)} trees) "
                  f"cv {cv:.4f} test {test:.4f}", file=sys.stderr, flush=True)
    return results


def self_drift(ebb, mlc, tmp):
    out = []
    for s in (1, 3, 5):
        a, b = os.path.join(tmp, f"g{s}.csv"), os.path.join(tmp, f"g{s + 1}.csv")
        for seed, path in ((s, a), (s + 1, b)):
            if not os.path.exists(path):
                subprocess.run([ebb, "generate", "--rows", "4000", "--seed", str(seed), "--out", path],
                               check=True, capture_output=True)
        model = os.path.join(tmp, "d.json")
        run(ebb, "train", a, "--model", "gbdt", "--out", model, "--json")
        psi = run(ebb, "drift", model, b, "--json")["score_drift"]["psi"]
        out.append(dict(data=f"generate seed {s} -> seed {s + 1}", trees=trees(model), psi=psi))
        print(f"served: {ebb}: self-drift {out[-1]}", file=sys.stderr, flush=True)
    model = os.path.join(tmp, "d.json")
    run(ebb, "train", mlc, "--model", "gbdt", "--out", model, "--json")
    psi = run(ebb, "drift", model, mlc, "--json")["score_drift"]["psi"]
    out.append(dict(data="mlc_churn -> itself", trees=trees(model), psi=psi))
    print(f"served: {ebb}: self-drift {out[-1]}", file=sys.stderr, flush=True)
    return out


def mean(v):
    return sum(v) / len(v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--ebb", action="append", required=True, help="LABEL=PATH of an ebb binary")
    ap.add_argument("--mlc", default="../shared/data/mlc_churn.csv")
    ap.add_argument("--seeds", default="1,2,3,42")
    ap.add_argument("--folds", help="outer folds file (bench/splits.py); default: stratified 5-fold")
    ap.add_argument("--out", default="bench/out/served.json")
    a = ap.parse_args()
    seeds = [int(s) for s in a.seeds.split(",")]
    with open(a.mlc, newline="") as f:
        labels = [r["churn"].strip().lower() for r in csv.DictReader(f)]
    if a.folds:
        with open(a.folds) as f:
            folds = [int(line) for line in f if line.strip()]
    else:
        folds = stratified_folds(labels, 5, 42)
    report = {}
    for spec in a.ebb:
        label, ebb = spec.split("=", 1)
        with tempfile.TemporaryDirectory() as tmp:
            outer = mlc_outer(ebb, a.mlc, folds, seeds, tmp)
            drift = self_drift(ebb, a.mlc, tmp)
        by_seed = {s: mean([r["test_roc_auc"] for r in outer if r["seed"] == s]) for s in seeds}
        cv_by_seed = {s: mean([r["cv_roc_auc"] for r in outer if r["seed"] == s]) for s in seeds}
        report[label] = dict(outer=outer, drift=drift, test_roc_auc_by_seed=by_seed,
                             cv_roc_auc_by_seed=cv_by_seed)
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(report, f, indent=2)
    print("| binary | seed | served test ROC-AUC (mean of 5 outer folds) | inner CV ROC-AUC | trees of the served model per outer fold (300: forest kept) |")
    print("|---|---|---|---|---|")
    for label, r in report.items():
        for s in seeds:
            t = [x["trees"] for x in r["outer"] if x["seed"] == s and x["trees"] is not None]
            print(f"| {label} | {s} | {r['test_roc_auc_by_seed'][s]:.4f} | {r['cv_roc_auc_by_seed'][s]:.4f} "
                  f"| {'/'.join(map(str, t)) or '-'} |")
        print(f"| {label} | mean | {mean(list(r['test_roc_auc_by_seed'].values())):.4f} "
              f"| {mean(list(r['cv_roc_auc_by_seed'].values())):.4f} | |")
    print()
    print("| binary | self-drift data | gbdt trees | score PSI |")
    print("|---|---|---|---|")
    for label, r in report.items():
        for d in r["drift"]:
            print(f"| {label} | {d['data']} | {d['trees']} | {d['psi']:.3f} |")


if __name__ == "__main__":
    main()
