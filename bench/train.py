"""Training speed, CSV to saved model (issue 13): `ebb train FILE --model gbdt --folds 2` against
LightGBM doing the same job from the same CSV with pandas, each in its own process under
`/usr/bin/time -v` (CPU seconds = user + system of all threads, peak RSS).

  python train.py run --ebb target/release/ebb --data c100k.csv [--data c1m.csv ...]
                      --workdir DIR [--trees 300]

Ebb's protocol, which the LightGBM job copies (bench/reference.py's "LightGBM matched": learning
rate 0.05, 31 leaves, 255 bins, min 20 rows per leaf, native categoricals):
- stratified 2-fold CV; in each fold the preprocessing is fitted on the fold's training rows, a
  stratified 10% of them is held out to find the round count (up to 500 rounds, early stopping
  after 50 without a better validation log loss), the model is refitted on all the fold's
  training rows for that many rounds and scores the fold's test rows (out-of-fold ROC-AUC);
- the saved model is fitted on all rows for the mean of the folds' round counts, no hold-out.
With `--trees N` both train exactly N rounds everywhere (no hold-out, no early stopping): Ebb's
`ebb train --trees N`.

Ebb also calibrates, picks a threshold and builds a drift reference from the out-of-fold
scores; the LightGBM job does none of that (in its favour). Its CPU seconds are counted inside
the process from just before `read_csv` to after the model file is written, so the interpreter
start and the imports (~1.5 CPU s, also in the reference's favour) are left out; its peak RSS is
the whole process's, which includes ~150 MB of Python, pandas and LightGBM once imported
(`python -c 'import pandas, lightgbm'` alone peaks at that) plus ~37 MB of the XGBoost and
CatBoost imports that bench/reference.py pulls in and this job does not use.

  python train.py job --data FILE --model OUT.txt [--trees N]

runs the LightGBM job once and prints its out-of-fold ROC-AUC, rounds and in-process CPU seconds
as JSON.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

FOLDS = 2
SEED = 42
TARGET = "churn"
ID = "customer_id"


def job(a) -> None:
    start_cpu, start = time.process_time(), time.perf_counter()
    import lightgbm as lgb
    import numpy as np
    import pandas as pd
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    from reference import EARLY_STOPPING, MAX_ROUNDS, TRUE, LightGBM, Prep, holdout, lowered, take

    import_cpu = time.process_time() - start_cpu
    cpu0, wall0 = time.process_time(), time.perf_counter()
    df = pd.read_csv(a.data)
    y = lowered(df[TARGET]).isin(TRUE).to_numpy(dtype=np.int64)
    x_raw = df.drop(columns=[TARGET])
    drop = [ID]
    matched = LightGBM("LightGBM matched (native categorical)", matched=True, native=True)

    def fit(x, y_fit):
        """One Ebb-protocol fit: the round count from a 10% hold-out, then a refit."""
        if a.trees:
            return lgb.LGBMClassifier(**matched.params(a.trees)).fit(x, y_fit), a.trees
        tr, va = holdout(y_fit)
        probe = lgb.LGBMClassifier(**matched.params(MAX_ROUNDS))
        probe.fit(
            take(x, tr),
            y_fit[tr],
            eval_X=(take(x, va),),
            eval_y=(y_fit[va],),
            eval_metric="binary_logloss",
            callbacks=[lgb.early_stopping(EARLY_STOPPING, verbose=False)],
        )
        rounds = max(1, probe.best_iteration_ or MAX_ROUNDS)
        return lgb.LGBMClassifier(**matched.params(rounds)).fit(x, y_fit), rounds

    oof = np.zeros(len(y))
    fold_rounds = []
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    for train_idx, test_idx in folds.split(np.zeros(len(y)), y):
        train_rows = x_raw.iloc[train_idx]
        prep = Prep(train_rows, drop, None)
        model, rounds = fit(prep.native(train_rows), y[train_idx])
        oof[test_idx] = model.booster_.predict(prep.native(x_raw.iloc[test_idx]))
        fold_rounds.append(rounds)
    final_rounds = a.trees or max(1, round(sum(fold_rounds) / len(fold_rounds)))
    prep = Prep(x_raw, drop, None)
    final = lgb.LGBMClassifier(**matched.params(final_rounds)).fit(prep.native(x_raw), y)
    final.booster_.save_model(a.model)
    print(
        json.dumps(
            dict(
                cpu=time.process_time() - cpu0,
                wall=time.perf_counter() - wall0,
                import_cpu=import_cpu,
                roc_auc=float(roc_auc_score(y, oof)),
                fold_rounds=fold_rounds,
                final_rounds=final_rounds,
            )
        )
    )


def timed(cmd):
    """Runs `cmd` under `/usr/bin/time -v`: (CPU s, wall s, peak RSS MiB, stdout)."""
    done = subprocess.run(["/usr/bin/time", "-v", *cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"train bench: {' '.join(cmd)} failed:\n{done.stderr[-3000:]}")

    def field(name):
        m = re.search(rf"^\s*{re.escape(name)}: (.+)$", done.stderr, re.M)
        if not m:
            sys.exit(f"train bench: no '{name}' in /usr/bin/time's output:\n{done.stderr[-2000:]}")
        return m.group(1).strip()

    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    parts = [float(p) for p in field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")]
    wall = sum(p * 60**i for i, p in enumerate(reversed(parts)))
    rss = int(field("Maximum resident set size (kbytes)")) / 1024
    return cpu, wall, rss, done.stdout


def rounds_of(model_json: str):
    with open(model_json) as f:
        model = json.load(f)["model"]
    return len(model["trees"]) if "trees" in model else None


def run(a) -> None:
    rows = []
    for data in a.data:
        name = os.path.splitext(os.path.basename(data))[0]
        n = sum(1 for _ in open(data)) - 1
        ebb_out = os.path.join(a.workdir, f"{name}.ebb.json")
        cmd = [a.ebb, "train", data, "--model", "gbdt", "--folds", str(FOLDS), "--seed", str(SEED), "--out", ebb_out, "--json"]
        if a.trees:
            cmd += ["--trees", str(a.trees)]
        print(f"== {' '.join(cmd)}", file=sys.stderr, flush=True)
        cpu, wall, rss, out = timed(cmd)
        summary = json.loads(out)
        ebb = dict(
            cpu=cpu,
            wall=wall,
            rss=rss,
            auc=summary["models"][0]["cv"]["roc_auc"],
            rounds=f"final {rounds_of(ebb_out)}",
        )
        lgb_out = os.path.join(a.workdir, f"{name}.lightgbm.txt")
        cmd = [sys.executable, os.path.abspath(__file__), "job", "--data", data, "--model", lgb_out]
        if a.trees:
            cmd += ["--trees", str(a.trees)]
        print(f"== {' '.join(cmd)}", file=sys.stderr, flush=True)
        cpu, wall, rss, out = timed(cmd)
        job_out = json.loads(out)
        lgb = dict(
            cpu=job_out["cpu"],
            cpu_process=cpu,
            wall=job_out["wall"],
            rss=rss,
            auc=job_out["roc_auc"],
            rounds="folds {} final {}".format("/".join(map(str, job_out["fold_rounds"])), job_out["final_rounds"]),
        )
        rows.append((n, ebb, lgb))
        with open(os.path.join(a.workdir, f"{name}.json"), "w") as f:
            json.dump(dict(rows=n, trees=a.trees, ebb=ebb, lightgbm=lgb), f, indent=1)

    mode = f"{a.trees} trees, no early stopping" if a.trees else "early stopping (Ebb's protocol)"
    print(f"\nCSV to saved model, 2-fold CV + final fit, {mode}; load average {os.getloadavg()[0]:.1f}\n")
    print("| rows | Ebb CPU s | LightGBM CPU s (whole process) | CPU Ebb / LightGBM | Ebb wall s | LightGBM wall s | Ebb peak RSS MiB | LightGBM peak RSS MiB | RSS Ebb / LightGBM | ROC-AUC Ebb | ROC-AUC LightGBM | Ebb rounds | LightGBM rounds |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for n, e, g in rows:
        print(
            f"| {n:,} | {e['cpu']:.2f} | {g['cpu']:.2f} ({g['cpu_process']:.2f}) | {e['cpu'] / g['cpu']:.2f}x "
            f"| {e['wall']:.2f} | {g['wall']:.2f} | {e['rss']:.1f} | {g['rss']:.1f} | {e['rss'] / g['rss']:.2f}x "
            f"| {e['auc']:.4f} | {g['auc']:.4f} | {e['rounds']} | {g['rounds']} |"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--ebb", required=True)
    r.add_argument("--data", action="append", required=True)
    r.add_argument("--workdir", required=True)
    r.add_argument("--trees", type=int, default=0)
    j = sub.add_parser("job")
    j.add_argument("--data", required=True)
    j.add_argument("--model", required=True)
    j.add_argument("--trees", type=int, default=0)
    a = p.parse_args()
    (run if a.cmd == "run" else job)(a)


if __name__ == "__main__":
    main()
