"""Summarises bench/size_study.sh's runs (standard library only): per table and variant, the mean
test ROC-AUC and PR-AUC over the folds, and the paired difference from `base` (the current gbdt
defaults), or from the variant named as the second argument, with its standard error and the
folds where the variant is ahead.

  python3 bench/size_study.py bench/out/size_study [BASELINE]
"""

import glob
import json
import math
import os
import sys


def main() -> None:
    out = sys.argv[1]
    baseline = sys.argv[2] if len(sys.argv) > 2 else "base"
    runs = {}
    for path in sorted(glob.glob(os.path.join(out, "*_*_*.json"))):
        # TABLE_VARIANT_N.json: table names have no underscore, variant names may.
        table, rest = os.path.basename(path)[: -len(".json")].split("_", 1)
        variant = rest.rsplit("_", 1)[0]
        d = json.load(open(path))
        r = d["results"][0]
        entry = runs.setdefault((table, variant), {"roc": [], "pr": [], "cpu": [], "rounds": []})
        entry["roc"] += r["folds"]["roc_auc"]
        entry["pr"] += r["folds"]["pr_auc"]
        entry["cpu"].append(r["fit_cpu_seconds"])
        entry["rounds"] += r.get("rounds") or []
    tables = sorted({t for t, _ in runs}, key=lambda t: (t != "mlc", t))
    print(f"| table | variant | folds | ROC-AUC | PR-AUC | Δ ROC-AUC vs {baseline} | paired SE | ahead | Δ PR-AUC | fit CPU s | rounds |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for t in tables:
        base = runs.get((t, baseline))
        for (tt, v), e in sorted(runs.items(), key=lambda kv: (kv[0][1] != baseline, kv[0][1])):
            if tt != t:
                continue
            n = len(e["roc"])
            roc, pr = sum(e["roc"]) / n, sum(e["pr"]) / n
            delta = se = ahead = dpr = ""
            if base and v != baseline and len(base["roc"]) == n:
                d = [a - b for a, b in zip(e["roc"], base["roc"])]
                mu = sum(d) / n
                delta = f"{mu:+.4f}"
                if n > 1:
                    sd = math.sqrt(sum((x - mu) ** 2 for x in d) / (n - 1))
                    se = f"{sd / math.sqrt(n):.4f}"
                ahead = f"{sum(x > 0 for x in d)}/{n}"
                dpr = f"{sum(a - b for a, b in zip(e['pr'], base['pr'])) / n:+.4f}"
            cpu = sum(e["cpu"]) / len(e["cpu"])
            rounds = f"{sum(e['rounds']) / len(e['rounds']):.0f}" if e["rounds"] else ""
            print(f"| {t} | {v} | {n} | {roc:.4f} | {pr:.4f} | {delta} | {se} | {ahead} | {dpr} | {cpu:.2f} | {rounds} |")


if __name__ == "__main__":
    main()
