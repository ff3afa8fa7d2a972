"""Ebb's drift report against Evidently's DataDriftPreset on the same two CSV files.

Run by bench/drift.sh with bench/.venv-drift's Python. Times `ebb drift MODEL CURRENT --json`
end to end (a new process each run: load the model, parse the CSV, score, bin, test, bootstrap
the performance check), reads the in-process timing written by `ebb-bench drift`, times
Evidently's `Report([DataDriftPreset()]).run(...)` on DataFrames already read (and the pandas
reads apart), and prints one summary table and one per-column table in Markdown.

Both tools see the same columns: every column but the id and the label (the model's inputs).
A column counts as flagged by Ebb when its verdict is `warn` or `drift`, and by Evidently when
its drift score reaches the method's threshold (distance methods) or its p-value falls below it
(test methods), which is Evidently's own rule; the script checks its count against Evidently's
DriftedColumnsCount.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time

import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset


def run_ebb(ebb, model, current, repeats):
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run([ebb, "drift", model, current, "--json"], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
        out = json.loads(done.stdout)
    verdicts = {c["name"]: c["verdict"] for c in out["columns"]}
    return statistics.median(times), verdicts


def run_evidently(reference, current, drop):
    start = time.perf_counter()
    ref = pd.read_csv(reference).drop(columns=drop)
    cur = pd.read_csv(current).drop(columns=drop)
    read_s = time.perf_counter() - start
    start = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
    run_s = time.perf_counter() - start
    columns, count = {}, None
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config["type"].endswith(":ValueDrift"):
            method, threshold, value = config.get("method", ""), config["threshold"], metric["value"]
            value = float(value)
            flagged = bool(value < threshold if "p_value" in method else value >= threshold)
            columns[config["column"]] = (method, value, flagged)
        elif config["type"].endswith(":DriftedColumnsCount"):
            count = metric["value"]["count"]
    flagged = sum(f for _, _, f in columns.values())
    if count is not None and int(count) != flagged:
        sys.exit(f"drift_compare: {flagged} columns flagged here but Evidently counts {count}")
    return read_s, run_s, columns


def score(flagged, shifted):
    tp = len(flagged & shifted)
    return f"{len(flagged)} | {tp} of {len(shifted)} | {len(flagged - shifted)}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ebb", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--reference", required=True)
    p.add_argument("--current", required=True)
    p.add_argument("--in-process", required=True, help="JSON written by ebb-bench drift")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", required=True)
    a = p.parse_args()

    inproc = json.load(open(a.in_process))
    shifted = set(inproc["truly_shifted"])
    cli_s, ebb_verdicts = run_ebb(a.ebb, a.model, a.current, a.repeats)
    ebb_flagged = {c for c, v in ebb_verdicts.items() if v != "ok"}
    header = list(pd.read_csv(a.current, nrows=1).columns)
    drop = [c for c in header if c not in ebb_verdicts]
    read_s, ev_s, ev = run_evidently(a.reference, a.current, drop)
    ev_flagged = {c for c, (_, _, f) in ev.items() if f}

    rows = inproc["rows"]
    lines = [
        f"{rows:,} current rows against {rows:,} reference rows, {len(ebb_verdicts)} columns "
        f"({', '.join(drop)} left out), {len(shifted)} truly shifted.",
        "",
        "| tool | what is timed | seconds | columns flagged | shifted columns found | false alarms |",
        "|---|---|---:|---:|---:|---:|",
        f"| `ebb drift --json` | whole process: load model, parse CSV, score, drift, performance (median of {a.repeats}) "
        f"| {cli_s:.2f} | {score(ebb_flagged, shifted)} |",
        f"| Ebb in-process | `monitor::drift_of_table` on the parsed table (median of {len(inproc['drift_runs_s'])}) "
        f"| {inproc['drift_s']:.2f} | {score(ebb_flagged, shifted)} |",
        f"| Evidently `DataDriftPreset` | `Report.run` on the DataFrames | {ev_s:.2f} | {score(ev_flagged, shifted)} |",
        f"| Evidently incl. reading | `pd.read_csv` of both files + `Report.run` | {read_s + ev_s:.2f} | {score(ev_flagged, shifted)} |",
        "",
        "| column | truly shifted | Ebb verdict | Evidently method | Evidently score | Evidently flag |",
        "|---|:---:|---|---|---:|:---:|",
    ]
    order = sorted(ebb_verdicts, key=lambda c: (c not in shifted, c))
    for c in order:
        method, value, flagged = ev.get(c, ("(not checked)", float("nan"), False))
        lines.append(
            f"| {c} | {'yes' if c in shifted else ''} | {ebb_verdicts[c]} | {method} | {value:.3f} | {'flagged' if flagged else ''} |"
        )
    text = "\n".join(lines)
    print(text)
    json.dump(
        {
            "rows": rows,
            "truly_shifted": sorted(shifted),
            "ebb": {"cli_s": cli_s, "in_process_s": inproc["drift_s"], "verdicts": ebb_verdicts},
            "evidently": {
                "read_s": read_s,
                "run_s": ev_s,
                "columns": {c: {"method": m, "score": v, "flagged": f} for c, (m, v, f) in ev.items()},
            },
        },
        open(a.out, "w"),
        indent=1,
    )


if __name__ == "__main__":
    main()
