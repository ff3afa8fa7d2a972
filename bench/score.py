"""Batch scoring, file to file: `ebb score MODEL customers.csv --out scores.csv` against the same
job done in Python (pandas read_csv -> preprocessing -> LightGBM predict -> pandas to_csv), and
the forest against the boosted model, on the same 1M-row file in one run.

  python score.py run --ebb target/release/ebb --train train.csv --data score.csv
                      --gbdt gbdt.json [--forest forest.json] --workdir DIR [--repeats 3]
                      [--baseline OLD_EBB]

The LightGBM model is fitted (not timed) on the rows Ebb's models were trained on, with Ebb's
boosting settings and protocol (bench/reference.py's "LightGBM matched", native categoricals).
Each job runs `--repeats` times in its own process, alternating with the others; the table gives
the median wall and CPU seconds (all threads) and peak resident memory. `--baseline` adds the
same `ebb score` jobs run by another binary (an earlier build), for a before/after table, and
checks that both binaries wrote the same bytes. Ebb is timed from outside (process start to
exit: model load, CSV parse, features, prediction, calibration, CSV write). The Python job is timed
inside its process from before the model load to after the CSV is written: interpreter start
and `import pandas, lightgbm` (~1 s) are left out, in the reference's favour.

  python score.py job --model lgb.txt --prep prep.pkl --data score.csv --out scores.csv
                      --id customer_id --threshold T

runs the Python job once and prints its seconds as JSON.
"""

import argparse
import filecmp
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def job(a) -> None:
    import lightgbm as lgb
    import pandas as pd

    import reference  # noqa: F401  (the pickled preprocessing's class; imported untimed)

    start, cpu = time.perf_counter(), time.process_time()
    booster = lgb.Booster(model_file=a.model)
    with open(a.prep, "rb") as f:
        prep = pickle.load(f)
    df = pd.read_csv(a.data)
    p = booster.predict(prep.native(df), num_threads=len(os.sched_getaffinity(0)))
    out = pd.DataFrame({"id": df[a.id], "probability": p, "decision": (p >= a.threshold).astype(int)})
    out.to_csv(a.out, index=False)
    print(json.dumps(dict(wall=time.perf_counter() - start, cpu=time.process_time() - cpu)))


def child_seconds(cmd):
    """Wall and CPU seconds (user + system, all threads) and peak resident memory (MB) of a
    child process run to the end. The memory is GNU time's `%M`: a child's own `ru_maxrss`
    would count this Python process's pages too (Linux keeps the high-water mark of the image
    a forked child had before its exec), while `time` forks from a process of a few MB."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as peak:
        child = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", peak.name, *cmd],
                                 stdout=subprocess.PIPE, stderr=err)
        stdout = child.stdout.read().decode()
        # The usage of `time` includes the job it waited for (and a few ms of its own).
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.stdout.close()
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            sys.exit(f"score bench: {' '.join(cmd)} failed:\n{err.read().decode()}")
        rss_kib = int(peak.read().split()[-1])
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, rss_kib / 1024, stdout


def run(a) -> None:
    import lightgbm as lgb
    import numpy as np
    import pandas as pd

    from reference import FALSE, TRUE, LightGBM, Prep, lowered

    with open(a.gbdt) as f:
        gbdt = json.load(f)
    schema = gbdt["schema"]
    target, id_col = schema["target"]["name"], schema["id_column"]
    time_col = schema.get("time_column")
    threshold = gbdt["threshold"]

    train = pd.read_csv(a.train)
    y = lowered(train[target])
    assert set(y) <= TRUE | FALSE, f"`{target}` must be yes/no"
    y = y.isin(TRUE).to_numpy(dtype=np.int64)
    prep = Prep(train, [c for c in (target, id_col, time_col) if c], time_col)
    model = LightGBM("LightGBM matched (native categorical)", True, True)
    model.fit(model.features(prep, train), y)
    os.makedirs(a.workdir, exist_ok=True)
    lgb_path, prep_path = os.path.join(a.workdir, "lgb.txt"), os.path.join(a.workdir, "prep.pkl")
    model.model.booster_.save_model(lgb_path)
    with open(prep_path, "wb") as f:
        pickle.dump(prep, f)
    print(f"score bench: LightGBM fitted on {len(train)} rows ({model.rounds} rounds)", file=sys.stderr)

    rows = sum(1 for _ in open(a.data)) - 1
    # (kind, binary, model): every job scores the same file; a baseline binary (`--baseline`,
    # an earlier build) scores the same models in the same run, for a before/after table.
    jobs = {"Ebb gbdt (`ebb score`)": ("gbdt", a.ebb, a.gbdt)}
    if a.forest:
        jobs["Ebb forest (`ebb score`)"] = ("forest", a.ebb, a.forest)
    if a.baseline:
        jobs["Ebb gbdt, baseline"] = ("gbdt_baseline", a.baseline, a.gbdt)
        if a.forest:
            jobs["Ebb forest, baseline"] = ("forest_baseline", a.baseline, a.forest)
    jobs["pandas + LightGBM"] = ("python", None, None)
    times = {name: [] for name in jobs}
    loads = []
    for rep in range(a.repeats):
        for name, (kind, binary, model_path) in jobs.items():
            out = os.path.join(a.workdir, f"scores_{kind}.csv")
            if kind != "python":
                wall, cpu, rss, _ = child_seconds([binary, "score", model_path, a.data, "--out", out])
            else:
                cmd = [sys.executable, __file__, "job", "--model", lgb_path, "--prep", prep_path,
                       "--data", a.data, "--out", out, "--id", id_col, "--threshold", str(threshold)]
                _, _, rss, stdout = child_seconds(cmd)
                inner = json.loads(stdout.strip().splitlines()[-1])
                wall, cpu = inner["wall"], inner["cpu"]
            times[name].append((wall, cpu, rss))
            loads.append(os.getloadavg()[0])
            print(f"score bench: repeat {rep + 1}: {name}: {wall:.2f} s wall, {cpu:.2f} s CPU, "
                  f"{rss:.0f} MB peak RSS (1-min load {loads[-1]:.1f})", file=sys.stderr, flush=True)

    if a.baseline:
        for model in ("gbdt", "forest") if a.forest else ("gbdt",):
            mine, theirs = (os.path.join(a.workdir, f"scores_{k}.csv")
                            for k in (model, f"{model}_baseline"))
            same = filecmp.cmp(mine, theirs, shallow=False)
            print(f"score bench: {model} scores byte-identical to the baseline's: {same}",
                  file=sys.stderr)
            if not same:
                sys.exit(f"score bench: {mine} differs from {theirs}")

    med = {n: tuple(statistics.median(x[i] for x in t) for i in range(3))
           for n, t in times.items()}
    ref_wall, ref_cpu, _ = med["pandas + LightGBM"]
    gbdt_wall, gbdt_cpu, _ = med["Ebb gbdt (`ebb score`)"]
    load = os.getloadavg()
    print(f"\nScoring {rows:,} rows file to file, median of {a.repeats} "
          f"(1-min load average after each job: {min(loads):.1f}-{max(loads):.1f}; "
          f"{len(os.sched_getaffinity(0))} cores)\n")
    print("| job | wall s | CPU s | peak RSS MB | wall / pandas+LightGBM | CPU / pandas+LightGBM "
          "| wall / Ebb gbdt | CPU / Ebb gbdt |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, (wall, cpu, rss) in med.items():
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {wall / ref_wall:.2f}x "
              f"| {cpu / ref_cpu:.2f}x | {wall / gbdt_wall:.2f}x | {cpu / gbdt_cpu:.2f}x |")
    result = dict(rows=rows, repeats=a.repeats, load_average=list(load), loads=loads,
                  times={n: t for n, t in times.items()}, median=med)
    with open(os.path.join(a.workdir, "score.json"), "w") as f:
        json.dump(result, f, indent=2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--ebb", required=True)
    r.add_argument("--train", required=True)
    r.add_argument("--data", required=True)
    r.add_argument("--gbdt", required=True)
    r.add_argument("--forest")
    r.add_argument("--baseline", help="an earlier `ebb` binary timed on the same models")
    r.add_argument("--workdir", required=True)
    r.add_argument("--repeats", type=int, default=3)
    j = sub.add_parser("job")
    for flag in ("--model", "--prep", "--data", "--out", "--id"):
        j.add_argument(flag, required=True)
    j.add_argument("--threshold", type=float, required=True)
    a = ap.parse_args()
    job(a) if a.cmd == "job" else run(a)


if __name__ == "__main__":
    main()
