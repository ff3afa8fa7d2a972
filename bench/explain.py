"""Reference side of the explanation benchmark (bench/explain.sh): shap's TreeExplainer on a
LightGBM model of the same shape as Ebb's, trained on exactly the same features.

  python explain.py --matrix features.csv --rows 1000 --ebb ebb_explain.json --out ref.json

`features.csv` is the feature matrix Ebb's pipeline made (written by `ebb-bench explain`), with
the label as last column and empty cells for missing values. LightGBM is fitted with 300 trees
of 31 leaves (learning rate 0.05, min 20 rows per leaf, 255 bins, no early stopping: Ebb's
settings) on one thread. `shap.TreeExplainer(model)` without background data uses the same
exact path-dependent TreeSHAP as Ebb (`feature_perturbation="tree_path_dependent"`); it is
timed on the first `--rows` rows in one `shap_values` call, and one row at a time (the edge
worker's case; that includes shap's per-call Python overhead). BLAS/OpenMP pools are limited
to one thread. Prints a side-by-side markdown table with Ebb's numbers.
"""

import argparse
import json
import time

import lightgbm as lgb
import numpy as np
import pandas as pd
import shap
from threadpoolctl import threadpool_limits

TREES = 300
LEAVES = 31
ONE_ROW_CALLS = 200


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--matrix", required=True)
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--ebb", required=True, help="JSON written by `ebb-bench explain`")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    df = pd.read_csv(args.matrix)
    y = df.pop("label").to_numpy()
    x = df.to_numpy(dtype=float)
    with threadpool_limits(1):
        model = lgb.LGBMClassifier(
            n_estimators=TREES,
            num_leaves=LEAVES,
            learning_rate=0.05,
            min_child_samples=20,
            max_bin=255,
            n_jobs=1,
            random_state=42,
            verbose=-1,
        ).fit(x, y)
        booster = model.booster_
        dump = booster.dump_model()["tree_info"]
        leaves = sum(t["num_leaves"] for t in dump)

        t = time.perf_counter()
        explainer = shap.TreeExplainer(model)
        build_ms = (time.perf_counter() - t) * 1e3
        rows = x[: args.rows]
        t, cpu = time.perf_counter(), time.process_time()
        values = explainer.shap_values(rows)
        batch_s = time.perf_counter() - t
        batch_cpu = time.process_time() - cpu
        # Binary LightGBM: one array of log-odds contributions (a list of two in old versions).
        if isinstance(values, list):
            values = values[-1]
        values = np.asarray(values)
        if values.ndim == 3:
            values = values[..., -1]
        base = np.ravel(explainer.expected_value)[-1]
        raw = booster.predict(rows, raw_score=True)
        gap = float(np.max(np.abs(base + values.sum(axis=1) - raw)))

        calls = []
        for r in range(min(ONE_ROW_CALLS, len(rows))):
            t = time.perf_counter()
            v = np.ravel(explainer.shap_values(rows[r : r + 1]))
            top = np.argsort(-np.abs(v))[:3]
            calls.append((time.perf_counter() - t) * 1e6)
            assert len(top) == 3
    calls.sort()

    out = dict(
        side="shap",
        shap=shap.__version__,
        lightgbm=lgb.__version__,
        numpy=np.__version__,
        train_rows=len(x),
        features=x.shape[1],
        trees=booster.num_trees(),
        leaves=leaves,
        explained_rows=len(rows),
        explainer_build_ms=build_ms,
        explain_ms_per_row=batch_s * 1e3 / len(rows),
        explain_cpu_ms_per_row=batch_cpu * 1e3 / len(rows),
        one_row_top3=dict(
            mean_us=float(np.mean(calls)),
            median_us=calls[len(calls) // 2],
            calls=len(calls),
        ),
        max_additivity_gap=gap,
        threads=1,
    )
    with open(args.out, "w") as f:
        json.dump(out, f, indent=2)
    with open(args.ebb) as f:
        ebb = json.load(f)
    print(table(ebb, out))


def table(ebb: dict, ref: dict) -> str:
    def ms(v):
        return f"{v:.3f}"

    rows = [
        ("model", "Ebb gbdt", "LightGBM " + ref["lightgbm"]),
        ("trees / leaves", f"{ebb['trees']} / {ebb['leaves']}", f"{ref['trees']} / {ref['leaves']}"),
        ("training rows / features", f"{ebb['train_rows']} / {ebb['features']}",
         f"{ref['train_rows']} / {ref['features']}"),
        ("mean leaf depth / distinct features on its path",
         f"{ebb['mean_leaf_depth']:.1f} / {ebb['mean_leaf_distinct_features']:.1f}", "–"),
        ("explainer build, ms", f"{ebb['explainer_build_ms']:.1f}", f"{ref['explainer_build_ms']:.1f}"),
        (f"explain {ebb['explained_rows']} rows, ms/row (features in)",
         ms(ebb["explain_ms_per_row"]), ms(ref["explain_ms_per_row"])),
        ("same, CPU ms/row", ms(ebb["explain_cpu_ms_per_row"]), ms(ref["explain_cpu_ms_per_row"])),
        ("same from raw cells (transform + explain), ms/row", ms(ebb["explain_raw_ms_per_row"]), "–"),
        ("one row → top-3 reasons, median µs/call (Ebb: raw record → transform, calibrated "
         "probability, all contributions, reasons; shap: feature row → shap_values, top 3)",
         f"{ebb['one_row_top3']['median_us']:.0f}", f"{ref['one_row_top3']['median_us']:.0f}"),
        ("same, mean µs/call", f"{ebb['one_row_top3']['mean_us']:.0f}", f"{ref['one_row_top3']['mean_us']:.0f}"),
        ("max |base + Σφ − raw score|", f"{ebb['max_additivity_gap']:.1e}", f"{ref['max_additivity_gap']:.1e}"),
    ]
    lines = [f"| | Ebb (exact TreeSHAP) | shap {ref['shap']} TreeExplainer |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    wall = ref["explain_ms_per_row"] / ebb["explain_ms_per_row"]
    cpu = ref["explain_cpu_ms_per_row"] / ebb["explain_cpu_ms_per_row"]
    lines.append("")
    lines.append(f"Per row, Ebb is {wall:.1f}x faster than shap in wall-clock time and {cpu:.1f}x in "
                 "CPU time (one thread each).")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
