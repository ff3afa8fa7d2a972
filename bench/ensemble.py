"""Does the ensemble family pay? Out-of-fold ROC-AUC of every family and of the blend as
`ebb train` reports them, whether the blend is kept, and the served model's ROC-AUC on rows the
run never saw, against the best single family's.

  python3 bench/ensemble.py --ebb target/release/ebb [--mlc mlc_churn.csv] [--seeds 1,2,3,42]
                            [--generated-rows 20000] [--out bench/out/ensemble.json]

Stdlib only. Reuses bench/served.py's outer folds:

- **mlc_churn, outer 5-fold** (served.py's seeded stratified split): `ebb train` with defaults
  on four folds for each seed, `ebb evaluate` of the served model on the fifth. When the blend is
  kept, the same run again with `--no-ensemble` gives the best single family's served model on
  the same rows (when it is not kept, the served model is that family's already).
- **generated, time split**: `ebb generate --rows N --seed 7`, the latest 20% of
  `snapshot_date` held out, `ebb train --time snapshot_date` (rolling-origin folds) on the rest.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from served import run, stratified_folds  # noqa: E402


def train_eval(ebb, train, test, extra, tmp):
    model = os.path.join(tmp, "m.json")
    out = run(ebb, "train", train, *extra, "--out", model, "--json")
    test_auc = run(ebb, "evaluate", model, test, "--json")["roc_auc"]
    cv = {m["name"]: m["cv"]["roc_auc"] for m in out["models"]}
    return out["chosen"], cv, test_auc


def case(ebb, label, train, test, extra, tmp):
    chosen, cv, test_auc = train_eval(ebb, train, test, extra, tmp)
    single_test = test_auc
    if chosen == "ensemble":
        _, _, single_test = train_eval(ebb, train, test, extra + ["--no-ensemble"], tmp)
    best_single = max((v, k) for k, v in cv.items() if k != "ensemble")
    row = dict(case=label, chosen=chosen, cv=cv, best_single=best_single[1],
               test_roc_auc=test_auc, single_test_roc_auc=single_test)
    print(f"ensemble: {label}: {json.dumps(row)}", file=sys.stderr, flush=True)
    return row


def split_csv(path, keep_train, tmp, name):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    paths = {}
    for part in ("train", "test"):
        paths[part] = os.path.join(tmp, f"{name}_{part}.csv")
        with open(paths[part], "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(r for i, r in enumerate(body) if keep_train(i, header, r) == (part == "train"))
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--ebb", required=True)
    ap.add_argument("--mlc", default="../shared/data/mlc_churn.csv")
    ap.add_argument("--seeds", default="1,2,3,42")
    ap.add_argument("--generated-rows", type=int, default=20000)
    ap.add_argument("--out", default="bench/out/ensemble.json")
    a = ap.parse_args()
    seeds = [int(s) for s in a.seeds.split(",")]
    with open(a.mlc, newline="") as f:
        labels = [r["churn"].strip().lower() for r in csv.DictReader(f)]
    folds = stratified_folds(labels, 5, 42)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        gen = os.path.join(tmp, "gen.csv")
        subprocess.run([a.ebb, "generate", "--rows", str(a.generated_rows), "--seed", "7", "--out", gen],
                       check=True, capture_output=True)
        with open(gen, newline="") as f:
            dates = sorted(r["snapshot_date"] for r in csv.DictReader(f))
        cut = dates[int(len(dates) * 0.8)]
        paths = split_csv(gen, lambda i, h, r: r[h.index("snapshot_date")] < cut, tmp, "gen")
        rows.append(case(a.ebb, f"generated {a.generated_rows}, time split", paths["train"], paths["test"],
                         ["--time", "snapshot_date"], tmp))
        for seed in seeds:
            for k in range(5):
                paths = split_csv(a.mlc, lambda i, h, r: folds[i] != k, tmp, f"mlc{k}")
                rows.append(case(a.ebb, f"mlc_churn seed {seed} fold {k}", paths["train"], paths["test"],
                                 ["--seed", str(seed)], tmp))
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(rows, f, indent=2)
    print("| case | logistic | forest | gbdt | ensemble | blend / best family (OOF) | kept | served test ROC-AUC | best family served | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        cv = r["cv"]
        best = cv[r["best_single"]]
        ens = cv.get("ensemble")
        print(f"| {r['case']} | {cv['logistic']:.4f} | {cv['forest']:.4f} | {cv['gbdt']:.4f} | "
              f"{ens:.4f} | {ens / best:.4f} | {'yes' if r['chosen'] == 'ensemble' else 'no'} | "
              f"{r['test_roc_auc']:.4f} | {r['single_test_roc_auc']:.4f} | "
              f"{r['test_roc_auc'] / r['single_test_roc_auc']:.4f} |")
    for seed in seeds:
        sel = [r for r in rows if r["case"].startswith(f"mlc_churn seed {seed} ")]
        m = lambda key: sum(r[key] for r in sel) / len(sel)  # noqa: E731
        mo = lambda name: sum(r["cv"][name] for r in sel) / len(sel)  # noqa: E731
        best = sum(r["cv"][r["best_single"]] for r in sel) / len(sel)
        print(f"| mlc_churn seed {seed}, mean of 5 outer folds | {mo('logistic'):.4f} | {mo('forest'):.4f} | "
              f"{mo('gbdt'):.4f} | {mo('ensemble'):.4f} | {mo('ensemble') / best:.4f} | "
              f"{sum(r['chosen'] == 'ensemble' for r in sel)}/5 | {m('test_roc_auc'):.4f} | "
              f"{m('single_test_roc_auc'):.4f} | {m('test_roc_auc') / m('single_test_roc_auc'):.4f} |")


if __name__ == "__main__":
    main()
