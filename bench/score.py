"""Batch scoring, file to file: `ebb score MODEL customers.csv --out scores.csv` against the same
job done in Python (pandas read_csv -> preprocessing -> LightGBM predict -> pandas to_csv), and
the forest against the boosted model, on the same 1M-row file in one run.

  python score.py run --ebb target/release/ebb --train train.csv --data score.csv
                      --gbdt gbdt.json [--forest forest.json] --workdir DIR [--repeats 3]

The LightGBM model is fitted (not timed) on the rows Ebb's models were trained on, with Ebb's
boosting settings and protocol (bench/reference.py's "LightGBM matched", native categoricals).
Each job runs `--repeats` times in its own process, alternating with the others; the table gives
the median wall and CPU seconds (all threads). Ebb is timed from outside (process start to exit:
model load, CSV parse, features, prediction, calibration, CSV write). The Python job is timed
inside its process from before the model load to after the CSV is written: interpreter start
and `import pandas, lightgbm` (~1 s) are left out, in the reference's favour.

  python score.py job --model lgb.txt --prep prep.pkl --data score.csv --out scores.csv
                      --id customer_id --threshold T

runs the Python job once and prints its seconds as JSON.
"""

import argparse
import json
import os
import pickle
import resource
import statistics
import subprocess
import sys
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
    """Wall and CPU seconds (user + system, all threads) of a child process run to the end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"score bench: {' '.join(cmd)} failed:\n{done.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


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
    jobs = {"Ebb gbdt (`ebb score`)": ("ebb", a.gbdt)}
    if a.forest:
        jobs["Ebb forest (`ebb score`)"] = ("ebb", a.forest)
    jobs["pandas + LightGBM"] = ("python", None)
    times = {name: [] for name in jobs}
    for rep in range(a.repeats):
        for name, (kind, model_path) in jobs.items():
            out = os.path.join(a.workdir, f"scores_{kind}.csv")
            if kind == "ebb":
                wall, cpu, _ = child_seconds([a.ebb, "score", model_path, a.data, "--out", out])
            else:
                cmd = [sys.executable, __file__, "job", "--model", lgb_path, "--prep", prep_path,
                       "--data", a.data, "--out", out, "--id", id_col, "--threshold", str(threshold)]
                _, _, stdout = child_seconds(cmd)
                inner = json.loads(stdout.strip().splitlines()[-1])
                wall, cpu = inner["wall"], inner["cpu"]
            times[name].append((wall, cpu))
            print(f"score bench: repeat {rep + 1}: {name}: {wall:.2f} s wall, {cpu:.2f} s CPU",
                  file=sys.stderr, flush=True)

    med = {n: (statistics.median(w for w, _ in t), statistics.median(c for _, c in t))
           for n, t in times.items()}
    ref_wall, ref_cpu = med["pandas + LightGBM"]
    gbdt_wall, gbdt_cpu = med["Ebb gbdt (`ebb score`)"]
    load = os.getloadavg()
    print(f"\nScoring {rows:,} rows file to file, median of {a.repeats} "
          f"(1-min load average at the end: {load[0]:.1f}; {len(os.sched_getaffinity(0))} cores)\n")
    print("| job | wall s | CPU s | wall / pandas+LightGBM | CPU / pandas+LightGBM | wall / Ebb gbdt |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (wall, cpu) in med.items():
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {wall / ref_wall:.2f}x | {cpu / ref_cpu:.2f}x "
              f"| {wall / gbdt_wall:.2f}x |")
    result = dict(rows=rows, repeats=a.repeats, load_average=list(load),
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
