"""Merges the JSON outputs of ebb-bench and reference.py into one side-by-side table per data set
and checks Ebb's targets against the references.

  python report.py --out results.json --markdown report.md ebb_synth.json ref_synth.json ...

Targets (the matched LightGBM is the reference for boosting):
  - boosting ROC-AUC within 0.005 of LightGBM's, on every data set;
  - logistic ROC-AUC within 0.005 of scikit-learn's, on every data set;
  - boosting fit time at most 1.5x LightGBM's;
  - scoring 1M rows (from raw rows, 1 thread and all threads) no slower than LightGBM.
"""

import argparse
import json
import os
import platform
from collections import defaultdict

GBDT_REF = "lightgbm_matched"
LOGISTIC_REF = "sklearn_logistic"
ORDER = [
    "ebb_gbdt",
    "lightgbm_matched",
    "lightgbm_matched_onehot",
    "lightgbm_default",
    "xgboost_hist",
    "catboost_default",
    "ebb_logistic",
    "sklearn_logistic",
    "ebb_forest",
    "sklearn_forest",
]


def machine() -> dict:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return dict(nproc=os.cpu_count(), cpu=cpu, system=platform.platform())


def fmt(v, spec):
    return "–" if v is None else format(v, spec)


def size(b):
    if b is None:
        return "–"
    for unit in ("B", "KB", "MB", "GB"):
        if b < 1000 or unit == "GB":
            return f"{b:.0f} {unit}" if unit == "B" else f"{b:.1f} {unit}"
        b /= 1000


def table(rows: dict) -> list:
    lines = [
        "| model | ROC-AUC | PR-AUC | fit s (CPU s) | score 1M s, 1 thread (CPU s) "
        "| score 1M s, all threads | of which predict (1 / all) | model size | rounds |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key in sorted(rows, key=lambda k: ORDER.index(k) if k in ORDER else len(ORDER)):
        r = rows[key]
        rounds = r.get("rounds")
        rounds = "–" if not rounds else "/".join(str(x) for x in rounds)
        predict = (
            f"{fmt(r.get('predict_1m_seconds_1t'), '.2f')} / "
            f"{fmt(r.get('predict_1m_seconds_all'), '.2f')}"
        )
        lines.append(
            f"| {r['model']} | {fmt(r.get('roc_auc'), '.4f')} | {fmt(r.get('pr_auc'), '.4f')} "
            f"| {fmt(r.get('fit_seconds'), '.2f')} ({fmt(r.get('fit_cpu_seconds'), '.2f')}) "
            f"| {fmt(r.get('score_1m_seconds_1t'), '.2f')} "
            f"({fmt(r.get('score_1m_cpu_seconds_1t'), '.2f')}) "
            f"| {fmt(r.get('score_1m_seconds_all'), '.2f')} | {predict} "
            f"| {size(r.get('model_bytes'))} | {rounds} |"
        )
    return lines


def verdicts(sets: dict) -> list:
    out = []

    def add(target, dataset, ok, measured):
        if ok is None:
            out.append(dict(target=target, dataset=dataset, met=None, measured="not measured"))
        else:
            out.append(dict(target=target, dataset=dataset, met=bool(ok), measured=measured))

    for name, rows in sets.items():
        ebb, lgb = rows.get("ebb_gbdt"), rows.get(GBDT_REF)
        if ebb and lgb:
            d = ebb["roc_auc"] - lgb["roc_auc"]
            add("boosting ROC-AUC within 0.005 of LightGBM", name, d >= -0.005,
                f"{ebb['roc_auc']:.4f} vs {lgb['roc_auc']:.4f} (Δ {d:+.4f})")
            ratio = ebb["fit_seconds"] / lgb["fit_seconds"]
            cpu = ebb["fit_cpu_seconds"] / lgb["fit_cpu_seconds"]
            add("boosting fit time <= 1.5x LightGBM", name, ratio <= 1.5,
                f"{ebb['fit_seconds']:.2f}s vs {lgb['fit_seconds']:.2f}s ({ratio:.2f}x); "
                f"CPU {ebb['fit_cpu_seconds']:.2f}s vs {lgb['fit_cpu_seconds']:.2f}s ({cpu:.2f}x)")
            for label, threads in (("1t", "1 thread"), ("all", "all threads")):
                e, l = ebb.get(f"score_1m_seconds_{label}"), lgb.get(f"score_1m_seconds_{label}")
                ep = ebb.get(f"predict_1m_seconds_{label}")
                lp = lgb.get(f"predict_1m_seconds_{label}")
                if e is None or l is None:
                    add(f"scoring 1M rows no slower than LightGBM ({threads})", name, None, "")
                    continue
                add(f"scoring 1M rows no slower than LightGBM ({threads})", name, e <= l,
                    f"{e:.2f}s vs {l:.2f}s from raw rows ({e / l:.2f}x); "
                    f"predict alone {ep:.2f}s vs {lp:.2f}s ({ep / lp:.2f}x)")
        ebb, skl = rows.get("ebb_logistic"), rows.get(LOGISTIC_REF)
        if ebb and skl:
            d = ebb["roc_auc"] - skl["roc_auc"]
            add("logistic ROC-AUC within 0.005 of scikit-learn", name, d >= -0.005,
                f"{ebb['roc_auc']:.4f} vs {skl['roc_auc']:.4f} (Δ {d:+.4f})")
    return out


def merge(runs: list) -> dict:
    """One row from repetitions of the same model on the same data set (bench/repeated.sh):
    accuracies and fit times averaged over the repetitions, rounds of every fold listed."""
    if len(runs) == 1:
        return runs[0]
    out = dict(runs[0])
    for k in ("roc_auc", "pr_auc", "fit_seconds", "fit_cpu_seconds"):
        out[k] = sum(r[k] for r in runs) / len(runs)
    rounds = [x for r in runs for x in (r.get("rounds") or [])]
    out["rounds"] = rounds or None
    out["repetitions"] = len(runs)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--out", required=True)
    ap.add_argument("--markdown", required=True)
    a = ap.parse_args()
    runs = defaultdict(lambda: defaultdict(list))
    meta = defaultdict(dict)
    repetitions = defaultdict(int)
    for path in a.inputs:
        with open(path) as f:
            doc = json.load(f)
        name = doc["dataset"]
        for r in doc["results"]:
            runs[name][r["key"]].append(r)
        if doc["side"] == "ebb":
            repetitions[name] += 1
        meta[name][doc["side"]] = {k: v for k, v in doc.items() if k != "results"}
    sets = {name: {k: merge(v) for k, v in rows.items()} for name, rows in runs.items()}
    checks = verdicts(sets)
    m = machine()
    lines = [f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['system']}", ""]
    for name, rows in sets.items():
        info = next(iter(meta[name].values()))
        split = (
            f"time split, {info['train_rows_fold0']} train / {info['test_rows_fold0']} test rows"
            if info["test_folds"] == 1
            else f"stratified {info['test_folds']}-fold CV, means over folds"
        )
        if repetitions[name] > 1:
            split += f" and {repetitions[name]} repetitions (different fold seeds, same folds for every library)"
        loads = ", ".join(
            f"{side} {v['load_average'][0]:.1f}" for side, v in meta[name].items()
        )
        lines += [f"### {name} ({info['rows']} rows; {split}; 1-min load after run: {loads})", ""]
        lines += table(rows) + [""]
    lines += ["### Targets", "", "| target | data set | met | measured |", "|---|---|---|---|"]
    for c in checks:
        met = {True: "yes", False: "**no**", None: "–"}[c["met"]]
        lines.append(f"| {c['target']} | {c['dataset']} | {met} | {c['measured']} |")
    text = "\n".join(lines) + "\n"
    print(text)
    with open(a.markdown, "w") as f:
        f.write(text)
    with open(a.out, "w") as f:
        json.dump(dict(machine=m, datasets=sets, runs=meta, targets=checks), f, indent=2)


if __name__ == "__main__":
    main()
